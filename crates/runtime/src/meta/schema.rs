//! Numbered schema migrations, recorded per component in the `schema_migrations` table.
//!
//! Each component (`meta`, `jobs`, `metrics`, ...) owns an ordered list of [`Migration`]s. At
//! open, the ones not yet recorded run in order, each in one transaction together with its
//! `schema_migrations` row, so a crash leaves either the whole step or none of it. Concurrent
//! opens are safe: on PostgreSQL every migration transaction first takes a transaction-scoped
//! advisory lock (DDL is transactional there); on SQLite `BEGIN IMMEDIATE` serializes writers.
//! Hand-written rather than `sqlx::migrate!` because the two backends need different DDL for the
//! same step and several components share one database.

use sqlx::Executor;

use super::{Db, MetaError};

/// One schema step of a component, with its DDL for each backend. A string may hold several
/// statements separated by `;`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Position in the component's chain: 1, 2, 3, ... (never reused or reordered).
    pub version: i64,
    /// Short description, recorded with the step.
    pub name: &'static str,
    /// DDL run on SQLite.
    pub sqlite: &'static str,
    /// DDL run on PostgreSQL.
    pub postgres: &'static str,
}

/// The metadata store's own chain.
pub(super) const META_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "records",
    sqlite: "CREATE TABLE records (
        kind TEXT NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        schema_version INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, account, region, key)
    )",
    // COLLATE "C": keys compare bytewise, as S3 orders them, whatever the database locale.
    postgres: r#"CREATE TABLE records (
        kind TEXT NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        version BIGINT NOT NULL,
        schema_version INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, account, region, key)
    )"#,
}];

/// Advisory lock key that serializes schema changes on PostgreSQL ("hearth" in ASCII).
const PG_LOCK_KEY: i64 = 0x6865_6172_7468;

const SQLITE_BOOTSTRAP: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (component, version)
)";

const PG_BOOTSTRAP: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)";

/// Run the migrations of `component` that are not recorded yet.
pub(super) async fn run(db: &Db, component: &str, migrations: &[Migration]) -> Result<(), MetaError> {
    if let Some(w) = migrations.windows(2).find(|w| w[0].version >= w[1].version) {
        return Err(MetaError::Database(format!(
            "{component} migrations out of order: {} before {}",
            w[0].version, w[1].version
        )));
    }
    for m in migrations {
        let applied = match db {
            Db::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                (&mut *tx).execute(SQLITE_BOOTSTRAP).await?;
                let done: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM schema_migrations WHERE component = $1 AND version = $2")
                        .bind(component)
                        .bind(m.version)
                        .fetch_optional(&mut *tx)
                        .await?;
                if done.is_some() {
                    false
                } else {
                    (&mut *tx).execute(m.sqlite).await.map_err(|e| step_error(component, m, e))?;
                    sqlx::query("INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)")
                        .bind(component)
                        .bind(m.version)
                        .bind(m.name)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    true
                }
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_LOCK_KEY).execute(&mut *tx).await?;
                (&mut *tx).execute(PG_BOOTSTRAP).await?;
                let done: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM schema_migrations WHERE component = $1 AND version = $2")
                        .bind(component)
                        .bind(m.version)
                        .fetch_optional(&mut *tx)
                        .await?;
                if done.is_some() {
                    false
                } else {
                    (&mut *tx).execute(m.postgres).await.map_err(|e| step_error(component, m, e))?;
                    sqlx::query("INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)")
                        .bind(component)
                        .bind(m.version)
                        .bind(m.name)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    true
                }
            }
        };
        if applied {
            tracing::info!(component, version = m.version, name = m.name, "schema migration applied");
        }
    }
    Ok(())
}

fn step_error(component: &str, m: &Migration, e: sqlx::Error) -> MetaError {
    MetaError::Database(format!("{component} migration {} ({}): {e}", m.version, m.name))
}
