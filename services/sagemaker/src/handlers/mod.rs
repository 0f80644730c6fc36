//! Operation handlers, one file per resource family. Each validates its input, calls the
//! domain and the stores, and builds the generated output type.

pub mod endpoint_configs;
pub mod endpoints;
pub mod models;
pub mod training_jobs;

use crate::error::SageMakerError;
use crate::jobs::Shared;
use hearth_protocol::types::Timestamp;
use hearth_runtime::jobs::JobQueue;
use hearth_runtime::Scope;
use std::sync::Arc;

/// What a handler works with: the service's shared state and the caller's account and region.
pub struct Ctx {
    pub s: Arc<Shared>,
    pub jobs: JobQueue,
    pub scope: Scope,
    /// The access key that signed the request.
    pub caller: String,
}

impl Ctx {
    /// Now on the service clock.
    pub fn now(&self) -> Timestamp {
        Timestamp(self.s.clock.now())
    }

    /// Fail with `msg` unless the S3 object at `url` exists in the caller's account.
    pub async fn require_object(&self, url: &str, msg: impl Fn() -> String) -> Result<(), SageMakerError> {
        let Some((bucket, key)) = hearth_s3::internal::parse_s3_uri(url).filter(|(_, k)| !k.is_empty()) else {
            return Err(SageMakerError::validation(msg()));
        };
        match self.s.s3.list_objects(&self.scope.account, &bucket, &key).await {
            Ok(keys) if keys.iter().any(|(k, _)| *k == key) => Ok(()),
            Ok(_) => Err(SageMakerError::validation(msg())),
            Err(e) if e.status.is_server_error() => Err(SageMakerError::Internal(e.message)),
            Err(_) => Err(SageMakerError::validation(msg())),
        }
    }
}
