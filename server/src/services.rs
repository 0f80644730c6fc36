//! The services `hearth serve` runs behind buffered protocols (awsJson, restJson, awsQuery),
//! keyed by their SigV4 signing name. Add a service here with one line; several services may
//! share a signing name (e.g. `sagemaker` and `sagemaker-runtime`): the gateway picks the one
//! whose operations match the request.

use hearth_protocol::dispatch::Handler;
use hearth_runtime::Runtime;
use std::sync::Arc;

/// Build every service, and the unsigned routes services serve next to the AWS APIs (SNS
/// confirmation links, transcripts Transcribe keeps). `s3` is shared so services can read and write objects in-process.
pub async fn build(config: &hearth_config::Config, rt: &Runtime, s3: &hearth_s3::S3) -> anyhow::Result<(Vec<(&'static str, Arc<dyn Handler>)>, axum::Router)> {
    let sns = hearth_sns::Sns::new(rt, sns_settings(config)).await.map_err(anyhow::Error::msg)?;
    let _ = (rt, s3);
    // One CloudWatch: the monitoring API and SageMaker's rollback alarms see the same alarms.
    let cloudwatch = hearth_cloudwatch::CloudWatch::start(rt, Some(Arc::new(sns.clone())));
    let sagemaker = hearth_sagemaker::SageMaker::build(rt, s3, sagemaker_options(config), Some(Arc::new(cloudwatch.clone())));
    let lex = hearth_lex::Lex::with_options(rt, s3, hearth_lex::LexOptions::from_config(&config.lex));
    let transcribe = hearth_transcribe::Transcribe::with_limits(rt, s3, hearth_transcribe::Limits::from_env().with_public_endpoint(config.sns_public_endpoint()));
    let services: Vec<(&'static str, Arc<dyn Handler>)> = vec![
        ("sts", Arc::new(hearth_sts::Sts)),
        ("transcribe", Arc::new(transcribe.clone())),
        ("sns", Arc::new(sns.clone())),
        ("monitoring", Arc::new(cloudwatch)),
        ("sagemaker", Arc::new(sagemaker.clone())),
        ("sagemaker", Arc::new(hearth_sagemaker_runtime::SageMakerRuntime::new(rt, s3, sagemaker.hosting(), Some(Arc::new(sns.clone()))))),
        ("lex", Arc::new(hearth_lex::LexModels::new(lex.clone()))),
        ("lex", Arc::new(hearth_lex_runtime::LexRuntime::new(lex))),
        ("frauddetector", Arc::new(hearth_frauddetector::FraudDetector::with_endpoints(rt, s3, Some(Arc::new(crate::fraud::SageMakerEndpoints(sagemaker.hosting())))))),
    ];
    Ok((services, sns.public_routes().merge(transcribe.public_routes())))
}

fn sns_settings(config: &hearth_config::Config) -> hearth_sns::Settings {
    hearth_sns::Settings {
        smtp_relay: config.sns.smtp_relay.clone(),
        smtp_from: config.sns.smtp_from.clone(),
        public_endpoint: config.sns_public_endpoint(),
    }
}

/// SageMaker's options: the environment's tuning plus `[sagemaker]` (local container images).
fn sagemaker_options(config: &hearth_config::Config) -> hearth_sagemaker::SageMakerOptions {
    let mut o = hearth_sagemaker::SageMakerOptions::from_env();
    let c = &mut o.hosting.containers;
    c.images = config
        .sagemaker
        .images
        .iter()
        .map(|i| hearth_sagemaker::hosting::process::ContainerImage { image: i.image.clone(), command: i.command.clone(), environment: i.environment.clone() })
        .collect();
    c.startup_timeout = std::time::Duration::from_secs(config.sagemaker.container_startup_timeout_seconds);
    c.memory_check = std::time::Duration::from_millis(config.sagemaker.memory_check_interval_ms);
    o
}
