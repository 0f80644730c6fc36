//! Bots: CreateBot (with its test alias `TSTALIASID`), DescribeBot, UpdateBot, DeleteBot,
//! ListBots.

use super::{
    check_description, check_name, check_range, delete_all, filter_matches, list_all, new_id, page,
    sort_by_key, Cx,
};
use crate::api;
use crate::error::{LexError, Result};
use crate::store::{self, TEST_ALIAS_ID};
use hearth_runtime::{Expect, WriteOp};
use std::collections::BTreeMap;

fn check_bot(
    name: &str,
    description: Option<&str>,
    role_arn: &str,
    ttl: i32,
    bot_type: Option<&str>,
) -> Result<()> {
    check_name(name, "botName")?;
    check_description(description)?;
    let role_ok = role_arn.len() >= 32
        && role_arn.len() <= 2048
        && role_arn.strip_prefix("arn:aws:iam::").is_some_and(|r| {
            r.len() > 18
                && r[..12].bytes().all(|b| b.is_ascii_digit())
                && r[12..].starts_with(":role/")
        });
    if !role_ok {
        return Err(LexError::member(
            role_arn,
            "roleArn",
            "Member must satisfy regular expression pattern: ^arn:aws:iam::[0-9]{12}:role/.*$",
        ));
    }
    check_range(f64::from(ttl), 60.0, 86400.0, "idleSessionTTLInSeconds")?;
    if let Some(t) = bot_type {
        if t != "Bot" && t != "BotNetwork" {
            return Err(LexError::member(
                t,
                "botType",
                "Member must satisfy enum value set: [Bot, BotNetwork]",
            ));
        }
        if t == "BotNetwork" {
            return Err(LexError::Validation(
                "Hearth does not support bot networks (botType BotNetwork).".into(),
            ));
        }
    }
    Ok(())
}

async fn name_taken(cx: &Cx<'_>, name: &str, except: Option<&str>) -> Result<bool> {
    Ok(list_all::<store::Bot>(cx.meta(), &cx.scope, "")
        .await?
        .iter()
        .any(|(k, b)| b.value.def.bot_name == name && Some(k.as_str()) != except))
}

pub(crate) async fn create_bot(
    cx: &Cx<'_>,
    req: api::CreateBotRequest,
) -> Result<api::CreateBotResponse> {
    check_bot(
        &req.bot_name,
        req.description.as_deref(),
        &req.role_arn,
        req.idle_session_ttl_in_seconds,
        req.bot_type.as_deref(),
    )?;
    if name_taken(cx, &req.bot_name, None).await? {
        return Err(LexError::PreconditionFailed(format!(
            "A bot with the name '{}' already exists.",
            req.bot_name
        )));
    }
    let id = new_id();
    let now = cx.now();
    let def = api::UpdateBotRequest {
        bot_id: id.clone(),
        bot_members: req.bot_members.clone(),
        bot_name: req.bot_name.clone(),
        bot_type: req.bot_type.clone(),
        data_privacy: req.data_privacy.clone(),
        description: req.description.clone(),
        error_log_settings: req.error_log_settings.clone(),
        idle_session_ttl_in_seconds: req.idle_session_ttl_in_seconds,
        role_arn: req.role_arn.clone(),
    };
    let tags = req.bot_tags.clone().unwrap_or_default();
    let bot = store::Bot {
        def,
        status: "Available".into(),
        created: now,
        updated: now,
        tags: tags.clone(),
        next_version: 1,
    };
    let alias = store::Alias {
        def: api::UpdateBotAliasRequest {
            bot_alias_id: TEST_ALIAS_ID.into(),
            bot_alias_name: "TestBotAlias".into(),
            bot_id: id.clone(),
            bot_version: Some(store::DRAFT.into()),
            description: Some("test bot alias".into()),
            ..Default::default()
        },
        status: "Available".into(),
        created: now,
        updated: now,
        history: Vec::new(),
        tags: req.test_bot_alias_tags.clone().unwrap_or_default(),
    };
    cx.meta()
        .apply(vec![
            WriteOp::put(&cx.scope, id.clone(), &bot, Expect::Absent)?,
            WriteOp::put(
                &cx.scope,
                format!("{id}/{TEST_ALIAS_ID}"),
                &alias,
                Expect::Absent,
            )?,
        ])
        .await?;
    tracing::info!(bot = %id, name = %req.bot_name, "lex bot created");
    Ok(api::CreateBotResponse {
        bot_id: Some(id),
        bot_members: req.bot_members,
        bot_name: Some(req.bot_name),
        bot_status: Some("Creating".into()),
        bot_tags: Some(tags),
        bot_type: Some(req.bot_type.unwrap_or_else(|| "Bot".into())),
        creation_date_time: Some(now),
        data_privacy: Some(req.data_privacy),
        description: req.description,
        error_log_settings: req.error_log_settings,
        idle_session_ttl_in_seconds: Some(req.idle_session_ttl_in_seconds),
        role_arn: Some(req.role_arn),
        test_bot_alias_tags: req.test_bot_alias_tags,
    })
}

pub(crate) async fn describe_bot(
    cx: &Cx<'_>,
    req: api::DescribeBotRequest,
) -> Result<api::DescribeBotResponse> {
    let b = cx.bot(&req.bot_id).await?.value;
    Ok(api::DescribeBotResponse {
        bot_id: Some(b.def.bot_id),
        bot_members: b.def.bot_members,
        bot_name: Some(b.def.bot_name),
        bot_status: Some(b.status),
        bot_type: Some(b.def.bot_type.unwrap_or_else(|| "Bot".into())),
        creation_date_time: Some(b.created),
        data_privacy: Some(b.def.data_privacy),
        description: b.def.description,
        error_log_settings: b.def.error_log_settings,
        failure_reasons: Some(Vec::new()),
        idle_session_ttl_in_seconds: Some(b.def.idle_session_ttl_in_seconds),
        last_updated_date_time: Some(b.updated),
        role_arn: Some(b.def.role_arn),
    })
}

pub(crate) async fn update_bot(
    cx: &Cx<'_>,
    req: api::UpdateBotRequest,
) -> Result<api::UpdateBotResponse> {
    check_bot(
        &req.bot_name,
        req.description.as_deref(),
        &req.role_arn,
        req.idle_session_ttl_in_seconds,
        req.bot_type.as_deref(),
    )?;
    let cur = match cx.bot(&req.bot_id).await {
        Err(LexError::NotFound(_)) => return Err(super::gone()),
        other => other?,
    };
    if name_taken(cx, &req.bot_name, Some(&req.bot_id)).await? {
        return Err(LexError::PreconditionFailed(format!(
            "A bot with the name '{}' already exists.",
            req.bot_name
        )));
    }
    let mut b = cur.value;
    b.def = req;
    b.updated = cx.now();
    cx.meta()
        .put(&cx.scope, &b.def.bot_id, &b, Expect::Version(cur.version))
        .await?;
    Ok(api::UpdateBotResponse {
        bot_id: Some(b.def.bot_id),
        bot_members: b.def.bot_members,
        bot_name: Some(b.def.bot_name),
        bot_status: Some(b.status),
        bot_type: Some(b.def.bot_type.unwrap_or_else(|| "Bot".into())),
        creation_date_time: Some(b.created),
        data_privacy: Some(b.def.data_privacy),
        description: b.def.description,
        error_log_settings: b.def.error_log_settings,
        idle_session_ttl_in_seconds: Some(b.def.idle_session_ttl_in_seconds),
        last_updated_date_time: Some(b.updated),
        role_arn: Some(b.def.role_arn),
    })
}

pub(crate) async fn delete_bot(
    cx: &Cx<'_>,
    req: api::DeleteBotRequest,
) -> Result<api::DeleteBotResponse> {
    let bot = match cx.bot(&req.bot_id).await {
        Err(LexError::NotFound(_)) => return Err(super::gone()),
        other => other?,
    };
    let id = bot.value.def.bot_id.clone();
    let prefix = format!("{id}/");
    if req.skip_resource_in_use_check != Some(true) {
        let aliases = list_all::<store::Alias>(cx.meta(), &cx.scope, &prefix).await?;
        if let Some((_, a)) = aliases
            .iter()
            .find(|(_, a)| a.value.def.bot_alias_id != TEST_ALIAS_ID)
        {
            return Err(LexError::PreconditionFailed(format!(
                "Bot {id} is used by the bot alias {}. Delete the alias first or set skipResourceInUseCheck.",
                a.value.def.bot_alias_id
            )));
        }
    }
    let meta = cx.meta();
    delete_all::<store::Session>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Alias>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Model>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Slot>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Intent>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::SlotType>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Locale>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Version>(meta, &cx.scope, &prefix).await?;
    meta.delete::<store::Bot>(&cx.scope, &id, Expect::Any)
        .await?;
    tracing::info!(bot = %id, "lex bot deleted");
    Ok(api::DeleteBotResponse {
        bot_id: Some(id),
        bot_status: Some("Deleting".into()),
    })
}

pub(crate) async fn list_bots(
    cx: &Cx<'_>,
    req: api::ListBotsRequest,
) -> Result<api::ListBotsResponse> {
    let mut bots: Vec<store::Bot> = list_all::<store::Bot>(cx.meta(), &cx.scope, "")
        .await?
        .into_iter()
        .filter(|(k, _)| !k.contains('/'))
        .map(|(_, b)| b.value)
        .collect();
    for f in req.filters.iter().flatten() {
        if f.name != "BotName" && f.name != "BotType" {
            return Err(LexError::member(
                &f.name,
                "filters.1.member.name",
                "Member must satisfy enum value set: [BotName, BotType]",
            ));
        }
        bots.retain(|b| {
            let v = if f.name == "BotName" {
                b.def.bot_name.clone()
            } else {
                b.def.bot_type.clone().unwrap_or_else(|| "Bot".into())
            };
            filter_matches(&v, &f.operator, &f.values)
        });
    }
    sort_by_key(
        &mut bots,
        req.sort_by.as_ref().map(|s| s.order.as_str()),
        |b| b.def.bot_name.to_lowercase(),
    );
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in list_all::<store::Version>(cx.meta(), &cx.scope, "").await? {
        if let Some((bot, _)) = k.split_once('/') {
            latest.insert(bot.to_string(), v.value.version);
        }
    }
    let (page_items, next) = page(bots, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListBotsResponse {
        bot_summaries: Some(
            page_items
                .into_iter()
                .map(|b| api::BotSummary {
                    latest_bot_version: latest.get(&b.def.bot_id).cloned(),
                    bot_id: Some(b.def.bot_id),
                    bot_name: Some(b.def.bot_name),
                    bot_status: Some(b.status),
                    bot_type: Some(b.def.bot_type.unwrap_or_else(|| "Bot".into())),
                    description: b.def.description,
                    last_updated_date_time: Some(b.updated),
                })
                .collect(),
        ),
        next_token: next,
    })
}
