//! What `Publish` accepts: subject and message checks, message attributes (names, types,
//! values) and `MessageStructure=json`, with AWS's messages. The checked message is a
//! [`Message`], the form stored in delivery jobs.

use crate::api::MessageAttributeValue;
use crate::error::SnsError;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest message, attributes included (256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 262_144;

/// A message attribute as SNS delivers it in JSON envelopes (`{"Type": …, "Value": …}`);
/// binary values are base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    #[serde(rename = "Type")]
    pub data_type: String,
    #[serde(rename = "Value")]
    pub value: String,
}

/// A checked message, ready to be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The message text (the `default` text when structured).
    pub body: String,
    /// Per-protocol texts of `MessageStructure=json` (`email`, `http`, …).
    #[serde(default)]
    pub per_protocol: BTreeMap<String, String>,
    pub subject: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
}

impl Message {
    /// The text delivered to `protocol`.
    pub fn text_for(&self, protocol: &str) -> &str {
        self.per_protocol.get(protocol).map(String::as_str).unwrap_or(&self.body)
    }

    /// Attributes as (type, string value) for filter policies.
    pub fn filter_view(&self) -> BTreeMap<String, (String, String)> {
        self.attributes.iter().map(|(k, a)| (k.clone(), (a.data_type.clone(), a.value.clone()))).collect()
    }
}

/// Check a subject: 1–100 ASCII characters starting with a letter, digit or punctuation, no
/// line breaks or control characters.
pub fn check_subject(subject: &str) -> Result<(), SnsError> {
    let first_ok = subject.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation());
    if !first_ok || subject.len() > 100 || !subject.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return Err(SnsError::invalid("Invalid parameter: Subject"));
    }
    Ok(())
}

/// Check the inputs of `Publish` and build the message. Order of checks as AWS: subject,
/// empty message, attributes, size, structure.
pub fn build(
    message: &str,
    subject: Option<&str>,
    attributes: Option<&BTreeMap<String, MessageAttributeValue>>,
    structure: Option<&str>,
) -> Result<Message, SnsError> {
    if let Some(s) = subject {
        check_subject(s)?;
    }
    if message.is_empty() {
        return Err(SnsError::invalid("Invalid parameter: Empty message"));
    }
    let mut attrs = BTreeMap::new();
    let mut size = message.len();
    for (name, value) in attributes.into_iter().flatten() {
        let attr = check_attribute(name, value)?;
        size += name.len() + value.data_type.len() + value.string_value.as_ref().map_or(0, String::len) + value.binary_value.as_ref().map_or(0, |b| b.0.len());
        attrs.insert(name.clone(), attr);
    }
    if size > MAX_MESSAGE_BYTES {
        return Err(SnsError::invalid("Invalid parameter: Message too long"));
    }
    let mut per_protocol = BTreeMap::new();
    let body = match structure {
        None => message.to_string(),
        Some("json") => {
            let parsed: serde_json::Value = serde_json::from_str(message)
                .map_err(|_| SnsError::invalid("Invalid parameter: Message Structure - JSON message body failed to parse"))?;
            let serde_json::Value::Object(map) = parsed else {
                return Err(SnsError::invalid("Invalid parameter: Message Structure - JSON message body failed to parse"));
            };
            // Keys whose values are not strings are ignored, as AWS does.
            for (k, v) in map {
                if let serde_json::Value::String(s) = v {
                    per_protocol.insert(k, s);
                }
            }
            per_protocol
                .remove("default")
                .ok_or_else(|| SnsError::invalid("Invalid parameter: Message Structure - No default entry in JSON message body"))?
        }
        Some(_) => return Err(SnsError::invalid("Invalid parameter: MessageStructure")),
    };
    Ok(Message { body, per_protocol, subject: subject.map(str::to_string), attributes: attrs })
}

fn check_attribute(name: &str, v: &MessageAttributeValue) -> Result<Attribute, SnsError> {
    let invalid = |m: String| Err(SnsError::InvalidParameterValue(m));
    if name.len() > 256 {
        return invalid("Length of message attribute name must be less than 256 bytes.".into());
    }
    if name.starts_with('.') {
        return invalid("Invalid message attribute name starting with character '.' was found.".into());
    }
    if name.ends_with('.') {
        return invalid("Invalid message attribute name ending with character '.' was found.".into());
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return invalid(format!(
            "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
            c as u32
        ));
    }
    if name.contains("..") {
        return invalid("Message attribute name can not have successive '.' character.".into());
    }
    if name.is_empty() {
        return invalid("The message attribute name must not be empty.".into());
    }
    let ty = v.data_type.as_str();
    let base = ty.split('.').next().unwrap_or("");
    let custom_ok = ty == base || ty.len() > base.len() + 1;
    if !matches!(base, "String" | "Number" | "Binary") || !custom_ok {
        return invalid(format!(
            "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        ));
    }
    let value = if base == "Binary" {
        match &v.binary_value {
            Some(b) if !b.0.is_empty() => base64::engine::general_purpose::STANDARD.encode(&b.0),
            Some(_) => return invalid(format!("The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{ty}'.")),
            None if v.string_value.is_some() => return invalid(format!("The message attribute '{name}' with type '{ty}' must use field 'Binary'.")),
            None => return invalid(format!("The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{ty}'.")),
        }
    } else {
        match &v.string_value {
            Some(s) if !s.is_empty() => s.clone(),
            Some(_) => return invalid(format!("The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{ty}'.")),
            None if v.binary_value.is_some() => return invalid(format!("The message attribute '{name}' with type '{ty}' must use field 'String'.")),
            None => return invalid(format!("The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{ty}'.")),
        }
    };
    if base == "Number" && !is_number(&value) {
        return invalid(format!("Could not cast message attribute '{name}' value to number."));
    }
    if base == "String" && ty.starts_with("String.Array") && !matches!(serde_json::from_str(&value), Ok(serde_json::Value::Array(_))) {
        return invalid(format!("The message attribute '{name}' with type 'String.Array' must be a JSON array of strings, numbers, true, false or null."));
    }
    Ok(Attribute { data_type: ty.to_string(), value })
}

/// A number SNS accepts: decimal, optionally signed, with fraction or exponent, within ±10^308.
fn is_number(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E')) && t.parse::<f64>().is_ok_and(f64::is_finite)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_protocol::types::Blob;

    fn s(v: &str) -> MessageAttributeValue {
        MessageAttributeValue { data_type: "String".into(), string_value: Some(v.into()), binary_value: None }
    }

    fn attrs(pairs: &[(&str, MessageAttributeValue)]) -> BTreeMap<String, MessageAttributeValue> {
        pairs.iter().cloned().map(|(k, v)| (k.to_string(), v)).collect()
    }

    fn err(r: Result<Message, SnsError>) -> (String, String) {
        let e = r.unwrap_err().to_aws();
        (e.code, e.message)
    }

    #[test]
    fn subjects_and_sizes() {
        assert!(build("hi", Some("Alert: disk 90%"), None, None).is_ok());
        assert_eq!(err(build("hi", Some(""), None, None)).1, "Invalid parameter: Subject");
        assert_eq!(err(build("hi", Some("two\nlines"), None, None)).1, "Invalid parameter: Subject");
        assert_eq!(err(build("hi", Some(&"x".repeat(101)), None, None)).1, "Invalid parameter: Subject");
        assert_eq!(err(build("", None, None, None)).1, "Invalid parameter: Empty message");
        assert!(build(&"x".repeat(MAX_MESSAGE_BYTES), None, None, None).is_ok());
        assert_eq!(err(build(&"x".repeat(MAX_MESSAGE_BYTES + 1), None, None, None)).1, "Invalid parameter: Message too long");
        let a = attrs(&[("k", s("vvvv"))]);
        assert!(build(&"x".repeat(MAX_MESSAGE_BYTES - 10), None, Some(&a), None).is_err());
    }

    #[test]
    fn attributes() {
        let bin = MessageAttributeValue { data_type: "Binary".into(), string_value: None, binary_value: Some(Blob(vec![2, 3, 4])) };
        let num = MessageAttributeValue { data_type: "Number".into(), string_value: Some("-1.5e3".into()), binary_value: None };
        let m = build("hi", None, Some(&attrs(&[("a.b-c_d", s("x")), ("bin", bin), ("n", num)])), None).unwrap();
        assert_eq!(m.attributes["bin"], Attribute { data_type: "Binary".into(), value: "AgME".into() });
        assert_eq!(m.attributes["n"].value, "-1.5e3");
        let cases: Vec<(&str, MessageAttributeValue, &str)> = vec![
            (".a", s("x"), "Invalid message attribute name starting with character '.' was found."),
            ("a.", s("x"), "Invalid message attribute name ending with character '.' was found."),
            ("a..b", s("x"), "Message attribute name can not have successive '.' character."),
            ("a^b", s("x"), "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots."),
            ("attr1", MessageAttributeValue { data_type: "Float".into(), string_value: Some("1".into()), binary_value: None }, "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."),
            ("attr1", s(""), "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'String'."),
            ("attr1", MessageAttributeValue { data_type: "Number".into(), string_value: Some("abc".into()), binary_value: None }, "Could not cast message attribute 'attr1' value to number."),
            ("attr1", MessageAttributeValue { data_type: "Binary".into(), string_value: Some("abc".into()), binary_value: None }, "The message attribute 'attr1' with type 'Binary' must use field 'Binary'."),
        ];
        for (name, v, msg) in cases {
            let (code, m) = err(build("hi", None, Some(&attrs(&[(name, v)])), None));
            assert_eq!((code.as_str(), m.as_str()), ("ParameterValueInvalid", msg));
        }
    }

    #[test]
    fn structure() {
        let m = build(r#"{"default":"d","email":"e","http":{"not":"a string"}}"#, None, None, Some("json")).unwrap();
        assert_eq!(m.text_for("email"), "e");
        assert_eq!(m.text_for("http"), "d");
        assert_eq!(err(build("{", None, None, Some("json"))).1, "Invalid parameter: Message Structure - JSON message body failed to parse");
        assert_eq!(err(build(r#"{"email":"e"}"#, None, None, Some("json"))).1, "Invalid parameter: Message Structure - No default entry in JSON message body");
    }
}
