//! What GetEventPrediction needs in memory to answer in well under a millisecond: compiled
//! detector versions (rules parsed and checked, model versions loaded, lists expanded), loaded
//! models, per-entity event histories for Transaction Fraud Insights aggregates, and a
//! background writer for the records a prediction leaves behind.
//!
//! - Compiled detectors are cached per (account, region, detector, version — or "the active
//!   version") and tagged with a generation number; every write through the handlers bumps the
//!   generation, so the next prediction recompiles from the metadata store. (One node: a
//!   change made through another node is seen once this node writes or restarts.)
//! - Models are cached by artifact blob id (artifacts never change once written).
//! - Histories are built from the stored events of an event type on first use, then kept up
//!   to date by every event this node stores (SendEvent, imports, predictions).
//! - Predictions (and, when the event type ingests events, the predicted events) are written
//!   by a background task in batches, so a prediction does not wait for a disk sync; readers of
//!   those records (GetEvent, GetEventPredictionMetadata, ListEventPredictions) flush it first.
//!   AWS documents its prediction history as asynchronous as well.

use crate::domain::history::{AggregateSpec, EventView, History};
use crate::domain::rules::Expr;
use crate::domain::training::{Artifact, Scorer};
use crate::error::{FdError, FdResult};
use crate::handlers::rules::{compile, schema_for, score_variable};
use crate::handlers::{get, list_all, Cx};
use crate::store::*;
use crate::Inner;
use hearth_inference::tabular::Xgb;
use hearth_runtime::{Scope, WriteOp};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, oneshot};

/// A rule ready to evaluate.
pub struct CompiledRule {
    pub rule_id: String,
    pub version: String,
    pub expression: String,
    pub expr: Expr,
    pub outcomes: Vec<String>,
}

/// A model version ready to score.
pub struct CompiledModel {
    pub reference: ModelRef,
    pub arn: String,
    /// `<model id>_insightscore`.
    pub score_variable: String,
    pub scorer: Arc<Scorer>,
    /// The entity history its aggregates read (Transaction Fraud Insights).
    pub history: Option<Arc<RwLock<History>>>,
}

/// A detector version ready to predict.
pub struct Compiled {
    generation: u64,
    pub detector: DetectorRec,
    pub version: DetectorVersionRec,
    pub event_type: EventTypeRec,
    pub variables: HashMap<String, VariableRec>,
    pub rules: Vec<CompiledRule>,
    pub models: Vec<CompiledModel>,
    pub lists: HashMap<String, HashSet<String>>,
    /// External (SageMaker) models, in the version's order.
    pub externals: Vec<ExternalModelRec>,
    /// `EXTERNAL_MODEL_SCORE` variables the rules read (types and defaults).
    pub external_variables: HashMap<String, VariableRec>,
}

type DetKey = (String, String, String, String);
type HistKey = (String, String, String);
/// The histories of one event type, one per aggregate spec.
type Histories = Vec<(AggregateSpec, Arc<RwLock<History>>)>;

/// Writes to make later; built on the writer task so requests do not pay for encoding.
pub type Deferred = Box<dyn FnOnce() -> Vec<WriteOp> + Send>;

enum LogMsg {
    Write(Vec<WriteOp>),
    Later(Deferred),
    Flush(oneshot::Sender<()>),
}

/// The in-memory serving state of one node.
pub struct Serving {
    generation: AtomicU64,
    compiled: RwLock<HashMap<DetKey, Arc<Compiled>>>,
    scorers: RwLock<HashMap<String, Arc<Scorer>>>,
    histories: RwLock<HashMap<HistKey, Histories>>,
    xgb: Mutex<Option<Arc<Xgb>>>,
    log: mpsc::UnboundedSender<LogMsg>,
}

fn key3(scope: &Scope, name: &str) -> HistKey {
    (scope.account.clone(), scope.region.clone(), name.to_string())
}

impl Serving {
    /// Start the serving state and its background writer (on the current tokio runtime).
    pub fn start(meta: hearth_runtime::MetaStore) -> Serving {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(meta, rx));
        Serving {
            generation: AtomicU64::new(1),
            compiled: RwLock::new(HashMap::new()),
            scorers: RwLock::new(HashMap::new()),
            histories: RwLock::new(HashMap::new()),
            xgb: Mutex::new(None),
            log: tx,
        }
    }

    /// Forget compiled detectors (after any write that could change them).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The XGBoost library (opened once it is installed).
    pub fn xgb(&self, models_dir: &std::path::Path) -> FdResult<Arc<Xgb>> {
        let mut g = self.xgb.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(x) = g.as_ref() {
            return Ok(x.clone());
        }
        let x = Xgb::from_models_dir(models_dir).map_err(|e| FdError::Unavailable(format!("Fraud models cannot be served: {e}")))?;
        *g = Some(x.clone());
        Ok(x)
    }

    /// The loaded model of a trained version.
    pub async fn scorer(&self, svc: &Inner, _scope: &Scope, v: &ModelVersionRec) -> FdResult<Arc<Scorer>> {
        let blob = v.artifact.clone().ok_or_else(|| FdError::validation(format!("The version {} of the model {} has no trained model (status {}).", v.version, v.model_id, v.status)))?;
        if let Some(s) = self.scorers.read().unwrap_or_else(|p| p.into_inner()).get(&blob) {
            return Ok(s.clone());
        }
        let id = hearth_runtime::blob::BlobId(blob.clone());
        let size = svc.rt.blobs.size(&id).await.map_err(|e| FdError::internal(format!("model artifact {blob}: {e}")))?;
        let mut reader = svc.rt.blobs.read(&id, 0, size).await.map_err(|e| FdError::internal(format!("model artifact {blob}: {e}")))?;
        let mut bytes = Vec::with_capacity(size as usize);
        reader.read_to_end(&mut bytes).await.map_err(|e| FdError::internal(format!("model artifact {blob}: {e}")))?;
        let artifact = Artifact::from_bytes(&bytes).map_err(FdError::internal)?;
        let xgb = self.xgb(&svc.rt.models_dir)?;
        let scorer = svc.engine.run(move || Scorer::load(&xgb, artifact)).await.map_err(|e| FdError::internal(e.to_string()))?.map_err(FdError::internal)?;
        let scorer = Arc::new(scorer);
        self.scorers.write().unwrap_or_else(|p| p.into_inner()).insert(blob, scorer.clone());
        tracing::info!(model = %v.model_id, version = %v.version, "model loaded for serving");
        Ok(scorer)
    }

    /// The history of `event_type` for `spec`, built from the stored events on first use.
    pub async fn history(&self, svc: &Inner, scope: &Scope, event_type: &str, spec: &AggregateSpec) -> FdResult<Arc<RwLock<History>>> {
        let key = key3(scope, event_type);
        if let Some(list) = self.histories.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if let Some((_, h)) = list.iter().find(|(s, _)| s == spec) {
                return Ok(h.clone());
            }
        }
        // Register it first so events stored while we read the old ones are not missed.
        let h = Arc::new(RwLock::new(History::new(spec.clone())));
        {
            let mut all = self.histories.write().unwrap_or_else(|p| p.into_inner());
            let list = all.entry(key.clone()).or_default();
            if let Some((_, existing)) = list.iter().find(|(s, _)| s == spec) {
                return Ok(existing.clone());
            }
            list.push((spec.clone(), h.clone()));
        }
        self.flush().await;
        let events = list_all::<EventRec>(svc, scope, &format!("{event_type}/")).await;
        let events = match events {
            Ok(e) => e,
            Err(e) => {
                // Not built: let the next call try again.
                if let Some(list) = self.histories.write().unwrap_or_else(|p| p.into_inner()).get_mut(&key) {
                    list.retain(|(s, _)| s != spec);
                }
                return Err(e);
            }
        };
        {
            let mut g = h.write().unwrap_or_else(|p| p.into_inner());
            for (_, e) in &events {
                g.insert(&EventView { event_id: &e.event_id, entity_id: e.entity_id(), ts_ms: e.ts_ms, values: &e.variables });
            }
        }
        tracing::info!(event_type, events = events.len(), "entity history built");
        Ok(h)
    }

    /// A stored event, into every history of its type.
    pub fn record_event(&self, scope: &Scope, e: &EventRec) {
        if let Some(list) = self.histories.read().unwrap_or_else(|p| p.into_inner()).get(&key3(scope, &e.event_type)) {
            for (_, h) in list {
                h.write().unwrap_or_else(|p| p.into_inner()).insert(&EventView { event_id: &e.event_id, entity_id: e.entity_id(), ts_ms: e.ts_ms, values: &e.variables });
            }
        }
    }

    /// A deleted event, out of every history of its type.
    pub fn remove_event(&self, scope: &Scope, event_type: &str, entity_id: &str, event_id: &str) {
        if let Some(list) = self.histories.read().unwrap_or_else(|p| p.into_inner()).get(&key3(scope, event_type)) {
            for (_, h) in list {
                h.write().unwrap_or_else(|p| p.into_inner()).remove(entity_id, event_id);
            }
        }
    }

    /// Drop the histories of an event type (its events were deleted).
    pub fn forget_events(&self, scope: &Scope, event_type: &str) {
        self.histories.write().unwrap_or_else(|p| p.into_inner()).remove(&key3(scope, event_type));
    }

    /// Queue writes for the background writer.
    pub fn log(&self, ops: Vec<WriteOp>) {
        if self.log.send(LogMsg::Write(ops)).is_err() {
            tracing::error!("prediction writer stopped; prediction records lost");
        }
    }

    /// Queue writes the writer task builds itself (encoding off the request path).
    pub fn log_later(&self, build: Deferred) {
        if self.log.send(LogMsg::Later(build)).is_err() {
            tracing::error!("prediction writer stopped; prediction records lost");
        }
    }

    /// Wait until everything queued so far is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.log.send(LogMsg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// The compiled detector version (`version` None: the detector's ACTIVE version).
    pub async fn detector(&self, svc: &Inner, cx: &Cx, detector_id: &str, version: Option<&str>) -> FdResult<Arc<Compiled>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let key: DetKey = (cx.account.clone(), cx.region.clone(), detector_id.to_string(), version.unwrap_or("").to_string());
        if let Some(c) = self.compiled.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if c.generation == generation {
                return Ok(c.clone());
            }
        }
        let c = Arc::new(self.build(svc, cx, detector_id, version, generation).await?);
        let mut all = self.compiled.write().unwrap_or_else(|p| p.into_inner());
        all.retain(|_, v| v.generation == generation);
        all.insert(key, c.clone());
        Ok(c)
    }

    async fn build(&self, svc: &Inner, cx: &Cx, detector_id: &str, version: Option<&str>, generation: u64) -> FdResult<Compiled> {
        let detector = get::<DetectorRec>(svc, &cx.scope, detector_id).await?.ok_or_else(|| FdError::not_found(format!("The detector {detector_id} does not exist.")))?;
        let version = match version {
            Some(v) => get::<DetectorVersionRec>(svc, &cx.scope, &detector_version_key(detector_id, v))
                .await?
                .ok_or_else(|| FdError::not_found(format!("The version {v} of the detector {detector_id} does not exist.")))?,
            None => list_all::<DetectorVersionRec>(svc, &cx.scope, &format!("{detector_id}/"))
                .await?
                .into_iter()
                .map(|(_, v)| v)
                .find(|v| v.status == "ACTIVE")
                .ok_or_else(|| FdError::not_found(format!("The detector {detector_id} has no ACTIVE version; name a detectorVersionId or activate a version.")))?,
        };
        let event_type = get::<EventTypeRec>(svc, &cx.scope, &detector.event_type).await?.ok_or_else(|| FdError::not_found(format!("The event type {} does not exist.", detector.event_type)))?;
        let mut variables = HashMap::new();
        for name in &event_type.event_variables {
            if let Some(v) = get::<VariableRec>(svc, &cx.scope, name).await? {
                variables.insert(name.clone(), v);
            }
        }
        let schema = schema_for(svc, cx, &detector.event_type).await?;
        let mut rules = Vec::new();
        let mut list_names = HashSet::new();
        let mut external_variables = HashMap::new();
        for (rule_id, rv) in &version.rules {
            let r = get::<RuleRec>(svc, &cx.scope, &rule_key(detector_id, rule_id, rv))
                .await?
                .ok_or_else(|| FdError::not_found(format!("The version {rv} of the rule {rule_id} of the detector {detector_id} does not exist.")))?;
            let expr = compile(&r.expression, &schema)?;
            list_names.extend(expr.lists());
            for var in expr.variables() {
                if !variables.contains_key(&var) && !external_variables.contains_key(&var) {
                    if let Some(v) = get::<VariableRec>(svc, &cx.scope, &var).await?.filter(|v| v.data_source == "EXTERNAL_MODEL_SCORE") {
                        external_variables.insert(var, v);
                    }
                }
            }
            rules.push(CompiledRule { rule_id: r.rule_id, version: r.version, expression: r.expression, expr, outcomes: r.outcomes });
        }
        let mut lists = HashMap::new();
        for name in list_names {
            let l = get::<ListRec>(svc, &cx.scope, &name).await?.map(|l| l.elements.into_iter().collect()).unwrap_or_default();
            lists.insert(name, l);
        }
        let mut models = Vec::new();
        for m in &version.model_versions {
            let mv = get::<ModelVersionRec>(svc, &cx.scope, &model_version_key(&m.model_id, &m.model_type, &m.version))
                .await?
                .ok_or_else(|| FdError::not_found(format!("The version {} of the model {} does not exist.", m.version, m.model_id)))?;
            let scorer = self.scorer(svc, &cx.scope, &mv).await?;
            let history = match &scorer.spec.aggregates {
                Some(spec) => Some(self.history(svc, &cx.scope, &detector.event_type, spec).await?),
                None => None,
            };
            models.push(CompiledModel { reference: m.clone(), arn: mv.stamp.arn.clone(), score_variable: score_variable(&m.model_id), scorer, history });
        }
        let mut externals = Vec::new();
        for e in &version.external_model_endpoints {
            let m = get::<ExternalModelRec>(svc, &cx.scope, e).await?.ok_or_else(|| FdError::not_found(format!("The external model {e} does not exist.")))?;
            for var in m.output_variables() {
                if !external_variables.contains_key(var) {
                    if let Some(v) = get::<VariableRec>(svc, &cx.scope, var).await? {
                        external_variables.insert(var.clone(), v);
                    }
                }
            }
            externals.push(m);
        }
        tracing::debug!(detector = detector_id, version = %version.version, rules = rules.len(), models = models.len(), externals = externals.len(), "detector version compiled");
        Ok(Compiled { generation, detector, version, event_type, variables, rules, models, lists, externals, external_variables })
    }
}

/// The background writer: applies queued writes in batches, answers flushes in order.
async fn writer(meta: hearth_runtime::MetaStore, mut rx: mpsc::UnboundedReceiver<LogMsg>) {
    const BATCH: usize = 512;
    while let Some(first) = rx.recv().await {
        let mut ops = Vec::new();
        let mut waiters = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                LogMsg::Write(o) => ops.extend(o),
                LogMsg::Later(f) => ops.extend(f()),
                LogMsg::Flush(w) => waiters.push(w),
            }
            if ops.len() >= BATCH {
                break;
            }
            next = rx.try_recv().ok();
        }
        if !ops.is_empty() {
            let n = ops.len();
            if let Err(e) = meta.apply(ops).await {
                tracing::error!(error = %e, records = n, "prediction records not written");
            }
        }
        for w in waiters {
            let _ = w.send(());
        }
    }
}
