//! The metadata store: versioned JSON records addressed by (kind, account, region, key).
//!
//! Services never write SQL: each defines typed records (`impl Record for Bucket`) in its
//! `store.rs` and reads/writes them here. Backends: SQLite (WAL, synchronous=FULL) by default,
//! PostgreSQL when the database URL starts with `postgres://`. Keys are ordered bytewise (UTF-8
//! binary order, as S3 lists keys) on both backends. Every row carries the record's schema
//! version; [`Record::migrate`] upgrades old rows on read. Every row also carries a row version
//! used for optimistic concurrency ([`Expect`]).
//!
//! Layout: this file holds the public types and [`MetaStore`]; `open.rs` connects to a database
//! URL; `schema.rs` runs numbered schema migrations (also used by the jobs and metrics tables);
//! `ops.rs` holds the SQL, written once and instantiated for both backends.

mod open;
mod ops;
mod schema;

pub use schema::Migration;

use serde::{de::DeserializeOwned, Serialize};

/// Who owns a record. `account` and `region` are empty for global records (e.g. S3 bucket names,
/// which are unique across accounts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The 12-digit AWS account id, or empty for global records.
    pub account: String,
    /// The region name (`us-east-1`), or empty for global records.
    pub region: String,
}

impl Scope {
    /// A scope of one account in one region.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Scope { account: account.into(), region: region.into() }
    }
    /// The scope of records that belong to no account (e.g. S3 bucket names).
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
    /// The record.
    pub value: T,
    /// The row version, for [`Expect::Version`] on the next write.
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

/// Which keys [`MetaStore::list`] returns.
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
    /// The record kind ([`Record::KIND`]).
    pub kind: &'static str,
    /// The schema version the body is written in ([`Record::VERSION`]).
    pub schema_version: u32,
    /// Owner of the record.
    pub scope: Scope,
    /// The record's key within (kind, scope).
    pub key: String,
    /// New body; `None` deletes the key.
    pub body: Option<serde_json::Value>,
    /// Condition that must hold for the whole batch to be written.
    pub expect: Expect,
}

impl WriteOp {
    /// A write of `value` under `key`.
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
    /// A deletion of `key` (a no-op when it is absent and `expect` allows that).
    pub fn delete<T: Record>(scope: &Scope, key: impl Into<String>, expect: Expect) -> Self {
        WriteOp { kind: T::KIND, schema_version: T::VERSION, scope: scope.clone(), key: key.into(), body: None, expect }
    }
}

/// Errors of the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// An [`Expect`] condition did not hold; nothing of the batch was written.
    #[error("condition failed for {kind}/{key}")]
    ConditionFailed {
        /// Kind of the record whose condition failed.
        kind: String,
        /// Key of the record whose condition failed.
        key: String,
    },
    /// A body could not be encoded, decoded or migrated.
    #[error("record codec: {0}")]
    Codec(String),
    /// The database failed (connection, I/O, SQL) or the URL is unusable.
    #[error("database: {0}")]
    Database(String),
}

impl From<sqlx::Error> for MetaError {
    fn from(e: sqlx::Error) -> Self {
        MetaError::Database(e.to_string())
    }
}

/// The database behind a [`MetaStore`]. Other runtime modules (jobs, metrics) keep their own
/// tables in the same database and reach it through [`MetaStore::db`]; they create those tables
/// with [`MetaStore::migrate`].
///
/// SQLite writers should open their transactions with `pool.begin_with("BEGIN IMMEDIATE")` so
/// that two writers queue on the busy timeout instead of failing with `SQLITE_BUSY` when a read
/// transaction tries to become a write transaction.
#[derive(Clone, Debug)]
pub enum Db {
    /// A SQLite file (WAL, synchronous=FULL, busy timeout, foreign keys on).
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL database shared by several nodes.
    Postgres(sqlx::PgPool),
}

/// Handle to the metadata database; cheap to clone.
#[derive(Clone)]
pub struct MetaStore {
    db: Db,
}

impl std::fmt::Debug for MetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaStore").field("backend", &self.backend()).finish()
    }
}

/// A row as stored, before decoding.
struct RawRow {
    key: String,
    version: i64,
    schema_version: i32,
    body: String,
}

/// What one write of a batch did.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// A put; the new row version.
    Written(i64),
    /// A delete; whether the key existed.
    Deleted(bool),
}

impl MetaStore {
    /// Open (and migrate) the store. `url` is `sqlite://PATH` (created if missing, with its
    /// parent directories), `sqlite::memory:` (one private in-memory database), or
    /// `postgres://…` / `postgresql://…`.
    pub async fn open(url: &str) -> Result<Self, MetaError> {
        let db = open::connect(url).await?;
        let store = MetaStore { db };
        store.migrate("meta", schema::META_MIGRATIONS).await?;
        Ok(store)
    }

    /// The underlying database (for runtime modules that own tables: jobs, metrics).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Which backend this is: "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Run the numbered schema migrations of `component` that this database has not run yet, in
    /// order, each in its own transaction, recording them in `schema_migrations`. Safe to call
    /// from several processes at once (PostgreSQL: advisory lock; SQLite: `BEGIN IMMEDIATE`).
    pub async fn migrate(&self, component: &str, migrations: &[Migration]) -> Result<(), MetaError> {
        schema::run(&self.db, component, migrations).await
    }

    /// Read one record, upgrading its body with [`Record::migrate`] if it was written by an
    /// older schema version.
    pub async fn get<T: Record>(&self, scope: &Scope, key: &str) -> Result<Option<Versioned<T>>, MetaError> {
        let row = match &self.db {
            Db::Sqlite(pool) => ops::sqlite::get(pool, T::KIND, scope, key).await?,
            Db::Postgres(pool) => ops::postgres::get(pool, T::KIND, scope, key).await?,
        };
        row.map(|r| decode::<T>(r).map(|(_, v)| v)).transpose()
    }

    /// Write one record; returns the new row version.
    pub async fn put<T: Record>(&self, scope: &Scope, key: &str, value: &T, expect: Expect) -> Result<i64, MetaError> {
        let op = WriteOp::put(scope, key, value, expect)?;
        match self.write(vec![op]).await?.first() {
            Some(Outcome::Written(v)) => Ok(*v),
            other => Err(MetaError::Database(format!("unexpected put outcome {other:?}"))),
        }
    }

    /// Delete one record; returns whether it existed.
    pub async fn delete<T: Record>(&self, scope: &Scope, key: &str, expect: Expect) -> Result<bool, MetaError> {
        let op = WriteOp::delete::<T>(scope, key, expect);
        match self.write(vec![op]).await?.first() {
            Some(Outcome::Deleted(existed)) => Ok(*existed),
            other => Err(MetaError::Database(format!("unexpected delete outcome {other:?}"))),
        }
    }

    /// Records of one kind in one scope, in bytewise key order.
    pub async fn list<T: Record>(
        &self,
        scope: &Scope,
        q: &ListQuery,
    ) -> Result<Vec<(String, Versioned<T>)>, MetaError> {
        if q.limit == Some(0) {
            return Ok(Vec::new());
        }
        let range = ops::KeyRange::new(&q.prefix, q.start_after.as_deref());
        let limit = q.limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = match &self.db {
            Db::Sqlite(pool) => ops::sqlite::list(pool, T::KIND, scope, &range, limit).await?,
            Db::Postgres(pool) => ops::postgres::list(pool, T::KIND, scope, &range, limit).await?,
        };
        rows.into_iter().map(decode::<T>).collect()
    }

    /// Apply all writes atomically (all conditions hold and all rows are written, or nothing is).
    /// Writes to the same key apply in the order given.
    pub async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), MetaError> {
        self.write(ops).await.map(|_| ())
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<Vec<Outcome>, MetaError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        match &self.db {
            Db::Sqlite(pool) => ops::sqlite::apply(pool, &ops).await,
            Db::Postgres(pool) => ops::postgres::apply(pool, &ops).await,
        }
    }
}

/// Decode a stored row into `T`, migrating older schema versions.
fn decode<T: Record>(row: RawRow) -> Result<(String, Versioned<T>), MetaError> {
    let codec = |e: serde_json::Error| MetaError::Codec(format!("{}/{}: {e}", T::KIND, row.key));
    let stored = u32::try_from(row.schema_version)
        .map_err(|_| MetaError::Codec(format!("{}/{}: bad schema version {}", T::KIND, row.key, row.schema_version)))?;
    let value: T = if stored == T::VERSION {
        serde_json::from_str(&row.body).map_err(codec)?
    } else if stored < T::VERSION {
        let body: serde_json::Value = serde_json::from_str(&row.body).map_err(codec)?;
        let body = T::migrate(stored, body)?;
        serde_json::from_value(body).map_err(codec)?
    } else {
        // Written by a newer Hearth: decoding it here and writing it back could drop fields.
        return Err(MetaError::Codec(format!(
            "{}/{}: stored schema version {stored} is newer than this build's {}",
            T::KIND,
            row.key,
            T::VERSION
        )));
    };
    Ok((row.key, Versioned { value, version: row.version }))
}
