//! SNS's typed records in the metadata store.
//!
//! - `sns.topic` (scope account/region, key = topic name): attributes the user set, tags, and
//!   the count of deleted subscriptions.
//! - `sns.subscription` (scope account/region, key = `<topic name>:<subscription id>`, which is
//!   also the tail of the subscription ARN): so one topic's subscriptions are one key prefix.
//! - `sns.token` (global scope, key = the token): a confirmation token, found without an
//!   account because confirmation links are opened unauthenticated. It names the subscription,
//!   and after an unauthenticated unsubscribe it holds a copy of the removed subscription so that
//!   confirming the token restores it (what the `UnsubscribeConfirmation` message offers).
//! - `sns.signing_key` (global scope, key = `current`): the RSA key and self-signed certificate
//!   that sign HTTP/S and email-json messages, shared by every node.

use hearth_protocol::types::Timestamp;
use hearth_runtime::Record;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A topic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Topic {
    /// The topic name (last part of the ARN).
    pub name: String,
    /// Attributes the user set (`DisplayName`, `Policy`, `DeliveryPolicy`, `FifoTopic`, …).
    /// Computed ones (`TopicArn`, `Owner`, counts, `EffectiveDeliveryPolicy`) are not stored.
    pub attributes: BTreeMap<String, String>,
    /// Tags in the order they were added (keys unique).
    pub tags: Vec<(String, String)>,
    /// Subscriptions removed from this topic (`SubscriptionsDeleted`).
    #[serde(default)]
    pub subscriptions_deleted: u64,
    /// Creation time.
    pub created: Timestamp,
}

impl Record for Topic {
    const KIND: &'static str = "sns.topic";
}

impl Topic {
    /// Whether this is a FIFO topic.
    pub fn is_fifo(&self) -> bool {
        self.attributes.get("FifoTopic").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// A subscription of an endpoint to a topic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Subscription {
    /// The subscription id (last part of the ARN).
    pub id: String,
    /// The topic name.
    pub topic: String,
    /// `http`, `https`, `email` or `email-json`.
    pub protocol: String,
    /// URL or email address.
    pub endpoint: String,
    /// The account that subscribed (`Owner`).
    pub owner: String,
    /// Attributes the user set (`RawMessageDelivery`, `DeliveryPolicy`, `FilterPolicy`, …).
    pub attributes: BTreeMap<String, String>,
    /// Waiting for the endpoint owner to confirm.
    pub pending: bool,
    /// The confirmation came in a signed request.
    #[serde(default)]
    pub confirmation_was_authenticated: bool,
    /// Only signed requests of the owner may unsubscribe (`AuthenticateOnUnsubscribe`).
    #[serde(default)]
    pub authenticate_on_unsubscribe: bool,
    /// The confirmation token sent last (while pending).
    #[serde(default)]
    pub token: Option<String>,
    /// Creation time.
    pub created: Timestamp,
}

impl Record for Subscription {
    const KIND: &'static str = "sns.subscription";
}

/// The record key of a subscription (`<topic>:<id>`).
pub fn subscription_key(topic: &str, id: &str) -> String {
    format!("{topic}:{id}")
}

/// The key prefix of one topic's subscriptions.
pub fn subscription_prefix(topic: &str) -> String {
    format!("{topic}:")
}

/// A confirmation token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Token {
    /// Account of the subscription.
    pub account: String,
    /// Region of the subscription.
    pub region: String,
    /// The topic name.
    pub topic: String,
    /// The subscription id.
    pub subscription: String,
    /// After this the token is refused (two days after it was issued, as AWS documents).
    pub expires: Timestamp,
    /// The subscription as it was before an unauthenticated unsubscribe: confirming this token
    /// restores it.
    #[serde(default)]
    pub restore: Option<Subscription>,
}

impl Record for Token {
    const KIND: &'static str = "sns.token";
}

/// The message-signing key pair and its certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigningKey {
    /// PKCS#8 PEM of the RSA private key.
    pub private_key_pem: String,
    /// PEM of the self-signed X.509 certificate of the public key.
    pub certificate_pem: String,
    /// Hex id in the certificate's file name (`SimpleNotificationService-<id>.pem`).
    pub certificate_id: String,
}

impl Record for SigningKey {
    const KIND: &'static str = "sns.signing_key";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_keys_group_by_topic() {
        let k = subscription_key("orders", "0f6c");
        assert!(k.starts_with(&subscription_prefix("orders")));
        assert!(!k.starts_with(&subscription_prefix("order")));
    }
}
