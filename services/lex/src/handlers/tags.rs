//! Tags on bots, bot aliases and test sets: TagResource, UntagResource, ListTagsForResource.

use super::{not_found, Cx};
use crate::api;
use crate::error::{LexError, Result};
use crate::store;
use hearth_runtime::Expect;
use std::collections::BTreeMap;

/// What an ARN names.
enum Target {
    Bot(String),
    Alias(String, String),
    TestSet(String),
}

fn parse_arn(cx: &Cx<'_>, arn: &str) -> Result<Target> {
    let prefix = format!("arn:aws:lex:{}:{}:", cx.scope.region, cx.scope.account);
    let bad = || LexError::Validation(format!("The resource ARN {arn} is not valid."));
    let rest = arn.strip_prefix(&prefix).ok_or_else(bad)?;
    let (kind, path) = rest.split_once('/').ok_or_else(bad)?;
    match (kind, path.split('/').collect::<Vec<_>>().as_slice()) {
        ("bot", [b]) => Ok(Target::Bot(b.to_string())),
        ("bot-alias", [b, a]) => Ok(Target::Alias(b.to_string(), a.to_string())),
        ("test-set", [t]) => Ok(Target::TestSet(t.to_string())),
        _ => Err(bad()),
    }
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    for (k, v) in tags {
        if k.is_empty()
            || k.chars().count() > 128
            || v.chars().count() > 256
            || k.starts_with("aws:")
        {
            return Err(LexError::Validation(format!("The tag {k} is not valid: keys are 1 to 128 characters and may not start with 'aws:', values up to 256 characters.")));
        }
    }
    Ok(())
}

async fn update(
    cx: &Cx<'_>,
    arn: &str,
    f: impl FnOnce(&mut BTreeMap<String, String>),
) -> Result<BTreeMap<String, String>> {
    let meta = cx.meta();
    match parse_arn(cx, arn)? {
        Target::Bot(b) => {
            let cur = meta
                .get::<store::Bot>(&cx.scope, &b)
                .await?
                .ok_or_else(not_found)?;
            let mut v = cur.value;
            f(&mut v.tags);
            meta.put(&cx.scope, &b, &v, Expect::Version(cur.version))
                .await?;
            Ok(v.tags)
        }
        Target::Alias(b, a) => {
            let key = format!("{b}/{a}");
            let cur = meta
                .get::<store::Alias>(&cx.scope, &key)
                .await?
                .ok_or_else(not_found)?;
            let mut v = cur.value;
            f(&mut v.tags);
            meta.put(&cx.scope, &key, &v, Expect::Version(cur.version))
                .await?;
            Ok(v.tags)
        }
        Target::TestSet(t) => {
            let cur = meta
                .get::<store::TestSet>(&cx.scope, &t)
                .await?
                .ok_or_else(not_found)?;
            let mut v = cur.value;
            f(&mut v.tags);
            meta.put(&cx.scope, &t, &v, Expect::Version(cur.version))
                .await?;
            Ok(v.tags)
        }
    }
}

pub(crate) async fn tag_resource(
    cx: &Cx<'_>,
    req: api::TagResourceRequest,
) -> Result<api::TagResourceResponse> {
    check_tags(&req.tags)?;
    let tags = update(cx, &req.resource_arn, |t| t.extend(req.tags.clone())).await?;
    if tags.len() > 200 {
        return Err(LexError::Validation(
            "A resource can have at most 200 tags.".into(),
        ));
    }
    Ok(api::TagResourceResponse {})
}

pub(crate) async fn untag_resource(
    cx: &Cx<'_>,
    req: api::UntagResourceRequest,
) -> Result<api::UntagResourceResponse> {
    update(cx, &req.resource_arn, |t| {
        t.retain(|k, _| !req.tag_keys.contains(k))
    })
    .await?;
    Ok(api::UntagResourceResponse {})
}

pub(crate) async fn list_tags_for_resource(
    cx: &Cx<'_>,
    req: api::ListTagsForResourceRequest,
) -> Result<api::ListTagsForResourceResponse> {
    let meta = cx.meta();
    let tags = match parse_arn(cx, &req.resource_arn)? {
        Target::Bot(b) => {
            meta.get::<store::Bot>(&cx.scope, &b)
                .await?
                .ok_or_else(not_found)?
                .value
                .tags
        }
        Target::Alias(b, a) => {
            meta.get::<store::Alias>(&cx.scope, &format!("{b}/{a}"))
                .await?
                .ok_or_else(not_found)?
                .value
                .tags
        }
        Target::TestSet(t) => {
            meta.get::<store::TestSet>(&cx.scope, &t)
                .await?
                .ok_or_else(not_found)?
                .value
                .tags
        }
    };
    Ok(api::ListTagsForResourceResponse { tags: Some(tags) })
}
