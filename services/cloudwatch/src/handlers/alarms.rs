//! Metric alarms: PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric,
//! DescribeAlarmHistory, SetAlarmState, DeleteAlarms, EnableAlarmActions and
//! DisableAlarmActions. Every change is written with its history item in one transaction and
//! wakes the evaluator ([`crate::jobs`]), which evaluates new alarms at once and runs the
//! actions of transitions.

use hearth_protocol::types::Timestamp;
use hearth_protocol::RequestContext;
use hearth_runtime::{Expect, ListQuery, MetaError, Scope};

use super::metrics::{queries, unit};
use super::{
    check_len, check_namespace, check_period, dimensions, next_token, scope, token_position,
    wire_dimensions,
};
use crate::api;
use crate::documents;
use crate::domain::alarm::{Comparison, StateValue, TreatMissing};
use crate::domain::query::QueryKind;
use crate::domain::stats::Stat;
use crate::error::{CwError, CwResult};
use crate::jobs::{pending_for, state_history, write_alarm, Engine};
use crate::store::{Alarm, AlarmQuery, AlarmScope, AlarmSource, HistoryItem, MetricName};

/// Alarms per account and region.
const MAX_ALARMS: usize = 5000;
const COMPARISONS: &str = "[GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]";

/// The ARN of an alarm.
pub fn alarm_arn(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:cloudwatch:{}:{}:alarm:{name}",
        scope.region, scope.account
    )
}

fn check_actions(param: &str, list: &Option<Vec<String>>) -> CwResult<Vec<String>> {
    let list = list.clone().unwrap_or_default();
    if list.len() > 5 {
        return Err(CwError::InvalidParameterValue(format!(
            "The collection {param} must not have a size greater than 5."
        )));
    }
    for (i, arn) in list.iter().enumerate() {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() < 6 || parts[0] != "arn" || parts[2].is_empty() || arn.len() > 1024 {
            return Err(CwError::InvalidParameterValue(format!(
                "Invalid arn syntax: {arn} (parameter {param}.member.{}).",
                i + 1
            )));
        }
    }
    Ok(list)
}

fn invalid_enum(param: &str, value: &str, set: &str) -> CwError {
    CwError::InvalidParameterValue(format!(
        "The value {value} for parameter {param} is not a valid value; valid values are {set}."
    ))
}

/// The alarm `req` describes (validated), keeping the state of `existing`.
fn build(
    scope: &Scope,
    req: &api::PutMetricAlarmInput,
    existing: Option<&Alarm>,
    now: time::OffsetDateTime,
) -> CwResult<Alarm> {
    check_len("AlarmName", &req.alarm_name, 1, 255)?;
    if req.alarm_name.chars().any(|c| c.is_control()) {
        return Err(CwError::InvalidParameterValue(format!(
            "The value {} for parameter AlarmName is invalid: control characters are not allowed.",
            req.alarm_name.escape_debug()
        )));
    }
    if let Some(d) = &req.alarm_description {
        check_len("AlarmDescription", d, 0, 1024)?;
    }
    let ok_actions = check_actions("OKActions", &req.ok_actions)?;
    let alarm_actions = check_actions("AlarmActions", &req.alarm_actions)?;
    let insufficient_data_actions =
        check_actions("InsufficientDataActions", &req.insufficient_data_actions)?;
    let evaluation_periods = req.evaluation_periods.ok_or_else(|| {
        CwError::MissingParameter("The parameter EvaluationPeriods is required.".into())
    })?;
    if evaluation_periods < 1 {
        return Err(CwError::InvalidParameterValue(
            "The parameter EvaluationPeriods must be greater than or equal to 1.".into(),
        ));
    }
    let comparison = req.comparison_operator.as_deref().ok_or_else(|| {
        CwError::MissingParameter("The parameter ComparisonOperator is required.".into())
    })?;
    if Comparison::parse(comparison).is_none() {
        return Err(match comparison {
            "LessThanLowerOrGreaterThanUpperThreshold" | "LessThanLowerThreshold" | "GreaterThanUpperThreshold" => CwError::InvalidParameterValue(format!(
                "ComparisonOperator {comparison} compares with an anomaly detection band (ThresholdMetricId); Hearth does not serve anomaly detection."
            )),
            other => invalid_enum("ComparisonOperator", other, COMPARISONS),
        });
    }
    if req.threshold_metric_id.is_some() {
        return Err(CwError::InvalidParameterCombination("ThresholdMetricId is only used with anomaly detection bands, which Hearth does not serve; give a Threshold instead.".into()));
    }
    let threshold = req
        .threshold
        .ok_or_else(|| CwError::MissingParameter("The parameter Threshold is required.".into()))?;
    if !threshold.is_finite() {
        return Err(CwError::InvalidParameterValue(format!(
            "The value {threshold} for parameter Threshold is invalid."
        )));
    }
    if let Some(m) = req.datapoints_to_alarm {
        if m < 1 {
            return Err(CwError::InvalidParameterValue(
                "The parameter DatapointsToAlarm must be greater than or equal to 1.".into(),
            ));
        }
        if m > evaluation_periods {
            return Err(CwError::InvalidParameterCombination(
                "DatapointsToAlarm must be less than or equal to EvaluationPeriods.".into(),
            ));
        }
    }
    if let Some(t) = &req.treat_missing_data {
        if TreatMissing::parse(t).is_none() {
            return Err(invalid_enum(
                "TreatMissingData",
                t,
                "[breaching, notBreaching, ignore, missing]",
            ));
        }
    }

    let uses_metric = req.metric_name.is_some()
        || req.namespace.is_some()
        || req.statistic.is_some()
        || req.extended_statistic.is_some()
        || req.dimensions.is_some()
        || req.period.is_some()
        || req.unit.is_some();
    let (source, period) = match &req.metrics {
        Some(list) => {
            if uses_metric {
                return Err(CwError::InvalidParameterCombination(
                    "The parameters Metrics and MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions, Period or Unit are mutually exclusive.".into(),
                ));
            }
            if list.len() > 20 {
                return Err(CwError::InvalidParameterValue(
                    "The collection Metrics must not have a size greater than 20.".into(),
                ));
            }
            let parsed = queries(list, "Metrics", &[10, 20, 30])?;
            let returned: Vec<_> = parsed.iter().filter(|q| q.return_data).collect();
            if returned.len() != 1 {
                return Err(CwError::InvalidParameterValue(
                    "Exactly one element of the metrics list should return data.".into(),
                ));
            }
            let period = match &returned[0].kind {
                QueryKind::Metric(m) => m.period,
                QueryKind::Expression(_) => returned[0]
                    .period
                    .or_else(|| parsed.iter().filter_map(|q| if let QueryKind::Metric(m) = &q.kind { Some(m.period) } else { None }).max())
                    .ok_or_else(|| CwError::InvalidParameterValue("The parameter Metrics must contain a metric or an expression with a Period.".into()))?,
            };
            let stored = list
                .iter()
                .zip(&parsed)
                .map(|(q, p)| AlarmQuery {
                    id: q.id.clone(),
                    label: q.label.clone(),
                    return_data: q.return_data,
                    period: match &p.kind {
                        QueryKind::Metric(m) => Some(m.period),
                        QueryKind::Expression(_) => p.period,
                    },
                    expression: q.expression.clone(),
                    metric: match &p.kind {
                        QueryKind::Metric(m) => Some(MetricName {
                            namespace: m.metric.namespace.clone(),
                            name: m.metric.name.clone(),
                            dimensions: m.metric.dimensions.clone(),
                        }),
                        QueryKind::Expression(_) => None,
                    },
                    stat: q.metric_stat.as_ref().map(|m| m.stat.clone()),
                    unit: q.metric_stat.as_ref().and_then(|m| m.unit.clone()),
                    account_id: q.account_id.clone(),
                })
                .collect();
            (AlarmSource::Math { queries: stored }, period)
        }
        None => {
            let name = req.metric_name.as_deref().ok_or_else(|| {
                CwError::MissingParameter("The parameter MetricName is required.".into())
            })?;
            check_len("MetricName", name, 1, 255)?;
            let ns = req.namespace.as_deref().ok_or_else(|| {
                CwError::MissingParameter("The parameter Namespace is required.".into())
            })?;
            check_namespace("Namespace", ns)?;
            let dims = dimensions("Dimensions", req.dimensions.as_deref())?;
            let period = req.period.ok_or_else(|| {
                CwError::MissingParameter("The parameter Period is required.".into())
            })? as i64;
            check_period("Period", period, &[10, 20, 30])?;
            let (statistic, extended) = match (&req.statistic, &req.extended_statistic) {
                (Some(_), Some(_)) => return Err(CwError::InvalidParameterCombination("The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.".into())),
                (None, None) => return Err(CwError::MissingParameter("One of the parameters Statistic or ExtendedStatistic must be specified.".into())),
                (Some(s), None) => {
                    Stat::basic(s).ok_or_else(|| invalid_enum("Statistic", s, "[SampleCount, Average, Sum, Minimum, Maximum]"))?;
                    (s.clone(), false)
                }
                (None, Some(s)) => {
                    Stat::extended(s).ok_or_else(|| CwError::InvalidParameterValue(format!("The value {s} for parameter ExtendedStatistic is not supported.")))?;
                    (s.clone(), true)
                }
            };
            unit("Unit", req.unit.as_deref())?;
            if let Some(e) = &req.evaluate_low_sample_count_percentile {
                if e != "evaluate" && e != "ignore" {
                    return Err(CwError::InvalidParameterValue(format!(
                        "Option {e} is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore."
                    )));
                }
            }
            let metric = MetricName {
                namespace: ns.to_string(),
                name: name.to_string(),
                dimensions: dims,
            };
            (
                AlarmSource::Metric {
                    metric,
                    statistic,
                    extended,
                    period,
                    unit: req.unit.clone(),
                },
                period,
            )
        }
    };
    if period * evaluation_periods as i64 > 86_400 {
        return Err(CwError::InvalidParameterCombination("Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).".into()));
    }
    let tags = match existing {
        // Tags given when updating an alarm are ignored (TagResource changes them).
        Some(a) => a.tags.clone(),
        None => super::tags::check(req.tags.as_deref().unwrap_or_default())?,
    };
    let now_ts = Timestamp(now);
    Ok(Alarm {
        name: req.alarm_name.clone(),
        arn: alarm_arn(scope, &req.alarm_name),
        description: req.alarm_description.clone(),
        actions_enabled: req.actions_enabled.unwrap_or(true),
        ok_actions,
        alarm_actions,
        insufficient_data_actions,
        source,
        period,
        evaluation_periods: evaluation_periods as u32,
        datapoints_to_alarm: req.datapoints_to_alarm.map(|m| m as u32),
        threshold,
        comparison_operator: comparison.to_string(),
        treat_missing_data: req.treat_missing_data.clone(),
        evaluate_low_sample_count_percentile: req.evaluate_low_sample_count_percentile.clone(),
        state: existing.map_or(StateValue::InsufficientData, |a| a.state),
        state_reason: existing.map_or_else(
            || "Unchecked: Initial alarm creation".to_string(),
            |a| a.state_reason.clone(),
        ),
        state_reason_data: existing.and_then(|a| a.state_reason_data.clone()),
        state_updated: existing.map_or(now_ts, |a| a.state_updated),
        state_transitioned: existing.map_or(now_ts, |a| a.state_transitioned),
        config_updated: now_ts,
        evaluated_until: 0,
        pending_actions: existing
            .map(|a| a.pending_actions.clone())
            .unwrap_or_default(),
        tags,
    })
}

/// The wire form of an alarm (DescribeAlarms).
pub fn view(a: &Alarm) -> api::MetricAlarm {
    let mut m = api::MetricAlarm {
        alarm_name: Some(a.name.clone()),
        alarm_arn: Some(a.arn.clone()),
        alarm_description: a.description.clone(),
        alarm_configuration_updated_timestamp: Some(a.config_updated),
        actions_enabled: Some(a.actions_enabled),
        ok_actions: Some(a.ok_actions.clone()),
        alarm_actions: Some(a.alarm_actions.clone()),
        insufficient_data_actions: Some(a.insufficient_data_actions.clone()),
        state_value: Some(a.state.as_str().to_string()),
        state_reason: Some(a.state_reason.clone()),
        state_reason_data: a.state_reason_data.clone(),
        state_updated_timestamp: Some(a.state_updated),
        state_transitioned_timestamp: Some(a.state_transitioned),
        period: Some(a.period as i32),
        evaluation_periods: Some(a.evaluation_periods as i32),
        datapoints_to_alarm: a.datapoints_to_alarm.map(|m| m as i32),
        threshold: Some(a.threshold),
        comparison_operator: Some(a.comparison_operator.clone()),
        treat_missing_data: a.treat_missing_data.clone(),
        evaluate_low_sample_count_percentile: a.evaluate_low_sample_count_percentile.clone(),
        ..Default::default()
    };
    match &a.source {
        AlarmSource::Metric {
            metric,
            statistic,
            extended,
            unit,
            ..
        } => {
            m.metric_name = Some(metric.name.clone());
            m.namespace = Some(metric.namespace.clone());
            m.dimensions = Some(wire_dimensions(&metric.dimensions));
            if *extended {
                m.extended_statistic = Some(statistic.clone());
            } else {
                m.statistic = Some(statistic.clone());
            }
            m.unit = unit.clone();
        }
        AlarmSource::Math { queries } => {
            m.period = None;
            m.metrics = Some(
                queries
                    .iter()
                    .map(|q| api::MetricDataQuery {
                        id: q.id.clone(),
                        label: q.label.clone(),
                        return_data: q.return_data,
                        expression: q.expression.clone(),
                        period: if q.expression.is_some() {
                            q.period.map(|p| p as i32)
                        } else {
                            None
                        },
                        account_id: q.account_id.clone(),
                        metric_stat: q.metric.as_ref().map(|mm| api::MetricStat {
                            metric: api::Metric {
                                namespace: Some(mm.namespace.clone()),
                                metric_name: Some(mm.name.clone()),
                                dimensions: Some(wire_dimensions(&mm.dimensions)),
                            },
                            period: q.period.unwrap_or(a.period) as i32,
                            stat: q.stat.clone().unwrap_or_default(),
                            unit: q.unit.clone(),
                        }),
                    })
                    .collect(),
            );
        }
    }
    m
}

fn config_doc(a: &Alarm) -> serde_json::Value {
    serde_json::to_value(view(a)).unwrap_or_default()
}

/// PutMetricAlarm: create or replace an alarm (its state is kept on update).
pub async fn put_metric_alarm(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::PutMetricAlarmInput,
) -> CwResult<()> {
    let scope = scope(ctx);
    cw.meta
        .put(
            &Scope::global(),
            &format!("{}/{}", scope.account, scope.region),
            &AlarmScope {
                account: scope.account.clone(),
                region: scope.region.clone(),
            },
            Expect::Any,
        )
        .await?;
    for _ in 0..5 {
        let now = cw.clock.now();
        let existing = cw.meta.get::<Alarm>(&scope, &req.alarm_name).await?;
        if existing.is_none() {
            let count = cw
                .meta
                .list::<Alarm>(
                    &scope,
                    &ListQuery {
                        limit: Some(MAX_ALARMS),
                        ..Default::default()
                    },
                )
                .await?
                .len();
            if count >= MAX_ALARMS {
                return Err(CwError::LimitExceeded(format!("The maximum number of alarms ({MAX_ALARMS}) for this account and region has been reached.")));
            }
        }
        let alarm = build(&scope, &req, existing.as_ref().map(|v| &v.value), now)?;
        let (kind, verb, expect) = match &existing {
            Some(v) => ("Update", "updated", Expect::Version(v.version)),
            None => ("Create", "created", Expect::Absent),
        };
        let history = HistoryItem {
            alarm_name: alarm.name.clone(),
            timestamp: Timestamp(now),
            item_type: "ConfigurationUpdate".into(),
            summary: truncate(&format!("Alarm \"{}\" {verb}", alarm.name)),
            data: documents::configuration(kind, &config_doc(&alarm)),
        };
        match write_alarm(
            &cw.meta,
            &scope,
            &alarm.name,
            Some(&alarm),
            expect,
            &[history],
        )
        .await
        {
            Ok(()) => {
                tracing::info!(alarm = %alarm.name, account = %scope.account, kind, "alarm configured");
                cw.wake.notify_one();
                return Ok(());
            }
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CwError::Internal(format!(
        "alarm {} kept changing while being written",
        req.alarm_name
    )))
}

fn truncate(s: &str) -> String {
    s.chars().take(255).collect()
}

/// What DescribeAlarms filters on.
#[derive(Debug, Clone, Default)]
pub struct AlarmFilter {
    pub names: Option<Vec<String>>,
    pub name_prefix: Option<String>,
    pub state: Option<StateValue>,
    pub action_prefix: Option<String>,
}

impl AlarmFilter {
    fn matches(&self, a: &Alarm) -> bool {
        self.names.as_ref().is_none_or(|n| n.contains(&a.name))
            && self
                .name_prefix
                .as_ref()
                .is_none_or(|p| a.name.starts_with(p.as_str()))
            && self.state.is_none_or(|s| a.state == s)
            && self.action_prefix.as_ref().is_none_or(|p| {
                a.ok_actions
                    .iter()
                    .chain(&a.alarm_actions)
                    .chain(&a.insufficient_data_actions)
                    .any(|x| x.starts_with(p.as_str()))
            })
    }
}

/// Alarms of a scope matching `filter`, by name, after `start_after`.
pub async fn list_alarms(
    cw: &Engine,
    scope: &Scope,
    filter: &AlarmFilter,
    start_after: Option<String>,
) -> CwResult<Vec<Alarm>> {
    let q = ListQuery {
        prefix: filter.name_prefix.clone().unwrap_or_default(),
        start_after,
        limit: None,
    };
    Ok(cw
        .meta
        .list::<Alarm>(scope, &q)
        .await?
        .into_iter()
        .map(|(_, v)| v.value)
        .filter(|a| filter.matches(a))
        .collect())
}

/// DescribeAlarms.
pub async fn describe_alarms(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::DescribeAlarmsInput,
) -> CwResult<api::DescribeAlarmsOutput> {
    if req.alarm_names.is_some() && req.alarm_name_prefix.is_some() {
        return Err(CwError::InvalidParameterCombination(
            "AlarmNamePrefix and AlarmNames.member are mutually exclusive".into(),
        ));
    }
    if let Some(names) = &req.alarm_names {
        if names.len() > 100 {
            return Err(CwError::InvalidParameterValue(
                "The collection AlarmNames must not have a size greater than 100.".into(),
            ));
        }
    }
    let max = req.max_records.unwrap_or(50);
    if !(1..=100).contains(&max) {
        return Err(CwError::InvalidParameterValue(format!(
            "The value {max} for parameter MaxRecords is invalid; it must be between 1 and 100."
        )));
    }
    let state = match &req.state_value {
        Some(s) => Some(
            StateValue::parse(s)
                .ok_or_else(|| invalid_enum("StateValue", s, "[OK, ALARM, INSUFFICIENT_DATA]"))?,
        ),
        None => None,
    };
    let wants_metric_alarms = req
        .alarm_types
        .as_ref()
        .is_none_or(|t| t.iter().any(|t| t == "MetricAlarm"));
    // Composite alarms are not served, so there are no parents or children to list.
    if !wants_metric_alarms
        || req.children_of_alarm_name.is_some()
        || req.parents_of_alarm_name.is_some()
    {
        return Ok(api::DescribeAlarmsOutput {
            metric_alarms: Some(Vec::new()),
            composite_alarms: Some(Vec::new()),
            next_token: None,
        });
    }
    let start_after = req.next_token.as_deref().map(token_position).transpose()?;
    let filter = AlarmFilter {
        names: req.alarm_names.clone(),
        name_prefix: req.alarm_name_prefix.clone(),
        state,
        action_prefix: req.action_prefix.clone(),
    };
    let alarms = list_alarms(cw, &scope(ctx), &filter, start_after).await?;
    let page: Vec<&Alarm> = alarms.iter().take(max as usize).collect();
    let next = (alarms.len() > page.len())
        .then(|| next_token(&page.last().map(|a| a.name.clone()).unwrap_or_default()));
    let composite = req
        .alarm_types
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == "CompositeAlarm"))
        .then(Vec::new);
    Ok(api::DescribeAlarmsOutput {
        metric_alarms: Some(page.into_iter().map(view).collect()),
        composite_alarms: composite,
        next_token: next,
    })
}

/// DescribeAlarmsForMetric: alarms on this metric (exact dimensions) and, when given, statistic,
/// period and unit.
pub async fn describe_alarms_for_metric(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::DescribeAlarmsForMetricInput,
) -> CwResult<api::DescribeAlarmsForMetricOutput> {
    check_namespace("Namespace", &req.namespace)?;
    check_len("MetricName", &req.metric_name, 1, 255)?;
    let dims = dimensions("Dimensions", req.dimensions.as_deref())?;
    let alarms = list_alarms(cw, &scope(ctx), &AlarmFilter::default(), None).await?;
    let out = alarms
        .iter()
        .filter(|a| match &a.source {
            AlarmSource::Metric {
                metric,
                statistic,
                extended,
                period,
                unit,
            } => {
                metric.namespace == req.namespace
                    && metric.name == req.metric_name
                    && metric.dimensions == dims
                    && req
                        .statistic
                        .as_ref()
                        .is_none_or(|s| !extended && s == statistic)
                    && req
                        .extended_statistic
                        .as_ref()
                        .is_none_or(|s| *extended && s == statistic)
                    && req.period.is_none_or(|p| p as i64 == *period)
                    && req.unit.as_ref().is_none_or(|u| unit.as_ref() == Some(u))
            }
            AlarmSource::Math { .. } => false,
        })
        .map(view)
        .collect();
    Ok(api::DescribeAlarmsForMetricOutput {
        metric_alarms: Some(out),
    })
}

/// History items of a scope, oldest first, optionally of one alarm and one type, in a time range.
pub async fn history(
    cw: &Engine,
    scope: &Scope,
    alarm: Option<&str>,
    item_type: Option<&str>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
) -> CwResult<Vec<(String, HistoryItem)>> {
    let items = cw
        .meta
        .list::<HistoryItem>(scope, &ListQuery::default())
        .await?;
    Ok(items
        .into_iter()
        .map(|(k, v)| (k, v.value))
        .filter(|(_, h)| alarm.is_none_or(|a| h.alarm_name == a))
        .filter(|(_, h)| item_type.is_none_or(|t| h.item_type == t))
        .filter(|(_, h)| {
            start.is_none_or(|s| h.timestamp >= s) && end.is_none_or(|e| h.timestamp <= e)
        })
        .collect())
}

/// The wire form of a history item.
pub fn history_view(h: &HistoryItem) -> api::AlarmHistoryItem {
    api::AlarmHistoryItem {
        alarm_name: Some(h.alarm_name.clone()),
        alarm_type: Some("MetricAlarm".into()),
        timestamp: Some(h.timestamp),
        history_item_type: Some(h.item_type.clone()),
        history_summary: Some(h.summary.clone()),
        history_data: Some(h.data.clone()),
        ..Default::default()
    }
}

/// DescribeAlarmHistory.
pub async fn describe_alarm_history(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::DescribeAlarmHistoryInput,
) -> CwResult<api::DescribeAlarmHistoryOutput> {
    let max = req.max_records.unwrap_or(100);
    if !(1..=100).contains(&max) {
        return Err(CwError::InvalidParameterValue(format!(
            "The value {max} for parameter MaxRecords is invalid; it must be between 1 and 100."
        )));
    }
    if let Some(t) = &req.history_item_type {
        if ![
            "ConfigurationUpdate",
            "StateUpdate",
            "Action",
            "AlarmContributorStateUpdate",
            "AlarmContributorAction",
        ]
        .contains(&t.as_str())
        {
            return Err(invalid_enum("HistoryItemType", t, "[ConfigurationUpdate, StateUpdate, Action, AlarmContributorStateUpdate, AlarmContributorAction]"));
        }
    }
    if let (Some(s), Some(e)) = (req.start_date, req.end_date) {
        if s > e {
            return Err(CwError::InvalidParameterValue(
                "The parameter EndDate must be greater than StartDate.".into(),
            ));
        }
    }
    let descending = match req.scan_by.as_deref() {
        None | Some("TimestampDescending") => true,
        Some("TimestampAscending") => false,
        Some(other) => {
            return Err(invalid_enum(
                "ScanBy",
                other,
                "[TimestampDescending, TimestampAscending]",
            ))
        }
    };
    if req
        .alarm_types
        .as_ref()
        .is_some_and(|t| !t.iter().any(|t| t == "MetricAlarm"))
    {
        return Ok(api::DescribeAlarmHistoryOutput {
            alarm_history_items: Some(Vec::new()),
            next_token: None,
        });
    }
    let mut items = history(
        cw,
        &scope(ctx),
        req.alarm_name.as_deref(),
        req.history_item_type.as_deref(),
        req.start_date,
        req.end_date,
    )
    .await?;
    if descending {
        items.reverse();
    }
    if let Some(t) = &req.next_token {
        let after = token_position(t)?;
        let pos = items.iter().position(|(k, _)| *k == after).ok_or_else(|| {
            CwError::InvalidNextToken(
                "The service couldn't process your request because the NextToken is invalid."
                    .into(),
            )
        })?;
        items.drain(..=pos);
    }
    let more = items.len() > max as usize;
    items.truncate(max as usize);
    let next = more.then(|| next_token(&items.last().map(|(k, _)| k.clone()).unwrap_or_default()));
    Ok(api::DescribeAlarmHistoryOutput {
        alarm_history_items: Some(items.iter().map(|(_, h)| history_view(h)).collect()),
        next_token: next,
    })
}

/// SetAlarmState: set the state until the next evaluation; a change runs the state's actions.
pub async fn set_alarm_state(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::SetAlarmStateInput,
) -> CwResult<()> {
    check_len("AlarmName", &req.alarm_name, 1, 255)?;
    let state = StateValue::parse(&req.state_value).ok_or_else(|| {
        invalid_enum(
            "StateValue",
            &req.state_value,
            "[OK, ALARM, INSUFFICIENT_DATA]",
        )
    })?;
    check_len("StateReason", &req.state_reason, 0, 1023)?;
    if let Some(d) = &req.state_reason_data {
        check_len("StateReasonData", d, 0, 4000)?;
        if serde_json::from_str::<serde_json::Value>(d).is_err() {
            return Err(CwError::InvalidFormat(
                "StateReasonData was not syntactically valid JSON".into(),
            ));
        }
    }
    let scope = scope(ctx);
    for _ in 0..5 {
        let Some(current) = cw.meta.get::<Alarm>(&scope, &req.alarm_name).await? else {
            return Err(CwError::ResourceNotFound(format!(
                "Alarm {} not found",
                req.alarm_name
            )));
        };
        let now = cw.clock.now();
        let old = current.value.state;
        let mut next = current.value.clone();
        next.state = state;
        next.state_reason = req.state_reason.clone();
        next.state_reason_data = req.state_reason_data.clone();
        next.state_updated = Timestamp(now);
        let mut items = Vec::new();
        if state != old {
            next.state_transitioned = Timestamp(now);
            next.pending_actions
                .extend(pending_for(&next, &scope.account, &scope.region, old));
            items.push(state_history(
                &next.name,
                now,
                old,
                &current.value.state_reason,
                &next,
            ));
        }
        match write_alarm(
            &cw.meta,
            &scope,
            &req.alarm_name,
            Some(&next),
            Expect::Version(current.version),
            &items,
        )
        .await
        {
            Ok(()) => {
                cw.wake.notify_one();
                return Ok(());
            }
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CwError::Internal(format!(
        "alarm {} kept changing while being set",
        req.alarm_name
    )))
}

fn check_names(names: &[String]) -> CwResult<()> {
    if names.is_empty() {
        return Err(CwError::MissingParameter(
            "The parameter AlarmNames is required.".into(),
        ));
    }
    if names.len() > 100 {
        return Err(CwError::InvalidParameterValue(
            "The collection AlarmNames must not have a size greater than 100.".into(),
        ));
    }
    for (i, n) in names.iter().enumerate() {
        check_len(&format!("AlarmNames.member.{}", i + 1), n, 1, 255)?;
    }
    Ok(())
}

/// DeleteAlarms: all or nothing; any unknown name is `ResourceNotFound`.
pub async fn delete_alarms(
    cw: &Engine,
    ctx: &RequestContext,
    req: api::DeleteAlarmsInput,
) -> CwResult<()> {
    check_names(&req.alarm_names)?;
    let scope = scope(ctx);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in &req.alarm_names {
        match cw.meta.get::<Alarm>(&scope, name).await? {
            Some(a) => found.push((name.clone(), a)),
            None => missing.push(name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(CwError::ResourceNotFound(format!(
            "{} of the specified alarms could not be found: [{}]",
            missing.len(),
            missing.join(", ")
        )));
    }
    let now = cw.clock.now();
    let mut ops = Vec::new();
    for (name, a) in &found {
        ops.push(hearth_runtime::WriteOp::delete::<Alarm>(
            &scope,
            name.clone(),
            Expect::Version(a.version),
        ));
        let h = HistoryItem {
            alarm_name: name.clone(),
            timestamp: Timestamp(now),
            item_type: "ConfigurationUpdate".into(),
            summary: truncate(&format!("Alarm \"{name}\" deleted")),
            data: documents::configuration("Delete", &config_doc(&a.value)),
        };
        ops.push(hearth_runtime::WriteOp::put(
            &scope,
            h.key(),
            &h,
            Expect::Any,
        )?);
    }
    match cw.meta.apply(ops).await {
        Ok(()) => Ok(()),
        Err(MetaError::ConditionFailed { key, .. }) => Err(CwError::ResourceNotFound(format!(
            "Alarm {key} changed or was deleted meanwhile; no alarm was deleted."
        ))),
        Err(e) => Err(e.into()),
    }
}

/// EnableAlarmActions / DisableAlarmActions (unknown names are ignored).
pub async fn set_actions_enabled(
    cw: &Engine,
    ctx: &RequestContext,
    names: &[String],
    enabled: bool,
) -> CwResult<()> {
    check_names(names)?;
    let scope = scope(ctx);
    for name in names {
        for _ in 0..5 {
            let Some(current) = cw.meta.get::<Alarm>(&scope, name).await? else {
                break;
            };
            if current.value.actions_enabled == enabled {
                break;
            }
            let mut next = current.value.clone();
            next.actions_enabled = enabled;
            match cw
                .meta
                .put(&scope, name, &next, Expect::Version(current.version))
                .await
            {
                Ok(_) => break,
                Err(MetaError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
