//! Who is calling and for which request: handed by the server to every service handler after the
//! signature has been verified.

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Request id echoed in replies and logs.
    pub request_id: String,
    /// The caller's account id (12 digits).
    pub account: String,
    /// Region from the credential scope.
    pub region: String,
    /// The access key that signed the request.
    pub access_key: String,
}

/// A fresh request id: 16 upper-case hex characters, like S3's `x-amz-request-id`.
pub fn new_request_id() -> String {
    let id = uuid::Uuid::new_v4();
    hex::encode_upper(&id.as_bytes()[..8])
}

/// The operation a reply answered, attached to responses as an extension for logs and metrics.
#[derive(Debug, Clone, Copy)]
pub struct OperationName(pub &'static str);
