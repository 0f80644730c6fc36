//! The Fraud Detector's durable jobs:
//! - `frauddetector.train` trains a model version (step `train`: read the labelled events from
//!   S3 or the event store, engineer features, train XGBoost, calibrate, store the artifact;
//!   step `publish`: mark the version `TRAINING_COMPLETE` with its metrics, or `ERROR` with the
//!   data problem). A crash re-runs the unfinished step; a cancelled training stops between
//!   boosting rounds.
//! - `frauddetector.import` imports events from an S3 CSV file into the event store, writing
//!   the rows it refused to a CSV file under the job's output path.
//! - `frauddetector.delete_events` deletes the stored events of an event type.

use crate::domain::dataset::{parse_event_file, ENTITY_ID, ENTITY_TYPE, EVENT_ID};
use crate::domain::features::InputVariable;
use crate::domain::training::{self, Report, TrainConfig, TrainFailure, TrainRow};
use crate::domain::values::{parse_timestamp, to_millis, DataType};
use crate::handlers::events::{check_event, event_variables, NewEvent};
use crate::handlers::{get, list_all, Cx};
use crate::store::*;
use crate::Inner;
use hearth_runtime::jobs::{JobContext, JobError, JobHandler, StepOutcome};
use hearth_runtime::{Expect, WriteOp};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn cx_of(ctx: &JobContext) -> Cx {
    Cx::new(&ctx.scope.account, &ctx.scope.region, ctx.now())
}

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::retryable(e)
}

/// State of a training job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainState {
    pub model_id: String,
    pub model_type: String,
    pub version: String,
    /// The stored artifact, once trained.
    pub blob: Option<String>,
    pub report: Option<Report>,
    /// A data problem that failed the training: (title, content).
    pub failure: Option<(String, String)>,
}

/// Trains model versions.
pub struct TrainJob(pub Arc<Inner>);

/// Sets a flag when dropped: a cancelled step's future is dropped, and the training thread
/// sees the flag between boosting rounds and stops.
struct CancelOnDrop(Arc<AtomicBool>);
impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Fraud (true), legitimate (false) or dropped (None), by the schema's label mapper and
/// unlabeled-events treatment. A label the mapper does not name counts as unlabeled; `AUTO`
/// treats unlabeled events as legitimate, the common case of events nobody reported.
fn label_of(schema: &Schema, label: Option<&str>) -> Option<bool> {
    if let Some(l) = label {
        if schema.label_mapper.get("FRAUD").is_some_and(|v| v.iter().any(|x| x == l)) {
            return Some(true);
        }
        if schema.label_mapper.get("LEGIT").is_some_and(|v| v.iter().any(|x| x == l)) {
            return Some(false);
        }
    }
    match schema.unlabeled_events_treatment.as_deref().unwrap_or("IGNORE") {
        "FRAUD" => Some(true),
        "LEGIT" | "AUTO" => Some(false),
        _ => None,
    }
}

type Gathered = Result<Vec<TrainRow>, (String, String)>;

impl TrainJob {
    /// The labelled training rows, or a data problem (title, content).
    async fn gather(&self, ctx: &JobContext, v: &ModelVersionRec, event_type: &str) -> Result<Gathered, JobError> {
        let svc = &self.0;
        if let Some((location, _)) = &v.external_events {
            let Some((bucket, key)) = hearth_s3::internal::parse_s3_uri(location) else {
                return Ok(Err(("Invalid data location".into(), format!("{location} is not an S3 location."))));
            };
            let bytes = match svc.s3.read_object(&ctx.scope.account, &bucket, &key).await {
                Ok(b) => b,
                Err(e) => return Ok(Err(("Training data not readable".into(), format!("{location} could not be read: {}: {}", e.code, e.message)))),
            };
            let file = match parse_event_file(&bytes) {
                Ok(f) => f,
                Err(why) => return Ok(Err(("Invalid training data file".into(), why))),
            };
            let missing: Vec<&str> = v.schema.model_variables.iter().filter(|m| !file.variable_columns.contains(m)).map(String::as_str).collect();
            if !missing.is_empty() {
                return Ok(Err(("Missing variables".into(), format!("The training data has no column for the model variables {}.", missing.join(", ")))));
            }
            if !file.metadata_columns.iter().any(|c| c == "EVENT_LABEL") {
                return Ok(Err(("Missing EVENT_LABEL".into(), "The training data has no EVENT_LABEL column.".into())));
            }
            if !file.rejected.is_empty() {
                tracing::warn!(model = %v.model_id, rejected = file.rejected.len(), first = ?file.rejected.first(), "training rows skipped");
            }
            let rows = file
                .rows
                .into_iter()
                .filter_map(|r| {
                    let fraud = label_of(&v.schema, r.label.as_deref())?;
                    Some(TrainRow {
                        event_id: r.event_id.unwrap_or_else(|| format!("line-{}", r.line)),
                        entity_id: r.entity_id.unwrap_or_else(|| "unknown".into()),
                        ts_ms: r.ts_ms,
                        variables: r.variables,
                        fraud,
                    })
                })
                .collect();
            return Ok(Ok(rows));
        }
        let Some((start, end)) = &v.ingested_events else {
            return Ok(Err(("No training data".into(), "The model version names no training data.".into())));
        };
        svc.serving.flush().await;
        let (Some(s), Some(e)) = (parse_timestamp(start), parse_timestamp(end)) else {
            return Ok(Err(("Invalid time window".into(), "The ingested events time window is not valid.".into())));
        };
        let (s, e) = (to_millis(s), to_millis(e));
        let events = list_all::<EventRec>(svc, &ctx.scope, &format!("{event_type}/")).await.map_err(retry)?;
        let rows = events
            .into_iter()
            .map(|(_, ev)| ev)
            .filter(|ev| ev.ts_ms >= s && ev.ts_ms <= e)
            .filter_map(|ev| {
                let fraud = label_of(&v.schema, ev.label.as_deref())?;
                let entity_id = ev.entity_id().to_string();
                Some(TrainRow { event_id: ev.event_id, entity_id, ts_ms: ev.ts_ms, variables: ev.variables, fraud })
            })
            .collect();
        Ok(Ok(rows))
    }

    async fn train(&self, ctx: &JobContext, state: &mut TrainState) -> Result<StepOutcome, JobError> {
        let svc = &self.0;
        let key = model_version_key(&state.model_id, &state.model_type, &state.version);
        let Some(v) = get::<ModelVersionRec>(svc, &ctx.scope, &key).await.map_err(retry)? else {
            return Ok(StepOutcome::Finish);
        };
        if v.status != "TRAINING_IN_PROGRESS" {
            return Ok(StepOutcome::Finish);
        }
        let model = get::<ModelRec>(svc, &ctx.scope, &model_key(&v.model_id, &v.model_type)).await.map_err(retry)?.ok_or_else(|| JobError::fatal("the model was deleted"))?;
        let mut inputs = Vec::new();
        for name in &v.schema.model_variables {
            let var = get::<VariableRec>(svc, &ctx.scope, name).await.map_err(retry)?.ok_or_else(|| JobError::fatal(format!("the variable {name} was deleted")))?;
            inputs.push(InputVariable {
                name: var.name.clone(),
                data_type: DataType::parse(&var.data_type).unwrap_or(DataType::String),
                variable_type: var.variable_type.clone(),
                default_value: var.default_value.clone(),
            });
        }
        let rows = match self.gather(ctx, &v, &model.event_type).await? {
            Ok(r) => r,
            Err(failure) => {
                state.failure = Some(failure);
                return Ok(StepOutcome::Done);
            }
        };
        let xgb = svc.serving.xgb(&svc.rt.models_dir).map_err(|e| JobError::fatal(e.to_aws().message))?;
        let cfg = TrainConfig { inputs, aggregates: v.model_type == "TRANSACTION_FRAUD_INSIGHTS", threads: svc.train_threads };
        let cancel = Arc::new(AtomicBool::new(false));
        let _guard = CancelOnDrop(cancel.clone());
        let flag = cancel.clone();
        let n = rows.len();
        tracing::info!(model = %v.model_id, version = %v.version, events = n, "training started");
        let outcome = tokio::task::spawn_blocking(move || training::train(&xgb, &cfg, rows, &flag)).await.map_err(|e| JobError::fatal(format!("the training thread failed: {e}")))?;
        let (artifact, report) = match outcome {
            Ok(x) => x,
            Err(TrainFailure::Data { title, content }) => {
                state.failure = Some((title, content));
                return Ok(StepOutcome::Done);
            }
            Err(TrainFailure::Cancelled) => return Ok(StepOutcome::Finish),
            Err(TrainFailure::Engine(e)) => return Err(JobError::fatal(e)),
        };
        let bytes = artifact.to_bytes().map_err(JobError::fatal)?;
        let mut w = svc.rt.blobs.writer().await.map_err(retry)?;
        if let Err(e) = w.write(&bytes).await {
            let _ = w.abort().await;
            return Err(retry(e));
        }
        let blob = w.finish().await.map_err(retry)?;
        tracing::info!(model = %v.model_id, version = %v.version, auc = report.auc, rounds = report.rounds, seconds = report.training_seconds, "training finished");
        state.blob = Some(blob.as_str().to_string());
        state.report = Some(report);
        Ok(StepOutcome::Done)
    }

    async fn publish(&self, ctx: &JobContext, state: &mut TrainState) -> Result<StepOutcome, JobError> {
        let svc = &self.0;
        let cx = cx_of(ctx);
        let key = model_version_key(&state.model_id, &state.model_type, &state.version);
        let stored = svc.rt.meta.get::<ModelVersionRec>(&ctx.scope, &key).await.map_err(retry)?;
        let Some(stored) = stored.filter(|s| s.value.status == "TRAINING_IN_PROGRESS") else {
            // Deleted or cancelled meanwhile: the artifact is not needed.
            if let Some(b) = &state.blob {
                let _ = svc.rt.blobs.delete(&hearth_runtime::blob::BlobId(b.clone())).await;
            }
            return Ok(StepOutcome::Finish);
        };
        let mut v = stored.value;
        if let Some(f) = &state.failure {
            v.status = "ERROR".into();
            v.failure = Some(f.clone());
        } else {
            v.status = "TRAINING_COMPLETE".into();
            v.report = state.report.clone();
            v.artifact = state.blob.clone();
        }
        v.stamp = cx.touch(&v.stamp);
        svc.rt.meta.put(&ctx.scope, &key, &v, Expect::Version(stored.version)).await.map_err(retry)?;
        svc.serving.invalidate();
        tracing::info!(model = %v.model_id, version = %v.version, status = %v.status, "model version trained");
        Ok(StepOutcome::Done)
    }
}

#[async_trait::async_trait]
impl JobHandler for TrainJob {
    const KIND: &'static str = "frauddetector.train";
    type State = TrainState;

    fn steps(&self) -> &'static [&'static str] {
        &["train", "publish"]
    }

    async fn run_step(&self, ctx: &JobContext, step: usize, state: &mut TrainState) -> Result<StepOutcome, JobError> {
        match step {
            0 => self.train(ctx, state).await,
            _ => self.publish(ctx, state).await,
        }
    }

    async fn on_failed(&self, ctx: &JobContext, state: &mut TrainState, error: &str) {
        let svc = &self.0;
        let key = model_version_key(&state.model_id, &state.model_type, &state.version);
        if let Ok(Some(stored)) = svc.rt.meta.get::<ModelVersionRec>(&ctx.scope, &key).await {
            if stored.value.status == "TRAINING_IN_PROGRESS" {
                let mut v = stored.value;
                v.status = "ERROR".into();
                v.failure = Some(("Training failed".into(), error.to_string()));
                v.stamp = cx_of(ctx).touch(&v.stamp);
                if let Err(e) = svc.rt.meta.put(&ctx.scope, &key, &v, Expect::Version(stored.version)).await {
                    tracing::error!(error = %e, "failed training not recorded");
                }
                svc.serving.invalidate();
            }
        }
        tracing::warn!(model = %state.model_id, version = %state.version, error, "training failed");
    }
}

/// State of an import job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportState {
    pub job_id: String,
}

/// Imports events from S3.
pub struct ImportJob(pub Arc<Inner>);

impl ImportJob {
    async fn set(&self, ctx: &JobContext, job_id: &str, f: impl FnOnce(&mut BatchImportRec)) -> Result<Option<BatchImportRec>, JobError> {
        let svc = &self.0;
        let Some(stored) = svc.rt.meta.get::<BatchImportRec>(&ctx.scope, job_id).await.map_err(retry)? else { return Ok(None) };
        let mut r = stored.value;
        f(&mut r);
        svc.rt.meta.put(&ctx.scope, job_id, &r, Expect::Version(stored.version)).await.map_err(retry)?;
        Ok(Some(r))
    }

    async fn fail(&self, ctx: &JobContext, job_id: &str, reason: String) -> Result<StepOutcome, JobError> {
        let now = cx_of(ctx).now;
        self.set(ctx, job_id, |r| {
            r.status = "FAILED".into();
            r.failure_reason = Some(reason);
            r.completion_time = Some(now);
        })
        .await?;
        Ok(StepOutcome::Finish)
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[async_trait::async_trait]
impl JobHandler for ImportJob {
    const KIND: &'static str = "frauddetector.import";
    type State = ImportState;

    fn steps(&self) -> &'static [&'static str] {
        &["import"]
    }

    async fn run_step(&self, ctx: &JobContext, _step: usize, state: &mut ImportState) -> Result<StepOutcome, JobError> {
        let svc = &self.0;
        let cx = cx_of(ctx);
        let Some(job) = get::<BatchImportRec>(svc, &ctx.scope, &state.job_id).await.map_err(retry)? else { return Ok(StepOutcome::Finish) };
        if job.status == "CANCEL_IN_PROGRESS" {
            self.set(ctx, &state.job_id, |r| {
                r.status = "CANCELED".into();
                r.completion_time = Some(cx.now.clone());
            })
            .await?;
            return Ok(StepOutcome::Finish);
        }
        if !job.status.starts_with("IN_PROGRESS") {
            return Ok(StepOutcome::Finish);
        }
        self.set(ctx, &state.job_id, |r| r.status = "IN_PROGRESS".into()).await?;
        let Some(et) = get::<EventTypeRec>(svc, &ctx.scope, &job.event_type).await.map_err(retry)? else {
            return self.fail(ctx, &state.job_id, format!("The event type {} no longer exists.", job.event_type)).await;
        };
        let vars = event_variables(svc, &cx, &et).await.map_err(retry)?;
        let Some((bucket, key)) = hearth_s3::internal::parse_s3_uri(&job.input_path) else {
            return self.fail(ctx, &state.job_id, format!("{} is not an S3 location.", job.input_path)).await;
        };
        let bytes = match svc.s3.read_object(&ctx.scope.account, &bucket, &key).await {
            Ok(b) => b,
            Err(e) => return self.fail(ctx, &state.job_id, format!("{} could not be read: {}: {}", job.input_path, e.code, e.message)).await,
        };
        let file = match parse_event_file(&bytes) {
            Ok(f) => f,
            Err(why) => return self.fail(ctx, &state.job_id, why).await,
        };
        for required in [EVENT_ID, ENTITY_ID, ENTITY_TYPE] {
            if !file.metadata_columns.iter().any(|c| c == required) {
                return self.fail(ctx, &state.job_id, format!("The input file has no {required} column.")).await;
            }
        }
        let mut failed: Vec<(usize, String)> = file.rejected.clone();
        let total = file.rows.len() + file.rejected.len();
        let mut processed = 0usize;
        let mut stored = Vec::new();
        for row in &file.rows {
            let ev = NewEvent {
                event_id: row.event_id.as_deref().unwrap_or(""),
                timestamp: &row.timestamp,
                variables: &row.variables,
                entities: vec![(row.entity_type.clone().unwrap_or_default(), row.entity_id.clone().unwrap_or_default())],
                label: row.label.as_deref(),
                label_timestamp: row.label_timestamp.as_deref(),
            };
            let id_ok = !ev.event_id.is_empty() && ev.event_id.len() <= 64 && ev.event_id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !id_ok {
                failed.push((row.line, format!("EVENT_ID '{}' must be 1 to 64 characters of a-z, 0-9, _ and -.", ev.event_id)));
                continue;
            }
            match check_event(&et, &vars, &ev) {
                Ok(rec) => stored.push(rec),
                Err(why) => failed.push((row.line, why)),
            }
        }
        for chunk in stored.chunks(500) {
            // Stop between chunks when the job is cancelled.
            if let Some(j) = get::<BatchImportRec>(svc, &ctx.scope, &state.job_id).await.map_err(retry)? {
                if j.status == "CANCEL_IN_PROGRESS" {
                    self.set(ctx, &state.job_id, |r| {
                        r.status = "CANCELED".into();
                        r.processed = processed as i32;
                        r.completion_time = Some(cx.now.clone());
                    })
                    .await?;
                    return Ok(StepOutcome::Finish);
                }
            }
            let mut ops = Vec::with_capacity(chunk.len());
            for e in chunk {
                ops.push(WriteOp::put(&ctx.scope, event_key(&e.event_type, &e.event_id), e, Expect::Any).map_err(JobError::fatal)?);
            }
            svc.rt.meta.apply(ops).await.map_err(retry)?;
            for e in chunk {
                svc.serving.record_event(&ctx.scope, e);
            }
            processed += chunk.len();
            self.set(ctx, &state.job_id, |r| {
                r.processed = processed as i32;
                r.total = total as i32;
            })
            .await?;
        }
        failed.sort();
        if let Some((out_bucket, out_prefix)) = hearth_s3::internal::parse_s3_uri(&job.output_path) {
            let mut body = String::from("LINE_NUMBER,ERROR_MESSAGE\n");
            for (line, why) in &failed {
                body.push_str(&format!("{line},{}\n", csv_field(why)));
            }
            let key = if out_prefix.is_empty() || out_prefix.ends_with('/') { format!("{out_prefix}{}_failed_records.csv", state.job_id) } else { format!("{out_prefix}/{}_failed_records.csv", state.job_id) };
            if let Err(e) = svc.s3.write_object(&ctx.scope.account, &out_bucket, &key, body.as_bytes(), "text/csv").await {
                tracing::warn!(job = %state.job_id, error = %e.message, "failed-records file not written");
            }
        }
        let (n_failed, now) = (failed.len(), cx.now.clone());
        self.set(ctx, &state.job_id, |r| {
            r.status = "COMPLETE".into();
            r.processed = processed as i32;
            r.failed = n_failed as i32;
            r.total = total as i32;
            r.completion_time = Some(now);
        })
        .await?;
        tracing::info!(job = %state.job_id, imported = processed, failed = n_failed, "batch import finished");
        Ok(StepOutcome::Done)
    }

    async fn on_failed(&self, ctx: &JobContext, state: &mut ImportState, error: &str) {
        let _ = self.fail(ctx, &state.job_id, error.to_string()).await;
    }
}

/// Deletes the stored events of an event type (its state is the event type's name).
pub struct DeleteEventsJob(pub Arc<Inner>);

#[async_trait::async_trait]
impl JobHandler for DeleteEventsJob {
    const KIND: &'static str = "frauddetector.delete_events";
    type State = String;

    fn steps(&self) -> &'static [&'static str] {
        &["delete"]
    }

    async fn run_step(&self, ctx: &JobContext, _step: usize, event_type: &mut String) -> Result<StepOutcome, JobError> {
        let svc = &self.0;
        svc.serving.flush().await;
        let keys: Vec<String> = list_all::<EventRec>(svc, &ctx.scope, &format!("{event_type}/")).await.map_err(retry)?.into_iter().map(|(k, _)| k).collect();
        for chunk in keys.chunks(500) {
            let ops = chunk.iter().map(|k| WriteOp::delete::<EventRec>(&ctx.scope, k.clone(), Expect::Any)).collect();
            svc.rt.meta.apply(ops).await.map_err(retry)?;
        }
        svc.serving.forget_events(&ctx.scope, event_type);
        let rec = EventsDeletionRec { event_type: event_type.clone(), status: "COMPLETE".into() };
        svc.rt.meta.put(&ctx.scope, event_type, &rec, Expect::Any).await.map_err(retry)?;
        tracing::info!(event_type = %event_type, events = keys.len(), "events deleted");
        Ok(StepOutcome::Done)
    }

    async fn on_failed(&self, ctx: &JobContext, event_type: &mut String, _error: &str) {
        let rec = EventsDeletionRec { event_type: event_type.clone(), status: "FAILED".into() };
        let _ = self.0.rt.meta.put(&ctx.scope, event_type, &rec, Expect::Any).await;
    }
}
