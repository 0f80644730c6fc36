//! The `jobs` table: every SQL statement of the job queue, for SQLite and PostgreSQL.
//!
//! Statements use `$N` placeholders, which both backends accept, so each is written once and
//! run on whichever pool the metadata store opened. Times are stored as milliseconds since the
//! Unix epoch taken from the queue's clock (never the database's), so a `ManualClock` drives
//! lease expiry and backoff in tests.

use time::OffsetDateTime;

use super::{from_millis, to_millis, JobRecord, JobStatus, QueueError};
use crate::meta::{Db, Migration, Scope};

/// The job queue's schema chain (component `jobs`), run by [`crate::MetaStore::migrate`].
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "jobs",
    sqlite: JOBS_V1,
    postgres: JOBS_V1,
}];

/// Portable DDL: BIGINT columns decode as `i64` on both backends.
const JOBS_V1: &str = "CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        state TEXT NOT NULL,
        state_version BIGINT NOT NULL,
        status TEXT NOT NULL,
        step BIGINT NOT NULL,
        attempts BIGINT NOT NULL,
        max_attempts BIGINT NOT NULL,
        run_after BIGINT NOT NULL,
        lease_owner TEXT,
        lease_expires BIGINT,
        last_error TEXT,
        created BIGINT NOT NULL,
        updated BIGINT NOT NULL
    );
    CREATE INDEX jobs_runnable ON jobs (status, run_after);
    CREATE INDEX jobs_scope ON jobs (account, region, kind, created)";

pub(crate) struct NewJob<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub scope: &'a Scope,
    pub state: &'a str,
    pub state_version: u32,
    pub max_attempts: u32,
    pub run_after: OffsetDateTime,
    pub now: OffsetDateTime,
}

/// Insert a new queued job; `false` if the id exists.
pub(crate) async fn insert(db: &Db, j: &NewJob<'_>) -> Result<bool, QueueError> {
    const SQL: &str = "INSERT INTO jobs (id, kind, account, region, state, state_version, status, step, attempts,
            max_attempts, run_after, lease_owner, lease_expires, last_error, created, updated)
        VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, 0, $7, $8, NULL, NULL, NULL, $9, $9)
        ON CONFLICT (id) DO NOTHING";
    let n = on_db!(db, pool => sqlx::query(SQL)
        .bind(j.id)
        .bind(j.kind)
        .bind(&j.scope.account)
        .bind(&j.scope.region)
        .bind(j.state)
        .bind(j.state_version as i64)
        .bind(j.max_attempts as i64)
        .bind(to_millis(j.run_after))
        .bind(to_millis(j.now))
        .execute(pool)
        .await?
        .rows_affected());
    Ok(n == 1)
}

const COLUMNS: &str = "id, kind, account, region, state, state_version, status, step, attempts, max_attempts,
    run_after, lease_owner, lease_expires, last_error, created, updated";

macro_rules! decode_record {
    ($row:expr) => {{
        use sqlx::Row;
        let row = $row;
        let status: String = row.try_get("status")?;
        let state: String = row.try_get("state")?;
        let lease_expires: Option<i64> = row.try_get("lease_expires")?;
        JobRecord {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            scope: Scope { account: row.try_get("account")?, region: row.try_get("region")? },
            status: JobStatus::parse(&status).ok_or_else(|| QueueError::Codec(format!("unknown job status {status:?}")))?,
            step: row.try_get::<i64, _>("step")?.max(0) as usize,
            attempts: row.try_get::<i64, _>("attempts")?.clamp(0, u32::MAX as i64) as u32,
            max_attempts: row.try_get::<i64, _>("max_attempts")?.clamp(0, u32::MAX as i64) as u32,
            state: serde_json::from_str(&state).map_err(|e| QueueError::Codec(e.to_string()))?,
            state_version: row.try_get::<i64, _>("state_version")?.clamp(0, u32::MAX as i64) as u32,
            last_error: row.try_get("last_error")?,
            run_after: from_millis(row.try_get("run_after")?),
            lease_owner: row.try_get("lease_owner")?,
            lease_expires: lease_expires.map(from_millis),
            created: from_millis(row.try_get("created")?),
            updated: from_millis(row.try_get("updated")?),
        }
    }};
}

pub(crate) async fn get(db: &Db, id: &str) -> Result<Option<JobRecord>, QueueError> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    on_db!(db, pool => {
        match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(decode_record!(row))),
            None => Ok(None),
        }
    })
}

pub(crate) async fn list(db: &Db, kind: Option<&str>, scope: &Scope) -> Result<Vec<JobRecord>, QueueError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE account = $1 AND region = $2 AND ($3 = '' OR kind = $3) ORDER BY created, id"
    );
    on_db!(db, pool => {
        let rows = sqlx::query(&sql)
            .bind(&scope.account)
            .bind(&scope.region)
            .bind(kind.unwrap_or(""))
            .fetch_all(pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(decode_record!(row));
        }
        Ok(out)
    })
}

pub(crate) async fn cancel(db: &Db, id: &str, now: OffsetDateTime) -> Result<bool, QueueError> {
    const SQL: &str = "UPDATE jobs SET status = 'cancelled', lease_owner = NULL, lease_expires = NULL, updated = $2
        WHERE id = $1 AND status IN ('queued', 'running')";
    let n = on_db!(db, pool => sqlx::query(SQL).bind(id).bind(to_millis(now)).execute(pool).await?.rows_affected());
    Ok(n == 1)
}

/// A job a worker has just leased.
pub(crate) struct Claimed {
    pub id: String,
    pub kind: String,
    pub scope: Scope,
    pub state: String,
    pub state_version: u32,
    pub step: usize,
    pub attempts: u32,
    pub max_attempts: u32,
    pub last_error: Option<String>,
    pub owner: String,
}

/// Message stored when a lease expired without a commit (the worker crashed or hung).
pub(crate) const LOST_WORKER: &str = "worker lost while running the step (lease expired)";

/// Lease the next runnable job of one of `kinds` for `owner` until `expires`. A job whose
/// previous lease expired counts one failed attempt.
pub(crate) async fn claim(
    db: &Db,
    kinds: &[&'static str],
    owner: &str,
    now: OffsetDateTime,
    expires: OffsetDateTime,
) -> Result<Option<Claimed>, QueueError> {
    if kinds.is_empty() {
        return Ok(None);
    }
    let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 5)).collect();
    let runnable = format!(
        "SELECT id FROM jobs WHERE kind IN ({}) AND ((status = 'queued' AND run_after <= $3)
            OR (status = 'running' AND lease_expires <= $3)) ORDER BY run_after, created, id LIMIT 1",
        placeholders.join(", ")
    );
    let set = "status = 'running',
            attempts = attempts + (CASE WHEN status = 'running' THEN 1 ELSE 0 END),
            last_error = CASE WHEN status = 'running' THEN $4 ELSE last_error END,
            lease_owner = $1, lease_expires = $2, updated = $3";
    let returning = "id, kind, account, region, state, state_version, step, attempts, max_attempts, last_error";
    let sql = match db {
        Db::Sqlite(_) => format!("UPDATE jobs SET {set} WHERE id = ({runnable}) RETURNING {returning}"),
        Db::Postgres(_) => format!(
            "UPDATE jobs SET {set} FROM ({runnable} FOR UPDATE SKIP LOCKED) AS c WHERE jobs.id = c.id RETURNING {}",
            returning.split(", ").map(|c| format!("jobs.{c}")).collect::<Vec<_>>().join(", ")
        ),
    };
    on_db!(db, pool => {
        let mut q = sqlx::query(&sql).bind(owner).bind(to_millis(expires)).bind(to_millis(now)).bind(LOST_WORKER);
        for k in kinds {
            q = q.bind(*k);
        }
        let Some(row) = q.fetch_optional(pool).await? else { return Ok(None) };
        use sqlx::Row;
        Ok(Some(Claimed {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            scope: Scope { account: row.try_get("account")?, region: row.try_get("region")? },
            state: row.try_get("state")?,
            state_version: row.try_get::<i64, _>("state_version")?.clamp(0, u32::MAX as i64) as u32,
            step: row.try_get::<i64, _>("step")?.max(0) as usize,
            attempts: row.try_get::<i64, _>("attempts")?.clamp(0, u32::MAX as i64) as u32,
            max_attempts: row.try_get::<i64, _>("max_attempts")?.clamp(0, u32::MAX as i64) as u32,
            last_error: row.try_get("last_error")?,
            owner: owner.to_string(),
        }))
    })
}

/// Extend the lease; `false` if it is no longer ours (taken over or cancelled).
pub(crate) async fn heartbeat(db: &Db, id: &str, owner: &str, expires: OffsetDateTime) -> Result<bool, QueueError> {
    const SQL: &str = "UPDATE jobs SET lease_expires = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
    let n = on_db!(db, pool => sqlx::query(SQL)
        .bind(id)
        .bind(owner)
        .bind(to_millis(expires))
        .execute(pool)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// The new values of a commit. `lease` is `Some` to keep running under the same owner.
pub(crate) struct Commit<'a> {
    pub state: &'a str,
    pub state_version: u32,
    pub step: usize,
    pub attempts: u32,
    pub status: JobStatus,
    pub run_after: OffsetDateTime,
    pub lease_expires: Option<OffsetDateTime>,
    pub last_error: Option<&'a str>,
    pub now: OffsetDateTime,
}

/// Write a step's result, fenced by the lease: `false` (nothing written) if the lease is no
/// longer ours.
pub(crate) async fn commit(db: &Db, id: &str, owner: &str, c: &Commit<'_>) -> Result<bool, QueueError> {
    const SQL: &str = "UPDATE jobs SET state = $3, state_version = $4, step = $5, attempts = $6, status = $7,
            run_after = $8, lease_owner = $9, lease_expires = $10, last_error = $11, updated = $12
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
    let keep_owner = c.lease_expires.map(|_| owner);
    let n = on_db!(db, pool => sqlx::query(SQL)
        .bind(id)
        .bind(owner)
        .bind(c.state)
        .bind(c.state_version as i64)
        .bind(c.step as i64)
        .bind(c.attempts as i64)
        .bind(c.status.as_str())
        .bind(to_millis(c.run_after))
        .bind(keep_owner)
        .bind(c.lease_expires.map(to_millis))
        .bind(c.last_error)
        .bind(to_millis(c.now))
        .execute(pool)
        .await?
        .rows_affected());
    Ok(n == 1)
}

pub(crate) async fn delete_finished_before(db: &Db, cutoff: OffsetDateTime) -> Result<u64, QueueError> {
    const SQL: &str = "DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND updated < $1";
    Ok(on_db!(db, pool => sqlx::query(SQL).bind(to_millis(cutoff)).execute(pool).await?.rows_affected()))
}
