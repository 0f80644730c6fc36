//! `hearth deployments list|describe|abort|promote ENDPOINT`: SageMaker deployment guardrails
//! for operators (what Argo Rollouts and Flagger users expect).
//!
//! The command opens the server's metadata store (the same SQLite file, in WAL mode, or the
//! same PostgreSQL database), so it works against a running `hearth serve`: `abort` and
//! `promote` write a request record that the deployment job polls with its alarms (every
//! 100 ms), and the job rolls back at once or skips the remaining baking. `list` and
//! `describe` read the endpoint's deployment history: who asked, when, the planned steps, the
//! timeline and why it ended.

use clap::Subcommand;
use hearth_config::Config;
use hearth_runtime::{MetaStore, Scope};
use hearth_sagemaker::store::DeploymentRecord;

/// The `deployments` subcommands.
#[derive(Subcommand)]
pub enum DeploymentsCommand {
    /// The endpoint's deployments, oldest first (all endpoints when none is named).
    List { endpoint: Option<String> },
    /// One deployment in full (the latest unless `--number` is given).
    Describe {
        endpoint: String,
        #[arg(long)]
        number: Option<u32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Roll the running deployment back now, without waiting for alarms.
    Abort { endpoint: String },
    /// Skip the running deployment's remaining baking (and the old fleet's termination wait).
    Promote { endpoint: String },
}

/// Which account and region to act in (default: the server's default account and region).
#[derive(clap::Args)]
pub struct Target {
    /// Account id (default: the default account of the data directory).
    #[arg(long, global = true)]
    pub account: Option<String>,
    /// Region (default: the configured region).
    #[arg(long, global = true)]
    pub region: Option<String>,
}

fn time(t: hearth_protocol::types::Timestamp) -> String {
    let f = time::format_description::well_known::Rfc3339;
    t.0.format(&f).unwrap_or_default()
}

fn line(d: &DeploymentRecord) -> String {
    format!(
        "{:<24} #{:<3} {:<15} {:<22} -> {:<22} green {:>5.1}%  {}  by {}",
        d.endpoint,
        d.number,
        d.phase.as_str(),
        d.from_config,
        d.to_config,
        d.green_share * 100.0,
        time(d.started),
        d.requested_by
    )
}

fn describe(d: &DeploymentRecord) -> String {
    let mut out = String::new();
    out.push_str(&format!("endpoint      {}\ndeployment    #{}\nphase         {}\n", d.endpoint, d.number, d.phase.as_str()));
    out.push_str(&format!("requested by  {}\nstarted       {}\n", d.requested_by, time(d.started)));
    if let Some(e) = d.ended {
        out.push_str(&format!("ended         {}\n", time(e)));
    }
    out.push_str(&format!("from          {}\nto            {}\n", d.from_config, d.to_config));
    out.push_str(&format!(
        "policy        {:?}, bake {} s, termination wait {} s, timeout {}\n",
        d.policy.routing,
        d.policy.wait_seconds,
        d.policy.termination_wait_seconds,
        d.policy.max_execution_seconds.map(|s| format!("{s} s")).unwrap_or_else(|| "none".into())
    ));
    out.push_str(&format!("alarms        {}\n", if d.policy.alarms.is_empty() { "none".to_string() } else { d.policy.alarms.join(", ") }));
    for (a, s) in &d.alarm_states {
        out.push_str(&format!("  {a:<30} {s}\n"));
    }
    out.push_str("steps\n");
    for (i, s) in d.steps.iter().enumerate() {
        let mark = if i == d.step && !d.phase.is_final() { "->" } else { "  " };
        out.push_str(&format!("  {mark} {}. {} instance(s), {:.1}% on green\n", i + 1, s.green_instances, s.green_share * 100.0));
    }
    out.push_str(&format!("green share   {:.1}%\n", d.green_share * 100.0));
    if let Some(r) = &d.reason {
        out.push_str(&format!("reason        {r}\n"));
    }
    out.push_str("timeline\n");
    for e in &d.events {
        out.push_str(&format!("  {}  {:>5.1}%  {}\n", time(e.time), e.green_share * 100.0, e.message));
    }
    out
}

/// Run a `deployments` subcommand against the configured metadata store.
pub fn run(config: &Config, target: Target, command: DeploymentsCommand) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let meta = MetaStore::open(&config.database_url()).await?;
        let account = match target.account {
            Some(a) => a,
            None => hearth_config::load_or_create_default_credentials(&config.data_dir)?.0.account_id,
        };
        let scope = Scope::new(account, target.region.unwrap_or_else(|| config.region.clone()));
        let who = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into()));
        let now = time::OffsetDateTime::now_utc();
        match command {
            DeploymentsCommand::List { endpoint } => {
                let all = match endpoint {
                    Some(e) => hearth_sagemaker::deployments::history(&meta, &scope, &e).await?,
                    None => hearth_sagemaker::deployments::all(&meta, &scope).await?,
                };
                if all.is_empty() {
                    println!("no deployments");
                }
                for d in &all {
                    println!("{}", line(d));
                }
            }
            DeploymentsCommand::Describe { endpoint, number, json } => {
                let h = hearth_sagemaker::deployments::history(&meta, &scope, &endpoint).await?;
                let d = match number {
                    Some(n) => h.into_iter().find(|d| d.number == n),
                    None => h.into_iter().last(),
                };
                let Some(d) = d else { anyhow::bail!("endpoint {endpoint} has no such deployment") };
                if json {
                    println!("{}", serde_json::to_string_pretty(&d)?);
                } else {
                    print!("{}", describe(&d));
                }
            }
            DeploymentsCommand::Abort { endpoint } => {
                let d = hearth_sagemaker::deployments::request(&meta, &scope, &endpoint, "abort", &who, now).await?;
                println!("abort requested for {} deployment #{} ({}); it rolls back within a poll interval", d.endpoint, d.number, d.phase.as_str());
            }
            DeploymentsCommand::Promote { endpoint } => {
                let d = hearth_sagemaker::deployments::request(&meta, &scope, &endpoint, "promote", &who, now).await?;
                println!("promote requested for {} deployment #{} ({}); remaining baking is skipped", d.endpoint, d.number, d.phase.as_str());
            }
        }
        Ok(())
    })
}
