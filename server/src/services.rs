//! The services `hearth serve` runs behind buffered protocols (awsJson, restJson, awsQuery),
//! keyed by their SigV4 signing name. Add a service here with one line; several services may
//! share a signing name (e.g. `sagemaker` and `sagemaker-runtime`): the gateway picks the one
//! whose operations match the request.

use hearth_protocol::dispatch::Handler;
use hearth_runtime::Runtime;
use std::sync::Arc;

/// Build every service. `s3` is shared so services can read and write objects in-process.
pub async fn build(rt: &Runtime, s3: &hearth_s3::S3) -> anyhow::Result<Vec<(&'static str, Arc<dyn Handler>)>> {
    let _ = (rt, s3);
    let services: Vec<(&'static str, Arc<dyn Handler>)> = vec![
        ("sts", Arc::new(hearth_sts::Sts)),
    ];
    Ok(services)
}
