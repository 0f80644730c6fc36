//! Schema-driven codecs for the AWS protocols (awsJson, restJson, restXml, awsQuery, RPC v2 CBOR).
//!
//! Every codec turns a request into the canonical `serde_json::Value` of the operation's input
//! shape (then `serde_json::from_value` gives the generated type) and turns an output value back
//! into status, headers and body. See [`crate::schema`] for the tables and [`crate::types`] for
//! the canonical forms of timestamps and blobs.
//!
//! Hand-written rather than taken from smithy-rs: its server codegen needs the Smithy toolchain
//! (JVM) and generates a crate per service far larger than the subset Hearth serves.

pub mod cbor;
pub mod json;
pub mod query;
pub mod rest;
pub mod xml;

use crate::error::AwsError;
use crate::schema::{Service, ShapeId, ShapeKind, TimestampFormat};
use crate::types::Timestamp;
use crate::Protocol;
use serde_json::Value;

/// Why a request could not be read. Mapped to each protocol's own error in [`DecodeError::to_aws`].
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeError {
    /// The body is not well-formed JSON/XML/form data.
    Malformed(String),
    /// Well-formed, but a value has the wrong type or a required member is missing.
    Invalid(String),
}

impl DecodeError {
    pub fn to_aws(&self, protocol: Protocol) -> AwsError {
        match (protocol, self) {
            (Protocol::RestXml, DecodeError::Malformed(_)) => {
                AwsError::new("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema", 400)
            }
            (Protocol::RestXml, DecodeError::Invalid(m)) => AwsError::new("InvalidArgument", m.clone(), 400),
            (Protocol::Query, DecodeError::Malformed(m)) => AwsError::new("MalformedInput", m.clone(), 400),
            (Protocol::Query, DecodeError::Invalid(m)) => AwsError::new("ValidationError", m.clone(), 400),
            (_, DecodeError::Malformed(m)) => AwsError::new("SerializationException", m.clone(), 400),
            (_, DecodeError::Invalid(m)) => AwsError::new("ValidationException", m.clone(), 400),
        }
    }
}

/// Deserialize a canonical value into a generated type, reporting what is wrong like AWS does.
pub fn from_value<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, DecodeError> {
    serde_json::from_value(v).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix("missing field `") {
            Some(rest) => {
                let field = rest.split('`').next().unwrap_or_default();
                DecodeError::Invalid(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(field)))
            }
            None => DecodeError::Invalid(format!("invalid request: {msg}")),
        }
    })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Read a scalar of `shape` from its text form (XML text, header, query or form value).
pub fn scalar_from_text(svc: &Service, shape: ShapeId, text: &str, _default: TimestampFormat) -> Result<Value, DecodeError> {
    let s = svc.shape(shape);
    let bad = || DecodeError::Invalid(format!("invalid value for {}: {:?}", s.name, truncate(text)));
    Ok(match &s.kind {
        ShapeKind::String => Value::String(text.to_string()),
        ShapeKind::Integer | ShapeKind::Long => Value::from(text.trim().parse::<i64>().map_err(|_| bad())?),
        ShapeKind::Float | ShapeKind::Double => {
            let f = text.trim().parse::<f64>().map_err(|_| bad())?;
            serde_json::Number::from_f64(f).map(Value::Number).ok_or_else(bad)?
        }
        ShapeKind::Boolean => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        ShapeKind::Timestamp { .. } => {
            let t = Timestamp::parse(text).ok_or_else(bad)?;
            serde_json::to_value(t).map_err(|_| bad())?
        }
        ShapeKind::Blob { .. } => Value::String(text.trim().to_string()),
        _ => return Err(bad()),
    })
}

/// Write a scalar value of `shape` as text, timestamps in `format` unless the shape says otherwise.
pub fn scalar_to_text(svc: &Service, shape: ShapeId, v: &Value, format: TimestampFormat) -> String {
    match (&svc.shape(shape).kind, v) {
        (ShapeKind::Timestamp { format: f }, Value::Number(n)) => {
            let t = Timestamp::from_epoch_seconds(n.as_f64().unwrap_or(0.0)).unwrap_or_default();
            match f.unwrap_or(format) {
                TimestampFormat::Iso8601 => t.to_iso8601(),
                TimestampFormat::Rfc822 => t.to_http_date(),
                TimestampFormat::UnixTimestamp => n.to_string(),
            }
        }
        (_, Value::String(s)) => s.clone(),
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::Number(n)) => n.to_string(),
        (_, Value::Null) => String::new(),
        (_, other) => other.to_string(),
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
