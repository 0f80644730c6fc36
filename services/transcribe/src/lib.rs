//! Amazon Transcribe (awsJson 1.1, `Transcribe.*`): batch transcription jobs on a real speech
//! model (Whisper base by default, Whisper tiny.en for English when configured, on Hearth's
//! CPU speech engine), with word timestamps and confidences,
//! alternative transcriptions (beam search), channel identification, speaker labels,
//! custom vocabularies, vocabulary filters, custom language models and PII redaction.
//! Transcripts are written as AWS writes them to `OutputBucketName`/`OutputKey` in Hearth's
//! S3, or, without an output bucket, kept by Hearth and served at expiring links
//! ([`public`]).
//!
//! Implemented operations: StartTranscriptionJob, GetTranscriptionJob, ListTranscriptionJobs,
//! DeleteTranscriptionJob; CreateVocabulary, GetVocabulary, ListVocabularies,
//! UpdateVocabulary, DeleteVocabulary; CreateVocabularyFilter, GetVocabularyFilter,
//! ListVocabularyFilters, UpdateVocabularyFilter, DeleteVocabularyFilter;
//! CreateLanguageModel, DescribeLanguageModel, ListLanguageModels, DeleteLanguageModel.
//!
//! Jobs are durable jobs of the runtime (`jobs.rs`): accepted jobs survive a restart and
//! resume; at most [`Limits::concurrent_jobs`] transcribe at once per node, the rest stay
//! QUEUED.

pub mod api;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod jobs;
pub mod public;
pub mod store;

use std::sync::Arc;

use api::Operation;
use hearth_protocol::dispatch::{self, Handler};
use hearth_protocol::schema::{OperationSpec, Service};
use hearth_protocol::{AwsError, RequestContext};
use hearth_runtime::{Runtime, Scope};
use serde_json::Value;

/// Tuning of the service.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Jobs transcribing at once on this node (`HEARTH_TRANSCRIBE_CONCURRENT_JOBS`, default 2).
    pub concurrent_jobs: usize,
    /// The speech model of English jobs (`HEARTH_TRANSCRIBE_MODEL`, default `whisper-base`;
    /// `whisper-tiny-en` is about twice as fast and less accurate).
    pub model: String,
    /// The multilingual speech model of jobs in other languages and of language
    /// identification (`HEARTH_TRANSCRIBE_MULTILINGUAL_MODEL`, default `whisper-base`).
    pub multilingual_model: String,
    /// Base URL of Hearth as clients reach it, for the links to transcripts Hearth keeps
    /// (jobs without `OutputBucketName`); the server sets it from its configuration.
    pub public_endpoint: String,
}

impl Limits {
    /// Defaults overridden by the environment.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let concurrent_jobs = var("HEARTH_TRANSCRIBE_CONCURRENT_JOBS").and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0).unwrap_or(2);
        // Whisper base by default: it met the speed target (RTF 0.13 ≤ 0.15 on 2 cores in
        // bench/transcribe) with a lower WER than tiny.en (0.062 against 0.09).
        let model = var("HEARTH_TRANSCRIBE_MODEL").unwrap_or_else(|| hearth_inference::asr::MULTILINGUAL_MODEL_NAME.to_string());
        let multilingual_model = var("HEARTH_TRANSCRIBE_MULTILINGUAL_MODEL").unwrap_or_else(|| hearth_inference::asr::MULTILINGUAL_MODEL_NAME.to_string());
        Limits { concurrent_jobs, model, multilingual_model, public_endpoint: "http://127.0.0.1:4566".into() }
    }

    /// These limits with transcript links under `url`.
    pub fn with_public_endpoint(mut self, url: impl Into<String>) -> Self {
        self.public_endpoint = url.into().trim_end_matches('/').to_string();
        self
    }

    /// The model for a job in `language` (an AWS code such as `en-US`): the configured model
    /// for English unless it is English-only and the language is not English.
    pub fn model_for(&self, language: &str) -> &str {
        if language.starts_with("en-") || !hearth_inference::asr::is_english_only(&self.model) {
            &self.model
        } else {
            &self.multilingual_model
        }
    }
}

/// What handlers and jobs share.
pub struct Inner {
    pub rt: Runtime,
    pub s3: hearth_s3::S3,
    pub limits: Limits,
    /// Transcription slots of this node.
    pub slots: Arc<tokio::sync::Semaphore>,
}

/// The Transcribe service.
#[derive(Clone)]
pub struct Transcribe {
    inner: Arc<Inner>,
}

impl Transcribe {
    /// Build the service and register its job kinds with the runtime's queue.
    pub fn new(rt: &Runtime, s3: &hearth_s3::S3) -> Self {
        Self::with_limits(rt, s3, Limits::from_env())
    }

    /// Build the service with explicit limits.
    pub fn with_limits(rt: &Runtime, s3: &hearth_s3::S3, limits: Limits) -> Self {
        let inner = Arc::new(Inner { rt: rt.clone(), s3: s3.clone(), slots: Arc::new(tokio::sync::Semaphore::new(limits.concurrent_jobs.max(1))), limits });
        rt.jobs.register(jobs::TranscriptionJob(inner.clone()));
        rt.jobs.register(jobs::LanguageModelTraining(inner.clone()));
        Transcribe { inner }
    }

    /// The unsigned routes of transcripts Hearth keeps ([`public`]), for the server to mount.
    pub fn public_routes(&self) -> axum::Router {
        public::routes(self.inner.clone())
    }
}

fn scope(ctx: &RequestContext) -> Scope {
    Scope::new(ctx.account.clone(), ctx.region.clone())
}

#[async_trait::async_trait]
impl Handler for Transcribe {
    fn model(&self) -> &'static Service {
        &api::SERVICE
    }

    async fn call(&self, ctx: &RequestContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        let Some(operation) = Operation::from_name(op.name) else {
            return Err(AwsError::new("UnknownOperationException", format!("Unknown operation {}", op.name), 400));
        };
        let i = &self.inner;
        let r = match operation {
            Operation::StartTranscriptionJob => dispatch::output(&handlers::jobs::start_transcription_job(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::GetTranscriptionJob => dispatch::output(&handlers::jobs::get_transcription_job(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::ListTranscriptionJobs => dispatch::output(&handlers::jobs::list_transcription_jobs(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::DeleteTranscriptionJob => {
                handlers::jobs::delete_transcription_job(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?;
                Ok(Value::Object(Default::default()))
            }
            Operation::CreateVocabulary => dispatch::output(&handlers::vocabularies::create_vocabulary(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::GetVocabulary => dispatch::output(&handlers::vocabularies::get_vocabulary(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::ListVocabularies => dispatch::output(&handlers::vocabularies::list_vocabularies(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::UpdateVocabulary => dispatch::output(&handlers::vocabularies::update_vocabulary(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::DeleteVocabulary => {
                handlers::vocabularies::delete_vocabulary(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?;
                Ok(Value::Object(Default::default()))
            }
            Operation::CreateVocabularyFilter => dispatch::output(&handlers::filters::create_vocabulary_filter(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::GetVocabularyFilter => dispatch::output(&handlers::filters::get_vocabulary_filter(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::ListVocabularyFilters => dispatch::output(&handlers::filters::list_vocabulary_filters(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::UpdateVocabularyFilter => dispatch::output(&handlers::filters::update_vocabulary_filter(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::DeleteVocabularyFilter => {
                handlers::filters::delete_vocabulary_filter(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?;
                Ok(Value::Object(Default::default()))
            }
            Operation::CreateLanguageModel => dispatch::output(&handlers::language_models::create_language_model(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::DescribeLanguageModel => dispatch::output(&handlers::language_models::describe_language_model(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::ListLanguageModels => dispatch::output(&handlers::language_models::list_language_models(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?),
            Operation::DeleteLanguageModel => {
                handlers::language_models::delete_language_model(i, ctx, dispatch::input(&api::SERVICE, input)?).await.map_err(|e| e.to_aws())?;
                Ok(Value::Object(Default::default()))
            }
        };
        r
    }
}
