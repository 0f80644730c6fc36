//! CloudWatch's typed records in the metadata store (metric data itself lives in the runtime's
//! metrics store).
//!
//! - `cloudwatch.alarm` (account/region scope, key = alarm name): an alarm's configuration,
//!   its state, how far the evaluator got, and the actions of its last transition that are not
//!   done yet (so a crash between a transition and its notifications loses none).
//! - `cloudwatch.history` (account/region scope, key = `<millis, 16 digits>-<uuid>`): alarm
//!   history items, oldest first in key order; kept two weeks, as CloudWatch does.
//! - `cloudwatch.scope` (global scope, key = `<account>/<region>`): the scopes that have ever had
//!   an alarm, so the evaluator finds every alarm of every account.

use hearth_protocol::types::Timestamp;
use hearth_runtime::Record;
use serde::{Deserialize, Serialize};

use crate::domain::alarm::StateValue;

/// A metric named by an alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricName {
    pub namespace: String,
    pub name: String,
    /// `(name, value)` pairs, sorted by name.
    pub dimensions: Vec<(String, String)>,
}

/// One query of a metric-math alarm (`Metrics`), as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmQuery {
    pub id: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub return_data: Option<bool>,
    #[serde(default)]
    pub period: Option<i64>,
    #[serde(default)]
    pub expression: Option<String>,
    #[serde(default)]
    pub metric: Option<MetricName>,
    #[serde(default)]
    pub stat: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
}

/// What an alarm watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlarmSource {
    /// One metric and one statistic (`Statistic` or `ExtendedStatistic`).
    Metric {
        metric: MetricName,
        /// `Average`, `p90`, …, as given.
        statistic: String,
        extended: bool,
        period: i64,
        unit: Option<String>,
    },
    /// Metric math (`Metrics`): the query with `ReturnData` is compared.
    Math { queries: Vec<AlarmQuery> },
}

/// An action of a transition still to be executed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingAction {
    pub arn: String,
    pub subject: String,
    pub message: String,
    /// When the transition happened.
    pub transition: Timestamp,
}

/// A metric alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub actions_enabled: bool,
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub source: AlarmSource,
    /// Seconds per evaluated datapoint.
    pub period: i64,
    pub evaluation_periods: u32,
    /// As given (None: equal to `evaluation_periods`).
    pub datapoints_to_alarm: Option<u32>,
    pub threshold: f64,
    pub comparison_operator: String,
    /// As given (None: `missing`).
    pub treat_missing_data: Option<String>,
    pub evaluate_low_sample_count_percentile: Option<String>,
    pub state: StateValue,
    pub state_reason: String,
    pub state_reason_data: Option<String>,
    pub state_updated: Timestamp,
    pub state_transitioned: Timestamp,
    pub config_updated: Timestamp,
    /// Epoch seconds of the last period boundary the evaluator evaluated (0: never).
    #[serde(default)]
    pub evaluated_until: i64,
    #[serde(default)]
    pub pending_actions: Vec<PendingAction>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

impl Record for Alarm {
    const KIND: &'static str = "cloudwatch.alarm";
}

impl Alarm {
    /// The actions to run on entering `state`.
    pub fn actions_for(&self, state: StateValue) -> &[String] {
        match state {
            StateValue::Ok => &self.ok_actions,
            StateValue::Alarm => &self.alarm_actions,
            StateValue::InsufficientData => &self.insufficient_data_actions,
        }
    }
}

/// An alarm history item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub alarm_name: String,
    pub timestamp: Timestamp,
    /// `ConfigurationUpdate`, `StateUpdate` or `Action`.
    pub item_type: String,
    pub summary: String,
    /// A JSON document.
    pub data: String,
}

impl Record for HistoryItem {
    const KIND: &'static str = "cloudwatch.history";
}

impl HistoryItem {
    /// The store key of an item: time-ordered and unique.
    pub fn key(&self) -> String {
        format!(
            "{:016}-{}",
            self.timestamp.0.unix_timestamp_nanos() / 1_000_000,
            uuid::Uuid::new_v4().simple()
        )
    }
}

/// A scope that has (or had) alarms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmScope {
    pub account: String,
    pub region: String,
}

impl Record for AlarmScope {
    const KIND: &'static str = "cloudwatch.scope";
}
