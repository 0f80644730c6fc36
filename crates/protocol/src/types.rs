//! Scalar types used by the generated API types.
//!
//! In the canonical `serde_json::Value` the codecs exchange with generated types, a timestamp is a
//! number of seconds since the Unix epoch and a blob is a base64 string. That is also the JSON
//! protocols' wire form, so awsJson bodies need no translation; the XML, query and header codecs
//! convert to and from their own text forms using the schema.

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time (UTC), millisecond precision on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp(OffsetDateTime::UNIX_EPOCH)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        Timestamp(t)
    }
}

impl Timestamp {
    pub fn epoch_seconds(&self) -> f64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as f64 / 1000.0
    }
    pub fn from_epoch_seconds(s: f64) -> Option<Self> {
        // Beyond ±1e15 s (far outside `time`'s years ±9999) the nanosecond product would overflow.
        if !s.is_finite() || s.abs() > 1e15 {
            return None;
        }
        OffsetDateTime::from_unix_timestamp_nanos((s * 1000.0).round() as i128 * 1_000_000).ok().map(Timestamp)
    }
    /// `2009-10-12T17:50:30.000Z` (what S3 and the query protocol write).
    pub fn to_iso8601(&self) -> String {
        let t = self.0.to_offset(time::UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
    /// `Wed, 21 Oct 2015 07:28:00 GMT` (HTTP date, used in headers).
    pub fn to_http_date(&self) -> String {
        let t = self.0.to_offset(time::UtcOffset::UTC);
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            DAYS[t.weekday().number_days_from_monday() as usize],
            t.day(),
            MONTHS[t.month() as usize - 1],
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
    /// Parse ISO 8601 / RFC 3339, an HTTP date or epoch seconds.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
            return Some(Timestamp(t));
        }
        if let Ok(t) = httpdate::parse_http_date(s) {
            return Some(Timestamp(OffsetDateTime::from(t)));
        }
        if let Ok(n) = s.parse::<f64>() {
            return Timestamp::from_epoch_seconds(n);
        }
        // ISO 8601 basic form used by SigV4 (20150830T123600Z).
        let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        time::PrimitiveDateTime::parse(s, &fmt).ok().map(|p| Timestamp(p.assume_utc()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let secs = self.epoch_seconds();
        if secs.fract() == 0.0 {
            s.serialize_i64(secs as i64)
        } else {
            s.serialize_f64(secs)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        let parsed = match Raw::deserialize(d)? {
            Raw::Num(n) => Timestamp::from_epoch_seconds(n),
            Raw::Text(t) => Timestamp::parse(&t),
        };
        parsed.ok_or_else(|| serde::de::Error::custom("invalid timestamp"))
    }
}

/// Binary data; base64 in the canonical value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(s.as_bytes()).map(Blob).map_err(|_| serde::de::Error::custom("invalid base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_forms_round_trip() {
        let t = Timestamp::parse("2015-10-21T07:28:00.123Z").unwrap();
        assert_eq!(t.to_iso8601(), "2015-10-21T07:28:00.123Z");
        assert_eq!(t.to_http_date(), "Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(Timestamp::parse("Wed, 21 Oct 2015 07:28:00 GMT").unwrap().to_iso8601(), "2015-10-21T07:28:00.000Z");
        assert_eq!(Timestamp::parse("1445412480.123").unwrap(), t);
        assert_eq!(serde_json::to_string(&t).unwrap(), "1445412480.123");
        assert_eq!(Timestamp::parse("20151021T072800Z").unwrap().to_iso8601(), "2015-10-21T07:28:00.000Z");
        assert_eq!(Timestamp::from_epoch_seconds(1e300), None);
        assert_eq!(Timestamp::parse("-1e300"), None);
    }

    #[test]
    fn blob_is_base64() {
        let b = Blob(b"hello".to_vec());
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"aGVsbG8=\"");
        assert_eq!(serde_json::from_str::<Blob>("\"aGVsbG8=\"").unwrap(), b);
    }
}
