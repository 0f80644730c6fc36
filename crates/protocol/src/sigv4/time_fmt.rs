//! The two timestamp forms SigV4 meets: `X-Amz-Date` (`20130524T000000Z`, ISO 8601 basic) and
//! the HTTP `Date` header (`Fri, 24 May 2013 00:00:00 GMT`).

use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Parses `YYYYMMDDTHHMMSSZ`.
pub(crate) fn parse_amz_datetime(s: &str) -> Option<OffsetDateTime> {
    if s.len() != 16 || !s.is_ascii() {
        return None;
    }
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(s, format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Formats as `YYYYMMDDTHHMMSSZ` (UTC).
pub(crate) fn amz_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses an HTTP date: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) or RFC 2822 with a numeric zone.
pub(crate) fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Some(body) = s.strip_suffix(" GMT").or_else(|| s.strip_suffix(" UTC")) {
        let format = format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second]"
        );
        if let Ok(t) = PrimitiveDateTime::parse(body, format) {
            return Some(t.assume_utc());
        }
    }
    OffsetDateTime::parse(s, &Rfc2822).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn amz_round_trip() {
        let t = parse_amz_datetime("20130524T000000Z").unwrap();
        assert_eq!(t, datetime!(2013-05-24 0:00 UTC));
        assert_eq!(amz_datetime(t), "20130524T000000Z");
        for bad in [
            "",
            "20130524T000000",
            "20130524T000000Y",
            "2013-05-24T00:00:00Z",
            "20131324T000000Z",
            "2013052é000000Z",
        ] {
            assert!(parse_amz_datetime(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Fri, 24 May 2013 00:00:00 GMT"),
            Some(datetime!(2013-05-24 0:00 UTC))
        );
        assert_eq!(
            parse_http_date("Tue, 27 Mar 2007 19:36:42 +0000"),
            Some(datetime!(2007-03-27 19:36:42 UTC))
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
