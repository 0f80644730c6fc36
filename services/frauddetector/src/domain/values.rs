//! Variable data types, typed values of event variables, and the timestamp formats the API and
//! the training / import files use.

use super::rules::Value;
use std::borrow::Cow;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Where feature and aggregate code reads an event's variable values.
pub trait Variables {
    /// The value of `name`, if the event has one.
    fn get(&self, name: &str) -> Option<&str>;
}

impl Variables for std::collections::BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        std::collections::BTreeMap::get(self, name).map(String::as_str)
    }
}

impl Variables for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        std::collections::HashMap::get(self, name).map(String::as_str)
    }
}

/// A variable's `dataType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataType {
    String,
    Integer,
    Float,
    Boolean,
    Datetime,
}

impl DataType {
    /// Parse the wire spelling.
    pub fn parse(s: &str) -> Option<DataType> {
        Some(match s {
            "STRING" => DataType::String,
            "INTEGER" => DataType::Integer,
            "FLOAT" => DataType::Float,
            "BOOLEAN" => DataType::Boolean,
            "DATETIME" => DataType::Datetime,
            _ => return None,
        })
    }
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::String => "STRING",
            DataType::Integer => "INTEGER",
            DataType::Float => "FLOAT",
            DataType::Boolean => "BOOLEAN",
            DataType::Datetime => "DATETIME",
        }
    }
    /// The rule-language type of values of this data type.
    pub fn rule_type(self) -> super::rules::Ty {
        match self {
            DataType::Integer | DataType::Float => super::rules::Ty::Num,
            DataType::Boolean => super::rules::Ty::Bool,
            DataType::String | DataType::Datetime => super::rules::Ty::Str,
        }
    }
}

/// `raw` read as a value of `dt`; `Err` says why it is not one.
pub fn typed_value(dt: DataType, raw: &str) -> Result<Value<'_>, String> {
    let t = raw.trim();
    match dt {
        DataType::String => Ok(Value::Str(Cow::Borrowed(raw))),
        DataType::Datetime => {
            parse_timestamp(t).ok_or_else(|| format!("'{raw}' is not an ISO 8601 timestamp"))?;
            Ok(Value::Str(Cow::Borrowed(raw)))
        }
        DataType::Integer => t.parse::<i64>().map(|v| Value::Num(v as f64)).map_err(|_| format!("'{raw}' is not an integer")),
        DataType::Float => match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Value::Num(v)),
            _ => Err(format!("'{raw}' is not a number")),
        },
        DataType::Boolean => match t.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("'{raw}' is not true or false")),
        },
    }
}

/// A timestamp as the API takes it: ISO 8601 (`2021-11-09T22:56:43Z`, with or without a
/// fraction or an offset; no offset means UTC).
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t);
    }
    PrimitiveDateTime::parse(s, &Iso8601::DEFAULT).ok().map(|p| p.assume_utc())
}

/// A timestamp of a training or import file. Besides ISO 8601, AWS accepts
/// `yyyy/mm/dd hh:mm:ss`, `mm/dd/yyyy hh:mm:ss` and `mm/dd/yy hh:mm:ss`, with one- or
/// two-digit months, days and hours, an optional `AM`/`PM`, and the time (or its seconds)
/// left out.
pub fn parse_file_timestamp(s: &str) -> Option<OffsetDateTime> {
    if let Some(t) = parse_timestamp(s) {
        return Some(t);
    }
    let s = s.trim();
    let (date_part, rest) = match s.split_once(' ') {
        Some((d, r)) => (d, r.trim()),
        None => (s, ""),
    };
    let fields: Vec<&str> = date_part.split('/').collect();
    if fields.len() != 3 {
        return None;
    }
    let num = |x: &str| -> Option<i32> { (!x.is_empty() && x.len() <= 4 && x.bytes().all(|b| b.is_ascii_digit())).then(|| x.parse().ok()).flatten() };
    let (y, m, d) = if fields[0].len() == 4 {
        (num(fields[0])?, num(fields[1])?, num(fields[2])?)
    } else {
        let y = num(fields[2])?;
        let y = if fields[2].len() == 2 { 2000 + y } else if fields[2].len() == 4 { y } else { return None };
        (y, num(fields[0])?, num(fields[1])?)
    };
    let date = Date::from_calendar_date(y, Month::try_from(u8::try_from(m).ok()?).ok()?, u8::try_from(d).ok()?).ok()?;
    let time = if rest.is_empty() {
        Time::MIDNIGHT
    } else {
        let (clock, ampm) = match rest.rsplit_once(' ') {
            Some((c, a)) if a.eq_ignore_ascii_case("am") || a.eq_ignore_ascii_case("pm") => (c.trim(), Some(a.to_ascii_lowercase())),
            _ => (rest, None),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        let mut h = num(parts[0])?;
        let mi = parts.get(1).map(|p| num(p)).unwrap_or(Some(0))?;
        let sec = parts.get(2).map(|p| num(p)).unwrap_or(Some(0))?;
        match ampm.as_deref() {
            Some("pm") if h < 12 => h += 12,
            Some("am") if h == 12 => h = 0,
            _ => {}
        }
        Time::from_hms(u8::try_from(h).ok()?, u8::try_from(mi).ok()?, u8::try_from(sec).ok()?).ok()?
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(UtcOffset::UTC))
}

/// Milliseconds since the epoch.
pub fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// An ISO 8601 UTC timestamp as AWS writes them (`2021-11-09T22:56:43.622Z`).
pub fn iso(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// [`iso`] of a millisecond timestamp.
pub fn iso_millis(ms: i64) -> String {
    iso(OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_timestamps() {
        for s in ["2021-11-09T22:56:43Z", "2021-11-09T22:56:43.62265Z", "2021-11-09T22:56:43.62265", "2021-11-09T23:56:43+01:00"] {
            let t = parse_timestamp(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(iso(t).get(..19), Some("2021-11-09T22:56:43"), "{s}");
        }
        assert!(parse_timestamp("yesterday").is_none());
        assert!(parse_timestamp("2021-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn file_timestamps_in_every_documented_format() {
        let want = "2019-11-30T13:01:01";
        for s in ["2019-11-30T13:01:01Z", "2019/11/30 1:01:01 PM", "2019/11/30 13:01:01", "11/30/2019 1:01:01 PM", "11/30/2019 13:01:01", "11/30/19 1:01:01 PM", "11/30/19 13:01:01"] {
            let t = parse_file_timestamp(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(&iso(t)[..19], want, "{s}");
        }
        assert_eq!(&iso(parse_file_timestamp("1/12/2019").unwrap())[..19], "2019-01-12T00:00:00");
        assert_eq!(&iso(parse_file_timestamp("4/10/2019 11:05").unwrap())[..19], "2019-04-10T11:05:00");
        assert_eq!(&iso(parse_file_timestamp("12/1/2019 12:30 AM").unwrap())[..19], "2019-12-01T00:30:00");
        assert!(parse_file_timestamp("13/45/2019").is_none());
        assert!(parse_file_timestamp("2019/11/30 25:00").is_none());
    }

    #[test]
    fn typed_values() {
        assert_eq!(typed_value(DataType::Float, " 12.5 ").unwrap(), Value::Num(12.5));
        assert_eq!(typed_value(DataType::Integer, "7").unwrap(), Value::Num(7.0));
        assert!(typed_value(DataType::Integer, "7.5").is_err());
        assert!(typed_value(DataType::Float, "NaN").is_err());
        assert_eq!(typed_value(DataType::Boolean, "TRUE").unwrap(), Value::Bool(true));
        assert!(typed_value(DataType::Boolean, "yes").is_err());
        assert!(typed_value(DataType::Datetime, "2021-01-01T00:00:00Z").is_ok());
    }
}
