//! Text engine: sentence embeddings (all-MiniLM-L6-v2, 384 dimensions, unit length) computed on
//! a dedicated engine thread fed by a channel, so async callers never block on model compute
//! (the text-embeddings-inference backend-thread design).
//!
//! - [`SentenceEmbedder`] is the synchronous model (a BERT forward pass on `gemm`, with an f16
//!   kernel for short inputs, + `tokenizers`, mean pooling, L2 norm).
//! - [`TextEngine`] is a cheap, cloneable handle to one engine thread that owns a
//!   `SentenceEmbedder` and a rayon pool of [`TextEngineOptions::threads`] threads for the
//!   matrix products. Requests queued while a forward pass runs are batched together (up to
//!   [`TextEngineOptions::max_batch`] texts), which raises throughput under load.
//! - [`TextEngine::shared`] gives every service of the process the same engine for a model
//!   directory, so the weights are loaded once (Lex intents today; sentiment and Transcribe
//!   features can reuse it).
//!
//! The model loads on the engine thread when the engine starts; if the files are missing or
//! broken, every request answers [`TextError::Load`] with the reason (for example "run
//! `hearth models fetch minilm-l6-v2`").

mod bert;
mod embedder;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Instant;

pub use embedder::{dot, normalized, SentenceEmbedder, MAX_TOKENS};

/// The registry name of the sentence-embedding model the engine loads.
pub const MODEL_NAME: &str = "minilm-l6-v2";

/// Why an embedding could not be computed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TextError {
    /// The model is not installed or its files cannot be read.
    #[error("text model unavailable: {0}")]
    Load(String),
    /// Tokenizing or the forward pass failed.
    #[error("text model failed: {0}")]
    Compute(String),
    /// The engine thread is gone.
    #[error("text engine stopped")]
    Stopped,
}

/// Tuning of a [`TextEngine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEngineOptions {
    /// Threads of the engine's compute pool: large matrix products (a build's batches of up to
    /// 1,024 tokens) split over them; a short query's products run on one thread (on a loaded
    /// 2-core machine, two threads measured no faster for a 13-token query and had a longer
    /// tail).
    pub threads: usize,
    /// Most texts one forward pass takes when requests queue up.
    pub max_batch: usize,
}

impl Default for TextEngineOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        TextEngineOptions {
            threads: cores.min(4),
            max_batch: 32,
        }
    }
}

impl TextEngineOptions {
    /// Defaults, with `threads` taken from `HEARTH_TEXT_THREADS` when it is a positive number.
    pub fn from_env() -> Self {
        let mut o = TextEngineOptions::default();
        if let Some(n) = std::env::var("HEARTH_TEXT_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)
        {
            o.threads = n;
        }
        o
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<Vec<Vec<f32>>, TextError>>;

struct Request {
    texts: Vec<String>,
    reply: Reply,
}

/// Handle to an engine thread; clone it freely.
#[derive(Clone)]
pub struct TextEngine {
    tx: mpsc::Sender<Request>,
    dim: Arc<OnceLock<usize>>,
}

impl std::fmt::Debug for TextEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextEngine")
            .field("dim", &self.dim.get())
            .finish()
    }
}

impl TextEngine {
    /// Start an engine thread that loads the model from `dir` (a directory holding
    /// `config.json`, `tokenizer.json`, `model.safetensors`).
    pub fn start(dir: PathBuf, opts: TextEngineOptions) -> Result<TextEngine, TextError> {
        let (tx, rx) = mpsc::channel::<Request>();
        let dim = Arc::new(OnceLock::new());
        let dim_set = dim.clone();
        std::thread::Builder::new()
            .name("hearth-text".into())
            .spawn(move || engine_thread(dir, opts, rx, dim_set))
            .map_err(|e| TextError::Load(format!("cannot start the engine thread: {e}")))?;
        Ok(TextEngine { tx, dim })
    }

    /// The process-wide engine of the `minilm-l6-v2` model in `models_dir`: started on first
    /// use, then shared by every caller. Fails with [`TextError::Load`] (and starts nothing)
    /// when the model is not installed, so a later call after `hearth models fetch` succeeds.
    pub fn shared(models_dir: &Path, opts: TextEngineOptions) -> Result<TextEngine, TextError> {
        static ENGINES: OnceLock<Mutex<HashMap<PathBuf, TextEngine>>> = OnceLock::new();
        let dir =
            crate::require(models_dir, MODEL_NAME).map_err(|e| TextError::Load(e.to_string()))?;
        let mut map = ENGINES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get(&dir) {
            return Ok(e.clone());
        }
        let engine = TextEngine::start(dir.clone(), opts)?;
        map.insert(dir, engine.clone());
        Ok(engine)
    }

    /// Unit-length embeddings of `texts`, in order.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, TextError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Request { texts, reply })
            .map_err(|_| TextError::Stopped)?;
        rx.await.map_err(|_| TextError::Stopped)?
    }

    /// One embedding.
    pub async fn embed_one(&self, text: &str) -> Result<Vec<f32>, TextError> {
        self.embed(vec![text.to_owned()])
            .await?
            .pop()
            .ok_or(TextError::Stopped)
    }

    /// [`TextEngine::embed`] for synchronous callers (benchmarks, CLI tools); must not be
    /// called from inside an async task.
    pub fn embed_blocking(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, TextError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Request { texts, reply })
            .map_err(|_| TextError::Stopped)?;
        rx.blocking_recv().map_err(|_| TextError::Stopped)?
    }

    /// The vector length, once the model has loaded.
    pub fn dim(&self) -> Option<usize> {
        self.dim.get().copied()
    }
}

fn engine_thread(
    dir: PathBuf,
    opts: TextEngineOptions,
    rx: mpsc::Receiver<Request>,
    dim: Arc<OnceLock<usize>>,
) {
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .thread_name(|i| format!("hearth-text-{i}"))
        .build();
    let loaded = pool
        .map_err(|e| TextError::Load(format!("compute pool: {e}")))
        .and_then(|pool| {
            SentenceEmbedder::load(&dir).map(|m| (pool, m.with_threads(opts.threads)))
        });
    let (pool, model) = match loaded {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(dir = %dir.display(), error = %e, "text model failed to load");
            for req in rx {
                let _ = req.reply.send(Err(e.clone()));
            }
            return;
        }
    };
    let _ = dim.set(model.dim());
    tracing::info!(dir = %dir.display(), threads = opts.threads, ms = started.elapsed().as_millis() as u64, "text model loaded");
    let max_batch = opts.max_batch.max(1);
    while let Ok(first) = rx.recv() {
        // Take whatever else is already waiting, up to max_batch texts.
        let mut batch = vec![first];
        let mut n = batch[0].texts.len();
        while n < max_batch {
            match rx.try_recv() {
                Ok(r) => {
                    n += r.texts.len();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        let texts: Vec<&str> = batch
            .iter()
            .flat_map(|r| r.texts.iter().map(String::as_str))
            .collect();
        let result = pool.install(|| model.embed(&texts));
        match result {
            Ok(mut vectors) => {
                // Hand each request its slice, in order.
                let mut rest = vectors.split_off(0);
                for req in batch {
                    let tail = rest.split_off(req.texts.len().min(rest.len()));
                    let _ = req.reply.send(Ok(rest));
                    rest = tail;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, texts = texts.len(), "embedding failed");
                for req in batch {
                    let _ = req.reply.send(Err(e.clone()));
                }
            }
        }
    }
    tracing::debug!("text engine stopped");
}

#[cfg(test)]
mod tests;
