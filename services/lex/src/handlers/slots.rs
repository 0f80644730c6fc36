//! Slots: CreateSlot, DescribeSlot, UpdateSlot, DeleteSlot, ListSlots. A new slot joins the
//! end of its intent's slot priorities; a deleted one leaves them.

use super::intents::check_prompt;
use super::{
    check_description, check_draft, check_name, check_version, filter_matches, gone, list_all,
    locale_changed, new_id, not_found, page, sort_by_key, Cx,
};
use crate::api;
use crate::domain::builtin::Builtin;
use crate::error::{LexError, Result};
use crate::store::{self, DRAFT};
use hearth_runtime::{Expect, WriteOp};

fn check_slot(def: &api::UpdateSlotRequest) -> Result<()> {
    check_name(&def.slot_name, "slotName")?;
    check_description(def.description.as_deref())?;
    let e = &def.value_elicitation_setting;
    match e.slot_constraint.as_str() {
        "Required" | "Optional" => {}
        other => {
            return Err(LexError::member(
                other,
                "valueElicitationSetting.slotConstraint",
                "Member must satisfy enum value set: [Required, Optional]",
            ))
        }
    }
    match &e.prompt_specification {
        Some(p) => check_prompt(p, "valueElicitationSetting.promptSpecification")?,
        None if e.slot_constraint == "Required" => {
            return Err(LexError::Validation(format!("The required slot '{}' must have a prompt specification (valueElicitationSetting.promptSpecification).", def.slot_name)))
        }
        None => {}
    }
    if let Some(t) = &def.slot_type_id {
        if t.starts_with("AMAZON.") && Builtin::from_signature(t).is_none() {
            return Err(LexError::Validation(format!(
                "The built-in slot type {t} is not supported. Supported: {}.",
                Builtin::ALL
                    .iter()
                    .map(|b| b.signature())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    if def.slot_type_id.is_none() && def.sub_slot_setting.is_none() {
        return Err(LexError::Validation("1 validation error detected: Value null at 'slotTypeId' failed to satisfy constraint: Member must not be null".into()));
    }
    Ok(())
}

async fn check_refs(cx: &Cx<'_>, def: &api::UpdateSlotRequest) -> Result<store::Intent> {
    let ikey = store::child_key(&def.bot_id, DRAFT, &def.locale_id, &def.intent_id);
    let intent = cx
        .meta()
        .get::<store::Intent>(&cx.scope, &ikey)
        .await?
        .ok_or_else(not_found)?
        .value;
    if let Some(t) = def
        .slot_type_id
        .as_deref()
        .filter(|t| !t.starts_with("AMAZON."))
    {
        let tkey = store::child_key(&def.bot_id, DRAFT, &def.locale_id, t);
        if cx
            .meta()
            .get::<store::SlotType>(&cx.scope, &tkey)
            .await?
            .is_none()
        {
            return Err(LexError::PreconditionFailed(format!(
                "The slot type {t} does not exist in the locale {}.",
                def.locale_id
            )));
        }
    }
    for (_, s) in list_all::<store::Slot>(cx.meta(), &cx.scope, &format!("{ikey}/")).await? {
        if s.value.def.slot_name == def.slot_name && s.value.def.slot_id != def.slot_id {
            return Err(LexError::PreconditionFailed(format!(
                "A slot with the name '{}' already exists in the intent {}.",
                def.slot_name, def.intent_id
            )));
        }
    }
    Ok(intent)
}

fn describe(s: store::Slot, version: &str) -> api::DescribeSlotResponse {
    let d = s.def;
    api::DescribeSlotResponse {
        bot_id: Some(d.bot_id),
        bot_version: Some(version.into()),
        creation_date_time: Some(s.created),
        description: d.description,
        intent_id: Some(d.intent_id),
        last_updated_date_time: Some(s.updated),
        locale_id: Some(d.locale_id),
        multiple_values_setting: d.multiple_values_setting,
        obfuscation_setting: d.obfuscation_setting,
        slot_id: Some(d.slot_id),
        slot_name: Some(d.slot_name),
        slot_type_id: d.slot_type_id,
        sub_slot_setting: d.sub_slot_setting,
        value_elicitation_setting: Some(d.value_elicitation_setting),
    }
}

pub(crate) async fn create_slot(
    cx: &Cx<'_>,
    req: api::CreateSlotRequest,
) -> Result<api::CreateSlotResponse> {
    check_draft(&req.bot_version)?;
    let def = api::UpdateSlotRequest {
        bot_id: req.bot_id,
        bot_version: DRAFT.into(),
        description: req.description,
        intent_id: req.intent_id,
        locale_id: req.locale_id,
        multiple_values_setting: req.multiple_values_setting,
        obfuscation_setting: req.obfuscation_setting,
        slot_id: new_id(),
        slot_name: req.slot_name,
        slot_type_id: req.slot_type_id,
        sub_slot_setting: req.sub_slot_setting,
        value_elicitation_setting: req.value_elicitation_setting,
    };
    check_slot(&def)?;
    let touch = locale_changed(cx, &def.bot_id, &def.locale_id).await?;
    let mut intent = check_refs(cx, &def).await?;
    let ikey = store::child_key(&def.bot_id, DRAFT, &def.locale_id, &def.intent_id);
    let now = cx.now();
    let mut priorities = intent.def.slot_priorities.take().unwrap_or_default();
    let next = priorities
        .iter()
        .map(|p| p.priority)
        .max()
        .map_or(1, |m| m + 1);
    priorities.push(api::SlotPriority {
        priority: next,
        slot_id: def.slot_id.clone(),
    });
    intent.def.slot_priorities = Some(priorities);
    intent.updated = now;
    let rec = store::Slot {
        def,
        created: now,
        updated: now,
    };
    let d = &rec.def;
    cx.meta()
        .apply(vec![
            WriteOp::put(
                &cx.scope,
                store::slot_key(&d.bot_id, DRAFT, &d.locale_id, &d.intent_id, &d.slot_id),
                &rec,
                Expect::Absent,
            )?,
            WriteOp::put(&cx.scope, ikey, &intent, Expect::Present)?,
            touch,
        ])
        .await?;
    let r = describe(rec, DRAFT);
    Ok(api::CreateSlotResponse {
        bot_id: r.bot_id,
        bot_version: r.bot_version,
        creation_date_time: r.creation_date_time,
        description: r.description,
        intent_id: r.intent_id,
        locale_id: r.locale_id,
        multiple_values_setting: r.multiple_values_setting,
        obfuscation_setting: r.obfuscation_setting,
        slot_id: r.slot_id,
        slot_name: r.slot_name,
        slot_type_id: r.slot_type_id,
        sub_slot_setting: r.sub_slot_setting,
        value_elicitation_setting: r.value_elicitation_setting,
    })
}

pub(crate) async fn describe_slot(
    cx: &Cx<'_>,
    req: api::DescribeSlotRequest,
) -> Result<api::DescribeSlotResponse> {
    let key = store::slot_key(
        &req.bot_id,
        &req.bot_version,
        &req.locale_id,
        &req.intent_id,
        &req.slot_id,
    );
    let s: store::Slot = cx.in_locale(&req.bot_id, &req.bot_version, &req.locale_id, &key).await?;
    Ok(describe(s, &req.bot_version))
}

pub(crate) async fn update_slot(
    cx: &Cx<'_>,
    req: api::UpdateSlotRequest,
) -> Result<api::UpdateSlotResponse> {
    check_draft(&req.bot_version)?;
    check_slot(&req)?;
    let touch = match locale_changed(cx, &req.bot_id, &req.locale_id).await {
        Err(LexError::NotFound(_)) => return Err(gone()),
        other => other?,
    };
    let key = store::slot_key(
        &req.bot_id,
        DRAFT,
        &req.locale_id,
        &req.intent_id,
        &req.slot_id,
    );
    let cur = cx
        .meta()
        .get::<store::Slot>(&cx.scope, &key)
        .await?
        .ok_or_else(gone)?;
    check_refs(cx, &req).await?;
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
    Ok(api::UpdateSlotResponse {
        bot_id: r.bot_id,
        bot_version: r.bot_version,
        creation_date_time: r.creation_date_time,
        description: r.description,
        intent_id: r.intent_id,
        last_updated_date_time: r.last_updated_date_time,
        locale_id: r.locale_id,
        multiple_values_setting: r.multiple_values_setting,
        obfuscation_setting: r.obfuscation_setting,
        slot_id: r.slot_id,
        slot_name: r.slot_name,
        slot_type_id: r.slot_type_id,
        sub_slot_setting: r.sub_slot_setting,
        value_elicitation_setting: r.value_elicitation_setting,
    })
}

pub(crate) async fn delete_slot(cx: &Cx<'_>, req: api::DeleteSlotRequest) -> Result<()> {
    check_draft(&req.bot_version)?;
    let touch = match locale_changed(cx, &req.bot_id, &req.locale_id).await {
        Err(LexError::NotFound(_)) => return Err(gone()),
        other => other?,
    };
    let key = store::slot_key(
        &req.bot_id,
        DRAFT,
        &req.locale_id,
        &req.intent_id,
        &req.slot_id,
    );
    cx.meta()
        .get::<store::Slot>(&cx.scope, &key)
        .await?
        .ok_or_else(gone)?;
    let ikey = store::child_key(&req.bot_id, DRAFT, &req.locale_id, &req.intent_id);
    let mut ops = vec![
        WriteOp::delete::<store::Slot>(&cx.scope, key, Expect::Any),
        touch,
    ];
    if let Some(cur) = cx.meta().get::<store::Intent>(&cx.scope, &ikey).await? {
        let mut intent = cur.value;
        if let Some(p) = intent.def.slot_priorities.as_mut() {
            p.retain(|p| p.slot_id != req.slot_id);
        }
        ops.push(WriteOp::put(
            &cx.scope,
            ikey,
            &intent,
            Expect::Version(cur.version),
        )?);
    }
    cx.meta().apply(ops).await?;
    Ok(())
}

pub(crate) async fn list_slots(
    cx: &Cx<'_>,
    req: api::ListSlotsRequest,
) -> Result<api::ListSlotsResponse> {
    check_version(&req.bot_version)?;
    cx.locale(&req.bot_id, &req.bot_version, &req.locale_id)
        .await?;
    let ikey = store::child_key(
        &req.bot_id,
        &req.bot_version,
        &req.locale_id,
        &req.intent_id,
    );
    cx.meta()
        .get::<store::Intent>(&cx.scope, &ikey)
        .await?
        .ok_or_else(not_found)?;
    let mut slots: Vec<store::Slot> =
        list_all::<store::Slot>(cx.meta(), &cx.scope, &format!("{ikey}/"))
            .await?
            .into_iter()
            .map(|(_, s)| s.value)
            .collect();
    for f in req.filters.iter().flatten() {
        slots.retain(|s| filter_matches(&s.def.slot_name, &f.operator, &f.values));
    }
    match req.sort_by.as_ref() {
        Some(s) if s.attribute == "LastUpdatedDateTime" => {
            sort_by_key(&mut slots, Some(s.order.as_str()), |s| s.updated)
        }
        s => sort_by_key(&mut slots, s.map(|s| s.order.as_str()), |s| {
            s.def.slot_name.to_lowercase()
        }),
    }
    let (items, next) = page(slots, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListSlotsResponse {
        bot_id: Some(req.bot_id),
        bot_version: Some(req.bot_version),
        intent_id: Some(req.intent_id),
        locale_id: Some(req.locale_id),
        next_token: next,
        slot_summaries: Some(
            items
                .into_iter()
                .map(|s| api::SlotSummary {
                    description: s.def.description,
                    last_updated_date_time: Some(s.updated),
                    slot_constraint: Some(s.def.value_elicitation_setting.slot_constraint.clone()),
                    slot_id: Some(s.def.slot_id),
                    slot_name: Some(s.def.slot_name),
                    slot_type_id: s.def.slot_type_id,
                    value_elicitation_prompt_specification: s
                        .def
                        .value_elicitation_setting
                        .prompt_specification,
                })
                .collect(),
        ),
    })
}
