//! The SageMaker control plane's errors, mapped to AWS's codes, messages and statuses in one
//! `match` ([`SageMakerError::to_aws`]). Internal failures are logged with their detail and
//! reach the client as `InternalFailure` without it.

use hearth_protocol::AwsError;

/// Everything a SageMaker operation can answer besides success.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SageMakerError {
    /// `ValidationException` (400): bad input, a missing resource (SageMaker reports most of
    /// those as validation errors: `Could not find model "arn…".`), a resource in the wrong state.
    #[error("{0}")]
    Validation(String),
    /// `ResourceNotFound` (400).
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceInUse` (400): a name already taken (training jobs).
    #[error("{0}")]
    ResourceInUse(String),
    /// `ResourceLimitExceeded` (400).
    #[error("{0}")]
    ResourceLimitExceeded(String),
    /// A server-side failure (storage, jobs); the detail is logged, not sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl SageMakerError {
    /// The error as the client sees it.
    pub fn to_aws(&self) -> AwsError {
        match self {
            SageMakerError::Validation(m) => AwsError::new("ValidationException", m.clone(), 400),
            SageMakerError::ResourceNotFound(m) => AwsError::new("ResourceNotFound", m.clone(), 400),
            SageMakerError::ResourceInUse(m) => AwsError::new("ResourceInUse", m.clone(), 400),
            SageMakerError::ResourceLimitExceeded(m) => AwsError::new("ResourceLimitExceeded", m.clone(), 400),
            SageMakerError::Internal(detail) => {
                tracing::error!(detail = %detail, "sagemaker internal error");
                AwsError::internal()
            }
        }
    }

    /// Shorthand for a validation error.
    pub fn validation(m: impl Into<String>) -> Self {
        SageMakerError::Validation(m.into())
    }
}

impl From<SageMakerError> for AwsError {
    fn from(e: SageMakerError) -> Self {
        e.to_aws()
    }
}

impl From<hearth_runtime::MetaError> for SageMakerError {
    fn from(e: hearth_runtime::MetaError) -> Self {
        SageMakerError::Internal(e.to_string())
    }
}

impl From<hearth_runtime::jobs::QueueError> for SageMakerError {
    fn from(e: hearth_runtime::jobs::QueueError) -> Self {
        SageMakerError::Internal(e.to_string())
    }
}
