//! GetMetricData execution, shared by the API and metric-math alarms: metric queries read their
//! metric's points and aggregate them per period; expression queries are evaluated after the
//! queries they refer to (in dependency order, cycles rejected) with [`super::math`].

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use hearth_runtime::metrics::{MetricId, StoredPoint, Unit};
use time::OffsetDateTime;

use super::math::{self, Series, Val};
use super::stats::{bucketize, Stat};
use crate::error::{CwError, CwResult};

/// Where metric queries read their points.
#[async_trait]
pub trait PointSource: Send + Sync {
    /// Points of one metric with `start <= timestamp < end` (epoch seconds).
    async fn points(&self, metric: &MetricId, start: i64, end: i64) -> CwResult<Vec<StoredPoint>>;
}

/// A metric query's statistic over one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricStatQuery {
    pub metric: MetricId,
    pub period: i64,
    pub stat: Stat,
    pub unit: Option<Unit>,
}

/// What a query computes.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryKind {
    Metric(MetricStatQuery),
    Expression(String),
}

/// One query of a GetMetricData request (or of a metric-math alarm).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub id: String,
    pub label: Option<String>,
    pub return_data: bool,
    /// Period of an expression's result (defaults to its inputs' period).
    pub period: Option<i64>,
    pub kind: QueryKind,
}

/// One returned time series.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub id: String,
    pub label: String,
    pub points: BTreeMap<i64, f64>,
}

/// Ids start with a lower-case letter and hold letters, digits and underscores.
pub fn valid_id(id: &str) -> bool {
    let mut c = id.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && id.len() <= 255
}

/// The start of the first period: `start` rounded down to whole minutes (to whole periods for
/// periods under a minute), as CloudWatch rounds recent start times.
pub fn aligned_start(start: i64, period: i64) -> i64 {
    let unit = if period >= 60 { 60 } else { period.max(1) };
    start - start.rem_euclid(unit)
}

fn invalid_expression(id: &str, detail: impl std::fmt::Display) -> CwError {
    CwError::InvalidParameterValue(format!("Error in expression '{id}': {detail}"))
}

/// Run `queries` over `[start, end)` (epoch seconds) and return the series of the queries with
/// `return_data`, in request order (an expression giving an array yields one result per member).
pub async fn run(
    source: &dyn PointSource,
    queries: &[Query],
    start: i64,
    end: i64,
) -> CwResult<Vec<QueryResult>> {
    let mut seen = HashSet::new();
    for q in queries {
        if !seen.insert(q.id.as_str()) {
            return Err(CwError::InvalidParameterValue(format!(
                "The value {} for parameter MetricDataQueries.member.Id is duplicated.",
                q.id
            )));
        }
    }
    let default_period = queries
        .iter()
        .filter_map(|q| match &q.kind {
            QueryKind::Metric(m) => Some(m.period),
            QueryKind::Expression(_) => q.period,
        })
        .max()
        .unwrap_or(60);

    // Metric queries first (METRICS() sees them in request order).
    let mut values: HashMap<String, Val> = HashMap::new();
    let mut periods: HashMap<String, i64> = HashMap::new();
    let mut metric_series = Vec::new();
    for q in queries {
        if let QueryKind::Metric(m) = &q.kind {
            let origin = aligned_start(start, m.period);
            let points = source.points(&m.metric, origin, end).await?;
            let buckets = bucketize(&points, origin, m.period, m.unit);
            let series = Series {
                label: q.label.clone().unwrap_or_else(|| m.metric.name.clone()),
                points: buckets
                    .values()
                    .filter_map(|b| b.stat(m.stat).map(|v| (b.start, v)))
                    .collect(),
            };
            metric_series.push(series.clone());
            values.insert(q.id.clone(), Val::Series(series));
            periods.insert(q.id.clone(), m.period);
        }
    }

    // Expressions, in dependency order.
    let mut pending: Vec<(&Query, math::Expr, Vec<String>)> = Vec::new();
    for q in queries {
        if let QueryKind::Expression(src) = &q.kind {
            let expr = math::parse(src).map_err(|e| invalid_expression(&q.id, e))?;
            let mut refs = Vec::new();
            math::references(&expr, &mut refs);
            refs.retain(|r| !r.eq_ignore_ascii_case("REPEAT") && !r.eq_ignore_ascii_case("LINEAR"));
            for r in &refs {
                if !queries.iter().any(|o| &o.id == r) {
                    return Err(invalid_expression(
                        &q.id,
                        format!("Unrecognized identifier {r}"),
                    ));
                }
                if r == &q.id {
                    return Err(invalid_expression(
                        &q.id,
                        "An expression cannot refer to itself",
                    ));
                }
            }
            pending.push((q, expr, refs));
        }
    }
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|(_, _, refs)| refs.iter().all(|r| values.contains_key(r)));
        let Some(i) = ready else {
            return Err(invalid_expression(
                &pending[0].0.id,
                "Circular dependency between expressions",
            ));
        };
        let (q, expr, refs) = pending.remove(i);
        let period = q
            .period
            .or_else(|| refs.iter().filter_map(|r| periods.get(r).copied()).max())
            .unwrap_or(default_period)
            .max(1);
        let origin = aligned_start(start, period);
        let grid: Vec<i64> = (0..)
            .map(|k| origin + k * period)
            .take_while(|t| *t < end)
            .take(100_800)
            .collect();
        let env = math::Env {
            vars: &values,
            metrics: &metric_series,
            grid: &grid,
            period,
        };
        let v = math::eval(&expr, &env).map_err(|e| invalid_expression(&q.id, e))?;
        values.insert(q.id.clone(), v);
        periods.insert(q.id.clone(), period);
    }

    let mut out = Vec::new();
    for q in queries.iter().filter(|q| q.return_data) {
        let is_metric = matches!(q.kind, QueryKind::Metric(_));
        let label = |series_label: &str| match (&q.label, series_label) {
            (Some(l), _) => l.clone(),
            (None, s) if is_metric && !s.is_empty() => s.to_string(),
            (None, _) => q.id.clone(),
        };
        match values.remove(&q.id) {
            Some(Val::Series(s)) => out.push(QueryResult {
                id: q.id.clone(),
                label: label(&s.label),
                points: s.points,
            }),
            Some(Val::Array(items)) => {
                for s in items {
                    let l = if s.label.is_empty() {
                        label("")
                    } else {
                        s.label.clone()
                    };
                    out.push(QueryResult {
                        id: q.id.clone(),
                        label: l,
                        points: s.points,
                    });
                }
            }
            Some(Val::Scalar(x)) => {
                let period = periods.get(&q.id).copied().unwrap_or(default_period).max(1);
                let origin = aligned_start(start, period);
                let points = (0..)
                    .map(|k| origin + k * period)
                    .take_while(|t| *t < end)
                    .take(100_800)
                    .map(|t| (t, x))
                    .filter(|(_, v)| v.is_finite())
                    .collect();
                out.push(QueryResult {
                    id: q.id.clone(),
                    label: label(""),
                    points,
                });
            }
            None => {}
        }
    }
    Ok(out)
}

/// Epoch seconds of a time.
pub fn secs(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<(MetricId, Vec<StoredPoint>)>);

    #[async_trait]
    impl PointSource for Fixed {
        async fn points(
            &self,
            metric: &MetricId,
            start: i64,
            end: i64,
        ) -> CwResult<Vec<StoredPoint>> {
            Ok(self
                .0
                .iter()
                .filter(|(m, _)| m == metric)
                .flat_map(|(_, p)| {
                    p.iter()
                        .filter(|p| (start..end).contains(&p.timestamp.unix_timestamp()))
                        .cloned()
                })
                .collect())
        }
    }

    fn pt(secs: i64, v: f64) -> StoredPoint {
        StoredPoint {
            timestamp: OffsetDateTime::from_unix_timestamp(secs).unwrap(),
            unit: Unit::Count,
            sample_count: 1.0,
            sum: v,
            minimum: v,
            maximum: v,
            values: Some(vec![(v, 1.0)]),
            storage_resolution: 60,
        }
    }

    fn metric_query(id: &str, name: &str, ret: bool) -> Query {
        Query {
            id: id.into(),
            label: None,
            return_data: ret,
            period: None,
            kind: QueryKind::Metric(MetricStatQuery {
                metric: MetricId::new("ns", name, vec![]),
                period: 60,
                stat: Stat::Sum,
                unit: None,
            }),
        }
    }

    #[tokio::test]
    async fn metric_and_math_queries() {
        let src = Fixed(vec![
            (
                MetricId::new("ns", "errors", vec![]),
                vec![pt(0, 1.0), pt(10, 1.0), pt(60, 3.0)],
            ),
            (
                MetricId::new("ns", "requests", vec![]),
                vec![pt(0, 10.0), pt(60, 10.0), pt(120, 5.0)],
            ),
        ]);
        let queries = vec![
            metric_query("m1", "errors", false),
            metric_query("m2", "requests", false),
            Query {
                id: "e1".into(),
                label: Some("Error rate".into()),
                return_data: true,
                period: None,
                kind: QueryKind::Expression("m1/m2*100".into()),
            },
            Query {
                id: "e2".into(),
                label: None,
                return_data: true,
                period: None,
                kind: QueryKind::Expression("SUM(METRICS())".into()),
            },
            Query {
                id: "e3".into(),
                label: None,
                return_data: true,
                period: None,
                kind: QueryKind::Expression("AVG(m2)".into()),
            },
        ];
        let r = run(&src, &queries, 0, 180).await.unwrap();
        assert_eq!(r[0].label, "Error rate");
        assert_eq!(r[0].points, [(0, 20.0), (60, 30.0)].into_iter().collect());
        assert_eq!(
            r[1].points,
            [(0, 12.0), (60, 13.0), (120, 5.0)].into_iter().collect()
        );
        assert_eq!(r[2].points.len(), 3);
        assert!((r[2].points[&0] - 25.0 / 3.0).abs() < 1e-9);
        let cyc = vec![
            Query {
                id: "a".into(),
                label: None,
                return_data: true,
                period: None,
                kind: QueryKind::Expression("b+1".into()),
            },
            Query {
                id: "b".into(),
                label: None,
                return_data: true,
                period: None,
                kind: QueryKind::Expression("a+1".into()),
            },
        ];
        assert!(matches!(
            run(&src, &cyc, 0, 60).await,
            Err(CwError::InvalidParameterValue(_))
        ));
        assert!(run(
            &src,
            &[metric_query("m1", "x", true), metric_query("m1", "y", true)],
            0,
            60
        )
        .await
        .is_err());
        assert!(
            valid_id("m1")
                && valid_id("error_rate")
                && !valid_id("M1")
                && !valid_id("1m")
                && !valid_id("")
        );
    }
}
