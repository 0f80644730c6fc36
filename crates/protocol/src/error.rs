//! AWS errors and their envelope on each protocol.

use http::StatusCode;

/// The wire protocol of a service, as botocore's `metadata.protocol` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `json` with `jsonVersion` 1.0 or 1.1 (X-Amz-Target).
    AwsJson { version_1_1: bool },
    /// `rest-json`.
    RestJson,
    /// `rest-xml` (S3).
    RestXml,
    /// `query` (SNS, STS; CloudWatch also accepts it).
    Query,
    /// `smithy-rpc-v2-cbor` (CloudWatch's first declared protocol; newer AWS SDKs use it).
    RpcV2Cbor,
}

/// An error as the client sees it: AWS code, message, HTTP status and fault side.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub code: String,
    pub message: String,
    pub status: StatusCode,
    /// `Sender` (client fault) or `Receiver` (server fault), used by the query protocol envelope.
    pub sender_fault: bool,
    /// Extra top-level fields some errors carry (S3: `BucketName`, `Key`, `Resource`; JSON: shape members).
    pub extra: Vec<(String, String)>,
}

impl AwsError {
    pub fn new(code: impl Into<String>, message: impl Into<String>, status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        AwsError { code: code.into(), message: message.into(), sender_fault: status.is_client_error(), status, extra: Vec::new() }
    }
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }
    /// The catch-all for server faults; the detail is logged, never sent.
    pub fn internal() -> Self {
        AwsError::new("InternalFailure", "The request processing has failed because of an unknown error, exception or failure.", 500)
    }
}

/// An error reply ready to send.
#[derive(Debug)]
pub struct ErrorReply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl AwsError {
    /// The error in the envelope `protocol` uses, so botocore raises `ClientError` with this code,
    /// message and status. `head`: HEAD replies carry no body (botocore then uses the status).
    pub fn render(&self, protocol: Protocol, request_id: &str, head: bool) -> ErrorReply {
        let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
        let mut headers = vec![("x-amzn-requestid", request_id.to_string())];
        let body = match protocol {
            Protocol::RestXml => {
                headers.push(("x-amz-request-id", request_id.to_string()));
                headers.push(("content-type", "application/xml".into()));
                let mut s = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>", esc(&self.code), esc(&self.message));
                for (k, v) in &self.extra {
                    s.push_str(&format!("<{k}>{}</{k}>", esc(v)));
                }
                s.push_str(&format!("<RequestId>{}</RequestId></Error>", esc(request_id)));
                s.into_bytes()
            }
            Protocol::Query => {
                headers.push(("content-type", "text/xml".into()));
                format!(
                    "<ErrorResponse xmlns=\"http://webservices.amazon.com/AWSFault/2005-15-09\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                    if self.sender_fault { "Sender" } else { "Receiver" },
                    esc(&self.code),
                    esc(&self.message),
                    esc(request_id)
                )
                .into_bytes()
            }
            Protocol::AwsJson { version_1_1 } => {
                headers.push(("content-type", crate::codec::json::content_type(version_1_1).into()));
                self.json_body()
            }
            Protocol::RestJson => {
                headers.push(("x-amzn-errortype", self.code.clone()));
                headers.push(("content-type", "application/json".into()));
                self.json_body()
            }
            Protocol::RpcV2Cbor => {
                headers.push(("smithy-protocol", crate::codec::cbor::SMITHY_PROTOCOL.into()));
                headers.push(("content-type", crate::codec::cbor::CONTENT_TYPE.into()));
                crate::codec::cbor::error_body(&self.code, &self.message, &self.extra)
            }
        };
        ErrorReply { status: self.status, headers, body: if head { Vec::new() } else { body } }
    }

    fn json_body(&self) -> Vec<u8> {
        let mut o = serde_json::Map::new();
        o.insert("__type".into(), self.code.clone().into());
        o.insert("message".into(), self.message.clone().into());
        for (k, v) in &self.extra {
            o.insert(k.clone(), v.clone().into());
        }
        serde_json::to_vec(&o).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_carry_code_and_message() {
        let e = AwsError::new("NoSuchKey", "The specified key does not exist.", 404).with("Key", "a<b");
        let r = e.render(Protocol::RestXml, "req1", false);
        let body = String::from_utf8(r.body).unwrap();
        assert!(body.contains("<Code>NoSuchKey</Code>") && body.contains("<Key>a&lt;b</Key>"), "{body}");
        assert_eq!(r.status, 404);
        assert!(e.render(Protocol::RestXml, "r", true).body.is_empty());
        let j = e.render(Protocol::AwsJson { version_1_1: true }, "r", false);
        let v: serde_json::Value = serde_json::from_slice(&j.body).unwrap();
        assert_eq!(v["__type"], "NoSuchKey");
        let q = String::from_utf8(AwsError::new("InvalidClientTokenId", "bad", 403).render(Protocol::Query, "r", false).body).unwrap();
        assert!(q.contains("<Type>Sender</Type><Code>InvalidClientTokenId</Code>"));
        let c = AwsError::new("ResourceNotFound", "gone", 404).render(Protocol::RpcV2Cbor, "r", false);
        assert_eq!(c.status, 404);
        assert!(c.headers.contains(&("smithy-protocol", "rpc-v2-cbor".to_string())));
        let v = crate::codec::cbor::parse(&c.body).unwrap();
        assert_eq!(v.as_map().and_then(|m| m[0].1.as_text()), Some("ResourceNotFound"));
    }
}
