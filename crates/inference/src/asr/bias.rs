//! Vocabulary biasing of Whisper decoding (custom vocabularies and language models), the
//! contextual-biasing scheme of k2/icefall/sherpa-onnx "hotwords" adapted to greedy decoding.
//!
//! The phrases (and the sounds-like spellings of a vocabulary, as *aliases*) form a token trie
//! ([`Bias`]). While decoding, [`Tracker`] walks the trie with the emitted tokens:
//!
//! - **Bonus per token.** The first token of a phrase gets `start_bonus`, the next token of a
//!   started phrase `continue_bonus`, each only when the model already finds it plausible (its
//!   log-probability at most `gate` below the best token's).
//! - **Retraction.** A token is *forced* when the bonus changed the choice. If the phrase it
//!   began is abandoned before completion, or completes inside a longer word ("Wix" + "er"),
//!   the bonus is taken back: greedy decoding rolls back to the first forced token and decodes
//!   that position without it (beam search subtracts the accumulated bonus from the
//!   hypothesis's score, [`Bias::sequence_bonus`]).
//! - **Acoustic check on completion.** A completed phrase that needed forcing is kept only if
//!   its unbiased log-probability is within `margin` (plus `margin_per_token` for each token
//!   after the first) of the best token at each step, summed over the phrase: the bonus may
//!   break near-ties, never outvote the audio.
//! - **Aliases.** When the decoder itself writes a sounds-like form ("weeks" for "Wix") at a word
//!   boundary, the phrase is scored in its place by the decoder; it replaces the form only if its
//!   log-probability (with the following token) is within `alias_margin` of the form's. The two
//!   sound the same, so the decision is the decoder's view of the context: "the weeks editor"
//!   becomes "the Wix editor", "two weeks ago" stays.
//! - **Verification** (`decode::verify`). The prompt that carries the phrases also makes the
//!   decoder hear them where they were not said, so a window is decoded once more without
//!   prompt or bonus and only stretches that hold a whole phrase, score (without prompt or
//!   bonus) within `verify_margin` (+ `verify_margin_per_token` per token) of the unbiased words
//!   and are spelled at least `min_similarity` alike, are taken from the biased text.
//!
//! The constants were chosen on a development set (`bench/transcribe/dev.py`, swept by the
//! ignored test in `bias_dev.rs`), not on the benchmark's lines.
//!
//! Hand-written: no crate implements contextual biasing for a hand-rolled decoding loop.

use super::tokens::Vocab;

/// First-token bonus as a share of the strength (the continue bonus).
pub const START_RATIO: f32 = 0.4;
/// Largest log-probability gap (nats) below the best token at which a phrase token still gets
/// its bonus.
pub const GATE: f32 = 4.0;
/// Largest summed log-probability deficit (nats) of a forced phrase's first token.
pub const MARGIN: f32 = 3.0;
/// Extra deficit allowed per further token of a forced phrase.
pub const MARGIN_PER_TOKEN: f32 = 0.5;
/// How far (nats) a phrase's score may be below its sounds-like form's and still replace it.
pub const ALIAS_MARGIN: f32 = 2.0;
/// Retractions and substitutions per decoding try; past it the try goes on without bonuses.
pub const MAX_RETRACTIONS: usize = 16;
/// Verification against the unbiased decoding: how far (nats) below the unbiased reading a
/// stretch holding a phrase may score, without prompt or bonus, and still be kept.
pub const VERIFY_MARGIN: f32 = 6.0;
/// Extra verification margin per token of the phrase stretch after the first.
pub const VERIFY_MARGIN_PER_TOKEN: f32 = 2.0;
/// Least spelling similarity between the unbiased words and the phrase stretch replacing them
/// (see `decode::spelling_similarity`).
pub const MIN_SIMILARITY: f32 = 0.3;

#[derive(Debug, Clone, Default)]
struct Node {
    children: Vec<(u32, usize)>,
    /// The phrase ending here.
    phrase: Option<usize>,
    /// The phrase a sounds-like form ending here stands for.
    alias: Option<usize>,
    /// On the path of a phrase (its children may get bonuses).
    biased: bool,
}

/// A partial match: a trie node reached by the tokens from position `start` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// Trie node.
    pub node: usize,
    /// Position of the match's first token.
    pub start: usize,
}

/// Phrase trie and bonus settings.
#[derive(Debug, Clone)]
pub struct Bias {
    nodes: Vec<Node>,
    phrases: Vec<Vec<u32>>,
    /// Bonus on the first token of a phrase.
    pub start_bonus: f32,
    /// Bonus on the next token of a started phrase.
    pub continue_bonus: f32,
    /// Plausibility gate (nats below the best token; 0: no gate).
    pub gate: f32,
    /// Allowed deficit of a forced phrase's first token ([`MARGIN`]).
    pub margin: f32,
    /// Allowed deficit per further token ([`MARGIN_PER_TOKEN`]).
    pub margin_per_token: f32,
    /// Alias replacement margin ([`ALIAS_MARGIN`]).
    pub alias_margin: f32,
    /// Verification margin ([`VERIFY_MARGIN`]).
    pub verify_margin: f32,
    /// Verification margin per further token ([`VERIFY_MARGIN_PER_TOKEN`]).
    pub verify_margin_per_token: f32,
    /// Least spelling similarity of a replaced stretch ([`MIN_SIMILARITY`]).
    pub min_similarity: f32,
}

impl Default for Bias {
    fn default() -> Self {
        Bias::new(Vec::new(), Vec::new(), 0.0)
    }
}

/// Whether a token's bytes continue the previous word (no leading space, not punctuation).
pub fn continues_word(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| b.is_ascii_alphanumeric() || *b >= 0x80)
}

impl Bias {
    /// A trie of `phrases` (token sequences) and `aliases` (token sequence, index of the phrase
    /// it stands for), with bonuses from `strength` and the default constants.
    pub fn new(phrases: Vec<Vec<u32>>, aliases: Vec<(Vec<u32>, usize)>, strength: f32) -> Bias {
        let mut b = Bias {
            nodes: vec![Node::default()],
            phrases: Vec::new(),
            start_bonus: strength * START_RATIO,
            continue_bonus: strength,
            gate: GATE,
            margin: MARGIN,
            margin_per_token: MARGIN_PER_TOKEN,
            alias_margin: ALIAS_MARGIN,
            verify_margin: VERIFY_MARGIN,
            verify_margin_per_token: VERIFY_MARGIN_PER_TOKEN,
            min_similarity: MIN_SIMILARITY,
        };
        for p in phrases.into_iter().filter(|p| !p.is_empty()) {
            if b.phrases.contains(&p) {
                continue;
            }
            let end = b.insert(&p, true);
            b.nodes[end].phrase = Some(b.phrases.len());
            b.phrases.push(p);
        }
        for (a, target) in aliases {
            if a.is_empty() || target >= b.phrases.len() || b.phrases.contains(&a) {
                continue;
            }
            let end = b.insert(&a, false);
            b.nodes[end].alias.get_or_insert(target);
        }
        b
    }

    /// Build from text hints: `phrases` as written, `aliases` as (sounds-like text, phrase).
    /// Each is encoded with a leading space (as it appears mid-text); an alias is also added
    /// capitalised, since the decoder may write it either way.
    pub fn from_text(vocab: &Vocab, phrases: &[String], aliases: &[(String, String)], strength: f32) -> Bias {
        let mut texts: Vec<String> = phrases.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
        texts.dedup();
        let mut alias_tokens = Vec::new();
        for (form, target) in aliases {
            let target = target.trim();
            let idx = match texts.iter().position(|t| t == target) {
                Some(i) => i,
                None => {
                    texts.push(target.to_string());
                    texts.len() - 1
                }
            };
            let form = form.trim();
            let mut cap = form.to_string();
            if let Some(f) = cap.get(0..1) {
                cap = f.to_uppercase() + &cap[1..];
            }
            for f in [form.to_string(), cap] {
                if !f.is_empty() {
                    alias_tokens.push((vocab.encode(&format!(" {f}")), idx));
                }
            }
        }
        let phrase_tokens = texts.iter().map(|p| vocab.encode(&format!(" {p}"))).collect();
        Bias::new(phrase_tokens, alias_tokens, strength)
    }

    fn insert(&mut self, seq: &[u32], biased: bool) -> usize {
        let mut node = 0;
        for &t in seq {
            node = match self.child(node, t) {
                Some(c) => c,
                None => {
                    self.nodes.push(Node::default());
                    let c = self.nodes.len() - 1;
                    self.nodes[node].children.push((t, c));
                    c
                }
            };
            if biased {
                self.nodes[node].biased = true;
            }
        }
        node
    }

    fn child(&self, node: usize, t: u32) -> Option<usize> {
        self.nodes[node].children.iter().find(|(tok, _)| *tok == t).map(|(_, c)| *c)
    }

    /// Whether there is nothing to favour.
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty() || self.continue_bonus <= 0.0
    }

    /// Tokens of phrase `i`.
    pub fn phrase(&self, i: usize) -> &[u32] {
        &self.phrases[i]
    }

    /// Allowed summed deficit of a forced phrase of `len` tokens.
    pub fn allowed_deficit(&self, len: usize) -> f32 {
        self.margin + self.margin_per_token * len.saturating_sub(1) as f32
    }

    /// Matches after `tok` at position `pos` follows matches `active`.
    pub fn advance(&self, active: &[Match], tok: u32, pos: usize) -> Vec<Match> {
        let mut out: Vec<Match> = active.iter().filter_map(|m| self.child(m.node, tok).map(|node| Match { node, start: m.start })).collect();
        if let Some(node) = self.child(0, tok) {
            out.push(Match { node, start: pos });
        }
        out
    }

    /// Add the bonuses to `logits` for the next token after matches `active`; `logprobs` are
    /// the unbiased log-probabilities (for the gate); `banned` tokens get nothing.
    pub fn apply(&self, logits: &mut [f32], logprobs: &[f32], active: &[Match], banned: &[u32]) {
        if self.is_empty() {
            return;
        }
        let best = logprobs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut given: Vec<(u32, f32)> = Vec::new();
        let mut offer = |tok: u32, bonus: f32| {
            if let Some(g) = given.iter_mut().find(|(t, _)| *t == tok) {
                g.1 = g.1.max(bonus);
            } else {
                given.push((tok, bonus));
            }
        };
        for &(t, c) in &self.nodes[0].children {
            if self.nodes[c].biased {
                offer(t, self.start_bonus);
            }
        }
        for m in active {
            for &(t, c) in &self.nodes[m.node].children {
                if self.nodes[c].biased {
                    offer(t, self.continue_bonus);
                }
            }
        }
        for (tok, bonus) in given {
            if banned.contains(&tok) {
                continue;
            }
            let lp = logprobs.get(tok as usize).copied().unwrap_or(f32::NEG_INFINITY);
            if !lp.is_finite() || (self.gate > 0.0 && best - lp > self.gate) {
                continue;
            }
            if let Some(v) = logits.get_mut(tok as usize) {
                *v += bonus;
            }
        }
    }

    /// Bias score of a whole token sequence with retraction (beam search): completed phrases
    /// (followed by a word boundary, or at the end) keep their bonuses, a phrase still being
    /// matched at the end keeps what it has so far, abandoned ones count nothing.
    pub fn sequence_bonus(&self, tokens: &[u32], ended: bool, continues: impl Fn(u32) -> bool) -> f32 {
        if self.is_empty() {
            return 0.0;
        }
        let bonus_of = |len: usize| self.start_bonus + self.continue_bonus * len.saturating_sub(1) as f32;
        let mut total = 0.0;
        let mut active: Vec<Match> = Vec::new();
        // Matches that completed a phrase, waiting for the next token to be a boundary.
        for (pos, &t) in tokens.iter().enumerate() {
            if !continues(t) {
                let mut best = 0f32;
                for m in &active {
                    if self.nodes[m.node].phrase.is_some() && self.nodes[m.node].biased {
                        best = best.max(bonus_of(pos - m.start));
                    }
                }
                total += best;
            }
            active = self.advance(&active, t, pos).into_iter().filter(|m| self.nodes[m.node].biased).collect();
        }
        // At the end of the text only completed phrases count; before it, a phrase being
        // matched keeps what it has so far.
        let pending = active.iter().filter(|m| !ended || self.nodes[m.node].phrase.is_some());
        total + pending.map(|m| bonus_of(tokens.len() - m.start)).fold(0.0, f32::max)
    }

    /// Token ranges of `tokens` where a phrase occurs whole (followed by a word boundary or
    /// the end).
    pub fn phrase_spans(&self, tokens: &[u32], continues: impl Fn(u32) -> bool) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        let mut active: Vec<Match> = Vec::new();
        for pos in 0..=tokens.len() {
            let boundary = tokens.get(pos).is_none_or(|&t| !continues(t));
            if boundary {
                for m in &active {
                    let n = &self.nodes[m.node];
                    if n.phrase.is_some() && n.biased {
                        spans.push((m.start, pos));
                    }
                }
            }
            match tokens.get(pos) {
                Some(&t) => active = self.advance(&active, t, pos),
                None => break,
            }
        }
        spans
    }

    /// The phrase that `tokens` are a sounds-like form of, if they are one.
    pub fn alias_target(&self, tokens: &[u32]) -> Option<usize> {
        let mut node = 0;
        for &t in tokens {
            node = self.child(node, t)?;
        }
        self.nodes[node].alias
    }

    /// Allowed verification deficit of a phrase stretch of `len` tokens.
    pub fn allowed_verify_deficit(&self, len: usize) -> f32 {
        self.verify_margin + self.verify_margin_per_token * len.saturating_sub(1) as f32
    }

    /// Matches after the whole of `tokens`.
    pub fn active_after(&self, tokens: &[u32]) -> Vec<Match> {
        let mut active = Vec::new();
        for (pos, &t) in tokens.iter().enumerate() {
            active = self.advance(&active, t, pos);
        }
        active
    }
}

/// One emitted token as the tracker sees it.
#[derive(Debug, Clone)]
struct Step {
    token: u32,
    /// Unbiased log-probability.
    logprob: f32,
    /// Unbiased log-probability gap to the best token.
    gap: f32,
    /// The bonus changed the choice.
    forced: bool,
    /// Covered by a phrase that completed and passed the acoustic check.
    justified: bool,
    /// Matches after this token.
    active: Vec<Match>,
}

/// What the decoder must do after a token.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Go on.
    None,
    /// Roll back to position `to` and decode it again without the bonus of the token it held.
    Retract {
        /// Position of the first forced token of the abandoned or rejected phrase.
        to: usize,
    },
    /// The sounds-like form from position `start` up to the last token (excluded) ended at a
    /// word boundary: score phrase `phrase` in its place.
    Alias {
        /// Position of the form's first token.
        start: usize,
        /// Phrase index.
        phrase: usize,
    },
}

/// Trie walk of one greedy decoding try, with the bookkeeping for retraction.
#[derive(Debug)]
pub struct Tracker<'a> {
    bias: &'a Bias,
    steps: Vec<Step>,
    /// (position, token) pairs that get no bonus (retracted).
    bans: Vec<(usize, u32)>,
    retractions: usize,
}

impl<'a> Tracker<'a> {
    /// A tracker at position 0.
    pub fn new(bias: &'a Bias) -> Self {
        Tracker { bias, steps: Vec::new(), bans: Vec::new(), retractions: 0 }
    }

    /// Whether bonuses are given (a bias, and retractions left).
    pub fn on(&self) -> bool {
        !self.bias.is_empty() && self.retractions < MAX_RETRACTIONS
    }

    fn active(&self) -> &[Match] {
        self.steps.last().map_or(&[], |s| s.active.as_slice())
    }

    /// Earliest position still needed for a rollback or an alias (`None`: none).
    pub fn earliest_needed(&self) -> Option<usize> {
        self.active().iter().map(|m| m.start).min()
    }

    /// Add the bonuses for the next token (see [`Bias::apply`]).
    pub fn apply(&self, logits: &mut [f32], logprobs: &[f32]) {
        if !self.on() {
            return;
        }
        let pos = self.steps.len();
        let banned: Vec<u32> = self.bans.iter().filter(|(p, _)| *p == pos).map(|(_, t)| *t).collect();
        self.bias.apply(logits, logprobs, self.active(), &banned);
    }

    /// Summed unbiased log-probability of the tokens from `start` on.
    pub fn logprob_from(&self, start: usize) -> f32 {
        self.steps.get(start..).map_or(0.0, |s| s.iter().map(|x| x.logprob).sum())
    }

    /// Record the token chosen at the next position: its unbiased log-probability and gap to
    /// the best token, whether the bonus changed the choice, whether it continues the previous
    /// word, and whether it ends the text. Returns what the decoder must do.
    pub fn push(&mut self, token: u32, logprob: f32, gap: f32, forced: bool, continues: bool, end: bool) -> Event {
        let pos = self.steps.len();
        let prev: Vec<Match> = self.active().to_vec();
        let boundary = end || !continues;
        let mut retract: Option<usize> = None;
        let mut alias: Option<(usize, usize)> = None;
        let first_forced = |steps: &[Step], from: usize| (from..pos).find(|&i| steps[i].forced && !steps[i].justified);
        // Completions first: a phrase that completes justifies its tokens for longer phrases
        // sharing them ("Wix" inside "Wix Bookings").
        if boundary {
            for m in &prev {
                let node = &self.bias.nodes[m.node];
                if node.phrase.is_some() && node.biased {
                    if let Some(f) = first_forced(&self.steps, m.start) {
                        let deficit: f32 = self.steps[m.start..pos].iter().map(|s| s.gap).sum();
                        if deficit > self.bias.allowed_deficit(pos - m.start) {
                            retract = Some(retract.map_or(f, |r: usize| r.min(f)));
                            continue;
                        }
                    }
                    for s in &mut self.steps[m.start..pos] {
                        s.justified = true;
                    }
                } else if let Some(target) = node.alias {
                    if alias.is_none() && self.on() {
                        alias = Some((m.start, target));
                    }
                }
            }
        }
        let next = if end { Vec::new() } else { self.bias.advance(&prev, token, pos) };
        for m in &prev {
            let node = &self.bias.nodes[m.node];
            let continued = next.iter().any(|n| n.start == m.start);
            let completed = boundary && node.phrase.is_some();
            if !continued && !completed {
                if let Some(f) = first_forced(&self.steps, m.start) {
                    retract = Some(retract.map_or(f, |r: usize| r.min(f)));
                }
            }
        }
        self.steps.push(Step { token, logprob, gap, forced, justified: false, active: next });
        match (retract, alias) {
            (Some(to), _) => Event::Retract { to },
            (None, Some((start, phrase))) => Event::Alias { start, phrase },
            _ => Event::None,
        }
    }

    /// Roll back to position `to` (its token and everything after are forgotten) and ban the
    /// bonus of the token it held there; counts as a retraction.
    pub fn retract(&mut self, to: usize) {
        if let Some(s) = self.steps.get(to) {
            let tok = s.token;
            self.truncate(to);
            self.bans.push((to, tok));
        }
        self.retractions += 1;
    }

    /// Forget positions `to` and after (and bans there), without a ban (alias replacement).
    pub fn truncate(&mut self, to: usize) {
        self.steps.truncate(to);
        self.bans.retain(|(p, _)| *p <= to);
    }

    /// Count a replacement against the retraction budget.
    pub fn count(&mut self) {
        self.retractions += 1;
    }

    /// Tokens recorded (the next position).
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tokens: 1..=9 start words (leading space), 20.. continue words, 0 punctuation.
    fn cont(t: u32) -> bool {
        t >= 20
    }

    fn bias() -> Bias {
        // Phrase 0: [5, 21] ("Wix" as two tokens); phrase 1: [5, 21, 6] ("Wix Bookings");
        // phrase 2: [7, 8] ("Editor X"); alias [9] ("weeks") of phrase 0.
        Bias::new(vec![vec![5, 21], vec![5, 21, 6], vec![7, 8]], vec![(vec![9], 0)], 5.0)
    }

    #[test]
    fn bonus_on_start_and_continuation_with_gate() {
        let b = bias();
        let lp = vec![-1.0f32; 30];
        let mut l = vec![0f32; 30];
        b.apply(&mut l, &lp, &[], &[]);
        assert_eq!(l[5], 2.0);
        assert_eq!(l[7], 2.0);
        assert_eq!(l[9], 0.0, "aliases get no bonus");
        let active = b.advance(&[], 5, 0);
        let mut l = vec![0f32; 30];
        b.apply(&mut l, &lp, &active, &[]);
        assert_eq!(l[21], 5.0);
        // Gate: a token far below the best gets nothing; banned tokens neither.
        let mut lp = vec![-1.0f32; 30];
        lp[21] = -9.0;
        let mut l = vec![0f32; 30];
        b.apply(&mut l, &lp, &active, &[5]);
        assert_eq!(l[21], 0.0);
        assert_eq!(l[5], 0.0);
        assert_eq!(l[7], 2.0);
    }

    #[test]
    fn abandoned_forced_phrase_is_retracted() {
        let b = bias();
        let mut t = Tracker::new(&b);
        assert_eq!(t.push(1, -0.1, 0.0, false, false, false), Event::None);
        // "Editor" forced by the bonus, then not "X" but another word: roll back to it.
        assert_eq!(t.push(7, -1.5, 1.0, true, false, false), Event::None);
        assert_eq!(t.push(2, -0.2, 0.0, false, false, false), Event::Retract { to: 1 });
        t.retract(1);
        assert_eq!(t.len(), 1);
        // At position 1 the retracted token gets no bonus any more.
        let lp = vec![-1.0f32; 30];
        let mut l = vec![0f32; 30];
        t.apply(&mut l, &lp);
        assert_eq!(l[7], 0.0);
        assert_eq!(l[5], 2.0);
        // The model's own choice of a phrase start is never retracted.
        let mut t = Tracker::new(&b);
        t.push(7, -0.1, 0.0, false, false, false);
        assert_eq!(t.push(2, -0.2, 0.0, false, false, false), Event::None);
        // Nor is an abandoned forced token at the end of the text retracted silently.
        let mut t = Tracker::new(&b);
        t.push(7, -1.0, 1.0, true, false, false);
        assert_eq!(t.push(50256, -0.1, 0.0, false, false, true), Event::Retract { to: 0 });
    }

    #[test]
    fn completed_phrase_is_kept_or_rejected_by_acoustic_deficit() {
        let b = bias();
        // Completed with a small deficit: kept, and it justifies "Wix" for "Wix Bookings".
        let mut t = Tracker::new(&b);
        t.push(5, -2.0, 1.5, true, false, false);
        t.push(21, -0.1, 0.0, false, true, false);
        assert_eq!(t.push(2, -0.1, 0.0, false, false, false), Event::None);
        // Completed inside a longer word ("Wix" + "er"): retracted.
        let mut t = Tracker::new(&b);
        t.push(5, -2.0, 1.5, true, false, false);
        t.push(21, -0.1, 0.0, false, true, false);
        assert_eq!(t.push(22, -0.1, 0.0, false, true, false), Event::Retract { to: 0 });
        // Completed but far below the audio's best (deficit 3.0 + 2.0 > 3.5): retracted.
        let mut t = Tracker::new(&b);
        t.push(5, -4.0, 3.0, true, false, false);
        t.push(21, -3.0, 2.0, true, true, false);
        assert_eq!(t.push(2, -0.1, 0.0, false, false, false), Event::Retract { to: 0 });
    }

    #[test]
    fn alias_at_word_boundary_asks_for_scoring() {
        let b = bias();
        let mut t = Tracker::new(&b);
        t.push(3, -0.1, 0.0, false, false, false);
        t.push(9, -0.3, 0.0, false, false, false);
        assert_eq!(t.push(0, -0.2, 0.0, false, false, false), Event::Alias { start: 1, phrase: 0 });
        assert_eq!(b.phrase(0), &[5, 21]);
        assert!((t.logprob_from(1) + 0.5).abs() < 1e-6);
        // Inside a longer word it is not the form.
        let mut t = Tracker::new(&b);
        t.push(9, -0.3, 0.0, false, false, false);
        assert_eq!(t.push(23, -0.2, 0.0, false, true, false), Event::None);
    }

    #[test]
    fn sequence_bonus_retracts_abandoned_prefixes() {
        let b = bias();
        // Completed "Wix" then a boundary: start + continue.
        assert_eq!(b.sequence_bonus(&[5, 21, 2], false, cont), 7.0);
        // Still matching at the end: what it has so far.
        assert_eq!(b.sequence_bonus(&[1, 7], false, cont), 2.0);
        // At the end of the text a partial phrase counts nothing, a complete one its bonus.
        assert_eq!(b.sequence_bonus(&[1, 7], true, cont), 0.0);
        assert_eq!(b.sequence_bonus(&[1, 5, 21], true, cont), 7.0);
        // Abandoned "Editor" (no "X"): nothing.
        assert_eq!(b.sequence_bonus(&[7, 2], false, cont), 0.0);
        // "Wix" inside a longer word: nothing.
        assert_eq!(b.sequence_bonus(&[5, 21, 22, 2], false, cont), 0.0);
        assert_eq!(Bias::default().sequence_bonus(&[5, 21, 2], false, cont), 0.0);
    }

    #[test]
    fn phrase_spans_and_alias_targets() {
        let b = bias();
        // "Wix Bookings" whole, then "Wix" inside "Wixer" (not a span), then "Editor X".
        assert_eq!(b.phrase_spans(&[1, 5, 21, 6, 5, 21, 22, 7, 8], cont), vec![(1, 3), (1, 4), (7, 9)]);
        assert_eq!(b.alias_target(&[9]), Some(0));
        assert_eq!(b.alias_target(&[5, 21]), None);
        assert_eq!(b.alias_target(&[3]), None);
    }
}

/// The development sweep that chose the constants above (ignored test; see the file).
#[cfg(test)]
#[path = "bias_dev.rs"]
mod dev;
