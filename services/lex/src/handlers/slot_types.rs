//! Custom slot types: CreateSlotType, DescribeSlotType, UpdateSlotType, DeleteSlotType,
//! ListSlotTypes; and ListBuiltInSlotTypes.

use super::{
    check_description, check_draft, check_name, check_version, filter_matches, gone, list_all,
    locale_changed, new_id, page, sort_by_key, Cx,
};
use crate::api;
use crate::domain::builtin::Builtin;
use crate::error::{LexError, Result};
use crate::store::{self, DRAFT};
use hearth_runtime::{Expect, WriteOp};

fn check_type(def: &api::UpdateSlotTypeRequest) -> Result<()> {
    check_name(&def.slot_type_name, "slotTypeName")?;
    check_description(def.description.as_deref())?;
    let alnum = match def.parent_slot_type_signature.as_deref() {
        None => false,
        Some("AMAZON.AlphaNumeric") => true,
        Some(other) => return Err(LexError::Validation(format!("The parent slot type signature {other} is not supported; only AMAZON.AlphaNumeric can be extended."))),
    };
    let values = def.slot_type_values.as_deref().unwrap_or(&[]);
    if values.len() > 10000 {
        return Err(LexError::Validation("1 validation error detected: Value at 'slotTypeValues' failed to satisfy constraint: Member must have length less than or equal to 10000".into()));
    }
    if values.is_empty()
        && !alnum
        && def.external_source_setting.is_none()
        && def.composite_slot_type_setting.is_none()
    {
        return Err(LexError::Validation("1 validation error detected: Value at 'slotTypeValues' failed to satisfy constraint: Member must have length greater than or equal to 1".into()));
    }
    for v in values {
        let Some(s) = &v.sample_value else {
            return Err(LexError::Validation("1 validation error detected: Value null at 'slotTypeValues.member.sampleValue' failed to satisfy constraint: Member must not be null".into()));
        };
        for x in std::iter::once(s).chain(v.synonyms.iter().flatten()) {
            if x.value.trim().is_empty() || x.value.chars().count() > 140 {
                return Err(LexError::member(
                    &x.value,
                    "slotTypeValues.member.sampleValue.value",
                    "Member must have length between 1 and 140",
                ));
            }
        }
    }
    if let Some(sel) = &def.value_selection_setting {
        if !matches!(
            sel.resolution_strategy.as_str(),
            "OriginalValue" | "TopResolution" | "Concatenation"
        ) {
            return Err(LexError::member(
                &sel.resolution_strategy,
                "valueSelectionSetting.resolutionStrategy",
                "Member must satisfy enum value set: [OriginalValue, TopResolution, Concatenation]",
            ));
        }
        if let Some(r) = &sel.regex_filter {
            if !alnum {
                return Err(LexError::Validation("A regular expression filter can only be used by a slot type that extends AMAZON.AlphaNumeric.".into()));
            }
            if r.pattern.is_empty()
                || r.pattern.chars().count() > 300
                || regex::Regex::new(&r.pattern).is_err()
            {
                return Err(LexError::Validation(format!(
                    "The regular expression '{}' is not valid.",
                    r.pattern
                )));
            }
        }
    }
    Ok(())
}

async fn check_unique(cx: &Cx<'_>, def: &api::UpdateSlotTypeRequest) -> Result<()> {
    let prefix = format!("{}/", store::locale_key(&def.bot_id, DRAFT, &def.locale_id));
    for (_, t) in list_all::<store::SlotType>(cx.meta(), &cx.scope, &prefix).await? {
        if t.value.def.slot_type_name == def.slot_type_name
            && t.value.def.slot_type_id != def.slot_type_id
        {
            return Err(LexError::PreconditionFailed(format!(
                "A slot type with the name '{}' already exists in the locale {}.",
                def.slot_type_name, def.locale_id
            )));
        }
    }
    Ok(())
}

fn describe(t: store::SlotType, version: &str) -> api::DescribeSlotTypeResponse {
    let d = t.def;
    api::DescribeSlotTypeResponse {
        bot_id: Some(d.bot_id),
        bot_version: Some(version.into()),
        composite_slot_type_setting: d.composite_slot_type_setting,
        creation_date_time: Some(t.created),
        description: d.description,
        external_source_setting: d.external_source_setting,
        last_updated_date_time: Some(t.updated),
        locale_id: Some(d.locale_id),
        parent_slot_type_signature: d.parent_slot_type_signature,
        slot_type_id: Some(d.slot_type_id),
        slot_type_name: Some(d.slot_type_name),
        slot_type_values: d.slot_type_values,
        value_selection_setting: d.value_selection_setting,
    }
}

pub(crate) async fn create_slot_type(
    cx: &Cx<'_>,
    req: api::CreateSlotTypeRequest,
) -> Result<api::CreateSlotTypeResponse> {
    check_draft(&req.bot_version)?;
    let def = api::UpdateSlotTypeRequest {
        bot_id: req.bot_id,
        bot_version: DRAFT.into(),
        composite_slot_type_setting: req.composite_slot_type_setting,
        description: req.description,
        external_source_setting: req.external_source_setting,
        locale_id: req.locale_id,
        parent_slot_type_signature: req.parent_slot_type_signature,
        slot_type_id: new_id(),
        slot_type_name: req.slot_type_name,
        slot_type_values: req.slot_type_values,
        value_selection_setting: req.value_selection_setting.or(Some(
            api::SlotValueSelectionSetting {
                resolution_strategy: "OriginalValue".into(),
                ..Default::default()
            },
        )),
    };
    check_type(&def)?;
    let touch = locale_changed(cx, &def.bot_id, &def.locale_id).await?;
    check_unique(cx, &def).await?;
    let now = cx.now();
    let rec = store::SlotType {
        def,
        created: now,
        updated: now,
    };
    let d = &rec.def;
    cx.meta()
        .apply(vec![
            WriteOp::put(
                &cx.scope,
                store::child_key(&d.bot_id, DRAFT, &d.locale_id, &d.slot_type_id),
                &rec,
                Expect::Absent,
            )?,
            touch,
        ])
        .await?;
    let r = describe(rec, DRAFT);
    Ok(api::CreateSlotTypeResponse {
        bot_id: r.bot_id,
        bot_version: r.bot_version,
        composite_slot_type_setting: r.composite_slot_type_setting,
        creation_date_time: r.creation_date_time,
        description: r.description,
        external_source_setting: r.external_source_setting,
        locale_id: r.locale_id,
        parent_slot_type_signature: r.parent_slot_type_signature,
        slot_type_id: r.slot_type_id,
        slot_type_name: r.slot_type_name,
        slot_type_values: r.slot_type_values,
        value_selection_setting: r.value_selection_setting,
    })
}

pub(crate) async fn describe_slot_type(
    cx: &Cx<'_>,
    req: api::DescribeSlotTypeRequest,
) -> Result<api::DescribeSlotTypeResponse> {
    let key = store::child_key(
        &req.bot_id,
        &req.bot_version,
        &req.locale_id,
        &req.slot_type_id,
    );
    let t: store::SlotType = cx.in_locale(&req.bot_id, &req.bot_version, &req.locale_id, &key).await?;
    Ok(describe(t, &req.bot_version))
}

pub(crate) async fn update_slot_type(
    cx: &Cx<'_>,
    req: api::UpdateSlotTypeRequest,
) -> Result<api::UpdateSlotTypeResponse> {
    check_draft(&req.bot_version)?;
    let mut req = req;
    if req.value_selection_setting.is_none() {
        req.value_selection_setting = Some(api::SlotValueSelectionSetting {
            resolution_strategy: "OriginalValue".into(),
            ..Default::default()
        });
    }
    check_type(&req)?;
    let touch = match locale_changed(cx, &req.bot_id, &req.locale_id).await {
        Err(LexError::NotFound(_)) => return Err(gone()),
        other => other?,
    };
    let key = store::child_key(&req.bot_id, DRAFT, &req.locale_id, &req.slot_type_id);
    let cur = cx
        .meta()
        .get::<store::SlotType>(&cx.scope, &key)
        .await?
        .ok_or_else(gone)?;
    check_unique(cx, &req).await?;
    let mut rec = cur.value;
    rec.def = req;
    rec.updated = cx.now();
    cx.meta()
        .apply(vec![
            WriteOp::put(&cx.scope, key, &rec, Expect::Version(cur.version))?,
            touch,
        ])
        .await?;
    let r = describe(rec, DRAFT);
    Ok(api::UpdateSlotTypeResponse {
        bot_id: r.bot_id,
        bot_version: r.bot_version,
        composite_slot_type_setting: r.composite_slot_type_setting,
        creation_date_time: r.creation_date_time,
        description: r.description,
        external_source_setting: r.external_source_setting,
        last_updated_date_time: r.last_updated_date_time,
        locale_id: r.locale_id,
        parent_slot_type_signature: r.parent_slot_type_signature,
        slot_type_id: r.slot_type_id,
        slot_type_name: r.slot_type_name,
        slot_type_values: r.slot_type_values,
        value_selection_setting: r.value_selection_setting,
    })
}

pub(crate) async fn delete_slot_type(cx: &Cx<'_>, req: api::DeleteSlotTypeRequest) -> Result<()> {
    check_draft(&req.bot_version)?;
    let touch = match locale_changed(cx, &req.bot_id, &req.locale_id).await {
        Err(LexError::NotFound(_)) => return Err(gone()),
        other => other?,
    };
    let key = store::child_key(&req.bot_id, DRAFT, &req.locale_id, &req.slot_type_id);
    cx.meta()
        .get::<store::SlotType>(&cx.scope, &key)
        .await?
        .ok_or_else(gone)?;
    if req.skip_resource_in_use_check != Some(true) {
        let prefix = format!("{}/", store::locale_key(&req.bot_id, DRAFT, &req.locale_id));
        if let Some((_, s)) = list_all::<store::Slot>(cx.meta(), &cx.scope, &prefix)
            .await?
            .into_iter()
            .find(|(_, s)| s.value.def.slot_type_id.as_deref() == Some(req.slot_type_id.as_str()))
        {
            return Err(LexError::PreconditionFailed(format!(
                "The slot type {} is used by the slot {} of the intent {}. Remove it from the slot or set skipResourceInUseCheck.",
                req.slot_type_id, s.value.def.slot_name, s.value.def.intent_id
            )));
        }
    }
    cx.meta()
        .apply(vec![
            WriteOp::delete::<store::SlotType>(&cx.scope, key, Expect::Any),
            touch,
        ])
        .await?;
    Ok(())
}

pub(crate) async fn list_slot_types(
    cx: &Cx<'_>,
    req: api::ListSlotTypesRequest,
) -> Result<api::ListSlotTypesResponse> {
    check_version(&req.bot_version)?;
    cx.locale(&req.bot_id, &req.bot_version, &req.locale_id)
        .await?;
    let prefix = format!(
        "{}/",
        store::locale_key(&req.bot_id, &req.bot_version, &req.locale_id)
    );
    let mut types: Vec<store::SlotType> =
        list_all::<store::SlotType>(cx.meta(), &cx.scope, &prefix)
            .await?
            .into_iter()
            .map(|(_, t)| t.value)
            .collect();
    for f in req.filters.iter().flatten() {
        types.retain(|t| match f.name.as_str() {
            "ExternalSourceType" => filter_matches(
                if t.def.external_source_setting.is_some() {
                    "S3"
                } else {
                    ""
                },
                &f.operator,
                &f.values,
            ),
            _ => filter_matches(&t.def.slot_type_name, &f.operator, &f.values),
        });
    }
    match req.sort_by.as_ref() {
        Some(s) if s.attribute == "LastUpdatedDateTime" => {
            sort_by_key(&mut types, Some(s.order.as_str()), |t| t.updated)
        }
        s => sort_by_key(&mut types, s.map(|s| s.order.as_str()), |t| {
            t.def.slot_type_name.to_lowercase()
        }),
    }
    let (items, next) = page(types, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListSlotTypesResponse {
        bot_id: Some(req.bot_id),
        bot_version: Some(req.bot_version),
        locale_id: Some(req.locale_id),
        next_token: next,
        slot_type_summaries: Some(
            items
                .into_iter()
                .map(|t| api::SlotTypeSummary {
                    slot_type_category: Some(
                        if t.def.composite_slot_type_setting.is_some() {
                            "Composite"
                        } else if t.def.external_source_setting.is_some() {
                            "ExternalGrammar"
                        } else if t.def.parent_slot_type_signature.is_some() {
                            "Extended"
                        } else {
                            "Custom"
                        }
                        .into(),
                    ),
                    description: t.def.description,
                    last_updated_date_time: Some(t.updated),
                    parent_slot_type_signature: t.def.parent_slot_type_signature,
                    slot_type_id: Some(t.def.slot_type_id),
                    slot_type_name: Some(t.def.slot_type_name),
                })
                .collect(),
        ),
    })
}

pub(crate) async fn list_built_in_slot_types(
    _cx: &Cx<'_>,
    req: api::ListBuiltInSlotTypesRequest,
) -> Result<api::ListBuiltInSlotTypesResponse> {
    if super::locales::locale_name(&req.locale_id).is_none() {
        return Err(LexError::Validation(format!(
            "The locale {} is not supported.",
            req.locale_id
        )));
    }
    let mut items: Vec<Builtin> = Builtin::ALL.to_vec();
    if req
        .sort_by
        .as_ref()
        .is_some_and(|s| s.order == "Descending")
    {
        items.reverse();
    }
    let (items, next) = page(items, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListBuiltInSlotTypesResponse {
        built_in_slot_type_summaries: Some(
            items
                .into_iter()
                .map(|b| api::BuiltInSlotTypeSummary {
                    slot_type_signature: Some(b.signature().into()),
                    description: Some(b.description().into()),
                })
                .collect(),
        ),
        locale_id: Some(req.locale_id),
        next_token: next,
    })
}
