//! Subscription filter policies (AWS "Amazon SNS message filtering"): a subscription with a
//! `FilterPolicy` only receives the messages whose attributes (scope `MessageAttributes`, the
//! default) or JSON body (scope `MessageBody`) match it.
//!
//! A policy is a JSON object. Each key names an attribute (or a body property; body policies
//! nest objects) and holds a list of conditions, any of which may match; all keys must match.
//! `"$or": [policy, …]` matches when one of its policies does. Conditions: exact strings,
//! numbers, booleans and `null`; `{"prefix"}`, `{"suffix"}`, `{"equals-ignore-case"}`,
//! `{"anything-but": value | [values] | {"prefix"|"suffix": s}}`, `{"numeric": [op, n, …]}`,
//! `{"exists": bool}` and `{"cidr": "a.b.c.d/n"}`. Numbers only match `Number` attributes (and
//! numbers in a body); strings only match strings; a `String.Array` attribute matches when one
//! of its elements does. Limits as AWS documents: at most 5 keys (per policy level for body
//! policies) and at most 150 combinations of values.

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Most combinations of values a policy may have.
const MAX_COMBINATIONS: usize = 150;
/// Most keys (attribute names) a policy may have.
const MAX_KEYS: usize = 5;

/// A parsed filter policy.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPolicy {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
struct Node {
    /// key → conditions (any) or a nested node (body scope).
    keys: Vec<(String, Branch)>,
    /// `$or` alternatives.
    any: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
enum Branch {
    Conditions(Vec<Cond>),
    Nested(Node),
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Equals(Value),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<Value>),
    AnythingButPrefix(String),
    AnythingButSuffix(String),
    Numeric(Vec<(String, f64)>),
    Exists(bool),
    Cidr(IpAddr, u8),
}

/// A value seen in a message: one attribute or one body property.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Absent.
    Missing,
    /// Present, with these candidate values (an array gives several).
    Values(Vec<Value>),
}

impl FilterPolicy {
    /// Parse and check a policy; `body` allows nested objects (scope `MessageBody`). Errors
    /// are the reason text after `FilterPolicy: `.
    pub fn parse(text: &str, body: bool) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("failed to parse JSON. {e}"))?;
        let Value::Object(m) = &v else { return Err("Filter policy must be a JSON object".into()) };
        let root = node(m, body)?;
        if root.keys.len() > MAX_KEYS {
            return Err(format!("Filter policy can not have more than {MAX_KEYS} keys"));
        }
        if combinations(&root) > MAX_COMBINATIONS {
            return Err("Filter policy is too complex".into());
        }
        Ok(FilterPolicy { root })
    }

    /// Whether message attributes match (scope `MessageAttributes`). `attrs` maps a name to
    /// its data type and string value (binary attributes never match).
    pub fn matches_attributes(&self, attrs: &BTreeMap<String, (String, String)>) -> bool {
        let lookup = |path: &[&str]| -> Seen {
            let Some((ty, value)) = path.first().and_then(|k| attrs.get(*k)) else { return Seen::Missing };
            let values = if ty.starts_with("String.Array") {
                match serde_json::from_str::<Value>(value) {
                    Ok(Value::Array(items)) => items,
                    _ => vec![Value::String(value.clone())],
                }
            } else if ty.starts_with("Number") {
                value.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).into_iter().collect()
            } else if ty.starts_with("Binary") {
                vec![]
            } else {
                vec![Value::String(value.clone())]
            };
            Seen::Values(values)
        };
        eval(&self.root, &mut Vec::new(), &lookup)
    }

    /// Whether a message body matches (scope `MessageBody`); a body that is not a JSON object
    /// matches nothing.
    pub fn matches_body(&self, body: &str) -> bool {
        let Ok(doc) = serde_json::from_str::<Value>(body) else { return false };
        if !doc.is_object() {
            return false;
        }
        let lookup = |path: &[&str]| -> Seen {
            let mut cur = &doc;
            for k in path {
                match cur.get(*k) {
                    Some(v) => cur = v,
                    None => return Seen::Missing,
                }
            }
            match cur {
                Value::Array(items) => Seen::Values(items.clone()),
                v => Seen::Values(vec![v.clone()]),
            }
        };
        eval(&self.root, &mut Vec::new(), &lookup)
    }
}

fn node(m: &serde_json::Map<String, Value>, body: bool) -> Result<Node, String> {
    let mut out = Node { keys: Vec::new(), any: Vec::new() };
    for (k, v) in m {
        if k == "$or" {
            let Value::Array(alts) = v else { return Err("\"$or\" must be an array of objects".into()) };
            if alts.len() < 2 {
                return Err("\"$or\" needs at least two alternatives".into());
            }
            for alt in alts {
                let Value::Object(am) = alt else { return Err("\"$or\" must be an array of objects".into()) };
                out.any.push(node(am, body)?);
            }
            continue;
        }
        match v {
            Value::Array(items) => out.keys.push((k.clone(), Branch::Conditions(items.iter().map(cond).collect::<Result<_, _>>()?))),
            Value::Object(inner) if body => out.keys.push((k.clone(), Branch::Nested(node(inner, body)?))),
            Value::Object(_) => return Err("Filter policy scope MessageAttributes does not support nested filter policy".into()),
            _ => return Err(format!("\"{k}\" must be an object or an array")),
        }
    }
    Ok(out)
}

fn cond(v: &Value) -> Result<Cond, String> {
    let string = |v: &Value, what: &str| v.as_str().map(str::to_string).ok_or_else(|| format!("{what} match pattern must be a string"));
    match v {
        Value::String(_) | Value::Bool(_) | Value::Null => Ok(Cond::Equals(v.clone())),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if !(-1e9..=1e9).contains(&f) {
                return Err("Numeric values must be within -1.0E9 and 1.0E9".into());
            }
            Ok(Cond::Equals(v.clone()))
        }
        Value::Array(_) => Err("Match value must be String, number, true, false, or null".into()),
        Value::Object(m) => {
            let (Some((op, arg)), 1) = (m.iter().next(), m.len()) else {
                return Err("Only one key allowed in match expression".into());
            };
            match op.as_str() {
                "prefix" => Ok(Cond::Prefix(string(arg, "prefix")?)),
                "suffix" => Ok(Cond::Suffix(string(arg, "suffix")?)),
                "equals-ignore-case" => Ok(Cond::EqualsIgnoreCase(string(arg, "equals-ignore-case")?)),
                "exists" => arg.as_bool().map(Cond::Exists).ok_or_else(|| "exists match pattern must be either true or false.".into()),
                "anything-but" => match arg {
                    Value::Array(items) => Ok(Cond::AnythingBut(items.clone())),
                    Value::Object(inner) => match (inner.get("prefix"), inner.get("suffix")) {
                        (Some(p), None) => Ok(Cond::AnythingButPrefix(string(p, "prefix")?)),
                        (None, Some(s)) => Ok(Cond::AnythingButSuffix(string(s, "suffix")?)),
                        _ => Err("Unsupported anything-but pattern".into()),
                    },
                    v => Ok(Cond::AnythingBut(vec![v.clone()])),
                },
                "numeric" => numeric(arg),
                "cidr" => {
                    let s = string(arg, "cidr")?;
                    let (ip, bits) = s.split_once('/').ok_or_else(|| format!("Malformed CIDR, one '/' required: {s}"))?;
                    let ip: IpAddr = ip.parse().map_err(|_| format!("Nonstandard IP address: {ip}"))?;
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    let bits: u8 = bits.parse().ok().filter(|b| *b <= max).ok_or_else(|| format!("Malformed CIDR, mask bits must be an integer between 0 and {max}"))?;
                    Ok(Cond::Cidr(ip, bits))
                }
                other => Err(format!("Unrecognized match type {other}")),
            }
        }
    }
}

fn numeric(arg: &Value) -> Result<Cond, String> {
    let Value::Array(items) = arg else { return Err("Value of numeric must be an array.".into()) };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err("Invalid member in numeric match".into());
    }
    let mut out = Vec::new();
    for pair in items.chunks(2) {
        let op = pair[0].as_str().ok_or_else(|| "Invalid member in numeric match".to_string())?;
        if !matches!(op, "<" | "<=" | "=" | ">" | ">=") {
            return Err(format!("Unrecognized numeric range operator: {op}"));
        }
        let n = pair[1].as_f64().ok_or_else(|| format!("Value of {op} must be numeric"))?;
        out.push((op.to_string(), n));
    }
    if out.len() == 2 {
        let lower = matches!(out[0].0.as_str(), ">" | ">=");
        let upper = matches!(out[1].0.as_str(), "<" | "<=");
        if !lower || !upper {
            return Err("Too many elements in numeric expression".into());
        }
        if out[1].1 <= out[0].1 {
            return Err("Bottom must be less than top".into());
        }
    }
    Ok(Cond::Numeric(out))
}

fn combinations(n: &Node) -> usize {
    let keys = n.keys.iter().fold(1usize, |acc, (_, b)| {
        acc.saturating_mul(match b {
            Branch::Conditions(c) => c.len().max(1),
            Branch::Nested(inner) => combinations(inner),
        })
    });
    let alts: usize = n.any.iter().map(combinations).sum();
    if n.any.is_empty() {
        keys
    } else {
        keys.saturating_mul(alts.max(1))
    }
}

fn eval<'a>(n: &'a Node, path: &mut Vec<&'a str>, lookup: &dyn Fn(&[&str]) -> Seen) -> bool {
    let keys_ok = n.keys.iter().all(|(k, branch)| {
        path.push(k.as_str());
        let ok = match branch {
            Branch::Conditions(conds) => {
                let seen = lookup(path);
                conds.iter().any(|c| cond_matches(c, &seen))
            }
            Branch::Nested(inner) => eval(inner, path, lookup),
        };
        path.pop();
        ok
    });
    keys_ok && (n.any.is_empty() || n.any.iter().any(|alt| eval(alt, path, lookup)))
}

fn cond_matches(c: &Cond, seen: &Seen) -> bool {
    let values = match (c, seen) {
        (Cond::Exists(want), Seen::Missing) => return !want,
        (Cond::Exists(want), Seen::Values(_)) => return *want,
        (_, Seen::Missing) => return false,
        (_, Seen::Values(v)) => v,
    };
    match c {
        Cond::AnythingBut(list) => !values.is_empty() && values.iter().all(|v| !list.iter().any(|x| same(x, v))),
        Cond::AnythingButPrefix(p) => values.iter().all(|v| v.as_str().is_some_and(|s| !s.starts_with(p.as_str()))) && !values.is_empty(),
        Cond::AnythingButSuffix(p) => values.iter().all(|v| v.as_str().is_some_and(|s| !s.ends_with(p.as_str()))) && !values.is_empty(),
        _ => values.iter().any(|v| single(c, v)),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

fn single(c: &Cond, v: &Value) -> bool {
    match c {
        Cond::Equals(x) => same(x, v),
        Cond::Prefix(p) => v.as_str().is_some_and(|s| s.starts_with(p.as_str())),
        Cond::Suffix(p) => v.as_str().is_some_and(|s| s.ends_with(p.as_str())),
        Cond::EqualsIgnoreCase(p) => v.as_str().is_some_and(|s| s.to_lowercase() == p.to_lowercase()),
        Cond::Numeric(ops) => v.as_f64().is_some_and(|n| {
            ops.iter().all(|(op, x)| match op.as_str() {
                "<" => n < *x,
                "<=" => n <= *x,
                "=" => (n - x).abs() < 1e-9,
                ">" => n > *x,
                _ => n >= *x,
            })
        }),
        Cond::Cidr(net, bits) => v.as_str().and_then(|s| s.parse::<IpAddr>().ok()).is_some_and(|ip| in_cidr(ip, *net, *bits)),
        Cond::Exists(_) | Cond::AnythingBut(_) | Cond::AnythingButPrefix(_) | Cond::AnythingButSuffix(_) => false,
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits as u32) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits as u32) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, (String, String)> {
        pairs.iter().map(|(k, t, v)| (k.to_string(), (t.to_string(), v.to_string()))).collect()
    }

    #[test]
    fn attribute_policies() {
        let p = FilterPolicy::parse(r#"{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}],"price_usd":[{"numeric":[">=",100]}]}"#, false).unwrap();
        let good = attrs(&[("store", "String", "example_corp"), ("event", "String", "order_placed"), ("price_usd", "Number", "210.75")]);
        assert!(p.matches_attributes(&good));
        let mut cancelled = good.clone();
        cancelled.insert("event".into(), ("String".into(), "order_cancelled".into()));
        assert!(!p.matches_attributes(&cancelled));
        let mut cheap = good.clone();
        cheap.insert("price_usd".into(), ("Number".into(), "99".into()));
        assert!(!p.matches_attributes(&cheap));
        let mut missing = good.clone();
        missing.remove("store");
        assert!(!p.matches_attributes(&missing));
    }

    #[test]
    fn conditions() {
        let m = |policy: &str, a: &[(&str, &str, &str)]| FilterPolicy::parse(policy, false).unwrap().matches_attributes(&attrs(a));
        assert!(m(r#"{"k":[{"prefix":"ab"}]}"#, &[("k", "String", "abc")]));
        assert!(m(r#"{"k":[{"suffix":"bc"}]}"#, &[("k", "String", "abc")]));
        assert!(m(r#"{"k":[{"equals-ignore-case":"ABC"}]}"#, &[("k", "String", "abc")]));
        assert!(m(r#"{"k":[{"exists":false}]}"#, &[]));
        assert!(!m(r#"{"k":[{"exists":true}]}"#, &[]));
        assert!(m(r#"{"k":["b"]}"#, &[("k", "String.Array", r#"["a","b"]"#)]));
        assert!(m(r#"{"k":[5]}"#, &[("k", "Number", "5.0")]));
        assert!(!m(r#"{"k":[5]}"#, &[("k", "String", "5")]));
        assert!(m(r#"{"k":[{"numeric":[">",0,"<=",10]}]}"#, &[("k", "Number", "10")]));
        assert!(m(r#"{"k":[{"anything-but":{"prefix":"x"}}]}"#, &[("k", "String", "abc")]));
        assert!(m(r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#, &[("ip", "String", "10.0.0.7")]));
        assert!(!m(r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#, &[("ip", "String", "10.0.1.7")]));
        assert!(m(r#"{"$or":[{"a":["1"]},{"b":["2"]}]}"#, &[("b", "String", "2")]));
    }

    #[test]
    fn body_policies_nest() {
        let p = FilterPolicy::parse(r#"{"order":{"kind":["refund"],"total":[{"numeric":[">",50]}]}}"#, true).unwrap();
        assert!(p.matches_body(r#"{"order":{"kind":"refund","total":80}}"#));
        assert!(!p.matches_body(r#"{"order":{"kind":"refund","total":10}}"#));
        assert!(!p.matches_body("not json"));
        assert!(FilterPolicy::parse(r#"{"order":{"kind":["refund"]}}"#, false).is_err());
    }

    #[test]
    fn invalid_policies() {
        for bad in [
            "{bad",
            "[]",
            r#"{"k":"v"}"#,
            r#"{"k":[{"numeric":["<"]}]}"#,
            r#"{"k":[{"numeric":["<",5,">",1]}]}"#,
            r#"{"k":[{"numeric":[">",5,"<",1]}]}"#,
            r#"{"k":[{"exists":"yes"}]}"#,
            r#"{"k":[{"wildcard":"a*"}]}"#,
            r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#,
        ] {
            assert!(FilterPolicy::parse(bad, false).is_err(), "{bad}");
        }
        let wide: Vec<String> = (0..151).map(|i| format!("\"v{i}\"")).collect();
        assert_eq!(FilterPolicy::parse(&format!("{{\"k\":[{}]}}", wide.join(",")), false).unwrap_err(), "Filter policy is too complex");
    }
}
