//! Decoding one ≤30 s window: greedy search over the decoder with openai-whisper's logit rules
//! (suppressed tokens, no blank or end at the start, `<|notimestamps|>` mode), its quality
//! checks (average log-probability, gzip compression ratio of the text, no-speech probability)
//! and its temperature fallback, plus Hearth's vocabulary biasing.
//!
//! Biasing (custom vocabularies and language models) works in two ways at once, as Whisper
//! runtimes do: the phrases go into the *prompt* (`<|startofprev|>` + text, which makes the
//! decoder expect those spellings), and the phrase trie of [`super::bias`] adds per-token
//! bonuses that are retracted when a phrase is abandoned or fails the acoustic check (greedy
//! decoding rolls back to the first forced token), and replaces sounds-like forms by their
//! phrase when the decoder scores the phrase as nearly as likely in context.

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};

pub use super::bias::Bias;
use super::bias::{continues_word, Event, Tracker};
use super::model::{KvCache, Whisper};
use super::tokens::Vocab;

/// Longest text (in tokens) one window may produce (openai-whisper's `sample_len`).
pub const MAX_NEW_TOKENS: usize = 224;
/// When no temperature gives an acceptable text, a no-speech probability above this marks the
/// window as non-speech (music, noise) rather than keeping an improbable text.
pub const HALLUCINATION_NO_SPEECH: f32 = 0.15;
/// Longest prompt in tokens (the last tokens are kept).
pub const MAX_PROMPT_TOKENS: usize = 223;

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
///
/// With phrases to favour, the window is decoded twice, with the prompt and bonuses and
/// without either, and [`verify`] keeps from the biased text only the stretches that hold a
/// phrase and that the decoder, without prompt or bonus, scores nearly as well as the unbiased
/// text; everything else is the unbiased text. So a vocabulary cannot make a transcript of
/// speech that never says its terms worse.
pub fn decode_window(model: &Whisper, vocab: &Vocab, enc: &Tensor, s: &DecodeSettings, seed: u64) -> candle_core::Result<(Option<Decoded>, KvCache)> {
    let (biased, base) = decode_try(model, vocab, enc, s, seed)?;
    if s.bias.is_empty() {
        return Ok((biased, base));
    }
    let plain_settings = DecodeSettings { prompt: Vec::new(), bias: Bias::default(), ..s.clone() };
    let (plain, _) = decode_try(model, vocab, enc, &plain_settings, seed)?;
    let out = match (plain, biased) {
        (Some(p), Some(b)) if p.tokens != b.tokens => Some(verify(model, vocab, &base, s, p, &b)?.0),
        (None, _) => None,
        (Some(p), _) => Some(p),
    };
    Ok((out, base))
}

/// One stretch where the biased and unbiased texts differ, and what [`verify`] made of it.
#[derive(Debug, Clone)]
pub struct Stretch {
    /// The unbiased text of the stretch.
    pub plain: String,
    /// The biased text of the stretch.
    pub biased: String,
    /// Log-probability of the unbiased stretch (and the token after it), without prompt or bonus.
    pub plain_score: f32,
    /// Log-probability of the biased stretch (and the token after it), without prompt or bonus.
    pub biased_score: f32,
    /// Spelling similarity of the two stretches ([`spelling_similarity`]).
    pub similarity: f32,
    /// The biased stretch holds a whole phrase.
    pub phrase: bool,
    /// The unbiased stretch is a sounds-like form of the biased one's phrase.
    pub alias: bool,
    /// The biased stretch was kept.
    pub kept: bool,
}

/// How alike two texts are spelled: 1 − Levenshtein distance / longer length, over their
/// lower-cased letters and digits. A cheap stand-in for sounding alike: a phrase that replaces
/// words spelled nothing like it ("the end of the last year" → "Nuxt") was not heard, it was
/// suggested by the prompt.
pub fn spelling_similarity(a: &str, b: &str) -> f32 {
    let letters = |s: &str| -> String { s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect() };
    strsim::normalized_levenshtein(&letters(a), &letters(b)) as f32
}

fn norm_word(w: &str) -> String {
    w.chars().filter(|c| c.is_alphanumeric() || *c == '\'').flat_map(char::to_lowercase).collect()
}

/// Log-probability of each of `tokens` and of the end of text after them, decoded without a
/// prompt (teacher forcing on a fresh cache over the window's encoder output).
fn forced_logprobs(model: &Whisper, vocab: &Vocab, base: &KvCache, s: &DecodeSettings, tokens: &[u32]) -> candle_core::Result<Vec<f32>> {
    let mut seq = vocab.sot_sequence(s.language);
    let prefix = seq.len();
    seq.extend_from_slice(tokens);
    let mut cache = base.fresh();
    let (hidden, _) = model.forward(&Tensor::new(seq.as_slice(), &Device::Cpu)?.unsqueeze(0)?, &mut cache, &[])?;
    let rows: Vec<Vec<f32>> = model.logits(&hidden.narrow(1, prefix - 1, tokens.len() + 1)?.contiguous()?)?.squeeze(0)?.to_dtype(candle_core::DType::F32)?.to_vec2()?;
    let eot = vocab.specials.eot;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, mut row)| {
            suppress(&mut row, s, eot, i == 0);
            let t = tokens.get(i).copied().unwrap_or(eot);
            log_softmax(&row).get(t as usize).copied().unwrap_or(f32::NEG_INFINITY).max(-100.0)
        })
        .collect())
}

/// Keep from `biased` only what the vocabulary earned: align the two texts word by word; a
/// stretch where they differ takes the biased words only if they hold a whole phrase and,
/// scored without prompt or bonus up to the next common word, come within the verification
/// margin of the unbiased words (or the unbiased words are a sounds-like form of the phrase,
/// already weighed in context while decoding). Words both texts share keep the unbiased
/// spelling unless the biased one is part of a phrase ("Ascend" for "ascend").
pub fn verify(model: &Whisper, vocab: &Vocab, base: &KvCache, s: &DecodeSettings, plain: Decoded, biased: &Decoded) -> candle_core::Result<(Decoded, Vec<Stretch>)> {
    let cont = |t: u32| continues_word(vocab.token_bytes(t));
    let wp = vocab.split_words(&plain.tokens);
    let wb = vocab.split_words(&biased.tokens);
    let key = |w: &str| {
        let n = norm_word(w);
        if n.is_empty() { w.trim().to_string() } else { n }
    };
    let kp: Vec<String> = wp.iter().map(|(w, _)| key(w)).collect();
    let kb: Vec<String> = wb.iter().map(|(w, _)| key(w)).collect();
    // Tokens of the biased text inside a whole phrase.
    let mut in_phrase = vec![false; biased.tokens.len()];
    for (a, b) in s.bias.phrase_spans(&biased.tokens, cont) {
        for x in &mut in_phrase[a..b] {
            *x = true;
        }
    }
    let word_in_phrase = |i: usize| wb[i].1.iter().any(|&t| in_phrase[t]);
    // Longest common subsequence of the word keys.
    let (n, m) = (kp.len(), kb.len());
    let mut l = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if kp[i] == kb[j] { l[i + 1][j + 1] + 1 } else { l[i + 1][j].max(l[i][j + 1]) };
        }
    }
    let lp_p = forced_logprobs(model, vocab, base, s, &plain.tokens)?;
    let lp_b = forced_logprobs(model, vocab, base, s, &biased.tokens)?;
    // Score of words [a, b) and the token after them.
    let score = |words: &[(String, Vec<usize>)], lps: &[f32], a: usize, b: usize| -> f32 {
        let toks: f32 = words[a..b].iter().flat_map(|(_, idx)| idx.iter().map(|&t| lps[t])).sum();
        let after = words.get(b).and_then(|(_, idx)| idx.first()).copied().unwrap_or(lps.len() - 1);
        toks + lps[after]
    };
    // First pass: the common words and the differing stretches, each stretch decided.
    enum Seg {
        Same(usize, usize),
        Diff(std::ops::Range<usize>, std::ops::Range<usize>, bool),
    }
    let mut segs: Vec<Seg> = Vec::new();
    let mut stretches = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && kp[i] == kb[j] {
            segs.push(Seg::Same(i, j));
            i += 1;
            j += 1;
            continue;
        }
        // A differing stretch: advance both sides to the next common word.
        let (i0, j0) = (i, j);
        while i < n || j < m {
            if i < n && j < m && kp[i] == kb[j] {
                break;
            }
            if j >= m || (i < n && l[i + 1][j] >= l[i][j + 1]) {
                i += 1;
            } else {
                j += 1;
            }
        }
        let phrase = (j0..j).any(word_in_phrase);
        let plain_toks: Vec<u32> = wp[i0..i].iter().flat_map(|(_, idx)| idx.iter().map(|&t| plain.tokens[t])).collect();
        let biased_toks: Vec<u32> = wb[j0..j].iter().flat_map(|(_, idx)| idx.iter().map(|&t| biased.tokens[t])).collect();
        let alias = phrase && s.bias.alias_target(&plain_toks).is_some();
        let (ps, bs) = (score(&wp, &lp_p, i0, i), score(&wb, &lp_b, j0, j));
        let (pt, bt) = (vocab.decode(&plain_toks), vocab.decode(&biased_toks));
        let similarity = spelling_similarity(&pt, &bt);
        let kept = phrase && (alias || (bs + s.bias.allowed_verify_deficit(biased_toks.len()) >= ps && similarity >= s.bias.min_similarity));
        segs.push(Seg::Diff(i0..i, j0..j, kept));
        stretches.push(Stretch { plain: pt, biased: bt, plain_score: ps, biased_score: bs, similarity, phrase, alias, kept });
    }
    // A phrase is written as the biased text spells it only if all of it survived.
    let mut survived = vec![false; biased.tokens.len()];
    for seg in &segs {
        let words = match seg {
            Seg::Same(_, j) => *j..*j + 1,
            Seg::Diff(_, js, true) => js.clone(),
            Seg::Diff(..) => continue,
        };
        for w in &wb[words] {
            for &t in &w.1 {
                survived[t] = true;
            }
        }
    }
    let mut spelled = vec![false; biased.tokens.len()];
    for (a, b) in s.bias.phrase_spans(&biased.tokens, cont) {
        if survived[a..b].iter().all(|x| *x) {
            for x in &mut spelled[a..b] {
                *x = true;
            }
        }
    }
    let mut out: Vec<u32> = Vec::with_capacity(biased.tokens.len());
    for seg in &segs {
        match seg {
            Seg::Same(i, j) => {
                let (w, idx) = if wb[*j].1.iter().any(|&t| spelled[t]) { (&biased.tokens, &wb[*j].1) } else { (&plain.tokens, &wp[*i].1) };
                out.extend(idx.iter().map(|&t| w[t]));
            }
            Seg::Diff(is, js, kept) => {
                let (w, words) = if *kept { (&biased.tokens, &wb[js.clone()]) } else { (&plain.tokens, &wp[is.clone()]) };
                out.extend(words.iter().flat_map(|(_, idx)| idx.iter().map(|&t| w[t])));
            }
        }
    }
    for st in &stretches {
        tracing::debug!(plain = %st.plain, biased = %st.biased, plain_score = st.plain_score, biased_score = st.biased_score, kept = st.kept, "vocabulary stretch verified");
    }
    let text = vocab.decode(&out);
    Ok((Decoded { compression_ratio: compression_ratio(&text), tokens: out, ..plain }, stretches))
}

/// One decoding of a window (greedy with temperature fallback), biased as `s` says.
pub(crate) fn decode_try(model: &Whisper, vocab: &Vocab, enc: &Tensor, s: &DecodeSettings, seed: u64) -> candle_core::Result<(Option<Decoded>, KvCache)> {
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
        let mut tracker = Tracker::new(&s.bias);
        // Decoder states a retraction or an alias may return to, by position.
        let mut snaps: Vec<Option<Snap>> = Vec::new();
        let mut steps = 0;
        while tokens.len() < budget && steps < budget * 2 {
            steps += 1;
            let raw = logits.clone();
            suppress(&mut logits, s, sp.eot, tokens.is_empty());
            let logprobs = log_softmax(&logits);
            let biased = tracker.on();
            let mut scored = logits.clone();
            if biased {
                snaps.resize_with(tokens.len() + 1, || None);
                snaps[tokens.len()] = Some(Snap { cache: cache.clone(), logits: raw, sum_logprob });
                tracker.apply(&mut scored, &logprobs);
            }
            let next = if temperature <= 0.0 {
                argmax(&scored)
            } else {
                sample(&scored, temperature, &mut rng)
            };
            let lp = logprobs.get(next as usize).copied().unwrap_or(f32::NEG_INFINITY).max(-100.0);
            if biased {
                let top = argmax(&logprobs);
                let forced = next != top && scored[next as usize] != logits[next as usize];
                let gap = (logprobs[top as usize] - lp).max(0.0);
                let cont = next != sp.eot && continues_word(vocab.token_bytes(next));
                match tracker.push(next, lp, gap, forced, cont, next == sp.eot) {
                    Event::None => {}
                    Event::Retract { to } => {
                        if let Some(snap) = snaps.get_mut(to).and_then(Option::take) {
                            tracing::debug!(position = to, token = tokens.get(to).copied().unwrap_or(next), "vocabulary bonus retracted");
                            tracker.retract(to);
                            tokens.truncate(to);
                            snaps.truncate(to);
                            (cache, logits, sum_logprob) = (snap.cache, snap.logits, snap.sum_logprob);
                            continue;
                        }
                    }
                    Event::Alias { start, phrase } => {
                        if let Some(snap) = snaps.get(start).and_then(Option::as_ref) {
                            let said = tracker.logprob_from(start);
                            let (score, scored_phrase) = score_phrase(model, s, sp.eot, snap, s.bias.phrase(phrase), next, start == 0)?;
                            tracing::debug!(phrase, said, score, "vocabulary sounds-like form scored");
                            if score + s.bias.alias_margin >= said {
                                let snap = snaps[start].take().unwrap_or_else(|| unreachable!());
                                tracker.truncate(start);
                                tracker.count();
                                tokens.truncate(start);
                                snaps.truncate(start);
                                sum_logprob = snap.sum_logprob;
                                for &(t, lp, gap) in &scored_phrase.steps {
                                    tracker.push(t, lp, gap, false, continues_word(vocab.token_bytes(t)), false);
                                    tokens.push(t);
                                    sum_logprob += lp;
                                }
                                (cache, logits) = (scored_phrase.cache, scored_phrase.last);
                                continue;
                            }
                        }
                    }
                }
                // States before the earliest live match are no longer needed.
                let keep = tracker.earliest_needed().unwrap_or(tokens.len() + 1);
                for x in snaps.iter_mut().take(keep.min(tokens.len() + 1)) {
                    *x = None;
                }
            }
            sum_logprob += lp;
            if next == sp.eot {
                ended = true;
                break;
            }
            tokens.push(next);
            if tokens.len() == budget {
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
            // Candidates by the biased logits; ranked by acoustic score plus the bonus of the
            // whole sequence, which takes back the bonus of abandoned phrases (retraction).
            let _ = score;
            s.bias.apply(&mut logits, &logprobs, &s.bias.active_after(tokens), &[]);
            let scored = log_softmax(&logits);
            let mut order: Vec<usize> = (0..scored.len()).filter(|&t| scored[t].is_finite()).collect();
            let k = (beam + 1).min(order.len());
            order.select_nth_unstable_by(k.saturating_sub(1), |a, b| scored[*b].total_cmp(&scored[*a]));
            for &t in &order[..k] {
                let acoustic = acoustic + logprobs[t].max(-100.0);
                let mut seq = tokens.clone();
                seq.push(t as u32);
                let ended = t as u32 == sp.eot;
                if ended {
                    seq.pop();
                }
                let bonus = s.bias.sequence_bonus(&seq, ended, |x| continues_word(vocab.token_bytes(x)));
                candidates.push((i, t as u32, acoustic + bonus, acoustic));
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

/// A decoder state a greedy try may return to: the cache before a position, the raw logits
/// there, and the log-probability sum so far.
struct Snap {
    cache: KvCache,
    logits: Vec<f32>,
    sum_logprob: f32,
}

/// A phrase decoded in place of a sounds-like form: per token (token, unbiased log-prob, gap
/// to the best token), the cache after it and the raw logits that follow.
struct ScoredPhrase {
    steps: Vec<(u32, f32, f32)>,
    cache: KvCache,
    last: Vec<f32>,
}

/// Log-probability of `phrase` from state `snap`, plus that of `next` after it (the token that
/// followed the sounds-like form, so both readings are scored up to the same point).
fn score_phrase(model: &Whisper, s: &DecodeSettings, eot: u32, snap: &Snap, phrase: &[u32], next: u32, first: bool) -> candle_core::Result<(f32, ScoredPhrase)> {
    let mut cache = snap.cache.clone();
    let (hidden, _) = model.forward(&Tensor::new(phrase, &Device::Cpu)?.unsqueeze(0)?, &mut cache, &[])?;
    let rows: Vec<Vec<f32>> = model.logits(&hidden)?.squeeze(0)?.to_dtype(candle_core::DType::F32)?.to_vec2()?;
    let mut steps = Vec::with_capacity(phrase.len());
    let mut score = 0f32;
    let mut row = snap.logits.clone();
    for (i, &t) in phrase.iter().enumerate() {
        suppress(&mut row, s, eot, first && i == 0);
        let lp = log_softmax(&row);
        let best = lp.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let l = lp.get(t as usize).copied().unwrap_or(f32::NEG_INFINITY).max(-100.0);
        steps.push((t, l, (best - l).max(0.0)));
        score += l;
        row = rows[i].clone();
    }
    let last = row.clone();
    suppress(&mut row, s, eot, false);
    score += log_softmax(&row).get(next as usize).copied().unwrap_or(f32::NEG_INFINITY).max(-100.0);
    Ok((score, ScoredPhrase { steps, cache, last }))
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
    fn repetitive_text_compresses_well() {
        assert!(compression_ratio(&"thank you ".repeat(40)) > 2.4);
        assert!(compression_ratio("Please hold while I look up your account.") < 2.4);
        assert_eq!(compression_ratio(""), 0.0);
    }
}
