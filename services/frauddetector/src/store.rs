//! The Fraud Detector's records in the metadata store, one kind per resource, all scoped by
//! account and region. Keys are chosen so that a prefix lists what belongs together (the
//! versions of a model, the rules of a detector, the events of an event type).

use crate::domain::training::Report;
use hearth_runtime::Record;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Creation and update times and the ARN every resource carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    pub arn: String,
    pub created: String,
    pub updated: String,
}

/// A variable (`frauddetector.variable`, key: name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableRec {
    pub name: String,
    pub data_type: String,
    pub data_source: String,
    pub default_value: String,
    pub description: Option<String>,
    pub variable_type: Option<String>,
    pub stamp: Stamp,
}
impl Record for VariableRec {
    const KIND: &'static str = "frauddetector.variable";
}

/// Entity types, labels and outcomes share this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedRec {
    pub name: String,
    pub description: Option<String>,
    pub stamp: Stamp,
}

/// An entity type (`frauddetector.entity_type`, key: name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityTypeRec(pub NamedRec);
impl Record for EntityTypeRec {
    const KIND: &'static str = "frauddetector.entity_type";
}

/// A label (`frauddetector.label`, key: name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelRec(pub NamedRec);
impl Record for LabelRec {
    const KIND: &'static str = "frauddetector.label";
}

/// An outcome (`frauddetector.outcome`, key: name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRec(pub NamedRec);
impl Record for OutcomeRec {
    const KIND: &'static str = "frauddetector.outcome";
}

/// An event type (`frauddetector.event_type`, key: name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTypeRec {
    pub name: String,
    pub description: Option<String>,
    pub event_variables: Vec<String>,
    pub labels: Vec<String>,
    pub entity_types: Vec<String>,
    /// `ENABLED` or `DISABLED`.
    pub event_ingestion: String,
    pub event_bridge_enabled: Option<bool>,
    pub stamp: Stamp,
}
impl Record for EventTypeRec {
    const KIND: &'static str = "frauddetector.event_type";
}

impl EventTypeRec {
    /// Whether events of this type are stored (SendEvent, imports, predictions).
    pub fn ingestion_enabled(&self) -> bool {
        self.event_ingestion == "ENABLED"
    }
}

/// A stored event (`frauddetector.event`, key: `<event type>/<event id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRec {
    pub event_id: String,
    pub event_type: String,
    /// The event timestamp as ISO 8601 UTC.
    pub timestamp: String,
    pub ts_ms: i64,
    pub variables: BTreeMap<String, String>,
    /// (entity type, entity id).
    pub entities: Vec<(String, String)>,
    pub label: Option<String>,
    pub label_timestamp: Option<String>,
}
impl Record for EventRec {
    const KIND: &'static str = "frauddetector.event";
}

/// Key of an event.
pub fn event_key(event_type: &str, event_id: &str) -> String {
    format!("{event_type}/{event_id}")
}

impl EventRec {
    /// The first entity's id (`unknown` when there is none).
    pub fn entity_id(&self) -> &str {
        self.entities.first().map(|(_, id)| id.as_str()).unwrap_or("unknown")
    }
    /// Approximate stored size in bytes (for ingested-event statistics).
    pub fn size(&self) -> u64 {
        let vars: usize = self.variables.iter().map(|(k, v)| k.len() + v.len()).sum();
        (self.event_id.len() + self.timestamp.len() + vars + self.entities.iter().map(|(a, b)| a.len() + b.len()).sum::<usize>()) as u64
    }
}

/// A model (`frauddetector.model`, key: `<model id>/<model type>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRec {
    pub model_id: String,
    pub model_type: String,
    pub description: Option<String>,
    pub event_type: String,
    pub stamp: Stamp,
}
impl Record for ModelRec {
    const KIND: &'static str = "frauddetector.model";
}

/// Key of a model.
pub fn model_key(model_id: &str, model_type: &str) -> String {
    format!("{model_id}/{model_type}")
}

/// How a model version's training data is labelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub model_variables: Vec<String>,
    /// `FRAUD` / `LEGIT` → event type labels.
    pub label_mapper: BTreeMap<String, Vec<String>>,
    pub unlabeled_events_treatment: Option<String>,
}

/// A model version (`frauddetector.model_version`, key: `<model id>/<model type>/<major>.<minor>`
/// with zero-padded numbers so versions list in order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersionRec {
    pub model_id: String,
    pub model_type: String,
    /// `1.0`, `1.1`, `2.0`, …
    pub version: String,
    pub status: String,
    pub training_data_source: String,
    pub schema: Schema,
    /// (S3 location, role ARN) of `EXTERNAL_EVENTS`.
    pub external_events: Option<(String, String)>,
    /// (start, end) of `INGESTED_EVENTS`.
    pub ingested_events: Option<(String, String)>,
    pub report: Option<Report>,
    /// Why training failed: (title, content).
    pub failure: Option<(String, String)>,
    /// The trained artifact's blob id.
    pub artifact: Option<String>,
    /// The durable job training this version.
    #[serde(default)]
    pub job_id: Option<String>,
    pub stamp: Stamp,
}
impl Record for ModelVersionRec {
    const KIND: &'static str = "frauddetector.model_version";
}

/// Parse `"major.minor"`.
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Key of a model version.
pub fn model_version_key(model_id: &str, model_type: &str, version: &str) -> String {
    let (a, b) = parse_version(version).unwrap_or((0, 0));
    format!("{model_id}/{model_type}/{a:05}.{b:03}")
}

/// A rule version (`frauddetector.rule`, key: `<detector>/<rule>/<version, zero-padded>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRec {
    pub detector_id: String,
    pub rule_id: String,
    pub version: String,
    pub description: Option<String>,
    pub expression: String,
    pub language: String,
    pub outcomes: Vec<String>,
    pub stamp: Stamp,
}
impl Record for RuleRec {
    const KIND: &'static str = "frauddetector.rule";
}

/// Key of a rule version.
pub fn rule_key(detector: &str, rule: &str, version: &str) -> String {
    format!("{detector}/{rule}/{:06}", version.parse::<u32>().unwrap_or(0))
}

/// A detector (`frauddetector.detector`, key: id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorRec {
    pub detector_id: String,
    pub description: Option<String>,
    pub event_type: String,
    pub stamp: Stamp,
}
impl Record for DetectorRec {
    const KIND: &'static str = "frauddetector.detector";
}

/// A model version a detector version uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelRef {
    pub model_id: String,
    pub model_type: String,
    pub version: String,
}

/// A detector version (`frauddetector.detector_version`, key: `<detector>/<version, zero-padded>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorVersionRec {
    pub detector_id: String,
    pub version: String,
    pub description: Option<String>,
    /// `DRAFT`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// (rule id, rule version), in evaluation order.
    pub rules: Vec<(String, String)>,
    pub model_versions: Vec<ModelRef>,
    pub external_model_endpoints: Vec<String>,
    /// `FIRST_MATCHED` or `ALL_MATCHED`.
    pub rule_execution_mode: String,
    pub stamp: Stamp,
}
impl Record for DetectorVersionRec {
    const KIND: &'static str = "frauddetector.detector_version";
}

/// Key of a detector version.
pub fn detector_version_key(detector: &str, version: &str) -> String {
    format!("{detector}/{:06}", version.parse::<u32>().unwrap_or(0))
}

/// An imported SageMaker model (`frauddetector.external_model`, key: endpoint name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalModelRec {
    pub model_endpoint: String,
    /// `SAGEMAKER`.
    pub model_source: String,
    pub role_arn: String,
    /// `ASSOCIATED` or `DISSOCIATED`.
    pub status: String,
    pub input_event_type: Option<String>,
    /// `TEXT_CSV` or `APPLICATION_JSON` (absent: pass-through as the caller sends it).
    pub input_format: Option<String>,
    pub use_event_variables: bool,
    pub json_input_template: Option<String>,
    pub csv_input_template: Option<String>,
    /// `TEXT_CSV` or `APPLICATION_JSONLINES`.
    pub output_format: String,
    pub json_key_to_variable: BTreeMap<String, String>,
    pub csv_index_to_variable: BTreeMap<String, String>,
    pub stamp: Stamp,
}
impl Record for ExternalModelRec {
    const KIND: &'static str = "frauddetector.external_model";
}

impl ExternalModelRec {
    /// The input template of the input format, if the model builds its input from event variables.
    pub fn template(&self) -> Option<&str> {
        match self.input_format.as_deref() {
            Some("APPLICATION_JSON") => self.json_input_template.as_deref(),
            _ => self.csv_input_template.as_deref(),
        }
    }
    /// The variables the model's output sets.
    pub fn output_variables(&self) -> impl Iterator<Item = &String> {
        self.csv_index_to_variable.values().chain(self.json_key_to_variable.values())
    }
}

/// An allow/deny list (`frauddetector.list`, key: name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListRec {
    pub name: String,
    pub description: Option<String>,
    pub variable_type: Option<String>,
    pub elements: Vec<String>,
    pub stamp: Stamp,
}
impl Record for ListRec {
    const KIND: &'static str = "frauddetector.list";
}

/// A batch import job (`frauddetector.batch_import`, key: job id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchImportRec {
    pub job_id: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub start_time: String,
    pub completion_time: Option<String>,
    pub input_path: String,
    pub output_path: String,
    pub event_type: String,
    pub iam_role_arn: String,
    /// The durable job importing the events.
    #[serde(default)]
    pub durable_job: Option<String>,
    pub processed: i32,
    pub failed: i32,
    pub total: i32,
    pub arn: String,
}
impl Record for BatchImportRec {
    const KIND: &'static str = "frauddetector.batch_import";
}

/// Progress of DeleteEventsByEventType (`frauddetector.events_deletion`, key: event type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsDeletionRec {
    pub event_type: String,
    pub status: String,
}
impl Record for EventsDeletionRec {
    const KIND: &'static str = "frauddetector.events_deletion";
}

/// A rule as evaluated in one prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluatedRuleRec {
    pub rule_id: String,
    pub rule_version: String,
    pub expression: String,
    pub expression_with_values: String,
    pub outcomes: Vec<String>,
    pub evaluated: bool,
    pub matched: bool,
}

/// A model as evaluated in one prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluatedModelRec {
    pub model: ModelRef,
    pub score: f32,
    /// The features the model read (for explanations); missing values (`NaN`) are stored as
    /// JSON `null`.
    #[serde(with = "nan_as_null")]
    pub features: Vec<f32>,
}

/// An external model as evaluated in one prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluatedExternalRec {
    pub model_endpoint: String,
    pub use_event_variables: bool,
    /// Event variables the input template read (empty for pass-through input).
    pub inputs: BTreeMap<String, String>,
    /// Output variables and their values.
    pub outputs: BTreeMap<String, String>,
}

/// A stored prediction (`frauddetector.prediction`, key:
/// `<prediction ms, zero-padded>/<detector>/<version>/<event type>/<event id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRec {
    pub detector_id: String,
    pub detector_version: String,
    pub detector_version_status: String,
    pub event_id: String,
    pub event_type: String,
    pub event_timestamp: String,
    pub prediction_timestamp: String,
    pub prediction_ms: i64,
    pub entity: (String, String),
    /// (name, value, source) of every variable the prediction used.
    pub variables: Vec<(String, String, String)>,
    pub rules: Vec<EvaluatedRuleRec>,
    pub rule_execution_mode: String,
    pub outcomes: Vec<String>,
    pub models: Vec<EvaluatedModelRec>,
    /// External (SageMaker) models evaluated (absent in records written before they existed).
    #[serde(default)]
    pub externals: Vec<EvaluatedExternalRec>,
}
impl Record for PredictionRec {
    const KIND: &'static str = "frauddetector.prediction";
}

/// Key of a prediction.
pub fn prediction_key(ms: i64, detector: &str, version: &str, event_type: &str, event_id: &str) -> String {
    format!("{ms:013}/{detector}/{version}/{event_type}/{event_id}")
}

/// Tags of a resource (`frauddetector.tags`, key: ARN).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagsRec {
    pub tags: BTreeMap<String, String>,
}
impl Record for TagsRec {
    const KIND: &'static str = "frauddetector.tags";
}

/// The account's KMS key setting (`frauddetector.kms`, key: `key`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsRec {
    pub arn: String,
}
impl Record for KmsRec {
    const KIND: &'static str = "frauddetector.kms";
}

/// `Vec<f32>` with `NaN` written as `null` (JSON has no NaN) and read back.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[f32], s: S) -> Result<S::Ok, S::Error> {
        v.iter().map(|x| if x.is_finite() { Some(*x) } else { None }).collect::<Vec<_>>().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        Ok(Vec::<Option<f32>>::deserialize(d)?.into_iter().map(|x| x.unwrap_or(f32::NAN)).collect())
    }
}
