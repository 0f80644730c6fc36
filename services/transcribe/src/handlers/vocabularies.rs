//! Custom vocabularies: CreateVocabulary, GetVocabulary, ListVocabularies, UpdateVocabulary,
//! DeleteVocabulary. The phrases (inline or from an S3 file) are parsed when the request
//! arrives; a vocabulary is READY when they parse, FAILED with the reason otherwise.

use hearth_protocol::RequestContext;
use hearth_runtime::{Expect, ListQuery};

use super::{now_ms, page, ts};
use crate::api;
use crate::domain::{validate, vocabulary};
use crate::error::{Result, TranscribeError};
use crate::store::{VocabularyEntry, VocabularyRecord};
use crate::{scope, Inner};

const NOT_FOUND: &str = "The requested vocabulary couldn't be found. Check the vocabulary name and try your request again.";

/// Read a text file named by an S3 URI (at most `limit` bytes).
pub async fn read_text(inner: &Inner, ctx: &RequestContext, uri: &str, field: &str, limit: usize) -> Result<std::result::Result<String, String>> {
    let (b, k) = validate::s3_uri(uri, field)?;
    let data = inner.s3.read_object(&ctx.account, &b, &k).await.map_err(|_| TranscribeError::BadRequest("The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your request again.".into()))?;
    if data.len() > limit {
        return Ok(Err(format!("The file at {uri} is larger than {} KB. Reduce its size and try again.", limit / 1024)));
    }
    Ok(String::from_utf8(data).map_err(|_| format!("The file at {uri} isn't UTF-8 text.")))
}

async fn entries(inner: &Inner, ctx: &RequestContext, phrases: &Option<Vec<String>>, uri: &Option<String>) -> Result<std::result::Result<Vec<VocabularyEntry>, String>> {
    match (phrases, uri) {
        (Some(_), Some(_)) => Err(TranscribeError::BadRequest("You can't specify both Phrases and VocabularyFileUri. Choose one and try your request again.".into())),
        (None, None) => Err(TranscribeError::BadRequest("You must specify either Phrases or VocabularyFileUri. Add one and try your request again.".into())),
        (Some(p), None) => vocabulary::from_phrases(p).map(Ok).map_err(TranscribeError::BadRequest),
        (None, Some(u)) => Ok(match read_text(inner, ctx, u, "vocabularyFileUri", vocabulary::MAX_FILE_BYTES).await? {
            Ok(text) => vocabulary::from_file(&text),
            Err(e) => Err(e),
        }),
    }
}

/// CreateVocabulary.
pub async fn create_vocabulary(inner: &Inner, ctx: &RequestContext, req: api::CreateVocabularyRequest) -> Result<api::CreateVocabularyResponse> {
    validate::name(&req.vocabulary_name, "vocabularyName")?;
    validate::language(&req.language_code, "languageCode")?;
    if let Some(t) = &req.tags {
        validate::tags(t)?;
    }
    let parsed = entries(inner, ctx, &req.phrases, &req.vocabulary_file_uri).await?;
    let (state, failure_reason, entries) = match parsed {
        Ok(e) => ("READY", None, e),
        Err(reason) => ("FAILED", Some(reason), Vec::new()),
    };
    let rec = VocabularyRecord {
        name: req.vocabulary_name.clone(),
        language_code: req.language_code.clone(),
        state: state.into(),
        failure_reason: failure_reason.clone(),
        entries,
        file_uri: req.vocabulary_file_uri.clone(),
        last_modified_ms: now_ms(inner),
        tags: req.tags.clone().unwrap_or_default(),
    };
    match inner.rt.meta.put(&scope(ctx), &rec.name, &rec, Expect::Absent).await {
        Ok(_) => {}
        Err(hearth_runtime::MetaError::ConditionFailed { .. }) => {
            return Err(TranscribeError::Conflict("The requested vocabulary name already exists. Use a different vocabulary name.".into()));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(api::CreateVocabularyResponse {
        vocabulary_name: Some(rec.name),
        language_code: Some(rec.language_code),
        vocabulary_state: Some(rec.state),
        last_modified_time: Some(ts(rec.last_modified_ms)),
        failure_reason,
    })
}

/// GetVocabulary.
pub async fn get_vocabulary(inner: &Inner, ctx: &RequestContext, req: api::GetVocabularyRequest) -> Result<api::GetVocabularyResponse> {
    validate::name(&req.vocabulary_name, "vocabularyName")?;
    let r = inner.rt.meta.get::<VocabularyRecord>(&scope(ctx), &req.vocabulary_name).await?.ok_or_else(|| TranscribeError::NotFound(NOT_FOUND.into()))?.value;
    Ok(api::GetVocabularyResponse {
        vocabulary_name: Some(r.name),
        language_code: Some(r.language_code),
        vocabulary_state: Some(r.state),
        last_modified_time: Some(ts(r.last_modified_ms)),
        failure_reason: r.failure_reason,
        download_uri: r.file_uri,
    })
}

/// ListVocabularies: by name, filtered by state and name.
pub async fn list_vocabularies(inner: &Inner, ctx: &RequestContext, req: api::ListVocabulariesRequest) -> Result<api::ListVocabulariesResponse> {
    if let Some(s) = &req.state_equals {
        if !matches!(s.as_str(), "PENDING" | "READY" | "FAILED") {
            return Err(TranscribeError::validation(s, "stateEquals", "Member must satisfy enum value set: [PENDING, READY, FAILED]"));
        }
    }
    let rows = inner.rt.meta.list::<VocabularyRecord>(&scope(ctx), &ListQuery::default()).await?;
    let all: Vec<VocabularyRecord> = rows
        .into_iter()
        .map(|(_, r)| r.value)
        .filter(|v| req.state_equals.as_ref().is_none_or(|s| *s == v.state))
        .filter(|v| req.name_contains.as_ref().is_none_or(|c| v.name.to_lowercase().contains(&c.to_lowercase())))
        .collect();
    let (pg, next) = page(&all, req.max_results, req.next_token.as_deref(), 5)?;
    Ok(api::ListVocabulariesResponse {
        status: req.state_equals.clone(),
        next_token: next,
        vocabularies: Some(
            pg.into_iter()
                .map(|v| api::VocabularyInfo { vocabulary_name: Some(v.name), language_code: Some(v.language_code), last_modified_time: Some(ts(v.last_modified_ms)), vocabulary_state: Some(v.state) })
                .collect(),
        ),
    })
}

/// UpdateVocabulary: replace the phrases.
pub async fn update_vocabulary(inner: &Inner, ctx: &RequestContext, req: api::UpdateVocabularyRequest) -> Result<api::UpdateVocabularyResponse> {
    validate::name(&req.vocabulary_name, "vocabularyName")?;
    validate::language(&req.language_code, "languageCode")?;
    let sc = scope(ctx);
    let cur = inner.rt.meta.get::<VocabularyRecord>(&sc, &req.vocabulary_name).await?.ok_or_else(|| TranscribeError::NotFound(NOT_FOUND.into()))?;
    let parsed = entries(inner, ctx, &req.phrases, &req.vocabulary_file_uri).await?;
    let mut rec = cur.value;
    match parsed {
        Ok(e) => {
            rec.entries = e;
            rec.state = "READY".into();
            rec.failure_reason = None;
        }
        Err(reason) => {
            rec.state = "FAILED".into();
            rec.failure_reason = Some(reason);
        }
    }
    rec.language_code = req.language_code.clone();
    rec.file_uri = req.vocabulary_file_uri.clone();
    rec.last_modified_ms = now_ms(inner);
    inner.rt.meta.put(&sc, &rec.name, &rec, Expect::Version(cur.version)).await.map_err(|e| match e {
        hearth_runtime::MetaError::ConditionFailed { .. } => TranscribeError::Conflict("The vocabulary is being updated by another request. Try your request again.".into()),
        e => e.into(),
    })?;
    Ok(api::UpdateVocabularyResponse { vocabulary_name: Some(rec.name), language_code: Some(rec.language_code), last_modified_time: Some(ts(rec.last_modified_ms)), vocabulary_state: Some(rec.state) })
}

/// DeleteVocabulary.
pub async fn delete_vocabulary(inner: &Inner, ctx: &RequestContext, req: api::DeleteVocabularyRequest) -> Result<()> {
    validate::name(&req.vocabulary_name, "vocabularyName")?;
    if !inner.rt.meta.delete::<VocabularyRecord>(&scope(ctx), &req.vocabulary_name, Expect::Any).await? {
        return Err(TranscribeError::NotFound(NOT_FOUND.into()));
    }
    Ok(())
}
