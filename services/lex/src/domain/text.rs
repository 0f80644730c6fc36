//! Words of an utterance: tokenizing with byte offsets (so a slot's original value is the exact
//! text the user typed), normalising for comparison, and small word lists shared by the
//! recognizers.

/// One word of an utterance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word as typed, without surrounding punctuation.
    pub text: String,
    /// Lower case, without punctuation (inner `'`, `@`, `.`, `-`, `/`, `:` kept when between
    /// letters or digits).
    pub norm: String,
    /// Byte offsets of `text` in the utterance.
    pub start: usize,
    pub end: usize,
}

/// Split `s` into tokens on white space, trimming punctuation at both ends of each word.
pub fn tokenize(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < s.len() {
        // Skip white space.
        let c = s[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        while i < s.len() {
            let c = s[i..].chars().next().unwrap_or(' ');
            if c.is_whitespace() {
                break;
            }
            i += c.len_utf8();
        }
        let _ = bytes;
        let word = &s[start..i];
        let trimmed_start = word.len() - word.trim_start_matches(is_edge_punct).len();
        let core = word.trim_matches(is_edge_punct);
        if core.is_empty() {
            continue;
        }
        let tstart = start + trimmed_start;
        out.push(Token {
            text: core.to_string(),
            norm: normalize_word(core),
            start: tstart,
            end: tstart + core.len(),
        });
    }
    out
}

fn is_edge_punct(c: char) -> bool {
    !c.is_alphanumeric() && c != '+' && c != '$' && c != '%' && c != '#'
}

/// Lower-case a word and drop punctuation other than the inner marks that carry meaning
/// (`don't`, `3.5`, `a@b.com`, `4/15`, `10:30`, `999-999`).
pub fn normalize_word(w: &str) -> String {
    let lower = w.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let mut out = String::with_capacity(lower.len());
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if matches!(c, '\'' | '’') {
            out.push('\'');
        } else if matches!(c, '@' | '.' | '-' | '/' | ':' | '+' | '_') {
            let inner = i > 0
                && i + 1 < chars.len()
                && chars[i - 1].is_alphanumeric()
                && chars[i + 1].is_alphanumeric();
            if inner || (c == '+' && i == 0) {
                out.push(c);
            }
        }
    }
    out
}

/// The normalised words of `s`, joined by single spaces (for comparing phrases).
pub fn normalize(s: &str) -> String {
    tokenize(s)
        .into_iter()
        .map(|t| t.norm)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The original text covering tokens `from..to` (exclusive) of `utterance`.
pub fn span_text(utterance: &str, tokens: &[Token], from: usize, to: usize) -> String {
    if from >= to || to > tokens.len() {
        return String::new();
    }
    utterance
        .get(tokens[from].start..tokens[to - 1].end)
        .unwrap_or_default()
        .to_string()
}

/// Words that carry no slot value around an answer ("it's", "the", "please").
pub fn is_filler(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "the"
            | "it"
            | "it's"
            | "its"
            | "is"
            | "my"
            | "i"
            | "i'm"
            | "im"
            | "am"
            | "want"
            | "would"
            | "like"
            | "to"
            | "for"
            | "please"
            | "on"
            | "at"
            | "in"
            | "of"
            | "um"
            | "uh"
            | "uhm"
            | "er"
            | "well"
            | "so"
            | "that's"
            | "thats"
            | "that"
            | "be"
            | "will"
            | "it'll"
            | "make"
            | "let's"
            | "lets"
            | "and"
            | "with"
            | "should"
            | "just"
            | "number"
            | "one's"
            | "ok"
            | "okay"
            | "sure"
            | "yes"
            | "yeah"
            | "thanks"
            | "thank"
            | "you"
            | "this"
            | "was"
            | "are"
            | "we"
            | "our"
            | "me"
            | "need"
            | "needs"
            | "go"
            | "get"
            | "can"
            | "could"
            | "you'd"
            | "do"
            | "use"
            | "have"
            | "got"
            | "by"
            | "from"
    )
}

/// Capitalise the first letter of each word ("john smith" → "John Smith").
pub fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(|x| x.to_lowercase()))
                    .collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_offsets_and_inner_marks() {
        let s = "Hi, I'm at john.doe@example.com — 999-999-999!";
        let t = tokenize(s);
        let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(
            norms,
            ["hi", "i'm", "at", "john.doe@example.com", "999-999-999"]
        );
        assert_eq!(&s[t[3].start..t[3].end], "john.doe@example.com");
        assert_eq!(span_text(s, &t, 1, 3), "I'm at");
        assert_eq!(normalize("  Open   a NEW account?? "), "open a new account");
        assert_eq!(normalize("4/15/23, 10:30."), "4/15/23 10:30");
        assert_eq!(title_case("mcDONALD sarah"), "Mcdonald Sarah");
        assert!(tokenize("...   !!").is_empty());
    }
}
