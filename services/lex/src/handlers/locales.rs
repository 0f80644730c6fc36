//! Bot locales: CreateBotLocale (with its FallbackIntent), DescribeBotLocale, UpdateBotLocale,
//! DeleteBotLocale, ListBotLocales, BuildBotLocale (submits the durable build job).

use super::{
    check_description, check_draft, check_range, check_version, delete_all, filter_matches,
    list_all, page, sort_by_key, Cx,
};
use crate::api;
use crate::domain::model::FALLBACK_SIGNATURE;
use crate::error::{LexError, Result};
use crate::jobs::{self, BuildJob};
use crate::store::{self, DRAFT, FALLBACK_INTENT_ID};
use hearth_runtime::{Expect, SubmitOptions, WriteOp};

/// Locales Lex V2 supports, with their names.
pub(crate) const LOCALES: &[(&str, &str)] = &[
    ("ca_ES", "Catalan (Spain)"),
    ("de_AT", "German (Austria)"),
    ("de_DE", "German (Germany)"),
    ("en_AU", "English (AU)"),
    ("en_GB", "English (GB)"),
    ("en_IE", "English (Ireland)"),
    ("en_IN", "English (India)"),
    ("en_NZ", "English (New Zealand)"),
    ("en_US", "English (US)"),
    ("en_ZA", "English (South Africa)"),
    ("es_419", "Spanish (Latin America)"),
    ("es_ES", "Spanish (Spain)"),
    ("es_US", "Spanish (US)"),
    ("fi_FI", "Finnish (Finland)"),
    ("fr_CA", "French (Canada)"),
    ("fr_FR", "French (France)"),
    ("it_IT", "Italian (Italy)"),
    ("ja_JP", "Japanese (Japan)"),
    ("ko_KR", "Korean (Korea)"),
    ("nl_NL", "Dutch (Netherlands)"),
    ("no_NO", "Norwegian (Norway)"),
    ("pl_PL", "Polish (Poland)"),
    ("pt_BR", "Portuguese (Brazil)"),
    ("pt_PT", "Portuguese (Portugal)"),
    ("sv_SE", "Swedish (Sweden)"),
    ("zh_CN", "Mandarin (PRC)"),
];

pub(crate) fn locale_name(id: &str) -> Option<&'static str> {
    LOCALES.iter().find(|(l, _)| *l == id).map(|(_, n)| *n)
}

fn check_threshold(t: f64) -> Result<()> {
    check_range(t, 0.0, 1.0, "nluIntentConfidenceThreshold")
}

pub(crate) async fn create_bot_locale(
    cx: &Cx<'_>,
    req: api::CreateBotLocaleRequest,
) -> Result<api::CreateBotLocaleResponse> {
    check_draft(&req.bot_version)?;
    check_description(req.description.as_deref())?;
    check_threshold(req.nlu_intent_confidence_threshold)?;
    let Some(name) = locale_name(&req.locale_id) else {
        return Err(LexError::Validation(format!(
            "The locale {} is not supported. Supported locales: {}.",
            req.locale_id,
            LOCALES
                .iter()
                .map(|(l, _)| *l)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    cx.bot(&req.bot_id).await?;
    let key = store::locale_key(&req.bot_id, DRAFT, &req.locale_id);
    if cx
        .meta()
        .get::<store::Locale>(&cx.scope, &key)
        .await?
        .is_some()
    {
        return Err(LexError::PreconditionFailed(format!(
            "The locale {} already exists in the bot {}.",
            req.locale_id, req.bot_id
        )));
    }
    let now = cx.now();
    let def = api::UpdateBotLocaleRequest {
        audio_filler_settings: req.audio_filler_settings.clone(),
        bot_id: req.bot_id.clone(),
        bot_version: DRAFT.into(),
        description: req.description.clone(),
        generative_ai_settings: req.generative_ai_settings.clone(),
        locale_id: req.locale_id.clone(),
        nlu_intent_confidence_threshold: req.nlu_intent_confidence_threshold,
        speech_detection_sensitivity: req.speech_detection_sensitivity.clone(),
        speech_recognition_settings: req.speech_recognition_settings.clone(),
        unified_speech_settings: req.unified_speech_settings.clone(),
        voice_settings: req.voice_settings.clone(),
    };
    let locale = store::Locale {
        def,
        status: "NotBuilt".into(),
        failure_reasons: Vec::new(),
        created: now,
        updated: now,
        last_build_submitted: None,
        history: Vec::new(),
        builds: 0,
        model_built: None,
    };
    let fallback = store::Intent {
        def: api::UpdateIntentRequest {
            bot_id: req.bot_id.clone(),
            bot_version: DRAFT.into(),
            locale_id: req.locale_id.clone(),
            intent_id: FALLBACK_INTENT_ID.into(),
            intent_name: "FallbackIntent".into(),
            description: Some("Default intent when no other intent matches".into()),
            parent_intent_signature: Some(FALLBACK_SIGNATURE.into()),
            ..Default::default()
        },
        created: now,
        updated: now,
    };
    cx.meta()
        .apply(vec![
            WriteOp::put(&cx.scope, key, &locale, Expect::Absent)?,
            WriteOp::put(
                &cx.scope,
                store::child_key(&req.bot_id, DRAFT, &req.locale_id, FALLBACK_INTENT_ID),
                &fallback,
                Expect::Any,
            )?,
        ])
        .await?;
    Ok(api::CreateBotLocaleResponse {
        audio_filler_settings: req.audio_filler_settings,
        bot_id: Some(req.bot_id),
        bot_locale_status: Some("Creating".into()),
        bot_version: Some(DRAFT.into()),
        creation_date_time: Some(now),
        description: req.description,
        generative_ai_settings: req.generative_ai_settings,
        locale_id: Some(req.locale_id),
        locale_name: Some(name.into()),
        nlu_intent_confidence_threshold: Some(req.nlu_intent_confidence_threshold),
        speech_detection_sensitivity: req.speech_detection_sensitivity,
        speech_recognition_settings: req.speech_recognition_settings,
        unified_speech_settings: req.unified_speech_settings,
        voice_settings: req.voice_settings,
    })
}

pub(crate) async fn describe_bot_locale(
    cx: &Cx<'_>,
    req: api::DescribeBotLocaleRequest,
) -> Result<api::DescribeBotLocaleResponse> {
    check_version(&req.bot_version)?;
    let l = cx
        .locale(&req.bot_id, &req.bot_version, &req.locale_id)
        .await?
        .value;
    let prefix = format!(
        "{}/",
        store::locale_key(&req.bot_id, &req.bot_version, &req.locale_id)
    );
    let intents = list_all::<store::Intent>(cx.meta(), &cx.scope, &prefix)
        .await?
        .len();
    let types = list_all::<store::SlotType>(cx.meta(), &cx.scope, &prefix)
        .await?
        .len();
    Ok(api::DescribeBotLocaleResponse {
        audio_filler_settings: l.def.audio_filler_settings,
        bot_id: Some(req.bot_id),
        bot_locale_history_events: Some(l.history),
        bot_locale_status: Some(l.status),
        bot_version: Some(req.bot_version),
        creation_date_time: Some(l.created),
        description: l.def.description,
        failure_reasons: Some(l.failure_reasons),
        generative_ai_settings: l.def.generative_ai_settings,
        intents_count: Some(intents as i32),
        last_build_submitted_date_time: l.last_build_submitted,
        last_updated_date_time: Some(l.updated),
        locale_name: locale_name(&req.locale_id).map(str::to_string),
        locale_id: Some(req.locale_id),
        nlu_intent_confidence_threshold: Some(l.def.nlu_intent_confidence_threshold),
        recommended_actions: Some(Vec::new()),
        slot_types_count: Some(types as i32),
        speech_detection_sensitivity: l.def.speech_detection_sensitivity,
        speech_recognition_settings: l.def.speech_recognition_settings,
        unified_speech_settings: l.def.unified_speech_settings,
        voice_settings: l.def.voice_settings,
    })
}

pub(crate) async fn update_bot_locale(
    cx: &Cx<'_>,
    req: api::UpdateBotLocaleRequest,
) -> Result<api::UpdateBotLocaleResponse> {
    check_draft(&req.bot_version)?;
    check_description(req.description.as_deref())?;
    check_threshold(req.nlu_intent_confidence_threshold)?;
    let cur = match cx.locale(&req.bot_id, DRAFT, &req.locale_id).await {
        Err(LexError::NotFound(_)) => return Err(super::gone()),
        other => other?,
    };
    let mut l = cur.value;
    l.def = req.clone();
    l.updated = cx.now();
    cx.meta()
        .put(
            &cx.scope,
            &store::locale_key(&req.bot_id, DRAFT, &req.locale_id),
            &l,
            Expect::Version(cur.version),
        )
        .await?;
    Ok(api::UpdateBotLocaleResponse {
        audio_filler_settings: req.audio_filler_settings,
        bot_id: Some(req.bot_id),
        bot_locale_status: Some(l.status),
        bot_version: Some(DRAFT.into()),
        creation_date_time: Some(l.created),
        description: req.description,
        failure_reasons: Some(l.failure_reasons),
        generative_ai_settings: req.generative_ai_settings,
        last_updated_date_time: Some(l.updated),
        locale_name: locale_name(&req.locale_id).map(str::to_string),
        locale_id: Some(req.locale_id),
        nlu_intent_confidence_threshold: Some(req.nlu_intent_confidence_threshold),
        recommended_actions: Some(Vec::new()),
        speech_detection_sensitivity: req.speech_detection_sensitivity,
        speech_recognition_settings: req.speech_recognition_settings,
        unified_speech_settings: req.unified_speech_settings,
        voice_settings: req.voice_settings,
    })
}

pub(crate) async fn delete_bot_locale(
    cx: &Cx<'_>,
    req: api::DeleteBotLocaleRequest,
) -> Result<api::DeleteBotLocaleResponse> {
    check_version(&req.bot_version)?;
    match cx
        .locale(&req.bot_id, &req.bot_version, &req.locale_id)
        .await
    {
        Err(LexError::NotFound(_)) => return Err(super::gone()),
        other => other?,
    };
    let key = store::locale_key(&req.bot_id, &req.bot_version, &req.locale_id);
    let prefix = format!("{key}/");
    let meta = cx.meta();
    delete_all::<store::Slot>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Intent>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::SlotType>(meta, &cx.scope, &prefix).await?;
    meta.delete::<store::Model>(&cx.scope, &key, Expect::Any)
        .await?;
    meta.delete::<store::Locale>(&cx.scope, &key, Expect::Any)
        .await?;
    Ok(api::DeleteBotLocaleResponse {
        bot_id: Some(req.bot_id),
        bot_locale_status: Some("Deleting".into()),
        bot_version: Some(req.bot_version),
        locale_id: Some(req.locale_id),
    })
}

pub(crate) async fn list_bot_locales(
    cx: &Cx<'_>,
    req: api::ListBotLocalesRequest,
) -> Result<api::ListBotLocalesResponse> {
    check_version(&req.bot_version)?;
    cx.bot(&req.bot_id).await?;
    cx.version_exists(&req.bot_id, &req.bot_version).await?;
    let prefix = format!("{}/{}/", req.bot_id, req.bot_version);
    let mut locales: Vec<store::Locale> = list_all::<store::Locale>(cx.meta(), &cx.scope, &prefix)
        .await?
        .into_iter()
        .map(|(_, l)| l.value)
        .collect();
    for f in req.filters.iter().flatten() {
        locales.retain(|l| {
            filter_matches(
                locale_name(&l.def.locale_id).unwrap_or(""),
                &f.operator,
                &f.values,
            )
        });
    }
    sort_by_key(
        &mut locales,
        req.sort_by.as_ref().map(|s| s.order.as_str()),
        |l| locale_name(&l.def.locale_id).unwrap_or("").to_string(),
    );
    let (items, next) = page(locales, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListBotLocalesResponse {
        bot_id: Some(req.bot_id),
        bot_version: Some(req.bot_version),
        bot_locale_summaries: Some(
            items
                .into_iter()
                .map(|l| api::BotLocaleSummary {
                    bot_locale_status: Some(l.status),
                    description: l.def.description,
                    last_build_submitted_date_time: l.last_build_submitted,
                    last_updated_date_time: Some(l.updated),
                    locale_name: locale_name(&l.def.locale_id).map(str::to_string),
                    locale_id: Some(l.def.locale_id),
                })
                .collect(),
        ),
        next_token: next,
    })
}

pub(crate) async fn build_bot_locale(
    cx: &Cx<'_>,
    req: api::BuildBotLocaleRequest,
) -> Result<api::BuildBotLocaleResponse> {
    check_draft(&req.bot_version)?;
    let cur = cx.locale(&req.bot_id, DRAFT, &req.locale_id).await?;
    let key = store::locale_key(&req.bot_id, DRAFT, &req.locale_id);
    let mut l = cur.value;
    let now = cx.now();
    let state = jobs::BuildState {
        bot_id: req.bot_id.clone(),
        locale_id: req.locale_id.clone(),
        build: l.builds + 1,
    };
    let job_id = |build: u64| {
        format!(
            "lex-build/{}/{}/{}/{}/{build}",
            cx.scope.account, cx.scope.region, req.bot_id, req.locale_id
        )
    };
    if l.status == "Building" {
        // A build is under way; if its job never made it to the queue (a crash between the two
        // writes), submit it again.
        let queued = cx
            .lex
            .inner
            .rt
            .jobs
            .get(&job_id(l.builds))
            .await
            .map_err(|e| LexError::Internal(e.to_string()))?;
        if queued.is_some() {
            return Err(LexError::PreconditionFailed(format!(
                "The bot locale {} is already being built.",
                req.locale_id
            )));
        }
        let st = jobs::BuildState {
            build: l.builds,
            ..state
        };
        cx.lex
            .inner
            .rt
            .jobs
            .submit_job::<BuildJob>(&cx.scope, &st, SubmitOptions::with_id(job_id(l.builds)))
            .await
            .map_err(|e| LexError::Internal(e.to_string()))?;
        return Ok(api::BuildBotLocaleResponse {
            bot_id: Some(req.bot_id),
            bot_locale_status: Some(l.status),
            bot_version: Some(DRAFT.into()),
            last_build_submitted_date_time: l.last_build_submitted,
            locale_id: Some(req.locale_id),
        });
    }
    l.status = "Building".into();
    l.builds += 1;
    l.failure_reasons.clear();
    l.last_build_submitted = Some(now);
    cx.meta()
        .put(&cx.scope, &key, &l, Expect::Version(cur.version))
        .await?;
    cx.lex
        .inner
        .rt
        .jobs
        .submit_job::<BuildJob>(&cx.scope, &state, SubmitOptions::with_id(job_id(l.builds)))
        .await
        .map_err(|e| LexError::Internal(e.to_string()))?;
    tracing::info!(bot = %req.bot_id, locale = %req.locale_id, build = l.builds, "lex build submitted");
    Ok(api::BuildBotLocaleResponse {
        bot_id: Some(req.bot_id),
        bot_locale_status: Some("Building".into()),
        bot_version: Some(DRAFT.into()),
        last_build_submitted_date_time: Some(now),
        locale_id: Some(req.locale_id),
    })
}
