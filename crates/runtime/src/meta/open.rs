//! Turning a database URL into a connection pool.
//!
//! SQLite: `sqlite://PATH` (relative or absolute; `sqlite:///abs/path` also works) or
//! `sqlite::memory:`. The file and its parent directories are created; every connection runs in
//! WAL mode with `synchronous=FULL` (a commit is fsynced before it returns), a busy timeout, and
//! foreign keys on. PostgreSQL: any `postgres://` / `postgresql://` URL sqlx accepts (including
//! `?options=-c search_path=...`). URLs are never logged or echoed in errors: they may carry a
//! password.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Connection;

use super::{Db, MetaError};

/// How long a SQLite writer waits for another writer before failing with `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite connections: WAL lets readers run beside the one writer.
const SQLITE_CONNECTIONS: u32 = 4;
/// PostgreSQL connections per node.
const POSTGRES_CONNECTIONS: u32 = 8;
/// How long a caller waits for a free pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);

/// Connect to `url` (see the module docs for the forms accepted).
pub(super) async fn connect(url: &str) -> Result<Db, MetaError> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        connect_sqlite(rest).await
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        connect_postgres(url).await
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        Err(MetaError::Database(format!(
            "unsupported database url scheme {scheme:?}: expected sqlite:// or postgres://"
        )))
    }
}

async fn connect_sqlite(rest: &str) -> Result<Db, MetaError> {
    let base = SqliteConnectOptions::new()
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    if rest == ":memory:" || rest == "//:memory:" {
        // One connection that is never closed: each SQLite connection to `:memory:` is its own
        // database, so a pool of several would see different data.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(base.in_memory(true))
            .await?;
        tracing::info!(backend = "sqlite", path = ":memory:", "metadata store opened");
        return Ok(Db::Sqlite(pool));
    }
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if path.is_empty() || path.contains('?') {
        return Err(MetaError::Database(
            "sqlite url must be sqlite://PATH (no query parameters) or sqlite::memory:".into(),
        ));
    }
    let path = std::path::Path::new(path);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| MetaError::Database(format!("creating {}: {e}", parent.display())))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(SQLITE_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(base.filename(path).create_if_missing(true))
        .await
        .map_err(|e| MetaError::Database(format!("opening {}: {e}", path.display())))?;
    tracing::info!(backend = "sqlite", path = %path.display(), "metadata store opened");
    Ok(Db::Sqlite(pool))
}

async fn connect_postgres(url: &str) -> Result<Db, MetaError> {
    // sqlx's parse errors do not include the URL, so they are safe to pass on.
    let options = PgConnectOptions::from_str(url)?;
    // One direct connection first: a wrong host or password fails at once with the server's
    // reason, instead of the pool retrying until its acquire timeout.
    PgConnection::connect_with(&options).await?.close().await?;
    let pool = PgPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await?;
    tracing::info!(
        backend = "postgres",
        host = %options.get_host(),
        port = options.get_port(),
        database = options.get_database().unwrap_or_default(),
        "metadata store opened"
    );
    Ok(Db::Postgres(pool))
}
