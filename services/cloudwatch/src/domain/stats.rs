//! Statistics over stored points: the five basic statistics, percentiles (`p90`, `p99.9`) and
//! the trimmed/winsorized family (`tm90`, `TM(10%:90%)`, `wm`, `tc`, `ts`), computed per period
//! from the raw points the metrics store keeps.
//!
//! Percentiles and the trimmed family need the raw values: a period containing a statistic set
//! of more than one sample has none, so those statistics are absent for it, as in CloudWatch.
//! A percentile is the nearest-rank value of the (value, count) pairs: the smallest value whose
//! cumulative count reaches `p%` of all samples.

use std::collections::BTreeMap;

use hearth_runtime::metrics::{StoredPoint, Unit};

/// A statistic a request or an alarm names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
    /// `pNN`: the NN-th percentile (0..=100).
    Percentile(f64),
    /// `tm`: mean of the values between two percentiles.
    TrimmedMean(f64, f64),
    /// `wm`: mean with values outside the two percentiles clamped to them.
    WinsorizedMean(f64, f64),
    /// `tc`: number of values between two percentiles.
    TrimmedCount(f64, f64),
    /// `ts`: sum of the values between two percentiles.
    TrimmedSum(f64, f64),
}

impl Stat {
    /// One of the five statistics of `Statistics` / `Statistic`.
    pub fn basic(s: &str) -> Option<Stat> {
        Some(match s {
            "SampleCount" => Stat::SampleCount,
            "Average" => Stat::Average,
            "Sum" => Stat::Sum,
            "Minimum" => Stat::Minimum,
            "Maximum" => Stat::Maximum,
            _ => return None,
        })
    }

    /// An extended statistic (`p90`, `p99.99`, `tm90`, `TM(10%:90%)`, `wm99`, `tc90`, `ts90`).
    pub fn extended(s: &str) -> Option<Stat> {
        let number = |t: &str| -> Option<f64> {
            let ok = !t.is_empty()
                && t.chars().all(|c| c.is_ascii_digit() || c == '.')
                && t.matches('.').count() <= 1;
            let decimals = t.split_once('.').map_or(0, |(_, d)| d.len());
            let v: f64 = if ok && decimals <= 10 {
                t.parse().ok()?
            } else {
                return None;
            };
            (0.0..=100.0).contains(&v).then_some(v)
        };
        if !s.is_ascii() {
            return None;
        }
        let lower = s.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix('p') {
            if s.starts_with('p') {
                return number(rest).map(Stat::Percentile);
            }
            return None;
        }
        let (kind, rest) = lower.split_at(lower.len().min(2));
        let make = |lo: f64, hi: f64| -> Option<Stat> {
            if lo > hi {
                return None;
            }
            Some(match kind {
                "tm" => Stat::TrimmedMean(lo, hi),
                "wm" => Stat::WinsorizedMean(lo, hi),
                "tc" => Stat::TrimmedCount(lo, hi),
                "ts" => Stat::TrimmedSum(lo, hi),
                _ => return None,
            })
        };
        if let Some(range) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            if !s[..2].chars().all(|c| c.is_ascii_uppercase()) {
                return None;
            }
            let (lo, hi) = range.split_once(':')?;
            let pct = |t: &str| -> Option<f64> {
                if t.is_empty() {
                    return None;
                }
                number(t.strip_suffix('%')?)
            };
            let lo = if lo.is_empty() { 0.0 } else { pct(lo)? };
            let hi = if hi.is_empty() { 100.0 } else { pct(hi)? };
            return make(lo, hi);
        }
        if !s[..2.min(s.len())].chars().all(|c| c.is_ascii_lowercase()) {
            return None;
        }
        make(0.0, number(rest)?)
    }

    /// A basic or an extended statistic (GetMetricData's `Stat`).
    pub fn parse(s: &str) -> Option<Stat> {
        Stat::basic(s).or_else(|| Stat::extended(s))
    }

    /// Whether this statistic needs raw values (not one of the five basic ones).
    pub fn is_extended(&self) -> bool {
        !matches!(
            self,
            Stat::SampleCount | Stat::Average | Stat::Sum | Stat::Minimum | Stat::Maximum
        )
    }

    /// For percentiles: the sample count below which CloudWatch calls the value statistically
    /// insignificant (`10 / (1 - p)` above the median, `10 / p` below it).
    pub fn low_sample_threshold(&self) -> Option<f64> {
        match self {
            Stat::Percentile(p) => {
                let q = p / 100.0;
                Some(if q >= 0.5 {
                    10.0 / (1.0 - q).max(1e-9)
                } else {
                    10.0 / q.max(1e-9)
                })
            }
            _ => None,
        }
    }
}

/// The points of one period, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Start of the period, epoch seconds.
    pub start: i64,
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
    /// `(value, count)` pairs, when every point of the period kept its raw values.
    pub values: Option<Vec<(f64, f64)>>,
    /// The unit of the period's data (the first point's).
    pub unit: Unit,
}

impl Bucket {
    fn new(start: i64, p: &StoredPoint) -> Bucket {
        Bucket {
            start,
            sample_count: 0.0,
            sum: 0.0,
            minimum: f64::INFINITY,
            maximum: f64::NEG_INFINITY,
            values: Some(Vec::new()),
            unit: p.unit,
        }
    }

    fn add(&mut self, p: &StoredPoint) {
        self.sample_count += p.sample_count;
        self.sum += p.sum;
        self.minimum = self.minimum.min(p.minimum);
        self.maximum = self.maximum.max(p.maximum);
        match (&mut self.values, &p.values) {
            (Some(acc), Some(v)) => acc.extend_from_slice(v),
            _ => self.values = None,
        }
    }

    /// The value of `stat` for this period (None when it cannot be computed from what is stored).
    pub fn stat(&self, stat: Stat) -> Option<f64> {
        if self.sample_count <= 0.0 {
            return None;
        }
        match stat {
            Stat::SampleCount => Some(self.sample_count),
            Stat::Average => Some(self.sum / self.sample_count),
            Stat::Sum => Some(self.sum),
            Stat::Minimum => Some(self.minimum),
            Stat::Maximum => Some(self.maximum),
            Stat::Percentile(p) => percentile(self.values.as_deref()?, p),
            Stat::TrimmedMean(lo, hi) => {
                trimmed(self.values.as_deref()?, lo, hi).map(|(count, sum)| sum / count)
            }
            Stat::TrimmedCount(lo, hi) => {
                trimmed(self.values.as_deref()?, lo, hi).map(|(count, _)| count)
            }
            Stat::TrimmedSum(lo, hi) => {
                trimmed(self.values.as_deref()?, lo, hi).map(|(_, sum)| sum)
            }
            Stat::WinsorizedMean(lo, hi) => {
                let v = self.values.as_deref()?;
                let (low, high) = (percentile(v, lo)?, percentile(v, hi)?);
                let count: f64 = v.iter().map(|(_, c)| c).sum();
                (count > 0.0)
                    .then(|| v.iter().map(|(x, c)| x.clamp(low, high) * c).sum::<f64>() / count)
            }
        }
    }
}

fn sorted(values: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = values.iter().copied().filter(|(_, c)| *c > 0.0).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Nearest-rank percentile of weighted values.
pub fn percentile(values: &[(f64, f64)], p: f64) -> Option<f64> {
    let v = sorted(values);
    let total: f64 = v.iter().map(|(_, c)| c).sum();
    if total <= 0.0 {
        return None;
    }
    let rank = (p / 100.0 * total).ceil().max(1.0);
    let mut seen = 0.0;
    for (x, c) in &v {
        seen += c;
        if seen >= rank - 1e-9 {
            return Some(*x);
        }
    }
    v.last().map(|(x, _)| *x)
}

/// (count, sum) of the weighted values whose rank lies between the `lo` and `hi` percentiles.
fn trimmed(values: &[(f64, f64)], lo: f64, hi: f64) -> Option<(f64, f64)> {
    let v = sorted(values);
    let total: f64 = v.iter().map(|(_, c)| c).sum();
    if total <= 0.0 {
        return None;
    }
    let (from, to) = (lo / 100.0 * total, hi / 100.0 * total);
    let (mut count, mut sum, mut start) = (0.0, 0.0, 0.0);
    for (x, c) in &v {
        let end = start + c;
        let overlap = (end.min(to) - start.max(from)).max(0.0);
        count += overlap;
        sum += overlap * x;
        start = end;
    }
    (count > 0.0).then_some((count, sum))
}

/// Group points into periods of `period` seconds starting at `origin` (epoch seconds), keeping
/// only points of `unit` when one is given.
pub fn bucketize(
    points: &[StoredPoint],
    origin: i64,
    period: i64,
    unit: Option<Unit>,
) -> BTreeMap<i64, Bucket> {
    let mut out: BTreeMap<i64, Bucket> = BTreeMap::new();
    let period = period.max(1);
    for p in points {
        if unit.is_some_and(|u| u != p.unit) {
            continue;
        }
        let secs = p.timestamp.unix_timestamp();
        let start = origin + (secs - origin).div_euclid(period) * period;
        out.entry(start)
            .or_insert_with(|| Bucket::new(start, p))
            .add(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn point(secs: i64, values: &[(f64, f64)]) -> StoredPoint {
        let count: f64 = values.iter().map(|(_, c)| c).sum();
        StoredPoint {
            timestamp: OffsetDateTime::from_unix_timestamp(secs).unwrap(),
            unit: Unit::Count,
            sample_count: count,
            sum: values.iter().map(|(v, c)| v * c).sum(),
            minimum: values.iter().map(|(v, _)| *v).fold(f64::INFINITY, f64::min),
            maximum: values
                .iter()
                .map(|(v, _)| *v)
                .fold(f64::NEG_INFINITY, f64::max),
            values: Some(values.to_vec()),
            storage_resolution: 60,
        }
    }

    #[test]
    fn parses_statistics() {
        assert_eq!(Stat::parse("Average"), Some(Stat::Average));
        assert_eq!(Stat::parse("p90"), Some(Stat::Percentile(90.0)));
        assert_eq!(Stat::parse("p99.9"), Some(Stat::Percentile(99.9)));
        assert_eq!(Stat::parse("p100"), Some(Stat::Percentile(100.0)));
        assert_eq!(Stat::parse("tm90"), Some(Stat::TrimmedMean(0.0, 90.0)));
        assert_eq!(
            Stat::parse("TM(10%:90%)"),
            Some(Stat::TrimmedMean(10.0, 90.0))
        );
        assert_eq!(
            Stat::parse("WM(:95%)"),
            Some(Stat::WinsorizedMean(0.0, 95.0))
        );
        for bad in [
            "p101",
            "p",
            "P90",
            "é9",
            "tmé",
            "average",
            "p9x",
            "tm",
            "TM(90%:10%)",
            "TM(10:90)",
            "xx90",
            "",
            "p-1",
            "t",
        ] {
            assert_eq!(Stat::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn buckets_and_basic_statistics() {
        let pts = [
            point(0, &[(1.0, 1.0)]),
            point(30, &[(3.0, 1.0)]),
            point(60, &[(10.0, 2.0)]),
        ];
        let b = bucketize(&pts, 0, 60, None);
        assert_eq!(b.len(), 2);
        let first = &b[&0];
        assert_eq!(first.stat(Stat::Sum), Some(4.0));
        assert_eq!(first.stat(Stat::Average), Some(2.0));
        assert_eq!(first.stat(Stat::SampleCount), Some(2.0));
        assert_eq!(b[&60].stat(Stat::Minimum), Some(10.0));
        assert!(bucketize(&pts, 0, 60, Some(Unit::Bytes)).is_empty());
    }

    #[test]
    fn percentiles_and_trimmed_family() {
        let v: Vec<(f64, f64)> = (1..=100).map(|i| (i as f64, 1.0)).collect();
        assert_eq!(percentile(&v, 90.0), Some(90.0));
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&[(5.0, 3.0), (1.0, 1.0)], 50.0), Some(5.0));
        let b = bucketize(&[point(0, &v)], 0, 60, None);
        assert_eq!(b[&0].stat(Stat::TrimmedCount(10.0, 90.0)), Some(80.0));
        assert_eq!(b[&0].stat(Stat::TrimmedMean(0.0, 10.0)), Some(5.5));
        assert_eq!(
            b[&0].stat(Stat::TrimmedSum(90.0, 100.0)),
            Some((91..=100).sum::<i32>() as f64)
        );
        let wm = b[&0].stat(Stat::WinsorizedMean(10.0, 90.0)).unwrap();
        assert!((wm - 50.5).abs() < 0.5, "{wm}");
        // A statistic set of several samples has no raw values: no percentile.
        let mut set = point(0, &[(1.0, 1.0)]);
        set.sample_count = 5.0;
        set.values = None;
        let b = bucketize(&[set], 0, 60, None);
        assert_eq!(b[&0].stat(Stat::Percentile(50.0)), None);
        assert_eq!(b[&0].stat(Stat::SampleCount), Some(5.0));
    }
}
