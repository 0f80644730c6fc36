//! The metadata store's one test suite, run against both backends.
//!
//! Every test is an `async fn(&Harness)` listed in `suite!`, which runs it on SQLite (a fresh file
//! in a temp directory) and on PostgreSQL when `HEARTH_TEST_DATABASE_URL` is set (a fresh schema
//! per test, dropped afterwards); without that variable the PostgreSQL half prints a notice and
//! passes.

use std::collections::BTreeSet;
use std::sync::Arc;

use hearth_runtime::meta::{Db, Expect, ListQuery, MetaError, MetaStore, Migration, Record, Scope, WriteOp};
use serde::{Deserialize, Serialize};

// ----------------------------------------------------------------------------------------------
// harness

struct Harness {
    store: MetaStore,
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(sqlx::PgPool, String)>,
}

impl Harness {
    async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        // A nested path: open must create the parent directories.
        let url = format!("sqlite://{}/nested/dir/meta.db", dir.path().display());
        let store = MetaStore::open(&url).await.expect("open sqlite");
        assert_eq!(store.backend(), "sqlite");
        Harness { store, url, _dir: Some(dir), pg: None }
    }

    async fn postgres() -> Option<Harness> {
        let base = std::env::var("HEARTH_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
        let admin =
            sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&base).await.expect("connect postgres");
        let schema = format!("hearth_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let store = MetaStore::open(&url).await.expect("open postgres");
        assert_eq!(store.backend(), "postgres");
        Some(Harness { store, url, _dir: None, pg: Some((admin, schema)) })
    }

    async fn cleanup(self) {
        match self.store.db() {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
        if let Some((admin, schema)) = self.pg {
            let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await;
            admin.close().await;
        }
    }
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let h = super::Harness::sqlite().await;
                    super::$name(&h).await;
                    h.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(h) = super::Harness::postgres().await else {
                        eprintln!("skipping postgres::{}: HEARTH_TEST_DATABASE_URL is not set", stringify!($name));
                        return;
                    };
                    super::$name(&h).await;
                    h.cleanup().await;
                }
            )*
        }
    };
}

suite!(
    round_trip,
    versions_count_writes,
    expect_on_put,
    expect_on_delete,
    batch_is_atomic,
    batch_applies_in_order,
    list_is_bytewise,
    list_prefix_with_wildcards,
    list_paging,
    migrate_on_read,
    newer_schema_is_refused,
    concurrent_version_writers,
    concurrent_absent_writers,
    concurrent_increments,
    scope_isolation,
    reopen_and_concurrent_open,
    component_migrations,
);

// ----------------------------------------------------------------------------------------------
// records

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    name: String,
    n: i64,
}

impl Record for Item {
    const KIND: &'static str = "test.item";
}

fn item(name: &str, n: i64) -> Item {
    Item { name: name.to_owned(), n }
}

/// Same kind name as `Item`'s but a different kind: must not be seen by `Item` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Other {
    x: u8,
}

impl Record for Other {
    const KIND: &'static str = "test.other";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WidgetV1 {
    name: String,
}

impl Record for WidgetV1 {
    const KIND: &'static str = "test.widget";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WidgetV3 {
    name: String,
    size: u32,
    tags: Vec<String>,
}

impl Record for WidgetV3 {
    const KIND: &'static str = "test.widget";
    const VERSION: u32 = 3;
    fn migrate(from: u32, mut body: serde_json::Value) -> Result<serde_json::Value, MetaError> {
        let obj = body.as_object_mut().ok_or_else(|| MetaError::Codec("widget is not an object".into()))?;
        if from < 2 {
            obj.insert("size".into(), 1.into());
        }
        if from < 3 {
            obj.insert("tags".into(), serde_json::json!(["migrated"]));
        }
        Ok(body)
    }
}

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1")
}

fn is_condition_failed(r: &Result<impl std::fmt::Debug, MetaError>) -> bool {
    matches!(r, Err(MetaError::ConditionFailed { .. }))
}

async fn keys(store: &MetaStore, s: &Scope, q: ListQuery) -> Vec<String> {
    store.list::<Item>(s, &q).await.expect("list").into_iter().map(|(k, _)| k).collect()
}

fn prefix(p: &str) -> ListQuery {
    ListQuery { prefix: p.to_owned(), ..Default::default() }
}

// ----------------------------------------------------------------------------------------------
// tests

async fn round_trip(h: &Harness) {
    let s = scope();
    let st = &h.store;
    assert!(st.get::<Item>(&s, "missing").await.unwrap().is_none());

    let value = Item { name: "naïve \"quoted\" \\ 日本語 \u{1F600} \n".repeat(200), n: i64::MIN };
    let v = st.put(&s, "photos/2024/ç.jpg", &value, Expect::Any).await.unwrap();
    assert_eq!(v, 1);
    let got = st.get::<Item>(&s, "photos/2024/ç.jpg").await.unwrap().expect("present");
    assert_eq!(got.value, value);
    assert_eq!(got.version, 1);

    assert!(st.delete::<Item>(&s, "photos/2024/ç.jpg", Expect::Any).await.unwrap());
    assert!(st.get::<Item>(&s, "photos/2024/ç.jpg").await.unwrap().is_none());
    assert!(!st.delete::<Item>(&s, "photos/2024/ç.jpg", Expect::Any).await.unwrap());

    // An empty key is a key like any other.
    st.put(&s, "", &item("empty", 0), Expect::Absent).await.unwrap();
    assert_eq!(st.get::<Item>(&s, "").await.unwrap().unwrap().value, item("empty", 0));
}

async fn versions_count_writes(h: &Harness) {
    let s = scope();
    let st = &h.store;
    for expected in 1..=5 {
        assert_eq!(st.put(&s, "k", &item("k", expected), Expect::Any).await.unwrap(), expected);
    }
    let got = st.get::<Item>(&s, "k").await.unwrap().unwrap();
    assert_eq!((got.version, got.value.n), (5, 5));
    // A key deleted and written again starts over.
    st.delete::<Item>(&s, "k", Expect::Any).await.unwrap();
    assert_eq!(st.put(&s, "k", &item("k", 0), Expect::Any).await.unwrap(), 1);
}

async fn expect_on_put(h: &Harness) {
    let s = scope();
    let st = &h.store;
    // Absent
    assert_eq!(st.put(&s, "a", &item("a", 1), Expect::Absent).await.unwrap(), 1);
    let r = st.put(&s, "a", &item("a", 2), Expect::Absent).await;
    assert!(is_condition_failed(&r), "{r:?}");
    match r {
        Err(MetaError::ConditionFailed { kind, key }) => assert_eq!((kind.as_str(), key.as_str()), ("test.item", "a")),
        other => panic!("{other:?}"),
    }
    // Present
    assert!(is_condition_failed(&st.put(&s, "b", &item("b", 1), Expect::Present).await));
    assert!(st.get::<Item>(&s, "b").await.unwrap().is_none());
    assert_eq!(st.put(&s, "a", &item("a", 3), Expect::Present).await.unwrap(), 2);
    // Version
    assert!(is_condition_failed(&st.put(&s, "a", &item("a", 4), Expect::Version(1)).await));
    assert!(is_condition_failed(&st.put(&s, "a", &item("a", 4), Expect::Version(3)).await));
    assert!(is_condition_failed(&st.put(&s, "b", &item("b", 4), Expect::Version(1)).await));
    assert_eq!(st.put(&s, "a", &item("a", 5), Expect::Version(2)).await.unwrap(), 3);
    // Failed writes changed nothing.
    let got = st.get::<Item>(&s, "a").await.unwrap().unwrap();
    assert_eq!((got.version, got.value.n), (3, 5));
    assert!(st.get::<Item>(&s, "b").await.unwrap().is_none());
}

async fn expect_on_delete(h: &Harness) {
    let s = scope();
    let st = &h.store;
    st.put(&s, "a", &item("a", 1), Expect::Any).await.unwrap();
    st.put(&s, "a", &item("a", 2), Expect::Any).await.unwrap(); // version 2

    assert!(is_condition_failed(&st.delete::<Item>(&s, "a", Expect::Absent).await));
    assert!(is_condition_failed(&st.delete::<Item>(&s, "a", Expect::Version(1)).await));
    assert!(is_condition_failed(&st.delete::<Item>(&s, "missing", Expect::Present).await));
    assert!(is_condition_failed(&st.delete::<Item>(&s, "missing", Expect::Version(1)).await));
    assert!(!st.delete::<Item>(&s, "missing", Expect::Absent).await.unwrap());
    assert_eq!(st.get::<Item>(&s, "a").await.unwrap().unwrap().version, 2);

    assert!(st.delete::<Item>(&s, "a", Expect::Version(2)).await.unwrap());
    st.put(&s, "b", &item("b", 1), Expect::Any).await.unwrap();
    assert!(st.delete::<Item>(&s, "b", Expect::Present).await.unwrap());
    assert!(st.list::<Item>(&s, &ListQuery::default()).await.unwrap().is_empty());
}

async fn batch_is_atomic(h: &Harness) {
    let s = scope();
    let st = &h.store;
    st.put(&s, "existing", &item("existing", 1), Expect::Any).await.unwrap();

    // The last condition fails: none of the earlier writes may stay.
    let ops = vec![
        WriteOp::put(&s, "new1", &item("new1", 1), Expect::Absent).unwrap(),
        WriteOp::put(&s, "existing", &item("existing", 2), Expect::Version(1)).unwrap(),
        WriteOp::delete::<Item>(&s, "existing", Expect::Any),
        WriteOp::put(&s, "new2", &item("new2", 1), Expect::Absent).unwrap(),
        WriteOp::put(&s, "zz-missing", &item("zz", 1), Expect::Version(7)).unwrap(),
    ];
    let r = st.apply(ops).await;
    match r {
        Err(MetaError::ConditionFailed { key, .. }) => assert_eq!(key, "zz-missing"),
        other => panic!("expected a failed condition, got {other:?}"),
    }
    assert_eq!(keys(st, &s, ListQuery::default()).await, ["existing"]);
    let got = st.get::<Item>(&s, "existing").await.unwrap().unwrap();
    assert_eq!((got.version, got.value.n), (1, 1));

    // The first condition fails (other kinds in the batch too).
    let ops = vec![
        WriteOp::put(&s, "existing", &item("existing", 9), Expect::Absent).unwrap(),
        WriteOp::put(&s, "o", &Other { x: 1 }, Expect::Any).unwrap(),
    ];
    assert!(is_condition_failed(&st.apply(ops).await));
    assert!(st.get::<Other>(&s, "o").await.unwrap().is_none());

    // All conditions hold: everything is written.
    let ops = vec![
        WriteOp::put(&s, "new1", &item("new1", 1), Expect::Absent).unwrap(),
        WriteOp::put(&s, "existing", &item("existing", 2), Expect::Version(1)).unwrap(),
        WriteOp::put(&s, "o", &Other { x: 2 }, Expect::Absent).unwrap(),
    ];
    st.apply(ops).await.unwrap();
    assert_eq!(keys(st, &s, ListQuery::default()).await, ["existing", "new1"]);
    assert_eq!(st.get::<Item>(&s, "existing").await.unwrap().unwrap().version, 2);
    assert_eq!(st.get::<Other>(&s, "o").await.unwrap().unwrap().value, Other { x: 2 });

    // An empty batch is fine.
    st.apply(Vec::new()).await.unwrap();
}

async fn batch_applies_in_order(h: &Harness) {
    let s = scope();
    let st = &h.store;
    // Writes to one key see each other, in the order given (keys listed out of order on purpose).
    let ops = vec![
        WriteOp::put(&s, "z", &item("z", 1), Expect::Absent).unwrap(),
        WriteOp::put(&s, "a", &item("a", 1), Expect::Absent).unwrap(),
        WriteOp::put(&s, "z", &item("z", 2), Expect::Version(1)).unwrap(),
        WriteOp::put(&s, "z", &item("z", 3), Expect::Present).unwrap(),
        WriteOp::delete::<Item>(&s, "a", Expect::Version(1)),
        WriteOp::put(&s, "a", &item("a", 9), Expect::Absent).unwrap(),
    ];
    st.apply(ops).await.unwrap();
    let z = st.get::<Item>(&s, "z").await.unwrap().unwrap();
    assert_eq!((z.version, z.value.n), (3, 3));
    let a = st.get::<Item>(&s, "a").await.unwrap().unwrap();
    assert_eq!((a.version, a.value.n), (1, 9));
}

/// Keys chosen so that locale collation, case folding or LIKE semantics would all reorder them.
const AWKWARD_KEYS: &[&str] = &[
    "a",
    "B",
    "b",
    "Z",
    "_",
    "%",
    "a%",
    "a_",
    "a%b",
    "a_c",
    "ab",
    "abc",
    "aB",
    "a/b",
    "a b",
    "a-b",
    "é",
    "e",
    "f",
    "ä",
    "Ä",
    "z",
    "日本",
    "日",
    "\u{FFFD}",
    "\u{E000}",
    "\u{10FFFF}",
    "\u{10FFFF}x",
    "~",
    "0",
    "9",
    "a\u{10FFFF}",
    "a\u{10FFFF}\u{10FFFF}",
    "b\u{7F}",
    "\u{1F600}",
];

async fn put_keys(st: &MetaStore, s: &Scope, keys: &[&str]) {
    let ops = keys.iter().map(|k| WriteOp::put(s, *k, &item(k, 0), Expect::Absent).unwrap()).collect();
    st.apply(ops).await.unwrap();
}

async fn list_is_bytewise(h: &Harness) {
    let s = scope();
    let st = &h.store;
    put_keys(st, &s, AWKWARD_KEYS).await;
    let mut expected: Vec<String> = AWKWARD_KEYS.iter().map(|k| k.to_string()).collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(keys(st, &s, ListQuery::default()).await, expected);

    // Values come back with their keys.
    for (k, v) in st.list::<Item>(&s, &ListQuery::default()).await.unwrap() {
        assert_eq!(k, v.value.name);
        assert_eq!(v.version, 1);
    }

    for p in ["a", "a\u{10FFFF}", "\u{10FFFF}", "日", "é", "B", "b", "zz"] {
        let want: Vec<String> = expected.iter().filter(|k| k.starts_with(p)).cloned().collect();
        assert_eq!(keys(st, &s, prefix(p)).await, want, "prefix {p:?}");
    }
}

async fn list_prefix_with_wildcards(h: &Harness) {
    let s = scope();
    let st = &h.store;
    put_keys(st, &s, &["a%", "a%b", "a_", "a_c", "ab", "abc", "aXc", "a\\b", "a\\", "%", "_"]).await;
    assert_eq!(keys(st, &s, prefix("a%")).await, ["a%", "a%b"]);
    assert_eq!(keys(st, &s, prefix("a_")).await, ["a_", "a_c"]);
    assert_eq!(keys(st, &s, prefix("%")).await, ["%"]);
    assert_eq!(keys(st, &s, prefix("_")).await, ["_"]);
    assert_eq!(keys(st, &s, prefix("a\\")).await, ["a\\", "a\\b"]);
    assert!(keys(st, &s, prefix("a%c")).await.is_empty());
}

async fn list_paging(h: &Harness) {
    let s = scope();
    let st = &h.store;
    let all: Vec<String> = (0..25).map(|i| format!("dir/{i:03}")).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    put_keys(st, &s, &refs).await;
    put_keys(st, &s, &["dia", "dir", "dis", "dir0"]).await;

    // Page through with start_after + limit.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = ListQuery { prefix: "dir/".into(), start_after: after.clone(), limit: Some(7) };
        let page = keys(st, &s, q).await;
        assert!(page.len() <= 7);
        pages += 1;
        if page.is_empty() {
            break;
        }
        after = page.last().cloned();
        seen.extend(page);
    }
    assert_eq!(seen, all);
    assert_eq!(pages, 5); // 7 + 7 + 7 + 4, then an empty page

    // start_after below the prefix is the same as none; above its range gives nothing.
    let q = ListQuery { prefix: "dir/".into(), start_after: Some("a".into()), limit: Some(2) };
    assert_eq!(keys(st, &s, q).await, ["dir/000", "dir/001"]);
    let q = ListQuery { prefix: "dir/".into(), start_after: Some("dir0".into()), limit: None };
    assert!(keys(st, &s, q).await.is_empty());
    // start_after is exclusive and need not be an existing key.
    let q = ListQuery { prefix: "dir/".into(), start_after: Some("dir/0105".into()), limit: Some(2) };
    assert_eq!(keys(st, &s, q).await, ["dir/011", "dir/012"]);
    // No prefix: start_after alone.
    let q = ListQuery { prefix: String::new(), start_after: Some("dir/024".into()), limit: None };
    assert_eq!(keys(st, &s, q).await, ["dir0", "dis"]);
    // limit 0 returns nothing.
    let q = ListQuery { prefix: String::new(), start_after: None, limit: Some(0) };
    assert!(keys(st, &s, q).await.is_empty());
}

async fn migrate_on_read(h: &Harness) {
    let s = scope();
    let st = &h.store;
    st.put(&s, "w1", &WidgetV1 { name: "old".into() }, Expect::Any).await.unwrap();
    st.put(&s, "w3", &WidgetV3 { name: "new".into(), size: 7, tags: vec![] }, Expect::Any).await.unwrap();

    let got = st.get::<WidgetV3>(&s, "w1").await.unwrap().unwrap();
    assert_eq!(got.value, WidgetV3 { name: "old".into(), size: 1, tags: vec!["migrated".into()] });
    assert_eq!(got.version, 1);
    let listed = st.list::<WidgetV3>(&s, &ListQuery::default()).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].1.value.tags, ["migrated"]);
    assert_eq!(listed[1].1.value, WidgetV3 { name: "new".into(), size: 7, tags: vec![] });

    // Writing it back stores the new schema: it is not migrated twice.
    let v = st.put(&s, "w1", &got.value, Expect::Version(got.version)).await.unwrap();
    assert_eq!(v, 2);
    let again = st.get::<WidgetV3>(&s, "w1").await.unwrap().unwrap();
    assert_eq!(again.value, got.value);
}

async fn newer_schema_is_refused(h: &Harness) {
    let s = scope();
    let st = &h.store;
    st.put(&s, "w", &WidgetV3 { name: "new".into(), size: 7, tags: vec![] }, Expect::Any).await.unwrap();
    let r = st.get::<WidgetV1>(&s, "w").await;
    assert!(matches!(r, Err(MetaError::Codec(_))), "{r:?}");
}

async fn concurrent_version_writers(h: &Harness) {
    let s = scope();
    let st = &h.store;
    for round in 0..5 {
        let key = format!("race{round}");
        st.put(&s, &key, &item("start", 0), Expect::Any).await.unwrap();
        let v = st.put(&s, &key, &item("start", 0), Expect::Any).await.unwrap(); // version 2
        let n = 12;
        let barrier = Arc::new(tokio::sync::Barrier::new(n));
        let mut tasks = Vec::new();
        for i in 0..n {
            let (st, s, key, barrier) = (st.clone(), s.clone(), key.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                st.put(&s, &key, &item("writer", i as i64), Expect::Version(v)).await
            }));
        }
        let mut winners = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(version) => winners.push((i, version)),
                Err(MetaError::ConditionFailed { .. }) => {}
                Err(e) => panic!("writer {i}: {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let got = st.get::<Item>(&s, &key).await.unwrap().unwrap();
        assert_eq!(got.version, v + 1);
        assert_eq!(got.value.n, winners[0].0 as i64);
    }
}

async fn concurrent_absent_writers(h: &Harness) {
    let s = scope();
    let st = &h.store;
    let n = 12;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let (st, s, barrier) = (st.clone(), s.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            st.put(&s, "bucket-name", &item("owner", i as i64), Expect::Absent).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(1) => wins += 1,
            Ok(v) => panic!("created with version {v}"),
            Err(MetaError::ConditionFailed { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(wins, 1);
}

async fn concurrent_increments(h: &Harness) {
    // Read-modify-write with Expect::Version and retry: no increment may be lost.
    let s = scope();
    let st = &h.store;
    st.put(&s, "counter", &item("counter", 0), Expect::Absent).await.unwrap();
    let (tasks_n, each) = (6, 8);
    let mut tasks = Vec::new();
    for _ in 0..tasks_n {
        let (st, s) = (st.clone(), s.clone());
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0u32;
            for _ in 0..each {
                loop {
                    let cur = st.get::<Item>(&s, "counter").await.unwrap().unwrap();
                    let next = item("counter", cur.value.n + 1);
                    match st.put(&s, "counter", &next, Expect::Version(cur.version)).await {
                        Ok(_) => break,
                        Err(MetaError::ConditionFailed { .. }) => conflicts += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            conflicts
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let got = st.get::<Item>(&s, "counter").await.unwrap().unwrap();
    assert_eq!(got.value.n, tasks_n * each);
    assert_eq!(got.version, 1 + tasks_n * each);
}

async fn scope_isolation(h: &Harness) {
    let st = &h.store;
    let a = Scope::new("111111111111", "us-east-1");
    let a_west = Scope::new("111111111111", "us-west-2");
    let b = Scope::new("222222222222", "us-east-1");
    let g = Scope::global();
    for (i, s) in [&a, &a_west, &b, &g].into_iter().enumerate() {
        st.put(s, "shared-key", &item("shared", i as i64), Expect::Absent).await.unwrap();
    }
    st.put(&a, "only-a", &item("only-a", 0), Expect::Absent).await.unwrap();
    st.put(&a, "shared-key", &Other { x: 42 }, Expect::Absent).await.unwrap();

    assert_eq!(st.get::<Item>(&a, "shared-key").await.unwrap().unwrap().value.n, 0);
    assert_eq!(st.get::<Item>(&a_west, "shared-key").await.unwrap().unwrap().value.n, 1);
    assert_eq!(st.get::<Item>(&b, "shared-key").await.unwrap().unwrap().value.n, 2);
    assert_eq!(st.get::<Item>(&g, "shared-key").await.unwrap().unwrap().value.n, 3);
    assert_eq!(st.get::<Other>(&a, "shared-key").await.unwrap().unwrap().value.x, 42);
    assert!(st.get::<Item>(&b, "only-a").await.unwrap().is_none());
    assert!(st.get::<Item>(&g, "only-a").await.unwrap().is_none());
    assert_eq!(keys(st, &a, ListQuery::default()).await, ["only-a", "shared-key"]);
    assert_eq!(keys(st, &b, ListQuery::default()).await, ["shared-key"]);
    assert!(st.list::<Other>(&b, &ListQuery::default()).await.unwrap().is_empty());

    // B cannot change or delete A's record by name.
    assert!(is_condition_failed(&st.put(&b, "only-a", &item("x", 9), Expect::Present).await));
    assert!(!st.delete::<Item>(&b, "only-a", Expect::Any).await.unwrap());
    assert!(st.delete::<Item>(&a, "shared-key", Expect::Version(1)).await.unwrap());
    assert_eq!(st.get::<Item>(&b, "shared-key").await.unwrap().unwrap().version, 1);
    assert_eq!(st.get::<Other>(&a, "shared-key").await.unwrap().unwrap().value.x, 42);
}

async fn reopen_and_concurrent_open(h: &Harness) {
    let s = scope();
    h.store.put(&s, "kept", &item("kept", 1), Expect::Any).await.unwrap();
    // Several processes opening (and migrating) the same database at once.
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = h.url.clone();
            tokio::spawn(async move { MetaStore::open(&url).await })
        })
        .collect();
    for o in opens {
        let st = o.await.unwrap().expect("concurrent open");
        assert_eq!(st.get::<Item>(&s, "kept").await.unwrap().unwrap().value, item("kept", 1));
        st.put(&s, "kept", &item("kept", 1), Expect::Present).await.unwrap();
    }
    assert_eq!(h.store.get::<Item>(&s, "kept").await.unwrap().unwrap().version, 5);
    let rows: Vec<(String, i64)> = match h.store.db() {
        Db::Sqlite(p) => sqlx::query_as("SELECT component, version FROM schema_migrations").fetch_all(p).await.unwrap(),
        Db::Postgres(p) => {
            sqlx::query_as("SELECT component, version FROM schema_migrations").fetch_all(p).await.unwrap()
        }
    };
    assert_eq!(rows, [("meta".to_string(), 1)]);
}

async fn component_migrations(h: &Harness) {
    const STEPS: &[Migration] = &[
        Migration {
            version: 1,
            name: "things",
            sqlite: "CREATE TABLE things (id TEXT PRIMARY KEY); INSERT INTO things VALUES ('one')",
            postgres: "CREATE TABLE things (id TEXT PRIMARY KEY); INSERT INTO things VALUES ('one')",
        },
        Migration {
            version: 2,
            name: "things.extra",
            sqlite: "ALTER TABLE things ADD COLUMN extra INTEGER NOT NULL DEFAULT 0",
            postgres: "ALTER TABLE things ADD COLUMN extra BIGINT NOT NULL DEFAULT 0",
        },
    ];
    const BROKEN: &[Migration] = &[Migration { version: 3, name: "broken", sqlite: "NOT SQL", postgres: "NOT SQL" }];
    let st = &h.store;
    // Run twice, and concurrently: each step applies exactly once.
    let (r1, r2) = tokio::join!(st.migrate("test", &STEPS[..1]), st.migrate("test", STEPS));
    r1.unwrap();
    r2.unwrap();
    st.migrate("test", STEPS).await.unwrap();
    let count_things = || async {
        match st.db() {
            Db::Sqlite(p) => {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM things WHERE extra = 0").fetch_one(p).await
            }
            Db::Postgres(p) => {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM things WHERE extra = 0").fetch_one(p).await
            }
        }
        .unwrap()
    };
    assert_eq!(count_things().await, 1);
    // A failing step leaves no trace and reports the component and step.
    let err = st.migrate("test", BROKEN).await.unwrap_err();
    assert!(err.to_string().contains("test migration 3 (broken)"), "{err}");
    // Out-of-order chains are refused.
    let mut reversed = STEPS.to_vec();
    reversed.reverse();
    assert!(st.migrate("other", &reversed).await.is_err());

    let versions: BTreeSet<i64> = match st.db() {
        Db::Sqlite(p) => sqlx::query_scalar("SELECT version FROM schema_migrations WHERE component = 'test'")
            .fetch_all(p)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar("SELECT version FROM schema_migrations WHERE component = 'test'")
            .fetch_all(p)
            .await
            .unwrap(),
    }
    .into_iter()
    .collect();
    assert_eq!(versions, BTreeSet::from([1, 2]));
}

// ----------------------------------------------------------------------------------------------
// backend-independent URL handling

#[tokio::test]
async fn memory_and_bad_urls() {
    let st = MetaStore::open("sqlite::memory:").await.unwrap();
    st.put(&scope(), "k", &item("k", 1), Expect::Absent).await.unwrap();
    assert_eq!(st.get::<Item>(&scope(), "k").await.unwrap().unwrap().value.n, 1);

    let err = MetaStore::open("mysql://user:secret@host/db").await.unwrap_err();
    assert!(matches!(err, MetaError::Database(_)));
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(MetaStore::open("sqlite://").await.is_err());
    // A password in a PostgreSQL URL is never echoed.
    let err = MetaStore::open("postgres://user:secret@127.0.0.1:1/db?connect_timeout=1").await.unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
}
