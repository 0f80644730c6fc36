//! CreateEndpoint, DescribeEndpoint, ListEndpoints, DeleteEndpoint, UpdateEndpoint (deployment
//! guardrails: the handler checks the request, records the deployment and submits its job,
//! [`crate::deployments`]), UpdateEndpointWeightsAndCapacities. Status changes are durable jobs ([`crate::jobs`]):
//! the handler records the new status and submits the job before answering.

use super::Ctx;
use crate::api;
use crate::domain::arn;
use crate::domain::listing::{self, ListParams, Listed};
use crate::domain::validate::{Violations, NAME_PATTERN};
use crate::error::SageMakerError;
use crate::deployments::{DeploymentJobs, DeploymentState};
use crate::domain::deployment::{self, Policy};
use crate::jobs::{variant_states, EndpointAction, EndpointJobs, EndpointState};
use crate::store::{self, DeploymentPhase, DeploymentRecord, EndpointConfigRecord, EndpointRecord, EndpointStatus};
use hearth_protocol::types::Timestamp;
use hearth_runtime::jobs::SubmitOptions;
use hearth_runtime::{Expect, ListQuery, MetaError};
use sha2::Digest;
use std::collections::HashSet;

impl Listed for EndpointRecord {
    fn name(&self) -> &str {
        &self.name
    }
    fn created(&self) -> Timestamp {
        self.created
    }
    fn modified(&self) -> Option<Timestamp> {
        Some(self.last_modified)
    }
    fn status(&self) -> Option<&str> {
        Some(self.status.as_str())
    }
}

fn not_found(ctx: &Ctx, name: &str) -> SageMakerError {
    SageMakerError::validation(format!("Could not find endpoint \"{}\".", arn(&ctx.scope, "endpoint", name)))
}

fn millis(t: Timestamp) -> i128 {
    t.0.unix_timestamp_nanos() / 1_000_000
}

/// The id of an endpoint's creation job (one per endpoint incarnation).
fn create_job_id(rec: &EndpointRecord) -> String {
    format!("{}#create#{}", rec.arn, millis(rec.created))
}

async fn submit(ctx: &Ctx, id: String, name: &str, action: EndpointAction) -> Result<(), SageMakerError> {
    let submitted_ms = (ctx.s.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
    let st = EndpointState { name: name.to_string(), action, submitted_ms };
    ctx.jobs.submit_job::<EndpointJobs>(&ctx.scope, &st, SubmitOptions::with_id(id)).await?;
    Ok(())
}

pub async fn create_endpoint(ctx: &Ctx, req: api::CreateEndpointInput) -> Result<api::CreateEndpointOutput, SageMakerError> {
    let mut v = Violations::new();
    v.name("endpointName", &req.endpoint_name, NAME_PATTERN);
    v.name("endpointConfigName", &req.endpoint_config_name, NAME_PATTERN);
    v.finish()?;
    if req.deployment_config.is_some() {
        return Err(SageMakerError::validation("DeploymentConfig is not supported in CreateEndpoint."));
    }
    let endpoint_arn = arn(&ctx.scope, "endpoint", &req.endpoint_name);
    let key = store::key(&req.endpoint_name);
    if ctx.s.meta.get::<EndpointConfigRecord>(&ctx.scope, &store::key(&req.endpoint_config_name)).await?.is_none() {
        return Err(SageMakerError::validation(format!(
            "Could not find endpoint configuration \"{}\".",
            arn(&ctx.scope, "endpoint-config", &req.endpoint_config_name)
        )));
    }
    let exists = || SageMakerError::validation(format!("Cannot create already existing endpoint \"{endpoint_arn}\"."));
    if ctx.s.meta.get::<EndpointRecord>(&ctx.scope, &key).await?.is_some() {
        return Err(exists());
    }
    let now = ctx.now();
    let rec = EndpointRecord {
        name: req.endpoint_name.clone(),
        arn: endpoint_arn.clone(),
        config_name: req.endpoint_config_name.clone(),
        status: EndpointStatus::Creating,
        failure_reason: None,
        variants: Vec::new(),
        created: now,
        last_modified: now,
        tags: req.tags.unwrap_or_default(),
        last_deployment_config: None,
        deployment: None,
        deployments: 0,
    };
    // The record first (durable when we answer), then its job; if the job cannot be
    // submitted the record goes again. A crash in between leaves a `Creating` endpoint
    // without a job: DescribeEndpoint submits it again (the id is deterministic).
    match ctx.s.meta.put(&ctx.scope, &key, &rec, Expect::Absent).await {
        Ok(_) => {}
        Err(MetaError::ConditionFailed { .. }) => return Err(exists()),
        Err(e) => return Err(e.into()),
    }
    if let Err(e) = submit(ctx, create_job_id(&rec), &rec.name, EndpointAction::Create).await {
        let _ = ctx.s.meta.delete::<EndpointRecord>(&ctx.scope, &key, Expect::Any).await;
        return Err(e);
    }
    tracing::info!(endpoint = %rec.name, config = %rec.config_name, "endpoint creating");
    Ok(api::CreateEndpointOutput { endpoint_arn })
}

fn resolved(image: &str) -> String {
    let digest = hex::encode(sha2::Sha256::digest(image.as_bytes()));
    let repo = image.split_once(':').map_or(image, |(r, _)| r);
    format!("{repo}@sha256:{digest}")
}

/// The `ProductionVariants` of DescribeEndpoint.
pub fn variant_summaries(rec: &EndpointRecord) -> Vec<api::ProductionVariantSummary> {
    rec.variants
        .iter()
        .map(|v| api::ProductionVariantSummary {
            variant_name: v.name.clone(),
            deployed_images: Some(vec![api::DeployedImage { specified_image: Some(v.image.clone()), resolved_image: Some(resolved(&v.image)), resolution_time: Some(rec.created) }]),
            current_weight: Some(v.current_weight),
            desired_weight: Some(v.desired_weight),
            current_instance_count: v.current_instance_count,
            desired_instance_count: v.desired_instance_count,
            current_serverless_config: v.current_serverless.clone(),
            desired_serverless_config: v.desired_serverless.clone(),
            ..Default::default()
        })
        .collect()
}

/// DescribeEndpoint's `PendingDeploymentSummary` while a deployment provisions or bakes (and
/// its job, submitted again if a crash lost it between record and submit).
async fn pending_summary(ctx: &Ctx, rec: &EndpointRecord) -> Result<Option<api::PendingDeploymentSummary>, SageMakerError> {
    let Some(key) = &rec.deployment else { return Ok(None) };
    let Some(dep) = ctx.s.meta.get::<DeploymentRecord>(&ctx.scope, key).await?.map(|r| r.value) else { return Ok(None) };
    let id = deployment_job_id(rec, dep.number);
    if !dep.phase.is_final() && ctx.jobs.get(&id).await?.is_none() {
        tracing::warn!(endpoint = %rec.name, "deployment job missing; submitting it again");
        submit_deployment(ctx, id, &dep).await?;
    }
    let status = match dep.phase {
        DeploymentPhase::Provisioning => "Creating",
        DeploymentPhase::Baking => "Baking",
        _ => return Ok(None),
    };
    let total: i32 = dep.green_variants.iter().map(|v| v.current_instance_count.unwrap_or(1)).sum::<i32>().max(1);
    let active = dep.steps.get(dep.step).map(|s| s.green_instances as i32).unwrap_or(0);
    let variants = dep
        .green_variants
        .iter()
        .map(|v| {
            let desired = v.desired_instance_count;
            let current = match (dep.phase, desired) {
                (DeploymentPhase::Baking, Some(d)) => Some(((active as i64 * d as i64) / total as i64).max(1) as i32),
                (_, d) => d,
            };
            api::PendingProductionVariantSummary {
                variant_name: v.name.clone(),
                deployed_images: Some(vec![api::DeployedImage { specified_image: Some(v.image.clone()), resolved_image: Some(resolved(&v.image)), resolution_time: Some(dep.started) }]),
                current_weight: Some(v.current_weight),
                desired_weight: Some(v.desired_weight),
                current_instance_count: current,
                desired_instance_count: desired,
                instance_type: v.instance_type.clone(),
                current_serverless_config: v.current_serverless.clone(),
                desired_serverless_config: v.desired_serverless.clone(),
                variant_status: Some(vec![api::ProductionVariantStatus {
                    status: status.to_string(),
                    status_message: dep.events.last().map(|e| e.message.clone()),
                    start_time: Some(dep.phase_started),
                }]),
                ..Default::default()
            }
        })
        .collect();
    Ok(Some(api::PendingDeploymentSummary { endpoint_config_name: dep.to_config.clone(), production_variants: Some(variants), start_time: Some(dep.started), ..Default::default() }))
}

/// The id of an endpoint's deployment job `n`.
fn deployment_job_id(rec: &EndpointRecord, n: u32) -> String {
    format!("{}#deploy#{}#{n}", rec.arn, millis(rec.created))
}

async fn submit_deployment(ctx: &Ctx, id: String, dep: &DeploymentRecord) -> Result<(), SageMakerError> {
    let st = DeploymentState { endpoint: dep.endpoint.clone(), key: dep.key() };
    ctx.jobs.submit_job::<DeploymentJobs>(&ctx.scope, &st, SubmitOptions::with_id(id)).await?;
    Ok(())
}

const VARIANT_PROPERTIES: &[&str] = &["DesiredInstanceCount", "DesiredWeight", "DataCaptureConfig"];

pub async fn update_endpoint(ctx: &Ctx, req: api::UpdateEndpointInput) -> Result<api::UpdateEndpointOutput, SageMakerError> {
    let mut v = Violations::new();
    v.name("endpointName", &req.endpoint_name, NAME_PATTERN);
    v.name("endpointConfigName", &req.endpoint_config_name, NAME_PATTERN);
    if let Some(dc) = &req.deployment_config {
        deployment::check_config(&mut v, dc);
    }
    if let Some(x) = &req.exclude_retained_variant_properties {
        v.list_len("excludeRetainedVariantProperties", x.len(), 0, Some(3));
        for (i, p) in x.iter().enumerate() {
            v.one_of(&format!("excludeRetainedVariantProperties.{}.member.variantPropertyType", i + 1), &p.variant_property_type, VARIANT_PROPERTIES);
        }
    }
    v.finish()?;
    let key = store::key(&req.endpoint_name);
    let cur = ctx.s.meta.get::<EndpointRecord>(&ctx.scope, &key).await?.ok_or_else(|| not_found(ctx, &req.endpoint_name))?;
    let mut rec = cur.value;
    if rec.status != EndpointStatus::InService {
        return Err(SageMakerError::validation(format!("Cannot update in-progress endpoint \"{}\".", rec.arn)));
    }
    let config = ctx.s.meta.get::<EndpointConfigRecord>(&ctx.scope, &store::key(&req.endpoint_config_name)).await?.ok_or_else(|| {
        SageMakerError::validation(format!("Could not find endpoint configuration \"{}\".", arn(&ctx.scope, "endpoint-config", &req.endpoint_config_name)))
    })?;
    let mut green = variant_states(&ctx.s.meta, &ctx.scope, &config.value).await.map_err(SageMakerError::validation)?;
    if req.retain_all_variant_properties == Some(true) {
        let excluded: Vec<&str> = req.exclude_retained_variant_properties.iter().flatten().map(|p| p.variant_property_type.as_str()).collect();
        for g in green.iter_mut() {
            if let Some(b) = rec.variants.iter().find(|b| b.name == g.name) {
                if !excluded.contains(&"DesiredWeight") {
                    g.current_weight = b.current_weight;
                    g.desired_weight = b.desired_weight;
                }
                if !excluded.contains(&"DesiredInstanceCount") && g.current_serverless.is_none() && b.current_instance_count.is_some() {
                    g.current_instance_count = b.current_instance_count;
                    g.desired_instance_count = b.desired_instance_count;
                }
            }
        }
    }
    let dc = match (&req.deployment_config, req.retain_deployment_config) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(true)) => rec.last_deployment_config.clone(),
        _ => None,
    };
    let instances: u32 = green.iter().map(|v| v.current_instance_count.unwrap_or(1).max(1) as u32).sum();
    let serverless = green.iter().any(|v| v.current_serverless.is_some());
    let policy = match &dc {
        Some(d) => Policy::from_config(d, instances, serverless)?,
        None => Policy::default(),
    };
    if !policy.alarms.is_empty() {
        let mut missing = Vec::new();
        for a in &policy.alarms {
            let state = match &ctx.s.guardrails.alarms {
                Some(src) => src.alarm_state(&ctx.scope.account, &ctx.scope.region, a).await,
                None => None,
            };
            if state.is_none() {
                missing.push(a.clone());
            }
        }
        if !missing.is_empty() {
            return Err(SageMakerError::validation(format!("The specified alarm(s) [{}] in AutoRollbackConfiguration do not exist.", missing.join(", "))));
        }
    }
    let now = ctx.now();
    // Numbers continue over a deleted endpoint of the same name (its history stays).
    let previous = crate::deployments::latest(&ctx.s.meta, &ctx.scope, &rec.name).await?.map_or(0, |d| d.number);
    let number = rec.deployments.max(previous) + 1;
    let steps = deployment::plan(policy.routing, instances);
    let mut dep = DeploymentRecord {
        endpoint: rec.name.clone(),
        number,
        requested_by: ctx.caller.clone(),
        from_config: rec.config_name.clone(),
        to_config: config.value.name.clone(),
        blue_variants: rec.variants.clone(),
        green_variants: green,
        config: dc.clone(),
        policy,
        steps,
        phase: DeploymentPhase::Provisioning,
        step: 0,
        phase_started: now,
        green_share: 0.0,
        started: now,
        ended: None,
        reason: None,
        events: Vec::new(),
        alarm_states: Default::default(),
        rollback_steps: Vec::new(),
        rollback_step: 0,
    };
    dep.event(now, format!("update to {} requested by {}", dep.to_config, dep.requested_by));
    let dep_key = dep.key();
    match ctx.s.meta.put(&ctx.scope, &dep_key, &dep, Expect::Absent).await {
        Ok(_) => {}
        Err(MetaError::ConditionFailed { .. }) => return Err(SageMakerError::validation(format!("Cannot update in-progress endpoint \"{}\".", rec.arn))),
        Err(e) => return Err(e.into()),
    }
    let cur_deployments = rec.deployments;
    rec.status = EndpointStatus::Updating;
    rec.failure_reason = None;
    rec.last_modified = now;
    rec.deployment = Some(dep_key.clone());
    rec.deployments = number;
    rec.last_deployment_config = dc;
    let version = match ctx.s.meta.put(&ctx.scope, &key, &rec, Expect::Version(cur.version)).await {
        Ok(v) => v,
        Err(e) => {
            let _ = ctx.s.meta.delete::<DeploymentRecord>(&ctx.scope, &dep_key, Expect::Any).await;
            return Err(match e {
                MetaError::ConditionFailed { .. } => SageMakerError::validation(format!("Cannot update in-progress endpoint \"{}\".", rec.arn)),
                e => e.into(),
            });
        }
    };
    if let Err(e) = submit_deployment(ctx, deployment_job_id(&rec, number), &dep).await {
        rec.status = EndpointStatus::InService;
        rec.deployment = None;
        rec.deployments = cur_deployments;
        let _ = ctx.s.meta.put(&ctx.scope, &key, &rec, Expect::Version(version)).await;
        let _ = ctx.s.meta.delete::<DeploymentRecord>(&ctx.scope, &dep_key, Expect::Any).await;
        return Err(e);
    }
    tracing::info!(endpoint = %rec.name, config = %dep.to_config, deployment = number, routing = ?dep.policy.routing, "endpoint updating");
    Ok(api::UpdateEndpointOutput { endpoint_arn: rec.arn })
}

pub async fn describe_endpoint(ctx: &Ctx, req: api::DescribeEndpointInput) -> Result<api::DescribeEndpointOutput, SageMakerError> {
    let rec = ctx.s.meta.get::<EndpointRecord>(&ctx.scope, &store::key(&req.endpoint_name)).await?.ok_or_else(|| not_found(ctx, &req.endpoint_name))?.value;
    if rec.status == EndpointStatus::Creating {
        // Heal a creation whose job was lost to a crash between record and submit.
        let id = create_job_id(&rec);
        if ctx.jobs.get(&id).await?.is_none() {
            tracing::warn!(endpoint = %rec.name, "creation job missing; submitting it again");
            submit(ctx, id, &rec.name, EndpointAction::Create).await?;
        }
    }
    let pending = pending_summary(ctx, &rec).await?;
    let variants = variant_summaries(&rec);
    Ok(api::DescribeEndpointOutput {
        last_deployment_config: rec.last_deployment_config.clone(),
        pending_deployment_summary: pending,
        endpoint_name: rec.name,
        endpoint_arn: rec.arn,
        endpoint_config_name: Some(rec.config_name),
        endpoint_status: rec.status.as_str().to_string(),
        failure_reason: rec.failure_reason,
        production_variants: (!variants.is_empty()).then_some(variants),
        creation_time: rec.created,
        last_modified_time: rec.last_modified,
        ..Default::default()
    })
}

pub async fn list_endpoints(ctx: &Ctx, req: api::ListEndpointsInput) -> Result<api::ListEndpointsOutput, SageMakerError> {
    if let Some(s) = &req.status_equals {
        let mut v = Violations::new();
        v.one_of("statusEquals", s, &["OutOfService", "Creating", "Updating", "SystemUpdating", "RollingBack", "InService", "Deleting", "Failed", "UpdateRollbackFailed"]);
        v.finish()?;
    }
    let all: Vec<EndpointRecord> = ctx.s.meta.list::<EndpointRecord>(&ctx.scope, &ListQuery::default()).await?.into_iter().map(|(_, r)| r.value).collect();
    let p = ListParams {
        name_contains: req.name_contains,
        created_after: req.creation_time_after,
        created_before: req.creation_time_before,
        modified_after: req.last_modified_time_after,
        modified_before: req.last_modified_time_before,
        status_equals: req.status_equals,
        sort_by: req.sort_by,
        sort_order: req.sort_order,
        max_results: req.max_results,
        next_token: req.next_token,
    };
    let (page, next_token) = listing::page(all, &p, &["Name", "CreationTime", "Status"])?;
    Ok(api::ListEndpointsOutput {
        endpoints: page
            .into_iter()
            .map(|e| api::EndpointSummary { endpoint_name: e.name, endpoint_arn: e.arn, creation_time: e.created, last_modified_time: e.last_modified, endpoint_status: e.status.as_str().to_string() })
            .collect(),
        next_token,
    })
}

pub async fn delete_endpoint(ctx: &Ctx, req: api::DeleteEndpointInput) -> Result<(), SageMakerError> {
    let key = store::key(&req.endpoint_name);
    let cur = ctx.s.meta.get::<EndpointRecord>(&ctx.scope, &key).await?.ok_or_else(|| not_found(ctx, &req.endpoint_name))?;
    let mut rec = cur.value;
    if rec.status == EndpointStatus::Deleting {
        return Ok(());
    }
    rec.status = EndpointStatus::Deleting;
    rec.last_modified = ctx.now();
    submit(ctx, format!("{}#delete#{}", rec.arn, millis(rec.created)), &rec.name, EndpointAction::Delete).await?;
    match ctx.s.meta.put(&ctx.scope, &key, &rec, Expect::Version(cur.version)).await {
        Ok(_) | Err(MetaError::ConditionFailed { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    tracing::info!(endpoint = %rec.name, "endpoint deleting");
    Ok(())
}

pub async fn update_endpoint_weights_and_capacities(
    ctx: &Ctx,
    req: api::UpdateEndpointWeightsAndCapacitiesInput,
) -> Result<api::UpdateEndpointWeightsAndCapacitiesOutput, SageMakerError> {
    let mut v = Violations::new();
    v.name("endpointName", &req.endpoint_name, NAME_PATTERN);
    v.list_len("desiredWeightsAndCapacities", req.desired_weights_and_capacities.len(), 1, None);
    for (i, d) in req.desired_weights_and_capacities.iter().enumerate() {
        let p = format!("desiredWeightsAndCapacities.{}.member", i + 1);
        v.name(&format!("{p}.variantName"), &d.variant_name, NAME_PATTERN);
        if let Some(w) = d.desired_weight {
            v.float_min(&format!("{p}.desiredWeight"), w as f64, 0.0);
        }
        if let Some(c) = d.desired_instance_count {
            v.int_range(&format!("{p}.desiredInstanceCount"), c as i64, Some(0), None);
        }
        if let Some(u) = &d.serverless_update_config {
            if let Some(m) = u.max_concurrency {
                v.int_range(&format!("{p}.serverlessUpdateConfig.maxConcurrency"), m as i64, Some(1), Some(200));
            }
            if let Some(pc) = u.provisioned_concurrency {
                v.int_range(&format!("{p}.serverlessUpdateConfig.provisionedConcurrency"), pc as i64, Some(1), Some(200));
            }
        }
    }
    v.finish()?;
    let key = store::key(&req.endpoint_name);
    let cur = ctx.s.meta.get::<EndpointRecord>(&ctx.scope, &key).await?.ok_or_else(|| not_found(ctx, &req.endpoint_name))?;
    let mut rec = cur.value;
    if rec.status != EndpointStatus::InService {
        return Err(SageMakerError::validation(format!("Cannot update in-progress endpoint \"{}\".", rec.arn)));
    }
    let mut seen = HashSet::new();
    for d in &req.desired_weights_and_capacities {
        if !seen.insert(d.variant_name.clone()) {
            return Err(SageMakerError::validation(format!("The variant name \"{}\" was non-unique within the request.", d.variant_name)));
        }
        let Some(var) = rec.variants.iter().find(|x| x.name == d.variant_name) else {
            return Err(SageMakerError::validation(format!(
                "The variant name(s) \"{}\" is/are not present within endpoint configuration \"{}\".",
                d.variant_name, rec.config_name
            )));
        };
        if d.desired_weight.is_none() && d.desired_instance_count.is_none() && d.serverless_update_config.is_none() {
            return Err(SageMakerError::validation(format!(
                "Specify DesiredWeight, DesiredInstanceCount or ServerlessUpdateConfig for variant \"{}\".",
                d.variant_name
            )));
        }
        let serverless = var.current_serverless.is_some();
        if serverless && d.desired_instance_count.is_some() {
            return Err(SageMakerError::validation(format!("DesiredInstanceCount cannot be set for the serverless variant \"{}\".", d.variant_name)));
        }
        if !serverless && d.serverless_update_config.is_some() {
            return Err(SageMakerError::validation(format!("ServerlessUpdateConfig can only be set for serverless variant \"{}\".", d.variant_name)));
        }
        if let (Some(u), Some(cur)) = (&d.serverless_update_config, &var.current_serverless) {
            let max = u.max_concurrency.unwrap_or(cur.max_concurrency);
            if let Some(pc) = u.provisioned_concurrency.or(cur.provisioned_concurrency) {
                if pc > max {
                    return Err(SageMakerError::validation(format!(
                        "ProvisionedConcurrency ({pc}) for ProductionVariant {} cannot be greater than MaxConcurrency ({max}).",
                        d.variant_name
                    )));
                }
            }
        }
    }
    rec.status = EndpointStatus::Updating;
    rec.last_modified = ctx.now();
    let version = match ctx.s.meta.put(&ctx.scope, &key, &rec, Expect::Version(cur.version)).await {
        Ok(v) => v,
        Err(MetaError::ConditionFailed { .. }) => return Err(SageMakerError::validation(format!("Cannot update in-progress endpoint \"{}\".", rec.arn))),
        Err(e) => return Err(e.into()),
    };
    if let Err(e) = submit(ctx, format!("{}#update#{}#{version}", rec.arn, millis(rec.created)), &rec.name, EndpointAction::UpdateWeights(req.desired_weights_and_capacities)).await {
        // Not accepted: put the endpoint back in service.
        rec.status = EndpointStatus::InService;
        let _ = ctx.s.meta.put(&ctx.scope, &key, &rec, Expect::Version(version)).await;
        return Err(e);
    }
    tracing::info!(endpoint = %rec.name, "endpoint updating weights and capacities");
    Ok(api::UpdateEndpointWeightsAndCapacitiesOutput { endpoint_arn: rec.arn })
}
