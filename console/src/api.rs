//! The console's JSON data API under `/console/api/`. Every handler takes [`Signed`], so a
//! request without a live session gets 401 before anything is read, and every read is scoped to
//! the session's account (the region is the caller's choice, as in the AWS console).
//!
//! - `GET session` → who is signed in, the default region, the session's expiry;
//! - `GET namespaces?region=` → the namespaces that have metrics;
//! - `GET metrics?region=&namespace=` → that namespace's metrics with their dimensions;
//! - `GET statistics?region=&namespace=&metricName=&dimensions={json}&statistic=&period=&start=&end=`
//!   → one statistic per period (`start`/`end` in Unix seconds; default the last 3 hours);
//! - `GET alarms?region=` → every alarm with its state and reason;
//! - `GET alarm-history?region=&alarmName=` → one alarm's history, newest first.
//!
//! Reads go through the CloudWatch service's in-process API, so they match what boto3 sees.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use hearth_cloudwatch::api::{AlarmHistoryItem, MetricAlarm};
use hearth_cloudwatch::CwError;
use hearth_runtime::metrics::MetricId;
use hearth_runtime::Scope;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth::Signed;
use crate::http_util::{json, ApiError};
use crate::session::SessionInfo;
use crate::stats;
use crate::Console;

/// The default time range of the explorer.
const DEFAULT_RANGE_SECS: i64 = 3 * 3600;
/// History items the alarms page shows per alarm (DescribeAlarmHistory's largest page).
const HISTORY_ITEMS: usize = 100;

/// A time as RFC 3339 text (empty if it cannot be formatted).
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// What `GET /console/api/session` (and a successful sign-in) returns.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionView {
    access_key_id: String,
    account_id: String,
    region: String,
    expires: String,
}

impl SessionView {
    pub(crate) fn new(s: &SessionInfo, region: &str) -> Self {
        SessionView {
            access_key_id: s.access_key_id.clone(),
            account_id: s.account.clone(),
            region: region.to_string(),
            expires: rfc3339(s.expires),
        }
    }
}

pub(crate) async fn session(State(console): State<Console>, Signed(s): Signed) -> Response {
    json(
        StatusCode::OK,
        &SessionView::new(&s, &console.inner.default_region),
    )
}

#[derive(Deserialize)]
pub(crate) struct RegionQuery {
    region: Option<String>,
}

/// The scope of a request: the session's account in the asked (or default) region.
pub(crate) fn scope(
    console: &Console,
    s: &SessionInfo,
    region: Option<&str>,
) -> Result<Scope, ApiError> {
    let region = region
        .filter(|r| !r.is_empty())
        .unwrap_or(&console.inner.default_region);
    let valid = region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(ApiError::invalid(format!(
            "The value {region} for parameter region is invalid."
        )));
    }
    Ok(Scope::new(s.account.clone(), region))
}

/// A CloudWatch error as the console answers it: client errors keep AWS's code and message,
/// anything else is an internal failure (logged).
fn cw_error(e: CwError) -> ApiError {
    match e {
        CwError::InvalidParameterValue(m) => ApiError::invalid(m),
        CwError::MissingParameter(m) => {
            ApiError::new(StatusCode::BAD_REQUEST, "MissingParameter", m)
        }
        CwError::InvalidParameterCombination(m) => {
            ApiError::new(StatusCode::BAD_REQUEST, "InvalidParameterCombination", m)
        }
        CwError::ResourceNotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFound", m),
        other => ApiError::internal(other),
    }
}

#[derive(Serialize)]
struct Namespaces {
    namespaces: Vec<String>,
}

pub(crate) async fn namespaces(
    State(console): State<Console>,
    Signed(s): Signed,
    Query(q): Query<RegionQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&console, &s, q.region.as_deref())?;
    let all = console
        .inner
        .cloudwatch
        .list_metrics(&scope.account, &scope.region, None)
        .await
        .map_err(cw_error)?;
    let namespaces: BTreeSet<String> = all.into_iter().map(|m| m.namespace).collect();
    Ok(json(
        StatusCode::OK,
        &Namespaces {
            namespaces: namespaces.into_iter().collect(),
        },
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MetricsQuery {
    region: Option<String>,
    namespace: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricView {
    metric_name: String,
    /// Dimension name → value.
    dimensions: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct MetricList {
    metrics: Vec<MetricView>,
}

pub(crate) async fn metrics(
    State(console): State<Console>,
    Signed(s): Signed,
    Query(q): Query<MetricsQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&console, &s, q.region.as_deref())?;
    let namespace = q
        .namespace
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::missing("namespace"))?;
    let found = console
        .inner
        .cloudwatch
        .list_metrics(&scope.account, &scope.region, Some(&namespace))
        .await
        .map_err(cw_error)?;
    let metrics = found
        .into_iter()
        .map(|m| MetricView {
            metric_name: m.name,
            dimensions: m.dimensions.into_iter().collect(),
        })
        .collect();
    Ok(json(StatusCode::OK, &MetricList { metrics }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatisticsQuery {
    region: Option<String>,
    namespace: Option<String>,
    metric_name: Option<String>,
    /// A JSON object of dimension name → value (`{}` or absent: no dimensions).
    dimensions: Option<String>,
    statistic: Option<String>,
    period: Option<i64>,
    /// Unix seconds.
    start: Option<i64>,
    /// Unix seconds.
    end: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeriesView {
    namespace: String,
    metric_name: String,
    dimensions: BTreeMap<String, String>,
    statistic: String,
    period: i64,
    start: i64,
    end: i64,
    datapoints: Vec<PointView>,
}

#[derive(Serialize)]
struct PointView {
    /// Unix seconds of the period's start.
    timestamp: i64,
    value: f64,
}

pub(crate) async fn statistics(
    State(console): State<Console>,
    Signed(s): Signed,
    Query(q): Query<StatisticsQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&console, &s, q.region.as_deref())?;
    let namespace = q
        .namespace
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::missing("namespace"))?;
    let metric_name = q
        .metric_name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::missing("metricName"))?;
    let dimensions: BTreeMap<String, String> = match q.dimensions.as_deref() {
        None | Some("") => BTreeMap::new(),
        Some(d) => serde_json::from_str(d).map_err(|_| {
            ApiError::invalid(
                "The parameter dimensions must be a JSON object of dimension names to values.",
            )
        })?,
    };
    if dimensions.len() > 30 {
        return Err(ApiError::invalid(
            "The collection Dimensions must not have a size greater than 30.",
        ));
    }
    let statistic = q
        .statistic
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "Average".to_string());
    let period = q.period.unwrap_or(60);
    let now = console.inner.clock.now().unix_timestamp();
    let end = q.end.unwrap_or(now);
    let start = q.start.unwrap_or(end.saturating_sub(DEFAULT_RANGE_SECS));
    let time = |name: &str, t: i64| {
        OffsetDateTime::from_unix_timestamp(t)
            .map_err(|_| ApiError::invalid(format!("The parameter {name} is out of range.")))
    };
    let (start_t, end_t) = (time("start", start)?, time("end", end)?);
    stats::check_range(period, start_t, end_t).map_err(ApiError::invalid)?;

    let id = MetricId::new(
        namespace.clone(),
        metric_name.clone(),
        dimensions.clone().into_iter().collect(),
    );
    // Whole periods: from the start of the first to the end of the last, so the current
    // (still filling) period shows as the latest datapoint, as in the AWS console.
    let query_end = stats::align(end_t, period)
        .checked_add(time::Duration::seconds(period))
        .unwrap_or(end_t);
    let points = console
        .inner
        .cloudwatch
        .metric_statistics(
            &scope.account,
            &scope.region,
            &id,
            &statistic,
            period,
            stats::align(start_t, period),
            query_end,
        )
        .await
        .map_err(cw_error)?;
    let view = SeriesView {
        namespace,
        metric_name,
        dimensions,
        statistic,
        period,
        start,
        end,
        datapoints: points
            .into_iter()
            .map(|(t, value)| PointView {
                timestamp: t.unix_timestamp(),
                value,
            })
            .collect(),
    };
    Ok(json(StatusCode::OK, &view))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlarmView {
    alarm_name: String,
    alarm_arn: String,
    alarm_description: Option<String>,
    state_value: String,
    state_reason: String,
    state_updated: Option<String>,
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: BTreeMap<String, String>,
    /// `Statistic` or `ExtendedStatistic`.
    statistic: Option<String>,
    period: Option<i32>,
    evaluation_periods: Option<i32>,
    datapoints_to_alarm: Option<i32>,
    threshold: Option<f64>,
    comparison_operator: Option<String>,
    treat_missing_data: Option<String>,
    actions_enabled: bool,
    alarm_actions: Vec<String>,
    ok_actions: Vec<String>,
    insufficient_data_actions: Vec<String>,
}

impl From<MetricAlarm> for AlarmView {
    fn from(a: MetricAlarm) -> Self {
        AlarmView {
            alarm_name: a.alarm_name.unwrap_or_default(),
            alarm_arn: a.alarm_arn.unwrap_or_default(),
            alarm_description: a.alarm_description,
            state_value: a.state_value.unwrap_or_else(|| "INSUFFICIENT_DATA".into()),
            state_reason: a.state_reason.unwrap_or_default(),
            state_updated: a.state_updated_timestamp.map(|t| rfc3339(t.0)),
            namespace: a.namespace,
            metric_name: a.metric_name,
            dimensions: a
                .dimensions
                .unwrap_or_default()
                .into_iter()
                .map(|d| (d.name, d.value))
                .collect(),
            statistic: a.statistic.or(a.extended_statistic),
            period: a.period,
            evaluation_periods: a.evaluation_periods,
            datapoints_to_alarm: a.datapoints_to_alarm,
            threshold: a.threshold,
            comparison_operator: a.comparison_operator,
            treat_missing_data: a.treat_missing_data,
            actions_enabled: a.actions_enabled.unwrap_or(true),
            alarm_actions: a.alarm_actions.unwrap_or_default(),
            ok_actions: a.ok_actions.unwrap_or_default(),
            insufficient_data_actions: a.insufficient_data_actions.unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlarmList {
    alarms: Vec<AlarmView>,
}

pub(crate) async fn alarms(
    State(console): State<Console>,
    Signed(s): Signed,
    Query(q): Query<RegionQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&console, &s, q.region.as_deref())?;
    let alarms = console
        .inner
        .cloudwatch
        .describe_alarms(&scope.account, &scope.region, None, None)
        .await
        .map_err(cw_error)?;
    Ok(json(
        StatusCode::OK,
        &AlarmList {
            alarms: alarms.into_iter().map(AlarmView::from).collect(),
        },
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HistoryQuery {
    region: Option<String>,
    alarm_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryView {
    timestamp: Option<String>,
    history_item_type: String,
    history_summary: String,
}

impl From<AlarmHistoryItem> for HistoryView {
    fn from(h: AlarmHistoryItem) -> Self {
        HistoryView {
            timestamp: h.timestamp.map(|t| rfc3339(t.0)),
            history_item_type: h.history_item_type.unwrap_or_default(),
            history_summary: h.history_summary.unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryList {
    alarm_name: String,
    history: Vec<HistoryView>,
}

pub(crate) async fn alarm_history(
    State(console): State<Console>,
    Signed(s): Signed,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&console, &s, q.region.as_deref())?;
    let name = q
        .alarm_name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::missing("alarmName"))?;
    if name.chars().count() > 255 {
        return Err(ApiError::invalid(
            "The parameter AlarmName must be between 1 and 255 characters long.",
        ));
    }
    let history = console
        .inner
        .cloudwatch
        .alarm_history(&scope.account, &scope.region, Some(&name), HISTORY_ITEMS)
        .await
        .map_err(cw_error)?;
    Ok(json(
        StatusCode::OK,
        &HistoryList {
            alarm_name: name,
            history: history.into_iter().map(HistoryView::from).collect(),
        },
    ))
}

/// Any other path under `/console/api/`: 401 without a session (nothing is revealed), else 404.
pub(crate) async fn not_found(Signed(_): Signed) -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "NotFound", "No such console API.").into_response()
}
