//! The unsigned GET routes SNS messages link to, mounted by the server next to the AWS APIs:
//!
//! - `/sns/confirm?TopicArn=…&Token=…`: confirm a subscription (the `SubscribeURL` of HTTP/S
//!   confirmations and the link in confirmation emails); the token is the secret;
//! - `/sns/unsubscribe?SubscriptionArn=…`: the `UnsubscribeURL` of notifications and the link
//!   in notification emails (refused for subscriptions confirmed with
//!   `AuthenticateOnUnsubscribe`);
//! - `/sns/SimpleNotificationService-<id>.pem`: the certificate of the signing key.
//!
//! Programs get AWS's XML replies (`ConfirmSubscriptionResponse`, `UnsubscribeResponse`,
//! `ErrorResponse`), which is what a GET of AWS's own links returns; browsers (an `Accept`
//! header naming `text/html`) get a short page. These exact paths shadow path-style S3 GETs of
//! the same keys in a bucket named `sns`.

use crate::domain::arn::SubscriptionArn;
use crate::error::SnsError;
use crate::handlers::subscriptions;
use crate::Inner;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hearth_protocol::Protocol;
use std::collections::HashMap;
use std::sync::Arc;

const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// The router of the public routes.
pub fn routes(inner: Arc<Inner>) -> axum::Router {
    let cert_path = format!("/sns/SimpleNotificationService-{}.pem", inner.signer.certificate_id());
    axum::Router::new()
        .route("/sns/confirm", get(confirm))
        .route("/sns/unsubscribe", get(unsubscribe))
        .route(&cert_path, get(certificate))
        .with_state(inner)
}

fn params(q: Option<String>) -> HashMap<String, String> {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect()
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

async fn confirm(State(inner): State<Arc<Inner>>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let p = params(q);
    let topic = p.get("TopicArn").map(String::as_str).unwrap_or("");
    let token = p.get("Token").map(String::as_str).unwrap_or("");
    let request_id = hearth_protocol::new_request_id();
    match subscriptions::confirm(&inner, topic, token, None, false).await {
        Ok(arn) if wants_html(&headers) => page(
            StatusCode::OK,
            "Subscription confirmed!",
            &format!("You have successfully subscribed.<br><br>Your subscription's id is:<br><code>{}</code>", escape(&arn)),
        ),
        Ok(arn) => xml(
            StatusCode::OK,
            format!(
                "<ConfirmSubscriptionResponse xmlns=\"{XMLNS}\"><ConfirmSubscriptionResult><SubscriptionArn>{}</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>",
                escape(&arn)
            ),
        ),
        Err(e) => failure(e, &headers, &request_id, "The subscription could not be confirmed."),
    }
}

async fn unsubscribe(State(inner): State<Arc<Inner>>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let p = params(q);
    let request_id = hearth_protocol::new_request_id();
    let arn = p.get("SubscriptionArn").map(String::as_str).unwrap_or("");
    let result = match SubscriptionArn::parse("SubscriptionArn", arn) {
        Ok(parsed) => subscriptions::remove(&inner, &parsed, true).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) if wants_html(&headers) => page(
            StatusCode::OK,
            "Subscription removed!",
            &format!("Your subscription <code>{}</code> has been deactivated; you will no longer receive its messages.", escape(arn)),
        ),
        Ok(()) => xml(
            StatusCode::OK,
            format!("<UnsubscribeResponse xmlns=\"{XMLNS}\"><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></UnsubscribeResponse>"),
        ),
        Err(e) => failure(e, &headers, &request_id, "The subscription could not be removed."),
    }
}

async fn certificate(State(inner): State<Arc<Inner>>) -> Response {
    ([(header::CONTENT_TYPE, "application/x-pem-file")], inner.signer.certificate_pem().to_string()).into_response()
}

fn failure(e: SnsError, headers: &HeaderMap, request_id: &str, what: &str) -> Response {
    let aws = e.to_aws();
    if wants_html(headers) {
        return page(aws.status, what, &escape(&aws.message));
    }
    let reply = aws.render(Protocol::Query, request_id, false);
    let mut resp = (reply.status, reply.body).into_response();
    for (k, v) in reply.headers {
        if let Ok(v) = v.parse() {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>{t}</h1><p>{body}</p></body></html>",
        t = escape(title)
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
