//! Statistics over periods, as CloudWatch's GetMetricStatistics computes them, for the metrics
//! explorer: the stored points of one metric are grouped into periods aligned to multiples of
//! the period since the epoch, and each period gives one datapoint of the asked statistic.
//!
//! Percentiles (`p0`–`p100`, e.g. `p90`, `p99.9`) use the nearest-rank method over the raw
//! values kept with each point; a period that holds a statistic set of more than one sample has
//! no raw values, and then, as in CloudWatch, no percentile.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use hearth_runtime::metrics::{StoredPoint, Unit};
use time::OffsetDateTime;

/// The most datapoints one request may ask for (CloudWatch's limit for GetMetricStatistics).
pub const MAX_DATAPOINTS: i64 = 1440;

/// A statistic the explorer can draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
    /// A percentile between 0 and 100.
    Percentile(f64),
}

impl FromStr for Statistic {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "SampleCount" => Statistic::SampleCount,
            "Average" => Statistic::Average,
            "Sum" => Statistic::Sum,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            p if p.starts_with('p') => {
                let n: f64 = p[1..]
                    .parse()
                    .map_err(|_| format!("The value {s} for parameter Statistic is invalid."))?;
                if !(0.0..=100.0).contains(&n) || p[1..].contains(['e', 'E', '+', '-']) {
                    return Err(format!("The value {s} for parameter Statistic is invalid."));
                }
                Statistic::Percentile(n)
            }
            _ => return Err(format!("The value {s} for parameter Statistic is invalid.")),
        })
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statistic::SampleCount => f.write_str("SampleCount"),
            Statistic::Average => f.write_str("Average"),
            Statistic::Sum => f.write_str("Sum"),
            Statistic::Minimum => f.write_str("Minimum"),
            Statistic::Maximum => f.write_str("Maximum"),
            Statistic::Percentile(p) => write!(f, "p{p}"),
        }
    }
}

/// One datapoint: the start of its period and the statistic's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Datapoint {
    pub timestamp: OffsetDateTime,
    pub value: f64,
}

/// The datapoints of a series and the unit its data was sent with (the most frequent one).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub unit: Unit,
    pub datapoints: Vec<Datapoint>,
}

/// Check a period and a time range as CloudWatch does; returns the number of periods.
pub fn check_range(period: i64, start: OffsetDateTime, end: OffsetDateTime) -> Result<i64, String> {
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

#[derive(Default)]
struct Acc {
    count: f64,
    sum: f64,
    min: f64,
    max: f64,
    /// `None` once a point without raw values joined.
    values: Option<Vec<(f64, f64)>>,
}

/// Aggregate `points` (one metric, any order) into `period`-second datapoints, oldest first.
/// Periods without data have no datapoint.
pub fn aggregate(points: &[StoredPoint], period: i64, stat: Statistic) -> Series {
    let mut buckets: BTreeMap<i64, Acc> = BTreeMap::new();
    let mut units: BTreeMap<&'static str, (usize, Unit)> = BTreeMap::new();
    for p in points {
        units.entry(p.unit.as_str()).or_insert((0, p.unit)).0 += 1;
        let key = align(p.timestamp, period).unix_timestamp();
        let acc = buckets.entry(key).or_insert_with(|| Acc {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            values: Some(Vec::new()),
            ..Acc::default()
        });
        acc.count += p.sample_count;
        acc.sum += p.sum;
        acc.min = acc.min.min(p.minimum);
        acc.max = acc.max.max(p.maximum);
        match (&mut acc.values, &p.values) {
            (Some(all), Some(v)) => all.extend_from_slice(v),
            (Some(_), None) => acc.values = None,
            (None, _) => {}
        }
    }
    let unit = units
        .into_values()
        .max_by_key(|(n, _)| *n)
        .map(|(_, u)| u)
        .unwrap_or_default();
    let datapoints = buckets
        .into_iter()
        .filter_map(|(t, acc)| {
            let value = match stat {
                Statistic::SampleCount => Some(acc.count),
                Statistic::Sum => Some(acc.sum),
                Statistic::Minimum => Some(acc.min),
                Statistic::Maximum => Some(acc.max),
                Statistic::Average => (acc.count > 0.0).then(|| acc.sum / acc.count),
                Statistic::Percentile(p) => acc.values.and_then(|v| percentile(v, p)),
            }?;
            Some(Datapoint {
                timestamp: OffsetDateTime::from_unix_timestamp(t).ok()?,
                value,
            })
        })
        .collect();
    Series { unit, datapoints }
}

/// The nearest-rank percentile of weighted values: the smallest value whose cumulative count
/// reaches `p`% of the total.
fn percentile(mut values: Vec<(f64, f64)>, p: f64) -> Option<f64> {
    values.retain(|(_, c)| *c > 0.0);
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = values.iter().map(|(_, c)| c).sum();
    let rank = (p / 100.0 * total).ceil().max(1.0);
    let mut seen = 0.0;
    for (v, c) in &values {
        seen += c;
        if seen >= rank {
            return Some(*v);
        }
    }
    values.last().map(|(v, _)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(s).unwrap()
    }

    fn value(t: i64, v: f64) -> StoredPoint {
        StoredPoint {
            timestamp: at(t),
            unit: Unit::Count,
            sample_count: 1.0,
            sum: v,
            minimum: v,
            maximum: v,
            values: Some(vec![(v, 1.0)]),
            storage_resolution: 60,
        }
    }

    #[test]
    fn parses_statistics() {
        assert_eq!("Average".parse::<Statistic>().unwrap(), Statistic::Average);
        assert_eq!(
            "p99".parse::<Statistic>().unwrap(),
            Statistic::Percentile(99.0)
        );
        assert_eq!(
            "p99.9".parse::<Statistic>().unwrap(),
            Statistic::Percentile(99.9)
        );
        assert!("p101".parse::<Statistic>().is_err());
        assert!("pabc".parse::<Statistic>().is_err());
        assert!("p1e1".parse::<Statistic>().is_err());
        assert!("Mean".parse::<Statistic>().is_err());
        assert_eq!(Statistic::Percentile(90.0).to_string(), "p90");
    }

    #[test]
    fn aggregates_into_aligned_periods() {
        let pts = [
            value(60, 1.0),
            value(90, 3.0),
            value(119, 5.0),
            value(180, 10.0),
        ];
        let s = aggregate(&pts, 60, Statistic::Sum);
        assert_eq!(s.unit, Unit::Count);
        let got: Vec<(i64, f64)> = s
            .datapoints
            .iter()
            .map(|d| (d.timestamp.unix_timestamp(), d.value))
            .collect();
        assert_eq!(got, vec![(60, 9.0), (180, 10.0)]);
        let avg = aggregate(&pts, 60, Statistic::Average);
        assert_eq!(avg.datapoints[0].value, 3.0);
        assert_eq!(
            aggregate(&pts, 60, Statistic::Minimum).datapoints[0].value,
            1.0
        );
        assert_eq!(
            aggregate(&pts, 60, Statistic::Maximum).datapoints[0].value,
            5.0
        );
        assert_eq!(
            aggregate(&pts, 60, Statistic::SampleCount).datapoints[0].value,
            3.0
        );
        assert_eq!(aggregate(&pts, 300, Statistic::Sum).datapoints.len(), 1);
    }

    #[test]
    fn percentiles_use_raw_values_only() {
        let pts: Vec<StoredPoint> = (1..=100).map(|i| value(0, i as f64)).collect();
        assert_eq!(
            aggregate(&pts, 60, Statistic::Percentile(90.0)).datapoints[0].value,
            90.0
        );
        assert_eq!(
            aggregate(&pts, 60, Statistic::Percentile(99.0)).datapoints[0].value,
            99.0
        );
        assert_eq!(
            aggregate(&pts, 60, Statistic::Percentile(100.0)).datapoints[0].value,
            100.0
        );
        assert_eq!(
            aggregate(&pts, 60, Statistic::Percentile(0.0)).datapoints[0].value,
            1.0
        );
        let mut set = value(0, 0.0);
        set.sample_count = 5.0;
        set.values = None;
        assert!(aggregate(&[set.clone()], 60, Statistic::Percentile(90.0))
            .datapoints
            .is_empty());
        assert_eq!(
            aggregate(&[set], 60, Statistic::SampleCount).datapoints[0].value,
            5.0
        );
        // Weighted values: 1 seen 9 times, 100 once.
        assert_eq!(percentile(vec![(100.0, 1.0), (1.0, 9.0)], 90.0), Some(1.0));
        assert_eq!(
            percentile(vec![(100.0, 1.0), (1.0, 9.0)], 91.0),
            Some(100.0)
        );
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
    }
}
