//! The Fraud Detector's errors and their one mapping to AWS codes and statuses. The service
//! answers only the codes its model declares: `ValidationException`,
//! `ResourceNotFoundException`, `ConflictException`, `AccessDeniedException`,
//! `ThrottlingException`, `ResourceUnavailableException` and `InternalServerException`
//! (detail logged, never sent).

use hearth_protocol::AwsError;

/// Everything a Fraud Detector operation can answer besides success.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FdError {
    /// `ValidationException` (400).
    #[error("{0}")]
    Validation(String),
    /// `ResourceNotFoundException` (404).
    #[error("{0}")]
    NotFound(String),
    /// `ConflictException` (409).
    #[error("{0}")]
    Conflict(String),
    /// `ResourceUnavailableException` (400): a model that cannot be served right now.
    #[error("{0}")]
    Unavailable(String),
    /// A protocol rejection already in AWS form.
    #[error("{}: {}", .0.code, .0.message)]
    Aws(AwsError),
    /// Storage or engine failure; logged, answered as `InternalServerException`.
    #[error("internal: {0}")]
    Internal(String),
}

/// Result of a Fraud Detector operation.
pub type FdResult<T> = Result<T, FdError>;

impl FdError {
    /// `ValidationException` with this message.
    pub fn validation(m: impl Into<String>) -> Self {
        FdError::Validation(m.into())
    }
    /// `ResourceNotFoundException` with this message.
    pub fn not_found(m: impl Into<String>) -> Self {
        FdError::NotFound(m.into())
    }
    /// `ConflictException` with this message.
    pub fn conflict(m: impl Into<String>) -> Self {
        FdError::Conflict(m.into())
    }
    /// An internal failure (logged with its detail).
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        FdError::Internal(detail.to_string())
    }

    /// The error as the client sees it.
    pub fn to_aws(&self) -> AwsError {
        match self {
            FdError::Validation(m) => AwsError::new("ValidationException", m.clone(), 400),
            FdError::NotFound(m) => AwsError::new("ResourceNotFoundException", m.clone(), 404),
            FdError::Conflict(m) => AwsError::new("ConflictException", m.clone(), 409),
            FdError::Unavailable(m) => AwsError::new("ResourceUnavailableException", m.clone(), 400),
            FdError::Aws(e) => e.clone(),
            FdError::Internal(detail) => {
                tracing::error!(%detail, "frauddetector internal error");
                AwsError::new("InternalServerException", "An internal server error occurred. Please try again.", 500)
            }
        }
    }
}

impl From<AwsError> for FdError {
    fn from(e: AwsError) -> Self {
        FdError::Aws(e)
    }
}

impl From<hearth_runtime::MetaError> for FdError {
    fn from(e: hearth_runtime::MetaError) -> Self {
        FdError::Internal(e.to_string())
    }
}

impl From<hearth_runtime::jobs::QueueError> for FdError {
    fn from(e: hearth_runtime::jobs::QueueError) -> Self {
        FdError::Internal(e.to_string())
    }
}
