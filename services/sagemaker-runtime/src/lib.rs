//! SageMaker Runtime (restJson1, `POST /endpoints/{EndpointName}/invocations` and
//! `/async-invocations`). Implemented operations: InvokeEndpoint, InvokeEndpointAsync.
//!
//! The service is thin: it checks the request's headers, hands the call to the control
//! plane's hosting ([`hearth_sagemaker::hosting::Hosting::invoke`]: routing, serverless
//! concurrency and cold starts, the model container, endpoint metrics) and maps the outcome
//! to AWS's reply and errors (`ValidationError`, `ModelError` with `OriginalStatusCode`,
//! `OriginalMessage` and `LogStreamArn`, `ThrottlingException`). It signs as `sagemaker`, like
//! the control plane; the gateway tells them apart by `X-Amz-Target` versus the REST path.
//!
//! `InvokeEndpointAsync` ([`async_inference`]) queues a durable job that reads the payload
//! from S3, runs it through the same hosting, writes the reply (or the error) to S3 and
//! publishes the result to the endpoint configuration's SNS topics.

pub mod api;
pub mod async_inference;
mod error;

use api::Operation;
use async_inference::{AsyncJobs, AsyncShared, Notifier};
use hearth_runtime::jobs::JobQueue;
use error::RuntimeError;
use hearth_protocol::dispatch::{self, Handler};
use hearth_protocol::schema::{OperationSpec, Service};
use hearth_protocol::types::Blob;
use hearth_protocol::{AwsError, RequestContext};
use hearth_runtime::Scope;
use hearth_sagemaker::hosting::{Hosting, InvokeRequest};
use serde_json::Value;
use std::sync::Arc;

/// The SageMaker Runtime service.
#[derive(Clone)]
pub struct SageMakerRuntime {
    hosting: Arc<Hosting>,
    asynchronous: Arc<AsyncShared>,
    jobs: JobQueue,
}

impl SageMakerRuntime {
    /// The runtime over the control plane's hosting (`SageMaker::hosting()`); asynchronous
    /// results are announced through `notifier` (SNS). Registers the asynchronous invocation
    /// jobs on `rt.jobs` (call before the workers start).
    pub fn new(rt: &hearth_runtime::Runtime, s3: &hearth_s3::S3, hosting: Arc<Hosting>, notifier: Option<Arc<dyn Notifier>>) -> Self {
        let asynchronous = AsyncShared::new(rt, s3, hosting.clone(), notifier);
        rt.jobs.register(AsyncJobs(asynchronous.clone()));
        SageMakerRuntime { hosting, asynchronous, jobs: rt.jobs.clone() }
    }
}

/// Visible US-ASCII (RFC 7230 field value characters), at most 1024.
fn valid_custom_attributes(s: &str) -> bool {
    s.len() <= 1024 && s.bytes().all(|b| b == b' ' || b == b'\t' || (0x21..=0x7e).contains(&b))
}

async fn invoke_endpoint(hosting: &Hosting, ctx: &RequestContext, req: api::InvokeEndpointInput) -> Result<api::InvokeEndpointOutput, RuntimeError> {
    if req.endpoint_name.is_empty() || req.endpoint_name.len() > 63 {
        return Err(RuntimeError::Validation(format!(
            "1 validation error detected: Value '{}' at 'endpointName' failed to satisfy constraint: Member must have length less than or equal to 63",
            req.endpoint_name
        )));
    }
    if let Some(ca) = &req.custom_attributes {
        if !valid_custom_attributes(ca) {
            return Err(RuntimeError::Validation(
                "1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length less than or equal to 1024 and contain only visible US-ASCII characters".into(),
            ));
        }
    }
    if req.target_model.is_some() {
        return Err(RuntimeError::Validation(format!("Endpoint {} is not a multi-model endpoint and does not support target model header.", req.endpoint_name)));
    }
    if req.inference_component_name.is_some() {
        return Err(RuntimeError::Validation(format!("Inference Component Name header is not allowed for endpoint {}.", req.endpoint_name)));
    }
    let scope = Scope::new(ctx.account.clone(), ctx.region.clone());
    let reply = hosting
        .invoke(
            &scope,
            InvokeRequest {
                endpoint_name: req.endpoint_name,
                body: req.body.0,
                content_type: req.content_type,
                accept: req.accept,
                custom_attributes: req.custom_attributes,
                target_variant: req.target_variant,
                request_id: ctx.request_id.clone(),
                max_body: None,
            },
        )
        .await?;
    Ok(api::InvokeEndpointOutput {
        body: Blob(reply.body),
        content_type: Some(reply.content_type),
        invoked_production_variant: Some(reply.invoked_variant),
        custom_attributes: reply.custom_attributes,
        ..Default::default()
    })
}

#[async_trait::async_trait]
impl Handler for SageMakerRuntime {
    fn model(&self) -> &'static Service {
        &api::SERVICE
    }

    async fn call(&self, ctx: &RequestContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        let Some(operation) = Operation::from_name(op.name) else {
            return Err(AwsError::new("UnknownOperationException", format!("Unknown operation {}", op.name), 400));
        };
        match operation {
            Operation::InvokeEndpoint => {
                let req: api::InvokeEndpointInput = dispatch::input(&api::SERVICE, input)?;
                let out = invoke_endpoint(&self.hosting, ctx, req).await.map_err(|e| e.to_aws())?;
                dispatch::output(&out)
            }
            Operation::InvokeEndpointAsync => {
                let req: api::InvokeEndpointAsyncInput = dispatch::input(&api::SERVICE, input)?;
                let out = async_inference::invoke_endpoint_async(&self.asynchronous, &self.jobs, ctx, req).await.map_err(|e| e.to_aws())?;
                dispatch::output(&out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_attributes_rules() {
        assert!(valid_custom_attributes("trace-id=abc; tenant=1"));
        assert!(!valid_custom_attributes("caf\u{e9}"));
        assert!(!valid_custom_attributes(&"a".repeat(1025)));
    }
}
