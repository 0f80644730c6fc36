//! Hearth's configuration: one typed tree, loaded in layers.
//!
//! Precedence, lowest to highest: built-in defaults < the TOML file (`hearth.toml`) < `HEARTH_*`
//! environment variables < command-line overrides (applied by the server with [`Config::apply`]
//! or by writing the public fields, then [`Config::validate`]).
//!
//! ```no_run
//! let loaded = hearth_config::Config::load_from_process(None)?;
//! loaded.log_warnings(); // after the tracing subscriber is installed
//! let config = loaded.config;
//! let (key, created) = hearth_config::load_or_create_default_credentials(&config.data_dir)?;
//! if created {
//!     print!("{}", hearth_config::export_lines(&key, &config.endpoint_url(), &config.region));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every field is listed with its environment variable in this crate's README.md.
//! Secrets (secret access keys, the password in `database_url`) never show in `Debug` output.

mod config;
mod credentials;
mod error;
mod load;
mod secret;

pub use config::{
    AccountConfig, Config, JobsConfig, KeyConfig, LexConfig, Overrides, SageMakerConfig,
    SageMakerImageConfig, DEFAULT_DATA_DIR,
    DEFAULT_JOB_WORKERS, DEFAULT_LISTEN, DEFAULT_LOG, DEFAULT_REGION, MAX_JOB_WORKERS,
};
pub use credentials::{
    export_lines, generate_access_key_id, generate_secret_access_key,
    load_or_create_default_credentials, AccountKey, CREDENTIALS_FILE, DEFAULT_ACCOUNT_ID,
};
pub use error::ConfigError;
pub use load::{Loaded, CONFIG_PATH_VAR, DEFAULT_CONFIG_FILE, ENV_VARS};
pub use secret::Secret;
