//! Metrics store tests, run on SQLite and (when `HEARTH_TEST_DATABASE_URL` is set) on
//! PostgreSQL, plus the Prometheus exposition.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hearth_runtime::metrics::{
    DimensionFilter, ListMetricsQuery, MetricDatum, MetricId, Metrics, MetricsError, MetricsOptions, Sample,
    StatisticSet, Unit,
};
use hearth_runtime::{ManualClock, MetaStore, Scope, SystemClock};
use time::OffsetDateTime;

// ---------------------------------------------------------------------------------------------
// Backends

struct TestDb {
    meta: MetaStore,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Schema { admin: String, schema: String },
}

async fn sqlite_db() -> TestDb {
    let dir = std::env::temp_dir().join(format!("hearth-metrics-test-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}", dir.join("meta.db").display());
    let meta = MetaStore::open(&url).await.expect("open sqlite");
    TestDb { meta, url, cleanup: Cleanup::Dir(dir) }
}

async fn postgres_db() -> Option<TestDb> {
    let Ok(admin) = std::env::var("HEARTH_TEST_DATABASE_URL") else {
        eprintln!("notice: HEARTH_TEST_DATABASE_URL is not set; skipping the PostgreSQL run");
        return None;
    };
    let schema = format!("metrics_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&admin).await.expect("connect postgres");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&pool).await.expect("create schema");
    pool.close().await;
    let sep = if admin.contains('?') { '&' } else { '?' };
    let url = format!("{admin}{sep}options=-c%20search_path%3D{schema}");
    let meta = MetaStore::open(&url).await.expect("open postgres");
    Some(TestDb { meta, url, cleanup: Cleanup::Schema { admin, schema } })
}

impl TestDb {
    async fn close(self) {
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin, schema } => {
                if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&pool).await;
                    pool.close().await;
                }
            }
        }
    }
}

macro_rules! both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let db = super::sqlite_db().await;
                    super::$scenario(&db).await;
                    db.close().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(db) = super::postgres_db().await else { return };
                    super::$scenario(&db).await;
                    db.close().await;
                }
            )*
        }
    };
}

both_backends!(
    record_flush_query_ranges,
    accounts_and_regions_are_isolated,
    dimensions_are_canonical,
    sample_kinds_are_preserved,
    list_metrics_filters,
    put_is_durable_at_once,
    background_writer_flushes_on_clock_batch_and_drop,
    invalid_data_is_rejected,
    old_points_are_deleted,
);

// ---------------------------------------------------------------------------------------------
// Helpers

fn t0() -> OffsetDateTime {
    time::macros::datetime!(2030-01-01 00:00:00 UTC)
}

fn acct(a: &str) -> Scope {
    Scope::new(a, "us-east-1")
}

fn minutes(n: i64) -> time::Duration {
    time::Duration::minutes(n)
}

fn id(ns: &str, name: &str, dims: &[(&str, &str)]) -> MetricId {
    MetricId::new(ns, name, dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..1000 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async fn record_flush_query_ranges(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let m = Metrics::open(&db.meta, clock.clone()).await.unwrap();
    let a = acct("111111111111");
    for i in 0..10 {
        let d = MetricDatum::new("App", "Latency", t0() + minutes(i), i as f64).unit(Unit::Milliseconds).dimension("Api", "get");
        m.record(&a, d).unwrap();
    }
    m.flush().await.unwrap();
    let metric = id("App", "Latency", &[("Api", "get")]);
    let pts = m.query(&a, &metric, t0() + minutes(2), t0() + minutes(5)).await.unwrap();
    assert_eq!(pts.iter().map(|p| p.sum).collect::<Vec<_>>(), vec![2.0, 3.0, 4.0], "start inclusive, end exclusive");
    assert_eq!(pts[0].timestamp, t0() + minutes(2));
    assert_eq!(pts[0].unit, Unit::Milliseconds);
    assert_eq!(pts[0].storage_resolution, 60);
    let all = m.query(&a, &metric, t0() - minutes(60), t0() + minutes(60)).await.unwrap();
    assert_eq!(all.len(), 10);
    assert!(all.windows(2).all(|w| w[0].timestamp <= w[1].timestamp), "oldest first");
    assert!(m.query(&a, &metric, t0() + minutes(20), t0() + minutes(30)).await.unwrap().is_empty());
    // Millisecond timestamps survive.
    let ts = t0() + time::Duration::milliseconds(1234);
    m.record(&a, MetricDatum::new("App", "Fine", ts, 1.0).resolution(1)).unwrap();
    m.flush().await.unwrap();
    let fine = m.query(&a, &id("App", "Fine", &[]), t0(), t0() + minutes(1)).await.unwrap();
    assert_eq!((fine[0].timestamp, fine[0].storage_resolution), (ts, 1));
}

async fn accounts_and_regions_are_isolated(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let m = Metrics::open(&db.meta, clock.clone()).await.unwrap();
    let a = acct("111111111111");
    let b = acct("222222222222");
    let a_west = Scope::new("111111111111", "us-west-2");
    m.record(&a, MetricDatum::new("App", "Hits", t0(), 1.0)).unwrap();
    m.record(&b, MetricDatum::new("App", "Hits", t0(), 2.0)).unwrap();
    m.record(&a_west, MetricDatum::new("App", "Hits", t0(), 3.0)).unwrap();
    m.flush().await.unwrap();
    let metric = id("App", "Hits", &[]);
    let range = (t0(), t0() + minutes(1));
    let sums = |s: Scope| {
        let m = m.clone();
        let metric = metric.clone();
        async move { m.query(&s, &metric, range.0, range.1).await.unwrap().iter().map(|p| p.sum).collect::<Vec<_>>() }
    };
    assert_eq!(sums(a.clone()).await, vec![1.0]);
    assert_eq!(sums(b.clone()).await, vec![2.0]);
    assert_eq!(sums(a_west.clone()).await, vec![3.0]);
    assert!(sums(acct("333333333333")).await.is_empty());
    assert_eq!(m.list_metrics(&b, &ListMetricsQuery::default()).await.unwrap(), vec![metric.clone()]);
    assert!(m.list_metrics(&acct("333333333333"), &ListMetricsQuery::default()).await.unwrap().is_empty());
}

async fn dimensions_are_canonical(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let m = Metrics::open(&db.meta, clock.clone()).await.unwrap();
    let a = acct("111111111111");
    m.record(&a, MetricDatum::new("App", "Hits", t0(), 1.0).dimension("Zone", "z1").dimension("Host", "h1")).unwrap();
    m.record(&a, MetricDatum::new("App", "Hits", t0() + minutes(1), 2.0).dimension("Host", "h1").dimension("Zone", "z1")).unwrap();
    m.record(&a, MetricDatum::new("App", "Hits", t0(), 5.0).dimension("Host", "h1")).unwrap();
    m.flush().await.unwrap();
    let both = id("App", "Hits", &[("Zone", "z1"), ("Host", "h1")]);
    assert_eq!(both.dimensions[0].0, "Host", "MetricId sorts");
    let pts = m.query(&a, &both, t0(), t0() + minutes(5)).await.unwrap();
    assert_eq!(pts.iter().map(|p| p.sum).collect::<Vec<_>>(), vec![1.0, 2.0], "either order names one metric");
    let host_only = m.query(&a, &id("App", "Hits", &[("Host", "h1")]), t0(), t0() + minutes(5)).await.unwrap();
    assert_eq!(host_only.iter().map(|p| p.sum).collect::<Vec<_>>(), vec![5.0], "dimensions match exactly");
    assert!(m.query(&a, &id("App", "Hits", &[]), t0(), t0() + minutes(5)).await.unwrap().is_empty());
    let listed = m.list_metrics(&a, &ListMetricsQuery::default()).await.unwrap();
    assert_eq!(listed, vec![id("App", "Hits", &[("Host", "h1")]), both]);
}

async fn sample_kinds_are_preserved(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let m = Metrics::open(&db.meta, clock.clone()).await.unwrap();
    let a = acct("111111111111");
    let stats = StatisticSet { sample_count: 4.0, sum: 10.0, minimum: 1.0, maximum: 4.0 };
    m.record(&a, MetricDatum::new("App", "S", t0(), 0.0).sample(Sample::Stats(stats)).unit(Unit::Seconds)).unwrap();
    let values = Sample::Values { values: vec![1.5, 2.5, 10.0], counts: vec![2.0, 1.0, 3.0] };
    m.record(&a, MetricDatum::new("App", "S", t0() + minutes(1), 0.0).sample(values).unit(Unit::Seconds)).unwrap();
    let plain = Sample::Values { values: vec![7.0, 3.0], counts: vec![] };
    m.record(&a, MetricDatum::new("App", "S", t0() + minutes(2), 0.0).sample(plain).unit(Unit::Seconds)).unwrap();
    m.record(&a, MetricDatum::new("App", "S", t0() + minutes(3), -2.5).unit(Unit::Seconds)).unwrap();
    m.flush().await.unwrap();
    let p = m.query(&a, &id("App", "S", &[]), t0(), t0() + minutes(10)).await.unwrap();
    assert_eq!(p.len(), 4);
    assert_eq!((p[0].sample_count, p[0].sum, p[0].minimum, p[0].maximum, p[0].values.clone()), (4.0, 10.0, 1.0, 4.0, None));
    assert_eq!((p[1].sample_count, p[1].sum, p[1].minimum, p[1].maximum), (6.0, 2.0 * 1.5 + 2.5 + 30.0, 1.5, 10.0));
    assert_eq!(p[1].values, Some(vec![(1.5, 2.0), (2.5, 1.0), (10.0, 3.0)]));
    assert_eq!((p[2].sample_count, p[2].sum, p[2].minimum, p[2].maximum), (2.0, 10.0, 3.0, 7.0));
    assert_eq!(p[2].values, Some(vec![(7.0, 1.0), (3.0, 1.0)]));
    assert_eq!((p[3].sample_count, p[3].sum, p[3].minimum, p[3].maximum), (1.0, -2.5, -2.5, -2.5));
    assert_eq!(p[3].values, Some(vec![(-2.5, 1.0)]));
    assert!(p.iter().all(|p| p.unit == Unit::Seconds));
}

async fn list_metrics_filters(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let m = Metrics::open(&db.meta, clock.clone()).await.unwrap();
    let a = acct("111111111111");
    let data = vec![
        MetricDatum::new("AWS/S3", "BucketSizeBytes", t0(), 1.0).dimension("BucketName", "b1").dimension("StorageType", "Std"),
        MetricDatum::new("AWS/S3", "BucketSizeBytes", t0(), 1.0).dimension("BucketName", "b2").dimension("StorageType", "Std"),
        MetricDatum::new("AWS/S3", "NumberOfObjects", t0() + minutes(200), 1.0).dimension("BucketName", "b1"),
        MetricDatum::new("App", "BucketSizeBytes", t0(), 1.0),
    ];
    m.put(&a, data).await.unwrap();
    let q = |namespace: Option<&str>, name: Option<&str>, dims: Vec<(&str, Option<&str>)>| ListMetricsQuery {
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
        dimensions: dims.into_iter().map(|(n, v)| DimensionFilter { name: n.into(), value: v.map(str::to_string) }).collect(),
        active_since: None,
    };
    let names = |v: Vec<MetricId>| v.into_iter().map(|m| format!("{}:{}:{:?}", m.namespace, m.name, m.dimensions)).collect::<Vec<_>>();
    assert_eq!(m.list_metrics(&a, &q(None, None, vec![])).await.unwrap().len(), 4);
    assert_eq!(m.list_metrics(&a, &q(Some("AWS/S3"), None, vec![])).await.unwrap().len(), 3);
    assert_eq!(m.list_metrics(&a, &q(None, Some("BucketSizeBytes"), vec![])).await.unwrap().len(), 3);
    let b1 = m.list_metrics(&a, &q(Some("AWS/S3"), None, vec![("BucketName", Some("b1"))])).await.unwrap();
    assert_eq!(
        names(b1),
        vec![
            r#"AWS/S3:BucketSizeBytes:[("BucketName", "b1"), ("StorageType", "Std")]"#,
            r#"AWS/S3:NumberOfObjects:[("BucketName", "b1")]"#
        ]
    );
    let typed = m.list_metrics(&a, &q(None, None, vec![("StorageType", None)])).await.unwrap();
    assert_eq!(typed.len(), 2);
    let none = m.list_metrics(&a, &q(None, None, vec![("StorageType", None), ("Missing", None)])).await.unwrap();
    assert!(none.is_empty());
    let recent = ListMetricsQuery { active_since: Some(t0() + minutes(60)), ..Default::default() };
    assert_eq!(names(m.list_metrics(&a, &recent).await.unwrap()), vec![r#"AWS/S3:NumberOfObjects:[("BucketName", "b1")]"#]);
}

async fn put_is_durable_at_once(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let m = Metrics::open(&db.meta, clock.clone()).await.unwrap();
    let a = acct("111111111111");
    m.put(&a, vec![MetricDatum::new("App", "Orders", t0(), 3.0).unit(Unit::Count)]).await.unwrap();
    // Another handle on the same database (another node) sees it without any flush.
    let meta2 = MetaStore::open(&db.url).await.unwrap();
    let other = Metrics::open(&meta2, clock.clone()).await.unwrap();
    let pts = other.query(&a, &id("App", "Orders", &[]), t0(), t0() + minutes(1)).await.unwrap();
    assert_eq!(pts.len(), 1);
    assert_eq!((pts[0].sum, pts[0].unit), (3.0, Unit::Count));
    // A batch is all-or-nothing on validation.
    let bad = vec![MetricDatum::new("App", "Orders", t0(), 1.0), MetricDatum::new("App", "Orders", t0(), f64::NAN)];
    assert!(matches!(m.put(&a, bad).await, Err(MetricsError::InvalidParameterValue(_))));
    assert_eq!(other.query(&a, &id("App", "Orders", &[]), t0(), t0() + minutes(1)).await.unwrap().len(), 1);
}

async fn background_writer_flushes_on_clock_batch_and_drop(db: &TestDb) {
    let a = acct("111111111111");
    let reader = Metrics::open(&db.meta, Arc::new(SystemClock)).await.unwrap();
    let count = |name: &'static str| {
        let reader = reader.clone();
        let a = a.clone();
        async move { reader.query(&a, &id("App", name, &[]), t0(), t0() + minutes(60)).await.unwrap().len() }
    };

    // Interval: nothing is written until the clock passes the flush interval.
    let clock = ManualClock::new(t0());
    let opts = MetricsOptions { flush_interval: Duration::from_secs(1), batch_size: 5, buffer: 1000 };
    let m = Metrics::open_with(&db.meta, clock.clone(), opts).await.unwrap();
    m.record(&a, MetricDatum::new("App", "Tick", t0(), 1.0)).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(count("Tick").await, 0, "buffered");
    clock.advance(Duration::from_millis(1100));
    until("interval flush", || async { count("Tick").await == 1 }).await;

    // Batch size: five points are written without waiting for the clock.
    for i in 0..5 {
        m.record(&a, MetricDatum::new("App", "Batch", t0() + minutes(i), 1.0)).unwrap();
    }
    until("batch flush", || async { count("Batch").await == 5 }).await;

    // Dropping the last handle writes what is buffered.
    m.record(&a, MetricDatum::new("App", "Last", t0(), 1.0)).unwrap();
    drop(m);
    until("flush on drop", || async { count("Last").await == 1 }).await;
}

async fn invalid_data_is_rejected(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let m = Metrics::open(&db.meta, clock.clone()).await.unwrap();
    let a = acct("111111111111");
    for bad in [
        MetricDatum::new("App", "X", t0(), f64::INFINITY),
        MetricDatum::new("App", "", t0(), 1.0),
        MetricDatum::new("App", "X", t0(), 1.0).dimension("D", "1").dimension("D", "2"),
        MetricDatum::new("App", "X", t0(), 1.0).sample(Sample::Values { values: vec![], counts: vec![] }),
        MetricDatum::new("App", "X", t0(), 1.0).resolution(30),
    ] {
        assert!(matches!(m.record(&a, bad), Err(MetricsError::InvalidParameterValue(_))));
    }
    m.flush().await.unwrap();
    assert!(m.list_metrics(&a, &ListMetricsQuery::default()).await.unwrap().is_empty());
}

async fn old_points_are_deleted(db: &TestDb) {
    let clock = ManualClock::new(t0());
    let m = Metrics::open(&db.meta, clock.clone()).await.unwrap();
    let a = acct("111111111111");
    m.put(&a, vec![MetricDatum::new("App", "Old", t0(), 1.0), MetricDatum::new("App", "New", t0() + minutes(10), 1.0)])
        .await
        .unwrap();
    assert_eq!(m.delete_before(t0() + minutes(5)).await.unwrap(), 1);
    assert!(m.query(&a, &id("App", "Old", &[]), t0(), t0() + minutes(60)).await.unwrap().is_empty());
    assert_eq!(m.query(&a, &id("App", "New", &[]), t0(), t0() + minutes(60)).await.unwrap().len(), 1);
    assert_eq!(m.list_metrics(&a, &ListMetricsQuery::default()).await.unwrap(), vec![id("App", "New", &[])]);
}

// ---------------------------------------------------------------------------------------------
// Prometheus

/// A strict-enough reader of the OpenMetrics text format: returns sample name+labels -> value
/// and checks every line's shape.
fn parse_exposition(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "ends with # EOF");
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
    };
    let mut typed: HashMap<String, String> = HashMap::new();
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(valid_name(name), "bad HELP line {line:?}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(valid_name(name), "bad TYPE line {line:?}");
            assert!(["counter", "histogram", "gauge", "info", "unknown"].contains(&kind), "bad type {kind}");
            typed.insert(name.to_string(), kind.to_string());
        } else if let Some(rest) = line.strip_prefix("# UNIT ") {
            assert!(valid_name(rest.split(' ').next().unwrap()));
        } else {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad sample line {line:?}"));
            let name = series.split('{').next().unwrap();
            assert!(valid_name(name), "bad metric name in {line:?}");
            assert!(typed.keys().any(|t| name.starts_with(t.as_str())), "sample {name} has no TYPE");
            if let Some(labels) = series.strip_prefix(name) {
                if !labels.is_empty() {
                    assert!(labels.starts_with('{') && labels.ends_with('}'), "bad labels {labels:?}");
                    for pair in labels[1..labels.len() - 1].split(',') {
                        let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("bad label {pair:?}"));
                        assert!(valid_name(k) && v.starts_with('"') && v.ends_with('"'), "bad label {pair:?}");
                    }
                }
            }
            let v: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line:?}"));
            samples.insert(series.to_string(), v);
        }
    }
    samples
}

#[tokio::test]
async fn prometheus_text_format_parses() {
    let db = sqlite_db().await;
    let m = Metrics::open(&db.meta, Arc::new(SystemClock)).await.unwrap();
    m.observe_http("s3", "GetObject", 200, Duration::from_millis(3));
    m.observe_http("s3", "GetObject", 200, Duration::from_millis(40));
    m.observe_http("s3", "PutObject", 404, Duration::from_millis(1500));
    m.put(&acct("111111111111"), vec![MetricDatum::new("App", "X", t0(), 1.0)]).await.unwrap();
    let text = m.encode_prometheus();
    let s = parse_exposition(&text);
    assert_eq!(s[r#"hearth_http_requests_total{service="s3",operation="GetObject",status="200"}"#], 2.0, "{text}");
    assert_eq!(s[r#"hearth_http_requests_total{service="s3",operation="PutObject",status="404"}"#], 1.0);
    assert_eq!(s[r#"hearth_http_request_duration_seconds_count{service="s3",operation="GetObject"}"#], 2.0);
    let sum = s[r#"hearth_http_request_duration_seconds_sum{service="s3",operation="GetObject"}"#];
    assert!((sum - 0.043).abs() < 1e-9);
    assert_eq!(s[r#"hearth_http_request_duration_seconds_bucket{le="+Inf",service="s3",operation="PutObject"}"#], 1.0, "{text}");
    assert_eq!(s["hearth_metric_points_written_total"], 1.0);
    assert!(text.contains("# TYPE hearth_http_request_duration_seconds histogram"));
    db.close().await;
}
