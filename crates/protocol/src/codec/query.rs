//! awsQuery: form-encoded requests (`Action`, `Version`, members flattened as
//! `Name.member.N` / `Name.entry.N.key`) and XML replies wrapped in
//! `<OpResponse><OpResult>…</OpResult><ResponseMetadata/></OpResponse>`.

use super::{scalar_from_text, xml, DecodeError};
use crate::schema::{Member, OperationSpec, Service, ShapeId, ShapeKind, TimestampFormat};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Decoded form parameters.
pub struct Form {
    pub params: BTreeMap<String, String>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form { params: form_urlencoded::parse(body).into_owned().collect() }
    }
    pub fn action(&self) -> Option<&str> {
        self.params.get("Action").map(String::as_str)
    }
}

/// Build the input value of `op` from the form.
pub fn decode_input(svc: &Service, op: &OperationSpec, form: &Form) -> Result<Value, DecodeError> {
    match op.input {
        Some(shape) => read_struct(svc, shape, "", &form.params),
        None => Ok(Value::Object(Map::new())),
    }
}

fn read_struct(svc: &Service, shape: ShapeId, prefix: &str, params: &BTreeMap<String, String>) -> Result<Value, DecodeError> {
    let ShapeKind::Structure { members, .. } = &svc.shape(shape).kind else { return Ok(Value::Null) };
    let mut out = Map::new();
    for m in members.iter() {
        let key = format!("{prefix}{}", m.wire_name());
        if let Some(v) = read_member(svc, m, &key, params)? {
            out.insert(m.name.to_string(), v);
        }
    }
    Ok(Value::Object(out))
}

fn has_prefix(params: &BTreeMap<String, String>, key: &str) -> bool {
    let p = format!("{key}.");
    params.contains_key(key) || params.range(p.clone()..).next().is_some_and(|(k, _)| k.starts_with(&p))
}

fn read_member(svc: &Service, m: &Member, key: &str, params: &BTreeMap<String, String>) -> Result<Option<Value>, DecodeError> {
    read_value(svc, m.shape, key, m.flattened, params)
}

fn read_value(svc: &Service, shape: ShapeId, key: &str, flat_member: bool, params: &BTreeMap<String, String>) -> Result<Option<Value>, DecodeError> {
    match &svc.shape(shape).kind {
        ShapeKind::Structure { .. } => {
            if !has_prefix(params, key) {
                return Ok(None);
            }
            read_struct(svc, shape, &format!("{key}."), params).map(Some)
        }
        ShapeKind::List { member, member_name, flattened } => {
            if params.get(key).is_some_and(|v| v.is_empty()) {
                return Ok(Some(Value::Array(vec![]))); // `Name=` is an explicitly empty list
            }
            let base = if *flattened || flat_member { key.to_string() } else { format!("{key}.{member_name}") };
            let mut items = Vec::new();
            for i in 1.. {
                match read_value(svc, *member, &format!("{base}.{i}"), false, params)? {
                    Some(v) => items.push(v),
                    None => break,
                }
                if i > 10_000 {
                    return Err(DecodeError::Invalid(format!("too many items in {key}")));
                }
            }
            Ok((!items.is_empty()).then_some(Value::Array(items)))
        }
        ShapeKind::Map { key: kshape, value, key_name, value_name, flattened } => {
            let base = if *flattened || flat_member { key.to_string() } else { format!("{key}.entry") };
            let mut map = Map::new();
            for i in 1.. {
                let k = read_value(svc, *kshape, &format!("{base}.{i}.{key_name}"), false, params)?;
                let Some(Value::String(k)) = k else { break };
                let v = read_value(svc, *value, &format!("{base}.{i}.{value_name}"), false, params)?.unwrap_or(Value::Null);
                map.insert(k, v);
                if i > 10_000 {
                    return Err(DecodeError::Invalid(format!("too many entries in {key}")));
                }
            }
            Ok((!map.is_empty()).then_some(Value::Object(map)))
        }
        _ => match params.get(key) {
            Some(text) => scalar_from_text(svc, shape, text, TimestampFormat::Iso8601).map(Some),
            None => Ok(None),
        },
    }
}

/// The XML reply for `op` with `value` as its result.
pub fn encode_output(svc: &Service, op: &OperationSpec, value: &Value, request_id: &str) -> Vec<u8> {
    let mut s = format!("<{}Response xmlns=\"{}\">", op.name, svc.xml_namespace);
    if let Some(output) = op.output {
        let wrapper = op.result_wrapper.map(str::to_string).unwrap_or_else(|| format!("{}Result", op.name));
        s.push_str(&format!("<{wrapper}>"));
        xml::write_members(svc, &mut s, output, value);
        s.push_str(&format!("</{wrapper}>"));
    }
    s.push_str(&format!("<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{}Response>", xml::escape(request_id), op.name));
    s.into_bytes()
}
