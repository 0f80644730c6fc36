//! The BERT encoder of the sentence embedder (all-MiniLM-L6-v2: 6 layers, 384 wide, 12
//! heads), run as a handful of `gemm` calls on plain `f32` buffers.
//!
//! Why not candle-transformers' `BertModel` (which loaded the same weights before): profiled on
//! a short utterance it spent about half of every forward pass re-packing the weight matrices
//! (candle multiplies by `weight.t()`, and `gemm` then copies the whole weight into its panel
//! layout, element by element, on every call), and each matrix product re-read
//! `/proc/cpuinfo` to choose its thread count. Here the activations are kept feature-major (a
//! `hidden × tokens` row-major matrix, i.e. tokens × hidden column-major), which is the layout
//! `gemm`'s kernels read directly: each weight is streamed once per product, untouched, and
//! the thread count is the caller's explicit [`Parallelism`]. A batch is not padded: the
//! tokens of all texts sit side by side for the dense layers, and attention runs per text, so
//! a text's vector does not depend on what it was batched with.
//!
//! The maths is BERT's (post-LayerNorm, exact erf GELU, softmax attention without a mask since
//! nothing is padded), checked against candle's `BertModel` in the tests.

use gemm::{gemm, Parallelism};
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use super::TextError;

/// The fields of a Hugging Face BERT `config.json` the encoder needs.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct BertConfig {
    pub hidden_size: usize,
    pub num_attention_heads: usize,
    pub num_hidden_layers: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_eps() -> f64 {
    1e-12
}

fn default_act() -> String {
    "gelu".into()
}

struct Layer {
    /// Query, key and value weights stacked: `3·hidden × hidden`, row-major (as stored).
    qkv_w: Vec<f32>,
    qkv_b: Vec<f32>,
    out_w: Vec<f32>,
    out_b: Vec<f32>,
    ln1_g: Vec<f32>,
    ln1_b: Vec<f32>,
    up_w: Vec<f32>,
    up_b: Vec<f32>,
    down_w: Vec<f32>,
    down_b: Vec<f32>,
    ln2_g: Vec<f32>,
    ln2_b: Vec<f32>,
    /// The four weight matrices again as f16 panels for short inputs, when the CPU has the
    /// kernel for them ([`skinny`]).
    half: Option<[Vec<u16>; 4]>,
}

/// Loaded encoder weights.
pub(super) struct Bert {
    word: Vec<f32>,
    pos: Vec<f32>,
    /// Token type 0's embedding (every input is a single segment).
    typ: Vec<f32>,
    emb_ln_g: Vec<f32>,
    emb_ln_b: Vec<f32>,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    inter: usize,
    vocab: usize,
    max_pos: usize,
    eps: f32,
}

/// Reusable buffers of one forward pass (kept between calls so a query allocates nothing).
#[derive(Default)]
pub(super) struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    tmp: Vec<f32>,
    up: Vec<f32>,
    scores: Vec<f32>,
    mean: Vec<f32>,
    var: Vec<f32>,
}

/// How a forward pass may use threads: products of at least `min_work` multiply-adds run on
/// `threads` threads of the current rayon pool, smaller ones on the calling thread.
#[derive(Debug, Clone, Copy)]
pub(super) struct Threads {
    pub threads: usize,
    pub min_work: usize,
}

impl Threads {
    fn for_work(&self, m: usize, n: usize, k: usize) -> Parallelism {
        if self.threads > 1 && m.saturating_mul(n).saturating_mul(k) >= self.min_work {
            Parallelism::Rayon(self.threads)
        } else {
            Parallelism::None
        }
    }
}

impl Bert {
    /// Read the weights from a safetensors file's bytes (names with or without a `bert.`
    /// prefix, as BERT checkpoints come both ways).
    pub(super) fn load(config: &BertConfig, safetensors: &[u8]) -> Result<Bert, TextError> {
        if config.hidden_act != "gelu" {
            return Err(TextError::Load(format!(
                "config.json: hidden_act {:?} is not supported (gelu only)",
                config.hidden_act
            )));
        }
        let hidden = config.hidden_size;
        let heads = config.num_attention_heads;
        if heads == 0 || hidden == 0 || !hidden.is_multiple_of(heads) {
            return Err(TextError::Load(format!(
                "config.json: hidden_size {hidden} is not a multiple of num_attention_heads {heads}"
            )));
        }
        let tensors = SafeTensors::deserialize(safetensors)
            .map_err(|e| TextError::Load(format!("model.safetensors: {e}")))?;
        let w = Weights { tensors };
        let inter = config.intermediate_size;
        let word = w.get("embeddings.word_embeddings.weight", &[0, hidden])?;
        let vocab = word.len() / hidden;
        let max_pos = config.max_position_embeddings;
        let typ = w.get("embeddings.token_type_embeddings.weight", &[0, hidden])?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let mut qkv_w = Vec::with_capacity(3 * hidden * hidden);
            let mut qkv_b = Vec::with_capacity(3 * hidden);
            for part in ["query", "key", "value"] {
                qkv_w.extend(w.get(
                    &format!("{p}.attention.self.{part}.weight"),
                    &[hidden, hidden],
                )?);
                qkv_b.extend(w.get(&format!("{p}.attention.self.{part}.bias"), &[hidden])?);
            }
            let out_w = w.get(
                &format!("{p}.attention.output.dense.weight"),
                &[hidden, hidden],
            )?;
            let up_w = w.get(&format!("{p}.intermediate.dense.weight"), &[inter, hidden])?;
            let down_w = w.get(&format!("{p}.output.dense.weight"), &[hidden, inter])?;
            let half = half_panels([
                (&qkv_w, 3 * hidden, hidden),
                (&out_w, hidden, hidden),
                (&up_w, inter, hidden),
                (&down_w, hidden, inter),
            ]);
            layers.push(Layer {
                half,
                qkv_w,
                qkv_b,
                out_w,
                out_b: w.get(&format!("{p}.attention.output.dense.bias"), &[hidden])?,
                ln1_g: w.get(&format!("{p}.attention.output.LayerNorm.weight"), &[hidden])?,
                ln1_b: w.get(&format!("{p}.attention.output.LayerNorm.bias"), &[hidden])?,
                up_w,
                up_b: w.get(&format!("{p}.intermediate.dense.bias"), &[inter])?,
                down_w,
                down_b: w.get(&format!("{p}.output.dense.bias"), &[hidden])?,
                ln2_g: w.get(&format!("{p}.output.LayerNorm.weight"), &[hidden])?,
                ln2_b: w.get(&format!("{p}.output.LayerNorm.bias"), &[hidden])?,
            });
        }
        Ok(Bert {
            pos: w.get("embeddings.position_embeddings.weight", &[max_pos, hidden])?,
            typ: typ[..hidden].to_vec(),
            emb_ln_g: w.get("embeddings.LayerNorm.weight", &[hidden])?,
            emb_ln_b: w.get("embeddings.LayerNorm.bias", &[hidden])?,
            word,
            layers,
            hidden,
            heads,
            inter,
            vocab,
            max_pos,
            eps: config.layer_norm_eps as f32,
        })
    }

    /// Longest input in tokens the position embeddings allow.
    pub(super) fn max_positions(&self) -> usize {
        self.max_pos
    }

    /// Mean-pooled (not normalised) last hidden states of each token sequence, in order.
    /// Every sequence must be non-empty and at most [`Bert::max_positions`] long.
    pub(super) fn pooled(
        &self,
        seqs: &[&[u32]],
        s: &mut Scratch,
        par: Threads,
    ) -> Result<Vec<Vec<f32>>, TextError> {
        let h = self.hidden;
        let t: usize = seqs.iter().map(|q| q.len()).sum();
        if t == 0 {
            return Ok(vec![vec![0.0; h]; seqs.len()]);
        }
        let hd = h / self.heads;
        let longest = seqs.iter().map(|q| q.len()).max().unwrap_or(0);
        if longest > self.max_pos {
            return Err(TextError::Compute(format!(
                "input of {longest} tokens is longer than the model's {} positions",
                self.max_pos
            )));
        }
        resize(&mut s.x, h * t);
        resize(&mut s.qkv, 3 * h * t);
        resize(&mut s.ctx, h * t);
        resize(&mut s.tmp, h * t);
        resize(&mut s.up, self.inter * t);
        resize(&mut s.scores, longest * longest);
        resize(&mut s.mean, t);
        resize(&mut s.var, t);

        // Embeddings: word + position + token type 0, then LayerNorm.
        let mut col = 0;
        for q in seqs {
            for (i, &id) in q.iter().enumerate() {
                let id = id as usize;
                if id >= self.vocab {
                    return Err(TextError::Compute(format!(
                        "token id {id} outside the vocabulary"
                    )));
                }
                let word = &self.word[id * h..][..h];
                let pos = &self.pos[i * h..][..h];
                for f in 0..h {
                    s.x[f * t + col] = word[f] + pos[f] + self.typ[f];
                }
                col += 1;
            }
        }
        layer_norm(
            &mut s.x,
            None,
            t,
            &self.emb_ln_g,
            &self.emb_ln_b,
            self.eps,
            &mut s.mean,
            &mut s.var,
        );

        let scale = 1.0 / (hd as f32).sqrt();
        for l in &self.layers {
            let half = l.half.as_ref().filter(|_| t <= SKINNY_TOKENS);
            let dense = |dst: &mut [f32],
                         x: &[f32],
                         which: usize,
                         w: &[f32],
                         b: &[f32],
                         n: usize,
                         k: usize| {
                match half {
                    #[cfg(target_arch = "x86_64")]
                    Some(panels) => skinny::linear(dst, x, t, &panels[which], b, n, k),
                    _ => linear(dst, x, t, w, b, n, k, par),
                }
            };
            dense(&mut s.qkv, &s.x, 0, &l.qkv_w, &l.qkv_b, 3 * h, h);
            // Attention, per sequence and head.
            let mut off = 0;
            for q in seqs {
                let len = q.len();
                for head in 0..self.heads {
                    let qo = (head * hd) * t + off;
                    let ko = (h + head * hd) * t + off;
                    let vo = (2 * h + head * hd) * t + off;
                    let scores = &mut s.scores[..len * len];
                    // SAFETY: every pointer/stride pair below addresses elements inside its
                    // buffer: rows `head*hd .. head*hd+hd` (+h, +2h) of the `3h × t` qkv
                    // matrix and columns `off .. off+len`, a `len × len` row-major score
                    // matrix, and the same rows/columns of the `h × t` context matrix.
                    unsafe {
                        // scores (len × len, row-major) = scale · Q (len × hd) · Kᵀ (hd × len)
                        gemm(
                            len,
                            len,
                            hd,
                            scores.as_mut_ptr(),
                            1,
                            len as isize,
                            false,
                            s.qkv.as_ptr().add(qo),
                            t as isize,
                            1,
                            s.qkv.as_ptr().add(ko),
                            1,
                            t as isize,
                            0.0,
                            scale,
                            false,
                            false,
                            false,
                            Parallelism::None,
                        );
                    }
                    for row in scores.chunks_exact_mut(len) {
                        softmax(row);
                    }
                    unsafe {
                        // ctx (len × hd, into rows head*hd.. of ctx) = P (len × len) · V (len × hd)
                        gemm(
                            len,
                            hd,
                            len,
                            s.ctx.as_mut_ptr().add(head * hd * t + off),
                            t as isize,
                            1,
                            false,
                            scores.as_ptr(),
                            1,
                            len as isize,
                            s.qkv.as_ptr().add(vo),
                            t as isize,
                            1,
                            0.0,
                            1.0,
                            false,
                            false,
                            false,
                            Parallelism::None,
                        );
                    }
                }
                off += len;
            }
            dense(&mut s.tmp, &s.ctx, 1, &l.out_w, &l.out_b, h, h);
            layer_norm(
                &mut s.x,
                Some(&s.tmp),
                t,
                &l.ln1_g,
                &l.ln1_b,
                self.eps,
                &mut s.mean,
                &mut s.var,
            );
            dense(&mut s.up, &s.x, 2, &l.up_w, &l.up_b, self.inter, h);
            gelu_erf(&mut s.up[..self.inter * t]);
            dense(&mut s.tmp, &s.up, 3, &l.down_w, &l.down_b, h, self.inter);
            layer_norm(
                &mut s.x,
                Some(&s.tmp),
                t,
                &l.ln2_g,
                &l.ln2_b,
                self.eps,
                &mut s.mean,
                &mut s.var,
            );
        }

        // Mean over each sequence's tokens.
        let mut out = Vec::with_capacity(seqs.len());
        let mut off = 0;
        for q in seqs {
            let len = q.len();
            let v: Vec<f32> = (0..h)
                .map(|f| {
                    let row = &s.x[f * t + off..][..len];
                    row.iter().sum::<f32>() / len.max(1) as f32
                })
                .collect();
            out.push(v);
            off += len;
        }
        Ok(out)
    }
}

/// The weights file, read in place (each tensor is copied once, into the encoder's buffers).
struct Weights<'a> {
    tensors: SafeTensors<'a>,
}

impl Weights<'_> {
    /// A tensor's values; `shape` entries of 0 match any size.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, TextError> {
        let t = self
            .tensors
            .tensor(name)
            .or_else(|_| self.tensors.tensor(&format!("bert.{name}")))
            .map_err(|_| TextError::Load(format!("model.safetensors: no tensor {name}")))?;
        let dims = t.shape();
        if dims.len() != shape.len() || dims.iter().zip(shape).any(|(d, s)| *s != 0 && d != s) {
            return Err(TextError::Load(format!(
                "model.safetensors: {name} has shape {dims:?}, expected {shape:?}"
            )));
        }
        if t.dtype() != Dtype::F32 {
            return Err(TextError::Load(format!(
                "model.safetensors: {name} is {:?}, expected F32",
                t.dtype()
            )));
        }
        Ok(t.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}

/// Inputs up to this many tokens use the f16 kernel when there is one.
#[cfg(target_arch = "x86_64")]
const SKINNY_TOKENS: usize = skinny::MAX_TOKENS;
#[cfg(not(target_arch = "x86_64"))]
const SKINNY_TOKENS: usize = 0;

/// f16 panels of the four dense weights `(w, n, k)` of a layer, if the CPU has the kernel.
#[allow(unused_variables)]
fn half_panels(ws: [(&[f32], usize, usize); 4]) -> Option<[Vec<u16>; 4]> {
    #[cfg(target_arch = "x86_64")]
    {
        let [a, b, c, d] = ws.map(|(w, n, k)| skinny::pack(w, n, k));
        Some([a?, b?, c?, d?])
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

fn resize(v: &mut Vec<f32>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

/// `dst (n × t) = W (n × k, row-major) · x (k × t) + b`, all feature-major.
#[allow(clippy::too_many_arguments)]
fn linear(
    dst: &mut [f32],
    x: &[f32],
    t: usize,
    w: &[f32],
    b: &[f32],
    n: usize,
    k: usize,
    par: Threads,
) {
    assert!(dst.len() >= n * t && x.len() >= k * t && w.len() == n * k && b.len() == n);
    for (row, bias) in dst[..n * t].chunks_exact_mut(t).zip(b) {
        row.fill(*bias);
    }
    // In gemm's terms: dst (t × n, column-major) = xᵀ (t × k, column-major) · Wᵀ (k × n, whose
    // columns are W's rows), accumulated onto the bias.
    // SAFETY: the sizes were checked above; strides address dst[j*t + i], x[kk*t + i] and
    // w[j*k + kk] for i < t, j < n, kk < k.
    unsafe {
        gemm(
            t,
            n,
            k,
            dst.as_mut_ptr(),
            t as isize,
            1,
            true,
            x.as_ptr(),
            t as isize,
            1,
            w.as_ptr(),
            k as isize,
            1,
            1.0,
            1.0,
            false,
            false,
            false,
            par.for_work(t, n, k),
        );
    }
}

/// LayerNorm of each column of the `h × t` feature-major `x` (after adding `residual`, if
/// given), in place.
#[allow(clippy::too_many_arguments)]
fn layer_norm(
    x: &mut [f32],
    residual: Option<&[f32]>,
    t: usize,
    g: &[f32],
    b: &[f32],
    eps: f32,
    mean: &mut [f32],
    var: &mut [f32],
) {
    let h = g.len();
    let x = &mut x[..h * t];
    let (mean, var) = (&mut mean[..t], &mut var[..t]);
    mean.fill(0.0);
    var.fill(0.0);
    for f in 0..h {
        let row = &mut x[f * t..][..t];
        if let Some(r) = residual {
            for (a, r) in row.iter_mut().zip(&r[f * t..][..t]) {
                *a += r;
            }
        }
        for (m, a) in mean.iter_mut().zip(row.iter()) {
            *m += a;
        }
    }
    let inv_h = 1.0 / h as f32;
    mean.iter_mut().for_each(|m| *m *= inv_h);
    for f in 0..h {
        for ((v, a), m) in var.iter_mut().zip(&x[f * t..][..t]).zip(mean.iter()) {
            let d = a - m;
            *v += d * d;
        }
    }
    var.iter_mut()
        .for_each(|v| *v = 1.0 / (*v * inv_h + eps).sqrt());
    for f in 0..h {
        let (gf, bf) = (g[f], b[f]);
        for ((a, m), r) in x[f * t..][..t].iter_mut().zip(mean.iter()).zip(var.iter()) {
            *a = (*a - m) * r * gf + bf;
        }
    }
}

fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
}

/// `x · Φ(x)` with the exact (erf) normal CDF, as BERT's "gelu".
fn gelu_erf(v: &mut [f32]) {
    const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
    for x in v.iter_mut() {
        *x = 0.5 * *x * (1.0 + erf(*x * FRAC_1_SQRT_2));
    }
}

/// erf in single precision: a rational approximation on [-4, 4] (outside, erf is ±1 in f32),
/// branch-free so loops over it vectorise; absolute error below 1e-6 (see the tests).
#[inline(always)]
pub(super) fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 - 2.101_024e-6;
    p = p * x2 - 5.692_506_4e-5;
    p = p * x2 - 7.349_906_3e-4;
    p = p * x2 - 2.954_600_1e-3;
    p = p * x2 - 1.609_603_3e-2;
    p *= x;
    let mut q = -1.456_607_2e-5_f32;
    q = q * x2 - 2.133_740_6e-4;
    q = q * x2 - 1.682_827e-3;
    q = q * x2 - 7.373_329_3e-3;
    q = q * x2 - 1.426_474e-2;
    p / q
}

/// Dense layers for a short input (at most `skinny::MAX_TOKENS` tokens, a query) on x86-64
/// CPUs with AVX-512: the weights are kept a second time as f16, in panels of 16 output
/// features, so a query streams half the bytes (21 MB instead of 42 MB for MiniLM-L6) in
/// order; products accumulate in f32. `gemm` has no f16-weight kernel for this shape, hence
/// this one (about 3% of the vector's values move by up to ~1e-4 against the f32 weights; the
/// tests bound the difference).
#[cfg(target_arch = "x86_64")]
mod skinny {
    use std::arch::x86_64::*;

    /// Most tokens this path takes: beyond two passes over the f16 weights, `gemm` on the
    /// f32 weights (read once, better blocked) is as fast.
    pub(super) const MAX_TOKENS: usize = 32;
    /// Tokens per pass of the kernel (one f32 accumulator register each).
    const GROUP: usize = 16;
    const LANES: usize = 16;

    /// Whether this CPU runs the kernel.
    pub(super) fn supported() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
    }

    /// `w` (n × k, row-major f32) as f16 panels: panel `p` holds, for each `kk`, rows
    /// `16p .. 16p+16` of column `kk`. `None` when `n` is not a multiple of 16.
    pub(super) fn pack(w: &[f32], n: usize, k: usize) -> Option<Vec<u16>> {
        if !supported() || !n.is_multiple_of(LANES) || w.len() != n * k {
            return None;
        }
        // SAFETY: AVX-512F is present (checked above).
        Some(unsafe { pack_avx512(w, n, k) })
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn pack_avx512(w: &[f32], n: usize, k: usize) -> Vec<u16> {
        let mut out = vec![0u16; n * k];
        let mut col = [0f32; LANES];
        for p in 0..n / LANES {
            for kk in 0..k {
                for (f, c) in col.iter_mut().enumerate() {
                    *c = w[(LANES * p + f) * k + kk];
                }
                let v = _mm512_loadu_ps(col.as_ptr());
                let h = _mm512_cvtps_ph::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v);
                let at = (p * k + kk) * LANES;
                _mm256_storeu_si256(out[at..at + LANES].as_mut_ptr() as *mut __m256i, h);
            }
        }
        out
    }

    /// `dst (n × t) = W (n × k) · x (k × t) + b`, feature-major, for `1 <= t <= MAX_TOKENS`,
    /// with W as [`pack`] made it. Tokens go through the kernel 16 at a time.
    pub(super) fn linear(
        dst: &mut [f32],
        x: &[f32],
        t: usize,
        panels: &[u16],
        b: &[f32],
        n: usize,
        k: usize,
    ) {
        assert!(
            (1..=MAX_TOKENS).contains(&t)
                && dst.len() >= n * t
                && x.len() >= k * t
                && panels.len() == n * k
                && b.len() == n
                && n.is_multiple_of(LANES)
                && supported()
        );
        let (wp, bp) = (panels.as_ptr(), b.as_ptr());
        let mut i0 = 0;
        while i0 < t {
            let g = (t - i0).min(GROUP);
            let (d, xp) = (dst[i0..].as_mut_ptr(), x[i0..].as_ptr());
            // SAFETY: sizes checked above; the kernel reads x[kk*t + i0 + i],
            // panels[(p*k + kk)*16 + f], b[16p + f] and writes dst[(16p + f)*t + i0 + i] for
            // i < g (i0 + g <= t), kk < k, 16p + f < n.
            unsafe {
                match g {
                    1 => kernel::<1>(d, xp, t, wp, bp, n, k),
                    2 => kernel::<2>(d, xp, t, wp, bp, n, k),
                    3 => kernel::<3>(d, xp, t, wp, bp, n, k),
                    4 => kernel::<4>(d, xp, t, wp, bp, n, k),
                    5 => kernel::<5>(d, xp, t, wp, bp, n, k),
                    6 => kernel::<6>(d, xp, t, wp, bp, n, k),
                    7 => kernel::<7>(d, xp, t, wp, bp, n, k),
                    8 => kernel::<8>(d, xp, t, wp, bp, n, k),
                    9 => kernel::<9>(d, xp, t, wp, bp, n, k),
                    10 => kernel::<10>(d, xp, t, wp, bp, n, k),
                    11 => kernel::<11>(d, xp, t, wp, bp, n, k),
                    12 => kernel::<12>(d, xp, t, wp, bp, n, k),
                    13 => kernel::<13>(d, xp, t, wp, bp, n, k),
                    14 => kernel::<14>(d, xp, t, wp, bp, n, k),
                    15 => kernel::<15>(d, xp, t, wp, bp, n, k),
                    _ => kernel::<16>(d, xp, t, wp, bp, n, k),
                }
            }
            i0 += g;
        }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn kernel<const T: usize>(
        dst: *mut f32,
        x: *const f32,
        ld: usize,
        panels: *const u16,
        b: *const f32,
        n: usize,
        k: usize,
    ) {
        let mut out = [0f32; LANES];
        for p in 0..n / LANES {
            let mut acc = [_mm512_setzero_ps(); T];
            let panel = panels.add(p * k * LANES);
            for kk in 0..k {
                let w =
                    _mm512_cvtph_ps(_mm256_loadu_si256(panel.add(kk * LANES) as *const __m256i));
                let xr = x.add(kk * ld);
                for (i, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(w, _mm512_set1_ps(*xr.add(i)), *a);
                }
            }
            let bias = _mm512_loadu_ps(b.add(LANES * p));
            for (i, a) in acc.iter().enumerate() {
                _mm512_storeu_ps(out.as_mut_ptr(), _mm512_add_ps(*a, bias));
                for (f, v) in out.iter().enumerate() {
                    *dst.add((LANES * p + f) * ld + i) = *v;
                }
            }
        }
    }
}
