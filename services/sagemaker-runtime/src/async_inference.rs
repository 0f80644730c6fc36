//! `InvokeEndpointAsync`: asynchronous inference as a durable job.
//!
//! The call checks its headers, finds the endpoint (in service, with an
//! `AsyncInferenceConfig` in its endpoint configuration), writes a job
//! (`sagemaker.async-inference`) and answers 202 with the `InferenceId` and where the
//! result will be: `<S3OutputPath>/<InferenceId>.out` (or `Filename`, under
//! `S3OutputPathExtension`), and `<S3FailurePath>/<InferenceId>-error.out` when a failure path
//! is configured. The job is durable before the answer, so a restart resumes it.
//!
//! The job has two steps. `invoke` reads the payload from `InputLocation` (S3), runs it
//! through the endpoint like `InvokeEndpoint` (body limit 1 GB), and writes the model's
//! reply to the output location, or the error to the failure location; it honours
//! `RequestTTLSeconds` (a request that waited longer fails as expired),
//! `InvocationTimeoutSeconds`, and `MaxConcurrentInvocationsPerInstance` (per instance of the
//! endpoint on this node; further invocations wait in the queue). `notify` publishes
//! SageMaker's `InferenceResult` event to the configuration's `SuccessTopic` or `ErrorTopic`
//! through SNS, if configured.

use crate::error::RuntimeError;
use crate::valid_custom_attributes;
use hearth_protocol::RequestContext;
use hearth_runtime::jobs::{JobContext, JobError, JobHandler, JobQueue, StepOutcome, SubmitOptions};
use hearth_runtime::{Clock, MetaStore, Scope};
use hearth_sagemaker::hosting::{Hosting, InvokeError, InvokeRequest};
use hearth_sagemaker::store::{self, EndpointConfigRecord, EndpointRecord};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Largest asynchronous payload (1 GB).
pub const MAX_ASYNC_BODY: usize = 1024 * 1024 * 1024;
/// `RequestTTLSeconds` when not given (6 hours).
pub const DEFAULT_TTL_SECONDS: u32 = 21_600;
/// `InvocationTimeoutSeconds` when not given (15 minutes).
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 900;
/// Largest reply included in a notification (`IncludeInferenceResponseIn`), 128 KB.
pub const MAX_INLINE_RESPONSE: usize = 128 * 1024;

/// Where inference-result events go (the SNS service implements it).
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Publish `message` to `topic_arn` on behalf of `account` in `region`.
    async fn publish(&self, account: &str, region: &str, topic_arn: &str, message: &str) -> Result<(), String>;
}

#[async_trait::async_trait]
impl Notifier for hearth_sns::Sns {
    async fn publish(&self, account: &str, region: &str, topic_arn: &str, message: &str) -> Result<(), String> {
        self.publish_internal(account, region, topic_arn, None, message).await.map(|_| ())
    }
}

/// What asynchronous invocations share.
pub struct AsyncShared {
    meta: MetaStore,
    s3: hearth_s3::S3,
    hosting: Arc<Hosting>,
    clock: Arc<dyn Clock>,
    notifier: Option<Arc<dyn Notifier>>,
    /// Invocations running per endpoint on this node (for `MaxConcurrentInvocationsPerInstance`).
    running: Mutex<HashMap<(Scope, String), u32>>,
}

impl AsyncShared {
    /// The shared state; register [`AsyncJobs`] with it.
    pub fn new(rt: &hearth_runtime::Runtime, s3: &hearth_s3::S3, hosting: Arc<Hosting>, notifier: Option<Arc<dyn Notifier>>) -> Arc<AsyncShared> {
        Arc::new(AsyncShared { meta: rt.meta.clone(), s3: s3.clone(), hosting, clock: rt.clock.clone(), notifier, running: Mutex::new(HashMap::new()) })
    }
}

/// One accepted asynchronous invocation (the job's state).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AsyncInvocation {
    pub inference_id: String,
    pub endpoint_name: String,
    pub input_location: String,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub custom_attributes: Option<String>,
    pub output_location: String,
    pub failure_location: Option<String>,
    /// When the request was accepted, ms since the epoch.
    pub received_ms: i64,
    pub ttl_seconds: u32,
    pub timeout_seconds: u32,
    /// Concurrent invocations allowed on the endpoint (per instance × instances); 0: no limit.
    pub max_concurrent: u32,
    pub success_topic: Option<String>,
    pub error_topic: Option<String>,
    #[serde(default)]
    pub include_response_in: Vec<String>,
    /// Set by the `invoke` step.
    #[serde(default)]
    pub outcome: Option<AsyncOutcome>,
}

/// How an asynchronous invocation ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AsyncOutcome {
    pub completed: bool,
    pub response_content_type: Option<String>,
    pub failure_reason: Option<String>,
    /// The reply, base64, when small enough to go in a notification.
    pub inline_response: Option<String>,
    pub finished_ms: i64,
}

fn join_uri(base: &str, name: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), name)
}

fn validation(m: impl Into<String>) -> RuntimeError {
    RuntimeError::Validation(m.into())
}

/// `\A\S[\p{Print}]*\z`, 1 to 64 characters.
fn valid_inference_id(s: &str) -> bool {
    let n = s.chars().count();
    (1..=64).contains(&n) && s.chars().next().is_some_and(|c| !c.is_whitespace()) && s.chars().all(|c| !c.is_control())
}

/// Answer `InvokeEndpointAsync`: validate, check the endpoint, submit the durable job.
pub async fn invoke_endpoint_async(
    shared: &Arc<AsyncShared>,
    jobs: &JobQueue,
    ctx: &RequestContext,
    req: crate::api::InvokeEndpointAsyncInput,
) -> Result<crate::api::InvokeEndpointAsyncOutput, RuntimeError> {
    let mut errors = Vec::new();
    if req.endpoint_name.is_empty() || req.endpoint_name.len() > 63 {
        errors.push(format!("Value '{}' at 'endpointName' failed to satisfy constraint: Member must have length less than or equal to 63", req.endpoint_name));
    }
    let loc_ok = req.input_location.len() <= 1024
        && req.input_location.strip_prefix("s3://").or_else(|| req.input_location.strip_prefix("https://")).is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
    if !loc_ok {
        errors.push(format!(
            "Value '{}' at 'inputLocation' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$",
            req.input_location
        ));
    }
    if let Some(id) = &req.inference_id {
        if !valid_inference_id(id) {
            errors.push(format!("Value '{id}' at 'inferenceId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\A\\S[\\p{{Print}}]*\\z"));
        }
    }
    if let Some(t) = req.request_ttl_seconds {
        if !(60..=21_600).contains(&t) {
            errors.push(format!("Value '{t}' at 'requestTTLSeconds' failed to satisfy constraint: Member must have value {}", if t < 60 { "greater than or equal to 60" } else { "less than or equal to 21600" }));
        }
    }
    if let Some(t) = req.invocation_timeout_seconds {
        if !(1..=3600).contains(&t) {
            errors.push(format!("Value '{t}' at 'invocationTimeoutSeconds' failed to satisfy constraint: Member must have value {}", if t < 1 { "greater than or equal to 1" } else { "less than or equal to 3600" }));
        }
    }
    if req.custom_attributes.as_deref().is_some_and(|c| !valid_custom_attributes(c)) {
        errors.push("Value at 'customAttributes' failed to satisfy constraint: Member must have length less than or equal to 1024 and contain only visible US-ASCII characters".into());
    }
    match errors.len() {
        0 => {}
        1 => return Err(validation(format!("1 validation error detected: {}", errors[0]))),
        n => return Err(validation(format!("{n} validation errors detected: {}", errors.join("; ")))),
    }
    if !req.input_location.starts_with("s3://") {
        return Err(validation(format!("InputLocation {} is not supported by Hearth: use an s3:// URI.", req.input_location)));
    }
    let scope = Scope::new(ctx.account.clone(), ctx.region.clone());
    let not_found = || validation(format!("Endpoint {} of account {} not found.", req.endpoint_name, ctx.account));
    let endpoint = shared.meta.get::<EndpointRecord>(&scope, &store::key(&req.endpoint_name)).await.map_err(|e| RuntimeError::Internal(e.to_string()))?;
    let Some(endpoint) = endpoint.map(|r| r.value).filter(|r| r.status.serves()) else {
        return Err(not_found());
    };
    let config = shared
        .meta
        .get::<EndpointConfigRecord>(&scope, &store::key(&endpoint.config_name))
        .await
        .map_err(|e| RuntimeError::Internal(e.to_string()))?
        .and_then(|c| c.value.async_inference_config);
    let Some(config) = config else {
        return Err(validation(format!("Endpoint {} of account {} is not an asynchronous inference endpoint.", endpoint.name, ctx.account)));
    };
    let output_path = config.output_config.s3_output_path.clone().unwrap_or_default();
    let inference_id = req.inference_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let dir = match req.s3_output_path_extension.as_deref().map(|e| e.trim_matches('/')).filter(|e| !e.is_empty()) {
        Some(ext) => join_uri(&output_path, ext),
        None => output_path.clone(),
    };
    let output_location = join_uri(&dir, &req.filename.clone().unwrap_or_else(|| format!("{inference_id}.out")));
    let failure_location = config.output_config.s3_failure_path.as_deref().filter(|p| !p.is_empty()).map(|p| join_uri(p, &format!("{inference_id}-error.out")));
    let per_instance = config.client_config.as_ref().and_then(|c| c.max_concurrent_invocations_per_instance).unwrap_or(0).max(0) as u32;
    let instances: u32 = endpoint.variants.iter().map(|v| v.current_instance_count.unwrap_or(1).max(1) as u32).sum::<u32>().max(1);
    let notification = config.output_config.notification_config.clone().unwrap_or_default();
    let state = AsyncInvocation {
        inference_id: inference_id.clone(),
        endpoint_name: endpoint.name.clone(),
        input_location: req.input_location.clone(),
        content_type: req.content_type.clone(),
        accept: req.accept.clone(),
        custom_attributes: req.custom_attributes.clone(),
        output_location: output_location.clone(),
        failure_location: failure_location.clone(),
        received_ms: (shared.clock.now().unix_timestamp_nanos() / 1_000_000) as i64,
        ttl_seconds: req.request_ttl_seconds.map(|t| t as u32).unwrap_or(DEFAULT_TTL_SECONDS),
        timeout_seconds: req.invocation_timeout_seconds.map(|t| t as u32).unwrap_or(DEFAULT_TIMEOUT_SECONDS),
        max_concurrent: per_instance.saturating_mul(instances),
        success_topic: notification.success_topic.filter(|t| !t.is_empty()),
        error_topic: notification.error_topic.filter(|t| !t.is_empty()),
        include_response_in: notification.include_inference_response_in.unwrap_or_default(),
        outcome: None,
    };
    let job_id = format!("sagemaker-async/{}", uuid::Uuid::new_v4());
    jobs.submit_job::<AsyncJobs>(&scope, &state, SubmitOptions::with_id(job_id)).await.map_err(|e| RuntimeError::Internal(e.to_string()))?;
    tracing::info!(endpoint = %endpoint.name, inference_id = %inference_id, "async invocation queued");
    Ok(crate::api::InvokeEndpointAsyncOutput { inference_id: Some(inference_id), output_location: Some(output_location), failure_location })
}

/// The asynchronous invocation runner.
pub struct AsyncJobs(pub Arc<AsyncShared>);

/// A slot of an endpoint's concurrent invocations; released on drop.
struct Running<'a> {
    shared: &'a AsyncShared,
    key: (Scope, String),
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut m = self.shared.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.key);
            }
        }
    }
}

impl AsyncShared {
    fn try_run(&self, scope: &Scope, endpoint: &str, max: u32) -> Option<Running<'_>> {
        let key = (scope.clone(), store::key(endpoint));
        let mut m = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(key.clone()).or_insert(0);
        if max > 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(Running { shared: self, key })
    }

    fn now_ms(&self) -> i64 {
        (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
    }

    async fn write_failure(&self, scope: &Scope, st: &AsyncInvocation, body: &str) -> Result<(), JobError> {
        let Some(loc) = &st.failure_location else { return Ok(()) };
        let Some((bucket, key)) = hearth_s3::internal::parse_s3_uri(loc).filter(|(_, k)| !k.is_empty()) else { return Ok(()) };
        match self.s3.write_object(&scope.account, &bucket, &key, body.as_bytes(), "text/plain").await {
            Ok(_) => Ok(()),
            Err(e) if e.status.is_server_error() => Err(JobError::retryable(e.message)),
            Err(e) => {
                tracing::warn!(location = %loc, code = %e.code, "async failure output not written");
                Ok(())
            }
        }
    }

    fn failed(&self, reason: String) -> AsyncOutcome {
        AsyncOutcome { completed: false, response_content_type: None, failure_reason: Some(reason), inline_response: None, finished_ms: self.now_ms() }
    }
}

fn model_side(status: u16) -> &'static str {
    if status < 500 {
        "client"
    } else {
        "server"
    }
}

#[async_trait::async_trait]
impl JobHandler for AsyncJobs {
    const KIND: &'static str = "sagemaker.async-inference";
    type State = AsyncInvocation;

    fn steps(&self) -> &'static [&'static str] {
        &["invoke", "notify"]
    }

    async fn run_step(&self, ctx: &JobContext, step: usize, st: &mut AsyncInvocation) -> Result<StepOutcome, JobError> {
        let s = &self.0;
        match step {
            0 => {
                if st.outcome.is_some() {
                    return Ok(StepOutcome::Done);
                }
                let waited_ms = s.now_ms() - st.received_ms;
                if waited_ms > i64::from(st.ttl_seconds) * 1000 {
                    let reason = format!("ClientError: Request {} expired: it waited in the queue longer than RequestTTLSeconds ({}).", st.inference_id, st.ttl_seconds);
                    s.write_failure(&ctx.scope, st, &reason).await?;
                    st.outcome = Some(s.failed(reason));
                    return Ok(StepOutcome::Done);
                }
                let Some(_slot) = s.try_run(&ctx.scope, &st.endpoint_name, st.max_concurrent) else {
                    return Ok(StepOutcome::Wait(Duration::from_millis(50)));
                };
                let outcome = self.invoke(ctx, st).await?;
                tracing::info!(endpoint = %st.endpoint_name, inference_id = %st.inference_id, completed = outcome.completed, "async invocation finished");
                st.outcome = Some(outcome);
                Ok(StepOutcome::Done)
            }
            _ => {
                let Some(outcome) = st.outcome.clone() else { return Ok(StepOutcome::Done) };
                let topic = if outcome.completed { st.success_topic.clone() } else { st.error_topic.clone() };
                let (Some(topic), Some(notifier)) = (topic, s.notifier.clone()) else { return Ok(StepOutcome::Done) };
                let message = notification(&ctx.scope, st, &outcome);
                match notifier.publish(&ctx.scope.account, &ctx.scope.region, &topic, &message).await {
                    Ok(()) => Ok(StepOutcome::Done),
                    Err(e) if is_permanent(&e) => {
                        tracing::warn!(topic = %topic, error = %e, "async inference notification not published");
                        Ok(StepOutcome::Done)
                    }
                    Err(e) => Err(JobError::retryable(e)),
                }
            }
        }
    }
}

/// SNS answers that retrying will not change (missing topic, bad parameters, no access).
fn is_permanent(e: &str) -> bool {
    ["NotFound", "InvalidParameter", "AuthorizationError", "InvalidSecurity"].iter().any(|c| e.starts_with(c))
}

impl AsyncJobs {
    async fn invoke(&self, ctx: &JobContext, st: &AsyncInvocation) -> Result<AsyncOutcome, JobError> {
        let s = &self.0;
        let scope = &ctx.scope;
        let Some((bucket, key)) = hearth_s3::internal::parse_s3_uri(&st.input_location).filter(|(_, k)| !k.is_empty()) else {
            let reason = format!("ClientError: Failed to download input data from {}: not an S3 object URI.", st.input_location);
            s.write_failure(scope, st, &reason).await?;
            return Ok(s.failed(reason));
        };
        let body = match s.s3.read_object(&scope.account, &bucket, &key).await {
            Ok(b) => b,
            Err(e) if e.status.is_server_error() => return Err(JobError::retryable(e.message)),
            Err(e) => {
                let reason = format!("ClientError: Failed to download input data from {}: {} ({}).", st.input_location, e.message, e.code);
                s.write_failure(scope, st, &reason).await?;
                return Ok(s.failed(reason));
            }
        };
        let req = InvokeRequest {
            endpoint_name: st.endpoint_name.clone(),
            body,
            content_type: st.content_type.clone(),
            accept: st.accept.clone(),
            custom_attributes: st.custom_attributes.clone(),
            target_variant: None,
            request_id: st.inference_id.clone(),
            max_body: Some(MAX_ASYNC_BODY),
        };
        let timeout = Duration::from_secs(u64::from(st.timeout_seconds.max(1)));
        let result = match tokio::time::timeout(timeout, s.hosting.invoke(scope, req)).await {
            Ok(r) => r,
            Err(_) => {
                let reason = format!("ClientError: The model did not answer within InvocationTimeoutSeconds ({}).", st.timeout_seconds);
                s.write_failure(scope, st, &reason).await?;
                return Ok(s.failed(reason));
            }
        };
        match result {
            Ok(reply) => {
                let Some((obucket, okey)) = hearth_s3::internal::parse_s3_uri(&st.output_location).filter(|(_, k)| !k.is_empty()) else {
                    return Ok(s.failed(format!("ClientError: S3OutputPath {} is not an S3 URI.", st.output_location)));
                };
                match s.s3.write_object(&scope.account, &obucket, &okey, &reply.body, &reply.content_type).await {
                    Ok(_) => {}
                    Err(e) if e.status.is_server_error() => return Err(JobError::retryable(e.message)),
                    Err(e) => {
                        let reason = format!("ClientError: Failed to upload the inference output to {}: {} ({}).", st.output_location, e.message, e.code);
                        s.write_failure(scope, st, &reason).await?;
                        return Ok(s.failed(reason));
                    }
                }
                use base64::Engine as _;
                let inline = (reply.body.len() <= MAX_INLINE_RESPONSE && st.include_response_in.iter().any(|t| t == "SUCCESS_NOTIFICATION_TOPIC"))
                    .then(|| base64::engine::general_purpose::STANDARD.encode(&reply.body));
                Ok(AsyncOutcome { completed: true, response_content_type: Some(reply.content_type), failure_reason: None, inline_response: inline, finished_ms: s.now_ms() })
            }
            Err(InvokeError::Model { original_status, original_message, .. }) => {
                let reason = format!(
                    "ClientError: Received {} error ({original_status}) from model with message \"{original_message}\". See the SageMaker Endpoint logs in your account for more information.",
                    model_side(original_status)
                );
                s.write_failure(scope, st, &original_message).await?;
                Ok(s.failed(reason))
            }
            Err(InvokeError::Validation(m)) => {
                let reason = format!("ClientError: {m}");
                s.write_failure(scope, st, &reason).await?;
                Ok(s.failed(reason))
            }
            Err(InvokeError::Throttling) => Err(JobError::retryable("endpoint throttled the invocation")),
            Err(InvokeError::Internal(m)) => Err(JobError::retryable(m)),
        }
    }
}

fn iso_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&f).unwrap_or_default()
}

/// SageMaker's `InferenceResult` event for one finished invocation.
pub fn notification(scope: &Scope, st: &AsyncInvocation, o: &AsyncOutcome) -> String {
    let mut request = serde_json::Map::new();
    if let Some(a) = &st.accept {
        request.insert("accept".into(), a.clone().into());
    }
    if let Some(c) = &st.content_type {
        request.insert("contentType".into(), c.clone().into());
    }
    if let Some(c) = &st.custom_attributes {
        request.insert("customAttributes".into(), c.clone().into());
    }
    request.insert("endpointName".into(), st.endpoint_name.clone().into());
    request.insert("inputLocation".into(), st.input_location.clone().into());
    let mut response = serde_json::Map::new();
    if let Some(c) = &o.response_content_type {
        response.insert("contentType".into(), c.clone().into());
    }
    if o.completed {
        response.insert("outputLocation".into(), st.output_location.clone().into());
    } else if let Some(f) = &st.failure_location {
        response.insert("failureLocation".into(), f.clone().into());
    }
    let mut event = serde_json::Map::new();
    event.insert("awsRegion".into(), scope.region.clone().into());
    event.insert("eventTime".into(), iso_ms(o.finished_ms).into());
    event.insert("receivedTime".into(), iso_ms(st.received_ms).into());
    event.insert("invocationStatus".into(), if o.completed { "Completed" } else { "Failed" }.into());
    if let Some(r) = &o.failure_reason {
        event.insert("failureReason".into(), r.clone().into());
    }
    event.insert("requestParameters".into(), request.into());
    event.insert("responseParameters".into(), response.into());
    if let Some(body) = &o.inline_response {
        event.insert("responseBody".into(), serde_json::json!({ "content": body, "encoding": "BASE64" }));
    }
    event.insert("inferenceId".into(), st.inference_id.clone().into());
    event.insert("eventVersion".into(), "1.0".into());
    event.insert("eventSource".into(), "aws:sagemaker".into());
    event.insert("eventName".into(), "InferenceResult".into());
    serde_json::Value::Object(event).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> AsyncInvocation {
        AsyncInvocation {
            inference_id: "id-1".into(),
            endpoint_name: "ep".into(),
            input_location: "s3://b/in.csv".into(),
            content_type: Some("text/csv".into()),
            accept: None,
            custom_attributes: None,
            output_location: join_uri("s3://b/out/", "id-1.out"),
            failure_location: Some("s3://b/fail/id-1-error.out".into()),
            received_ms: 1_643_150_760_455,
            ttl_seconds: DEFAULT_TTL_SECONDS,
            timeout_seconds: DEFAULT_TIMEOUT_SECONDS,
            max_concurrent: 0,
            success_topic: None,
            error_topic: None,
            include_response_in: vec![],
            outcome: None,
        }
    }

    #[test]
    fn events_and_locations() {
        let st = state();
        assert_eq!(st.output_location, "s3://b/out/id-1.out");
        let ok = AsyncOutcome { completed: true, response_content_type: Some("text/csv; charset=utf-8".into()), failure_reason: None, inline_response: None, finished_ms: 1_643_150_760_608 };
        let v: serde_json::Value = serde_json::from_str(&notification(&Scope::new("123456789012", "us-east-1"), &st, &ok)).unwrap();
        assert_eq!(v["invocationStatus"], "Completed");
        assert_eq!(v["eventTime"], "2022-01-25T22:46:00.608Z");
        assert_eq!(v["receivedTime"], "2022-01-25T22:46:00.455Z");
        assert_eq!(v["responseParameters"]["outputLocation"], "s3://b/out/id-1.out");
        assert_eq!(v["requestParameters"]["endpointName"], "ep");
        assert_eq!(v["eventName"], "InferenceResult");
        let bad = AsyncOutcome { completed: false, response_content_type: None, failure_reason: Some("ClientError: x".into()), inline_response: None, finished_ms: 0 };
        let v: serde_json::Value = serde_json::from_str(&notification(&Scope::new("123456789012", "us-east-1"), &st, &bad)).unwrap();
        assert_eq!(v["invocationStatus"], "Failed");
        assert_eq!(v["failureReason"], "ClientError: x");
        assert_eq!(v["responseParameters"]["failureLocation"], "s3://b/fail/id-1-error.out");
        assert!(valid_inference_id("abc"));
        assert!(!valid_inference_id(" abc"));
        assert!(!valid_inference_id(&"a".repeat(65)));
    }
}
