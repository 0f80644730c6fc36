//! Tags on alarms: TagResource, UntagResource, ListTagsForResource. Tags live in the alarm
//! record; the resource is named by its ARN (`arn:aws:cloudwatch:<region>:<account>:alarm:<name>`).

use hearth_protocol::RequestContext;
use hearth_runtime::{Expect, MetaError};

use super::{check_len, scope};
use crate::api;
use crate::error::{CwError, CwResult};
use crate::jobs::Engine;
use crate::store::Alarm;

/// Validated tags as (key, value) pairs (at most 50, keys 1..=128, values 0..=256 characters).
pub fn check(tags: &[api::Tag]) -> CwResult<Vec<(String, String)>> {
    if tags.len() > 50 {
        return Err(CwError::InvalidParameterValue(
            "The collection Tags must not have a size greater than 50.".into(),
        ));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        check_len(&format!("Tags.member.{}.Key", i + 1), &t.key, 1, 128)?;
        check_len(&format!("Tags.member.{}.Value", i + 1), &t.value, 0, 256)?;
        match out.iter_mut().find(|(k, _)| *k == t.key) {
            Some(existing) => existing.1 = t.value.clone(),
            None => out.push((t.key.clone(), t.value.clone())),
        }
    }
    Ok(out)
}

fn alarm_name<'a>(ctx: &RequestContext, arn: &'a str) -> CwResult<&'a str> {
    let prefix = format!("arn:aws:cloudwatch:{}:{}:alarm:", ctx.region, ctx.account);
    arn.strip_prefix(prefix.as_str())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| not_found(arn))
}

fn not_found(arn: &str) -> CwError {
    CwError::ResourceNotFoundException(format!("The specified resource {arn} does not exist."))
}

async fn update(
    cw: &Engine,
    ctx: &RequestContext,
    arn: &str,
    change: impl Fn(&mut Vec<(String, String)>),
) -> CwResult<()> {
    let scope = scope(ctx);
    let name = alarm_name(ctx, arn)?;
    for _ in 0..5 {
        let current = cw
            .meta
            .get::<Alarm>(&scope, name)
            .await?
            .ok_or_else(|| not_found(arn))?;
        let mut next = current.value.clone();
        change(&mut next.tags);
        if next.tags.len() > 50 {
            return Err(CwError::InvalidParameterValue(
                "A resource can have at most 50 tags.".into(),
            ));
        }
        match cw
            .meta
            .put(&scope, name, &next, Expect::Version(current.version))
            .await
        {
            Ok(_) => return Ok(()),
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CwError::Internal(format!(
        "alarm {name} kept changing while being tagged"
    )))
}

/// TagResource.
pub async fn tag_resource(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::TagResourceInput,
) -> CwResult<()> {
    let tags = check(&req.tags)?;
    update(cw, ctx, &req.resource_arn, |current| {
        for (k, v) in &tags {
            match current.iter_mut().find(|(ck, _)| ck == k) {
                Some(e) => e.1 = v.clone(),
                None => current.push((k.clone(), v.clone())),
            }
        }
    })
    .await
}

/// UntagResource.
pub async fn untag_resource(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::UntagResourceInput,
) -> CwResult<()> {
    update(cw, ctx, &req.resource_arn, |current| {
        current.retain(|(k, _)| !req.tag_keys.contains(k))
    })
    .await
}

/// ListTagsForResource.
pub async fn list_tags_for_resource(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::ListTagsForResourceInput,
) -> CwResult<api::ListTagsForResourceOutput> {
    let name = alarm_name(ctx, &req.resource_arn)?;
    let alarm = cw
        .meta
        .get::<Alarm>(&scope(ctx), name)
        .await?
        .ok_or_else(|| not_found(&req.resource_arn))?;
    Ok(api::ListTagsForResourceOutput {
        tags: Some(
            alarm
                .value
                .tags
                .iter()
                .map(|(k, v)| api::Tag {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect(),
        ),
    })
}
