//! Input constraints of the Fraud Detector's model — lengths, patterns, enum values, list
//! sizes and number ranges — checked on every request before it is decoded, and reported the
//! way AWS reports them:
//! `1 validation error detected: Value 'Bad Name' at 'name' failed to satisfy constraint:
//! Member must satisfy regular expression pattern: ^[0-9a-z_-]+$`.
//!
//! The constraints are read from the vendored botocore model (`specs/frauddetector.json`,
//! embedded at build time), so they are exactly AWS's. Values of sensitive members are not
//! echoed. Patterns are Java regular expressions; the ones this model uses mean the same in
//! the `regex` crate.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

static MODEL_TEXT: &str = include_str!("../../../../specs/frauddetector.json");

fn model() -> &'static Value {
    static MODEL: OnceLock<Value> = OnceLock::new();
    MODEL.get_or_init(|| serde_json::from_str(MODEL_TEXT).unwrap_or(Value::Null))
}

fn regex(pattern: &str) -> Option<regex::Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    cache.entry(pattern.to_string()).or_insert_with(|| regex::Regex::new(pattern).ok()).clone()
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Walker<'a> {
    shapes: &'a Value,
    errors: Vec<String>,
}

impl Walker<'_> {
    fn fail(&mut self, value: &Value, path: &str, sensitive: bool, constraint: String) {
        if sensitive {
            self.errors.push(format!("Value at '{path}' failed to satisfy constraint: {constraint}"));
        } else {
            self.errors.push(format!("Value '{}' at '{path}' failed to satisfy constraint: {constraint}", show(value)));
        }
    }

    fn walk(&mut self, shape_name: &str, value: &Value, path: &str, depth: usize) {
        if depth > 20 || value.is_null() {
            return;
        }
        let shape = &self.shapes[shape_name];
        let sensitive = shape["sensitive"].as_bool().unwrap_or(false);
        let min = shape["min"].as_f64();
        let max = shape["max"].as_f64();
        match shape["type"].as_str().unwrap_or("") {
            "string" => {
                let Some(s) = value.as_str() else { return };
                let len = s.chars().count() as f64;
                if let Some(m) = min {
                    if len < m {
                        self.fail(value, path, sensitive, format!("Member must have length greater than or equal to {m}"));
                        return;
                    }
                }
                if let Some(m) = max {
                    if len > m {
                        self.fail(value, path, sensitive, format!("Member must have length less than or equal to {m}"));
                        return;
                    }
                }
                if let Some(values) = shape["enum"].as_array() {
                    if !values.iter().any(|v| v.as_str() == Some(s)) {
                        let set: Vec<&str> = values.iter().filter_map(|v| v.as_str()).collect();
                        self.fail(value, path, sensitive, format!("Member must satisfy enum value set: [{}]", set.join(", ")));
                        return;
                    }
                }
                if let Some(p) = shape["pattern"].as_str() {
                    if let Some(re) = regex(p) {
                        if !re.is_match(s) {
                            self.fail(value, path, sensitive, format!("Member must satisfy regular expression pattern: {p}"));
                        }
                    }
                }
            }
            "integer" | "long" | "float" | "double" => {
                let Some(n) = value.as_f64() else { return };
                if let Some(m) = min {
                    if n < m {
                        self.fail(value, path, false, format!("Member must have value greater than or equal to {m}"));
                    }
                }
                if let Some(m) = max {
                    if n > m {
                        self.fail(value, path, false, format!("Member must have value less than or equal to {m}"));
                    }
                }
            }
            "list" => {
                let Some(items) = value.as_array() else { return };
                let len = items.len() as f64;
                if let Some(m) = min {
                    if len < m {
                        self.errors.push(format!("Value at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {m}"));
                    }
                }
                if let Some(m) = max {
                    if len > m {
                        self.errors.push(format!("Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to {m}"));
                    }
                }
                let member = shape["member"]["shape"].as_str().unwrap_or("");
                for (i, item) in items.iter().enumerate() {
                    self.walk(member, item, &format!("{path}.{}.member", i + 1), depth + 1);
                }
            }
            "map" => {
                let Some(entries) = value.as_object() else { return };
                let key_shape = shape["key"]["shape"].as_str().unwrap_or("");
                let value_shape = shape["value"]["shape"].as_str().unwrap_or("");
                for (k, v) in entries {
                    self.walk(key_shape, &Value::String(k.clone()), &format!("{path}.key"), depth + 1);
                    self.walk(value_shape, v, &format!("{path}.{k}.value"), depth + 1);
                }
            }
            "structure" => {
                let Some(obj) = value.as_object() else { return };
                if let Some(members) = shape["members"].as_object() {
                    for (name, m) in members {
                        if let (Some(v), Some(target)) = (obj.get(name), m["shape"].as_str()) {
                            let p = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                            self.walk(target, v, &p, depth + 1);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Check `input` against the constraints of `operation`'s input shape.
pub fn check(operation: &str, input: &Value) -> Result<(), String> {
    let m = model();
    let Some(shape) = m["operations"][operation]["input"]["shape"].as_str() else { return Ok(()) };
    let mut w = Walker { shapes: &m["shapes"], errors: Vec::new() };
    w.walk(shape, input, "", 0);
    match w.errors.len() {
        0 => Ok(()),
        1 => Err(format!("1 validation error detected: {}", w.errors[0])),
        n => Err(format!("{n} validation errors detected: {}", w.errors.join("; "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn constraints_come_from_the_model() {
        assert!(check("PutLabel", &json!({"name": "fraud"})).is_ok());
        assert_eq!(
            check("PutLabel", &json!({"name": "Fraud Label"})).unwrap_err(),
            "1 validation error detected: Value 'Fraud Label' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-z_-]+$"
        );
        let e = check("PutDetector", &json!({"detectorId": "", "eventTypeName": "x".repeat(65)})).unwrap_err();
        assert!(e.starts_with("2 validation errors detected: "), "{e}");
        assert!(e.contains("Member must have length greater than or equal to 1"));
        assert!(e.contains("Member must have length less than or equal to 64"));
        let e = check("CreateModel", &json!({"modelId": "m", "modelType": "NOPE", "eventTypeName": "e"})).unwrap_err();
        assert!(e.contains("Member must satisfy enum value set: [ONLINE_FRAUD_INSIGHTS, TRANSACTION_FRAUD_INSIGHTS, ACCOUNT_TAKEOVER_INSIGHTS]"), "{e}");
        let e = check("GetVariables", &json!({"maxResults": 5})).unwrap_err();
        assert!(e.contains("Member must have value greater than or equal to 50"), "{e}");
        let e = check("GetEventPrediction", &json!({"detectorId": "d", "eventId": "e", "eventTypeName": "t", "eventTimestamp": "2021-01-01T00:00:00Z", "entities": [{"entityType": "customer", "entityId": "bad id!"}], "eventVariables": {"a": ""}})).unwrap_err();
        assert!(e.contains("at 'entities.1.member.entityId'"), "{e}");
        assert!(e.contains("Value at 'eventVariables.a.value'"), "sensitive values are not echoed: {e}");
        let e = check("CreateRule", &json!({"ruleId": "r", "detectorId": "d", "expression": "", "language": "DETECTORPL", "outcomes": []})).unwrap_err();
        assert!(e.contains("Value at 'expression'"), "{e}");
        assert!(check("TagResource", &json!({"resourceARN": "arn:aws:frauddetector:us-east-1:123456789012:detector/d", "tags": [{"key": "team", "value": "fraud"}]})).is_ok());
        assert!(check("PutKMSEncryptionKey", &json!({"kmsEncryptionKeyArn": "DEFAULT"})).is_ok());
    }
}
