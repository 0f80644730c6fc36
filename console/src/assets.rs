//! The console's pages and static files, embedded in the binary so `hearth serve` needs nothing
//! beside it. Pages need a live session (else a redirect to the sign-in page); the static files
//! hold no data and are public, so the sign-in page can load its script and styles.
//!
//! The chart library is uPlot 1.6.32 (MIT), vendored under `console/vendor/` by `fetch.sh`, which
//! checks the npm tarball and both files against pinned sha256 sums.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::auth::current;
use crate::Console;

/// A file served under `/console/static/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const STATIC: &[Asset] = &[
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../web/console.css"),
    },
    Asset {
        name: "common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/common.js"),
    },
    Asset {
        name: "signin.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/signin.js"),
    },
    Asset {
        name: "metrics.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/metrics.js"),
    },
    Asset {
        name: "alarms.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/alarms.js"),
    },
    Asset {
        name: "lex.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/lex.js"),
    },
    Asset {
        name: "endpoints.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../web/endpoints.css"),
    },
    Asset {
        name: "endpoints.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/endpoints.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../web/favicon.svg"),
    },
    Asset {
        name: "uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../vendor/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../vendor/uPlot.min.css"),
    },
];

const SIGNIN_HTML: &[u8] = include_bytes!("../web/signin.html");
const METRICS_HTML: &[u8] = include_bytes!("../web/metrics.html");
const ALARMS_HTML: &[u8] = include_bytes!("../web/alarms.html");
/// The SageMaker endpoints page ([`crate::sagemaker`]).
pub(crate) const ENDPOINTS_HTML: &[u8] = include_bytes!("../web/endpoints.html");
/// The Lex missed-utterances page ([`crate::lex`]).
pub(crate) const LEX_HTML: &[u8] = include_bytes!("../web/lex.html");

fn html(body: &'static [u8]) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A page for signed-in users only; others go to the sign-in page, which brings them back.
pub(crate) async fn page(console: &Console, headers: &HeaderMap, body: &'static [u8], path: &str) -> Response {
    match current(headers, console).await {
        Ok(Some(_)) => html(body),
        Ok(None) => Redirect::to(&format!("/console/signin?next={path}")).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /console/signin`.
pub(crate) async fn signin_page() -> Response {
    html(SIGNIN_HTML)
}

/// `GET /console/metrics`.
pub(crate) async fn metrics_page(State(console): State<Console>, headers: HeaderMap) -> Response {
    page(&console, &headers, METRICS_HTML, "/console/metrics").await
}

/// `GET /console/alarms`.
pub(crate) async fn alarms_page(State(console): State<Console>, headers: HeaderMap) -> Response {
    page(&console, &headers, ALARMS_HTML, "/console/alarms").await
}

/// `GET /console/static/{file}`.
pub(crate) async fn static_file(Path(file): Path<String>) -> Response {
    let Some(a) = STATIC.iter().find(|a| a.name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut r = a.body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    // Files change only with the binary; revalidate rather than cache for long.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
