//! Stored events: SendEvent, GetEvent, DeleteEvent, UpdateEventLabel, DeleteEventsByEventType,
//! GetDeleteEventsByEventTypeStatus. Stored events train `INGESTED_EVENTS` models and feed the
//! entity aggregates of Transaction Fraud Insights.

use super::event_types::require as require_event_type;
use super::{apply, get, Cx};
use crate::api;
use crate::domain::values::{iso, parse_timestamp, to_millis, typed_value, DataType};
use crate::error::{FdError, FdResult};
use crate::jobs::DeleteEventsJob;
use crate::store::{event_key, EventRec, EventTypeRec, EventsDeletionRec, VariableRec};
use crate::Inner;
use hearth_runtime::{Expect, SubmitOptions, WriteOp};
use std::collections::{BTreeMap, HashMap};

/// An event as a request or a file row gives it, before checks.
pub struct NewEvent<'a> {
    pub event_id: &'a str,
    pub timestamp: &'a str,
    pub variables: &'a BTreeMap<String, String>,
    pub entities: Vec<(String, String)>,
    pub label: Option<&'a str>,
    pub label_timestamp: Option<&'a str>,
}

/// The variables of an event type, by name.
pub async fn event_variables(svc: &Inner, cx: &Cx, et: &EventTypeRec) -> FdResult<HashMap<String, VariableRec>> {
    let mut out = HashMap::new();
    for name in &et.event_variables {
        if let Some(v) = get::<VariableRec>(svc, &cx.scope, name).await? {
            out.insert(name.clone(), v);
        }
    }
    Ok(out)
}

/// Check an event against its event type; `Err` is the reason it is refused.
pub fn check_event(et: &EventTypeRec, vars: &HashMap<String, VariableRec>, ev: &NewEvent) -> Result<EventRec, String> {
    let ts = parse_timestamp(ev.timestamp).ok_or_else(|| format!("The eventTimestamp '{}' is not a valid ISO 8601 timestamp.", ev.timestamp))?;
    if ev.variables.is_empty() {
        return Err("At least one event variable must be provided.".into());
    }
    for (name, value) in ev.variables {
        let Some(v) = vars.get(name) else {
            return Err(format!("The variable {name} is not part of the event type {}.", et.name));
        };
        let dt = DataType::parse(&v.data_type).unwrap_or(DataType::String);
        if let Err(why) = typed_value(dt, value) {
            return Err(format!("The value of the variable {name} is not a valid {}: {why}", dt.as_str()));
        }
    }
    if ev.entities.is_empty() {
        return Err("At least one entity must be provided.".into());
    }
    for (t, _) in &ev.entities {
        if !et.entity_types.contains(t) {
            return Err(format!("The entity type {t} is not part of the event type {}.", et.name));
        }
    }
    let label = match ev.label {
        None => None,
        Some(l) if et.labels.iter().any(|x| x == l) => Some(l.to_string()),
        Some(l) => return Err(format!("The label {l} is not part of the event type {}.", et.name)),
    };
    let label_timestamp = match (ev.label_timestamp, &label) {
        (Some(t), _) => Some(iso(parse_timestamp(t).ok_or_else(|| format!("The labelTimestamp '{t}' is not a valid ISO 8601 timestamp."))?)),
        (None, Some(_)) => Some(iso(ts)),
        (None, None) => None,
    };
    Ok(EventRec {
        event_id: ev.event_id.to_string(),
        event_type: et.name.clone(),
        timestamp: iso(ts),
        ts_ms: to_millis(ts),
        variables: ev.variables.clone(),
        entities: ev.entities.clone(),
        label,
        label_timestamp,
    })
}

pub async fn send_event(svc: &Inner, cx: &Cx, req: api::SendEventRequest) -> FdResult<api::SendEventResult> {
    let et = require_event_type(svc, cx, &req.event_type_name).await?;
    if !et.ingestion_enabled() {
        return Err(FdError::validation(format!("Event ingestion is DISABLED for the event type {}.", et.name)));
    }
    let vars = event_variables(svc, cx, &et).await?;
    let ev = NewEvent {
        event_id: &req.event_id,
        timestamp: &req.event_timestamp,
        variables: &req.event_variables,
        entities: req.entities.iter().map(|e| (e.entity_type.clone(), e.entity_id.clone())).collect(),
        label: req.assigned_label.as_deref(),
        label_timestamp: req.label_timestamp.as_deref(),
    };
    let rec = check_event(&et, &vars, &ev).map_err(FdError::Validation)?;
    svc.rt.meta.put(&cx.scope, &event_key(&rec.event_type, &rec.event_id), &rec, Expect::Any).await?;
    svc.serving.record_event(&cx.scope, &rec);
    tracing::debug!(event_type = %rec.event_type, event = %rec.event_id, "event stored");
    Ok(api::SendEventResult {})
}

/// The API view of a stored event.
pub fn to_api(e: &EventRec) -> api::Event {
    api::Event {
        event_id: Some(e.event_id.clone()),
        event_type_name: Some(e.event_type.clone()),
        event_timestamp: Some(e.timestamp.clone()),
        event_variables: Some(e.variables.clone()),
        current_label: e.label.clone(),
        label_timestamp: e.label_timestamp.clone(),
        entities: Some(e.entities.iter().map(|(t, id)| api::Entity { entity_type: t.clone(), entity_id: id.clone() }).collect()),
    }
}

pub async fn get_event(svc: &Inner, cx: &Cx, req: api::GetEventRequest) -> FdResult<api::GetEventResult> {
    svc.serving.flush().await;
    let e = get::<EventRec>(svc, &cx.scope, &event_key(&req.event_type_name, &req.event_id))
        .await?
        .ok_or_else(|| FdError::not_found(format!("The event {} of the event type {} does not exist.", req.event_id, req.event_type_name)))?;
    Ok(api::GetEventResult { event: Some(to_api(&e)) })
}

pub async fn delete_event(svc: &Inner, cx: &Cx, req: api::DeleteEventRequest) -> FdResult<api::DeleteEventResult> {
    svc.serving.flush().await;
    let key = event_key(&req.event_type_name, &req.event_id);
    if let Some(e) = get::<EventRec>(svc, &cx.scope, &key).await? {
        apply(svc, vec![WriteOp::delete::<EventRec>(&cx.scope, key, Expect::Any)], String::new).await?;
        svc.serving.remove_event(&cx.scope, &e.event_type, e.entity_id(), &e.event_id);
    }
    Ok(api::DeleteEventResult {})
}

pub async fn update_event_label(svc: &Inner, cx: &Cx, req: api::UpdateEventLabelRequest) -> FdResult<api::UpdateEventLabelResult> {
    svc.serving.flush().await;
    let et = require_event_type(svc, cx, &req.event_type_name).await?;
    let key = event_key(&req.event_type_name, &req.event_id);
    let stored = svc
        .rt
        .meta
        .get::<EventRec>(&cx.scope, &key)
        .await?
        .ok_or_else(|| FdError::not_found(format!("The event {} of the event type {} does not exist.", req.event_id, req.event_type_name)))?;
    if !et.labels.contains(&req.assigned_label) {
        return Err(FdError::validation(format!("The label {} is not part of the event type {}.", req.assigned_label, et.name)));
    }
    let ts = parse_timestamp(&req.label_timestamp).ok_or_else(|| FdError::validation(format!("The labelTimestamp '{}' is not a valid ISO 8601 timestamp.", req.label_timestamp)))?;
    let mut e = stored.value;
    e.label = Some(req.assigned_label);
    e.label_timestamp = Some(iso(ts));
    apply(svc, vec![WriteOp::put(&cx.scope, key, &e, Expect::Version(stored.version))?], || "The event was changed by another request; try again.".into()).await?;
    Ok(api::UpdateEventLabelResult {})
}

pub async fn delete_events_by_event_type(svc: &Inner, cx: &Cx, req: api::DeleteEventsByEventTypeRequest) -> FdResult<api::DeleteEventsByEventTypeResult> {
    svc.serving.flush().await;
    require_event_type(svc, cx, &req.event_type_name).await?;
    if let Some(d) = get::<EventsDeletionRec>(svc, &cx.scope, &req.event_type_name).await? {
        if d.status == "IN_PROGRESS" || d.status == "IN_PROGRESS_INITIALIZING" {
            return Err(FdError::conflict(format!("A deletion of the events of the event type {} is already in progress.", req.event_type_name)));
        }
    }
    let rec = EventsDeletionRec { event_type: req.event_type_name.clone(), status: "IN_PROGRESS".into() };
    svc.rt.meta.put(&cx.scope, &req.event_type_name, &rec, Expect::Any).await?;
    let job_id = format!("frauddetector-delete-events/{}/{}/{}/{}", cx.account, cx.region, req.event_type_name, cx.now_ms);
    svc.rt.jobs.submit_job::<DeleteEventsJob>(&cx.scope, &req.event_type_name, SubmitOptions::with_id(job_id)).await?;
    Ok(api::DeleteEventsByEventTypeResult { event_type_name: Some(req.event_type_name), events_deletion_status: Some("IN_PROGRESS".into()) })
}

pub async fn get_delete_events_by_event_type_status(svc: &Inner, cx: &Cx, req: api::GetDeleteEventsByEventTypeStatusRequest) -> FdResult<api::GetDeleteEventsByEventTypeStatusResult> {
    let d = get::<EventsDeletionRec>(svc, &cx.scope, &req.event_type_name)
        .await?
        .ok_or_else(|| FdError::not_found(format!("No deletion of the events of the event type {} was requested.", req.event_type_name)))?;
    Ok(api::GetDeleteEventsByEventTypeStatusResult { event_type_name: Some(d.event_type), events_deletion_status: Some(d.status) })
}
