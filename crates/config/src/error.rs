//! The one error type of configuration loading. Every variant names the file, variable or field
//! at fault, so a user can fix it from the message alone.

use std::path::PathBuf;

/// Why the configuration could not be loaded or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for this schema (syntax, an unknown field, a wrong type).
    #[error("invalid config file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// The parser's message; it quotes the offending line and names the field.
        message: String,
    },
    /// An environment variable has a value that the field cannot take.
    #[error("invalid value for environment variable {var}: {message}")]
    Env {
        /// The variable, e.g. `HEARTH_LISTEN`.
        var: String,
        /// What is wrong with it.
        message: String,
    },
    /// A field (after all layers were applied) has a value that is not allowed.
    #[error("invalid value for `{field}`: {message}")]
    Invalid {
        /// The field's path in the config tree, e.g. `accounts[0].id` or `jobs.workers`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
