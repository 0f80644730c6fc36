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
    /// `query` (SNS, CloudWatch, STS).
    Query,
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
