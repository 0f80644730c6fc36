//! The built-in XGBoost container, in-process: a [`ModelLoader`] that downloads a variant's
//! `model.tar.gz` from S3, unpacks `xgboost-model` and loads it into the tabular engine, and
//! the [`ModelRuntime`] that answers invocations with the container's contract
//! ([`crate::domain::container`]) on the engine's threads.

use crate::domain::artifact::unpack_model;
use crate::domain::container::{self, ContainerError, CsvStyle};
use crate::domain::fleet::{ContainerReply, ContainerRequest, ModelLoader, ModelRuntime, ModelSource, VariantSpec};
use crate::domain::is_xgboost_image;
use hearth_inference::tabular::{Booster, Engine, Xgb};
use std::path::PathBuf;
use std::sync::Arc;

/// Environment variable of the container that sets the reply type when `Accept` is absent.
pub const DEFAULT_ACCEPT_ENV: &str = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT";

/// A loaded XGBoost model behind the container contract.
pub struct XgbRuntime {
    engine: Engine,
    booster: Arc<Booster>,
    features: usize,
    style: CsvStyle,
    default_accept: String,
    bytes: u64,
}

#[async_trait::async_trait]
impl ModelRuntime for XgbRuntime {
    async fn invoke(&self, req: &ContainerRequest) -> Result<ContainerReply, ContainerError> {
        let (booster, features, style, default_accept) = (self.booster.clone(), self.features, self.style, self.default_accept.clone());
        let req = req.clone();
        let out = self
            .engine
            .run(move || -> Result<ContainerReply, ContainerError> {
                if req.body.is_empty() {
                    // The container answers an empty payload with 204 and no body.
                    return Ok(ContainerReply { body: Vec::new(), content_type: container::media_type(&default_accept), custom_attributes: None });
                }
                let (x, kind) = container::parse_payload(req.content_type.as_deref(), &req.body)?;
                let x = container::fit_features(x, kind, features)?;
                let preds = booster.predict(&x).map_err(|e| ContainerError { status: 400, message: format!("Unable to evaluate payload provided: {e}") })?;
                let accept = container::parse_accept(req.accept.as_deref(), &default_accept)?;
                let (body, ct) = container::encode(&preds, accept, style);
                Ok(ContainerReply { body, content_type: ct.to_string(), custom_attributes: None })
            })
            .await;
        match out {
            Ok(r) => r,
            Err(e) => Err(ContainerError { status: 500, message: e.to_string() }),
        }
    }

    fn memory_bytes(&self) -> u64 {
        self.bytes
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
        let size = bytes.len() as u64;
        let booster = self.engine.load(xgb, bytes).await.map_err(|e| ping_failure(&variant.name, &format!("Unable to load model: Model {name} cannot be loaded: {e}")))?;
        let features = booster.num_features().map_err(|e| ping_failure(&variant.name, &e.to_string()))?;
        let default_accept = source.environment.get(DEFAULT_ACCEPT_ENV).cloned().unwrap_or_else(|| "text/csv".to_string());
        Ok(Arc::new(XgbRuntime { engine: self.engine.clone(), booster, features, style: CsvStyle::for_image(&source.image), default_accept, bytes: size }))
    }
}
