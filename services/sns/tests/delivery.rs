//! Delivery jobs on a ManualClock, through the real handlers, store and job queue: the
//! confirmation handshake, a retry that waits exactly the delivery policy's delay, a policy
//! that runs out, deliveries dropped when the subscription goes away, and unconfirmed
//! subscriptions expiring after 48 hours.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hearth_protocol::dispatch::Handler;
use hearth_protocol::{AwsError, RequestContext};
use hearth_runtime::blob::BlobStore;
use hearth_runtime::jobs::{JobQueue, JobStatus};
use hearth_runtime::metrics::Metrics;
use hearth_runtime::{Clock, ManualClock, MetaStore, Runtime, Scope};
use hearth_sns::api::Operation;
use hearth_sns::{Settings, Sns};
use serde_json::{json, Value};
use time::macros::datetime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// A subscriber endpoint: records bodies, answers queued statuses (then 200).
#[derive(Default)]
struct Endpoint {
    bodies: Vec<Value>,
    statuses: VecDeque<u16>,
}

async fn start_endpoint() -> (String, Arc<Mutex<Endpoint>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(Endpoint::default()));
    let shared = state.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let state = shared.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let body = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap_or(0));
                    if buf.len() >= end + 4 + len {
                        break buf[end + 4..end + 4 + len].to_vec();
                    }
                };
                let status = {
                    let mut s = state.lock().unwrap();
                    s.bodies.push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    s.statuses.pop_front().unwrap_or(200)
                };
                let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, state)
}

struct World {
    sns: Sns,
    clock: Arc<ManualClock>,
    jobs: JobQueue,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let manual = ManualClock::new(datetime!(2024-03-01 12:00 UTC));
    let clock: Arc<dyn Clock> = manual.clone();
    let meta = MetaStore::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    let rt = Runtime {
        metrics: Metrics::open(&meta, clock.clone()).await.unwrap(),
        jobs: JobQueue::open(&meta, clock.clone()).await.unwrap(),
        blobs: BlobStore::open(dir.path().join("blobs")).await.unwrap(),
        meta,
        clock,
        data_dir: dir.path().to_path_buf(),
        models_dir: dir.path().join("models"),
    };
    let settings = Settings { smtp_relay: None, smtp_from: "no-reply@hearth.local".into(), public_endpoint: "http://hearth.test".into() };
    let sns = Sns::new(&rt, settings).await.unwrap();
    std::mem::forget(rt.jobs.run_workers(2));
    World { sns, clock: manual, jobs: rt.jobs.clone(), _dir: dir }
}

async fn call(sns: &Sns, op: Operation, input: Value) -> Result<Value, AwsError> {
    let ctx = RequestContext { request_id: "r".into(), account: ACCOUNT.into(), region: REGION.into(), access_key: "AKIDEXAMPLE".into() };
    sns.call(&ctx, op.spec(), input).await
}

/// Wait (real time) until the endpoint got `n` requests.
async fn received(ep: &Arc<Mutex<Endpoint>>, n: usize) -> Vec<Value> {
    for _ in 0..400 {
        {
            let s = ep.lock().unwrap();
            if s.bodies.len() >= n {
                return s.bodies.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("endpoint got {} requests, wanted {n}", ep.lock().unwrap().bodies.len());
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// A topic with a 5-second, 2-retry policy and one confirmed HTTP subscription.
async fn subscribed(w: &World) -> (String, String, Arc<Mutex<Endpoint>>) {
    let policy = json!({"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 5, "numRetries": 2}}}).to_string();
    let topic = call(&w.sns, Operation::CreateTopic, json!({"Name": "orders", "Attributes": {"DeliveryPolicy": policy}})).await.unwrap()["TopicArn"].as_str().unwrap().to_string();
    let (url, ep) = start_endpoint().await;
    let out = call(&w.sns, Operation::Subscribe, json!({"TopicArn": topic, "Protocol": "http", "Endpoint": url})).await.unwrap();
    assert_eq!(out["SubscriptionArn"], "pending confirmation");
    let confirmation = received(&ep, 1).await.remove(0);
    assert_eq!(confirmation["Type"], "SubscriptionConfirmation");
    assert!(confirmation["SubscribeURL"].as_str().unwrap().starts_with("http://hearth.test/sns/confirm?TopicArn="));
    let token = confirmation["Token"].as_str().unwrap();
    let sub = call(&w.sns, Operation::ConfirmSubscription, json!({"TopicArn": topic, "Token": token})).await.unwrap()["SubscriptionArn"].as_str().unwrap().to_string();
    (topic, sub, ep)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_waits_for_the_policy_delay_on_the_clock() {
    let w = world().await;
    let (topic, _, ep) = subscribed(&w).await;
    ep.lock().unwrap().statuses.push_back(500);
    let id = call(&w.sns, Operation::Publish, json!({"TopicArn": topic, "Message": "hello"})).await.unwrap()["MessageId"].as_str().unwrap().to_string();
    received(&ep, 2).await;
    settle().await;
    assert_eq!(ep.lock().unwrap().bodies.len(), 2, "no retry before the clock moves");
    w.clock.advance(Duration::from_secs(4));
    w.jobs.wake();
    settle().await;
    assert_eq!(ep.lock().unwrap().bodies.len(), 2, "no retry before 5 s");
    w.clock.advance(Duration::from_secs(1));
    w.jobs.wake();
    let bodies = received(&ep, 3).await;
    assert_eq!(bodies[1]["MessageId"], id.as_str());
    assert_eq!(bodies[1], bodies[2], "a retry sends the same signed document");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_policy_fails_the_job() {
    let w = world().await;
    let (topic, _, ep) = subscribed(&w).await;
    ep.lock().unwrap().statuses.extend([500, 502, 503]);
    let id = call(&w.sns, Operation::Publish, json!({"TopicArn": topic, "Message": "doomed"})).await.unwrap()["MessageId"].as_str().unwrap().to_string();
    received(&ep, 2).await;
    for n in 3..=4 {
        settle().await;
        w.clock.advance(Duration::from_secs(5));
        w.jobs.wake();
        received(&ep, n).await;
    }
    settle().await;
    let scope = Scope::new(ACCOUNT, REGION);
    let jobs = w.jobs.list(Some("sns.delivery"), &scope).await.unwrap();
    let job = jobs.iter().find(|j| j.id.starts_with(&format!("sns/{id}/"))).expect("the delivery job");
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.last_error.as_deref().unwrap_or("").contains("exhausted after 3 attempts"), "{:?}", job.last_error);
    w.clock.advance(Duration::from_secs(60));
    w.jobs.wake();
    settle().await;
    assert_eq!(ep.lock().unwrap().bodies.len(), 4, "1 confirmation + 3 attempts, then nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribing_drops_queued_retries() {
    let w = world().await;
    let (topic, sub, ep) = subscribed(&w).await;
    ep.lock().unwrap().statuses.push_back(500);
    call(&w.sns, Operation::Publish, json!({"TopicArn": topic, "Message": "late"})).await.unwrap();
    received(&ep, 2).await;
    call(&w.sns, Operation::Unsubscribe, json!({"SubscriptionArn": sub})).await.unwrap();
    w.clock.advance(Duration::from_secs(30));
    w.jobs.wake();
    settle().await;
    assert_eq!(ep.lock().unwrap().bodies.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_publish_reaches_subscribers() {
    let w = world().await;
    let (topic, _, ep) = subscribed(&w).await;
    let subject = format!("ALARM: \"latency\" in US East (N. Virginia) {}", "x".repeat(100));
    let id = w.sns.publish_internal(ACCOUNT, REGION, &topic, Some(&subject), "{\"AlarmName\":\"latency\"}").await.unwrap();
    let doc = received(&ep, 2).await.remove(1);
    assert_eq!(doc["MessageId"], id.as_str());
    assert_eq!(doc["Subject"].as_str().unwrap().len(), 100);
    assert!(w.sns.publish_internal(ACCOUNT, REGION, &format!("{topic}-missing"), None, "m").await.unwrap_err().contains("Topic does not exist"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_subscriptions_expire_after_48_hours() {
    let w = world().await;
    let topic = call(&w.sns, Operation::CreateTopic, json!({"Name": "lonely"})).await.unwrap()["TopicArn"].as_str().unwrap().to_string();
    let (url, ep) = start_endpoint().await;
    let sub = call(&w.sns, Operation::Subscribe, json!({"TopicArn": topic, "Protocol": "http", "Endpoint": url, "ReturnSubscriptionArn": true})).await.unwrap()["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_string();
    received(&ep, 1).await;
    let count = |v: Value| v["Subscriptions"].as_array().map_or(0, Vec::len);
    w.clock.advance(Duration::from_secs(47 * 3600));
    w.jobs.wake();
    settle().await;
    assert_eq!(count(call(&w.sns, Operation::ListSubscriptionsByTopic, json!({"TopicArn": topic})).await.unwrap()), 1);
    w.clock.advance(Duration::from_secs(3600 + 1));
    w.jobs.wake();
    settle().await;
    assert_eq!(count(call(&w.sns, Operation::ListSubscriptionsByTopic, json!({"TopicArn": topic})).await.unwrap()), 0);
    let err = call(&w.sns, Operation::GetSubscriptionAttributes, json!({"SubscriptionArn": sub})).await.unwrap_err();
    assert_eq!(err.code, "NotFound");
}
