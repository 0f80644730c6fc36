//! Request handlers, one file per resource family: transcription jobs, custom vocabularies,
//! vocabulary filters, custom language models. Each validates, calls the domain, persists and
//! builds the generated output type. Shared here: time conversion and list pagination.

pub mod filters;
pub mod jobs;
pub mod language_models;
pub mod vocabularies;

use base64::Engine;
use hearth_protocol::types::Timestamp;

use crate::error::TranscribeError;

/// Milliseconds → API timestamp.
pub fn ts(ms: i64) -> Timestamp {
    Timestamp(time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH))
}

/// Now on the runtime clock, in milliseconds.
pub fn now_ms(inner: &crate::Inner) -> i64 {
    (inner.rt.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
}

/// One page of `items` (already filtered and ordered): `max` (default `default_max`, 1..=100)
/// items after the position `token` encodes; returns the page and the next token.
pub fn page<T: Clone>(items: &[T], max: Option<i32>, token: Option<&str>, default_max: usize) -> Result<(Vec<T>, Option<String>), TranscribeError> {
    let max = match max {
        None => default_max,
        Some(m) if (1..=100).contains(&m) => m as usize,
        Some(m) => return Err(TranscribeError::validation(&m.to_string(), "maxResults", "Member must have value less than or equal to 100")),
    };
    let start = match token {
        None | Some("") => 0,
        Some(t) => base64::engine::general_purpose::STANDARD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("page:").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(|| TranscribeError::BadRequest("The NextToken you provided is invalid. Check the token and try your request again.".into()))?,
    };
    let end = (start + max).min(items.len());
    let slice = items.get(start..end).unwrap_or(&[]).to_vec();
    let next = (end < items.len()).then(|| base64::engine::general_purpose::STANDARD.encode(format!("page:{end}")));
    Ok((slice, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_the_list() {
        let items: Vec<u32> = (0..12).collect();
        let (a, t) = page(&items, None, None, 5).unwrap();
        assert_eq!(a, vec![0, 1, 2, 3, 4]);
        let (b, t) = page(&items, Some(5), t.as_deref(), 5).unwrap();
        assert_eq!(b, vec![5, 6, 7, 8, 9]);
        let (c, t) = page(&items, Some(5), t.as_deref(), 5).unwrap();
        assert_eq!(c, vec![10, 11]);
        assert!(t.is_none());
        assert!(page(&items, Some(0), None, 5).is_err());
        assert!(page(&items, None, Some("garbage"), 5).is_err());
    }
}
