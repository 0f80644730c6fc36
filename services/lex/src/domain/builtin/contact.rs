//! AMAZON.PhoneNumber and AMAZON.EmailAddress.
//!
//! Phone numbers are digit groups, written ("(555) 123-4567", "+1 555 123 4567") or spoken
//! digit by digit ("five five five one two three…", "double five", "oh"), 7 to 15 digits, kept
//! as a digit string with a leading `+` when one was given — the form Lex returns. The check is
//! the E.164 length rule and, for 10/11-digit North American numbers, the NANP rule that area
//! codes do not start with 0 or 1 (the `phonenumber` crate's full metadata would
//! add a large build for a check that the dialog needs only coarsely).
//!
//! E-mail addresses are written ("jo@example.com") or spoken ("jo dot smith at example dot
//! com"), lower-cased.

use super::numbers::digit_word;
use crate::domain::text::Token;

/// A phone number found in a token list: tokens `start..end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneSpan {
    pub start: usize,
    pub end: usize,
    pub number: String,
}

/// Digits of one phone-ish word: "555-1234" → "5551234", "(555)" → "555", "five" → "5".
fn phone_digits(w: &str, original: &str) -> Option<String> {
    if let Some(d) = digit_word(w) {
        return Some(d.to_string());
    }
    let src = if original.starts_with('(') || original.starts_with('+') {
        original
    } else {
        w
    };
    let cleaned: String = src
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '-' | '.' | '+'))
        .collect();
    (!cleaned.is_empty() && cleaned.bytes().all(|b| b.is_ascii_digit())).then_some(cleaned)
}

fn valid_phone(digits: &str, plus: bool) -> bool {
    let n = digits.len();
    if !(7..=15).contains(&n) {
        return false;
    }
    // North American area codes do not start with 0 or 1.
    let nanp = |d: &str| d.as_bytes()[0] >= b'2';
    match (n, plus) {
        (10, false) => nanp(digits),
        (11, _) if digits.starts_with('1') => nanp(&digits[1..]),
        _ => true,
    }
}

/// Phone numbers in `tokens` (maximal runs of digit groups), as digit strings.
pub fn find_phones(tokens: &[Token]) -> Vec<PhoneSpan> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i;
        let mut digits = String::new();
        let mut repeat = 1;
        let plus = tokens[i].text.starts_with('+');
        while j < tokens.len() {
            let t = &tokens[j];
            match t.norm.as_str() {
                "double" => repeat = 2,
                "triple" => repeat = 3,
                _ => match phone_digits(&t.norm, &t.text) {
                    Some(d) => {
                        for _ in 0..repeat {
                            digits.push_str(&d);
                        }
                        repeat = 1;
                    }
                    None => break,
                },
            }
            j += 1;
        }
        if j > i && valid_phone(&digits, plus) {
            out.push(PhoneSpan {
                start: i,
                end: j,
                number: if plus { format!("+{digits}") } else { digits },
            });
        }
        // A run of digit groups is one number or none (never its tail).
        i = j.max(i + 1);
    }
    out
}

/// The phone number `tokens` say in full (fillers around it allowed).
pub fn parse_phone(tokens: &[Token]) -> Option<String> {
    let found = find_phones(tokens);
    match found.as_slice() {
        [one] => Some(one.number.clone()),
        _ => None,
    }
}

/// Whether `s` looks like an e-mail address (`local@domain.tld`).
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let ok_chars = |p: &str, extra: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    ok_chars(local, "._%+-")
        && ok_chars(domain, ".-")
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// Written addresses in `tokens`: (token index, address).
pub fn find_emails(tokens: &[Token]) -> Vec<(usize, String)> {
    tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| is_email(&t.norm))
        .map(|(i, t)| (i, t.norm.clone()))
        .collect()
}

/// The address `tokens` give, written or spoken ("jo dot smith at example dot com").
pub fn parse_email(tokens: &[Token]) -> Option<String> {
    if let [(_, e)] = find_emails(tokens).as_slice() {
        return Some(e.clone());
    }
    // Spoken: drop a lead-in ("it's", "my email is"), then map the spoken marks.
    let words: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
    let at = words.iter().rposition(|w| *w == "at")?;
    let mut start = 0;
    for (k, w) in words[..at].iter().enumerate() {
        if matches!(
            *w,
            "is" | "it's" | "its" | "email" | "e-mail" | "address" | "my" | "it"
        ) {
            start = k + 1;
        }
    }
    let mut s = String::new();
    for (k, w) in words[start..].iter().enumerate() {
        let piece = match *w {
            "at" if start + k == at => "@".to_string(),
            "dot" | "period" | "point" => ".".into(),
            "underscore" => "_".into(),
            "dash" | "hyphen" | "minus" => "-".into(),
            "plus" => "+".into(),
            // Spelled digits ("seven") become digits; "o" stays a letter.
            other => match digit_word(other) {
                Some(d) if other.len() > 2 => d.to_string(),
                _ => other.to_string(),
            },
        };
        s.push_str(&piece);
    }
    is_email(&s).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tokenize;

    #[test]
    fn phones_written_and_spoken() {
        assert_eq!(
            parse_phone(&tokenize("(555) 123-4567")).as_deref(),
            Some("5551234567")
        );
        assert_eq!(
            parse_phone(&tokenize("my number is +44 20 7946 0958")).as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            parse_phone(&tokenize(
                "five five five one two three double four five six"
            ))
            .as_deref(),
            Some("5551234456")
        );
        assert_eq!(
            parse_phone(&tokenize("call me at 555 123 4567 please")).as_deref(),
            Some("5551234567")
        );
        assert_eq!(
            parse_phone(&tokenize("123 456 7890")),
            None,
            "area code cannot start with 1"
        );
        assert_eq!(parse_phone(&tokenize("42")), None);
    }

    #[test]
    fn emails_written_and_spoken() {
        assert_eq!(
            parse_email(&tokenize("It's Jo.Smith@Example.com.")).as_deref(),
            Some("jo.smith@example.com")
        );
        assert_eq!(
            parse_email(&tokenize("my email is jo dot smith at example dot com")).as_deref(),
            Some("jo.smith@example.com")
        );
        assert_eq!(
            parse_email(&tokenize("jo underscore 7 at mail dot co dot uk")).as_deref(),
            Some("jo_7@mail.co.uk")
        );
        assert_eq!(parse_email(&tokenize("at the office")), None);
        assert!(!is_email("a@b"));
        assert!(!is_email("a@b..com"));
    }
}
