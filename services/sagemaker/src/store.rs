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
    /// A deployment is moving traffic back to the old fleet.
    RollingBack,
    /// A rollback could not restore the old fleet.
    UpdateRollbackFailed,
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
            EndpointStatus::RollingBack => "RollingBack",
            EndpointStatus::UpdateRollbackFailed => "UpdateRollbackFailed",
        }
    }

    /// Whether the endpoint answers invocations in this status.
    pub fn serves(self) -> bool {
        matches!(self, EndpointStatus::InService | EndpointStatus::Updating | EndpointStatus::RollingBack | EndpointStatus::UpdateRollbackFailed)
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
    /// The `DeploymentConfig` of the last `UpdateEndpoint` (DescribeEndpoint's
    /// `LastDeploymentConfig`, reused by `RetainDeploymentConfig`).
    #[serde(default)]
    pub last_deployment_config: Option<api::DeploymentConfig>,
    /// The key of the deployment ([`DeploymentRecord`]) in progress, if any.
    #[serde(default)]
    pub deployment: Option<String>,
    /// Deployments started so far (numbers the next one).
    #[serde(default)]
    pub deployments: u32,
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

/// Where a deployment stands ([`DeploymentRecord::phase`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeploymentPhase {
    /// The green fleet is being provisioned and health-checked.
    Provisioning,
    /// Traffic step [`DeploymentRecord::step`] is on and baking.
    Baking,
    /// All traffic is on green; the blue fleet waits `TerminationWaitInSeconds`.
    Terminating,
    /// Traffic is going back to blue.
    RollingBack,
    /// Green serves everything; blue retired.
    Succeeded,
    /// Rolled back to blue (alarm, abort, timeout).
    RolledBack,
    /// The green fleet could not be provisioned; blue kept serving.
    Failed,
    /// The rollback itself failed.
    RollbackFailed,
}

impl DeploymentPhase {
    /// Whether the deployment has ended.
    pub fn is_final(self) -> bool {
        matches!(self, DeploymentPhase::Succeeded | DeploymentPhase::RolledBack | DeploymentPhase::Failed | DeploymentPhase::RollbackFailed)
    }

    /// A lower-case name for logs, the CLI and the console.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentPhase::Provisioning => "provisioning",
            DeploymentPhase::Baking => "baking",
            DeploymentPhase::Terminating => "terminating",
            DeploymentPhase::RollingBack => "rolling-back",
            DeploymentPhase::Succeeded => "succeeded",
            DeploymentPhase::RolledBack => "rolled-back",
            DeploymentPhase::Failed => "failed",
            DeploymentPhase::RollbackFailed => "rollback-failed",
        }
    }
}

/// One entry of a deployment's timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeploymentEvent {
    pub time: Timestamp,
    /// What happened (`step 1/2: 33% on green`, `alarm err-alarm in ALARM`, …).
    pub message: String,
    /// Green's traffic share after the event.
    pub green_share: f64,
}

/// One blue/green deployment of an endpoint (`UpdateEndpoint`), kept as the endpoint's
/// deployment history. Key: `<endpoint key>/<number, 6 digits>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub endpoint: String,
    pub number: u32,
    /// Who asked (the access key of the `UpdateEndpoint` call).
    pub requested_by: String,
    pub from_config: String,
    pub to_config: String,
    pub blue_variants: Vec<VariantState>,
    pub green_variants: Vec<VariantState>,
    /// The `DeploymentConfig` in force (given or retained), if any.
    pub config: Option<api::DeploymentConfig>,
    pub policy: crate::domain::deployment::Policy,
    pub steps: Vec<crate::domain::deployment::Step>,
    pub phase: DeploymentPhase,
    /// The current traffic step (index into `steps`).
    pub step: usize,
    /// When the current phase or step began (bakes and the termination wait count from here).
    pub phase_started: Timestamp,
    /// Green's share of traffic now.
    pub green_share: f64,
    pub started: Timestamp,
    pub ended: Option<Timestamp>,
    /// Why it ended (or is rolling back).
    pub reason: Option<String>,
    #[serde(default)]
    pub events: Vec<DeploymentEvent>,
    /// The last state seen of each rollback alarm.
    #[serde(default)]
    pub alarm_states: std::collections::BTreeMap<String, String>,
    /// The batches of a rollback (`RollbackMaximumBatchSize`), once rolling back.
    #[serde(default)]
    pub rollback_steps: Vec<crate::domain::deployment::Step>,
    /// The rollback batch in force (index into `rollback_steps`).
    #[serde(default)]
    pub rollback_step: usize,
}

impl Record for DeploymentRecord {
    const KIND: &'static str = "sagemaker.deployment";
}

impl DeploymentRecord {
    /// The store key of deployment `number` of `endpoint`.
    pub fn key_of(endpoint: &str, number: u32) -> String {
        format!("{}/{number:06}", key(endpoint))
    }

    /// This deployment's store key.
    pub fn key(&self) -> String {
        DeploymentRecord::key_of(&self.endpoint, self.number)
    }

    /// Add a timeline entry.
    pub fn event(&mut self, time: Timestamp, message: impl Into<String>) {
        self.events.push(DeploymentEvent { time, message: message.into(), green_share: self.green_share });
    }
}

/// An operator's request to a running deployment (`hearth deployments abort|promote`, the
/// console's buttons), read by the deployment job. Key: the deployment's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentControl {
    /// `abort` (roll back now) or `promote` (skip the remaining baking).
    pub action: String,
    pub requested_by: String,
    pub at: Timestamp,
}

impl Record for DeploymentControl {
    const KIND: &'static str = "sagemaker.deployment-control";
}
