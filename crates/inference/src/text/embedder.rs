//! The sentence-embedding model itself, synchronous: all-MiniLM-L6-v2 (a 6-layer BERT) run by
//! [`super::bert`] on the CPU, tokenized by Hugging Face `tokenizers`, then mean pooling over
//! the tokens and L2 normalisation — what sentence-transformers does for this model, so vectors
//! match the Python reference.
//!
//! [`SentenceEmbedder::embed`] blocks for the whole forward pass; call it only from an engine
//! thread ([`super::TextEngine`]) or a blocking task, never on the async runtime.

use std::path::Path;
use std::sync::Mutex;

use tokenizers::{Tokenizer, TruncationParams};

use super::bert::{Bert, BertConfig, Scratch, Threads};
use super::TextError;

/// Longest input in tokens (sentence-transformers' `max_seq_length` for all-MiniLM-L6-v2);
/// longer texts are truncated, as the reference does.
pub const MAX_TOKENS: usize = 256;

/// Tokens per forward pass when embedding many texts at once (texts are not padded, so this
/// only bounds the working memory: about 15 MB at 1,024 tokens).
const CHUNK_TOKENS: usize = 1024;

/// Matrix products smaller than this many multiply-adds run on one thread: measured on a
/// 2-core machine, splitting a short utterance's products (about 15 tokens × 384 × 384) over
/// two threads gained little idle and lost under load, while a build's batches (1,024 tokens)
/// gain from both cores.
const MIN_PARALLEL_WORK: usize = 64 * 384 * 384;

/// A loaded sentence-embedding model (weights, config and tokenizer).
pub struct SentenceEmbedder {
    model: Bert,
    tokenizer: Tokenizer,
    dim: usize,
    threads: Threads,
    scratch: Mutex<Scratch>,
}

impl std::fmt::Debug for SentenceEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEmbedder")
            .field("dim", &self.dim)
            .field("threads", &self.threads.threads)
            .finish_non_exhaustive()
    }
}

impl SentenceEmbedder {
    /// Load `config.json`, `tokenizer.json` and `model.safetensors` from `dir` (a model cache
    /// directory such as the one [`crate::require`] returns for `minilm-l6-v2`). The forward
    /// pass runs on the calling thread only; see [`SentenceEmbedder::with_threads`].
    pub fn load(dir: &Path) -> Result<Self, TextError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| TextError::Load(format!("{}: {e}", dir.join(name).display())))
        };
        let config: BertConfig = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| TextError::Load(format!("config.json: {e}")))?;
        let mut tokenizer = Tokenizer::from_bytes(read("tokenizer.json")?)
            .map_err(|e| TextError::Load(format!("tokenizer.json: {e}")))?;
        // The packaged tokenizer pads every input to 128 tokens; the encoder takes texts of
        // different lengths side by side, so nothing is padded. Truncate at the model's
        // sequence length.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS.min(config.max_position_embeddings),
                ..Default::default()
            }))
            .map_err(|e| TextError::Load(format!("tokenizer truncation: {e}")))?;
        let model = Bert::load(&config, &read("model.safetensors")?)?;
        Ok(SentenceEmbedder {
            model,
            tokenizer,
            dim: config.hidden_size,
            threads: Threads {
                threads: 1,
                min_work: MIN_PARALLEL_WORK,
            },
            scratch: Mutex::new(Scratch::default()),
        })
    }

    /// Let large matrix products use `threads` threads of the rayon pool the caller runs in
    /// (`pool.install(|| model.embed(..))`); small ones (a short query's) stay on one thread.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads.threads = threads.max(1);
        self
    }

    /// Length of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Unit-length embeddings of `texts`, in order. Long lists run in chunks of about
    /// [`CHUNK_TOKENS`] tokens.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, TextError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids: Vec<Vec<u32>> = Vec::with_capacity(texts.len());
        for t in texts {
            let enc = self
                .tokenizer
                .encode(*t, true)
                .map_err(|e| TextError::Compute(format!("tokenize: {e}")))?;
            ids.push(enc.get_ids().to_vec());
        }
        let max = self.model.max_positions();
        for q in &mut ids {
            q.truncate(max);
        }
        let mut scratch = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(texts.len());
        let mut start = 0;
        while start < ids.len() {
            let mut end = start;
            let mut tokens = 0;
            while end < ids.len() && (end == start || tokens + ids[end].len() <= CHUNK_TOKENS) {
                tokens += ids[end].len();
                end += 1;
            }
            let seqs: Vec<&[u32]> = ids[start..end].iter().map(Vec::as_slice).collect();
            let pooled = self.model.pooled(&seqs, &mut scratch, self.threads)?;
            out.extend(pooled.into_iter().map(normalized));
            start = end;
        }
        Ok(out)
    }
}

/// `v / |v|` (the zero vector stays zero).
pub fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Dot product; the cosine similarity of two unit vectors. Eight running sums (summed at the
/// end) let the compiler keep them in one SIMD register instead of waiting on each addition:
/// a bot's scoring takes one of these per sample and per background line on every turn.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}
