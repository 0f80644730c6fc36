//! AMAZON.Date: dates said the ways people say them, resolved against "today" (from the
//! injected clock) to ISO `YYYY-MM-DD`.
//!
//! Covered: today / tomorrow / yesterday / the day after tomorrow; weekdays with this, next,
//! coming, on, last; "in two weeks", "three days from now", "a month from today"; month-day
//! forms with or without a year ("January 1, 1980", "1st of January", "December first",
//! "April 15th", "15 April 2024"); numeric US forms ("4/15/23", "2024-01-02"); "the 15th".
//! A date without a year that has already passed this year rolls forward to next year, as
//! Lex does for future-oriented slots.
//!
//! Hand-written rather than the `two_timer` crate: measured in `../shared/models.md`, it misses
//! "in two weeks" and puts bare dates in the past, and it would add chrono and pidgin to the
//! build for a few hundred lines of grammar.

use super::numbers::{numeral, ordinal, parse_number};
use crate::domain::text::Token;
use time::{Date, Duration, Month, Weekday};

/// A date found in a token list: tokens `start..end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateSpan {
    pub start: usize,
    pub end: usize,
    pub date: Date,
}

/// ISO form, `2024-01-02`.
pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Dates in `tokens`, longest match first from the left, not overlapping.
pub fn find_dates(tokens: &[Token], today: Date) -> Vec<DateSpan> {
    let words: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match match_at(&words[i..], today) {
            Some((len, date)) => {
                out.push(DateSpan {
                    start: i,
                    end: i + len,
                    date,
                });
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

/// The date that `words` say in full, if they say exactly one.
pub fn parse_date(words: &[&str], today: Date) -> Option<Date> {
    // Allow a leading "on"/"for"/"the" and filler around the date.
    for skip in 0..words.len().min(3) {
        if let Some((len, d)) = match_at(&words[skip..], today) {
            if skip + len == words.len() {
                return Some(d);
            }
        }
        if !matches!(
            words[skip],
            "on" | "for"
                | "by"
                | "it's"
                | "its"
                | "is"
                | "it"
                | "date"
                | "the"
                | "was"
                | "born"
                | "i"
                | "i'm"
                | "say"
        ) {
            break;
        }
    }
    None
}

fn month_word(w: &str) -> Option<Month> {
    Some(match w {
        "january" | "jan" => Month::January,
        "february" | "feb" => Month::February,
        "march" | "mar" => Month::March,
        "april" | "apr" => Month::April,
        "may" => Month::May,
        "june" | "jun" => Month::June,
        "july" | "jul" => Month::July,
        "august" | "aug" => Month::August,
        "september" | "sep" | "sept" => Month::September,
        "october" | "oct" => Month::October,
        "november" | "nov" => Month::November,
        "december" | "dec" => Month::December,
        _ => return None,
    })
}

fn weekday_word(w: &str) -> Option<Weekday> {
    Some(match w {
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" | "tues" => Weekday::Tuesday,
        "wednesday" | "wed" => Weekday::Wednesday,
        "thursday" | "thu" | "thurs" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// Longest date at the start of `w`: (words used, date).
fn match_at(w: &[&str], today: Date) -> Option<(usize, Date)> {
    let first = *w.first()?;
    // Relative days.
    let rel = |n: i64| today.checked_add(Duration::days(n));
    match first {
        "today" | "tonight" => return rel(0).map(|d| (1, d)),
        "tomorrow" | "tmrw" | "tomorrow's" => return rel(1).map(|d| (1, d)),
        "yesterday" => return rel(-1).map(|d| (1, d)),
        _ => {}
    }
    let lead = usize::from(first == "the");
    if w.get(lead..lead + 3) == Some(&["day", "after", "tomorrow"][..]) {
        return rel(2).map(|d| (lead + 3, d));
    }
    if w.get(lead..lead + 3) == Some(&["day", "before", "yesterday"][..]) {
        return rel(-2).map(|d| (lead + 3, d));
    }
    // Weekdays.
    let (modifier, wd_at) = match first {
        "this" | "next" | "coming" | "on" | "last" | "past" | "previous" => (Some(first), 1),
        _ => (None, 0),
    };
    let wd_at = if modifier.is_some() && w.get(1) == Some(&"coming") {
        2
    } else {
        wd_at
    };
    if let Some(wd) = w.get(wd_at).and_then(|x| weekday_word(x)) {
        let back = matches!(modifier, Some("last" | "past" | "previous"));
        let mut d = today;
        for _ in 0..7 {
            d = if back {
                d.previous_day()?
            } else {
                d.next_day()?
            };
            if d.weekday() == wd {
                break;
            }
        }
        if modifier == Some("this") && today.weekday() == wd {
            d = today;
        }
        return Some((wd_at + 1, d));
    }
    // "in two weeks", "three days from now", "a week from today".
    if let Some(x) = relative_amount(w, today) {
        return Some(x);
    }
    // Numeric forms.
    if let Some(d) = numeric_date(first, today) {
        return Some((1, d));
    }
    // Month-day forms.
    month_day(w, today)
}

fn unit_days(unit: &str) -> Option<(i64, &'static str)> {
    Some(match unit {
        "day" | "days" => (1, "d"),
        "week" | "weeks" => (7, "d"),
        "fortnight" | "fortnights" => (14, "d"),
        "month" | "months" => (1, "m"),
        "year" | "years" => (12, "m"),
        _ => return None,
    })
}

fn add_months(d: Date, months: i64) -> Option<Date> {
    let total = d.year() as i64 * 12 + (d.month() as i64 - 1) + months;
    let (y, m) = (
        total.div_euclid(12) as i32,
        (total.rem_euclid(12) + 1) as u8,
    );
    let month = Month::try_from(m).ok()?;
    let last = month.length(y);
    Date::from_calendar_date(y, month, d.day().min(last)).ok()
}

fn relative_amount(w: &[&str], today: Date) -> Option<(usize, Date)> {
    let (start, forward_marker) = if w.first() == Some(&"in") {
        (1, true)
    } else {
        (0, false)
    };
    // The amount: "a", "an", "a couple of", or a number of up to 3 words.
    let mut amount = None;
    let mut used = 0;
    if matches!(w.get(start), Some(&"a") | Some(&"an") | Some(&"one"))
        && w.get(start + 1).and_then(|u| unit_days(u)).is_some()
    {
        amount = Some(1);
        used = 1;
    } else if w.get(start..start + 3) == Some(&["a", "couple", "of"][..]) {
        amount = Some(2);
        used = 3;
    } else {
        for len in (1..=3).rev() {
            if let Some(ws) = w.get(start..start + len) {
                if let Some(n) = parse_number(ws).and_then(|n| n.value.parse::<i64>().ok()) {
                    amount = Some(n);
                    used = len;
                    break;
                }
            }
        }
    }
    let amount = amount.filter(|a| (0..=1000).contains(a))?;
    let (mult, kind) = unit_days(w.get(start + used)?)?;
    let mut len = start + used + 1;
    let ago = w.get(len) == Some(&"ago");
    let from_now = matches!(
        w.get(len..len + 2),
        Some(&["from", "now"]) | Some(&["from", "today"])
    );
    if !forward_marker && !ago && !from_now {
        return None;
    }
    if ago {
        len += 1;
    } else if from_now {
        len += 2;
    }
    let sign = if ago { -1 } else { 1 };
    let d = match kind {
        "d" => today.checked_add(Duration::days(sign * amount * mult))?,
        _ => add_months(today, sign * amount * mult)?,
    };
    Some((len, d))
}

/// "4/15/23", "04/15/2023", "2024-01-02", "4-15-2023" (US month-first).
fn numeric_date(w: &str, today: Date) -> Option<Date> {
    let sep = if w.contains('/') {
        '/'
    } else if w.contains('-') {
        '-'
    } else {
        return None;
    };
    let parts: Vec<&str> = w.split(sep).collect();
    if !parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let num = |s: &str| s.parse::<i32>().ok();
    let (y, m, d) = match parts.as_slice() {
        [a, b, c] if a.len() == 4 => (num(a)?, num(b)?, num(c)?),
        [a, b, c] => {
            let y = num(c)?;
            let y = if c.len() <= 2 { 2000 + y } else { y };
            (y, num(a)?, num(b)?)
        }
        [a, b] if sep == '/' => {
            let (m, d) = (num(a)?, num(b)?);
            return future(
                today,
                Month::try_from(u8::try_from(m).ok()?).ok()?,
                u8::try_from(d).ok()?,
            );
        }
        _ => return None,
    };
    Date::from_calendar_date(
        y,
        Month::try_from(u8::try_from(m).ok()?).ok()?,
        u8::try_from(d).ok()?,
    )
    .ok()
}

/// The next `month`/`day` on or after today.
fn future(today: Date, month: Month, day: u8) -> Option<Date> {
    let this_year = Date::from_calendar_date(today.year(), month, day).ok();
    match this_year {
        Some(d) if d >= today => Some(d),
        _ => Date::from_calendar_date(today.year() + 1, month, day).ok(),
    }
}

/// A day of the month said as an ordinal or a number (1 or 2 words): (words, day).
fn day_of_month(w: &[&str]) -> Option<(usize, u8)> {
    for len in (1..=2).rev() {
        let Some(ws) = w.get(..len) else { continue };
        if let Some(d) = ordinal(ws) {
            if (1..=31).contains(&d) {
                return Some((len, d as u8));
            }
        }
        if let Some(n) = parse_number(ws)
            .filter(|n| !n.digit_run)
            .and_then(|n| n.value.parse::<u8>().ok())
        {
            if (1..=31).contains(&n) {
                return Some((len, n));
            }
        }
    }
    None
}

/// A year of 1 to 4 words ("1980", "nineteen eighty", "two thousand and five"): (words, year).
fn year(w: &[&str]) -> Option<(usize, i32)> {
    if let Some(v) = w.first().and_then(|x| numeral(x)) {
        let y: i32 = v.parse().ok()?;
        return (1000..=2999).contains(&y).then_some((1, y));
    }
    for len in (1..=4).rev() {
        let Some(ws) = w.get(..len) else { continue };
        if let Some(y) = parse_number(ws).and_then(|n| n.value.parse::<i32>().ok()) {
            if (1000..=2999).contains(&y) {
                return Some((len, y));
            }
        }
    }
    None
}

fn month_day(w: &[&str], today: Date) -> Option<(usize, Date)> {
    let mut i = 0;
    if w.first() == Some(&"the") {
        i = 1;
    }
    let with_year = |used: usize, month: Month, day: u8| -> Option<(usize, Date)> {
        let mut k = used;
        if w.get(k) == Some(&"of") && w.get(k + 1).and_then(|x| year(&[x])).is_some() {
            k += 1;
        }
        match year(&w[k.min(w.len())..]) {
            Some((ylen, y)) => Date::from_calendar_date(y, month, day)
                .ok()
                .map(|d| (k + ylen, d)),
            None => future(today, month, day).map(|d| (used, d)),
        }
    };
    // "January 1st [1980]", "December first", "jan 15".
    if let Some(m) = w.get(i).and_then(|x| month_word(x)) {
        let j = i + 1 + usize::from(w.get(i + 1) == Some(&"the"));
        if let Some((dlen, d)) = w.get(j..).and_then(day_of_month) {
            return with_year(j + dlen, m, d);
        }
        return None;
    }
    // "1st of January [1980]", "15 April 2024", "the fifteenth of may".
    if let Some((dlen, d)) = w.get(i..).and_then(day_of_month) {
        let k = i + dlen + usize::from(w.get(i + dlen) == Some(&"of"));
        if let Some(m) = w.get(k).and_then(|x| month_word(x)) {
            return with_year(k + 1, m, d);
        }
        // "the 15th": the next 15th.
        if i == 1 && ordinal(&w[1..1 + dlen]).is_some() {
            let mut probe = today;
            for _ in 0..2 {
                if let Ok(dd) = Date::from_calendar_date(probe.year(), probe.month(), d) {
                    if dd >= today {
                        return Some((1 + dlen, dd));
                    }
                }
                probe = add_months(
                    Date::from_calendar_date(probe.year(), probe.month(), 1).ok()?,
                    1,
                )?;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tokenize;
    use time::macros::date;

    // A Wednesday.
    const TODAY: Date = date!(2024 - 03 - 13);

    fn p(s: &str) -> Option<String> {
        let t = tokenize(s);
        let w: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        parse_date(&w, TODAY).map(iso)
    }

    #[test]
    fn relative_dates() {
        assert_eq!(p("today").as_deref(), Some("2024-03-13"));
        assert_eq!(p("tomorrow").as_deref(), Some("2024-03-14"));
        assert_eq!(p("the day after tomorrow").as_deref(), Some("2024-03-15"));
        assert_eq!(p("next Tuesday").as_deref(), Some("2024-03-19"));
        assert_eq!(p("on friday").as_deref(), Some("2024-03-15"));
        assert_eq!(p("this wednesday").as_deref(), Some("2024-03-13"));
        assert_eq!(p("last monday").as_deref(), Some("2024-03-11"));
        assert_eq!(p("in two weeks").as_deref(), Some("2024-03-27"));
        assert_eq!(p("three days from now").as_deref(), Some("2024-03-16"));
        assert_eq!(p("in a month").as_deref(), Some("2024-04-13"));
        assert_eq!(p("two days ago").as_deref(), Some("2024-03-11"));
    }

    #[test]
    fn calendar_dates() {
        assert_eq!(p("January 1, 1980").as_deref(), Some("1980-01-01"));
        assert_eq!(
            p("january first nineteen eighty").as_deref(),
            Some("1980-01-01")
        );
        assert_eq!(p("1st of January 1980").as_deref(), Some("1980-01-01"));
        assert_eq!(p("December first").as_deref(), Some("2024-12-01"));
        assert_eq!(p("April 15th").as_deref(), Some("2024-04-15"));
        assert_eq!(
            p("on March 1st").as_deref(),
            Some("2025-03-01"),
            "past dates roll forward"
        );
        assert_eq!(p("15 April 2024").as_deref(), Some("2024-04-15"));
        assert_eq!(p("the fifteenth of may").as_deref(), Some("2024-05-15"));
        assert_eq!(p("4/15/23").as_deref(), Some("2023-04-15"));
        assert_eq!(p("2024-01-02").as_deref(), Some("2024-01-02"));
        assert_eq!(p("the 20th").as_deref(), Some("2024-03-20"));
        assert_eq!(p("February 30"), None);
        assert_eq!(p("banana"), None);
    }

    #[test]
    fn dates_inside_sentences() {
        let t = tokenize("book a cleaning appointment tomorrow and another on April 15th please");
        let f = find_dates(&t, TODAY);
        assert_eq!(
            f.iter().map(|s| iso(s.date)).collect::<Vec<_>>(),
            ["2024-03-14", "2024-04-15"]
        );
        assert_eq!((f[1].start, f[1].end), (8, 10));
    }
}
