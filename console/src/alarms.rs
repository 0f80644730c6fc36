//! What the alarms page shows, and the interface the console reads alarms through.
//!
//! The console does not evaluate alarms: the CloudWatch service does, and the server hands the
//! console an [`AlarmSource`] backed by that service's in-process API. Keeping the interface here
//! (rather than calling the service directly from the handlers) keeps the page's shape in one
//! place and lets the console run, with the alarms page saying so, when CloudWatch is not served.

use hearth_runtime::Scope;
use time::OffsetDateTime;

/// Error of an [`AlarmSource`] (logged; the user sees `InternalFailure`).
pub type AlarmSourceError = Box<dyn std::error::Error + Send + Sync>;

/// One metric alarm as the page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSummary {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    pub state_reason: String,
    pub state_updated: OffsetDateTime,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    /// `(name, value)` pairs.
    pub dimensions: Vec<(String, String)>,
    /// `Average`, `Sum`, … or an extended statistic such as `p99`.
    pub statistic: Option<String>,
    /// Seconds.
    pub period: Option<i64>,
    pub evaluation_periods: Option<i64>,
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: Option<f64>,
    pub comparison_operator: Option<String>,
    pub treat_missing_data: Option<String>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
}

/// One entry of an alarm's history.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmHistoryItem {
    pub timestamp: OffsetDateTime,
    /// `StateUpdate`, `ConfigurationUpdate` or `Action`.
    pub item_type: String,
    pub summary: String,
}

/// Where the console reads alarms from (the CloudWatch service, in-process).
#[async_trait::async_trait]
pub trait AlarmSource: Send + Sync {
    /// Every metric alarm of the scope, ordered by name.
    async fn describe_alarms(&self, scope: &Scope) -> Result<Vec<AlarmSummary>, AlarmSourceError>;
    /// The history of one alarm, newest first (kept after the alarm is deleted, as in AWS).
    async fn alarm_history(
        &self,
        scope: &Scope,
        alarm_name: &str,
    ) -> Result<Vec<AlarmHistoryItem>, AlarmSourceError>;
}
