//! The serving side of one endpoint on this node: its *fleet*.
//!
//! ```text
//! Fleet (endpoint)
//!  └─ deployments: [(Deployment, traffic share)]   one normally; two during a blue/green update
//!      └─ Deployment (one endpoint configuration)
//!          └─ variants: [Variant]                   production variants, routed by weight
//!              ├─ capacity: Instances{type, count} | Serverless{memory, max concurrency, provisioned}
//!              ├─ slot: the loaded model (None = scaled to zero), last use
//!              └─ in-flight requests (MaxConcurrency enforced for serverless)
//! ```
//!
//! Routing ([`Fleet::route`]): `TargetVariant` picks a variant by name (current deployment
//! first); otherwise a deployment is drawn by traffic share, then a variant by weight.
//! Deployment guardrails (blue/green canary, linear, all-at-once) build on
//! [`Fleet::set_deployments`]: put the new configuration's [`Deployment`] next to the old one
//! with a share, shift the shares while baking, then keep one — or roll back by keeping the
//! old one. Both deployments serve (and report metrics) meanwhile.
//!
//! Models are loaded through a [`ModelLoader`] into a [`ModelRuntime`] (the built-in XGBoost
//! container runs in-process; other runtimes plug in behind the same trait). A serverless
//! variant without provisioned concurrency is *scaled to zero* by [`Fleet::reap_idle`] after
//! an idle time, and its next request loads the model again (a cold start, reported as
//! `ModelSetupTime`). Instance variants and provisioned concurrency stay loaded.
//!
//! No HTTP and no storage here; the clock is passed in, so scale-to-zero is tested with a
//! `ManualClock`.

use super::container::ContainerError;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// A request as a model container receives it.
#[derive(Debug, Clone)]
pub struct ContainerRequest {
    /// The payload.
    pub body: Arc<Vec<u8>>,
    /// `Content-Type` of the payload.
    pub content_type: Option<String>,
    /// `Accept` wanted for the reply.
    pub accept: Option<String>,
    /// `X-Amzn-SageMaker-Custom-Attributes`, passed through verbatim.
    pub custom_attributes: Option<String>,
}

/// A container's reply.
#[derive(Debug, Clone)]
pub struct ContainerReply {
    /// The reply body.
    pub body: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: String,
    /// Custom attributes the container set on the reply (the built-in XGBoost sets none).
    pub custom_attributes: Option<String>,
}

/// A loaded model that answers invocations.
#[async_trait::async_trait]
pub trait ModelRuntime: Send + Sync + 'static {
    /// Answer one request (the container's `POST /invocations`).
    async fn invoke(&self, req: &ContainerRequest) -> Result<ContainerReply, ContainerError>;
    /// Bytes of model held in memory (for memory accounting).
    fn memory_bytes(&self) -> u64 {
        0
    }
    /// Worker processes serving the model (`memory_bytes` is their total).
    fn workers(&self) -> u32 {
        1
    }
}

/// Where a variant's model comes from (its `CreateModel` container).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSource {
    /// The SageMaker model name.
    pub model_name: String,
    /// The container image URI.
    pub image: String,
    /// The `model.tar.gz` URL (`s3://…`), if any.
    pub model_data_url: Option<String>,
    /// The container's environment.
    pub environment: BTreeMap<String, String>,
}

/// Loads models for variants.
#[async_trait::async_trait]
pub trait ModelLoader: Send + Sync + 'static {
    /// Load `source` for `variant` (download, unpack, load into the runtime).
    async fn load(&self, source: &ModelSource, variant: &VariantSpec) -> Result<Arc<dyn ModelRuntime>, String>;
}

/// How a variant's compute is provisioned.
#[derive(Debug, Clone, PartialEq)]
pub enum Capacity {
    /// Real-time instances.
    Instances {
        /// `ml.m5.xlarge` …
        instance_type: String,
        /// Instances serving.
        count: u32,
    },
    /// Serverless inference.
    Serverless {
        /// `MemorySizeInMB`.
        memory_mb: u32,
        /// `MaxConcurrency`: concurrent invocations beyond this are throttled.
        max_concurrency: u32,
        /// `ProvisionedConcurrency`: kept warm (never scaled to zero) when > 0.
        provisioned: u32,
    },
}

/// A production variant as deployed.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantSpec {
    /// `VariantName`.
    pub name: String,
    /// The model it serves.
    pub model: ModelSource,
    /// Routing weight.
    pub weight: f64,
    /// Its compute.
    pub capacity: Capacity,
}

impl VariantSpec {
    /// Whether the variant may be scaled to zero.
    pub fn scales_to_zero(&self) -> bool {
        matches!(self.capacity, Capacity::Serverless { provisioned: 0, .. })
    }
}

struct Slot {
    model: Option<Arc<dyn ModelRuntime>>,
    last_used: OffsetDateTime,
}

/// One variant being served.
pub struct Variant {
    spec: RwLock<VariantSpec>,
    slot: tokio::sync::Mutex<Slot>,
    /// The model, readable without waiting on a load in progress (for the reaper and stats).
    loaded: Mutex<Option<Arc<dyn ModelRuntime>>>,
    inflight: AtomicU32,
    cold_starts: AtomicU32,
}

/// Why a request could not get a model.
#[derive(Debug, Clone, PartialEq)]
pub enum AcquireError {
    /// Serverless `MaxConcurrency` reached.
    Throttled,
    /// The model could not be loaded (the loader's message).
    LoadFailed(String),
}

/// An admitted request: holds its concurrency slot until dropped.
pub struct Admission {
    variant: Arc<Variant>,
    /// The model to invoke.
    pub model: Arc<dyn ModelRuntime>,
    /// Time spent loading the model for this request (a cold start), if it did.
    pub setup: Option<Duration>,
    /// Requests in flight on the variant when this one was admitted (itself included).
    pub concurrent: u32,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.variant.inflight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Variant {
    /// A variant with no model loaded yet.
    pub fn new(spec: VariantSpec, now: OffsetDateTime) -> Arc<Variant> {
        Arc::new(Variant {
            spec: RwLock::new(spec),
            slot: tokio::sync::Mutex::new(Slot { model: None, last_used: now }),
            loaded: Mutex::new(None),
            inflight: AtomicU32::new(0),
            cold_starts: AtomicU32::new(0),
        })
    }

    /// The variant's current spec.
    pub fn spec(&self) -> VariantSpec {
        self.spec.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The variant's name.
    pub fn name(&self) -> String {
        self.spec.read().unwrap_or_else(|p| p.into_inner()).name.clone()
    }

    /// Change weight and capacity (UpdateEndpointWeightsAndCapacities).
    pub fn update(&self, weight: Option<f64>, capacity: Option<Capacity>) {
        let mut s = self.spec.write().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = weight {
            s.weight = w;
        }
        if let Some(c) = capacity {
            s.capacity = c;
        }
    }

    /// Requests in flight.
    pub fn inflight(&self) -> u32 {
        self.inflight.load(Ordering::Acquire)
    }

    /// Whether a model is loaded (false: scaled to zero).
    pub fn is_warm(&self) -> bool {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// The loaded model, if any (without waiting on a load in progress).
    pub fn model(&self) -> Option<Arc<dyn ModelRuntime>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Cold starts so far.
    pub fn cold_starts(&self) -> u32 {
        self.cold_starts.load(Ordering::Relaxed)
    }

    /// Admit one request: enforce serverless concurrency, then get the model, loading it if
    /// the variant is cold (concurrent requests wait for the same load).
    pub async fn admit(self: &Arc<Self>, loader: &dyn ModelLoader, now: OffsetDateTime) -> Result<Admission, AcquireError> {
        let spec = self.spec();
        let n = self.inflight.fetch_add(1, Ordering::AcqRel) + 1;
        // From here the slot is released by Admission's drop, or explicitly on error.
        if let Capacity::Serverless { max_concurrency, .. } = spec.capacity {
            if n > max_concurrency {
                self.inflight.fetch_sub(1, Ordering::AcqRel);
                return Err(AcquireError::Throttled);
            }
        }
        let (model, setup) = match self.ensure_loaded(loader, &spec, now).await {
            Ok(x) => x,
            Err(e) => {
                self.inflight.fetch_sub(1, Ordering::AcqRel);
                return Err(e);
            }
        };
        Ok(Admission { variant: self.clone(), model, setup, concurrent: n })
    }

    /// Load the model now if it is not loaded (deployments warm instance variants and
    /// provisioned concurrency this way). Returns the load time when it loaded.
    pub async fn warm(&self, loader: &dyn ModelLoader, now: OffsetDateTime) -> Result<Option<Duration>, AcquireError> {
        let spec = self.spec();
        self.ensure_loaded(loader, &spec, now).await.map(|(_, setup)| setup)
    }

    async fn ensure_loaded(&self, loader: &dyn ModelLoader, spec: &VariantSpec, now: OffsetDateTime) -> Result<(Arc<dyn ModelRuntime>, Option<Duration>), AcquireError> {
        let mut slot = self.slot.lock().await;
        slot.last_used = slot.last_used.max(now);
        if let Some(m) = &slot.model {
            return Ok((m.clone(), None));
        }
        let started = Instant::now();
        let model = loader.load(&spec.model, spec).await.map_err(AcquireError::LoadFailed)?;
        let took = started.elapsed();
        slot.model = Some(model.clone());
        *self.loaded.lock().unwrap_or_else(|p| p.into_inner()) = Some(model.clone());
        self.cold_starts.fetch_add(1, Ordering::Relaxed);
        tracing::info!(variant = %spec.name, model = %spec.model.model_name, ms = took.as_secs_f64() * 1000.0, "model loaded");
        Ok((model, Some(took)))
    }

    /// Note a finished request at `now` (idle time counts from the last request's end).
    pub async fn touch(&self, now: OffsetDateTime) {
        let mut slot = self.slot.lock().await;
        slot.last_used = slot.last_used.max(now);
    }

    /// Unload the model now unless a request or load is in progress (a new serverless
    /// endpoint starts scaled to zero once its model has been checked). Returns whether it
    /// unloaded.
    pub fn unload(&self) -> bool {
        if self.inflight() > 0 {
            return false;
        }
        let Ok(mut slot) = self.slot.try_lock() else { return false };
        let had = slot.model.take().is_some();
        *self.loaded.lock().unwrap_or_else(|p| p.into_inner()) = None;
        had
    }

    /// Unload the model if the variant scales to zero, is idle (no request in flight) and
    /// was last used at least `idle` before `now`. Returns whether it unloaded.
    pub fn reap(&self, now: OffsetDateTime, idle: Duration) -> bool {
        if !self.spec().scales_to_zero() || self.inflight() > 0 {
            return false;
        }
        // A load or request in progress holds the slot: not idle.
        let Ok(mut slot) = self.slot.try_lock() else { return false };
        if slot.model.is_none() || now - slot.last_used < idle {
            return false;
        }
        slot.model = None;
        *self.loaded.lock().unwrap_or_else(|p| p.into_inner()) = None;
        true
    }
}

/// One endpoint configuration deployed on a fleet.
pub struct Deployment {
    /// The endpoint configuration's name.
    pub config_name: String,
    /// Its variants, in configuration order.
    pub variants: Vec<Arc<Variant>>,
}

impl Deployment {
    /// A deployment of `specs` (nothing loaded yet).
    pub fn new(config_name: impl Into<String>, specs: Vec<VariantSpec>, now: OffsetDateTime) -> Arc<Deployment> {
        Arc::new(Deployment { config_name: config_name.into(), variants: specs.into_iter().map(|s| Variant::new(s, now)).collect() })
    }

    /// The variant named `name`.
    pub fn variant(&self, name: &str) -> Option<&Arc<Variant>> {
        self.variants.iter().find(|v| v.name() == name)
    }
}

/// Why routing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// `TargetVariant` names no variant of the endpoint.
    NoSuchVariant(String),
    /// The fleet has no variant at all.
    Empty,
}

/// The serving state of one endpoint.
pub struct Fleet {
    /// The endpoint's name.
    pub endpoint: String,
    deployments: RwLock<Vec<(Arc<Deployment>, f64)>>,
}

impl Fleet {
    /// A fleet serving one deployment with all traffic.
    pub fn new(endpoint: impl Into<String>, deployment: Arc<Deployment>) -> Fleet {
        Fleet { endpoint: endpoint.into(), deployments: RwLock::new(vec![(deployment, 1.0)]) }
    }

    /// The deployments and their traffic shares (the current one first).
    pub fn deployments(&self) -> Vec<(Arc<Deployment>, f64)> {
        self.deployments.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The deployment that has served longest (the "blue" one during an update).
    pub fn current(&self) -> Option<Arc<Deployment>> {
        self.deployments.read().unwrap_or_else(|p| p.into_inner()).first().map(|(d, _)| d.clone())
    }

    /// Replace the deployments and their traffic shares (shares are relative; a deployment
    /// with share 0 serves only requests that target its variants by name).
    pub fn set_deployments(&self, deployments: Vec<(Arc<Deployment>, f64)>) {
        *self.deployments.write().unwrap_or_else(|p| p.into_inner()) = deployments;
    }

    /// Every variant of every deployment.
    pub fn variants(&self) -> Vec<Arc<Variant>> {
        self.deployments().iter().flat_map(|(d, _)| d.variants.clone()).collect()
    }

    /// Pick the variant for one request. `draw` is a uniform random number in `[0, 1)`.
    pub fn route(&self, target: Option<&str>, draw: f64) -> Result<Arc<Variant>, RouteError> {
        let deployments = self.deployments();
        if let Some(t) = target {
            return deployments.iter().find_map(|(d, _)| d.variant(t).cloned()).ok_or_else(|| RouteError::NoSuchVariant(t.to_string()));
        }
        let total: f64 = deployments.iter().map(|(_, s)| s.max(0.0)).sum();
        let mut x = draw * total;
        let mut chosen = deployments.first().map(|(d, _)| d.clone()).ok_or(RouteError::Empty)?;
        if total > 0.0 {
            for (d, s) in &deployments {
                if x < s.max(0.0) {
                    chosen = d.clone();
                    break;
                }
                x -= s.max(0.0);
            }
        }
        pick_weighted(&chosen.variants, draw_within(draw, &deployments, total)).ok_or(RouteError::Empty)
    }

    /// Scale idle serverless variants to zero; returns the names of those unloaded.
    pub fn reap_idle(&self, now: OffsetDateTime, idle: Duration) -> Vec<String> {
        self.variants().iter().filter(|v| v.reap(now, idle)).map(|v| v.name()).collect()
    }
}

/// Reuse the part of `draw` that fell inside the chosen deployment's share, rescaled to
/// `[0, 1)`, for the variant choice (one random number per request).
fn draw_within(draw: f64, deployments: &[(Arc<Deployment>, f64)], total: f64) -> f64 {
    if total <= 0.0 {
        return draw;
    }
    let mut x = draw * total;
    for (_, s) in deployments {
        let s = s.max(0.0);
        if x < s {
            return (x / s).clamp(0.0, 0.999_999_999);
        }
        x -= s;
    }
    draw
}

/// A variant drawn by weight (uniformly when no weight is positive).
fn pick_weighted(variants: &[Arc<Variant>], draw: f64) -> Option<Arc<Variant>> {
    if variants.is_empty() {
        return None;
    }
    let weights: Vec<f64> = variants.iter().map(|v| v.spec().weight.max(0.0)).collect();
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        let i = ((draw * variants.len() as f64) as usize).min(variants.len() - 1);
        return Some(variants[i].clone());
    }
    let mut x = draw * total;
    for (v, w) in variants.iter().zip(&weights) {
        if x < *w {
            return Some(v.clone());
        }
        x -= w;
    }
    variants.iter().zip(&weights).rev().find(|(_, w)| **w > 0.0).map(|(v, _)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_runtime::{Clock, ManualClock};
    use std::sync::atomic::AtomicUsize;

    struct Echo;
    #[async_trait::async_trait]
    impl ModelRuntime for Echo {
        async fn invoke(&self, req: &ContainerRequest) -> Result<ContainerReply, ContainerError> {
            Ok(ContainerReply { body: req.body.to_vec(), content_type: "text/csv".into(), custom_attributes: None })
        }
    }

    #[derive(Default)]
    struct CountingLoader {
        loads: AtomicUsize,
        fail: bool,
    }
    #[async_trait::async_trait]
    impl ModelLoader for CountingLoader {
        async fn load(&self, _: &ModelSource, _: &VariantSpec) -> Result<Arc<dyn ModelRuntime>, String> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            if self.fail {
                return Err("bad artifact".into());
            }
            Ok(Arc::new(Echo))
        }
    }

    fn spec(name: &str, weight: f64, capacity: Capacity) -> VariantSpec {
        VariantSpec {
            name: name.into(),
            model: ModelSource { model_name: "m".into(), image: "xgboost:1.0-1".into(), model_data_url: None, environment: BTreeMap::new() },
            weight,
            capacity,
        }
    }

    fn serverless(max: u32, provisioned: u32) -> Capacity {
        Capacity::Serverless { memory_mb: 2048, max_concurrency: max, provisioned }
    }

    #[tokio::test]
    async fn scale_to_zero_and_cold_start() {
        let clock = ManualClock::new(time::macros::datetime!(2024-01-01 00:00 UTC));
        let loader = CountingLoader::default();
        let d = Deployment::new("cfg", vec![spec("v", 1.0, serverless(2, 0))], clock.now());
        let fleet = Fleet::new("ep", d);
        let v = fleet.route(None, 0.3).unwrap();
        let a = v.admit(&loader, clock.now()).await.unwrap();
        assert!(a.setup.is_some(), "first request is a cold start");
        drop(a);
        let a = v.admit(&loader, clock.now()).await.unwrap();
        assert!(a.setup.is_none(), "warm");
        drop(a);
        v.touch(clock.now()).await;
        clock.advance(Duration::from_secs(59));
        assert!(fleet.reap_idle(clock.now(), Duration::from_secs(60)).is_empty());
        clock.advance(Duration::from_secs(1));
        assert_eq!(fleet.reap_idle(clock.now(), Duration::from_secs(60)), vec!["v".to_string()]);
        assert!(!v.is_warm());
        let a = v.admit(&loader, clock.now()).await.unwrap();
        assert!(a.setup.is_some(), "cold again after scale to zero");
        assert_eq!(loader.loads.load(Ordering::SeqCst), 2);
        assert_eq!(v.cold_starts(), 2);
        // Busy variants are not reaped.
        clock.advance(Duration::from_secs(3600));
        assert!(fleet.reap_idle(clock.now(), Duration::from_secs(60)).is_empty());
        drop(a);
        assert_eq!(fleet.reap_idle(clock.now(), Duration::from_secs(60)).len(), 1);
    }

    #[tokio::test]
    async fn provisioned_and_instances_stay_warm() {
        let clock = ManualClock::new(time::macros::datetime!(2024-01-01 00:00 UTC));
        let loader = CountingLoader::default();
        let d = Deployment::new(
            "cfg",
            vec![spec("p", 1.0, serverless(5, 1)), spec("i", 1.0, Capacity::Instances { instance_type: "ml.m5.xlarge".into(), count: 2 })],
            clock.now(),
        );
        for v in &d.variants {
            v.warm(&loader, clock.now()).await.unwrap();
        }
        let fleet = Fleet::new("ep", d);
        clock.advance(Duration::from_secs(86400));
        assert!(fleet.reap_idle(clock.now(), Duration::from_secs(1)).is_empty());
    }

    #[tokio::test]
    async fn max_concurrency_throttles() {
        let clock = ManualClock::new(time::macros::datetime!(2024-01-01 00:00 UTC));
        let loader = CountingLoader::default();
        let fleet = Fleet::new("ep", Deployment::new("cfg", vec![spec("v", 1.0, serverless(1, 0))], clock.now()));
        let v = fleet.route(None, 0.0).unwrap();
        let a = v.admit(&loader, clock.now()).await.unwrap();
        assert_eq!(v.admit(&loader, clock.now()).await.err(), Some(AcquireError::Throttled));
        assert_eq!(v.inflight(), 1);
        drop(a);
        assert!(v.admit(&loader, clock.now()).await.is_ok());
        let bad = CountingLoader { fail: true, ..Default::default() };
        let w = Variant::new(spec("w", 1.0, serverless(1, 0)), clock.now());
        assert_eq!(w.admit(&bad, clock.now()).await.err(), Some(AcquireError::LoadFailed("bad artifact".into())));
        assert_eq!(w.inflight(), 0);
    }

    #[tokio::test]
    async fn concurrent_cold_requests_share_one_load() {
        let clock = ManualClock::new(time::macros::datetime!(2024-01-01 00:00 UTC));
        let loader = Arc::new(CountingLoader::default());
        let v = Variant::new(spec("v", 1.0, serverless(10, 0)), clock.now());
        let mut hs = Vec::new();
        for _ in 0..5 {
            let (v, l, now) = (v.clone(), loader.clone(), clock.now());
            hs.push(tokio::spawn(async move { v.admit(l.as_ref(), now).await.map(|a| a.setup.is_some()) }));
        }
        let mut cold = 0;
        for h in hs {
            cold += usize::from(h.await.unwrap().unwrap());
        }
        assert_eq!((cold, loader.loads.load(Ordering::SeqCst)), (1, 1));
    }

    #[test]
    fn weights_targets_and_two_deployments() {
        let now = time::macros::datetime!(2024-01-01 00:00 UTC);
        let blue = Deployment::new("blue", vec![spec("a", 3.0, serverless(1, 0)), spec("b", 1.0, serverless(1, 0))], now);
        let fleet = Fleet::new("ep", blue.clone());
        let picks: Vec<String> = (0..100).map(|i| fleet.route(None, i as f64 / 100.0).unwrap().name()).collect();
        assert_eq!(picks.iter().filter(|n| *n == "a").count(), 75);
        assert_eq!(fleet.route(Some("b"), 0.0).unwrap().name(), "b");
        assert_eq!(fleet.route(Some("zz"), 0.0).err(), Some(RouteError::NoSuchVariant("zz".into())));

        // Blue/green: 10% canary to the green configuration.
        let green = Deployment::new("green", vec![spec("g", 1.0, serverless(1, 0))], now);
        fleet.set_deployments(vec![(blue.clone(), 0.9), (green.clone(), 0.1)]);
        let picks: Vec<String> = (0..1000).map(|i| fleet.route(None, i as f64 / 1000.0).unwrap().name()).collect();
        assert_eq!(picks.iter().filter(|n| *n == "g").count(), 100);
        assert_eq!(picks.iter().filter(|n| *n == "a").count(), 675);
        assert_eq!(fleet.route(Some("g"), 0.0).unwrap().name(), "g");
        fleet.set_deployments(vec![(green, 1.0)]);
        assert_eq!(fleet.current().unwrap().config_name, "green");
        // All weights zero: uniform.
        let z = Fleet::new("z", Deployment::new("c", vec![spec("x", 0.0, serverless(1, 0)), spec("y", 0.0, serverless(1, 0))], now));
        assert_eq!(z.route(None, 0.9).unwrap().name(), "y");
    }
}
