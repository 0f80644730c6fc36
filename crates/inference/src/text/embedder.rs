//! The sentence-embedding model itself, synchronous: all-MiniLM-L6-v2 (a 6-layer BERT) run by
//! candle-transformers' `BertModel` on the CPU, tokenized by Hugging Face `tokenizers`, then
//! mean pooling over the attention mask and L2 normalisation — what sentence-transformers does
//! for this model, so vectors match the Python reference (cosine 1.000000 measured).
//!
//! [`SentenceEmbedder::embed`] blocks for the whole forward pass; call it only from an engine
//! thread ([`super::TextEngine`]) or a blocking task, never on the async runtime.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::TextError;

/// Longest input in tokens (sentence-transformers' `max_seq_length` for all-MiniLM-L6-v2);
/// longer texts are truncated, as the reference does.
pub const MAX_TOKENS: usize = 256;

/// Texts per forward pass when embedding many at once (bounds padding waste and memory).
const CHUNK: usize = 32;

/// A loaded sentence-embedding model (weights, config and tokenizer).
pub struct SentenceEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    dim: usize,
}

impl std::fmt::Debug for SentenceEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEmbedder")
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

impl SentenceEmbedder {
    /// Load `config.json`, `tokenizer.json` and `model.safetensors` from `dir` (a model cache
    /// directory such as the one [`crate::require`] returns for `minilm-l6-v2`).
    pub fn load(dir: &Path) -> Result<Self, TextError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| TextError::Load(format!("{}: {e}", dir.join(name).display())))
        };
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| TextError::Load(format!("config.json: {e}")))?;
        let mut tokenizer = Tokenizer::from_bytes(read("tokenizer.json")?)
            .map_err(|e| TextError::Load(format!("tokenizer.json: {e}")))?;
        // The packaged tokenizer pads every input to 128 tokens; pad a batch to its longest
        // input instead, and truncate at the model's sequence length.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| TextError::Load(format!("tokenizer truncation: {e}")))?;
        let weights = read("model.safetensors")?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|e| TextError::Load(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| TextError::Load(format!("model.safetensors: {e}")))?;
        Ok(SentenceEmbedder {
            model,
            tokenizer,
            dim: config.hidden_size,
        })
    }

    /// Length of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Unit-length embeddings of `texts`, in order. Long lists run in chunks of similar length.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, TextError> {
        if texts.len() <= CHUNK {
            return self.embed_batch(texts);
        }
        // Sort by length so each chunk pads little, then put results back in input order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(CHUNK) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (i, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[*i] = v;
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, TextError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| TextError::Compute(format!("tokenize: {e}")))?;
        let rows = enc.len();
        let cols = enc.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(rows * cols);
        let mut mask = Vec::with_capacity(rows * cols);
        for e in &enc {
            ids.extend(e.get_ids().iter().map(|&x| x as i64));
            mask.extend(e.get_attention_mask().iter().map(|&x| x as i64));
        }
        let compute = |e: candle_core::Error| TextError::Compute(e.to_string());
        let ids = Tensor::from_vec(ids, (rows, cols), &Device::Cpu).map_err(compute)?;
        let mask = Tensor::from_vec(mask, (rows, cols), &Device::Cpu).map_err(compute)?;
        let types = ids.zeros_like().map_err(compute)?;
        let hidden = self
            .model
            .forward(&ids, &types, Some(&mask))
            .map_err(compute)?; // (rows, cols, dim)
                                // Mean over the real tokens, then L2 norm.
        let m = mask
            .to_dtype(DType::F32)
            .map_err(compute)?
            .unsqueeze(2)
            .map_err(compute)?;
        let summed = hidden
            .broadcast_mul(&m)
            .map_err(compute)?
            .sum(1)
            .map_err(compute)?;
        let counts = m
            .sum(1)
            .map_err(compute)?
            .clamp(1e-9f32, f32::MAX)
            .map_err(compute)?;
        let mean = summed.broadcast_div(&counts).map_err(compute)?;
        let rows: Vec<Vec<f32>> = mean.to_vec2().map_err(compute)?;
        Ok(rows.into_iter().map(normalized).collect())
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

/// Dot product; the cosine similarity of two unit vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
