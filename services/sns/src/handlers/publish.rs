//! Publish: check the message, pick the confirmed subscriptions whose filter policy matches,
//! and queue one durable delivery job per subscription (job id `<message id>/<subscription id>`)
//! before answering with the message id. FIFO topics check `MessageGroupId` and deduplication
//! like AWS, though Hearth has no FIFO subscribers (SQS) to deliver to.

use super::{load_topic, metric, own_topic, scope, topic_subscriptions};
use crate::api;
use crate::domain::arn::TopicArn;
use crate::domain::envelope::Kind;
use crate::domain::filter::FilterPolicy;
use crate::domain::message::{self, Message};
use crate::domain::timestamp;
use crate::error::SnsError;
use crate::jobs::Delivery;
use crate::store::Subscription;
use crate::Inner;
use hearth_protocol::RequestContext;
use hearth_runtime::Unit;

/// Publish.
pub async fn publish(inner: &Inner, ctx: &RequestContext, input: api::PublishInput) -> Result<api::PublishResponse, SnsError> {
    let msg = message::build(&input.message, input.subject.as_deref(), input.message_attributes.as_ref(), input.message_structure.as_deref())?;
    if input.phone_number.is_some() {
        return Err(SnsError::invalid("Invalid parameter: PhoneNumber Reason: Hearth does not send SMS messages"));
    }
    let target = match (&input.topic_arn, &input.target_arn) {
        (Some(t), _) | (None, Some(t)) => t.clone(),
        (None, None) => return Err(SnsError::invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")),
    };
    if input.topic_arn.is_none() && target.contains(":endpoint/") {
        return Err(SnsError::invalid("Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"));
    }
    let param = if input.topic_arn.is_some() { "TopicArn" } else { "TargetArn" };
    let arn = TopicArn::parse(param, &target)?;
    if arn.name.ends_with(".fifo") {
        if input.message_group_id.as_deref().unwrap_or("").is_empty() {
            return Err(SnsError::invalid("Invalid parameter: The MessageGroupId parameter is required for FIFO topics"));
        }
    } else if input.message_deduplication_id.is_some() {
        return Err(SnsError::invalid(
            "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
        ));
    }
    own_topic(ctx, &arn, param, "Publish")?;
    let scope = scope(ctx);
    let topic = load_topic(inner, &scope, &arn.name).await?.value;
    if topic.is_fifo() {
        let content_dedup = topic.attributes.get("ContentBasedDeduplication").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if !content_dedup && input.message_deduplication_id.is_none() {
            return Err(SnsError::invalid(
                "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
            ));
        }
    }

    let message_id = uuid::Uuid::new_v4().to_string();
    let now = inner.clock.now();
    let mut queued = 0usize;
    for sub in topic_subscriptions(inner, &scope, &arn.name).await? {
        if sub.pending || !passes_filter(&sub, &msg) {
            continue;
        }
        let delivery = Delivery {
            kind: Kind::Notification,
            topic: arn.name.clone(),
            subscription: sub.id.clone(),
            protocol: sub.protocol.clone(),
            endpoint: sub.endpoint.clone(),
            message_id: message_id.clone(),
            timestamp: timestamp(now),
            message: Some(msg.clone()),
            token: None,
            attempts: 0,
            last_error: None,
        };
        crate::jobs::submit(inner, &scope, &delivery).await?;
        queued += 1;
    }
    tracing::info!(topic = %arn, message = %message_id, deliveries = queued, "message published");
    metric(inner, &scope, &arn.name, "NumberOfMessagesPublished", 1.0, Unit::Count);
    metric(inner, &scope, &arn.name, "PublishSize", input.message.len() as f64, Unit::Bytes);
    let sequence_number = topic.is_fifo().then(|| format!("{:020}", now.unix_timestamp_nanos() / 1000));
    Ok(api::PublishResponse { message_id: Some(message_id), sequence_number })
}

/// Whether a message passes the subscription's filter policy (no policy: every message).
fn passes_filter(sub: &Subscription, msg: &Message) -> bool {
    let Some(text) = sub.attributes.get("FilterPolicy").filter(|p| !p.trim().is_empty()) else { return true };
    let body_scope = sub.attributes.get("FilterPolicyScope").is_some_and(|s| s == "MessageBody");
    match FilterPolicy::parse(text, body_scope) {
        Ok(policy) if body_scope => policy.matches_body(msg.text_for(&sub.protocol)),
        Ok(policy) => policy.matches_attributes(&msg.filter_view()),
        Err(e) => {
            // Stored policies were checked when set; a policy this build cannot read matches nothing.
            tracing::warn!(subscription = %sub.id, error = %e, "unreadable filter policy");
            false
        }
    }
}
