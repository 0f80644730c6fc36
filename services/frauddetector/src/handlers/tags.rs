//! Tags and the account's encryption key: TagResource, UntagResource, ListTagsForResource,
//! GetKMSEncryptionKey, PutKMSEncryptionKey.

use super::{get, page, Cx};
use crate::api;
use crate::error::{FdError, FdResult};
use crate::store::*;
use crate::Inner;
use hearth_runtime::Expect;

/// Most tags a resource carries.
const MAX_TAGS: usize = 200;

/// Whether the resource an ARN names exists in the caller's account and region.
async fn exists(svc: &Inner, cx: &Cx, arn: &str) -> FdResult<bool> {
    let prefix = cx.arn("");
    let Some(resource) = arn.strip_prefix(&prefix) else { return Ok(false) };
    let parts: Vec<&str> = resource.split('/').collect();
    let s = &cx.scope;
    Ok(match parts.as_slice() {
        ["variable", n] => get::<VariableRec>(svc, s, n).await?.is_some(),
        ["entity-type", n] => get::<EntityTypeRec>(svc, s, n).await?.is_some(),
        ["label", n] => get::<LabelRec>(svc, s, n).await?.is_some(),
        ["outcome", n] => get::<OutcomeRec>(svc, s, n).await?.is_some(),
        ["event-type", n] => get::<EventTypeRec>(svc, s, n).await?.is_some(),
        ["list", n] => get::<ListRec>(svc, s, n).await?.is_some(),
        ["detector", n] => get::<DetectorRec>(svc, s, n).await?.is_some(),
        ["detector-version", d, v] => get::<DetectorVersionRec>(svc, s, &detector_version_key(d, v)).await?.is_some(),
        ["rule", d, r, v] => get::<RuleRec>(svc, s, &rule_key(d, r, v)).await?.is_some(),
        ["model", t, m] => get::<ModelRec>(svc, s, &model_key(m, t)).await?.is_some(),
        ["model-version", t, m, v] => get::<ModelVersionRec>(svc, s, &model_version_key(m, t, v)).await?.is_some(),
        ["batch-import", j] => get::<BatchImportRec>(svc, s, j).await?.is_some(),
        _ => false,
    })
}

async fn require(svc: &Inner, cx: &Cx, arn: &str) -> FdResult<()> {
    if exists(svc, cx, arn).await? {
        Ok(())
    } else {
        Err(FdError::not_found(format!("The resource {arn} does not exist.")))
    }
}

pub async fn tag_resource(svc: &Inner, cx: &Cx, req: api::TagResourceRequest) -> FdResult<api::TagResourceResult> {
    require(svc, cx, &req.resource_arn).await?;
    let mut rec = get::<TagsRec>(svc, &cx.scope, &req.resource_arn).await?.unwrap_or_default();
    for t in req.tags {
        if t.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(FdError::validation(format!("The tag key {} uses the reserved prefix aws:.", t.key)));
        }
        rec.tags.insert(t.key, t.value);
    }
    if rec.tags.len() > MAX_TAGS {
        return Err(FdError::validation(format!("A resource can have at most {MAX_TAGS} tags.")));
    }
    svc.rt.meta.put(&cx.scope, &req.resource_arn, &rec, Expect::Any).await?;
    Ok(api::TagResourceResult {})
}

pub async fn untag_resource(svc: &Inner, cx: &Cx, req: api::UntagResourceRequest) -> FdResult<api::UntagResourceResult> {
    require(svc, cx, &req.resource_arn).await?;
    if let Some(mut rec) = get::<TagsRec>(svc, &cx.scope, &req.resource_arn).await? {
        for k in &req.tag_keys {
            rec.tags.remove(k);
        }
        svc.rt.meta.put(&cx.scope, &req.resource_arn, &rec, Expect::Any).await?;
    }
    Ok(api::UntagResourceResult {})
}

pub async fn list_tags_for_resource(svc: &Inner, cx: &Cx, req: api::ListTagsForResourceRequest) -> FdResult<api::ListTagsForResourceResult> {
    require(svc, cx, &req.resource_arn).await?;
    let rec = get::<TagsRec>(svc, &cx.scope, &req.resource_arn).await?.unwrap_or_default();
    let items: Vec<(String, api::Tag)> = rec.tags.into_iter().map(|(k, v)| (k.clone(), api::Tag { key: k, value: v })).collect();
    let (tags, next) = page(items, req.next_token.as_deref(), super::max_results(req.max_results, 50))?;
    Ok(api::ListTagsForResourceResult { tags: Some(tags), next_token: next })
}

pub async fn get_kms_encryption_key(svc: &Inner, cx: &Cx) -> FdResult<api::GetKMSEncryptionKeyResult> {
    let arn = get::<KmsRec>(svc, &cx.scope, "key").await?.map(|k| k.arn).unwrap_or_else(|| "DEFAULT".into());
    Ok(api::GetKMSEncryptionKeyResult { kms_key: Some(api::KMSKey { kms_encryption_key_arn: Some(arn) }) })
}

pub async fn put_kms_encryption_key(svc: &Inner, cx: &Cx, req: api::PutKMSEncryptionKeyRequest) -> FdResult<api::PutKMSEncryptionKeyResult> {
    svc.rt.meta.put(&cx.scope, "key", &KmsRec { arn: req.kms_encryption_key_arn }, Expect::Any).await?;
    Ok(api::PutKMSEncryptionKeyResult {})
}
