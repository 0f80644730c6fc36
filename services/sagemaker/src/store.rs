//! SageMaker's durable records in the metadata store, one kind per resource. Keys are the
//! lower-cased resource names (SageMaker names are case-insensitive: their ARNs are lower-case),
//! scoped by account and region. Request structures are kept in their generated API form so
//! Describe answers with exactly what was created.

use crate::api;
use hearth_protocol::types::Timestamp;
use hearth_runtime::Record;
use serde::{Deserialize, Serialize};

/// The store key of a resource name.
pub fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// A model (`CreateModel`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelRecord {
    pub name: String,
    pub arn: String,
    pub primary_container: Option<api::ContainerDefinition>,
    pub containers: Option<Vec<api::ContainerDefinition>>,
    pub execution_role_arn: Option<String>,
    pub enable_network_isolation: Option<bool>,
    pub vpc_config: Option<api::VpcConfig>,
    pub inference_execution_config: Option<api::InferenceExecutionConfig>,
    #[serde(default)]
    pub tags: Vec<api::Tag>,
    pub created: Timestamp,
}

impl Record for ModelRecord {
    const KIND: &'static str = "sagemaker.model";
}

impl ModelRecord {
    /// The container that serves: the primary container, else the first of `Containers`.
    pub fn serving_container(&self) -> Option<&api::ContainerDefinition> {
        self.primary_container.as_ref().or_else(|| self.containers.as_ref().and_then(|c| c.first()))
    }
}

/// An endpoint configuration (`CreateEndpointConfig`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointConfigRecord {
    pub name: String,
    pub arn: String,
    pub production_variants: Vec<api::ProductionVariant>,
    pub data_capture_config: Option<api::DataCaptureConfig>,
    pub async_inference_config: Option<api::AsyncInferenceConfig>,
    pub kms_key_id: Option<String>,
    pub execution_role_arn: Option<String>,
    #[serde(default)]
    pub tags: Vec<api::Tag>,
    pub created: Timestamp,
}

impl Record for EndpointConfigRecord {
    const KIND: &'static str = "sagemaker.endpoint-config";
}

/// An endpoint's lifecycle status, spelled as AWS does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndpointStatus {
    Creating,
    Updating,
    InService,
    Deleting,
    Failed,
}

impl EndpointStatus {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointStatus::Creating => "Creating",
            EndpointStatus::Updating => "Updating",
            EndpointStatus::InService => "InService",
            EndpointStatus::Deleting => "Deleting",
            EndpointStatus::Failed => "Failed",
        }
    }

    /// Whether the endpoint answers invocations in this status.
    pub fn serves(self) -> bool {
        matches!(self, EndpointStatus::InService | EndpointStatus::Updating)
    }
}

/// One production variant of an endpoint as deployed (current values) and as requested by
/// `UpdateEndpointWeightsAndCapacities` (desired values, applied by the update job).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VariantState {
    pub name: String,
    pub model_name: String,
    pub image: String,
    pub model_data_url: Option<String>,
    /// The container environment (copied at deployment: the endpoint keeps serving if the
    /// model is deleted, as on AWS).
    #[serde(default)]
    pub environment: std::collections::BTreeMap<String, String>,
    pub current_weight: f32,
    pub desired_weight: f32,
    /// Instances (real-time variants).
    pub instance_type: Option<String>,
    pub current_instance_count: Option<i32>,
    pub desired_instance_count: Option<i32>,
    /// Serverless variants.
    pub current_serverless: Option<api::ProductionVariantServerlessConfig>,
    pub desired_serverless: Option<api::ProductionVariantServerlessConfig>,
}

/// An endpoint (`CreateEndpoint`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointRecord {
    pub name: String,
    pub arn: String,
    pub config_name: String,
    pub status: EndpointStatus,
    pub failure_reason: Option<String>,
    /// Filled when the endpoint first goes in service.
    #[serde(default)]
    pub variants: Vec<VariantState>,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    #[serde(default)]
    pub tags: Vec<api::Tag>,
}

impl Record for EndpointRecord {
    const KIND: &'static str = "sagemaker.endpoint";
}

/// A training job (`CreateTrainingJob`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingJobRecord {
    pub name: String,
    pub arn: String,
    /// The request as created.
    pub request: api::CreateTrainingJobRequest,
    /// `InProgress`, `Completed`, `Failed`, `Stopping`, `Stopped`.
    pub status: String,
    /// `Starting`, `Downloading`, `Training`, `Uploading`, `Completed`, `Failed`, `Stopping`,
    /// `Stopped`, `MaxRuntimeExceeded`.
    pub secondary_status: String,
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub transitions: Vec<api::SecondaryStatusTransition>,
    pub model_artifacts: Option<String>,
    #[serde(default)]
    pub final_metrics: Vec<api::MetricData>,
    /// The algorithm's log lines (per-round evaluations), newest last, capped.
    #[serde(default)]
    pub log: Vec<String>,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    pub training_start: Option<Timestamp>,
    pub training_end: Option<Timestamp>,
}

impl Record for TrainingJobRecord {
    const KIND: &'static str = "sagemaker.training-job";
}

impl TrainingJobRecord {
    /// Move to a new secondary status, closing the open transition.
    pub fn transition(&mut self, status: &str, message: &str, now: Timestamp) {
        if self.secondary_status == status {
            return;
        }
        if let Some(last) = self.transitions.last_mut() {
            if last.end_time.is_none() {
                last.end_time = Some(now);
            }
        }
        let terminal = matches!(status, "Completed" | "Failed" | "Stopped" | "MaxRuntimeExceeded");
        self.transitions.push(api::SecondaryStatusTransition {
            status: status.to_string(),
            start_time: now,
            end_time: terminal.then_some(now),
            status_message: Some(message.to_string()),
        });
        self.secondary_status = status.to_string();
        self.last_modified = now;
    }

    /// Whether the job has ended.
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "Completed" | "Failed" | "Stopped")
    }
}
