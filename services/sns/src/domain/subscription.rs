//! Subscription rules: which protocols Hearth delivers to, endpoint checks, subscription
//! attributes and the attribute map `GetSubscriptionAttributes` answers.
//!
//! Hearth delivers to `http`, `https`, `email` and `email-json` endpoints. The other protocols
//! AWS knows (`sqs`, `lambda`, `sms`, `application`, `firehose`) need services Hearth does not
//! run; subscribing them is refused with a message that says so, rather than accepted and
//! silently never delivered.

use super::arn::{SubscriptionArn, TopicArn};
use super::delivery_policy::{SubscriptionPolicy, TopicHttpPolicy};
use super::filter::FilterPolicy;
use crate::error::SnsError;
use crate::store::{Subscription, Topic};
use std::collections::BTreeMap;

/// Every protocol string AWS accepts.
const AWS_PROTOCOLS: &[&str] = &["http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"];

/// The protocols Hearth delivers to.
pub const DELIVERED: &[&str] = &["http", "https", "email", "email-json"];

/// Attributes a subscription may carry.
const NAMES: &[&str] = &["DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy"];

/// Check the protocol and endpoint of a `Subscribe` call.
pub fn check_endpoint(protocol: &str, endpoint: Option<&str>, topic: &Topic) -> Result<String, SnsError> {
    if !AWS_PROTOCOLS.contains(&protocol) {
        return Err(SnsError::invalid(format!("Invalid parameter: Amazon SNS does not support this protocol string: {protocol}")));
    }
    if !DELIVERED.contains(&protocol) {
        return Err(SnsError::invalid(format!(
            "Invalid parameter: Protocol Reason: Hearth does not deliver to {protocol} endpoints (supported: http, https, email, email-json)"
        )));
    }
    if topic.is_fifo() {
        return Err(SnsError::invalid(format!("Invalid parameter: Invalid protocol type: {protocol}. FIFO topics only deliver to SQS queues")));
    }
    let endpoint = endpoint.unwrap_or("");
    match protocol {
        "http" | "https" => {
            let Some(rest) = endpoint.strip_prefix(protocol).and_then(|r| r.strip_prefix("://")) else {
                return Err(SnsError::invalid("Invalid parameter: Endpoint must match the specified protocol"));
            };
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let hostport = authority.rsplit('@').next().unwrap_or("");
            let (host, port) = match hostport.strip_prefix('[') {
                Some(v6) => match v6.split_once(']') {
                    Some((h, after)) => (h, after.strip_prefix(':')),
                    None => ("", None),
                },
                None => match hostport.split_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (hostport, None),
                },
            };
            if port.is_some_and(|p| p.parse::<u16>().is_err()) {
                return Err(SnsError::invalid("Invalid parameter: Endpoint"));
            }
            if host.is_empty() || host.contains('_') || endpoint.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(SnsError::invalid("Invalid parameter: Endpoint"));
            }
            Ok(endpoint.to_string())
        }
        _ => {
            if !is_email(endpoint) {
                return Err(SnsError::invalid("Invalid parameter: Email address"));
            }
            Ok(endpoint.to_string())
        }
    }
}

/// A plausible mail address: `local@domain` with a dotted domain, no spaces or brackets.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    let printable = |t: &str| t.chars().all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"@".contains(c) || !c.is_ascii() && !c.is_control());
    !local.is_empty()
        && local.len() <= 64
        && !domain.is_empty()
        && s.len() <= 254
        && printable(local)
        && printable(domain)
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// Whether a subscription needs the endpoint owner to confirm it.
pub fn needs_confirmation(protocol: &str) -> bool {
    DELIVERED.contains(&protocol)
}

/// Check one subscription attribute. `prefix` is `Invalid parameter: Attributes Reason: ` for
/// `Subscribe` and `Invalid parameter: ` for `SetSubscriptionAttributes`. Returns the value to
/// store (`RawMessageDelivery` lower-cased).
pub fn check_attribute(name: &str, value: &str, protocol: &str, scope_of_filter: &str, prefix: &str) -> Result<String, SnsError> {
    if !NAMES.contains(&name) {
        return Err(SnsError::invalid(format!("{prefix}AttributeName")));
    }
    let http = matches!(protocol, "http" | "https");
    match name {
        "RawMessageDelivery" => {
            let v = value.to_ascii_lowercase();
            if v != "true" && v != "false" {
                return Err(SnsError::invalid(format!("{prefix}RawMessageDelivery: Invalid value [{value}]. Must be true or false.")));
            }
            if !http && v == "true" {
                return Err(SnsError::invalid(format!("{prefix}Delivery protocol [{protocol}] does not support raw message delivery.")));
            }
            Ok(v)
        }
        "DeliveryPolicy" => {
            if !http {
                return Err(SnsError::invalid(format!("{prefix}DeliveryPolicy: Delivery protocol [{protocol}] does not support delivery policies.")));
            }
            SubscriptionPolicy::parse(value).map_err(|e| SnsError::invalid(format!("{prefix}DeliveryPolicy: {e}")))?;
            Ok(value.to_string())
        }
        "FilterPolicyScope" => match value {
            "MessageAttributes" | "MessageBody" => Ok(value.to_string()),
            _ => Err(SnsError::invalid(format!(
                "{prefix}FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
            ))),
        },
        "FilterPolicy" => {
            if !value.trim().is_empty() {
                FilterPolicy::parse(value, scope_of_filter == "MessageBody").map_err(|e| SnsError::invalid(format!("{prefix}FilterPolicy: {e}")))?;
            }
            Ok(value.to_string())
        }
        "RedrivePolicy" => Err(SnsError::invalid(format!(
            "{prefix}RedrivePolicy: Hearth has no SQS dead-letter queues to redrive to"
        ))),
        "SubscriptionRoleArn" => Err(SnsError::invalid(format!("{prefix}SubscriptionRoleArn: only Firehose subscriptions take a role"))),
        _ => Err(SnsError::invalid(format!("{prefix}ReplayPolicy: only FIFO topics with an archive policy support replay"))),
    }
}

/// Validate `Subscribe`'s attributes; returns the normalised attributes to store.
pub fn check_attributes(attrs: &BTreeMap<String, String>, protocol: &str) -> Result<BTreeMap<String, String>, SnsError> {
    let prefix = "Invalid parameter: Attributes Reason: ";
    let scope = attrs.get("FilterPolicyScope").map(String::as_str).unwrap_or("MessageAttributes");
    let mut out = BTreeMap::new();
    for (k, v) in attrs {
        out.insert(k.clone(), check_attribute(k, v, protocol, scope, prefix)?);
    }
    Ok(out)
}

/// Whether a repeated `Subscribe` with `given` attributes matches the existing subscription.
pub fn same_attributes(sub: &Subscription, given: &BTreeMap<String, String>) -> bool {
    given.iter().all(|(k, v)| match (k.as_str(), sub.attributes.get(k)) {
        (_, Some(s)) => s == v,
        ("RawMessageDelivery", None) => v == "false",
        (_, None) => v.is_empty(),
    })
}

/// The ARN of `sub`.
pub fn arn(topic: &TopicArn, sub: &Subscription) -> SubscriptionArn {
    SubscriptionArn { topic: topic.clone(), id: sub.id.clone() }
}

/// The attributes `GetSubscriptionAttributes` returns.
pub fn attributes(sub: &Subscription, topic_arn: &TopicArn, topic: Option<&Topic>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let arn = arn(topic_arn, sub).to_string();
    out.insert("SubscriptionArn".into(), arn);
    out.insert("TopicArn".into(), topic_arn.to_string());
    out.insert("Protocol".into(), sub.protocol.clone());
    out.insert("Endpoint".into(), sub.endpoint.clone());
    out.insert("Owner".into(), sub.owner.clone());
    out.insert("PendingConfirmation".into(), sub.pending.to_string());
    out.insert("ConfirmationWasAuthenticated".into(), sub.confirmation_was_authenticated.to_string());
    out.insert("SubscriptionPrincipal".into(), format!("arn:{}:iam::{}:root", topic_arn.partition, sub.owner));
    out.insert("RawMessageDelivery".into(), sub.attributes.get("RawMessageDelivery").cloned().unwrap_or_else(|| "false".into()));
    for (k, v) in &sub.attributes {
        if k == "DeliveryPolicy" {
            if let Ok(p) = SubscriptionPolicy::parse(v) {
                out.insert(k.clone(), p.to_json());
            }
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    if sub.attributes.get("FilterPolicy").is_some_and(|p| !p.is_empty()) {
        out.entry("FilterPolicyScope".into()).or_insert_with(|| "MessageAttributes".into());
    } else {
        out.remove("FilterPolicy");
        out.remove("FilterPolicyScope");
    }
    if matches!(sub.protocol.as_str(), "http" | "https") {
        out.insert("EffectiveDeliveryPolicy".into(), effective_policy(sub, topic).to_json());
    }
    out
}

/// The delivery policy an HTTP/S subscription delivers with.
pub fn effective_policy(sub: &Subscription, topic: Option<&Topic>) -> SubscriptionPolicy {
    let topic_policy = topic
        .and_then(|t| t.attributes.get("DeliveryPolicy"))
        .and_then(|p| TopicHttpPolicy::parse(p).ok())
        .unwrap_or_default();
    let own = sub.attributes.get("DeliveryPolicy").and_then(|p| SubscriptionPolicy::parse(p).ok());
    SubscriptionPolicy::effective(&topic_policy, own.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic() -> Topic {
        Topic { name: "t".into(), attributes: BTreeMap::new(), tags: vec![], subscriptions_deleted: 0, created: time::OffsetDateTime::UNIX_EPOCH.into() }
    }

    #[test]
    fn endpoints() {
        let t = topic();
        assert!(check_endpoint("http", Some("http://127.0.0.1:8080/hook"), &t).is_ok());
        assert!(check_endpoint("https", Some("https://user:pw@example.com/x?y=1"), &t).is_ok());
        assert!(check_endpoint("http", Some("http://[::1]:9000/"), &t).is_ok());
        assert_eq!(check_endpoint("http", Some("https://x"), &t).unwrap_err().to_aws().message, "Invalid parameter: Endpoint must match the specified protocol");
        assert!(check_endpoint("http", Some("http://"), &t).is_err());
        assert!(check_endpoint("http", Some("http://bad_host/"), &t).is_err());
        assert!(check_endpoint("email", Some("ops@example.com"), &t).is_ok());
        assert_eq!(check_endpoint("email", Some("not-an-email"), &t).unwrap_err().to_aws().message, "Invalid parameter: Email address");
        assert!(check_endpoint("email-json", Some("a b@example.com"), &t).is_err());
        assert_eq!(
            check_endpoint("carrier-pigeon", Some("x"), &t).unwrap_err().to_aws().message,
            "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"
        );
        assert!(check_endpoint("sqs", Some("arn:aws:sqs:us-east-1:000000000000:q"), &t).is_err());
    }

    #[test]
    fn attributes_are_checked() {
        let ok = |n: &str, v: &str, p: &str| check_attribute(n, v, p, "MessageAttributes", "Invalid parameter: ");
        assert_eq!(ok("RawMessageDelivery", "TRUE", "http").unwrap(), "true");
        assert_eq!(ok("RawMessageDelivery", "x", "http").unwrap_err().to_aws().message, "Invalid parameter: RawMessageDelivery: Invalid value [x]. Must be true or false.");
        assert!(ok("RawMessageDelivery", "true", "email").is_err());
        assert_eq!(ok("Bogus", "1", "http").unwrap_err().to_aws().message, "Invalid parameter: AttributeName");
        assert!(ok("DeliveryPolicy", r#"{"healthyRetryPolicy":{"numRetries":2}}"#, "http").is_ok());
        assert!(ok("DeliveryPolicy", "{}", "email").is_err());
        assert!(ok("FilterPolicy", r#"{"kind":["a"]}"#, "email").is_ok());
        assert!(ok("FilterPolicy", "{bad", "email").is_err());
        assert!(ok("FilterPolicyScope", "Nope", "email").is_err());
    }
}
