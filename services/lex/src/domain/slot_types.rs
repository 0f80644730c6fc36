//! Custom slot types: values with synonyms, matched in utterances exactly, by singular/plural,
//! or fuzzily (typos, near spellings: Damerau-Levenshtein and Jaro-Winkler from `strsim`), and
//! resolved with the type's strategy — `OriginalValue` (the words the user said; values not in
//! the list are accepted as answers, Lex's "expand values") or `TopResolution` (the listed
//! value; anything else is refused). A type extending AMAZON.AlphaNumeric with a regular
//! expression accepts exactly the values the expression matches.

use super::builtin::words::alphanumeric;
use super::text::{is_filler, normalize, span_text, tokenize, Token};
use serde::{Deserialize, Serialize};

/// How a slot value is reported (the type's `valueSelectionSetting.resolutionStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    OriginalValue,
    TopResolution,
    Concatenation,
}

impl Strategy {
    /// Parse the wire name (unknown names read as `OriginalValue`, Lex's default).
    pub fn parse(s: &str) -> Strategy {
        match s {
            "TopResolution" => Strategy::TopResolution,
            "Concatenation" => Strategy::Concatenation,
            _ => Strategy::OriginalValue,
        }
    }
}

/// One listed value and its synonyms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeValue {
    pub value: String,
    pub synonyms: Vec<String>,
}

/// A custom slot type, ready for matching.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomType {
    pub name: String,
    pub values: Vec<TypeValue>,
    pub strategy: Strategy,
    /// A regular expression the whole value must match (types extending AMAZON.AlphaNumeric).
    pub regex: Option<String>,
    /// Whether the type extends AMAZON.AlphaNumeric.
    pub alphanumeric: bool,
    /// Normalised phrases (value or synonym) → index in `values`.
    phrases: Vec<(Vec<String>, usize)>,
    /// `regex`, compiled on first use (None when it does not compile).
    #[serde(skip)]
    compiled: std::sync::OnceLock<Option<regex::Regex>>,
}

/// A value of a custom type found in an utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub start: usize,
    pub end: usize,
    /// How sure the match is: 1 exact, 0.97 singular/plural, lower for fuzzy.
    pub score: f32,
    /// Listed values it resolves to, best first (empty for an accepted unlisted value).
    pub resolved: Vec<String>,
    /// The words as the user said them.
    pub original: String,
}

/// Lowest similarity for a fuzzy match.
const FUZZY_MIN: f64 = 0.84;

fn singular(w: &str) -> &str {
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        &w[..w.len() - 1]
    } else {
        w
    }
}

impl CustomType {
    /// Build the matcher of a type.
    pub fn new(
        name: &str,
        values: Vec<TypeValue>,
        strategy: Strategy,
        regex: Option<String>,
        alphanumeric: bool,
    ) -> CustomType {
        let mut phrases = Vec::new();
        for (i, v) in values.iter().enumerate() {
            for p in std::iter::once(&v.value).chain(v.synonyms.iter()) {
                let words: Vec<String> = normalize(p)
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect();
                if !words.is_empty() {
                    phrases.push((words, i));
                }
            }
        }
        CustomType {
            name: name.to_string(),
            values,
            strategy,
            regex,
            alphanumeric,
            phrases,
            compiled: Default::default(),
        }
    }

    /// Whether the regular expression (if any) accepts `value` in full.
    pub fn regex_accepts(&self, value: &str) -> bool {
        let Some(p) = &self.regex else { return true };
        let compiled = self
            .compiled
            .get_or_init(|| regex::Regex::new(&format!("^(?:{p})$")).ok());
        compiled.as_ref().is_some_and(|r| r.is_match(value))
    }

    fn longest_phrase(&self) -> usize {
        self.phrases.iter().map(|(w, _)| w.len()).max().unwrap_or(1)
    }

    /// Score of the words `span` against one phrase: 1 exact, 0.97 plural, fuzzy similarity.
    fn phrase_score(span: &[&str], phrase: &[String]) -> f32 {
        if span.len() != phrase.len() {
            return 0.0;
        }
        if span.iter().zip(phrase).all(|(a, b)| *a == b) {
            return 1.0;
        }
        if span
            .iter()
            .zip(phrase)
            .all(|(a, b)| singular(a) == singular(b))
        {
            return 0.97;
        }
        let a = span.join(" ");
        let b = phrase.join(" ");
        if a.len() < 4 || b.len() < 4 {
            return 0.0;
        }
        let dl = strsim::normalized_damerau_levenshtein(&a, &b);
        let jw = strsim::jaro_winkler(&a, &b);
        let sim = dl.max(jw - 0.08);
        if sim >= FUZZY_MIN {
            (sim * 0.95) as f32
        } else {
            0.0
        }
    }

    /// Best listed values for the words `span` (all values sharing the best score).
    fn best_for(&self, span: &[&str]) -> Option<(f32, Vec<String>)> {
        let mut best: Option<(f32, Vec<usize>)> = None;
        for (phrase, idx) in &self.phrases {
            let s = Self::phrase_score(span, phrase);
            if s <= 0.0 {
                continue;
            }
            match &mut best {
                Some((bs, ids)) if (s - *bs).abs() < 1e-6 => {
                    if !ids.contains(idx) {
                        ids.push(*idx);
                    }
                }
                Some((bs, _)) if s < *bs => {}
                _ => best = Some((s, vec![*idx])),
            }
        }
        best.map(|(s, ids)| {
            (
                s,
                ids.into_iter()
                    .map(|i| self.values[i].value.clone())
                    .collect(),
            )
        })
    }

    /// Listed values inside a sentence: longest and best matches first, not overlapping.
    pub fn find(&self, utterance: &str, tokens: &[Token]) -> Vec<Match> {
        let words: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
        let max = self.longest_phrase();
        let mut candidates: Vec<Match> = Vec::new();
        for i in 0..words.len() {
            for len in 1..=max.min(words.len() - i) {
                let span = &words[i..i + len];
                if len == 1 && is_filler(span[0]) {
                    continue;
                }
                if let Some((score, resolved)) = self.best_for(span) {
                    candidates.push(Match {
                        start: i,
                        end: i + len,
                        score,
                        resolved,
                        original: span_text(utterance, tokens, i, i + len),
                    });
                }
            }
        }
        if self.alphanumeric {
            if let Some(v) = alphanumeric(tokens) {
                if self.regex.is_some() && self.regex_accepts(&v) {
                    candidates.push(Match {
                        start: 0,
                        end: tokens.len(),
                        score: 0.9,
                        resolved: Vec::new(),
                        original: v,
                    });
                }
            }
        }
        // Prefer exactness, then length.
        candidates.sort_by(|a, b| {
            b.score
                .partial_cmp(&a.score)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then((b.end - b.start).cmp(&(a.end - a.start)))
        });
        let mut taken = vec![false; words.len()];
        let mut out = Vec::new();
        for c in candidates {
            if taken[c.start..c.end].iter().any(|t| *t) {
                continue;
            }
            taken[c.start..c.end].iter_mut().for_each(|t| *t = true);
            out.push(c);
        }
        out.sort_by_key(|m| m.start);
        out
    }

    /// The value in an answer to the slot's prompt: a listed value if one is there, else
    /// (OriginalValue types) the answer without its filler words, else nothing.
    pub fn parse_answer(&self, utterance: &str, tokens: &[Token]) -> Option<Match> {
        if self.alphanumeric {
            let v = alphanumeric(tokens)?;
            if !self.regex_accepts(&v) {
                return None;
            }
            let listed = self
                .best_for(&[v.to_lowercase().as_str()])
                .map(|(_, r)| r)
                .unwrap_or_default();
            return Some(Match {
                start: 0,
                end: tokens.len(),
                score: 1.0,
                resolved: listed,
                original: v,
            });
        }
        if let Some(best) = self.find(utterance, tokens).into_iter().max_by(|a, b| {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(std::cmp::Ordering::Equal)
        }) {
            return Some(best);
        }
        if self.strategy == Strategy::TopResolution {
            return None;
        }
        let mut from = 0;
        let mut to = tokens.len();
        while from < to && is_filler(&tokens[from].norm) {
            from += 1;
        }
        while to > from
            && matches!(
                tokens[to - 1].norm.as_str(),
                "please" | "thanks" | "thank" | "you" | "one" | "account"
            )
        {
            to -= 1;
        }
        if from == to {
            return None;
        }
        Some(Match {
            start: from,
            end: to,
            score: 0.5,
            resolved: Vec::new(),
            original: span_text(utterance, tokens, from, to),
        })
    }

    /// Whether `text` (a template capture) is acceptable for the type.
    pub fn accepts(&self, text: &str) -> Option<Match> {
        let tokens = tokenize(text);
        let words: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
        if let Some((score, resolved)) = self.best_for(&words) {
            return Some(Match {
                start: 0,
                end: tokens.len(),
                score,
                resolved,
                original: text.to_string(),
            });
        }
        if self.alphanumeric {
            let v = alphanumeric(&tokens)?;
            return self.regex_accepts(&v).then(|| Match {
                start: 0,
                end: tokens.len(),
                score: 0.9,
                resolved: Vec::new(),
                original: v,
            });
        }
        (self.strategy != Strategy::TopResolution
            && !words.is_empty()
            && words.len() <= 4
            && !words.iter().all(|w| is_filler(w)))
        .then(|| Match {
            start: 0,
            end: tokens.len(),
            score: 0.6,
            resolved: Vec::new(),
            original: text.to_string(),
        })
    }

    /// A value to put in place of `{Slot}` when a sample utterance is embedded.
    pub fn example(&self) -> &str {
        self.values
            .first()
            .map(|v| v.value.as_str())
            .unwrap_or("something")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account_type(strategy: Strategy) -> CustomType {
        CustomType::new(
            "AccountType",
            vec![
                TypeValue {
                    value: "Checking".into(),
                    synonyms: vec!["current account".into(), "everyday".into()],
                },
                TypeValue {
                    value: "Savings".into(),
                    synonyms: vec!["ISA".into(), "deposit account".into()],
                },
                TypeValue {
                    value: "Credit card".into(),
                    synonyms: vec![],
                },
            ],
            strategy,
            None,
            false,
        )
    }

    #[test]
    fn values_synonyms_plurals_and_typos() {
        let t = account_type(Strategy::TopResolution);
        let s = "open a deposit account and a credit card";
        let found = t.find(s, &tokenize(s));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].resolved, ["Savings"]);
        assert_eq!(found[0].original, "deposit account");
        assert_eq!(found[1].resolved, ["Credit card"]);
        let s = "my savngs";
        let f = t.find(s, &tokenize(s));
        assert_eq!(f[0].resolved, ["Savings"], "typo");
        assert!(f[0].score < 1.0);
        let s = "two credit cards";
        assert_eq!(t.find(s, &tokenize(s))[0].resolved, ["Credit card"]);
    }

    #[test]
    fn answers_follow_the_strategy() {
        let s = "a brokerage one";
        assert!(account_type(Strategy::TopResolution)
            .parse_answer(s, &tokenize(s))
            .is_none());
        let m = account_type(Strategy::OriginalValue)
            .parse_answer(s, &tokenize(s))
            .unwrap();
        assert_eq!(m.original, "brokerage");
        assert!(m.resolved.is_empty());
        let s = "it's for my ISA";
        assert_eq!(
            account_type(Strategy::TopResolution)
                .parse_answer(s, &tokenize(s))
                .unwrap()
                .resolved,
            ["Savings"]
        );
    }

    #[test]
    fn alphanumeric_types_with_a_regex() {
        let t = CustomType::new(
            "Routing",
            vec![],
            Strategy::OriginalValue,
            Some("[0-9]{9}".into()),
            true,
        );
        let s = "999-999-999";
        assert_eq!(
            t.parse_answer(s, &tokenize(s)).unwrap().original,
            "999999999"
        );
        let s = "12345";
        assert!(t.parse_answer(s, &tokenize(s)).is_none());
        assert!(t.regex_accepts("123456789"));
    }
}
