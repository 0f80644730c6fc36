//! Bot aliases: CreateBotAlias, DescribeBotAlias, UpdateBotAlias, DeleteBotAlias,
//! ListBotAliases. The test alias `TSTALIASID` (made with the bot) always serves the draft.

use super::{check_description, check_id, check_name, list_all, new_id, not_found, page, Cx};
use crate::api;
use crate::error::{LexError, Result};
use crate::store::{self, DRAFT, TEST_ALIAS_ID};
use hearth_runtime::Expect;
use std::collections::BTreeMap;

async fn check_alias(
    cx: &Cx<'_>,
    bot: &str,
    alias_id: Option<&str>,
    name: &str,
    description: Option<&str>,
    version: Option<&str>,
    locales: Option<&BTreeMap<String, api::BotAliasLocaleSettings>>,
) -> Result<()> {
    check_name(name, "botAliasName")?;
    check_description(description)?;
    for (_, a) in list_all::<store::Alias>(cx.meta(), &cx.scope, &format!("{bot}/")).await? {
        if a.value.def.bot_alias_name == name && Some(a.value.def.bot_alias_id.as_str()) != alias_id
        {
            return Err(LexError::PreconditionFailed(format!(
                "A bot alias with the name '{name}' already exists for the bot {bot}."
            )));
        }
    }
    if let Some(v) = version {
        if v.is_empty() || v.len() > 5 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LexError::member(
                v,
                "botVersion",
                "Member must satisfy regular expression pattern: ^[0-9]+$",
            ));
        }
        let ver = cx
            .meta()
            .get::<store::Version>(&cx.scope, &store::version_key(bot, v))
            .await?
            .ok_or_else(|| {
                LexError::PreconditionFailed(format!(
                    "The bot version {v} does not exist for the bot {bot}."
                ))
            })?;
        for l in locales.into_iter().flat_map(|m| m.keys()) {
            if !ver.value.locales.contains_key(l) {
                return Err(LexError::PreconditionFailed(format!(
                    "The locale {l} does not exist in version {v} of the bot {bot}."
                )));
            }
        }
    }
    Ok(())
}

pub(crate) async fn create_bot_alias(
    cx: &Cx<'_>,
    req: api::CreateBotAliasRequest,
) -> Result<api::CreateBotAliasResponse> {
    cx.bot(&req.bot_id).await?;
    check_alias(
        cx,
        &req.bot_id,
        None,
        &req.bot_alias_name,
        req.description.as_deref(),
        req.bot_version.as_deref(),
        req.bot_alias_locale_settings.as_ref(),
    )
    .await?;
    let id = new_id();
    let now = cx.now();
    let rec = store::Alias {
        def: api::UpdateBotAliasRequest {
            bot_alias_id: id.clone(),
            bot_alias_locale_settings: req.bot_alias_locale_settings.clone(),
            bot_alias_name: req.bot_alias_name.clone(),
            bot_id: req.bot_id.clone(),
            bot_version: req.bot_version.clone(),
            conversation_log_settings: req.conversation_log_settings.clone(),
            description: req.description.clone(),
            sentiment_analysis_settings: req.sentiment_analysis_settings.clone(),
        },
        status: "Available".into(),
        created: now,
        updated: now,
        history: req
            .bot_version
            .iter()
            .map(|v| api::BotAliasHistoryEvent {
                bot_version: Some(v.clone()),
                start_date: Some(now),
                end_date: None,
            })
            .collect(),
        tags: req.tags.clone().unwrap_or_default(),
    };
    cx.meta()
        .put(
            &cx.scope,
            &format!("{}/{id}", req.bot_id),
            &rec,
            Expect::Absent,
        )
        .await?;
    Ok(api::CreateBotAliasResponse {
        bot_alias_id: Some(id),
        bot_alias_locale_settings: req.bot_alias_locale_settings,
        bot_alias_name: Some(req.bot_alias_name),
        bot_alias_status: Some("Creating".into()),
        bot_id: Some(req.bot_id),
        bot_version: req.bot_version,
        conversation_log_settings: req.conversation_log_settings,
        creation_date_time: Some(now),
        description: req.description,
        sentiment_analysis_settings: req.sentiment_analysis_settings,
        tags: req.tags,
    })
}

pub(crate) async fn describe_bot_alias(
    cx: &Cx<'_>,
    req: api::DescribeBotAliasRequest,
) -> Result<api::DescribeBotAliasResponse> {
    cx.bot(&req.bot_id).await?;
    check_id(&req.bot_alias_id, "botAliasId")?;
    let a = cx
        .meta()
        .get::<store::Alias>(&cx.scope, &format!("{}/{}", req.bot_id, req.bot_alias_id))
        .await?
        .ok_or_else(not_found)?
        .value;
    Ok(api::DescribeBotAliasResponse {
        bot_alias_history_events: Some(a.history),
        bot_alias_id: Some(a.def.bot_alias_id),
        bot_alias_locale_settings: a.def.bot_alias_locale_settings,
        bot_alias_name: Some(a.def.bot_alias_name),
        bot_alias_status: Some(a.status),
        bot_id: Some(a.def.bot_id),
        bot_version: a.def.bot_version,
        conversation_log_settings: a.def.conversation_log_settings,
        creation_date_time: Some(a.created),
        description: a.def.description,
        last_updated_date_time: Some(a.updated),
        parent_bot_networks: Some(Vec::new()),
        sentiment_analysis_settings: a.def.sentiment_analysis_settings,
    })
}

pub(crate) async fn update_bot_alias(
    cx: &Cx<'_>,
    req: api::UpdateBotAliasRequest,
) -> Result<api::UpdateBotAliasResponse> {
    cx.bot(&req.bot_id).await.map_err(|_| super::gone())?;
    let key = format!("{}/{}", req.bot_id, req.bot_alias_id);
    let cur = cx
        .meta()
        .get::<store::Alias>(&cx.scope, &key)
        .await?
        .ok_or_else(super::gone)?;
    if req.bot_alias_id == TEST_ALIAS_ID && req.bot_version.as_deref().is_some_and(|v| v != DRAFT) {
        return Err(LexError::Validation(
            "The test bot alias TSTALIASID always uses the DRAFT version.".into(),
        ));
    }
    let version = req.bot_version.as_deref().filter(|v| *v != DRAFT);
    check_alias(
        cx,
        &req.bot_id,
        Some(&req.bot_alias_id),
        &req.bot_alias_name,
        req.description.as_deref(),
        version,
        req.bot_alias_locale_settings.as_ref(),
    )
    .await?;
    let mut a = cur.value;
    let now = cx.now();
    if a.def.bot_version != req.bot_version {
        if let Some(last) = a.history.last_mut() {
            last.end_date = Some(now);
        }
        if let Some(v) = &req.bot_version {
            a.history.push(api::BotAliasHistoryEvent {
                bot_version: Some(v.clone()),
                start_date: Some(now),
                end_date: None,
            });
        }
    }
    a.def = req;
    if a.def.bot_alias_id == TEST_ALIAS_ID {
        a.def.bot_version = Some(DRAFT.into());
    }
    a.updated = now;
    cx.meta()
        .put(&cx.scope, &key, &a, Expect::Version(cur.version))
        .await?;
    Ok(api::UpdateBotAliasResponse {
        bot_alias_id: Some(a.def.bot_alias_id),
        bot_alias_locale_settings: a.def.bot_alias_locale_settings,
        bot_alias_name: Some(a.def.bot_alias_name),
        bot_alias_status: Some(a.status),
        bot_id: Some(a.def.bot_id),
        bot_version: a.def.bot_version,
        conversation_log_settings: a.def.conversation_log_settings,
        creation_date_time: Some(a.created),
        description: a.def.description,
        last_updated_date_time: Some(a.updated),
        sentiment_analysis_settings: a.def.sentiment_analysis_settings,
    })
}

pub(crate) async fn delete_bot_alias(
    cx: &Cx<'_>,
    req: api::DeleteBotAliasRequest,
) -> Result<api::DeleteBotAliasResponse> {
    cx.bot(&req.bot_id).await.map_err(|_| super::gone())?;
    if req.bot_alias_id == TEST_ALIAS_ID {
        return Err(LexError::PreconditionFailed(
            "The test bot alias TSTALIASID can't be deleted.".into(),
        ));
    }
    let key = format!("{}/{}", req.bot_id, req.bot_alias_id);
    cx.meta()
        .get::<store::Alias>(&cx.scope, &key)
        .await?
        .ok_or_else(super::gone)?;
    super::delete_all::<store::Session>(cx.meta(), &cx.scope, &format!("{key}/")).await?;
    cx.meta()
        .delete::<store::Alias>(&cx.scope, &key, Expect::Any)
        .await?;
    Ok(api::DeleteBotAliasResponse {
        bot_alias_id: Some(req.bot_alias_id),
        bot_alias_status: Some("Deleting".into()),
        bot_id: Some(req.bot_id),
    })
}

pub(crate) async fn list_bot_aliases(
    cx: &Cx<'_>,
    req: api::ListBotAliasesRequest,
) -> Result<api::ListBotAliasesResponse> {
    cx.bot(&req.bot_id).await?;
    let mut aliases: Vec<store::Alias> =
        list_all::<store::Alias>(cx.meta(), &cx.scope, &format!("{}/", req.bot_id))
            .await?
            .into_iter()
            .map(|(_, a)| a.value)
            .collect();
    aliases.sort_by_key(|a| a.def.bot_alias_name.to_lowercase());
    let (items, next) = page(aliases, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListBotAliasesResponse {
        bot_id: Some(req.bot_id),
        bot_alias_summaries: Some(
            items
                .into_iter()
                .map(|a| api::BotAliasSummary {
                    bot_alias_id: Some(a.def.bot_alias_id),
                    bot_alias_name: Some(a.def.bot_alias_name),
                    bot_alias_status: Some(a.status),
                    bot_version: a.def.bot_version,
                    creation_date_time: Some(a.created),
                    description: a.def.description,
                    last_updated_date_time: Some(a.updated),
                })
                .collect(),
        ),
        next_token: next,
    })
}
