//! Hearth's web console, served by `hearth serve` under `/console`.
//!
//! Nothing is reachable anonymously except the sign-in page and the static files it needs. A
//! user signs in with an access key id and secret; the secret is checked against the server's
//! keys (the same [`KeyStore`] the SigV4 gateway verifies signatures with) and never stored: the
//! browser gets an HttpOnly, SameSite=Strict cookie holding a random token, and the server keeps
//! only the token's SHA-256 with the key, its account and an expiry ([`session`]). Every data
//! call (`/console/api/...`, JSON) needs a live session and only ever reads that account's data.
//!
//! Pages (plain HTML and JavaScript modules, no build step, embedded in the binary — [`assets`]):
//! - `/console/metrics`: the metrics explorer — namespace, metric, dimensions, statistic, period
//!   and time range → a line chart drawn with uPlot (vendored, pinned by sha256);
//! - `/console/alarms`: every CloudWatch alarm with its state, reason and history;
//! - `/console/endpoints`: SageMaker endpoints (status, variants) and one endpoint's
//!   deployment guardrails: traffic split per fleet, step timeline, alarm states, error and
//!   latency charts, Abort / Promote ([`sagemaker`]);
//! - `/console/lex`: Lex V2 missed utterances per bot locale, added as sample utterances
//!   through the models API's own UpdateIntent ([`lex`]).
//!
//! All data comes through the CloudWatch service's in-process API
//! ([`hearth_cloudwatch::CloudWatch`]): `list_metrics` and `metric_statistics` for the explorer
//! (the runtime's metrics store, aggregated by CloudWatch's own statistics code), and
//! `describe_alarms` and `alarm_history` for the alarms page — so the console shows exactly what
//! boto3 gets from ListMetrics, GetMetricStatistics, DescribeAlarms and DescribeAlarmHistory.
//!
//! Mounting: [`Console::in_front_of`] wraps the server's AWS router. A request goes to the
//! console when its path is `/console` or under `/console/` and it carries no AWS signature;
//! everything else (including a signed request for an S3 bucket named `console`) goes on to the
//! AWS router unchanged.
//!
//! ```no_run
//! # async fn demo(rt: hearth_runtime::Runtime,
//! #     keys: std::sync::Arc<dyn hearth_protocol::sigv4::KeyStore>, aws: axum::Router) {
//! let console = hearth_console::Console::new(hearth_console::ConsoleDeps {
//!     meta: rt.meta.clone(),
//!     keys,
//!     clock: rt.clock.clone(),
//!     cloudwatch: hearth_cloudwatch::CloudWatch::new(&rt, None),
//!     default_region: "us-east-1".into(),
//!     lex: None,
//! });
//! let app: axum::Router = console.in_front_of(aws);
//! # }
//! ```

mod api;
pub mod assets;
mod auth;
mod http_util;
mod lex;
mod sagemaker;
pub mod session;
pub mod stats;

use std::sync::Arc;

use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use hearth_protocol::sigv4::KeyStore;
use hearth_runtime::{Clock, MetaStore};
use tower::ServiceExt;

pub use session::{SessionInfo, Sessions};

/// What the console is built from; the server hands it the same stores and keys its services use.
pub struct ConsoleDeps {
    /// Where sessions are kept (so they survive restarts and are shared by every node).
    pub meta: MetaStore,
    /// The access keys a user may sign in with.
    pub keys: Arc<dyn KeyStore>,
    /// Time for session expiry.
    pub clock: Arc<dyn Clock>,
    /// Metrics and alarms (a reader is enough: `CloudWatch::new` without the evaluator).
    pub cloudwatch: hearth_cloudwatch::CloudWatch,
    /// The region the pages start in (the server's configured region).
    pub default_region: String,
    /// The Lex V2 models API handler (the gateway's own), for the missed-utterances page.
    pub lex: Option<Arc<dyn hearth_protocol::dispatch::Handler>>,
}

/// The console's shared state; cheap to clone.
#[derive(Clone)]
pub struct Console {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) sessions: Sessions,
    pub(crate) cloudwatch: hearth_cloudwatch::CloudWatch,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) default_region: String,
    pub(crate) lex: Option<Arc<dyn hearth_protocol::dispatch::Handler>>,
    /// The metadata store (SageMaker endpoint and deployment records).
    pub(crate) meta: MetaStore,
}

impl Console {
    /// The console over these stores; starts the purge of expired sessions (call it inside the
    /// tokio runtime).
    pub fn new(deps: ConsoleDeps) -> Self {
        let meta = deps.meta.clone();
        let sessions = Sessions::new(deps.meta, deps.keys, deps.clock.clone());
        sessions.spawn_purge();
        Console {
            inner: Arc::new(Inner {
                sessions,
                cloudwatch: deps.cloudwatch,
                clock: deps.clock,
                default_region: deps.default_region,
                lex: deps.lex,
                meta,
            }),
        }
    }

    /// A router that serves the console's unsigned `/console` requests and hands every other
    /// request to `aws`.
    pub fn in_front_of(&self, aws: axum::Router) -> axum::Router {
        let console = self.router();
        axum::Router::new().fallback(move |req: Request| {
            let (console, aws) = (console.clone(), aws.clone());
            async move {
                if is_console_request(&req) {
                    let mut resp = console.oneshot(req).await.into_response();
                    http_util::add_security_headers(resp.headers_mut());
                    resp
                } else {
                    aws.oneshot(req).await.into_response()
                }
            }
        })
    }

    /// The routes under `/console`: pages, static files, sign-in/out and the data API.
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .route("/console", get(auth::to_home))
            .route("/console/", get(auth::to_home))
            .route("/console/signin", get(assets::signin_page))
            .route("/console/metrics", get(assets::metrics_page))
            .route("/console/alarms", get(assets::alarms_page))
            .route("/console/lex", get(lex::page))
            .route("/console/api/lex/bots", get(lex::bots))
            .route("/console/api/lex/missed", get(lex::missed))
            .route("/console/api/lex/sample", post(lex::add_sample))
            .route("/console/api/lex/build", post(lex::build))
            .route("/console/endpoints", get(sagemaker::page))
            .route("/console/api/sagemaker/endpoints", get(sagemaker::endpoints))
            .route("/console/api/sagemaker/endpoint", get(sagemaker::endpoint))
            .route("/console/api/sagemaker/deployment", post(sagemaker::control))
            .route("/console/static/{file}", get(assets::static_file))
            .route("/console/api/signin", post(auth::sign_in))
            .route("/console/api/signout", post(auth::sign_out))
            .route("/console/api/session", get(api::session))
            .route("/console/api/namespaces", get(api::namespaces))
            .route("/console/api/metrics", get(api::metrics))
            .route("/console/api/statistics", get(api::statistics))
            .route("/console/api/alarms", get(api::alarms))
            .route("/console/api/alarm-history", get(api::alarm_history))
            .route(
                "/console/api/{*rest}",
                get(api::not_found).post(api::not_found),
            )
            .with_state(self.clone())
    }

    /// The session store (for tests and the server).
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }
}

/// Whether a request is for the console: its path is `/console` or below, and it carries no AWS
/// signature (header or presigned, SigV4 or SigV2) — browsers never sign, SDKs always do.
fn is_console_request(req: &Request) -> bool {
    let path = req.uri().path();
    if path != "/console" && !path.starts_with("/console/") {
        return false;
    }
    if req.headers().contains_key(http::header::AUTHORIZATION) {
        return false;
    }
    let signed_query = req.uri().query().is_some_and(|q| {
        q.split('&').any(|kv| {
            let name = kv.split('=').next().unwrap_or("");
            name.eq_ignore_ascii_case("X-Amz-Signature")
                || name == "Signature"
                || name == "AWSAccessKeyId"
                || name.eq_ignore_ascii_case("X-Amz-Credential")
        })
    });
    !signed_query
}
