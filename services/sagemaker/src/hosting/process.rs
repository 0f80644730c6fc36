//! SageMaker's container contract without Docker: a model whose `Image` names a registered
//! local command (`[[sagemaker.images]]` in the config) runs as that command, one process per
//! worker (an instance variant's `InitialInstanceCount`; one for serverless).
//!
//! Each worker is started as SageMaker starts a container, `<command…> serve`, in its own
//! process group and working directory, with the model's `model.tar.gz` extracted into a model
//! directory (SageMaker's `/opt/ml/model`) and this environment: `SM_MODEL_DIR` (the model
//! directory), `SAGEMAKER_BIND_TO_PORT` (the port to listen on, on 127.0.0.1),
//! `SAGEMAKER_SAFE_PORT_RANGE` (`lo-hi`, ports free when the worker started, for the
//! container's own use), `AWS_REGION`, the image's configured environment, then the model's
//! `Environment` (which wins). A few host variables (`PATH`, `HOME`, `LANG`, …) pass through so
//! interpreters start; nothing else of Hearth's environment does.
//!
//! The worker is healthy once `GET /ping` answers 200; a worker that does not within the
//! startup timeout (or exits first) fails the deployment with SageMaker's health-check
//! `FailureReason`. Invocations are proxied to `POST /invocations` of the healthy worker with
//! the fewest requests in flight, with `Content-Type`, `Accept` and
//! `X-Amzn-SageMaker-Custom-Attributes`; a non-2xx answer is the container's error (the
//! caller sees `ModelError` with its status and body). A worker that exits is restarted.
//!
//! Memory: every check interval the resident set of each worker's process tree is read from
//! `/proc`; a worker over the variant's memory size (serverless `MemorySizeInMB`, else the
//! instance type's memory) is killed, its invocations fail with a message saying so, and it is
//! restarted. Processes are stopped when the model is unloaded (scale to zero, endpoint
//! deleted, server shut down: the runtime's drop kills each process group), and the kernel
//! kills a worker whose parent (Hearth) dies (`PR_SET_PDEATHSIG`), so none are orphaned.
//!
//! Waits here are on real processes, so they use real time, not the injected clock.

use super::memory;
use super::xgboost::{download_failure, ping_failure};
use crate::domain::artifact::MAX_MODEL_BYTES;
use crate::domain::container::ContainerError;
use crate::domain::fleet::{Capacity, ContainerReply, ContainerRequest, ModelLoader, ModelRuntime, ModelSource, VariantSpec};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Notify;

/// A registered local container: the image URI models name, and the command that runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerImage {
    /// The `Image` of `CreateModel` this command serves (matched exactly).
    pub image: String,
    /// Program and arguments; `serve` is appended, as SageMaker runs containers.
    pub command: Vec<String>,
    /// Extra environment for the container (the model's `Environment` wins).
    pub environment: BTreeMap<String, String>,
}

/// Tuning of local containers.
#[derive(Debug, Clone)]
pub struct ProcessOptions {
    /// Registered images.
    pub images: Vec<ContainerImage>,
    /// How long a worker has to answer `GET /ping` with 200 after it starts.
    pub startup_timeout: Duration,
    /// How often worker memory is measured (and enforced).
    pub memory_check: Duration,
    /// How long an invocation may take (SageMaker: 60 s).
    pub invocation_timeout: Duration,
    /// Where worker directories are made.
    pub work_dir: PathBuf,
}

impl Default for ProcessOptions {
    fn default() -> Self {
        ProcessOptions {
            images: Vec::new(),
            startup_timeout: Duration::from_secs(300),
            memory_check: Duration::from_secs(1),
            invocation_timeout: Duration::from_secs(60),
            work_dir: std::env::temp_dir().join("hearth-sagemaker-containers"),
        }
    }
}

/// Host variables passed to containers so interpreters start.
const INHERITED_ENV: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "LD_LIBRARY_PATH", "SYSTEMROOT"];
/// Ports in `SAGEMAKER_SAFE_PORT_RANGE`.
const SAFE_PORTS: u16 = 16;
/// Container output lines kept per worker for failure reasons.
const TAIL_LINES: usize = 20;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build_http()
}

/// Loads models whose image is a registered local command.
pub struct ProcessLoader {
    pub account: String,
    pub region: String,
    pub endpoint: String,
    pub s3: hearth_s3::S3,
    pub opts: Arc<ProcessOptions>,
}

impl ProcessLoader {
    /// The registered container for `image`, if any.
    pub fn image<'a>(opts: &'a ProcessOptions, image: &str) -> Option<&'a ContainerImage> {
        opts.images.iter().find(|c| c.image == image)
    }
}

#[async_trait::async_trait]
impl ModelLoader for ProcessLoader {
    async fn load(&self, source: &ModelSource, variant: &VariantSpec) -> Result<Arc<dyn ModelRuntime>, String> {
        let image = ProcessLoader::image(&self.opts, &source.image).cloned().ok_or_else(|| ping_failure(&variant.name, &format!("no local command is registered for the image {}", source.image)))?;
        if image.command.is_empty() {
            return Err(ping_failure(&variant.name, &format!("the command registered for the image {} is empty", source.image)));
        }
        let dir = self.opts.work_dir.join(format!("{}-{}-{}", sanitize(&self.endpoint), sanitize(&variant.name), uuid::Uuid::new_v4().simple()));
        let model_dir = dir.join("model");
        std::fs::create_dir_all(&model_dir).map_err(|e| ping_failure(&variant.name, &format!("cannot create the model directory: {e}")))?;
        let cleanup = DirGuard(Some(dir.clone()));
        if let Some(url) = &source.model_data_url {
            let (bucket, key) = hearth_s3::internal::parse_s3_uri(url).filter(|(_, k)| !k.is_empty()).ok_or_else(|| download_failure(url))?;
            let archive = self.s3.read_object(&self.account, &bucket, &key).await.map_err(|e| {
                tracing::warn!(url, code = %e.code, "model download failed");
                download_failure(url)
            })?;
            let target = model_dir.clone();
            tokio::task::spawn_blocking(move || extract(&archive, &target))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| ping_failure(&variant.name, &format!("Unable to extract the model artifact {url}: {e}")))?;
        }
        let workers = match variant.capacity {
            Capacity::Instances { count, .. } => count.max(1),
            Capacity::Serverless { .. } => 1,
        };
        let limit = memory::limit_bytes(&variant.capacity);
        let mut env: BTreeMap<String, String> = image.environment.clone();
        env.insert("SM_MODEL_DIR".into(), model_dir.display().to_string());
        env.insert("AWS_REGION".into(), self.region.clone());
        env.insert("AWS_DEFAULT_REGION".into(), self.region.clone());
        env.extend(source.environment.clone());
        let spec = Arc::new(WorkerSpec { command: image.command.clone(), env, dir: dir.clone(), endpoint: self.endpoint.clone(), variant: variant.name.clone(), startup_timeout: self.opts.startup_timeout });
        let client = client();
        let mut list = Vec::new();
        let mut firsts = Vec::new();
        for i in 0..workers {
            let w = Arc::new(Worker::new(i as usize));
            let (tx, rx) = tokio::sync::oneshot::channel();
            tokio::spawn(supervise(w.clone(), spec.clone(), client.clone(), tx));
            firsts.push(rx);
            list.push(w);
        }
        let runtime = Arc::new(ProcessRuntime { workers: list, next: Default::default(), client, limit, invocation_timeout: self.opts.invocation_timeout, _dir: cleanup, monitor: Mutex::new(None) });
        for rx in firsts {
            match rx.await {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => return Err(ping_failure(&variant.name, &reason)),
                Err(_) => return Err(ping_failure(&variant.name, "the container supervisor stopped")),
            }
        }
        runtime.start_monitor(self.opts.memory_check);
        tracing::info!(endpoint = %self.endpoint, variant = %variant.name, workers, image = %source.image, "local containers healthy");
        Ok(runtime)
    }
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

/// Removes a directory when dropped.
struct DirGuard(Option<PathBuf>);

impl Drop for DirGuard {
    fn drop(&mut self) {
        if let Some(d) = self.0.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Unpack a `model.tar.gz` (or plain tar) into `dir`; paths outside `dir` are refused by the
/// `tar` crate, and the unpacked size is capped.
pub fn extract(archive: &[u8], dir: &Path) -> Result<(), String> {
    let reader: Box<dyn Read> = if archive.starts_with(&[0x1f, 0x8b]) { Box::new(flate2::read::GzDecoder::new(archive)) } else { Box::new(archive) };
    let mut ar = tar::Archive::new(reader.take(MAX_MODEL_BYTES));
    ar.set_preserve_permissions(false);
    ar.unpack(dir).map_err(|e| format!("the model artifact is not a valid tar archive: {e}"))
}

struct WorkerSpec {
    command: Vec<String>,
    env: BTreeMap<String, String>,
    dir: PathBuf,
    endpoint: String,
    variant: String,
    startup_timeout: Duration,
}

#[derive(Debug, Clone)]
enum WorkerState {
    Starting,
    Ready { port: u16, pid: u32 },
    Stopped,
}

/// One worker process and its supervision state.
struct Worker {
    index: usize,
    state: Mutex<WorkerState>,
    changed: Notify,
    stop: Notify,
    stopping: AtomicBool,
    inflight: AtomicU32,
    rss: AtomicU64,
    /// Why the worker was last killed by Hearth (memory), for the invocations it failed.
    killed: Mutex<Option<String>>,
    tail: Mutex<VecDeque<String>>,
}

impl Worker {
    fn new(index: usize) -> Worker {
        Worker {
            index,
            state: Mutex::new(WorkerState::Starting),
            changed: Notify::new(),
            stop: Notify::new(),
            stopping: AtomicBool::new(false),
            inflight: AtomicU32::new(0),
            rss: AtomicU64::new(0),
            killed: Mutex::new(None),
            tail: Mutex::new(VecDeque::new()),
        }
    }

    fn set(&self, s: WorkerState) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = s;
        self.changed.notify_waiters();
    }

    fn ready(&self) -> Option<(u16, u32)> {
        match *self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            WorkerState::Ready { port, pid } => Some((port, pid)),
            _ => None,
        }
    }

    fn tail(&self) -> String {
        self.tail.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect::<Vec<_>>().join(" | ")
    }

    /// Kill the worker's process group now.
    fn kill(&self) {
        if let Some((_, pid)) = self.ready() {
            kill_group(pid);
        }
    }
}

fn kill_group(pid: u32) {
    if pid > 1 {
        // SAFETY: killpg has no memory effects; the group id is the worker's own process group.
        unsafe {
            libc::killpg(pid as libc::pid_t, libc::SIGKILL);
        }
    }
}

/// A port free now on 127.0.0.1.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// `SAFE_PORTS` consecutive ports free now, as `lo-hi`.
fn safe_port_range(avoid: u16) -> String {
    for _ in 0..50 {
        let lo: u16 = rand::random::<u16>() % 30_000 + 20_000;
        let hi = lo + SAFE_PORTS - 1;
        if (lo..=hi).contains(&avoid) {
            continue;
        }
        if (lo..=hi).all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return format!("{lo}-{hi}");
        }
    }
    format!("{}-{}", avoid, avoid)
}

/// Start one process of the worker.
fn spawn(spec: &WorkerSpec, w: &Worker, port: u16) -> std::io::Result<tokio::process::Child> {
    let wdir = spec.dir.join(format!("worker-{}", w.index));
    std::fs::create_dir_all(&wdir)?;
    let mut cmd = tokio::process::Command::new(&spec.command[0]);
    cmd.args(&spec.command[1..]).arg("serve").current_dir(&wdir).env_clear();
    for k in INHERITED_ENV {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd.envs(&spec.env).env("SAGEMAKER_BIND_TO_PORT", port.to_string()).env("SAGEMAKER_SAFE_PORT_RANGE", safe_port_range(port));
    cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).kill_on_drop(true).process_group(0);
    // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGKILL the child when
    // the thread that forked it (a runtime worker, alive as long as Hearth) exits.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            Ok(())
        });
    }
    cmd.spawn()
}

fn forward_output<R: tokio::io::AsyncRead + Unpin + Send + 'static>(r: R, w: Arc<Worker>, spec: Arc<WorkerSpec>, stream: &'static str) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(r).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::info!(target: "hearth_sagemaker::container", endpoint = %spec.endpoint, variant = %spec.variant, worker = w.index, stream, "{line}");
            let mut t = w.tail.lock().unwrap_or_else(|p| p.into_inner());
            if t.len() == TAIL_LINES {
                t.pop_front();
            }
            t.push_back(line);
        }
    });
}

async fn ping(client: &HttpClient, port: u16) -> bool {
    let Ok(uri) = format!("http://127.0.0.1:{port}/ping").parse::<http::Uri>() else { return false };
    let Ok(req) = http::Request::get(uri).body(Full::new(Bytes::new())) else { return false };
    match tokio::time::timeout(Duration::from_secs(2), client.request(req)).await {
        Ok(Ok(resp)) => {
            let ok = resp.status() == http::StatusCode::OK;
            let _ = resp.into_body().collect().await;
            ok
        }
        _ => false,
    }
}

/// Run a worker: start it, wait for its health check, restart it when it exits, until stopped.
/// The first start's outcome goes to `first`.
async fn supervise(w: Arc<Worker>, spec: Arc<WorkerSpec>, client: HttpClient, first: tokio::sync::oneshot::Sender<Result<(), String>>) {
    let mut first = Some(first);
    let mut backoff = Duration::from_millis(500);
    while !w.stopping.load(Ordering::Acquire) {
        w.set(WorkerState::Starting);
        let port = match free_port() {
            Ok(p) => p,
            Err(e) => {
                if let Some(f) = first.take() {
                    let _ = f.send(Err(format!("no free port: {e}")));
                    return;
                }
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        let mut child = match spawn(&spec, &w, port) {
            Ok(c) => c,
            Err(e) => {
                let reason = format!("the container command {:?} could not start: {e}", spec.command[0]);
                tracing::warn!(endpoint = %spec.endpoint, variant = %spec.variant, worker = w.index, reason = %reason, "container start failed");
                if let Some(f) = first.take() {
                    let _ = f.send(Err(reason));
                    w.set(WorkerState::Stopped);
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        let pid = child.id().unwrap_or(0);
        if let Some(out) = child.stdout.take() {
            forward_output(out, w.clone(), spec.clone(), "stdout");
        }
        if let Some(err) = child.stderr.take() {
            forward_output(err, w.clone(), spec.clone(), "stderr");
        }
        // Health check.
        let started = Instant::now();
        let healthy = loop {
            if w.stopping.load(Ordering::Acquire) {
                break Err("stopped".to_string());
            }
            if let Ok(Some(status)) = child.try_wait() {
                break Err(format!("the container exited during startup ({status}); last output: {}", w.tail()));
            }
            if ping(&client, port).await {
                break Ok(());
            }
            if started.elapsed() >= spec.startup_timeout {
                break Err(format!("GET /ping did not answer 200 within {} seconds; last output: {}", spec.startup_timeout.as_secs(), w.tail()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        if let Err(reason) = healthy {
            kill_group(pid);
            let _ = child.wait().await;
            if let Some(f) = first.take() {
                w.set(WorkerState::Stopped);
                let _ = f.send(Err(reason));
                return;
            }
            tracing::warn!(endpoint = %spec.endpoint, variant = %spec.variant, worker = w.index, reason = %reason, "container restart failed");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
            continue;
        }
        backoff = Duration::from_millis(500);
        *w.killed.lock().unwrap_or_else(|p| p.into_inner()) = None;
        w.rss.store(0, Ordering::Relaxed); // not measured yet
        w.set(WorkerState::Ready { port, pid });
        tracing::info!(endpoint = %spec.endpoint, variant = %spec.variant, worker = w.index, port, pid, ms = started.elapsed().as_secs_f64() * 1000.0, "container healthy");
        if let Some(f) = first.take() {
            let _ = f.send(Ok(()));
        }
        tokio::select! {
            status = child.wait() => {
                w.set(WorkerState::Starting);
                kill_group(pid);
                if !w.stopping.load(Ordering::Acquire) {
                    let why = w.killed.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    tracing::warn!(endpoint = %spec.endpoint, variant = %spec.variant, worker = w.index, status = ?status.ok(), killed = ?why, "container exited; restarting");
                }
            }
            _ = w.stop.notified() => {
                kill_group(pid);
                let _ = child.wait().await;
            }
        }
    }
    w.set(WorkerState::Stopped);
}

/// A model served by local container processes.
pub struct ProcessRuntime {
    workers: Vec<Arc<Worker>>,
    next: std::sync::atomic::AtomicUsize,
    client: HttpClient,
    /// Memory size of each worker, bytes (`None`: not enforced).
    limit: Option<u64>,
    invocation_timeout: Duration,
    _dir: DirGuard,
    monitor: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for ProcessRuntime {
    fn drop(&mut self) {
        if let Some(m) = self.monitor.lock().unwrap_or_else(|p| p.into_inner()).take() {
            m.abort();
        }
        for w in &self.workers {
            w.stopping.store(true, Ordering::Release);
            w.kill();
            w.stop.notify_one();
        }
        tracing::info!(workers = self.workers.len(), "local containers stopped");
    }
}

impl ProcessRuntime {
    fn start_monitor(self: &Arc<Self>, every: Duration) {
        let weak = Arc::downgrade(self);
        let h = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(rt) = weak.upgrade() else { return };
                rt.check_memory().await;
            }
        });
        *self.monitor.lock().unwrap_or_else(|p| p.into_inner()) = Some(h);
    }

    /// Measure every worker's process tree; kill those over the memory size.
    async fn check_memory(&self) {
        let pids: Vec<(Arc<Worker>, u32)> = self.workers.iter().filter_map(|w| w.ready().map(|(_, pid)| (w.clone(), pid))).collect();
        if pids.is_empty() {
            return;
        }
        let limit = self.limit;
        let measured = tokio::task::spawn_blocking(move || {
            let table = memory::process_table();
            pids.into_iter().map(|(w, pid)| (w, pid, memory::tree_rss(&table, pid))).collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        for (w, pid, rss) in measured {
            w.rss.store(rss, Ordering::Relaxed);
            if let Some(limit) = limit {
                if rss > limit {
                    let msg = format!(
                        "The container was stopped because its memory use ({} MB) exceeded the memory size of the variant ({} MB); it is being restarted.",
                        rss / (1024 * 1024),
                        limit / (1024 * 1024)
                    );
                    tracing::warn!(worker = w.index, pid, rss, limit, "container over its memory size: killed");
                    *w.killed.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg);
                    kill_group(pid);
                }
            }
        }
    }

    /// The healthy worker with the fewest requests in flight, waiting for one to come up.
    async fn pick(&self) -> Result<(Arc<Worker>, u16), ContainerError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            // Fewest in flight; ties go round-robin from a rotating start.
            let n = self.workers.len();
            let start = self.next.fetch_add(1, Ordering::Relaxed) % n.max(1);
            let best = (0..n)
                .map(|i| &self.workers[(start + i) % n])
                .filter_map(|w| w.ready().map(|(port, _)| (w, port)))
                .min_by_key(|(w, _)| w.inflight.load(Ordering::Acquire));
            if let Some((w, port)) = best {
                return Ok((w.clone(), port));
            }
            if self.workers.iter().all(|w| matches!(*w.state.lock().unwrap_or_else(|p| p.into_inner()), WorkerState::Stopped)) || Instant::now() >= deadline {
                let why = self.workers.iter().find_map(|w| w.killed.lock().unwrap_or_else(|p| p.into_inner()).clone());
                return Err(ContainerError { status: 503, message: why.unwrap_or_else(|| "No healthy container is available to serve the request.".into()) });
            }
            let waits: Vec<_> = self.workers.iter().map(|w| w.changed.notified()).collect();
            let _ = tokio::time::timeout(Duration::from_millis(200), futures_like_any(waits)).await;
        }
    }
}

/// Wait until any of the notifications fires.
async fn futures_like_any(waits: Vec<tokio::sync::futures::Notified<'_>>) {
    let mut waits: Vec<_> = waits.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        for w in waits.iter_mut() {
            if w.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}

use std::future::Future;

struct InflightGuard<'a>(&'a AtomicU32);

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[async_trait::async_trait]
impl ModelRuntime for ProcessRuntime {
    async fn invoke(&self, req: &ContainerRequest) -> Result<ContainerReply, ContainerError> {
        let (w, port) = self.pick().await?;
        w.inflight.fetch_add(1, Ordering::AcqRel);
        let _g = InflightGuard(&w.inflight);
        let uri: http::Uri = format!("http://127.0.0.1:{port}/invocations").parse().map_err(|e| ContainerError { status: 500, message: format!("{e}") })?;
        let mut b = http::Request::post(uri);
        if let Some(ct) = &req.content_type {
            b = b.header(http::header::CONTENT_TYPE, ct.as_str());
        }
        if let Some(a) = &req.accept {
            b = b.header(http::header::ACCEPT, a.as_str());
        }
        if let Some(c) = &req.custom_attributes {
            b = b.header("X-Amzn-SageMaker-Custom-Attributes", c.as_str());
        }
        let request = b.body(Full::new(Bytes::from(req.body.as_ref().clone()))).map_err(|e| ContainerError { status: 400, message: e.to_string() })?;
        let lost = |detail: String| {
            let why = w.killed.lock().unwrap_or_else(|p| p.into_inner()).clone();
            ContainerError { status: 500, message: why.unwrap_or(detail) }
        };
        let resp = match tokio::time::timeout(self.invocation_timeout, self.client.request(request)).await {
            Err(_) => return Err(ContainerError { status: 500, message: "Your invocation timed out while waiting for a response from container primary.".into() }),
            Ok(Err(e)) => return Err(lost(format!("The container closed the connection without answering: {e}"))),
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let content_type = header("content-type").unwrap_or_else(|| "application/octet-stream".into());
        let custom_attributes = header("x-amzn-sagemaker-custom-attributes");
        let body = match resp.into_body().collect().await {
            Ok(b) => b.to_bytes().to_vec(),
            Err(e) => return Err(lost(format!("The container's reply was cut short: {e}"))),
        };
        if status.is_success() {
            Ok(ContainerReply { body, content_type, custom_attributes })
        } else {
            Err(ContainerError { status: status.as_u16(), message: String::from_utf8_lossy(&body).into_owned() })
        }
    }

    fn memory_bytes(&self) -> u64 {
        self.workers.iter().map(|w| w.rss.load(Ordering::Relaxed)).sum()
    }

    fn workers(&self) -> u32 {
        self.workers.len() as u32
    }
}
