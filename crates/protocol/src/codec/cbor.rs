//! Smithy RPC v2 CBOR (`smithy-rpc-v2-cbor`): `POST /service/<ServiceName>/operation/<Operation>`
//! with the header `smithy-protocol: rpc-v2-cbor` and the input shape as one CBOR map; replies
//! are a CBOR map too (`application/cbor`), errors a map `{"__type": code, "message": …}` with the
//! error's HTTP status.
//!
//! Decoding and encoding go through `ciborium::Value` and are driven by the schema, converting to
//! and from the canonical `serde_json::Value` the generated types read: a timestamp is CBOR tag 1
//! around epoch seconds (an integer, or a float when there are fractions) and an epoch-seconds
//! number in the canonical value; a blob is a CBOR byte string and a base64 string in the
//! canonical value; `NaN` and the infinities travel as CBOR floats and as the strings `"NaN"`,
//! `"Infinity"` and `"-Infinity"` in the canonical value (what the JSON protocols send).
//! Members a service does not know are ignored, as with the JSON protocols. botocore's
//! `serialize.py`/`parsers.py` (`RpcV2CBORSerializer`, `RpcV2CBORParser`) are the reference.

use super::DecodeError;
use crate::schema::{OperationSpec, Service, ShapeId, ShapeKind};
use crate::types::Timestamp;
use base64::Engine;
use ciborium::Value as Cbor;
use serde_json::{Map, Number, Value};

/// `Content-Type` of requests and replies.
pub const CONTENT_TYPE: &str = "application/cbor";
/// The `smithy-protocol` header value of requests and replies.
pub const SMITHY_PROTOCOL: &str = "rpc-v2-cbor";
/// How deeply CBOR items may nest (botocore models nest a handful of levels).
const MAX_DEPTH: usize = 64;

/// The operation named by a request path `/service/<ServiceName>/operation/<Operation>`, when the
/// service name is this service's (botocore sends the model's `targetPrefix`).
pub fn path_operation(svc: &'static Service, path: &str) -> Option<&'static OperationSpec> {
    let rest = path.strip_prefix("/service/")?;
    let (service, rest) = rest.split_once('/')?;
    let op = rest.strip_prefix("operation/")?;
    let matches_service =
        service == svc.target_prefix || service.rsplit('.').next() == Some(svc.target_prefix);
    (matches_service && !op.contains('/'))
        .then(|| svc.operation(op))
        .flatten()
}

/// Whether a request looks like RPC v2 CBOR (the `/service/…/operation/…` path).
pub fn is_rpc_v2_path(path: &str) -> bool {
    path.starts_with("/service/") && path.contains("/operation/")
}

/// Parse one CBOR data item (an empty body is an empty map).
pub fn parse(body: &[u8]) -> Result<Cbor, DecodeError> {
    if body.is_empty() {
        return Ok(Cbor::Map(Vec::new()));
    }
    let mut reader = body;
    let v: Cbor = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_DEPTH)
        .map_err(|e| DecodeError::Malformed(format!("malformed CBOR body: {e}")))?;
    if !reader.is_empty() {
        return Err(DecodeError::Malformed(
            "malformed CBOR body: trailing bytes after the data item".into(),
        ));
    }
    Ok(v)
}

/// The canonical input value of `op` from a CBOR request body.
pub fn decode_input(svc: &Service, op: &OperationSpec, body: &[u8]) -> Result<Value, DecodeError> {
    let cbor = parse(body)?;
    match op.input {
        Some(shape) => {
            if !matches!(cbor, Cbor::Map(_)) {
                return Err(DecodeError::Malformed(
                    "the request body must be a CBOR map".into(),
                ));
            }
            to_canonical(svc, shape, &cbor, "")
        }
        None => Ok(Value::Object(Map::new())),
    }
}

fn type_error(path: &str, expected: &str) -> DecodeError {
    let at = if path.is_empty() {
        "the input".to_string()
    } else {
        format!("'{path}'")
    };
    DecodeError::Malformed(format!("expected {expected} at {at}"))
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Convert a CBOR item to the canonical value of `shape`.
fn to_canonical(svc: &Service, shape: ShapeId, v: &Cbor, path: &str) -> Result<Value, DecodeError> {
    // Tags other than epoch time (e.g. self-describe, 55799) carry no meaning for us.
    if let Cbor::Tag(tag, inner) = v {
        if !matches!(svc.shape(shape).kind, ShapeKind::Timestamp { .. }) || *tag != 1 {
            return to_canonical(svc, shape, inner, path);
        }
    }
    match &svc.shape(shape).kind {
        ShapeKind::Structure { members, .. } => {
            let Cbor::Map(entries) = v else {
                return Err(type_error(path, "a map"));
            };
            let mut out = Map::new();
            for (k, item) in entries {
                let Cbor::Text(key) = k else {
                    return Err(type_error(path, "text keys"));
                };
                if item.is_null() {
                    continue;
                }
                if let Some(m) = members.iter().find(|m| m.wire_name() == key.as_str()) {
                    out.insert(
                        m.name.to_string(),
                        to_canonical(svc, m.shape, item, &join(path, m.name))?,
                    );
                }
            }
            Ok(Value::Object(out))
        }
        ShapeKind::List { member, .. } => {
            let Cbor::Array(items) = v else {
                return Err(type_error(path, "an array"));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    if item.is_null() {
                        Ok(Value::Null)
                    } else {
                        to_canonical(svc, *member, item, &format!("{path}[{i}]"))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        ShapeKind::Map { value, .. } => {
            let Cbor::Map(entries) = v else {
                return Err(type_error(path, "a map"));
            };
            let mut out = Map::new();
            for (k, item) in entries {
                let Cbor::Text(key) = k else {
                    return Err(type_error(path, "text keys"));
                };
                let item = if item.is_null() {
                    Value::Null
                } else {
                    to_canonical(svc, *value, item, &join(path, key))?
                };
                out.insert(key.clone(), item);
            }
            Ok(Value::Object(out))
        }
        ShapeKind::String => match v {
            Cbor::Text(s) => Ok(Value::String(s.clone())),
            _ => Err(type_error(path, "a text string")),
        },
        ShapeKind::Boolean => match v {
            Cbor::Bool(b) => Ok(Value::Bool(*b)),
            _ => Err(type_error(path, "a boolean")),
        },
        ShapeKind::Integer | ShapeKind::Long => match v {
            Cbor::Integer(i) => i64::try_from(i128::from(*i))
                .map(Value::from)
                .map_err(|_| type_error(path, "a 64-bit integer")),
            _ => Err(type_error(path, "an integer")),
        },
        ShapeKind::Float | ShapeKind::Double => {
            number_value(v).ok_or_else(|| type_error(path, "a number"))
        }
        ShapeKind::Timestamp { .. } => {
            let inner = match v {
                Cbor::Tag(1, inner) => inner.as_ref(),
                other => other,
            };
            let secs = match inner {
                Cbor::Integer(i) => i128::from(*i) as f64,
                Cbor::Float(f) => *f,
                _ => return Err(type_error(path, "an epoch-seconds timestamp (tag 1)")),
            };
            let t = Timestamp::from_epoch_seconds(secs)
                .ok_or_else(|| type_error(path, "a timestamp in range"))?;
            serde_json::to_value(t).map_err(|_| type_error(path, "a timestamp in range"))
        }
        ShapeKind::Blob { .. } => match v {
            Cbor::Bytes(b) => Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(b),
            )),
            // botocore encodes str blobs as UTF-8 byte strings; accept text too.
            Cbor::Text(s) => Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
            )),
            _ => Err(type_error(path, "a byte string")),
        },
    }
}

/// A CBOR number as a canonical number (non-finite floats as their JSON-protocol strings).
fn number_value(v: &Cbor) -> Option<Value> {
    let f = match v {
        Cbor::Integer(i) => return Some(Value::from(i128::from(*i) as f64)),
        Cbor::Float(f) => *f,
        _ => return None,
    };
    Some(match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None if f.is_nan() => Value::String("NaN".into()),
        None if f > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    })
}

/// The CBOR reply body of `op` for the canonical output `value` (empty when the operation has
/// no output shape).
pub fn encode_output(svc: &Service, op: &OperationSpec, value: &Value) -> Vec<u8> {
    match op.output {
        Some(shape) => to_bytes(&from_canonical(svc, shape, value)),
        None => Vec::new(),
    }
}

/// The CBOR body of an error: `__type`, `message` and any extra members.
pub fn error_body(code: &str, message: &str, extra: &[(String, String)]) -> Vec<u8> {
    let mut entries = vec![
        (Cbor::Text("__type".into()), Cbor::Text(code.into())),
        (Cbor::Text("message".into()), Cbor::Text(message.into())),
    ];
    entries.extend(
        extra
            .iter()
            .map(|(k, v)| (Cbor::Text(k.clone()), Cbor::Text(v.clone()))),
    );
    to_bytes(&Cbor::Map(entries))
}

fn to_bytes(v: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    if let Err(e) = ciborium::ser::into_writer(v, &mut out) {
        tracing::error!(error = %e, "cbor encoding failed");
        out.clear();
    }
    out
}

/// Convert a canonical value of `shape` to CBOR. Values of the wrong type (which generated
/// types never produce) are written as null.
fn from_canonical(svc: &Service, shape: ShapeId, v: &Value) -> Cbor {
    match (&svc.shape(shape).kind, v) {
        (ShapeKind::Structure { members, .. }, Value::Object(o)) => Cbor::Map(
            members
                .iter()
                .filter_map(|m| {
                    o.get(m.name).filter(|v| !v.is_null()).map(|v| {
                        (
                            Cbor::Text(m.wire_name().into()),
                            from_canonical(svc, m.shape, v),
                        )
                    })
                })
                .collect(),
        ),
        (ShapeKind::List { member, .. }, Value::Array(items)) => Cbor::Array(
            items
                .iter()
                .map(|i| from_canonical(svc, *member, i))
                .collect(),
        ),
        (ShapeKind::Map { value, .. }, Value::Object(o)) => Cbor::Map(
            o.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), from_canonical(svc, *value, v)))
                .collect(),
        ),
        (ShapeKind::String, Value::String(s)) => Cbor::Text(s.clone()),
        (ShapeKind::Boolean, Value::Bool(b)) => Cbor::Bool(*b),
        (ShapeKind::Integer | ShapeKind::Long, Value::Number(n)) => match n.as_i64() {
            Some(i) => Cbor::Integer(i.into()),
            None => match n.as_u64() {
                Some(u) => Cbor::Integer(u.into()),
                None => Cbor::Integer((n.as_f64().unwrap_or(0.0) as i64).into()),
            },
        },
        (ShapeKind::Float | ShapeKind::Double, Value::Number(n)) => {
            Cbor::Float(n.as_f64().unwrap_or(0.0))
        }
        (ShapeKind::Float | ShapeKind::Double, Value::String(s)) => match s.as_str() {
            "NaN" => Cbor::Float(f64::NAN),
            "Infinity" => Cbor::Float(f64::INFINITY),
            "-Infinity" => Cbor::Float(f64::NEG_INFINITY),
            _ => Cbor::Null,
        },
        (ShapeKind::Timestamp { .. }, Value::Number(n)) => {
            let inner = match n.as_i64() {
                Some(i) => Cbor::Integer(i.into()),
                None => Cbor::Float(n.as_f64().unwrap_or(0.0)),
            };
            Cbor::Tag(1, Box::new(inner))
        }
        (ShapeKind::Blob { .. }, Value::String(s)) => {
            match base64::engine::general_purpose::STANDARD.decode(s.as_bytes()) {
                Ok(b) => Cbor::Bytes(b),
                Err(_) => Cbor::Bytes(s.as_bytes().to_vec()),
            }
        }
        _ => Cbor::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Protocol;
    use crate::schema::{Location, Member, Shape, TimestampFormat};

    const fn member(name: &'static str, shape: ShapeId, required: bool) -> Member {
        Member {
            name,
            shape,
            location: Location::Body,
            location_name: "",
            required,
            flattened: false,
            xml_attribute: false,
            xml_namespace: None,
            timestamp_format: None,
        }
    }

    static SHAPES: [Shape; 9] = [
        Shape {
            name: "Input",
            kind: ShapeKind::Structure {
                members: &[
                    member("Name", 1, true),
                    member("When", 2, false),
                    member("Data", 3, false),
                    member("Values", 4, false),
                    member("Count", 6, false),
                    member("Tags", 7, false),
                    member("On", 8, false),
                ],
                payload: None,
            },
        },
        Shape {
            name: "Name",
            kind: ShapeKind::String,
        },
        Shape {
            name: "When",
            kind: ShapeKind::Timestamp { format: None },
        },
        Shape {
            name: "Data",
            kind: ShapeKind::Blob { streaming: false },
        },
        Shape {
            name: "Values",
            kind: ShapeKind::List {
                member: 5,
                member_name: "member",
                flattened: false,
            },
        },
        Shape {
            name: "Value",
            kind: ShapeKind::Double,
        },
        Shape {
            name: "Count",
            kind: ShapeKind::Long,
        },
        Shape {
            name: "Tags",
            kind: ShapeKind::Map {
                key: 1,
                value: 1,
                key_name: "key",
                value_name: "value",
                flattened: false,
            },
        },
        Shape {
            name: "On",
            kind: ShapeKind::Boolean,
        },
    ];
    static OPERATIONS: [OperationSpec; 1] = [OperationSpec {
        name: "Put",
        method: "POST",
        uri: "/",
        input: Some(0),
        output: Some(0),
        status: 200,
        input_xml_name: None,
        result_wrapper: None,
        output_xml_name: None,
    }];
    static SVC: Service = Service {
        name: "test",
        protocol: Protocol::RpcV2Cbor,
        target_prefix: "TestService",
        xml_namespace: "",
        api_version: "2020-01-01",
        shapes: &SHAPES,
        operations: &OPERATIONS,
    };

    fn encode(v: &Cbor) -> Vec<u8> {
        to_bytes(v)
    }

    #[test]
    fn routes_by_path() {
        assert_eq!(
            path_operation(&SVC, "/service/TestService/operation/Put").map(|o| o.name),
            Some("Put")
        );
        assert!(path_operation(&SVC, "/service/Other/operation/Put").is_none());
        assert!(path_operation(&SVC, "/service/TestService/operation/Nope").is_none());
        assert!(path_operation(&SVC, "/service/TestService/operation/Put/x").is_none());
        assert!(path_operation(&SVC, "/").is_none());
        let _ = TimestampFormat::Iso8601;
    }

    #[test]
    fn decodes_by_shape_like_botocore_sends() {
        let body = encode(&Cbor::Map(vec![
            (Cbor::Text("Name".into()), Cbor::Text("a".into())),
            (
                Cbor::Text("When".into()),
                Cbor::Tag(1, Box::new(Cbor::Integer(1_700_000_000.into()))),
            ),
            (Cbor::Text("Data".into()), Cbor::Bytes(b"hi".to_vec())),
            (
                Cbor::Text("Values".into()),
                Cbor::Array(vec![
                    Cbor::Float(1.5),
                    Cbor::Integer(2.into()),
                    Cbor::Float(f64::NAN),
                ]),
            ),
            (Cbor::Text("Count".into()), Cbor::Integer((-3).into())),
            (
                Cbor::Text("Tags".into()),
                Cbor::Map(vec![(Cbor::Text("k".into()), Cbor::Text("v".into()))]),
            ),
            (Cbor::Text("On".into()), Cbor::Bool(true)),
            (Cbor::Text("Unknown".into()), Cbor::Integer(1.into())),
            (Cbor::Text("Skipped".into()), Cbor::Null),
        ]));
        let v = decode_input(&SVC, &OPERATIONS[0], &body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"Name": "a", "When": 1_700_000_000, "Data": "aGk=", "Values": [1.5, 2.0, "NaN"], "Count": -3, "Tags": {"k": "v"}, "On": true})
        );
        let frac = encode(&Cbor::Map(vec![(
            Cbor::Text("When".into()),
            Cbor::Tag(1, Box::new(Cbor::Float(1.5))),
        )]));
        assert_eq!(
            decode_input(&SVC, &OPERATIONS[0], &frac).unwrap(),
            serde_json::json!({"When": 1.5})
        );
        assert_eq!(
            decode_input(&SVC, &OPERATIONS[0], b"").unwrap(),
            serde_json::json!({})
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for body in [
            &b"\xff"[..],
            b"\x1b",
            b"\xa1\x01\x02",
            b"\x9f\x01",
            b"\xa1\x64Name\x01",
            b"\x83\x01\x02\x03",
            b"\xa0\x00",
            b"\xbb\xff\xff\xff\xff\xff\xff\xff\xff",
        ] {
            assert!(
                decode_input(&SVC, &OPERATIONS[0], body).is_err(),
                "{body:?}"
            );
        }
        let deep = [vec![0x81u8; 10_000], vec![0x01]].concat();
        assert!(decode_input(&SVC, &OPERATIONS[0], &deep).is_err());
        let too_big_ts = encode(&Cbor::Map(vec![(
            Cbor::Text("When".into()),
            Cbor::Tag(1, Box::new(Cbor::Float(1e300))),
        )]));
        assert!(decode_input(&SVC, &OPERATIONS[0], &too_big_ts).is_err());
    }

    #[test]
    fn encodes_by_shape() {
        let v = serde_json::json!({"Name": "a", "When": 1.25, "Data": "aGk=", "Values": [1.0, "Infinity"], "Count": 7, "On": false});
        let bytes = encode_output(&SVC, &OPERATIONS[0], &v);
        let back = parse(&bytes).unwrap();
        let Cbor::Map(entries) = back else {
            panic!("not a map")
        };
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| key.as_text() == Some(k))
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("When"), Cbor::Tag(1, Box::new(Cbor::Float(1.25))));
        assert_eq!(get("Data"), Cbor::Bytes(b"hi".to_vec()));
        assert_eq!(
            get("Values"),
            Cbor::Array(vec![Cbor::Float(1.0), Cbor::Float(f64::INFINITY)])
        );
        assert_eq!(get("Count"), Cbor::Integer(7.into()));
        // Round trip through the decoder gives the same canonical value.
        assert_eq!(
            decode_input(&SVC, &OPERATIONS[0], &bytes).unwrap(),
            serde_json::json!({"Name": "a", "When": 1.25, "Data": "aGk=", "Values": [1.0, "Infinity"], "Count": 7, "On": false})
        );
        let whole = encode_output(
            &SVC,
            &OPERATIONS[0],
            &serde_json::json!({"When": 1_700_000_000}),
        );
        assert_eq!(
            parse(&whole).unwrap(),
            Cbor::Map(vec![(
                Cbor::Text("When".into()),
                Cbor::Tag(1, Box::new(Cbor::Integer(1_700_000_000.into())))
            )])
        );
    }

    #[test]
    fn error_bodies() {
        let b = error_body("ResourceNotFound", "gone", &[]);
        let Cbor::Map(entries) = parse(&b).unwrap() else {
            panic!()
        };
        assert_eq!(
            entries[0],
            (
                Cbor::Text("__type".into()),
                Cbor::Text("ResourceNotFound".into())
            )
        );
        assert_eq!(
            entries[1],
            (Cbor::Text("message".into()), Cbor::Text("gone".into()))
        );
    }
}
