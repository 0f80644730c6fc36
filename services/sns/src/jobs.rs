//! Deliveries as durable jobs (kind `sns.delivery`, one step `deliver`), and the expiry of
//! unconfirmed subscriptions (kind `sns.expire`, run 48 hours after Subscribe).
//!
//! Each job sends one document (a notification, a subscription or unsubscribe confirmation)
//! to one endpoint. The job state carries the message, so a job survives restarts on its own.
//! A failed attempt counts in the state and the job waits ([`StepOutcome::Wait`]) for the delay
//! the delivery policy gives for the next retry: the subscription's effective HTTP/S policy, or
//! AWS's fixed email policy. When the policy is exhausted the job fails with the last reason
//! (and `NumberOfNotificationsFailed` counts it). A notification whose subscription was removed
//! meanwhile is dropped, as is a confirmation that is no longer wanted. Every retry sends the
//! same document (same `MessageId`, `Timestamp` and signature), so endpoints can recognise
//! repeats: delivery is at least once.

use crate::domain::arn::{SubscriptionArn, TopicArn};
use crate::domain::delivery_policy::{RetryPolicy, DEFAULT_CONTENT_TYPE};
use crate::domain::envelope::{self, Kind, Parts};
use crate::domain::message::Message;
use crate::domain::subscription::effective_policy;
use crate::error::SnsError;
use crate::handlers::metric;
use crate::store::{self, Subscription, Topic};
use crate::transport::http::Post;
use crate::transport::smtp::Mail;
use crate::Inner;
use hearth_runtime::jobs::{JobContext, JobError, JobHandler, StepOutcome, SubmitOptions};
use hearth_runtime::{Expect, Scope, Unit};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Tries of one step the queue allows for reasons outside the delivery policy (a node lost
/// while delivering, a database error); the policy itself counts in [`Delivery::attempts`].
const QUEUE_ATTEMPTS: u32 = 100;

/// One document to deliver to one subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub kind: Kind,
    /// Topic name.
    pub topic: String,
    /// Subscription id.
    pub subscription: String,
    /// Protocol and endpoint when queued (confirmations are sent to these; notifications go
    /// to the subscription as it is at delivery time).
    pub protocol: String,
    pub endpoint: String,
    pub message_id: String,
    /// `Timestamp` of the document (when it was published).
    pub timestamp: String,
    /// The notification.
    pub message: Option<Message>,
    /// The confirmation token.
    pub token: Option<String>,
    /// Failed attempts so far.
    pub attempts: u64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// Queue a delivery; durable when this returns. The job id is `<message id>/<subscription
/// id>`, so queueing twice is harmless.
pub async fn submit(inner: &Inner, scope: &Scope, delivery: &Delivery) -> Result<(), SnsError> {
    let opts = SubmitOptions { max_attempts: QUEUE_ATTEMPTS, ..SubmitOptions::with_id(format!("sns/{}/{}", delivery.message_id, delivery.subscription)) };
    inner.jobs.submit_job::<DeliveryJob>(scope, delivery, opts).await?;
    Ok(())
}

/// The handler of `sns.delivery` jobs.
pub struct DeliveryJob {
    pub(crate) inner: Arc<Inner>,
}

#[async_trait::async_trait]
impl JobHandler for DeliveryJob {
    const KIND: &'static str = "sns.delivery";
    type State = Delivery;

    fn steps(&self) -> &'static [&'static str] {
        &["deliver"]
    }

    async fn run_step(&self, ctx: &JobContext, _step: usize, d: &mut Delivery) -> Result<StepOutcome, JobError> {
        let inner = &self.inner;
        let scope = &ctx.scope;
        let topic = inner.meta.get::<Topic>(scope, &d.topic).await?.map(|t| t.value);
        let sub = inner.meta.get::<Subscription>(scope, &store::subscription_key(&d.topic, &d.subscription)).await?.map(|s| s.value);
        let topic_arn = TopicArn::new(&scope.region, &scope.account, &d.topic);
        let sub_arn = SubscriptionArn { topic: topic_arn.clone(), id: d.subscription.clone() };
        // Who receives it, or why nobody does any more.
        let target = match (d.kind, &sub) {
            (Kind::Notification, Some(s)) if !s.pending => s.clone(),
            (Kind::SubscriptionConfirmation, Some(s)) if s.pending => s.clone(),
            (Kind::UnsubscribeConfirmation, _) => Subscription {
                id: d.subscription.clone(),
                topic: d.topic.clone(),
                protocol: d.protocol.clone(),
                endpoint: d.endpoint.clone(),
                owner: scope.account.clone(),
                attributes: sub.as_ref().map(|s| s.attributes.clone()).unwrap_or_default(),
                pending: false,
                confirmation_was_authenticated: false,
                authenticate_on_unsubscribe: false,
                token: None,
                created: ctx.now().into(),
            },
            _ => {
                tracing::info!(subscription = %sub_arn, message = %d.message_id, kind = d.kind.as_str(), "delivery no longer wanted; dropped");
                return Ok(StepOutcome::Finish);
            }
        };
        let outcome = deliver(inner, d, &target, topic.as_ref(), &topic_arn, &sub_arn).await;
        match outcome {
            Ok(()) => {
                tracing::info!(subscription = %sub_arn, message = %d.message_id, kind = d.kind.as_str(), attempts = d.attempts + 1, "delivered");
                if d.kind == Kind::Notification {
                    metric(inner, scope, &d.topic, "NumberOfNotificationsDelivered", 1.0, Unit::Count);
                }
                Ok(StepOutcome::Done)
            }
            Err(reason) => {
                d.attempts += 1;
                let policy = if target.protocol.starts_with("email") {
                    RetryPolicy::email()
                } else {
                    effective_policy(&target, topic.as_ref()).healthy_retry_policy.unwrap_or_default()
                };
                match policy.delay_before(d.attempts) {
                    Some(wait) => {
                        tracing::warn!(subscription = %sub_arn, message = %d.message_id, attempt = d.attempts, retry_in_ms = wait.as_millis() as u64, reason = %reason, "delivery failed; will retry");
                        d.last_error = Some(reason);
                        Ok(StepOutcome::Wait(wait))
                    }
                    None => {
                        tracing::warn!(subscription = %sub_arn, message = %d.message_id, attempts = d.attempts, reason = %reason, "delivery policy exhausted; message discarded");
                        if d.kind == Kind::Notification {
                            metric(inner, scope, &d.topic, "NumberOfNotificationsFailed", 1.0, Unit::Count);
                        }
                        Err(JobError::Fatal(format!("delivery policy exhausted after {} attempts: {reason}", d.attempts)))
                    }
                }
            }
        }
    }
}

/// Removal of a subscription nobody confirmed (AWS deletes unconfirmed subscriptions after 48
/// hours). Queued by Subscribe to run 48 hours later on the queue's clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Expiry {
    /// Topic name.
    pub topic: String,
    /// Subscription id.
    pub subscription: String,
}

/// How long a subscription may stay unconfirmed.
pub const PENDING_LIFETIME: time::Duration = time::Duration::hours(48);

/// Queue the expiry of a pending subscription created at `created`.
pub async fn submit_expiry(inner: &Inner, scope: &Scope, expiry: &Expiry, created: time::OffsetDateTime) -> Result<(), SnsError> {
    let opts = SubmitOptions {
        max_attempts: QUEUE_ATTEMPTS,
        run_after: Some(created + PENDING_LIFETIME),
        ..SubmitOptions::with_id(format!("sns/expire/{}", expiry.subscription))
    };
    inner.jobs.submit_job::<ExpiryJob>(scope, expiry, opts).await?;
    Ok(())
}

/// The handler of `sns.expire` jobs.
pub struct ExpiryJob {
    pub(crate) inner: Arc<Inner>,
}

#[async_trait::async_trait]
impl JobHandler for ExpiryJob {
    const KIND: &'static str = "sns.expire";
    type State = Expiry;

    fn steps(&self) -> &'static [&'static str] {
        &["expire"]
    }

    async fn run_step(&self, ctx: &JobContext, _step: usize, e: &mut Expiry) -> Result<StepOutcome, JobError> {
        let key = store::subscription_key(&e.topic, &e.subscription);
        let Some(sub) = self.inner.meta.get::<Subscription>(&ctx.scope, &key).await? else { return Ok(StepOutcome::Finish) };
        if !sub.value.pending {
            return Ok(StepOutcome::Finish);
        }
        let due = sub.value.created.0 + PENDING_LIFETIME;
        if ctx.now() < due {
            return Ok(StepOutcome::Wait((due - ctx.now()).unsigned_abs()));
        }
        match self.inner.meta.delete::<Subscription>(&ctx.scope, &key, Expect::Version(sub.version)).await {
            Ok(_) => {
                tracing::info!(topic = %e.topic, subscription = %e.subscription, "unconfirmed subscription expired");
                Ok(StepOutcome::Done)
            }
            Err(hearth_runtime::MetaError::ConditionFailed { .. }) => Err(JobError::retryable("subscription changed while expiring")),
            Err(err) => Err(err.into()),
        }
    }
}

/// One attempt.
async fn deliver(inner: &Inner, d: &Delivery, sub: &Subscription, topic: Option<&Topic>, topic_arn: &TopicArn, sub_arn: &SubscriptionArn) -> Result<(), String> {
    let topic_arn_text = topic_arn.to_string();
    let sub_arn_text = sub_arn.to_string();
    let signature_version = topic.and_then(|t| t.attributes.get("SignatureVersion")).map(String::as_str).unwrap_or("1");
    let parts = Parts {
        kind: d.kind,
        message_id: &d.message_id,
        topic_arn: &topic_arn_text,
        subscription_arn: &sub_arn_text,
        protocol: &sub.protocol,
        timestamp: &d.timestamp,
        message: d.message.as_ref(),
        token: d.token.as_deref(),
        signature_version,
    };
    if sub.protocol.starts_with("email") {
        let email = envelope::email(&parts, &inner.links, &inner.signer);
        let from_name = topic.and_then(|t| t.attributes.get("DisplayName")).filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| "AWS Notifications".into());
        let mail = Mail { from_name, to: sub.endpoint.clone(), subject: email.subject, body: email.body };
        return inner.smtp.send(&mail).await;
    }
    let raw = d.kind == Kind::Notification && sub.attributes.get("RawMessageDelivery").is_some_and(|v| v == "true");
    let mut headers = vec![
        ("x-amz-sns-message-type", d.kind.as_str().to_string()),
        ("x-amz-sns-message-id", d.message_id.clone()),
        ("x-amz-sns-topic-arn", topic_arn_text.clone()),
    ];
    if d.kind != Kind::SubscriptionConfirmation {
        headers.push(("x-amz-sns-subscription-arn", sub_arn_text.clone()));
    }
    let content_type = if d.kind == Kind::Notification {
        effective_policy(sub, topic).request_policy.map(|p| p.header_content_type).unwrap_or_else(|| DEFAULT_CONTENT_TYPE.into())
    } else {
        DEFAULT_CONTENT_TYPE.into()
    };
    headers.push(("content-type", content_type));
    let body = if raw {
        headers.push(("x-amz-sns-rawdelivery", "true".into()));
        d.message.as_ref().map(|m| m.text_for(&sub.protocol).to_string()).unwrap_or_default()
    } else {
        envelope::envelope(&parts, &inner.links, &inner.signer).to_json()
    };
    inner.http.send(Post { url: sub.endpoint.clone(), headers, body }).await.map(|_| ())
}
