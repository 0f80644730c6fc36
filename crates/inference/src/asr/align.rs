//! Word timestamps from cross-attention, as openai-whisper `timing.find_alignment` computes
//! them: run the decoder once over `<|startoftranscript|> <|notimestamps|> text <|endoftext|>`,
//! take the cross-attention scores of the model's *alignment heads* (listed in the package's
//! `config.json`), softmax them over the audio frames that hold the window's samples,
//! standardise each head over the tokens, median-filter over time (width 7), average the
//! heads, and find the monotonic token→frame path with dynamic time warping. A word starts at
//! the frame where the path reaches its first token and ends where it reaches the next word's.
//! Word confidence is the mean probability of its tokens in that same pass.

use candle_core::{Device, Tensor};

use super::model::{KvCache, Whisper};
use super::tokens::Vocab;

/// Encoder frames per second (1500 frames for 30 s).
pub const FRAMES_PER_SECOND: f32 = 50.0;

/// One word with its timing inside the window.
#[derive(Debug, Clone, PartialEq)]
pub struct WordTiming {
    /// The word as decoded, with its leading space and attached punctuation.
    pub text: String,
    /// Start, seconds from the window start.
    pub start: f32,
    /// End, seconds from the window start.
    pub end: f32,
    /// Mean token probability (0..1).
    pub probability: f32,
}

/// Median filter of width `w` (odd) along a row, with reflect padding (as whisper does).
fn median_filter(row: &[f32], w: usize) -> Vec<f32> {
    let pad = w / 2;
    let n = row.len();
    if n <= pad {
        return row.to_vec();
    }
    let at = |i: isize| -> f32 {
        let mut j = i;
        if j < 0 {
            j = -j;
        }
        if j >= n as isize {
            j = 2 * (n as isize - 1) - j;
        }
        row[j.clamp(0, n as isize - 1) as usize]
    };
    let mut win = vec![0f32; w];
    (0..n)
        .map(|i| {
            for (k, v) in win.iter_mut().enumerate() {
                *v = at(i as isize + k as isize - pad as isize);
            }
            win.sort_by(|a, b| a.total_cmp(b));
            win[pad]
        })
        .collect()
}

/// Dynamic time warping over `cost` (`rows × cols`, row-major); returns the path as
/// (row, col) pairs from (0, 0) to (rows-1, cols-1). Ties prefer the diagonal, then a row
/// step, as openai-whisper's `dtw_cpu`.
pub fn dtw(cost: &[f32], rows: usize, cols: usize) -> Vec<(usize, usize)> {
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    let w = cols + 1;
    let mut acc = vec![f32::INFINITY; (rows + 1) * w];
    let mut trace = vec![0u8; (rows + 1) * w];
    acc[0] = 0.0;
    for j in 1..=cols {
        for i in 1..=rows {
            let c0 = acc[(i - 1) * w + j - 1];
            let c1 = acc[(i - 1) * w + j];
            let c2 = acc[i * w + j - 1];
            let (c, t) = if c0 < c1 && c0 < c2 {
                (c0, 0)
            } else if c1 < c0 && c1 < c2 {
                (c1, 1)
            } else {
                (c2, 2)
            };
            acc[i * w + j] = cost[(i - 1) * cols + j - 1] + c;
            trace[i * w + j] = t;
        }
    }
    let (mut i, mut j) = (rows, cols);
    let mut path = Vec::with_capacity(rows + cols);
    while i > 0 || j > 0 {
        path.push((i.saturating_sub(1), j.saturating_sub(1)));
        let t = if i == 0 {
            2
        } else if j == 0 {
            1
        } else {
            trace[i * w + j]
        };
        match t {
            0 => {
                i -= 1;
                j -= 1;
            }
            1 => i -= 1,
            _ => j -= 1,
        }
    }
    path.reverse();
    // The walk above may emit (0, 0) twice at the border; keep the path strictly moving.
    path.dedup();
    path
}

/// Word timings of `text_tokens` decoded from a window of `num_samples` samples (16 kHz),
/// in `language` (a language token; `None`: English).
pub fn align(
    model: &Whisper,
    vocab: &Vocab,
    cache: &KvCache,
    text_tokens: &[u32],
    num_samples: usize,
    heads: &[(usize, usize)],
    language: Option<u32>,
) -> candle_core::Result<Vec<WordTiming>> {
    if text_tokens.is_empty() {
        return Ok(Vec::new());
    }
    let sot = vocab.sot_sequence(language);
    let sot_len = sot.len() - 1; // without <|notimestamps|>
    let mut seq = sot.clone();
    seq.extend_from_slice(text_tokens);
    seq.push(vocab.specials.eot);
    if seq.len() > model.dims.max_tokens {
        return Ok(Vec::new());
    }
    let mut cache = cache.fresh();
    let (hidden, scores) = model.forward(&Tensor::new(seq.as_slice(), &Device::Cpu)?.unsqueeze(0)?, &mut cache, heads)?;

    // Token probabilities: position p predicts token p+1.
    let logits: Vec<Vec<f32>> = model.logits(&hidden)?.squeeze(0)?.to_vec2()?;
    let eot = vocab.specials.eot as usize;
    let probs: Vec<f32> = text_tokens
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let row = &logits[sot_len + i][..eot];
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
            row.get(t as usize).map_or(0.0, |v| (v - max).exp() / sum)
        })
        .collect();

    // Attention matrix: heads × tokens × frames, over the frames that hold audio.
    let frames = (num_samples / 320).clamp(1, 1500);
    let n_tok = seq.len();
    let mut matrix = vec![0f32; n_tok * frames];
    let mut used = 0usize;
    for s in &scores {
        let s: Vec<Vec<f32>> = s.squeeze(0)?.to_vec2()?; // tokens × 1500
        let mut w: Vec<Vec<f32>> = s
            .iter()
            .map(|row| {
                let row = &row[..frames];
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let e: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
                let sum: f32 = e.iter().sum();
                e.into_iter().map(|v| v / sum).collect()
            })
            .collect();
        // Standardise each frame over the tokens (population std).
        for f in 0..frames {
            let mean = w.iter().map(|r| r[f]).sum::<f32>() / n_tok as f32;
            let var = w.iter().map(|r| (r[f] - mean).powi(2)).sum::<f32>() / n_tok as f32;
            let std = var.sqrt().max(1e-8);
            for r in w.iter_mut() {
                r[f] = (r[f] - mean) / std;
            }
        }
        for (t, r) in w.iter().enumerate() {
            let r = median_filter(r, 7);
            for (f, v) in r.iter().enumerate() {
                matrix[t * frames + f] += v;
            }
        }
        used += 1;
    }
    if used == 0 {
        return Ok(Vec::new());
    }
    // Rows from <|notimestamps|> (predicting the first text token) to the last text token.
    let rows = text_tokens.len() + 1;
    let cost: Vec<f32> = matrix[sot_len * frames..(sot_len + rows) * frames].iter().map(|v| -v / used as f32).collect();
    let path = dtw(&cost, rows, frames);
    // Time at which the path first reaches each row.
    let mut jump_times = vec![0f32; rows];
    let mut last_row = usize::MAX;
    for &(r, c) in &path {
        if r != last_row {
            jump_times[r] = c as f32 / FRAMES_PER_SECOND;
            last_row = r;
        }
    }

    let words = vocab.split_words(text_tokens);
    let mut out = Vec::with_capacity(words.len());
    for (text, idx) in words {
        let (Some(&first), Some(&last)) = (idx.first(), idx.last()) else { continue };
        let start = jump_times[first];
        let end = jump_times[(last + 1).min(rows - 1)];
        let p = idx.iter().map(|&i| probs[i]).sum::<f32>() / idx.len() as f32;
        out.push(WordTiming { text, start, end: end.max(start), probability: p });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtw_follows_the_cheap_diagonal() {
        // 3 rows × 6 cols, cheap cells on a staircase.
        let mut cost = vec![1f32; 18];
        for (r, c) in [(0, 0), (0, 1), (1, 2), (1, 3), (2, 4), (2, 5)] {
            cost[r * 6 + c] = 0.0;
        }
        let path = dtw(&cost, 3, 6);
        assert_eq!(path.first(), Some(&(0, 0)));
        assert_eq!(path.last(), Some(&(2, 5)));
        let first_col_of = |row| path.iter().find(|(r, _)| *r == row).unwrap().1;
        assert_eq!(first_col_of(1), 2);
        assert_eq!(first_col_of(2), 4);
    }

    #[test]
    fn median_filter_removes_spikes() {
        let row = [0.0, 0.0, 9.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert!(median_filter(&row, 7).iter().all(|v| *v == 0.0));
        assert_eq!(median_filter(&[1.0, 2.0], 7), vec![1.0, 2.0]);
    }
}
