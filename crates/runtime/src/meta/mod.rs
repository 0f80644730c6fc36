//! The metadata store: versioned JSON records addressed by (kind, account, region, key).
//!
//! Services never write SQL: each defines typed records (`impl Record for Bucket`) in its
//! `store.rs` and reads/writes them here. Backends: SQLite (WAL, synchronous=FULL) by default,
//! PostgreSQL when the database URL starts with `postgres://`. Keys are ordered bytewise (UTF-8
//! binary order, as S3 lists keys) on both backends. Every row carries the record's schema
//! version; [`Record::migrate`] upgrades old rows on read. Every row also carries a row version
//! used for optimistic concurrency ([`Expect`]).

use serde::{de::DeserializeOwned, Serialize};

/// Who owns a record. `account` and `region` are empty for global records (e.g. S3 bucket names,
/// which are unique across accounts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Scope { account: account.into(), region: region.into() }
    }
    pub fn global() -> Self {
        Scope { account: String::new(), region: String::new() }
    }
}

/// A typed record kind stored in the metadata store.
pub trait Record: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Namespace of this record kind, e.g. `"s3.object"`.
    const KIND: &'static str;
    /// Schema version written with every row.
    const VERSION: u32 = 1;
    /// Upgrade a stored body from `from` (< VERSION) to VERSION.
    fn migrate(from: u32, body: serde_json::Value) -> Result<serde_json::Value, MetaError> {
        let _ = from;
        Ok(body)
    }
}

/// A record with its row version (starts at 1, +1 on every write).
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub version: i64,
}

/// Condition for a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Write unconditionally.
    Any,
    /// The key must not exist.
    Absent,
    /// The key must exist with this row version.
    Version(i64),
    /// The key must exist (any version).
    Present,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only keys starting with this prefix.
    pub prefix: String,
    /// Only keys strictly greater than this one.
    pub start_after: Option<String>,
    /// At most this many rows (None: all).
    pub limit: Option<usize>,
}

/// One write of an atomic batch ([`MetaStore::apply`]).
#[derive(Debug, Clone)]
pub struct WriteOp {
    pub kind: &'static str,
    pub schema_version: u32,
    pub scope: Scope,
    pub key: String,
    /// New body; `None` deletes the key.
    pub body: Option<serde_json::Value>,
    pub expect: Expect,
}

impl WriteOp {
    pub fn put<T: Record>(scope: &Scope, key: impl Into<String>, value: &T, expect: Expect) -> Result<Self, MetaError> {
        Ok(WriteOp {
            kind: T::KIND,
            schema_version: T::VERSION,
            scope: scope.clone(),
            key: key.into(),
            body: Some(serde_json::to_value(value).map_err(|e| MetaError::Codec(e.to_string()))?),
            expect,
        })
    }
    pub fn delete<T: Record>(scope: &Scope, key: impl Into<String>, expect: Expect) -> Self {
        WriteOp { kind: T::KIND, schema_version: T::VERSION, scope: scope.clone(), key: key.into(), body: None, expect }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// An [`Expect`] condition did not hold; nothing of the batch was written.
    #[error("condition failed for {kind}/{key}")]
    ConditionFailed { kind: String, key: String },
    #[error("record codec: {0}")]
    Codec(String),
    #[error("database: {0}")]
    Database(String),
}

/// Handle to the metadata database; cheap to clone.
#[derive(Clone)]
pub struct MetaStore {
    _private: (),
}

impl MetaStore {
    /// Open (and migrate) the store. `url` is `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn open(_url: &str) -> Result<Self, MetaError> {
        todo!()
    }
    /// Which backend this is: "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        todo!()
    }
    pub async fn get<T: Record>(&self, _scope: &Scope, _key: &str) -> Result<Option<Versioned<T>>, MetaError> {
        todo!()
    }
    /// Write one record; returns the new row version.
    pub async fn put<T: Record>(&self, _scope: &Scope, _key: &str, _value: &T, _expect: Expect) -> Result<i64, MetaError> {
        todo!()
    }
    /// Delete one record; returns whether it existed.
    pub async fn delete<T: Record>(&self, _scope: &Scope, _key: &str, _expect: Expect) -> Result<bool, MetaError> {
        todo!()
    }
    /// Records of one kind in one scope, in bytewise key order.
    pub async fn list<T: Record>(&self, _scope: &Scope, _q: &ListQuery) -> Result<Vec<(String, Versioned<T>)>, MetaError> {
        todo!()
    }
    /// Apply all writes atomically (all conditions hold and all rows are written, or nothing is).
    pub async fn apply(&self, _ops: Vec<WriteOp>) -> Result<(), MetaError> {
        todo!()
    }
}
