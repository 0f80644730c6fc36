//! Workers: the claim loop, the per-job step runner with its lease heartbeat, and the pool
//! handle that stops them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::store::{self, Claimed, Commit};
use super::{JobContext, JobError, JobHandler, JobStatus, Shared, StepOutcome};

type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A registered handler with its state type erased.
pub(crate) trait Runner: Send + Sync {
    fn run<'a>(&'a self, shared: &'a Shared, claimed: Claimed, shutdown: &'a watch::Receiver<bool>) -> BoxFuture<'a>;
}

pub(crate) struct TypedRunner<H>(pub Arc<H>);

impl<H: JobHandler> Runner for TypedRunner<H> {
    fn run<'a>(&'a self, shared: &'a Shared, claimed: Claimed, shutdown: &'a watch::Receiver<bool>) -> BoxFuture<'a> {
        Box::pin(run_job(&*self.0, shared, claimed, shutdown))
    }
}

/// Running workers; see [`super::JobQueue::run_workers`].
pub struct WorkerPool {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Stop gracefully: workers take no new job, finish the step they are running, commit it,
    /// release their job for the next node, and exit. Returns when all have exited.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }

    /// Like [`WorkerPool::shutdown`], but abort workers still running a step after `grace`
    /// (their jobs resume elsewhere once the lease expires). Returns whether all stopped in time.
    pub async fn shutdown_timeout(mut self, grace: Duration) -> bool {
        let _ = self.shutdown.send(true);
        let tasks: Vec<JoinHandle<()>> = self.tasks.drain(..).collect();
        let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
        // Process lifetime, not job time: a real timer, not the injected clock.
        match tokio::time::timeout(grace, futures_util::future::join_all(tasks)).await {
            Ok(_) => true,
            Err(_) => {
                tracing::warn!(workers = aborts.len(), "job workers did not stop in time, aborting");
                for a in aborts {
                    a.abort();
                }
                false
            }
        }
    }

    /// Stop at once, as a crash would: running steps are dropped without committing, and their
    /// jobs are picked up again when their leases expire.
    pub async fn abort(mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the pool has no workers.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        // A pool dropped without shutdown stops like a graceful shutdown, in the background.
        let _ = self.shutdown.send(true);
    }
}

pub(crate) fn start(shared: Arc<Shared>, n: usize) -> WorkerPool {
    let (tx, rx) = watch::channel(false);
    let tasks = (0..n)
        .map(|_| {
            let worker = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
            tokio::spawn(worker_loop(shared.clone(), worker, rx.clone()))
        })
        .collect();
    WorkerPool { shutdown: tx, tasks }
}

async fn worker_loop(shared: Arc<Shared>, worker: String, mut shutdown: watch::Receiver<bool>) {
    tracing::debug!(node = %shared.opts.node_id, worker = %worker, "job worker started");
    let mut claims: u64 = 0;
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Register for wake-ups before looking, so a submit between the look and the wait
        // is not missed.
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();

        let kinds: Vec<&'static str> = {
            let handlers = shared.handlers.read().unwrap_or_else(|p| p.into_inner());
            let mut k: Vec<_> = handlers.keys().copied().collect();
            k.sort_unstable();
            k
        };
        claims += 1;
        let owner = format!("{}/{}/{}", shared.opts.node_id, worker, claims);
        let now = shared.clock.now();
        match store::claim(&shared.db, &kinds, &owner, now, now + shared.opts.lease).await {
            Ok(Some(claimed)) => {
                let runner = shared.handlers.read().unwrap_or_else(|p| p.into_inner()).get(claimed.kind.as_str()).cloned();
                match runner {
                    Some(runner) => runner.run(&shared, claimed, &shutdown).await,
                    None => tracing::warn!(job = %claimed.id, kind = %claimed.kind, "no handler for claimed job"),
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "job claim failed"),
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = shared.clock.sleep(shared.opts.poll_interval) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::debug!(worker = %worker, "job worker stopped");
}

/// Extend the lease every third of its length until it is found lost; then return.
async fn heartbeat_until_lost(shared: &Shared, id: &str, owner: &str) {
    let every = (shared.opts.lease / 3).max(Duration::from_millis(10));
    loop {
        shared.clock.sleep(every).await;
        let expires = shared.clock.now() + shared.opts.lease;
        match store::heartbeat(&shared.db, id, owner, expires).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(job = %id, error = %e, "job heartbeat failed"),
        }
    }
}

/// Commit, logging (not propagating) errors; `false` if the commit did not happen.
async fn commit(shared: &Shared, claimed: &Claimed, c: Commit<'_>) -> bool {
    match store::commit(&shared.db, &claimed.id, &claimed.owner, &c).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::info!(job = %claimed.id, "job lease lost or cancelled, result discarded");
            false
        }
        Err(e) => {
            // The lease runs out and another claim retries the step.
            tracing::warn!(job = %claimed.id, error = %e, "job commit failed");
            false
        }
    }
}

async fn run_job<H: JobHandler>(handler: &H, shared: &Shared, claimed: Claimed, shutdown: &watch::Receiver<bool>) {
    let steps = handler.steps();
    let clock = &shared.clock;
    let base_ctx = |step: usize, attempts: u32| JobContext {
        id: claimed.id.clone(),
        kind: H::KIND,
        scope: claimed.scope.clone(),
        step,
        step_name: steps.get(step).copied().unwrap_or(""),
        attempt: attempts.saturating_add(1),
        clock: clock.clone(),
    };

    // Decode (and upgrade) the committed state.
    let decoded = decode_state::<H>(&claimed);
    let (mut step, mut committed) = match decoded {
        Ok(v) => v,
        Err(msg) => {
            tracing::error!(job = %claimed.id, error = %msg, "job state cannot be decoded");
            fail::<H>(handler, shared, &claimed, base_ctx(claimed.step, claimed.attempts), None, claimed.step, claimed.attempts, &msg).await;
            return;
        }
    };
    let mut attempts = claimed.attempts;

    if attempts >= claimed.max_attempts {
        let msg = claimed.last_error.clone().unwrap_or_else(|| store::LOST_WORKER.to_string());
        fail::<H>(handler, shared, &claimed, base_ctx(step, attempts), Some(&committed), step, attempts, &msg).await;
        return;
    }

    loop {
        if step >= steps.len() {
            let now = clock.now();
            let state = committed.to_string();
            if commit(shared, &claimed, Commit { state: &state, state_version: H::STATE_VERSION, step, attempts: 0, status: JobStatus::Succeeded, run_after: now, lease_expires: None, last_error: None, now }).await {
                tracing::info!(job = %claimed.id, kind = H::KIND, "job succeeded");
            }
            return;
        }
        let ctx = base_ctx(step, attempts);
        let mut state: H::State = match serde_json::from_value(committed.clone()) {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("job state cannot be decoded: {e}");
                fail::<H>(handler, shared, &claimed, ctx, None, step, attempts, &msg).await;
                return;
            }
        };
        tracing::debug!(job = %claimed.id, kind = H::KIND, step = ctx.step_name, attempt = ctx.attempt, "step started");
        let outcome = tokio::select! {
            r = handler.run_step(&ctx, step, &mut state) => r,
            _ = heartbeat_until_lost(shared, &claimed.id, &claimed.owner) => {
                tracing::info!(job = %claimed.id, step = ctx.step_name, "job lease lost or cancelled, step dropped");
                return;
            }
        };
        let now = clock.now();
        match outcome {
            Ok(StepOutcome::Done) | Ok(StepOutcome::Finish) => {
                let finish = matches!(outcome, Ok(StepOutcome::Finish));
                let new_state = match serde_json::to_value(&state) {
                    Ok(v) => v,
                    Err(e) => {
                        let msg = format!("job state cannot be encoded: {e}");
                        fail::<H>(handler, shared, &claimed, ctx, Some(&committed), step, attempts, &msg).await;
                        return;
                    }
                };
                let next = if finish { steps.len() } else { step + 1 };
                let done = next >= steps.len();
                let stop = !done && *shutdown.borrow();
                let (status, lease_expires) = if done {
                    (JobStatus::Succeeded, None)
                } else if stop {
                    (JobStatus::Queued, None)
                } else {
                    (JobStatus::Running, Some(now + shared.opts.lease))
                };
                let state_text = new_state.to_string();
                let ok = commit(shared, &claimed, Commit {
                    state: &state_text,
                    state_version: H::STATE_VERSION,
                    step: next,
                    attempts: 0,
                    status,
                    run_after: now,
                    lease_expires,
                    last_error: None,
                    now,
                })
                .await;
                if !ok {
                    return;
                }
                tracing::info!(job = %claimed.id, kind = H::KIND, step = ctx.step_name, "step finished");
                if done {
                    tracing::info!(job = %claimed.id, kind = H::KIND, "job succeeded");
                    return;
                }
                if stop {
                    tracing::info!(job = %claimed.id, "job released for shutdown");
                    return;
                }
                step = next;
                attempts = 0;
                committed = new_state;
            }
            Ok(StepOutcome::Wait(d)) => {
                let state_text = match serde_json::to_string(&state) {
                    Ok(s) => s,
                    Err(e) => {
                        let msg = format!("job state cannot be encoded: {e}");
                        fail::<H>(handler, shared, &claimed, ctx, Some(&committed), step, attempts, &msg).await;
                        return;
                    }
                };
                if commit(shared, &claimed, Commit {
                    state: &state_text,
                    state_version: H::STATE_VERSION,
                    step,
                    attempts: 0,
                    status: JobStatus::Queued,
                    run_after: now + d,
                    lease_expires: None,
                    last_error: None,
                    now,
                })
                .await
                {
                    tracing::debug!(job = %claimed.id, step = ctx.step_name, wait_ms = d.as_millis() as u64, "step waiting");
                }
                return;
            }
            Err(JobError::Retryable(msg)) => {
                attempts = attempts.saturating_add(1);
                if attempts >= claimed.max_attempts {
                    tracing::warn!(job = %claimed.id, step = ctx.step_name, attempts, error = %msg, "step failed, attempts exhausted");
                    fail::<H>(handler, shared, &claimed, ctx, Some(&committed), step, attempts, &msg).await;
                    return;
                }
                let delay = shared.opts.backoff.delay(attempts);
                let state_text = committed.to_string();
                if commit(shared, &claimed, Commit {
                    state: &state_text,
                    state_version: H::STATE_VERSION,
                    step,
                    attempts,
                    status: JobStatus::Queued,
                    run_after: now + delay,
                    lease_expires: None,
                    last_error: Some(&msg),
                    now,
                })
                .await
                {
                    tracing::warn!(job = %claimed.id, step = ctx.step_name, attempts, retry_ms = delay.as_millis() as u64, error = %msg, "step failed, will retry");
                }
                return;
            }
            Err(JobError::Fatal(msg)) => {
                tracing::warn!(job = %claimed.id, step = ctx.step_name, error = %msg, "step failed fatally");
                fail::<H>(handler, shared, &claimed, ctx, Some(&committed), step, attempts, &msg).await;
                return;
            }
        }
    }
}

/// The committed state, upgraded to the handler's version, with its step.
fn decode_state<H: JobHandler>(claimed: &Claimed) -> Result<(usize, serde_json::Value), String> {
    let value: serde_json::Value =
        serde_json::from_str(&claimed.state).map_err(|e| format!("job state is not JSON: {e}"))?;
    if claimed.state_version > H::STATE_VERSION {
        return Err(format!(
            "job state version {} is newer than this node's {}",
            claimed.state_version,
            H::STATE_VERSION
        ));
    }
    if claimed.state_version < H::STATE_VERSION {
        return H::migrate_state(claimed.state_version, claimed.step, value).map_err(|e| format!("job state migration failed: {e}"));
    }
    Ok((claimed.step, value))
}

/// Run the handler's failure hook, then mark the job failed (fenced by the lease).
#[allow(clippy::too_many_arguments)]
async fn fail<H: JobHandler>(
    handler: &H,
    shared: &Shared,
    claimed: &Claimed,
    ctx: JobContext,
    committed: Option<&serde_json::Value>,
    step: usize,
    attempts: u32,
    error: &str,
) {
    let mut state_text = claimed.state.clone();
    let mut state_version = claimed.state_version;
    if let Some(committed) = committed {
        if let Ok(mut state) = serde_json::from_value::<H::State>(committed.clone()) {
            handler.on_failed(&ctx, &mut state, error).await;
            if let Ok(s) = serde_json::to_string(&state) {
                state_text = s;
                state_version = H::STATE_VERSION;
            }
        }
    }
    let now = shared.clock.now();
    if commit(shared, claimed, Commit {
        state: &state_text,
        state_version,
        step,
        attempts,
        status: JobStatus::Failed,
        run_after: now,
        lease_expires: None,
        last_error: Some(error),
        now,
    })
    .await
    {
        tracing::warn!(job = %claimed.id, kind = H::KIND, error = %error, "job failed");
    }
}
