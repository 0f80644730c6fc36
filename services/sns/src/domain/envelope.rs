//! What an endpoint receives: the JSON documents of HTTP/S and `email-json` deliveries
//! (`Notification`, `SubscriptionConfirmation`, `UnsubscribeConfirmation`, AWS "Parsing
//! Amazon SNS message formats"), their signature strings, and the texts of `email` messages.
//!
//! Signatures follow AWS "Verifying the signatures of Amazon SNS messages": the string to sign
//! is `Name\nValue\n` for a fixed, alphabetical list of fields (those present), signed with
//! RSA PKCS#1 v1.5 over SHA-1 (`SignatureVersion` 1, the default) or SHA-256 (2). Links point
//! to Hearth's public routes instead of `sns.<region>.amazonaws.com`.

use super::message::{Attribute, Message};
use serde::Serialize;
use std::collections::BTreeMap;

/// Signs a string to sign (the signing key lives outside the domain).
pub trait Signer: Send + Sync {
    /// Base64 of the RSA signature of `data` with SHA-1 (`version` "1") or SHA-256 ("2").
    fn sign(&self, version: &str, data: &[u8]) -> String;
    /// The URL of the certificate that verifies the signatures.
    fn cert_url(&self) -> String;
}

/// The base URL of Hearth's public routes, for links in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    base: String,
}

impl Links {
    /// Links under `base` (e.g. `http://127.0.0.1:4566`).
    pub fn new(base: &str) -> Self {
        Links { base: base.trim_end_matches('/').to_string() }
    }
    /// Where a confirmation token is confirmed (GET; no signature needed, the token is the secret).
    pub fn subscribe_url(&self, topic_arn: &str, token: &str) -> String {
        format!("{}/sns/confirm?TopicArn={}&Token={}", self.base, topic_arn, token)
    }
    /// Where a subscription is cancelled (GET).
    pub fn unsubscribe_url(&self, subscription_arn: &str) -> String {
        format!("{}/sns/unsubscribe?SubscriptionArn={}", self.base, subscription_arn)
    }
    /// Where the signing certificate is served.
    pub fn cert_url(&self, cert_id: &str) -> String {
        format!("{}/sns/SimpleNotificationService-{}.pem", self.base, cert_id)
    }
}

/// The kind of a delivered document (`x-amz-sns-message-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Kind {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

impl Kind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Notification => "Notification",
            Kind::SubscriptionConfirmation => "SubscriptionConfirmation",
            Kind::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }
}

/// The JSON document, in AWS's field order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub topic_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub message: String,
    #[serde(rename = "SubscribeURL", skip_serializing_if = "Option::is_none")]
    pub subscribe_url: Option<String>,
    pub timestamp: String,
    pub signature_version: String,
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
    #[serde(rename = "UnsubscribeURL", skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub message_attributes: BTreeMap<String, Attribute>,
}

impl Envelope {
    /// The string AWS signs for this document.
    pub fn string_to_sign(&self) -> String {
        let mut fields: Vec<(&str, &str)> = vec![("Message", &self.message), ("MessageId", &self.message_id)];
        match self.kind {
            "Notification" => {
                if let Some(s) = &self.subject {
                    fields.push(("Subject", s));
                }
                fields.extend([("Timestamp", self.timestamp.as_str()), ("TopicArn", &self.topic_arn), ("Type", self.kind)]);
            }
            _ => {
                fields.push(("SubscribeURL", self.subscribe_url.as_deref().unwrap_or("")));
                fields.extend([("Timestamp", self.timestamp.as_str()), ("Token", self.token.as_deref().unwrap_or("")), ("TopicArn", &self.topic_arn), ("Type", self.kind)]);
            }
        }
        fields.iter().map(|(k, v)| format!("{k}\n{v}\n")).collect()
    }

    /// The document as sent (pretty JSON, like AWS).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// What one delivery sends, independent of the transport.
pub struct Parts<'a> {
    pub kind: Kind,
    pub message_id: &'a str,
    pub topic_arn: &'a str,
    pub subscription_arn: &'a str,
    pub protocol: &'a str,
    pub timestamp: &'a str,
    /// The notification (for `Notification`).
    pub message: Option<&'a Message>,
    /// The confirmation token (for the two confirmation kinds).
    pub token: Option<&'a str>,
    /// `SignatureVersion` of the topic ("1" or "2").
    pub signature_version: &'a str,
}

/// Build and sign the JSON document of a delivery.
pub fn envelope(p: &Parts, links: &Links, signer: &dyn Signer) -> Envelope {
    let (message, subject, attributes) = match (p.kind, p.message) {
        (Kind::Notification, Some(m)) => (m.text_for(p.protocol).to_string(), m.subject.clone(), m.attributes.clone()),
        (Kind::SubscriptionConfirmation, _) => (
            format!("You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.", p.topic_arn),
            None,
            BTreeMap::new(),
        ),
        (Kind::UnsubscribeConfirmation, _) => (
            format!(
                "You have chosen to deactivate subscription {}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.",
                p.subscription_arn
            ),
            None,
            BTreeMap::new(),
        ),
        (Kind::Notification, None) => (String::new(), None, BTreeMap::new()),
    };
    let is_notification = p.kind == Kind::Notification;
    let mut env = Envelope {
        kind: p.kind.as_str(),
        message_id: p.message_id.to_string(),
        token: (!is_notification).then(|| p.token.unwrap_or_default().to_string()),
        topic_arn: p.topic_arn.to_string(),
        subject,
        message,
        subscribe_url: (!is_notification).then(|| links.subscribe_url(p.topic_arn, p.token.unwrap_or_default())),
        timestamp: p.timestamp.to_string(),
        signature_version: p.signature_version.to_string(),
        signature: String::new(),
        signing_cert_url: signer.cert_url(),
        unsubscribe_url: is_notification.then(|| links.unsubscribe_url(p.subscription_arn)),
        message_attributes: attributes,
    };
    env.signature = signer.sign(&env.signature_version, env.string_to_sign().as_bytes());
    env
}

/// An email: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub body: String,
}

const FOOTER: &str = "Please do not reply directly to this email.";

/// The email of a delivery to an `email` (plain text) or `email-json` (the JSON document)
/// subscription.
pub fn email(p: &Parts, links: &Links, signer: &dyn Signer) -> Email {
    let confirmation_subject = "AWS Notification - Subscription Confirmation".to_string();
    if p.protocol == "email-json" {
        let subject = match (p.kind, p.message) {
            (Kind::Notification, Some(m)) => m.subject.clone().unwrap_or_else(|| "AWS Notification Message".into()),
            _ => confirmation_subject,
        };
        return Email { subject, body: envelope(p, links, signer).to_json() };
    }
    match (p.kind, p.message) {
        (Kind::Notification, Some(m)) => Email {
            subject: m.subject.clone().unwrap_or_else(|| "AWS Notification Message".into()),
            body: format!(
                "{}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n{}\n\n{FOOTER}\n",
                m.text_for(p.protocol),
                links.unsubscribe_url(p.subscription_arn)
            ),
        },
        (Kind::UnsubscribeConfirmation, _) => Email {
            subject: "AWS Notification - Unsubscribe Confirmation".into(),
            body: format!(
                "You have chosen to deactivate subscription:\n{}\n\nTo cancel this operation and restore the subscription, click or visit the link below:\n{}\n\n{FOOTER}\n",
                p.subscription_arn,
                links.subscribe_url(p.topic_arn, p.token.unwrap_or_default())
            ),
        },
        _ => Email {
            subject: confirmation_subject,
            body: format!(
                "You have chosen to subscribe to the topic:\n{}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary):\n{}\n\n{FOOTER}\n",
                p.topic_arn,
                links.subscribe_url(p.topic_arn, p.token.unwrap_or_default())
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Signer for Fake {
        fn sign(&self, version: &str, data: &[u8]) -> String {
            format!("v{version}:{}", data.len())
        }
        fn cert_url(&self) -> String {
            "http://h/sns/SimpleNotificationService-ab.pem".into()
        }
    }

    fn msg() -> Message {
        let mut attributes = BTreeMap::new();
        attributes.insert("kind".to_string(), Attribute { data_type: "String".into(), value: "refund".into() });
        Message { body: "hello".into(), per_protocol: BTreeMap::new(), subject: Some("Hi".into()), attributes }
    }

    fn parts<'a>(kind: Kind, m: Option<&'a Message>, protocol: &'a str) -> Parts<'a> {
        Parts {
            kind,
            message_id: "m-1",
            topic_arn: "arn:aws:sns:us-east-1:000000000000:t",
            subscription_arn: "arn:aws:sns:us-east-1:000000000000:t:s-1",
            protocol,
            timestamp: "2024-01-02T03:04:05.678Z",
            message: m,
            token: Some("abcd"),
            signature_version: "1",
        }
    }

    #[test]
    fn notification_document_and_string_to_sign() {
        let m = msg();
        let links = Links::new("http://h/");
        let env = envelope(&parts(Kind::Notification, Some(&m), "http"), &links, &Fake);
        assert_eq!(
            env.string_to_sign(),
            "Message\nhello\nMessageId\nm-1\nSubject\nHi\nTimestamp\n2024-01-02T03:04:05.678Z\nTopicArn\narn:aws:sns:us-east-1:000000000000:t\nType\nNotification\n"
        );
        let v: serde_json::Value = serde_json::from_str(&env.to_json()).unwrap();
        assert_eq!(v["Type"], "Notification");
        assert_eq!(v["UnsubscribeURL"], "http://h/sns/unsubscribe?SubscriptionArn=arn:aws:sns:us-east-1:000000000000:t:s-1");
        assert_eq!(v["MessageAttributes"]["kind"]["Type"], "String");
        assert_eq!(v["Signature"], format!("v1:{}", env.string_to_sign().len()));
        assert!(v.get("Token").is_none() && v.get("SubscribeURL").is_none());
    }

    #[test]
    fn confirmation_document() {
        let env = envelope(&parts(Kind::SubscriptionConfirmation, None, "https"), &Links::new("http://h"), &Fake);
        assert_eq!(env.subscribe_url.as_deref(), Some("http://h/sns/confirm?TopicArn=arn:aws:sns:us-east-1:000000000000:t&Token=abcd"));
        assert!(env.string_to_sign().starts_with("Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-east-1:000000000000:t.\n"));
        assert!(env.string_to_sign().contains("SubscribeURL\nhttp://h/sns/confirm?"));
        assert!(env.string_to_sign().ends_with("Token\nabcd\nTopicArn\narn:aws:sns:us-east-1:000000000000:t\nType\nSubscriptionConfirmation\n"));
        assert!(env.unsubscribe_url.is_none());
    }

    #[test]
    fn emails() {
        let m = msg();
        let links = Links::new("http://h");
        let e = email(&parts(Kind::Notification, Some(&m), "email"), &links, &Fake);
        assert_eq!(e.subject, "Hi");
        assert!(e.body.starts_with("hello\n\n--\n"));
        assert!(e.body.contains("http://h/sns/unsubscribe?SubscriptionArn="));
        let c = email(&parts(Kind::SubscriptionConfirmation, None, "email"), &links, &Fake);
        assert_eq!(c.subject, "AWS Notification - Subscription Confirmation");
        assert!(c.body.contains("http://h/sns/confirm?TopicArn=arn:aws:sns:us-east-1:000000000000:t&Token=abcd"));
        let j = email(&parts(Kind::Notification, Some(&m), "email-json"), &links, &Fake);
        let v: serde_json::Value = serde_json::from_str(&j.body).unwrap();
        assert_eq!(v["Message"], "hello");
    }
}
