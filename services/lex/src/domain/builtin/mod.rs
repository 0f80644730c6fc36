//! Lex's built-in slot types: what each recognises and how it resolves a value.
//!
//! Two entry points per type: [`find`] lists the values a type can see inside a sentence (for
//! an intent utterance that carries slot values), and [`parse_answer`] reads an answer to the
//! slot's own prompt, where the whole utterance is about that slot and bare forms ("3",
//! "Sarah", "yes") count.

pub mod contact;
pub mod dates;
pub mod numbers;
pub mod times;
pub mod words;

use crate::domain::text::{span_text, Token};
use time::Date;

/// A built-in slot type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Builtin {
    Number,
    AlphaNumeric,
    Date,
    Time,
    FirstName,
    LastName,
    EmailAddress,
    PhoneNumber,
    Confirmation,
    FreeFormInput,
}

impl Builtin {
    /// Every built-in type, in listing order.
    pub const ALL: [Builtin; 10] = [
        Builtin::AlphaNumeric,
        Builtin::Confirmation,
        Builtin::Date,
        Builtin::EmailAddress,
        Builtin::FirstName,
        Builtin::FreeFormInput,
        Builtin::LastName,
        Builtin::Number,
        Builtin::PhoneNumber,
        Builtin::Time,
    ];

    /// The type for a signature such as `AMAZON.Number`.
    pub fn from_signature(s: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.signature() == s)
    }

    /// `AMAZON.<Name>`.
    pub fn signature(self) -> &'static str {
        match self {
            Builtin::Number => "AMAZON.Number",
            Builtin::AlphaNumeric => "AMAZON.AlphaNumeric",
            Builtin::Date => "AMAZON.Date",
            Builtin::Time => "AMAZON.Time",
            Builtin::FirstName => "AMAZON.FirstName",
            Builtin::LastName => "AMAZON.LastName",
            Builtin::EmailAddress => "AMAZON.EmailAddress",
            Builtin::PhoneNumber => "AMAZON.PhoneNumber",
            Builtin::Confirmation => "AMAZON.Confirmation",
            Builtin::FreeFormInput => "AMAZON.FreeFormInput",
        }
    }

    /// One line about the type (ListBuiltInSlotTypes).
    pub fn description(self) -> &'static str {
        match self {
            Builtin::Number => "Converts words or numbers that express a number into digits, including decimal numbers.",
            Builtin::AlphaNumeric => "Recognizes strings made up of letters and numbers, such as a license plate number.",
            Builtin::Date => "Converts words that represent dates into a date format.",
            Builtin::Time => "Converts words that represent times into time values.",
            Builtin::FirstName => "Commonly used first names.",
            Builtin::LastName => "Commonly used last names.",
            Builtin::EmailAddress => "Recognizes words that represent an email address provided as username@domain.",
            Builtin::PhoneNumber => "Recognizes numbers that represent phone numbers.",
            Builtin::Confirmation => "Recognizes words and phrases that mean Yes, No, Maybe and Don't know.",
            Builtin::FreeFormInput => "Recognizes strings that consist of any words or characters.",
        }
    }

    /// A typical value, used to fill `{Slot}` when sample utterances are embedded.
    pub fn example(self) -> &'static str {
        match self {
            Builtin::Number => "5",
            Builtin::AlphaNumeric => "A12345",
            Builtin::Date => "tomorrow",
            Builtin::Time => "3 pm",
            Builtin::FirstName => "John",
            Builtin::LastName => "Smith",
            Builtin::EmailAddress => "jo@example.com",
            Builtin::PhoneNumber => "555 123 4567",
            Builtin::Confirmation => "yes",
            Builtin::FreeFormInput => "something",
        }
    }
}

/// What the recognisers need to know about "now".
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Today, in the bot's time zone (UTC).
    pub today: Date,
}

/// A recognised value: tokens `start..end`, the value as the user said it, and its resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub original: String,
    pub resolved: String,
}

/// Values of type `b` inside a sentence.
pub fn find(b: Builtin, utterance: &str, tokens: &[Token], now: Now) -> Vec<Found> {
    let mk = |start: usize, end: usize, resolved: String| Found {
        start,
        end,
        original: span_text(utterance, tokens, start, end),
        resolved,
    };
    match b {
        Builtin::Number => numbers::find_numbers(tokens)
            .into_iter()
            .map(|s| mk(s.start, s.end, s.number.value))
            .collect(),
        Builtin::AlphaNumeric => {
            let mut out: Vec<Found> = numbers::find_numbers(tokens)
                .into_iter()
                .filter(|s| s.number.digits.len() >= 2)
                .map(|s| mk(s.start, s.end, s.number.digits))
                .collect();
            for (i, t) in tokens.iter().enumerate() {
                let has_digit = t.text.chars().any(|c| c.is_ascii_digit());
                let has_alpha = t.text.chars().any(|c| c.is_alphabetic());
                if has_digit
                    && has_alpha
                    && t.text.chars().all(|c| c.is_alphanumeric() || c == '-')
                    && !out.iter().any(|f| f.start <= i && i < f.end)
                {
                    out.push(mk(i, i + 1, t.text.replace('-', "")));
                }
            }
            out.sort_by_key(|f| f.start);
            out
        }
        Builtin::Date => dates::find_dates(tokens, now.today)
            .into_iter()
            .map(|s| mk(s.start, s.end, dates::iso(s.date)))
            .collect(),
        Builtin::Time => times::find_times(tokens)
            .into_iter()
            .map(|s| mk(s.start, s.end, times::hhmm(s.hour, s.minute)))
            .collect(),
        Builtin::PhoneNumber => contact::find_phones(tokens)
            .into_iter()
            .map(|s| mk(s.start, s.end, s.number))
            .collect(),
        Builtin::EmailAddress => contact::find_emails(tokens)
            .into_iter()
            .map(|(i, e)| mk(i, i + 1, e))
            .collect(),
        // Names, confirmations and free-form text are recognised from templates and answers only.
        Builtin::FirstName | Builtin::LastName | Builtin::Confirmation | Builtin::FreeFormInput => {
            Vec::new()
        }
    }
}

/// The value of type `b` in an answer to the slot's prompt (or a template's captured words).
pub fn parse_answer(b: Builtin, utterance: &str, tokens: &[Token], now: Now) -> Option<Found> {
    if tokens.is_empty() {
        return None;
    }
    let whole = |resolved: String| Found {
        start: 0,
        end: tokens.len(),
        original: span_text(utterance, tokens, 0, tokens.len()),
        resolved,
    };
    let words: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
    match b {
        Builtin::Number => {
            if let Some(n) = numbers::parse_number(&words) {
                return Some(whole(n.value));
            }
            single(find(b, utterance, tokens, now))
        }
        Builtin::AlphaNumeric => words::alphanumeric(tokens).map(whole),
        Builtin::Date => match dates::parse_date(&words, now.today) {
            Some(d) => Some(whole(dates::iso(d))),
            None => single(find(b, utterance, tokens, now)),
        },
        Builtin::Time => match times::parse_time(&words) {
            Some((h, m)) => Some(whole(times::hhmm(h, m))),
            None => single(find(b, utterance, tokens, now)),
        },
        Builtin::PhoneNumber => contact::find_phones(tokens)
            .into_iter()
            .next()
            .map(|s| Found {
                start: s.start,
                end: s.end,
                original: span_text(utterance, tokens, s.start, s.end),
                resolved: s.number,
            }),
        Builtin::EmailAddress => contact::parse_email(tokens).map(whole),
        Builtin::Confirmation => words::confirmation(tokens).map(|c| whole(c.to_string())),
        Builtin::FirstName => words::name(tokens, false).map(whole),
        Builtin::LastName => words::name(tokens, true).map(whole),
        Builtin::FreeFormInput => Some(whole(utterance.trim().to_string())),
    }
}

fn single(mut v: Vec<Found>) -> Option<Found> {
    if v.len() == 1 {
        v.pop()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tokenize;
    use time::macros::date;

    const NOW: Now = Now {
        today: date!(2024 - 03 - 13),
    };

    fn answer(b: Builtin, s: &str) -> Option<String> {
        parse_answer(b, s, &tokenize(s), NOW).map(|f| f.resolved)
    }

    #[test]
    fn one_zero_zero_and_one_hundred() {
        assert_eq!(
            answer(Builtin::Number, "one zero zero").as_deref(),
            Some("100")
        );
        assert_eq!(
            answer(Builtin::Number, "one hundred").as_deref(),
            Some("100")
        );
        assert_eq!(
            answer(Builtin::AlphaNumeric, "zero one zero zero").as_deref(),
            Some("0100")
        );
        assert_eq!(
            answer(Builtin::Number, "zero one zero zero").as_deref(),
            Some("100")
        );
        assert_eq!(
            answer(Builtin::Number, "I'd like 12 please").as_deref(),
            Some("12")
        );
    }

    #[test]
    fn answers_of_each_type() {
        assert_eq!(
            answer(Builtin::Date, "next Tuesday").as_deref(),
            Some("2024-03-19")
        );
        assert_eq!(
            answer(Builtin::Date, "my birthday is January 1, 1980").as_deref(),
            Some("1980-01-01")
        );
        assert_eq!(
            answer(Builtin::Time, "around 3 pm").as_deref(),
            Some("15:00")
        );
        assert_eq!(
            answer(Builtin::PhoneNumber, "it's 555 123 4567").as_deref(),
            Some("5551234567")
        );
        assert_eq!(
            answer(Builtin::EmailAddress, "jo at example dot com").as_deref(),
            Some("jo@example.com")
        );
        assert_eq!(answer(Builtin::Confirmation, "yep").as_deref(), Some("Yes"));
        assert_eq!(
            answer(Builtin::FirstName, "I'm Maria").as_deref(),
            Some("Maria")
        );
        assert_eq!(
            answer(Builtin::FreeFormInput, " anything at all ").as_deref(),
            Some("anything at all")
        );
        assert_eq!(Builtin::from_signature("AMAZON.Date"), Some(Builtin::Date));
        assert_eq!(Builtin::from_signature("AMAZON.Nope"), None);
    }
}
