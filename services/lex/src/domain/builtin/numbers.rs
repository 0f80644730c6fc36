//! Spoken and written numbers: "100", "1,000", "one hundred and fifty", "three point five",
//! "one zero zero" (a digit run), "double five", "nineteen ninety nine" (a year said in pairs).
//!
//! Number words are read by the `text2num` crate; what it does not cover is handled here
//! (measured in `../shared/models.md`): digit runs ("one zero zero" would become "1 00"), "oh"
//! as zero, "double"/"triple", a leading "a" ("a hundred"), and pairs of two-digit numbers.
//! A [`Number`] keeps both readings of a digit run, so AMAZON.Number resolves "zero one" to 1
//! while AMAZON.AlphaNumeric and phone numbers keep "01".

use crate::domain::text::Token;
use text2num::{text2digits, Language};

/// A number found in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// Canonical decimal form: "100", "3.5", "-2".
    pub value: String,
    /// The digits as said, one by one, when the words were a digit run ("0100" for "zero one
    /// zero zero"); else the same as `value`.
    pub digits: String,
    /// Whether the words were a spoken digit run (two or more words, each one digit).
    pub digit_run: bool,
}

/// A number found in a token list: tokens `start..end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberSpan {
    pub start: usize,
    pub end: usize,
    pub number: Number,
}

/// The digit a single word names ("oh" and "o" are zero), if any.
pub fn digit_word(w: &str) -> Option<char> {
    Some(match w {
        "zero" | "oh" | "o" | "0" => '0',
        "one" | "1" => '1',
        "two" | "2" => '2',
        "three" | "3" => '3',
        "four" | "4" => '4',
        "five" | "5" => '5',
        "six" | "6" => '6',
        "seven" | "7" => '7',
        "eight" | "8" => '8',
        "nine" | "9" => '9',
        _ => return None,
    })
}

fn is_number_word(w: &str) -> bool {
    matches!(
        w,
        "zero"
            | "oh"
            | "one"
            | "two"
            | "three"
            | "four"
            | "five"
            | "six"
            | "seven"
            | "eight"
            | "nine"
            | "ten"
            | "eleven"
            | "twelve"
            | "thirteen"
            | "fourteen"
            | "fifteen"
            | "sixteen"
            | "seventeen"
            | "eighteen"
            | "nineteen"
            | "twenty"
            | "thirty"
            | "forty"
            | "fifty"
            | "sixty"
            | "seventy"
            | "eighty"
            | "ninety"
            | "hundred"
            | "thousand"
            | "million"
            | "billion"
            | "point"
            | "and"
            | "a"
            | "minus"
            | "negative"
            | "double"
            | "triple"
            | "hundreds"
            | "thousands"
            | "millions"
    ) || w.split('-').count() == 2
        && w.split('-')
            .all(|p| is_number_word(p) && p != "and" && p != "a")
}

/// A numeral written with digits: "42", "-3", "3.50", "1,000", "$20" → canonical form.
pub fn numeral(w: &str) -> Option<String> {
    let w = w.trim_start_matches('$').trim_end_matches('%');
    let (neg, body) = match w.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, w.strip_prefix('+').unwrap_or(w)),
    };
    if body.is_empty() || !body.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    // Thousands separators only in groups of three.
    let plain: String = if body.contains(',') {
        let int = body.split('.').next().unwrap_or("");
        let groups: Vec<&str> = int.split(',').collect();
        if groups.len() < 2
            || groups[0].is_empty()
            || groups[0].len() > 3
            || groups[1..].iter().any(|g| g.len() != 3)
        {
            return None;
        }
        body.replace(',', "")
    } else {
        body.to_string()
    };
    let mut parts = plain.split('.');
    let int = parts.next()?;
    let frac = parts.next();
    if parts.next().is_some() || int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let int_trim = int.trim_start_matches('0');
    let int_trim = if int_trim.is_empty() { "0" } else { int_trim };
    let mut out = String::new();
    if neg && (int_trim != "0" || frac.is_some_and(|f| f.bytes().any(|b| b != b'0'))) {
        out.push('-');
    }
    out.push_str(int_trim);
    if let Some(f) = frac {
        let f = f.trim_end_matches('0');
        if !f.is_empty() {
            out.push('.');
            out.push_str(f);
        }
    }
    Some(out)
}

/// Read `words` (normalised) as one number, if they are exactly one.
pub fn parse_number(words: &[&str]) -> Option<Number> {
    match words {
        [] => None,
        [w] => {
            if let Some(v) = numeral(w) {
                let digits = w.trim_start_matches(['-', '+', '$']).replace(',', "");
                let all_digits = digits.bytes().all(|b| b.is_ascii_digit());
                return Some(Number {
                    value: v.clone(),
                    digits: if all_digits { digits } else { v },
                    digit_run: false,
                });
            }
            spoken(words)
        }
        _ => {
            if let Some(d) = digit_run(words) {
                let v = d.trim_start_matches('0');
                return Some(Number {
                    value: if v.is_empty() { "0".into() } else { v.into() },
                    digits: d,
                    digit_run: true,
                });
            }
            spoken(words)
        }
    }
}

/// Words that are each one digit (or "double"/"triple" + digit), at least two digits long.
fn digit_run(words: &[&str]) -> Option<String> {
    let mut out = String::new();
    let mut repeat = 1;
    for w in words {
        match *w {
            "double" if repeat == 1 => repeat = 2,
            "triple" if repeat == 1 => repeat = 3,
            _ => {
                let d = digit_word(w)?;
                for _ in 0..repeat {
                    out.push(d);
                }
                repeat = 1;
            }
        }
    }
    (repeat == 1 && out.len() >= 2).then_some(out)
}

fn spoken(words: &[&str]) -> Option<Number> {
    if !words.iter().all(|w| is_number_word(w)) {
        return None;
    }
    let first = *words.first()?;
    let last = *words.last()?;
    if matches!(first, "and" | "point")
        || matches!(last, "and" | "point" | "a" | "minus" | "negative")
    {
        return None;
    }
    let (neg, words) = match first {
        "minus" | "negative" => (true, &words[1..]),
        _ => (false, words),
    };
    let mut ws: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    // "a hundred" → "one hundred"; "a" anywhere else is not part of a number.
    for i in 0..ws.len() {
        if ws[i] == "a" {
            if i + 1 < ws.len()
                && matches!(
                    ws[i + 1].as_str(),
                    "hundred" | "thousand" | "million" | "billion"
                )
            {
                ws[i] = "one".into();
            } else {
                return None;
            }
        }
        if ws[i] == "oh" {
            ws[i] = "zero".into();
        }
    }
    // Decimals: "three point one four" = integer words, then one digit per word.
    if let Some(p) = ws.iter().position(|w| w == "point") {
        let int = spoken(&ws[..p].iter().map(String::as_str).collect::<Vec<_>>())?;
        let frac: Option<String> = ws[p + 1..].iter().map(|w| digit_word(w)).collect();
        let frac = frac.filter(|f| !f.is_empty())?;
        let value = numeral(&format!("{}.{frac}", int.value))?;
        let value = if neg && value != "0" {
            format!("-{value}")
        } else {
            value
        };
        return Some(Number {
            digits: value.clone(),
            value,
            digit_run: false,
        });
    }
    let phrase = ws.join(" ");
    let en = Language::english();
    let value = match text2digits(&phrase, &en) {
        Ok(v) if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !v.is_empty() => v,
        _ => year_pairs(&ws)?,
    };
    let value = numeral(&value)?;
    let value = if neg && value != "0" {
        format!("-{value}")
    } else {
        value
    };
    Some(Number {
        digits: value.clone(),
        value,
        digit_run: false,
    })
}

/// "nineteen ninety nine" → 1999, "twenty twenty four" → 2024, "nineteen oh five" → 1905.
fn year_pairs(ws: &[String]) -> Option<String> {
    let en = Language::english();
    let two = |part: &[String]| -> Option<u32> {
        if part.is_empty() {
            return None;
        }
        if part.len() == 2 && part[0] == "zero" {
            return digit_word(&part[1]).and_then(|d| d.to_digit(10));
        }
        let v: u32 = text2digits(&part.join(" "), &en).ok()?.parse().ok()?;
        (v <= 99).then_some(v)
    };
    for split in 1..ws.len() {
        let (a, b) = (&ws[..split], &ws[split..]);
        if let (Some(x), Some(y)) = (two(a), two(b)) {
            if (10..=99).contains(&x) && (b.len() > 1 || y >= 10 || b[0] == "zero") {
                return Some(format!("{x}{y:02}"));
            }
        }
    }
    None
}

/// Numbers in `tokens`, longest first from the left, not overlapping. Words that could be a
/// digit run are joined ("one two three" → 123 as one number).
pub fn find_numbers(tokens: &[Token]) -> Vec<NumberSpan> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut best: Option<NumberSpan> = None;
        let max = (i + 12).min(tokens.len());
        for j in (i + 1..=max).rev() {
            let words: Vec<&str> = tokens[i..j].iter().map(|t| t.norm.as_str()).collect();
            if !words
                .iter()
                .all(|w| is_number_word(w) || numeral(w).is_some() || digit_word(w).is_some())
            {
                continue;
            }
            if let Some(n) = parse_number(&words) {
                best = Some(NumberSpan {
                    start: i,
                    end: j,
                    number: n,
                });
                break;
            }
        }
        match best {
            Some(b) => {
                i = b.end;
                out.push(b);
            }
            None => i += 1,
        }
    }
    out
}

/// Ordinal words and numerals up to 31 ("first", "twenty first", "3rd", "15th") → value.
pub fn ordinal(words: &[&str]) -> Option<u32> {
    const ORD: [&str; 20] = [
        "zeroth",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ];
    match words {
        [w] => {
            let stripped = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let suffix = &w[stripped.len()..];
            if !stripped.is_empty() && matches!(suffix, "st" | "nd" | "rd" | "th") {
                return stripped.parse().ok();
            }
            if let Some(i) = ORD.iter().position(|o| o == w) {
                return Some(i as u32);
            }
            match *w {
                "twentieth" => Some(20),
                "thirtieth" => Some(30),
                _ => {
                    let (a, b) = w.split_once('-')?;
                    ordinal(&[a, b])
                }
            }
        }
        [tens, unit] => {
            let base = match *tens {
                "twenty" => 20,
                "thirty" => 30,
                _ => return None,
            };
            let u = ORD.iter().position(|o| o == unit)? as u32;
            (1..=9).contains(&u).then_some(base + u)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tokenize;

    fn n(s: &str) -> Option<String> {
        let t = tokenize(s);
        let w: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        parse_number(&w).map(|n| n.value)
    }

    #[test]
    fn spoken_and_written_numbers() {
        assert_eq!(n("one hundred").as_deref(), Some("100"));
        assert_eq!(n("one zero zero").as_deref(), Some("100"));
        assert_eq!(n("a hundred and fifty").as_deref(), Some("150"));
        assert_eq!(n("one hundred and fifty").as_deref(), Some("150"));
        assert_eq!(n("twenty-five").as_deref(), Some("25"));
        assert_eq!(n("three point five").as_deref(), Some("3.5"));
        assert_eq!(n("nineteen ninety nine").as_deref(), Some("1999"));
        assert_eq!(n("twenty twenty four").as_deref(), Some("2024"));
        assert_eq!(n("two thousand and five").as_deref(), Some("2005"));
        assert_eq!(n("minus seven").as_deref(), Some("-7"));
        assert_eq!(n("1,000").as_deref(), Some("1000"));
        assert_eq!(n("007").as_deref(), Some("7"));
        assert_eq!(n("3.50").as_deref(), Some("3.5"));
        assert_eq!(n("hello"), None);
        assert_eq!(numeral("1,00"), None);
        assert_eq!(numeral("12,345.50").as_deref(), Some("12345.5"));
        assert_eq!(n("and"), None);
    }

    #[test]
    fn digit_runs_keep_their_digits() {
        let t = tokenize("zero one two double five oh");
        let w: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        let num = parse_number(&w).unwrap();
        assert!(num.digit_run);
        assert_eq!(num.digits, "012550");
        assert_eq!(num.value, "12550");
    }

    #[test]
    fn numbers_are_found_in_sentences() {
        let t = tokenize("I need 3 tickets for twenty five people, not one hundred and ten");
        let found: Vec<String> = find_numbers(&t)
            .into_iter()
            .map(|s| s.number.value)
            .collect();
        assert_eq!(found, ["3", "25", "110"]);
        let t = tokenize("my pin is one two three four");
        let f = find_numbers(&t);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].number.digits, "1234");
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(&["first"]), Some(1));
        assert_eq!(ordinal(&["twenty", "first"]), Some(21));
        assert_eq!(ordinal(&["twenty-third"]), Some(23));
        assert_eq!(ordinal(&["15th"]), Some(15));
        assert_eq!(ordinal(&["thirtieth"]), Some(30));
        assert_eq!(ordinal(&["tenthousand"]), None);
    }
}
