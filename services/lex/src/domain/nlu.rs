//! Understanding one utterance with a built model: which intents it may mean, how sure each is,
//! and which slot values it carries.
//!
//! Intent scores: an utterance that matches a sample utterance template exactly (with valid
//! slot values in the slot positions) scores 1.0; otherwise the raw score is a blend of the
//! cosine similarity to the intent's centroid and to its nearest sample utterance (sentence
//! embeddings), and the raw scores rank the intents. The confidence reported (and compared
//! with the locale's threshold) is then, for every intent,
//!
//! `clamp(scale × (raw − λ × max(0, b − raw)), 0, 1)`
//!
//! - `b` is the mean cosine to the two nearest lines of the model's out-of-domain background
//!   (generic requests none of the bot's intents claims, see [`super::background`]): an
//!   utterance nearer to "I want to buy a plane ticket" than to anything BookRestaurant's samples
//!   say is out of scope even when "book" makes its raw score look fair. Two lines rather than
//!   one, so that a single background line sharing one word with an in-scope request ("weather
//!   in Tokyo" / "what time is it in Tokyo") does not decide alone. λ is
//!   [`Scoring::background_weight`] (3).
//! - `scale` is `max(1, typical_score / μ)`, μ being the best intent's calibration (the mean
//!   leave-one-out score of its own samples, computed at build; [`Scoring::typical_score`]): a
//!   paraphrase of a loosely worded intent, whose samples are far from one another, is lifted to
//!   where a paraphrase of a tightly worded intent already scores.
//!
//! Both are increasing in the raw score, so the order of the intents is the raw order. The
//! constants were chosen (bench/lex/tune.py) on bench/lex's three development splits (the third
//! written by a separate author), on leave-one-out scores of the SNIPS-7 bot's own sample
//! utterances and on the bank bot of tests/aws/test_lex.py, never on bench/lex's test lines: the
//! most development out-of-scope recall at Lex's default threshold 0.40 losing, in each in-scope
//! development set, at most one line or 2 % of it, with every bank paraphrase kept. There that
//! is recall 0.78 (0.72 on the third split) against 0.76 for the previous background and
//! constants (see bench/lex/README.md).
//!
//! Slot values come from the template's slot positions when one matched, else
//! from every value the slot types find in the utterance, assigned to slots by score and by the
//! words that precede each slot in the samples ("from {City} to {City}").

use super::builtin::{self, Builtin, Now};
use super::model::{BotModel, IntentModel, SlotKind, SlotModel};
use super::slot_types::{Match, Strategy};
use super::text::{span_text, Token};
use hearth_inference::text::dot;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A slot value as Lex reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotFill {
    /// The words the user said.
    pub original: String,
    /// The value Lex settled on (by the type's resolution strategy).
    pub interpreted: String,
    /// Values it resolves to (listed values of a custom type; the normalised built-in value).
    pub resolved: Vec<String>,
}

/// One possible meaning of an utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Index into [`BotModel::intents`].
    pub intent: usize,
    /// Confidence in [0, 1].
    pub score: f32,
    /// Whether a sample utterance matched word for word.
    pub exact: bool,
    /// Slot values found for this intent.
    pub slots: BTreeMap<String, SlotFill>,
}

/// How intent scores are blended from the embedding similarities and calibrated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scoring {
    /// Weight of the centroid cosine (the rest goes to the nearest sample's cosine).
    pub centroid_weight: f32,
    /// The confidence of an utterance exactly as close to its intent as the intent's samples
    /// are to one another on average. 0.8 (with the background) is what the development lines
    /// favoured for Lex's default threshold (0.40); 0 turns calibration off.
    pub typical_score: f32,
    /// How much an utterance loses per unit its background distance `b` is closer than its
    /// intent (λ); 0 ignores the background.
    pub background_weight: f32,
    /// How many of the nearest background lines `b` averages (at least 1).
    pub background_neighbours: usize,
    /// At build, a background line is dropped when its raw score for an intent reaches this
    /// share of the intent's calibration (it is a paraphrase of the bot's own intent).
    pub background_keep: f32,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            centroid_weight: 0.5,
            typical_score: 0.8,
            background_weight: 3.0,
            background_neighbours: 2,
            background_keep: 0.6,
        }
    }
}

/// The confidence of a raw (non-exact) score: lowered by `weight` times the amount the nearest
/// background line `background` is above it, times the calibration `scale`, in [0, 1].
pub fn confidence(raw: f32, background: Option<f32>, weight: f32, scale: f32) -> f32 {
    let penalty = background.map_or(0.0, |b| weight.max(0.0) * (b - raw).max(0.0));
    ((raw - penalty) * scale).clamp(0.0, 1.0)
}

/// The mean cosine of `vector` to the model's `k` nearest background lines (all of them when
/// it has fewer), if the model has any.
fn nearest_background(model: &BotModel, vector: &[f32], k: usize) -> Option<f32> {
    let bg = &model.background;
    if bg.dim != vector.len() || bg.rows() == 0 {
        return None;
    }
    let k = k.clamp(1, bg.rows());
    let mut top = vec![f32::MIN; k];
    for r in 0..bg.rows() {
        let s = dot(bg.row(r), vector);
        // `top` stays sorted high to low; a better score displaces the lowest kept one.
        if s > top[k - 1] {
            let at = top.partition_point(|&t| t >= s);
            top.insert(at, s);
            top.pop();
        }
    }
    Some(top.iter().sum::<f32>() / k as f32)
}

/// The factor that turns an utterance's raw scores into confidences, from the calibration of
/// its best-scoring intent (or the mean of the model's calibrations when that intent has
/// fewer than two samples); 1 when the model carries no calibration. It only ever raises
/// scores: a few near-duplicate samples ("set up a recurring payment", "I wanna set up a
/// recurring payment") make the leave-one-out mean high without real paraphrases coming any
/// closer, so a tight intent keeps its raw scores while a loosely worded one is lifted.
fn calibration_scale(model: &BotModel, best: usize, scoring: Scoring) -> f32 {
    if scoring.typical_score <= 0.0 {
        return 1.0;
    }
    let Some(mu) = intent_calibration(model, best) else {
        return 1.0;
    };
    (scoring.typical_score / mu.max(0.05)).max(1.0)
}

/// Intent `i`'s calibration (the mean leave-one-out score of its samples), or the mean of the
/// model's calibrations when that intent has none (fewer than two samples); `None` when the
/// model carries no calibration at all.
pub(crate) fn intent_calibration(model: &BotModel, i: usize) -> Option<f32> {
    match model.calibration.get(i) {
        Some(&c) if c > 0.0 => Some(c),
        _ => {
            let known = model.calibration.iter().filter(|c| **c > 0.0);
            let n = known.clone().count();
            (n > 0).then(|| known.sum::<f32>() / n as f32)
        }
    }
}

/// What the ranker needs besides the model.
pub struct Input<'a> {
    pub utterance: &'a str,
    pub tokens: &'a [Token],
    /// The utterance's embedding (unit length).
    pub vector: &'a [f32],
    pub now: Now,
    /// Names of the session's active contexts.
    pub active_contexts: &'a [String],
    pub scoring: Scoring,
}

fn fill_from_match(m: &Match, strategy: Strategy) -> SlotFill {
    let interpreted = match strategy {
        Strategy::TopResolution => m
            .resolved
            .first()
            .cloned()
            .unwrap_or_else(|| m.original.clone()),
        _ => m.original.clone(),
    };
    SlotFill {
        original: m.original.clone(),
        interpreted,
        resolved: m.resolved.clone(),
    }
}

fn fill_from_builtin(f: builtin::Found) -> SlotFill {
    SlotFill {
        original: f.original,
        interpreted: f.resolved.clone(),
        resolved: vec![f.resolved],
    }
}

/// The value tokens `from..to` give for `slot`, if they are one.
pub fn span_value(
    model: &BotModel,
    slot: &SlotModel,
    utterance: &str,
    tokens: &[Token],
    from: usize,
    to: usize,
    now: Now,
) -> Option<SlotFill> {
    match slot.kind {
        SlotKind::Builtin(b) => {
            let f = builtin::parse_answer(b, utterance, &tokens[from..to], now)?;
            // The whole span must be the value (fillers belong to the template).
            (f.start == 0 && f.end == to - from || b == Builtin::FreeFormInput)
                .then(|| fill_from_builtin(f))
        }
        SlotKind::Custom(i) => {
            let t = model.slot_types.get(i)?;
            let m = t.accepts(&span_text(utterance, tokens, from, to))?;
            Some(fill_from_match(&m, t.strategy))
        }
    }
}

/// Match the utterance against an intent's templates: the slots of the first that matches.
pub fn template_match(
    model: &BotModel,
    intent: &IntentModel,
    utterance: &str,
    tokens: &[Token],
    now: Now,
) -> Option<BTreeMap<String, SlotFill>> {
    for t in &intent.templates {
        let mut cache: HashMap<(String, usize, usize), Option<SlotFill>> = HashMap::new();
        let mut accept = |slot: &str, a: usize, b: usize| -> bool {
            let key = (slot.to_string(), a, b);
            if let Some(v) = cache.get(&key) {
                return v.is_some();
            }
            let v = intent
                .slot(slot)
                .and_then(|s| span_value(model, s, utterance, tokens, a, b, now));
            let ok = v.is_some();
            cache.insert(key, v);
            ok
        };
        if let Some(spans) = t.matches(tokens, &mut accept) {
            let mut slots = BTreeMap::new();
            for (name, a, b) in spans {
                if let Some(Some(v)) = cache.get(&(name.clone(), a, b)) {
                    slots.insert(name, v.clone());
                }
            }
            return Some(slots);
        }
    }
    None
}

/// Slot values an intent can take from an utterance that matched none of its templates.
/// `skip` names slots not to fill; `taken` marks tokens already used.
pub fn extract_slots(
    model: &BotModel,
    intent: &IntentModel,
    utterance: &str,
    tokens: &[Token],
    now: Now,
    skip: &[&str],
    taken: &mut [bool],
) -> BTreeMap<String, SlotFill> {
    struct Cand {
        slot: usize,
        start: usize,
        end: usize,
        score: f32,
        fill: SlotFill,
    }
    let mut cands = Vec::new();
    let mut builtin_cache: HashMap<Builtin, Vec<builtin::Found>> = HashMap::new();
    for (si, slot) in intent.slots.iter().enumerate() {
        if skip.contains(&slot.name.as_str()) {
            continue;
        }
        let cue =
            |start: usize| start > 0 && slot.cues.iter().any(|c| *c == tokens[start - 1].norm);
        match slot.kind {
            SlotKind::Builtin(b) => {
                let found = builtin_cache
                    .entry(b)
                    .or_insert_with(|| builtin::find(b, utterance, tokens, now));
                for f in found.iter() {
                    let score = 0.9 + if cue(f.start) { 0.2 } else { 0.0 };
                    cands.push(Cand {
                        slot: si,
                        start: f.start,
                        end: f.end,
                        score,
                        fill: fill_from_builtin(f.clone()),
                    });
                }
            }
            SlotKind::Custom(i) => {
                let Some(t) = model.slot_types.get(i) else {
                    continue;
                };
                for m in t.find(utterance, tokens) {
                    let score = m.score + if cue(m.start) { 0.2 } else { 0.0 };
                    cands.push(Cand {
                        slot: si,
                        start: m.start,
                        end: m.end,
                        score,
                        fill: fill_from_match(&m, t.strategy),
                    });
                }
            }
        }
    }
    cands.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.start.cmp(&b.start))
    });
    let mut out = BTreeMap::new();
    let mut assigned = vec![false; intent.slots.len()];
    for c in cands {
        if assigned[c.slot] || taken[c.start..c.end].iter().any(|t| *t) {
            continue;
        }
        assigned[c.slot] = true;
        taken[c.start..c.end].iter_mut().for_each(|t| *t = true);
        out.insert(intent.slots[c.slot].name.clone(), c.fill);
    }
    out
}

/// An answer to `slot`'s prompt: its own sample utterances first ("it's {AccountType}"), then
/// the type's reading of the whole answer.
pub fn slot_answer(
    model: &BotModel,
    slot: &SlotModel,
    utterance: &str,
    tokens: &[Token],
    now: Now,
) -> Option<(SlotFill, usize, usize)> {
    for t in &slot.templates {
        let mut found = None;
        let matched = t.matches(tokens, &mut |name, a, b| {
            if name != slot.name {
                return false;
            }
            match span_value(model, slot, utterance, tokens, a, b, now) {
                Some(v) => {
                    found = Some((v, a, b));
                    true
                }
                None => false,
            }
        });
        if matched.is_some() {
            if let Some(f) = found {
                return Some(f);
            }
        }
    }
    match slot.kind {
        SlotKind::Builtin(b) => builtin::parse_answer(b, utterance, tokens, now).map(|f| {
            let (s, e) = (f.start, f.end);
            (fill_from_builtin(f), s, e)
        }),
        SlotKind::Custom(i) => {
            let t = model.slot_types.get(i)?;
            t.parse_answer(utterance, tokens)
                .map(|m| (fill_from_match(&m, t.strategy), m.start, m.end))
        }
    }
}

/// Whether an intent may be chosen given the session's active contexts.
pub fn eligible(intent: &IntentModel, active: &[String]) -> bool {
    !intent.is_fallback()
        && intent
            .input_contexts
            .iter()
            .all(|c| active.iter().any(|a| a == c))
}

/// Every eligible intent with its score, best first, with the slot values each would take.
pub fn rank(model: &BotModel, input: &Input) -> Vec<Candidate> {
    let n = model.intents.len();
    let mut nearest = vec![f32::MIN; n];
    if model.vectors.dim == input.vector.len() {
        for (row, &owner) in model.owners.iter().enumerate() {
            let s = dot(model.vectors.row(row), input.vector);
            let o = owner as usize;
            if s > nearest[o] {
                nearest[o] = s;
            }
        }
    }
    let w = input.scoring.centroid_weight.clamp(0.0, 1.0);
    let mut out = Vec::new();
    for (i, intent) in model.intents.iter().enumerate() {
        if !eligible(intent, input.active_contexts) {
            continue;
        }
        if let Some(slots) = template_match(model, intent, input.utterance, input.tokens, input.now)
        {
            out.push(Candidate {
                intent: i,
                score: 1.0,
                exact: true,
                slots,
            });
            continue;
        }
        let centroid = &model.centroids[i];
        if centroid.is_empty() || centroid.len() != input.vector.len() {
            continue;
        }
        let cos = dot(centroid, input.vector);
        let nn = if nearest[i] == f32::MIN {
            cos
        } else {
            nearest[i]
        };
        let score = w * cos + (1.0 - w) * nn;
        out.push(Candidate {
            intent: i,
            score,
            exact: false,
            slots: BTreeMap::new(),
        });
    }
    // Rank by raw score (exact template matches first), then turn every non-exact score into
    // a confidence with the same background distance and factor, so the order stays the raw
    // order.
    out.sort_by(|a, b| {
        b.exact
            .cmp(&a.exact)
            .then(
                b.score
                    .partial_cmp(&a.score)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
            .then(a.intent.cmp(&b.intent))
    });
    if let Some(best) = out.iter().find(|c| !c.exact).map(|c| c.intent) {
        let scale = calibration_scale(model, best, input.scoring);
        let background =
            nearest_background(model, input.vector, input.scoring.background_neighbours);
        let weight = input.scoring.background_weight;
        for c in out.iter_mut().filter(|c| !c.exact) {
            c.score = confidence(c.score, background, weight, scale);
        }
    }
    // Slot values for the likely intents (not the whole list: extraction costs more than scoring).
    for c in out.iter_mut().take(5).filter(|c| !c.exact) {
        let intent = &model.intents[c.intent];
        let mut taken = vec![false; input.tokens.len()];
        c.slots = extract_slots(
            model,
            intent,
            input.utterance,
            input.tokens,
            input.now,
            &[],
            &mut taken,
        );
    }
    out
}

/// Round a score as Lex reports it (two decimals).
pub fn round_score(s: f32) -> f64 {
    (f64::from(s) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{compile, tests::bank};
    use crate::domain::text::tokenize;
    use time::macros::date;

    const NOW: Now = Now {
        today: date!(2024 - 03 - 13),
    };

    /// A model whose "embeddings" are bag-of-words over a tiny vocabulary, so ranking can be
    /// tested without the real model.
    fn toy() -> (BotModel, impl Fn(&str) -> Vec<f32>) {
        let vocab = [
            "open", "account", "new", "card", "stole", "charge", "fraud", "unknown",
        ];
        let embed = move |s: &str| {
            let norm = crate::domain::text::normalize(s);
            let v: Vec<f32> = vocab
                .iter()
                .map(|w| norm.split(' ').filter(|x| x.starts_with(w)).count() as f32)
                .collect();
            hearth_inference::text::normalized(v)
        };
        let c = compile(&bank()).unwrap();
        let vectors = c.texts.iter().map(|t| embed(t)).collect();
        (c.finish(vectors).unwrap(), embed)
    }

    fn input<'a>(u: &'a str, tokens: &'a [Token], v: &'a [f32]) -> Input<'a> {
        Input {
            utterance: u,
            tokens,
            vector: v,
            now: NOW,
            active_contexts: &[],
            scoring: Scoring::default(),
        }
    }

    #[test]
    fn exact_template_with_slot_scores_one() {
        let (m, embed) = toy();
        let u = "I want to open a savings account";
        let t = tokenize(u);
        let v = embed(u);
        let r = rank(&m, &input(u, &t, &v));
        assert_eq!(m.intents[r[0].intent].name, "OpenAccount");
        assert!(r[0].exact);
        assert_eq!(r[0].score, 1.0);
        let f = &r[0].slots["AccountType"];
        assert_eq!(
            (f.original.as_str(), f.interpreted.as_str()),
            ("savings", "Savings")
        );
    }

    #[test]
    fn paraphrase_ranks_by_similarity_and_finds_synonyms() {
        let (m, embed) = toy();
        let u = "could you open my ISA account";
        let t = tokenize(u);
        let v = embed(u);
        let r = rank(&m, &input(u, &t, &v));
        assert_eq!(m.intents[r[0].intent].name, "OpenAccount");
        assert!(!r[0].exact && r[0].score > 0.5);
        assert_eq!(r[0].slots["AccountType"].resolved, ["Savings"]);
        let u = "somebody stole my card";
        let (t, v) = (tokenize(u), embed(u));
        assert_eq!(
            m.intents[rank(&m, &input(u, &t, &v))[0].intent].name,
            "ReportFraud"
        );
    }

    #[test]
    fn calibration_scales_every_score_by_the_best_intents_spread() {
        let (mut m, embed) = toy();
        let u = "somebody stole my card";
        let (t, v) = (tokenize(u), embed(u));
        let raw = rank(
            &m,
            &Input {
                scoring: Scoring {
                    typical_score: 0.0,
                    ..Scoring::default()
                },
                ..input(u, &t, &v)
            },
        );
        let cal = rank(&m, &input(u, &t, &v));
        let best = cal[0].intent;
        assert_eq!(raw[0].intent, best, "calibration keeps the order");
        let mu = m.calibration[best];
        assert!(mu > 0.0 && mu < 1.0, "{:?}", m.calibration);
        let typical = Scoring::default().typical_score;
        let want = (raw[0].score * (typical / mu).max(1.0)).min(1.0);
        assert!(
            (cal[0].score - want).abs() < 1e-5,
            "{} vs {want}",
            cal[0].score
        );
        // A model built before calibration reports raw scores.
        m.calibration.clear();
        assert_eq!(rank(&m, &input(u, &t, &v))[0].score, raw[0].score);
    }

    #[test]
    fn confidence_penalises_utterances_nearer_the_background() {
        // No background, or a background farther than the intent: the calibrated raw score.
        assert_eq!(confidence(0.5, None, 2.0, 1.2), 0.6);
        assert_eq!(confidence(0.5, Some(0.4), 2.0, 1.0), 0.5);
        // A background line 0.1 nearer than the intent costs 2 × 0.1.
        assert!((confidence(0.5, Some(0.6), 2.0, 1.0) - 0.3).abs() < 1e-6);
        // Always in [0, 1], and increasing in the raw score (the order of intents is kept).
        assert_eq!(confidence(0.2, Some(0.9), 2.0, 1.0), 0.0);
        assert_eq!(confidence(0.95, None, 2.0, 1.5), 1.0);
        let b = Some(0.55);
        let xs = [0.1f32, 0.3, 0.5, 0.54, 0.56, 0.8];
        let ys: Vec<f32> = xs.iter().map(|&x| confidence(x, b, 2.0, 1.1)).collect();
        assert!(ys.windows(2).all(|w| w[0] <= w[1]), "{ys:?}");
        // Weight 0 ignores the background.
        assert_eq!(confidence(0.5, Some(0.9), 0.0, 1.0), 0.5);
    }

    #[test]
    fn background_distance_is_the_mean_of_the_nearest_lines() {
        let (mut m, _) = toy();
        let dim = 3;
        // Unit rows at cosines 1.0, 0.6, 0.0 and 0.8 to the query (1, 0, 0).
        m.background = crate::domain::model::Matrix {
            dim,
            data: vec![
                1.0, 0.0, 0.0, 0.6, 0.8, 0.0, 0.0, 1.0, 0.0, 0.8, 0.6, 0.0,
            ],
        };
        let q = [1.0, 0.0, 0.0];
        let near = |k| nearest_background(&m, &q, k).unwrap();
        assert!((near(1) - 1.0).abs() < 1e-6);
        assert!((near(2) - 0.9).abs() < 1e-6, "{}", near(2));
        assert!((near(3) - 0.8).abs() < 1e-6);
        assert!((near(9) - 0.6).abs() < 1e-6, "k above the row count takes every row");
        assert!((near(0) - 1.0).abs() < 1e-6, "k 0 counts as 1");
        assert_eq!(nearest_background(&m, &[1.0, 0.0], 2), None, "other dimension");
    }

    #[test]
    fn utterance_on_a_background_line_falls_below_the_threshold() {
        let (mut m, embed) = toy();
        let u = "a new charge";
        let (t, v) = (tokenize(u), embed(u));
        let before = rank(&m, &input(u, &t, &v));
        // Background lines that say the same as the utterance, and one orthogonal to it.
        let other = embed("open");
        let dim = v.len();
        m.background = crate::domain::model::Matrix {
            dim,
            data: other.clone(),
        };
        let far = rank(&m, &input(u, &t, &v));
        assert_eq!(
            far[0].score, before[0].score,
            "a far background line changes nothing"
        );
        m.background.data = [other, v.clone(), v.clone()].concat();
        let near = rank(&m, &input(u, &t, &v));
        assert_eq!(near[0].intent, before[0].intent, "same order");
        assert!(
            near[0].score < before[0].score && near[0].score < 0.40,
            "{} -> {}",
            before[0].score,
            near[0].score
        );
        // Exact template matches keep 1.0 whatever the background.
        let u = "I want to open a savings account";
        let (t, v) = (tokenize(u), embed(u));
        m.background.data = v.clone();
        assert_eq!(rank(&m, &input(u, &t, &v))[0].score, 1.0);
    }

    #[test]
    fn answers_and_contexts() {
        let (mut m, _) = toy();
        let slot = m.intents[1].slots[0].clone();
        let u = "the deposit account please";
        let (f, _, _) = slot_answer(&m, &slot, u, &tokenize(u), NOW).unwrap();
        assert_eq!(f.interpreted, "Savings");
        assert!(
            slot_answer(&m, &slot, "a brokerage", &tokenize("a brokerage"), NOW).is_none(),
            "TopResolution refuses unlisted values"
        );
        m.intents[2].input_contexts = vec!["Authenticated".into()];
        assert!(!eligible(&m.intents[2], &[]));
        assert!(eligible(&m.intents[2], &["Authenticated".into()]));
        assert!(!eligible(&m.intents[0], &[]), "fallback is never ranked");
        assert_eq!(round_score(0.87654), 0.88);
    }
}
