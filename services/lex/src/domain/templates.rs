//! Sample utterances as templates: words and `{SlotName}` references. A template matched
//! against an utterance tells both the intent (for certain) and where each slot's words are.

use super::text::{normalize_word, tokenize, Token};
use serde::{Deserialize, Serialize};

/// One part of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Part {
    /// A normalised word.
    Word(String),
    /// A slot reference.
    Slot(String),
}

/// A parsed sample utterance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The sample utterance as written.
    pub text: String,
    pub parts: Vec<Part>,
}

/// Why a sample utterance cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `{` without `}`, `}` without `{`, or nested braces.
    Braces,
    /// `{}` or a name with characters other than letters, digits, `_` and `-`.
    BadSlotName(String),
}

/// Parse a sample utterance.
pub fn parse(text: &str) -> Result<Template, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match (rest.find('{'), rest.find('}')) {
            (Some(o), Some(c)) if o < c => {
                push_words(&rest[..o], &mut parts);
                let name = rest[o + 1..c].trim();
                if name.contains('{') {
                    return Err(TemplateError::Braces);
                }
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
                {
                    return Err(TemplateError::BadSlotName(name.to_string()));
                }
                parts.push(Part::Slot(name.to_string()));
                rest = &rest[c + 1..];
            }
            (None, None) => {
                push_words(rest, &mut parts);
                break;
            }
            _ => return Err(TemplateError::Braces),
        }
    }
    Ok(Template {
        text: text.to_string(),
        parts,
    })
}

fn push_words(s: &str, parts: &mut Vec<Part>) {
    for t in tokenize(s) {
        if !t.norm.is_empty() {
            parts.push(Part::Word(t.norm));
        }
    }
}

impl Template {
    /// Slot names referenced, in order.
    pub fn slots(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Slot(s) => Some(s.as_str()),
            Part::Word(_) => None,
        })
    }

    /// The text with each slot replaced by `fill(slot)` (for embedding).
    pub fn render(&self, mut fill: impl FnMut(&str) -> String) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Word(w) => w.clone(),
                Part::Slot(s) => fill(s),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The word before each slot (context cues for telling same-typed slots apart).
    pub fn left_words(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        for w in self.parts.windows(2) {
            if let [Part::Word(word), Part::Slot(slot)] = w {
                out.push((slot.as_str(), word.as_str()));
            }
        }
        out
    }

    /// Match `tokens` against the template. `accept(slot, from, to)` says whether tokens
    /// `from..to` can be the slot's value. Returns the slot spans of the first full match
    /// (slots take as few words as possible, leftmost first).
    pub fn matches(
        &self,
        tokens: &[Token],
        accept: &mut dyn FnMut(&str, usize, usize) -> bool,
    ) -> Option<Vec<(String, usize, usize)>> {
        let mut spans = Vec::new();
        let mut budget = 2_000usize;
        if self.walk(0, 0, tokens, accept, &mut spans, &mut budget) {
            Some(spans)
        } else {
            None
        }
    }

    fn walk(
        &self,
        p: usize,
        i: usize,
        tokens: &[Token],
        accept: &mut dyn FnMut(&str, usize, usize) -> bool,
        spans: &mut Vec<(String, usize, usize)>,
        budget: &mut usize,
    ) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match self.parts.get(p) {
            None => i == tokens.len(),
            Some(Part::Word(w)) => {
                tokens.get(i).is_some_and(|t| word_eq(&t.norm, w))
                    && self.walk(p + 1, i + 1, tokens, accept, spans, budget)
            }
            Some(Part::Slot(s)) => {
                let max = (tokens.len().saturating_sub(i)).min(12);
                for len in 1..=max {
                    if accept(s, i, i + len) {
                        spans.push((s.clone(), i, i + len));
                        if self.walk(p + 1, i + len, tokens, accept, spans, budget) {
                            return true;
                        }
                        spans.pop();
                    }
                }
                false
            }
        }
    }
}

/// Words equal for template matching: same, or the same up to a plural `s` / an apostrophe.
fn word_eq(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let strip = |w: &str| normalize_word(&w.replace('\'', ""));
    let (a, b) = (strip(a), strip(b));
    a == b
        || (a.len() > 3
            && b.len() > 3
            && (a.strip_suffix('s') == Some(&b) || b.strip_suffix('s') == Some(&a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render() {
        let t = parse("I want to open a {AccountType} account on {Date}").unwrap();
        assert_eq!(t.slots().collect::<Vec<_>>(), ["AccountType", "Date"]);
        assert_eq!(
            t.render(|s| format!("<{s}>")),
            "i want to open a <AccountType> account on <Date>"
        );
        assert_eq!(t.left_words(), [("AccountType", "a"), ("Date", "on")]);
        assert_eq!(parse("open {Acc"), Err(TemplateError::Braces));
        assert_eq!(
            parse("open {}"),
            Err(TemplateError::BadSlotName(String::new()))
        );
        assert_eq!(parse("a } b"), Err(TemplateError::Braces));
    }

    #[test]
    fn matching_binds_slot_spans() {
        let t = parse("transfer {Amount} dollars to {Account}").unwrap();
        let toks = tokenize("Transfer one hundred dollars to my savings");
        let spans = t
            .matches(&toks, &mut |slot, a, b| match slot {
                "Amount" => toks[a..b].iter().all(|t| t.norm != "dollars"),
                _ => true,
            })
            .unwrap();
        assert_eq!(
            spans,
            [("Amount".to_string(), 1, 3), ("Account".to_string(), 5, 7)]
        );
        assert!(t
            .matches(&tokenize("send money"), &mut |_, _, _| true)
            .is_none());
        let t = parse("I don't want {Thing}").unwrap();
        assert!(t
            .matches(&tokenize("i dont want cheese"), &mut |_, _, _| true)
            .is_some());
    }
}
