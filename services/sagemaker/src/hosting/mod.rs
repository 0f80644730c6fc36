//! Hosting on this node: the fleets of the endpoints it serves, `InvokeEndpoint`'s path
//! through them, endpoint metrics, and scale-to-zero.
//!
//! Fleets ([`crate::domain::fleet`]) are built from the durable endpoint records on first use
//! and kept in memory; every node can serve every endpoint. A cached fleet re-reads its record
//! at most once per [`HostingOptions::refresh`] and follows weight, capacity and configuration
//! changes in place, keeping loaded models. A background task scales idle serverless variants
//! to zero every [`HostingOptions::reap_interval`] on the injected clock.
//!
//! One invocation: find the endpoint (in service, else `ValidationError: Endpoint … of account
//! … not found.`), check the body size (6 MB, 4 MB serverless), route to a variant, admit it
//! (serverless `MaxConcurrency` → `ThrottlingException`; a cold variant loads its model, timed
//! as `ModelSetupTime`), run the container, and record `AWS/SageMaker` metrics with
//! `EndpointName` + `VariantName`: `Invocations`, `Invocation4XXErrors`, `Invocation5XXErrors`,
//! `InvocationsPerInstance`, `ModelLatency` and `OverheadLatency` (microseconds; gathered in
//! memory and written once a second per variant: counts as statistic sets, latencies as value
//! lists, so a busy endpoint does not write a row per metric and invocation),
//! `ModelSetupTime` (cold starts), `ConcurrentRequestsPerModel`; and every reaper tick,
//! `MemoryUtilization` of each loaded variant (its workers' resident memory against the
//! variant's memory size, in percent).
//!
//! Models load through [`Loader`]: an image registered as a local command runs as local
//! container processes ([`process`]); anything else is the built-in XGBoost container,
//! in-process ([`xgboost`]).

pub mod memory;
pub mod process;
pub mod xgboost;

use crate::domain::fleet::{AcquireError, Capacity, ContainerRequest, Deployment, Fleet, ModelSource, RouteError, Variant, VariantSpec};
use crate::store::{self, EndpointRecord, VariantState};
use hearth_inference::tabular::Engine;
use hearth_runtime::metrics::{MetricDatum, Sample, StatisticSet, Unit};
use hearth_runtime::{Clock, MetaStore, Metrics, Scope};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use crate::domain::fleet::{ModelLoader, ModelRuntime};
use process::{ProcessLoader, ProcessOptions};
use xgboost::XgbLoader;

/// How often invocation metrics are written (one datum per metric, variant and interval).
pub const METRICS_FLUSH: Duration = Duration::from_secs(1);

/// Largest `InvokeEndpoint` body for instance endpoints (6 MB).
pub const MAX_BODY: usize = 6 * 1024 * 1024;
/// Largest `InvokeEndpoint` body for serverless endpoints (4 MB).
pub const MAX_BODY_SERVERLESS: usize = 4 * 1024 * 1024;

/// Tuning of hosting.
#[derive(Debug, Clone)]
pub struct HostingOptions {
    /// Idle time after which a serverless variant without provisioned concurrency is scaled
    /// to zero.
    pub serverless_idle: Duration,
    /// How often idle variants are looked for.
    pub reap_interval: Duration,
    /// How long a cached fleet trusts its endpoint record before re-reading it.
    pub refresh: Duration,
    /// Local container commands (the SageMaker container contract without Docker); their
    /// `work_dir` is set to `<data_dir>/sagemaker/containers` by [`Hosting::new`].
    pub containers: ProcessOptions,
}

impl Default for HostingOptions {
    fn default() -> Self {
        HostingOptions { serverless_idle: Duration::from_secs(300), reap_interval: Duration::from_secs(5), refresh: Duration::from_secs(1), containers: ProcessOptions::default() }
    }
}

/// One `InvokeEndpoint` call.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    pub endpoint_name: String,
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub custom_attributes: Option<String>,
    pub target_variant: Option<String>,
    /// The request id (AWS quotes it in the oversize-body error).
    pub request_id: String,
    /// Body limit of this call; `None`: InvokeEndpoint's (6 MB, 4 MB serverless).
    /// Asynchronous invocations read their payload from S3 and allow up to 1 GB.
    pub max_body: Option<usize>,
}

/// A successful invocation.
#[derive(Debug, Clone)]
pub struct InvokeReply {
    pub body: Vec<u8>,
    pub content_type: String,
    pub invoked_variant: String,
    pub custom_attributes: Option<String>,
}

/// Why an invocation failed (the runtime service maps these to AWS errors).
#[derive(Debug, Clone, PartialEq)]
pub enum InvokeError {
    /// `ValidationError` (400).
    Validation(String),
    /// `ModelError` (424): the container answered with an error status.
    Model { original_status: u16, original_message: String, message: String, log_stream_arn: String },
    /// `ThrottlingException` (400): serverless `MaxConcurrency` reached.
    Throttling,
    /// `InternalFailure` (500).
    Internal(String),
}

struct Cached {
    fleet: Arc<Fleet>,
    loader: Arc<Loader>,
    version: i64,
    checked: Instant,
    serverless: bool,
}

/// The hosting state of this node; cheap to share (`Arc`).
pub struct Hosting {
    meta: MetaStore,
    s3: hearth_s3::S3,
    metrics: Metrics,
    clock: Arc<dyn Clock>,
    models_dir: PathBuf,
    engine: Engine,
    opts: HostingOptions,
    containers: Arc<ProcessOptions>,
    fleets: Mutex<HashMap<(Scope, String), Cached>>,
    /// Invocation metrics of the current second, per (scope, endpoint, variant).
    pending: Mutex<HashMap<(Scope, String, String), Pending>>,
}

/// Loads a variant's model: a registered local container image as processes, anything else
/// as the built-in XGBoost container in-process (whose model must fit the variant's memory).
pub struct Loader {
    xgb: XgbLoader,
    process: ProcessLoader,
}

#[async_trait::async_trait]
impl ModelLoader for Loader {
    async fn load(&self, source: &ModelSource, variant: &VariantSpec) -> Result<Arc<dyn ModelRuntime>, String> {
        if ProcessLoader::image(&self.process.opts, &source.image).is_some() {
            return self.process.load(source, variant).await;
        }
        let model = self.xgb.load(source, variant).await?;
        if let Some(limit) = memory::limit_bytes(&variant.capacity) {
            if model.memory_bytes() > limit {
                return Err(xgboost::ping_failure(
                    &variant.name,
                    &format!("Unable to load model: it needs {} MB, more than the memory size of the variant ({} MB)", model.memory_bytes() >> 20, limit >> 20),
                ));
            }
        }
        Ok(model)
    }
}

impl Hosting {
    /// Hosting over the runtime's stores, with `engine` for model compute.
    pub fn new(rt: &hearth_runtime::Runtime, s3: &hearth_s3::S3, engine: Engine, opts: HostingOptions) -> Arc<Hosting> {
        let mut containers = opts.containers.clone();
        containers.work_dir = rt.data_dir.join("sagemaker").join("containers");
        // Directories of a previous run (its processes died with it).
        let _ = std::fs::remove_dir_all(&containers.work_dir);
        Arc::new(Hosting {
            containers: Arc::new(containers),
            meta: rt.meta.clone(),
            s3: s3.clone(),
            metrics: rt.metrics.clone(),
            clock: rt.clock.clone(),
            models_dir: rt.models_dir.clone(),
            engine,
            opts,
            fleets: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// Start the scale-to-zero task (on the current tokio runtime; it ends when `self` is dropped).
    pub fn start_reaper(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let clock = self.clock.clone();
        let interval = self.opts.reap_interval;
        tokio::spawn(async move {
            loop {
                clock.sleep(interval).await;
                let Some(h) = weak.upgrade() else { return };
                h.reap_idle();
                h.record_memory();
            }
        });
        let weak = Arc::downgrade(self);
        let clock = self.clock.clone();
        tokio::spawn(async move {
            loop {
                clock.sleep(METRICS_FLUSH).await;
                let Some(h) = weak.upgrade() else { return };
                h.flush_metrics();
            }
        });
    }

    /// Scale idle serverless variants to zero now; returns `(endpoint, variant)` of those unloaded.
    pub fn reap_idle(&self) -> Vec<(String, String)> {
        let now = self.clock.now();
        let fleets: Vec<Arc<Fleet>> = self.fleets.lock().unwrap_or_else(|p| p.into_inner()).values().map(|c| c.fleet.clone()).collect();
        let mut out = Vec::new();
        for f in fleets {
            for v in f.reap_idle(now, self.opts.serverless_idle) {
                tracing::info!(endpoint = %f.endpoint, variant = %v, "serverless variant scaled to zero");
                out.push((f.endpoint.clone(), v));
            }
        }
        out
    }

    /// The options in force.
    pub fn options(&self) -> &HostingOptions {
        &self.opts
    }

    fn loader(&self, scope: &Scope, endpoint: &str) -> Arc<Loader> {
        Arc::new(Loader {
            xgb: XgbLoader { account: scope.account.clone(), s3: self.s3.clone(), engine: self.engine.clone(), models_dir: self.models_dir.clone() },
            process: ProcessLoader { account: scope.account.clone(), region: scope.region.clone(), endpoint: endpoint.to_string(), s3: self.s3.clone(), opts: self.containers.clone() },
        })
    }

    /// Record `MemoryUtilization` (percent) of every loaded variant: its workers' resident
    /// memory (the in-process XGBoost container: the loaded model's size) against the
    /// variant's memory size per worker.
    pub fn record_memory(&self) {
        let now = self.clock.now();
        let fleets: Vec<(Scope, Arc<Fleet>)> = self.fleets.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|((s, _), c)| (s.clone(), c.fleet.clone())).collect();
        for (scope, f) in fleets {
            for v in f.variants() {
                let Some(model) = v.model() else { continue };
                let spec = v.spec();
                let Some(limit) = memory::limit_bytes(&spec.capacity) else { continue };
                let bytes = model.memory_bytes();
                if bytes == 0 {
                    continue; // local containers not measured yet
                }
                let workers = model.workers().max(1) as f64;
                let pct = bytes as f64 / workers / limit as f64 * 100.0;
                let d = MetricDatum::new("AWS/SageMaker", "MemoryUtilization", now, pct).dimension("EndpointName", &f.endpoint).dimension("VariantName", &spec.name).unit(Unit::Percent);
                if let Err(e) = self.metrics.record(&scope, d) {
                    tracing::debug!(error = %e, "memory metric dropped");
                }
            }
        }
    }

    /// Bring up an endpoint's variants from its record (the deployment step of CreateEndpoint):
    /// every variant's model is loaded once, so an artifact that cannot load fails the
    /// endpoint; instance variants and provisioned concurrency stay warm, other serverless
    /// variants start scaled to zero. `Err` is the endpoint's `FailureReason`. The fleet
    /// serves once [`Hosting::install`]ed (after the record says `InService`).
    pub async fn deploy(&self, scope: &Scope, record: &EndpointRecord) -> Result<Arc<Fleet>, String> {
        let now = self.clock.now();
        let deployment = Deployment::new(record.config_name.clone(), record.variants.iter().map(variant_spec).collect(), now);
        let loader = self.loader(scope, &record.name);
        for v in &deployment.variants {
            match v.warm(loader.as_ref(), now).await {
                Ok(_) => {}
                Err(AcquireError::LoadFailed(reason)) => return Err(reason),
                Err(AcquireError::Throttled) => {}
            }
            if v.spec().scales_to_zero() {
                v.unload();
            }
        }
        Ok(Arc::new(Fleet::new(record.name.clone(), deployment)))
    }

    /// Serve `fleet` for the endpoint whose record (at row `version`) is `record`.
    pub fn install(&self, scope: &Scope, record: &EndpointRecord, fleet: Arc<Fleet>, version: i64) {
        let serverless = record.variants.iter().any(|v| v.current_serverless.is_some());
        let loader = self.loader(scope, &record.name);
        self.fleets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((scope.clone(), store::key(&record.name)), Cached { fleet, loader, version, checked: Instant::now(), serverless });
    }

    /// Apply a changed endpoint record to the cached fleet now (weights, capacities), if any.
    pub fn sync(&self, scope: &Scope, record: &EndpointRecord, version: i64) {
        let mut fleets = self.fleets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = fleets.get_mut(&(scope.clone(), store::key(&record.name))) {
            sync_fleet(&c.fleet, record, self.clock.now());
            c.version = version;
            c.serverless = record.variants.iter().any(|v| v.current_serverless.is_some());
            c.checked = Instant::now();
        }
    }

    /// Forget an endpoint's fleet (deleted endpoints).
    pub fn remove(&self, scope: &Scope, endpoint: &str) {
        self.fleets.lock().unwrap_or_else(|p| p.into_inner()).remove(&(scope.clone(), store::key(endpoint)));
    }

    /// The cached fleet of an endpoint, if this node serves it now.
    pub fn fleet(&self, scope: &Scope, endpoint: &str) -> Option<Arc<Fleet>> {
        self.fleets.lock().unwrap_or_else(|p| p.into_inner()).get(&(scope.clone(), store::key(endpoint))).map(|c| c.fleet.clone())
    }

    /// The fleet to serve `endpoint` with, built or refreshed from its record.
    async fn serving_fleet(&self, scope: &Scope, endpoint: &str) -> Result<(Arc<Fleet>, Arc<Loader>, bool), InvokeError> {
        let key = (scope.clone(), store::key(endpoint));
        let not_found = || InvokeError::Validation(format!("Endpoint {endpoint} of account {} not found.", scope.account));
        {
            let fleets = self.fleets.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = fleets.get(&key) {
                if c.checked.elapsed() < self.opts.refresh {
                    return Ok((c.fleet.clone(), c.loader.clone(), c.serverless));
                }
            }
        }
        let rec = self.meta.get::<EndpointRecord>(scope, &key.1).await.map_err(|e| InvokeError::Internal(e.to_string()))?;
        let Some(rec) = rec.filter(|r| r.value.status.serves()) else {
            self.remove(scope, endpoint);
            return Err(not_found());
        };
        let serverless = rec.value.variants.iter().any(|v| v.current_serverless.is_some());
        let mut fleets = self.fleets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = fleets.get_mut(&key) {
            if c.version != rec.version {
                sync_fleet(&c.fleet, &rec.value, self.clock.now());
                c.version = rec.version;
                c.serverless = serverless;
            }
            c.checked = Instant::now();
            return Ok((c.fleet.clone(), c.loader.clone(), c.serverless));
        }
        let now = self.clock.now();
        let fleet = Arc::new(Fleet::new(rec.value.name.clone(), Deployment::new(rec.value.config_name.clone(), rec.value.variants.iter().map(variant_spec).collect(), now)));
        let loader = self.loader(scope, endpoint);
        fleets.insert(key, Cached { fleet: fleet.clone(), loader: loader.clone(), version: rec.version, checked: Instant::now(), serverless });
        Ok((fleet, loader, serverless))
    }

    /// Serve one `InvokeEndpoint`.
    pub async fn invoke(&self, scope: &Scope, req: InvokeRequest) -> Result<InvokeReply, InvokeError> {
        let started = Instant::now();
        let (fleet, loader, serverless) = self.serving_fleet(scope, &req.endpoint_name).await?;
        let limit = req.max_body.unwrap_or(if serverless { MAX_BODY_SERVERLESS } else { MAX_BODY });
        if req.body.len() > limit {
            return Err(InvokeError::Validation(format!("Request {} has oversize body.", req.request_id)));
        }
        let variant = fleet.route(req.target_variant.as_deref(), rand::random::<f64>()).map_err(|e| match e {
            RouteError::NoSuchVariant(v) => InvokeError::Validation(format!("Specified Variant {v} does not exist in endpoint {}.", req.endpoint_name)),
            RouteError::Empty => InvokeError::Validation(format!("Endpoint {} of account {} not found.", req.endpoint_name, scope.account)),
        })?;
        let spec = variant.spec();
        let admission = match variant.admit(loader.as_ref(), self.clock.now()).await {
            Ok(a) => a,
            Err(AcquireError::Throttled) => return Err(InvokeError::Throttling),
            Err(AcquireError::LoadFailed(reason)) => {
                let err = self.model_error(scope, &req.endpoint_name, 500, &format!("Unable to load model: {reason}"));
                self.record(scope, &req.endpoint_name, &spec, Outcome { status: 500, model: None, setup: None, total: started.elapsed(), concurrent: 1 });
                return Err(err);
            }
        };
        let creq = ContainerRequest { body: Arc::new(req.body), content_type: req.content_type, accept: req.accept, custom_attributes: req.custom_attributes };
        let model_started = Instant::now();
        let result = admission.model.invoke(&creq).await;
        let model_time = model_started.elapsed();
        let (setup, concurrent) = (admission.setup, admission.concurrent);
        drop(admission);
        variant.touch(self.clock.now()).await;
        let status = match &result {
            Ok(_) => 200,
            Err(e) => e.status,
        };
        self.record(scope, &req.endpoint_name, &spec, Outcome { status, model: Some(model_time), setup, total: started.elapsed(), concurrent });
        match result {
            Ok(r) => Ok(InvokeReply { body: r.body, content_type: r.content_type, invoked_variant: spec.name, custom_attributes: r.custom_attributes }),
            Err(e) => Err(self.model_error(scope, &req.endpoint_name, e.status, &e.message)),
        }
    }

    fn model_error(&self, scope: &Scope, endpoint: &str, status: u16, body: &str) -> InvokeError {
        let side = if status < 500 { "client" } else { "server" };
        let region = &scope.region;
        InvokeError::Model {
            original_status: status,
            original_message: body.to_string(),
            message: format!(
                "Received {side} error ({status}) from primary with message \"{body}\". See https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEventViewer:group=/aws/sagemaker/Endpoints/{endpoint} in account {} for more information.",
                scope.account
            ),
            log_stream_arn: format!("arn:aws:logs:{region}:{}:log-group:/aws/sagemaker/Endpoints/{endpoint}", scope.account),
        }
    }

    /// Add one invocation to the variant's metrics of the current second.
    fn record(&self, scope: &Scope, endpoint: &str, spec: &VariantSpec, o: Outcome) {
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        let instances = match spec.capacity {
            Capacity::Instances { count, .. } => count.max(1) as f64,
            Capacity::Serverless { .. } => 1.0,
        };
        let mut acc = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let a = acc.entry((scope.clone(), endpoint.to_string(), spec.name.clone())).or_default();
        a.invocations += 1.0;
        a.per_instance = 1.0 / instances;
        a.e4 += f64::from(u8::from((400..500).contains(&o.status)));
        a.e5 += f64::from(u8::from(o.status >= 500));
        a.concurrent.push(f64::from(o.concurrent));
        let setup = o.setup.unwrap_or_default();
        if let Some(m) = o.model {
            a.model.push(micros(m));
            a.overhead.push(micros(o.total.saturating_sub(m).saturating_sub(setup)));
        }
        if let Some(s) = o.setup {
            a.setup.push(micros(s));
        }
    }

    /// Write the accumulated invocation metrics: counts as statistic sets, latencies as value
    /// lists (so percentiles stay exact), one datum per metric and second instead of one per
    /// invocation.
    pub fn flush_metrics(&self) {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let now = self.clock.now();
        for ((scope, endpoint, variant), a) in pending {
            let datum = |name: &str, unit: Unit| MetricDatum::new("AWS/SageMaker", name, now, 0.0).dimension("EndpointName", &endpoint).dimension("VariantName", &variant).unit(unit);
            let n = a.invocations;
            let count = |sum: f64, value_each: f64| {
                let (lo, hi) = if sum <= 0.0 { (0.0, 0.0) } else if sum >= n * value_each { (value_each, value_each) } else { (0.0, value_each) };
                Sample::Stats(StatisticSet { sample_count: n, sum, minimum: lo, maximum: hi })
            };
            let mut data = vec![
                datum("Invocations", Unit::Count).sample(count(n, 1.0)),
                datum("InvocationsPerInstance", Unit::Count).sample(count(n * a.per_instance, a.per_instance)),
                datum("Invocation4XXErrors", Unit::Count).sample(count(a.e4, 1.0)),
                datum("Invocation5XXErrors", Unit::Count).sample(count(a.e5, 1.0)),
            ];
            for (name, unit, values) in [
                ("ConcurrentRequestsPerModel", Unit::Count, a.concurrent),
                ("ModelLatency", Unit::Microseconds, a.model),
                ("OverheadLatency", Unit::Microseconds, a.overhead),
                ("ModelSetupTime", Unit::Microseconds, a.setup),
            ] {
                for chunk in values.chunks(150) {
                    data.push(datum(name, unit).sample(Sample::Values { values: chunk.to_vec(), counts: Vec::new() }));
                }
            }
            for d in data {
                if let Err(e) = self.metrics.record(&scope, d) {
                    tracing::debug!(error = %e, "endpoint metric dropped");
                }
            }
        }
    }
}

/// One variant's invocation metrics since the last flush.
#[derive(Default)]
struct Pending {
    invocations: f64,
    per_instance: f64,
    e4: f64,
    e5: f64,
    concurrent: Vec<f64>,
    model: Vec<f64>,
    overhead: Vec<f64>,
    setup: Vec<f64>,
}

struct Outcome {
    status: u16,
    model: Option<Duration>,
    setup: Option<Duration>,
    total: Duration,
    concurrent: u32,
}

/// The fleet spec of a deployed variant.
pub fn variant_spec(v: &VariantState) -> VariantSpec {
    let capacity = match (&v.current_serverless, &v.instance_type) {
        (Some(s), _) => Capacity::Serverless {
            memory_mb: s.memory_size_in_mb.max(0) as u32,
            max_concurrency: s.max_concurrency.max(1) as u32,
            provisioned: s.provisioned_concurrency.unwrap_or(0).max(0) as u32,
        },
        (None, t) => Capacity::Instances { instance_type: t.clone().unwrap_or_default(), count: v.current_instance_count.unwrap_or(1).max(0) as u32 },
    };
    VariantSpec {
        name: v.name.clone(),
        model: ModelSource { model_name: v.model_name.clone(), image: v.image.clone(), model_data_url: v.model_data_url.clone(), environment: v.environment.clone() },
        weight: v.current_weight as f64,
        capacity,
    }
}

/// Follow a changed endpoint record: new weights and capacities apply in place (models stay
/// loaded); a new endpoint configuration replaces the deployment.
fn sync_fleet(fleet: &Fleet, rec: &EndpointRecord, now: time::OffsetDateTime) {
    let current = fleet.current();
    let same_config = current.as_ref().is_some_and(|d| d.config_name == rec.config_name && d.variants.len() == rec.variants.len());
    if same_config {
        if let Some(d) = current {
            for vs in &rec.variants {
                let spec = variant_spec(vs);
                match d.variant(&vs.name) {
                    Some(v) if v.spec().model == spec.model => v.update(Some(spec.weight), Some(spec.capacity)),
                    _ => {
                        fleet.set_deployments(vec![(Deployment::new(rec.config_name.clone(), rec.variants.iter().map(variant_spec).collect(), now), 1.0)]);
                        return;
                    }
                }
            }
        }
        return;
    }
    fleet.set_deployments(vec![(Deployment::new(rec.config_name.clone(), rec.variants.iter().map(variant_spec).collect(), now), 1.0)]);
}

/// Variants of a deployment, for callers that inspect warm state (tests, console).
pub fn variants(fleet: &Fleet) -> Vec<Arc<Variant>> {
    fleet.variants()
}
