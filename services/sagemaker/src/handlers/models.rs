//! CreateModel, DescribeModel, ListModels, DeleteModel.

use super::Ctx;
use crate::api;
use crate::domain::listing::{self, ListParams, Listed};
use crate::domain::validate::{Violations, MODEL_NAME_PATTERN};
use crate::domain::arn;
use crate::error::SageMakerError;
use crate::store::{self, ModelRecord};
use hearth_protocol::types::Timestamp;
use hearth_runtime::{Expect, ListQuery, MetaError};

impl Listed for ModelRecord {
    fn name(&self) -> &str {
        &self.name
    }
    fn created(&self) -> Timestamp {
        self.created
    }
}

fn not_found(ctx: &Ctx, name: &str) -> SageMakerError {
    SageMakerError::validation(format!("Could not find model \"{}\".", arn(&ctx.scope, "model", name)))
}

fn check_container(v: &mut Violations, path: &str, c: &api::ContainerDefinition) {
    if let Some(image) = &c.image {
        v.max_len(&format!("{path}.image"), image, 255);
    }
    if let Some(url) = &c.model_data_url {
        v.s3_uri(&format!("{path}.modelDataUrl"), url);
    }
    if let Some(mode) = &c.mode {
        v.one_of(&format!("{path}.mode"), mode, &["SingleModel", "MultiModel"]);
    }
    if let Some(env) = &c.environment {
        if env.len() > 100 {
            v.list_len(&format!("{path}.environment"), env.len(), 0, Some(100));
        }
        for (k, val) in env {
            v.max_len(&format!("{path}.environment"), k, 1024);
            v.max_len(&format!("{path}.environment"), val, 1024);
        }
    }
}

pub async fn create_model(ctx: &Ctx, req: api::CreateModelInput) -> Result<api::CreateModelOutput, SageMakerError> {
    let mut v = Violations::new();
    v.name("modelName", &req.model_name, MODEL_NAME_PATTERN);
    if let Some(r) = &req.execution_role_arn {
        v.role("executionRoleArn", r);
    }
    if let Some(c) = &req.primary_container {
        check_container(&mut v, "primaryContainer", c);
    }
    if let Some(cs) = &req.containers {
        v.list_len("containers", cs.len(), 0, Some(15));
        for (i, c) in cs.iter().enumerate() {
            check_container(&mut v, &format!("containers.{}.member", i + 1), c);
        }
    }
    v.finish()?;
    let containers: Vec<&api::ContainerDefinition> = req.primary_container.iter().chain(req.containers.iter().flatten()).collect();
    match (&req.primary_container, req.containers.as_ref().map(Vec::len).unwrap_or(0)) {
        (Some(_), n) if n > 0 => return Err(SageMakerError::validation("Only one of PrimaryContainer or Containers can be specified.")),
        (None, 0) => return Err(SageMakerError::validation("Either PrimaryContainer or Containers must be specified.")),
        _ => {}
    }
    for c in &containers {
        if c.image.as_deref().is_none_or(str::is_empty) && c.model_package_name.is_none() {
            return Err(SageMakerError::validation("Image is required for each container (or ModelPackageName)."));
        }
        if let Some(url) = &c.model_data_url {
            ctx.require_object(url, || format!("Could not find model data at {url}.")).await?;
        }
    }
    let key = store::key(&req.model_name);
    let model_arn = arn(&ctx.scope, "model", &req.model_name);
    let rec = ModelRecord {
        name: req.model_name.clone(),
        arn: model_arn.clone(),
        primary_container: req.primary_container,
        containers: req.containers,
        execution_role_arn: req.execution_role_arn,
        enable_network_isolation: req.enable_network_isolation,
        vpc_config: req.vpc_config,
        inference_execution_config: req.inference_execution_config,
        tags: req.tags.unwrap_or_default(),
        created: ctx.now(),
    };
    match ctx.s.meta.put(&ctx.scope, &key, &rec, Expect::Absent).await {
        Ok(_) => {}
        Err(MetaError::ConditionFailed { .. }) => return Err(SageMakerError::validation(format!("Cannot create already existing model \"{model_arn}\"."))),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(model = %rec.name, "model created");
    Ok(api::CreateModelOutput { model_arn })
}

pub async fn describe_model(ctx: &Ctx, req: api::DescribeModelInput) -> Result<api::DescribeModelOutput, SageMakerError> {
    let rec = ctx.s.meta.get::<ModelRecord>(&ctx.scope, &store::key(&req.model_name)).await?.ok_or_else(|| not_found(ctx, &req.model_name))?.value;
    Ok(api::DescribeModelOutput {
        model_name: rec.name,
        model_arn: rec.arn,
        primary_container: rec.primary_container,
        containers: rec.containers,
        execution_role_arn: rec.execution_role_arn,
        enable_network_isolation: Some(rec.enable_network_isolation.unwrap_or(false)),
        vpc_config: rec.vpc_config,
        inference_execution_config: rec.inference_execution_config,
        creation_time: rec.created,
        deployment_recommendation: None,
    })
}

pub async fn list_models(ctx: &Ctx, req: api::ListModelsInput) -> Result<api::ListModelsOutput, SageMakerError> {
    let all: Vec<ModelRecord> = ctx.s.meta.list::<ModelRecord>(&ctx.scope, &ListQuery::default()).await?.into_iter().map(|(_, r)| r.value).collect();
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
    Ok(api::ListModelsOutput { models: page.into_iter().map(|m| api::ModelSummary { model_name: m.name, model_arn: m.arn, creation_time: m.created }).collect(), next_token })
}

pub async fn delete_model(ctx: &Ctx, req: api::DeleteModelInput) -> Result<(), SageMakerError> {
    let existed = ctx.s.meta.delete::<ModelRecord>(&ctx.scope, &store::key(&req.model_name), Expect::Any).await?;
    if !existed {
        return Err(not_found(ctx, &req.model_name));
    }
    tracing::info!(model = %req.model_name, "model deleted");
    Ok(())
}
