//! The SQL of the metadata store, written once and instantiated for SQLite and PostgreSQL.
//!
//! Both backends run the same statements (`$N` placeholders, `INSERT ... ON CONFLICT`,
//! `RETURNING`); only the pool type and the statement that opens a write transaction differ, so
//! the code is a macro expanded into [`sqlite`] and [`postgres`] rather than a generic over
//! `sqlx::Database` (whose trait bounds would outweigh the code).
//!
//! Conditions are checked by the writes themselves, not by a read before the write: `UPDATE ...
//! WHERE version = $v` and `INSERT ... ON CONFLICT DO NOTHING` both report through `RETURNING`
//! whether they matched. On PostgreSQL (read committed) an `UPDATE` that waited for a concurrent
//! writer re-checks its `WHERE` against the committed row, so of two writers expecting the same
//! version exactly one wins. On SQLite, write transactions start with `BEGIN IMMEDIATE`, so
//! writers queue on the busy timeout instead of deadlocking. Batches take row locks in key order
//! (keeping the given order among writes to one key) so two batches cannot deadlock each other;
//! deadlock and serialization failures that still happen are retried.

use super::{Expect, MetaError, Outcome, RawRow, Scope, WriteOp};

/// Bounds of a list query: `key >= lower` (or `>` when `exclusive`) and `key < upper`.
pub(super) struct KeyRange {
    lower: String,
    exclusive: bool,
    upper: Option<String>,
}

impl KeyRange {
    /// The keys that start with `prefix` and are greater than `start_after`.
    pub(super) fn new(prefix: &str, start_after: Option<&str>) -> Self {
        let (lower, exclusive) = match start_after {
            // Rust compares `str` bytewise, the order the database uses.
            Some(after) if after >= prefix => (after.to_owned(), true),
            _ => (prefix.to_owned(), false),
        };
        KeyRange { lower, exclusive, upper: prefix_successor(prefix) }
    }
}

/// The least string greater than every string that starts with `prefix` (None when there is
/// none: empty prefix, or only U+10FFFF). UTF-8 byte order equals code point order, so bumping
/// the last code point that can be bumped gives the bytewise successor.
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(c) = chars.pop() {
        let next = match c as u32 + 1 {
            0xD800 => Some('\u{E000}'), // skip the surrogate gap
            n => char::from_u32(n),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Deadlock or serialization failure (PostgreSQL), stale read snapshot (SQLite
/// `SQLITE_BUSY_SNAPSHOT`): the transaction did nothing and may be run again. Plain
/// `SQLITE_BUSY` is not retried: it only comes after the busy timeout has already waited.
fn retryable(e: &sqlx::Error) -> bool {
    let code = e.as_database_error().and_then(|d| d.code());
    matches!(code.as_deref(), Some("40001" | "40P01" | "517"))
}

/// How often a batch is retried after a retryable failure.
const RETRIES: usize = 5;

enum TxError {
    Condition(MetaError),
    Sql(sqlx::Error),
}

impl From<sqlx::Error> for TxError {
    fn from(e: sqlx::Error) -> Self {
        TxError::Sql(e)
    }
}

/// Lock order of a batch: by (kind, account, region, key), stable for writes to one key.
fn lock_order(ops: &[WriteOp]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&ops[a], &ops[b]);
        (a.kind, &a.scope.account, &a.scope.region, &a.key).cmp(&(b.kind, &b.scope.account, &b.scope.region, &b.key))
    });
    order
}

/// Encoded body and schema version of a put.
fn encode(op: &WriteOp, body: &serde_json::Value) -> Result<(String, i32), MetaError> {
    let text = serde_json::to_string(body).map_err(|e| MetaError::Codec(format!("{}/{}: {e}", op.kind, op.key)))?;
    let schema = i32::try_from(op.schema_version)
        .map_err(|_| MetaError::Codec(format!("{}: schema version {} too large", op.kind, op.schema_version)))?;
    Ok((text, schema))
}

fn condition_failed(op: &WriteOp) -> TxError {
    TxError::Condition(MetaError::ConditionFailed { kind: op.kind.to_owned(), key: op.key.clone() })
}

const SELECT_ONE: &str = "SELECT key, version, schema_version, body FROM records \
     WHERE kind = $1 AND account = $2 AND region = $3 AND key = $4";
const LIST_FROM: &str = "SELECT key, version, schema_version, body FROM records \
     WHERE kind = $1 AND account = $2 AND region = $3 AND key >= $4 ORDER BY key LIMIT $5";
const LIST_FROM_TO: &str = "SELECT key, version, schema_version, body FROM records \
     WHERE kind = $1 AND account = $2 AND region = $3 AND key >= $4 AND key < $5 ORDER BY key LIMIT $6";
const LIST_AFTER: &str = "SELECT key, version, schema_version, body FROM records \
     WHERE kind = $1 AND account = $2 AND region = $3 AND key > $4 ORDER BY key LIMIT $5";
const LIST_AFTER_TO: &str = "SELECT key, version, schema_version, body FROM records \
     WHERE kind = $1 AND account = $2 AND region = $3 AND key > $4 AND key < $5 ORDER BY key LIMIT $6";
const UPSERT: &str = "INSERT INTO records (kind, account, region, key, version, schema_version, body) \
     VALUES ($1, $2, $3, $4, 1, $5, $6) ON CONFLICT (kind, account, region, key) DO UPDATE \
     SET version = records.version + 1, schema_version = excluded.schema_version, body = excluded.body \
     RETURNING version";
const INSERT_NEW: &str = "INSERT INTO records (kind, account, region, key, version, schema_version, body) \
     VALUES ($1, $2, $3, $4, 1, $5, $6) ON CONFLICT (kind, account, region, key) DO NOTHING RETURNING version";
const UPDATE_ANY: &str = "UPDATE records SET version = version + 1, schema_version = $5, body = $6 \
     WHERE kind = $1 AND account = $2 AND region = $3 AND key = $4 RETURNING version";
const UPDATE_VERSION: &str = "UPDATE records SET version = version + 1, schema_version = $5, body = $6 \
     WHERE kind = $1 AND account = $2 AND region = $3 AND key = $4 AND version = $7 RETURNING version";
const DELETE_ANY: &str = "DELETE FROM records \
     WHERE kind = $1 AND account = $2 AND region = $3 AND key = $4 RETURNING version";
const DELETE_VERSION: &str = "DELETE FROM records \
     WHERE kind = $1 AND account = $2 AND region = $3 AND key = $4 AND version = $5 RETURNING version";
const EXISTS: &str = "SELECT version FROM records WHERE kind = $1 AND account = $2 AND region = $3 AND key = $4";

type RowTuple = (String, i64, i32, String);

fn raw((key, version, schema_version, body): RowTuple) -> RawRow {
    RawRow { key, version, schema_version, body }
}

macro_rules! backend {
    ($db:ty, $begin:literal) => {
        use super::*;

        type Pool = sqlx::Pool<$db>;
        type Tx = sqlx::Transaction<'static, $db>;

        /// One row by key.
        pub(in crate::meta) async fn get(
            pool: &Pool,
            kind: &str,
            scope: &Scope,
            key: &str,
        ) -> Result<Option<RawRow>, MetaError> {
            let row: Option<RowTuple> = sqlx::query_as(SELECT_ONE)
                .bind(kind)
                .bind(&scope.account)
                .bind(&scope.region)
                .bind(key)
                .fetch_optional(pool)
                .await?;
            Ok(row.map(raw))
        }

        /// Rows in `range`, in key order, at most `limit`.
        pub(in crate::meta) async fn list(
            pool: &Pool,
            kind: &str,
            scope: &Scope,
            range: &KeyRange,
            limit: i64,
        ) -> Result<Vec<RawRow>, MetaError> {
            let sql = match (range.exclusive, range.upper.is_some()) {
                (false, false) => LIST_FROM,
                (false, true) => LIST_FROM_TO,
                (true, false) => LIST_AFTER,
                (true, true) => LIST_AFTER_TO,
            };
            let mut q = sqlx::query_as::<_, RowTuple>(sql)
                .bind(kind)
                .bind(&scope.account)
                .bind(&scope.region)
                .bind(&range.lower);
            if let Some(upper) = &range.upper {
                q = q.bind(upper);
            }
            let rows = q.bind(limit).fetch_all(pool).await?;
            Ok(rows.into_iter().map(raw).collect())
        }

        /// Apply a batch in one transaction, retrying deadlocks and busy errors.
        pub(in crate::meta) async fn apply(pool: &Pool, ops: &[WriteOp]) -> Result<Vec<Outcome>, MetaError> {
            let order = lock_order(ops);
            let mut attempt = 0;
            loop {
                match try_apply(pool, ops, &order).await {
                    Ok(out) => return Ok(out),
                    Err(TxError::Condition(e)) => return Err(e),
                    Err(TxError::Sql(e)) if retryable(&e) && attempt < RETRIES => {
                        attempt += 1;
                        tracing::debug!(attempt, error = %e, "metadata batch retried");
                        tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
                    }
                    Err(TxError::Sql(e)) => return Err(e.into()),
                }
            }
        }

        async fn try_apply(pool: &Pool, ops: &[WriteOp], order: &[usize]) -> Result<Vec<Outcome>, TxError> {
            let mut tx: Tx = pool.begin_with($begin).await?;
            let mut out = vec![Outcome::Deleted(false); ops.len()];
            for &i in order {
                // On a failed condition `tx` is dropped here, which rolls the batch back.
                out[i] = write_one(&mut tx, &ops[i]).await?;
            }
            tx.commit().await?;
            Ok(out)
        }

        async fn write_one(tx: &mut Tx, op: &WriteOp) -> Result<Outcome, TxError> {
            let (kind, account, region, key) = (op.kind, &op.scope.account, &op.scope.region, &op.key);
            match &op.body {
                Some(body) => {
                    let (text, schema) = encode(op, body).map_err(TxError::Condition)?;
                    let sql = match op.expect {
                        Expect::Any => UPSERT,
                        Expect::Absent => INSERT_NEW,
                        Expect::Present => UPDATE_ANY,
                        Expect::Version(_) => UPDATE_VERSION,
                    };
                    let mut q =
                        sqlx::query_scalar::<_, i64>(sql).bind(kind).bind(account).bind(region).bind(key).bind(schema).bind(text);
                    if let Expect::Version(v) = op.expect {
                        q = q.bind(v);
                    }
                    match q.fetch_optional(&mut **tx).await? {
                        Some(version) => Ok(Outcome::Written(version)),
                        None => Err(condition_failed(op)),
                    }
                }
                None if op.expect == Expect::Absent => {
                    let found: Option<i64> = sqlx::query_scalar(EXISTS)
                        .bind(kind)
                        .bind(account)
                        .bind(region)
                        .bind(key)
                        .fetch_optional(&mut **tx)
                        .await?;
                    match found {
                        Some(_) => Err(condition_failed(op)),
                        None => Ok(Outcome::Deleted(false)),
                    }
                }
                None => {
                    let sql = if matches!(op.expect, Expect::Version(_)) { DELETE_VERSION } else { DELETE_ANY };
                    let mut q = sqlx::query_scalar::<_, i64>(sql).bind(kind).bind(account).bind(region).bind(key);
                    if let Expect::Version(v) = op.expect {
                        q = q.bind(v);
                    }
                    let deleted = q.fetch_optional(&mut **tx).await?;
                    match (deleted, op.expect) {
                        (Some(_), _) => Ok(Outcome::Deleted(true)),
                        (None, Expect::Any) => Ok(Outcome::Deleted(false)),
                        (None, _) => Err(condition_failed(op)),
                    }
                }
            }
        }
    };
}

/// The statements on SQLite; writes start with `BEGIN IMMEDIATE`.
pub(super) mod sqlite {
    backend!(sqlx::Sqlite, "BEGIN IMMEDIATE");
}

/// The statements on PostgreSQL (read committed; see the module docs).
pub(super) mod postgres {
    backend!(sqlx::Postgres, "BEGIN");
}
