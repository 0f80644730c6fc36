//! Delivery policies: how often and how far apart a failed delivery is retried.
//!
//! HTTP/S subscriptions follow the topic's `DeliveryPolicy` (key `http`) and, unless the topic
//! sets `disableSubscriptionOverrides`, the subscription's own `DeliveryPolicy`. AWS's default
//! is three retries 20 seconds apart. Email follows AWS's fixed policy for customer-managed
//! endpoints: 2 retries 10 s apart, 10 with exponential backoff from 10 s to 600 s, then 38 at
//! 600 s (50 attempts over about 6 hours).
//!
//! A policy has four phases (AWS "Amazon SNS message delivery retries"): immediate retries,
//! pre-backoff retries at `minDelayTarget`, backoff retries ramping from `minDelayTarget` to
//! `maxDelayTarget` with `backoffFunction`, and post-backoff retries at `maxDelayTarget`. AWS
//! does not publish the exact ramp formulas; here retry `i` of `n` backoff retries sits at
//! `t = i/n` of the way: linear `min + (max-min)·t`, arithmetic `min + (max-min)·t²`, geometric
//! `min + (max-min)·t³`, exponential `min·(max/min)^t`. AWS adds jitter; Hearth does not, so
//! waits are predictable in tests.
//!
//! The JSON shapes keep AWS's key order (structs, not maps), because clients compare the
//! `EffectiveDeliveryPolicy` strings they read back.

use crate::error::SnsError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// Longest total retry time AWS allows for an HTTP/S policy.
pub const MAX_TOTAL_SECONDS: u64 = 3600;

/// How the backoff phase spaces its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackoffFunction {
    Linear,
    Arithmetic,
    Geometric,
    Exponential,
}

/// `healthyRetryPolicy` / `defaultHealthyRetryPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    pub min_delay_target: u64,
    pub max_delay_target: u64,
    pub num_retries: u64,
    pub num_max_delay_retries: u64,
    pub num_no_delay_retries: u64,
    pub num_min_delay_retries: u64,
    pub backoff_function: BackoffFunction,
}

impl Default for RetryPolicy {
    /// AWS's default HTTP/S policy: 3 retries, 20 seconds apart.
    fn default() -> Self {
        RetryPolicy {
            min_delay_target: 20,
            max_delay_target: 20,
            num_retries: 3,
            num_max_delay_retries: 0,
            num_no_delay_retries: 0,
            num_min_delay_retries: 0,
            backoff_function: BackoffFunction::Linear,
        }
    }
}

impl RetryPolicy {
    /// AWS's fixed policy for SMTP (and other customer-managed) endpoints.
    pub fn email() -> Self {
        RetryPolicy {
            min_delay_target: 10,
            max_delay_target: 600,
            num_retries: 50,
            num_max_delay_retries: 38,
            num_no_delay_retries: 0,
            num_min_delay_retries: 2,
            backoff_function: BackoffFunction::Exponential,
        }
    }

    /// The wait before retry number `retry` (1 = the first retry after the first failed
    /// attempt); `None` once the policy is exhausted.
    pub fn delay_before(&self, retry: u64) -> Option<Duration> {
        if retry == 0 || retry > self.num_retries {
            return None;
        }
        let no_delay = self.num_no_delay_retries;
        let pre = no_delay + self.num_min_delay_retries;
        let backoff = self.num_retries.saturating_sub(pre + self.num_max_delay_retries);
        let (min, max) = (self.min_delay_target as f64, self.max_delay_target as f64);
        let secs = if retry <= no_delay {
            0.0
        } else if retry <= pre {
            min
        } else if retry <= pre + backoff {
            let t = (retry - pre) as f64 / backoff as f64;
            match self.backoff_function {
                BackoffFunction::Linear => min + (max - min) * t,
                BackoffFunction::Arithmetic => min + (max - min) * t * t,
                BackoffFunction::Geometric => min + (max - min) * t * t * t,
                BackoffFunction::Exponential if min > 0.0 => min * (max / min).powf(t),
                BackoffFunction::Exponential => max * t,
            }
        } else {
            max
        };
        Some(Duration::from_millis((secs * 1000.0).round() as u64))
    }

    /// The sum of every wait of the policy.
    pub fn total(&self) -> Duration {
        (1..=self.num_retries).filter_map(|r| self.delay_before(r)).sum()
    }

    fn validate(&self, at: &str) -> Result<(), String> {
        let p = self;
        if p.min_delay_target < 1 {
            return Err(format!("{at}.minDelayTarget must be at least 1"));
        }
        if p.max_delay_target < p.min_delay_target {
            return Err(format!("{at}.maxDelayTarget must be greater than or equal to minDelayTarget"));
        }
        if p.max_delay_target > MAX_TOTAL_SECONDS {
            return Err(format!("{at}.maxDelayTarget must be less than or equal to {MAX_TOTAL_SECONDS}"));
        }
        if p.num_retries > 100 {
            return Err(format!("{at}.numRetries must be less than or equal to 100"));
        }
        if p.num_no_delay_retries + p.num_min_delay_retries + p.num_max_delay_retries > p.num_retries {
            return Err(format!("{at}.numRetries must be at least numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries"));
        }
        if p.total() > Duration::from_secs(MAX_TOTAL_SECONDS) {
            return Err(format!("{at}: the total retry time must not exceed {MAX_TOTAL_SECONDS} seconds"));
        }
        Ok(())
    }
}

/// `throttlePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottlePolicy {
    pub max_receives_per_second: u64,
}

/// `requestPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPolicy {
    pub header_content_type: String,
}

/// The default `Content-Type` of HTTP/S notifications.
pub const DEFAULT_CONTENT_TYPE: &str = "text/plain; charset=UTF-8";

/// The `http` part of a topic's delivery policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicHttpPolicy {
    pub default_healthy_retry_policy: RetryPolicy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_throttle_policy: Option<ThrottlePolicy>,
    pub disable_subscription_overrides: bool,
    pub default_request_policy: RequestPolicy,
}

impl Default for TopicHttpPolicy {
    fn default() -> Self {
        TopicHttpPolicy {
            default_healthy_retry_policy: RetryPolicy::default(),
            default_throttle_policy: None,
            disable_subscription_overrides: false,
            default_request_policy: RequestPolicy { header_content_type: DEFAULT_CONTENT_TYPE.into() },
        }
    }
}

#[derive(Serialize)]
struct EffectiveTopicPolicy<'a> {
    http: &'a TopicHttpPolicy,
}

impl TopicHttpPolicy {
    /// Read a topic's `DeliveryPolicy` attribute (empty: the defaults). Errors are the reason
    /// text after `DeliveryPolicy: `.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = TopicHttpPolicy::default();
        if text.trim().is_empty() {
            return Ok(out);
        }
        let v: Value = serde_json::from_str(text).map_err(|e| format!("failed to parse JSON. {e}"))?;
        let Value::Object(top) = v else { return Err("must be a JSON object".into()) };
        for (key, value) in &top {
            if !matches!(key.as_str(), "http" | "https") {
                return Err(format!("unknown protocol {key}; only http/https delivery policies can be set"));
            }
            let Value::Object(http) = value else { return Err(format!("{key} must be a JSON object")) };
            for (k, v) in http {
                match k.as_str() {
                    "defaultHealthyRetryPolicy" => {
                        out.default_healthy_retry_policy = retry_policy(v, &format!("{key}.{k}"))?;
                    }
                    "defaultThrottlePolicy" => out.default_throttle_policy = throttle_policy(v, &format!("{key}.{k}"))?,
                    "disableSubscriptionOverrides" => {
                        out.disable_subscription_overrides = v.as_bool().ok_or_else(|| format!("{key}.{k} must be a boolean"))?;
                    }
                    "defaultRequestPolicy" => {
                        if let Some(p) = request_policy(v, &format!("{key}.{k}"))? {
                            out.default_request_policy = p;
                        }
                    }
                    "defaultSicklyRetryPolicy" => {}
                    other => return Err(format!("unknown field {key}.{other}")),
                }
            }
        }
        Ok(out)
    }

    /// The topic's `EffectiveDeliveryPolicy` attribute, as AWS writes it.
    pub fn effective_json(&self) -> String {
        serde_json::to_string(&EffectiveTopicPolicy { http: self }).unwrap_or_default()
    }
}

/// A subscription's delivery policy (HTTP/S only), in the shape AWS returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPolicy {
    pub healthy_retry_policy: Option<RetryPolicy>,
    pub sickly_retry_policy: Option<Value>,
    pub throttle_policy: Option<ThrottlePolicy>,
    pub request_policy: Option<RequestPolicy>,
    pub guaranteed: bool,
}

impl SubscriptionPolicy {
    /// Read a subscription's `DeliveryPolicy` attribute. Errors are the reason text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("failed to parse JSON. {e}"))?;
        let Value::Object(top) = v else { return Err("must be a JSON object".into()) };
        let mut out = SubscriptionPolicy { healthy_retry_policy: None, sickly_retry_policy: None, throttle_policy: None, request_policy: None, guaranteed: false };
        for (k, v) in &top {
            match k.as_str() {
                "healthyRetryPolicy" => out.healthy_retry_policy = Some(retry_policy(v, k)?),
                "throttlePolicy" => out.throttle_policy = throttle_policy(v, k)?,
                "requestPolicy" => out.request_policy = request_policy(v, k)?,
                "sicklyRetryPolicy" => {}
                "guaranteed" => out.guaranteed = v.as_bool().unwrap_or(false),
                other => return Err(format!("unknown field {other}")),
            }
        }
        Ok(out)
    }

    /// The policy a subscription delivers with: the topic's, overridden by the
    /// subscription's own unless the topic disables overrides.
    pub fn effective(topic: &TopicHttpPolicy, own: Option<&SubscriptionPolicy>) -> SubscriptionPolicy {
        let own = own.filter(|_| !topic.disable_subscription_overrides);
        SubscriptionPolicy {
            healthy_retry_policy: Some(own.and_then(|p| p.healthy_retry_policy).unwrap_or(topic.default_healthy_retry_policy)),
            sickly_retry_policy: None,
            throttle_policy: own.and_then(|p| p.throttle_policy).or(topic.default_throttle_policy),
            request_policy: Some(own.and_then(|p| p.request_policy.clone()).unwrap_or_else(|| topic.default_request_policy.clone())),
            guaranteed: false,
        }
    }

    /// As JSON, in AWS's key order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn num(v: &Value, at: &str) -> Result<u64, String> {
    v.as_u64().ok_or_else(|| format!("{at} must be a non-negative integer"))
}

fn retry_policy(v: &Value, at: &str) -> Result<RetryPolicy, String> {
    let Value::Object(m) = v else { return Err(format!("{at} must be a JSON object")) };
    let mut p = RetryPolicy::default();
    for (k, v) in m {
        let field = format!("{at}.{k}");
        match k.as_str() {
            "minDelayTarget" => p.min_delay_target = num(v, &field)?,
            "maxDelayTarget" => p.max_delay_target = num(v, &field)?,
            "numRetries" => p.num_retries = num(v, &field)?,
            "numMaxDelayRetries" => p.num_max_delay_retries = num(v, &field)?,
            "numNoDelayRetries" => p.num_no_delay_retries = num(v, &field)?,
            "numMinDelayRetries" => p.num_min_delay_retries = num(v, &field)?,
            "backoffFunction" => {
                p.backoff_function = serde_json::from_value(Value::String(v.as_str().unwrap_or_default().to_ascii_lowercase()))
                    .map_err(|_| format!("{field} must be one of arithmetic, exponential, geometric, linear"))?;
            }
            other => return Err(format!("unknown field {at}.{other}")),
        }
    }
    p.validate(at)?;
    Ok(p)
}

fn throttle_policy(v: &Value, at: &str) -> Result<Option<ThrottlePolicy>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => match m.get("maxReceivesPerSecond") {
            Some(n) => {
                let n = num(n, &format!("{at}.maxReceivesPerSecond"))?;
                if n < 1 {
                    return Err(format!("{at}.maxReceivesPerSecond must be at least 1"));
                }
                Ok(Some(ThrottlePolicy { max_receives_per_second: n }))
            }
            None => Ok(None),
        },
        _ => Err(format!("{at} must be a JSON object")),
    }
}

fn request_policy(v: &Value, at: &str) -> Result<Option<RequestPolicy>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => match m.get("headerContentType") {
            Some(Value::String(ct)) => {
                let valid = ct.split(';').next().is_some_and(|t| {
                    let mut parts = t.trim().split('/');
                    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty())
                }) && !ct.chars().any(char::is_control);
                if !valid {
                    return Err(format!("{at}.headerContentType {ct:?} is not a content type"));
                }
                Ok(Some(RequestPolicy { header_content_type: ct.clone() }))
            }
            Some(_) => Err(format!("{at}.headerContentType must be a string")),
            None => Ok(None),
        },
        _ => Err(format!("{at} must be a JSON object")),
    }
}

/// Validate a topic `DeliveryPolicy` attribute value, with the error prefix of the call.
pub fn check_topic_policy(value: &str, prefix: &str) -> Result<(), SnsError> {
    TopicHttpPolicy::parse(value).map(|_| ()).map_err(|e| SnsError::invalid(format!("{prefix}DeliveryPolicy: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_effective_policy_is_awss_text() {
        assert_eq!(
            TopicHttpPolicy::default().effective_json(),
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#
        );
    }

    #[test]
    fn default_policy_retries_three_times_twenty_seconds_apart() {
        let p = RetryPolicy::default();
        let delays: Vec<_> = (1..=4).map(|r| p.delay_before(r)).collect();
        assert_eq!(delays, vec![Some(Duration::from_secs(20)), Some(Duration::from_secs(20)), Some(Duration::from_secs(20)), None]);
    }

    #[test]
    fn email_policy_matches_aws_table() {
        let p = RetryPolicy::email();
        assert_eq!(p.delay_before(1), Some(Duration::from_secs(10)));
        assert_eq!(p.delay_before(2), Some(Duration::from_secs(10)));
        let ramp: Vec<u64> = (3..=12).map(|r| p.delay_before(r).unwrap().as_secs()).collect();
        assert!(ramp.windows(2).all(|w| w[0] <= w[1]), "{ramp:?}");
        assert_eq!(*ramp.last().unwrap(), 600);
        assert_eq!(p.delay_before(13), Some(Duration::from_secs(600)));
        assert_eq!(p.delay_before(50), Some(Duration::from_secs(600)));
        assert_eq!(p.delay_before(51), None);
        let hours = p.total().as_secs_f64() / 3600.0;
        assert!((5.0..8.0).contains(&hours), "{hours}");
    }

    #[test]
    fn phases_in_order() {
        let p = RetryPolicy {
            min_delay_target: 1,
            max_delay_target: 60,
            num_retries: 10,
            num_no_delay_retries: 2,
            num_min_delay_retries: 2,
            num_max_delay_retries: 2,
            backoff_function: BackoffFunction::Exponential,
        };
        let d: Vec<u64> = (1..=10).map(|r| p.delay_before(r).unwrap().as_millis() as u64).collect();
        assert_eq!(&d[..4], &[0, 0, 1000, 1000]);
        assert!(d[4] > 1000 && d[4] < d[5] && d[7] == 60_000, "{d:?}");
        assert_eq!(&d[8..], &[60_000, 60_000]);
    }

    #[test]
    fn topic_policy_parses_and_validates() {
        let p = TopicHttpPolicy::parse(r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":5},"defaultRequestPolicy":{"headerContentType":"application/json"}}}"#).unwrap();
        assert_eq!(p.default_healthy_retry_policy.num_retries, 5);
        assert_eq!(p.default_request_policy.header_content_type, "application/json");
        assert!(TopicHttpPolicy::parse("{").is_err());
        assert!(TopicHttpPolicy::parse(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}"#).is_err());
        assert!(TopicHttpPolicy::parse(r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":2}}}"#).is_err());
        let e = TopicHttpPolicy::parse(r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":3600,"maxDelayTarget":3600,"numRetries":2}}}"#).unwrap_err();
        assert!(e.contains("3600"), "{e}");
    }

    #[test]
    fn subscription_policy_overrides_unless_disabled() {
        let own = SubscriptionPolicy::parse(r#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0}}"#).unwrap();
        let mut topic = TopicHttpPolicy::default();
        let eff = SubscriptionPolicy::effective(&topic, Some(&own));
        assert_eq!(eff.healthy_retry_policy.unwrap().num_retries, 0);
        assert_eq!(
            eff.to_json(),
            r#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":{"headerContentType":"text/plain; charset=UTF-8"},"guaranteed":false}"#
        );
        topic.disable_subscription_overrides = true;
        assert_eq!(SubscriptionPolicy::effective(&topic, Some(&own)).healthy_retry_policy.unwrap().num_retries, 3);
    }
}
