//! Batch imports of stored events from an S3 CSV file: CreateBatchImportJob,
//! GetBatchImportJobs, CancelBatchImportJob, DeleteBatchImportJob. The import itself is the
//! durable job `frauddetector.import` (see `jobs.rs`).

use super::event_types::require as require_event_type;
use super::{get, list_all, max_results, page, tag_ops, untag_op, Cx};
use crate::api;
use crate::error::{FdError, FdResult};
use crate::jobs::{ImportJob, ImportState};
use crate::store::BatchImportRec;
use crate::Inner;
use hearth_runtime::{Expect, SubmitOptions, WriteOp};

/// The durable job id of an import (unique per creation: a job id freed by a deletion can be
/// used again).
pub fn job_id(cx: &Cx, id: &str) -> String {
    format!("frauddetector-import/{}/{}/{id}/{}", cx.account, cx.region, cx.now_ms)
}

pub async fn create_batch_import_job(svc: &Inner, cx: &Cx, req: api::CreateBatchImportJobRequest) -> FdResult<api::CreateBatchImportJobResult> {
    let et = require_event_type(svc, cx, &req.event_type_name).await?;
    if !et.ingestion_enabled() {
        return Err(FdError::validation(format!("Event ingestion is DISABLED for the event type {}; enable it before importing events.", et.name)));
    }
    for (what, p) in [("inputPath", &req.input_path), ("outputPath", &req.output_path)] {
        if hearth_s3::internal::parse_s3_uri(p).is_none() {
            return Err(FdError::validation(format!("The {what} {p} is not an S3 location (s3://bucket/key).")));
        }
    }
    if hearth_s3::internal::parse_s3_uri(&req.input_path).is_some_and(|(_, k)| k.is_empty()) {
        return Err(FdError::validation(format!("The inputPath {} must name a CSV file.", req.input_path)));
    }
    let rec = BatchImportRec {
        job_id: req.job_id.clone(),
        status: "IN_PROGRESS_INITIALIZING".into(),
        failure_reason: None,
        start_time: cx.now.clone(),
        completion_time: None,
        input_path: req.input_path,
        output_path: req.output_path,
        event_type: req.event_type_name,
        iam_role_arn: req.iam_role_arn,
        durable_job: Some(job_id(cx, &req.job_id)),
        processed: 0,
        failed: 0,
        total: 0,
        arn: cx.arn(&format!("batch-import/{}", req.job_id)),
    };
    let mut ops = vec![WriteOp::put(&cx.scope, &rec.job_id, &rec, Expect::Absent)?];
    ops.extend(tag_ops(&cx.scope, &rec.arn, &req.tags)?);
    match svc.rt.meta.apply(ops).await {
        Ok(()) => {}
        Err(hearth_runtime::MetaError::ConditionFailed { .. }) => return Err(FdError::validation(format!("A batch import job with the ID {} already exists.", rec.job_id))),
        Err(e) => return Err(e.into()),
    }
    let state = ImportState { job_id: rec.job_id.clone() };
    if let Err(e) = svc.rt.jobs.submit_job::<ImportJob>(&cx.scope, &state, SubmitOptions::with_id(job_id(cx, &rec.job_id))).await {
        let _ = svc.rt.meta.delete::<BatchImportRec>(&cx.scope, &rec.job_id, Expect::Any).await;
        return Err(e.into());
    }
    tracing::info!(job = %rec.job_id, input = %rec.input_path, "batch import accepted");
    Ok(api::CreateBatchImportJobResult {})
}

fn to_api(r: &BatchImportRec) -> api::BatchImport {
    api::BatchImport {
        arn: Some(r.arn.clone()),
        completion_time: r.completion_time.clone(),
        event_type_name: Some(r.event_type.clone()),
        failed_records_count: Some(r.failed),
        failure_reason: r.failure_reason.clone(),
        iam_role_arn: Some(r.iam_role_arn.clone()),
        input_path: Some(r.input_path.clone()),
        job_id: Some(r.job_id.clone()),
        output_path: Some(r.output_path.clone()),
        processed_records_count: Some(r.processed),
        start_time: Some(r.start_time.clone()),
        status: Some(r.status.clone()),
        total_records_count: Some(r.total),
    }
}

pub async fn get_batch_import_jobs(svc: &Inner, cx: &Cx, req: api::GetBatchImportJobsRequest) -> FdResult<api::GetBatchImportJobsResult> {
    if let Some(id) = req.job_id {
        let r = get::<BatchImportRec>(svc, &cx.scope, &id).await?.ok_or_else(|| FdError::not_found(format!("The batch import job {id} does not exist.")))?;
        return Ok(api::GetBatchImportJobsResult { batch_imports: Some(vec![to_api(&r)]), next_token: None });
    }
    let all = list_all::<BatchImportRec>(svc, &cx.scope, "").await?;
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 50))?;
    Ok(api::GetBatchImportJobsResult { batch_imports: Some(items.iter().map(to_api).collect()), next_token: next })
}

pub async fn cancel_batch_import_job(svc: &Inner, cx: &Cx, req: api::CancelBatchImportJobRequest) -> FdResult<api::CancelBatchImportJobResult> {
    let stored = svc.rt.meta.get::<BatchImportRec>(&cx.scope, &req.job_id).await?.ok_or_else(|| FdError::not_found(format!("The batch import job {} does not exist.", req.job_id)))?;
    let mut r = stored.value;
    if !r.status.starts_with("IN_PROGRESS") {
        return Err(FdError::validation(format!("The batch import job {} is {} and cannot be cancelled.", r.job_id, r.status)));
    }
    r.status = "CANCEL_IN_PROGRESS".into();
    match svc.rt.meta.put(&cx.scope, &req.job_id, &r, Expect::Version(stored.version)).await {
        Ok(_) => Ok(api::CancelBatchImportJobResult {}),
        Err(hearth_runtime::MetaError::ConditionFailed { .. }) => Err(FdError::validation("The batch import job changed state; try again.")),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_batch_import_job(svc: &Inner, cx: &Cx, req: api::DeleteBatchImportJobRequest) -> FdResult<api::DeleteBatchImportJobResult> {
    let Some(r) = get::<BatchImportRec>(svc, &cx.scope, &req.job_id).await? else { return Ok(api::DeleteBatchImportJobResult {}) };
    if r.status.starts_with("IN_PROGRESS") || r.status == "CANCEL_IN_PROGRESS" {
        return Err(FdError::validation(format!("The batch import job {} is {}; cancel it before deleting it.", r.job_id, r.status)));
    }
    svc.rt.meta.apply(vec![WriteOp::delete::<BatchImportRec>(&cx.scope, &req.job_id, Expect::Any), untag_op(&cx.scope, &r.arn)]).await?;
    Ok(api::DeleteBatchImportJobResult {})
}
