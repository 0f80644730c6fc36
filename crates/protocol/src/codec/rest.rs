//! restXml and restJson: routing by method + URI template, and binding of URI labels, query
//! parameters, headers and the body (payload member or body members) to the canonical value.

use super::{json, scalar_from_text, scalar_to_text, xml, DecodeError};
use crate::schema::{Location, OperationSpec, Service, ShapeKind, TimestampFormat};
use crate::Protocol;
use base64::Engine;
use http::HeaderMap;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// A matched operation and its decoded URI labels.
#[derive(Debug)]
pub struct Route {
    pub op: &'static OperationSpec,
    pub labels: Vec<(String, String)>,
}

/// Find the operation whose method, path template, literal query keys and required query/header
/// members match, preferring the most specific (most literal segments, query keys and required
/// members): `PUT /{Bucket}/{Key+}` with `partNumber` and `uploadId` is UploadPart, with
/// `x-amz-copy-source` it is CopyObject, otherwise PutObject.
pub fn route(svc: &'static Service, method: &str, raw_path: &str, query: &[(String, String)], headers: &HeaderMap) -> Option<Route> {
    let path = raw_path.split('?').next().unwrap_or("");
    let mut best: Option<(usize, Route)> = None;
    for op in svc.operations.iter().filter(|o| o.method.eq_ignore_ascii_case(method)) {
        let (tpath, tquery) = op.uri.split_once('?').unwrap_or((op.uri, ""));
        let mut score = 0;
        let mut ok = true;
        for lit in tquery.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = lit.split_once('=').unwrap_or((lit, ""));
            if !query.iter().any(|(qk, qv)| qk == k && (v.is_empty() || qv == v)) {
                ok = false;
                break;
            }
            score += 100;
        }
        if let Some(ShapeKind::Structure { members, .. }) = op.input.map(|i| &svc.shape(i).kind) {
            for m in members.iter().filter(|m| m.required) {
                let present = match m.location {
                    Location::Query => query.iter().any(|(k, _)| k == m.wire_name()),
                    Location::Header => headers.contains_key(m.wire_name()),
                    _ => continue,
                };
                if !present {
                    ok = false;
                    break;
                }
                score += 100;
            }
        }
        if !ok {
            continue;
        }
        let matched = match_path(tpath, path).or_else(|| {
            // `/bucket/` addresses the bucket like `/bucket` does.
            path.strip_suffix('/').filter(|p| !p.is_empty()).and_then(|p| match_path(tpath, p))
        });
        if let Some((labels, literals)) = matched {
            score += literals;
            if best.as_ref().map_or(true, |(s, _)| score > *s) {
                best = Some((score, Route { op, labels }));
            }
        }
    }
    best.map(|(_, r)| r)
}

fn match_path(template: &str, path: &str) -> Option<(Vec<(String, String)>, usize)> {
    let tsegs: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let psegs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut labels = Vec::new();
    let mut literals = 0;
    for (i, t) in tsegs.iter().enumerate() {
        if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix("+}")) {
            let rest = psegs.get(i..)?.join("/");
            if rest.is_empty() {
                return None;
            }
            labels.push((name.to_string(), decode(&rest)?));
            return Some((labels, literals));
        }
        let p = psegs.get(i)?;
        if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            if p.is_empty() {
                return None;
            }
            labels.push((name.to_string(), decode(p)?));
        } else if t == p {
            literals += 1;
        } else {
            return None;
        }
    }
    (psegs.len() == tsegs.len()).then_some((labels, literals))
}

fn decode(s: &str) -> Option<String> {
    percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned())
}

/// Parse a raw query string into decoded pairs (`a&b=1` → `[("a",""),("b","1")]`).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded_pairs(raw)
}

fn form_urlencoded_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let dec = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (dec(k), dec(v))
        })
        .collect()
}

/// Build the input value of `op` from the request. `body` is empty for streaming payloads (the
/// service reads those itself).
pub fn decode_input(
    svc: &Service,
    op: &OperationSpec,
    labels: &[(String, String)],
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, DecodeError> {
    let mut out = Map::new();
    let Some(input) = op.input else { return Ok(Value::Object(out)) };
    let ShapeKind::Structure { members, payload } = &svc.shape(input).kind else { return Ok(Value::Object(out)) };
    for m in members.iter() {
        let name = m.wire_name();
        let v = match m.location {
            Location::Uri => match labels.iter().find(|(k, _)| k == name) {
                Some((_, v)) => Some(scalar_from_text(svc, m.shape, v, TimestampFormat::Iso8601)?),
                None => None,
            },
            Location::Query => match &svc.shape(m.shape).kind {
                ShapeKind::List { member, .. } => {
                    let items: Result<Vec<_>, _> = query.iter().filter(|(k, _)| k == name).map(|(_, v)| scalar_from_text(svc, *member, v, TimestampFormat::Iso8601)).collect();
                    let items = items?;
                    (!items.is_empty()).then_some(Value::Array(items))
                }
                ShapeKind::Map { .. } => None,
                _ => match query.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => Some(scalar_from_text(svc, m.shape, v, TimestampFormat::Iso8601)?),
                    None => None,
                },
            },
            Location::Header => match headers.get(name) {
                Some(h) => {
                    let text = h.to_str().map_err(|_| DecodeError::Invalid(format!("header {name} is not valid text")))?;
                    Some(match &svc.shape(m.shape).kind {
                        ShapeKind::List { member, .. } => {
                            let items: Result<Vec<_>, _> = text.split(',').map(|p| scalar_from_text(svc, *member, p.trim(), TimestampFormat::Rfc822)).collect();
                            Value::Array(items?)
                        }
                        _ => scalar_from_text(svc, m.shape, text, TimestampFormat::Rfc822)?,
                    })
                }
                None => None,
            },
            Location::Headers => {
                let prefix = name.to_ascii_lowercase();
                let mut map = Map::new();
                for (k, v) in headers.iter() {
                    if let Some(rest) = k.as_str().strip_prefix(prefix.as_str()) {
                        let text = v.to_str().map_err(|_| DecodeError::Invalid(format!("header {k} is not valid text")))?;
                        map.insert(rest.to_string(), Value::String(text.to_string()));
                    }
                }
                (!map.is_empty()).then_some(Value::Object(map))
            }
            Location::StatusCode => None,
            Location::Body => None,
        };
        if let Some(v) = v {
            out.insert(m.name.to_string(), v);
        }
    }
    let proto = svc.protocol;
    match payload {
        Some(p) => {
            let m = members.iter().find(|m| m.name == *p).expect("payload member exists");
            match &svc.shape(m.shape).kind {
                ShapeKind::Blob { streaming: true } => {}
                ShapeKind::Blob { .. } => {
                    out.insert(m.name.into(), Value::String(base64::engine::general_purpose::STANDARD.encode(body)));
                }
                ShapeKind::String => {
                    out.insert(m.name.into(), Value::String(String::from_utf8_lossy(body).into_owned()));
                }
                _ if body.iter().all(|b| b.is_ascii_whitespace()) => {}
                _ if proto == Protocol::RestXml => {
                    let el = xml::parse(body)?;
                    out.insert(m.name.into(), xml::element_to_value(svc, m.shape, &el)?);
                }
                _ => {
                    out.insert(m.name.into(), json::parse_body(body)?);
                }
            }
        }
        None if body.iter().all(|b| b.is_ascii_whitespace()) => {}
        None if proto == Protocol::RestXml => {
            let el = xml::parse(body)?;
            if let Value::Object(o) = xml::element_to_value(svc, input, &el)? {
                out.extend(o);
            }
        }
        None => {
            let Value::Object(o) = json::parse_body(body)? else {
                return Err(DecodeError::Malformed("request body must be a JSON object".into()));
            };
            for m in members.iter().filter(|m| m.location == Location::Body) {
                if let Some(v) = o.get(m.wire_name()) {
                    out.insert(m.name.into(), v.clone());
                }
            }
        }
    }
    Ok(Value::Object(out))
}

/// An encoded reply.
#[derive(Debug, Default)]
pub struct Encoded {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Encode the output value of `op`: headers, status code and body.
pub fn encode_output(svc: &Service, op: &OperationSpec, value: &Value) -> Encoded {
    let mut enc = Encoded { status: op.status, ..Default::default() };
    let Some(output) = op.output else { return enc };
    let ShapeKind::Structure { members, payload } = &svc.shape(output).kind else { return enc };
    let mut has_body_members = false;
    for m in members.iter() {
        let Some(v) = value.get(m.name).filter(|v| !v.is_null()) else { continue };
        match m.location {
            Location::Header => {
                let text = match (&svc.shape(m.shape).kind, v) {
                    (ShapeKind::List { member, .. }, Value::Array(items)) => {
                        items.iter().map(|i| scalar_to_text(svc, *member, i, TimestampFormat::Rfc822)).collect::<Vec<_>>().join(",")
                    }
                    _ => scalar_to_text(svc, m.shape, v, m.timestamp_format.unwrap_or(TimestampFormat::Rfc822)),
                };
                enc.headers.push((m.wire_name().to_string(), text));
            }
            Location::Headers => {
                for (k, item) in v.as_object().into_iter().flatten() {
                    enc.headers.push((format!("{}{}", m.wire_name(), k), scalar_to_text(svc, m.shape, item, TimestampFormat::Rfc822)));
                }
            }
            Location::StatusCode => enc.status = v.as_u64().unwrap_or(200) as u16,
            Location::Body => has_body_members = true,
            _ => {}
        }
    }
    match payload {
        Some(p) => {
            let m = members.iter().find(|m| m.name == *p).expect("payload member exists");
            let Some(v) = value.get(m.name).filter(|v| !v.is_null()) else { return enc };
            match &svc.shape(m.shape).kind {
                ShapeKind::Blob { .. } => {
                    enc.body = v.as_str().and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok()).unwrap_or_default();
                }
                ShapeKind::String => enc.body = v.as_str().unwrap_or_default().as_bytes().to_vec(),
                _ if svc.protocol == Protocol::RestXml => {
                    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
                    xml::write_element(svc, &mut s, m.wire_name(), Some(svc.xml_namespace), m.shape, v);
                    enc.body = s.into_bytes();
                    enc.headers.push(("content-type".into(), "application/xml".into()));
                }
                _ => {
                    enc.body = serde_json::to_vec(v).unwrap_or_default();
                    enc.headers.push(("content-type".into(), "application/json".into()));
                }
            }
        }
        None if !has_body_members => {}
        None if svc.protocol == Protocol::RestXml => {
            let root = op.output_xml_name.unwrap_or(svc.shape(output).name);
            let mut s = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{}\">", svc.xml_namespace);
            xml::write_members(svc, &mut s, output, value);
            s.push_str(&format!("</{root}>"));
            enc.body = s.into_bytes();
            enc.headers.push(("content-type".into(), "application/xml".into()));
        }
        None => {
            let mut o = Map::new();
            for m in members.iter().filter(|m| m.location == Location::Body) {
                if let Some(v) = value.get(m.name).filter(|v| !v.is_null()) {
                    o.insert(m.wire_name().to_string(), v.clone());
                }
            }
            enc.body = serde_json::to_vec(&Value::Object(o)).unwrap_or_default();
            enc.headers.push(("content-type".into(), "application/json".into()));
        }
    }
    enc
}
