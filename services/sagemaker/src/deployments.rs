//! Deployment guardrails at run time: the durable job that carries out an `UpdateEndpoint`
//! (`sagemaker.deployment`), and the operator's in-process API over deployments (history,
//! abort, promote) used by `hearth deployments` and the console.
//!
//! The job follows the [`DeploymentRecord`] it was submitted for, phase by phase, and writes
//! every change of phase or step to it before going on, so a restart resumes where it was:
//! `Provisioning` (load every green variant's model once: one that cannot load fails the
//! update before any traffic) → `Baking` per traffic step of the plan
//! ([`crate::domain::deployment::plan`]) → `Terminating` (all traffic on green, blue kept for
//! `TerminationWaitInSeconds`) → `Succeeded`. Any rollback alarm in `ALARM`, an operator's
//! abort or `MaximumExecutionTimeoutInSeconds` during the baking leads to `RollingBack`: all
//! traffic goes back to blue *first* (before anything is written), then the endpoint returns
//! `InService` on its old configuration (`UpdateRollbackFailed` if blue cannot serve). A rolling
//! update with `RollbackMaximumBatchSize` goes back in batches instead
//! ([`crate::domain::deployment::rollback_plan`]): the first batch moves before anything is
//! written, each further one is written as it moves (blue's models stayed loaded, so a batch
//! needs no provisioning time here); after a restart the node serves the old configuration
//! (the record's) and the job finishes the remaining batches' records.
//!
//! Traffic moves on this node's [`Fleet`] with [`Fleet::set_deployments`]: blue first with
//! `1 - share`, green with `share`; after the last bake green first with everything and blue
//! with 0, until blue is retired. (Another node serving the same endpoint follows the record's
//! configuration, not the split: the split is per node.)
//!
//! Alarms are read through an [`AlarmSource`] (CloudWatch's in-process API) every
//! [`Guardrails::poll`] (100 ms by default, `HEARTH_SAGEMAKER_DEPLOYMENT_POLL_MS`), as are
//! operator requests ([`DeploymentControl`] records, which a CLI in another process can write
//! into the shared metadata store), so a rollback starts within one poll of the alarm's change.
//! A step runs at most [`Guardrails::slice`] before yielding its worker, and waits on the
//! injected clock.

use crate::domain::deployment::{decide, rollback_plan, Decision, Observation, Request, Step};
use crate::domain::fleet::{Deployment, Fleet};
use crate::hosting::Hosting;
use crate::jobs::Shared;
use crate::store::{self, DeploymentControl, DeploymentPhase, DeploymentRecord, EndpointRecord, EndpointStatus};
use hearth_protocol::types::Timestamp;
use hearth_runtime::jobs::{JobContext, JobError, JobHandler, StepOutcome};
use hearth_runtime::{Expect, ListQuery, MetaError, MetaStore, Scope};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where rollback alarms' states come from.
#[async_trait::async_trait]
pub trait AlarmSource: Send + Sync + 'static {
    /// The state (`OK`, `ALARM`, `INSUFFICIENT_DATA`) of the alarm `name`, `None` when it does
    /// not exist.
    async fn alarm_state(&self, account: &str, region: &str, name: &str) -> Option<String>;
}

#[async_trait::async_trait]
impl AlarmSource for hearth_cloudwatch::CloudWatch {
    async fn alarm_state(&self, account: &str, region: &str, name: &str) -> Option<String> {
        hearth_cloudwatch::CloudWatch::alarm_state(self, account, region, name).await.map(|s| s.as_str().to_string())
    }
}

/// The two fleets of a deployment running on this node.
struct Live {
    fleet: Arc<Fleet>,
    blue: Option<Arc<Deployment>>,
    green: Arc<Deployment>,
}

/// Deployment settings and this node's live deployments.
pub struct Guardrails {
    /// Where alarm states come from (None: every named alarm is unknown).
    pub alarms: Option<Arc<dyn AlarmSource>>,
    /// How often alarms and operator requests are looked at while baking.
    pub poll: Duration,
    /// How long one job step runs before it yields its worker.
    pub slice: Duration,
    live: Mutex<HashMap<String, Live>>,
}

impl Guardrails {
    /// Settings from the environment (`HEARTH_SAGEMAKER_DEPLOYMENT_POLL_MS`, default 100).
    pub fn new(alarms: Option<Arc<dyn AlarmSource>>) -> Guardrails {
        let poll = std::env::var("HEARTH_SAGEMAKER_DEPLOYMENT_POLL_MS").ok().and_then(|v| v.trim().parse::<u64>().ok()).filter(|v| *v > 0).unwrap_or(100);
        Guardrails { alarms, poll: Duration::from_millis(poll), slice: Duration::from_secs(20), live: Mutex::new(HashMap::new()) }
    }

    fn forget(&self, key: &str) {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// State of a deployment job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentState {
    pub endpoint: String,
    /// The [`DeploymentRecord`] key.
    pub key: String,
}

/// The deployment runner.
pub struct DeploymentJobs(pub Arc<Shared>);

fn ts(t: time::OffsetDateTime) -> Timestamp {
    Timestamp(t)
}

fn pct(share: f64) -> String {
    format!("{}%", (share * 1000.0).round() / 10.0)
}

/// An endpoint record carrying `variants` of `config` (to build a fleet from).
fn with_variants(rec: &EndpointRecord, config: &str, variants: &[store::VariantState]) -> EndpointRecord {
    let mut r = rec.clone();
    r.config_name = config.to_string();
    r.variants = variants.to_vec();
    r
}

impl DeploymentJobs {
    async fn load(&self, scope: &Scope, key: &str) -> Result<Option<(DeploymentRecord, i64)>, JobError> {
        Ok(self.0.meta.get::<DeploymentRecord>(scope, key).await?.map(|r| (r.value, r.version)))
    }

    async fn save(&self, scope: &Scope, dep: &DeploymentRecord, version: i64) -> Result<i64, JobError> {
        match self.0.meta.put(scope, &dep.key(), dep, Expect::Version(version)).await {
            Ok(v) => Ok(v),
            Err(MetaError::ConditionFailed { .. }) => Err(JobError::retryable("deployment record changed")),
            Err(e) => Err(e.into()),
        }
    }

    /// Change the endpoint record with `f` (re-read on conflicts) and tell this node's hosting.
    async fn update_endpoint(&self, scope: &Scope, name: &str, f: impl Fn(&mut EndpointRecord)) -> Result<Option<EndpointRecord>, JobError> {
        let s = &self.0;
        let key = store::key(name);
        for _ in 0..20 {
            let Some(cur) = s.meta.get::<EndpointRecord>(scope, &key).await? else { return Ok(None) };
            let mut rec = cur.value;
            f(&mut rec);
            rec.last_modified = ts(s.clock.now());
            match s.meta.put(scope, &key, &rec, Expect::Version(cur.version)).await {
                Ok(v) => {
                    s.hosting.sync(scope, &rec, v);
                    return Ok(Some(rec));
                }
                Err(MetaError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(JobError::retryable("endpoint record keeps changing"))
    }

    /// This node's fleet of the endpoint, built (and installed) from the record if it has none.
    async fn fleet(&self, scope: &Scope, name: &str) -> Result<Arc<Fleet>, String> {
        let h: &Hosting = &self.0.hosting;
        if let Some(f) = h.fleet(scope, name) {
            return Ok(f);
        }
        let cur = self.0.meta.get::<EndpointRecord>(scope, &store::key(name)).await.map_err(|e| e.to_string())?.ok_or_else(|| format!("endpoint {name} vanished"))?;
        let fleet = h.deploy(scope, &cur.value).await?;
        h.install(scope, &cur.value, fleet.clone(), cur.version);
        Ok(fleet)
    }

    /// A deployment of `variants` with every model loaded once (the health check).
    async fn build(&self, scope: &Scope, rec: &EndpointRecord, config: &str, variants: &[store::VariantState]) -> Result<Arc<Deployment>, String> {
        let f = self.0.hosting.deploy(scope, &with_variants(rec, config, variants)).await?;
        f.current().ok_or_else(|| "the endpoint configuration has no variants".to_string())
    }

    /// The live fleets of `dep`, rebuilt after a restart; traffic set as the record says.
    async fn live(&self, scope: &Scope, dep: &DeploymentRecord) -> Result<(Arc<Fleet>, Option<Arc<Deployment>>, Arc<Deployment>), String> {
        let g = &self.0.guardrails;
        let key = dep.key();
        let fleet = self.fleet(scope, &dep.endpoint).await?;
        if let Some(l) = g.live.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if Arc::ptr_eq(&l.fleet, &fleet) {
                return Ok((l.fleet.clone(), l.blue.clone(), l.green.clone()));
            }
        }
        let rec = self.0.meta.get::<EndpointRecord>(scope, &store::key(&dep.endpoint)).await.map_err(|e| e.to_string())?.ok_or("endpoint vanished")?.value;
        let find = |config: &str| fleet.deployments().into_iter().map(|(d, _)| d).find(|d| d.config_name == config);
        let (blue, green) = if dep.phase == DeploymentPhase::Terminating {
            // The record already names green; blue no longer takes traffic.
            let green = match find(&dep.to_config) {
                Some(d) => d,
                None => self.build(scope, &rec, &dep.to_config, &dep.green_variants).await?,
            };
            (None, green)
        } else {
            let blue = match find(&dep.from_config) {
                Some(d) => d,
                None => self.build(scope, &rec, &dep.from_config, &dep.blue_variants).await?,
            };
            let green = self.build(scope, &rec, &dep.to_config, &dep.green_variants).await?;
            (Some(blue), green)
        };
        let l = Live { fleet: fleet.clone(), blue: blue.clone(), green: green.clone() };
        apply(&l, dep.phase, dep.green_share);
        g.live.lock().unwrap_or_else(|p| p.into_inner()).insert(key, l);
        tracing::info!(endpoint = %dep.endpoint, deployment = dep.number, phase = dep.phase.as_str(), "deployment fleets ready on this node");
        Ok((fleet, blue, green))
    }

    /// Look at the operator's request and the rollback alarms (remembering their states).
    async fn observe(&self, scope: &Scope, dep: &mut DeploymentRecord) -> Result<Observation, JobError> {
        let s = &self.0;
        let request = match s.meta.get::<DeploymentControl>(scope, &dep.key()).await? {
            Some(c) if c.value.action == "abort" => Some(Request::Abort(c.value.requested_by)),
            Some(c) if c.value.action == "promote" => Some(Request::Promote),
            _ => None,
        };
        let mut alarm = None;
        if let Some(src) = &s.guardrails.alarms {
            for name in dep.policy.alarms.clone() {
                let state = src.alarm_state(&scope.account, &scope.region, &name).await.unwrap_or_else(|| "INSUFFICIENT_DATA".into());
                dep.alarm_states.insert(name.clone(), state.clone());
                if state == "ALARM" && alarm.is_none() {
                    alarm = Some(name);
                }
            }
        }
        Ok(Observation { now: s.clock.now(), alarm, request })
    }

    async fn sleep(&self, d: Duration) {
        self.0.clock.sleep(d).await;
    }

    /// Move to `RollingBack`: traffic to blue first (all of it, or the first batch of a
    /// rolling update's `RollbackMaximumBatchSize`), then the records.
    async fn start_rollback(&self, scope: &Scope, dep: &mut DeploymentRecord, version: i64, reason: String) -> Result<i64, JobError> {
        let now = self.0.clock.now();
        let total = dep.steps.last().map_or(1, |s| s.green_instances);
        let serving = if dep.phase == DeploymentPhase::Baking { dep.steps.get(dep.step).map_or(total, |s| s.green_instances) } else { 0 };
        dep.rollback_steps = rollback_plan(serving, total, dep.policy.rollback_batch);
        dep.rollback_step = 0;
        let first = dep.rollback_steps.first().copied().unwrap_or(Step { green_instances: 0, green_share: 0.0 });
        if let Some(l) = self.0.guardrails.live.lock().unwrap_or_else(|p| p.into_inner()).get(&dep.key()) {
            if let Some(b) = &l.blue {
                l.fleet.set_deployments(vec![(b.clone(), 1.0 - first.green_share), (l.green.clone(), first.green_share)]);
            }
        }
        tracing::warn!(endpoint = %dep.endpoint, deployment = dep.number, reason = %reason, "deployment rolling back");
        dep.green_share = first.green_share;
        dep.phase = DeploymentPhase::RollingBack;
        dep.phase_started = ts(now);
        dep.reason = Some(reason.clone());
        dep.event(ts(now), format!("rolling back: {reason}"));
        if dep.rollback_steps.len() > 1 {
            dep.event(ts(now), rollback_batch_event(dep));
        }
        let v = self.save(scope, dep, version).await?;
        self.update_endpoint(scope, &dep.endpoint, |r| r.status = EndpointStatus::RollingBack).await?;
        Ok(v)
    }

    async fn run(&self, ctx: &JobContext, st: &DeploymentState) -> Result<StepOutcome, JobError> {
        let s = &self.0;
        let scope = &ctx.scope;
        let slice_end = s.clock.now() + s.guardrails.slice;
        loop {
            let Some((mut dep, version)) = self.load(scope, &st.key).await? else { return Ok(StepOutcome::Finish) };
            let now = s.clock.now();
            if dep.phase.is_final() {
                s.guardrails.forget(&st.key);
                return Ok(StepOutcome::Finish);
            }
            if now >= slice_end {
                return Ok(StepOutcome::Wait(Duration::ZERO));
            }
            let current = s.meta.get::<EndpointRecord>(scope, &store::key(&dep.endpoint)).await?;
            if current.is_none_or(|r| r.value.deployment.as_deref() != Some(st.key.as_str())) {
                // DeleteEndpoint during the deployment: nothing left to deploy to.
                dep.phase = DeploymentPhase::Failed;
                dep.reason = Some("The endpoint was deleted during the deployment.".into());
                dep.ended = Some(ts(now));
                dep.event(ts(now), "endpoint deleted");
                self.save(scope, &dep, version).await?;
                s.guardrails.forget(&st.key);
                return Ok(StepOutcome::Finish);
            }
            match dep.phase {
                DeploymentPhase::Provisioning => {
                    match self.live(scope, &dep).await {
                        Ok(_) => {}
                        Err(reason) => {
                            let reason = format!("Failed to provision the new fleet: {reason}");
                            tracing::warn!(endpoint = %dep.endpoint, deployment = dep.number, reason = %reason, "deployment failed");
                            dep.phase = DeploymentPhase::Failed;
                            dep.reason = Some(reason.clone());
                            dep.ended = Some(ts(now));
                            dep.event(ts(now), format!("failed: {reason}"));
                            self.save(scope, &dep, version).await?;
                            self.update_endpoint(scope, &dep.endpoint, |r| {
                                r.status = EndpointStatus::InService;
                                r.failure_reason = Some(reason.clone());
                                r.deployment = None;
                            })
                            .await?;
                            s.guardrails.forget(&st.key);
                            return Ok(StepOutcome::Finish);
                        }
                    }
                    dep.event(ts(now), format!("green fleet {} provisioned and healthy", dep.to_config));
                    self.enter_step(&mut dep, 0, now);
                    self.save(scope, &dep, version).await?;
                }
                DeploymentPhase::Baking | DeploymentPhase::Terminating => {
                    if let Err(reason) = self.live(scope, &dep).await {
                        if dep.phase == DeploymentPhase::Baking {
                            self.start_rollback(scope, &mut dep, version, format!("The new fleet could not serve: {reason}")).await?;
                            continue;
                        }
                        return Err(JobError::retryable(reason));
                    }
                    let obs = self.observe(scope, &mut dep).await?;
                    let step = if dep.phase == DeploymentPhase::Terminating { dep.steps.len() } else { dep.step };
                    match decide(&dep.policy, dep.steps.len(), step, dep.started.0, dep.phase_started.0, &obs, s.guardrails.poll) {
                        Decision::Wait(d) => self.sleep(d.max(Duration::from_millis(1))).await,
                        Decision::RollBack(cause) => {
                            self.start_rollback(scope, &mut dep, version, cause.reason()).await?;
                        }
                        Decision::Step(n) => {
                            self.enter_step(&mut dep, n, now);
                            self.save(scope, &dep, version).await?;
                        }
                        Decision::AllOnGreen => {
                            if obs.request == Some(Request::Promote) {
                                dep.event(ts(now), "promoted: remaining baking skipped");
                            }
                            self.finish_shift(scope, &mut dep, version, now).await?;
                        }
                        Decision::Retire => {
                            if let Some(l) = s.guardrails.live.lock().unwrap_or_else(|p| p.into_inner()).get(&st.key) {
                                l.fleet.set_deployments(vec![(l.green.clone(), 1.0)]);
                            }
                            dep.phase = DeploymentPhase::Succeeded;
                            dep.ended = Some(ts(now));
                            dep.reason = Some("Deployment completed; the old fleet was retired.".into());
                            dep.event(ts(now), "old fleet retired");
                            self.save(scope, &dep, version).await?;
                            self.update_endpoint(scope, &dep.endpoint, |r| {
                                r.status = EndpointStatus::InService;
                                r.failure_reason = None;
                                r.deployment = None;
                            })
                            .await?;
                            s.guardrails.forget(&st.key);
                            tracing::info!(endpoint = %dep.endpoint, deployment = dep.number, "deployment succeeded");
                            return Ok(StepOutcome::Finish);
                        }
                    }
                }
                DeploymentPhase::RollingBack if dep.rollback_step + 1 < dep.rollback_steps.len() => {
                    // The next rollback batch: back on the old fleet (whose models stayed
                    // loaded), off the new one; written before the next.
                    let i = dep.rollback_step + 1;
                    let share = dep.rollback_steps[i].green_share;
                    if let Some(l) = s.guardrails.live.lock().unwrap_or_else(|p| p.into_inner()).get(&st.key) {
                        apply(l, DeploymentPhase::RollingBack, share);
                    }
                    dep.rollback_step = i;
                    dep.green_share = share;
                    dep.event(ts(now), rollback_batch_event(&dep));
                    tracing::info!(endpoint = %dep.endpoint, deployment = dep.number, batch = i + 1, share, "rollback batch");
                    self.save(scope, &dep, version).await?;
                }
                DeploymentPhase::RollingBack => {
                    let key = st.key.clone();
                    let blue = {
                        let live = s.guardrails.live.lock().unwrap_or_else(|p| p.into_inner());
                        live.get(&key).and_then(|l| l.blue.clone().map(|b| (l.fleet.clone(), b)))
                    };
                    let restored = match blue {
                        Some((fleet, b)) => {
                            fleet.set_deployments(vec![(b, 1.0)]);
                            Ok(())
                        }
                        None => {
                            // After a restart: bring blue back from its variants.
                            match self.fleet(scope, &dep.endpoint).await {
                                Err(e) => Err(e),
                                Ok(fleet) => match s.meta.get::<EndpointRecord>(scope, &store::key(&dep.endpoint)).await? {
                                    None => Err("endpoint vanished".to_string()),
                                    Some(r) => self.build(scope, &r.value, &dep.from_config, &dep.blue_variants).await.map(|b| fleet.set_deployments(vec![(b, 1.0)])),
                                },
                            }
                        }
                    };
                    let reason = dep.reason.clone().unwrap_or_else(|| "Deployment rolled back.".into());
                    match restored {
                        Ok(()) => {
                            dep.phase = DeploymentPhase::RolledBack;
                            dep.event(ts(now), "all traffic on the old fleet; new fleet removed");
                            tracing::info!(endpoint = %dep.endpoint, deployment = dep.number, "deployment rolled back");
                        }
                        Err(e) => {
                            dep.phase = DeploymentPhase::RollbackFailed;
                            dep.reason = Some(format!("{reason} Rollback failed: {e}"));
                            dep.event(ts(now), format!("rollback failed: {e}"));
                            tracing::error!(endpoint = %dep.endpoint, deployment = dep.number, error = %e, "deployment rollback failed");
                        }
                    }
                    dep.ended = Some(ts(now));
                    self.save(scope, &dep, version).await?;
                    let failed = dep.phase == DeploymentPhase::RollbackFailed;
                    let why = dep.reason.clone();
                    let (from_config, blue_variants) = (dep.from_config.clone(), dep.blue_variants.clone());
                    self.update_endpoint(scope, &dep.endpoint, |r| {
                        r.status = if failed { EndpointStatus::UpdateRollbackFailed } else { EndpointStatus::InService };
                        r.failure_reason = why.clone();
                        r.config_name = from_config.clone();
                        r.variants = blue_variants.clone();
                        r.deployment = None;
                    })
                    .await?;
                    s.guardrails.forget(&st.key);
                    return Ok(StepOutcome::Finish);
                }
                _ => return Ok(StepOutcome::Finish),
            }
        }
    }

    /// Turn on traffic step `i`.
    fn enter_step(&self, dep: &mut DeploymentRecord, i: usize, now: time::OffsetDateTime) {
        let Step { green_instances, green_share } = dep.steps.get(i).copied().unwrap_or(Step { green_instances: 0, green_share: 1.0 });
        dep.phase = DeploymentPhase::Baking;
        dep.step = i;
        dep.green_share = green_share;
        dep.phase_started = ts(now);
        if let Some(l) = self.0.guardrails.live.lock().unwrap_or_else(|p| p.into_inner()).get(&dep.key()) {
            apply(l, DeploymentPhase::Baking, green_share);
        }
        dep.event(ts(now), format!("step {}/{}: {} green instance(s), {} of traffic on green; baking {} s", i + 1, dep.steps.len(), green_instances, pct(green_share), dep.policy.wait_seconds));
        tracing::info!(endpoint = %dep.endpoint, deployment = dep.number, step = i + 1, share = green_share, "traffic step");
    }

    /// The last bake passed: green takes everything and the endpoint names its configuration.
    async fn finish_shift(&self, scope: &Scope, dep: &mut DeploymentRecord, version: i64, now: time::OffsetDateTime) -> Result<(), JobError> {
        if let Some(l) = self.0.guardrails.live.lock().unwrap_or_else(|p| p.into_inner()).get(&dep.key()) {
            apply(l, DeploymentPhase::Terminating, 1.0);
        }
        dep.phase = DeploymentPhase::Terminating;
        dep.green_share = 1.0;
        dep.phase_started = ts(now);
        dep.event(ts(now), format!("all traffic on green; old fleet kept {} s", dep.policy.termination_wait_seconds));
        self.save(scope, dep, version).await?;
        let (to, variants) = (dep.to_config.clone(), dep.green_variants.clone());
        self.update_endpoint(scope, &dep.endpoint, |r| {
            r.config_name = to.clone();
            r.variants = variants.clone();
        })
        .await?;
        Ok(())
    }
}

/// The timeline entry of the rollback batch in force.
fn rollback_batch_event(dep: &DeploymentRecord) -> String {
    let n = dep.rollback_steps.len();
    let i = dep.rollback_step.min(n.saturating_sub(1));
    let st = dep.rollback_steps.get(i).copied().unwrap_or(Step { green_instances: 0, green_share: 0.0 });
    format!("rollback batch {}/{n}: {} new-fleet instance(s) left, {} of traffic on the new fleet", i + 1, st.green_instances, pct(st.green_share))
}

/// Set the fleet's traffic for a phase and green share.
fn apply(l: &Live, phase: DeploymentPhase, share: f64) {
    match (phase, &l.blue) {
        (DeploymentPhase::Terminating, Some(b)) => l.fleet.set_deployments(vec![(l.green.clone(), 1.0), (b.clone(), 0.0)]),
        (DeploymentPhase::Terminating, None) => l.fleet.set_deployments(vec![(l.green.clone(), 1.0)]),
        (_, Some(b)) => l.fleet.set_deployments(vec![(b.clone(), 1.0 - share), (l.green.clone(), share)]),
        (_, None) => {}
    }
}

#[async_trait::async_trait]
impl JobHandler for DeploymentJobs {
    const KIND: &'static str = "sagemaker.deployment";
    type State = DeploymentState;

    fn steps(&self) -> &'static [&'static str] {
        &["run"]
    }

    async fn run_step(&self, ctx: &JobContext, _step: usize, st: &mut DeploymentState) -> Result<StepOutcome, JobError> {
        self.run(ctx, st).await
    }

    async fn on_failed(&self, ctx: &JobContext, st: &mut DeploymentState, error: &str) {
        // Put blue back and the endpoint in service on its old configuration.
        let Ok(Some((mut dep, version))) = self.load(&ctx.scope, &st.key).await else { return };
        if dep.phase.is_final() {
            return;
        }
        let reason = format!("An internal error occurred during the deployment: {error}");
        if let Ok(v) = self.start_rollback(&ctx.scope, &mut dep, version, reason).await {
            let _ = v;
            let _ = self.run(ctx, st).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Operator API (CLI, console)

/// Why an operator request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("endpoint {0} has no deployment in progress")]
    NoDeployment(String),
    #[error("deployment {0} is {1}: too late to {2}")]
    TooLate(String, String, String),
    #[error("{0}")]
    Store(String),
}

impl From<MetaError> for ControlError {
    fn from(e: MetaError) -> Self {
        ControlError::Store(e.to_string())
    }
}

/// Deployments of `endpoint`, oldest first.
pub async fn history(meta: &MetaStore, scope: &Scope, endpoint: &str) -> Result<Vec<DeploymentRecord>, MetaError> {
    let q = ListQuery { prefix: format!("{}/", store::key(endpoint)), ..Default::default() };
    Ok(meta.list::<DeploymentRecord>(scope, &q).await?.into_iter().map(|(_, r)| r.value).collect())
}

/// Every deployment of the scope, oldest first per endpoint.
pub async fn all(meta: &MetaStore, scope: &Scope) -> Result<Vec<DeploymentRecord>, MetaError> {
    Ok(meta.list::<DeploymentRecord>(scope, &ListQuery::default()).await?.into_iter().map(|(_, r)| r.value).collect())
}

/// The latest deployment of `endpoint`, if any.
pub async fn latest(meta: &MetaStore, scope: &Scope, endpoint: &str) -> Result<Option<DeploymentRecord>, MetaError> {
    Ok(history(meta, scope, endpoint).await?.pop())
}

/// Ask the running deployment of `endpoint` to `abort` (roll back now) or `promote` (skip the
/// remaining baking). Returns the deployment asked.
pub async fn request(meta: &MetaStore, scope: &Scope, endpoint: &str, action: &str, who: &str, now: time::OffsetDateTime) -> Result<DeploymentRecord, ControlError> {
    let dep = latest(meta, scope, endpoint).await?.ok_or_else(|| ControlError::NoDeployment(endpoint.to_string()))?;
    let late = match action {
        "abort" => dep.phase.is_final() || matches!(dep.phase, DeploymentPhase::Terminating | DeploymentPhase::RollingBack),
        _ => dep.phase.is_final() || dep.phase == DeploymentPhase::RollingBack,
    };
    if late {
        return Err(ControlError::TooLate(format!("{}#{}", dep.endpoint, dep.number), dep.phase.as_str().to_string(), action.to_string()));
    }
    let c = DeploymentControl { action: action.to_string(), requested_by: who.to_string(), at: ts(now) };
    meta.put(scope, &dep.key(), &c, Expect::Any).await?;
    tracing::info!(endpoint = %dep.endpoint, deployment = dep.number, action, by = who, "deployment control requested");
    Ok(dep)
}
