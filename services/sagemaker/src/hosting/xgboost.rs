//! The built-in XGBoost container, in-process: a [`ModelLoader`] that provisions a variant —
//! downloads its `model.tar.gz` from S3 and unpacks the model file, as SageMaker does before the
//! container starts (a missing or unreadable artifact fails the endpoint there) — and the
//! [`ModelRuntime`] that answers invocations with the container's contract
//! ([`crate::domain::container`]) on the engine's threads.
//!
//! Like `sagemaker-xgboost-container` (`ScoringService.load_model`), the runtime loads the
//! model file on the first invocation that needs it (after the empty-body and payload checks),
//! keeps the booster once loaded, and tries again on the next invocation while it cannot load:
//! a file that is neither a pickled Booster this image can read ([`crate::domain::pickled`]) nor
//! an XGBoost model answers `500 Unable to load model: Model … cannot be loaded: …`, which
//! InvokeEndpoint returns as `ModelError` and counts in `Invocation5XXErrors` and
//! `ModelLatency`. Serverless cold starts load the booster while provisioning, so
//! `ModelSetupTime` covers it (a failure is kept for the invocation to report).

use crate::domain::artifact::unpack_model;
use crate::domain::container::{self, ContainerError, CsvStyle};
use crate::domain::fleet::{Capacity, ContainerReply, ContainerRequest, ModelLoader, ModelRuntime, ModelSource, VariantSpec};
use crate::domain::is_xgboost_image;
use crate::domain::pickled::{self, XgbVersion};
use hearth_inference::tabular::{Booster, Engine, Xgb};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// Environment variable of the container that sets the reply type when `Accept` is absent.
pub const DEFAULT_ACCEPT_ENV: &str = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT";

/// Where the container finds the model (SageMaker's `/opt/ml/model`), as its messages say.
pub const MODEL_DIR: &str = "/opt/ml/model";

/// A provisioned XGBoost container: its model file, loaded on first use.
pub struct XgbRuntime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    xgb: Arc<Xgb>,
    engine_version: XgbVersion,
    image_version: Option<XgbVersion>,
    model_name: String,
    /// The model file until it has loaded (dropped then).
    pending: Mutex<Option<Vec<u8>>>,
    loaded: OnceLock<Loaded>,
    style: CsvStyle,
    default_accept: String,
    bytes: u64,
}

#[derive(Clone)]
struct Loaded {
    booster: Arc<Booster>,
    features: usize,
}

impl Inner {
    /// The booster, loading it now if needed (`ScoringService.load_model`); runs on an engine
    /// thread. Concurrent first requests wait for one load.
    fn booster(&self) -> Result<Loaded, ContainerError> {
        if let Some(l) = self.loaded.get() {
            return Ok(l.clone());
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = self.loaded.get() {
            return Ok(l.clone());
        }
        let Some(file) = pending.as_ref() else {
            return Err(ContainerError { status: 500, message: "Unable to load model: the model file is gone".into() });
        };
        let started = std::time::Instant::now();
        match self.load(file) {
            Ok(l) => {
                tracing::info!(model_file = %self.model_name, ms = started.elapsed().as_secs_f64() * 1000.0, "xgboost model loaded on first invocation");
                let _ = self.loaded.set(l.clone());
                *pending = None;
                Ok(l)
            }
            Err(message) => {
                tracing::warn!(model_file = %self.model_name, "xgboost model cannot be loaded");
                Err(ContainerError { status: 500, message: format!("Unable to load model: {message}") })
            }
        }
    }

    /// `serve_utils.get_loaded_booster`: `pickle.load`, else `Booster.load_model`.
    fn load(&self, file: &[u8]) -> Result<Loaded, String> {
        let pickle_error = match pickled::read_pickle(file) {
            Ok(p) => match pickled::incompatibility(p.written_by, self.image_version, self.engine_version) {
                Some(why) => why,
                None => match Booster::unserialize(&self.xgb, &p.snapshot) {
                    Ok(b) => return self.ready(b),
                    Err(e) => e.to_string(),
                },
            },
            Err(e) => e,
        };
        let xgb_error = match Booster::load(&self.xgb, file) {
            Ok(b) => return self.ready(b),
            Err(e) => e.to_string(),
        };
        let old = self.image_version.is_some_and(|v| v.release() < (1, 2));
        Err(if old {
            format!("Model at {MODEL_DIR} cannot be loaded:\n{pickle_error}\n{xgb_error}")
        } else {
            format!("Model {MODEL_DIR}/{} cannot be loaded:\nPickle load error={pickle_error}\nXGB load model error={xgb_error}", self.model_name)
        })
    }

    fn ready(&self, b: Booster) -> Result<Loaded, String> {
        b.set_param("nthread", "1").map_err(|e| e.to_string())?;
        let features = b.num_features().map_err(|e| e.to_string())?;
        Ok(Loaded { booster: Arc::new(b), features })
    }
}

#[async_trait::async_trait]
impl ModelRuntime for XgbRuntime {
    async fn invoke(&self, req: &ContainerRequest) -> Result<ContainerReply, ContainerError> {
        let inner = self.inner.clone();
        let req = req.clone();
        let out = self
            .inner
            .engine
            .run(move || -> Result<ContainerReply, ContainerError> {
                if req.body.is_empty() {
                    // The container answers an empty payload with 204 and no body.
                    return Ok(ContainerReply { body: Vec::new(), content_type: container::media_type(&inner.default_accept), custom_attributes: None });
                }
                let (x, kind) = container::parse_payload(req.content_type.as_deref(), &req.body)?;
                let Loaded { booster, features } = inner.booster()?;
                let x = container::fit_features(x, kind, features)?;
                let preds = booster.predict(&x).map_err(|e| ContainerError { status: 400, message: format!("Unable to evaluate payload provided: {e}") })?;
                let accept = container::parse_accept(req.accept.as_deref(), &inner.default_accept)?;
                let (body, ct) = container::encode(&preds, accept, inner.style);
                Ok(ContainerReply { body, content_type: ct.to_string(), custom_attributes: None })
            })
            .await;
        match out {
            Ok(r) => r,
            Err(e) => Err(ContainerError { status: 500, message: e.to_string() }),
        }
    }

    fn memory_bytes(&self) -> u64 {
        self.inner.bytes
    }
}

/// Loads variants' models for one account.
pub struct XgbLoader {
    pub account: String,
    pub s3: hearth_s3::S3,
    pub engine: Engine,
    pub models_dir: PathBuf,
}

/// Why a model could not be brought up, phrased as SageMaker's `FailureReason`.
pub fn download_failure(url: &str) -> String {
    format!(
        "Failed to download model data for container \"container_1\" from URL: \"{url}\". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the object."
    )
}

/// SageMaker's health-check `FailureReason`, with Hearth's detail in parentheses.
pub fn ping_failure(variant: &str, detail: &str) -> String {
    format!("The primary container for production variant {variant} did not pass the ping health check. Please check CloudWatch logs for this endpoint. ({detail})")
}

#[async_trait::async_trait]
impl ModelLoader for XgbLoader {
    async fn load(&self, source: &ModelSource, variant: &VariantSpec) -> Result<Arc<dyn ModelRuntime>, String> {
        if !is_xgboost_image(&source.image) {
            return Err(ping_failure(
                &variant.name,
                &format!("Hearth serves SageMaker's built-in XGBoost container; the image {} cannot run here", source.image),
            ));
        }
        let url = source.model_data_url.as_deref().ok_or_else(|| ping_failure(&variant.name, "the model has no ModelDataUrl"))?;
        let (bucket, key) = hearth_s3::internal::parse_s3_uri(url).filter(|(_, k)| !k.is_empty()).ok_or_else(|| download_failure(url))?;
        let archive = self.s3.read_object(&self.account, &bucket, &key).await.map_err(|e| {
            tracing::warn!(url, code = %e.code, "model download failed");
            download_failure(url)
        })?;
        let (name, bytes) = unpack_model(&archive).map_err(|e| ping_failure(&variant.name, &format!("Unable to load model: {e}")))?;
        let models_dir = self.models_dir.clone();
        let xgb = tokio::task::spawn_blocking(move || Xgb::from_models_dir(&models_dir))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| ping_failure(&variant.name, &format!("Unable to load model: {e}")))?;
        let engine_version = XgbVersion::parse(&xgb.version()).ok_or_else(|| ping_failure(&variant.name, &format!("unexpected XGBoost version {}", xgb.version())))?;
        let default_accept = source.environment.get(DEFAULT_ACCEPT_ENV).cloned().unwrap_or_else(|| "text/csv".to_string());
        let inner = Arc::new(Inner {
            engine: self.engine.clone(),
            xgb,
            engine_version,
            image_version: pickled::image_version(&source.image),
            model_name: name,
            bytes: bytes.len() as u64,
            pending: Mutex::new(Some(bytes)),
            loaded: OnceLock::new(),
            style: CsvStyle::for_image(&source.image),
            default_accept,
        });
        if matches!(variant.capacity, Capacity::Serverless { .. }) {
            // A cold start boots the container and loads the model before the request runs.
            let warm = inner.clone();
            self.engine.run(move || warm.booster().map(|_| ())).await.map_err(|e| e.to_string())?.ok();
        }
        Ok(Arc::new(XgbRuntime { inner }))
    }
}
