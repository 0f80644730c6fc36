//! `hearth serve`: open the stores, start the job workers, bind, and serve until SIGTERM/SIGINT.

use crate::gateway::Gateway;
use crate::keys::Keys;
use axum::routing::get;
use hearth_config::Config;
use hearth_protocol::dispatch::Handler;
use hearth_runtime::blob::BlobStore;
use hearth_runtime::jobs::JobQueue;
use hearth_runtime::metrics::Metrics;
use hearth_runtime::{Clock, MetaStore, Runtime, SystemClock};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let (default_key, created) = hearth_config::load_or_create_default_credentials(&config.data_dir)?;
    if created {
        tracing::info!(account = %default_key.account_id, "created the default account's access key");
    }
    // Scripts read these lines from stdout on every start.
    print!("{}", hearth_config::export_lines(&default_key, &config.endpoint_url(), &config.region));
    use std::io::Write;
    std::io::stdout().flush()?;

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let meta = MetaStore::open(&config.database_url()).await?;
    let blobs = BlobStore::open(config.data_dir.join("blobs")).await?;
    let metrics = Metrics::open(&meta, clock.clone()).await?;
    let jobs = JobQueue::open(&meta, clock.clone()).await?;

    let mut keys = vec![default_key];
    keys.extend(config.account_keys());
    let rt = Runtime {
        meta: meta.clone(),
        blobs: blobs.clone(),
        jobs: jobs.clone(),
        metrics: metrics.clone(),
        clock: clock.clone(),
        data_dir: config.data_dir.clone(),
        models_dir: config.models_dir(),
    };
    let s3 = hearth_s3::S3::new(meta.clone(), blobs, clock.clone());
    let mut services: HashMap<&'static str, Vec<Arc<dyn Handler>>> = HashMap::new();
    let (built, public_routes) = crate::services::build(&config, &rt, &s3).await?;
    for (signing_name, handler) in built {
        services.entry(signing_name).or_default().push(handler);
    }

    // Workers start once every service has registered its job kinds.
    let workers = jobs.run_workers(config.jobs.workers as usize);

    // The web console under /console (sign-in with the same keys the gateway accepts).
    let console = hearth_console::Console::new(hearth_console::ConsoleDeps {
        meta: meta.clone(),
        keys: Arc::new(Keys::new(keys.clone())),
        clock: clock.clone(),
        cloudwatch: hearth_cloudwatch::CloudWatch::new(&rt, None),
        default_region: config.region.clone(),
        lex: services.get("lex").and_then(|hs| hs.iter().find(|h| h.model().name == "lexv2-models").cloned()),
    });
    let gateway = Arc::new(Gateway {
        keys: Keys::new(keys),
        s3,
        services,
        metrics: metrics.clone(),
        clock: clock.clone(),
    });
    let app = axum::Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(crate::gateway::prometheus))
        .fallback(crate::gateway::handle)
        .with_state(gateway)
        .merge(public_routes);
    let app = console.in_front_of(app);

    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, database = meta.backend(), data_dir = %config.data_dir.display(), "listening");
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;

    tracing::info!("shutting down");
    if !workers.shutdown_timeout(Duration::from_secs(10)).await {
        tracing::warn!("job workers did not stop in time; their leases will expire and another node resumes them");
    }
    if let Err(e) = metrics.flush().await {
        tracing::warn!(error = %e, "could not flush metrics");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
