//! The metric tables, for SQLite and PostgreSQL: `metric_data` (one row per datum, indexed by
//! series and time) and `metric_names` (one row per series with its latest timestamp).

use std::collections::HashMap;

use sqlx::Row;
use time::OffsetDateTime;

use super::types::{canonical_dimensions, parse_dimensions, ListMetricsQuery, MetricDatum, MetricId, StoredPoint, Unit};
use super::MetricsError;
use crate::jobs::{from_millis, to_millis};
use crate::meta::{Db, Migration, Scope};

/// The metric store's schema chain (component `metrics`), run by [`crate::MetaStore::migrate`].
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "metric_data and metric_names",
    sqlite: METRICS_V1,
    postgres: METRICS_V1,
}];

/// Portable DDL: `DOUBLE PRECISION` is REAL on SQLite and float8 on PostgreSQL.
const METRICS_V1: &str = "CREATE TABLE metric_data (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        dims TEXT NOT NULL,
        ts BIGINT NOT NULL,
        unit TEXT NOT NULL,
        resolution BIGINT NOT NULL,
        sample_count DOUBLE PRECISION NOT NULL,
        total DOUBLE PRECISION NOT NULL,
        minimum DOUBLE PRECISION NOT NULL,
        maximum DOUBLE PRECISION NOT NULL,
        vals TEXT
    );
    CREATE INDEX metric_data_series ON metric_data (account, region, namespace, name, dims, ts);
    CREATE INDEX metric_data_ts ON metric_data (ts);
    CREATE TABLE metric_names (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        dims TEXT NOT NULL,
        last_ts BIGINT NOT NULL,
        PRIMARY KEY (account, region, namespace, name, dims)
    )";

/// Rows per multi-row INSERT (13 parameters each, well under both backends' limits).
const CHUNK: usize = 500;

struct Row13 {
    account: String,
    region: String,
    namespace: String,
    name: String,
    dims: String,
    ts: i64,
    unit: &'static str,
    resolution: i64,
    count: f64,
    sum: f64,
    min: f64,
    max: f64,
    vals: Option<String>,
}

/// Write validated data in one transaction.
pub(crate) async fn write(db: &Db, batch: &[(Scope, MetricDatum)]) -> Result<(), MetricsError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(batch.len());
    // (account, region, namespace, name, dims) -> latest ts
    let mut names: HashMap<(String, String, String, String, String), i64> = HashMap::new();
    for (scope, d) in batch {
        let dims = canonical_dimensions(&d.dimensions);
        let ts = to_millis(d.timestamp);
        let (count, sum, min, max, vals) = StoredPoint::summarise(&d.value);
        let vals = match vals {
            Some(v) => Some(serde_json::to_string(&v).map_err(|e| MetricsError::Codec(e.to_string()))?),
            None => None,
        };
        let key = (scope.account.clone(), scope.region.clone(), d.namespace.clone(), d.name.clone(), dims.clone());
        let e = names.entry(key).or_insert(ts);
        *e = (*e).max(ts);
        rows.push(Row13 {
            account: scope.account.clone(),
            region: scope.region.clone(),
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            dims,
            ts,
            unit: d.unit.as_str(),
            resolution: d.storage_resolution as i64,
            count,
            sum,
            min,
            max,
            vals,
        });
    }
    let names: Vec<_> = names.into_iter().collect();
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        for chunk in rows.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO metric_data (account, region, namespace, name, dims, ts, unit, resolution,
                    sample_count, total, minimum, maximum, vals) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.account.clone())
                    .push_bind(r.region.clone())
                    .push_bind(r.namespace.clone())
                    .push_bind(r.name.clone())
                    .push_bind(r.dims.clone())
                    .push_bind(r.ts)
                    .push_bind(r.unit)
                    .push_bind(r.resolution)
                    .push_bind(r.count)
                    .push_bind(r.sum)
                    .push_bind(r.min)
                    .push_bind(r.max)
                    .push_bind(r.vals.clone());
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in names.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO metric_names (account, region, namespace, name, dims, last_ts) ");
            qb.push_values(chunk, |mut b, ((account, region, namespace, name, dims), ts)| {
                b.push_bind(account.clone())
                    .push_bind(region.clone())
                    .push_bind(namespace.clone())
                    .push_bind(name.clone())
                    .push_bind(dims.clone())
                    .push_bind(*ts);
            });
            qb.push(
                " ON CONFLICT (account, region, namespace, name, dims) DO UPDATE SET last_ts =
                    CASE WHEN excluded.last_ts > metric_names.last_ts THEN excluded.last_ts ELSE metric_names.last_ts END",
            );
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

pub(crate) async fn query(
    db: &Db,
    scope: &Scope,
    metric: &MetricId,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<Vec<StoredPoint>, MetricsError> {
    const SQL: &str = "SELECT ts, unit, resolution, sample_count, total, minimum, maximum, vals FROM metric_data
        WHERE account = $1 AND region = $2 AND namespace = $3 AND name = $4 AND dims = $5 AND ts >= $6 AND ts < $7
        ORDER BY ts";
    let dims = metric.canonical_dimensions();
    on_db!(db, pool => {
        let rows = sqlx::query(SQL)
            .bind(&scope.account)
            .bind(&scope.region)
            .bind(&metric.namespace)
            .bind(&metric.name)
            .bind(&dims)
            .bind(to_millis(start))
            .bind(to_millis(end))
            .fetch_all(pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let unit: String = row.try_get("unit")?;
            let vals: Option<String> = row.try_get("vals")?;
            let sample_count: f64 = row.try_get("sample_count")?;
            let sum: f64 = row.try_get("total")?;
            let values = match vals {
                Some(v) => Some(serde_json::from_str::<Vec<(f64, f64)>>(&v).map_err(|e| MetricsError::Codec(e.to_string()))?),
                None if sample_count == 1.0 => Some(vec![(sum, 1.0)]),
                None => None,
            };
            out.push(StoredPoint {
                timestamp: from_millis(row.try_get("ts")?),
                unit: unit.parse::<Unit>().map_err(|e| MetricsError::Codec(e.to_string()))?,
                sample_count,
                sum,
                minimum: row.try_get("minimum")?,
                maximum: row.try_get("maximum")?,
                values,
                storage_resolution: row.try_get::<i64, _>("resolution")?.clamp(1, 60) as u32,
            });
        }
        Ok(out)
    })
}

pub(crate) async fn list_metrics(db: &Db, scope: &Scope, q: &ListMetricsQuery) -> Result<Vec<MetricId>, MetricsError> {
    const SQL: &str = "SELECT namespace, name, dims FROM metric_names
        WHERE account = $1 AND region = $2 AND ($3 = '' OR namespace = $3) AND ($4 = '' OR name = $4) AND last_ts >= $5";
    let since = q.active_since.map(to_millis).unwrap_or(i64::MIN);
    let rows: Vec<(String, String, String)> = on_db!(db, pool => {
        sqlx::query_as(SQL)
            .bind(&scope.account)
            .bind(&scope.region)
            .bind(q.namespace.as_deref().unwrap_or(""))
            .bind(q.name.as_deref().unwrap_or(""))
            .bind(since)
            .fetch_all(pool)
            .await?
    });
    let mut out = Vec::with_capacity(rows.len());
    for (namespace, name, dims) in rows {
        let dimensions = parse_dimensions(&dims)?;
        if q.matches_dimensions(&dimensions) {
            out.push(MetricId { namespace, name, dimensions });
        }
    }
    out.sort();
    Ok(out)
}

pub(crate) async fn delete_before(db: &Db, cutoff: OffsetDateTime) -> Result<u64, MetricsError> {
    let cutoff = to_millis(cutoff);
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let n = sqlx::query("DELETE FROM metric_data WHERE ts < $1").bind(cutoff).execute(&mut *tx).await?.rows_affected();
        sqlx::query("DELETE FROM metric_names WHERE last_ts < $1").bind(cutoff).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(n)
    })
}
