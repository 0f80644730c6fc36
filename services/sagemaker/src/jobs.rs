//! SageMaker's long work as durable jobs (`rt.jobs`): training jobs, and endpoint lifecycle
//! changes (create, weights/capacities update, delete). A job id is the resource's ARN (plus
//! the change's row version for updates), so a retried API call never starts the work twice,
//! and a node that dies mid-way leaves the job to another node, which resumes at the first
//! unfinished step.
//!
//! Training (`sagemaker.training`): `prepare` (validate the algorithm, hyper-parameters and
//! channels; `Starting` → `Downloading`), `train` (read the channels from S3, train on the
//! tabular engine, upload `model.tar.gz`; `Training` → `Uploading`; repeatable: it writes the
//! same key), `complete` (`Completed`, or `Stopped` / `MaxRuntimeExceeded`, with
//! `FinalMetricDataList`). A failure marks the job `Failed` with a `ClientError: …` or
//! `AlgorithmError: …` reason.
//!
//! Endpoints (`sagemaker.endpoint`): one step that loads every variant's model (an artifact
//! that cannot load marks the endpoint `Failed` with its `FailureReason`) and puts the
//! endpoint `InService`; or applies desired weights and capacities; or tears it down.

use crate::api;
use crate::domain::training::{self, Failure};
use crate::domain::artifact;
use crate::hosting::Hosting;
use crate::store::{self, EndpointConfigRecord, EndpointRecord, EndpointStatus, ModelRecord, TrainingJobRecord, VariantState};
use hearth_inference::tabular::{Engine, ModelFormat, TrainParams, TrainRequest, Xgb};
use hearth_protocol::types::Timestamp;
use hearth_runtime::jobs::{JobContext, JobError, JobHandler, StepOutcome};
use hearth_runtime::{Clock, Expect, MetaError, MetaStore, Scope};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the jobs share with the handlers.
pub struct Shared {
    pub meta: MetaStore,
    pub s3: hearth_s3::S3,
    pub clock: Arc<dyn Clock>,
    pub models_dir: PathBuf,
    pub engine: Engine,
    pub hosting: Arc<Hosting>,
    /// XGBoost threads per training job.
    pub training_threads: usize,
    /// Stop flags of the training jobs running on this node, by ARN.
    pub stops: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// Deployment guardrails: alarm source, settings, this node's live deployments.
    pub guardrails: crate::deployments::Guardrails,
}

impl Shared {
    fn now(&self) -> Timestamp {
        Timestamp(self.clock.now())
    }

    /// The stop flag of a training job (created on first use).
    pub fn stop_flag(&self, arn: &str) -> Arc<AtomicBool> {
        self.stops.lock().unwrap_or_else(|p| p.into_inner()).entry(arn.to_string()).or_default().clone()
    }
}

/// Keep at most this many log lines per training job.
const MAX_LOG_LINES: usize = 2000;

// ---------------------------------------------------------------------------------------------
// Training

/// State carried between a training job's steps.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainingState {
    /// The job's name.
    pub name: String,
    /// Final metrics of the run (`train:rmse`, `validation:rmse`).
    #[serde(default)]
    pub metrics: Vec<(String, f64)>,
    /// The uploaded artifact's URI.
    pub artifact: Option<String>,
    /// Stopped by StopTrainingJob.
    #[serde(default)]
    pub stopped: bool,
    /// Stopped by `MaxRuntimeInSeconds`.
    #[serde(default)]
    pub max_runtime_exceeded: bool,
    /// When the job was submitted (ms since the epoch): the API writes the record right after
    /// submitting, so a missing record is waited for a little while.
    #[serde(default)]
    pub submitted_ms: i64,
}

/// How long a job waits for the record its API call writes after submitting it.
const RECORD_GRACE: Duration = Duration::from_secs(30);
/// How often it looks meanwhile.
const RECORD_POLL: Duration = Duration::from_millis(20);

/// `Wait` while the record may still be written, `Finish` once it never will be.
fn record_missing(ctx: &JobContext, submitted_ms: i64) -> StepOutcome {
    let now_ms = (ctx.now().unix_timestamp_nanos() / 1_000_000) as i64;
    if now_ms - submitted_ms < RECORD_GRACE.as_millis() as i64 {
        StepOutcome::Wait(RECORD_POLL)
    } else {
        StepOutcome::Finish
    }
}

/// The training job runner.
pub struct TrainingJobs(pub Arc<Shared>);

async fn load_job(s: &Shared, scope: &Scope, name: &str) -> Result<(TrainingJobRecord, i64), JobError> {
    let r = s.meta.get::<TrainingJobRecord>(scope, &store::key(name)).await?.ok_or_else(|| JobError::fatal(format!("training job {name} vanished")))?;
    Ok((r.value, r.version))
}

async fn find_job(s: &Shared, scope: &Scope, name: &str) -> Result<Option<(TrainingJobRecord, i64)>, JobError> {
    Ok(s.meta.get::<TrainingJobRecord>(scope, &store::key(name)).await?.map(|r| (r.value, r.version)))
}

async fn save_job(s: &Shared, scope: &Scope, job: &TrainingJobRecord, version: i64) -> Result<i64, JobError> {
    match s.meta.put(scope, &store::key(&job.name), job, Expect::Version(version)).await {
        Ok(v) => Ok(v),
        // StopTrainingJob wrote in between: retry the step on the new row.
        Err(MetaError::ConditionFailed { .. }) => Err(JobError::retryable("training job record changed")),
        Err(e) => Err(e.into()),
    }
}

fn fail(f: Failure) -> JobError {
    JobError::fatal(f.reason())
}

#[async_trait::async_trait]
impl JobHandler for TrainingJobs {
    const KIND: &'static str = "sagemaker.training";
    type State = TrainingState;

    fn steps(&self) -> &'static [&'static str] {
        &["prepare", "train", "complete"]
    }

    async fn run_step(&self, ctx: &JobContext, step: usize, st: &mut TrainingState) -> Result<StepOutcome, JobError> {
        let s = &self.0;
        let Some((mut job, version)) = find_job(s, &ctx.scope, &st.name).await? else {
            return Ok(record_missing(ctx, st.submitted_ms));
        };
        if job.is_final() {
            return Ok(StepOutcome::Finish);
        }
        match step {
            0 => {
                if job.status == "Stopping" {
                    st.stopped = true;
                    return Ok(StepOutcome::Done);
                }
                let now = s.now();
                job.transition("Starting", "Preparing the instances for training", now);
                let image = job.request.algorithm_specification.as_ref().and_then(|a| a.training_image.clone().or_else(|| a.algorithm_name.clone())).unwrap_or_default();
                if !crate::domain::is_xgboost_image(&image) {
                    return Err(fail(Failure::Client(format!("Hearth runs SageMaker's built-in XGBoost algorithm; the training image {image} cannot run here"))));
                }
                TrainParams::from_hyperparameters(&job.request.hyper_parameters.clone().unwrap_or_default()).map_err(|e| fail(e.into()))?;
                let channels = job.request.input_data_config.clone().unwrap_or_default();
                if !channels.iter().any(|c| c.channel_name == "train") {
                    return Err(fail(Failure::Client("Channel 'train' is required: the algorithm needs training data".into())));
                }
                for c in &channels {
                    training::channel_format(&c.channel_name, c.content_type.as_deref()).map_err(fail)?;
                }
                job.training_start = Some(now);
                job.transition("Downloading", "Downloading input data", s.now());
                save_job(s, &ctx.scope, &job, version).await?;
                Ok(StepOutcome::Done)
            }
            1 => {
                if st.stopped || job.status == "Stopping" {
                    st.stopped = true;
                    return Ok(StepOutcome::Done);
                }
                self.train(ctx, st, job, version).await
            }
            _ => {
                let now = s.now();
                if st.max_runtime_exceeded {
                    job.status = "Stopped".into();
                    job.transition("MaxRuntimeExceeded", "Job stopped because max run time has been reached", now);
                } else if st.stopped || job.status == "Stopping" {
                    job.status = "Stopped".into();
                    job.transition("Stopped", "Training job stopped", now);
                } else {
                    job.status = "Completed".into();
                    job.transition("Completed", "Training job completed", now);
                }
                job.model_artifacts = st.artifact.clone();
                job.final_metrics = st
                    .metrics
                    .iter()
                    .map(|(n, v)| api::MetricData { metric_name: Some(n.clone()), value: Some(*v as f32), timestamp: Some(now) })
                    .collect();
                job.training_end = Some(now);
                save_job(s, &ctx.scope, &job, version).await?;
                s.stops.lock().unwrap_or_else(|p| p.into_inner()).remove(&job.arn);
                tracing::info!(job = %job.name, status = %job.status, "training job ended");
                Ok(StepOutcome::Done)
            }
        }
    }

    async fn on_failed(&self, ctx: &JobContext, st: &mut TrainingState, error: &str) {
        let s = &self.0;
        for _ in 0..5 {
            let Ok((mut job, version)) = load_job(s, &ctx.scope, &st.name).await else { return };
            if job.is_final() {
                return;
            }
            let now = s.now();
            job.status = "Failed".into();
            let reason = if error.starts_with("ClientError: ") || error.starts_with("AlgorithmError: ") { error.to_string() } else { format!("AlgorithmError: {error}") };
            job.failure_reason = Some(reason.clone());
            job.transition("Failed", &format!("Training job failed. Reason: {reason}"), now);
            job.training_end = Some(now);
            if save_job(s, &ctx.scope, &job, version).await.is_ok() {
                tracing::info!(job = %job.name, reason = %reason, "training job failed");
                s.stops.lock().unwrap_or_else(|p| p.into_inner()).remove(&job.arn);
                return;
            }
        }
    }
}

impl TrainingJobs {
    async fn train(&self, ctx: &JobContext, st: &mut TrainingState, mut job: TrainingJobRecord, version: i64) -> Result<StepOutcome, JobError> {
        let s = &self.0;
        let hp = job.request.hyper_parameters.clone().unwrap_or_default();
        let params = TrainParams::from_hyperparameters(&hp).map_err(|e| fail(e.into()))?;
        // Download and parse every channel.
        let mut train = None;
        let mut evals = Vec::new();
        for c in job.request.input_data_config.clone().unwrap_or_default() {
            let format = training::channel_format(&c.channel_name, c.content_type.as_deref()).map_err(fail)?;
            let src = c.data_source.s3_data_source.as_ref().ok_or_else(|| fail(Failure::Client(format!("Channel {}: only S3 data sources are supported", c.channel_name))))?;
            if src.s3_data_type != "S3Prefix" {
                return Err(fail(Failure::Client(format!("Channel {}: S3DataType {} is not supported by Hearth (use S3Prefix)", c.channel_name, src.s3_data_type))));
            }
            let files = self.download(&ctx.scope, &c.channel_name, &src.s3_uri).await?;
            let gzip = c.compression_type.as_deref() == Some("Gzip");
            let data = training::read_channel(&c.channel_name, files, format, gzip, params.csv_weights).map_err(fail)?;
            tracing::info!(job = %job.name, channel = %c.channel_name, rows = data.len(), features = data.features.cols(), "channel loaded");
            if c.channel_name == "train" {
                train = Some(data);
            } else if c.channel_name == "validation" {
                evals.push(("validation".to_string(), data));
            }
        }
        let train = train.ok_or_else(|| fail(Failure::Client("Channel 'train' is required: the algorithm needs training data".into())))?;
        job.transition("Training", "Training image download completed. Training in progress.", s.now());
        save_job(s, &ctx.scope, &job, version).await?;

        let models_dir = s.models_dir.clone();
        let xgb = tokio::task::spawn_blocking(move || Xgb::from_models_dir(&models_dir))
            .await
            .map_err(|e| JobError::retryable(e.to_string()))?
            .map_err(|e| fail(Failure::Algorithm(e.to_string())))?;
        let stop = s.stop_flag(&job.arn);
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let log_sink = log.clone();
        let name = job.name.clone();
        let on_round = Box::new(move |e: &hearth_inference::tabular::RoundEval| {
            let line = training::log_line(e);
            if e.round.checked_rem(10) == Some(0) {
                tracing::info!(job = %name, "{line}");
            }
            log_sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        });
        let max_runtime = job.request.stopping_condition.as_ref().and_then(|c| c.max_runtime_in_seconds).filter(|s| *s > 0).map(|s| Duration::from_secs(s as u64));
        let timed_out = Arc::new(AtomicBool::new(false));
        let timer = max_runtime.map(|d| {
            let (clock, stop, timed_out) = (s.clock.clone(), stop.clone(), timed_out.clone());
            tokio::spawn(async move {
                clock.sleep(d).await;
                timed_out.store(true, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
            })
        });
        let req = TrainRequest { xgb, params, train, evals, cancel: stop.clone(), threads: Some(s.training_threads), on_round };
        let out = s.engine.train(req).await;
        if let Some(t) = timer {
            t.abort();
        }
        let out = out.map_err(|e| fail(e.into()))?;
        st.stopped = out.cancelled && !timed_out.load(Ordering::SeqCst);
        st.max_runtime_exceeded = out.cancelled && timed_out.load(Ordering::SeqCst);
        st.metrics = training::final_metrics(out.evals.last());
        tracing::info!(job = %job.name, rounds = out.rounds, seconds = out.elapsed.as_secs_f64(), "training finished");

        if out.rounds > 0 {
            let output = job.request.output_data_config.s3_output_path.clone();
            let (bucket, key, uri) = training::artifact_location(&output, &job.name).ok_or_else(|| fail(Failure::Client(format!("S3OutputPath {output} is not an s3:// URI"))))?;
            let model = out.booster.save(ModelFormat::Ubjson).map_err(|e| fail(e.into()))?;
            let mtime = s.clock.now().unix_timestamp().max(0) as u64;
            let tgz = artifact::pack(&[(artifact::XGBOOST_MODEL_FILE, &model)], mtime).map_err(|e| JobError::retryable(e.to_string()))?;
            s.s3.write_object(&ctx.scope.account, &bucket, &key, &tgz, "application/x-tar").await.map_err(|e| {
                if e.status.is_server_error() {
                    JobError::retryable(e.message)
                } else {
                    fail(Failure::Client(format!("Could not upload the model to {uri}: {}", e.message)))
                }
            })?;
            st.artifact = Some(uri);
        }
        // Record the log (and the upload) on the job; StopTrainingJob may write meanwhile.
        let lines: Vec<String> = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for attempt in 0..5 {
            let (mut job, version) = load_job(s, &ctx.scope, &st.name).await?;
            job.log.extend(lines.iter().cloned());
            let excess = job.log.len().saturating_sub(MAX_LOG_LINES);
            job.log.drain(..excess);
            if st.artifact.is_some() {
                job.transition("Uploading", "Uploading generated training model", s.now());
            }
            match save_job(s, &ctx.scope, &job, version).await {
                Ok(_) => break,
                Err(e) if attempt == 4 => return Err(e),
                Err(_) => continue,
            }
        }
        Ok(StepOutcome::Done)
    }

    /// The objects of a channel's `S3Uri` (a prefix: every object under it, in key order).
    async fn download(&self, scope: &Scope, channel: &str, uri: &str) -> Result<Vec<(String, Vec<u8>)>, JobError> {
        let s = &self.0;
        let (bucket, prefix) = hearth_s3::internal::parse_s3_uri(uri).ok_or_else(|| fail(Failure::Client(format!("Channel {channel}: S3Uri {uri} is not an s3:// URI"))))?;
        let denied = |e: hearth_protocol::AwsError| {
            if e.status.is_server_error() {
                JobError::retryable(e.message)
            } else {
                fail(Failure::Client(format!("Data download failed:Could not download s3://{bucket}/{prefix}: {}", e.message)))
            }
        };
        let keys = s.s3.list_objects(&scope.account, &bucket, &prefix).await.map_err(denied)?;
        let mut files = Vec::new();
        for (key, _) in keys.into_iter().filter(|(k, _)| !k.ends_with('/')) {
            let bytes = s.s3.read_object(&scope.account, &bucket, &key).await.map_err(denied)?;
            files.push((key, bytes));
        }
        if files.is_empty() {
            return Err(fail(Failure::Client(format!("Data download failed:No data found in channel {channel} at {uri}"))));
        }
        Ok(files)
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/// What an endpoint job does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum EndpointAction {
    /// Deploy the endpoint's configuration and put it in service.
    Create,
    /// Apply desired weights and capacities (already validated).
    UpdateWeights(Vec<api::DesiredWeightAndCapacity>),
    /// Tear the endpoint down and forget it.
    Delete,
}

/// State of an endpoint job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointState {
    pub name: String,
    pub action: EndpointAction,
    /// When the job was submitted (ms since the epoch); see [`TrainingState::submitted_ms`].
    #[serde(default)]
    pub submitted_ms: i64,
}

/// The endpoint lifecycle runner.
pub struct EndpointJobs(pub Arc<Shared>);

/// The variants of an endpoint configuration as they deploy, with their models' containers.
pub async fn variant_states(meta: &MetaStore, scope: &Scope, config: &EndpointConfigRecord) -> Result<Vec<VariantState>, String> {
    let mut out = Vec::new();
    for pv in &config.production_variants {
        let model_name = pv.model_name.clone().unwrap_or_default();
        let model = meta
            .get::<ModelRecord>(scope, &store::key(&model_name))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("Could not find model \"{}\".", crate::domain::arn(scope, "model", &model_name)))?
            .value;
        let c = model.serving_container().cloned().unwrap_or_default();
        let weight = pv.initial_variant_weight.unwrap_or(1.0);
        out.push(VariantState {
            name: pv.variant_name.clone(),
            model_name: model.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            model_data_url: c.model_data_url.clone().or_else(|| c.model_data_source.as_ref().and_then(|s| s.s3_data_source.as_ref().map(|s| s.s3_uri.clone()))),
            environment: c.environment.clone().unwrap_or_default(),
            current_weight: weight,
            desired_weight: weight,
            instance_type: pv.instance_type.clone(),
            current_instance_count: pv.serverless_config.is_none().then(|| pv.initial_instance_count.unwrap_or(1)),
            desired_instance_count: pv.serverless_config.is_none().then(|| pv.initial_instance_count.unwrap_or(1)),
            current_serverless: pv.serverless_config.clone(),
            desired_serverless: pv.serverless_config.clone(),
        });
    }
    Ok(out)
}

#[async_trait::async_trait]
impl JobHandler for EndpointJobs {
    const KIND: &'static str = "sagemaker.endpoint";
    type State = EndpointState;

    fn steps(&self) -> &'static [&'static str] {
        &["apply"]
    }

    async fn run_step(&self, ctx: &JobContext, _step: usize, st: &mut EndpointState) -> Result<StepOutcome, JobError> {
        let s = &self.0;
        let key = store::key(&st.name);
        let Some(cur) = s.meta.get::<EndpointRecord>(&ctx.scope, &key).await? else {
            return Ok(match st.action {
                EndpointAction::Create => record_missing(ctx, st.submitted_ms),
                _ => StepOutcome::Finish,
            });
        };
        let (mut rec, version) = (cur.value, cur.version);
        match &st.action {
            EndpointAction::Create => {
                if rec.status != EndpointStatus::Creating {
                    return Ok(StepOutcome::Finish);
                }
                let config = s.meta.get::<EndpointConfigRecord>(&ctx.scope, &store::key(&rec.config_name)).await?;
                let variants = match config {
                    None => Err(format!("Could not find endpoint configuration \"{}\".", crate::domain::arn(&ctx.scope, "endpoint-config", &rec.config_name))),
                    Some(c) => variant_states(&s.meta, &ctx.scope, &c.value).await,
                };
                let outcome = match variants {
                    Err(reason) => Err(reason),
                    Ok(v) => {
                        rec.variants = v;
                        s.hosting.deploy(&ctx.scope, &rec).await
                    }
                };
                rec.last_modified = s.now();
                match &outcome {
                    Ok(_) => {
                        rec.status = EndpointStatus::InService;
                        rec.failure_reason = None;
                    }
                    Err(reason) => {
                        rec.status = EndpointStatus::Failed;
                        rec.failure_reason = Some(reason.clone());
                    }
                }
                let new_version = match s.meta.put(&ctx.scope, &key, &rec, Expect::Version(version)).await {
                    Ok(v) => v,
                    // Deleted or changed meanwhile: look again.
                    Err(MetaError::ConditionFailed { .. }) => return Err(JobError::retryable("endpoint record changed")),
                    Err(e) => return Err(e.into()),
                };
                match outcome {
                    Ok(fleet) => {
                        s.hosting.install(&ctx.scope, &rec, fleet, new_version);
                        tracing::info!(endpoint = %rec.name, "endpoint in service");
                    }
                    Err(reason) => tracing::info!(endpoint = %rec.name, reason = %reason, "endpoint failed"),
                }
                Ok(StepOutcome::Done)
            }
            EndpointAction::UpdateWeights(desired) => {
                if rec.status != EndpointStatus::Updating {
                    return Ok(StepOutcome::Finish);
                }
                for d in desired {
                    if let Some(v) = rec.variants.iter_mut().find(|v| v.name == d.variant_name) {
                        if let Some(w) = d.desired_weight {
                            v.desired_weight = w;
                            v.current_weight = w;
                        }
                        if let Some(c) = d.desired_instance_count {
                            v.desired_instance_count = Some(c);
                            v.current_instance_count = Some(c);
                        }
                        if let (Some(u), Some(cur)) = (&d.serverless_update_config, v.current_serverless.as_mut()) {
                            if let Some(m) = u.max_concurrency {
                                cur.max_concurrency = m;
                            }
                            if let Some(p) = u.provisioned_concurrency {
                                cur.provisioned_concurrency = Some(p);
                            }
                            v.desired_serverless = Some(cur.clone());
                        }
                    }
                }
                rec.status = EndpointStatus::InService;
                rec.last_modified = s.now();
                match s.meta.put(&ctx.scope, &key, &rec, Expect::Version(version)).await {
                    Ok(v) => s.hosting.sync(&ctx.scope, &rec, v),
                    Err(MetaError::ConditionFailed { .. }) => return Err(JobError::retryable("endpoint record changed")),
                    Err(e) => return Err(e.into()),
                }
                tracing::info!(endpoint = %rec.name, "endpoint weights and capacities updated");
                Ok(StepOutcome::Done)
            }
            EndpointAction::Delete => {
                s.hosting.remove(&ctx.scope, &rec.name);
                s.meta.delete::<EndpointRecord>(&ctx.scope, &key, Expect::Version(version)).await.map_err(|e| match e {
                    MetaError::ConditionFailed { .. } => JobError::retryable("endpoint record changed"),
                    e => e.into(),
                })?;
                tracing::info!(endpoint = %rec.name, "endpoint deleted");
                Ok(StepOutcome::Done)
            }
        }
    }

    async fn on_failed(&self, ctx: &JobContext, st: &mut EndpointState, error: &str) {
        let s = &self.0;
        let key = store::key(&st.name);
        let Ok(Some(cur)) = s.meta.get::<EndpointRecord>(&ctx.scope, &key).await else { return };
        let mut rec = cur.value;
        match st.action {
            EndpointAction::Create => {
                rec.status = EndpointStatus::Failed;
                rec.failure_reason = Some(format!("An internal error occurred while creating the endpoint: {error}"));
            }
            EndpointAction::UpdateWeights(_) => rec.status = EndpointStatus::InService,
            EndpointAction::Delete => rec.status = EndpointStatus::Failed,
        }
        rec.last_modified = s.now();
        let _ = s.meta.put(&ctx.scope, &key, &rec, Expect::Version(cur.version)).await;
    }
}
