//! Topic and subscription ARNs: building them and reading them back with AWS's own complaints
//! (`Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1`).

use crate::error::SnsError;

/// A parsed topic ARN `arn:<partition>:sns:<region>:<account>:<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

impl TopicArn {
    /// The ARN of topic `name` in `account` and `region` (partition `aws`).
    pub fn new(region: &str, account: &str, name: &str) -> Self {
        TopicArn { partition: "aws".into(), region: region.into(), account: account.into(), name: name.into() }
    }

    /// Parse parameter `param` (named in the error) as a topic ARN.
    pub fn parse(param: &str, s: &str) -> Result<Self, SnsError> {
        let parts = arn_parts(param, s, 6)?;
        if parts.len() != 6 || parts[2] != "sns" || parts[5].is_empty() {
            return Err(SnsError::invalid(format!("Invalid parameter: {param}")));
        }
        Ok(TopicArn { partition: parts[1].into(), region: parts[3].into(), account: parts[4].into(), name: parts[5].into() })
    }
}

impl std::fmt::Display for TopicArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "arn:{}:sns:{}:{}:{}", self.partition, self.region, self.account, self.name)
    }
}

/// A parsed subscription ARN `<topic ARN>:<subscription id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionArn {
    pub topic: TopicArn,
    pub id: String,
}

impl SubscriptionArn {
    /// Parse parameter `param` as a subscription ARN. Six elements (a topic ARN) is
    /// `Invalid parameter: SubscriptionId`, as AWS answers.
    pub fn parse(param: &str, s: &str) -> Result<Self, SnsError> {
        let parts = arn_parts(param, s, 6)?;
        if parts.len() == 6 {
            return Err(SnsError::invalid("Invalid parameter: SubscriptionId"));
        }
        if parts.len() != 7 || parts[2] != "sns" || parts[5].is_empty() || parts[6].is_empty() {
            return Err(SnsError::invalid(format!("Invalid parameter: {param}")));
        }
        Ok(SubscriptionArn {
            topic: TopicArn { partition: parts[1].into(), region: parts[3].into(), account: parts[4].into(), name: parts[5].into() },
            id: parts[6].into(),
        })
    }
}

impl std::fmt::Display for SubscriptionArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.topic, self.id)
    }
}

fn arn_parts<'a>(param: &str, s: &'a str, min: usize) -> Result<Vec<&'a str>, SnsError> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() < min {
        return Err(SnsError::invalid(format!("Invalid parameter: {param} Reason: An ARN must have at least {min} elements, not {}", parts.len())));
    }
    if parts[0] != "arn" {
        return Err(SnsError::invalid(format!("Invalid parameter: {param} Reason: A valid ARN begins with 'arn:'")));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arns_round_trip_and_complain_like_aws() {
        let a = TopicArn::parse("TopicArn", "arn:aws:sns:us-east-1:000000000000:orders").unwrap();
        assert_eq!(a, TopicArn::new("us-east-1", "000000000000", "orders"));
        assert_eq!(a.to_string(), "arn:aws:sns:us-east-1:000000000000:orders");
        let e = TopicArn::parse("TopicArn", "orders").unwrap_err().to_aws();
        assert_eq!(e.message, "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1");
        let e = TopicArn::parse("TopicArn", "arn:aws:sns:us-east-1:1").unwrap_err().to_aws();
        assert_eq!(e.message, "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 5");
        assert!(TopicArn::parse("TopicArn", "arn:aws:sqs:us-east-1:000000000000:q").is_err());
    }

    #[test]
    fn subscription_arns() {
        let s = SubscriptionArn::parse("SubscriptionArn", "arn:aws:sns:us-east-1:000000000000:orders:1b2c").unwrap();
        assert_eq!(s.topic.name, "orders");
        assert_eq!(s.id, "1b2c");
        assert_eq!(s.to_string(), "arn:aws:sns:us-east-1:000000000000:orders:1b2c");
        let e = SubscriptionArn::parse("SubscriptionArn", "arn:aws:sns:us-east-1:000000000000:orders").unwrap_err().to_aws();
        assert_eq!(e.message, "Invalid parameter: SubscriptionId");
        let e = SubscriptionArn::parse("SubscriptionArn", "x").unwrap_err().to_aws();
        assert_eq!(e.message, "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1");
    }
}
