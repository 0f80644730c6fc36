//! Sign-in, sign-out and the [`Signed`] extractor every data handler takes.
//!
//! Sign-in is a JSON POST (`{"accessKeyId", "secretAccessKey"}`) from the sign-in page's script;
//! requiring `application/json` means a cross-site form cannot post it, and the cookie's
//! SameSite=Strict keeps it off cross-site requests altogether.

use axum::extract::{FromRequestParts, State};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;

use crate::http_util::{is_https, json, session_cookie, ApiError, COOKIE};
use crate::session::{SessionInfo, SignInError};
use crate::Console;

/// Largest sign-in body accepted.
const MAX_SIGNIN_BODY: usize = 4096;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    access_key_id: String,
    secret_access_key: String,
}

/// `POST /console/api/signin`: check the key, start a session, set the cookie.
pub(crate) async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| {
            c.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    if !is_json {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "Sign-in takes a JSON body.",
        )
        .into_response();
    }
    if body.len() > MAX_SIGNIN_BODY {
        return ApiError::invalid("The sign-in request is too large.").into_response();
    }
    let Ok(req) = serde_json::from_slice::<SignIn>(&body) else {
        return ApiError::invalid(
            "The sign-in request must be a JSON object with accessKeyId and secretAccessKey.",
        )
        .into_response();
    };
    if req.access_key_id.trim().is_empty() {
        return ApiError::missing("accessKeyId").into_response();
    }
    match console
        .inner
        .sessions
        .sign_in(req.access_key_id.trim(), &req.secret_access_key)
        .await
    {
        Ok((token, info)) => {
            let max_age = console.inner.sessions.ttl().as_secs();
            let secure = if is_https(&headers) { "; Secure" } else { "" };
            let cookie = format!("{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
            let mut r = json(
                StatusCode::OK,
                &crate::api::SessionView::new(&info, &console.inner.default_region),
            );
            match HeaderValue::from_str(&cookie) {
                Ok(v) => {
                    r.headers_mut().insert(header::SET_COOKIE, v);
                    r
                }
                Err(e) => ApiError::internal(e).into_response(),
            }
        }
        Err(e @ SignInError::BadCredentials) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidClientTokenId",
            e.to_string(),
        )
        .into_response(),
        Err(e @ SignInError::Throttled(_)) => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Throttling", e.to_string())
                .into_response()
        }
        Err(SignInError::Store(e)) => ApiError::internal(e).into_response(),
    }
}

/// `POST /console/api/signout`: end the session and clear the cookie.
pub(crate) async fn sign_out(State(console): State<Console>, headers: HeaderMap) -> Response {
    if let Some(token) = session_cookie(&headers) {
        if let Err(e) = console.inner.sessions.sign_out(&token).await {
            return ApiError::internal(e).into_response();
        }
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    let clear = format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `GET /console`: the metrics explorer (which sends an anonymous visitor to sign in).
pub(crate) async fn to_home() -> Redirect {
    Redirect::to("/console/metrics")
}

/// The signed-in session of a request; rejects with 401 when there is none.
pub(crate) struct Signed(pub SessionInfo);

impl FromRequestParts<Console> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Console,
    ) -> Result<Self, Self::Rejection> {
        current(&parts.headers, console)
            .await?
            .map(Signed)
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// The session the request's cookie names, if it is live.
pub(crate) async fn current(
    headers: &HeaderMap,
    console: &Console,
) -> Result<Option<SessionInfo>, ApiError> {
    let Some(token) = session_cookie(headers) else {
        return Ok(None);
    };
    console
        .inner
        .sessions
        .lookup(&token)
        .await
        .map_err(ApiError::internal)
}
