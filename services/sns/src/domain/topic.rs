//! Topic rules: names, which attributes may be set and their values, tags, and the attribute
//! map `GetTopicAttributes` answers (stored attributes plus computed ones: `TopicArn`,
//! `Owner`, the default `Policy`, `EffectiveDeliveryPolicy`, subscription counts).

use super::arn::TopicArn;
use super::delivery_policy::{check_topic_policy, TopicHttpPolicy};
use crate::error::SnsError;
use crate::store::Topic;
use std::collections::BTreeMap;

/// Most tags a topic may carry.
pub const MAX_TAGS: usize = 50;

/// Check a topic name: 1–256 letters, digits, `-` and `_`; FIFO topics end in `.fifo`.
pub fn check_name(name: &str, fifo: bool) -> Result<(), SnsError> {
    let base = if fifo { name.strip_suffix(".fifo") } else { Some(name) };
    let ok = base.is_some_and(|b| !b.is_empty() && name.len() <= 256 && b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    if ok {
        Ok(())
    } else {
        Err(SnsError::invalid("Invalid parameter: Topic Name"))
    }
}

/// Attributes `CreateTopic` and `SetTopicAttributes` accept (besides the delivery-status
/// logging ones, see [`is_feedback_attribute`]).
const SETTABLE: &[&str] = &[
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "SignatureVersion",
    "TracingConfig",
    "KmsMasterKeyId",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
];

/// `<Protocol>SuccessFeedbackRoleArn`, `…SuccessFeedbackSampleRate`, `…FailureFeedbackRoleArn`
/// for the protocols AWS logs delivery status of. Stored and returned; Hearth logs every
/// delivery itself.
fn is_feedback_attribute(name: &str) -> bool {
    ["Application", "Firehose", "HTTP", "Lambda", "SQS"].iter().any(|p| {
        name.strip_prefix(p)
            .is_some_and(|rest| matches!(rest, "SuccessFeedbackRoleArn" | "SuccessFeedbackSampleRate" | "FailureFeedbackRoleArn"))
    })
}

/// Whether `SetTopicAttributes` may change `name`.
pub fn is_settable(name: &str) -> bool {
    SETTABLE.contains(&name) || is_feedback_attribute(name)
}

/// Check one attribute value. `prefix` is the start of the error message: `Invalid parameter: `
/// for `SetTopicAttributes`, `Invalid parameter: Attributes Reason: ` for `CreateTopic`.
pub fn check_attribute(name: &str, value: &str, fifo: bool, prefix: &str) -> Result<(), SnsError> {
    let bad = |why: &str| Err(SnsError::invalid(format!("{prefix}{name}: {why}")));
    match name {
        "DeliveryPolicy" => check_topic_policy(value, prefix),
        "DisplayName" => {
            if value.chars().count() > 100 {
                return bad("must be at most 100 characters long");
            }
            Ok(())
        }
        "Policy" => match serde_json::from_str::<serde_json::Value>(value) {
            Ok(serde_json::Value::Object(_)) => Ok(()),
            _ => bad("failed to parse JSON"),
        },
        "SignatureVersion" => match value {
            "1" | "2" => Ok(()),
            _ => bad("must be 1 or 2"),
        },
        "TracingConfig" => match value {
            "PassThrough" | "Active" => Ok(()),
            _ => bad("must be PassThrough or Active"),
        },
        "ContentBasedDeduplication" => {
            if !fifo {
                return Err(SnsError::invalid(format!("{prefix}ContentBasedDeduplication: Content-based deduplication can only be set for FIFO topics")));
            }
            match value.to_ascii_lowercase().as_str() {
                "true" | "false" => Ok(()),
                _ => bad("must be true or false"),
            }
        }
        "FifoThroughputScope" => {
            if !fifo {
                return bad("can only be set for FIFO topics");
            }
            match value {
                "Topic" | "MessageGroup" => Ok(()),
                _ => bad("must be Topic or MessageGroup"),
            }
        }
        "ArchivePolicy" => {
            if !fifo {
                return bad("can only be set for FIFO topics");
            }
            match serde_json::from_str::<serde_json::Value>(value) {
                Ok(serde_json::Value::Object(_)) => Ok(()),
                _ => bad("failed to parse JSON"),
            }
        }
        n if n.ends_with("SampleRate") => match value.parse::<u8>() {
            Ok(0..=100) => Ok(()),
            _ => bad("must be an integer from 0 to 100"),
        },
        _ => Ok(()),
    }
}

/// Validate `CreateTopic`'s attributes; returns whether the topic is FIFO and the attributes
/// to store (`FifoTopic=false` is not stored, as AWS does not show it).
pub fn create_attributes(name: &str, attrs: &BTreeMap<String, String>) -> Result<(bool, BTreeMap<String, String>), SnsError> {
    let prefix = "Invalid parameter: Attributes Reason: ";
    let fifo = match attrs.get("FifoTopic").map(|v| v.to_ascii_lowercase()) {
        Some(v) if v == "true" => true,
        Some(v) if v == "false" => false,
        Some(_) => return Err(SnsError::invalid(format!("{prefix}FifoTopic: must be true or false"))),
        None => false,
    };
    check_name(name, fifo)?;
    let mut stored = BTreeMap::new();
    for (k, v) in attrs {
        if k == "FifoTopic" {
            if fifo {
                stored.insert(k.clone(), "true".to_string());
            }
            continue;
        }
        if !is_settable(k) {
            return Err(SnsError::invalid(format!("{prefix}Invalid attribute name: {k}")));
        }
        check_attribute(k, v, fifo, prefix)?;
        stored.insert(k.clone(), v.clone());
    }
    if fifo {
        stored.entry("ContentBasedDeduplication".into()).or_insert_with(|| "false".into());
    }
    Ok((fifo, stored))
}

/// Whether a repeated `CreateTopic` matches the topic: every attribute it gives equals the
/// stored one (an explicit `FifoTopic=false` matches a standard topic).
pub fn same_attributes(topic: &Topic, given: &BTreeMap<String, String>) -> bool {
    given.iter().all(|(k, v)| match (k.as_str(), topic.attributes.get(k)) {
        ("FifoTopic", None) => v.eq_ignore_ascii_case("false"),
        ("FifoTopic", Some(s)) => s.eq_ignore_ascii_case(v),
        (_, Some(s)) => s == v,
        (_, None) => false,
    })
}

/// Check tags: keys 1–128 characters, values up to 256, no duplicate keys.
pub fn check_tags(tags: &[(String, String)]) -> Result<(), SnsError> {
    let mut seen = std::collections::HashSet::new();
    for (k, v) in tags {
        if !seen.insert(k.as_str()) {
            return Err(SnsError::invalid("Invalid parameter: Duplicated keys are not allowed."));
        }
        if k.is_empty() || k.chars().count() > 128 {
            return Err(SnsError::invalid("Invalid parameter: Tags Reason: Tag keys must be between 1 and 128 characters long"));
        }
        if v.chars().count() > 256 {
            return Err(SnsError::invalid("Invalid parameter: Tags Reason: Tag values must be at most 256 characters long"));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(SnsError::TagLimitExceeded);
    }
    Ok(())
}

/// Merge `new` tags into `tags` (a new value for a key replaces the old one).
pub fn merge_tags(tags: &mut Vec<(String, String)>, new: &[(String, String)]) {
    for (k, v) in new {
        match tags.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.clone(),
            None => tags.push((k.clone(), v.clone())),
        }
    }
}

/// The policy a topic gets when none is set: the owner account may do everything. Written in
/// AWS's key order (topic names and account ids need no JSON escaping).
pub fn default_policy(arn: &TopicArn) -> String {
    format!(
        concat!(
            r#"{{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{{"Sid":"__default_statement_ID","Effect":"Allow","#,
            r#""Principal":{{"AWS":"*"}},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","#,
            r#""SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"#,
            r#""Resource":"{arn}","Condition":{{"StringEquals":{{"AWS:SourceOwner":"{account}"}}}}}}]}}"#
        ),
        arn = arn,
        account = arn.account
    )
}

/// Subscription counts shown in the topic's attributes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub confirmed: u64,
    pub pending: u64,
}

/// The attributes `GetTopicAttributes` returns.
pub fn attributes(topic: &Topic, arn: &TopicArn, counts: Counts) -> BTreeMap<String, String> {
    let mut out = topic.attributes.clone();
    out.insert("TopicArn".into(), arn.to_string());
    out.insert("Owner".into(), arn.account.clone());
    out.entry("Policy".into()).or_insert_with(|| default_policy(arn));
    out.entry("DisplayName".into()).or_default();
    let policy = TopicHttpPolicy::parse(topic.attributes.get("DeliveryPolicy").map(String::as_str).unwrap_or("")).unwrap_or_default();
    out.insert("EffectiveDeliveryPolicy".into(), policy.effective_json());
    out.insert("SubscriptionsConfirmed".into(), counts.confirmed.to_string());
    out.insert("SubscriptionsPending".into(), counts.pending.to_string());
    out.insert("SubscriptionsDeleted".into(), topic.subscriptions_deleted.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(attrs: &[(&str, &str)]) -> Topic {
        Topic {
            name: "t".into(),
            attributes: attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            tags: vec![],
            subscriptions_deleted: 0,
            created: time::OffsetDateTime::UNIX_EPOCH.into(),
        }
    }

    #[test]
    fn names() {
        assert!(check_name("orders-2_x", false).is_ok());
        assert!(check_name(&"a".repeat(256), false).is_ok());
        assert!(check_name(&"a".repeat(257), false).is_err());
        assert!(check_name("", false).is_err());
        assert!(check_name("a.b", false).is_err());
        assert!(check_name("orders.fifo", false).is_err());
        assert!(check_name("orders.fifo", true).is_ok());
        assert!(check_name("orders", true).is_err());
        assert!(check_name(".fifo", true).is_err());
        assert_eq!(check_name("a b", false).unwrap_err().to_aws().message, "Invalid parameter: Topic Name");
    }

    #[test]
    fn create_attributes_validate_and_normalise() {
        let attrs = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        let (fifo, stored) = create_attributes("t", &attrs(&[("DisplayName", "Orders"), ("FifoTopic", "false")])).unwrap();
        assert!(!fifo);
        assert_eq!(stored, attrs(&[("DisplayName", "Orders")]));
        let (fifo, stored) = create_attributes("t.fifo", &attrs(&[("FifoTopic", "true")])).unwrap();
        assert!(fifo);
        assert_eq!(stored.get("ContentBasedDeduplication").map(String::as_str), Some("false"));
        let e = create_attributes("t", &attrs(&[("Nope", "1")])).unwrap_err().to_aws();
        assert_eq!(e.message, "Invalid parameter: Attributes Reason: Invalid attribute name: Nope");
        assert!(create_attributes("t", &attrs(&[("SignatureVersion", "3")])).is_err());
        assert!(create_attributes("t", &attrs(&[("ContentBasedDeduplication", "true")])).is_err());
        assert!(create_attributes("t", &attrs(&[("HTTPSuccessFeedbackSampleRate", "50")])).is_ok());
    }

    #[test]
    fn repeated_create_compares_given_attributes() {
        let t = topic(&[("DisplayName", "A")]);
        let given = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        assert!(same_attributes(&t, &given(&[])));
        assert!(same_attributes(&t, &given(&[("DisplayName", "A"), ("FifoTopic", "false")])));
        assert!(!same_attributes(&t, &given(&[("DisplayName", "B")])));
        assert!(!same_attributes(&t, &given(&[("SignatureVersion", "2")])));
    }

    #[test]
    fn tags() {
        let t = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        assert!(check_tags(&t(&[("a", "1"), ("b", "")])).is_ok());
        assert_eq!(check_tags(&t(&[("a", "1"), ("a", "2")])).unwrap_err().to_aws().message, "Invalid parameter: Duplicated keys are not allowed.");
        let many: Vec<_> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(check_tags(&many).unwrap_err().to_aws().code, "TagLimitExceeded");
        let mut tags = t(&[("a", "1")]);
        merge_tags(&mut tags, &t(&[("a", "2"), ("b", "3")]));
        assert_eq!(tags, t(&[("a", "2"), ("b", "3")]));
    }

    #[test]
    fn attribute_map() {
        let arn = TopicArn::new("us-east-1", "000000000000", "t");
        let m = attributes(&topic(&[]), &arn, Counts { confirmed: 2, pending: 1 });
        assert_eq!(m["TopicArn"], "arn:aws:sns:us-east-1:000000000000:t");
        assert_eq!(m["Owner"], "000000000000");
        assert_eq!(m["DisplayName"], "");
        assert_eq!(m["SubscriptionsConfirmed"], "2");
        assert_eq!(m["SubscriptionsPending"], "1");
        assert_eq!(m["SubscriptionsDeleted"], "0");
        let policy: serde_json::Value = serde_json::from_str(&m["Policy"]).unwrap();
        assert_eq!(policy["Statement"][0]["Resource"], "arn:aws:sns:us-east-1:000000000000:t");
        assert!(m["EffectiveDeliveryPolicy"].contains("\"numRetries\":3"));
    }
}
