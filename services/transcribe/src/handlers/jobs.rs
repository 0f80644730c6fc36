//! Transcription jobs: StartTranscriptionJob, GetTranscriptionJob, ListTranscriptionJobs,
//! DeleteTranscriptionJob.

use hearth_protocol::RequestContext;
use hearth_runtime::jobs::SubmitOptions;
use hearth_runtime::{Expect, ListQuery};

use super::{now_ms, page, ts};
use crate::api;
use crate::domain::pii;
use crate::domain::validate;
use crate::error::{Result, TranscribeError};
use crate::store::{FilterRecord, JobRecord, LanguageModelRecord, VocabularyRecord};
use crate::{scope, Inner};

const NOT_FOUND: &str = "The requested job couldn't be found. Check the job name and try your request again.";

fn validate_start(req: &api::StartTranscriptionJobRequest) -> Result<()> {
    validate::name(&req.transcription_job_name, "transcriptionJobName")?;
    let langs = [req.language_code.is_some(), req.identify_language == Some(true), req.identify_multiple_languages == Some(true)].iter().filter(|x| **x).count();
    if langs == 0 {
        return Err(TranscribeError::BadRequest("You must specify LanguageCode, IdentifyLanguage, or IdentifyMultipleLanguages. Specify one of these parameters and try your request again.".into()));
    }
    if langs > 1 {
        return Err(TranscribeError::BadRequest("You can only specify one of LanguageCode, IdentifyLanguage, or IdentifyMultipleLanguages. Remove the extra parameter and try your request again.".into()));
    }
    if let Some(l) = &req.language_code {
        validate::language(l, "languageCode")?;
    }
    if let Some(opts) = &req.language_options {
        for l in opts {
            validate::language(l, "languageOptions.member")?;
        }
    }
    let uri = req.media.media_file_uri.as_deref().ok_or_else(|| TranscribeError::BadRequest("You must specify Media.MediaFileUri. Specify the location of your media file and try your request again.".into()))?;
    validate::s3_uri(uri, "media.mediaFileUri")?;
    if let Some(f) = &req.media_format {
        if !validate::MEDIA_FORMATS.contains(&f.as_str()) {
            return Err(TranscribeError::validation(f, "mediaFormat", "Member must satisfy enum value set: [mp3, mp4, wav, flac, ogg, amr, webm, m4a]"));
        }
    }
    if let Some(r) = req.media_sample_rate_hertz {
        if !(8000..=48000).contains(&r) {
            return Err(TranscribeError::validation(&r.to_string(), "mediaSampleRateHertz", if r < 8000 { "Member must have value greater than or equal to 8000" } else { "Member must have value less than or equal to 48000" }));
        }
    }
    if let Some(b) = &req.output_bucket_name {
        let ok = (3..=63).contains(&b.len()) && b.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !ok {
            return Err(TranscribeError::validation(b, "outputBucketName", "Member must satisfy regular expression pattern: [a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9]"));
        }
    }
    if let Some(k) = &req.output_key {
        if k.is_empty() || k.len() > 1024 || !k.chars().all(|c| c.is_ascii_alphanumeric() || "-_.!*'()/".contains(c)) {
            return Err(TranscribeError::validation(k, "outputKey", "Member must satisfy regular expression pattern: [a-zA-Z0-9-_.!*'()/]{1,1024}$"));
        }
        if req.output_bucket_name.is_none() {
            return Err(TranscribeError::BadRequest("You must specify OutputBucketName when you specify OutputKey. Add an OutputBucketName and try your request again.".into()));
        }
    }
    if let Some(s) = &req.settings {
        if s.show_speaker_labels == Some(true) && s.max_speaker_labels.is_none() {
            return Err(TranscribeError::BadRequest("When ShowSpeakerLabels is true, you must specify MaxSpeakerLabels. Update your request and try again.".into()));
        }
        if s.max_speaker_labels.is_some() && s.show_speaker_labels != Some(true) {
            return Err(TranscribeError::BadRequest("When MaxSpeakerLabels is set, ShowSpeakerLabels must be true. Update your request and try again.".into()));
        }
        if let Some(m) = s.max_speaker_labels {
            if !(2..=30).contains(&m) {
                return Err(TranscribeError::validation(&m.to_string(), "settings.maxSpeakerLabels", if m < 2 { "Member must have value greater than or equal to 2" } else { "Member must have value less than or equal to 30" }));
            }
        }
        if s.channel_identification == Some(true) && s.show_speaker_labels == Some(true) {
            return Err(TranscribeError::BadRequest("You can't use both channel identification and speaker partitioning in the same transcription job. Choose one and try your request again.".into()));
        }
        if s.show_alternatives == Some(true) && s.max_alternatives.is_none() {
            return Err(TranscribeError::BadRequest("When ShowAlternatives is true, you must specify MaxAlternatives. Update your request and try again.".into()));
        }
        if let Some(m) = s.max_alternatives {
            if !(2..=10).contains(&m) {
                return Err(TranscribeError::validation(&m.to_string(), "settings.maxAlternatives", if m < 2 { "Member must have value greater than or equal to 2" } else { "Member must have value less than or equal to 10" }));
            }
        }
        if let Some(v) = &s.vocabulary_name {
            validate::name(v, "settings.vocabularyName")?;
        }
        if let Some(f) = &s.vocabulary_filter_name {
            validate::name(f, "settings.vocabularyFilterName")?;
            if s.vocabulary_filter_method.is_none() {
                return Err(TranscribeError::BadRequest("When VocabularyFilterName is set, you must specify VocabularyFilterMethod. Update your request and try again.".into()));
            }
        }
        if let Some(m) = &s.vocabulary_filter_method {
            if crate::domain::transcript::FilterMethod::parse(m).is_none() {
                return Err(TranscribeError::validation(m, "settings.vocabularyFilterMethod", "Member must satisfy enum value set: [remove, mask, tag]"));
            }
            if s.vocabulary_filter_name.is_none() {
                return Err(TranscribeError::BadRequest("When VocabularyFilterMethod is set, you must specify VocabularyFilterName. Update your request and try again.".into()));
            }
        }
    }
    if let Some(r) = &req.content_redaction {
        if r.redaction_type != "PII" {
            return Err(TranscribeError::validation(&r.redaction_type, "contentRedaction.redactionType", "Member must satisfy enum value set: [PII]"));
        }
        if !matches!(r.redaction_output.as_str(), "redacted" | "redacted_and_unredacted") {
            return Err(TranscribeError::validation(&r.redaction_output, "contentRedaction.redactionOutput", "Member must satisfy enum value set: [redacted_and_unredacted, redacted]"));
        }
        for t in r.pii_entity_types.iter().flatten() {
            if t != "ALL" && !pii::TYPES.contains(&t.as_str()) {
                return Err(TranscribeError::validation(t, "contentRedaction.piiEntityTypes.member", "Member must satisfy enum value set: [BANK_ACCOUNT_NUMBER, BANK_ROUTING, CREDIT_DEBIT_NUMBER, CREDIT_DEBIT_CVV, CREDIT_DEBIT_EXPIRY, PIN, EMAIL, ADDRESS, NAME, PHONE, SSN, ALL]"));
            }
        }
        if req.identify_language == Some(true) || req.identify_multiple_languages == Some(true) {
            return Err(TranscribeError::BadRequest("Content redaction isn't supported with language identification. Remove ContentRedaction or specify LanguageCode and try your request again.".into()));
        }
    }
    if let Some(t) = &req.tags {
        validate::tags(t)?;
    }
    Ok(())
}

/// StartTranscriptionJob: validate, check the media and the named resources, store the job
/// (QUEUED) and submit its durable job.
pub async fn start_transcription_job(inner: &Inner, ctx: &RequestContext, req: api::StartTranscriptionJobRequest) -> Result<api::StartTranscriptionJobResponse> {
    validate_start(&req)?;
    let sc = scope(ctx);
    let name = req.transcription_job_name.clone();
    // The media must exist and be readable by the caller.
    let uri = req.media.media_file_uri.clone().unwrap_or_default();
    let (mb, mk) = validate::s3_uri(&uri, "media.mediaFileUri")?;
    let inaccessible = || TranscribeError::BadRequest("The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your request again.".into());
    let listed = inner.s3.list_objects(&ctx.account, &mb, &mk).await.map_err(|_| inaccessible())?;
    if mk.is_empty() || !listed.iter().any(|(k, _)| *k == mk) {
        return Err(inaccessible());
    }
    // Without an output bucket, Hearth keeps the transcript (AWS's service-managed bucket).
    if let Some(bucket) = &req.output_bucket_name {
        inner.s3.list_objects(&ctx.account, bucket, "\u{10FFFF}").await.map_err(|_| {
            TranscribeError::BadRequest(format!("The specified S3 bucket {bucket} can't be accessed. Make sure that you have write permission on the bucket and try your request again."))
        })?;
    }
    if let Some(s) = &req.settings {
        if let Some(v) = &s.vocabulary_name {
            let ready = inner.rt.meta.get::<VocabularyRecord>(&sc, v).await?.is_some_and(|r| r.value.state == "READY");
            if !ready {
                return Err(TranscribeError::BadRequest("The requested vocabulary couldn't be found. Check the vocabulary name and try your request again.".into()));
            }
        }
        if let Some(f) = &s.vocabulary_filter_name {
            if inner.rt.meta.get::<FilterRecord>(&sc, f).await?.is_none() {
                return Err(TranscribeError::BadRequest("The requested vocabulary filter couldn't be found. Check the vocabulary filter name and try your request again.".into()));
            }
        }
    }
    if let Some(m) = req.model_settings.as_ref().and_then(|m| m.language_model_name.as_ref()) {
        validate::name(m, "modelSettings.languageModelName")?;
        let ok = inner.rt.meta.get::<LanguageModelRecord>(&sc, m).await?.is_some_and(|r| r.value.status == "COMPLETED");
        if !ok {
            return Err(TranscribeError::BadRequest("The requested language model couldn't be found or hasn't finished training. Check the model name and status and try your request again.".into()));
        }
    }
    let now = now_ms(inner);
    let job_id = format!("transcribe/{}/{}/{}/{}", ctx.account, ctx.region, name, uuid::Uuid::new_v4().simple());
    let record = JobRecord {
        name: name.clone(),
        status: "QUEUED".into(),
        job_id: job_id.clone(),
        language_code: req.language_code.clone().unwrap_or_default(),
        managed: req.output_bucket_name.is_none().then(|| crate::store::ManagedOutput { secret: crate::public::new_secret(), ..Default::default() }),
        identified_language_score: None,
        language_codes: Vec::new(),
        request: req,
        detected_sample_rate: None,
        detected_format: None,
        creation_ms: now,
        start_ms: None,
        completion_ms: None,
        failure_reason: None,
        transcript_uri: None,
        redacted_transcript_uri: None,
    };
    match inner.rt.meta.put(&sc, &name, &record, Expect::Absent).await {
        Ok(_) => {}
        Err(hearth_runtime::MetaError::ConditionFailed { .. }) => {
            return Err(TranscribeError::Conflict("The requested job name already exists. Use a different job name.".into()));
        }
        Err(e) => return Err(e.into()),
    }
    let state = crate::jobs::TranscriptionState { name: name.clone(), ..Default::default() };
    if let Err(e) = inner.rt.jobs.submit_job::<crate::jobs::TranscriptionJob>(&sc, &state, SubmitOptions { max_attempts: 3, ..SubmitOptions::with_id(job_id) }).await {
        let _ = inner.rt.meta.delete::<JobRecord>(&sc, &name, Expect::Any).await;
        return Err(e.into());
    }
    tracing::info!(job = %name, account = %ctx.account, "transcription job accepted");
    Ok(api::StartTranscriptionJobResponse { transcription_job: Some(view(inner, &sc, &record)) })
}

/// The API view of a stored job (links to transcripts Hearth keeps are minted now).
pub fn view(inner: &Inner, sc: &hearth_runtime::Scope, r: &JobRecord) -> api::TranscriptionJob {
    let q = &r.request;
    let now_s = inner.rt.clock.now().unix_timestamp();
    let link = |blob: &Option<String>, file: &str| {
        r.managed.as_ref().filter(|_| blob.is_some()).map(|m| crate::public::link(&inner.limits.public_endpoint, &m.secret, sc, &r.name, file, now_s))
    };
    let (transcript_uri, redacted_uri) = match &r.managed {
        Some(m) => (link(&m.transcript_blob, crate::public::TRANSCRIPT_FILE), link(&m.redacted_blob, crate::public::REDACTED_FILE)),
        None => (r.transcript_uri.clone(), r.redacted_transcript_uri.clone()),
    };
    let completed = r.status == "COMPLETED";
    let mut settings = q.settings.clone().unwrap_or_default();
    settings.channel_identification = Some(settings.channel_identification.unwrap_or(false));
    settings.show_alternatives = Some(settings.show_alternatives.unwrap_or(false));
    api::TranscriptionJob {
        transcription_job_name: Some(r.name.clone()),
        transcription_job_status: Some(r.status.clone()),
        language_code: (!r.language_code.is_empty()).then(|| r.language_code.clone()),
        media_sample_rate_hertz: q.media_sample_rate_hertz.or(r.detected_sample_rate),
        media_format: q.media_format.clone().or_else(|| r.detected_format.clone()),
        media: Some(q.media.clone()),
        transcript: completed.then(|| api::Transcript { transcript_file_uri: transcript_uri, redacted_transcript_file_uri: redacted_uri }),
        start_time: r.start_ms.map(ts),
        creation_time: Some(ts(r.creation_ms)),
        completion_time: r.completion_ms.map(ts),
        failure_reason: r.failure_reason.clone(),
        settings: Some(settings),
        model_settings: q.model_settings.clone(),
        content_redaction: q.content_redaction.clone(),
        identify_language: q.identify_language,
        identify_multiple_languages: q.identify_multiple_languages,
        language_options: q.language_options.clone(),
        identified_language_score: r.identified_language_score,
        language_codes: (!r.language_codes.is_empty()).then(|| r.language_codes.iter().map(|(c, d)| api::LanguageCodeItem { language_code: Some(c.clone()), duration_in_seconds: Some(*d as f32) }).collect()),
        tags: q.tags.clone(),
        ..Default::default()
    }
}

/// GetTranscriptionJob.
pub async fn get_transcription_job(inner: &Inner, ctx: &RequestContext, req: api::GetTranscriptionJobRequest) -> Result<api::GetTranscriptionJobResponse> {
    validate::name(&req.transcription_job_name, "transcriptionJobName")?;
    let sc = scope(ctx);
    let r = inner.rt.meta.get::<JobRecord>(&sc, &req.transcription_job_name).await?.ok_or_else(|| TranscribeError::NotFound(NOT_FOUND.into()))?;
    Ok(api::GetTranscriptionJobResponse { transcription_job: Some(view(inner, &sc, &r.value)) })
}

/// ListTranscriptionJobs: newest first, filtered by status and name.
pub async fn list_transcription_jobs(inner: &Inner, ctx: &RequestContext, req: api::ListTranscriptionJobsRequest) -> Result<api::ListTranscriptionJobsResponse> {
    if let Some(s) = &req.status {
        if !matches!(s.as_str(), "QUEUED" | "IN_PROGRESS" | "FAILED" | "COMPLETED") {
            return Err(TranscribeError::validation(s, "status", "Member must satisfy enum value set: [QUEUED, IN_PROGRESS, FAILED, COMPLETED]"));
        }
    }
    if let Some(c) = &req.job_name_contains {
        validate::name(c, "jobNameContains")?;
    }
    let rows = inner.rt.meta.list::<JobRecord>(&scope(ctx), &ListQuery::default()).await?;
    let mut jobs: Vec<JobRecord> = rows
        .into_iter()
        .map(|(_, r)| r.value)
        .filter(|j| req.status.as_ref().is_none_or(|s| *s == j.status))
        .filter(|j| req.job_name_contains.as_ref().is_none_or(|c| j.name.to_lowercase().contains(&c.to_lowercase())))
        .collect();
    jobs.sort_by(|a, b| b.creation_ms.cmp(&a.creation_ms).then(a.name.cmp(&b.name)));
    let (pg, next) = page(&jobs, req.max_results, req.next_token.as_deref(), 5)?;
    let summaries = pg
        .iter()
        .map(|j| api::TranscriptionJobSummary {
            transcription_job_name: Some(j.name.clone()),
            creation_time: Some(ts(j.creation_ms)),
            start_time: j.start_ms.map(ts),
            completion_time: j.completion_ms.map(ts),
            language_code: (!j.language_code.is_empty()).then(|| j.language_code.clone()),
            transcription_job_status: Some(j.status.clone()),
            failure_reason: j.failure_reason.clone(),
            output_location_type: Some(if j.managed.is_some() { "SERVICE_BUCKET" } else { "CUSTOMER_BUCKET" }.into()),
            identified_language_score: j.identified_language_score,
            content_redaction: j.request.content_redaction.clone(),
            model_settings: j.request.model_settings.clone(),
            identify_language: j.request.identify_language,
            identify_multiple_languages: j.request.identify_multiple_languages,
            ..Default::default()
        })
        .collect();
    Ok(api::ListTranscriptionJobsResponse { status: req.status.clone(), next_token: next, transcription_job_summaries: Some(summaries) })
}

/// DeleteTranscriptionJob: forget the job (a running one is cancelled; transcripts already
/// written stay in the output bucket, as on AWS; transcripts Hearth kept are deleted).
pub async fn delete_transcription_job(inner: &Inner, ctx: &RequestContext, req: api::DeleteTranscriptionJobRequest) -> Result<()> {
    validate::name(&req.transcription_job_name, "transcriptionJobName")?;
    let sc = scope(ctx);
    let r = inner.rt.meta.get::<JobRecord>(&sc, &req.transcription_job_name).await?.ok_or_else(|| TranscribeError::NotFound(NOT_FOUND.into()))?;
    inner.rt.meta.delete::<JobRecord>(&sc, &req.transcription_job_name, Expect::Version(r.version)).await.map_err(|e| match e {
        hearth_runtime::MetaError::ConditionFailed { .. } => TranscribeError::Conflict("The job changed while it was being deleted. Try your request again.".into()),
        e => e.into(),
    })?;
    match inner.rt.jobs.cancel(&r.value.job_id).await {
        Ok(_) | Err(hearth_runtime::jobs::QueueError::NotFound(_)) => {}
        Err(e) => tracing::warn!(job = %r.value.name, error = %e, "could not cancel the deleted job's work"),
    }
    // Transcripts Hearth kept go with the job (those in the caller's bucket stay).
    if let Some(m) = &r.value.managed {
        for blob in [&m.transcript_blob, &m.redacted_blob].into_iter().flatten() {
            if let Err(e) = inner.rt.blobs.delete(&hearth_runtime::blob::BlobId(blob.clone())).await {
                tracing::warn!(job = %r.value.name, error = %e, "could not delete a kept transcript");
            }
        }
    }
    Ok(())
}
