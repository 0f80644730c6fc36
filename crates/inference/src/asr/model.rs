//! The Whisper network (encoder + decoder) on candle tensors, loaded straight from the
//! CTranslate2 variable names of the packaged model.
//!
//! candle-transformers' `whisper::model` expects Hugging Face names and neither caches the
//! decoder's self-attention keys/values nor exposes cross-attention weights; word timestamps
//! need the latter (alignment heads + DTW, as openai-whisper does) and greedy decoding is much
//! faster with the former, so the network is written here (about the size of that file).
//! It follows openai-whisper `model.py`: pre-norm residual blocks, exact (erf) GELU,
//! sinusoidal encoder positions (stored in the CT2 file), learned decoder positions, output
//! projection tied to the token embeddings. CT2 fuses the self-attention q/k/v projections
//! into one matrix (`linear_0`, k without bias → zeros) and the cross-attention k/v into one
//! (`attention/linear_1`); the fused matrices are used as they are (one matmul instead of
//! three).

use candle_core::{DType, Device, IndexOp, Module, Result, Tensor, D};
use candle_nn::{LayerNorm, Linear};

use super::ct2::Ct2Model;

/// Shape of a loaded model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dims {
    /// Width of every layer (384 for tiny).
    pub d_model: usize,
    /// Attention heads (6 for tiny).
    pub n_heads: usize,
    /// Encoder blocks.
    pub encoder_layers: usize,
    /// Decoder blocks.
    pub decoder_layers: usize,
    /// Vocabulary size (51864 for English-only models).
    pub vocab: usize,
    /// Longest token sequence (448).
    pub max_tokens: usize,
}

struct Attention {
    /// Self-attention: fused q/k/v (3d × d). Cross-attention: q only.
    qkv_or_q: Linear,
    /// Cross-attention only: fused k/v (2d × d).
    kv: Option<Linear>,
    out: Linear,
    ln: LayerNorm,
}

struct Block {
    attn: Attention,
    cross: Option<Attention>,
    ffn_ln: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

/// Keys and values of one decoding pass: per decoder layer, the self-attention cache (grows by
/// one row per step) and the cross-attention keys/values of the encoder output. Cloning is
/// cheap (tensors are shared).
#[derive(Clone)]
pub struct KvCache {
    self_kv: Vec<Option<(Tensor, Tensor)>>,
    cross_kv: Vec<(Tensor, Tensor)>,
    /// Tokens already in the self-attention cache.
    pub len: usize,
}

impl KvCache {
    /// An empty self-attention cache over the same encoder output.
    pub fn fresh(&self) -> KvCache {
        let cross_kv = self.cross_kv.iter().map(|(k, v)| (k.narrow(0, 0, 1).unwrap_or_else(|_| k.clone()), v.narrow(0, 0, 1).unwrap_or_else(|_| v.clone()))).collect();
        KvCache { self_kv: vec![None; self.self_kv.len()], cross_kv, len: 0 }
    }

    /// The cache of a batch whose row `i` continues row `parents[i]` of this one (beam
    /// search): self-attention rows are gathered, the (identical) cross-attention rows
    /// repeated to the new batch size.
    pub fn select(&self, parents: &[u32]) -> Result<KvCache> {
        let idx = Tensor::new(parents, &Device::Cpu)?;
        let n = parents.len();
        let mut self_kv = Vec::with_capacity(self.self_kv.len());
        for e in &self.self_kv {
            self_kv.push(match e {
                Some((k, v)) => Some((k.index_select(&idx, 0)?, v.index_select(&idx, 0)?)),
                None => None,
            });
        }
        let mut cross_kv = Vec::with_capacity(self.cross_kv.len());
        for (k, v) in &self.cross_kv {
            if k.dim(0)? == n {
                cross_kv.push((k.clone(), v.clone()));
            } else {
                cross_kv.push((k.narrow(0, 0, 1)?.repeat((n, 1, 1, 1))?, v.narrow(0, 0, 1)?.repeat((n, 1, 1, 1))?));
            }
        }
        Ok(KvCache { self_kv, cross_kv, len: self.len })
    }
}

/// The loaded network.
pub struct Whisper {
    /// Its shape.
    pub dims: Dims,
    conv1: (Tensor, Tensor),
    conv2: (Tensor, Tensor),
    enc_pos: Tensor,
    encoder: Vec<Block>,
    enc_ln: LayerNorm,
    embed: Tensor,
    dec_pos: Tensor,
    decoder: Vec<Block>,
    dec_ln: LayerNorm,
}

fn linear(m: &Ct2Model, prefix: &str) -> std::result::Result<Linear, String> {
    let w = m.tensor(&format!("{prefix}/weight"))?.clone();
    let b = m.tensors.get(&format!("{prefix}/bias")).cloned();
    Ok(Linear::new(w, b))
}

fn layer_norm(m: &Ct2Model, prefix: &str) -> std::result::Result<LayerNorm, String> {
    Ok(LayerNorm::new(m.tensor(&format!("{prefix}/gamma"))?.clone(), m.tensor(&format!("{prefix}/beta"))?.clone(), 1e-5))
}

fn count_layers(m: &Ct2Model, side: &str) -> usize {
    (0..).take_while(|i| m.tensors.contains_key(&format!("{side}/layer_{i}/ffn/linear_0/weight"))).count()
}

impl Whisper {
    /// Build the network from a parsed `model.bin` (spec `WhisperSpec`).
    pub fn load(m: &Ct2Model) -> std::result::Result<Whisper, String> {
        if m.spec != "WhisperSpec" {
            return Err(format!("model.bin holds a {} model, not Whisper", m.spec));
        }
        let embed = m.tensor("decoder/embeddings/weight")?.clone();
        let (vocab, d_model) = embed.dims2().map_err(|e| e.to_string())?;
        let n_heads = m.scalar("decoder/num_heads").unwrap_or(6) as usize;
        if n_heads == 0 || d_model % n_heads != 0 {
            return Err(format!("bad head count {n_heads} for width {d_model}"));
        }
        let dec_pos = m.tensor("decoder/position_encodings/encodings")?.clone();
        let max_tokens = dec_pos.dims2().map_err(|e| e.to_string())?.0;
        let block = |side: &str, i: usize, cross: bool| -> std::result::Result<Block, String> {
            let p = format!("{side}/layer_{i}");
            let attn = Attention {
                qkv_or_q: linear(m, &format!("{p}/self_attention/linear_0"))?,
                kv: None,
                out: linear(m, &format!("{p}/self_attention/linear_1"))?,
                ln: layer_norm(m, &format!("{p}/self_attention/layer_norm"))?,
            };
            let cross = if cross {
                Some(Attention {
                    qkv_or_q: linear(m, &format!("{p}/attention/linear_0"))?,
                    kv: Some(linear(m, &format!("{p}/attention/linear_1"))?),
                    out: linear(m, &format!("{p}/attention/linear_2"))?,
                    ln: layer_norm(m, &format!("{p}/attention/layer_norm"))?,
                })
            } else {
                None
            };
            Ok(Block {
                attn,
                cross,
                ffn_ln: layer_norm(m, &format!("{p}/ffn/layer_norm"))?,
                fc1: linear(m, &format!("{p}/ffn/linear_0"))?,
                fc2: linear(m, &format!("{p}/ffn/linear_1"))?,
            })
        };
        let encoder_layers = count_layers(m, "encoder");
        let decoder_layers = count_layers(m, "decoder");
        if encoder_layers == 0 || decoder_layers == 0 {
            return Err("model.bin has no encoder or decoder layers".into());
        }
        let encoder = (0..encoder_layers).map(|i| block("encoder", i, false)).collect::<std::result::Result<Vec<_>, _>>()?;
        let decoder = (0..decoder_layers).map(|i| block("decoder", i, true)).collect::<std::result::Result<Vec<_>, _>>()?;
        let conv = |name: &str| -> std::result::Result<(Tensor, Tensor), String> {
            Ok((m.tensor(&format!("encoder/{name}/weight"))?.clone(), m.tensor(&format!("encoder/{name}/bias"))?.clone()))
        };
        Ok(Whisper {
            dims: Dims { d_model, n_heads, encoder_layers, decoder_layers, vocab, max_tokens },
            conv1: conv("conv1")?,
            conv2: conv("conv2")?,
            enc_pos: m.tensor("encoder/position_encodings/encodings")?.clone(),
            encoder,
            enc_ln: layer_norm(m, "encoder/layer_norm")?,
            embed,
            dec_pos,
            decoder,
            dec_ln: layer_norm(m, "decoder/layer_norm")?,
        })
    }

    fn heads(&self, x: &Tensor) -> Result<Tensor> {
        // (b, t, d) → (b, h, t, d/h)
        let (b, t, d) = x.dims3()?;
        x.reshape((b, t, self.dims.n_heads, d / self.dims.n_heads))?.transpose(1, 2)?.contiguous()
    }

    fn merge(&self, x: &Tensor) -> Result<Tensor> {
        // (b, h, t, dh) → (b, t, d)
        let (b, h, t, dh) = x.dims4()?;
        x.transpose(1, 2)?.reshape((b, t, h * dh))
    }

    /// Attention of `q` over `k`/`v` (all (b, h, t, dh)), with an additive mask; returns the
    /// output and, when asked, the pre-softmax scores (b, h, tq, tk).
    fn attend(&self, q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>, keep_scores: bool) -> Result<(Tensor, Option<Tensor>)> {
        let dh = q.dim(D::Minus1)?;
        let scale = (dh as f64).powf(-0.5);
        let mut scores = (q.matmul(&k.t()?)? * scale)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let w = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = w.matmul(v)?;
        Ok((out, keep_scores.then_some(scores)))
    }

    /// Run the encoder on log-mel features `(b, 80, 3000)`; returns `(b, 1500, d)`.
    pub fn encode(&self, mel: &Tensor) -> Result<Tensor> {
        let x = mel.conv1d(&self.conv1.0, 1, 1, 1, 1)?.broadcast_add(&self.conv1.1.unsqueeze(1)?)?.gelu_erf()?;
        let x = x.conv1d(&self.conv2.0, 1, 2, 1, 1)?.broadcast_add(&self.conv2.1.unsqueeze(1)?)?.gelu_erf()?;
        let x = x.transpose(1, 2)?;
        let t = x.dim(1)?;
        let mut x = x.broadcast_add(&self.enc_pos.i(0..t)?)?.contiguous()?;
        let d = self.dims.d_model;
        for b in &self.encoder {
            let h = b.attn.ln.forward(&x)?;
            let qkv = b.attn.qkv_or_q.forward(&h)?;
            let q = self.heads(&qkv.narrow(D::Minus1, 0, d)?)?;
            let k = self.heads(&qkv.narrow(D::Minus1, d, d)?)?;
            let v = self.heads(&qkv.narrow(D::Minus1, 2 * d, d)?)?;
            let (a, _) = self.attend(&q, &k, &v, None, false)?;
            x = (x + b.attn.out.forward(&self.merge(&a)?)?)?;
            let h = b.ffn_ln.forward(&x)?;
            x = (&x + b.fc2.forward(&b.fc1.forward(&h)?.gelu_erf()?)?)?;
        }
        self.enc_ln.forward(&x)
    }

    /// A fresh cache for decoding against encoder output `enc` `(b, 1500, d)`: computes the
    /// cross-attention keys and values once.
    pub fn new_cache(&self, enc: &Tensor) -> Result<KvCache> {
        let d = self.dims.d_model;
        let mut cross_kv = Vec::with_capacity(self.decoder.len());
        for b in &self.decoder {
            let c = b.cross.as_ref().ok_or_else(|| candle_core::Error::Msg("decoder block without cross-attention".into()))?;
            let kv = c.kv.as_ref().ok_or_else(|| candle_core::Error::Msg("cross-attention without k/v".into()))?.forward(enc)?;
            cross_kv.push((self.heads(&kv.narrow(D::Minus1, 0, d)?)?, self.heads(&kv.narrow(D::Minus1, d, d)?)?));
        }
        Ok(KvCache { self_kv: vec![None; self.decoder.len()], cross_kv, len: 0 })
    }

    /// Feed `tokens` `(b, n)` after the `cache.len` tokens already seen; returns the final
    /// hidden states `(b, n, d)` and, if `capture` lists (layer, head) pairs, their
    /// cross-attention scores before softmax, each `(b, n, 1500)`.
    pub fn forward(&self, tokens: &Tensor, cache: &mut KvCache, capture: &[(usize, usize)]) -> Result<(Tensor, Vec<Tensor>)> {
        let (_, n) = tokens.dims2()?;
        let offset = cache.len;
        if n == 0 || offset + n > self.dims.max_tokens {
            return Err(candle_core::Error::Msg(format!("token sequence empty or longer than {}", self.dims.max_tokens)));
        }
        let d = self.dims.d_model;
        let emb = self.embed.embedding(&tokens.flatten_all()?)?.reshape((tokens.dim(0)?, n, d))?;
        let mut x = emb.broadcast_add(&self.dec_pos.i(offset..offset + n)?)?;
        let mask = if n > 1 {
            // Causal: position i (absolute offset+i) sees keys 0..=offset+i.
            let total = offset + n;
            let m: Vec<f32> = (0..n).flat_map(|i| (0..total).map(move |j| if j > offset + i { f32::NEG_INFINITY } else { 0.0 })).collect();
            Some(Tensor::from_vec(m, (n, total), &Device::Cpu)?)
        } else {
            None
        };
        let mut captured = Vec::new();
        for (li, b) in self.decoder.iter().enumerate() {
            let h = b.attn.ln.forward(&x)?;
            let qkv = b.attn.qkv_or_q.forward(&h)?;
            let q = self.heads(&qkv.narrow(D::Minus1, 0, d)?)?;
            let mut k = self.heads(&qkv.narrow(D::Minus1, d, d)?)?;
            let mut v = self.heads(&qkv.narrow(D::Minus1, 2 * d, d)?)?;
            if let Some((pk, pv)) = &cache.self_kv[li] {
                k = Tensor::cat(&[pk, &k], 2)?;
                v = Tensor::cat(&[pv, &v], 2)?;
            }
            let (a, _) = self.attend(&q, &k, &v, mask.as_ref(), false)?;
            cache.self_kv[li] = Some((k, v));
            x = (x + b.attn.out.forward(&self.merge(&a)?)?)?;

            let c = b.cross.as_ref().ok_or_else(|| candle_core::Error::Msg("decoder block without cross-attention".into()))?;
            let h = c.ln.forward(&x)?;
            let q = self.heads(&c.qkv_or_q.forward(&h)?)?;
            let (ck, cv) = &cache.cross_kv[li];
            let want: Vec<usize> = capture.iter().filter(|(l, _)| *l == li).map(|(_, h)| *h).collect();
            let (a, scores) = self.attend(&q, ck, cv, None, !want.is_empty())?;
            if let Some(scores) = scores {
                for h in want {
                    captured.push(scores.i((.., h))?);
                }
            }
            x = (x + c.out.forward(&self.merge(&a)?)?)?;

            let h = b.ffn_ln.forward(&x)?;
            x = (&x + b.fc2.forward(&b.fc1.forward(&h)?.gelu_erf()?)?)?;
        }
        cache.len += n;
        Ok((self.dec_ln.forward(&x)?, captured))
    }

    /// Vocabulary logits of hidden states `(b, n, d)` → `(b, n, vocab)`.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        let (b, n, d) = hidden.dims3()?;
        hidden.reshape((b * n, d))?.matmul(&self.embed.t()?)?.reshape((b, n, ()))
    }

    /// Feed `tokens` `(b, n)` and return the logits of the last position only, `(b, vocab)`.
    pub fn decode_last(&self, tokens: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let (hidden, _) = self.forward(tokens, cache, &[])?;
        let n = hidden.dim(1)?;
        let last = hidden.narrow(1, n - 1, 1)?.contiguous()?;
        Ok(self.logits(&last)?.squeeze(1)?.to_dtype(DType::F32)?)
    }
}
