//! Loading the layers: defaults, then the TOML file, then `HEARTH_*` environment variables.
//!
//! Environment variables are mapped by an explicit table ([`ENV_VARS`]) rather than by a
//! generic "path from name" rule, so that each variable is typed (a bad value is reported with
//! the variable's name) and documented. Unknown `HEARTH_*` variables are returned as warnings
//! (logged by [`Loaded::log_warnings`]) and never fail the start.

use crate::config::{parse_listen, Config};
use crate::error::ConfigError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Name of the config file looked up in the working directory when no path is given.
pub const DEFAULT_CONFIG_FILE: &str = "hearth.toml";

/// Variable naming the config file when no path is given on the command line.
pub const CONFIG_PATH_VAR: &str = "HEARTH_CONFIG";

/// Every environment variable Hearth's config reads, with the field it sets.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("HEARTH_CONFIG", "(path of the config file)"),
    ("HEARTH_LISTEN", "listen"),
    ("HEARTH_DATA_DIR", "data_dir"),
    ("HEARTH_REGION", "region"),
    ("HEARTH_DATABASE_URL", "database_url"),
    ("HEARTH_MODELS_DIR", "models_dir"),
    ("HEARTH_PYPI_URL", "pypi_url"),
    ("HEARTH_LOG", "log"),
    ("HEARTH_JOBS__WORKERS", "jobs.workers"),
    (
        "HEARTH_LEX__DISAMBIGUATION_MARGIN",
        "lex.disambiguation_margin",
    ),
    ("HEARTH_LEX__TYPICAL_SCORE", "lex.typical_score"),
    (
        "HEARTH_LEX__UTTERANCE_RETENTION_DAYS",
        "lex.utterance_retention_days",
    ),
    (
        "HEARTH_LEX__PURGE_INTERVAL_SECONDS",
        "lex.purge_interval_seconds",
    ),
    ("HEARTH_SAGEMAKER__IMAGES", "sagemaker.images"),
    (
        "HEARTH_SAGEMAKER__CONTAINER_STARTUP_TIMEOUT_SECONDS",
        "sagemaker.container_startup_timeout_seconds",
    ),
    (
        "HEARTH_SAGEMAKER__MEMORY_CHECK_INTERVAL_MS",
        "sagemaker.memory_check_interval_ms",
    ),
];

/// Prefix of variables that switch test behaviour (e.g. `HEARTH_TEST_NETWORK`); not config.
const TEST_VAR_PREFIX: &str = "HEARTH_TEST_";

/// The result of loading: the configuration, where it came from, and what was ignored.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged, validated configuration.
    pub config: Config,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    /// Things worth telling the user that did not stop the load (unknown `HEARTH_*` variables).
    pub warnings: Vec<String>,
}

impl Loaded {
    /// Log every warning with `tracing::warn!`. Call it once the subscriber is installed
    /// (the log filter itself comes from this config, so loading happens before).
    pub fn log_warnings(&self) {
        for warning in &self.warnings {
            tracing::warn!(message = %warning, "config");
        }
    }
}

/// Where the value of a top-level field came from, to say so in an error.
#[derive(Clone)]
enum Origin {
    File(PathBuf),
    Env(&'static str),
}

impl Config {
    /// Load from the process environment: [`Config::load`] with `std::env::vars_os()`.
    /// A `HEARTH_*` variable whose value is not UTF-8 is an error.
    pub fn load_from_process(path: Option<&Path>) -> Result<Loaded, ConfigError> {
        let mut vars = Vec::new();
        for (key, value) in std::env::vars_os() {
            let Some(key) = key.to_str() else { continue };
            if !key.starts_with("HEARTH_") {
                continue;
            }
            match value.into_string() {
                Ok(value) => vars.push((key.to_owned(), value)),
                Err(_) => {
                    return Err(ConfigError::Env {
                        var: key.to_owned(),
                        message: "the value is not valid UTF-8".into(),
                    })
                }
            }
        }
        Config::load(path, vars)
    }

    /// Load defaults < file < environment and validate the result.
    ///
    /// The file is `path` if given (it must exist), else the one named by `HEARTH_CONFIG`
    /// (it must exist), else `./hearth.toml` if that exists, else none. `env` holds the
    /// environment variables (only `HEARTH_*` ones are looked at).
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Loaded, ConfigError> {
        load_with_default_file(path, Path::new(DEFAULT_CONFIG_FILE), env)
    }
}

/// [`Config::load`] with the implicit file location as a parameter (tests use a temp dir).
pub(crate) fn load_with_default_file(
    path: Option<&Path>,
    default_file: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    let env: BTreeMap<String, String> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("HEARTH_"))
        .collect();

    let file = match (path, env.get(CONFIG_PATH_VAR)) {
        (Some(path), _) => Some(path.to_path_buf()),
        (None, Some(var)) if !var.is_empty() => Some(PathBuf::from(var)),
        _ if default_file.is_file() => Some(default_file.to_path_buf()),
        _ => None,
    };

    let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
    let mut config = match &file {
        Some(file) => {
            let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
                path: file.clone(),
                source,
            })?;
            let config: Config = toml::from_str(&text).map_err(|err| ConfigError::File {
                path: file.clone(),
                message: err.to_string().trim_end().to_owned(),
            })?;
            if let Ok(toml::Value::Table(table)) = text.parse::<toml::Value>() {
                for key in table.keys() {
                    origins.insert(key.clone(), Origin::File(file.clone()));
                }
            }
            config
        }
        None => Config::default(),
    };

    let mut warnings = Vec::new();
    for (var, value) in &env {
        match apply_env_var(&mut config, var, value)? {
            Some(field) => {
                let top = field.split('.').next().unwrap_or(field);
                let name = ENV_VARS
                    .iter()
                    .map(|(v, _)| *v)
                    .find(|v| v == var)
                    .unwrap_or("HEARTH_?");
                origins.insert(top.to_owned(), Origin::Env(name));
            }
            None if var == CONFIG_PATH_VAR || var.starts_with(TEST_VAR_PREFIX) => {}
            None => warnings.push(format!(
                "unknown environment variable {var} ignored (known: {})",
                ENV_VARS
                    .iter()
                    .map(|(v, _)| *v)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    config.validate().map_err(|err| match err {
        ConfigError::Invalid { field, message } => {
            let top = field
                .split(['.', '['])
                .next()
                .unwrap_or(field.as_str())
                .to_owned();
            let message = match origins.get(&top) {
                Some(Origin::Env(var)) => format!("{message} (set by environment variable {var})"),
                Some(Origin::File(path)) => format!("{message} (set in {})", path.display()),
                None => message,
            };
            ConfigError::Invalid { field, message }
        }
        other => other,
    })?;

    Ok(Loaded {
        config,
        file,
        warnings,
    })
}

/// Apply one `HEARTH_*` variable. Returns the field it set, or `None` if it is not a config
/// variable. Optional fields are reset to their default by an empty value.
fn apply_env_var(
    config: &mut Config,
    var: &str,
    value: &str,
) -> Result<Option<&'static str>, ConfigError> {
    let bad = |message: String| ConfigError::Env {
        var: var.to_owned(),
        message,
    };
    let required = |value: &str| {
        if value.trim().is_empty() {
            Err(ConfigError::Env {
                var: var.to_owned(),
                message: "must not be empty".into(),
            })
        } else {
            Ok(value.to_owned())
        }
    };
    let optional = |value: &str| (!value.trim().is_empty()).then(|| value.to_owned());
    let field = match var {
        "HEARTH_LISTEN" => {
            config.listen = parse_listen(value).map_err(bad)?;
            "listen"
        }
        "HEARTH_DATA_DIR" => {
            config.data_dir = PathBuf::from(required(value)?);
            "data_dir"
        }
        "HEARTH_REGION" => {
            config.region = required(value)?;
            "region"
        }
        "HEARTH_DATABASE_URL" => {
            config.database_url = optional(value);
            "database_url"
        }
        "HEARTH_MODELS_DIR" => {
            config.models_dir = optional(value).map(PathBuf::from);
            "models_dir"
        }
        "HEARTH_PYPI_URL" => {
            config.pypi_url = optional(value);
            "pypi_url"
        }
        "HEARTH_LOG" => {
            config.log = required(value)?;
            "log"
        }
        "HEARTH_JOBS__WORKERS" => {
            config.jobs.workers = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("{value:?} is not a whole number")))?;
            "jobs.workers"
        }
        "HEARTH_LEX__DISAMBIGUATION_MARGIN" => {
            config.lex.disambiguation_margin = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("{value:?} is not a number")))?;
            "lex.disambiguation_margin"
        }
        "HEARTH_LEX__TYPICAL_SCORE" => {
            config.lex.typical_score = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("{value:?} is not a number")))?;
            "lex.typical_score"
        }
        "HEARTH_LEX__UTTERANCE_RETENTION_DAYS" => {
            config.lex.utterance_retention_days = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("{value:?} is not a whole number")))?;
            "lex.utterance_retention_days"
        }
        "HEARTH_LEX__PURGE_INTERVAL_SECONDS" => {
            config.lex.purge_interval_seconds = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("{value:?} is not a whole number")))?;
            "lex.purge_interval_seconds"
        }
        "HEARTH_SAGEMAKER__IMAGES" => {
            config.sagemaker.images =
                crate::config::SageMakerConfig::parse_images(value).map_err(bad)?;
            "sagemaker.images"
        }
        "HEARTH_SAGEMAKER__CONTAINER_STARTUP_TIMEOUT_SECONDS" => {
            config.sagemaker.container_startup_timeout_seconds = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("{value:?} is not a whole number")))?;
            "sagemaker.container_startup_timeout_seconds"
        }
        "HEARTH_SAGEMAKER__MEMORY_CHECK_INTERVAL_MS" => {
            config.sagemaker.memory_check_interval_ms = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("{value:?} is not a whole number")))?;
            "sagemaker.memory_check_interval_ms"
        }
        _ => return Ok(None),
    };
    Ok(Some(field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn no_default() -> PathBuf {
        PathBuf::from("/nonexistent/hearth.toml")
    }

    #[test]
    fn nothing_given_means_defaults() {
        let loaded = load_with_default_file(None, &no_default(), env(&[])).unwrap();
        assert_eq!(loaded.config, Config::default());
        assert!(loaded.file.is_none());
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn precedence_default_file_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hearth.toml");
        fs::write(
            &file,
            r#"
listen = "0.0.0.0:5000"
region = "eu-west-1"
log = "debug"

[jobs]
workers = 4
"#,
        )
        .unwrap();
        // File over defaults.
        let loaded = load_with_default_file(Some(&file), &no_default(), env(&[])).unwrap();
        let c = &loaded.config;
        assert_eq!(c.listen.to_string(), "0.0.0.0:5000");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.log, "debug");
        assert_eq!(c.jobs.workers, 4);
        assert_eq!(c.data_dir, PathBuf::from("./hearth-data")); // default kept
        assert_eq!(loaded.file.as_deref(), Some(file.as_path()));

        // Env over file.
        let loaded = load_with_default_file(
            Some(&file),
            &no_default(),
            env(&[
                ("HEARTH_REGION", "ap-south-1"),
                ("HEARTH_DATA_DIR", "/var/lib/hearth"),
                ("HEARTH_JOBS__WORKERS", "8"),
                ("HEARTH_DATABASE_URL", "postgres://u:p@db/h"),
                ("HEARTH_MODELS_DIR", "/models"),
                ("PATH", "/usr/bin"),
            ]),
        )
        .unwrap();
        let c = &loaded.config;
        assert_eq!(c.region, "ap-south-1");
        assert_eq!(c.listen.to_string(), "0.0.0.0:5000"); // file kept
        assert_eq!(c.log, "debug");
        assert_eq!(c.jobs.workers, 8);
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/hearth"));
        assert_eq!(c.database_url(), "postgres://u:p@db/h");
        assert_eq!(c.models_dir(), PathBuf::from("/models"));
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn sagemaker_section_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hearth.toml");
        fs::write(
            &file,
            "[sagemaker]\ncontainer_startup_timeout_seconds = 30\n\n[[sagemaker.images]]\nimage = \"my:1\"\ncommand = [\"python3\", \"serve.py\"]\n[sagemaker.images.environment]\nA = \"b\"\n",
        )
        .unwrap();
        let loaded = load_with_default_file(Some(&file), &no_default(), env(&[])).unwrap();
        let sm = &loaded.config.sagemaker;
        assert_eq!(sm.container_startup_timeout_seconds, 30);
        assert_eq!(sm.images[0].command, vec!["python3", "serve.py"]);
        assert_eq!(sm.images[0].environment["A"], "b");
        let loaded = load_with_default_file(
            Some(&file),
            &no_default(),
            env(&[
                ("HEARTH_SAGEMAKER__IMAGES", "a:1=python3 a.py; b:2=./b"),
                ("HEARTH_SAGEMAKER__MEMORY_CHECK_INTERVAL_MS", "200"),
            ]),
        )
        .unwrap();
        let sm = &loaded.config.sagemaker;
        assert_eq!(sm.images.len(), 2);
        assert_eq!(sm.images[1].image, "b:2");
        assert_eq!(sm.images[0].command, vec!["python3", "a.py"]);
        assert_eq!(sm.memory_check_interval_ms, 200);
        assert!(loaded.warnings.is_empty());
        let err = load_with_default_file(
            None,
            &no_default(),
            env(&[("HEARTH_SAGEMAKER__IMAGES", "a:1=")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("sagemaker.images[0].command"), "{err}");
    }

    #[test]
    fn lex_section_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hearth.toml");
        fs::write(&file, "[lex]\nutterance_retention_days = 7\n").unwrap();
        let loaded = load_with_default_file(
            Some(&file),
            &no_default(),
            env(&[
                ("HEARTH_LEX__DISAMBIGUATION_MARGIN", "0.1"),
                ("HEARTH_LEX__PURGE_INTERVAL_SECONDS", "60"),
            ]),
        )
        .unwrap();
        let lex = &loaded.config.lex;
        assert_eq!(lex.utterance_retention_days, 7);
        assert_eq!(lex.disambiguation_margin, 0.1);
        assert_eq!(lex.purge_interval_seconds, 60);
        assert_eq!(lex.typical_score, 0.8);
        let msg = load_with_default_file(
            None,
            &no_default(),
            env(&[("HEARTH_LEX__TYPICAL_SCORE", "2")]),
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("lex.typical_score"), "{msg}");
    }

    #[test]
    fn default_file_and_config_var() {
        let dir = tempfile::tempdir().unwrap();
        let default_file = dir.path().join("hearth.toml");
        fs::write(&default_file, "region = \"eu-north-1\"\n").unwrap();
        let other = dir.path().join("other.toml");
        fs::write(&other, "region = \"sa-east-1\"\n").unwrap();

        let loaded = load_with_default_file(None, &default_file, env(&[])).unwrap();
        assert_eq!(loaded.config.region, "eu-north-1");

        let var = other.to_str().unwrap();
        let loaded =
            load_with_default_file(None, &default_file, env(&[("HEARTH_CONFIG", var)])).unwrap();
        assert_eq!(loaded.config.region, "sa-east-1");

        // An explicit path must exist.
        let missing = dir.path().join("missing.toml");
        let err = load_with_default_file(Some(&missing), &default_file, env(&[])).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }

    #[test]
    fn unknown_field_is_rejected_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hearth.toml");
        fs::write(&file, "listen = \"127.0.0.1:1\"\nregoin = \"us-east-1\"\n").unwrap();
        let err = load_with_default_file(Some(&file), &no_default(), env(&[])).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ConfigError::File { .. }), "{msg}");
        assert!(msg.contains("unknown field `regoin`"), "{msg}");

        fs::write(&file, "[jobs]\nworkers = 2\nthreads = 3\n").unwrap();
        let msg = load_with_default_file(Some(&file), &no_default(), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown field `threads`"), "{msg}");

        fs::write(
            &file,
            "[[accounts]]\nid = \"111122223333\"\nname = \"a\"\nkeys = []\nowner = \"x\"\n",
        )
        .unwrap();
        let msg = load_with_default_file(Some(&file), &no_default(), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown field `owner`"), "{msg}");
    }

    #[test]
    fn wrong_types_and_values_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hearth.toml");
        fs::write(&file, "listen = \"not an address\"\n").unwrap();
        let msg = load_with_default_file(Some(&file), &no_default(), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("listen"), "{msg}");

        fs::write(&file, "[jobs]\nworkers = \"two\"\n").unwrap();
        let msg = load_with_default_file(Some(&file), &no_default(), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("workers"), "{msg}");

        fs::write(&file, "[jobs]\nworkers = 0\n").unwrap();
        let msg = load_with_default_file(Some(&file), &no_default(), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("`jobs.workers`") && msg.contains("set in"),
            "{msg}"
        );

        let msg = load_with_default_file(None, &no_default(), env(&[("HEARTH_LISTEN", "4566")]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("HEARTH_LISTEN"), "{msg}");

        let msg = load_with_default_file(
            None,
            &no_default(),
            env(&[("HEARTH_JOBS__WORKERS", "many")]),
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("HEARTH_JOBS__WORKERS"), "{msg}");

        let msg = load_with_default_file(None, &no_default(), env(&[("HEARTH_REGION", "us east")]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("`region`") && msg.contains("HEARTH_REGION"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_env_vars_warn_but_load() {
        let loaded = load_with_default_file(
            None,
            &no_default(),
            env(&[
                ("HEARTH_LISTNE", "1.2.3.4:5"),
                ("HEARTH_TEST_NETWORK", "1"),
                ("HEARTH_LOG", "warn"),
            ]),
        )
        .unwrap();
        assert_eq!(loaded.config.log, "warn");
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("HEARTH_LISTNE"));
        loaded.log_warnings();
    }

    #[test]
    fn empty_env_resets_optional_fields() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hearth.toml");
        fs::write(&file, "models_dir = \"/m\"\n").unwrap();
        let loaded = load_with_default_file(
            Some(&file),
            &no_default(),
            env(&[("HEARTH_MODELS_DIR", "")]),
        )
        .unwrap();
        assert_eq!(loaded.config.models_dir, None);
        let err = load_with_default_file(None, &no_default(), env(&[("HEARTH_DATA_DIR", "")]))
            .unwrap_err();
        assert!(err.to_string().contains("HEARTH_DATA_DIR"));
    }

    #[test]
    fn accounts_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hearth.toml");
        fs::write(
            &file,
            r#"
[[accounts]]
id = "111122223333"
name = "analytics"

[[accounts.keys]]
access_key_id = "AKIAANALYTICS0000001"
secret_access_key = "analytics-secret-1"

[[accounts.keys]]
access_key_id = "AKIAANALYTICS0000002"
secret_access_key = "analytics-secret-2"

[[accounts]]
id = "444455556666"
name = "fraud"
keys = [{ access_key_id = "AKIAFRAUD00000000001", secret_access_key = "fraud-secret" }]
"#,
        )
        .unwrap();
        let loaded = load_with_default_file(Some(&file), &no_default(), env(&[])).unwrap();
        let keys = loaded.config.account_keys();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[1].account_id, "111122223333");
        assert_eq!(keys[1].access_key_id, "AKIAANALYTICS0000002");
        assert_eq!(keys[2].account_id, "444455556666");
        let shown = format!("{loaded:?}");
        assert!(!shown.contains("analytics-secret"), "{shown}");
        assert!(!shown.contains("fraud-secret"), "{shown}");

        // A duplicated access key across accounts is refused.
        let text = fs::read_to_string(&file)
            .unwrap()
            .replace("AKIAFRAUD00000000001", "AKIAANALYTICS0000001");
        fs::write(&file, text).unwrap();
        let msg = load_with_default_file(Some(&file), &no_default(), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("accounts[1].keys[0].access_key_id"), "{msg}");
    }

    #[test]
    fn readme_documents_every_env_var_and_field() {
        let readme = include_str!("../README.md");
        for (var, field) in ENV_VARS {
            assert!(readme.contains(var), "README.md lacks {var}");
            if !field.starts_with('(') {
                assert!(
                    readme.contains(&format!("`{field}`")),
                    "README.md lacks `{field}`"
                );
            }
        }
        for field in [
            "accounts",
            "id",
            "name",
            "keys",
            "access_key_id",
            "secret_access_key",
            "workers",
        ] {
            assert!(
                readme.contains(&format!("`{field}`")),
                "README.md lacks `{field}`"
            );
        }
    }
}
