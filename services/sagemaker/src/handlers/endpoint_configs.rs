//! CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs, DeleteEndpointConfig.

use super::Ctx;
use crate::api;
use crate::domain::listing::{self, ListParams, Listed};
use crate::domain::validate::{Violations, MODEL_NAME_PATTERN, NAME_PATTERN};
use crate::domain::{arn, instance_types};
use crate::error::SageMakerError;
use crate::store::{self, EndpointConfigRecord, ModelRecord};
use hearth_protocol::types::Timestamp;
use hearth_runtime::{Expect, ListQuery, MetaError};
use std::collections::HashSet;

impl Listed for EndpointConfigRecord {
    fn name(&self) -> &str {
        &self.name
    }
    fn created(&self) -> Timestamp {
        self.created
    }
}

fn not_found(ctx: &Ctx, name: &str) -> SageMakerError {
    SageMakerError::validation(format!("Could not find endpoint configuration \"{}\".", arn(&ctx.scope, "endpoint-config", name)))
}

/// The model constraints of one production variant (paths as AWS writes them).
pub fn check_variant(v: &mut Violations, path: &str, pv: &api::ProductionVariant) {
    v.name(&format!("{path}.variantName"), &pv.variant_name, NAME_PATTERN);
    if let Some(m) = &pv.model_name {
        v.name(&format!("{path}.modelName"), m, MODEL_NAME_PATTERN);
    }
    if let Some(n) = pv.initial_instance_count {
        v.int_range(&format!("{path}.initialInstanceCount"), n as i64, Some(1), None);
    }
    if let Some(w) = pv.initial_variant_weight {
        v.float_min(&format!("{path}.initialVariantWeight"), w as f64, 0.0);
    }
    if let Some(t) = &pv.instance_type {
        v.one_of(&format!("{path}.instanceType"), t, instance_types::PRODUCTION_VARIANT);
    }
    if let Some(s) = &pv.serverless_config {
        let p = format!("{path}.serverlessConfig");
        v.int_range(&format!("{p}.memorySizeInMB"), s.memory_size_in_mb as i64, Some(1024), Some(6144));
        v.int_range(&format!("{p}.maxConcurrency"), s.max_concurrency as i64, Some(1), Some(200));
        if let Some(pc) = s.provisioned_concurrency {
            v.int_range(&format!("{p}.provisionedConcurrency"), pc as i64, Some(1), Some(200));
        }
    }
}

/// Rules across members of a variant, checked after the model constraints.
fn check_variant_semantics(pv: &api::ProductionVariant) -> Result<(), SageMakerError> {
    let name = &pv.variant_name;
    let serverless = pv.serverless_config.is_some();
    if serverless && (pv.instance_type.is_some() || pv.initial_instance_count.is_some()) {
        return Err(SageMakerError::validation(format!(
            "Invalid ProductionVariant {name}: ServerlessConfig cannot be combined with InstanceType or InitialInstanceCount."
        )));
    }
    if !serverless && pv.instance_type.is_none() {
        return Err(SageMakerError::validation(format!("Invalid ProductionVariant {name}: either InstanceType or ServerlessConfig must be specified.")));
    }
    if !serverless && pv.initial_instance_count.is_none() {
        return Err(SageMakerError::validation(format!("Invalid ProductionVariant {name}: InitialInstanceCount is required with InstanceType.")));
    }
    if let Some(s) = &pv.serverless_config {
        if s.memory_size_in_mb % 1024 != 0 {
            return Err(SageMakerError::validation(format!(
                "Invalid MemorySizeInMB {} for ProductionVariant {name}: valid values are 1024, 2048, 3072, 4096, 5120 and 6144.",
                s.memory_size_in_mb
            )));
        }
        if let Some(pc) = s.provisioned_concurrency {
            if pc > s.max_concurrency {
                return Err(SageMakerError::validation(format!(
                    "ProvisionedConcurrency ({pc}) for ProductionVariant {name} cannot be greater than MaxConcurrency ({}).",
                    s.max_concurrency
                )));
            }
        }
    }
    if pv.model_name.as_deref().is_none_or(str::is_empty) {
        return Err(SageMakerError::validation(format!("Invalid ProductionVariant {name}: ModelName is required.")));
    }
    Ok(())
}

/// `^arn:aws[a-z\-]*:sns:[a-z0-9\-]*:[0-9]{12}:[a-zA-Z0-9_.-]+` in full.
fn is_topic_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:aws") else { return false };
    let Some((partition, rest)) = rest.split_once(":sns:") else { return false };
    if !partition.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return false;
    }
    let mut parts = rest.splitn(3, ':');
    let (Some(region), Some(account), Some(name)) = (parts.next(), parts.next(), parts.next()) else { return false };
    region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The model constraints of `AsyncInferenceConfig` (AWS's member paths).
pub fn check_async_inference(v: &mut Violations, a: &api::AsyncInferenceConfig) {
    let out = &a.output_config;
    let p = "asyncInferenceConfig.outputConfig";
    for (name, value) in [("s3OutputPath", &out.s3_output_path), ("s3FailurePath", &out.s3_failure_path)] {
        if let Some(uri) = value {
            v.max_len(&format!("{p}.{name}"), uri, 512);
            v.s3_uri(&format!("{p}.{name}"), uri);
        }
    }
    if let Some(k) = &out.kms_key_id {
        v.max_len(&format!("{p}.kmsKeyId"), k, 2048);
    }
    if let Some(n) = &out.notification_config {
        let np = format!("{p}.notificationConfig");
        for (name, value) in [("successTopic", &n.success_topic), ("errorTopic", &n.error_topic)] {
            if let Some(t) = value {
                v.max_len(&format!("{np}.{name}"), t, 2048);
                if !is_topic_arn(t) {
                    v.pattern(&format!("{np}.{name}"), t, "arn:aws[a-z\\-]*:sns:[a-z0-9\\-]*:[0-9]{12}:[a-zA-Z0-9_.-]+");
                }
            }
        }
        if let Some(list) = &n.include_inference_response_in {
            v.list_len(&format!("{np}.includeInferenceResponseIn"), list.len(), 0, Some(2));
            for (i, x) in list.iter().enumerate() {
                v.one_of(&format!("{np}.includeInferenceResponseIn.{}.member", i + 1), x, &["SUCCESS_NOTIFICATION_TOPIC", "ERROR_NOTIFICATION_TOPIC"]);
            }
        }
    }
    if let Some(n) = a.client_config.as_ref().and_then(|c| c.max_concurrent_invocations_per_instance) {
        v.int_range("asyncInferenceConfig.clientConfig.maxConcurrentInvocationsPerInstance", n as i64, Some(1), Some(1000));
    }
}

/// Rules of asynchronous endpoints beyond the model constraints.
fn check_async_semantics(a: &api::AsyncInferenceConfig, variants: &[api::ProductionVariant]) -> Result<(), SageMakerError> {
    if variants.iter().any(|pv| pv.serverless_config.is_some()) {
        return Err(SageMakerError::validation("AsyncInferenceConfig is not supported for endpoints with ServerlessConfig."));
    }
    if a.output_config.s3_output_path.as_deref().is_none_or(str::is_empty) {
        return Err(SageMakerError::validation("S3OutputPath must be specified in AsyncInferenceConfig's OutputConfig."));
    }
    Ok(())
}

pub async fn create_endpoint_config(ctx: &Ctx, mut req: api::CreateEndpointConfigInput) -> Result<api::CreateEndpointConfigOutput, SageMakerError> {
    let mut v = Violations::new();
    v.name("endpointConfigName", &req.endpoint_config_name, NAME_PATTERN);
    v.list_len("productionVariants", req.production_variants.len(), 1, Some(10));
    for (i, pv) in req.production_variants.iter().enumerate() {
        check_variant(&mut v, &format!("productionVariants.{}.member", i + 1), pv);
    }
    if let Some(r) = &req.execution_role_arn {
        v.role("executionRoleArn", r);
    }
    if let Some(a) = &req.async_inference_config {
        check_async_inference(&mut v, a);
    }
    v.finish()?;
    let mut seen = HashSet::new();
    for pv in &req.production_variants {
        if !seen.insert(pv.variant_name.to_ascii_lowercase()) {
            return Err(SageMakerError::validation(format!("The variant name \"{}\" was non-unique within the request.", pv.variant_name)));
        }
        check_variant_semantics(pv)?;
    }
    if let Some(a) = &req.async_inference_config {
        check_async_semantics(a, &req.production_variants)?;
    }
    if req.shadow_production_variants.as_ref().is_some_and(|s| !s.is_empty()) {
        return Err(SageMakerError::validation("Shadow production variants are not supported by Hearth."));
    }
    for pv in &req.production_variants {
        let m = pv.model_name.clone().unwrap_or_default();
        if ctx.s.meta.get::<ModelRecord>(&ctx.scope, &store::key(&m)).await?.is_none() {
            return Err(SageMakerError::validation(format!("Could not find model \"{}\".", arn(&ctx.scope, "model", &m))));
        }
    }
    for pv in &mut req.production_variants {
        pv.initial_variant_weight.get_or_insert(1.0);
    }
    let config_arn = arn(&ctx.scope, "endpoint-config", &req.endpoint_config_name);
    let rec = EndpointConfigRecord {
        name: req.endpoint_config_name.clone(),
        arn: config_arn.clone(),
        production_variants: req.production_variants,
        data_capture_config: req.data_capture_config,
        async_inference_config: req.async_inference_config,
        kms_key_id: req.kms_key_id,
        execution_role_arn: req.execution_role_arn,
        tags: req.tags.unwrap_or_default(),
        created: ctx.now(),
    };
    match ctx.s.meta.put(&ctx.scope, &store::key(&rec.name), &rec, Expect::Absent).await {
        Ok(_) => {}
        Err(MetaError::ConditionFailed { .. }) => {
            return Err(SageMakerError::validation(format!("Cannot create already existing endpoint configuration \"{config_arn}\".")));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(config = %rec.name, variants = rec.production_variants.len(), "endpoint configuration created");
    Ok(api::CreateEndpointConfigOutput { endpoint_config_arn: config_arn })
}

pub async fn describe_endpoint_config(ctx: &Ctx, req: api::DescribeEndpointConfigInput) -> Result<api::DescribeEndpointConfigOutput, SageMakerError> {
    let rec = ctx
        .s
        .meta
        .get::<EndpointConfigRecord>(&ctx.scope, &store::key(&req.endpoint_config_name))
        .await?
        .ok_or_else(|| not_found(ctx, &req.endpoint_config_name))?
        .value;
    Ok(api::DescribeEndpointConfigOutput {
        endpoint_config_name: rec.name,
        endpoint_config_arn: rec.arn,
        production_variants: rec.production_variants,
        data_capture_config: rec.data_capture_config,
        async_inference_config: rec.async_inference_config,
        kms_key_id: rec.kms_key_id,
        execution_role_arn: rec.execution_role_arn,
        creation_time: rec.created,
        ..Default::default()
    })
}

pub async fn list_endpoint_configs(ctx: &Ctx, req: api::ListEndpointConfigsInput) -> Result<api::ListEndpointConfigsOutput, SageMakerError> {
    let all: Vec<EndpointConfigRecord> = ctx.s.meta.list::<EndpointConfigRecord>(&ctx.scope, &ListQuery::default()).await?.into_iter().map(|(_, r)| r.value).collect();
    let p = ListParams {
        name_contains: req.name_contains,
        created_after: req.creation_time_after,
        created_before: req.creation_time_before,
        sort_by: req.sort_by,
        sort_order: req.sort_order,
        max_results: req.max_results,
        next_token: req.next_token,
        ..Default::default()
    };
    let (page, next_token) = listing::page(all, &p, &["Name", "CreationTime"])?;
    Ok(api::ListEndpointConfigsOutput {
        endpoint_configs: page.into_iter().map(|c| api::EndpointConfigSummary { endpoint_config_name: c.name, endpoint_config_arn: c.arn, creation_time: c.created }).collect(),
        next_token,
    })
}

pub async fn delete_endpoint_config(ctx: &Ctx, req: api::DeleteEndpointConfigInput) -> Result<(), SageMakerError> {
    if !ctx.s.meta.delete::<EndpointConfigRecord>(&ctx.scope, &store::key(&req.endpoint_config_name), Expect::Any).await? {
        return Err(not_found(ctx, &req.endpoint_config_name));
    }
    tracing::info!(config = %req.endpoint_config_name, "endpoint configuration deleted");
    Ok(())
}
