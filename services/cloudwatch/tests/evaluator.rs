//! The alarm evaluator on a ManualClock: every TreatMissingData and M-of-N row of the
//! CloudWatch user guide through the real handlers and store, the background task at period
//! boundaries with actions sent to a notifier, and restarts (a new evaluator on the same
//! database carries on, and actions owed by a transition written before a crash are executed).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hearth_cloudwatch::{AlarmNotifier, CloudWatch, StateValue};
use hearth_protocol::dispatch::Handler;
use hearth_protocol::{AwsError, RequestContext};
use hearth_runtime::blob::BlobStore;
use hearth_runtime::jobs::JobQueue;
use hearth_runtime::metrics::Metrics;
use hearth_runtime::{Clock, ManualClock, MetaStore, Runtime};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:alerts";

#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(String, String, String)>>,
}

#[async_trait::async_trait]
impl AlarmNotifier for Recorder {
    async fn publish(
        &self,
        account: &str,
        _region: &str,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> Result<(), String> {
        assert_eq!(account, ACCOUNT);
        self.sent.lock().unwrap().push((
            topic_arn.to_string(),
            subject.to_string(),
            message.to_string(),
        ));
        Ok(())
    }
}

impl Recorder {
    fn subjects(&self) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .map(|(_, s, _)| s.clone())
            .collect()
    }
}

async fn runtime(db: &str, dir: &std::path::Path, clock: Arc<ManualClock>) -> Runtime {
    let clock: Arc<dyn Clock> = clock;
    let meta = MetaStore::open(db).await.unwrap();
    Runtime {
        metrics: Metrics::open(&meta, clock.clone()).await.unwrap(),
        jobs: JobQueue::open(&meta, clock.clone()).await.unwrap(),
        blobs: BlobStore::open(dir.join("blobs")).await.unwrap(),
        meta,
        clock,
        data_dir: dir.to_path_buf(),
        models_dir: dir.join("models"),
    }
}

async fn call(cw: &CloudWatch, op: &str, input: Value) -> Result<Value, AwsError> {
    let ctx = RequestContext {
        request_id: "r".into(),
        account: ACCOUNT.into(),
        region: REGION.into(),
        access_key: "AKIDEXAMPLE".into(),
    };
    let spec = hearth_cloudwatch::api::SERVICE
        .operation(op)
        .expect("operation");
    cw.call(&ctx, spec, input).await
}

fn ts(t: OffsetDateTime) -> f64 {
    t.unix_timestamp() as f64
}

async fn state(cw: &CloudWatch, name: &str) -> StateValue {
    cw.alarm_state(ACCOUNT, REGION, name)
        .await
        .expect("alarm exists")
}

/// Wait (in real time) until the background evaluator finished a pass at or after `t`.
async fn evaluated(cw: &CloudWatch, t: OffsetDateTime) {
    let mut rx = cw.evaluated_until();
    tokio::time::timeout(Duration::from_secs(20), async {
        while *rx.borrow_and_update() < t {
            rx.changed().await.unwrap();
        }
    })
    .await
    .expect("the evaluator did not run");
}

// Start at a period boundary: 2026-01-01 00:00:00.
const START: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

fn opposite(s: Option<StateValue>) -> StateValue {
    match s {
        Some(StateValue::Alarm) | None => StateValue::Ok,
        _ => StateValue::Alarm,
    }
}

/// Every row of the user guide's two tables, for every TreatMissingData, through the handlers:
/// data for the five periods before the boundary, the alarm first set to another state.
#[tokio::test]
async fn user_guide_tables_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(START);
    let rt = runtime("sqlite::memory:", dir.path(), clock.clone()).await;
    let cw = CloudWatch::new(&rt, None);
    use StateValue::*;
    let rows: Vec<(u32, u32, &str, [Option<StateValue>; 4])> = vec![
        (3, 3, "0 - X - X", [Some(Ok), Some(Ok), Some(Ok), Some(Ok)]),
        (3, 3, "0 - - - -", [Some(Ok), Some(Ok), Some(Ok), Some(Ok)]),
        (
            3,
            3,
            "- - - - -",
            [Some(InsufficientData), None, Some(Alarm), Some(Ok)],
        ),
        (
            3,
            3,
            "0 X X - X",
            [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)],
        ),
        (
            3,
            3,
            "- - - - X",
            [Some(InsufficientData), None, Some(Alarm), Some(Ok)],
        ),
        (
            3,
            3,
            "X - - - -",
            [Some(Alarm), None, Some(Alarm), Some(Ok)],
        ),
        (
            2,
            3,
            "0 - X - X",
            [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)],
        ),
        (
            2,
            3,
            "0 0 X 0 X",
            [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)],
        ),
        (
            2,
            3,
            "0 - X - -",
            [Some(Ok), Some(Ok), Some(Alarm), Some(Ok)],
        ),
        (
            2,
            3,
            "- - - - 0",
            [Some(Ok), Some(Ok), Some(Alarm), Some(Ok)],
        ),
        (
            2,
            3,
            "- - - - X",
            [Some(InsufficientData), None, Some(Alarm), Some(Ok)],
        ),
    ];
    // The boundary evaluated: 10 minutes after START; the 5 periods before it hold the pattern.
    clock.advance(Duration::from_secs(600));
    let boundary = clock.now();
    let mut cases = Vec::new();
    for (i, (m, n, pattern, expected)) in rows.iter().enumerate() {
        let metric = format!("row{i}");
        for (k, slot) in pattern.split_whitespace().enumerate() {
            let value = match slot {
                "0" => 0.0,
                "X" => 5.0,
                _ => continue,
            };
            let t = boundary - time::Duration::minutes(5 - k as i64) + time::Duration::seconds(30);
            call(&cw, "PutMetricData", json!({"Namespace": "Guide", "MetricData": [{"MetricName": metric, "Value": value, "Timestamp": ts(t)}]})).await.unwrap();
        }
        for (treat, want) in ["missing", "ignore", "breaching", "notBreaching"]
            .iter()
            .zip(expected)
        {
            let name = format!("{metric}-{treat}");
            call(
                &cw,
                "PutMetricAlarm",
                json!({"AlarmName": name, "Namespace": "Guide", "MetricName": metric, "Statistic": "Maximum", "Period": 60,
                       "EvaluationPeriods": n, "DatapointsToAlarm": m, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold",
                       "TreatMissingData": treat}),
            )
            .await
            .unwrap();
            let initial = opposite(*want);
            call(&cw, "SetAlarmState", json!({"AlarmName": name, "StateValue": initial.as_str(), "StateReason": "test setup"})).await.unwrap();
            cases.push((name, pattern.to_string(), want.unwrap_or(initial)));
        }
    }
    cw.evaluate_now().await.unwrap();
    for (name, pattern, want) in cases {
        assert_eq!(state(&cw, &name).await, want, "{name}: {pattern}");
    }
}

#[tokio::test]
async fn background_evaluator_transitions_and_notifies() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(START);
    let rt = runtime("sqlite::memory:", dir.path(), clock.clone()).await;
    let notifier = Arc::new(Recorder::default());
    let cw = CloudWatch::start(&rt, Some(notifier.clone()));
    let dims =
        json!([{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "v1"}]);
    call(
        &cw,
        "PutMetricAlarm",
        json!({"AlarmName": "errors", "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Dimensions": dims,
               "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 2, "DatapointsToAlarm": 2, "Threshold": 1.0,
               "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
               "AlarmActions": [TOPIC], "OKActions": [TOPIC]}),
    )
    .await
    .unwrap();
    clock.advance(Duration::from_secs(10));
    evaluated(&cw, clock.now()).await;
    // No data, missing treated as not breaching: OK (and the OK action runs).
    assert_eq!(state(&cw, "errors").await, StateValue::Ok);

    // Breaching data in two consecutive periods: ALARM at the boundary after the second. AWS/
    // namespaces are the services' own: record the way SageMaker does, through the store.
    let put = |t: OffsetDateTime, v: f64| {
        let metrics = rt.metrics.clone();
        async move {
            let d = hearth_runtime::metrics::MetricDatum::new(
                "AWS/SageMaker",
                "Invocation5XXErrors",
                t,
                v,
            )
            .dimension("EndpointName", "ep")
            .dimension("VariantName", "v1")
            .unit(hearth_runtime::metrics::Unit::Count);
            metrics
                .put(&hearth_runtime::Scope::new(ACCOUNT, REGION), vec![d])
                .await
                .unwrap();
        }
    };
    put(clock.now() + time::Duration::seconds(5), 3.0).await;
    clock.advance(Duration::from_secs(60));
    evaluated(&cw, clock.now()).await;
    assert_eq!(
        state(&cw, "errors").await,
        StateValue::Ok,
        "1 of 2 datapoints is not enough"
    );
    put(clock.now() + time::Duration::seconds(5), 2.0).await;
    clock.advance(Duration::from_secs(60));
    evaluated(&cw, clock.now()).await;
    assert_eq!(state(&cw, "errors").await, StateValue::Alarm);
    let describe = call(&cw, "DescribeAlarms", json!({"AlarmNames": ["errors"]}))
        .await
        .unwrap();
    let reason = describe["MetricAlarms"][0]["StateReason"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        reason,
        "Threshold Crossed: 2 out of the last 2 datapoints [2.0 (01/01/26 00:01:00), 3.0 (01/01/26 00:00:00)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."
    );
    let data: Value = serde_json::from_str(
        describe["MetricAlarms"][0]["StateReasonData"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(data["recentDatapoints"], json!([3.0, 2.0]));
    assert_eq!(
        data["evaluatedDatapoints"][0]["timestamp"],
        "2026-01-01T00:01:00.000+0000"
    );

    // Actions: one for OK, one for ALARM, each recorded in history.
    tokio::time::timeout(Duration::from_secs(10), async {
        while notifier.subjects().len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(
        notifier.subjects(),
        vec![
            "OK: \"errors\" in US East (N. Virginia)",
            "ALARM: \"errors\" in US East (N. Virginia)"
        ]
    );
    let (_, _, message) = notifier.sent.lock().unwrap()[1].clone();
    let message: Value = serde_json::from_str(&message).unwrap();
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["OldStateValue"], "OK");
    assert_eq!(message["NewStateReason"], reason);
    assert_eq!(message["Trigger"]["MetricName"], "Invocation5XXErrors");
    assert_eq!(message["Trigger"]["Statistic"], "SUM");
    assert_eq!(
        message["Trigger"]["Dimensions"][0],
        json!({"value": "ep", "name": "EndpointName"})
    );
    let history = cw
        .alarm_history(ACCOUNT, REGION, Some("errors"), 100)
        .await
        .unwrap();
    let summaries: Vec<String> = history
        .iter()
        .map(|h| h.history_summary.clone().unwrap())
        .collect();
    assert!(
        summaries.contains(&format!("Successfully executed action {TOPIC}")),
        "{summaries:?}"
    );
    assert!(
        summaries.contains(&"Alarm updated from OK to ALARM".to_string()),
        "{summaries:?}"
    );
    assert_eq!(summaries.last().unwrap(), "Alarm \"errors\" created");

    // With actions disabled, the next transition notifies nobody. The two real datapoints stay
    // the newest ones while they are in the evaluation range (4 periods), so the alarm stays in
    // ALARM two more periods, then missing data (not breaching) takes their place.
    call(
        &cw,
        "DisableAlarmActions",
        json!({"AlarmNames": ["errors"]}),
    )
    .await
    .unwrap();
    for _ in 0..2 {
        clock.advance(Duration::from_secs(60));
        evaluated(&cw, clock.now()).await;
        assert_eq!(state(&cw, "errors").await, StateValue::Alarm);
    }
    clock.advance(Duration::from_secs(60));
    evaluated(&cw, clock.now()).await;
    assert_eq!(state(&cw, "errors").await, StateValue::Ok);
    assert_eq!(notifier.subjects().len(), 2);
}

#[tokio::test]
async fn evaluator_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("meta.db").display());
    let clock = ManualClock::new(START);
    let first = Arc::new(Recorder::default());
    {
        let rt = runtime(&db, dir.path(), clock.clone()).await;
        let cw = CloudWatch::start(&rt, Some(first.clone()));
        call(
            &cw,
            "PutMetricAlarm",
            json!({"AlarmName": "latency", "Namespace": "App", "MetricName": "Latency", "ExtendedStatistic": "p90", "Period": 10,
                   "EvaluationPeriods": 1, "Threshold": 100.0, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": [TOPIC], "OKActions": [TOPIC]}),
        )
        .await
        .unwrap();
        let values: Vec<f64> = (1..=100).map(|v| v as f64 * 2.0).collect();
        call(&cw, "PutMetricData", json!({"Namespace": "App", "MetricData": [{"MetricName": "Latency", "Values": values, "StorageResolution": 1, "Timestamp": ts(clock.now())}]})).await.unwrap();
        clock.advance(Duration::from_secs(10));
        evaluated(&cw, clock.now()).await;
        assert_eq!(
            state(&cw, "latency").await,
            StateValue::Alarm,
            "p90 of 2..200 is 180"
        );
        // Before this process stops, a transition is written but its action not yet run.
        call(
            &cw,
            "SetAlarmState",
            json!({"AlarmName": "latency", "StateValue": "OK", "StateReason": "manual"}),
        )
        .await
        .unwrap();
    }
    // The evaluator task notices its service is gone; give it a moment to stop.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let alarms_before = first
        .subjects()
        .iter()
        .filter(|s| s.starts_with("ALARM"))
        .count();
    assert_eq!(alarms_before, 1);

    // "Restart": a new evaluator on the same database file.
    let second = Arc::new(Recorder::default());
    let rt = runtime(&db, dir.path(), clock.clone()).await;
    let cw = CloudWatch::start(&rt, Some(second.clone()));
    evaluated(&cw, clock.now()).await;
    // The OK action owed by SetAlarmState is delivered exactly once overall.
    let ok_total = first
        .subjects()
        .iter()
        .chain(second.subjects().iter())
        .filter(|s| s.starts_with("OK"))
        .count();
    assert_eq!(
        ok_total,
        1,
        "first: {:?}, second: {:?}",
        first.subjects(),
        second.subjects()
    );
    // The next boundary re-evaluates the (still breaching) data: ALARM again, notified once.
    let values: Vec<f64> = (1..=100).map(|v| v as f64 * 2.0).collect();
    call(&cw, "PutMetricData", json!({"Namespace": "App", "MetricData": [{"MetricName": "Latency", "Values": values, "StorageResolution": 1, "Timestamp": ts(clock.now())}]})).await.unwrap();
    clock.advance(Duration::from_secs(10));
    evaluated(&cw, clock.now()).await;
    assert_eq!(state(&cw, "latency").await, StateValue::Alarm);
    tokio::time::timeout(Duration::from_secs(10), async {
        while !second.subjects().iter().any(|s| s.starts_with("ALARM")) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(
        first
            .subjects()
            .iter()
            .chain(second.subjects().iter())
            .filter(|s| s.starts_with("ALARM"))
            .count(),
        2
    );
    // Without data the alarm goes to INSUFFICIENT_DATA once the range is empty.
    clock.advance(Duration::from_secs(40));
    evaluated(&cw, clock.now()).await;
    assert_eq!(state(&cw, "latency").await, StateValue::InsufficientData);
}

#[tokio::test]
async fn metric_math_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(START);
    let rt = runtime("sqlite::memory:", dir.path(), clock.clone()).await;
    let cw = CloudWatch::new(&rt, None);
    let q = |id: &str, name: &str| json!({"Id": id, "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "Web", "MetricName": name}, "Period": 60, "Stat": "Sum"}});
    call(
        &cw,
        "PutMetricAlarm",
        json!({"AlarmName": "error-rate", "EvaluationPeriods": 1, "Threshold": 10.0, "ComparisonOperator": "GreaterThanThreshold",
               "Metrics": [q("m1", "Errors"), q("m2", "Requests"), {"Id": "e1", "Expression": "m1/m2*100", "Label": "Error rate"}]}),
    )
    .await
    .unwrap();
    let t = ts(clock.now() + time::Duration::seconds(1));
    call(&cw, "PutMetricData", json!({"Namespace": "Web", "MetricData": [{"MetricName": "Errors", "Value": 5, "Timestamp": t}, {"MetricName": "Requests", "Value": 20, "Timestamp": t}]})).await.unwrap();
    clock.advance(Duration::from_secs(60));
    cw.evaluate_now().await.unwrap();
    assert_eq!(state(&cw, "error-rate").await, StateValue::Alarm);
    let bad = call(&cw, "PutMetricAlarm", json!({"AlarmName": "x", "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold", "Metrics": [q("m1", "Errors")]})).await.unwrap_err();
    assert_eq!(bad.code, "InvalidParameterValue");
    assert_eq!(
        bad.message,
        "Exactly one element of the metrics list should return data."
    );
}
