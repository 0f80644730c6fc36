//! Metric data types: units with AWS's names, samples, the metric identity with canonical
//! dimensions, stored points, and the validation CloudWatch applies to incoming data.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::MetricsError;

/// A metric unit, spelled as CloudWatch's `StandardUnit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Unit {
    Seconds,
    Microseconds,
    Milliseconds,
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Bits,
    Kilobits,
    Megabits,
    Gigabits,
    Terabits,
    Percent,
    Count,
    BytesPerSecond,
    KilobytesPerSecond,
    MegabytesPerSecond,
    GigabytesPerSecond,
    TerabytesPerSecond,
    BitsPerSecond,
    KilobitsPerSecond,
    MegabitsPerSecond,
    GigabitsPerSecond,
    TerabitsPerSecond,
    CountPerSecond,
    #[default]
    None,
}

const UNITS: &[(Unit, &str)] = &[
    (Unit::Seconds, "Seconds"),
    (Unit::Microseconds, "Microseconds"),
    (Unit::Milliseconds, "Milliseconds"),
    (Unit::Bytes, "Bytes"),
    (Unit::Kilobytes, "Kilobytes"),
    (Unit::Megabytes, "Megabytes"),
    (Unit::Gigabytes, "Gigabytes"),
    (Unit::Terabytes, "Terabytes"),
    (Unit::Bits, "Bits"),
    (Unit::Kilobits, "Kilobits"),
    (Unit::Megabits, "Megabits"),
    (Unit::Gigabits, "Gigabits"),
    (Unit::Terabits, "Terabits"),
    (Unit::Percent, "Percent"),
    (Unit::Count, "Count"),
    (Unit::BytesPerSecond, "Bytes/Second"),
    (Unit::KilobytesPerSecond, "Kilobytes/Second"),
    (Unit::MegabytesPerSecond, "Megabytes/Second"),
    (Unit::GigabytesPerSecond, "Gigabytes/Second"),
    (Unit::TerabytesPerSecond, "Terabytes/Second"),
    (Unit::BitsPerSecond, "Bits/Second"),
    (Unit::KilobitsPerSecond, "Kilobits/Second"),
    (Unit::MegabitsPerSecond, "Megabits/Second"),
    (Unit::GigabitsPerSecond, "Gigabits/Second"),
    (Unit::TerabitsPerSecond, "Terabits/Second"),
    (Unit::CountPerSecond, "Count/Second"),
    (Unit::None, "None"),
];

impl Unit {
    /// The AWS spelling, e.g. `"Bytes/Second"`.
    pub fn as_str(self) -> &'static str {
        UNITS.iter().find(|(u, _)| *u == self).map(|(_, s)| *s).unwrap_or("None")
    }
    /// Every unit, in the order of AWS's documentation.
    pub fn all() -> impl Iterator<Item = Unit> {
        UNITS.iter().map(|(u, _)| *u)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Unit {
    type Err = MetricsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UNITS
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(u, _)| *u)
            .ok_or_else(|| MetricsError::InvalidParameterValue(format!("The unit {s} is not a valid StandardUnit.")))
    }
}

impl Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// CloudWatch's `StatisticSet`: a pre-aggregated sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatisticSet {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

/// The value part of a datum: one of CloudWatch's three ways to send data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Sample {
    /// One value (`Value`).
    Value(f64),
    /// Pre-aggregated statistics (`StatisticValues`); percentiles are not available for these.
    Stats(StatisticSet),
    /// Values, each seen `counts[i]` times (`Values` and `Counts`; empty counts mean 1 each).
    Values { values: Vec<f64>, counts: Vec<f64> },
}

/// A metric's identity: namespace, name and dimensions sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricId {
    pub namespace: String,
    pub name: String,
    /// `(name, value)` pairs, sorted by name.
    pub dimensions: Vec<(String, String)>,
}

impl MetricId {
    /// A metric identity; dimensions are sorted.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>, mut dimensions: Vec<(String, String)>) -> Self {
        dimensions.sort();
        MetricId { namespace: namespace.into(), name: name.into(), dimensions }
    }

    /// The canonical stored form of the dimensions: a JSON object with keys in sorted order
    /// (`{}` when there are none).
    pub fn canonical_dimensions(&self) -> String {
        canonical_dimensions(&self.dimensions)
    }
}

pub(crate) fn canonical_dimensions(dims: &[(String, String)]) -> String {
    let map: BTreeMap<&str, &str> = dims.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_string())
}

pub(crate) fn parse_dimensions(s: &str) -> Result<Vec<(String, String)>, MetricsError> {
    let map: BTreeMap<String, String> = serde_json::from_str(s).map_err(|e| MetricsError::Codec(e.to_string()))?;
    Ok(map.into_iter().collect())
}

/// One metric datum as PutMetricData carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDatum {
    pub namespace: String,
    pub name: String,
    /// `(name, value)` pairs in any order; stored sorted.
    pub dimensions: Vec<(String, String)>,
    pub unit: Unit,
    pub timestamp: OffsetDateTime,
    pub value: Sample,
    /// 1 (high resolution) or 60 (standard).
    pub storage_resolution: u32,
}

impl MetricDatum {
    /// A single-value datum with no dimensions, unit `None` and standard resolution.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>, timestamp: OffsetDateTime, value: f64) -> Self {
        MetricDatum {
            namespace: namespace.into(),
            name: name.into(),
            dimensions: Vec::new(),
            unit: Unit::None,
            timestamp,
            value: Sample::Value(value),
            storage_resolution: 60,
        }
    }

    /// Add a dimension.
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.dimensions.push((name.into(), value.into()));
        self
    }

    /// Set the unit.
    pub fn unit(mut self, unit: Unit) -> Self {
        self.unit = unit;
        self
    }

    /// Replace the sample.
    pub fn sample(mut self, value: Sample) -> Self {
        self.value = value;
        self
    }

    /// Set the storage resolution (1 or 60 seconds).
    pub fn resolution(mut self, seconds: u32) -> Self {
        self.storage_resolution = seconds;
        self
    }

    /// The metric this datum belongs to (dimensions sorted).
    pub fn id(&self) -> MetricId {
        MetricId::new(self.namespace.clone(), self.name.clone(), self.dimensions.clone())
    }

    /// Check CloudWatch's rules and sort the dimensions.
    pub fn validated(mut self) -> Result<Self, MetricsError> {
        let bad = |m: String| Err(MetricsError::InvalidParameterValue(m));
        if self.namespace.is_empty() || self.namespace.chars().count() > 255 {
            return bad("The parameter Namespace must be between 1 and 255 characters long.".into());
        }
        if self.name.is_empty() || self.name.chars().count() > 255 {
            return bad("The parameter MetricName must be between 1 and 255 characters long.".into());
        }
        if self.dimensions.len() > 30 {
            return bad("The collection Dimensions must not have a size greater than 30.".into());
        }
        for (k, v) in &self.dimensions {
            if k.is_empty() || k.chars().count() > 255 {
                return bad("The parameter Dimensions.member.Name must be between 1 and 255 characters long.".into());
            }
            if v.is_empty() || v.chars().count() > 1024 {
                return bad("The parameter Dimensions.member.Value must be between 1 and 1024 characters long.".into());
            }
        }
        self.dimensions.sort();
        if let Some(w) = self.dimensions.windows(2).find(|w| w[0].0 == w[1].0) {
            return bad(format!("The dimension name {} is used more than once.", w[0].0));
        }
        if self.storage_resolution != 1 && self.storage_resolution != 60 {
            return bad(format!(
                "The value {} for parameter StorageResolution is invalid. Valid values are 1 and 60.",
                self.storage_resolution
            ));
        }
        match &self.value {
            Sample::Value(v) => check_value("Value", *v)?,
            Sample::Stats(s) => {
                check_value("StatisticValues.SampleCount", s.sample_count)?;
                check_value("StatisticValues.Sum", s.sum)?;
                check_value("StatisticValues.Minimum", s.minimum)?;
                check_value("StatisticValues.Maximum", s.maximum)?;
                if s.sample_count <= 0.0 {
                    return bad("The parameter StatisticValues.SampleCount must be greater than 0.".into());
                }
                if s.minimum > s.maximum {
                    return bad("The parameter StatisticValues.Minimum must not be greater than StatisticValues.Maximum.".into());
                }
            }
            Sample::Values { values, counts } => {
                if values.is_empty() {
                    return bad("The parameter Values must not be empty.".into());
                }
                if values.len() > 150 {
                    return bad("The collection Values must not have a size greater than 150.".into());
                }
                if !counts.is_empty() && counts.len() != values.len() {
                    return bad("The parameters Values and Counts must be of the same size.".into());
                }
                for v in values {
                    check_value("Values", *v)?;
                }
                for c in counts {
                    check_value("Counts", *c)?;
                    if *c < 0.0 {
                        return bad(format!("The value {c} for parameter Counts is invalid."));
                    }
                }
            }
        }
        Ok(self)
    }
}

/// CloudWatch rejects NaN, infinities and magnitudes above 2^360.
fn check_value(param: &str, v: f64) -> Result<(), MetricsError> {
    let limit = 2f64.powi(360);
    if !v.is_finite() || v.abs() > limit {
        return Err(MetricsError::InvalidParameterValue(format!("The value {v} for parameter {param} is invalid.")));
    }
    Ok(())
}

/// One stored datum, as [`super::Metrics::query`] returns it. Every sample kind is stored with
/// its count, sum, minimum and maximum; raw values are kept when they were sent.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoint {
    pub timestamp: OffsetDateTime,
    pub unit: Unit,
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
    /// `(value, count)` pairs for data sent as values and counts, or as one value (also a
    /// statistic set of one sample, whose value is known); `None` for other statistic sets.
    pub values: Option<Vec<(f64, f64)>>,
    pub storage_resolution: u32,
}

impl StoredPoint {
    /// Summarise a sample: (count, sum, min, max, raw values).
    #[allow(clippy::type_complexity)]
    pub(crate) fn summarise(sample: &Sample) -> (f64, f64, f64, f64, Option<Vec<(f64, f64)>>) {
        match sample {
            // Rebuilt on read from count == 1 (see `StoredPoint::values`).
            Sample::Value(v) => (1.0, *v, *v, *v, None),
            Sample::Stats(s) => (s.sample_count, s.sum, s.minimum, s.maximum, None),
            Sample::Values { values, counts } => {
                let pairs: Vec<(f64, f64)> =
                    values.iter().enumerate().map(|(i, v)| (*v, counts.get(i).copied().unwrap_or(1.0))).collect();
                let count = pairs.iter().map(|(_, c)| c).sum();
                let sum = pairs.iter().map(|(v, c)| v * c).sum();
                let min = pairs.iter().map(|(v, _)| *v).fold(f64::INFINITY, f64::min);
                let max = pairs.iter().map(|(v, _)| *v).fold(f64::NEG_INFINITY, f64::max);
                (count, sum, min, max, Some(pairs))
            }
        }
    }
}

/// A ListMetrics dimension filter: the metric must have a dimension of this name (with this
/// value, when given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionFilter {
    pub name: String,
    pub value: Option<String>,
}

/// What [`super::Metrics::list_metrics`] returns.
#[derive(Debug, Clone, Default)]
pub struct ListMetricsQuery {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub dimensions: Vec<DimensionFilter>,
    /// Only metrics with data at or after this time (ListMetrics' `RecentlyActive=PT3H`).
    pub active_since: Option<OffsetDateTime>,
}

impl ListMetricsQuery {
    pub(crate) fn matches_dimensions(&self, dims: &[(String, String)]) -> bool {
        self.dimensions.iter().all(|f| {
            dims.iter().any(|(k, v)| *k == f.name && f.value.as_ref().is_none_or(|want| want == v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_trip() {
        for u in Unit::all() {
            assert_eq!(u.as_str().parse::<Unit>().unwrap(), u);
        }
        assert_eq!(Unit::BytesPerSecond.as_str(), "Bytes/Second");
        assert!("bytes".parse::<Unit>().is_err());
    }

    #[test]
    fn canonical_dims_are_sorted() {
        let a = canonical_dimensions(&[("b".into(), "2".into()), ("a".into(), "1".into())]);
        let b = canonical_dimensions(&[("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(a, b);
        assert_eq!(a, r#"{"a":"1","b":"2"}"#);
        assert_eq!(canonical_dimensions(&[]), "{}");
        assert_eq!(parse_dimensions(&a).unwrap(), vec![("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())]);
    }

    #[test]
    fn validation_rejects_bad_data() {
        let t = OffsetDateTime::UNIX_EPOCH;
        assert!(MetricDatum::new("ns", "m", t, f64::NAN).validated().is_err());
        assert!(MetricDatum::new("ns", "m", t, f64::INFINITY).validated().is_err());
        assert!(MetricDatum::new("ns", "m", t, 2f64.powi(361)).validated().is_err());
        assert!(MetricDatum::new("", "m", t, 1.0).validated().is_err());
        assert!(MetricDatum::new("ns", "m", t, 1.0).resolution(5).validated().is_err());
        assert!(MetricDatum::new("ns", "m", t, 1.0).dimension("a", "1").dimension("a", "2").validated().is_err());
        let values = Sample::Values { values: vec![1.0, 2.0], counts: vec![1.0] };
        assert!(MetricDatum::new("ns", "m", t, 0.0).sample(values).validated().is_err());
        let stats = Sample::Stats(StatisticSet { sample_count: 2.0, sum: 3.0, minimum: 5.0, maximum: 1.0 });
        assert!(MetricDatum::new("ns", "m", t, 0.0).sample(stats).validated().is_err());
        let ok = MetricDatum::new("ns", "m", t, 1.0).dimension("z", "1").dimension("a", "2").validated().unwrap();
        assert_eq!(ok.dimensions[0].0, "a");
    }

    #[test]
    fn summaries() {
        let s = Sample::Values { values: vec![1.0, 3.0], counts: vec![2.0, 1.0] };
        assert_eq!(StoredPoint::summarise(&s), (3.0, 5.0, 1.0, 3.0, Some(vec![(1.0, 2.0), (3.0, 1.0)])));
        let s = Sample::Values { values: vec![4.0], counts: vec![] };
        assert_eq!(StoredPoint::summarise(&s), (1.0, 4.0, 4.0, 4.0, Some(vec![(4.0, 1.0)])));
    }
}
