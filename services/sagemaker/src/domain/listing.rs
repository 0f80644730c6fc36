//! The List* operations' shared behaviour: `NameContains` (case-insensitive), creation and
//! modification time windows, `StatusEquals`, `SortBy`/`SortOrder` (default: newest first),
//! `MaxResults` (1–100, default 10) and an opaque `NextToken`.

use super::validate::Violations;
use crate::error::SageMakerError;
use hearth_protocol::types::Timestamp;

/// A listable resource.
pub trait Listed {
    /// Its name.
    fn name(&self) -> &str;
    /// When it was created.
    fn created(&self) -> Timestamp;
    /// When it last changed (if it has such a time).
    fn modified(&self) -> Option<Timestamp> {
        None
    }
    /// Its status (if it has one).
    fn status(&self) -> Option<&str> {
        None
    }
}

/// The filters and paging of one List call.
#[derive(Debug, Default, Clone)]
pub struct ListParams {
    pub name_contains: Option<String>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    pub modified_after: Option<Timestamp>,
    pub modified_before: Option<Timestamp>,
    pub status_equals: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub max_results: Option<i32>,
    pub next_token: Option<String>,
}

/// Filter, sort and page `items`; returns one page and the token of the next.
pub fn page<T: Listed>(mut items: Vec<T>, p: &ListParams, sort_keys: &[&str]) -> Result<(Vec<T>, Option<String>), SageMakerError> {
    let mut v = Violations::new();
    if let Some(m) = p.max_results {
        v.int_range("maxResults", m as i64, Some(1), Some(100));
    }
    if let Some(s) = &p.sort_by {
        v.one_of("sortBy", s, sort_keys);
    }
    if let Some(o) = &p.sort_order {
        v.one_of("sortOrder", o, &["Ascending", "Descending"]);
    }
    v.finish()?;
    let start: usize = match &p.next_token {
        None => 0,
        Some(t) => decode_token(t).ok_or_else(|| SageMakerError::validation("Invalid pagination token."))?,
    };
    let needle = p.name_contains.as_ref().map(|n| n.to_ascii_lowercase());
    items.retain(|it| {
        needle.as_ref().is_none_or(|n| it.name().to_ascii_lowercase().contains(n.as_str()))
            && p.created_after.is_none_or(|t| it.created() > t)
            && p.created_before.is_none_or(|t| it.created() < t)
            && p.modified_after.is_none_or(|t| it.modified().is_some_and(|m| m > t))
            && p.modified_before.is_none_or(|t| it.modified().is_some_and(|m| m < t))
            && p.status_equals.as_ref().is_none_or(|s| it.status() == Some(s.as_str()))
    });
    let by = p.sort_by.as_deref().unwrap_or("CreationTime");
    items.sort_by(|a, b| {
        let o = match by {
            "Name" => a.name().cmp(b.name()),
            "Status" => a.status().cmp(&b.status()).then_with(|| a.created().cmp(&b.created())),
            _ => a.created().cmp(&b.created()).then_with(|| a.name().cmp(b.name())),
        };
        if p.sort_order.as_deref() == Some("Ascending") {
            o
        } else {
            o.reverse()
        }
    });
    let max = p.max_results.unwrap_or(10).clamp(1, 100) as usize;
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let next = (start + page.len() < total).then(|| encode_token(start + page.len()));
    Ok((page, next))
}

fn encode_token(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("hearth-page:{offset}"))
}

fn decode_token(t: &str) -> Option<usize> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("hearth-page:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct It(&'static str, i64);
    impl Listed for It {
        fn name(&self) -> &str {
            self.0
        }
        fn created(&self) -> Timestamp {
            Timestamp::from_epoch_seconds(self.1 as f64).unwrap()
        }
    }

    #[test]
    fn filters_sorts_pages() {
        let items = || vec![It("alpha", 1), It("beta", 2), It("Gamma", 3), It("delta", 4)];
        let (p, next) = page(items(), &ListParams { max_results: Some(2), ..Default::default() }, &["Name", "CreationTime"]).unwrap();
        assert_eq!(p.iter().map(|i| i.0).collect::<Vec<_>>(), vec!["delta", "Gamma"]);
        let (p2, next2) = page(items(), &ListParams { max_results: Some(2), next_token: next, ..Default::default() }, &["Name", "CreationTime"]).unwrap();
        assert_eq!(p2.iter().map(|i| i.0).collect::<Vec<_>>(), vec!["beta", "alpha"]);
        assert!(next2.is_none());
        let (p, _) = page(items(), &ListParams { name_contains: Some("GA".into()), sort_by: Some("Name".into()), sort_order: Some("Ascending".into()), ..Default::default() }, &["Name"]).unwrap();
        assert_eq!(p.iter().map(|i| i.0).collect::<Vec<_>>(), vec!["Gamma"]);
        assert!(page(items(), &ListParams { max_results: Some(0), ..Default::default() }, &["Name"]).is_err());
        assert!(page(items(), &ListParams { next_token: Some("!!".into()), ..Default::default() }, &["Name"]).is_err());
        assert!(page(items(), &ListParams { sort_by: Some("Size".into()), ..Default::default() }, &["Name"]).is_err());
    }
}
