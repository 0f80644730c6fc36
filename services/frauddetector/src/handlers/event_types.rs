//! Event types: PutEventType, GetEventTypes, DeleteEventType.

use super::{apply, get, list_all, max_results, page, tag_ops, untag_op, Cx};
use crate::api;
use crate::error::{FdError, FdResult};
use crate::store::{DetectorRec, EntityTypeRec, EventRec, EventTypeRec, LabelRec, ModelRec, VariableRec};
use crate::Inner;
use hearth_runtime::{Expect, WriteOp};

/// The event type `name`, or `ResourceNotFoundException`.
pub async fn require(svc: &Inner, cx: &Cx, name: &str) -> FdResult<EventTypeRec> {
    get::<EventTypeRec>(svc, &cx.scope, name).await?.ok_or_else(|| FdError::not_found(format!("The event type {name} does not exist.")))
}

pub async fn put_event_type(svc: &Inner, cx: &Cx, req: api::PutEventTypeRequest) -> FdResult<api::PutEventTypeResult> {
    let mut seen = std::collections::HashSet::new();
    for v in &req.event_variables {
        if !seen.insert(v) {
            return Err(FdError::validation(format!("The variable {v} is listed more than once.")));
        }
        let var = get::<VariableRec>(svc, &cx.scope, v).await?.ok_or_else(|| FdError::validation(format!("The variable {v} does not exist.")))?;
        if var.data_source != "EVENT" {
            return Err(FdError::validation(format!("The variable {v} has the data source {}; an event type can only use EVENT variables.", var.data_source)));
        }
    }
    for l in req.labels.iter().flatten() {
        if get::<LabelRec>(svc, &cx.scope, l).await?.is_none() {
            return Err(FdError::validation(format!("The label {l} does not exist.")));
        }
    }
    for e in &req.entity_types {
        if get::<EntityTypeRec>(svc, &cx.scope, e).await?.is_none() {
            return Err(FdError::validation(format!("The entity type {e} does not exist.")));
        }
    }
    let existing = svc.rt.meta.get::<EventTypeRec>(&cx.scope, &req.name).await?;
    let (stamp, expect, old) = match &existing {
        Some(v) => (cx.touch(&v.value.stamp), Expect::Version(v.version), Some(&v.value)),
        None => (cx.stamp(&format!("event-type/{}", req.name)), Expect::Absent, None),
    };
    let rec = EventTypeRec {
        name: req.name.clone(),
        description: req.description.or_else(|| old.and_then(|o| o.description.clone())),
        event_variables: req.event_variables,
        labels: req.labels.unwrap_or_default(),
        entity_types: req.entity_types,
        event_ingestion: req.event_ingestion.or_else(|| old.map(|o| o.event_ingestion.clone())).unwrap_or_else(|| "ENABLED".into()),
        event_bridge_enabled: req.event_orchestration.map(|o| o.event_bridge_enabled).or_else(|| old.and_then(|o| o.event_bridge_enabled)),
        stamp,
    };
    let mut ops = vec![WriteOp::put(&cx.scope, &rec.name, &rec, expect)?];
    if existing.is_none() {
        ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
    }
    let name = rec.name.clone();
    apply(svc, ops, || format!("The event type {name} was changed by another request; try again.")).await?;
    tracing::info!(event_type = %rec.name, variables = rec.event_variables.len(), "event type stored");
    Ok(api::PutEventTypeResult {})
}

/// The API view of an event type, with statistics of its stored events.
async fn to_api(svc: &Inner, cx: &Cx, et: &EventTypeRec) -> FdResult<api::EventType> {
    let events = list_all::<EventRec>(svc, &cx.scope, &format!("{}/", et.name)).await?;
    let mut stats = api::IngestedEventStatistics { number_of_events: Some(events.len() as i64), event_data_size_in_bytes: Some(0), last_updated_time: Some(cx.now.clone()), ..Default::default() };
    if !events.is_empty() {
        let size: u64 = events.iter().map(|(_, e)| e.size()).sum();
        let least = events.iter().min_by_key(|(_, e)| e.ts_ms).map(|(_, e)| e.timestamp.clone());
        let most = events.iter().max_by_key(|(_, e)| e.ts_ms).map(|(_, e)| e.timestamp.clone());
        stats.event_data_size_in_bytes = Some(size as i64);
        stats.least_recent_event = least;
        stats.most_recent_event = most;
    }
    Ok(api::EventType {
        arn: Some(et.stamp.arn.clone()),
        created_time: Some(et.stamp.created.clone()),
        last_updated_time: Some(et.stamp.updated.clone()),
        description: et.description.clone(),
        entity_types: Some(et.entity_types.clone()),
        event_ingestion: Some(et.event_ingestion.clone()),
        event_orchestration: et.event_bridge_enabled.map(|b| api::EventOrchestration { event_bridge_enabled: b }),
        event_variables: Some(et.event_variables.clone()),
        ingested_event_statistics: Some(stats),
        labels: Some(et.labels.clone()),
        name: Some(et.name.clone()),
    })
}

pub async fn get_event_types(svc: &Inner, cx: &Cx, req: api::GetEventTypesRequest) -> FdResult<api::GetEventTypesResult> {
    if let Some(name) = req.name {
        let et = require(svc, cx, &name).await?;
        return Ok(api::GetEventTypesResult { event_types: Some(vec![to_api(svc, cx, &et).await?]), next_token: None });
    }
    let all = list_all::<EventTypeRec>(svc, &cx.scope, "").await?;
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 10))?;
    let mut out = Vec::with_capacity(items.len());
    for et in &items {
        out.push(to_api(svc, cx, et).await?);
    }
    Ok(api::GetEventTypesResult { event_types: Some(out), next_token: next })
}

pub async fn delete_event_type(svc: &Inner, cx: &Cx, req: api::DeleteEventTypeRequest) -> FdResult<api::DeleteEventTypeResult> {
    let Some(et) = get::<EventTypeRec>(svc, &cx.scope, &req.name).await? else { return Ok(api::DeleteEventTypeResult {}) };
    if let Some((_, d)) = list_all::<DetectorRec>(svc, &cx.scope, "").await?.into_iter().find(|(_, d)| d.event_type == req.name) {
        return Err(FdError::conflict(format!("The event type {} is used by the detector {} and cannot be deleted.", req.name, d.detector_id)));
    }
    if let Some((_, m)) = list_all::<ModelRec>(svc, &cx.scope, "").await?.into_iter().find(|(_, m)| m.event_type == req.name) {
        return Err(FdError::conflict(format!("The event type {} is used by the model {} and cannot be deleted.", req.name, m.model_id)));
    }
    // The type's stored events go with it, in batches.
    let keys: Vec<String> = list_all::<EventRec>(svc, &cx.scope, &format!("{}/", req.name)).await?.into_iter().map(|(k, _)| k).collect();
    for chunk in keys.chunks(500) {
        let ops = chunk.iter().map(|k| WriteOp::delete::<EventRec>(&cx.scope, k.clone(), Expect::Any)).collect();
        apply(svc, ops, String::new).await?;
    }
    apply(svc, vec![WriteOp::delete::<EventTypeRec>(&cx.scope, &req.name, Expect::Any), untag_op(&cx.scope, &et.stamp.arn)], String::new).await?;
    svc.serving.forget_events(&cx.scope, &req.name);
    tracing::info!(event_type = %req.name, events = keys.len(), "event type deleted");
    Ok(api::DeleteEventTypeResult {})
}
