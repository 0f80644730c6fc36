//! The time-range rules of the metrics explorer, as CloudWatch's GetMetricStatistics applies
//! them: the period is 1, 5, 10, 30 or a multiple of 60 seconds, the start precedes the end, and
//! one request asks for at most [`MAX_DATAPOINTS`] periods. Periods are aligned to multiples of
//! the period since the epoch. The statistics themselves are the CloudWatch service's
//! (`hearth_cloudwatch::CloudWatch::metric_statistics`).

use time::OffsetDateTime;

/// The most datapoints one request may ask for (CloudWatch's limit for GetMetricStatistics).
pub const MAX_DATAPOINTS: i64 = 1440;

/// The longest period the explorer accepts (one year).
pub const MAX_PERIOD: i64 = 365 * 86400;

/// Check a period and a time range as CloudWatch does; returns the number of periods.
pub fn check_range(period: i64, start: OffsetDateTime, end: OffsetDateTime) -> Result<i64, String> {
    if period > MAX_PERIOD {
        return Err(format!(
            "The parameter Period must not be greater than {MAX_PERIOD}."
        ));
    }
    if !(matches!(period, 1 | 5 | 10 | 30) || (period >= 60 && period % 60 == 0)) {
        return Err(format!(
            "The parameter Period must be 1, 5, 10, 30, or a multiple of 60; {period} is not valid."
        ));
    }
    if start >= end {
        return Err("The parameter StartTime must be less than the parameter EndTime.".into());
    }
    let first = align(start, period);
    let n = ((end.unix_timestamp() - first.unix_timestamp()) + period - 1) / period;
    if n > MAX_DATAPOINTS {
        return Err(format!(
            "You have requested up to {n} datapoints, which exceeds the limit of {MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        ));
    }
    Ok(n)
}

/// The start of the period that holds `t`.
pub fn align(t: OffsetDateTime, period: i64) -> OffsetDateTime {
    let s = t.unix_timestamp();
    OffsetDateTime::from_unix_timestamp(s - s.rem_euclid(period.max(1))).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(s).unwrap()
    }

    #[test]
    fn range_limits() {
        assert_eq!(check_range(60, at(0), at(3600)), Ok(60));
        assert!(check_range(45, at(0), at(3600)).is_err());
        assert!(check_range(60, at(10), at(10)).is_err());
        assert!(check_range(1, at(0), at(86400))
            .unwrap_err()
            .contains("exceeds the limit of 1440"));
        assert_eq!(check_range(5, at(0), at(7200)), Ok(1440));
        assert!(check_range(0, at(0), at(1)).is_err());
        assert!(check_range(i64::MAX - i64::MAX % 60, at(0), at(1)).is_err());
        assert!(check_range(60, at(-377_705_116_800), at(253_402_300_799)).is_err());
    }

    #[test]
    fn periods_align_to_the_epoch() {
        assert_eq!(align(at(119), 60), at(60));
        assert_eq!(align(at(120), 60), at(120));
        assert_eq!(align(at(7), 5), at(5));
    }
}
