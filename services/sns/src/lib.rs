//! SNS (awsQuery): topics, subscriptions and durable deliveries to HTTP/S endpoints and email.
//!
//! Implemented operations: CreateTopic, ListTopics, GetTopicAttributes, SetTopicAttributes,
//! DeleteTopic, Subscribe, ConfirmSubscription, ListSubscriptions, ListSubscriptionsByTopic,
//! Unsubscribe, GetSubscriptionAttributes, SetSubscriptionAttributes, Publish,
//! ListTagsForResource, TagResource, UntagResource.
//!
//! Delivery protocols: `http`, `https` (JSON documents signed like AWS's, the
//! `SubscriptionConfirmation` handshake, raw delivery, delivery policies), `email` (plain text
//! through an SMTP relay) and `email-json`. Every delivery is a durable job (`sns.delivery`):
//! `Publish` answers once one job per matching confirmed subscription is committed, and a job
//! retries on the subscription's delivery policy, across restarts, until it delivers or the
//! policy is exhausted. Unsigned GET routes ([`Sns::public_routes`]) serve confirmation and
//! unsubscribe links and the signing certificate. Other services publish in-process with
//! [`Sns::publish_internal`].

pub mod api;
pub mod domain;
pub mod error;
mod handlers;
mod jobs;
mod public;
pub mod signing;
pub mod store;
pub mod transport;

use api::Operation;
use domain::envelope::Links;
use error::SnsError;
use hearth_protocol::dispatch::{self, Handler};
use hearth_protocol::schema::{OperationSpec, Service};
use hearth_protocol::{AwsError, RequestContext};
use hearth_runtime::jobs::JobQueue;
use hearth_runtime::{Clock, MetaStore, Metrics, Runtime};
use serde_json::Value;
use signing::MessageSigner;
use std::sync::Arc;
use transport::http::HttpTransport;
use transport::smtp::SmtpTransport;

/// How SNS reaches the outside world (from the `[sns]` config section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// SMTP relay for email deliveries, `host:port`; `None`: email deliveries fail and retry.
    pub smtp_relay: Option<String>,
    /// Sender address of emails.
    pub smtp_from: String,
    /// Base URL of this server as endpoints and mail readers reach it (links in messages).
    pub public_endpoint: String,
}

/// Everything the handlers, the delivery jobs and the public routes share.
pub(crate) struct Inner {
    pub(crate) meta: MetaStore,
    pub(crate) jobs: JobQueue,
    pub(crate) metrics: Metrics,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) links: Links,
    pub(crate) signer: MessageSigner,
    pub(crate) http: HttpTransport,
    pub(crate) smtp: SmtpTransport,
}

/// The SNS service; cheap to clone.
#[derive(Clone)]
pub struct Sns {
    inner: Arc<Inner>,
}

impl Sns {
    /// Build the service: load (or create) the signing key and register the delivery jobs on
    /// `rt.jobs` (call before the workers start).
    pub async fn new(rt: &Runtime, settings: Settings) -> Result<Sns, String> {
        let relay = settings.smtp_relay.as_deref().map(transport::smtp::parse_relay).transpose().map_err(|e| format!("[sns] smtp_relay: {e}"))?;
        let links = Links::new(&settings.public_endpoint);
        let signer = MessageSigner::load_or_create(&rt.meta, rt.clock.now(), links.clone()).await?;
        let inner = Arc::new(Inner {
            meta: rt.meta.clone(),
            jobs: rt.jobs.clone(),
            metrics: rt.metrics.clone(),
            clock: rt.clock.clone(),
            links,
            signer,
            http: HttpTransport::default(),
            smtp: SmtpTransport::new(relay, settings.smtp_from.clone()),
        });
        rt.jobs.register(jobs::DeliveryJob { inner: inner.clone() });
        rt.jobs.register(jobs::ExpiryJob { inner: inner.clone() });
        if settings.smtp_relay.is_none() {
            tracing::info!("no [sns] smtp_relay configured: email deliveries will wait and retry until one is");
        }
        Ok(Sns { inner })
    }

    /// Publish `message` to `topic_arn` of `account` in `region` from inside Hearth (e.g. a
    /// CloudWatch alarm action). A subject longer than SNS allows is shortened and cleaned.
    /// Returns the message id once the deliveries are durable.
    pub async fn publish_internal(&self, account: &str, region: &str, topic_arn: &str, subject: Option<&str>, message: &str) -> Result<String, String> {
        let subject = subject.map(clean_subject).filter(|s| !s.is_empty());
        let ctx = RequestContext { request_id: hearth_protocol::new_request_id(), account: account.into(), region: region.into(), access_key: String::new() };
        let input = api::PublishInput { topic_arn: Some(topic_arn.into()), message: message.into(), subject, ..Default::default() };
        handlers::publish::publish(&self.inner, &ctx, input).await.map(|out| out.message_id.unwrap_or_default()).map_err(|e| {
            let e = e.to_aws();
            format!("{}: {}", e.code, e.message)
        })
    }

    /// The unsigned routes: `GET /sns/confirm` (confirmation links), `GET /sns/unsubscribe`
    /// (unsubscribe links) and `GET /sns/SimpleNotificationService-<id>.pem` (the certificate).
    pub fn public_routes(&self) -> axum::Router {
        public::routes(self.inner.clone())
    }
}

/// A subject SNS accepts, made from any text: printable ASCII, at most 100 characters.
fn clean_subject(s: &str) -> String {
    let cleaned: String = s.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { ' ' }).collect();
    cleaned.trim().chars().take(100).collect()
}

#[async_trait::async_trait]
impl Handler for Sns {
    fn model(&self) -> &'static Service {
        &api::SERVICE
    }

    async fn call(&self, ctx: &RequestContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        use handlers::{publish, subscriptions as subs, tags, topics};
        let svc = &api::SERVICE;
        let inner = &self.inner;
        let Some(operation) = Operation::from_name(op.name) else {
            return Err(AwsError::new("InvalidAction", format!("The action {} is not valid for this web service.", op.name), 400));
        };
        let result: Result<Value, SnsError> = match operation {
            Operation::CreateTopic => out(topics::create_topic(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::ListTopics => out(topics::list_topics(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::GetTopicAttributes => out(topics::get_topic_attributes(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::SetTopicAttributes => unit(topics::set_topic_attributes(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::DeleteTopic => unit(topics::delete_topic(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::Subscribe => out(subs::subscribe(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::ConfirmSubscription => out(subs::confirm_subscription(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::ListSubscriptions => out(subs::list_subscriptions(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::ListSubscriptionsByTopic => out(subs::list_subscriptions_by_topic(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::Unsubscribe => unit(subs::unsubscribe(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::GetSubscriptionAttributes => out(subs::get_subscription_attributes(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::SetSubscriptionAttributes => unit(subs::set_subscription_attributes(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::Publish => out(publish::publish(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::ListTagsForResource => out(tags::list_tags_for_resource(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::TagResource => out(tags::tag_resource(inner, ctx, dispatch::input(svc, input)?).await),
            Operation::UntagResource => out(tags::untag_resource(inner, ctx, dispatch::input(svc, input)?).await),
        };
        result.map_err(|e| e.to_aws())
    }
}

fn out<T: serde::Serialize>(r: Result<T, SnsError>) -> Result<Value, SnsError> {
    r.and_then(|v| dispatch::output(&v).map_err(SnsError::Aws))
}

fn unit(r: Result<(), SnsError>) -> Result<Value, SnsError> {
    r.map(|()| Value::Object(Default::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_cleaned() {
        assert_eq!(clean_subject("ALARM: \"cpu\" in US East\n"), "ALARM: \"cpu\" in US East");
        assert_eq!(clean_subject(&"é".repeat(200)).len(), 0);
        assert_eq!(clean_subject(&"a".repeat(200)).len(), 100);
    }
}
