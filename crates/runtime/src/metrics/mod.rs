//! The metrics core: typed metric data into a per-account time-series store, plus the
//! process's Prometheus counters.
//!
//! Two ways in:
//! - [`Metrics::record`] never blocks: data goes through a bounded channel to a background task
//!   that writes batches every second (or every [`MetricsOptions::batch_size`] points). Use it
//!   for metrics Hearth emits about itself (`AWS/S3`, `AWS/SageMaker`, …). If the buffer is full
//!   the datum is dropped and counted in `hearth_metric_points_dropped_total`.
//! - [`Metrics::put`] writes at once and returns when the data is committed: PutMetricData
//!   uses it, so accepted data is durable before it is acknowledged.
//!
//! Points live in the table `metric_data` (one row per datum: count, sum, min, max and, when
//! given, the raw values with their counts, so percentiles can be computed later) and the
//! table `metric_names` lists every (namespace, name, dimensions) with its latest timestamp for
//! ListMetrics. Dimensions are stored canonically: a JSON object with keys sorted, so the same
//! dimensions given in any order name the same metric. The CloudWatch service reads both
//! through [`Metrics::query`] and [`Metrics::list_metrics`] and aggregates periods itself.
//!
//! [`Metrics::prometheus`] holds the Prometheus registry (crate `prometheus-client`) served on
//! `/metrics`: `http_requests_total{service,operation,status}`,
//! `http_request_duration_seconds{service,operation}` and the store's own counters.

mod prom;
mod store;
mod types;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::meta::{Db, MetaStore, Scope};

pub use prom::Prometheus;
pub use types::{DimensionFilter, ListMetricsQuery, MetricDatum, MetricId, Sample, StatisticSet, StoredPoint, Unit};

/// Errors of the metrics store.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A datum breaks one of CloudWatch's rules (the message says which).
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("metric codec: {0}")]
    Codec(String),
    #[error("database: {0}")]
    Database(String),
    /// The background writer has stopped (the runtime is shutting down).
    #[error("metrics writer stopped")]
    Closed,
}

impl From<sqlx::Error> for MetricsError {
    fn from(e: sqlx::Error) -> Self {
        MetricsError::Database(e.to_string())
    }
}

/// Tuning of [`Metrics`].
#[derive(Debug, Clone)]
pub struct MetricsOptions {
    /// How often buffered data is written.
    pub flush_interval: Duration,
    /// Write as soon as this many points are buffered.
    pub batch_size: usize,
    /// Points the channel holds before [`Metrics::record`] starts dropping.
    pub buffer: usize,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions { flush_interval: Duration::from_secs(1), batch_size: 1000, buffer: 100_000 }
    }
}

enum Msg {
    Point(Scope, MetricDatum),
    Flush(oneshot::Sender<Result<(), MetricsError>>),
}

struct Inner {
    db: Db,
    clock: Arc<dyn Clock>,
    tx: mpsc::Sender<Msg>,
    prom: Prometheus,
}

/// Handle to the metrics store and registry; cheap to clone. The background writer stops
/// (after writing what it holds) when the last handle is dropped.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl Metrics {
    /// Open the store on the metadata database with default options (creates its tables and
    /// starts the background writer on the current tokio runtime).
    pub async fn open(meta: &MetaStore, clock: Arc<dyn Clock>) -> Result<Self, MetricsError> {
        Self::open_with(meta, clock, MetricsOptions::default()).await
    }

    /// Open with explicit options.
    pub async fn open_with(meta: &MetaStore, clock: Arc<dyn Clock>, opts: MetricsOptions) -> Result<Self, MetricsError> {
        meta.migrate("metrics", store::MIGRATIONS).await.map_err(|e| MetricsError::Database(e.to_string()))?;
        let db = meta.db().clone();
        let (tx, rx) = mpsc::channel(opts.buffer.max(1));
        let prom = Prometheus::new();
        tokio::spawn(writer(db.clone(), clock.clone(), rx, opts, prom.clone()));
        Ok(Metrics { inner: Arc::new(Inner { db, clock, tx, prom }) })
    }

    /// Queue a datum for the background writer; never blocks. Invalid data is rejected here.
    pub fn record(&self, scope: &Scope, datum: MetricDatum) -> Result<(), MetricsError> {
        let datum = datum.validated()?;
        match self.inner.tx.try_send(Msg::Point(scope.clone(), datum)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.inner.prom.points_dropped.inc();
                tracing::debug!("metric buffer full, datum dropped");
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(MetricsError::Closed),
        }
    }

    /// Write data now, in one transaction; durable when this returns.
    pub async fn put(&self, scope: &Scope, data: Vec<MetricDatum>) -> Result<(), MetricsError> {
        let mut batch = Vec::with_capacity(data.len());
        for d in data {
            batch.push((scope.clone(), d.validated()?));
        }
        store::write(&self.inner.db, &batch).await?;
        self.inner.prom.points_written.inc_by(batch.len() as u64);
        Ok(())
    }

    /// Write everything recorded so far (before this call) and wait for it.
    pub async fn flush(&self) -> Result<(), MetricsError> {
        let (tx, rx) = oneshot::channel();
        self.inner.tx.send(Msg::Flush(tx)).await.map_err(|_| MetricsError::Closed)?;
        rx.await.map_err(|_| MetricsError::Closed)?
    }

    /// Points of one metric (namespace, name and exactly these dimensions) with
    /// `start <= timestamp < end`, oldest first.
    pub async fn query(
        &self,
        scope: &Scope,
        metric: &MetricId,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<StoredPoint>, MetricsError> {
        store::query(&self.inner.db, scope, metric, start, end).await
    }

    /// The metrics of a scope that match `q`, ordered by namespace, name, then dimensions.
    pub async fn list_metrics(&self, scope: &Scope, q: &ListMetricsQuery) -> Result<Vec<MetricId>, MetricsError> {
        store::list_metrics(&self.inner.db, scope, q).await
    }

    /// Delete points older than `cutoff` (all accounts); returns how many were deleted.
    pub async fn delete_before(&self, cutoff: OffsetDateTime) -> Result<u64, MetricsError> {
        store::delete_before(&self.inner.db, cutoff).await
    }

    /// The Prometheus registry and the HTTP request helpers.
    pub fn prometheus(&self) -> &Prometheus {
        &self.inner.prom
    }

    /// Count one HTTP request and its duration (shorthand for [`Prometheus::observe_http`]).
    pub fn observe_http(&self, service: &str, operation: &str, status: u16, elapsed: Duration) {
        self.inner.prom.observe_http(service, operation, status, elapsed)
    }

    /// The Prometheus text exposition (OpenMetrics) of every registered metric, for `/metrics`.
    pub fn encode_prometheus(&self) -> String {
        self.inner.prom.encode()
    }

    /// The current time on the store's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }
}

/// The background writer: batches points and writes them every `flush_interval` or
/// `batch_size` points; answers flush requests after writing what came before them.
async fn writer(db: Db, clock: Arc<dyn Clock>, mut rx: mpsc::Receiver<Msg>, opts: MetricsOptions, prom: Prometheus) {
    let mut pending: Vec<(Scope, MetricDatum)> = Vec::new();
    // Upper bound of points held while the database is failing.
    let max_pending = opts.buffer.max(opts.batch_size).max(1);
    let mut tick = clock.sleep(opts.flush_interval);
    loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = &mut tick => {
                let _ = write_pending(&db, &mut pending, &prom, max_pending).await;
                tick = clock.sleep(opts.flush_interval);
                continue;
            }
        };
        match msg {
            Some(Msg::Point(scope, d)) => {
                pending.push((scope, d));
                if pending.len() >= opts.batch_size {
                    let _ = write_pending(&db, &mut pending, &prom, max_pending).await;
                }
            }
            Some(Msg::Flush(reply)) => {
                let r = write_pending(&db, &mut pending, &prom, max_pending).await;
                let _ = reply.send(r);
            }
            None => {
                let _ = write_pending(&db, &mut pending, &prom, max_pending).await;
                tracing::debug!("metrics writer stopped");
                return;
            }
        }
    }
}

async fn write_pending(
    db: &Db,
    pending: &mut Vec<(Scope, MetricDatum)>,
    prom: &Prometheus,
    max_pending: usize,
) -> Result<(), MetricsError> {
    if pending.is_empty() {
        return Ok(());
    }
    match store::write(db, pending).await {
        Ok(()) => {
            prom.points_written.inc_by(pending.len() as u64);
            pending.clear();
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, points = pending.len(), "metric write failed, will retry");
            if pending.len() > max_pending {
                let excess = pending.len() - max_pending;
                pending.drain(..excess);
                prom.points_dropped.inc_by(excess as u64);
            }
            Err(e)
        }
    }
}
