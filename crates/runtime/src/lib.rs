//! Hearth's shared runtime: everything a service needs besides its wire protocol.
//!
//! - [`meta`]: the metadata store (versioned records; SQLite by default, PostgreSQL for many nodes);
//! - [`blob`]: durable object bytes on the local file system (temp file, fsync, rename);
//! - [`jobs`]: durable jobs made of ordered steps, leased by workers, resumed after a crash;
//! - [`metrics`]: typed metric events into a per-account time-series store plus Prometheus counters;
//! - [`clock`]: the injectable clock every wait and timestamp goes through.

/// Run `$body` with `$pool` bound to the backend's pool (the body is compiled once per backend).
/// Used by the runtime modules that keep their own tables (jobs, metrics).
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::meta::Db::Sqlite($pool) => $body,
            $crate::meta::Db::Postgres($pool) => $body,
        }
    };
}

pub mod blob;
pub mod clock;
pub mod jobs;
pub mod meta;
pub mod metrics;

pub use clock::{Clock, ManualClock, SystemClock};
pub use meta::{Db, Expect, ListQuery, MetaError, MetaStore, Migration, Record, Scope, Versioned, WriteOp};
pub use jobs::{JobContext, JobError, JobHandler, JobQueue, JobRecord, JobStatus, StepOutcome, SubmitOptions};
pub use metrics::{MetricDatum, Metrics, Sample, Unit};

/// Everything a service is built from, handed to each service's constructor by the server.
#[derive(Clone)]
pub struct Runtime {
    pub meta: MetaStore,
    pub blobs: blob::BlobStore,
    pub jobs: JobQueue,
    pub metrics: Metrics,
    pub clock: std::sync::Arc<dyn Clock>,
    /// The data directory (services keep embedded indexes under `<data_dir>/<service>/`).
    pub data_dir: std::path::PathBuf,
    /// The model cache (`hearth models fetch` installs here).
    pub models_dir: std::path::PathBuf,
}
