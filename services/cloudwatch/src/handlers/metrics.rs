//! Metric data: PutMetricData (durable before the reply), GetMetricStatistics, GetMetricData
//! (metric queries and metric math) and ListMetrics, over the runtime's metrics store. The
//! metrics Hearth records about itself (`AWS/S3`, …) are read the same way: buffered points are
//! flushed before every read so a reply sees everything recorded before it.

use std::collections::BTreeMap;

use hearth_protocol::RequestContext;
use hearth_runtime::metrics::{
    DimensionFilter, ListMetricsQuery, MetricDatum, MetricId, Sample, StatisticSet, Unit,
};
use serde_json::Value;
use time::OffsetDateTime;

use super::{
    check_len, check_namespace, check_period, dimensions, input, next_token, scope, secs,
    token_position, ts, wire_dimensions,
};
use crate::api;
use crate::domain::query::{self, aligned_start, MetricStatQuery, Query, QueryKind};
use crate::domain::stats::{bucketize, Stat};
use crate::error::{CwError, CwResult};
use crate::jobs::{Engine, StorePoints};

/// Most datapoints GetMetricStatistics returns.
const MAX_STATISTICS_DATAPOINTS: i64 = 1440;
/// Most datapoints GetMetricData returns (default of `MaxDatapoints`).
const MAX_METRIC_DATA_DATAPOINTS: i64 = 100_800;
/// ListMetrics page size.
const LIST_PAGE: usize = 500;
const UNIT_SET: &str = "[Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, Gigabits/Second, Terabits/Second, Count/Second, None]";
const STATISTIC_SET: &str = "[Average, Sum, SampleCount, Maximum, Minimum]";

/// Parse a unit parameter.
pub fn unit(param: &str, u: Option<&str>) -> CwResult<Option<Unit>> {
    u.map(|u| {
        u.parse::<Unit>().map_err(|_| {
            CwError::InvalidParameterValue(format!(
                "The parameter {param} must be a value in the set {UNIT_SET}."
            ))
        })
    })
    .transpose()
}

/// NaN and the infinities reach us as strings (the JSON protocols' spelling): reject them with
/// CloudWatch's message before the typed input is read.
fn reject_special_numbers(raw: &Value) -> CwResult<()> {
    let bad = |param: String, v: &Value| {
        CwError::InvalidParameterValue(format!(
            "The value {} for parameter {param} is invalid.",
            v.as_str().unwrap_or("?")
        ))
    };
    let lists = raw
        .get("MetricData")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, d)| (format!("MetricData.member.{}", i + 1), d));
    let entity = raw
        .get("EntityMetricData")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|e| {
            e.get("MetricData")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .enumerate()
        .map(|(i, d)| {
            (
                format!("EntityMetricData.member.MetricData.member.{}", i + 1),
                d,
            )
        });
    for (prefix, d) in lists.chain(entity) {
        if let Some(v) = d.get("Value").filter(|v| v.is_string()) {
            return Err(bad(format!("{prefix}.Value"), v));
        }
        for key in ["Values", "Counts"] {
            if let Some(v) = d
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|v| v.is_string())
            {
                return Err(bad(format!("{prefix}.{key}"), v));
            }
        }
        if let Some(set) = d.get("StatisticValues") {
            for key in ["SampleCount", "Sum", "Minimum", "Maximum"] {
                if let Some(v) = set.get(key).filter(|v| v.is_string()) {
                    return Err(bad(format!("{prefix}.StatisticValues.{key}"), v));
                }
            }
        }
    }
    Ok(())
}

fn datum(
    namespace: &str,
    prefix: &str,
    d: &api::MetricDatum,
    now: OffsetDateTime,
) -> CwResult<MetricDatum> {
    check_len(&format!("{prefix}.MetricName"), &d.metric_name, 1, 255)?;
    let dims = dimensions(&format!("{prefix}.Dimensions"), d.dimensions.as_deref())?;
    let timestamp = d.timestamp.map(|t| t.0).unwrap_or(now);
    if timestamp < now - time::Duration::days(14) || timestamp > now + time::Duration::hours(2) {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {prefix}.Timestamp must specify a time no more than two weeks in the past or two hours in the future."
        )));
    }
    let sample = match (d.value, &d.statistic_values, &d.values) {
        (Some(_), Some(_), _) => {
            return Err(CwError::InvalidParameterCombination(format!(
                "The parameters {prefix}.Value and {prefix}.StatisticValues are mutually exclusive and you have specified both."
            )))
        }
        (Some(_), _, Some(_)) => {
            return Err(CwError::InvalidParameterCombination(format!("The parameters {prefix}.Value and {prefix}.Values are mutually exclusive and you have specified both.")))
        }
        (_, Some(_), Some(_)) => {
            return Err(CwError::InvalidParameterCombination(format!(
                "The parameters {prefix}.StatisticValues and {prefix}.Values are mutually exclusive and you have specified both."
            )))
        }
        (Some(v), None, None) => Sample::Value(v),
        (None, Some(s), None) => {
            if s.sample_count <= 0.0 {
                return Err(CwError::InvalidParameterValue(format!("The parameter {prefix}.StatisticValues.SampleCount must be greater than 0.")));
            }
            if s.maximum < s.minimum {
                return Err(CwError::InvalidParameterValue(format!(
                    "The parameter {prefix}.StatisticValues.Maximum must be greater than {prefix}.StatisticValues.Minimum."
                )));
            }
            Sample::Stats(StatisticSet { sample_count: s.sample_count, sum: s.sum, minimum: s.minimum, maximum: s.maximum })
        }
        (None, None, Some(values)) => {
            let counts = d.counts.clone().unwrap_or_default();
            if values.is_empty() {
                return Err(CwError::MissingParameter(format!("The parameter {prefix}.Values is required.")));
            }
            if values.len() > 150 {
                return Err(CwError::InvalidParameterValue(format!("The collection {prefix}.Values must not have a size greater than 150.")));
            }
            if !counts.is_empty() && counts.len() != values.len() {
                return Err(CwError::InvalidParameterValue(format!("The parameters {prefix}.Values and {prefix}.Counts must be of the same size.")));
            }
            if let Some(c) = counts.iter().find(|c| **c < 0.0) {
                return Err(CwError::InvalidParameterValue(format!("The value {c} for parameter {prefix}.Counts is invalid.")));
            }
            Sample::Values { values: values.clone(), counts }
        }
        (None, None, None) => {
            return Err(CwError::InvalidParameterCombination(format!("At least one of the parameters {prefix}.Value and {prefix}.StatisticValues must be specified.")))
        }
    };
    if d.counts.is_some() && d.values.is_none() {
        return Err(CwError::InvalidParameterCombination(format!(
            "The parameter {prefix}.Counts must be used with {prefix}.Values."
        )));
    }
    let resolution = d.storage_resolution.unwrap_or(60);
    if resolution != 1 && resolution != 60 {
        return Err(CwError::InvalidParameterValue(format!("The value {resolution} for parameter {prefix}.StorageResolution is invalid. Valid values are 1 and 60.")));
    }
    let datum = MetricDatum {
        namespace: namespace.to_string(),
        name: d.metric_name.clone(),
        dimensions: dims,
        unit: unit(&format!("{prefix}.Unit"), d.unit.as_deref())?.unwrap_or(Unit::None),
        timestamp,
        value: sample,
        storage_resolution: resolution as u32,
    };
    // The store's own checks (magnitudes beyond 2^360), reported with this member's name.
    datum.validated().map_err(|e| match e {
        hearth_runtime::metrics::MetricsError::InvalidParameterValue(m) => {
            CwError::InvalidParameterValue(
                m.replace("parameter Value", &format!("parameter {prefix}.Value"))
                    .replace("parameter Values", &format!("parameter {prefix}.Values")),
            )
        }
        other => other.into(),
    })
}

/// PutMetricData: validate every datum, then write them all in one transaction.
pub async fn put_metric_data(cw: &Engine, ctx: &RequestContext, raw: Value) -> CwResult<()> {
    reject_special_numbers(&raw)?;
    let req: api::PutMetricDataInput = input(raw)?;
    check_namespace("Namespace", &req.namespace)?;
    if req.namespace.starts_with("AWS/") {
        return Err(CwError::InvalidParameterValue("The value AWS/ for parameter Namespace is invalid.".into()));
    }
    let now = cw.clock.now();
    let mut items: Vec<(String, &api::MetricDatum)> = Vec::new();
    for (i, d) in req.metric_data.iter().flatten().enumerate() {
        items.push((format!("MetricData.member.{}", i + 1), d));
    }
    let entities = req.entity_metric_data.as_deref().unwrap_or_default();
    if entities.len() > 2 {
        return Err(CwError::InvalidParameterValue(
            "The collection EntityMetricData must not have a size greater than 2.".into(),
        ));
    }
    for (e, entity) in entities.iter().enumerate() {
        for (i, d) in entity.metric_data.iter().flatten().enumerate() {
            items.push((
                format!(
                    "EntityMetricData.member.{}.MetricData.member.{}",
                    e + 1,
                    i + 1
                ),
                d,
            ));
        }
    }
    if items.is_empty() {
        return Err(CwError::MissingParameter(
            "The parameter MetricData is required.".into(),
        ));
    }
    if items.len() > 1000 {
        return Err(CwError::InvalidParameterValue(
            "The collection MetricData must not have a size greater than 1000.".into(),
        ));
    }
    let data = items
        .iter()
        .map(|(prefix, d)| datum(&req.namespace, prefix, d, now))
        .collect::<CwResult<Vec<_>>>()?;
    cw.metrics.put(&scope(ctx), data).await?;
    Ok(())
}

fn check_times(start: i64, end: i64) -> CwResult<()> {
    if start >= end {
        return Err(CwError::InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.".into(),
        ));
    }
    Ok(())
}

/// GetMetricStatistics.
pub async fn get_metric_statistics(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::GetMetricStatisticsInput,
) -> CwResult<api::GetMetricStatisticsOutput> {
    check_namespace("Namespace", &req.namespace)?;
    check_len("MetricName", &req.metric_name, 1, 255)?;
    let dims = dimensions("Dimensions", req.dimensions.as_deref())?;
    let period = req.period as i64;
    check_period("Period", period, &[1, 5, 10, 30])?;
    let (start, end) = (secs(&req.start_time), secs(&req.end_time));
    check_times(start, end)?;
    let basic = req.statistics.as_deref().unwrap_or_default();
    let extended = req.extended_statistics.as_deref().unwrap_or_default();
    match (basic.is_empty(), extended.is_empty()) {
        (true, true) => {
            return Err(CwError::MissingParameter(
                "Must specify either Statistics or ExtendedStatistics.".into(),
            ))
        }
        (false, false) => {
            return Err(CwError::InvalidParameterCombination(
                "Must specify either Statistics or ExtendedStatistics, but not both.".into(),
            ))
        }
        _ => {}
    }
    if basic.len() > 5 {
        return Err(CwError::InvalidParameterValue(
            "The collection Statistics must not have a size greater than 5.".into(),
        ));
    }
    if extended.len() > 10 {
        return Err(CwError::InvalidParameterValue(
            "The collection ExtendedStatistics must not have a size greater than 10.".into(),
        ));
    }
    let mut stats = Vec::new();
    for (i, s) in basic.iter().enumerate() {
        let stat = Stat::basic(s).ok_or_else(|| {
            CwError::InvalidParameterValue(format!(
                "The parameter Statistics.member.{} must be a value in the set {STATISTIC_SET}.",
                i + 1
            ))
        })?;
        stats.push((s.clone(), stat));
    }
    let mut ext = Vec::new();
    for (i, s) in extended.iter().enumerate() {
        let stat = Stat::extended(s)
            .filter(|st| matches!(st, Stat::Percentile(_)))
            .ok_or_else(|| CwError::InvalidParameterValue(format!("The value {s} for parameter ExtendedStatistics.member.{} is not a valid percentile (p0.0 - p100).", i + 1)))?;
        ext.push((s.clone(), stat));
    }
    let unit = unit("Unit", req.unit.as_deref())?;
    let origin = aligned_start(start, period);
    let requested = (end - start) / period;
    if requested > MAX_STATISTICS_DATAPOINTS {
        return Err(CwError::InvalidParameterCombination(format!(
            "You have requested up to {} datapoints, which exceeds the limit of {}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
            thousands(requested),
            thousands(MAX_STATISTICS_DATAPOINTS)
        )));
    }
    let _ = cw.metrics.flush().await;
    let scope = scope(ctx);
    let metric = MetricId::new(req.namespace.clone(), req.metric_name.clone(), dims);
    let points = cw
        .metrics
        .query(&scope, &metric, epoch(origin), epoch(end))
        .await?;
    let buckets = bucketize(&points, origin, period, unit);
    let datapoints = buckets
        .values()
        .map(|b| {
            let get = |name: &str| {
                stats
                    .iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, s)| b.stat(*s))
            };
            let extended: BTreeMap<String, f64> = ext
                .iter()
                .filter_map(|(n, s)| b.stat(*s).map(|v| (n.clone(), v)))
                .collect();
            api::Datapoint {
                timestamp: Some(ts(b.start)),
                sample_count: get("SampleCount"),
                average: get("Average"),
                sum: get("Sum"),
                minimum: get("Minimum"),
                maximum: get("Maximum"),
                unit: Some(unit.unwrap_or(b.unit).as_str().to_string()),
                extended_statistics: (!ext.is_empty() && !extended.is_empty()).then_some(extended),
            }
        })
        .collect();
    Ok(api::GetMetricStatisticsOutput {
        label: Some(req.metric_name),
        datapoints: Some(datapoints),
    })
}

fn thousands(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn epoch(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A GetMetricData (or alarm `Metrics`) query list, validated.
pub fn queries(
    list: &[api::MetricDataQuery],
    param: &str,
    period_param_high_res: &[i64],
) -> CwResult<Vec<Query>> {
    if list.is_empty() {
        return Err(CwError::MissingParameter(format!(
            "The parameter {param} is required."
        )));
    }
    if list.len() > 500 {
        return Err(CwError::InvalidParameterValue(format!(
            "The collection {param} must not have a size greater than 500."
        )));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, q) in list.iter().enumerate() {
        let prefix = format!("{param}.member.{}", i + 1);
        if !query::valid_id(&q.id) {
            return Err(CwError::ValidationError(format!("The value {} for parameter {prefix}.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.", q.id)));
        }
        let period = q.period.map(|p| p as i64);
        if let Some(p) = period {
            check_period(&format!("{prefix}.Period"), p, period_param_high_res)?;
        }
        let kind = match (&q.metric_stat, &q.expression) {
            (Some(_), Some(_)) => {
                return Err(CwError::InvalidParameterCombination(format!("The parameters {prefix}.MetricStat and {prefix}.Expression are mutually exclusive and you have specified both.")))
            }
            (None, None) => return Err(CwError::MissingParameter(format!("One of the parameters {prefix}.MetricStat or {prefix}.Expression must be specified."))),
            (None, Some(e)) => {
                check_len(&format!("{prefix}.Expression"), e, 1, 2048)?;
                QueryKind::Expression(e.clone())
            }
            (Some(ms), None) => {
                let m = &ms.metric;
                let ns = m.namespace.as_deref().ok_or_else(|| CwError::MissingParameter(format!("The parameter {prefix}.MetricStat.Metric.Namespace is required.")))?;
                check_namespace(&format!("{prefix}.MetricStat.Metric.Namespace"), ns)?;
                let name = m.metric_name.as_deref().ok_or_else(|| CwError::MissingParameter(format!("The parameter {prefix}.MetricStat.Metric.MetricName is required.")))?;
                check_len(&format!("{prefix}.MetricStat.Metric.MetricName"), name, 1, 255)?;
                let dims = dimensions(&format!("{prefix}.MetricStat.Metric.Dimensions"), m.dimensions.as_deref())?;
                let p = ms.period as i64;
                check_period(&format!("{prefix}.MetricStat.Period"), p, period_param_high_res)?;
                let stat = Stat::parse(&ms.stat).ok_or_else(|| CwError::InvalidParameterValue(format!("The value {} for parameter {prefix}.MetricStat.Stat is invalid.", ms.stat)))?;
                QueryKind::Metric(MetricStatQuery { metric: MetricId::new(ns, name, dims), period: p, stat, unit: unit(&format!("{prefix}.MetricStat.Unit"), ms.unit.as_deref())? })
            }
        };
        out.push(Query {
            id: q.id.clone(),
            label: q.label.clone(),
            return_data: q.return_data.unwrap_or(true),
            period,
            kind,
        });
    }
    Ok(out)
}

/// GetMetricData.
pub async fn get_metric_data(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::GetMetricDataInput,
) -> CwResult<api::GetMetricDataOutput> {
    let qs = queries(
        &req.metric_data_queries,
        "MetricDataQueries",
        &[1, 5, 10, 20, 30],
    )?;
    let (start, end) = (secs(&req.start_time), secs(&req.end_time));
    check_times(start, end)?;
    let max = req
        .max_datapoints
        .map(i64::from)
        .unwrap_or(MAX_METRIC_DATA_DATAPOINTS);
    if max <= 0 {
        return Err(CwError::InvalidParameterValue(
            "The parameter MaxDatapoints must be greater than 0.".into(),
        ));
    }
    let descending = match req.scan_by.as_deref() {
        None | Some("TimestampDescending") => true,
        Some("TimestampAscending") => false,
        Some(other) => {
            return Err(CwError::InvalidParameterValue(format!(
                "The value {other} for parameter ScanBy is invalid."
            )))
        }
    };
    let skip: usize = match &req.next_token {
        Some(t) => token_position(t)?.parse().map_err(|_| {
            CwError::InvalidNextToken(
                "The service couldn't process your request because the NextToken is invalid."
                    .into(),
            )
        })?,
        None => 0,
    };
    let _ = cw.metrics.flush().await;
    let scope = scope(ctx);
    let results = query::run(
        &StorePoints {
            metrics: &cw.metrics,
            scope: &scope,
        },
        &qs,
        start,
        end,
    )
    .await?;
    // Page over all results' datapoints in order.
    let mut position = 0usize;
    let mut budget = max as usize;
    let mut out = Vec::new();
    let mut more = false;
    for r in results {
        let mut points: Vec<(i64, f64)> = r.points.into_iter().collect();
        if descending {
            points.reverse();
        }
        let n = points.len();
        let first = position;
        position += n;
        if (n == 0 && skip > 0) || (n > 0 && first + n <= skip) {
            continue;
        }
        if budget == 0 && n > 0 {
            more = true;
            break;
        }
        let from = skip.saturating_sub(first).min(n);
        let take = (n - from).min(budget);
        budget -= take;
        let partial = from + take < n;
        more |= partial;
        let slice = &points[from..from + take];
        out.push(api::MetricDataResult {
            id: Some(r.id),
            label: Some(r.label),
            timestamps: Some(slice.iter().map(|(t, _)| ts(*t)).collect()),
            values: Some(slice.iter().map(|(_, v)| *v).collect()),
            status_code: Some(if partial { "PartialData" } else { "Complete" }.into()),
            messages: None,
        });
    }
    let consumed = skip + (max as usize - budget);
    Ok(api::GetMetricDataOutput {
        metric_data_results: Some(out),
        next_token: more.then(|| next_token(&consumed.to_string())),
        messages: Some(Vec::new()),
    })
}

/// ListMetrics.
pub async fn list_metrics(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::ListMetricsInput,
) -> CwResult<api::ListMetricsOutput> {
    if let Some(ns) = &req.namespace {
        check_namespace("Namespace", ns)?;
    }
    if let Some(n) = &req.metric_name {
        check_len("MetricName", n, 1, 255)?;
    }
    let filters = req.dimensions.as_deref().unwrap_or_default();
    if filters.len() > 10 {
        return Err(CwError::InvalidParameterValue(
            "The collection Dimensions must not have a size greater than 10.".into(),
        ));
    }
    let mut dims = Vec::new();
    for (i, f) in filters.iter().enumerate() {
        check_len(
            &format!("Dimensions.member.{}.Name", i + 1),
            &f.name,
            1,
            255,
        )?;
        if let Some(v) = &f.value {
            check_len(&format!("Dimensions.member.{}.Value", i + 1), v, 1, 1024)?;
        }
        dims.push(DimensionFilter {
            name: f.name.clone(),
            value: f.value.clone(),
        });
    }
    let now = cw.clock.now();
    let active_since = match req.recently_active.as_deref() {
        None => now - time::Duration::days(14),
        Some("PT3H") => now - time::Duration::hours(3),
        Some(other) => {
            return Err(CwError::InvalidParameterValue(format!(
                "The value {other} for parameter RecentlyActive is invalid."
            )))
        }
    };
    let skip: usize = match &req.next_token {
        Some(t) => token_position(t)?.parse().map_err(|_| {
            CwError::InvalidNextToken(
                "The service couldn't process your request because the NextToken is invalid."
                    .into(),
            )
        })?,
        None => 0,
    };
    let _ = cw.metrics.flush().await;
    let q = ListMetricsQuery {
        namespace: req.namespace.clone(),
        name: req.metric_name.clone(),
        dimensions: dims,
        active_since: Some(active_since),
    };
    let all = cw.metrics.list_metrics(&scope(ctx), &q).await?;
    let page: Vec<api::Metric> = all
        .iter()
        .skip(skip)
        .take(LIST_PAGE)
        .map(|m| api::Metric {
            namespace: Some(m.namespace.clone()),
            metric_name: Some(m.name.clone()),
            dimensions: Some(wire_dimensions(&m.dimensions)),
        })
        .collect();
    let next =
        (skip + page.len() < all.len()).then(|| next_token(&(skip + page.len()).to_string()));
    Ok(api::ListMetricsOutput {
        metrics: Some(page),
        next_token: next,
        owning_accounts: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_numbers_are_invalid_parameter_values() {
        let raw = serde_json::json!({"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.0}, {"MetricName": "m", "Value": "NaN"}]});
        let e = reject_special_numbers(&raw).unwrap_err();
        assert!(
            matches!(e, CwError::InvalidParameterValue(ref m) if m == "The value NaN for parameter MetricData.member.2.Value is invalid."),
            "{e:?}"
        );
        assert_eq!(thousands(1441), "1,441");
        assert_eq!(thousands(100800), "100,800");
        assert_eq!(thousands(12), "12");
    }
}
