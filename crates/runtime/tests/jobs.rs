//! Durable job queue tests, run on SQLite and (when `HEARTH_TEST_DATABASE_URL` is set) on
//! PostgreSQL. Times come from a `ManualClock`, so lease expiry and backoff take milliseconds.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hearth_runtime::jobs::{
    Backoff, JobContext, JobError, JobHandler, JobQueue, JobQueueOptions, JobStatus, QueueError, StepOutcome,
    SubmitOptions,
};
use hearth_runtime::{Clock, ManualClock, MetaStore, Scope, SystemClock};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

// ---------------------------------------------------------------------------------------------
// Backends

/// A metadata store for one test: a fresh SQLite file, or a fresh PostgreSQL schema.
struct TestDb {
    meta: MetaStore,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Schema { admin: String, schema: String },
}

async fn sqlite_db() -> TestDb {
    let dir = std::env::temp_dir().join(format!("hearth-jobs-test-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}", dir.join("meta.db").display());
    let meta = MetaStore::open(&url).await.expect("open sqlite");
    TestDb { meta, url, cleanup: Cleanup::Dir(dir) }
}

async fn postgres_db() -> Option<TestDb> {
    let Ok(admin) = std::env::var("HEARTH_TEST_DATABASE_URL") else {
        eprintln!("notice: HEARTH_TEST_DATABASE_URL is not set; skipping the PostgreSQL run");
        return None;
    };
    let schema = format!("jobs_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&admin).await.expect("connect postgres");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&pool).await.expect("create schema");
    pool.close().await;
    let sep = if admin.contains('?') { '&' } else { '?' };
    let url = format!("{admin}{sep}options=-c%20search_path%3D{schema}");
    let meta = MetaStore::open(&url).await.expect("open postgres");
    Some(TestDb { meta, url, cleanup: Cleanup::Schema { admin, schema } })
}

impl TestDb {
    async fn close(self) {
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin, schema } => {
                if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&pool).await;
                    pool.close().await;
                }
            }
        }
    }
}

/// Generate a SQLite and a PostgreSQL test from one scenario `async fn(&TestDb)`.
macro_rules! both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let db = super::sqlite_db().await;
                    super::$scenario(&db).await;
                    db.close().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(db) = super::postgres_db().await else { return };
                    super::$scenario(&db).await;
                    db.close().await;
                }
            )*
        }
    };
}

both_backends!(
    steps_run_in_order_with_state,
    crash_resumes_at_first_unfinished_step,
    lost_lease_cannot_commit,
    graceful_shutdown_releases_job,
    retry_backs_off_on_the_clock,
    attempts_exhausted_fails_job,
    fatal_error_fails_at_once,
    wait_and_finish_outcomes,
    cancel_queued_and_running,
    submit_is_idempotent,
    two_nodes_run_each_step_once,
);

// ---------------------------------------------------------------------------------------------
// Helpers

fn t0() -> OffsetDateTime {
    time::macros::datetime!(2030-01-01 00:00:00 UTC)
}

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1")
}

fn opts(node: &str) -> JobQueueOptions {
    JobQueueOptions {
        node_id: node.to_string(),
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(100),
        backoff: Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(300), jitter: false },
    }
}

/// Wait (real time, up to 20 s) until `cond` holds.
async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..2000 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Advance the manual clock in `step`s (yielding real time in between) until `cond` holds.
async fn advance_until<F, Fut>(clock: &ManualClock, step: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..2000 {
        if cond().await {
            return;
        }
        clock.advance(step);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn status(q: &JobQueue, id: &str) -> JobStatus {
    q.get(id).await.unwrap().expect("job exists").status
}

/// Executions per (job id, step index), shared by every handler instance of a test.
#[derive(Clone, Default)]
struct Counts(Arc<Mutex<HashMap<(String, usize), u32>>>);

impl Counts {
    fn hit(&self, id: &str, step: usize) -> u32 {
        let mut m = self.0.lock().unwrap();
        let c = m.entry((id.to_string(), step)).or_default();
        *c += 1;
        *c
    }
    fn get(&self, id: &str, step: usize) -> u32 {
        self.0.lock().unwrap().get(&(id.to_string(), step)).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Log {
    done: Vec<String>,
    #[serde(default)]
    failed: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// Three steps; each checks that the state holds exactly the earlier steps, then appends itself.
/// Step `gate_step` (if any) waits on a semaphore permit on its first execution.
struct Ordered {
    counts: Counts,
    gate: Option<(usize, Arc<Semaphore>)>,
    /// Counts steps run by this handler's node, keyed by node name.
    node: Option<(&'static str, Counts)>,
}

#[async_trait::async_trait]
impl JobHandler for Ordered {
    const KIND: &'static str = "test.ordered";
    type State = Log;
    fn steps(&self) -> &'static [&'static str] {
        &["prepare", "work", "publish"]
    }
    async fn run_step(&self, ctx: &JobContext, step: usize, state: &mut Log) -> Result<StepOutcome, JobError> {
        let n = self.counts.hit(&ctx.id, step);
        if let Some((name, by_node)) = &self.node {
            by_node.hit(name, 0);
        }
        let expected: Vec<String> = self.steps()[..step].iter().map(|s| s.to_string()).collect();
        if state.done != expected {
            return Err(JobError::fatal(format!("state {:?} before step {step}", state.done)));
        }
        assert_eq!(ctx.step_name, self.steps()[step]);
        if let Some((gate_step, sem)) = &self.gate {
            if *gate_step == step && n == 1 {
                sem.acquire().await.unwrap().forget();
            }
        }
        state.done.push(ctx.step_name.to_string());
        Ok(StepOutcome::Done)
    }
}

/// Step 0 fails with a retryable error `fail_times` times (or always), or fatally.
struct Flaky {
    counts: Counts,
    fail_times: u32,
    fatal: bool,
    failed_hook: Counts,
}

#[async_trait::async_trait]
impl JobHandler for Flaky {
    const KIND: &'static str = "test.flaky";
    type State = Log;
    fn steps(&self) -> &'static [&'static str] {
        &["call", "after"]
    }
    async fn run_step(&self, ctx: &JobContext, step: usize, state: &mut Log) -> Result<StepOutcome, JobError> {
        let n = self.counts.hit(&ctx.id, step);
        if step == 0 {
            // A change that must be discarded when the step fails.
            state.done.push("partial".into());
            assert_eq!(ctx.attempt, n, "attempt counts tries of this step");
            if self.fatal {
                return Err(JobError::fatal("bad input"));
            }
            if n <= self.fail_times {
                return Err(JobError::retryable(format!("try {n} failed")));
            }
            state.done.retain(|s| s != "partial");
        }
        state.done.push(ctx.step_name.to_string());
        Ok(StepOutcome::Done)
    }
    async fn on_failed(&self, ctx: &JobContext, state: &mut Log, error: &str) {
        self.failed_hook.hit(&ctx.id, 0);
        assert!(!state.done.contains(&"partial".to_string()), "on_failed sees the committed state");
        state.failed = Some(error.to_string());
    }
}

/// Step 0 polls: waits 10 s twice (counting in the state), then is done; step 1 finishes the
/// job early; step 2 must never run.
struct Poller {
    counts: Counts,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PollState {
    polls: u32,
}

#[async_trait::async_trait]
impl JobHandler for Poller {
    const KIND: &'static str = "test.poller";
    type State = PollState;
    fn steps(&self) -> &'static [&'static str] {
        &["poll", "finish", "never"]
    }
    async fn run_step(&self, ctx: &JobContext, step: usize, state: &mut PollState) -> Result<StepOutcome, JobError> {
        self.counts.hit(&ctx.id, step);
        match step {
            0 => {
                state.polls += 1;
                if state.polls < 3 {
                    Ok(StepOutcome::Wait(Duration::from_secs(10)))
                } else {
                    Ok(StepOutcome::Done)
                }
            }
            1 => Ok(StepOutcome::Finish),
            _ => Err(JobError::fatal("step after finish ran")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async fn steps_run_in_order_with_state(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let q = JobQueue::open_with(&db.meta, clock.clone(), opts("a")).await.unwrap();
    let counts = Counts::default();
    q.register(Ordered { counts: counts.clone(), gate: None, node: None });
    let id = q.submit_job::<Ordered>(&scope(), &Log::default(), SubmitOptions::default()).await.unwrap();
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!((rec.status, rec.step, rec.attempts), (JobStatus::Queued, 0, 0));
    assert_eq!(rec.kind, "test.ordered");
    assert_eq!(rec.scope, scope());

    let pool = q.run_workers(2);
    until("job to succeed", || async { status(&q, &id).await == JobStatus::Succeeded }).await;
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!(rec.step, 3);
    assert_eq!(rec.lease_owner, None);
    let log: Log = rec.state_as().unwrap();
    assert_eq!(log.done, vec!["prepare", "work", "publish"]);
    for step in 0..3 {
        assert_eq!(counts.get(&id, step), 1, "step {step} ran once");
    }
    let listed = q.list(Some("test.ordered"), &scope()).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec![id.as_str()]);
    assert!(q.list(None, &Scope::new("999999999999", "us-east-1")).await.unwrap().is_empty());
    pool.shutdown().await;

    // Finished jobs can be purged; unfinished ones never are.
    let queued = q.submit_job::<Ordered>(&scope(), &Log::default(), SubmitOptions::default()).await.unwrap();
    clock.advance(Duration::from_secs(60));
    assert_eq!(q.delete_finished_before(clock.now()).await.unwrap(), 1);
    assert!(q.get(&id).await.unwrap().is_none());
    assert!(q.get(&queued).await.unwrap().is_some());
}

async fn crash_resumes_at_first_unfinished_step(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let counts = Counts::default();
    let gate = Arc::new(Semaphore::new(0));

    // Node A runs "prepare", then hangs in "work" and crashes.
    let a = JobQueue::open_with(&db.meta, clock.clone(), opts("a")).await.unwrap();
    a.register(Ordered { counts: counts.clone(), gate: Some((1, gate.clone())), node: None });
    let id = a.submit_job::<Ordered>(&scope(), &Log::default(), SubmitOptions::default()).await.unwrap();
    let pool_a = a.run_workers(1);
    until("step 1 to start", || async { counts.get(&id, 1) == 1 }).await;
    pool_a.abort().await;
    let rec = a.get(&id).await.unwrap().unwrap();
    assert_eq!((rec.status, rec.step), (JobStatus::Running, 1), "prepare committed, work not");
    assert!(rec.lease_owner.as_deref().unwrap().starts_with("a/"));

    // Node B (a restart) cannot take the job while A's lease holds...
    let meta_b = MetaStore::open(&db.url).await.unwrap();
    let b = JobQueue::open_with(&meta_b, clock.clone(), opts("b")).await.unwrap();
    b.register(Ordered { counts: counts.clone(), gate: Some((1, gate.clone())), node: None });
    let pool_b = b.run_workers(2);
    clock.advance(Duration::from_secs(20));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(counts.get(&id, 1), 1, "lease still held");
    // ...and resumes at "work" once it expires.
    clock.advance(Duration::from_secs(11));
    advance_until(&clock, Duration::from_millis(100), "job to succeed", || async {
        status(&b, &id).await == JobStatus::Succeeded
    })
    .await;
    assert_eq!(counts.get(&id, 0), 1, "finished step never reruns");
    assert_eq!(counts.get(&id, 1), 2, "interrupted step reruns");
    assert_eq!(counts.get(&id, 2), 1);
    let rec = b.get(&id).await.unwrap().unwrap();
    assert_eq!(rec.state_as::<Log>().unwrap().done, vec!["prepare", "work", "publish"]);
    pool_b.shutdown().await;
}

async fn lost_lease_cannot_commit(db: &TestDb) {
    let counts = Counts::default();
    let gate = Arc::new(Semaphore::new(0));
    // Node A's clock stands still (no heartbeat ever fires); node B's runs 31 s ahead, so for
    // B the lease A took has expired while A is still running the step.
    let clock_a = ManualClock::new(t0());
    let a = JobQueue::open_with(&db.meta, clock_a.clone(), opts("a")).await.unwrap();
    a.register(Ordered { counts: counts.clone(), gate: Some((1, gate.clone())), node: None });
    let id = a.submit_job::<Ordered>(&scope(), &Log::default(), SubmitOptions::default()).await.unwrap();
    let pool_a = a.run_workers(1);
    until("step 1 to start on a", || async { counts.get(&id, 1) == 1 }).await;

    let clock_b = ManualClock::new(t0() + time::Duration::seconds(31));
    let meta_b = MetaStore::open(&db.url).await.unwrap();
    let b = JobQueue::open_with(&meta_b, clock_b.clone(), opts("b")).await.unwrap();
    b.register(Ordered { counts: counts.clone(), gate: Some((1, gate.clone())), node: None });
    let pool_b = b.run_workers(1);
    until("b to finish the job", || async { status(&b, &id).await == JobStatus::Succeeded }).await;
    let rec = b.get(&id).await.unwrap().unwrap();
    assert_eq!(rec.attempts, 0);

    // A's step now finishes, but its commit is fenced out and it goes no further.
    gate.add_permits(1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = b.get(&id).await.unwrap().unwrap();
    assert_eq!(after.status, JobStatus::Succeeded);
    assert_eq!(after.updated, rec.updated, "a committed nothing");
    assert_eq!(after.state_as::<Log>().unwrap().done, vec!["prepare", "work", "publish"]);
    assert_eq!((counts.get(&id, 0), counts.get(&id, 1), counts.get(&id, 2)), (1, 2, 1));
    pool_a.shutdown().await;
    pool_b.shutdown().await;
}

async fn graceful_shutdown_releases_job(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let counts = Counts::default();
    let gate = Arc::new(Semaphore::new(0));
    let q = JobQueue::open_with(&db.meta, clock.clone(), opts("a")).await.unwrap();
    q.register(Ordered { counts: counts.clone(), gate: Some((0, gate.clone())), node: None });
    let id = q.submit_job::<Ordered>(&scope(), &Log::default(), SubmitOptions::default()).await.unwrap();
    let pool = q.run_workers(1);
    until("step 0 to start", || async { counts.get(&id, 0) == 1 }).await;
    let stopping = tokio::spawn(pool.shutdown_timeout(Duration::from_secs(30)));
    tokio::time::sleep(Duration::from_millis(50)).await;
    gate.add_permits(1);
    assert!(stopping.await.unwrap(), "stopped within the grace period");
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!((rec.status, rec.step, rec.lease_owner.clone()), (JobStatus::Queued, 1, None), "step 0 kept, job released");

    // A restart continues at once, without waiting for a lease to expire.
    let pool = q.run_workers(1);
    until("job to succeed", || async { status(&q, &id).await == JobStatus::Succeeded }).await;
    assert_eq!((counts.get(&id, 0), counts.get(&id, 1), counts.get(&id, 2)), (1, 1, 1));
    pool.shutdown().await;
}

async fn retry_backs_off_on_the_clock(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let q = JobQueue::open_with(&db.meta, clock.clone(), opts("a")).await.unwrap();
    let counts = Counts::default();
    let hook = Counts::default();
    q.register(Flaky { counts: counts.clone(), fail_times: 2, fatal: false, failed_hook: hook.clone() });
    let id = q.submit_job::<Flaky>(&scope(), &Log::default(), SubmitOptions::default()).await.unwrap();
    let pool = q.run_workers(1);

    until("first failure", || async { q.get(&id).await.unwrap().unwrap().attempts == 1 }).await;
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!(rec.status, JobStatus::Queued);
    assert_eq!(rec.last_error.as_deref(), Some("try 1 failed"));
    assert_eq!(rec.run_after - rec.updated, time::Duration::seconds(1), "first backoff is the base");
    assert!(rec.state_as::<Log>().unwrap().done.is_empty(), "failed step's state discarded");

    // Nothing runs before the backoff is over.
    clock.advance(Duration::from_millis(900));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(counts.get(&id, 0), 1);
    advance_until(&clock, Duration::from_millis(100), "second failure", || async {
        q.get(&id).await.unwrap().unwrap().attempts == 2
    })
    .await;
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!(rec.run_after - rec.updated, time::Duration::seconds(2), "backoff doubles");
    let second_failed_at = rec.updated;
    assert!(second_failed_at - t0() >= time::Duration::seconds(1));

    advance_until(&clock, Duration::from_millis(100), "success", || async {
        status(&q, &id).await == JobStatus::Succeeded
    })
    .await;
    assert!(clock.now() - second_failed_at >= time::Duration::seconds(2));
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!(counts.get(&id, 0), 3);
    assert_eq!(counts.get(&id, 1), 1);
    assert_eq!(rec.attempts, 0);
    assert_eq!(rec.state_as::<Log>().unwrap().done, vec!["call", "after"]);
    assert_eq!(hook.get(&id, 0), 0);
    pool.shutdown().await;
}

async fn attempts_exhausted_fails_job(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let q = JobQueue::open_with(&db.meta, clock.clone(), opts("a")).await.unwrap();
    let counts = Counts::default();
    let hook = Counts::default();
    q.register(Flaky { counts: counts.clone(), fail_times: u32::MAX, fatal: false, failed_hook: hook.clone() });
    let id = q
        .submit_job::<Flaky>(&scope(), &Log::default(), SubmitOptions { max_attempts: 3, ..Default::default() })
        .await
        .unwrap();
    let pool = q.run_workers(2);
    advance_until(&clock, Duration::from_millis(250), "job to fail", || async {
        status(&q, &id).await == JobStatus::Failed
    })
    .await;
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!(rec.attempts, 3);
    assert_eq!(rec.last_error.as_deref(), Some("try 3 failed"));
    assert_eq!(counts.get(&id, 0), 3);
    assert_eq!(counts.get(&id, 1), 0);
    assert_eq!(hook.get(&id, 0), 1, "on_failed ran once");
    assert_eq!(rec.state_as::<Log>().unwrap().failed.as_deref(), Some("try 3 failed"), "hook's state stored");
    // A failed job is never picked up again.
    clock.advance(Duration::from_secs(600));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(counts.get(&id, 0), 3);
    pool.shutdown().await;
}

async fn fatal_error_fails_at_once(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let q = JobQueue::open_with(&db.meta, clock.clone(), opts("a")).await.unwrap();
    let counts = Counts::default();
    let hook = Counts::default();
    q.register(Flaky { counts: counts.clone(), fail_times: 0, fatal: true, failed_hook: hook.clone() });
    let id = q.submit_job::<Flaky>(&scope(), &Log::default(), SubmitOptions::default()).await.unwrap();
    let pool = q.run_workers(1);
    until("job to fail", || async { status(&q, &id).await == JobStatus::Failed }).await;
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!((rec.attempts, rec.step), (0, 0));
    assert_eq!(rec.last_error.as_deref(), Some("bad input"));
    assert_eq!(counts.get(&id, 0), 1);
    assert_eq!(hook.get(&id, 0), 1);
    pool.shutdown().await;
}

async fn wait_and_finish_outcomes(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let q = JobQueue::open_with(&db.meta, clock.clone(), opts("a")).await.unwrap();
    let counts = Counts::default();
    q.register(Poller { counts: counts.clone() });
    let id = q.submit_job::<Poller>(&scope(), &PollState::default(), SubmitOptions::default()).await.unwrap();
    let pool = q.run_workers(1);
    until("first poll", || async { q.get(&id).await.unwrap().unwrap().state["polls"] == 1 }).await;
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!((rec.status, rec.step), (JobStatus::Queued, 0));
    assert_eq!(rec.run_after - rec.updated, time::Duration::seconds(10));
    clock.advance(Duration::from_secs(9));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(counts.get(&id, 0), 1, "waits its 10 s");
    advance_until(&clock, Duration::from_millis(500), "job to succeed", || async {
        status(&q, &id).await == JobStatus::Succeeded
    })
    .await;
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!(rec.state["polls"], 3, "state persisted across waits");
    assert_eq!(rec.step, 3, "finish skips the rest");
    assert_eq!((counts.get(&id, 0), counts.get(&id, 1), counts.get(&id, 2)), (3, 1, 0));
    pool.shutdown().await;
}

async fn cancel_queued_and_running(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let q = JobQueue::open_with(&db.meta, clock.clone(), opts("a")).await.unwrap();

    // A job waiting between polls is cancelled and never runs again.
    let counts = Counts::default();
    q.register(Poller { counts: counts.clone() });
    let id = q.submit_job::<Poller>(&scope(), &PollState::default(), SubmitOptions::default()).await.unwrap();
    let pool = q.run_workers(1);
    until("first poll", || async { q.get(&id).await.unwrap().unwrap().state["polls"] == 1 }).await;
    assert!(q.cancel(&id).await.unwrap());
    assert_eq!(status(&q, &id).await, JobStatus::Cancelled);
    clock.advance(Duration::from_secs(60));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(counts.get(&id, 0), 1);
    assert!(!q.cancel(&id).await.unwrap(), "already final");
    assert!(matches!(q.cancel("no-such-job").await, Err(QueueError::NotFound(_))));

    // A running step's result is discarded after a cancel.
    let ordered = Counts::default();
    let gate = Arc::new(Semaphore::new(0));
    q.register(Ordered { counts: ordered.clone(), gate: Some((0, gate.clone())), node: None });
    let id = q.submit_job::<Ordered>(&scope(), &Log::default(), SubmitOptions::default()).await.unwrap();
    until("step 0 to start", || async { ordered.get(&id, 0) == 1 }).await;
    assert!(q.cancel(&id).await.unwrap());
    gate.add_permits(1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    clock.advance(Duration::from_secs(60));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rec = q.get(&id).await.unwrap().unwrap();
    assert_eq!((rec.status, rec.step), (JobStatus::Cancelled, 0));
    assert_eq!(ordered.get(&id, 1), 0);
    pool.shutdown().await;
}

async fn submit_is_idempotent(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let q = JobQueue::open_with(&db.meta, clock.clone(), opts("a")).await.unwrap();
    let first = q.submit("test.any", &scope(), &serde_json::json!({"n": 1}), SubmitOptions::with_id("job-1")).await.unwrap();
    let again = q.submit("test.any", &scope(), &serde_json::json!({"n": 2}), SubmitOptions::with_id("job-1")).await.unwrap();
    assert_eq!(first, "job-1");
    assert_eq!(again, "job-1");
    let rec = q.get("job-1").await.unwrap().unwrap();
    assert_eq!(rec.state["n"], 1, "the first submit wins");
    assert_eq!(q.list(None, &scope()).await.unwrap().len(), 1);
    let other = q.submit("test.other", &scope(), &(), SubmitOptions::with_id("job-1")).await;
    assert!(matches!(other, Err(QueueError::Conflict(_))), "{other:?}");
    let zero = q.submit("test.any", &scope(), &(), SubmitOptions { max_attempts: 0, ..Default::default() }).await;
    assert!(matches!(zero, Err(QueueError::Invalid(_))));
    assert!(q.get("job-2").await.unwrap().is_none());

    // A job submitted for later does not start early.
    let later = SubmitOptions { run_after: Some(t0() + time::Duration::minutes(5)), ..Default::default() };
    let counts = Counts::default();
    q.register(Ordered { counts: counts.clone(), gate: None, node: None });
    let id = q.submit_job::<Ordered>(&scope(), &Log::default(), later).await.unwrap();
    let pool = q.run_workers(1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(counts.get(&id, 0), 0);
    clock.advance(Duration::from_secs(301));
    advance_until(&clock, Duration::from_millis(100), "job to succeed", || async {
        status(&q, &id).await == JobStatus::Succeeded
    })
    .await;
    pool.shutdown().await;
}

async fn two_nodes_run_each_step_once(db: &TestDb) {
    const JOBS: usize = 50;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let counts = Counts::default();
    let mut o = opts("node-a");
    o.poll_interval = Duration::from_millis(20);
    let a = JobQueue::open_with(&db.meta, clock.clone(), o.clone()).await.unwrap();
    let meta_b = MetaStore::open(&db.url).await.unwrap();
    o.node_id = "node-b".into();
    let b = JobQueue::open_with(&meta_b, clock.clone(), o).await.unwrap();
    let by_node = Counts::default();
    a.register(Ordered { counts: counts.clone(), gate: None, node: Some(("node-a", by_node.clone())) });
    b.register(Ordered { counts: counts.clone(), gate: None, node: Some(("node-b", by_node.clone())) });
    let pools = [a.run_workers(3), b.run_workers(3)];
    let mut ids = Vec::new();
    for i in 0..JOBS {
        let q = if i % 2 == 0 { &a } else { &b };
        ids.push(q.submit_job::<Ordered>(&scope(), &Log::default(), SubmitOptions::default()).await.unwrap());
    }
    until("all jobs to succeed", || async {
        let all = a.list(Some("test.ordered"), &scope()).await.unwrap();
        all.len() == JOBS && all.iter().all(|r| r.status == JobStatus::Succeeded)
    })
    .await;
    for id in &ids {
        for step in 0..3 {
            assert_eq!(counts.get(id, step), 1, "job {id} step {step} ran exactly once");
        }
    }
    let owners: std::collections::HashSet<String> = counts.0.lock().unwrap().keys().map(|(id, _)| id.clone()).collect();
    assert_eq!(owners.len(), JOBS);
    let (ran_a, ran_b) = (by_node.get("node-a", 0), by_node.get("node-b", 0));
    eprintln!("steps run: node-a {ran_a}, node-b {ran_b}");
    assert_eq!(ran_a + ran_b, 3 * JOBS as u32);
    assert!(ran_a > 0 && ran_b > 0, "both nodes took work");
    for p in pools {
        p.shutdown().await;
    }
}
