//! Detectors and detector versions: PutDetector, GetDetectors, DescribeDetector,
//! DeleteDetector, CreateDetectorVersion, GetDetectorVersion, UpdateDetectorVersion,
//! UpdateDetectorVersionMetadata, UpdateDetectorVersionStatus, DeleteDetectorVersion.
//!
//! A version starts as `DRAFT` (editable), becomes `ACTIVE` (at most one per detector: the
//! version GetEventPrediction uses when none is named; activating one makes the previous active
//! version `INACTIVE` in the same atomic write) and can go back and forth between `ACTIVE` and
//! `INACTIVE`, never back to `DRAFT`.

use super::rules::{compile, schema_for};
use super::{apply, get, list_all, max_results, page, tag_ops, untag_op, Cx};
use crate::api;
use crate::error::{FdError, FdResult};
use crate::store::{detector_version_key, model_version_key, rule_key, DetectorRec, DetectorVersionRec, EventTypeRec, ExternalModelRec, ModelRec, ModelRef, ModelVersionRec, RuleRec};
use crate::Inner;
use hearth_runtime::{Expect, WriteOp};
use std::collections::HashSet;

/// The detector, or `ResourceNotFoundException`.
pub async fn require_detector(svc: &Inner, cx: &Cx, id: &str) -> FdResult<DetectorRec> {
    get::<DetectorRec>(svc, &cx.scope, id).await?.ok_or_else(|| FdError::not_found(format!("The detector {id} does not exist.")))
}

/// The detector version, or `ResourceNotFoundException`.
pub async fn require_version(svc: &Inner, cx: &Cx, id: &str, version: &str) -> FdResult<hearth_runtime::Versioned<DetectorVersionRec>> {
    svc.rt
        .meta
        .get::<DetectorVersionRec>(&cx.scope, &detector_version_key(id, version))
        .await?
        .ok_or_else(|| FdError::not_found(format!("The version {version} of the detector {id} does not exist.")))
}

pub async fn put_detector(svc: &Inner, cx: &Cx, req: api::PutDetectorRequest) -> FdResult<api::PutDetectorResult> {
    if get::<EventTypeRec>(svc, &cx.scope, &req.event_type_name).await?.is_none() {
        return Err(FdError::validation(format!("The event type {} does not exist.", req.event_type_name)));
    }
    let existing = svc.rt.meta.get::<DetectorRec>(&cx.scope, &req.detector_id).await?;
    let (stamp, expect, description) = match &existing {
        Some(v) => {
            if v.value.event_type != req.event_type_name {
                let has_versions = !list_all::<DetectorVersionRec>(svc, &cx.scope, &format!("{}/", req.detector_id)).await?.is_empty();
                let has_rules = !list_all::<RuleRec>(svc, &cx.scope, &format!("{}/", req.detector_id)).await?.is_empty();
                if has_versions || has_rules {
                    return Err(FdError::conflict(format!(
                        "The detector {} has rules or versions for the event type {}; its event type cannot change.",
                        req.detector_id, v.value.event_type
                    )));
                }
            }
            (cx.touch(&v.value.stamp), Expect::Version(v.version), req.description.or_else(|| v.value.description.clone()))
        }
        None => (cx.stamp(&format!("detector/{}", req.detector_id)), Expect::Absent, req.description),
    };
    let rec = DetectorRec { detector_id: req.detector_id.clone(), description, event_type: req.event_type_name, stamp };
    let mut ops = vec![WriteOp::put(&cx.scope, &rec.detector_id, &rec, expect)?];
    if existing.is_none() {
        ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
    }
    apply(svc, ops, || "The detector was changed by another request; try again.".into()).await?;
    tracing::info!(detector = %rec.detector_id, event_type = %rec.event_type, "detector stored");
    Ok(api::PutDetectorResult {})
}

fn detector_to_api(d: &DetectorRec) -> api::Detector {
    api::Detector {
        arn: Some(d.stamp.arn.clone()),
        created_time: Some(d.stamp.created.clone()),
        last_updated_time: Some(d.stamp.updated.clone()),
        description: d.description.clone(),
        detector_id: Some(d.detector_id.clone()),
        event_type_name: Some(d.event_type.clone()),
    }
}

pub async fn get_detectors(svc: &Inner, cx: &Cx, req: api::GetDetectorsRequest) -> FdResult<api::GetDetectorsResult> {
    if let Some(id) = req.detector_id {
        let d = require_detector(svc, cx, &id).await?;
        return Ok(api::GetDetectorsResult { detectors: Some(vec![detector_to_api(&d)]), next_token: None });
    }
    let all = list_all::<DetectorRec>(svc, &cx.scope, "").await?;
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 10))?;
    Ok(api::GetDetectorsResult { detectors: Some(items.iter().map(detector_to_api).collect()), next_token: next })
}

pub async fn describe_detector(svc: &Inner, cx: &Cx, req: api::DescribeDetectorRequest) -> FdResult<api::DescribeDetectorResult> {
    let d = require_detector(svc, cx, &req.detector_id).await?;
    let all = list_all::<DetectorVersionRec>(svc, &cx.scope, &format!("{}/", req.detector_id)).await?;
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 2500))?;
    Ok(api::DescribeDetectorResult {
        arn: Some(d.stamp.arn.clone()),
        detector_id: Some(d.detector_id),
        detector_version_summaries: Some(
            items
                .iter()
                .map(|v| api::DetectorVersionSummary { description: v.description.clone(), detector_version_id: Some(v.version.clone()), last_updated_time: Some(v.stamp.updated.clone()), status: Some(v.status.clone()) })
                .collect(),
        ),
        next_token: next,
    })
}

pub async fn delete_detector(svc: &Inner, cx: &Cx, req: api::DeleteDetectorRequest) -> FdResult<api::DeleteDetectorResult> {
    let Some(d) = get::<DetectorRec>(svc, &cx.scope, &req.detector_id).await? else { return Ok(api::DeleteDetectorResult {}) };
    if !list_all::<DetectorVersionRec>(svc, &cx.scope, &format!("{}/", req.detector_id)).await?.is_empty() {
        return Err(FdError::conflict(format!("The detector {} has detector versions; delete them before deleting the detector.", req.detector_id)));
    }
    if !list_all::<RuleRec>(svc, &cx.scope, &format!("{}/", req.detector_id)).await?.is_empty() {
        return Err(FdError::conflict(format!("The detector {} has rules; delete them before deleting the detector.", req.detector_id)));
    }
    apply(svc, vec![WriteOp::delete::<DetectorRec>(&cx.scope, &req.detector_id, Expect::Any), untag_op(&cx.scope, &d.stamp.arn)], String::new).await?;
    Ok(api::DeleteDetectorResult {})
}

/// What a detector version holds, checked and in stored form.
struct Content {
    rules: Vec<(String, String)>,
    models: Vec<ModelRef>,
    endpoints: Vec<String>,
}

/// Check the rules, model versions and external models of a detector version.
async fn check_content(svc: &Inner, cx: &Cx, d: &DetectorRec, rules: &[api::Rule], models: &[api::ModelVersion], endpoints: &[String]) -> FdResult<Content> {
    let mut seen_endpoints = HashSet::new();
    for e in endpoints {
        let m = get::<ExternalModelRec>(svc, &cx.scope, e).await?.ok_or_else(|| FdError::not_found(format!("The external model {e} does not exist.")))?;
        if m.status != "ASSOCIATED" {
            return Err(FdError::validation(format!("The external model {e} is {}; only ASSOCIATED external models can be used in a detector version.", m.status)));
        }
        if m.input_event_type.as_ref().is_some_and(|t| *t != d.event_type) {
            return Err(FdError::validation(format!("The external model {e} takes events of another type than the detector's ({}).", d.event_type)));
        }
        if !seen_endpoints.insert(e.clone()) {
            return Err(FdError::validation(format!("The external model {e} is listed more than once.")));
        }
    }
    if rules.is_empty() {
        return Err(FdError::validation("A detector version needs at least one rule."));
    }
    let mut model_refs = Vec::new();
    let mut model_ids = HashSet::new();
    for m in models {
        let v = get::<ModelVersionRec>(svc, &cx.scope, &model_version_key(&m.model_id, &m.model_type, &m.model_version_number))
            .await?
            .ok_or_else(|| FdError::not_found(format!("The version {} of the model {} of type {} does not exist.", m.model_version_number, m.model_id, m.model_type)))?;
        if v.status != "ACTIVE" {
            return Err(FdError::validation(format!("The version {} of the model {} is {}; only ACTIVE model versions can be used in a detector version.", v.version, v.model_id, v.status)));
        }
        let model = get::<ModelRec>(svc, &cx.scope, &crate::store::model_key(&m.model_id, &m.model_type)).await?;
        if model.as_ref().is_some_and(|mm| mm.event_type != d.event_type) {
            return Err(FdError::validation(format!("The model {} is trained for another event type than the detector's ({}).", m.model_id, d.event_type)));
        }
        if !model_ids.insert(m.model_id.clone()) {
            return Err(FdError::validation(format!("The model {} is listed more than once; a detector version uses one version of each model.", m.model_id)));
        }
        model_refs.push(ModelRef { model_id: m.model_id.clone(), model_type: m.model_type.clone(), version: m.model_version_number.clone() });
    }
    let schema = schema_for(svc, cx, &d.event_type).await?;
    let mut seen = HashSet::new();
    let mut rule_refs = Vec::new();
    for r in rules {
        if r.detector_id != d.detector_id {
            return Err(FdError::validation(format!("The rule {} belongs to the detector {}, not {}.", r.rule_id, r.detector_id, d.detector_id)));
        }
        if !seen.insert(r.rule_id.clone()) {
            return Err(FdError::validation(format!("The rule {} is listed more than once.", r.rule_id)));
        }
        let rec = get::<RuleRec>(svc, &cx.scope, &rule_key(&r.detector_id, &r.rule_id, &r.rule_version))
            .await?
            .ok_or_else(|| FdError::not_found(format!("The version {} of the rule {} of the detector {} does not exist.", r.rule_version, r.rule_id, r.detector_id)))?;
        let expr = compile(&rec.expression, &schema)?;
        for var in expr.variables() {
            if let Some(model) = var.strip_suffix("_insightscore") {
                if schema.variables.contains_key(&var) && !model_ids.contains(model) {
                    return Err(FdError::validation(format!(
                        "The rule {} uses ${var}, but the detector version has no version of the model {model}; add it to modelVersions.",
                        r.rule_id
                    )));
                }
            }
        }
        rule_refs.push((r.rule_id.clone(), r.rule_version.clone()));
    }
    Ok(Content { rules: rule_refs, models: model_refs, endpoints: endpoints.to_vec() })
}

fn mode(m: Option<String>) -> String {
    m.unwrap_or_else(|| "FIRST_MATCHED".into())
}

pub async fn create_detector_version(svc: &Inner, cx: &Cx, req: api::CreateDetectorVersionRequest) -> FdResult<api::CreateDetectorVersionResult> {
    let d = require_detector(svc, cx, &req.detector_id).await?;
    let content = check_content(svc, cx, &d, &req.rules, req.model_versions.as_deref().unwrap_or(&[]), req.external_model_endpoints.as_deref().unwrap_or(&[])).await?;
    let existing = list_all::<DetectorVersionRec>(svc, &cx.scope, &format!("{}/", d.detector_id)).await?;
    let next = existing.iter().filter_map(|(_, v)| v.version.parse::<u32>().ok()).max().unwrap_or(0) + 1;
    let version = next.to_string();
    let rec = DetectorVersionRec {
        detector_id: d.detector_id.clone(),
        version: version.clone(),
        description: req.description,
        status: "DRAFT".into(),
        rules: content.rules,
        model_versions: content.models,
        external_model_endpoints: content.endpoints,
        rule_execution_mode: mode(req.rule_execution_mode),
        stamp: cx.stamp(&format!("detector-version/{}/{version}", d.detector_id)),
    };
    let mut ops = vec![WriteOp::put(&cx.scope, detector_version_key(&d.detector_id, &version), &rec, Expect::Absent)?];
    ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
    apply(svc, ops, || "Another request created a version of this detector at the same time; try again.".into()).await.map_err(|e| match e {
        FdError::Conflict(m) => FdError::Validation(m),
        other => other,
    })?;
    tracing::info!(detector = %rec.detector_id, version = %version, rules = rec.rules.len(), models = rec.model_versions.len(), "detector version created");
    Ok(api::CreateDetectorVersionResult { detector_id: Some(d.detector_id), detector_version_id: Some(version), status: Some("DRAFT".into()) })
}

pub async fn get_detector_version(svc: &Inner, cx: &Cx, req: api::GetDetectorVersionRequest) -> FdResult<api::GetDetectorVersionResult> {
    let v = require_version(svc, cx, &req.detector_id, &req.detector_version_id).await?.value;
    let mut models = Vec::new();
    for m in &v.model_versions {
        let arn = get::<ModelVersionRec>(svc, &cx.scope, &model_version_key(&m.model_id, &m.model_type, &m.version)).await?.map(|x| x.stamp.arn);
        models.push(api::ModelVersion { arn, model_id: m.model_id.clone(), model_type: m.model_type.clone(), model_version_number: m.version.clone() });
    }
    Ok(api::GetDetectorVersionResult {
        arn: Some(v.stamp.arn.clone()),
        created_time: Some(v.stamp.created.clone()),
        last_updated_time: Some(v.stamp.updated.clone()),
        description: v.description.clone(),
        detector_id: Some(v.detector_id.clone()),
        detector_version_id: Some(v.version.clone()),
        external_model_endpoints: Some(v.external_model_endpoints.clone()),
        model_versions: Some(models),
        rule_execution_mode: Some(v.rule_execution_mode.clone()),
        rules: Some(v.rules.iter().map(|(id, ver)| api::Rule { detector_id: v.detector_id.clone(), rule_id: id.clone(), rule_version: ver.clone() }).collect()),
        status: Some(v.status.clone()),
    })
}

pub async fn update_detector_version(svc: &Inner, cx: &Cx, req: api::UpdateDetectorVersionRequest) -> FdResult<api::UpdateDetectorVersionResult> {
    let d = require_detector(svc, cx, &req.detector_id).await?;
    let stored = require_version(svc, cx, &req.detector_id, &req.detector_version_id).await?;
    let mut v = stored.value;
    if v.status != "DRAFT" {
        return Err(FdError::conflict(format!("The version {} of the detector {} is {}; only DRAFT versions can be updated.", v.version, v.detector_id, v.status)));
    }
    let content = check_content(svc, cx, &d, &req.rules, req.model_versions.as_deref().unwrap_or(&[]), &req.external_model_endpoints).await?;
    v.rules = content.rules;
    v.model_versions = content.models;
    v.external_model_endpoints = content.endpoints;
    if req.description.is_some() {
        v.description = req.description;
    }
    if let Some(m) = req.rule_execution_mode {
        v.rule_execution_mode = m;
    }
    v.stamp = cx.touch(&v.stamp);
    apply(svc, vec![WriteOp::put(&cx.scope, detector_version_key(&v.detector_id, &v.version), &v, Expect::Version(stored.version))?], || {
        "The detector version was changed by another request; try again.".into()
    })
    .await?;
    Ok(api::UpdateDetectorVersionResult {})
}

pub async fn update_detector_version_metadata(svc: &Inner, cx: &Cx, req: api::UpdateDetectorVersionMetadataRequest) -> FdResult<api::UpdateDetectorVersionMetadataResult> {
    let stored = require_version(svc, cx, &req.detector_id, &req.detector_version_id).await?;
    let mut v = stored.value;
    v.description = Some(req.description);
    v.stamp = cx.touch(&v.stamp);
    apply(svc, vec![WriteOp::put(&cx.scope, detector_version_key(&v.detector_id, &v.version), &v, Expect::Version(stored.version))?], || {
        "The detector version was changed by another request; try again.".into()
    })
    .await?;
    Ok(api::UpdateDetectorVersionMetadataResult {})
}

pub async fn update_detector_version_status(svc: &Inner, cx: &Cx, req: api::UpdateDetectorVersionStatusRequest) -> FdResult<api::UpdateDetectorVersionStatusResult> {
    let stored = require_version(svc, cx, &req.detector_id, &req.detector_version_id).await?;
    let mut v = stored.value;
    let from = v.status.clone();
    if from == req.status {
        return Ok(api::UpdateDetectorVersionStatusResult {});
    }
    let mut ops = Vec::new();
    match (from.as_str(), req.status.as_str()) {
        ("DRAFT" | "INACTIVE", "ACTIVE") => {
            for m in &v.model_versions {
                let mv = get::<ModelVersionRec>(svc, &cx.scope, &model_version_key(&m.model_id, &m.model_type, &m.version)).await?;
                match mv {
                    Some(mv) if mv.status == "ACTIVE" => {}
                    Some(mv) => return Err(FdError::validation(format!("The version {} of the model {} is {}; activate it before activating the detector version.", mv.version, mv.model_id, mv.status))),
                    None => return Err(FdError::validation(format!("The version {} of the model {} no longer exists.", m.version, m.model_id))),
                }
            }
            for e in &v.external_model_endpoints {
                match get::<ExternalModelRec>(svc, &cx.scope, e).await? {
                    Some(m) if m.status == "ASSOCIATED" => {}
                    Some(m) => return Err(FdError::validation(format!("The external model {e} is {}; associate it before activating the detector version.", m.status))),
                    None => return Err(FdError::validation(format!("The external model {e} no longer exists."))),
                }
            }
            // One active version per detector: the current one becomes INACTIVE in the same write.
            for (key, other) in list_all::<DetectorVersionRec>(svc, &cx.scope, &format!("{}/", v.detector_id)).await? {
                if other.status == "ACTIVE" && other.version != v.version {
                    let current = svc.rt.meta.get::<DetectorVersionRec>(&cx.scope, &key).await?;
                    if let Some(current) = current {
                        let mut o = current.value;
                        o.status = "INACTIVE".into();
                        o.stamp = cx.touch(&o.stamp);
                        ops.push(WriteOp::put(&cx.scope, key, &o, Expect::Version(current.version))?);
                    }
                }
            }
        }
        ("ACTIVE", "INACTIVE") => {}
        (f, t) => return Err(FdError::validation(format!("The status of a detector version cannot change from {f} to {t}."))),
    }
    v.status = req.status.clone();
    v.stamp = cx.touch(&v.stamp);
    ops.push(WriteOp::put(&cx.scope, detector_version_key(&v.detector_id, &v.version), &v, Expect::Version(stored.version))?);
    apply(svc, ops, || "Another request changed the detector's versions at the same time; try again.".into()).await?;
    tracing::info!(detector = %v.detector_id, version = %v.version, from = %from, to = %v.status, "detector version status changed");
    Ok(api::UpdateDetectorVersionStatusResult {})
}

pub async fn delete_detector_version(svc: &Inner, cx: &Cx, req: api::DeleteDetectorVersionRequest) -> FdResult<api::DeleteDetectorVersionResult> {
    let v = require_version(svc, cx, &req.detector_id, &req.detector_version_id).await?.value;
    if v.status == "ACTIVE" {
        return Err(FdError::conflict(format!("The version {} of the detector {} is ACTIVE; deactivate it before deleting it.", v.version, v.detector_id)));
    }
    apply(svc, vec![WriteOp::delete::<DetectorVersionRec>(&cx.scope, detector_version_key(&v.detector_id, &v.version), Expect::Any), untag_op(&cx.scope, &v.stamp.arn)], String::new).await?;
    Ok(api::DeleteDetectorVersionResult {})
}
