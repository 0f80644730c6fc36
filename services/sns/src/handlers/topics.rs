//! Topic operations: CreateTopic, ListTopics, GetTopicAttributes, SetTopicAttributes,
//! DeleteTopic.

use super::{load_topic, own_topic, page, scope, topic_subscriptions};
use crate::api;
use crate::domain::arn::TopicArn;
use crate::domain::topic::{self as rules, Counts};
use crate::error::SnsError;
use crate::store::{self, Subscription, Topic};
use crate::Inner;
use hearth_protocol::RequestContext;
use hearth_runtime::{Expect, MetaError, WriteOp};
use std::collections::BTreeMap;

/// CreateTopic: idempotent by name; a repeat with other attributes or tags is refused.
pub async fn create_topic(inner: &Inner, ctx: &RequestContext, input: api::CreateTopicInput) -> Result<api::CreateTopicResponse, SnsError> {
    let given = input.attributes.unwrap_or_default();
    let (_, attributes) = rules::create_attributes(&input.name, &given)?;
    let tags: Vec<(String, String)> = input.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect();
    rules::check_tags(&tags)?;
    let scope = scope(ctx);
    let arn = TopicArn::new(&ctx.region, &ctx.account, &input.name);
    let topic = Topic { name: input.name.clone(), attributes, tags: tags.clone(), subscriptions_deleted: 0, created: inner.clock.now().into() };
    match inner.meta.put(&scope, &input.name, &topic, Expect::Absent).await {
        Ok(_) => {
            tracing::info!(topic = %arn, "topic created");
        }
        Err(MetaError::ConditionFailed { .. }) => {
            let existing = load_topic(inner, &scope, &input.name).await?.value;
            if !rules::same_attributes(&existing, &given) {
                return Err(SnsError::invalid("Invalid parameter: Attributes Reason: Topic already exists with different attributes"));
            }
            if !tags.is_empty() && !same_tags(&existing.tags, &tags) {
                return Err(SnsError::invalid("Invalid parameter: Tags Reason: Topic already exists with different tags"));
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(api::CreateTopicResponse { topic_arn: Some(arn.to_string()) })
}

fn same_tags(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let a: BTreeMap<_, _> = a.iter().cloned().collect();
    let b: BTreeMap<_, _> = b.iter().cloned().collect();
    a == b
}

/// ListTopics: 100 per page, in name order.
pub async fn list_topics(inner: &Inner, ctx: &RequestContext, input: api::ListTopicsInput) -> Result<api::ListTopicsResponse, SnsError> {
    let (rows, next) = page::<Topic>(inner, &scope(ctx), "", input.next_token.as_deref()).await?;
    let topics = rows.into_iter().map(|(name, _)| api::Topic { topic_arn: Some(TopicArn::new(&ctx.region, &ctx.account, &name).to_string()) }).collect();
    Ok(api::ListTopicsResponse { topics: Some(topics), next_token: next })
}

/// GetTopicAttributes.
pub async fn get_topic_attributes(inner: &Inner, ctx: &RequestContext, input: api::GetTopicAttributesInput) -> Result<api::GetTopicAttributesResponse, SnsError> {
    let arn = TopicArn::parse("TopicArn", &input.topic_arn)?;
    own_topic(ctx, &arn, "TopicArn", "GetTopicAttributes")?;
    let scope = scope(ctx);
    let topic = load_topic(inner, &scope, &arn.name).await?.value;
    let subs = topic_subscriptions(inner, &scope, &arn.name).await?;
    let counts = Counts { confirmed: subs.iter().filter(|s| !s.pending).count() as u64, pending: subs.iter().filter(|s| s.pending).count() as u64 };
    Ok(api::GetTopicAttributesResponse { attributes: Some(rules::attributes(&topic, &arn, counts)) })
}

/// SetTopicAttributes: one attribute; an empty value removes it.
pub async fn set_topic_attributes(inner: &Inner, ctx: &RequestContext, input: api::SetTopicAttributesInput) -> Result<(), SnsError> {
    let arn = TopicArn::parse("TopicArn", &input.topic_arn)?;
    own_topic(ctx, &arn, "TopicArn", "SetTopicAttributes")?;
    let name = input.attribute_name.as_str();
    if !rules::is_settable(name) {
        return Err(SnsError::invalid("Invalid parameter: AttributeName"));
    }
    let value = input.attribute_value.unwrap_or_default();
    let scope = scope(ctx);
    loop {
        let current = load_topic(inner, &scope, &arn.name).await?;
        let mut topic = current.value;
        if !value.is_empty() || name == "DisplayName" {
            rules::check_attribute(name, &value, topic.is_fifo(), "Invalid parameter: ")?;
        }
        if value.is_empty() && name != "DisplayName" {
            topic.attributes.remove(name);
        } else {
            topic.attributes.insert(name.to_string(), value.clone());
        }
        match inner.meta.put(&scope, &arn.name, &topic, Expect::Version(current.version)).await {
            Ok(_) => return Ok(()),
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// DeleteTopic: removes the topic and its subscriptions; idempotent. Deliveries still queued
/// find their subscription gone and are dropped.
pub async fn delete_topic(inner: &Inner, ctx: &RequestContext, input: api::DeleteTopicInput) -> Result<(), SnsError> {
    let arn = TopicArn::parse("TopicArn", &input.topic_arn)?;
    own_topic(ctx, &arn, "TopicArn", "DeleteTopic")?;
    let scope = scope(ctx);
    let subs = topic_subscriptions(inner, &scope, &arn.name).await?;
    let mut ops: Vec<WriteOp> = subs.iter().map(|s| WriteOp::delete::<Subscription>(&scope, store::subscription_key(&s.topic, &s.id), Expect::Any)).collect();
    ops.push(WriteOp::delete::<Topic>(&scope, arn.name.clone(), Expect::Any));
    inner.meta.apply(ops).await?;
    tracing::info!(topic = %arn, subscriptions = subs.len(), "topic deleted");
    Ok(())
}
