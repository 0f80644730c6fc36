//! The deployment job end to end on a `ManualClock`: the real SageMaker service (handlers,
//! durable jobs, hosting with the XGBoost library) with a fake alarm source, so bakes of
//! minutes and `MaximumExecutionTimeoutInSeconds` run in milliseconds. Rollback on an alarm,
//! on the timeout, and a success with its termination wait; a rolling update's rollback in
//! `RollbackMaximumBatchSize` batches.
//!
//! Needs `libxgboost` in the test model cache (`hearth models fetch xgboost`, which the
//! tests/aws suite runs); skipped with a note otherwise.

use hearth_protocol::dispatch::Handler;
use hearth_protocol::RequestContext;
use hearth_runtime::blob::BlobStore;
use hearth_runtime::{Clock, JobQueue, ManualClock, MetaStore, Metrics, Runtime};
use hearth_sagemaker::api::Operation;
use hearth_sagemaker::deployments::AlarmSource;
use hearth_sagemaker::{SageMaker, SageMakerOptions};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Alarms(Mutex<HashMap<String, String>>);

#[async_trait::async_trait]
impl AlarmSource for Alarms {
    async fn alarm_state(&self, _: &str, _: &str, name: &str) -> Option<String> {
        self.0.lock().unwrap().get(name).cloned()
    }
}

fn models_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-models");
    d.join("xgboost").exists().then_some(d)
}

struct World {
    sm: SageMaker,
    clock: Arc<ManualClock>,
    alarms: Arc<Alarms>,
    ctx: RequestContext,
    _dir: tempfile::TempDir,
    _workers: hearth_runtime::jobs::WorkerPool,
}

impl World {
    async fn new(models: PathBuf) -> World {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(time::macros::datetime!(2025-01-01 00:00 UTC));
        let c: Arc<dyn Clock> = clock.clone();
        let meta = MetaStore::open("sqlite::memory:").await.unwrap();
        let blobs = BlobStore::open(dir.path().join("blobs")).await.unwrap();
        let jobs = JobQueue::open(&meta, c.clone()).await.unwrap();
        let rt = Runtime {
            metrics: Metrics::open(&meta, c.clone()).await.unwrap(),
            jobs: jobs.clone(),
            blobs: blobs.clone(),
            meta: meta.clone(),
            clock: c.clone(),
            data_dir: dir.path().to_path_buf(),
            models_dir: models,
        };
        let s3 = hearth_s3::S3::new(meta, blobs, c);
        let ctx = RequestContext { request_id: "R".into(), account: "123456789012".into(), region: "us-east-1".into(), access_key: "AKIATEST".into() };
        // The bucket and the artifact.
        let req = http::Request::builder().method("PUT").uri("/models").body(axum::body::Body::empty()).unwrap();
        let resp = s3.handle(ctx.clone(), hearth_protocol::sigv4::Payload::Unsigned, req).await;
        assert!(resp.status().is_success(), "{:?}", resp.status());
        let raw = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny.ubj")).unwrap();
        let tgz = hearth_sagemaker::domain::artifact::pack(&[("xgboost-model", &raw)], 0).unwrap();
        s3.write_object("123456789012", "models", "m/model.tar.gz", &tgz, "application/x-tar").await.unwrap();
        let alarms = Arc::new(Alarms::default());
        let sm = SageMaker::build(&rt, &s3, SageMakerOptions { engine_threads: 1, training_threads: 1, ..Default::default() }, Some(alarms.clone()));
        let workers = jobs.run_workers(2);
        World { sm, clock, alarms, ctx, _dir: dir, _workers: workers }
    }

    async fn call(&self, op: Operation, input: Value) -> Result<Value, hearth_protocol::AwsError> {
        self.sm.call(&self.ctx, op.spec(), input).await
    }

    async fn describe(&self, ep: &str) -> Value {
        self.call(Operation::DescribeEndpoint, json!({"EndpointName": ep})).await.unwrap()
    }

    /// Let the jobs run for `secs` of clock time, in 100 ms ticks.
    async fn run_for(&self, secs: f64) {
        let ticks = (secs * 10.0).round() as usize;
        for _ in 0..ticks {
            self.clock.advance(Duration::from_millis(100));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The same in 1 s ticks (long bakes where nothing happens in between).
    async fn run_coarse(&self, secs: u64) {
        for _ in 0..secs {
            self.clock.advance(Duration::from_secs(1));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Tick until the endpoint's status is `want` (at most `max_secs` of clock time).
    async fn until(&self, ep: &str, want: &str, max_secs: f64) -> Value {
        let mut waited = 0.0;
        loop {
            let d = self.describe(ep).await;
            if d["EndpointStatus"] == want {
                return d;
            }
            assert!(waited < max_secs, "{ep} not {want} after {max_secs} s: {d}");
            self.run_for(0.1).await;
            waited += 0.1;
        }
    }

    async fn setup(&self, ep: &str) {
        for (m, c) in [("blue-model", "blue"), ("green-model", "green")] {
            self.call(Operation::CreateModel, json!({"ModelName": m, "ExecutionRoleArn": "arn:aws:iam::123456789012:role/r", "PrimaryContainer": {"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "ModelDataUrl": "s3://models/m/model.tar.gz"}})).await.unwrap();
            self.call(Operation::CreateEndpointConfig, json!({"EndpointConfigName": c, "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": m, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 3}]})).await.unwrap();
        }
        self.call(Operation::CreateEndpoint, json!({"EndpointName": ep, "EndpointConfigName": "blue"})).await.unwrap();
        self.until(ep, "InService", 60.0).await;
    }
}

/// A world with endpoint `ep` InService on "blue" and alarm `errors` in OK, or `None` (with a
/// note) when libxgboost has not been fetched.
async fn ready_world() -> Option<World> {
    let Some(models) = models_dir() else {
        eprintln!("skipped: no libxgboost in target/test-models (hearth models fetch xgboost)");
        return None;
    };
    let w = World::new(models).await;
    w.alarms.0.lock().unwrap().insert("errors".into(), "OK".into());
    w.setup("ep").await;
    Some(w)
}

fn canary(wait: i64, term: i64, max: i64) -> Value {
    json!({
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": wait},
            "TerminationWaitInSeconds": term,
            "MaximumExecutionTimeoutInSeconds": max
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarm_timeout_and_success_on_a_manual_clock() {
    let Some(w) = ready_world().await else {
        return;
    };

    // An unknown alarm is refused, nothing changes.
    let mut bad = canary(300, 0, 1800);
    bad["AutoRollbackConfiguration"]["Alarms"][0]["AlarmName"] = json!("nope");
    let e = w.call(Operation::UpdateEndpoint, json!({"EndpointName": "ep", "EndpointConfigName": "green", "DeploymentConfig": bad})).await.unwrap_err();
    assert_eq!(e.code, "ValidationException");
    assert_eq!(w.describe("ep").await["EndpointStatus"], "InService");

    // 1. The alarm trips in the canary's 300 s bake: all traffic back on blue within a poll.
    w.call(Operation::UpdateEndpoint, json!({"EndpointName": "ep", "EndpointConfigName": "green", "DeploymentConfig": canary(300, 0, 1800)})).await.unwrap();
    let mut waited = 0.0;
    loop {
        let d = w.describe("ep").await;
        if d["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "Baking" {
            break;
        }
        assert!(waited < 60.0, "{d}");
        w.run_for(0.1).await;
        waited += 0.1;
    }
    w.run_coarse(120).await;
    assert_eq!(w.describe("ep").await["EndpointStatus"], "Updating", "still baking after 120 s of 300");
    w.alarms.0.lock().unwrap().insert("errors".into(), "ALARM".into());
    let d = w.until("ep", "InService", 1.0).await;
    assert_eq!(d["EndpointConfigName"], "blue");
    assert!(d["FailureReason"].as_str().unwrap().contains("Alarm errors is in ALARM state"), "{d}");
    w.alarms.0.lock().unwrap().insert("errors".into(), "OK".into());

    // 2. MaximumExecutionTimeoutInSeconds: a one-hour bake under a 600 s limit rolls back at 600 s.
    w.call(Operation::UpdateEndpoint, json!({"EndpointName": "ep", "EndpointConfigName": "green", "DeploymentConfig": canary(3600, 0, 600)})).await.unwrap();
    w.run_coarse(590).await;
    assert_eq!(w.describe("ep").await["EndpointStatus"], "Updating");
    let d = w.until("ep", "InService", 15.0).await;
    assert_eq!(d["EndpointConfigName"], "blue");
    assert!(d["FailureReason"].as_str().unwrap().contains("MaximumExecutionTimeoutInSeconds (600 s)"), "{d}");

    // 3. Success, retained configuration: canary bake 300 s, final bake 300 s, blue kept 120 s.
    w.call(Operation::UpdateEndpoint, json!({"EndpointName": "ep", "EndpointConfigName": "green", "DeploymentConfig": canary(300, 120, 1800)})).await.unwrap();
    w.run_coarse(650).await;
    let d = w.describe("ep").await;
    assert_eq!(d["EndpointStatus"], "Updating", "termination wait: {d}");
    assert_eq!(d["EndpointConfigName"], "green", "all traffic on green during the termination wait");
    let d = w.until("ep", "InService", 120.0).await;
    assert_eq!(d["EndpointConfigName"], "green");
    assert!(d.get("FailureReason").is_none(), "{d}");
    let history = hearth_sagemaker::deployments::history(&w.sm.meta(), &hearth_runtime::Scope::new("123456789012", "us-east-1"), "ep").await.unwrap();
    let phases: Vec<&str> = history.iter().map(|d| d.phase.as_str()).collect();
    assert_eq!(phases, vec!["rolled-back", "rolled-back", "succeeded"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_rolls_back_in_batches() {
    let Some(w) = ready_world().await else {
        return;
    };
    let rolling = json!({
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
            "WaitIntervalInSeconds": 60,
            "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1}
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]}
    });
    w.call(Operation::UpdateEndpoint, json!({"EndpointName": "ep", "EndpointConfigName": "green", "DeploymentConfig": rolling})).await.unwrap();
    // Two 60 s bakes pass: the third batch (all 3 instances) is baking when the alarm trips.
    let mut waited = 0;
    loop {
        let d = w.describe("ep").await;
        let v = &d["PendingDeploymentSummary"]["ProductionVariants"][0];
        if v["VariantStatus"][0]["Status"] == "Baking" && v["CurrentInstanceCount"] == 3 {
            break;
        }
        assert!(waited < 300, "{d}");
        w.run_coarse(1).await;
        waited += 1;
    }
    w.alarms.0.lock().unwrap().insert("errors".into(), "ALARM".into());
    let d = w.until("ep", "InService", 2.0).await;
    assert_eq!(d["EndpointConfigName"], "blue");
    let history = hearth_sagemaker::deployments::history(&w.sm.meta(), &hearth_runtime::Scope::new("123456789012", "us-east-1"), "ep").await.unwrap();
    let dep = history.last().unwrap();
    assert_eq!(dep.phase.as_str(), "rolled-back");
    let batches: Vec<(String, f64)> = dep.events.iter().filter(|e| e.message.starts_with("rollback batch")).map(|e| (e.message.clone(), e.green_share)).collect();
    assert_eq!(batches.len(), 3, "{:?}", dep.events);
    assert!(batches[0].0.starts_with("rollback batch 1/3: 2 new-fleet instance(s) left"), "{batches:?}");
    assert!(batches[2].0.starts_with("rollback batch 3/3: 0 new-fleet instance(s) left"), "{batches:?}");
    let shares: Vec<f64> = batches.iter().map(|b| b.1).collect();
    assert!((shares[0] - 2.0 / 3.0).abs() < 1e-9 && (shares[1] - 1.0 / 3.0).abs() < 1e-9 && shares[2] == 0.0, "{shares:?}");
}
