//! awsJson 1.0/1.1: the operation comes from `X-Amz-Target: <prefix>.<Operation>`, the body is
//! the input shape as JSON (already in canonical form: epoch-second timestamps, base64 blobs).

use super::DecodeError;
use crate::schema::{OperationSpec, Service};
use serde_json::Value;

/// Parse a JSON body (an empty body is `{}`).
pub fn parse_body(body: &[u8]) -> Result<Value, DecodeError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|e| DecodeError::Malformed(format!("Start of structure or map found where not expected. ({e})")))
}

/// The operation named by an `X-Amz-Target` header, if it belongs to this service.
pub fn target_operation(svc: &'static Service, target: &str) -> Option<&'static OperationSpec> {
    let (prefix, name) = target.rsplit_once('.')?;
    (prefix == svc.target_prefix).then(|| svc.operation(name)).flatten()
}

/// The input value of an awsJson request.
pub fn decode_input(body: &[u8]) -> Result<Value, DecodeError> {
    match parse_body(body)? {
        v @ Value::Object(_) => Ok(v),
        _ => Err(DecodeError::Malformed("request body must be a JSON object".into())),
    }
}

/// `application/x-amz-json-1.0` or `-1.1`.
pub fn content_type(version_1_1: bool) -> &'static str {
    if version_1_1 {
        "application/x-amz-json-1.1"
    } else {
        "application/x-amz-json-1.0"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert_eq!(decode_input(b"").unwrap(), serde_json::json!({}));
        assert!(matches!(decode_input(b"{"), Err(DecodeError::Malformed(_))));
        assert!(matches!(decode_input(b"[1]"), Err(DecodeError::Malformed(_))));
        let deep = "[".repeat(10_000);
        assert!(decode_input(deep.as_bytes()).is_err());
    }
}
