//! The tabular engine: model compute off the async runtime.
//!
//! Predictions and model loads run on a small pool of named threads fed by a channel (async
//! callers await a oneshot reply, so a slow model never blocks a tokio worker). Training runs
//! on a thread of its own per run, so a long fit never delays predictions.
//!
//! ```no_run
//! # async fn demo(models_dir: &std::path::Path, model_bytes: Vec<u8>) -> Result<(), hearth_inference::tabular::TabularError> {
//! use hearth_inference::tabular::{Engine, Matrix, Xgb};
//! let engine = Engine::new(2);
//! let xgb = Xgb::from_models_dir(models_dir)?;
//! let model = engine.load(xgb, model_bytes).await?;
//! let x = Matrix::from_rows(&[[0.345f32, 0.224, 0.131, 0.042, 0.279, -0.110, -0.099, 0.0]])?;
//! let y = engine.predict(model, x).await?;
//! # let _ = y; Ok(()) }
//! ```

use super::{Booster, Dataset, Matrix, Predictions, TabularError, TrainControl, TrainOutput, TrainParams, Xgb};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Task = Box<dyn FnOnce() + Send + 'static>;

/// One training run for [`Engine::train`].
pub struct TrainRequest {
    /// The library.
    pub xgb: Arc<Xgb>,
    /// What to train.
    pub params: TrainParams,
    /// The training data.
    pub train: Dataset,
    /// Named evaluation sets (e.g. `"validation"`).
    pub evals: Vec<(String, Dataset)>,
    /// Set to stop between rounds (the model keeps the rounds done).
    pub cancel: Arc<AtomicBool>,
    /// XGBoost threads (`nthread`) unless the parameters say.
    pub threads: Option<usize>,
    /// Sees every round's evaluation.
    pub on_round: Box<dyn FnMut(&super::RoundEval) + Send>,
}

struct Inner {
    tx: Mutex<Option<mpsc::Sender<Task>>>,
    threads: usize,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the worker threads after their current task.
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// A pool of engine threads; cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("threads", &self.inner.threads).finish()
    }
}

impl Engine {
    /// Start `threads` engine threads (at least 1).
    pub fn new(threads: usize) -> Engine {
        let threads = threads.max(1);
        let (tx, rx) = mpsc::channel::<Task>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("tabular-{i}")).spawn(move || loop {
                let task = {
                    let guard = rx.lock().unwrap_or_else(|p| p.into_inner());
                    guard.recv()
                };
                match task {
                    Ok(task) => task(),
                    Err(_) => return,
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a tabular engine thread");
            }
        }
        Engine { inner: Arc::new(Inner { tx: Mutex::new(Some(tx)), threads }) }
    }

    /// Number of engine threads.
    pub fn threads(&self) -> usize {
        self.inner.threads
    }

    /// Run `f` on an engine thread and await its result.
    pub async fn run<R, F>(&self, f: F) -> Result<R, TabularError>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(r);
        });
        {
            let guard = self.inner.tx.lock().unwrap_or_else(|p| p.into_inner());
            let sender = guard.as_ref().ok_or(TabularError::EngineStopped)?;
            sender.send(task).map_err(|_| TabularError::EngineStopped)?;
        }
        match rx.await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(_)) => Err(TabularError::Xgboost("the engine task panicked".into())),
            Err(_) => Err(TabularError::EngineStopped),
        }
    }

    /// Load a model from its bytes (see [`Booster::load`]), set to predict on one thread per
    /// call (requests run in parallel on the engine threads instead).
    pub async fn load(&self, xgb: Arc<Xgb>, bytes: Vec<u8>) -> Result<Arc<Booster>, TabularError> {
        self.run(move || {
            let b = Booster::load(&xgb, &bytes)?;
            b.set_param("nthread", "1")?;
            Ok(Arc::new(b))
        })
        .await?
    }

    /// Predict `x` with `model`.
    pub async fn predict(&self, model: Arc<Booster>, x: Matrix) -> Result<Predictions, TabularError> {
        self.run(move || model.predict(&x)).await?
    }

    /// Train on a thread of its own (see [`super::train()`]).
    pub async fn train(&self, req: TrainRequest) -> Result<TrainOutput, TabularError> {
        let TrainRequest { xgb, params, train, evals, cancel, threads, mut on_round } = req;
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("tabular-train".into())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let evals: Vec<(&str, &Dataset)> = evals.iter().map(|(n, d)| (n.as_str(), d)).collect();
                    let ctl = TrainControl { cancel: Some(&cancel), on_round: Some(&mut *on_round), threads };
                    super::train(&xgb, &params, &train, &evals, ctl)
                }));
                let _ = tx.send(r.unwrap_or_else(|_| Err(TabularError::Xgboost("training panicked".into()))));
            })
            .map_err(|e| TabularError::Xgboost(format!("could not start the training thread: {e}")))?;
        rx.await.map_err(|_| TabularError::EngineStopped)?
    }
}
