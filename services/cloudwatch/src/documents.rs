//! The documents CloudWatch writes about alarms, in its own shapes and member order: the SNS
//! notification message of a state change (`AlarmName`, `NewStateValue`, `Trigger`, …), its
//! subject (`ALARM: "name" in US East (N. Virginia)`), the `StateReasonData` document, and the
//! `HistoryData` documents of history items.

use serde::Serialize;

use crate::domain::alarm::{Evaluated, StateValue};
use crate::store::{Alarm, AlarmSource};

/// `2024-02-16T10:08:02.127+0000`, the time format of CloudWatch's JSON documents.
pub fn doc_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn secs_time(secs: i64) -> String {
    doc_time(
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

/// The long name CloudWatch uses for a region in notifications.
pub fn region_name(region: &str) -> String {
    let name = match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ca-central-1" => "Canada (Central)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "me-south-1" => "Middle East (Bahrain)",
        "sa-east-1" => "South America (Sao Paulo)",
        other => other,
    };
    name.to_string()
}

/// `ALARM: "name" in US East (N. Virginia)`, cut to SNS's 100-character subject limit.
pub fn subject(alarm: &str, state: StateValue, region: &str) -> String {
    let s = format!("{}: \"{alarm}\" in {}", state.as_str(), region_name(region));
    s.chars().take(100).collect()
}

#[derive(Serialize)]
struct DimensionDoc<'a> {
    value: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricDoc<'a> {
    dimensions: Vec<DimensionDoc<'a>>,
    metric_name: &'a str,
    namespace: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricStatDoc<'a> {
    metric: MetricDoc<'a>,
    period: i64,
    stat: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct QueryDoc<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expression: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_stat: Option<MetricStatDoc<'a>>,
    return_data: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TriggerDoc<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<Vec<DimensionDoc<'a>>>,
    period: i64,
    evaluation_periods: u32,
    datapoints_to_alarm: u32,
    comparison_operator: &'a str,
    threshold: f64,
    treat_missing_data: &'a str,
    evaluate_low_sample_count_percentile: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<Vec<QueryDoc<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MessageDoc<'a> {
    alarm_name: &'a str,
    alarm_description: Option<&'a str>,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: &'a str,
    alarm_configuration_updated_timestamp: String,
    new_state_value: &'a str,
    new_state_reason: &'a str,
    state_change_time: String,
    region: String,
    alarm_arn: &'a str,
    old_state_value: &'a str,
    #[serde(rename = "OKActions")]
    ok_actions: &'a [String],
    alarm_actions: &'a [String],
    insufficient_data_actions: &'a [String],
    trigger: TriggerDoc<'a>,
}

fn dims(d: &[(String, String)]) -> Vec<DimensionDoc<'_>> {
    d.iter()
        .map(|(n, v)| DimensionDoc { value: v, name: n })
        .collect()
}

fn trigger(alarm: &Alarm) -> TriggerDoc<'_> {
    let mut t = TriggerDoc {
        metric_name: None,
        namespace: None,
        statistic_type: None,
        statistic: None,
        extended_statistic: None,
        unit: None,
        dimensions: None,
        period: alarm.period,
        evaluation_periods: alarm.evaluation_periods,
        datapoints_to_alarm: alarm
            .datapoints_to_alarm
            .unwrap_or(alarm.evaluation_periods),
        comparison_operator: &alarm.comparison_operator,
        threshold: alarm.threshold,
        treat_missing_data: alarm.treat_missing_data.as_deref().unwrap_or("missing"),
        evaluate_low_sample_count_percentile: alarm
            .evaluate_low_sample_count_percentile
            .as_deref()
            .unwrap_or(""),
        metrics: None,
    };
    match &alarm.source {
        AlarmSource::Metric {
            metric,
            statistic,
            extended,
            unit,
            ..
        } => {
            t.metric_name = Some(&metric.name);
            t.namespace = Some(&metric.namespace);
            if *extended {
                t.statistic_type = Some("ExtendedStatistic");
                t.extended_statistic = Some(statistic);
            } else {
                t.statistic_type = Some("Statistic");
                t.statistic = Some(statistic.to_ascii_uppercase());
            }
            t.unit = Some(unit.as_deref());
            t.dimensions = Some(dims(&metric.dimensions));
        }
        AlarmSource::Math { queries } => {
            t.metrics = Some(
                queries
                    .iter()
                    .map(|q| QueryDoc {
                        id: &q.id,
                        expression: q.expression.as_deref(),
                        label: q.label.as_deref(),
                        metric_stat: q.metric.as_ref().map(|m| MetricStatDoc {
                            metric: MetricDoc {
                                dimensions: dims(&m.dimensions),
                                metric_name: &m.name,
                                namespace: &m.namespace,
                            },
                            period: q.period.unwrap_or(alarm.period),
                            stat: q.stat.as_deref().unwrap_or(""),
                            unit: q.unit.as_deref(),
                        }),
                        return_data: q.return_data.unwrap_or(true),
                    })
                    .collect(),
            );
        }
    }
    t
}

/// The notification message of `alarm`'s transition from `old` (alarm already holds the new state).
pub fn message(alarm: &Alarm, account: &str, region: &str, old: StateValue) -> String {
    let doc = MessageDoc {
        alarm_name: &alarm.name,
        alarm_description: alarm.description.as_deref(),
        aws_account_id: account,
        alarm_configuration_updated_timestamp: doc_time(alarm.config_updated.0),
        new_state_value: alarm.state.as_str(),
        new_state_reason: &alarm.state_reason,
        state_change_time: doc_time(alarm.state_updated.0),
        region: region_name(region),
        alarm_arn: &alarm.arn,
        old_state_value: old.as_str(),
        ok_actions: &alarm.ok_actions,
        alarm_actions: &alarm.alarm_actions,
        insufficient_data_actions: &alarm.insufficient_data_actions,
        trigger: trigger(alarm),
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EvaluatedDoc {
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReasonDataDoc<'a> {
    version: &'a str,
    query_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
    period: i64,
    recent_datapoints: Vec<f64>,
    threshold: f64,
    evaluated_datapoints: Vec<EvaluatedDoc>,
}

/// The `StateReasonData` of an evaluation: the datapoints of the range (oldest first) and the
/// evaluated ones (newest first).
pub fn reason_data(
    alarm: &Alarm,
    now: time::OffsetDateTime,
    recent: &[f64],
    evaluated: &[Evaluated],
) -> String {
    let (statistic, extended_statistic, unit) = match &alarm.source {
        AlarmSource::Metric {
            statistic,
            extended,
            unit,
            ..
        } => {
            if *extended {
                (None, Some(statistic.as_str()), unit.as_deref())
            } else {
                (Some(statistic.as_str()), None, unit.as_deref())
            }
        }
        AlarmSource::Math { .. } => (None, None, None),
    };
    let doc = ReasonDataDoc {
        version: "1.0",
        query_date: doc_time(now),
        start_date: evaluated.iter().map(|e| e.start).min().map(secs_time),
        statistic,
        extended_statistic,
        unit,
        period: alarm.period,
        recent_datapoints: recent.to_vec(),
        threshold: alarm.threshold,
        evaluated_datapoints: evaluated
            .iter()
            .map(|e| EvaluatedDoc {
                timestamp: secs_time(e.start),
                sample_count: e.sample_count,
                value: e.value,
            })
            .collect(),
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateDoc<'a> {
    state_value: &'a str,
    state_reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason_data: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateUpdateDoc<'a> {
    version: &'a str,
    old_state: StateDoc<'a>,
    new_state: StateDoc<'a>,
}

/// `HistoryData` of a StateUpdate item.
pub fn state_update(
    old: StateValue,
    old_reason: &str,
    new: StateValue,
    new_reason: &str,
    new_data: Option<&str>,
) -> String {
    let doc = StateUpdateDoc {
        version: "1.0",
        old_state: StateDoc {
            state_value: old.as_str(),
            state_reason: old_reason,
            state_reason_data: None,
        },
        new_state: StateDoc {
            state_value: new.as_str(),
            state_reason: new_reason,
            state_reason_data: new_data.and_then(|d| serde_json::from_str(d).ok()),
        },
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

/// `HistoryData` of an Action item.
pub fn action(
    succeeded: bool,
    transition: time::OffsetDateTime,
    arn: &str,
    message: &str,
    error: Option<&str>,
) -> String {
    let mut doc = serde_json::Map::new();
    doc.insert(
        "actionState".into(),
        (if succeeded { "Succeeded" } else { "Failed" }).into(),
    );
    doc.insert(
        "stateUpdateTimestamp".into(),
        ((transition.unix_timestamp_nanos() / 1_000_000) as i64).into(),
    );
    doc.insert("notificationResource".into(), arn.into());
    doc.insert(
        "publishedMessage".into(),
        serde_json::from_str::<serde_json::Value>(message).unwrap_or_else(|_| message.into()),
    );
    if let Some(e) = error {
        doc.insert("error".into(), e.into());
    }
    serde_json::Value::Object(doc).to_string()
}

/// `HistoryData` of a ConfigurationUpdate item (`Create`, `Update` or `Delete`).
pub fn configuration(kind: &str, alarm: &serde_json::Value) -> String {
    let key = match kind {
        "Create" => "createdAlarm",
        "Delete" => "deletedAlarm",
        _ => "updatedAlarm",
    };
    serde_json::json!({"version": "1.0", "type": kind, key: alarm}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_times() {
        assert_eq!(
            subject("Test alarm", StateValue::Alarm, "ca-central-1"),
            "ALARM: \"Test alarm\" in Canada (Central)"
        );
        assert_eq!(
            subject(&"x".repeat(300), StateValue::Ok, "us-east-1")
                .chars()
                .count(),
            100
        );
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(1_664_131_837_811_000_000).unwrap();
        assert_eq!(doc_time(t), "2022-09-25T18:50:37.811+0000");
    }
}
