//! Event files: the CSV files a model trains on (`EXTERNAL_EVENTS`) and a batch import reads.
//!
//! The first line holds the headers: event metadata in capitals (`EVENT_ID`,
//! `EVENT_TIMESTAMP`, `ENTITY_ID`, `ENTITY_TYPE`, `EVENT_LABEL`, `LABEL_TIMESTAMP`) and event
//! variables in lower case. Fields may be quoted and contain commas and quotes (RFC 4180).
//! A row that cannot be read is reported with its line number and skipped; a file whose
//! headers are wrong is refused as a whole.

use super::values::{iso, parse_file_timestamp, to_millis};
use std::collections::BTreeMap;

/// Event metadata headers.
pub const EVENT_ID: &str = "EVENT_ID";
pub const EVENT_TIMESTAMP: &str = "EVENT_TIMESTAMP";
pub const ENTITY_ID: &str = "ENTITY_ID";
pub const ENTITY_TYPE: &str = "ENTITY_TYPE";
pub const EVENT_LABEL: &str = "EVENT_LABEL";
pub const LABEL_TIMESTAMP: &str = "LABEL_TIMESTAMP";
const METADATA: [&str; 6] = [EVENT_ID, EVENT_TIMESTAMP, ENTITY_ID, ENTITY_TYPE, EVENT_LABEL, LABEL_TIMESTAMP];

/// One event of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// 1-based line number in the file.
    pub line: usize,
    pub event_id: Option<String>,
    /// `EVENT_TIMESTAMP` as milliseconds since the epoch.
    pub ts_ms: i64,
    /// `EVENT_TIMESTAMP` rewritten as ISO 8601 UTC.
    pub timestamp: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub label: Option<String>,
    /// `LABEL_TIMESTAMP` rewritten as ISO 8601 UTC.
    pub label_timestamp: Option<String>,
    /// Variable columns with a non-empty value.
    pub variables: BTreeMap<String, String>,
}

/// A parsed file.
#[derive(Debug, Clone, Default)]
pub struct EventFile {
    /// The variable columns, in file order.
    pub variable_columns: Vec<String>,
    /// Which metadata columns the file has.
    pub metadata_columns: Vec<String>,
    pub rows: Vec<EventRow>,
    /// Rows that could not be read: (line, reason).
    pub rejected: Vec<(usize, String)>,
}

fn empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parse an event file. `Err` is a problem with the file as a whole (its headers).
pub fn parse_event_file(bytes: &[u8]) -> Result<EventFile, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| format!("the file's header line cannot be read: {e}"))?.clone();
    if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
        return Err("the file is empty or has no header line".into());
    }
    let mut file = EventFile::default();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim();
        if !seen.insert(h.to_string()) {
            return Err(format!("the header '{h}' appears more than once"));
        }
        if METADATA.contains(&h) {
            index.insert(METADATA[METADATA.iter().position(|m| *m == h).unwrap_or(0)], i);
            file.metadata_columns.push(h.to_string());
        } else if !h.is_empty() && h.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            file.variable_columns.push(h.to_string());
        } else {
            return Err(format!(
                "the header '{h}' is neither event metadata (EVENT_ID, EVENT_TIMESTAMP, ENTITY_ID, ENTITY_TYPE, EVENT_LABEL, LABEL_TIMESTAMP) nor a variable name in lower case"
            ));
        }
    }
    if !index.contains_key(EVENT_TIMESTAMP) {
        return Err("the file has no EVENT_TIMESTAMP column".into());
    }
    let var_idx: Vec<(String, usize)> = headers.iter().enumerate().filter(|(_, h)| file.variable_columns.iter().any(|v| v == h.trim())).map(|(i, h)| (h.trim().to_string(), i)).collect();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                file.rejected.push((line, format!("the row cannot be read: {e}")));
                continue;
            }
        };
        if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != headers.len() {
            file.rejected.push((line, format!("the row has {} fields, the header {}", record.len(), headers.len())));
            continue;
        }
        let get = |name: &str| index.get(name).and_then(|&i| record.get(i)).and_then(empty);
        let Some(raw_ts) = get(EVENT_TIMESTAMP) else {
            file.rejected.push((line, "EVENT_TIMESTAMP is empty".into()));
            continue;
        };
        let Some(ts) = parse_file_timestamp(&raw_ts) else {
            file.rejected.push((line, format!("EVENT_TIMESTAMP '{raw_ts}' is not in a supported format")));
            continue;
        };
        let label_timestamp = match get(LABEL_TIMESTAMP) {
            None => None,
            Some(raw) => match parse_file_timestamp(&raw) {
                Some(t) => Some(iso(t)),
                None => {
                    file.rejected.push((line, format!("LABEL_TIMESTAMP '{raw}' is not in a supported format")));
                    continue;
                }
            },
        };
        let variables = var_idx.iter().filter_map(|(name, i)| record.get(*i).filter(|v| !v.trim().is_empty()).map(|v| (name.clone(), v.to_string()))).collect();
        file.rows.push(EventRow {
            line,
            event_id: get(EVENT_ID),
            ts_ms: to_millis(ts),
            timestamp: iso(ts),
            entity_type: get(ENTITY_TYPE),
            entity_id: get(ENTITY_ID),
            label: get(EVENT_LABEL),
            label_timestamp,
            variables,
        });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_sample_parses() {
        let csv = "EVENT_TIMESTAMP,EVENT_LABEL,ip_address,email_address\n4/10/2019 11:05,fraud,209.146.137.48,fake_burtonlinda@example.net\n12/20/2018 20:04,legit,203.0.112.189,\"fake,davidbutler@example.org\"\n";
        let f = parse_event_file(csv.as_bytes()).unwrap();
        assert_eq!(f.variable_columns, vec!["ip_address", "email_address"]);
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[0].label.as_deref(), Some("fraud"));
        assert_eq!(f.rows[0].timestamp, "2019-04-10T11:05:00.000Z");
        assert_eq!(f.rows[1].variables["email_address"], "fake,davidbutler@example.org");
        assert!(f.rejected.is_empty());
    }

    #[test]
    fn bad_rows_are_reported_and_bad_headers_refused() {
        let csv = "EVENT_ID,EVENT_TIMESTAMP,ENTITY_ID,ENTITY_TYPE,EVENT_LABEL,amt\ne1,2021-01-01T00:00:00Z,c1,customer,legit,5\ne2,not a date,c1,customer,legit,5\ne3,2021-01-01T00:00:00Z,c1\n\ne4,2021-01-02T00:00:00Z,c2,customer,,7\n";
        let f = parse_event_file(csv.as_bytes()).unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[1].label, None);
        assert_eq!(f.rejected.len(), 2);
        assert_eq!(f.rejected[0].0, 3);
        assert!(parse_event_file(b"EVENT_TIMESTAMP,Amount\n").unwrap_err().contains("'Amount'"));
        assert!(parse_event_file(b"amt,ip\n1,2\n").unwrap_err().contains("EVENT_TIMESTAMP"));
        assert!(parse_event_file(b"EVENT_TIMESTAMP,a,a\n").unwrap_err().contains("more than once"));
        assert!(parse_event_file(b"").is_err());
    }
}
