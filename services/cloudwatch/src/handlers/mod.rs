//! Operation handlers, one file per resource family: [`metrics`] (PutMetricData,
//! GetMetricStatistics, GetMetricData, ListMetrics), [`alarms`] (PutMetricAlarm, DescribeAlarms,
//! DescribeAlarmsForMetric, DescribeAlarmHistory, SetAlarmState, DeleteAlarms,
//! Enable/DisableAlarmActions) and [`tags`] (TagResource, UntagResource, ListTagsForResource).
//! Handlers validate with CloudWatch's own error codes and messages, call the domain, and build
//! the output. This file holds what they share.

pub mod alarms;
pub mod metrics;
pub mod tags;

use base64::Engine;
use hearth_protocol::codec::{self, DecodeError};
use hearth_protocol::RequestContext;
use hearth_runtime::Scope;
use serde_json::Value;

use crate::api;
use crate::error::{CwError, CwResult};

/// Read a generated input type from the canonical value. A missing required member is
/// CloudWatch's `MissingParameter`, a wrong type `InvalidParameterValue`.
pub fn input<T: serde::de::DeserializeOwned>(v: Value) -> CwResult<T> {
    codec::from_value(v).map_err(|e| match e {
        DecodeError::Invalid(m) => match m
            .split_once("Value null at '")
            .and_then(|(_, rest)| rest.split_once('\''))
        {
            Some((field, _)) => CwError::MissingParameter(format!(
                "The parameter {} is required.",
                upper_first(field)
            )),
            None => CwError::InvalidParameterValue(m),
        },
        DecodeError::Malformed(m) => CwError::InvalidParameterValue(m),
    })
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The account and region of a request.
pub fn scope(ctx: &RequestContext) -> Scope {
    Scope::new(ctx.account.clone(), ctx.region.clone())
}

/// Check a string parameter's length (in characters).
pub fn check_len(name: &str, value: &str, min: usize, max: usize) -> CwResult<()> {
    let n = value.chars().count();
    if n < min {
        return Err(if n == 0 {
            CwError::MissingParameter(format!("The parameter {name} is required."))
        } else {
            CwError::InvalidParameterValue(format!(
                "The parameter {name} must be longer than {} character{}.",
                min - 1,
                if min == 2 { "" } else { "s" }
            ))
        });
    }
    if n > max {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {name} must be shorter than {} characters.",
            max + 1
        )));
    }
    Ok(())
}

/// Check a namespace (1..=255 characters, not starting with `:`).
pub fn check_namespace(name: &str, ns: &str) -> CwResult<()> {
    check_len(name, ns, 1, 255)?;
    if ns.starts_with(':') || ns.chars().any(|c| c.is_control()) {
        return Err(CwError::InvalidParameterValue(format!(
            "The value {ns} for parameter {name} is invalid."
        )));
    }
    Ok(())
}

/// Validated dimensions, sorted by name: at most 30, names 1..=255 and values 1..=1024
/// characters, no name twice.
pub fn dimensions(param: &str, dims: Option<&[api::Dimension]>) -> CwResult<Vec<(String, String)>> {
    let dims = dims.unwrap_or_default();
    if dims.len() > 30 {
        return Err(CwError::InvalidParameterValue(format!(
            "The collection {param} must not have a size greater than 30."
        )));
    }
    let mut out = Vec::with_capacity(dims.len());
    for (i, d) in dims.iter().enumerate() {
        check_len(&format!("{param}.member.{}.Name", i + 1), &d.name, 1, 255)?;
        check_len(
            &format!("{param}.member.{}.Value", i + 1),
            &d.value,
            1,
            1024,
        )?;
        out.push((d.name.clone(), d.value.clone()));
    }
    out.sort();
    if out.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(CwError::InvalidParameterValue("No metric may specify the same dimension name twice.".into()));
    }
    Ok(out)
}

/// Dimensions in the wire shape.
pub fn wire_dimensions(dims: &[(String, String)]) -> Vec<api::Dimension> {
    dims.iter()
        .map(|(name, value)| api::Dimension {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// Check a period: 1, 5, 10, 20, 30 or a multiple of 60 seconds.
pub fn check_period(name: &str, period: i64, allowed_high_res: &[i64]) -> CwResult<()> {
    if period <= 0 {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {name} must be greater than 0."
        )));
    }
    if period % 60 != 0 && !allowed_high_res.contains(&period) {
        let list: Vec<String> = allowed_high_res.iter().map(|p| p.to_string()).collect();
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {name} must be {}, or a multiple of 60.",
            list.join(", ")
        )));
    }
    Ok(())
}

/// An opaque pagination token for a position (a key or an offset).
pub fn next_token(position: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("hearth:{position}"))
}

/// The position a token stands for.
pub fn token_position(token: &str) -> CwResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("hearth:").map(str::to_string))
        .ok_or_else(|| {
            CwError::InvalidNextToken(
                "The service couldn't process your request because the NextToken is invalid."
                    .into(),
            )
        })
}

/// Epoch seconds of a wire timestamp.
pub fn secs(t: &hearth_protocol::types::Timestamp) -> i64 {
    t.0.unix_timestamp()
}

/// A wire timestamp of epoch seconds.
pub fn ts(secs: i64) -> hearth_protocol::types::Timestamp {
    hearth_protocol::types::Timestamp(
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_members_are_missing_parameters() {
        let e = input::<api::DeleteAlarmsInput>(serde_json::json!({})).unwrap_err();
        assert!(
            matches!(e, CwError::MissingParameter(ref m) if m == "The parameter AlarmNames is required."),
            "{e:?}"
        );
        let e =
            input::<api::DeleteAlarmsInput>(serde_json::json!({"AlarmNames": "x"})).unwrap_err();
        assert!(matches!(e, CwError::InvalidParameterValue(_)));
    }

    #[test]
    fn tokens_round_trip() {
        assert_eq!(token_position(&next_token("abc")).unwrap(), "abc");
        assert!(token_position("garbage!").is_err());
    }

    #[test]
    fn periods() {
        assert!(check_period("Period", 60, &[10, 30]).is_ok());
        assert!(check_period("Period", 10, &[10, 30]).is_ok());
        assert!(check_period("Period", 15, &[10, 30]).is_err());
        assert!(check_period("Period", 0, &[10, 30]).is_err());
    }
}
