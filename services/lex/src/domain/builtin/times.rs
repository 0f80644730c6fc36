//! AMAZON.Time: "3 pm", "3:30pm", "15:30", "noon", "half past three", "quarter to four",
//! "seven oh five in the evening", "10 o'clock" → 24-hour `HH:MM`.
//!
//! In a sentence ([`find_times`]) a bare number is a time only with a marker (am/pm, o'clock,
//! a colon, "at"); as the answer to a time prompt ([`parse_time`]) "three thirty" and "3" are
//! times too.

use super::numbers::parse_number;
use crate::domain::text::Token;

/// A time found in a token list: tokens `start..end`, as (hour 0-23, minute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeSpan {
    pub start: usize,
    pub end: usize,
    pub hour: u8,
    pub minute: u8,
}

/// `HH:MM`.
pub fn hhmm(hour: u8, minute: u8) -> String {
    format!("{hour:02}:{minute:02}")
}

/// Times in `tokens` (with a marker), longest first from the left.
pub fn find_times(tokens: &[Token]) -> Vec<TimeSpan> {
    let words: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match match_at(&words[i..], false) {
            Some((len, h, m)) => {
                out.push(TimeSpan {
                    start: i,
                    end: i + len,
                    hour: h,
                    minute: m,
                });
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

/// The time `words` say, when they are a time (an answer to "what time?").
pub fn parse_time(words: &[&str]) -> Option<(u8, u8)> {
    for skip in 0..words.len().min(3) {
        if let Some((len, h, m)) = match_at(&words[skip..], true) {
            if skip + len == words.len() {
                return Some((h, m));
            }
        }
        if !matches!(
            words[skip],
            "at" | "around" | "about" | "by" | "it's" | "its" | "for" | "make" | "it" | "say"
        ) {
            break;
        }
    }
    None
}

/// "am"/"pm" markers, in one word or two ("p m").
fn meridiem(w: &[&str]) -> Option<(usize, bool)> {
    match w.first().copied()? {
        "am" | "a.m" => Some((1, false)),
        "pm" | "p.m" => Some((1, true)),
        "a" | "p" if w.get(1) == Some(&"m") => Some((2, w[0] == "p")),
        _ => None,
    }
}

/// "in the morning" (false) / "in the afternoon|evening", "at night", "tonight" (true).
fn day_part(w: &[&str]) -> Option<(usize, bool)> {
    match w {
        ["in", "the", "morning", ..] => Some((3, false)),
        ["in", "the", "afternoon" | "evening", ..] => Some((3, true)),
        ["at", "night", ..] => Some((2, true)),
        ["tonight", ..] => Some((1, true)),
        _ => None,
    }
}

fn small_number(w: &[&str], max: u32) -> Option<u32> {
    let n = parse_number(w)?;
    if n.digit_run {
        return None;
    }
    n.value.parse::<u32>().ok().filter(|v| *v <= max)
}

fn apply(hour: u32, minute: u32, pm: Option<bool>) -> Option<(u8, u8)> {
    if minute > 59 {
        return None;
    }
    let h = match pm {
        Some(true) if (1..=11).contains(&hour) => hour + 12,
        Some(false) if hour == 12 => 0,
        Some(_) if hour == 0 || hour > 12 => return None,
        _ if hour > 23 => return None,
        _ => hour,
    };
    Some((h as u8, minute as u8))
}

/// Longest time at the start of `w`: (words, hour, minute). `bare` admits times without a marker.
fn match_at(w: &[&str], bare: bool) -> Option<(usize, u8, u8)> {
    let (lead, w) = if w.first() == Some(&"at") && w.len() > 1 {
        (1usize, &w[1..])
    } else {
        (0, w)
    };
    let marked = bare || lead == 1;
    let finish =
        |used: usize, hour: u32, minute: u32, explicit: Option<bool>| -> Option<(usize, u8, u8)> {
            let rest = &w[used.min(w.len())..];
            let (extra, pm) = match (explicit, meridiem(rest), day_part(rest)) {
                (Some(p), _, _) => (0, Some(p)),
                (None, Some((n, p)), _) => (n, Some(p)),
                (None, None, Some((n, p))) => (n, Some(p)),
                _ => (0, None),
            };
            let (h, m) = apply(hour, minute, pm)?;
            Some((lead + used + extra, h, m))
        };
    let first = *w.first()?;
    match first {
        "noon" | "midday" => return Some((lead + 1, 12, 0)),
        "midnight" => return Some((lead + 1, 0, 0)),
        _ => {}
    }
    // "10:30", "10:30pm", "3pm", "3am".
    if let Some(stripped) = first
        .strip_suffix("pm")
        .or_else(|| first.strip_suffix("am"))
    {
        let pm = first.ends_with("pm");
        if let Some((h, m)) = clock_digits(stripped) {
            return finish(1, h, m, Some(pm));
        }
    }
    if first.contains(':') {
        let (h, m) = clock_digits(first)?;
        return finish(1, h, m, None);
    }
    // "half past three", "quarter to four", "ten past nine", "twenty minutes to six".
    let offset = match first {
        "half" => Some((30, 1)),
        "quarter" => Some((15, 1)),
        "a" if w.get(1) == Some(&"quarter") => Some((15, 2)),
        _ => (1..=2).rev().find_map(|len| {
            let v = w.get(..len).and_then(|x| small_number(x, 59))?;
            Some((
                v,
                len + usize::from(matches!(w.get(len), Some(&"minutes") | Some(&"minute"))),
            ))
        }),
    };
    if let Some((mins, used)) = offset {
        if let Some(dir @ ("past" | "after" | "to" | "before" | "til")) = w.get(used).copied() {
            for len in (1..=2).rev() {
                if let Some(h) = w
                    .get(used + 1..used + 1 + len)
                    .and_then(|x| small_number(x, 12))
                    .filter(|h| *h >= 1)
                {
                    let (hour, minute) = if matches!(dir, "past" | "after") {
                        (h, mins)
                    } else {
                        (if h == 1 { 12 } else { h - 1 }, 60 - mins)
                    };
                    return finish(used + 1 + len, hour, minute % 60, None);
                }
            }
        }
    }
    // "3 pm", "ten o'clock", "seven oh five pm", "three thirty".
    for hlen in (1..=2).rev() {
        let Some(h) = w.get(..hlen).and_then(|x| small_number(x, 23)) else {
            continue;
        };
        let rest = &w[hlen..];
        if matches!(rest.first(), Some(&"o'clock") | Some(&"oclock")) {
            return finish(hlen + 1, h, 0, None);
        }
        // Minutes: "oh five", "thirty", "fifteen".
        let mut minute = None;
        if rest.first() == Some(&"oh") {
            if let Some(m) = rest.get(1..2).and_then(|x| small_number(x, 9)) {
                minute = Some((2, m));
            }
        } else {
            for mlen in (1..=2).rev() {
                if let Some(m) = rest.get(..mlen).and_then(|x| small_number(x, 59)) {
                    if m >= 10 {
                        minute = Some((mlen, m));
                        break;
                    }
                }
            }
        }
        if let Some((mlen, m)) = minute {
            if (marked || meridiem(&rest[mlen..]).is_some() || day_part(&rest[mlen..]).is_some())
                && (h <= 12 || meridiem(&rest[mlen..]).is_none())
            {
                return finish(hlen + mlen, h, m, None);
            }
        }
        if meridiem(rest).is_some() || day_part(rest).is_some() || marked {
            if let Some(x) = finish(hlen, h, 0, None) {
                if marked || x.0 > lead + hlen {
                    return Some(x);
                }
            }
        }
    }
    None
}

/// "10:30" / "7" / "1030" → (hour, minute).
fn clock_digits(s: &str) -> Option<(u32, u32)> {
    if let Some((h, m)) = s.split_once(':') {
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        return Some((h.parse().ok()?, m.parse().ok()?));
    }
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((s.parse().ok()?, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tokenize;

    fn p(s: &str) -> Option<String> {
        let t = tokenize(s);
        let w: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        parse_time(&w).map(|(h, m)| hhmm(h, m))
    }

    #[test]
    fn answers_to_a_time_prompt() {
        assert_eq!(p("3 pm").as_deref(), Some("15:00"));
        assert_eq!(p("3pm").as_deref(), Some("15:00"));
        assert_eq!(p("10:30").as_deref(), Some("10:30"));
        assert_eq!(p("10:30 p.m.").as_deref(), Some("22:30"));
        assert_eq!(p("at noon").as_deref(), Some("12:00"));
        assert_eq!(p("midnight").as_deref(), Some("00:00"));
        assert_eq!(p("half past three").as_deref(), Some("03:30"));
        assert_eq!(
            p("quarter to four in the afternoon").as_deref(),
            Some("15:45")
        );
        assert_eq!(p("seven oh five in the evening").as_deref(), Some("19:05"));
        assert_eq!(p("three thirty").as_deref(), Some("03:30"));
        assert_eq!(p("ten o'clock").as_deref(), Some("10:00"));
        assert_eq!(p("12 am").as_deref(), Some("00:00"));
        assert_eq!(p("15:30").as_deref(), Some("15:30"));
        assert_eq!(p("25:00"), None);
        assert_eq!(p("purple"), None);
    }

    #[test]
    fn times_in_sentences_need_a_marker() {
        let t = tokenize("I need 3 tables at 7 pm for 2 hours");
        let f = find_times(&t);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].hour, f[0].minute, f[0].start, f[0].end),
            (19, 0, 4, 7)
        );
    }
}
