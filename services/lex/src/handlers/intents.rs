//! Intents: CreateIntent, DescribeIntent, UpdateIntent, DeleteIntent, ListIntents, and
//! ListBuiltInIntents.

use super::{
    check_description, check_draft, check_name, check_range, check_version, delete_all,
    filter_matches, gone, list_all, locale_changed, new_id, page, sort_by_key, Cx,
};
use crate::api;
use crate::domain::model::{builtin_intent_utterances, FALLBACK_SIGNATURE};
use crate::error::{LexError, Result};
use crate::store::{self, DRAFT};
use hearth_runtime::{Expect, WriteOp};

/// Built-in intents and what they are for.
const BUILTIN_INTENTS: &[(&str, &str)] = &[
    ("AMAZON.CancelIntent", "Responds to words and phrases that indicate the user wants to cancel the current interaction."),
    ("AMAZON.FallbackIntent", "Default intent when no other intent matches."),
    ("AMAZON.HelpIntent", "Responds to words or phrases that indicate the user needs help while interacting with the bot."),
    ("AMAZON.RepeatIntent", "Responds to words or phrases that indicate the user wants to hear the last message again."),
    ("AMAZON.StartOverIntent", "Responds to words and phrases that indicate the user wants to stop processing the current intent and start over."),
    ("AMAZON.StopIntent", "Responds to words and phrases that indicate that the user wants to stop processing the current intent and end the interaction."),
];

fn check_intent(def: &api::UpdateIntentRequest) -> Result<()> {
    check_name(&def.intent_name, "intentName")?;
    check_description(def.description.as_deref())?;
    if let Some(d) = &def.intent_display_name {
        if d.is_empty() || d.chars().count() > 100 {
            return Err(LexError::member(
                d,
                "intentDisplayName",
                "Member must have length less than or equal to 100",
            ));
        }
    }
    if let Some(sig) = &def.parent_intent_signature {
        if builtin_intent_utterances(sig).is_none() {
            return Err(LexError::Validation(format!(
                "The built-in intent {sig} is not supported. Supported: {}.",
                BUILTIN_INTENTS
                    .iter()
                    .map(|(s, _)| *s)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if sig == FALLBACK_SIGNATURE
            && def
                .sample_utterances
                .as_ref()
                .is_some_and(|u| !u.is_empty())
        {
            return Err(LexError::Validation(
                "AMAZON.FallbackIntent cannot have sample utterances.".into(),
            ));
        }
    }
    for u in def.sample_utterances.iter().flatten() {
        if u.utterance.trim().is_empty() || u.utterance.chars().count() > 500 {
            return Err(LexError::member(
                &u.utterance,
                "sampleUtterances.member.utterance",
                "Member must have length between 1 and 500",
            ));
        }
    }
    if def.input_contexts.as_ref().is_some_and(|c| c.len() > 5) {
        return Err(LexError::Validation("1 validation error detected: Value at 'inputContexts' failed to satisfy constraint: Member must have length less than or equal to 5".into()));
    }
    for c in def.input_contexts.iter().flatten() {
        check_name(&c.name, "inputContexts.member.name")?;
    }
    if def.output_contexts.as_ref().is_some_and(|c| c.len() > 10) {
        return Err(LexError::Validation("1 validation error detected: Value at 'outputContexts' failed to satisfy constraint: Member must have length less than or equal to 10".into()));
    }
    for c in def.output_contexts.iter().flatten() {
        check_name(&c.name, "outputContexts.member.name")?;
        check_range(
            f64::from(c.time_to_live_in_seconds),
            5.0,
            86400.0,
            "outputContexts.member.timeToLiveInSeconds",
        )?;
        check_range(
            f64::from(c.turns_to_live),
            1.0,
            20.0,
            "outputContexts.member.turnsToLive",
        )?;
    }
    if let Some(c) = &def.intent_confirmation_setting {
        check_prompt(
            &c.prompt_specification,
            "intentConfirmationSetting.promptSpecification",
        )?;
    }
    Ok(())
}

/// A prompt's limits: 1 to 5 message groups, 0 to 5 retries.
pub(crate) fn check_prompt(p: &api::PromptSpecification, member: &str) -> Result<()> {
    if p.message_groups.is_empty() || p.message_groups.len() > 5 {
        return Err(LexError::Validation(format!("1 validation error detected: Value at '{member}.messageGroups' failed to satisfy constraint: Member must have length between 1 and 5")));
    }
    check_range(
        f64::from(p.max_retries),
        0.0,
        5.0,
        &format!("{member}.maxRetries"),
    )
}

async fn intents_of(
    cx: &Cx<'_>,
    bot: &str,
    version: &str,
    locale: &str,
) -> Result<Vec<store::Intent>> {
    let prefix = format!("{}/", store::locale_key(bot, version, locale));
    Ok(list_all::<store::Intent>(cx.meta(), &cx.scope, &prefix)
        .await?
        .into_iter()
        .map(|(_, i)| i.value)
        .collect())
}

async fn check_unique(cx: &Cx<'_>, def: &api::UpdateIntentRequest) -> Result<()> {
    for i in intents_of(cx, &def.bot_id, DRAFT, &def.locale_id).await? {
        if i.def.intent_id == def.intent_id {
            continue;
        }
        if i.def.intent_name == def.intent_name {
            return Err(LexError::PreconditionFailed(format!(
                "An intent with the name '{}' already exists in the locale {}.",
                def.intent_name, def.locale_id
            )));
        }
        if def.parent_intent_signature.is_some()
            && i.def.parent_intent_signature == def.parent_intent_signature
        {
            return Err(LexError::PreconditionFailed(format!(
                "The locale {} already has an intent based on {}.",
                def.locale_id,
                def.parent_intent_signature.as_deref().unwrap_or_default()
            )));
        }
    }
    Ok(())
}

pub(crate) async fn create_intent(
    cx: &Cx<'_>,
    req: api::CreateIntentRequest,
) -> Result<api::CreateIntentResponse> {
    check_draft(&req.bot_version)?;
    let def = api::UpdateIntentRequest {
        bot_id: req.bot_id,
        bot_version: DRAFT.into(),
        description: req.description,
        dialog_code_hook: req.dialog_code_hook,
        fulfillment_code_hook: req.fulfillment_code_hook,
        initial_response_setting: req.initial_response_setting,
        input_contexts: req.input_contexts,
        intent_closing_setting: req.intent_closing_setting,
        intent_confirmation_setting: req.intent_confirmation_setting,
        intent_display_name: req.intent_display_name,
        intent_id: new_id(),
        intent_name: req.intent_name,
        kendra_configuration: req.kendra_configuration,
        locale_id: req.locale_id,
        output_contexts: req.output_contexts,
        parent_intent_signature: req.parent_intent_signature,
        q_in_connect_intent_configuration: req.q_in_connect_intent_configuration,
        qn_a_intent_configuration: req.qn_a_intent_configuration,
        sample_utterances: req.sample_utterances,
        slot_priorities: None,
    };
    check_intent(&def)?;
    let touch = locale_changed(cx, &def.bot_id, &def.locale_id).await?;
    check_unique(cx, &def).await?;
    let now = cx.now();
    let rec = store::Intent {
        def,
        created: now,
        updated: now,
    };
    let d = &rec.def;
    cx.meta()
        .apply(vec![
            WriteOp::put(
                &cx.scope,
                store::child_key(&d.bot_id, DRAFT, &d.locale_id, &d.intent_id),
                &rec,
                Expect::Absent,
            )?,
            touch,
        ])
        .await?;
    let d = rec.def;
    Ok(api::CreateIntentResponse {
        bot_id: Some(d.bot_id),
        bot_version: Some(DRAFT.into()),
        creation_date_time: Some(now),
        description: d.description,
        dialog_code_hook: d.dialog_code_hook,
        fulfillment_code_hook: d.fulfillment_code_hook,
        initial_response_setting: d.initial_response_setting,
        input_contexts: d.input_contexts,
        intent_closing_setting: d.intent_closing_setting,
        intent_confirmation_setting: d.intent_confirmation_setting,
        intent_display_name: d.intent_display_name,
        intent_id: Some(d.intent_id),
        intent_name: Some(d.intent_name),
        kendra_configuration: d.kendra_configuration,
        locale_id: Some(d.locale_id),
        output_contexts: d.output_contexts,
        parent_intent_signature: d.parent_intent_signature,
        q_in_connect_intent_configuration: d.q_in_connect_intent_configuration,
        qn_a_intent_configuration: d.qn_a_intent_configuration,
        sample_utterances: d.sample_utterances,
    })
}

pub(crate) async fn describe_intent(
    cx: &Cx<'_>,
    req: api::DescribeIntentRequest,
) -> Result<api::DescribeIntentResponse> {
    let key = store::child_key(
        &req.bot_id,
        &req.bot_version,
        &req.locale_id,
        &req.intent_id,
    );
    let i: store::Intent = cx.in_locale(&req.bot_id, &req.bot_version, &req.locale_id, &key).await?;
    let d = i.def;
    Ok(api::DescribeIntentResponse {
        bot_id: Some(d.bot_id),
        bot_version: Some(req.bot_version),
        creation_date_time: Some(i.created),
        description: d.description,
        dialog_code_hook: d.dialog_code_hook,
        fulfillment_code_hook: d.fulfillment_code_hook,
        initial_response_setting: d.initial_response_setting,
        input_contexts: d.input_contexts,
        intent_closing_setting: d.intent_closing_setting,
        intent_confirmation_setting: d.intent_confirmation_setting,
        intent_display_name: d.intent_display_name,
        intent_id: Some(d.intent_id),
        intent_name: Some(d.intent_name),
        kendra_configuration: d.kendra_configuration,
        last_updated_date_time: Some(i.updated),
        locale_id: Some(d.locale_id),
        output_contexts: d.output_contexts,
        parent_intent_signature: d.parent_intent_signature,
        q_in_connect_intent_configuration: d.q_in_connect_intent_configuration,
        qn_a_intent_configuration: d.qn_a_intent_configuration,
        sample_utterances: d.sample_utterances,
        slot_priorities: d.slot_priorities,
    })
}

pub(crate) async fn update_intent(
    cx: &Cx<'_>,
    req: api::UpdateIntentRequest,
) -> Result<api::UpdateIntentResponse> {
    check_draft(&req.bot_version)?;
    check_intent(&req)?;
    let touch = match locale_changed(cx, &req.bot_id, &req.locale_id).await {
        Err(LexError::NotFound(_)) => return Err(gone()),
        other => other?,
    };
    let key = store::child_key(&req.bot_id, DRAFT, &req.locale_id, &req.intent_id);
    let cur = cx
        .meta()
        .get::<store::Intent>(&cx.scope, &key)
        .await?
        .ok_or_else(gone)?;
    check_unique(cx, &req).await?;
    if cur.value.def.parent_intent_signature.as_deref() == Some(FALLBACK_SIGNATURE)
        && req.parent_intent_signature.as_deref() != Some(FALLBACK_SIGNATURE)
    {
        return Err(LexError::Validation(
            "The fallback intent must keep the parent intent signature AMAZON.FallbackIntent."
                .into(),
        ));
    }
    if let Some(ps) = &req.slot_priorities {
        let slots = list_all::<store::Slot>(cx.meta(), &cx.scope, &format!("{key}/")).await?;
        for p in ps {
            if !slots.iter().any(|(_, s)| s.value.def.slot_id == p.slot_id) {
                return Err(LexError::PreconditionFailed(format!(
                    "The slot {} in slotPriorities does not exist in the intent {}.",
                    p.slot_id, req.intent_id
                )));
            }
        }
    }
    let mut rec = cur.value;
    rec.def = req;
    rec.updated = cx.now();
    cx.meta()
        .apply(vec![
            WriteOp::put(&cx.scope, key, &rec, Expect::Version(cur.version))?,
            touch,
        ])
        .await?;
    let d = rec.def;
    Ok(api::UpdateIntentResponse {
        bot_id: Some(d.bot_id),
        bot_version: Some(DRAFT.into()),
        creation_date_time: Some(rec.created),
        description: d.description,
        dialog_code_hook: d.dialog_code_hook,
        fulfillment_code_hook: d.fulfillment_code_hook,
        initial_response_setting: d.initial_response_setting,
        input_contexts: d.input_contexts,
        intent_closing_setting: d.intent_closing_setting,
        intent_confirmation_setting: d.intent_confirmation_setting,
        intent_display_name: d.intent_display_name,
        intent_id: Some(d.intent_id),
        intent_name: Some(d.intent_name),
        kendra_configuration: d.kendra_configuration,
        last_updated_date_time: Some(rec.updated),
        locale_id: Some(d.locale_id),
        output_contexts: d.output_contexts,
        parent_intent_signature: d.parent_intent_signature,
        q_in_connect_intent_configuration: d.q_in_connect_intent_configuration,
        qn_a_intent_configuration: d.qn_a_intent_configuration,
        sample_utterances: d.sample_utterances,
        slot_priorities: d.slot_priorities,
    })
}

pub(crate) async fn delete_intent(cx: &Cx<'_>, req: api::DeleteIntentRequest) -> Result<()> {
    check_draft(&req.bot_version)?;
    let touch = match locale_changed(cx, &req.bot_id, &req.locale_id).await {
        Err(LexError::NotFound(_)) => return Err(gone()),
        other => other?,
    };
    let key = store::child_key(&req.bot_id, DRAFT, &req.locale_id, &req.intent_id);
    cx.meta()
        .get::<store::Intent>(&cx.scope, &key)
        .await?
        .ok_or_else(gone)?;
    delete_all::<store::Slot>(cx.meta(), &cx.scope, &format!("{key}/")).await?;
    cx.meta()
        .apply(vec![
            WriteOp::delete::<store::Intent>(&cx.scope, key, Expect::Any),
            touch,
        ])
        .await?;
    Ok(())
}

pub(crate) async fn list_intents(
    cx: &Cx<'_>,
    req: api::ListIntentsRequest,
) -> Result<api::ListIntentsResponse> {
    check_version(&req.bot_version)?;
    cx.locale(&req.bot_id, &req.bot_version, &req.locale_id)
        .await?;
    let mut intents = intents_of(cx, &req.bot_id, &req.bot_version, &req.locale_id).await?;
    for f in req.filters.iter().flatten() {
        intents.retain(|i| filter_matches(&i.def.intent_name, &f.operator, &f.values));
    }
    match req.sort_by.as_ref() {
        Some(s) if s.attribute == "LastUpdatedDateTime" => {
            sort_by_key(&mut intents, Some(s.order.as_str()), |i| i.updated)
        }
        s => sort_by_key(&mut intents, s.map(|s| s.order.as_str()), |i| {
            i.def.intent_name.to_lowercase()
        }),
    }
    let (items, next) = page(intents, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListIntentsResponse {
        bot_id: Some(req.bot_id),
        bot_version: Some(req.bot_version),
        locale_id: Some(req.locale_id),
        intent_summaries: Some(
            items
                .into_iter()
                .map(|i| api::IntentSummary {
                    description: i.def.description,
                    input_contexts: i.def.input_contexts,
                    intent_display_name: i.def.intent_display_name,
                    intent_id: Some(i.def.intent_id),
                    intent_name: Some(i.def.intent_name),
                    last_updated_date_time: Some(i.updated),
                    output_contexts: i.def.output_contexts,
                    parent_intent_signature: i.def.parent_intent_signature,
                })
                .collect(),
        ),
        next_token: next,
    })
}

pub(crate) async fn list_built_in_intents(
    _cx: &Cx<'_>,
    req: api::ListBuiltInIntentsRequest,
) -> Result<api::ListBuiltInIntentsResponse> {
    if super::locales::locale_name(&req.locale_id).is_none() {
        return Err(LexError::Validation(format!(
            "The locale {} is not supported.",
            req.locale_id
        )));
    }
    let mut items: Vec<(&str, &str)> = BUILTIN_INTENTS.to_vec();
    if req
        .sort_by
        .as_ref()
        .is_some_and(|s| s.order == "Descending")
    {
        items.reverse();
    }
    let (items, next) = page(items, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListBuiltInIntentsResponse {
        built_in_intent_summaries: Some(
            items
                .into_iter()
                .map(|(s, d)| api::BuiltInIntentSummary {
                    intent_signature: Some(s.into()),
                    description: Some(d.into()),
                })
                .collect(),
        ),
        locale_id: Some(req.locale_id),
        next_token: next,
    })
}
