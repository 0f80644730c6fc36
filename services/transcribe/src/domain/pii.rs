//! PII detection over a channel's recognised words, with the entity types AWS names for batch
//! redaction: CREDIT_DEBIT_NUMBER (Luhn), CREDIT_DEBIT_CVV, CREDIT_DEBIT_EXPIRY, SSN (issuance
//! rules), PHONE (NANP), BANK_ROUTING (ABA checksum), BANK_ACCOUNT_NUMBER, PIN, EMAIL, NAME,
//! ADDRESS.
//!
//! Numbers are read the way people speak them and Whisper writes them: digit groups
//! ("4111 1111 1111 1111", "555-0134"), digit words ("four one one one", "oh"), "double
//! five". Consecutive numeric words form a run; a run is classified by its length, its
//! checksum and the words just before it ("my social security number is", "routing", "PIN").
//! Names are found after introductions ("my name is", "this is", "I'm", "Mr./Ms./Dr.") as
//! capitalised words; addresses as a house number followed by capitalised words and a street
//! suffix; e-mails written or spoken ("john dot smith at example dot com"). Hand-written
//! because no Rust crate recognises PII; the rules follow Presidio's recognisers (MIT).

/// An entity found: words `start..end` (indexes into the word list), its type, a confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub start: usize,
    pub end: usize,
    pub kind: &'static str,
    pub confidence: f32,
}

/// Every type AWS lets `PiiEntityTypes` name (besides ALL).
pub const TYPES: &[&str] = &[
    "BANK_ACCOUNT_NUMBER",
    "BANK_ROUTING",
    "CREDIT_DEBIT_NUMBER",
    "CREDIT_DEBIT_CVV",
    "CREDIT_DEBIT_EXPIRY",
    "PIN",
    "EMAIL",
    "ADDRESS",
    "NAME",
    "PHONE",
    "SSN",
];

fn digit_word(w: &str) -> Option<&'static str> {
    Some(match w {
        "zero" | "oh" | "o" => "0",
        "one" => "1",
        "two" => "2",
        "three" => "3",
        "four" => "4",
        "five" => "5",
        "six" => "6",
        "seven" => "7",
        "eight" => "8",
        "nine" => "9",
        _ => return None,
    })
}

fn clean(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()
}

/// The digits a word stands for, if it is numeric ("4111", "555-0134", "four", "oh").
fn digits_of(w: &str) -> Option<String> {
    let c = clean(w);
    if let Some(d) = digit_word(&c) {
        return Some(d.to_string());
    }
    let stripped: String = w.chars().filter(|c| !matches!(c, '-' | '(' | ')' | '.' | ',' | '/')).collect();
    if !stripped.is_empty() && stripped.chars().all(|c| c.is_ascii_digit()) {
        return Some(stripped);
    }
    None
}

/// Luhn checksum.
pub fn luhn(d: &str) -> bool {
    let mut sum = 0;
    for (i, c) in d.chars().rev().enumerate() {
        let Some(mut v) = c.to_digit(10) else { return false };
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !d.is_empty() && sum % 10 == 0
}

/// US SSN issuance rules: area not 000, 666 or 9xx; group not 00; serial not 0000.
pub fn ssn_valid(d: &str) -> bool {
    if d.len() != 9 || !d.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// ABA routing number checksum.
pub fn aba_valid(d: &str) -> bool {
    let v: Vec<u32> = d.chars().filter_map(|c| c.to_digit(10)).collect();
    if v.len() != 9 {
        return false;
    }
    let s = 3 * (v[0] + v[3] + v[6]) + 7 * (v[1] + v[4] + v[7]) + (v[2] + v[5] + v[8]);
    s % 10 == 0 && s > 0
}

fn context(words: &[String], at: usize, back: usize) -> String {
    let from = at.saturating_sub(back);
    words[from..at].join(" ")
}

/// Find the PII entities of `words` (the spoken words in order).
pub fn detect(words: &[&str]) -> Vec<Entity> {
    let lower: Vec<String> = words.iter().map(|w| clean(w)).collect();
    let mut found: Vec<Entity> = Vec::new();
    let mut i = 0;
    // Numeric runs.
    while i < words.len() {
        if digits_of(words[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        while i < words.len() {
            if let Some(d) = digits_of(words[i]) {
                digits.push_str(&d);
                i += 1;
                // A sentence break ends the run.
                if words[i - 1].ends_with(['.', '?', '!']) && !words[i - 1].ends_with("..") {
                    break;
                }
            } else if matches!(lower[i].as_str(), "double" | "triple") && i + 1 < words.len() && digits_of(words[i + 1]).is_some_and(|d| d.len() == 1) {
                let n = if lower[i] == "double" { 2 } else { 3 };
                let d = digits_of(words[i + 1]).unwrap_or_default();
                digits.push_str(&d.repeat(n));
                i += 2;
            } else if matches!(lower[i].as_str(), "dash" | "hyphen") && i + 1 < words.len() && digits_of(words[i + 1]).is_some() {
                i += 1;
            } else {
                break;
            }
        }
        let end = i;
        let ctx = context(&lower, start, 6);
        let has = |k: &[&str]| k.iter().any(|w| ctx.contains(w));
        let n = digits.len();
        let kind: Option<(&'static str, f32)> = if (13..=19).contains(&n) && luhn(&digits) {
            Some(("CREDIT_DEBIT_NUMBER", 0.99))
        } else if n == 9 && has(&["routing", "aba"]) && aba_valid(&digits) {
            Some(("BANK_ROUTING", 0.95))
        } else if n == 9 && (has(&["social", "security", "ssn"]) || ssn_valid(&digits) && words[start].contains('-')) && ssn_valid(&digits) {
            Some(("SSN", 0.97))
        } else if (8..=17).contains(&n) && has(&["account"]) {
            Some(("BANK_ACCOUNT_NUMBER", 0.9))
        } else if (n == 10 && !digits.starts_with(['0', '1'])) || (n == 11 && digits.starts_with('1')) || ((7..=12).contains(&n) && has(&["phone", "call", "reach", "cell", "mobile", "extension"])) {
            Some(("PHONE", 0.95))
        } else if (3..=4).contains(&n) && has(&["cvv", "cvc", "security code", "verification", "code on the back"]) {
            Some(("CREDIT_DEBIT_CVV", 0.9))
        } else if (4..=6).contains(&n) && has(&["pin"]) {
            Some(("PIN", 0.9))
        } else if (3..=6).contains(&n) && has(&["expir", "exp date", "valid thru", "valid through"]) {
            Some(("CREDIT_DEBIT_EXPIRY", 0.85))
        } else if n >= 12 && has(&["card"]) {
            Some(("CREDIT_DEBIT_NUMBER", 0.8))
        } else {
            None
        };
        if let Some((kind, confidence)) = kind {
            found.push(Entity { start, end, kind, confidence });
        }
        if i == start {
            i += 1;
        }
    }
    // Expiry dates spoken with a month name: "expires March twenty twenty six", "exp 03/27".
    const MONTHS: &[&str] = &["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
    for (j, w) in lower.iter().enumerate() {
        if MONTHS.contains(&w.as_str()) && context(&lower, j, 5).contains("expir") && !found.iter().any(|e| e.start <= j && j < e.end) {
            let mut end = j + 1;
            while end < words.len() && end < j + 4 && (digits_of(words[end]).is_some() || matches!(lower[end].as_str(), "twenty" | "thirty" | "of")) {
                end += 1;
            }
            found.push(Entity { start: j, end, kind: "CREDIT_DEBIT_EXPIRY", confidence: 0.85 });
        }
    }
    // E-mails, written ("a@b.com") or spoken ("john dot smith at example dot com").
    for (j, w) in words.iter().enumerate() {
        let t = w.trim_matches(|c: char| matches!(c, ',' | '?' | '!') || c == '.' && w.ends_with('.'));
        if t.contains('@') && t.split('@').nth(1).is_some_and(|d| d.contains('.')) {
            found.push(Entity { start: j, end: j + 1, kind: "EMAIL", confidence: 0.99 });
        }
    }
    let mut j = 0;
    while j < lower.len() {
        if lower[j] == "at" && j > 0 && j + 3 <= lower.len() {
            // Domain: word (dot word)+ ending in a common top-level domain.
            let mut k = j + 1;
            let mut dots = 0;
            while k + 1 < lower.len() && lower[k + 1] == "dot" && k + 2 < lower.len() {
                k += 2;
                dots += 1;
            }
            let tld = lower.get(k).map(String::as_str).unwrap_or("");
            if dots > 0 && matches!(tld, "com" | "org" | "net" | "edu" | "gov" | "io" | "co" | "us" | "uk") {
                // User part: a word, optionally "x dot y".
                let mut s = j - 1;
                while s >= 2 && lower[s - 1] == "dot" {
                    s -= 2;
                }
                found.push(Entity { start: s, end: k + 1, kind: "EMAIL", confidence: 0.9 });
                j = k + 1;
                continue;
            }
        }
        j += 1;
    }
    // Names after introductions.
    let capital = |w: &str| w.chars().next().is_some_and(char::is_uppercase) && w.chars().skip(1).all(|c| c.is_alphabetic() || matches!(c, '\'' | '-' | '.' | ',' | '?' | '!'));
    const NOT_NAMES: &[&str] = &["i", "calling", "here", "a", "the", "not", "just", "so", "very", "sorry", "glad", "happy", "good", "fine", "ok", "okay", "from", "with", "your", "going"];
    for j in 0..words.len() {
        let intro = (j >= 3 && lower[j - 3] == "my" && lower[j - 2] == "name" && lower[j - 1] == "is")
            || (j >= 2 && lower[j - 2] == "this" && lower[j - 1] == "is")
            || (j >= 1 && matches!(lower[j - 1].as_str(), "i'm" | "mr" | "mrs" | "ms" | "miss" | "dr" | "named" | "called"))
            || (j >= 2 && lower[j - 2] == "speaking" && lower[j - 1] == "with");
        if !intro || !capital(words[j]) || NOT_NAMES.contains(&lower[j].as_str()) {
            continue;
        }
        let mut end = j + 1;
        if !words[j].ends_with(['.', ',', '?', '!']) {
            while end < words.len() && end < j + 3 && capital(words[end]) && !NOT_NAMES.contains(&lower[end].as_str()) {
                end += 1;
                if words[end - 1].ends_with(['.', ',', '?', '!']) {
                    break;
                }
            }
        }
        found.push(Entity { start: j, end, kind: "NAME", confidence: 0.85 });
    }
    // Addresses: house number + words + street suffix.
    const SUFFIXES: &[&str] = &["street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive", "dr", "court", "ct", "way", "place", "pl", "terrace", "circle", "highway", "parkway"];
    for j in 0..words.len() {
        if digits_of(words[j]).is_none_or(|d| d.len() > 6) {
            continue;
        }
        for end in j + 2..(j + 6).min(words.len() + 1) {
            if SUFFIXES.contains(&lower[end - 1].as_str()) && words[j + 1..end - 1].iter().all(|w| capital(w) || digits_of(w).is_some()) {
                found.push(Entity { start: j, end, kind: "ADDRESS", confidence: 0.8 });
                break;
            }
        }
    }
    // Overlaps: keep the earliest-starting, then longest.
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Entity> = Vec::new();
    for e in found {
        if out.last().is_none_or(|l| e.start >= l.end) {
            out.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(&'static str, String)> {
        let words: Vec<&str> = text.split_whitespace().collect();
        detect(&words).into_iter().map(|e| (e.kind, words[e.start..e.end].join(" "))).collect()
    }

    #[test]
    fn checksums() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
        assert!(ssn_valid("123456789") && !ssn_valid("666123456") && !ssn_valid("123006789"));
        assert!(aba_valid("011000015") && !aba_valid("011000016"));
    }

    #[test]
    fn numbers_as_written_and_spoken() {
        assert_eq!(kinds("my card number is 4111 1111 1111 1111 thanks"), vec![("CREDIT_DEBIT_NUMBER", "4111 1111 1111 1111".into())]);
        assert_eq!(kinds("call me at 415-555-0134."), vec![("PHONE", "415-555-0134.".into())]);
        assert_eq!(kinds("my number is four one five five five five oh one three four"), vec![("PHONE", "four one five five five five oh one three four".into())]);
        assert_eq!(kinds("my social security number is 123-45-6789"), vec![("SSN", "123-45-6789".into())]);
        assert_eq!(kinds("and my phone number is 4115 555 0134."), vec![("PHONE", "4115 555 0134.".into())]);
        assert_eq!(kinds("the pin is 4 4 8 1"), vec![("PIN", "4 4 8 1".into())]);
        assert_eq!(kinds("the security code is 737"), vec![("CREDIT_DEBIT_CVV", "737".into())]);
        // A card number that fails Luhn is not a card.
        assert!(kinds("order 4111 1111 1111 1112 shipped").is_empty());
        assert!(kinds("I have 3 cats").is_empty());
    }

    #[test]
    fn names_emails_addresses() {
        assert_eq!(kinds("Hi, my name is John Smith, and I need help"), vec![("NAME", "John Smith,".into())]);
        assert_eq!(kinds("write to john.smith@example.com please"), vec![("EMAIL", "john.smith@example.com".into())]);
        assert_eq!(kinds("it is john dot smith at example dot com ok"), vec![("EMAIL", "john dot smith at example dot com".into())]);
        assert_eq!(kinds("I live at 100 Main Street in town"), vec![("ADDRESS", "100 Main Street".into())]);
        assert!(kinds("my name is not important").is_empty());
    }
}
