//! Word-level built-in types: AMAZON.Confirmation (yes / no / maybe / don't know), first and
//! last names, and AMAZON.AlphaNumeric (account numbers, codes: "1234 567 890", "A1B2",
//! "zero one two" keeps its leading zero, "one hundred" is 100).

use super::numbers::{digit_word, find_numbers};
use crate::domain::text::{is_filler, title_case, Token};

/// AMAZON.Confirmation's resolution of an answer: `Yes`, `No`, `Maybe` or `Don't know`.
pub fn confirmation(tokens: &[Token]) -> Option<&'static str> {
    let words: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
    let text = words.join(" ");
    let has = |phrases: &[&str]| {
        phrases.iter().any(|p| {
            text == *p
                || text.starts_with(&format!("{p} "))
                || text.ends_with(&format!(" {p}"))
                || text.contains(&format!(" {p} "))
        })
    };
    if has(&[
        "i don't know",
        "i dont know",
        "don't know",
        "dont know",
        "not sure",
        "no idea",
        "dunno",
        "i'm not sure",
    ]) {
        return Some("Don't know");
    }
    if has(&[
        "no",
        "nope",
        "nah",
        "negative",
        "no thanks",
        "no thank you",
        "don't",
        "do not",
        "not really",
        "never mind",
        "nevermind",
        "wrong",
        "incorrect",
        "not correct",
        "cancel",
    ]) {
        return Some("No");
    }
    if has(&["maybe", "perhaps", "possibly", "might", "probably"]) {
        return Some("Maybe");
    }
    if has(&[
        "yes",
        "yeah",
        "yep",
        "yup",
        "ya",
        "sure",
        "correct",
        "right",
        "that's right",
        "thats right",
        "ok",
        "okay",
        "affirmative",
        "absolutely",
        "of course",
        "please do",
        "go ahead",
        "do it",
        "confirm",
        "confirmed",
        "definitely",
        "certainly",
        "yes please",
        "sounds good",
        "that's correct",
        "alright",
        "all right",
        "exactly",
        "indeed",
    ]) {
        return Some("Yes");
    }
    None
}

/// Lead-ins before a name ("my name is", "call me", "this is", "it's").
fn strip_name_lead(words: &[&str]) -> usize {
    const LEADS: &[&[&str]] = &[
        &["my", "first", "name", "is"],
        &["my", "last", "name", "is"],
        &["my", "surname", "is"],
        &["my", "name", "is"],
        &["the", "name", "is"],
        &["name", "is"],
        &["call", "me"],
        &["this", "is"],
        &["it", "is"],
        &["it's"],
        &["its"],
        &["i'm"],
        &["i", "am"],
        &["im"],
    ];
    LEADS
        .iter()
        .find(|l| words.len() > l.len() && words[..l.len()] == l[..])
        .map_or(0, |l| l.len())
}

/// A first (`last == false`) or last name from an answer, title-cased.
pub fn name(tokens: &[Token], last: bool) -> Option<String> {
    let words: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
    let from = strip_name_lead(&words);
    let names: Vec<&Token> = tokens[from..]
        .iter()
        .filter(|t| {
            t.norm
                .chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
                && !t.norm.is_empty()
        })
        .filter(|t| {
            !matches!(
                t.norm.as_str(),
                "please" | "thanks" | "and" | "mr" | "mrs" | "ms" | "dr" | "the"
            )
        })
        .collect();
    let pick = if last { names.last() } else { names.first() }?;
    Some(title_case(&pick.text))
}

/// AMAZON.AlphaNumeric from an answer: letters and digits with spaces and dashes removed,
/// spoken digits as digits (leading zeros kept), number phrases as their value.
pub fn alphanumeric(tokens: &[Token]) -> Option<String> {
    // Skip a lead-in made of filler words ("it's", "my account number is").
    let mut from = 0;
    while from < tokens.len()
        && (is_filler(&tokens[from].norm)
            || matches!(
                tokens[from].norm.as_str(),
                "account" | "code" | "id" | "routing" | "reference" | "order" | "confirmation"
            ))
    {
        from += 1;
    }
    let tokens = &tokens[from..];
    if tokens.is_empty() {
        return None;
    }
    let numbers = find_numbers(tokens);
    let mut out = String::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some(n) = numbers.iter().find(|n| n.start == i) {
            out.push_str(&n.number.digits);
            i = n.end;
            continue;
        }
        let t = &tokens[i];
        let cleaned: String = t.text.chars().filter(|c| c.is_alphanumeric()).collect();
        if let Some(d) = digit_word(&t.norm) {
            out.push(d);
        } else if cleaned.is_empty()
            || t.text
                .chars()
                .any(|c| !(c.is_alphanumeric() || matches!(c, '-' | '.' | '/')))
        {
            return None;
        } else {
            out.push_str(&cleaned);
        }
        i += 1;
    }
    (!out.is_empty() && out.chars().any(|c| c.is_ascii_digit())
        || out.len() <= 12 && !out.is_empty())
    .then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tokenize;

    #[test]
    fn confirmations() {
        assert_eq!(confirmation(&tokenize("Yes please")), Some("Yes"));
        assert_eq!(confirmation(&tokenize("yeah that's right")), Some("Yes"));
        assert_eq!(confirmation(&tokenize("no thanks")), Some("No"));
        assert_eq!(confirmation(&tokenize("I don't know")), Some("Don't know"));
        assert_eq!(confirmation(&tokenize("maybe")), Some("Maybe"));
        assert_eq!(confirmation(&tokenize("purple")), None);
    }

    #[test]
    fn names() {
        assert_eq!(
            name(&tokenize("my name is john smith"), false).as_deref(),
            Some("John")
        );
        assert_eq!(
            name(&tokenize("my name is john smith"), true).as_deref(),
            Some("Smith")
        );
        assert_eq!(name(&tokenize("Sarah"), false).as_deref(), Some("Sarah"));
        assert_eq!(name(&tokenize("42"), false), None);
    }

    #[test]
    fn alphanumerics() {
        assert_eq!(
            alphanumeric(&tokenize("1234 567 890")).as_deref(),
            Some("1234567890")
        );
        assert_eq!(
            alphanumeric(&tokenize("999-999-999")).as_deref(),
            Some("999999999")
        );
        assert_eq!(
            alphanumeric(&tokenize("it's zero one zero")).as_deref(),
            Some("010")
        );
        assert_eq!(
            alphanumeric(&tokenize("one hundred")).as_deref(),
            Some("100")
        );
        assert_eq!(alphanumeric(&tokenize("A1B2")).as_deref(), Some("A1B2"));
        assert_eq!(
            alphanumeric(&tokenize("my account number is AB 12 34")).as_deref(),
            Some("AB1234")
        );
    }
}
