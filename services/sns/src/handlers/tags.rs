//! Topic tags: ListTagsForResource, TagResource, UntagResource (at most 50 tags per topic).

use super::{own_topic, scope};
use crate::api;
use crate::domain::arn::TopicArn;
use crate::domain::topic::{check_tags, merge_tags, MAX_TAGS};
use crate::error::SnsError;
use crate::store::Topic;
use crate::Inner;
use hearth_protocol::RequestContext;
use hearth_runtime::{Expect, MetaError, Versioned};

async fn load(inner: &Inner, ctx: &RequestContext, arn: &str, action: &str) -> Result<(TopicArn, Versioned<Topic>), SnsError> {
    let arn = TopicArn::parse("ResourceArn", arn)?;
    own_topic(ctx, &arn, "ResourceArn", action)?;
    let topic = inner.meta.get::<Topic>(&scope(ctx), &arn.name).await?.ok_or(SnsError::ResourceNotFound)?;
    Ok((arn, topic))
}

/// ListTagsForResource.
pub async fn list_tags_for_resource(inner: &Inner, ctx: &RequestContext, input: api::ListTagsForResourceRequest) -> Result<api::ListTagsForResourceResponse, SnsError> {
    let (_, topic) = load(inner, ctx, &input.resource_arn, "ListTagsForResource").await?;
    let tags = topic.value.tags.into_iter().map(|(key, value)| api::Tag { key, value }).collect();
    Ok(api::ListTagsForResourceResponse { tags: Some(tags) })
}

/// TagResource: new values replace old ones of the same key.
pub async fn tag_resource(inner: &Inner, ctx: &RequestContext, input: api::TagResourceRequest) -> Result<api::TagResourceResponse, SnsError> {
    let new: Vec<(String, String)> = input.tags.into_iter().map(|t| (t.key, t.value)).collect();
    check_tags(&new)?;
    update(inner, ctx, &input.resource_arn, "TagResource", |tags| {
        merge_tags(tags, &new);
        if tags.len() > MAX_TAGS {
            return Err(SnsError::TagLimitExceeded);
        }
        Ok(())
    })
    .await?;
    Ok(api::TagResourceResponse {})
}

/// UntagResource: keys that are not there are ignored.
pub async fn untag_resource(inner: &Inner, ctx: &RequestContext, input: api::UntagResourceRequest) -> Result<api::UntagResourceResponse, SnsError> {
    update(inner, ctx, &input.resource_arn, "UntagResource", |tags| {
        tags.retain(|(k, _)| !input.tag_keys.contains(k));
        Ok(())
    })
    .await?;
    Ok(api::UntagResourceResponse {})
}

async fn update(
    inner: &Inner,
    ctx: &RequestContext,
    arn: &str,
    action: &str,
    change: impl Fn(&mut Vec<(String, String)>) -> Result<(), SnsError>,
) -> Result<(), SnsError> {
    loop {
        let (arn, current) = load(inner, ctx, arn, action).await?;
        let mut topic = current.value;
        change(&mut topic.tags)?;
        match inner.meta.put(&scope(ctx), &arn.name, &topic, Expect::Version(current.version)).await {
            Ok(_) => return Ok(()),
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
