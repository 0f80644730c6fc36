//! `hearth fraud generate`: synthetic card transactions with planted fraud patterns
//! (`hearth_frauddetector::domain::synthetic`, documented in the crate README) written as the
//! event file CreateModelVersion (`EXTERNAL_EVENTS`) and CreateBatchImportJob read, or as the
//! seed's JSON records — to a file, stdout, or an object of this server's S3 (`s3://…`,
//! written into the data directory for the default account, whether or not the server runs).
//! Also the adapter through which Fraud Detector's external models call SageMaker endpoints.

use clap::{Args, ValueEnum};
use hearth_config::Config;
use hearth_frauddetector::domain::synthetic::{self, Options};
use hearth_frauddetector::domain::values::{parse_timestamp, to_millis};
use std::path::PathBuf;

/// Output layout.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// EVENT_ID, EVENT_TIMESTAMP, ENTITY_ID, ENTITY_TYPE, EVENT_LABEL, LABEL_TIMESTAMP, variables.
    Csv,
    /// One seed record (event_id, entity_id, event_time, variables) a line; no labels.
    Jsonl,
}

/// Options of `hearth fraud generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// Number of transactions.
    #[arg(long, default_value_t = 10_000)]
    count: usize,
    /// Random seed: the same options write the same file.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Share of transactions labelled fraud (0–0.5).
    #[arg(long, default_value_t = 0.05)]
    fraud_rate: f64,
    /// Length of the period in days.
    #[arg(long, default_value_t = 60)]
    days: u32,
    /// Start of the period (ISO 8601).
    #[arg(long, default_value = "2024-03-01T00:00:00Z")]
    start: String,
    /// ENTITY_TYPE written in the CSV.
    #[arg(long, default_value = "customer")]
    entity_type: String,
    /// Output layout.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Output: a file, `-` for stdout, or `s3://bucket/key` (the bucket must exist).
    #[arg(long, short, default_value = "-")]
    out: String,
    /// Also write the truth (EVENT_ID, EVENT_LABEL, PATTERN) to this file, for measuring.
    #[arg(long)]
    truth: Option<PathBuf>,
}

/// Run `hearth fraud generate`.
pub fn generate(config: &Config, a: GenerateArgs) -> anyhow::Result<()> {
    let start = parse_timestamp(&a.start).ok_or_else(|| anyhow::anyhow!("--start '{}' is not an ISO 8601 timestamp", a.start))?;
    let opts = Options { count: a.count, seed: a.seed, fraud_rate: a.fraud_rate, days: a.days, start_ms: to_millis(start) };
    let txns = synthetic::generate(&opts).map_err(anyhow::Error::msg)?;
    let mut body = Vec::with_capacity(txns.len() * 400);
    match a.format {
        Format::Csv => synthetic::write_csv(&txns, &a.entity_type, &mut body)?,
        Format::Jsonl => synthetic::write_jsonl(&txns, &mut body)?,
    }
    if let Some(path) = &a.truth {
        synthetic::write_truth(&txns, std::io::BufWriter::new(std::fs::File::create(path)?))?;
    }
    let fraud = txns.iter().filter(|t| t.fraud).count();
    if let Some((bucket, key)) = hearth_s3::internal::parse_s3_uri(&a.out) {
        anyhow::ensure!(!key.is_empty(), "--out {} names no object key", a.out);
        let content_type = match a.format {
            Format::Csv => "text/csv",
            Format::Jsonl => "application/x-ndjson",
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(put_object(config, &bucket, &key, &body, content_type))?;
    } else if a.out == "-" {
        use std::io::Write;
        std::io::stdout().lock().write_all(&body)?;
    } else {
        std::fs::write(&a.out, &body)?;
    }
    eprintln!("{} transactions ({} fraud, {:.2}%) written to {}", txns.len(), fraud, 100.0 * fraud as f64 / txns.len() as f64, a.out);
    Ok(())
}

/// Write one object into the data directory's S3 for the default account.
async fn put_object(config: &Config, bucket: &str, key: &str, body: &[u8], content_type: &str) -> anyhow::Result<()> {
    let (default_key, _) = hearth_config::load_or_create_default_credentials(&config.data_dir)?;
    let clock: std::sync::Arc<dyn hearth_runtime::Clock> = std::sync::Arc::new(hearth_runtime::SystemClock);
    let meta = hearth_runtime::MetaStore::open(&config.database_url()).await?;
    let blobs = hearth_runtime::blob::BlobStore::open(config.data_dir.join("blobs")).await?;
    let s3 = hearth_s3::S3::new(meta, blobs, clock);
    s3.write_object(&default_key.account_id, bucket, key, body, content_type).await.map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
    Ok(())
}

/// Fraud Detector's external models invoke SageMaker endpoints through SageMaker's in-process
/// hosting — the path InvokeEndpoint takes (routing, serverless admission, metrics).
pub struct SageMakerEndpoints(pub std::sync::Arc<hearth_sagemaker::hosting::Hosting>);

impl hearth_frauddetector::endpoints::ModelEndpoints for SageMakerEndpoints {
    fn invoke<'a>(&'a self, scope: &'a hearth_runtime::Scope, req: hearth_frauddetector::endpoints::EndpointRequest) -> hearth_frauddetector::endpoints::InvokeFuture<'a> {
        use hearth_frauddetector::endpoints::{EndpointError, EndpointReply};
        use hearth_sagemaker::hosting::{InvokeError, InvokeRequest};
        Box::pin(async move {
            let call = InvokeRequest {
                endpoint_name: req.endpoint,
                body: req.body,
                content_type: Some(req.content_type),
                accept: Some(req.accept),
                custom_attributes: None,
                target_variant: None,
                request_id: String::new(),
                max_body: None,
            };
            match self.0.invoke(scope, call).await {
                Ok(r) => Ok(EndpointReply { body: r.body, content_type: r.content_type }),
                Err(InvokeError::Validation(m)) if m.contains("not found") => Err(EndpointError::NotFound(m)),
                Err(InvokeError::Validation(m)) | Err(InvokeError::Internal(m)) => Err(EndpointError::Failed(m)),
                Err(InvokeError::Model { message, .. }) => Err(EndpointError::Failed(message)),
                Err(InvokeError::Throttling) => Err(EndpointError::Failed("the endpoint is throttling requests (MaxConcurrency reached)".into())),
            }
        })
    }
}
