//! The contract between the server and a service that speaks a buffered protocol (awsJson,
//! restJson, awsQuery, RPC v2 CBOR): the server verifies the signature, decodes the body into the
//! canonical input value with the service's schema, calls [`Handler::call`], and encodes the
//! output or the error in the service's envelope. S3 streams its bodies and has its own entry point.
//!
//! A service whose model declares several protocols (CloudWatch: RPC v2 CBOR, awsJson 1.0 and
//! awsQuery) lists them in [`Handler::protocols`]; each request is then answered in the protocol
//! it was sent in, told by its shape (see [`wire_protocol`]). Bodies sent with
//! `Content-Encoding: gzip` (botocore compresses large PutMetricData requests) are inflated first.
//! A request carrying `x-amzn-query-mode: true` (botocore, for services that were awsQuery
//! services) gets the `x-amzn-query-error: <code>;<Sender|Receiver>` header on errors.

use crate::codec::{self, cbor, json, query, rest, DecodeError};
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
    /// Every protocol the service answers in (its model's `protocols`); the first entry of the
    /// model, `model().protocol`, is the one used when a request's shape says nothing.
    fn protocols(&self) -> &'static [Protocol] {
        std::slice::from_ref(&self.model().protocol)
    }
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
    find_operation(svc, svc.protocol, req).is_ok()
}

/// The protocol `req` was sent in, among those a service accepts (`accepted[0]` by default): the
/// RPC v2 path `/service/<name>/operation/<op>` is CBOR, an `X-Amz-Target` header awsJson, and a
/// form (or a GET with `Action`) awsQuery.
pub fn wire_protocol(accepted: &[Protocol], req: &BufferedRequest) -> Option<Protocol> {
    let first = *accepted.first()?;
    if accepted.len() == 1 {
        return Some(first);
    }
    let find = |f: fn(&Protocol) -> bool| accepted.iter().copied().find(f);
    let headers = &req.parts.headers;
    let looks = if cbor::is_rpc_v2_path(req.parts.uri.path()) {
        find(|p| matches!(p, Protocol::RpcV2Cbor))
    } else if headers.contains_key("x-amz-target") {
        find(|p| matches!(p, Protocol::AwsJson { .. }))
    } else if headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        || (req.parts.method == http::Method::GET && req.parts.uri.query().is_some_and(|q| q.contains("Action=")))
    {
        find(|p| matches!(p, Protocol::Query))
    } else {
        None
    };
    Some(looks.unwrap_or(first))
}

/// An operation and its URI labels.
type Found = (&'static OperationSpec, Vec<(String, String)>);

fn find_operation(svc: &'static Service, protocol: Protocol, req: &BufferedRequest) -> Result<Found, AwsError> {
    let unknown = |what: &str| AwsError::new("UnknownOperationException", format!("Unknown operation {what}"), 400);
    match protocol {
        Protocol::RpcV2Cbor => {
            let path = req.parts.uri.path();
            if req.parts.method != http::Method::POST {
                return Err(unknown(&format!("{} {path}", req.parts.method)));
            }
            cbor::path_operation(svc, path).map(|op| (op, vec![])).ok_or_else(|| unknown(path))
        }
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

/// Largest inflated body of a gzip-encoded request.
const MAX_INFLATED_BODY: u64 = 16 * 1024 * 1024;

/// The body, inflated when it was sent with `Content-Encoding: gzip`.
fn inflate<'a>(req: &BufferedRequest<'a>) -> Result<std::borrow::Cow<'a, [u8]>, DecodeError> {
    let gzip = req.parts.headers.get_all("content-encoding").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|e| e.trim().eq_ignore_ascii_case("gzip"));
    if !gzip {
        return Ok(std::borrow::Cow::Borrowed(req.body));
    }
    use std::io::Read;
    let mut out = Vec::new();
    let mut decoder = flate2::read::GzDecoder::new(req.body).take(MAX_INFLATED_BODY + 1);
    decoder.read_to_end(&mut out).map_err(|e| DecodeError::Malformed(format!("the gzip-encoded body could not be inflated: {e}")))?;
    if out.len() as u64 > MAX_INFLATED_BODY {
        return Err(DecodeError::Malformed("the inflated body is too large".into()));
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Decode, call and encode one request for `handler`.
pub async fn serve(handler: &dyn Handler, ctx: &RequestContext, req: BufferedRequest<'_>) -> Reply {
    let svc = handler.model();
    let protocol = wire_protocol(handler.protocols(), &req).unwrap_or(svc.protocol);
    let head = req.parts.method == http::Method::HEAD;
    let query_mode = req.parts.headers.get("x-amzn-query-mode").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    let fail = |e: &AwsError, op: Option<&'static str>| {
        let mut reply = Reply::error(e, protocol, &ctx.request_id, head, op);
        if query_mode && matches!(protocol, Protocol::AwsJson { .. } | Protocol::RpcV2Cbor) {
            reply.headers.push(("x-amzn-query-error".into(), format!("{};{}", e.code, if e.sender_fault { "Sender" } else { "Receiver" })));
        }
        reply
    };
    let body = match inflate(&req) {
        Ok(b) => b,
        Err(e) => return fail(&e.to_aws(protocol), None),
    };
    let body: &[u8] = &body;
    let req = BufferedRequest { parts: req.parts, body };
    let (op, labels) = match find_operation(svc, protocol, &req) {
        Ok(found) => found,
        Err(e) => return fail(&e, None),
    };
    let decoded: Result<Value, DecodeError> = match protocol {
        Protocol::RpcV2Cbor => cbor::decode_input(svc, op, body),
        Protocol::AwsJson { .. } => json::decode_input(body),
        Protocol::Query => query::decode_input(svc, op, &query_form(&req)),
        Protocol::RestJson | Protocol::RestXml => {
            let q = rest::parse_query(req.parts.uri.query().unwrap_or(""));
            rest::decode_input(svc, op, &labels, &q, &req.parts.headers, body)
        }
    };
    let input = match decoded {
        Ok(v) => v,
        Err(e) => return fail(&e.to_aws(protocol), Some(op.name)),
    };
    let output = match handler.call(ctx, op, input).await {
        Ok(v) => v,
        Err(e) => {
            if e.status.is_server_error() {
                tracing::error!(operation = op.name, code = %e.code, message = %e.message, "service error");
            }
            return fail(&e, Some(op.name));
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
        Protocol::RpcV2Cbor => {
            reply.headers.push(("smithy-protocol".into(), cbor::SMITHY_PROTOCOL.into()));
            reply.body = cbor::encode_output(svc, op, &output);
            if !reply.body.is_empty() {
                reply.headers.push(("content-type".into(), cbor::CONTENT_TYPE.into()));
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Location, Member, Shape, ShapeKind};
    use std::future::Future;
    use std::io::Write;

    const fn member(name: &'static str, shape: u16) -> Member {
        Member { name, shape, location: Location::Body, location_name: "", required: false, flattened: false, xml_attribute: false, xml_namespace: None, timestamp_format: None }
    }
    static SHAPES: [Shape; 3] = [
        Shape { name: "PutInput", kind: ShapeKind::Structure { members: &[member("Name", 1), member("When", 2)], payload: None } },
        Shape { name: "Name", kind: ShapeKind::String },
        Shape { name: "When", kind: ShapeKind::Timestamp { format: None } },
    ];
    static OPERATIONS: [OperationSpec; 1] =
        [OperationSpec { name: "Put", method: "POST", uri: "/", input: Some(0), output: Some(0), status: 200, input_xml_name: None, result_wrapper: Some("PutResult"), output_xml_name: None }];
    static SVC: Service = Service {
        name: "test",
        protocol: Protocol::AwsJson { version_1_1: false },
        target_prefix: "TestService",
        xml_namespace: "https://test.example/doc/",
        api_version: "2020-01-01",
        shapes: &SHAPES,
        operations: &OPERATIONS,
    };
    static PROTOCOLS: [Protocol; 3] = [Protocol::AwsJson { version_1_1: false }, Protocol::RpcV2Cbor, Protocol::Query];

    /// Echoes its input; `Name: "missing"` is a 404.
    struct Echo;

    #[async_trait::async_trait]
    impl Handler for Echo {
        fn model(&self) -> &'static Service {
            &SVC
        }
        fn protocols(&self) -> &'static [Protocol] {
            &PROTOCOLS
        }
        async fn call(&self, _ctx: &RequestContext, _op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
            if input["Name"] == "missing" {
                return Err(AwsError::new("ResourceNotFound", "gone", 404));
            }
            Ok(input)
        }
    }

    fn run(method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (parts, ()) = b.body(()).unwrap().into_parts();
        let ctx = RequestContext { request_id: "req".into(), account: "123456789012".into(), region: "us-east-1".into(), access_key: "AK".into() };
        let fut = serve(&Echo, &ctx, BufferedRequest { parts: &parts, body });
        let mut fut = std::pin::pin!(fut);
        match fut.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
            std::task::Poll::Ready(r) => r,
            std::task::Poll::Pending => panic!("the echo handler never waits"),
        }
    }

    fn header<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
        r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn each_request_is_answered_in_its_own_protocol() {
        let json = run("POST", "/", &[("x-amz-target", "TestService.Put"), ("content-type", "application/x-amz-json-1.0")], br#"{"Name":"a","When":1.5}"#);
        assert_eq!((json.status, header(&json, "content-type")), (200, Some("application/x-amz-json-1.0")));
        assert_eq!(serde_json::from_slice::<Value>(&json.body).unwrap(), serde_json::json!({"Name": "a", "When": 1.5}));

        let body = codec::cbor::encode_output(&SVC, &OPERATIONS[0], &serde_json::json!({"Name": "b", "When": 2}));
        let cbor = run("POST", "/service/TestService/operation/Put", &[("smithy-protocol", "rpc-v2-cbor"), ("content-type", "application/cbor")], &body);
        assert_eq!((cbor.status, header(&cbor, "content-type"), header(&cbor, "smithy-protocol")), (200, Some("application/cbor"), Some("rpc-v2-cbor")));
        assert_eq!(codec::cbor::decode_input(&SVC, &OPERATIONS[0], &cbor.body).unwrap(), serde_json::json!({"Name": "b", "When": 2}));

        let query = run("POST", "/", &[("content-type", "application/x-www-form-urlencoded")], b"Action=Put&Version=2020-01-01&Name=c");
        let xml = String::from_utf8(query.body.clone()).unwrap();
        assert!(xml.starts_with("<PutResponse xmlns=\"https://test.example/doc/\"><PutResult><Name>c</Name></PutResult>"), "{xml}");

        let missing = run("POST", "/service/TestService/operation/Nope", &[("smithy-protocol", "rpc-v2-cbor")], b"");
        assert_eq!(missing.status, 400);
        assert!(codec::cbor::parse(&missing.body).is_ok());
    }

    #[test]
    fn gzip_bodies_and_query_compatible_errors() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(br#"{"Name":"zipped"}"#).unwrap();
        let body = gz.finish().unwrap();
        let r = run("POST", "/", &[("x-amz-target", "TestService.Put"), ("content-encoding", "gzip")], &body);
        assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap()["Name"], "zipped");
        let bad = run("POST", "/", &[("x-amz-target", "TestService.Put"), ("content-encoding", "gzip")], b"not gzip");
        assert_eq!(bad.status, 400);

        let err = run("POST", "/", &[("x-amz-target", "TestService.Put"), ("x-amzn-query-mode", "true")], br#"{"Name":"missing"}"#);
        assert_eq!(err.status, 404);
        assert_eq!(header(&err, "x-amzn-query-error"), Some("ResourceNotFound;Sender"));
        assert_eq!(serde_json::from_slice::<Value>(&err.body).unwrap()["__type"], "ResourceNotFound");
        let plain = run("POST", "/", &[("x-amz-target", "TestService.Put")], br#"{"Name":"missing"}"#);
        assert_eq!(header(&plain, "x-amzn-query-error"), None);
    }
}
