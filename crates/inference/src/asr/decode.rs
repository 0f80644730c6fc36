//! Decoding one ≤30 s window: greedy search over the decoder with openai-whisper's logit rules
//! (suppressed tokens, no blank or end at the start, `<|notimestamps|>` mode), its quality
//! checks (average log-probability, gzip compression ratio of the text, no-speech probability)
//! and its temperature fallback, plus Hearth's vocabulary biasing.
//!
//! Biasing (custom vocabularies and language models) works in two ways at once, as Whisper
//! runtimes do: the phrases go into the *prompt* (`<|startofprev|>` + text, which makes the
//! decoder expect those spellings), and a *prefix bonus* is added to the logits: when the text
//! decoded so far ends with the first k tokens of a phrase, the phrase's token k gets
//! `bonus` added (k = 0: a smaller bonus on the phrase's first token). That is shallow fusion
//! with a phrase trie, the usual contextual-biasing method; it lets rare names win against
//! common words that sound alike.

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};

use super::model::{KvCache, Whisper};
use super::tokens::Vocab;

/// Longest text (in tokens) one window may produce (openai-whisper's `sample_len`).
pub const MAX_NEW_TOKENS: usize = 224;
/// When no temperature gives an acceptable text, a no-speech probability above this marks the
/// window as non-speech (music, noise) rather than keeping an improbable text.
pub const HALLUCINATION_NO_SPEECH: f32 = 0.15;
/// Longest prompt in tokens (the last tokens are kept).
pub const MAX_PROMPT_TOKENS: usize = 223;

/// Phrase biasing: token sequences and the logit bonus of continuing them.
#[derive(Debug, Clone, Default)]
pub struct Bias {
    /// Each phrase as tokens, in its spelling with a leading space (as it appears mid-text).
    pub phrases: Vec<Vec<u32>>,
    /// Bonus on the next token of a phrase once its first token was emitted.
    pub continue_bonus: f32,
    /// Bonus on the first token of a phrase.
    pub start_bonus: f32,
    /// A phrase token gets its bonus only when the model already finds it plausible: its
    /// log-probability at most this far below the best token's (0: always). This keeps a
    /// term from replacing common words that merely share its first sounds.
    pub gate: f32,
}

/// What decoding one window gave.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Text tokens (no special tokens).
    pub tokens: Vec<u32>,
    /// Mean log-probability of the tokens (and the end token).
    pub avg_logprob: f32,
    /// Probability of `<|nospeech|>` at the first step.
    pub no_speech_prob: f32,
    /// Temperature of the accepted try.
    pub temperature: f32,
    /// gzip compression ratio of the text.
    pub compression_ratio: f32,
}

/// Settings of [`decode_window`].
#[derive(Debug, Clone)]
pub struct DecodeSettings {
    /// Prompt tokens (without `<|startofprev|>`).
    pub prompt: Vec<u32>,
    /// Phrase biasing.
    pub bias: Bias,
    /// Tokens never emitted (the model config's `suppress_ids`).
    pub suppress: Vec<u32>,
    /// Tokens not emitted first (`suppress_ids_begin`: blank and end of text).
    pub suppress_begin: Vec<u32>,
    /// Temperatures tried in order while the quality checks fail.
    pub temperatures: Vec<f32>,
    /// Above this gzip ratio the text is repetitive: try the next temperature.
    pub compression_ratio_threshold: f32,
    /// Below this average log-probability: try the next temperature.
    pub logprob_threshold: f32,
    /// With a no-speech probability above this and a low log-probability, the window is silent.
    pub no_speech_threshold: f32,
    /// Language token (multilingual models; `None`: English).
    pub language: Option<u32>,
}

impl Default for DecodeSettings {
    fn default() -> Self {
        DecodeSettings {
            prompt: Vec::new(),
            bias: Bias::default(),
            suppress: Vec::new(),
            suppress_begin: Vec::new(),
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            compression_ratio_threshold: 2.4,
            logprob_threshold: -1.0,
            no_speech_threshold: 0.6,
            language: None,
        }
    }
}

/// gzip compression ratio of `text` (bytes / compressed bytes), as openai-whisper computes it.
pub fn compression_ratio(text: &str) -> f32 {
    use std::io::Write;
    if text.is_empty() {
        return 0.0;
    }
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = enc.write_all(text.as_bytes());
    let n = enc.finish().map(|v| v.len()).unwrap_or(1).max(1);
    text.len() as f32 / n as f32
}

fn log_softmax(x: &[f32]) -> Vec<f32> {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = x.iter().map(|v| (v - max).exp()).sum();
    let lse = max + sum.ln();
    x.iter().map(|v| v - lse).collect()
}

/// Decode one window whose encoder output is `enc` `(1, 1500, d)`. Returns `None` when the
/// window holds no speech (no-speech probability high and log-probability low).
pub fn decode_window(model: &Whisper, vocab: &Vocab, enc: &Tensor, s: &DecodeSettings, seed: u64) -> candle_core::Result<(Option<Decoded>, KvCache)> {
    let sp = vocab.specials;
    let mut prefix = Vec::new();
    if !s.prompt.is_empty() {
        prefix.push(sp.sot_prev);
        let keep = s.prompt.len().min(MAX_PROMPT_TOKENS);
        prefix.extend_from_slice(&s.prompt[s.prompt.len() - keep..]);
    }
    let sot_index = prefix.len();
    prefix.extend(vocab.sot_sequence(s.language));
    let budget = model.dims.max_tokens.saturating_sub(prefix.len()).min(MAX_NEW_TOKENS);
    let vocab_n = model.dims.vocab;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    // The prefix's cache is shared by every temperature try.
    let mut base = model.new_cache(enc)?;
    let (hidden, _) = model.forward(&Tensor::new(prefix.as_slice(), &Device::Cpu)?.unsqueeze(0)?, &mut base, &[])?;
    // No-speech probability: at the `<|startoftranscript|>` position.
    let sot_logits: Vec<f32> = model.logits(&hidden.narrow(1, sot_index, 1)?.contiguous()?)?.flatten_all()?.to_vec1()?;
    let no_speech_prob = log_softmax(&sot_logits).get(sp.no_speech as usize).map_or(0.0, |l| l.exp());
    let n = hidden.dim(1)?;
    let first_logits: Vec<f32> = model.logits(&hidden.narrow(1, n - 1, 1)?.contiguous()?)?.flatten_all()?.to_vec1()?;

    let mut best: Option<(Decoded, KvCache)> = None;
    for &temperature in &s.temperatures {
        let mut cache = base.clone();
        let mut logits = first_logits.clone();
        let mut tokens: Vec<u32> = Vec::new();
        let mut sum_logprob = 0f32;
        let mut ended = false;
        for step in 0..budget {
            // Suppression: every special token but the end of text, the configured ids, and
            // at the start a blank or an immediate end.
            for v in logits.iter_mut().skip(sp.eot as usize + 1) {
                *v = f32::NEG_INFINITY;
            }
            for &t in &s.suppress {
                if let Some(v) = logits.get_mut(t as usize) {
                    *v = f32::NEG_INFINITY;
                }
            }
            if step == 0 {
                for &t in &s.suppress_begin {
                    if let Some(v) = logits.get_mut(t as usize) {
                        *v = f32::NEG_INFINITY;
                    }
                }
            }
            let logprobs = log_softmax(&logits);
            let mut scored = logits.clone();
            apply_bias(&mut scored, &tokens, &s.bias);
            let next = if temperature <= 0.0 {
                argmax(&scored)
            } else {
                sample(&scored, temperature, &mut rng)
            };
            sum_logprob += logprobs.get(next as usize).copied().unwrap_or(f32::NEG_INFINITY).max(-100.0);
            if next == sp.eot {
                ended = true;
                break;
            }
            tokens.push(next);
            if step + 1 == budget {
                break;
            }
            logits = model.decode_last(&Tensor::new(&[next], &Device::Cpu)?.unsqueeze(0)?, &mut cache)?.flatten_all()?.to_vec1()?;
            debug_assert_eq!(logits.len(), vocab_n);
        }
        let count = tokens.len() + usize::from(ended);
        let avg_logprob = if count == 0 { 0.0 } else { sum_logprob / count as f32 };
        let text = vocab.decode(&tokens);
        let ratio = compression_ratio(&text);
        let decoded = Decoded { tokens, avg_logprob, no_speech_prob, temperature, compression_ratio: ratio };
        if no_speech_prob > s.no_speech_threshold && avg_logprob < s.logprob_threshold {
            return Ok((None, base));
        }
        // A high compression ratio flags a repetition loop; text that is legitimately
        // repetitive (digit groups, "no, no, no") is accepted when the model is confident and
        // the text ended on its own rather than running into the token budget.
        let looping = ratio > s.compression_ratio_threshold && (!ended || avg_logprob < -0.35);
        let ok = !looping && avg_logprob >= s.logprob_threshold;
        let better = best.as_ref().is_none_or(|(b, _)| decoded.avg_logprob > b.avg_logprob);
        if ok {
            return Ok((Some(decoded), base));
        }
        if best.is_none() || (better && !looping) {
            best = Some((decoded, cache));
        }
    }
    // Every temperature failed the checks: a window whose best text still loops, or is
    // improbable while the model gives some weight to "no speech", is music or noise the
    // detector let through (hallucinations such as ". . ." or "Thank you." on a melody).
    let best = best.map(|(d, _)| d).filter(|d| {
        let looping = d.compression_ratio > s.compression_ratio_threshold;
        let unlikely = d.avg_logprob < s.logprob_threshold && d.no_speech_prob > HALLUCINATION_NO_SPEECH;
        !(looping || unlikely)
    });
    Ok((best, base))
}

/// Beam search over one window (openai-whisper's `BeamSearchDecoder` at temperature 0 with
/// `beam` hypotheses, ranked by length-normalised log-probability): returns up to `n_best`
/// distinct finished hypotheses, best first. `None` when the window holds no speech.
/// Quality checks as in [`decode_window`]; when the best hypothesis fails them, the greedy
/// decoder with its temperature fallback decides alone.
pub fn beam_search(model: &Whisper, vocab: &Vocab, enc: &Tensor, s: &DecodeSettings, beam: usize, n_best: usize, seed: u64) -> candle_core::Result<(Option<Vec<Decoded>>, KvCache)> {
    let beam = beam.max(n_best).max(1);
    let sp = vocab.specials;
    let mut prefix = Vec::new();
    if !s.prompt.is_empty() {
        prefix.push(sp.sot_prev);
        let keep = s.prompt.len().min(MAX_PROMPT_TOKENS);
        prefix.extend_from_slice(&s.prompt[s.prompt.len() - keep..]);
    }
    let sot_index = prefix.len();
    prefix.extend(vocab.sot_sequence(s.language));
    let budget = model.dims.max_tokens.saturating_sub(prefix.len()).min(MAX_NEW_TOKENS);
    let mut base = model.new_cache(enc)?;
    let (hidden, _) = model.forward(&Tensor::new(prefix.as_slice(), &Device::Cpu)?.unsqueeze(0)?, &mut base, &[])?;
    let sot_logits: Vec<f32> = model.logits(&hidden.narrow(1, sot_index, 1)?.contiguous()?)?.flatten_all()?.to_vec1()?;
    let no_speech_prob = log_softmax(&sot_logits).get(sp.no_speech as usize).map_or(0.0, |l| l.exp());
    let n = hidden.dim(1)?;
    let first: Vec<f32> = model.logits(&hidden.narrow(1, n - 1, 1)?.contiguous()?)?.flatten_all()?.to_vec1()?;

    // Live hypotheses: (tokens, ranking score (biased), acoustic log-prob sum (unbiased)).
    let mut live: Vec<(Vec<u32>, f32, f32)> = vec![(Vec::new(), 0.0, 0.0)];
    let mut rows: Vec<Vec<f32>> = vec![first];
    let mut cache = base.clone();
    let mut finished: Vec<(Vec<u32>, f32, f32)> = Vec::new();
    for step in 0..budget {
        let mut candidates: Vec<(usize, u32, f32, f32)> = Vec::new();
        for (i, (tokens, score, acoustic)) in live.iter().enumerate() {
            let mut logits = rows[i].clone();
            suppress(&mut logits, s, sp.eot, step == 0);
            let logprobs = log_softmax(&logits);
            apply_bias(&mut logits, tokens, &s.bias);
            let scored = log_softmax(&logits);
            let mut order: Vec<usize> = (0..scored.len()).filter(|&t| scored[t].is_finite()).collect();
            let k = (beam + 1).min(order.len());
            order.select_nth_unstable_by(k.saturating_sub(1), |a, b| scored[*b].total_cmp(&scored[*a]));
            for &t in &order[..k] {
                candidates.push((i, t as u32, score + scored[t], acoustic + logprobs[t].max(-100.0)));
            }
        }
        candidates.sort_by(|a, b| b.2.total_cmp(&a.2));
        let mut next: Vec<(Vec<u32>, f32, f32)> = Vec::new();
        let mut parents: Vec<u32> = Vec::new();
        for (i, t, score, acoustic) in candidates {
            let mut tokens = live[i].0.clone();
            if t == sp.eot {
                if finished.len() < beam * 2 {
                    finished.push((tokens, score, acoustic));
                }
                continue;
            }
            tokens.push(t);
            if !next.iter().any(|(x, _, _)| *x == tokens) {
                next.push((tokens, score, acoustic));
                parents.push(i as u32);
            }
            // Only candidates ranked above the last kept hypothesis count (lower-ranked
            // endings are not finished hypotheses), as in openai-whisper.
            if next.len() >= beam {
                break;
            }
        }
        if finished.len() >= beam || next.is_empty() || step + 1 == budget {
            if finished.is_empty() {
                finished = next;
            }
            break;
        }
        cache = cache.select(&parents)?;
        let last: Vec<u32> = next.iter().map(|(t, _, _)| *t.last().unwrap_or(&sp.eot)).collect();
        let logits = model.decode_last(&Tensor::new(last.as_slice(), &Device::Cpu)?.unsqueeze(1)?, &mut cache)?;
        rows = logits.to_vec2()?;
        live = next;
    }
    // Rank finished hypotheses by length-normalised score; drop repeated texts.
    let mut ranked: Vec<Decoded> = Vec::new();
    finished.sort_by(|a, b| (b.1 / (b.0.len() + 1) as f32).total_cmp(&(a.1 / (a.0.len() + 1) as f32)));
    for (tokens, _, acoustic) in finished {
        let text = vocab.decode(&tokens);
        if ranked.iter().any(|d| vocab.decode(&d.tokens).trim() == text.trim()) {
            continue;
        }
        let avg_logprob = acoustic / (tokens.len() + 1) as f32;
        ranked.push(Decoded { compression_ratio: compression_ratio(&text), tokens, avg_logprob, no_speech_prob, temperature: 0.0 });
        if ranked.len() == n_best {
            break;
        }
    }
    let Some(best) = ranked.first() else { return Ok((None, base)) };
    if no_speech_prob > s.no_speech_threshold && best.avg_logprob < s.logprob_threshold {
        return Ok((None, base));
    }
    if best.compression_ratio > s.compression_ratio_threshold || best.avg_logprob < s.logprob_threshold {
        let (greedy, base) = decode_window(model, vocab, enc, s, seed)?;
        return Ok((greedy.map(|g| vec![g]), base));
    }
    Ok((Some(ranked), base))
}

fn suppress(logits: &mut [f32], s: &DecodeSettings, eot: u32, first: bool) {
    for v in logits.iter_mut().skip(eot as usize + 1) {
        *v = f32::NEG_INFINITY;
    }
    for &t in &s.suppress {
        if let Some(v) = logits.get_mut(t as usize) {
            *v = f32::NEG_INFINITY;
        }
    }
    if first {
        for &t in &s.suppress_begin {
            if let Some(v) = logits.get_mut(t as usize) {
                *v = f32::NEG_INFINITY;
            }
        }
    }
}

/// Language identification (openai-whisper `detect_language`): the decoder's distribution
/// over the language tokens right after `<|startoftranscript|>`, restricted to `candidates`
/// (all languages when empty) and renormalised; best first.
pub fn detect_language(model: &Whisper, vocab: &Vocab, enc: &Tensor, candidates: &[u32]) -> candle_core::Result<Vec<(String, f32)>> {
    if vocab.languages.is_empty() {
        return Ok(Vec::new());
    }
    let mut cache = model.new_cache(enc)?;
    let logits = model.decode_last(&Tensor::new(&[vocab.specials.sot], &Device::Cpu)?.unsqueeze(0)?, &mut cache)?;
    let row: Vec<f32> = logits.flatten_all()?.to_vec1()?;
    let langs: Vec<&(String, u32)> = vocab.languages.iter().filter(|(_, id)| candidates.is_empty() || candidates.contains(id)).collect();
    let values: Vec<f32> = langs.iter().map(|(_, id)| row.get(*id as usize).copied().unwrap_or(f32::NEG_INFINITY)).collect();
    let lp = log_softmax(&values);
    let mut out: Vec<(String, f32)> = langs.iter().zip(lp).map(|((code, _), l)| (code.clone(), l.exp())).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(out)
}

fn apply_bias(logits: &mut [f32], history: &[u32], bias: &Bias) {
    if bias.phrases.is_empty() {
        return;
    }
    // Log-probability gap of each token to the best one, from the unbiased logits.
    let best = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let original: Vec<(u32, f32)> = bias.phrases.iter().flat_map(|p| p.iter().map(|&t| (t, logits.get(t as usize).copied().unwrap_or(f32::NEG_INFINITY)))).collect();
    let plausible = |tok: u32| bias.gate <= 0.0 || original.iter().find(|(t, _)| *t == tok).is_some_and(|(_, v)| best - v <= bias.gate);
    let mut given: Vec<u32> = Vec::new();
    for p in &bias.phrases {
        // Longest k < len(p) such that history ends with p[..k].
        let mut bonus_for: Option<(u32, f32)> = None;
        for k in (1..p.len()).rev() {
            if history.len() >= k && history[history.len() - k..] == p[..k] {
                bonus_for = Some((p[k], bias.continue_bonus));
                break;
            }
        }
        let (tok, bonus) = bonus_for.unwrap_or((p[0], bias.start_bonus));
        // One bonus per token (phrases sharing a prefix do not add up), only if plausible.
        if given.contains(&tok) || !plausible(tok) {
            continue;
        }
        if let Some(v) = logits.get_mut(tok as usize) {
            if v.is_finite() {
                *v += bonus;
                given.push(tok);
            }
        }
    }
}

fn argmax(x: &[f32]) -> u32 {
    let mut best = 0usize;
    for (i, v) in x.iter().enumerate() {
        if *v > x[best] {
            best = i;
        }
    }
    best as u32
}

fn sample(x: &[f32], temperature: f32, rng: &mut impl Rng) -> u32 {
    let scaled: Vec<f32> = x.iter().map(|v| v / temperature).collect();
    let lp = log_softmax(&scaled);
    let r: f32 = rng.gen();
    let mut acc = 0f32;
    for (i, l) in lp.iter().enumerate() {
        acc += l.exp();
        if acc >= r {
            return i as u32;
        }
    }
    argmax(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_prefers_continuing_a_phrase() {
        let bias = Bias { phrases: vec![vec![5, 6, 7]], continue_bonus: 3.0, start_bonus: 1.0, gate: 0.0 };
        let mut l = vec![0f32; 10];
        apply_bias(&mut l, &[1, 5], &bias);
        assert_eq!(l[6], 3.0);
        let mut l = vec![0f32; 10];
        apply_bias(&mut l, &[5, 6], &bias);
        assert_eq!(l[7], 3.0);
        let mut l = vec![0f32; 10];
        apply_bias(&mut l, &[1], &bias);
        assert_eq!(l[5], 1.0);
        let mut l = vec![f32::NEG_INFINITY; 10];
        apply_bias(&mut l, &[1], &bias);
        assert!(l[5].is_infinite());
        // With a gate, an implausible phrase token gets nothing.
        let gated = Bias { gate: 2.0, ..bias };
        let mut l = vec![0f32; 10];
        l[1] = 5.0;
        apply_bias(&mut l, &[1], &gated);
        assert_eq!(l[5], 0.0);
        l[5] = 4.0;
        apply_bias(&mut l, &[1], &gated);
        assert_eq!(l[5], 5.0);
    }

    #[test]
    fn repetitive_text_compresses_well() {
        assert!(compression_ratio(&"thank you ".repeat(40)) > 2.4);
        assert!(compression_ratio("Please hold while I look up your account.") < 2.4);
        assert_eq!(compression_ratio(""), 0.0);
    }
}
