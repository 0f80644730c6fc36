//! Amazon CloudWatch: metrics and metric alarms.
//!
//! Implemented operations: PutMetricData, GetMetricStatistics, GetMetricData (metric queries
//! and metric math), ListMetrics, PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric,
//! DescribeAlarmHistory, SetAlarmState, DeleteAlarms, EnableAlarmActions, DisableAlarmActions,
//! TagResource, UntagResource, ListTagsForResource.
//!
//! Wire: the botocore model declares `smithy-rpc-v2-cbor`, `json` and `query`; botocore 1.43
//! (boto3, AWS CLI) speaks awsJson 1.0, newer AWS SDKs RPC v2 CBOR and older ones awsQuery, so
//! every request is answered in the protocol it came in (see [`api::PROTOCOLS`]).
//!
//! Metric data lives in the runtime's metrics store (`hearth_runtime::metrics`), so the metrics
//! Hearth's services record (`AWS/S3` request metrics, …) are readable here under their AWS
//! namespaces and dimensions. Alarms are records in the metadata store, evaluated by a
//! background task on the runtime clock ([`jobs`]) with CloudWatch's M-of-N and missing-data
//! rules ([`domain::alarm`]); actions on SNS topics go through an [`AlarmNotifier`].
//!
//! In-process API (for the console and other services), all by account and region:
//! - [`CloudWatch::describe_alarms`]: alarms in their DescribeAlarms shape (`api::MetricAlarm`);
//! - [`CloudWatch::alarm_history`]: history items, newest first (`api::AlarmHistoryItem`);
//! - [`CloudWatch::alarm_state`]: one alarm's state (deployment guardrails);
//! - [`CloudWatch::list_metrics`] and [`CloudWatch::metric_statistics`]: the metrics explorer's
//!   namespaces, metrics, dimensions and per-period statistics.

pub mod api;
pub mod documents;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod jobs;
pub mod store;

use std::sync::Arc;

use api::Operation;
use hearth_protocol::dispatch::{self, Handler};
use hearth_protocol::schema::{OperationSpec, Service};
use hearth_protocol::{AwsError, Protocol, RequestContext};
use hearth_runtime::metrics::{ListMetricsQuery, MetricId};
use hearth_runtime::{Runtime, Scope};
use serde_json::Value;
use tokio::sync::watch;

pub use domain::alarm::StateValue;
pub use error::{CwError, CwResult};
use handlers::{alarms, metrics, tags};

/// Where alarm actions on SNS topics are delivered (the SNS service implements it).
#[async_trait::async_trait]
pub trait AlarmNotifier: Send + Sync {
    /// Publish `message` with `subject` to the topic `topic_arn`. `account` and `region` are the
    /// alarm's (the publisher's); the topic is named by its ARN. An error is recorded in the
    /// alarm's history as a failed action.
    async fn publish(
        &self,
        account: &str,
        region: &str,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> Result<(), String>;
}

/// Alarm actions on SNS topics are published through Hearth's SNS service (durable deliveries).
#[async_trait::async_trait]
impl AlarmNotifier for hearth_sns::Sns {
    async fn publish(&self, account: &str, region: &str, topic_arn: &str, subject: &str, message: &str) -> Result<(), String> {
        self.publish_internal(account, region, topic_arn, Some(subject), message).await.map(|_| ())
    }
}

/// The CloudWatch service; cheap to clone. The alarm evaluator started by [`CloudWatch::start`]
/// stops when the last clone is dropped.
#[derive(Clone)]
pub struct CloudWatch {
    engine: jobs::Engine,
    /// Dropped with the last clone, which stops the evaluator.
    _evaluator: Arc<watch::Sender<()>>,
    evaluator_rx: watch::Receiver<()>,
}

impl CloudWatch {
    /// The service over the runtime's stores, without an evaluator (reads and writes only; use
    /// [`CloudWatch::start`] in the server).
    pub fn new(rt: &Runtime, notifier: Option<Arc<dyn AlarmNotifier>>) -> CloudWatch {
        let (tx, rx) = watch::channel(());
        CloudWatch {
            engine: jobs::Engine::new(
                rt.meta.clone(),
                rt.metrics.clone(),
                rt.clock.clone(),
                notifier,
            ),
            _evaluator: Arc::new(tx),
            evaluator_rx: rx,
        }
    }

    /// The service with its alarm evaluator running on the current tokio runtime.
    pub fn start(rt: &Runtime, notifier: Option<Arc<dyn AlarmNotifier>>) -> CloudWatch {
        let cw = CloudWatch::new(rt, notifier);
        cw.spawn_evaluator();
        cw
    }

    /// Start the evaluator task (once per process).
    pub fn spawn_evaluator(&self) {
        tokio::spawn(self.engine.clone().run(self.evaluator_rx.clone()));
    }

    /// Run one evaluation pass now (what the evaluator does at each boundary); returns how many
    /// alarms were evaluated.
    pub async fn evaluate_now(&self) -> CwResult<usize> {
        let now = self.engine.clock.now();
        self.engine.evaluate_due(now).await
    }

    /// The clock time of the evaluator's last finished pass (changes after every pass).
    pub fn evaluated_until(&self) -> watch::Receiver<time::OffsetDateTime> {
        self.engine.passes.subscribe()
    }

    /// Alarms of an account and region, by name, optionally only those whose name starts with
    /// `name_prefix` and that are in `state`.
    pub async fn describe_alarms(
        &self,
        account: &str,
        region: &str,
        name_prefix: Option<&str>,
        state: Option<StateValue>,
    ) -> CwResult<Vec<api::MetricAlarm>> {
        let filter = alarms::AlarmFilter {
            name_prefix: name_prefix.map(str::to_string),
            state,
            ..Default::default()
        };
        Ok(
            alarms::list_alarms(&self.engine, &Scope::new(account, region), &filter, None)
                .await?
                .iter()
                .map(alarms::view)
                .collect(),
        )
    }

    /// History items of an account and region (of one alarm when `alarm` is given), newest
    /// first, at most `limit`.
    pub async fn alarm_history(
        &self,
        account: &str,
        region: &str,
        alarm: Option<&str>,
        limit: usize,
    ) -> CwResult<Vec<api::AlarmHistoryItem>> {
        let items = alarms::history(
            &self.engine,
            &Scope::new(account, region),
            alarm,
            None,
            None,
            None,
        )
        .await?;
        Ok(items
            .iter()
            .rev()
            .take(limit)
            .map(|(_, h)| alarms::history_view(h))
            .collect())
    }

    /// The state of one alarm (None when it does not exist or cannot be read).
    pub async fn alarm_state(&self, account: &str, region: &str, name: &str) -> Option<StateValue> {
        match self
            .engine
            .meta
            .get::<store::Alarm>(&Scope::new(account, region), name)
            .await
        {
            Ok(a) => a.map(|a| a.value.state),
            Err(e) => {
                tracing::warn!(alarm = name, error = %e, "alarm state read failed");
                None
            }
        }
    }

    /// Metrics of an account and region (optionally of one namespace), with data in the last
    /// two weeks, ordered by namespace, name and dimensions.
    pub async fn list_metrics(
        &self,
        account: &str,
        region: &str,
        namespace: Option<&str>,
    ) -> CwResult<Vec<MetricId>> {
        let _ = self.engine.metrics.flush().await;
        let since = self.engine.clock.now() - time::Duration::days(14);
        let q = ListMetricsQuery {
            namespace: namespace.map(str::to_string),
            active_since: Some(since),
            ..Default::default()
        };
        Ok(self
            .engine
            .metrics
            .list_metrics(&Scope::new(account, region), &q)
            .await?)
    }

    /// One statistic of a metric per period over `[start, end)`: `(period start, value)` pairs,
    /// oldest first. `stat` is `Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount` or a
    /// percentile (`p90`).
    #[allow(clippy::too_many_arguments)]
    pub async fn metric_statistics(
        &self,
        account: &str,
        region: &str,
        metric: &MetricId,
        stat: &str,
        period: i64,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> CwResult<Vec<(time::OffsetDateTime, f64)>> {
        let stat = domain::stats::Stat::parse(stat).ok_or_else(|| {
            CwError::InvalidParameterValue(format!(
                "The value {stat} for parameter Stat is invalid."
            ))
        })?;
        let query = domain::query::Query {
            id: "m1".into(),
            label: None,
            return_data: true,
            period: None,
            kind: domain::query::QueryKind::Metric(domain::query::MetricStatQuery {
                metric: metric.clone(),
                period: period.max(1),
                stat,
                unit: None,
            }),
        };
        let _ = self.engine.metrics.flush().await;
        let scope = Scope::new(account, region);
        let results = domain::query::run(
            &jobs::StorePoints {
                metrics: &self.engine.metrics,
                scope: &scope,
            },
            &[query],
            start.unix_timestamp(),
            end.unix_timestamp(),
        )
        .await?;
        Ok(results
            .into_iter()
            .flat_map(|r| r.points)
            .filter_map(|(t, v)| {
                time::OffsetDateTime::from_unix_timestamp(t)
                    .ok()
                    .map(|t| (t, v))
            })
            .collect())
    }

    async fn dispatch(&self, ctx: &RequestContext, op: Operation, input: Value) -> CwResult<Value> {
        use handlers::input as read;
        let cw = &self.engine;
        Ok(match op {
            Operation::PutMetricData => {
                metrics::put_metric_data(cw, ctx, input).await?;
                Value::Object(Default::default())
            }
            Operation::GetMetricStatistics => {
                out(&metrics::get_metric_statistics(cw, ctx, read(input)?).await?)?
            }
            Operation::GetMetricData => {
                out(&metrics::get_metric_data(cw, ctx, read(input)?).await?)?
            }
            Operation::ListMetrics => out(&metrics::list_metrics(cw, ctx, read(input)?).await?)?,
            Operation::PutMetricAlarm => {
                alarms::put_metric_alarm(cw, ctx, read(input)?).await?;
                Value::Object(Default::default())
            }
            Operation::DescribeAlarms => {
                out(&alarms::describe_alarms(cw, ctx, read(input)?).await?)?
            }
            Operation::DescribeAlarmsForMetric => {
                out(&alarms::describe_alarms_for_metric(cw, ctx, read(input)?).await?)?
            }
            Operation::DescribeAlarmHistory => {
                out(&alarms::describe_alarm_history(cw, ctx, read(input)?).await?)?
            }
            Operation::SetAlarmState => {
                alarms::set_alarm_state(cw, ctx, read(input)?).await?;
                Value::Object(Default::default())
            }
            Operation::DeleteAlarms => {
                alarms::delete_alarms(cw, ctx, read(input)?).await?;
                Value::Object(Default::default())
            }
            Operation::EnableAlarmActions => {
                let req: api::EnableAlarmActionsInput = read(input)?;
                alarms::set_actions_enabled(cw, ctx, &req.alarm_names, true).await?;
                Value::Object(Default::default())
            }
            Operation::DisableAlarmActions => {
                let req: api::DisableAlarmActionsInput = read(input)?;
                alarms::set_actions_enabled(cw, ctx, &req.alarm_names, false).await?;
                Value::Object(Default::default())
            }
            Operation::TagResource => {
                tags::tag_resource(cw, ctx, read(input)?).await?;
                out(&api::TagResourceOutput {})?
            }
            Operation::UntagResource => {
                tags::untag_resource(cw, ctx, read(input)?).await?;
                out(&api::UntagResourceOutput {})?
            }
            Operation::ListTagsForResource => {
                out(&tags::list_tags_for_resource(cw, ctx, read(input)?).await?)?
            }
        })
    }
}

/// The canonical value of a generated output type.
fn out<T: serde::Serialize>(v: &T) -> CwResult<Value> {
    dispatch::output(v).map_err(CwError::Aws)
}

#[async_trait::async_trait]
impl Handler for CloudWatch {
    fn model(&self) -> &'static Service {
        &api::SERVICE
    }

    fn protocols(&self) -> &'static [Protocol] {
        &api::PROTOCOLS
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        op: &'static OperationSpec,
        input: Value,
    ) -> Result<Value, AwsError> {
        let Some(operation) = Operation::from_name(op.name) else {
            return Err(AwsError::new(
                "InvalidAction",
                format!("The action {} is not valid for this web service.", op.name),
                400,
            ));
        };
        self.dispatch(ctx, operation, input)
            .await
            .map_err(AwsError::from)
    }
}
