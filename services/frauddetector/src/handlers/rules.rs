//! Rules: CreateRule, GetRules, UpdateRuleVersion, UpdateRuleMetadata, DeleteRule.
//!
//! Every expression is parsed and checked (DETECTORPL, `domain::rules`) against the detector's
//! event type when it is written, so a rule that is stored can always be evaluated.

use super::{apply, get, list_all, max_results, page, tag_ops, untag_op, Cx};
use crate::api;
use crate::domain::rules::{self, Expr, Ty};
use crate::domain::values::DataType;
use crate::error::{FdError, FdResult};
use crate::store::{rule_key, DetectorRec, DetectorVersionRec, EventTypeRec, ListRec, ModelRec, OutcomeRec, RuleRec, VariableRec};
use crate::Inner;
use hearth_runtime::{Expect, WriteOp};
use std::collections::{HashMap, HashSet};

/// The names a detector's rules may use.
pub struct DetectorSchema {
    pub variables: HashMap<String, Ty>,
    pub lists: HashSet<String>,
}

impl rules::Schema for DetectorSchema {
    fn variable(&self, name: &str) -> Option<Ty> {
        self.variables.get(name).copied()
    }
    fn list_exists(&self, name: &str) -> bool {
        self.lists.contains(name)
    }
}

/// The model-score variable of a model: `<model id>_insightscore`.
pub fn score_variable(model_id: &str) -> String {
    format!("{model_id}_insightscore")
}

/// What rules of detectors on `event_type` may reference: its event variables, the scores of
/// its models, the output variables of external models (`EXTERNAL_MODEL_SCORE`), and every list.
pub async fn schema_for(svc: &Inner, cx: &Cx, event_type: &str) -> FdResult<DetectorSchema> {
    let mut variables = HashMap::new();
    if let Some(et) = get::<EventTypeRec>(svc, &cx.scope, event_type).await? {
        for name in &et.event_variables {
            if let Some(v) = get::<VariableRec>(svc, &cx.scope, name).await? {
                variables.insert(name.clone(), DataType::parse(&v.data_type).map(DataType::rule_type).unwrap_or(Ty::Any));
            }
        }
    }
    // The outputs of external (SageMaker) models.
    for (name, v) in list_all::<VariableRec>(svc, &cx.scope, "").await? {
        if v.data_source == "EXTERNAL_MODEL_SCORE" {
            variables.entry(name).or_insert_with(|| DataType::parse(&v.data_type).map(DataType::rule_type).unwrap_or(Ty::Any));
        }
    }
    for (_, m) in list_all::<ModelRec>(svc, &cx.scope, "").await? {
        if m.event_type == event_type {
            variables.insert(score_variable(&m.model_id), Ty::Num);
        }
    }
    let lists = list_all::<ListRec>(svc, &cx.scope, "").await?.into_iter().map(|(k, _)| k).collect();
    Ok(DetectorSchema { variables, lists })
}

/// Parse and check an expression, as `ValidationException` when it is not valid.
pub fn compile(expression: &str, schema: &DetectorSchema) -> FdResult<Expr> {
    let e = rules::parse(expression).map_err(|e| FdError::validation(e.client_message()))?;
    rules::check(&e, schema).map_err(|e| FdError::validation(e.client_message()))?;
    Ok(e)
}

async fn require_detector(svc: &Inner, cx: &Cx, id: &str, not_found: bool) -> FdResult<DetectorRec> {
    match get::<DetectorRec>(svc, &cx.scope, id).await? {
        Some(d) => Ok(d),
        None if not_found => Err(FdError::not_found(format!("The detector {id} does not exist."))),
        None => Err(FdError::validation(format!("The detector {id} does not exist."))),
    }
}

async fn check_outcomes(svc: &Inner, cx: &Cx, outcomes: &[String]) -> FdResult<()> {
    if outcomes.is_empty() {
        return Err(FdError::validation("A rule needs at least one outcome."));
    }
    for o in outcomes {
        if get::<OutcomeRec>(svc, &cx.scope, o).await?.is_none() {
            return Err(FdError::validation(format!("The outcome {o} does not exist.")));
        }
    }
    Ok(())
}

fn check_language(language: &str) -> FdResult<()> {
    if language != "DETECTORPL" {
        return Err(FdError::validation(format!("The rule language {language} is not supported; use DETECTORPL.")));
    }
    Ok(())
}

/// The API view of a rule version.
pub fn to_api(r: &RuleRec) -> api::RuleDetail {
    api::RuleDetail {
        arn: Some(r.stamp.arn.clone()),
        created_time: Some(r.stamp.created.clone()),
        last_updated_time: Some(r.stamp.updated.clone()),
        description: r.description.clone(),
        detector_id: Some(r.detector_id.clone()),
        expression: Some(r.expression.clone()),
        language: Some(r.language.clone()),
        outcomes: Some(r.outcomes.clone()),
        rule_id: Some(r.rule_id.clone()),
        rule_version: Some(r.version.clone()),
    }
}

fn rule_ref(r: &RuleRec) -> api::Rule {
    api::Rule { detector_id: r.detector_id.clone(), rule_id: r.rule_id.clone(), rule_version: r.version.clone() }
}

pub async fn create_rule(svc: &Inner, cx: &Cx, req: api::CreateRuleRequest) -> FdResult<api::CreateRuleResult> {
    check_language(&req.language)?;
    let detector = require_detector(svc, cx, &req.detector_id, false).await?;
    check_outcomes(svc, cx, &req.outcomes).await?;
    let schema = schema_for(svc, cx, &detector.event_type).await?;
    compile(&req.expression, &schema)?;
    if !list_all::<RuleRec>(svc, &cx.scope, &format!("{}/{}/", req.detector_id, req.rule_id)).await?.is_empty() {
        return Err(FdError::validation(format!("The rule {} already exists for the detector {}; use UpdateRuleVersion to change it.", req.rule_id, req.detector_id)));
    }
    let rec = RuleRec {
        detector_id: req.detector_id.clone(),
        rule_id: req.rule_id.clone(),
        version: "1".into(),
        description: req.description,
        expression: req.expression,
        language: req.language,
        outcomes: req.outcomes,
        stamp: cx.stamp(&format!("rule/{}/{}/1", req.detector_id, req.rule_id)),
    };
    let mut ops = vec![WriteOp::put(&cx.scope, rule_key(&rec.detector_id, &rec.rule_id, "1"), &rec, Expect::Absent)?];
    ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
    apply(svc, ops, || format!("The rule {} is being created by another request.", rec.rule_id)).await.map_err(|e| match e {
        FdError::Conflict(m) => FdError::Validation(m),
        other => other,
    })?;
    tracing::info!(detector = %rec.detector_id, rule = %rec.rule_id, "rule created");
    Ok(api::CreateRuleResult { rule: Some(rule_ref(&rec)) })
}

pub async fn get_rules(svc: &Inner, cx: &Cx, req: api::GetRulesRequest) -> FdResult<api::GetRulesResult> {
    require_detector(svc, cx, &req.detector_id, true).await?;
    let prefix = match &req.rule_id {
        Some(r) => format!("{}/{r}/", req.detector_id),
        None => format!("{}/", req.detector_id),
    };
    let all: Vec<(String, RuleRec)> = list_all::<RuleRec>(svc, &cx.scope, &prefix).await?.into_iter().filter(|(_, r)| req.rule_version.as_ref().is_none_or(|v| &r.version == v)).collect();
    if all.is_empty() && (req.rule_id.is_some() || req.rule_version.is_some()) {
        return Err(FdError::not_found(format!("The rule {} does not exist for the detector {}.", req.rule_id.as_deref().unwrap_or(""), req.detector_id)));
    }
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 100))?;
    Ok(api::GetRulesResult { rule_details: Some(items.iter().map(to_api).collect()), next_token: next })
}

/// A rule version, or `ResourceNotFoundException`.
pub async fn require_rule(svc: &Inner, cx: &Cx, r: &api::Rule) -> FdResult<hearth_runtime::Versioned<RuleRec>> {
    svc.rt
        .meta
        .get::<RuleRec>(&cx.scope, &rule_key(&r.detector_id, &r.rule_id, &r.rule_version))
        .await?
        .ok_or_else(|| FdError::not_found(format!("The version {} of the rule {} of the detector {} does not exist.", r.rule_version, r.rule_id, r.detector_id)))
}

pub async fn update_rule_version(svc: &Inner, cx: &Cx, req: api::UpdateRuleVersionRequest) -> FdResult<api::UpdateRuleVersionResult> {
    check_language(&req.language)?;
    let base = require_rule(svc, cx, &req.rule).await?.value;
    let detector = require_detector(svc, cx, &req.rule.detector_id, true).await?;
    check_outcomes(svc, cx, &req.outcomes).await?;
    let schema = schema_for(svc, cx, &detector.event_type).await?;
    compile(&req.expression, &schema)?;
    let versions = list_all::<RuleRec>(svc, &cx.scope, &format!("{}/{}/", base.detector_id, base.rule_id)).await?;
    let next = versions.iter().filter_map(|(_, r)| r.version.parse::<u32>().ok()).max().unwrap_or(0) + 1;
    let version = next.to_string();
    let rec = RuleRec {
        detector_id: base.detector_id.clone(),
        rule_id: base.rule_id.clone(),
        version: version.clone(),
        description: req.description.or(base.description),
        expression: req.expression,
        language: req.language,
        outcomes: req.outcomes,
        stamp: cx.stamp(&format!("rule/{}/{}/{version}", base.detector_id, base.rule_id)),
    };
    let mut ops = vec![WriteOp::put(&cx.scope, rule_key(&rec.detector_id, &rec.rule_id, &version), &rec, Expect::Absent)?];
    ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
    apply(svc, ops, || "Another request created a version of this rule at the same time; try again.".into()).await?;
    Ok(api::UpdateRuleVersionResult { rule: Some(rule_ref(&rec)) })
}

pub async fn update_rule_metadata(svc: &Inner, cx: &Cx, req: api::UpdateRuleMetadataRequest) -> FdResult<api::UpdateRuleMetadataResult> {
    let stored = require_rule(svc, cx, &req.rule).await?;
    let mut r = stored.value;
    r.description = Some(req.description);
    r.stamp = cx.touch(&r.stamp);
    apply(svc, vec![WriteOp::put(&cx.scope, rule_key(&r.detector_id, &r.rule_id, &r.version), &r, Expect::Version(stored.version))?], || "The rule was changed by another request; try again.".into()).await?;
    Ok(api::UpdateRuleMetadataResult {})
}

pub async fn delete_rule(svc: &Inner, cx: &Cx, req: api::DeleteRuleRequest) -> FdResult<api::DeleteRuleResult> {
    let r = &req.rule;
    let Some(rec) = get::<RuleRec>(svc, &cx.scope, &rule_key(&r.detector_id, &r.rule_id, &r.rule_version)).await? else { return Ok(api::DeleteRuleResult {}) };
    let versions = list_all::<DetectorVersionRec>(svc, &cx.scope, &format!("{}/", r.detector_id)).await?;
    if let Some((_, d)) = versions.iter().find(|(_, d)| d.rules.iter().any(|(id, v)| id == &r.rule_id && v == &r.rule_version)) {
        return Err(FdError::conflict(format!(
            "The version {} of the rule {} is used by the {} version {} of the detector {} and cannot be deleted.",
            r.rule_version, r.rule_id, d.status, d.version, d.detector_id
        )));
    }
    apply(svc, vec![WriteOp::delete::<RuleRec>(&cx.scope, rule_key(&r.detector_id, &r.rule_id, &r.rule_version), Expect::Any), untag_op(&cx.scope, &rec.stamp.arn)], String::new).await?;
    Ok(api::DeleteRuleResult {})
}
