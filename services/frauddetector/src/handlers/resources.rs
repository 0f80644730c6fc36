//! Entity types, labels and outcomes — three named resources with the same life cycle:
//! PutEntityType / GetEntityTypes / DeleteEntityType, PutLabel / GetLabels / DeleteLabel,
//! PutOutcome / GetOutcomes / DeleteOutcome. `Put*` creates or updates; `Delete*` of a missing
//! name succeeds; a name still in use cannot be deleted (`ConflictException`).

use super::{apply, get, list_all, max_results, page, tag_ops, untag_op, Cx};
use crate::api;
use crate::error::{FdError, FdResult};
use crate::store::{EntityTypeRec, EventTypeRec, LabelRec, NamedRec, OutcomeRec, RuleRec};
use crate::Inner;
use hearth_runtime::{Expect, Record, WriteOp};

/// A record kind holding a [`NamedRec`].
pub trait Named: Record + Clone {
    /// ARN resource type (`entity-type`, `label`, `outcome`).
    const RESOURCE: &'static str;
    /// How messages call it.
    const NOUN: &'static str;
    fn wrap(n: NamedRec) -> Self;
    fn named(&self) -> &NamedRec;
}

impl Named for EntityTypeRec {
    const RESOURCE: &'static str = "entity-type";
    const NOUN: &'static str = "entity type";
    fn wrap(n: NamedRec) -> Self {
        EntityTypeRec(n)
    }
    fn named(&self) -> &NamedRec {
        &self.0
    }
}

impl Named for LabelRec {
    const RESOURCE: &'static str = "label";
    const NOUN: &'static str = "label";
    fn wrap(n: NamedRec) -> Self {
        LabelRec(n)
    }
    fn named(&self) -> &NamedRec {
        &self.0
    }
}

impl Named for OutcomeRec {
    const RESOURCE: &'static str = "outcome";
    const NOUN: &'static str = "outcome";
    fn wrap(n: NamedRec) -> Self {
        OutcomeRec(n)
    }
    fn named(&self) -> &NamedRec {
        &self.0
    }
}

async fn put<T: Named>(svc: &Inner, cx: &Cx, name: &str, description: Option<String>, tags: &Option<Vec<api::Tag>>) -> FdResult<()> {
    let existing = svc.rt.meta.get::<T>(&cx.scope, name).await?;
    let (rec, expect, is_new) = match existing {
        Some(v) => {
            let old = v.value.named();
            let n = NamedRec { name: name.to_string(), description: description.or_else(|| old.description.clone()), stamp: cx.touch(&old.stamp) };
            (T::wrap(n), Expect::Version(v.version), false)
        }
        None => (T::wrap(NamedRec { name: name.to_string(), description, stamp: cx.stamp(&format!("{}/{name}", T::RESOURCE)) }), Expect::Absent, true),
    };
    let mut ops = vec![WriteOp::put(&cx.scope, name, &rec, expect)?];
    if is_new {
        ops.extend(tag_ops(&cx.scope, &rec.named().stamp.arn, tags)?);
    }
    apply(svc, ops, || format!("The {} {name} was changed by another request; try again.", T::NOUN)).await?;
    tracing::info!(kind = T::NOUN, %name, created = is_new, "resource stored");
    Ok(())
}

async fn list<T: Named>(svc: &Inner, cx: &Cx, name: Option<String>, token: Option<String>, max: usize) -> FdResult<(Vec<NamedRec>, Option<String>)> {
    if let Some(name) = name {
        let r = get::<T>(svc, &cx.scope, &name).await?.ok_or_else(|| FdError::not_found(format!("The {} {name} does not exist.", T::NOUN)))?;
        return Ok((vec![r.named().clone()], None));
    }
    let all: Vec<(String, NamedRec)> = list_all::<T>(svc, &cx.scope, "").await?.into_iter().map(|(k, v)| (k, v.named().clone())).collect();
    page(all, token.as_deref(), max)
}

async fn delete<T: Named>(svc: &Inner, cx: &Cx, name: &str, in_use: Option<String>) -> FdResult<()> {
    let Some(r) = get::<T>(svc, &cx.scope, name).await? else { return Ok(()) };
    if let Some(user) = in_use {
        return Err(FdError::conflict(format!("The {} {name} is used by {user} and cannot be deleted.", T::NOUN)));
    }
    apply(svc, vec![WriteOp::delete::<T>(&cx.scope, name, Expect::Any), untag_op(&cx.scope, &r.named().stamp.arn)], String::new).await
}

macro_rules! api_view {
    ($ty:ident, $n:expr) => {{
        let n: &NamedRec = $n;
        api::$ty {
            arn: Some(n.stamp.arn.clone()),
            created_time: Some(n.stamp.created.clone()),
            last_updated_time: Some(n.stamp.updated.clone()),
            description: n.description.clone(),
            name: Some(n.name.clone()),
        }
    }};
}

async fn event_type_using(svc: &Inner, cx: &Cx, pick: impl Fn(&EventTypeRec) -> bool) -> FdResult<Option<String>> {
    Ok(list_all::<EventTypeRec>(svc, &cx.scope, "").await?.into_iter().find(|(_, et)| pick(et)).map(|(_, et)| format!("the event type {}", et.name)))
}

pub async fn put_entity_type(svc: &Inner, cx: &Cx, req: api::PutEntityTypeRequest) -> FdResult<api::PutEntityTypeResult> {
    put::<EntityTypeRec>(svc, cx, &req.name, req.description, &req.tags).await?;
    Ok(api::PutEntityTypeResult {})
}

pub async fn get_entity_types(svc: &Inner, cx: &Cx, req: api::GetEntityTypesRequest) -> FdResult<api::GetEntityTypesResult> {
    let (items, next) = list::<EntityTypeRec>(svc, cx, req.name, req.next_token, max_results(req.max_results, 10)).await?;
    Ok(api::GetEntityTypesResult { entity_types: Some(items.iter().map(|n| api_view!(EntityType, n)).collect()), next_token: next })
}

pub async fn delete_entity_type(svc: &Inner, cx: &Cx, req: api::DeleteEntityTypeRequest) -> FdResult<api::DeleteEntityTypeResult> {
    let user = event_type_using(svc, cx, |et| et.entity_types.contains(&req.name)).await?;
    delete::<EntityTypeRec>(svc, cx, &req.name, user).await?;
    Ok(api::DeleteEntityTypeResult {})
}

pub async fn put_label(svc: &Inner, cx: &Cx, req: api::PutLabelRequest) -> FdResult<api::PutLabelResult> {
    put::<LabelRec>(svc, cx, &req.name, req.description, &req.tags).await?;
    Ok(api::PutLabelResult {})
}

pub async fn get_labels(svc: &Inner, cx: &Cx, req: api::GetLabelsRequest) -> FdResult<api::GetLabelsResult> {
    let (items, next) = list::<LabelRec>(svc, cx, req.name, req.next_token, max_results(req.max_results, 50)).await?;
    Ok(api::GetLabelsResult { labels: Some(items.iter().map(|n| api_view!(Label, n)).collect()), next_token: next })
}

pub async fn delete_label(svc: &Inner, cx: &Cx, req: api::DeleteLabelRequest) -> FdResult<api::DeleteLabelResult> {
    let user = event_type_using(svc, cx, |et| et.labels.contains(&req.name)).await?;
    delete::<LabelRec>(svc, cx, &req.name, user).await?;
    Ok(api::DeleteLabelResult {})
}

pub async fn put_outcome(svc: &Inner, cx: &Cx, req: api::PutOutcomeRequest) -> FdResult<api::PutOutcomeResult> {
    put::<OutcomeRec>(svc, cx, &req.name, req.description, &req.tags).await?;
    Ok(api::PutOutcomeResult {})
}

pub async fn get_outcomes(svc: &Inner, cx: &Cx, req: api::GetOutcomesRequest) -> FdResult<api::GetOutcomesResult> {
    let (items, next) = list::<OutcomeRec>(svc, cx, req.name, req.next_token, max_results(req.max_results, 100)).await?;
    Ok(api::GetOutcomesResult { outcomes: Some(items.iter().map(|n| api_view!(Outcome, n)).collect()), next_token: next })
}

pub async fn delete_outcome(svc: &Inner, cx: &Cx, req: api::DeleteOutcomeRequest) -> FdResult<api::DeleteOutcomeResult> {
    let user = list_all::<RuleRec>(svc, &cx.scope, "")
        .await?
        .into_iter()
        .find(|(_, r)| r.outcomes.contains(&req.name))
        .map(|(_, r)| format!("version {} of the rule {} of detector {}", r.version, r.rule_id, r.detector_id));
    delete::<OutcomeRec>(svc, cx, &req.name, user).await?;
    Ok(api::DeleteOutcomeResult {})
}
