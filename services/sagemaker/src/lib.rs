//! SageMaker's control plane (awsJson1_1, `SageMaker.*`): models, endpoint configurations,
//! endpoints and training jobs for the built-in XGBoost algorithm, plus the hosting that
//! `sagemaker-runtime`'s InvokeEndpoint runs through ([`hosting::Hosting`]).
//!
//! Implemented operations: CreateModel, DescribeModel, ListModels, DeleteModel,
//! CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs, DeleteEndpointConfig,
//! CreateEndpoint, DescribeEndpoint, ListEndpoints, DeleteEndpoint,
//! UpdateEndpoint (deployment guardrails: [`deployments`]),
//! UpdateEndpointWeightsAndCapacities, CreateTrainingJob, DescribeTrainingJob,
//! ListTrainingJobs, StopTrainingJob.
//!
//! Layout: `handlers/` (one file per resource family), `domain/` (validation, listing, the
//! XGBoost container contract, the serving fleet, training pieces, artifacts), `hosting/`
//! (fleets of this node, invocation, metrics, scale-to-zero; the in-process XGBoost
//! container), `store.rs` (records), `jobs.rs` (training and endpoint lifecycle jobs),
//! `error.rs`.
//!
//! Training and serving run on the real XGBoost library (`hearth models fetch xgboost`),
//! through `hearth_inference::tabular`.

pub mod api;
pub mod deployments;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod hosting;
pub mod jobs;
pub mod store;

use api::Operation;
use error::SageMakerError;
use handlers::Ctx;
use hearth_inference::tabular::Engine;
use hearth_protocol::dispatch::{self, Handler};
use hearth_protocol::schema::{OperationSpec, Service};
use hearth_protocol::{AwsError, RequestContext};
use hearth_runtime::jobs::JobQueue;
use hearth_runtime::Scope;
use hosting::{Hosting, HostingOptions};
use jobs::{EndpointJobs, Shared, TrainingJobs};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Tuning of the SageMaker service.
#[derive(Debug, Clone)]
pub struct SageMakerOptions {
    /// Hosting (scale-to-zero idle time and checks).
    pub hosting: HostingOptions,
    /// Tabular engine threads serving predictions.
    pub engine_threads: usize,
    /// XGBoost threads per training job.
    pub training_threads: usize,
}

impl Default for SageMakerOptions {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        SageMakerOptions { hosting: HostingOptions::default(), engine_threads: cpus.max(2), training_threads: cpus }
    }
}

impl SageMakerOptions {
    /// Defaults, overridden by `HEARTH_SAGEMAKER_SERVERLESS_IDLE_SECONDS` (scale-to-zero idle
    /// time, default 300), `HEARTH_SAGEMAKER_ENGINE_THREADS` and
    /// `HEARTH_SAGEMAKER_TRAINING_THREADS`. (Read here until the config file grows a
    /// `[sagemaker]` section.)
    pub fn from_env() -> Self {
        let mut o = SageMakerOptions::default();
        let num = |k: &str| std::env::var(k).ok().and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| v.is_finite() && *v >= 0.0);
        if let Some(s) = num("HEARTH_SAGEMAKER_SERVERLESS_IDLE_SECONDS") {
            o.hosting.serverless_idle = Duration::from_secs_f64(s);
            o.hosting.reap_interval = o.hosting.reap_interval.min(Duration::from_secs_f64((s / 4.0).max(0.05)));
        }
        if let Some(n) = num("HEARTH_SAGEMAKER_ENGINE_THREADS") {
            o.engine_threads = (n as usize).max(1);
        }
        if let Some(n) = num("HEARTH_SAGEMAKER_TRAINING_THREADS") {
            o.training_threads = (n as usize).max(1);
        }
        o
    }
}

/// The SageMaker control plane; cheap to clone.
#[derive(Clone)]
pub struct SageMaker {
    shared: Arc<Shared>,
    jobs: JobQueue,
}

impl SageMaker {
    /// The service over the runtime's stores and `s3`, tuned by [`SageMakerOptions::from_env`].
    /// Registers its job kinds and starts the scale-to-zero task (call inside a tokio runtime).
    pub fn new(rt: &hearth_runtime::Runtime, s3: &hearth_s3::S3) -> SageMaker {
        SageMaker::with_options(rt, s3, SageMakerOptions::from_env())
    }

    /// The service with explicit options.
    pub fn with_options(rt: &hearth_runtime::Runtime, s3: &hearth_s3::S3, opts: SageMakerOptions) -> SageMaker {
        SageMaker::build(rt, s3, opts, None)
    }

    /// The service with deployment guardrails reading rollback alarms from `alarms` (the
    /// server's one CloudWatch instance).
    pub fn with_alarms(rt: &hearth_runtime::Runtime, s3: &hearth_s3::S3, alarms: Arc<dyn deployments::AlarmSource>) -> SageMaker {
        SageMaker::build(rt, s3, SageMakerOptions::from_env(), Some(alarms))
    }

    /// The service with explicit options and alarm source.
    pub fn build(rt: &hearth_runtime::Runtime, s3: &hearth_s3::S3, opts: SageMakerOptions, alarms: Option<Arc<dyn deployments::AlarmSource>>) -> SageMaker {
        let engine = Engine::new(opts.engine_threads);
        let hosting = Hosting::new(rt, s3, engine.clone(), opts.hosting.clone());
        hosting.start_reaper();
        let shared = Arc::new(Shared {
            meta: rt.meta.clone(),
            s3: s3.clone(),
            clock: rt.clock.clone(),
            models_dir: rt.models_dir.clone(),
            engine,
            hosting,
            training_threads: opts.training_threads,
            stops: Default::default(),
            guardrails: deployments::Guardrails::new(alarms),
        });
        rt.jobs.register(TrainingJobs(shared.clone()));
        rt.jobs.register(EndpointJobs(shared.clone()));
        rt.jobs.register(deployments::DeploymentJobs(shared.clone()));
        SageMaker { shared, jobs: rt.jobs.clone() }
    }

    /// The metadata store the service keeps its records in (deployment history readers).
    pub fn meta(&self) -> hearth_runtime::MetaStore {
        self.shared.meta.clone()
    }

    /// The hosting state InvokeEndpoint runs through (shared with `sagemaker-runtime`).
    pub fn hosting(&self) -> Arc<Hosting> {
        self.shared.hosting.clone()
    }

    fn ctx(&self, req: &RequestContext) -> Ctx {
        Ctx { s: self.shared.clone(), jobs: self.jobs.clone(), scope: Scope::new(req.account.clone(), req.region.clone()), caller: req.access_key.clone() }
    }
}

fn out<T: serde::Serialize>(r: Result<T, SageMakerError>) -> Result<Value, AwsError> {
    dispatch::output(&r?)
}

fn empty(r: Result<(), SageMakerError>) -> Result<Value, AwsError> {
    r?;
    Ok(Value::Object(Default::default()))
}

#[async_trait::async_trait]
impl Handler for SageMaker {
    fn model(&self) -> &'static Service {
        &api::SERVICE
    }

    async fn call(&self, req: &RequestContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        let ctx = self.ctx(req);
        let svc = &api::SERVICE;
        let Some(operation) = Operation::from_name(op.name) else {
            return Err(AwsError::new("UnknownOperationException", format!("Unknown operation {}", op.name), 400));
        };
        match operation {
            Operation::CreateModel => out(handlers::models::create_model(&ctx, dispatch::input(svc, input)?).await),
            Operation::DescribeModel => out(handlers::models::describe_model(&ctx, dispatch::input(svc, input)?).await),
            Operation::ListModels => out(handlers::models::list_models(&ctx, dispatch::input(svc, input)?).await),
            Operation::DeleteModel => empty(handlers::models::delete_model(&ctx, dispatch::input(svc, input)?).await),
            Operation::CreateEndpointConfig => out(handlers::endpoint_configs::create_endpoint_config(&ctx, dispatch::input(svc, input)?).await),
            Operation::DescribeEndpointConfig => out(handlers::endpoint_configs::describe_endpoint_config(&ctx, dispatch::input(svc, input)?).await),
            Operation::ListEndpointConfigs => out(handlers::endpoint_configs::list_endpoint_configs(&ctx, dispatch::input(svc, input)?).await),
            Operation::DeleteEndpointConfig => empty(handlers::endpoint_configs::delete_endpoint_config(&ctx, dispatch::input(svc, input)?).await),
            Operation::CreateEndpoint => out(handlers::endpoints::create_endpoint(&ctx, dispatch::input(svc, input)?).await),
            Operation::DescribeEndpoint => out(handlers::endpoints::describe_endpoint(&ctx, dispatch::input(svc, input)?).await),
            Operation::ListEndpoints => out(handlers::endpoints::list_endpoints(&ctx, dispatch::input(svc, input)?).await),
            Operation::DeleteEndpoint => empty(handlers::endpoints::delete_endpoint(&ctx, dispatch::input(svc, input)?).await),
            Operation::UpdateEndpoint => out(handlers::endpoints::update_endpoint(&ctx, dispatch::input(svc, input)?).await),
            Operation::UpdateEndpointWeightsAndCapacities => {
                out(handlers::endpoints::update_endpoint_weights_and_capacities(&ctx, dispatch::input(svc, input)?).await)
            }
            Operation::CreateTrainingJob => out(handlers::training_jobs::create_training_job(&ctx, dispatch::input(svc, input)?).await),
            Operation::DescribeTrainingJob => Ok(handlers::training_jobs::describe_training_job(&ctx, dispatch::input(svc, input)?).await?),
            Operation::ListTrainingJobs => out(handlers::training_jobs::list_training_jobs(&ctx, dispatch::input(svc, input)?).await),
            Operation::StopTrainingJob => empty(handlers::training_jobs::stop_training_job(&ctx, dispatch::input(svc, input)?).await),
        }
    }
}
