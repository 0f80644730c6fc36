//! XML bodies (restXml and query replies) to and from the canonical value, driven by the schema.
//!
//! Parsing builds a small element tree with `quick-xml` (bounded depth, no DTDs or entities beyond
//! the predefined five) and then reads it by shape. Writing walks the value by shape. Element and
//! attribute names, flattened lists and namespaces follow the botocore model.

use super::{scalar_from_text, scalar_to_text, DecodeError};
use crate::schema::{Location, Service, ShapeId, ShapeKind, TimestampFormat};
use quick_xml::events::Event;
use serde_json::{Map, Value};

const MAX_DEPTH: usize = 64;

/// A parsed XML element.
#[derive(Debug, Default)]
pub struct Element {
    /// Local name (namespace prefix stripped).
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rfind(':') {
        Some(i) => s[i + 1..].to_string(),
        None => s.to_string(),
    }
}

/// Parse a document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, DecodeError> {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    let malformed = |e: &dyn std::fmt::Display| DecodeError::Malformed(format!("malformed XML: {e}"));
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::Malformed("XML nested too deeply".into()));
                }
                stack.push(start_element(&e)?);
            }
            Ok(Event::Empty(e)) => {
                let el = start_element(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Ok(Event::End(_)) => {
                let el = stack.pop().ok_or_else(|| malformed(&"unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.unescape().map_err(|e| malformed(&e))?);
                } else if !t.iter().all(|b| b.is_ascii_whitespace()) {
                    return Err(malformed(&"text outside the root element"));
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::DocType(_)) => return Err(malformed(&"DTDs are not allowed")),
            Ok(Event::Eof) => return Err(malformed(&"unexpected end of document")),
            Ok(_) => {}
            Err(e) => return Err(malformed(&e)),
        }
        buf.clear();
    }
}

fn start_element(e: &quick_xml::events::BytesStart) -> Result<Element, DecodeError> {
    let mut el = Element { name: local(e.name().as_ref()), ..Default::default() };
    for a in e.attributes() {
        let a = a.map_err(|e| DecodeError::Malformed(format!("malformed XML attribute: {e}")))?;
        let v = a.unescape_value().map_err(|e| DecodeError::Malformed(format!("malformed XML attribute: {e}")))?;
        el.attrs.push((local(a.key.as_ref()), v.to_string()));
    }
    Ok(el)
}

/// Read an element as a value of `shape`.
pub fn element_to_value(svc: &Service, shape: ShapeId, el: &Element) -> Result<Value, DecodeError> {
    match &svc.shape(shape).kind {
        ShapeKind::Structure { members, .. } => {
            let mut out = Map::new();
            for m in members.iter().filter(|m| m.location == Location::Body) {
                let name = m.wire_name();
                if m.xml_attribute {
                    if let Some((_, v)) = el.attrs.iter().find(|(k, _)| k == name) {
                        out.insert(m.name.into(), scalar_from_text(svc, m.shape, v, TimestampFormat::Iso8601)?);
                    }
                    continue;
                }
                let target = svc.shape(m.shape);
                match &target.kind {
                    ShapeKind::List { member, member_name, flattened } if *flattened || m.flattened => {
                        let _ = member_name;
                        let items: Result<Vec<_>, _> = el.children_named(name).map(|c| element_to_value(svc, *member, c)).collect();
                        let items = items?;
                        if !items.is_empty() {
                            out.insert(m.name.into(), Value::Array(items));
                        }
                    }
                    ShapeKind::Map { flattened, .. } if *flattened || m.flattened => {
                        let mut map = Map::new();
                        for entry in el.children_named(name) {
                            read_map_entry(svc, m.shape, entry, &mut map)?;
                        }
                        out.insert(m.name.into(), Value::Object(map));
                    }
                    _ => {
                        if let Some(c) = el.child(name) {
                            out.insert(m.name.into(), element_to_value(svc, m.shape, c)?);
                        }
                    }
                }
            }
            Ok(Value::Object(out))
        }
        ShapeKind::List { member, member_name, .. } => {
            let items: Result<Vec<_>, _> = el.children_named(member_name).map(|c| element_to_value(svc, *member, c)).collect();
            Ok(Value::Array(items?))
        }
        ShapeKind::Map { key_name: _, .. } => {
            let mut map = Map::new();
            for entry in el.children_named("entry") {
                read_map_entry(svc, shape, entry, &mut map)?;
            }
            Ok(Value::Object(map))
        }
        _ => scalar_from_text(svc, shape, &el.text, TimestampFormat::Iso8601),
    }
}

fn read_map_entry(svc: &Service, map_shape: ShapeId, entry: &Element, out: &mut Map<String, Value>) -> Result<(), DecodeError> {
    if let ShapeKind::Map { value, key_name, value_name, .. } = &svc.shape(map_shape).kind {
        let k = entry.child(key_name).map(|e| e.text.clone()).unwrap_or_default();
        if let Some(v) = entry.child(value_name) {
            out.insert(k, element_to_value(svc, *value, v)?);
        }
    }
    Ok(())
}

/// Escape text for element content and attribute values.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// Append `<name>…</name>` for a value of `shape`.
pub fn write_element(svc: &Service, out: &mut String, name: &str, ns: Option<&str>, shape: ShapeId, value: &Value) {
    let shape_def = svc.shape(shape);
    match &shape_def.kind {
        ShapeKind::Structure { members, .. } => {
            out.push('<');
            out.push_str(name);
            if let Some(ns) = ns {
                out.push_str(&format!(" xmlns=\"{}\"", escape(ns)));
            }
            for m in members.iter().filter(|m| m.xml_attribute) {
                if let Some(v) = value.get(m.name).filter(|v| !v.is_null()) {
                    out.push_str(&format!(" {}=\"{}\"", m.wire_name(), escape(&scalar_to_text(svc, m.shape, v, TimestampFormat::Iso8601))));
                }
            }
            out.push('>');
            write_members(svc, out, shape, value);
            out.push_str(&format!("</{name}>"));
        }
        ShapeKind::List { member, member_name, .. } => {
            out.push_str(&format!("<{name}>"));
            for item in value.as_array().into_iter().flatten() {
                write_element(svc, out, member_name, None, *member, item);
            }
            out.push_str(&format!("</{name}>"));
        }
        ShapeKind::Map { key, value: vshape, key_name, value_name, .. } => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in value.as_object().into_iter().flatten() {
                out.push_str("<entry>");
                write_element(svc, out, key_name, None, *key, &Value::String(k.clone()));
                write_element(svc, out, value_name, None, *vshape, v);
                out.push_str("</entry>");
            }
            out.push_str(&format!("</{name}>"));
        }
        _ => {
            out.push_str(&format!("<{name}>"));
            out.push_str(&escape(&scalar_to_text(svc, shape, value, TimestampFormat::Iso8601)));
            out.push_str(&format!("</{name}>"));
        }
    }
}

/// Append the body members of a structure value (no wrapper element).
pub fn write_members(svc: &Service, out: &mut String, shape: ShapeId, value: &Value) {
    let ShapeKind::Structure { members, .. } = &svc.shape(shape).kind else { return };
    for m in members.iter().filter(|m| m.location == Location::Body && !m.xml_attribute) {
        let Some(v) = value.get(m.name).filter(|v| !v.is_null()) else { continue };
        let name = m.wire_name();
        match &svc.shape(m.shape).kind {
            ShapeKind::List { member, flattened, .. } if *flattened || m.flattened => {
                for item in v.as_array().into_iter().flatten() {
                    write_element(svc, out, name, None, *member, item);
                }
            }
            ShapeKind::Map { key, value: vshape, key_name, value_name, flattened } if *flattened || m.flattened => {
                for (k, item) in v.as_object().into_iter().flatten() {
                    out.push_str(&format!("<{name}>"));
                    write_element(svc, out, key_name, None, *key, &Value::String(k.clone()));
                    write_element(svc, out, value_name, None, *vshape, item);
                    out.push_str(&format!("</{name}>"));
                }
            }
            _ => write_element(svc, out, name, m.xml_namespace, m.shape, v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_elements_and_rejects_garbage() {
        let el = parse(b"<?xml version=\"1.0\"?><a xmlns=\"x\"><b>1</b><c><d>x &amp; y</d></c></a>").unwrap();
        assert_eq!(el.name, "a");
        assert_eq!(el.child("b").unwrap().text, "1");
        assert_eq!(el.child("c").unwrap().child("d").unwrap().text, "x & y");
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<a>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<!DOCTYPE x [<!ENTITY e \"boom\">]><a>&e;</a>").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
