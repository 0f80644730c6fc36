//! The contract between the server and a service that speaks a buffered protocol (awsJson,
//! restJson, awsQuery): the server verifies the signature, decodes the body into the canonical
//! input value with the service's schema, calls [`Handler::call`], and encodes the output or
//! the error in the service's envelope. S3 streams its bodies and has its own entry point.

use crate::codec::{self, json, query, rest, DecodeError};
use crate::error::{AwsError, ErrorReply};
use crate::schema::{OperationSpec, Service};
use crate::{Protocol, RequestContext};
use serde_json::Value;

/// A service behind a buffered protocol.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    /// The service's generated model.
    fn model(&self) -> &'static Service;
    /// Run one operation. `input` is the canonical input value; the reply is the canonical
    /// output value (`serde_json::to_value` of the generated output type).
    async fn call(&self, ctx: &RequestContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError>;
}

/// A request as the server hands it over: parts plus the whole body.
pub struct BufferedRequest<'a> {
    pub parts: &'a http::request::Parts,
    pub body: &'a [u8],
}

/// A reply ready to send.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The operation name, for logs and metrics (None when no operation matched).
    pub operation: Option<&'static str>,
}

impl Reply {
    pub fn error(e: &AwsError, protocol: Protocol, request_id: &str, head: bool, operation: Option<&'static str>) -> Reply {
        let ErrorReply { status, headers, body } = e.render(protocol, request_id, head);
        Reply { status: status.as_u16(), headers: headers.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), body, operation }
    }
}

/// Whether this request is addressed to `svc` (by `X-Amz-Target`, query `Action` or REST path).
pub fn matches(svc: &'static Service, req: &BufferedRequest) -> bool {
    find_operation(svc, req).is_ok()
}

fn find_operation(svc: &'static Service, req: &BufferedRequest) -> Result<(&'static OperationSpec, Vec<(String, String)>), AwsError> {
    let unknown = |what: &str| AwsError::new("UnknownOperationException", format!("Unknown operation {what}"), 400);
    match svc.protocol {
        Protocol::AwsJson { .. } => {
            let target = req.parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
            json::target_operation(svc, target).map(|op| (op, vec![])).ok_or_else(|| unknown(target))
        }
        Protocol::Query => {
            let form = query_form(req);
            let action = form.action().unwrap_or("").to_string();
            match svc.operation(&action) {
                Some(op) => Ok((op, vec![])),
                None if action.is_empty() => Err(AwsError::new("MissingAction", "Missing Action", 400)),
                None => Err(AwsError::new("InvalidAction", format!("The action {action} is not valid for this web service."), 400)),
            }
        }
        Protocol::RestJson | Protocol::RestXml => {
            let q = rest::parse_query(req.parts.uri.query().unwrap_or(""));
            rest::route(svc, req.parts.method.as_str(), req.parts.uri.path(), &q, &req.parts.headers)
                .map(|r| (r.op, r.labels))
                .ok_or_else(|| AwsError::new("UnknownOperationException", format!("No operation matches {} {}", req.parts.method, req.parts.uri.path()), 404))
        }
    }
}

fn query_form(req: &BufferedRequest) -> query::Form {
    if req.parts.method == http::Method::GET {
        query::Form::parse(req.parts.uri.query().unwrap_or("").as_bytes())
    } else {
        query::Form::parse(req.body)
    }
}

/// Decode, call and encode one request for `handler`.
pub async fn serve(handler: &dyn Handler, ctx: &RequestContext, req: BufferedRequest<'_>) -> Reply {
    let svc = handler.model();
    let protocol = svc.protocol;
    let head = req.parts.method == http::Method::HEAD;
    let (op, labels) = match find_operation(svc, &req) {
        Ok(found) => found,
        Err(e) => return Reply::error(&e, protocol, &ctx.request_id, head, None),
    };
    let decoded: Result<Value, DecodeError> = match protocol {
        Protocol::AwsJson { .. } => json::decode_input(req.body),
        Protocol::Query => query::decode_input(svc, op, &query_form(&req)),
        Protocol::RestJson | Protocol::RestXml => {
            let q = rest::parse_query(req.parts.uri.query().unwrap_or(""));
            rest::decode_input(svc, op, &labels, &q, &req.parts.headers, req.body)
        }
    };
    let input = match decoded {
        Ok(v) => v,
        Err(e) => return Reply::error(&e.to_aws(protocol), protocol, &ctx.request_id, head, Some(op.name)),
    };
    let output = match handler.call(ctx, op, input).await {
        Ok(v) => v,
        Err(e) => {
            if e.status.is_server_error() {
                tracing::error!(operation = op.name, code = %e.code, message = %e.message, "service error");
            }
            return Reply::error(&e, protocol, &ctx.request_id, head, Some(op.name));
        }
    };
    let mut reply = Reply { status: 200, headers: vec![("x-amzn-requestid".into(), ctx.request_id.clone())], body: Vec::new(), operation: Some(op.name) };
    match protocol {
        Protocol::AwsJson { version_1_1 } => {
            reply.headers.push(("content-type".into(), json::content_type(version_1_1).into()));
            reply.body = serde_json::to_vec(&output).unwrap_or_default();
        }
        Protocol::Query => {
            reply.headers.push(("content-type".into(), "text/xml".into()));
            reply.body = query::encode_output(svc, op, &output, &ctx.request_id);
        }
        Protocol::RestJson | Protocol::RestXml => {
            let enc = rest::encode_output(svc, op, &output);
            reply.status = enc.status;
            reply.headers.extend(enc.headers);
            reply.body = enc.body;
        }
    }
    reply
}

/// Read a generated input type from the canonical value, as a protocol rejection on failure.
pub fn input<T: serde::de::DeserializeOwned>(svc: &Service, v: Value) -> Result<T, AwsError> {
    codec::from_value(v).map_err(|e| e.to_aws(svc.protocol))
}

/// The canonical value of a generated output type.
pub fn output<T: serde::Serialize>(out: &T) -> Result<Value, AwsError> {
    serde_json::to_value(out).map_err(|e| {
        tracing::error!(error = %e, "output encoding failed");
        AwsError::internal()
    })
}
