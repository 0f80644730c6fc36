//! Allow/deny lists used by rules (`$var in @list`): CreateList, GetListElements,
//! GetListsMetadata, UpdateList, DeleteList.

use super::{apply, get, list_all, max_results, page, tag_ops, untag_op, Cx};
use crate::api;
use crate::error::{FdError, FdResult};
use crate::store::{ListRec, RuleRec};
use crate::Inner;
use hearth_runtime::{Expect, WriteOp};

/// Most entries a list holds.
const MAX_ELEMENTS: usize = 100_000;

fn dedup(elements: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    elements.into_iter().filter(|e| seen.insert(e.clone())).collect()
}

pub async fn create_list(svc: &Inner, cx: &Cx, req: api::CreateListRequest) -> FdResult<api::CreateListResult> {
    let elements = dedup(req.elements.unwrap_or_default());
    if elements.len() > MAX_ELEMENTS {
        return Err(FdError::validation(format!("A list can hold at most {MAX_ELEMENTS} elements.")));
    }
    let rec = ListRec { name: req.name.clone(), description: req.description, variable_type: req.variable_type, elements, stamp: cx.stamp(&format!("list/{}", req.name)) };
    let mut ops = vec![WriteOp::put(&cx.scope, &rec.name, &rec, Expect::Absent)?];
    ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
    apply(svc, ops, || format!("The list {} already exists.", req.name)).await.map_err(|e| match e {
        FdError::Conflict(m) => FdError::Validation(m),
        other => other,
    })?;
    Ok(api::CreateListResult {})
}

async fn require(svc: &Inner, cx: &Cx, name: &str) -> FdResult<hearth_runtime::Versioned<ListRec>> {
    svc.rt.meta.get::<ListRec>(&cx.scope, name).await?.ok_or_else(|| FdError::not_found(format!("The list {name} does not exist.")))
}

pub async fn get_list_elements(svc: &Inner, cx: &Cx, req: api::GetListElementsRequest) -> FdResult<api::GetListElementsResult> {
    let l = require(svc, cx, &req.name).await?.value;
    let keyed: Vec<(String, String)> = l.elements.into_iter().enumerate().map(|(i, e)| (format!("{i:08}"), e)).collect();
    let (items, next) = page(keyed, req.next_token.as_deref(), max_results(req.max_results, 5000))?;
    Ok(api::GetListElementsResult { elements: Some(items), next_token: next })
}

fn to_api(l: &ListRec) -> api::AllowDenyList {
    api::AllowDenyList {
        arn: Some(l.stamp.arn.clone()),
        created_time: Some(l.stamp.created.clone()),
        updated_time: Some(l.stamp.updated.clone()),
        description: l.description.clone(),
        name: l.name.clone(),
        variable_type: l.variable_type.clone(),
    }
}

pub async fn get_lists_metadata(svc: &Inner, cx: &Cx, req: api::GetListsMetadataRequest) -> FdResult<api::GetListsMetadataResult> {
    if let Some(name) = req.name {
        let l = require(svc, cx, &name).await?.value;
        return Ok(api::GetListsMetadataResult { lists: Some(vec![to_api(&l)]), next_token: None });
    }
    let all = list_all::<ListRec>(svc, &cx.scope, "").await?;
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 50))?;
    Ok(api::GetListsMetadataResult { lists: Some(items.iter().map(to_api).collect()), next_token: next })
}

pub async fn update_list(svc: &Inner, cx: &Cx, req: api::UpdateListRequest) -> FdResult<api::UpdateListResult> {
    let stored = require(svc, cx, &req.name).await?;
    let mut l = stored.value;
    let mode = req.update_mode.as_deref().unwrap_or("REPLACE");
    if let Some(elements) = req.elements {
        l.elements = match mode {
            "APPEND" => dedup(l.elements.into_iter().chain(elements).collect()),
            "REMOVE" => {
                let gone: std::collections::HashSet<String> = elements.into_iter().collect();
                l.elements.into_iter().filter(|e| !gone.contains(e)).collect()
            }
            _ => dedup(elements),
        };
    } else if mode != "REPLACE" {
        return Err(FdError::validation(format!("The update mode {mode} needs elements.")));
    }
    if l.elements.len() > MAX_ELEMENTS {
        return Err(FdError::validation(format!("A list can hold at most {MAX_ELEMENTS} elements.")));
    }
    if req.description.is_some() {
        l.description = req.description;
    }
    if let Some(vt) = req.variable_type {
        if l.variable_type.as_ref().is_some_and(|old| old != &vt) {
            return Err(FdError::conflict(format!("The variable type of the list {} cannot change.", l.name)));
        }
        l.variable_type = Some(vt);
    }
    l.stamp = cx.touch(&l.stamp);
    apply(svc, vec![WriteOp::put(&cx.scope, &l.name, &l, Expect::Version(stored.version))?], || "The list was changed by another request; try again.".into()).await?;
    Ok(api::UpdateListResult {})
}

pub async fn delete_list(svc: &Inner, cx: &Cx, req: api::DeleteListRequest) -> FdResult<api::DeleteListResult> {
    let Some(l) = get::<ListRec>(svc, &cx.scope, &req.name).await? else { return Ok(api::DeleteListResult {}) };
    let needle = format!("@{}", req.name);
    for (_, r) in list_all::<RuleRec>(svc, &cx.scope, "").await? {
        let used = crate::domain::rules::parse(&r.expression).map(|e| e.lists().contains(&req.name)).unwrap_or_else(|_| r.expression.contains(&needle));
        if used {
            return Err(FdError::conflict(format!("The list {} is used by version {} of the rule {} of the detector {}.", req.name, r.version, r.rule_id, r.detector_id)));
        }
    }
    apply(svc, vec![WriteOp::delete::<ListRec>(&cx.scope, &req.name, Expect::Any), untag_op(&cx.scope, &l.stamp.arn)], String::new).await?;
    Ok(api::DeleteListResult {})
}
