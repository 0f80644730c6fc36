//! The console's routes end to end, in-process: sign-in, the session cookie, the 401 wall in
//! front of the data API, account scoping, and the hand-off of signed requests to the AWS router.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use hearth_console::{Console, ConsoleDeps};
use hearth_protocol::sigv4::{KeyInfo, KeyStore};
use hearth_runtime::blob::BlobStore;
use hearth_runtime::metrics::MetricDatum;
use hearth_runtime::{Clock, JobQueue, MetaStore, Metrics, Runtime, Scope, SystemClock};
use http::{header, Request, StatusCode};
use tower::ServiceExt;

struct Keys(HashMap<String, KeyInfo>);
impl KeyStore for Keys {
    fn lookup(&self, access_key: &str) -> Option<KeyInfo> {
        self.0.get(access_key).cloned()
    }
}

const A: &str = "111111111111";
const B: &str = "222222222222";

async fn app() -> (Router, Metrics, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let meta = MetaStore::open("sqlite::memory:").await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let metrics = Metrics::open(&meta, clock.clone()).await.unwrap();
    let rt = Runtime {
        meta: meta.clone(),
        blobs: BlobStore::open(dir.path().join("blobs")).await.unwrap(),
        jobs: JobQueue::open(&meta, clock.clone()).await.unwrap(),
        metrics: metrics.clone(),
        clock: clock.clone(),
        data_dir: dir.path().to_path_buf(),
        models_dir: dir.path().join("models"),
    };
    let keys = Keys(HashMap::from([
        (
            "AKIAA".to_string(),
            KeyInfo {
                secret: "secret-a".into(),
                account: A.into(),
            },
        ),
        (
            "AKIAB".to_string(),
            KeyInfo {
                secret: "secret-b".into(),
                account: B.into(),
            },
        ),
    ]));
    let console = Console::new(ConsoleDeps {
        meta,
        keys: Arc::new(keys),
        clock,
        cloudwatch: hearth_cloudwatch::CloudWatch::new(&rt, None),
        default_region: "us-east-1".into(),
        lex: None,
    });
    let aws = Router::new().fallback(|| async { "aws" });
    (console.in_front_of(aws), metrics, dir)
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

async fn sign_in(app: &Router, key: &str, secret: &str) -> (StatusCode, http::HeaderMap, String) {
    let body = serde_json::json!({"accessKeyId": key, "secretAccessKey": secret}).to_string();
    let req = Request::post("/console/api/signin")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    send(app, req).await
}

/// Sign in and return the `name=value` part of the session cookie.
async fn cookie(app: &Router, key: &str, secret: &str) -> String {
    let (status, headers, _) = sign_in(app, key, secret).await;
    assert_eq!(status, StatusCode::OK);
    let set = headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn data_api_needs_a_session() {
    let (app, _, _dir) = app().await;
    for path in [
        "/console/api/session",
        "/console/api/namespaces",
        "/console/api/metrics?namespace=AWS/S3",
        "/console/api/statistics",
        "/console/api/alarms",
        "/console/api/alarm-history?alarmName=x",
        "/console/api/other",
    ] {
        let (status, headers, body) = send(&app, get(path, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(body.contains("Unauthenticated"), "{path}: {body}");
        assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
        let (status, _, _) = send(&app, get(path, Some("hearth_console=forged"))).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{path} with a forged cookie"
        );
    }
    let (status, headers, _) = send(&app, get("/console/metrics", None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers.get(header::LOCATION).unwrap(),
        "/console/signin?next=/console/metrics"
    );
    let (status, _, body) = send(&app, get("/console/signin", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Secret access key"));
}

#[tokio::test]
async fn sign_in_checks_the_secret_and_sets_a_strict_cookie() {
    let (app, _, _dir) = app().await;
    let (status, headers, body) = sign_in(&app, "AKIAA", "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("InvalidClientTokenId"));
    assert!(!headers.contains_key(header::SET_COOKIE));
    let (status, _, _) = sign_in(&app, "AKIAUNKNOWN", "secret-a").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let form = Request::post("/console/api/signin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("accessKeyId=AKIAA&secretAccessKey=secret-a"))
        .unwrap();
    assert_eq!(send(&app, form).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, headers, body) = sign_in(&app, "AKIAA", "secret-a").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(A) && !body.contains("secret-a"));
    let set = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.starts_with("hearth_console="));
    for attr in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=43200",
    ] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    assert!(!set.contains("secret-a"));

    let c = set.split(';').next().unwrap();
    let (status, _, body) = send(&app, get("/console/api/session", Some(c))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"accountId\":\"111111111111\""), "{body}");
    assert_eq!(
        send(&app, get("/console/metrics", Some(c))).await.0,
        StatusCode::OK
    );

    let out = Request::post("/console/api/signout")
        .header(header::COOKIE, c)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, out).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        send(&app, get("/console/api/session", Some(c))).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn metrics_are_scoped_to_the_signed_in_account() {
    let (app, metrics, _dir) = app().await;
    let now = metrics.now();
    let datum = |v: f64| {
        MetricDatum::new("AWS/S3", "AllRequests", now, v)
            .dimension("BucketName", "b1")
            .dimension("FilterId", "EntireBucket")
    };
    metrics
        .put(
            &Scope::new(A, "us-east-1"),
            vec![datum(1.0), datum(1.0), datum(1.0)],
        )
        .await
        .unwrap();
    metrics
        .put(
            &Scope::new(B, "us-east-1"),
            vec![MetricDatum::new("Custom/B", "Secret", now, 7.0)],
        )
        .await
        .unwrap();

    let a = cookie(&app, "AKIAA", "secret-a").await;
    let b = cookie(&app, "AKIAB", "secret-b").await;
    let (_, _, body) = send(&app, get("/console/api/namespaces", Some(&a))).await;
    assert_eq!(body, r#"{"namespaces":["AWS/S3"]}"#);
    let (_, _, body) = send(&app, get("/console/api/namespaces", Some(&b))).await;
    assert_eq!(body, r#"{"namespaces":["Custom/B"]}"#);
    let (_, _, body) = send(
        &app,
        get("/console/api/namespaces?region=eu-west-1", Some(&a)),
    )
    .await;
    assert_eq!(body, r#"{"namespaces":[]}"#);

    let (_, _, body) = send(&app, get("/console/api/metrics?namespace=AWS/S3", Some(&a))).await;
    assert!(body.contains(r#""metricName":"AllRequests","dimensions":{"BucketName":"b1","FilterId":"EntireBucket"}"#), "{body}");

    let dims = "%7B%22BucketName%22%3A%22b1%22%2C%22FilterId%22%3A%22EntireBucket%22%7D";
    let path = format!("/console/api/statistics?namespace=AWS/S3&metricName=AllRequests&dimensions={dims}&statistic=Sum&period=60");
    let (status, _, body) = send(&app, get(&path, Some(&a))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["datapoints"].as_array().unwrap().len(), 1);
    assert_eq!(v["datapoints"][0]["value"], 3.0);
    // Account B asking for A's metric sees nothing.
    let (_, _, body) = send(&app, get(&path, Some(&b))).await;
    assert!(body.contains(r#""datapoints":[]"#), "{body}");

    // Bad input gets AWS's errors.
    let (status, _, body) = send(
        &app,
        get(
            "/console/api/statistics?namespace=AWS/S3&metricName=AllRequests&period=7",
            Some(&a),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("InvalidParameterValue"), "{body}");
    let (status, _, body) = send(
        &app,
        get("/console/api/statistics?metricName=AllRequests", Some(&a)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("MissingParameter"), "{body}");
    let (status, _, _) = send(
        &app,
        get(
            "/console/api/statistics?namespace=n&metricName=m&statistic=p200",
            Some(&a),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(
        &app,
        get(
            "/console/api/statistics?namespace=n&metricName=m&dimensions=nope",
            Some(&a),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for extreme in [
        "period=86400&start=253402000000&end=253402300799",
        "period=86400&end=-9223372036854775808",
        "period=9223372036854775800&start=0&end=60",
        "period=60&start=-377705116800&end=253402300799",
    ] {
        let path = format!("/console/api/statistics?namespace=n&metricName=m&{extreme}");
        let (status, _, body) = send(&app, get(&path, Some(&a))).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{extreme}: {status} {body}"
        );
    }
    let (status, _, _) = send(&app, get("/console/api/namespaces?region=../x", Some(&a))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, _, body) = send(&app, get("/console/api/alarms", Some(&a))).await;
    assert_eq!(body, r#"{"alarms":[]}"#);
}

#[tokio::test]
async fn signed_and_other_requests_go_to_the_aws_router() {
    let (app, _, _dir) = app().await;
    let signed = Request::get("/console/key")
        .header(header::AUTHORIZATION, "AWS4-HMAC-SHA256 Credential=x")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, signed).await.2, "aws");
    let presigned = get("/console/key?X-Amz-Credential=x&X-Amz-Signature=y", None);
    assert_eq!(send(&app, presigned).await.2, "aws");
    assert_eq!(send(&app, get("/consoles/x", None)).await.2, "aws");
    assert_eq!(send(&app, get("/bucket/console", None)).await.2, "aws");
    let (status, headers, _) = send(&app, get("/console", None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get(header::LOCATION).unwrap(), "/console/metrics");
    let (status, headers, body) = send(&app, get("/console/static/uPlot.iife.min.js", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers
        .get(header::CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(body.contains("uPlot"));
    assert_eq!(
        send(&app, get("/console/static/nope.js", None)).await.0,
        StatusCode::NOT_FOUND
    );
}
