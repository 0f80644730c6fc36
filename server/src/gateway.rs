//! The front door: every request goes through [`handle`], which finds the service (SigV4
//! credential scope, then `X-Amz-Target`, then the path), verifies the signature, hands the
//! request to the service and records request metrics.

use crate::keys::Keys;
use axum::body::Body;
use axum::extract::State;
use axum::response::IntoResponse;
use bytes::Bytes;
use hearth_protocol::dispatch::{self, BufferedRequest, Handler};
use hearth_protocol::sigv4;
use hearth_protocol::{new_request_id, AwsError, Protocol, RequestContext};
use hearth_runtime::metrics::{MetricDatum, Metrics, Unit};
use hearth_runtime::{Clock, Scope};
use http_body_util::BodyExt;
use sha2::Digest;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Largest body of a buffered (non-S3) request.
const MAX_BUFFERED_BODY: usize = 16 * 1024 * 1024;

pub struct Gateway {
    pub keys: Keys,
    pub s3: hearth_s3::S3,
    /// Buffered-protocol services by SigV4 signing name.
    pub services: HashMap<&'static str, Vec<Arc<dyn Handler>>>,
    pub metrics: Metrics,
    pub clock: Arc<dyn Clock>,
}

pub async fn prometheus(State(gw): State<Arc<Gateway>>) -> impl IntoResponse {
    ([("content-type", "application/openmetrics-text; version=1.0.0; charset=utf-8")], gw.metrics.encode_prometheus())
}

pub async fn handle(State(gw): State<Arc<Gateway>>, req: http::Request<Body>) -> http::Response<Body> {
    let request_id = new_request_id();
    let span = tracing::info_span!("request", id = %request_id, method = %req.method(), path = %req.uri().path());
    async move {
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        let expects_continue = parts.headers.get(http::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let empty_body = parts.headers.get(http::header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() == b"0");
        let service = sigv4::credential_scope(&parts).map(|s| s.service);
        let (service_name, resp, operation, account) = match service.as_deref() {
            Some("s3") | None if !looks_buffered(&parts) => {
                let (resp, account) = s3(&gw, request_id.clone(), parts, body).await;
                let op = resp.extensions().get::<hearth_protocol::context::OperationName>().map(|o| o.0);
                ("s3", resp, op, account)
            }
            _ => {
                let (reply, account, name) = buffered(&gw, &request_id, service.as_deref(), parts, body).await;
                let op = reply.operation;
                (name, into_response(reply), op, account)
            }
        };
        let mut resp = resp;
        if expects_continue && (empty_body || !resp.status().is_success()) {
            // A final answer to `Expect: 100-continue` without a `100 Continue` before it (hyper
            // sends one only when a non-empty body is read): the client may never send the body
            // it announced, so hyper would read the next request's bytes as that body; and
            // botocore, having taken this answer during its wait for 100, keeps its status line
            // for the connection's next response. Close the connection after this response, as
            // RFC 9110 §10.1.1 allows; the client opens a new one for its next request.
            resp.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
        }
        let status = resp.status().as_u16();
        let elapsed = started.elapsed();
        gw.metrics.observe_http(service_name, operation.unwrap_or("-"), status, elapsed);
        tracing::info!(service = service_name, operation = operation.unwrap_or("-"), status, ms = elapsed.as_secs_f64() * 1000.0, "request");
        if let (Some((account, region, bucket)), "s3") = (account, service_name) {
            record_s3_metrics(&gw, &account, &region, bucket.as_deref(), status, elapsed);
        }
        resp
    }
    .instrument(span)
    .await
}

/// Unsigned requests that are not S3: a JSON target or a query-protocol form.
fn looks_buffered(parts: &http::request::Parts) -> bool {
    if parts.headers.contains_key("x-amz-target") {
        return true;
    }
    let form = parts.headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    form && parts.method == http::Method::POST
}

type Who = Option<(String, String, Option<String>)>;

async fn s3(gw: &Gateway, request_id: String, mut parts: http::request::Parts, body: Body) -> (http::Response<Body>, Who) {
    let head = parts.method == http::Method::HEAD;
    let verified = match sigv4::verify(&parts, None, &gw.keys, gw.clock.now()) {
        Ok(v) => v,
        Err(e) => return (hearth_s3::error_response(&e.to_aws(Protocol::RestXml, "s3"), &request_id, head), None),
    };
    virtual_host_to_path(&mut parts);
    let bucket = parts.uri.path().trim_start_matches('/').split('/').next().filter(|b| !b.is_empty()).map(str::to_string);
    let ctx = RequestContext { request_id, account: verified.account.clone(), region: verified.region.clone(), access_key: verified.access_key };
    let who = Some((verified.account, verified.region, bucket));
    (gw.s3.handle(ctx, verified.payload, http::Request::from_parts(parts, body)).await, who)
}

/// `bucket.localhost:4566/key` → `/bucket/key` (the signature was checked on the original).
fn virtual_host_to_path(parts: &mut http::request::Parts) {
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, p)| if p.chars().all(|c| c.is_ascii_digit()) { h } else { host });
    let Some(bucket) = host.strip_suffix(".localhost") else { return };
    if bucket.is_empty() || bucket.contains('/') {
        return;
    }
    let path = parts.uri.path();
    let new = match parts.uri.query() {
        Some(q) => format!("/{bucket}{path}?{q}"),
        None => format!("/{bucket}{path}"),
    };
    if let Ok(uri) = new.parse() {
        parts.uri = uri;
    }
}

/// The protocol to answer an unauthenticated or unknown-service request in: by the signing
/// name when botocore's model for it is known, else by the request's shape.
fn guess_protocol(signing_name: Option<&str>, parts: &http::request::Parts) -> Protocol {
    match signing_name {
        Some("lex") => return Protocol::RestJson,
        Some("sns" | "sts" | "sqs") => return Protocol::Query,
        _ => {}
    }
    if parts.headers.contains_key("x-amz-target") {
        Protocol::AwsJson { version_1_1: true }
    } else if parts.headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("application/json")) {
        Protocol::RestJson
    } else {
        Protocol::Query
    }
}

async fn buffered(gw: &Gateway, request_id: &str, service: Option<&str>, parts: http::request::Parts, body: Body) -> (dispatch::Reply, Who, &'static str) {
    let head = parts.method == http::Method::HEAD;
    let candidates = service.and_then(|s| gw.services.get_key_value(s));
    let name = candidates.map(|(k, _)| *k).unwrap_or("unknown");
    let protocol = candidates.and_then(|(_, v)| v.first()).map(|h| h.model().protocol).unwrap_or_else(|| guess_protocol(service, &parts));
    let fail = |e: AwsError| (dispatch::Reply::error(&e, protocol, request_id, head, None), None, name);
    let body: Bytes = match http_body_util::Limited::new(body, MAX_BUFFERED_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return fail(AwsError::new("RequestEntityTooLargeException", "Request body is too large", 413)),
    };
    let hash = hex::encode(sha2::Sha256::digest(&body));
    let verified = match sigv4::verify(&parts, Some(&hash), &gw.keys, gw.clock.now()) {
        Ok(v) => v,
        Err(e) => return fail(e.to_aws(protocol, service.unwrap_or(""))),
    };
    let Some((_, handlers)) = candidates else {
        return fail(AwsError::new("NotImplemented", format!("Hearth does not implement the '{}' service yet.", service.unwrap_or("")), 501));
    };
    let req = BufferedRequest { parts: &parts, body: &body };
    let handler = handlers.iter().find(|h| dispatch::matches(h.model(), &req)).unwrap_or(&handlers[0]);
    let ctx = RequestContext { request_id: request_id.to_string(), account: verified.account.clone(), region: verified.region.clone(), access_key: verified.access_key };
    (dispatch::serve(handler.as_ref(), &ctx, req).await, Some((verified.account, verified.region, None)), name)
}

fn into_response(reply: dispatch::Reply) -> http::Response<Body> {
    let mut b = http::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.header("content-length", reply.body.len()).body(Body::from(reply.body)).unwrap_or_else(|_| http::Response::new(Body::empty()))
}

/// S3 request metrics, as CloudWatch publishes them (namespace AWS/S3, per bucket, filter EntireBucket).
fn record_s3_metrics(gw: &Gateway, account: &str, region: &str, bucket: Option<&str>, status: u16, elapsed: std::time::Duration) {
    let Some(bucket) = bucket else { return };
    let scope = Scope::new(account, region);
    let now = gw.clock.now();
    let datum = |name: &str, v: f64, unit: Unit| MetricDatum::new("AWS/S3", name, now, v).dimension("BucketName", bucket).dimension("FilterId", "EntireBucket").unit(unit);
    let mut data = vec![datum("AllRequests", 1.0, Unit::Count), datum("TotalRequestLatency", elapsed.as_secs_f64() * 1000.0, Unit::Milliseconds)];
    if (400..500).contains(&status) {
        data.push(datum("4xxErrors", 1.0, Unit::Count));
    }
    if status >= 500 {
        data.push(datum("5xxErrors", 1.0, Unit::Count));
    }
    for d in data {
        if let Err(e) = gw.metrics.record(&scope, d) {
            tracing::debug!(error = %e, "metric dropped");
        }
    }
}
