//! The alarm evaluator: a background task on the runtime's clock that, at every 10-second
//! boundary (and at once when an alarm is created, updated or set), evaluates each alarm of
//! every account whose period boundary has passed since its last evaluation, records state
//! changes with their history, and runs the actions of each transition.
//!
//! Everything it needs is in the metadata store, so a restarted process (or another node)
//! carries on where the last one stopped: a transition is written together with the actions it
//! owes (`Alarm::pending_actions`), and the actions are removed once executed, so a crash between
//! the two re-runs them instead of losing them (at least once). Writes are conditional on the
//! alarm's row version: when two evaluators race, one transition wins and the other is dropped.
//!
//! Actions on SNS topics go through an [`AlarmNotifier`]; without one (or for other action
//! types) the action is recorded as failed, as CloudWatch records actions it cannot execute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hearth_protocol::types::Timestamp;
use hearth_runtime::metrics::{MetricId, Metrics, StoredPoint, Unit};
use hearth_runtime::{Clock, Expect, ListQuery, MetaError, MetaStore, Scope, WriteOp};
use time::OffsetDateTime;
use tokio::sync::{watch, Notify};

use crate::documents;
use crate::domain::alarm::{self, Comparison, Rule, Slot, StateValue, TreatMissing};
use crate::domain::query::{self, MetricStatQuery, PointSource, Query, QueryKind};
use crate::domain::stats::{bucketize, Stat};
use crate::error::{CwError, CwResult};
use crate::store::{Alarm, AlarmSource, HistoryItem, PendingAction};
use crate::AlarmNotifier;

/// The evaluator's tick: the shortest alarm period.
pub const TICK_SECS: i64 = 10;
/// How long history items are kept.
const HISTORY_RETENTION: time::Duration = time::Duration::days(14);

/// What one alarm's evaluation did.
enum Evaluation {
    /// Not due (or lost a race with another writer).
    Skipped,
    /// Evaluated; the state stays.
    Unchanged,
    /// Evaluated and the state changed (actions may be owed).
    Transitioned,
}

/// (account, region, alarm name).
type AlarmKey = (String, String, String);

/// What the handlers and the evaluator share.
#[derive(Clone)]
pub struct Engine {
    pub meta: MetaStore,
    pub metrics: Metrics,
    pub clock: Arc<dyn Clock>,
    pub notifier: Option<Arc<dyn AlarmNotifier>>,
    /// Wakes the evaluator for an immediate pass.
    pub wake: Arc<Notify>,
    /// The time of the last finished evaluator pass (tests wait on it).
    pub passes: Arc<watch::Sender<OffsetDateTime>>,
    /// Boundaries evaluated without a state change, by (account, region, alarm) and the
    /// configuration time they were evaluated under (not persisted: re-evaluating one after a
    /// restart changes nothing).
    evaluated: Arc<Mutex<HashMap<AlarmKey, (Timestamp, i64)>>>,
    last_cleanup: Arc<Mutex<Option<OffsetDateTime>>>,
}

/// Reads metric points of one scope from the metrics store.
pub struct StorePoints<'a> {
    pub metrics: &'a Metrics,
    pub scope: &'a Scope,
}

#[async_trait]
impl PointSource for StorePoints<'_> {
    async fn points(&self, metric: &MetricId, start: i64, end: i64) -> CwResult<Vec<StoredPoint>> {
        let t =
            |s: i64| OffsetDateTime::from_unix_timestamp(s).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Ok(self
            .metrics
            .query(self.scope, metric, t(start), t(end))
            .await?)
    }
}

/// Write an alarm (or delete it when `alarm` is None) together with history items, atomically.
pub async fn write_alarm(
    meta: &MetaStore,
    scope: &Scope,
    name: &str,
    alarm: Option<&Alarm>,
    expect: Expect,
    history: &[HistoryItem],
) -> Result<(), MetaError> {
    let mut ops = vec![match alarm {
        Some(a) => WriteOp::put(scope, name, a, expect)?,
        None => WriteOp::delete::<Alarm>(scope, name, expect),
    }];
    for h in history {
        ops.push(WriteOp::put(scope, h.key(), h, Expect::Any)?);
    }
    meta.apply(ops).await
}

/// The StateUpdate history item of a transition.
pub fn state_history(
    name: &str,
    at: OffsetDateTime,
    old: StateValue,
    old_reason: &str,
    new: &Alarm,
) -> HistoryItem {
    HistoryItem {
        alarm_name: name.to_string(),
        timestamp: Timestamp(at),
        item_type: "StateUpdate".into(),
        summary: format!(
            "Alarm updated from {} to {}",
            old.as_str(),
            new.state.as_str()
        ),
        data: documents::state_update(
            old,
            old_reason,
            new.state,
            &new.state_reason,
            new.state_reason_data.as_deref(),
        ),
    }
}

/// The actions `alarm` owes for entering its current state (none when actions are disabled).
pub fn pending_for(
    alarm: &Alarm,
    account: &str,
    region: &str,
    old: StateValue,
) -> Vec<PendingAction> {
    if !alarm.actions_enabled {
        return Vec::new();
    }
    let subject = documents::subject(&alarm.name, alarm.state, region);
    let message = documents::message(alarm, account, region, old);
    alarm
        .actions_for(alarm.state)
        .iter()
        .map(|arn| PendingAction {
            arn: arn.clone(),
            subject: subject.clone(),
            message: message.clone(),
            transition: alarm.state_updated,
        })
        .collect()
}

/// The comparison rule of an alarm.
pub fn rule(alarm: &Alarm) -> Rule {
    let low_sample_ignore_below = match (
        &alarm.source,
        alarm.evaluate_low_sample_count_percentile.as_deref(),
    ) {
        (AlarmSource::Metric { statistic, .. }, Some("ignore")) => {
            Stat::parse(statistic).and_then(|s| s.low_sample_threshold())
        }
        _ => None,
    };
    Rule {
        evaluation_periods: alarm.evaluation_periods,
        datapoints_to_alarm: alarm
            .datapoints_to_alarm
            .unwrap_or(alarm.evaluation_periods),
        threshold: alarm.threshold,
        comparison: Comparison::parse(&alarm.comparison_operator)
            .unwrap_or(Comparison::GreaterThanThreshold),
        treat_missing: alarm
            .treat_missing_data
            .as_deref()
            .and_then(TreatMissing::parse)
            .unwrap_or(TreatMissing::Missing),
        low_sample_ignore_below,
    }
}

/// The GetMetricData queries of a metric-math alarm.
pub fn math_queries(
    queries: &[crate::store::AlarmQuery],
    default_period: i64,
) -> CwResult<Vec<Query>> {
    queries
        .iter()
        .map(|q| {
            let kind = match (&q.expression, &q.metric) {
                (Some(e), _) => QueryKind::Expression(e.clone()),
                (None, Some(m)) => QueryKind::Metric(MetricStatQuery {
                    metric: MetricId::new(
                        m.namespace.clone(),
                        m.name.clone(),
                        m.dimensions.clone(),
                    ),
                    period: q.period.unwrap_or(default_period),
                    stat: q.stat.as_deref().and_then(Stat::parse).ok_or_else(|| {
                        CwError::InvalidParameterValue(format!(
                            "Invalid statistic in query {}.",
                            q.id
                        ))
                    })?,
                    unit: q.unit.as_deref().and_then(|u| u.parse::<Unit>().ok()),
                }),
                (None, None) => {
                    return Err(CwError::InvalidParameterValue(format!(
                        "Query {} has neither an expression nor a metric.",
                        q.id
                    )))
                }
            };
            Ok(Query {
                id: q.id.clone(),
                label: q.label.clone(),
                return_data: q.return_data.unwrap_or(true),
                period: q.period,
                kind,
            })
        })
        .collect()
}

fn epoch(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl Engine {
    /// An engine over the runtime's stores.
    pub fn new(
        meta: MetaStore,
        metrics: Metrics,
        clock: Arc<dyn Clock>,
        notifier: Option<Arc<dyn AlarmNotifier>>,
    ) -> Engine {
        Engine {
            meta,
            metrics,
            clock,
            notifier,
            wake: Arc::new(Notify::new()),
            passes: Arc::new(watch::channel(OffsetDateTime::UNIX_EPOCH).0),
            evaluated: Arc::default(),
            last_cleanup: Arc::default(),
        }
    }

    /// The evaluator loop; returns when `shutdown`'s sender is dropped.
    pub async fn run(self, mut shutdown: watch::Receiver<()>) {
        tracing::info!("alarm evaluator started");
        loop {
            let now = self.clock.now();
            match self.evaluate_due(now).await {
                Ok(n) if n > 0 => tracing::debug!(alarms = n, "alarms evaluated"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "alarm evaluation pass failed"),
            }
            self.passes.send_replace(now);
            // The next tick after this pass's time: at once if the clock already passed it.
            let secs = now.unix_timestamp();
            let next = epoch((secs.div_euclid(TICK_SECS) + 1) * TICK_SECS);
            let wait = Duration::try_from(next - self.clock.now()).unwrap_or(Duration::ZERO);
            tokio::select! {
                _ = self.clock.sleep(wait) => {}
                _ = self.wake.notified() => {}
                r = shutdown.changed() => {
                    if r.is_err() {
                        tracing::info!("alarm evaluator stopped");
                        return;
                    }
                }
            }
        }
    }

    /// One pass: evaluate every alarm whose period boundary has passed since it was last
    /// evaluated, and run actions still owed. Returns how many alarms were evaluated.
    pub async fn evaluate_due(&self, now: OffsetDateTime) -> CwResult<usize> {
        if let Err(e) = self.metrics.flush().await {
            tracing::debug!(error = %e, "metrics flush before evaluation failed");
        }
        let scopes = self
            .meta
            .list::<crate::store::AlarmScope>(&Scope::global(), &ListQuery::default())
            .await?;
        let mut evaluated = 0;
        let cleanup = match self.last_cleanup.lock() {
            Ok(mut last) if last.is_none_or(|t| now - t >= time::Duration::hours(1)) => {
                *last = Some(now);
                true
            }
            _ => false,
        };
        for (_, s) in scopes {
            let scope = Scope::new(s.value.account.clone(), s.value.region.clone());
            let alarms = self
                .meta
                .list::<Alarm>(&scope, &ListQuery::default())
                .await?;
            for (name, versioned) in alarms {
                let mut owed = !versioned.value.pending_actions.is_empty();
                match self
                    .evaluate_alarm(&scope, &name, versioned.value, versioned.version, now)
                    .await
                {
                    Ok(Evaluation::Skipped) => {}
                    Ok(Evaluation::Unchanged) => evaluated += 1,
                    Ok(Evaluation::Transitioned) => {
                        evaluated += 1;
                        owed = true;
                    }
                    Err(e) => {
                        tracing::warn!(alarm = %name, account = %scope.account, error = %e, "alarm evaluation failed")
                    }
                }
                if owed {
                    if let Err(e) = self.run_pending(&scope, &name).await {
                        tracing::warn!(alarm = %name, error = %e, "alarm actions failed");
                    }
                }
            }
            if cleanup {
                self.cleanup_history(&scope, now).await;
            }
        }
        Ok(evaluated)
    }

    /// Evaluate one alarm at the latest boundary of its period if not done yet.
    async fn evaluate_alarm(
        &self,
        scope: &Scope,
        name: &str,
        alarm: Alarm,
        version: i64,
        now: OffsetDateTime,
    ) -> CwResult<Evaluation> {
        let period = alarm.period.max(1);
        let boundary = now.unix_timestamp().div_euclid(period) * period;
        let key = (
            scope.account.clone(),
            scope.region.clone(),
            name.to_string(),
        );
        let cached = self
            .evaluated
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .filter(|(cfg, _)| *cfg == alarm.config_updated)
            .map(|(_, b)| b);
        if alarm.evaluated_until.max(cached.unwrap_or(0)) >= boundary {
            return Ok(Evaluation::Skipped);
        }
        let rule = rule(&alarm);
        let slots = self.slots(scope, &alarm, &rule, boundary).await?;
        let decision = alarm::evaluate(&rule, &slots);
        let old = alarm.state;
        let new = decision.state.unwrap_or(old);
        if new == old {
            if let Ok(mut m) = self.evaluated.lock() {
                m.insert(key, (alarm.config_updated, boundary));
            }
            return Ok(Evaluation::Unchanged);
        }
        let recent: Vec<f64> = slots.iter().filter_map(|s| s.value).collect();
        let mut next = alarm.clone();
        next.state = new;
        next.state_reason = alarm::reason(&rule, &decision, old);
        next.state_reason_data = Some(documents::reason_data(
            &alarm,
            now,
            &recent,
            &decision.evaluated,
        ));
        next.state_updated = Timestamp(now);
        next.state_transitioned = Timestamp(now);
        next.evaluated_until = boundary;
        next.pending_actions
            .extend(pending_for(&next, &scope.account, &scope.region, old));
        let history = state_history(name, now, old, &alarm.state_reason, &next);
        match write_alarm(
            &self.meta,
            scope,
            name,
            Some(&next),
            Expect::Version(version),
            &[history],
        )
        .await
        {
            Ok(()) => {
                tracing::info!(alarm = %name, account = %scope.account, from = old.as_str(), to = new.as_str(), "alarm state changed");
                Ok(Evaluation::Transitioned)
            }
            // Changed meanwhile (a configuration update, SetAlarmState, another node): next pass.
            Err(MetaError::ConditionFailed { .. }) => Ok(Evaluation::Skipped),
            Err(e) => Err(e.into()),
        }
    }

    /// The evaluation range of `alarm` ending at `boundary`, oldest period first.
    async fn slots(
        &self,
        scope: &Scope,
        alarm: &Alarm,
        rule: &Rule,
        boundary: i64,
    ) -> CwResult<Vec<Slot>> {
        let period = alarm.period.max(1);
        let len = rule.range_len() as i64;
        let start = boundary - len * period;
        let source = StorePoints {
            metrics: &self.metrics,
            scope,
        };
        let starts = (0..len).map(|k| start + k * period);
        match &alarm.source {
            AlarmSource::Metric {
                metric,
                statistic,
                unit,
                ..
            } => {
                let id = MetricId::new(
                    metric.namespace.clone(),
                    metric.name.clone(),
                    metric.dimensions.clone(),
                );
                let points = source.points(&id, start, boundary).await?;
                let unit = unit.as_deref().and_then(|u| u.parse::<Unit>().ok());
                let buckets = bucketize(&points, start, period, unit);
                let stat = Stat::parse(statistic).unwrap_or(Stat::Average);
                Ok(starts
                    .map(|s| {
                        let b = buckets.get(&s);
                        Slot {
                            start: s,
                            value: b.and_then(|b| b.stat(stat)),
                            sample_count: b.map(|b| b.sample_count),
                        }
                    })
                    .collect())
            }
            AlarmSource::Math { queries } => {
                let queries = math_queries(queries, period)?;
                let results = query::run(&source, &queries, start, boundary).await?;
                let series = results
                    .into_iter()
                    .next()
                    .map(|r| r.points)
                    .unwrap_or_default();
                Ok(starts
                    .map(|s| Slot {
                        start: s,
                        value: series.get(&s).copied(),
                        sample_count: None,
                    })
                    .collect())
            }
        }
    }

    /// Execute the actions an alarm still owes, then remove them and record Action items.
    pub async fn run_pending(&self, scope: &Scope, name: &str) -> CwResult<()> {
        let Some(current) = self.meta.get::<Alarm>(scope, name).await? else {
            return Ok(());
        };
        if current.value.pending_actions.is_empty() {
            return Ok(());
        }
        let mut done = Vec::new();
        let mut history = Vec::new();
        for action in &current.value.pending_actions {
            let result = self.execute(scope, action).await;
            let now = self.clock.now();
            let (summary, data) = match &result {
                Ok(()) => (
                    format!("Successfully executed action {}", action.arn),
                    documents::action(
                        true,
                        action.transition.0,
                        &action.arn,
                        &action.message,
                        None,
                    ),
                ),
                Err(e) => {
                    tracing::warn!(alarm = %name, action = %action.arn, error = %e, "alarm action failed");
                    (
                        format!(
                            "Failed to execute action {}. Received error: \"{e}\"",
                            action.arn
                        ),
                        documents::action(
                            false,
                            action.transition.0,
                            &action.arn,
                            &action.message,
                            Some(e),
                        ),
                    )
                }
            };
            history.push(HistoryItem {
                alarm_name: name.to_string(),
                timestamp: Timestamp(now),
                item_type: "Action".into(),
                summary: summary.chars().take(255).collect(),
                data,
            });
            done.push(action.clone());
        }
        // Remove what was executed, re-reading if the alarm changed meanwhile.
        for _ in 0..5 {
            let Some(latest) = self.meta.get::<Alarm>(scope, name).await? else {
                // Deleted meanwhile: keep the record of what was done.
                let ops: Result<Vec<_>, _> = history
                    .iter()
                    .map(|h| WriteOp::put(scope, h.key(), h, Expect::Any))
                    .collect();
                self.meta.apply(ops?).await?;
                return Ok(());
            };
            let mut next = latest.value.clone();
            next.pending_actions.retain(|a| !done.contains(a));
            match write_alarm(
                &self.meta,
                scope,
                name,
                Some(&next),
                Expect::Version(latest.version),
                &history,
            )
            .await
            {
                Ok(()) => return Ok(()),
                Err(MetaError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CwError::Internal(format!(
            "could not record the actions of alarm {name}"
        )))
    }

    async fn execute(&self, scope: &Scope, action: &PendingAction) -> Result<(), String> {
        if !action.arn.starts_with("arn:aws:sns:") {
            return Err(format!(
                "Hearth executes Amazon SNS actions only; {} is not an SNS topic.",
                action.arn
            ));
        }
        let Some(notifier) = &self.notifier else {
            return Err("Amazon SNS is not available on this server.".into());
        };
        notifier
            .publish(
                &scope.account,
                &scope.region,
                &action.arn,
                &action.subject,
                &action.message,
            )
            .await
    }

    /// Delete the history of a scope older than two weeks (once an hour, see `evaluate_due`).
    async fn cleanup_history(&self, scope: &Scope, now: OffsetDateTime) {
        let cutoff = format!(
            "{:016}",
            ((now - HISTORY_RETENTION).unix_timestamp_nanos() / 1_000_000).max(0)
        );
        loop {
            let old = match self
                .meta
                .list::<HistoryItem>(
                    scope,
                    &ListQuery {
                        limit: Some(500),
                        ..Default::default()
                    },
                )
                .await
            {
                Ok(items) => items
                    .into_iter()
                    .filter(|(k, _)| k.as_str() < cutoff.as_str())
                    .map(|(k, _)| k)
                    .collect::<Vec<_>>(),
                Err(e) => {
                    tracing::debug!(error = %e, "history cleanup failed");
                    return;
                }
            };
            if old.is_empty() {
                break;
            }
            let ops = old
                .iter()
                .map(|k| WriteOp::delete::<HistoryItem>(scope, k.clone(), Expect::Any))
                .collect();
            if self.meta.apply(ops).await.is_err() {
                return;
            }
        }
    }
}
