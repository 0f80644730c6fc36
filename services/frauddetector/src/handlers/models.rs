//! Models and model versions: CreateModel, GetModels, UpdateModel, DeleteModel,
//! CreateModelVersion, UpdateModelVersion (retrain as a minor version), GetModelVersion,
//! DescribeModelVersions, UpdateModelVersionStatus, DeleteModelVersion.
//!
//! A model version trains as the durable job `frauddetector.train` (status
//! `TRAINING_IN_PROGRESS` → `TRAINING_COMPLETE`, or `ERROR` with the reason in its data
//! validation messages); `UpdateModelVersionStatus` makes a trained version `ACTIVE` (it can
//! then be used by detector versions) or `INACTIVE`, or cancels a training.

use super::event_types::require as require_event_type;
use super::{apply, get, list_all, max_results, page, tag_ops, untag_op, Cx};
use crate::api;
use crate::error::{FdError, FdResult};
use crate::jobs::{TrainJob, TrainState};
use crate::store::{model_key, model_version_key, parse_version, DetectorVersionRec, ModelRec, ModelVersionRec, Schema, VariableRec};
use crate::Inner;
use hearth_runtime::{Expect, SubmitOptions, WriteOp};
use std::collections::BTreeMap;

/// The model, or `ResourceNotFoundException`.
pub async fn require_model(svc: &Inner, cx: &Cx, id: &str, ty: &str) -> FdResult<ModelRec> {
    get::<ModelRec>(svc, &cx.scope, &model_key(id, ty)).await?.ok_or_else(|| FdError::not_found(format!("The model {id} of type {ty} does not exist.")))
}

/// The model version, or `ResourceNotFoundException`.
pub async fn require_version(svc: &Inner, cx: &Cx, id: &str, ty: &str, version: &str) -> FdResult<hearth_runtime::Versioned<ModelVersionRec>> {
    svc.rt
        .meta
        .get::<ModelVersionRec>(&cx.scope, &model_version_key(id, ty, version))
        .await?
        .ok_or_else(|| FdError::not_found(format!("The version {version} of the model {id} of type {ty} does not exist.")))
}

/// The durable job id of a training (unique per creation: a version number freed by a
/// deletion can be created and trained again).
pub fn train_job_id(cx: &Cx, id: &str, ty: &str, version: &str) -> String {
    format!("frauddetector-train/{}/{}/{id}/{ty}/{version}/{}", cx.account, cx.region, cx.now_ms)
}

pub async fn create_model(svc: &Inner, cx: &Cx, req: api::CreateModelRequest) -> FdResult<api::CreateModelResult> {
    require_event_type(svc, cx, &req.event_type_name).await.map_err(|_| FdError::validation(format!("The event type {} does not exist.", req.event_type_name)))?;
    let rec = ModelRec {
        model_id: req.model_id.clone(),
        model_type: req.model_type.clone(),
        description: req.description,
        event_type: req.event_type_name,
        stamp: cx.stamp(&format!("model/{}/{}", req.model_type, req.model_id)),
    };
    let mut ops = vec![WriteOp::put(&cx.scope, model_key(&rec.model_id, &rec.model_type), &rec, Expect::Absent)?];
    ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
    match svc.rt.meta.apply(ops).await {
        Ok(()) => {}
        Err(hearth_runtime::MetaError::ConditionFailed { .. }) => return Err(FdError::validation(format!("The model {} of type {} already exists.", rec.model_id, rec.model_type))),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(model = %rec.model_id, model_type = %rec.model_type, "model created");
    Ok(api::CreateModelResult {})
}

fn model_to_api(m: &ModelRec) -> api::Model {
    api::Model {
        arn: Some(m.stamp.arn.clone()),
        created_time: Some(m.stamp.created.clone()),
        last_updated_time: Some(m.stamp.updated.clone()),
        description: m.description.clone(),
        event_type_name: Some(m.event_type.clone()),
        model_id: Some(m.model_id.clone()),
        model_type: Some(m.model_type.clone()),
    }
}

pub async fn get_models(svc: &Inner, cx: &Cx, req: api::GetModelsRequest) -> FdResult<api::GetModelsResult> {
    let all: Vec<(String, ModelRec)> = list_all::<ModelRec>(svc, &cx.scope, "")
        .await?
        .into_iter()
        .filter(|(_, m)| req.model_id.as_ref().is_none_or(|id| &m.model_id == id) && req.model_type.as_ref().is_none_or(|t| &m.model_type == t))
        .collect();
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 10))?;
    Ok(api::GetModelsResult { models: Some(items.iter().map(model_to_api).collect()), next_token: next })
}

pub async fn update_model(svc: &Inner, cx: &Cx, req: api::UpdateModelRequest) -> FdResult<api::UpdateModelResult> {
    let key = model_key(&req.model_id, &req.model_type);
    let stored = svc.rt.meta.get::<ModelRec>(&cx.scope, &key).await?.ok_or_else(|| FdError::not_found(format!("The model {} of type {} does not exist.", req.model_id, req.model_type)))?;
    let mut m = stored.value;
    if req.description.is_some() {
        m.description = req.description;
    }
    m.stamp = cx.touch(&m.stamp);
    apply(svc, vec![WriteOp::put(&cx.scope, key, &m, Expect::Version(stored.version))?], || "The model was changed by another request; try again.".into()).await?;
    Ok(api::UpdateModelResult {})
}

async fn detector_versions_using(svc: &Inner, cx: &Cx, id: &str, ty: &str, version: Option<&str>) -> FdResult<Option<DetectorVersionRec>> {
    Ok(list_all::<DetectorVersionRec>(svc, &cx.scope, "")
        .await?
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d.model_versions.iter().any(|m| m.model_id == id && m.model_type == ty && version.is_none_or(|v| m.version == v))))
}

pub async fn delete_model(svc: &Inner, cx: &Cx, req: api::DeleteModelRequest) -> FdResult<api::DeleteModelResult> {
    let Some(m) = get::<ModelRec>(svc, &cx.scope, &model_key(&req.model_id, &req.model_type)).await? else { return Ok(api::DeleteModelResult {}) };
    if let Some(d) = detector_versions_using(svc, cx, &req.model_id, &req.model_type, None).await? {
        return Err(FdError::conflict(format!("The model {} is used by version {} of the detector {} and cannot be deleted.", req.model_id, d.version, d.detector_id)));
    }
    let versions = list_all::<ModelVersionRec>(svc, &cx.scope, &format!("{}/{}/", req.model_id, req.model_type)).await?;
    if let Some((_, v)) = versions.iter().find(|(_, v)| v.status == "TRAINING_IN_PROGRESS") {
        return Err(FdError::conflict(format!("The version {} of the model {} is training; cancel it before deleting the model.", v.version, req.model_id)));
    }
    let mut ops = vec![WriteOp::delete::<ModelRec>(&cx.scope, model_key(&req.model_id, &req.model_type), Expect::Any), untag_op(&cx.scope, &m.stamp.arn)];
    for (k, v) in &versions {
        ops.push(WriteOp::delete::<ModelVersionRec>(&cx.scope, k.clone(), Expect::Any));
        ops.push(untag_op(&cx.scope, &v.stamp.arn));
    }
    apply(svc, ops, String::new).await?;
    for (_, v) in versions {
        delete_artifact(svc, &v).await;
    }
    Ok(api::DeleteModelResult {})
}

async fn delete_artifact(svc: &Inner, v: &ModelVersionRec) {
    if let Some(blob) = &v.artifact {
        if let Err(e) = svc.rt.blobs.delete(&hearth_runtime::blob::BlobId(blob.clone())).await {
            tracing::warn!(error = %e, model = %v.model_id, version = %v.version, "model artifact not deleted");
        }
    }
}

/// Check a training data schema against the model's event type; returns it in stored form.
async fn check_schema(svc: &Inner, cx: &Cx, model: &ModelRec, s: &api::TrainingDataSchema) -> FdResult<Schema> {
    let et = require_event_type(svc, cx, &model.event_type).await?;
    if s.model_variables.len() < 2 {
        return Err(FdError::validation("The training data schema must have at least 2 model variables."));
    }
    if s.model_variables.len() > 100 {
        return Err(FdError::validation("The training data schema can have at most 100 model variables."));
    }
    for v in &s.model_variables {
        if !et.event_variables.contains(v) {
            return Err(FdError::validation(format!("The model variable {v} is not a variable of the event type {}.", et.name)));
        }
    }
    let (mapper, treatment) = match &s.label_schema {
        Some(ls) => (ls.label_mapper.clone().unwrap_or_default(), ls.unlabeled_events_treatment.clone()),
        None => (BTreeMap::new(), None),
    };
    let mut mapper = mapper;
    if mapper.is_empty() {
        // Without a mapper, the event type's labels named fraud / legit are used.
        for (class, want) in [("FRAUD", "fraud"), ("LEGIT", "legit")] {
            if let Some(l) = et.labels.iter().find(|l| l.eq_ignore_ascii_case(want)) {
                mapper.insert(class.to_string(), vec![l.clone()]);
            }
        }
    }
    for (class, labels) in &mapper {
        if class != "FRAUD" && class != "LEGIT" {
            return Err(FdError::validation(format!("The label mapper key {class} is not FRAUD or LEGIT.")));
        }
        for l in labels {
            if !et.labels.contains(l) {
                return Err(FdError::validation(format!("The label {l} in the label mapper is not a label of the event type {}.", et.name)));
            }
        }
    }
    if !mapper.contains_key("FRAUD") || !mapper.contains_key("LEGIT") {
        return Err(FdError::validation("The label schema must map both FRAUD and LEGIT to labels of the event type."));
    }
    Ok(Schema { model_variables: s.model_variables.clone(), label_mapper: mapper, unlabeled_events_treatment: Some(treatment.unwrap_or_else(|| "IGNORE".into())) })
}

/// (S3 location, role) of external events and (start, end) of ingested events.
type Sources = (Option<(String, String)>, Option<(String, String)>);

/// Check the data source details of a training.
fn check_source(model_type: &str, source: &str, external: &Option<api::ExternalEventsDetail>, ingested: &Option<api::IngestedEventsDetail>) -> FdResult<Sources> {
    if model_type == "ACCOUNT_TAKEOVER_INSIGHTS" {
        return Err(FdError::validation("Training ACCOUNT_TAKEOVER_INSIGHTS models is not supported by this server; use ONLINE_FRAUD_INSIGHTS or TRANSACTION_FRAUD_INSIGHTS."));
    }
    match source {
        "EXTERNAL_EVENTS" => {
            if model_type == "TRANSACTION_FRAUD_INSIGHTS" {
                return Err(FdError::validation("The TRANSACTION_FRAUD_INSIGHTS model type only supports INGESTED_EVENTS as training data source."));
            }
            let d = external.as_ref().ok_or_else(|| FdError::validation("externalEventsDetail is required when the trainingDataSource is EXTERNAL_EVENTS."))?;
            match hearth_s3::internal::parse_s3_uri(&d.data_location) {
                Some((_, key)) if !key.is_empty() => {}
                _ => return Err(FdError::validation(format!("The dataLocation {} must name a CSV file in S3 (s3://bucket/key).", d.data_location))),
            }
            Ok((Some((d.data_location.clone(), d.data_access_role_arn.clone())), None))
        }
        "INGESTED_EVENTS" => {
            let d = ingested.as_ref().ok_or_else(|| FdError::validation("ingestedEventsDetail is required when the trainingDataSource is INGESTED_EVENTS."))?;
            let w = &d.ingested_events_time_window;
            let start = crate::domain::values::parse_timestamp(&w.start_time).ok_or_else(|| FdError::validation(format!("The startTime {} is not a valid ISO 8601 timestamp.", w.start_time)))?;
            let end = crate::domain::values::parse_timestamp(&w.end_time).ok_or_else(|| FdError::validation(format!("The endTime {} is not a valid ISO 8601 timestamp.", w.end_time)))?;
            if start >= end {
                return Err(FdError::validation("The startTime of the ingested events time window must be before its endTime."));
            }
            Ok((None, Some((w.start_time.clone(), w.end_time.clone()))))
        }
        other => Err(FdError::validation(format!("Invalid trainingDataSource: {other}"))),
    }
}

/// Store a new version and start its training.
async fn start_training(svc: &Inner, cx: &Cx, mut rec: ModelVersionRec, tags: &Option<Vec<api::Tag>>) -> FdResult<()> {
    let key = model_version_key(&rec.model_id, &rec.model_type, &rec.version);
    let id = train_job_id(cx, &rec.model_id, &rec.model_type, &rec.version);
    rec.job_id = Some(id.clone());
    let mut ops = vec![WriteOp::put(&cx.scope, &key, &rec, Expect::Absent)?];
    ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, tags)?);
    apply(svc, ops, || format!("The version {} of the model {} is being created by another request.", rec.version, rec.model_id)).await?;
    let state = TrainState { model_id: rec.model_id.clone(), model_type: rec.model_type.clone(), version: rec.version.clone(), blob: None, report: None, failure: None };
    if let Err(e) = svc.rt.jobs.submit_job::<TrainJob>(&cx.scope, &state, SubmitOptions { max_attempts: 3, ..SubmitOptions::with_id(id) }).await {
        // Nothing half-created: the version goes when its training cannot be accepted.
        let _ = svc.rt.meta.apply(vec![WriteOp::delete::<ModelVersionRec>(&cx.scope, key, Expect::Any), untag_op(&cx.scope, &rec.stamp.arn)]).await;
        return Err(e.into());
    }
    tracing::info!(model = %rec.model_id, version = %rec.version, source = %rec.training_data_source, "model training accepted");
    Ok(())
}

pub async fn create_model_version(svc: &Inner, cx: &Cx, req: api::CreateModelVersionRequest) -> FdResult<api::CreateModelVersionResult> {
    let model = require_model(svc, cx, &req.model_id, &req.model_type).await?;
    let schema = check_schema(svc, cx, &model, &req.training_data_schema).await?;
    let (external, ingested) = check_source(&req.model_type, &req.training_data_source, &req.external_events_detail, &req.ingested_events_detail)?;
    let versions = list_all::<ModelVersionRec>(svc, &cx.scope, &format!("{}/{}/", req.model_id, req.model_type)).await?;
    let major = versions.iter().filter_map(|(_, v)| parse_version(&v.version)).map(|(a, _)| a).max().unwrap_or(0) + 1;
    let version = format!("{major}.0");
    let rec = ModelVersionRec {
        model_id: req.model_id.clone(),
        model_type: req.model_type.clone(),
        version: version.clone(),
        status: "TRAINING_IN_PROGRESS".into(),
        training_data_source: req.training_data_source,
        schema,
        external_events: external,
        ingested_events: ingested,
        report: None,
        failure: None,
        artifact: None,
        job_id: None,
        stamp: cx.stamp(&format!("model-version/{}/{}/{version}", req.model_type, req.model_id)),
    };
    start_training(svc, cx, rec, &req.tags).await?;
    Ok(api::CreateModelVersionResult { model_id: Some(req.model_id), model_type: Some(req.model_type), model_version_number: Some(version), status: Some("TRAINING_IN_PROGRESS".into()) })
}

pub async fn update_model_version(svc: &Inner, cx: &Cx, req: api::UpdateModelVersionRequest) -> FdResult<api::UpdateModelVersionResult> {
    require_model(svc, cx, &req.model_id, &req.model_type).await?;
    let major: u32 = req.major_version_number.parse().map_err(|_| FdError::validation(format!("The majorVersionNumber {} is not a whole number.", req.major_version_number)))?;
    let versions = list_all::<ModelVersionRec>(svc, &cx.scope, &format!("{}/{}/", req.model_id, req.model_type)).await?;
    let same_major: Vec<&ModelVersionRec> = versions.iter().map(|(_, v)| v).filter(|v| parse_version(&v.version).is_some_and(|(a, _)| a == major)).collect();
    let base = same_major.iter().find(|v| v.version == format!("{major}.0")).or(same_major.first()).ok_or_else(|| {
        FdError::not_found(format!("The model {} of type {} has no version {major}.0.", req.model_id, req.model_type))
    })?;
    if same_major.iter().any(|v| v.status == "TRAINING_IN_PROGRESS") {
        return Err(FdError::conflict(format!("A version {major}.x of the model {} is already training.", req.model_id)));
    }
    let (external, ingested) = check_source(&req.model_type, &base.training_data_source, &req.external_events_detail, &req.ingested_events_detail)?;
    let minor = same_major.iter().filter_map(|v| parse_version(&v.version)).map(|(_, b)| b).max().unwrap_or(0) + 1;
    let version = format!("{major}.{minor}");
    let rec = ModelVersionRec {
        model_id: req.model_id.clone(),
        model_type: req.model_type.clone(),
        version: version.clone(),
        status: "TRAINING_IN_PROGRESS".into(),
        training_data_source: base.training_data_source.clone(),
        schema: base.schema.clone(),
        external_events: external,
        ingested_events: ingested,
        report: None,
        failure: None,
        artifact: None,
        job_id: None,
        stamp: cx.stamp(&format!("model-version/{}/{}/{version}", req.model_type, req.model_id)),
    };
    start_training(svc, cx, rec, &req.tags).await?;
    Ok(api::UpdateModelVersionResult { model_id: Some(req.model_id), model_type: Some(req.model_type), model_version_number: Some(version), status: Some("TRAINING_IN_PROGRESS".into()) })
}

fn schema_to_api(s: &Schema) -> api::TrainingDataSchema {
    api::TrainingDataSchema {
        model_variables: s.model_variables.clone(),
        label_schema: Some(api::LabelSchema { label_mapper: Some(s.label_mapper.clone()), unlabeled_events_treatment: s.unlabeled_events_treatment.clone() }),
    }
}

fn external_to_api(v: &ModelVersionRec) -> Option<api::ExternalEventsDetail> {
    v.external_events.as_ref().map(|(l, r)| api::ExternalEventsDetail { data_location: l.clone(), data_access_role_arn: r.clone() })
}

fn ingested_to_api(v: &ModelVersionRec) -> Option<api::IngestedEventsDetail> {
    v.ingested_events.as_ref().map(|(s, e)| api::IngestedEventsDetail { ingested_events_time_window: api::IngestedEventsTimeWindow { start_time: s.clone(), end_time: e.clone() } })
}

pub async fn get_model_version(svc: &Inner, cx: &Cx, req: api::GetModelVersionRequest) -> FdResult<api::GetModelVersionResult> {
    let v = require_version(svc, cx, &req.model_id, &req.model_type, &req.model_version_number).await?.value;
    Ok(api::GetModelVersionResult {
        arn: Some(v.stamp.arn.clone()),
        external_events_detail: external_to_api(&v),
        ingested_events_detail: ingested_to_api(&v),
        model_id: Some(v.model_id.clone()),
        model_type: Some(v.model_type.clone()),
        model_version_number: Some(v.version.clone()),
        status: Some(v.status.clone()),
        training_data_schema: Some(schema_to_api(&v.schema)),
        training_data_source: Some(v.training_data_source.clone()),
    })
}

/// The training results of a version in both of AWS's shapes.
async fn results(svc: &Inner, cx: &Cx, v: &ModelVersionRec) -> FdResult<(Option<api::TrainingResult>, Option<api::TrainingResultV2>)> {
    let mut file_messages = Vec::new();
    let mut field_messages = Vec::new();
    if let Some((title, content)) = &v.failure {
        file_messages.push(api::FileValidationMessage { title: Some(title.clone()), content: Some(content.clone()), r#type: Some("ERROR".into()) });
    }
    let Some(r) = &v.report else {
        if file_messages.is_empty() {
            return Ok((None, None));
        }
        let dv = api::DataValidationMetrics { file_level_messages: Some(file_messages), field_level_messages: Some(vec![]) };
        return Ok((
            Some(api::TrainingResult { data_validation_metrics: Some(dv.clone()), ..Default::default() }),
            Some(api::TrainingResultV2 { data_validation_metrics: Some(dv), ..Default::default() }),
        ));
    };
    file_messages.push(api::FileValidationMessage {
        title: Some("Training summary".into()),
        content: Some(format!(
            "Trained {} boosting rounds on {} events in {:.2} s and validated on the latest {} events ({} fraud and {} legitimate events in all).",
            r.rounds, r.train_events, r.training_seconds, r.validation_events, r.fraud_events, r.legit_events
        )),
        r#type: Some("INFO".into()),
    });
    for (var, title, content) in &r.warnings {
        field_messages.push(api::FieldValidationMessage { field_name: Some(var.clone()), identifier: Some(var.clone()), title: Some(title.clone()), content: Some(content.clone()), r#type: Some("WARNING".into()) });
    }
    let dv = api::DataValidationMetrics { file_level_messages: Some(file_messages), field_level_messages: Some(field_messages) };
    let mut log_odds = Vec::new();
    for imp in &r.variable_importance {
        let name = imp.variables.first().cloned().unwrap_or_default();
        let vt = get::<VariableRec>(svc, &cx.scope, &name).await?.and_then(|x| x.variable_type).unwrap_or_default();
        log_odds.push(api::LogOddsMetric { variable_name: name, variable_type: vt, variable_importance: imp.importance });
    }
    let importance = api::VariableImportanceMetrics { log_odds_metrics: Some(log_odds) };
    let points: Vec<(f32, f32, f32, f32)> = r.thresholds.iter().map(|p| (p.fpr, p.precision, p.threshold, p.tpr)).collect();
    let v1 = api::TrainingResult {
        data_validation_metrics: Some(dv.clone()),
        training_metrics: Some(api::TrainingMetrics {
            auc: Some(r.auc),
            metric_data_points: Some(points.iter().map(|&(fpr, precision, threshold, tpr)| api::MetricDataPoint { fpr: Some(fpr), precision: Some(precision), threshold: Some(threshold), tpr: Some(tpr) }).collect()),
        }),
        variable_importance_metrics: Some(importance.clone()),
    };
    let range = api::UncertaintyRange { lower_bound_value: r.auc_lower, upper_bound_value: r.auc_upper };
    let metrics = if v.model_type == "TRANSACTION_FRAUD_INSIGHTS" {
        api::TrainingMetricsV2 {
            tfi: Some(api::TFITrainingMetricsValue {
                metric_data_points: Some(points.iter().map(|&(fpr, precision, threshold, tpr)| api::TFIMetricDataPoint { fpr: Some(fpr), precision: Some(precision), threshold: Some(threshold), tpr: Some(tpr) }).collect()),
                model_performance: Some(api::TFIModelPerformance { auc: Some(r.auc), uncertainty_range: Some(range) }),
            }),
            ..Default::default()
        }
    } else {
        api::TrainingMetricsV2 {
            ofi: Some(api::OFITrainingMetricsValue {
                metric_data_points: Some(points.iter().map(|&(fpr, precision, threshold, tpr)| api::OFIMetricDataPoint { fpr: Some(fpr), precision: Some(precision), threshold: Some(threshold), tpr: Some(tpr) }).collect()),
                model_performance: Some(api::OFIModelPerformance { auc: Some(r.auc), uncertainty_range: Some(range) }),
            }),
            ..Default::default()
        }
    };
    let v2 = api::TrainingResultV2 {
        data_validation_metrics: Some(dv),
        training_metrics_v2: Some(metrics),
        variable_importance_metrics: Some(importance),
        aggregated_variables_importance_metrics: r.aggregated_importance.as_ref().map(|a| api::AggregatedVariablesImportanceMetrics {
            log_odds_metrics: Some(vec![api::AggregatedLogOddsMetric { variable_names: a.variables.clone(), aggregated_variables_importance: a.importance }]),
        }),
    };
    Ok((Some(v1), Some(v2)))
}

pub async fn describe_model_versions(svc: &Inner, cx: &Cx, req: api::DescribeModelVersionsRequest) -> FdResult<api::DescribeModelVersionsResult> {
    if let (Some(id), Some(ty)) = (&req.model_id, &req.model_type) {
        require_model(svc, cx, id, ty).await?;
    }
    let prefix = match (&req.model_id, &req.model_type) {
        (Some(id), Some(ty)) => format!("{id}/{ty}/"),
        (Some(id), None) => format!("{id}/"),
        _ => String::new(),
    };
    let all: Vec<(String, ModelVersionRec)> = list_all::<ModelVersionRec>(svc, &cx.scope, &prefix)
        .await?
        .into_iter()
        .filter(|(_, v)| req.model_type.as_ref().is_none_or(|t| &v.model_type == t) && req.model_version_number.as_ref().is_none_or(|n| &v.version == n))
        .collect();
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 10))?;
    let mut out = Vec::with_capacity(items.len());
    for v in &items {
        let (r1, r2) = results(svc, cx, v).await?;
        out.push(api::ModelVersionDetail {
            arn: Some(v.stamp.arn.clone()),
            created_time: Some(v.stamp.created.clone()),
            last_updated_time: Some(v.stamp.updated.clone()),
            external_events_detail: external_to_api(v),
            ingested_events_detail: ingested_to_api(v),
            model_id: Some(v.model_id.clone()),
            model_type: Some(v.model_type.clone()),
            model_version_number: Some(v.version.clone()),
            status: Some(v.status.clone()),
            training_data_schema: Some(schema_to_api(&v.schema)),
            training_data_source: Some(v.training_data_source.clone()),
            training_result: r1,
            training_result_v2: r2,
        });
    }
    Ok(api::DescribeModelVersionsResult { model_version_details: Some(out), next_token: next })
}

pub async fn update_model_version_status(svc: &Inner, cx: &Cx, req: api::UpdateModelVersionStatusRequest) -> FdResult<api::UpdateModelVersionStatusResult> {
    let stored = require_version(svc, cx, &req.model_id, &req.model_type, &req.model_version_number).await?;
    let mut v = stored.value;
    let from = v.status.clone();
    match (from.as_str(), req.status.as_str()) {
        ("TRAINING_COMPLETE" | "INACTIVE", "ACTIVE") => {
            // The artifact must load before the version is declared usable.
            svc.serving.scorer(svc, &cx.scope, &v).await?;
        }
        ("ACTIVE", "ACTIVE") | ("INACTIVE", "INACTIVE") | ("TRAINING_CANCELLED", "TRAINING_CANCELLED") => return Ok(api::UpdateModelVersionStatusResult {}),
        ("ACTIVE", "INACTIVE") => {
            let versions = list_all::<DetectorVersionRec>(svc, &cx.scope, "").await?;
            if let Some((_, d)) = versions.iter().find(|(_, d)| d.status == "ACTIVE" && d.model_versions.iter().any(|m| m.model_id == v.model_id && m.model_type == v.model_type && m.version == v.version)) {
                return Err(FdError::conflict(format!(
                    "The version {} of the model {} is used by the ACTIVE version {} of the detector {}; deactivate the detector version first.",
                    v.version, v.model_id, d.version, d.detector_id
                )));
            }
        }
        ("TRAINING_IN_PROGRESS", "TRAINING_CANCELLED") => {
            if let Some(job) = &v.job_id {
                let _ = svc.rt.jobs.cancel(job).await;
            }
        }
        (f, t) => return Err(FdError::validation(format!("The status of the model version cannot change from {f} to {t}."))),
    }
    v.status = req.status.clone();
    v.stamp = cx.touch(&v.stamp);
    let key = model_version_key(&v.model_id, &v.model_type, &v.version);
    apply(svc, vec![WriteOp::put(&cx.scope, key, &v, Expect::Version(stored.version))?], || "The model version changed state during the request; try again.".into()).await?;
    tracing::info!(model = %v.model_id, version = %v.version, from = %from, to = %v.status, "model version status changed");
    Ok(api::UpdateModelVersionStatusResult {})
}

pub async fn delete_model_version(svc: &Inner, cx: &Cx, req: api::DeleteModelVersionRequest) -> FdResult<api::DeleteModelVersionResult> {
    let key = model_version_key(&req.model_id, &req.model_type, &req.model_version_number);
    let Some(v) = get::<ModelVersionRec>(svc, &cx.scope, &key).await? else { return Ok(api::DeleteModelVersionResult {}) };
    if let Some(d) = detector_versions_using(svc, cx, &req.model_id, &req.model_type, Some(&req.model_version_number)).await? {
        return Err(FdError::conflict(format!(
            "The version {} of the model {} is used by version {} of the detector {} and cannot be deleted.",
            v.version, v.model_id, d.version, d.detector_id
        )));
    }
    if v.status == "TRAINING_IN_PROGRESS" {
        return Err(FdError::conflict(format!("The version {} of the model {} is training; cancel it before deleting it.", v.version, v.model_id)));
    }
    apply(svc, vec![WriteOp::delete::<ModelVersionRec>(&cx.scope, key, Expect::Any), untag_op(&cx.scope, &v.stamp.arn)], String::new).await?;
    delete_artifact(svc, &v).await;
    Ok(api::DeleteModelVersionResult {})
}
