//! Amazon Fraud Detector (awsJson 1.1, target prefix `AWSHawksNestServiceFacade`): event
//! types, events, models trained on real event data with gradient-boosted trees, DETECTORPL
//! rules, detector versions and real-time predictions.
//!
//! Implemented operations:
//! - variables: CreateVariable, BatchCreateVariable, BatchGetVariable, GetVariables,
//!   UpdateVariable, DeleteVariable;
//! - entity types, labels, outcomes: PutEntityType, GetEntityTypes, DeleteEntityType, PutLabel,
//!   GetLabels, DeleteLabel, PutOutcome, GetOutcomes, DeleteOutcome;
//! - event types and events: PutEventType, GetEventTypes, DeleteEventType, SendEvent, GetEvent,
//!   DeleteEvent, UpdateEventLabel, DeleteEventsByEventType, GetDeleteEventsByEventTypeStatus,
//!   CreateBatchImportJob, GetBatchImportJobs, CancelBatchImportJob, DeleteBatchImportJob;
//! - models: CreateModel, GetModels, UpdateModel, DeleteModel, CreateModelVersion,
//!   UpdateModelVersion, GetModelVersion, DescribeModelVersions, UpdateModelVersionStatus,
//!   DeleteModelVersion;
//! - rules and lists: CreateRule, GetRules, UpdateRuleVersion, UpdateRuleMetadata, DeleteRule,
//!   CreateList, GetListElements, GetListsMetadata, UpdateList, DeleteList;
//! - detectors: PutDetector, GetDetectors, DescribeDetector, DeleteDetector,
//!   CreateDetectorVersion, GetDetectorVersion, UpdateDetectorVersion,
//!   UpdateDetectorVersionMetadata, UpdateDetectorVersionStatus, DeleteDetectorVersion;
//! - predictions: GetEventPrediction, GetEventPredictionMetadata, ListEventPredictions;
//! - external (SageMaker) models: PutExternalModel, GetExternalModels, DeleteExternalModel —
//!   invoked in-process through [`endpoints::ModelEndpoints`] during predictions;
//! - TagResource, UntagResource, ListTagsForResource, GetKMSEncryptionKey, PutKMSEncryptionKey.
//!
//! Not implemented (AWS's "not implemented" answer): batch predictions and training of
//! ACCOUNT_TAKEOVER_INSIGHTS models.
//!
//! Layout: `handlers/` (one file per resource family), `domain/` (rule language, features,
//! training, scores — no HTTP), `store.rs` (records), `jobs.rs` (training, imports,
//! deletions), `serving.rs` (in-memory state of predictions), `error.rs`.

pub mod api;
pub mod domain;
pub mod endpoints;
pub mod error;
pub mod handlers;
pub mod jobs;
pub mod serving;
pub mod store;

use api::Operation;
use error::FdError;
use hearth_inference::tabular::Engine;
use hearth_protocol::dispatch::{self, Handler};
use hearth_protocol::schema::{OperationSpec, Service};
use hearth_protocol::{AwsError, RequestContext};
use hearth_runtime::Runtime;
use serde_json::Value;
use std::sync::Arc;

/// What handlers and jobs share.
pub struct Inner {
    pub rt: Runtime,
    pub s3: hearth_s3::S3,
    /// Engine threads for model loads and predictions.
    pub engine: Engine,
    pub serving: serving::Serving,
    /// XGBoost threads of one training.
    pub train_threads: usize,
    /// The SageMaker endpoints external models call (none: external models cannot be invoked).
    pub endpoints: Option<Arc<dyn endpoints::ModelEndpoints>>,
}

/// The Fraud Detector service.
#[derive(Clone)]
pub struct FraudDetector {
    inner: Arc<Inner>,
}

impl FraudDetector {
    /// Build the service on the shared runtime and register its jobs (call it inside the tokio
    /// runtime: it starts the prediction-record writer).
    pub fn new(rt: &Runtime, s3: &hearth_s3::S3) -> FraudDetector {
        FraudDetector::with_endpoints(rt, s3, None)
    }

    /// [`FraudDetector::new`] with the SageMaker endpoints external models invoke.
    pub fn with_endpoints(rt: &Runtime, s3: &hearth_s3::S3, endpoints: Option<Arc<dyn endpoints::ModelEndpoints>>) -> FraudDetector {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let inner = Arc::new(Inner {
            rt: rt.clone(),
            s3: s3.clone(),
            engine: Engine::new(cores.clamp(1, 4)),
            serving: serving::Serving::start(rt.meta.clone()),
            train_threads: cores.clamp(1, 8),
            endpoints,
        });
        rt.jobs.register(jobs::TrainJob(inner.clone()));
        rt.jobs.register(jobs::ImportJob(inner.clone()));
        rt.jobs.register(jobs::DeleteEventsJob(inner.clone()));
        FraudDetector { inner }
    }

    /// The shared state (for benchmarks and in-process callers).
    pub fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

macro_rules! run {
    ($svc:expr, $cx:expr, $input:expr, $req:ty, $f:path) => {{
        let req: $req = dispatch::input(&api::SERVICE, $input)?;
        let out = $f($svc, $cx, req).await.map_err(|e: FdError| e.to_aws())?;
        dispatch::output(&out)
    }};
}

#[async_trait::async_trait]
impl Handler for FraudDetector {
    fn model(&self) -> &'static Service {
        &api::SERVICE
    }

    async fn call(&self, ctx: &RequestContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        let Some(operation) = Operation::from_name(op.name) else {
            return Err(AwsError::new("UnknownOperationException", format!("Unknown operation {}", op.name), 400));
        };
        handlers::validate::check(op.name, &input).map_err(|m| FdError::validation(m).to_aws())?;
        let cx = Cx::new(&ctx.account, &ctx.region, self.inner.rt.clock.now());
        let s = &*self.inner;
        let cx = &cx;
        use handlers::*;
        match operation {
            Operation::CreateVariable => run!(s, cx, input, api::CreateVariableRequest, variables::create_variable),
            Operation::BatchCreateVariable => run!(s, cx, input, api::BatchCreateVariableRequest, variables::batch_create_variable),
            Operation::BatchGetVariable => run!(s, cx, input, api::BatchGetVariableRequest, variables::batch_get_variable),
            Operation::GetVariables => run!(s, cx, input, api::GetVariablesRequest, variables::get_variables),
            Operation::UpdateVariable => run!(s, cx, input, api::UpdateVariableRequest, variables::update_variable),
            Operation::DeleteVariable => run!(s, cx, input, api::DeleteVariableRequest, variables::delete_variable),
            Operation::PutEntityType => run!(s, cx, input, api::PutEntityTypeRequest, resources::put_entity_type),
            Operation::GetEntityTypes => run!(s, cx, input, api::GetEntityTypesRequest, resources::get_entity_types),
            Operation::DeleteEntityType => run!(s, cx, input, api::DeleteEntityTypeRequest, resources::delete_entity_type),
            Operation::PutLabel => run!(s, cx, input, api::PutLabelRequest, resources::put_label),
            Operation::GetLabels => run!(s, cx, input, api::GetLabelsRequest, resources::get_labels),
            Operation::DeleteLabel => run!(s, cx, input, api::DeleteLabelRequest, resources::delete_label),
            Operation::PutOutcome => run!(s, cx, input, api::PutOutcomeRequest, resources::put_outcome),
            Operation::GetOutcomes => run!(s, cx, input, api::GetOutcomesRequest, resources::get_outcomes),
            Operation::DeleteOutcome => run!(s, cx, input, api::DeleteOutcomeRequest, resources::delete_outcome),
            Operation::PutEventType => run!(s, cx, input, api::PutEventTypeRequest, event_types::put_event_type),
            Operation::GetEventTypes => run!(s, cx, input, api::GetEventTypesRequest, event_types::get_event_types),
            Operation::DeleteEventType => run!(s, cx, input, api::DeleteEventTypeRequest, event_types::delete_event_type),
            Operation::SendEvent => run!(s, cx, input, api::SendEventRequest, events::send_event),
            Operation::GetEvent => run!(s, cx, input, api::GetEventRequest, events::get_event),
            Operation::DeleteEvent => run!(s, cx, input, api::DeleteEventRequest, events::delete_event),
            Operation::UpdateEventLabel => run!(s, cx, input, api::UpdateEventLabelRequest, events::update_event_label),
            Operation::DeleteEventsByEventType => run!(s, cx, input, api::DeleteEventsByEventTypeRequest, events::delete_events_by_event_type),
            Operation::GetDeleteEventsByEventTypeStatus => run!(s, cx, input, api::GetDeleteEventsByEventTypeStatusRequest, events::get_delete_events_by_event_type_status),
            Operation::CreateBatchImportJob => run!(s, cx, input, api::CreateBatchImportJobRequest, batch_import::create_batch_import_job),
            Operation::GetBatchImportJobs => run!(s, cx, input, api::GetBatchImportJobsRequest, batch_import::get_batch_import_jobs),
            Operation::CancelBatchImportJob => run!(s, cx, input, api::CancelBatchImportJobRequest, batch_import::cancel_batch_import_job),
            Operation::DeleteBatchImportJob => run!(s, cx, input, api::DeleteBatchImportJobRequest, batch_import::delete_batch_import_job),
            Operation::CreateModel => run!(s, cx, input, api::CreateModelRequest, models::create_model),
            Operation::GetModels => run!(s, cx, input, api::GetModelsRequest, models::get_models),
            Operation::UpdateModel => run!(s, cx, input, api::UpdateModelRequest, models::update_model),
            Operation::DeleteModel => run!(s, cx, input, api::DeleteModelRequest, models::delete_model),
            Operation::CreateModelVersion => run!(s, cx, input, api::CreateModelVersionRequest, models::create_model_version),
            Operation::GetModelVersion => run!(s, cx, input, api::GetModelVersionRequest, models::get_model_version),
            Operation::DescribeModelVersions => run!(s, cx, input, api::DescribeModelVersionsRequest, models::describe_model_versions),
            Operation::UpdateModelVersionStatus => run!(s, cx, input, api::UpdateModelVersionStatusRequest, models::update_model_version_status),
            Operation::UpdateModelVersion => run!(s, cx, input, api::UpdateModelVersionRequest, models::update_model_version),
            Operation::DeleteModelVersion => run!(s, cx, input, api::DeleteModelVersionRequest, models::delete_model_version),
            Operation::CreateRule => run!(s, cx, input, api::CreateRuleRequest, rules::create_rule),
            Operation::GetRules => run!(s, cx, input, api::GetRulesRequest, rules::get_rules),
            Operation::UpdateRuleVersion => run!(s, cx, input, api::UpdateRuleVersionRequest, rules::update_rule_version),
            Operation::UpdateRuleMetadata => run!(s, cx, input, api::UpdateRuleMetadataRequest, rules::update_rule_metadata),
            Operation::DeleteRule => run!(s, cx, input, api::DeleteRuleRequest, rules::delete_rule),
            Operation::PutDetector => run!(s, cx, input, api::PutDetectorRequest, detectors::put_detector),
            Operation::GetDetectors => run!(s, cx, input, api::GetDetectorsRequest, detectors::get_detectors),
            Operation::DescribeDetector => run!(s, cx, input, api::DescribeDetectorRequest, detectors::describe_detector),
            Operation::DeleteDetector => run!(s, cx, input, api::DeleteDetectorRequest, detectors::delete_detector),
            Operation::CreateDetectorVersion => run!(s, cx, input, api::CreateDetectorVersionRequest, detectors::create_detector_version),
            Operation::GetDetectorVersion => run!(s, cx, input, api::GetDetectorVersionRequest, detectors::get_detector_version),
            Operation::UpdateDetectorVersion => run!(s, cx, input, api::UpdateDetectorVersionRequest, detectors::update_detector_version),
            Operation::UpdateDetectorVersionMetadata => run!(s, cx, input, api::UpdateDetectorVersionMetadataRequest, detectors::update_detector_version_metadata),
            Operation::UpdateDetectorVersionStatus => run!(s, cx, input, api::UpdateDetectorVersionStatusRequest, detectors::update_detector_version_status),
            Operation::DeleteDetectorVersion => run!(s, cx, input, api::DeleteDetectorVersionRequest, detectors::delete_detector_version),
            Operation::GetEventPrediction => run!(s, cx, input, api::GetEventPredictionRequest, predictions::get_event_prediction),
            Operation::GetEventPredictionMetadata => run!(s, cx, input, api::GetEventPredictionMetadataRequest, predictions::get_event_prediction_metadata),
            Operation::ListEventPredictions => run!(s, cx, input, api::ListEventPredictionsRequest, predictions::list_event_predictions),
            Operation::PutExternalModel => run!(s, cx, input, api::PutExternalModelRequest, external_models::put_external_model),
            Operation::GetExternalModels => run!(s, cx, input, api::GetExternalModelsRequest, external_models::get_external_models),
            Operation::DeleteExternalModel => run!(s, cx, input, api::DeleteExternalModelRequest, external_models::delete_external_model),
            Operation::CreateList => run!(s, cx, input, api::CreateListRequest, lists::create_list),
            Operation::GetListElements => run!(s, cx, input, api::GetListElementsRequest, lists::get_list_elements),
            Operation::GetListsMetadata => run!(s, cx, input, api::GetListsMetadataRequest, lists::get_lists_metadata),
            Operation::UpdateList => run!(s, cx, input, api::UpdateListRequest, lists::update_list),
            Operation::DeleteList => run!(s, cx, input, api::DeleteListRequest, lists::delete_list),
            Operation::TagResource => run!(s, cx, input, api::TagResourceRequest, tags::tag_resource),
            Operation::UntagResource => run!(s, cx, input, api::UntagResourceRequest, tags::untag_resource),
            Operation::ListTagsForResource => run!(s, cx, input, api::ListTagsForResourceRequest, tags::list_tags_for_resource),
            Operation::GetKMSEncryptionKey => {
                let out = tags::get_kms_encryption_key(s, cx).await.map_err(|e| e.to_aws())?;
                dispatch::output(&out)
            }
            Operation::PutKMSEncryptionKey => run!(s, cx, input, api::PutKMSEncryptionKeyRequest, tags::put_kms_encryption_key),
        }
    }
}
