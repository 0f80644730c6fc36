//! External (Amazon SageMaker) models as Fraud Detector uses them: the request body built from
//! the event (`inputConfiguration`: a CSV or JSON template whose `{{variable}}` placeholders
//! take the event's variable values, or the caller's own bytes when `useEventVariables` is
//! false) and the reply read into variables (`outputConfiguration`: CSV columns by index or
//! JSON keys, mapped to `EXTERNAL_MODEL_SCORE` variables that rules then read).

use std::collections::BTreeMap;

/// `inputConfiguration.format`.
pub const INPUT_CSV: &str = "TEXT_CSV";
/// `inputConfiguration.format`.
pub const INPUT_JSON: &str = "APPLICATION_JSON";
/// `outputConfiguration.format`.
pub const OUTPUT_CSV: &str = "TEXT_CSV";
/// `outputConfiguration.format`.
pub const OUTPUT_JSONLINES: &str = "APPLICATION_JSONLINES";

/// The variable names a template's `{{name}}` placeholders refer to, in order of appearance.
pub fn placeholders(template: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err("a placeholder '{{' is not closed by '}}'".into());
        };
        let name = after[..j].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(format!("the placeholder '{{{{{}}}}}' does not name a variable", &after[..j]));
        }
        out.push(name.to_string());
        rest = &after[j + 2..];
    }
    Ok(out)
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or("").to_string()
}

/// The body sent to the endpoint: the template with every placeholder replaced by the value
/// `value(name)` gives (inside JSON templates, escaped as a JSON string's content), and its
/// content type.
pub fn render(format: &str, template: &str, value: impl Fn(&str) -> String) -> Result<(Vec<u8>, &'static str), String> {
    let json = format == INPUT_JSON;
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let j = after.find("}}").ok_or("a placeholder '{{' is not closed by '}}'")?;
        let v = value(after[..j].trim());
        out.push_str(&if json { json_escape(&v) } else { v });
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    Ok((out.into_bytes(), if json { "application/json" } else { "text/csv" }))
}

/// The `Accept` header for an output format.
pub fn accept(output_format: &str) -> &'static str {
    if output_format == OUTPUT_JSONLINES {
        "application/jsonlines"
    } else {
        "text/csv"
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Read the endpoint's reply into `variable → value` through the output mapping
/// (`csvIndexToVariableMap` keys are 0-based column indexes as strings; `jsonKeyToVariableMap`
/// keys are keys of the first JSON line — or of `predictions[0]` when the reply is SageMaker's
/// `{"predictions": [...]}` form).
pub fn read_output(format: &str, csv_map: &BTreeMap<String, String>, json_map: &BTreeMap<String, String>, body: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the model's reply is not UTF-8 text".to_string())?;
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).ok_or("the model's reply is empty")?;
    let mut out = BTreeMap::new();
    if format == OUTPUT_JSONLINES {
        let v: serde_json::Value = serde_json::from_str(first).map_err(|e| format!("the model's reply is not JSON lines: {e}"))?;
        let obj = match v.get("predictions").and_then(|p| p.get(0)) {
            Some(p) if v.get("predictions").is_some() => p.clone(),
            _ => v,
        };
        for (key, var) in json_map {
            let x = obj.get(key).ok_or_else(|| format!("the model's reply has no key '{key}'"))?;
            out.insert(var.clone(), scalar(x));
        }
    } else {
        let cols: Vec<&str> = first.split(',').map(|c| c.trim().trim_matches('"')).collect();
        for (index, var) in csv_map {
            let i: usize = index.parse().map_err(|_| format!("the CSV index '{index}' is not a number"))?;
            let c = cols.get(i).ok_or_else(|| format!("the model's reply has {} column(s), no index {i}", cols.len()))?;
            out.insert(var.clone(), c.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(placeholders("{{a}}, {{ b_2 }},x").unwrap(), vec!["a", "b_2"]);
        assert!(placeholders("{{a").is_err());
        assert!(placeholders("{{A b}}").is_err());
        let vals = |n: &str| match n {
            "amt" => "12.5".to_string(),
            "name" => "O\"Brien".to_string(),
            _ => String::new(),
        };
        let (b, ct) = render(INPUT_CSV, "{{amt}},{{missing}},1", vals).unwrap();
        assert_eq!((String::from_utf8(b).unwrap().as_str(), ct), ("12.5,,1", "text/csv"));
        let (b, ct) = render(INPUT_JSON, r#"{"amt": {{amt}}, "name": "{{name}}"}"#, vals).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!((v["amt"].as_f64(), v["name"].as_str(), ct), (Some(12.5), Some("O\"Brien"), "application/json"));
    }

    #[test]
    fn outputs() {
        let csv = BTreeMap::from([("0".to_string(), "score".to_string()), ("2".to_string(), "label".to_string())]);
        let got = read_output(OUTPUT_CSV, &csv, &BTreeMap::new(), b"0.25,x,1\n").unwrap();
        assert_eq!(got, BTreeMap::from([("score".to_string(), "0.25".to_string()), ("label".to_string(), "1".to_string())]));
        assert!(read_output(OUTPUT_CSV, &csv, &BTreeMap::new(), b"0.25").is_err());
        let json = BTreeMap::from([("score".to_string(), "s".to_string())]);
        assert_eq!(read_output(OUTPUT_JSONLINES, &BTreeMap::new(), &json, b"{\"score\": 0.5}\n").unwrap()["s"], "0.5");
        assert_eq!(read_output(OUTPUT_JSONLINES, &BTreeMap::new(), &json, br#"{"predictions": [{"score": 0.75}]}"#).unwrap()["s"], "0.75");
        assert!(read_output(OUTPUT_JSONLINES, &BTreeMap::new(), &json, b"{\"other\": 1}").is_err());
    }
}
