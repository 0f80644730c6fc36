//! Transcribe's errors and their one mapping to AWS codes, messages and statuses. Transcribe
//! answers constraint violations with `BadRequestException` and the standard "1 validation
//! error detected" text; internal failures are logged and reach the client as
//! `InternalFailureException` without detail.

use hearth_protocol::AwsError;

/// Every way a Transcribe request can fail.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    /// Bad input; the message is AWS's.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A name that already exists.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A resource that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A quota.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// Anything of ours that went wrong (logged, never shown).
    #[error("internal: {0}")]
    Internal(String),
}

impl TranscribeError {
    /// "1 validation error detected: Value 'v' at 'field' failed to satisfy constraint: …".
    pub fn validation(value: &str, field: &str, constraint: &str) -> Self {
        TranscribeError::BadRequest(format!("1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"))
    }

    /// The AWS error the client sees.
    pub fn to_aws(&self) -> AwsError {
        match self {
            TranscribeError::BadRequest(m) => AwsError::new("BadRequestException", m.clone(), 400),
            TranscribeError::Conflict(m) => AwsError::new("ConflictException", m.clone(), 400),
            TranscribeError::NotFound(m) => AwsError::new("NotFoundException", m.clone(), 400),
            TranscribeError::LimitExceeded(m) => AwsError::new("LimitExceededException", m.clone(), 400),
            TranscribeError::Internal(detail) => {
                tracing::error!(error = %detail, "transcribe internal failure");
                AwsError::new("InternalFailureException", "We encountered an internal error. Try again.", 500)
            }
        }
    }
}

impl From<hearth_runtime::MetaError> for TranscribeError {
    fn from(e: hearth_runtime::MetaError) -> Self {
        TranscribeError::Internal(e.to_string())
    }
}

impl From<hearth_runtime::jobs::QueueError> for TranscribeError {
    fn from(e: hearth_runtime::jobs::QueueError) -> Self {
        TranscribeError::Internal(e.to_string())
    }
}

/// Result of a handler.
pub type Result<T> = std::result::Result<T, TranscribeError>;
