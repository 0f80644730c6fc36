//! CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob. The training
//! itself is a durable job ([`crate::jobs::TrainingJobs`]).

use super::Ctx;
use crate::api;
use crate::domain::listing::{self, ListParams, Listed};
use crate::domain::validate::{Violations, NAME_PATTERN};
use crate::domain::{arn, instance_types};
use crate::error::SageMakerError;
use crate::jobs::{TrainingJobs, TrainingState};
use crate::store::{self, TrainingJobRecord};
use hearth_protocol::types::Timestamp;
use hearth_runtime::jobs::SubmitOptions;
use hearth_runtime::{Expect, ListQuery, MetaError};
use std::sync::atomic::Ordering;

impl Listed for TrainingJobRecord {
    fn name(&self) -> &str {
        &self.name
    }
    fn created(&self) -> Timestamp {
        self.created
    }
    fn modified(&self) -> Option<Timestamp> {
        Some(self.last_modified)
    }
    fn status(&self) -> Option<&str> {
        Some(&self.status)
    }
}

fn not_found() -> SageMakerError {
    SageMakerError::validation("Requested resource not found.")
}

fn check(req: &api::CreateTrainingJobRequest) -> Result<(), SageMakerError> {
    let mut v = Violations::new();
    v.name("trainingJobName", &req.training_job_name, NAME_PATTERN);
    v.role("roleArn", &req.role_arn);
    v.s3_uri("outputDataConfig.s3OutputPath", &req.output_data_config.s3_output_path);
    if let Some(a) = &req.algorithm_specification {
        v.one_of("algorithmSpecification.trainingInputMode", &a.training_input_mode, &["Pipe", "File", "FastFile"]);
        if let Some(img) = &a.training_image {
            v.max_len("algorithmSpecification.trainingImage", img, 255);
        }
    }
    if let Some(chans) = &req.input_data_config {
        v.list_len("inputDataConfig", chans.len(), 1, Some(20));
        for (i, c) in chans.iter().enumerate() {
            let p = format!("inputDataConfig.{}.member", i + 1);
            v.max_len(&format!("{p}.channelName"), &c.channel_name, 64);
            if c.channel_name.is_empty() || !c.channel_name.chars().all(|ch| ch.is_ascii_alphanumeric() || ".-_".contains(ch)) {
                v.pattern(&format!("{p}.channelName"), &c.channel_name, "[A-Za-z0-9\\.\\-_]+");
            }
            if let Some(s3) = &c.data_source.s3_data_source {
                v.s3_uri(&format!("{p}.dataSource.s3DataSource.s3Uri"), &s3.s3_uri);
                v.one_of(&format!("{p}.dataSource.s3DataSource.s3DataType"), &s3.s3_data_type, &["ManifestFile", "S3Prefix", "AugmentedManifestFile", "Converse"]);
            }
            if let Some(ct) = &c.compression_type {
                v.one_of(&format!("{p}.compressionType"), ct, &["None", "Gzip"]);
            }
        }
    }
    if let Some(r) = &req.resource_config {
        if let Some(t) = &r.instance_type {
            v.one_of("resourceConfig.instanceType", t, instance_types::TRAINING);
        }
        if let Some(n) = r.instance_count {
            v.int_range("resourceConfig.instanceCount", n as i64, Some(0), None);
        }
    }
    if let Some(s) = &req.stopping_condition {
        if let Some(m) = s.max_runtime_in_seconds {
            v.int_range("stoppingCondition.maxRuntimeInSeconds", m as i64, Some(1), None);
        }
    }
    if let Some(hp) = &req.hyper_parameters {
        if hp.len() > 100 {
            v.list_len("hyperParameters", hp.len(), 0, Some(100));
        }
        for (k, val) in hp {
            v.max_len("hyperParameters", k, 256);
            v.max_len("hyperParameters", val, 2500);
        }
    }
    v.finish()?;
    let spec = req.algorithm_specification.as_ref().ok_or_else(|| SageMakerError::validation("AlgorithmSpecification is required."))?;
    if spec.training_image.as_deref().is_none_or(str::is_empty) && spec.algorithm_name.as_deref().is_none_or(str::is_empty) {
        return Err(SageMakerError::validation("Either TrainingImage or AlgorithmName must be specified in AlgorithmSpecification."));
    }
    if req.input_data_config.as_ref().is_none_or(Vec::is_empty) {
        return Err(SageMakerError::validation("InputDataConfig is required: the built-in XGBoost algorithm needs a 'train' channel."));
    }
    Ok(())
}

pub async fn create_training_job(ctx: &Ctx, req: api::CreateTrainingJobRequest) -> Result<api::CreateTrainingJobResponse, SageMakerError> {
    check(&req)?;
    let job_arn = arn(&ctx.scope, "training-job", &req.training_job_name);
    let key = store::key(&req.training_job_name);
    let in_use = || SageMakerError::ResourceInUse(format!("Training job names must be unique within an AWS account and region, and a training job with this name already exists ({job_arn})"));
    if ctx.s.meta.get::<TrainingJobRecord>(&ctx.scope, &key).await?.is_some() {
        return Err(in_use());
    }
    let now = ctx.now();
    let mut rec = TrainingJobRecord {
        name: req.training_job_name.clone(),
        arn: job_arn.clone(),
        request: req,
        status: "InProgress".into(),
        secondary_status: String::new(),
        failure_reason: None,
        transitions: Vec::new(),
        model_artifacts: None,
        final_metrics: Vec::new(),
        log: Vec::new(),
        created: now,
        last_modified: now,
        training_start: None,
        training_end: None,
    };
    rec.transition("Starting", "Launching requested ML instances", now);
    // Record first, then job (see CreateEndpoint); DescribeTrainingJob heals a lost submit.
    match ctx.s.meta.put(&ctx.scope, &key, &rec, Expect::Absent).await {
        Ok(_) => {}
        Err(MetaError::ConditionFailed { .. }) => return Err(in_use()),
        Err(e) => return Err(e.into()),
    }
    if let Err(e) = submit(ctx, &rec).await {
        let _ = ctx.s.meta.delete::<TrainingJobRecord>(&ctx.scope, &key, Expect::Any).await;
        return Err(e);
    }
    tracing::info!(job = %rec.name, "training job created");
    Ok(api::CreateTrainingJobResponse { training_job_arn: job_arn })
}

fn job_id(rec: &TrainingJobRecord) -> String {
    format!("{}#{}", rec.arn, rec.created.0.unix_timestamp_nanos() / 1_000_000)
}

async fn submit(ctx: &Ctx, rec: &TrainingJobRecord) -> Result<(), SageMakerError> {
    let st = TrainingState { name: rec.name.clone(), submitted_ms: (rec.created.0.unix_timestamp_nanos() / 1_000_000) as i64, ..Default::default() };
    ctx.jobs.submit_job::<TrainingJobs>(&ctx.scope, &st, SubmitOptions { max_attempts: 3, ..SubmitOptions::with_id(job_id(rec)) }).await?;
    Ok(())
}

fn seconds(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<i32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(((b.0 - a.0).whole_seconds().max(1)) as i32),
        _ => None,
    }
}

pub async fn describe_training_job(ctx: &Ctx, req: api::DescribeTrainingJobRequest) -> Result<serde_json::Value, SageMakerError> {
    let rec = ctx.s.meta.get::<TrainingJobRecord>(&ctx.scope, &store::key(&req.training_job_name)).await?.ok_or_else(not_found)?.value;
    if !rec.is_final() && ctx.jobs.get(&job_id(&rec)).await?.is_none() {
        tracing::warn!(job = %rec.name, "training job's work item missing; submitting it again");
        submit(ctx, &rec).await?;
    }
    let r = rec.request;
    let took = seconds(rec.training_start, rec.training_end);
    let out = api::DescribeTrainingJobResponse {
        training_job_name: rec.name,
        training_job_arn: rec.arn,
        model_artifacts: api::ModelArtifacts { s3_model_artifacts: rec.model_artifacts.clone().unwrap_or_default() },
        training_job_status: rec.status,
        secondary_status: rec.secondary_status,
        failure_reason: rec.failure_reason,
        hyper_parameters: r.hyper_parameters,
        algorithm_specification: r.algorithm_specification,
        role_arn: Some(r.role_arn),
        input_data_config: r.input_data_config,
        output_data_config: Some(r.output_data_config),
        resource_config: r.resource_config,
        vpc_config: r.vpc_config,
        stopping_condition: r.stopping_condition.unwrap_or(api::StoppingCondition { max_runtime_in_seconds: Some(86400), ..Default::default() }),
        creation_time: rec.created,
        training_start_time: rec.training_start,
        training_end_time: rec.training_end,
        last_modified_time: Some(rec.last_modified),
        secondary_status_transitions: Some(rec.transitions),
        final_metric_data_list: (!rec.final_metrics.is_empty()).then_some(rec.final_metrics),
        enable_network_isolation: Some(r.enable_network_isolation.unwrap_or(false)),
        enable_inter_container_traffic_encryption: Some(r.enable_inter_container_traffic_encryption.unwrap_or(false)),
        enable_managed_spot_training: Some(r.enable_managed_spot_training.unwrap_or(false)),
        checkpoint_config: r.checkpoint_config,
        environment: r.environment,
        experiment_config: r.experiment_config,
        retry_strategy: r.retry_strategy,
        training_time_in_seconds: took,
        billable_time_in_seconds: took,
        ..Default::default()
    };
    let mut v = hearth_protocol::dispatch::output(&out).map_err(|_| SageMakerError::Internal("describe output".into()))?;
    // Artifacts exist only once the job has uploaded them.
    if rec.model_artifacts.is_none() {
        if let Some(o) = v.as_object_mut() {
            o.remove("ModelArtifacts");
        }
    }
    Ok(v)
}

pub async fn list_training_jobs(ctx: &Ctx, req: api::ListTrainingJobsRequest) -> Result<api::ListTrainingJobsResponse, SageMakerError> {
    if let Some(s) = &req.status_equals {
        let mut v = Violations::new();
        v.one_of("statusEquals", s, &["InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting"]);
        v.finish()?;
    }
    let all: Vec<TrainingJobRecord> = ctx.s.meta.list::<TrainingJobRecord>(&ctx.scope, &ListQuery::default()).await?.into_iter().map(|(_, r)| r.value).collect();
    let p = ListParams {
        name_contains: req.name_contains,
        created_after: req.creation_time_after,
        created_before: req.creation_time_before,
        modified_after: req.last_modified_time_after,
        modified_before: req.last_modified_time_before,
        status_equals: req.status_equals,
        sort_by: req.sort_by,
        sort_order: req.sort_order,
        max_results: req.max_results,
        next_token: req.next_token,
    };
    let (page, next_token) = listing::page(all, &p, &["Name", "CreationTime", "Status"])?;
    Ok(api::ListTrainingJobsResponse {
        training_job_summaries: page
            .into_iter()
            .map(|j| api::TrainingJobSummary {
                training_job_name: j.name,
                training_job_arn: j.arn,
                creation_time: j.created,
                training_end_time: j.training_end,
                last_modified_time: Some(j.last_modified),
                training_job_status: j.status,
                secondary_status: Some(j.secondary_status),
                ..Default::default()
            })
            .collect(),
        next_token,
    })
}

pub async fn stop_training_job(ctx: &Ctx, req: api::StopTrainingJobRequest) -> Result<(), SageMakerError> {
    let key = store::key(&req.training_job_name);
    for _ in 0..5 {
        let cur = ctx.s.meta.get::<TrainingJobRecord>(&ctx.scope, &key).await?.ok_or_else(|| SageMakerError::ResourceNotFound("Requested resource not found.".into()))?;
        let mut rec = cur.value;
        match rec.status.as_str() {
            "Stopping" => return Ok(()),
            "InProgress" => {}
            other => return Err(SageMakerError::validation(format!("The request was rejected because the training job is in status {other}."))),
        }
        rec.status = "Stopping".into();
        let now = ctx.now();
        rec.transition("Stopping", "Stopping the training job", now);
        match ctx.s.meta.put(&ctx.scope, &key, &rec, Expect::Version(cur.version)).await {
            Ok(_) => {
                ctx.s.stop_flag(&rec.arn).store(true, Ordering::SeqCst);
                tracing::info!(job = %rec.name, "training job stopping");
                return Ok(());
            }
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(SageMakerError::Internal("training job record kept changing".into()))
}
