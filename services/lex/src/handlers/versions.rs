//! Bot versions: CreateBotVersion (a numbered, read-only copy of built locales),
//! DescribeBotVersion, DeleteBotVersion, ListBotVersions.

use super::{check_description, check_version, delete_all, list_all, not_found, page, Cx};
use crate::api;
use crate::error::{LexError, Result};
use crate::store::{self, DRAFT, TEST_ALIAS_ID};
use hearth_runtime::{Expect, WriteOp};

/// Copy every record of a locale from one version to another (the new version's keys and
/// `botVersion` fields). Returns the writes; the caller applies them.
async fn copy_locale(
    cx: &Cx<'_>,
    bot: &str,
    from: &str,
    to: &str,
    locale: &str,
) -> Result<Vec<WriteOp>> {
    let src = store::locale_key(bot, from, locale);
    let dst = store::locale_key(bot, to, locale);
    let meta = cx.meta();
    let mut ops = Vec::new();
    let loc = meta
        .get::<store::Locale>(&cx.scope, &src)
        .await?
        .ok_or_else(not_found)?
        .value;
    if loc.status != "Built" || loc.model_built.is_none() {
        return Err(LexError::PreconditionFailed(format!("The bot locale {locale} of version {from} is not built. Build it before creating a version.")));
    }
    let model = meta
        .get::<store::Model>(&cx.scope, &src)
        .await?
        .ok_or_else(|| {
            LexError::PreconditionFailed(format!(
                "The bot locale {locale} of version {from} is not built."
            ))
        })?
        .value;
    let mut new_loc = loc;
    new_loc.def.bot_version = to.into();
    new_loc.history.clear();
    ops.push(WriteOp::put(&cx.scope, dst.clone(), &new_loc, Expect::Any)?);
    ops.push(WriteOp::put(&cx.scope, dst.clone(), &model, Expect::Any)?);
    let prefix = format!("{src}/");
    for (k, mut v) in list_all::<store::Intent>(meta, &cx.scope, &prefix).await? {
        v.value.def.bot_version = to.into();
        ops.push(WriteOp::put(
            &cx.scope,
            format!("{dst}{}", &k[src.len()..]),
            &v.value,
            Expect::Any,
        )?);
    }
    for (k, mut v) in list_all::<store::Slot>(meta, &cx.scope, &prefix).await? {
        v.value.def.bot_version = to.into();
        ops.push(WriteOp::put(
            &cx.scope,
            format!("{dst}{}", &k[src.len()..]),
            &v.value,
            Expect::Any,
        )?);
    }
    for (k, mut v) in list_all::<store::SlotType>(meta, &cx.scope, &prefix).await? {
        v.value.def.bot_version = to.into();
        ops.push(WriteOp::put(
            &cx.scope,
            format!("{dst}{}", &k[src.len()..]),
            &v.value,
            Expect::Any,
        )?);
    }
    Ok(ops)
}

pub(crate) async fn create_bot_version(
    cx: &Cx<'_>,
    req: api::CreateBotVersionRequest,
) -> Result<api::CreateBotVersionResponse> {
    check_description(req.description.as_deref())?;
    if req.bot_version_locale_specification.is_empty() {
        return Err(LexError::Validation("1 validation error detected: Value at 'botVersionLocaleSpecification' failed to satisfy constraint: Member must have length greater than or equal to 1".into()));
    }
    let cur = cx.bot(&req.bot_id).await?;
    let mut bot = cur.value;
    let version = bot.next_version.to_string();
    // Claim the number first so two concurrent CreateBotVersion calls get different versions.
    bot.next_version += 1;
    cx.meta()
        .put(&cx.scope, &req.bot_id, &bot, Expect::Version(cur.version))
        .await?;
    let mut ops = Vec::new();
    for (locale, details) in &req.bot_version_locale_specification {
        check_version(&details.source_bot_version)?;
        cx.version_exists(&req.bot_id, &details.source_bot_version)
            .await?;
        ops.extend(
            copy_locale(
                cx,
                &req.bot_id,
                &details.source_bot_version,
                &version,
                locale,
            )
            .await?,
        );
    }
    for chunk in ops.chunks(400) {
        cx.meta().apply(chunk.to_vec()).await?;
    }
    let now = cx.now();
    let rec = store::Version {
        version: version.clone(),
        description: req.description.clone(),
        bot: bot.def.clone(),
        locales: req.bot_version_locale_specification.clone(),
        status: "Available".into(),
        created: now,
    };
    cx.meta()
        .put(
            &cx.scope,
            &store::version_key(&req.bot_id, &version),
            &rec,
            Expect::Absent,
        )
        .await?;
    tracing::info!(bot = %req.bot_id, version = %version, "lex bot version created");
    Ok(api::CreateBotVersionResponse {
        bot_id: Some(req.bot_id),
        bot_status: Some("Versioning".into()),
        bot_version: Some(version),
        bot_version_locale_specification: Some(req.bot_version_locale_specification),
        creation_date_time: Some(now),
        description: req.description,
    })
}

pub(crate) async fn describe_bot_version(
    cx: &Cx<'_>,
    req: api::DescribeBotVersionRequest,
) -> Result<api::DescribeBotVersionResponse> {
    cx.bot(&req.bot_id).await?;
    if req.bot_version == DRAFT || req.bot_version.parse::<u32>().is_err() {
        return Err(LexError::member(
            &req.bot_version,
            "botVersion",
            "Member must satisfy regular expression pattern: ^[0-9]+$",
        ));
    }
    let v = cx
        .meta()
        .get::<store::Version>(
            &cx.scope,
            &store::version_key(&req.bot_id, &req.bot_version),
        )
        .await?
        .ok_or_else(not_found)?
        .value;
    Ok(api::DescribeBotVersionResponse {
        bot_id: Some(req.bot_id),
        bot_members: v.bot.bot_members,
        bot_name: Some(v.bot.bot_name),
        bot_status: Some(v.status),
        bot_type: Some(v.bot.bot_type.unwrap_or_else(|| "Bot".into())),
        bot_version: Some(v.version),
        creation_date_time: Some(v.created),
        data_privacy: Some(v.bot.data_privacy),
        description: v.description,
        failure_reasons: Some(Vec::new()),
        idle_session_ttl_in_seconds: Some(v.bot.idle_session_ttl_in_seconds),
        parent_bot_networks: Some(Vec::new()),
        role_arn: Some(v.bot.role_arn),
    })
}

pub(crate) async fn delete_bot_version(
    cx: &Cx<'_>,
    req: api::DeleteBotVersionRequest,
) -> Result<api::DeleteBotVersionResponse> {
    cx.bot(&req.bot_id).await.map_err(|_| super::gone())?;
    if req.bot_version == DRAFT || req.bot_version.parse::<u32>().is_err() {
        return Err(LexError::member(
            &req.bot_version,
            "botVersion",
            "Member must satisfy regular expression pattern: ^[0-9]+$",
        ));
    }
    let vkey = store::version_key(&req.bot_id, &req.bot_version);
    cx.meta()
        .get::<store::Version>(&cx.scope, &vkey)
        .await?
        .ok_or_else(super::gone)?;
    if req.skip_resource_in_use_check != Some(true) {
        for (_, a) in
            list_all::<store::Alias>(cx.meta(), &cx.scope, &format!("{}/", req.bot_id)).await?
        {
            if a.value.def.bot_alias_id != TEST_ALIAS_ID
                && a.value.def.bot_version.as_deref() == Some(req.bot_version.as_str())
            {
                return Err(LexError::PreconditionFailed(format!("The bot version {} is used by the alias {}. Point the alias at another version or set skipResourceInUseCheck.", req.bot_version, a.value.def.bot_alias_id)));
            }
        }
    }
    let prefix = format!("{}/{}/", req.bot_id, req.bot_version);
    let meta = cx.meta();
    delete_all::<store::Slot>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Intent>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::SlotType>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Model>(meta, &cx.scope, &prefix).await?;
    delete_all::<store::Locale>(meta, &cx.scope, &prefix).await?;
    meta.delete::<store::Version>(&cx.scope, &vkey, Expect::Any)
        .await?;
    Ok(api::DeleteBotVersionResponse {
        bot_id: Some(req.bot_id),
        bot_status: Some("Deleting".into()),
        bot_version: Some(req.bot_version),
    })
}

pub(crate) async fn list_bot_versions(
    cx: &Cx<'_>,
    req: api::ListBotVersionsRequest,
) -> Result<api::ListBotVersionsResponse> {
    let bot = cx.bot(&req.bot_id).await?.value;
    let mut versions: Vec<store::Version> =
        list_all::<store::Version>(cx.meta(), &cx.scope, &format!("{}/", req.bot_id))
            .await?
            .into_iter()
            .map(|(_, v)| v.value)
            .collect();
    if req.sort_by.as_ref().is_none_or(|s| s.order == "Descending") {
        versions.reverse();
    }
    let (items, next) = page(versions, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListBotVersionsResponse {
        bot_id: Some(req.bot_id),
        bot_version_summaries: Some(
            items
                .into_iter()
                .map(|v| api::BotVersionSummary {
                    bot_name: Some(bot.def.bot_name.clone()),
                    bot_status: Some(v.status),
                    bot_version: Some(v.version),
                    creation_date_time: Some(v.created),
                    description: v.description,
                })
                .collect(),
        ),
        next_token: next,
    })
}
