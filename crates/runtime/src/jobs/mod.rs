//! Durable jobs made of ordered steps, leased by workers and resumed after a crash.
//!
//! Long work (training, transcription, deployments) is a *job*: a kind, a scope, a JSON state
//! and an ordered list of named steps given by its [`JobHandler`]. The job row lives in the
//! metadata database (table `jobs`, migrated at [`JobQueue::open`] as component `jobs`) and is durable when
//! [`JobQueue::submit`] returns.
//!
//! # How a job runs
//! - A worker *claims* a runnable job (status `queued` with `run_after <= now`, or `running`
//!   whose lease has expired) by writing a lease (`lease_owner`, `lease_expires`). On
//!   PostgreSQL the claim is one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`, on SQLite
//!   one `UPDATE … WHERE id = (SELECT …) RETURNING`; two workers never hold the same job.
//! - While a step runs, a heartbeat extends the lease every third of its length. If the
//!   heartbeat finds the lease gone (expired and taken, or the job cancelled) the step's future
//!   is dropped and nothing of it is committed.
//! - A finished step commits `step + 1` and the new state in one `UPDATE` fenced by
//!   `lease_owner`, so a step that finished is never run again, and a worker that lost its lease
//!   can never commit. A step interrupted by a crash is run again by the next claimant, so
//!   steps should be idempotent (safe to repeat when they did not finish).
//! - [`StepOutcome::Wait`] stores the state, keeps the step and releases the job until a later
//!   time (polling, baking). [`StepOutcome::Finish`] ends the job early.
//! - [`JobError::Retryable`] counts an attempt and requeues the job after an exponential backoff
//!   with jitter ([`Backoff`]); after `max_attempts` failed tries of one step the job fails.
//!   [`JobError::Fatal`] fails it at once. A worker lost while holding the lease also counts an
//!   attempt. The attempt counter restarts at 0 whenever a step finishes. State changes made
//!   by a step that failed are discarded. [`JobHandler::on_failed`] runs before a job is
//!   marked failed.
//! - [`JobQueue::cancel`] marks the job cancelled; a running step is dropped at its next
//!   heartbeat and can never commit.
//!
//! Every time comes from the injected [`Clock`], so tests drive lease expiry and backoff with a
//! `ManualClock` in milliseconds. Idle workers poll every [`JobQueueOptions::poll_interval`]
//! and are woken at once by a submit in the same process.
//!
//! # Example
//! ```no_run
//! use std::sync::Arc;
//! use hearth_runtime::jobs::{JobContext, JobError, JobHandler, JobQueue, StepOutcome, SubmitOptions};
//! use hearth_runtime::{MetaStore, Scope, SystemClock};
//!
//! struct Training;
//!
//! #[async_trait::async_trait]
//! impl JobHandler for Training {
//!     const KIND: &'static str = "sagemaker.training";
//!     type State = Vec<String>;
//!     fn steps(&self) -> &'static [&'static str] {
//!         &["download", "train", "upload"]
//!     }
//!     async fn run_step(&self, ctx: &JobContext, _step: usize, state: &mut Vec<String>) -> Result<StepOutcome, JobError> {
//!         state.push(ctx.step_name.to_string());
//!         Ok(StepOutcome::Done)
//!     }
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let meta = MetaStore::open("sqlite://data/meta.db").await?;
//! let queue = JobQueue::open(&meta, Arc::new(SystemClock)).await?;
//! queue.register(Training);
//! let workers = queue.run_workers(2);
//! let scope = Scope::new("123456789012", "us-east-1");
//! let id = queue.submit_job::<Training>(&scope, &Vec::new(), SubmitOptions::with_id("job-1")).await?;
//! // ... later
//! let status = queue.get(&id).await?.map(|job| job.status);
//! workers.shutdown().await;
//! # let _ = status; Ok(())
//! # }
//! ```

mod store;
mod worker;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::meta::{Db, MetaError, MetaStore, Scope};

pub use worker::WorkerPool;

/// A job's id (unique across kinds and scopes).
pub type JobId = String;

/// What a job does: its ordered steps and how to run each of them.
///
/// Register one handler per kind with [`JobQueue::register`] on every node that should run
/// that kind. The state is stored as JSON between steps.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// The job kind this handler runs, e.g. `"sagemaker.training"`.
    const KIND: &'static str;
    /// Schema version of [`JobHandler::State`], written with every commit.
    const STATE_VERSION: u32 = 1;
    /// The job's state, carried from step to step.
    type State: Serialize + DeserializeOwned + Send + Sync;

    /// The ordered step names. Step indexes passed to [`JobHandler::run_step`] index this list.
    fn steps(&self) -> &'static [&'static str];

    /// Run step `step`. Mutations of `state` are committed together with the step's outcome,
    /// and discarded when it returns an error.
    async fn run_step(&self, ctx: &JobContext, step: usize, state: &mut Self::State) -> Result<StepOutcome, JobError>;

    /// Called once the job is about to be marked failed (attempts exhausted or a fatal error),
    /// with the last committed state; changes to `state` are stored with the failed job. Use it
    /// to mark the resource the job works for as failed. It may run again if the node crashes
    /// before the failure is committed, so it should be idempotent.
    async fn on_failed(&self, ctx: &JobContext, state: &mut Self::State, error: &str) {
        let _ = (ctx, state, error);
    }

    /// Upgrade a stored state body (and, if the step list changed, its step index) from schema
    /// version `from` (< [`JobHandler::STATE_VERSION`]) to the current one.
    fn migrate_state(from: u32, step: usize, state: serde_json::Value) -> Result<(usize, serde_json::Value), JobError> {
        let _ = from;
        Ok((step, state))
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// The step finished; the job moves on to the next step (or succeeds after the last).
    Done,
    /// The step is not finished yet: store the state and run this step again after the delay
    /// (polling an external resource, baking a deployment).
    Wait(Duration),
    /// The job is complete; the remaining steps are skipped.
    Finish,
}

/// Why a step failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// A transient failure: retry the step after a backoff, up to the job's `max_attempts`.
    #[error("{0}")]
    Retryable(String),
    /// A permanent failure: the job fails at once.
    #[error("{0}")]
    Fatal(String),
}

impl JobError {
    /// A transient failure with this message.
    pub fn retryable(msg: impl std::fmt::Display) -> Self {
        JobError::Retryable(msg.to_string())
    }
    /// A permanent failure with this message.
    pub fn fatal(msg: impl std::fmt::Display) -> Self {
        JobError::Fatal(msg.to_string())
    }
}

impl From<MetaError> for JobError {
    /// Database errors and lost races are worth retrying; a record that cannot be decoded is not.
    fn from(e: MetaError) -> Self {
        match e {
            MetaError::Codec(_) => JobError::Fatal(e.to_string()),
            _ => JobError::Retryable(e.to_string()),
        }
    }
}

/// What a running step knows about its job.
#[derive(Clone)]
pub struct JobContext {
    /// The job's id.
    pub id: JobId,
    /// The job's kind.
    pub kind: &'static str,
    /// Account and region the job belongs to.
    pub scope: Scope,
    /// Index of the running step.
    pub step: usize,
    /// Name of the running step.
    pub step_name: &'static str,
    /// 1 for the first try of this step, 2 for the first retry, and so on.
    pub attempt: u32,
    /// The queue's clock (use it for every time and wait inside a step).
    pub clock: Arc<dyn Clock>,
}

impl JobContext {
    /// The current time on the queue's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// A job's lifecycle status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Waiting for a worker (new, between steps after a [`StepOutcome::Wait`], or backing off).
    Queued,
    /// Leased by a worker.
    Running,
    /// All steps finished (or a step returned [`StepOutcome::Finish`]).
    Succeeded,
    /// Attempts exhausted or a fatal error; see [`JobRecord::last_error`].
    Failed,
    /// Cancelled by [`JobQueue::cancel`].
    Cancelled,
}

impl JobStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
    /// Parse the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            _ => return None,
        })
    }
    /// Whether the job will never run again.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled)
    }
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub scope: Scope,
    pub status: JobStatus,
    /// Index of the first unfinished step (the step count once the job succeeded).
    pub step: usize,
    /// Failed tries of the current step.
    pub attempts: u32,
    pub max_attempts: u32,
    /// The last committed state.
    pub state: serde_json::Value,
    /// Schema version of `state`.
    pub state_version: u32,
    /// The last error (kept after a retry succeeds, until the job ends).
    pub last_error: Option<String>,
    /// Not runnable before this time.
    pub run_after: OffsetDateTime,
    /// The worker holding the lease, if any.
    pub lease_owner: Option<String>,
    pub lease_expires: Option<OffsetDateTime>,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
}

impl JobRecord {
    /// The state decoded as `T` (no migration is applied).
    pub fn state_as<T: DeserializeOwned>(&self) -> Result<T, QueueError> {
        serde_json::from_value(self.state.clone()).map_err(|e| QueueError::Codec(e.to_string()))
    }
}

/// Options of [`JobQueue::submit`].
#[derive(Debug, Clone)]
pub struct SubmitOptions {
    /// The job id. Submitting an id that exists returns it without change (idempotent submit),
    /// as long as kind and scope match. `None`: a new random id.
    pub id: Option<JobId>,
    /// Tries of one step before the job fails (at least 1).
    pub max_attempts: u32,
    /// Do not start before this time (`None`: now).
    pub run_after: Option<OffsetDateTime>,
}

impl Default for SubmitOptions {
    fn default() -> Self {
        SubmitOptions { id: None, max_attempts: 5, run_after: None }
    }
}

impl SubmitOptions {
    /// Default options with this job id.
    pub fn with_id(id: impl Into<JobId>) -> Self {
        SubmitOptions { id: Some(id.into()), ..Default::default() }
    }
}

/// Retry delays: `base * 2^(attempt-1)`, capped at `cap`; with `jitter`, a random delay in
/// `[d/2, d]` ("equal jitter") so that many failing jobs do not retry in lockstep.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    pub jitter: bool,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(300), jitter: true }
    }
}

impl Backoff {
    /// The delay before the retry that follows failed try number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(31);
        let d = self.base.saturating_mul(1u32 << exp).min(self.cap);
        if !self.jitter || d.is_zero() {
            return d;
        }
        let half = d / 2;
        let extra = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=(d - half).as_millis() as u64);
        half + Duration::from_millis(extra)
    }
}

/// Tuning of a [`JobQueue`].
#[derive(Debug, Clone)]
pub struct JobQueueOptions {
    /// This node's name, part of every lease owner (`<node>/<worker>/<claim>`).
    pub node_id: String,
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// How long an idle worker sleeps before looking for work again.
    pub poll_interval: Duration,
    /// Retry delays.
    pub backoff: Backoff,
}

impl Default for JobQueueOptions {
    fn default() -> Self {
        JobQueueOptions {
            node_id: format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            backoff: Backoff::default(),
        }
    }
}

/// Errors of the queue itself (not of a job's steps).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("job not found: {0}")]
    NotFound(String),
    /// A submit reused an id that belongs to a job of another kind or scope.
    #[error("job id conflict: {0}")]
    Conflict(String),
    #[error("invalid job: {0}")]
    Invalid(String),
    #[error("job codec: {0}")]
    Codec(String),
    #[error("database: {0}")]
    Database(String),
}

impl From<sqlx::Error> for QueueError {
    fn from(e: sqlx::Error) -> Self {
        QueueError::Database(e.to_string())
    }
}

pub(crate) struct Shared {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) opts: JobQueueOptions,
    pub(crate) notify: Notify,
    pub(crate) handlers: RwLock<HashMap<&'static str, Arc<dyn worker::Runner>>>,
}

/// The durable job queue of one node; cheap to clone. Several queues (nodes) may share one
/// PostgreSQL database.
#[derive(Clone)]
pub struct JobQueue {
    shared: Arc<Shared>,
}

impl JobQueue {
    /// Open the queue on the metadata database with default options, creating its table.
    pub async fn open(meta: &MetaStore, clock: Arc<dyn Clock>) -> Result<Self, QueueError> {
        Self::open_with(meta, clock, JobQueueOptions::default()).await
    }

    /// Open the queue with explicit options.
    pub async fn open_with(meta: &MetaStore, clock: Arc<dyn Clock>, opts: JobQueueOptions) -> Result<Self, QueueError> {
        meta.migrate("jobs", store::MIGRATIONS).await.map_err(|e| QueueError::Database(e.to_string()))?;
        let db = meta.db().clone();
        Ok(JobQueue {
            shared: Arc::new(Shared { db, clock, opts, notify: Notify::new(), handlers: RwLock::new(HashMap::new()) }),
        })
    }

    /// Register the handler of one job kind (replacing an earlier one). Workers of this queue
    /// only claim kinds that have a handler.
    pub fn register<H: JobHandler>(&self, handler: H) {
        let runner: Arc<dyn worker::Runner> = Arc::new(worker::TypedRunner(Arc::new(handler)));
        self.shared.handlers.write().unwrap_or_else(|p| p.into_inner()).insert(H::KIND, runner);
        self.shared.notify.notify_waiters();
    }

    /// Accept a job; it is durable when this returns. Returns the job id. Submitting an
    /// existing id with the same kind and scope returns it unchanged.
    pub async fn submit<S: Serialize>(&self, kind: &str, scope: &Scope, state: &S, opts: SubmitOptions) -> Result<JobId, QueueError> {
        self.submit_versioned(kind, scope, state, 1, opts).await
    }

    /// Accept a job of handler `H` (uses its kind and state version).
    pub async fn submit_job<H: JobHandler>(&self, scope: &Scope, state: &H::State, opts: SubmitOptions) -> Result<JobId, QueueError> {
        self.submit_versioned(H::KIND, scope, state, H::STATE_VERSION, opts).await
    }

    async fn submit_versioned<S: Serialize>(
        &self,
        kind: &str,
        scope: &Scope,
        state: &S,
        state_version: u32,
        opts: SubmitOptions,
    ) -> Result<JobId, QueueError> {
        if kind.is_empty() {
            return Err(QueueError::Invalid("job kind must not be empty".into()));
        }
        if opts.max_attempts == 0 {
            return Err(QueueError::Invalid("max_attempts must be at least 1".into()));
        }
        let state = serde_json::to_string(state).map_err(|e| QueueError::Codec(e.to_string()))?;
        let id = opts.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let now = self.shared.clock.now();
        let new = store::NewJob {
            id: &id,
            kind,
            scope,
            state: &state,
            state_version,
            max_attempts: opts.max_attempts,
            run_after: opts.run_after.unwrap_or(now),
            now,
        };
        if !store::insert(&self.shared.db, &new).await? {
            let existing = store::get(&self.shared.db, &id).await?.ok_or_else(|| QueueError::Conflict(id.clone()))?;
            if existing.kind != kind || existing.scope != *scope {
                return Err(QueueError::Conflict(format!("{id} exists as a {} job of another scope or kind", existing.kind)));
            }
            tracing::debug!(job = %id, kind, "job already submitted");
            return Ok(id);
        }
        tracing::info!(job = %id, kind, account = %scope.account, region = %scope.region, "job submitted");
        self.shared.notify.notify_waiters();
        Ok(id)
    }

    /// The stored job, if any.
    pub async fn get(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        store::get(&self.shared.db, id).await
    }

    /// Jobs of one scope (optionally of one kind), oldest first.
    pub async fn list(&self, kind: Option<&str>, scope: &Scope) -> Result<Vec<JobRecord>, QueueError> {
        store::list(&self.shared.db, kind, scope).await
    }

    /// Cancel a job that has not ended. Returns `true` if it is now cancelled, `false` if it had
    /// already ended (it keeps its final status). A step that is running is dropped at its
    /// next heartbeat and can never commit.
    pub async fn cancel(&self, id: &str) -> Result<bool, QueueError> {
        let now = self.shared.clock.now();
        if store::cancel(&self.shared.db, id, now).await? {
            tracing::info!(job = %id, "job cancelled");
            return Ok(true);
        }
        match store::get(&self.shared.db, id).await? {
            Some(_) => Ok(false),
            None => Err(QueueError::NotFound(id.to_string())),
        }
    }

    /// Delete jobs that ended (succeeded, failed or cancelled) before `cutoff`; returns how
    /// many were deleted.
    pub async fn delete_finished_before(&self, cutoff: OffsetDateTime) -> Result<u64, QueueError> {
        store::delete_finished_before(&self.shared.db, cutoff).await
    }

    /// Start `n` workers on the current tokio runtime. Stop them with
    /// [`WorkerPool::shutdown`] (finish the running step, then release the job).
    pub fn run_workers(&self, n: usize) -> WorkerPool {
        worker::start(self.shared.clone(), n)
    }

    /// Wake idle workers now (e.g. after a clock jump in tests).
    pub fn wake(&self) {
        self.shared.notify.notify_waiters();
    }

    /// This queue's options.
    pub fn options(&self) -> &JobQueueOptions {
        &self.shared.opts
    }
}

pub(crate) fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(300), jitter: false };
        assert_eq!(b.delay(1), Duration::from_secs(1));
        assert_eq!(b.delay(2), Duration::from_secs(2));
        assert_eq!(b.delay(4), Duration::from_secs(8));
        assert_eq!(b.delay(20), Duration::from_secs(300));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(300));
        let j = Backoff { jitter: true, ..b };
        for attempt in 1..12 {
            let d = j.delay(attempt);
            let full = b.delay(attempt);
            assert!(d >= full / 2 && d <= full, "{d:?} outside [{:?}, {full:?}]", full / 2);
        }
    }

    #[test]
    fn status_round_trips() {
        for s in [JobStatus::Queued, JobStatus::Running, JobStatus::Succeeded, JobStatus::Failed, JobStatus::Cancelled] {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobStatus::parse("nope"), None);
    }

    #[test]
    fn millis_round_trip() {
        let t = time::macros::datetime!(2024-05-06 07:08:09.123 UTC);
        assert_eq!(from_millis(to_millis(t)), t);
    }
}
