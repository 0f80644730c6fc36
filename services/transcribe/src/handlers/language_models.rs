//! Custom language models: CreateLanguageModel (training is a durable job: IN_PROGRESS →
//! COMPLETED | FAILED), DescribeLanguageModel, ListLanguageModels, DeleteLanguageModel.

use hearth_protocol::RequestContext;
use hearth_runtime::jobs::SubmitOptions;
use hearth_runtime::{Expect, ListQuery};

use super::{now_ms, page, ts};
use crate::api;
use crate::domain::validate;
use crate::error::{Result, TranscribeError};
use crate::store::LanguageModelRecord;
use crate::{scope, Inner};

const NOT_FOUND: &str = "The requested language model couldn't be found. Check the language model name and try your request again.";

fn view(r: &LanguageModelRecord) -> api::LanguageModel {
    api::LanguageModel {
        model_name: Some(r.name.clone()),
        create_time: Some(ts(r.create_ms)),
        last_modified_time: Some(ts(r.last_modified_ms)),
        language_code: Some(r.language_code.clone()),
        base_model_name: Some(r.base_model_name.clone()),
        model_status: Some(r.status.clone()),
        upgrade_availability: Some(false),
        failure_reason: r.failure_reason.clone(),
        input_data_config: Some(r.input.clone()),
    }
}

/// CreateLanguageModel: store the model (IN_PROGRESS) and submit its training job.
pub async fn create_language_model(inner: &Inner, ctx: &RequestContext, req: api::CreateLanguageModelRequest) -> Result<api::CreateLanguageModelResponse> {
    validate::name(&req.model_name, "modelName")?;
    if req.language_code != "en-US" {
        validate::language(&req.language_code, "languageCode")?;
    }
    if !matches!(req.base_model_name.as_str(), "NarrowBand" | "WideBand") {
        return Err(TranscribeError::validation(&req.base_model_name, "baseModelName", "Member must satisfy enum value set: [NarrowBand, WideBand]"));
    }
    validate::s3_uri(&req.input_data_config.s3_uri, "inputDataConfig.s3Uri")?;
    if let Some(t) = &req.input_data_config.tuning_data_s3_uri {
        validate::s3_uri(t, "inputDataConfig.tuningDataS3Uri")?;
    }
    let arn = &req.input_data_config.data_access_role_arn;
    if arn.len() < 20 || !arn.starts_with("arn:") || !arn.contains(":iam::") {
        return Err(TranscribeError::validation(arn, "inputDataConfig.dataAccessRoleArn", "Member must satisfy regular expression pattern: ^arn:(aws|aws-cn|aws-us-gov|aws-iso-{0,1}[a-z]{0,1}):iam::[0-9]{0,63}:role/[A-Za-z0-9:_/+=,@.-]{0,1024}$"));
    }
    if let Some(t) = &req.tags {
        validate::tags(t)?;
    }
    let sc = scope(ctx);
    let now = now_ms(inner);
    let job_id = format!("transcribe-lm/{}/{}/{}/{}", ctx.account, ctx.region, req.model_name, uuid::Uuid::new_v4().simple());
    let rec = LanguageModelRecord {
        name: req.model_name.clone(),
        language_code: req.language_code.clone(),
        base_model_name: req.base_model_name.clone(),
        status: "IN_PROGRESS".into(),
        failure_reason: None,
        input: req.input_data_config.clone(),
        trained: Default::default(),
        job_id: job_id.clone(),
        create_ms: now,
        last_modified_ms: now,
        tags: req.tags.clone().unwrap_or_default(),
    };
    match inner.rt.meta.put(&sc, &rec.name, &rec, Expect::Absent).await {
        Ok(_) => {}
        Err(hearth_runtime::MetaError::ConditionFailed { .. }) => {
            return Err(TranscribeError::Conflict("The requested model name already exists. Use a different model name.".into()));
        }
        Err(e) => return Err(e.into()),
    }
    let state = crate::jobs::TrainingState { name: rec.name.clone() };
    if let Err(e) = inner.rt.jobs.submit_job::<crate::jobs::LanguageModelTraining>(&sc, &state, SubmitOptions { max_attempts: 3, ..SubmitOptions::with_id(job_id) }).await {
        let _ = inner.rt.meta.delete::<LanguageModelRecord>(&sc, &rec.name, Expect::Any).await;
        return Err(e.into());
    }
    Ok(api::CreateLanguageModelResponse {
        model_name: Some(rec.name),
        language_code: Some(rec.language_code),
        base_model_name: Some(rec.base_model_name),
        input_data_config: Some(rec.input),
        model_status: Some(rec.status),
    })
}

/// DescribeLanguageModel.
pub async fn describe_language_model(inner: &Inner, ctx: &RequestContext, req: api::DescribeLanguageModelRequest) -> Result<api::DescribeLanguageModelResponse> {
    validate::name(&req.model_name, "modelName")?;
    let r = inner.rt.meta.get::<LanguageModelRecord>(&scope(ctx), &req.model_name).await?.ok_or_else(|| TranscribeError::NotFound(NOT_FOUND.into()))?;
    Ok(api::DescribeLanguageModelResponse { language_model: Some(view(&r.value)) })
}

/// ListLanguageModels: newest first.
pub async fn list_language_models(inner: &Inner, ctx: &RequestContext, req: api::ListLanguageModelsRequest) -> Result<api::ListLanguageModelsResponse> {
    if let Some(s) = &req.status_equals {
        if !matches!(s.as_str(), "IN_PROGRESS" | "FAILED" | "COMPLETED") {
            return Err(TranscribeError::validation(s, "statusEquals", "Member must satisfy enum value set: [IN_PROGRESS, FAILED, COMPLETED]"));
        }
    }
    let rows = inner.rt.meta.list::<LanguageModelRecord>(&scope(ctx), &ListQuery::default()).await?;
    let mut all: Vec<LanguageModelRecord> = rows
        .into_iter()
        .map(|(_, r)| r.value)
        .filter(|m| req.status_equals.as_ref().is_none_or(|s| *s == m.status))
        .filter(|m| req.name_contains.as_ref().is_none_or(|c| m.name.to_lowercase().contains(&c.to_lowercase())))
        .collect();
    all.sort_by(|a, b| b.create_ms.cmp(&a.create_ms).then(a.name.cmp(&b.name)));
    let (pg, next) = page(&all, req.max_results, req.next_token.as_deref(), 5)?;
    Ok(api::ListLanguageModelsResponse { next_token: next, models: Some(pg.iter().map(view).collect()) })
}

/// DeleteLanguageModel (a training in progress is cancelled).
pub async fn delete_language_model(inner: &Inner, ctx: &RequestContext, req: api::DeleteLanguageModelRequest) -> Result<()> {
    validate::name(&req.model_name, "modelName")?;
    let sc = scope(ctx);
    let r = inner.rt.meta.get::<LanguageModelRecord>(&sc, &req.model_name).await?.ok_or_else(|| TranscribeError::NotFound(NOT_FOUND.into()))?;
    inner.rt.meta.delete::<LanguageModelRecord>(&sc, &req.model_name, Expect::Any).await?;
    if r.value.status == "IN_PROGRESS" {
        let _ = inner.rt.jobs.cancel(&r.value.job_id).await;
    }
    Ok(())
}
