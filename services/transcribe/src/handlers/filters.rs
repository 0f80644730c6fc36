//! Vocabulary filters: CreateVocabularyFilter, GetVocabularyFilter, ListVocabularyFilters,
//! UpdateVocabularyFilter, DeleteVocabularyFilter. Words come inline or from an S3 file (one
//! word or phrase per line, at most 50 KB).

use hearth_protocol::RequestContext;
use hearth_runtime::{Expect, ListQuery};

use super::vocabularies::read_text;
use super::{now_ms, page, ts};
use crate::api;
use crate::domain::validate;
use crate::error::{Result, TranscribeError};
use crate::store::FilterRecord;
use crate::{scope, Inner};

const NOT_FOUND: &str = "The requested vocabulary filter couldn't be found. Check the vocabulary filter name and try your request again.";

async fn words(inner: &Inner, ctx: &RequestContext, words: &Option<Vec<String>>, uri: &Option<String>) -> Result<Vec<String>> {
    let list: Vec<String> = match (words, uri) {
        (Some(_), Some(_)) => return Err(TranscribeError::BadRequest("You can't specify both Words and VocabularyFilterFileUri. Choose one and try your request again.".into())),
        (None, None) => return Err(TranscribeError::BadRequest("You must specify either Words or VocabularyFilterFileUri. Add one and try your request again.".into())),
        (Some(w), None) => w.clone(),
        (None, Some(u)) => read_text(inner, ctx, u, "vocabularyFilterFileUri", 50 * 1024).await?.map_err(TranscribeError::BadRequest)?.lines().map(str::to_string).collect(),
    };
    let list: Vec<String> = list.into_iter().map(|w| w.trim().to_string()).filter(|w| !w.is_empty()).collect();
    if list.is_empty() {
        return Err(TranscribeError::BadRequest("The vocabulary filter has no words. Add at least one word and try your request again.".into()));
    }
    for w in &list {
        if w.chars().count() > 256 || !w.chars().all(|c| c.is_alphanumeric() || matches!(c, '\'' | '-' | '.' | ' ')) {
            return Err(TranscribeError::BadRequest(format!("The vocabulary filter word \"{w}\" contains characters that aren't supported for en-US.")));
        }
    }
    Ok(list)
}

/// CreateVocabularyFilter.
pub async fn create_vocabulary_filter(inner: &Inner, ctx: &RequestContext, req: api::CreateVocabularyFilterRequest) -> Result<api::CreateVocabularyFilterResponse> {
    validate::name(&req.vocabulary_filter_name, "vocabularyFilterName")?;
    validate::language(&req.language_code, "languageCode")?;
    if let Some(t) = &req.tags {
        validate::tags(t)?;
    }
    let list = words(inner, ctx, &req.words, &req.vocabulary_filter_file_uri).await?;
    let rec = FilterRecord {
        name: req.vocabulary_filter_name.clone(),
        language_code: req.language_code.clone(),
        words: list,
        file_uri: req.vocabulary_filter_file_uri.clone(),
        last_modified_ms: now_ms(inner),
        tags: req.tags.clone().unwrap_or_default(),
    };
    match inner.rt.meta.put(&scope(ctx), &rec.name, &rec, Expect::Absent).await {
        Ok(_) => {}
        Err(hearth_runtime::MetaError::ConditionFailed { .. }) => {
            return Err(TranscribeError::Conflict("The requested vocabulary filter name already exists. Use a different vocabulary filter name.".into()));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(api::CreateVocabularyFilterResponse { vocabulary_filter_name: Some(rec.name), language_code: Some(rec.language_code), last_modified_time: Some(ts(rec.last_modified_ms)) })
}

/// GetVocabularyFilter.
pub async fn get_vocabulary_filter(inner: &Inner, ctx: &RequestContext, req: api::GetVocabularyFilterRequest) -> Result<api::GetVocabularyFilterResponse> {
    validate::name(&req.vocabulary_filter_name, "vocabularyFilterName")?;
    let r = inner.rt.meta.get::<FilterRecord>(&scope(ctx), &req.vocabulary_filter_name).await?.ok_or_else(|| TranscribeError::NotFound(NOT_FOUND.into()))?.value;
    Ok(api::GetVocabularyFilterResponse { vocabulary_filter_name: Some(r.name), language_code: Some(r.language_code), last_modified_time: Some(ts(r.last_modified_ms)), download_uri: r.file_uri })
}

/// ListVocabularyFilters.
pub async fn list_vocabulary_filters(inner: &Inner, ctx: &RequestContext, req: api::ListVocabularyFiltersRequest) -> Result<api::ListVocabularyFiltersResponse> {
    let rows = inner.rt.meta.list::<FilterRecord>(&scope(ctx), &ListQuery::default()).await?;
    let all: Vec<FilterRecord> = rows.into_iter().map(|(_, r)| r.value).filter(|f| req.name_contains.as_ref().is_none_or(|c| f.name.to_lowercase().contains(&c.to_lowercase()))).collect();
    let (pg, next) = page(&all, req.max_results, req.next_token.as_deref(), 5)?;
    Ok(api::ListVocabularyFiltersResponse {
        next_token: next,
        vocabulary_filters: Some(
            pg.into_iter()
                .map(|f| api::VocabularyFilterInfo { vocabulary_filter_name: Some(f.name), language_code: Some(f.language_code), last_modified_time: Some(ts(f.last_modified_ms)) })
                .collect(),
        ),
    })
}

/// UpdateVocabularyFilter.
pub async fn update_vocabulary_filter(inner: &Inner, ctx: &RequestContext, req: api::UpdateVocabularyFilterRequest) -> Result<api::UpdateVocabularyFilterResponse> {
    validate::name(&req.vocabulary_filter_name, "vocabularyFilterName")?;
    let sc = scope(ctx);
    let cur = inner.rt.meta.get::<FilterRecord>(&sc, &req.vocabulary_filter_name).await?.ok_or_else(|| TranscribeError::NotFound(NOT_FOUND.into()))?;
    let mut rec = cur.value;
    rec.words = words(inner, ctx, &req.words, &req.vocabulary_filter_file_uri).await?;
    rec.file_uri = req.vocabulary_filter_file_uri.clone();
    rec.last_modified_ms = now_ms(inner);
    inner.rt.meta.put(&sc, &rec.name, &rec, Expect::Version(cur.version)).await.map_err(|e| match e {
        hearth_runtime::MetaError::ConditionFailed { .. } => TranscribeError::Conflict("The vocabulary filter is being updated by another request. Try your request again.".into()),
        e => e.into(),
    })?;
    Ok(api::UpdateVocabularyFilterResponse { vocabulary_filter_name: Some(rec.name), language_code: Some(rec.language_code), last_modified_time: Some(ts(rec.last_modified_ms)) })
}

/// DeleteVocabularyFilter.
pub async fn delete_vocabulary_filter(inner: &Inner, ctx: &RequestContext, req: api::DeleteVocabularyFilterRequest) -> Result<()> {
    validate::name(&req.vocabulary_filter_name, "vocabularyFilterName")?;
    if !inner.rt.meta.delete::<FilterRecord>(&scope(ctx), &req.vocabulary_filter_name, Expect::Any).await? {
        return Err(TranscribeError::NotFound(NOT_FOUND.into()));
    }
    Ok(())
}
