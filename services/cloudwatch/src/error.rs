//! CloudWatch's errors and their one mapping to AWS codes, messages and statuses (the error
//! shapes of the botocore model: `InvalidParameterValue`, `MissingParameter`,
//! `InvalidParameterCombination`, `ResourceNotFound`, …). Internal failures are logged here and
//! reach the client as `InternalServiceError` without detail.

use hearth_protocol::AwsError;

/// Every error a CloudWatch operation can answer.
#[derive(Debug, thiserror::Error)]
pub enum CwError {
    /// A parameter has a value CloudWatch does not accept.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// A required parameter is absent.
    #[error("{0}")]
    MissingParameter(String),
    /// Parameters that cannot be used together (or a request too large as a whole).
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// A value does not match the model's constraints (pattern, enum).
    #[error("{0}")]
    ValidationError(String),
    /// An alarm named in the request does not exist.
    #[error("{0}")]
    ResourceNotFound(String),
    /// A resource named by ARN (tagging) does not exist.
    #[error("{0}")]
    ResourceNotFoundException(String),
    /// `NextToken` was not issued by this service for this request.
    #[error("{0}")]
    InvalidNextToken(String),
    /// A JSON document (`StateReasonData`) is not valid.
    #[error("{0}")]
    InvalidFormat(String),
    /// An account limit (alarms per region) is reached.
    #[error("{0}")]
    LimitExceeded(String),
    /// A protocol rejection already in AWS form.
    #[error("{}: {}", .0.code, .0.message)]
    Aws(AwsError),
    /// Something failed on our side; the detail is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<hearth_runtime::MetaError> for CwError {
    fn from(e: hearth_runtime::MetaError) -> Self {
        CwError::Internal(e.to_string())
    }
}

impl From<hearth_runtime::metrics::MetricsError> for CwError {
    fn from(e: hearth_runtime::metrics::MetricsError) -> Self {
        use hearth_runtime::metrics::MetricsError as M;
        match e {
            M::InvalidParameterValue(m) => CwError::InvalidParameterValue(m),
            other => CwError::Internal(other.to_string()),
        }
    }
}

impl From<CwError> for AwsError {
    fn from(e: CwError) -> Self {
        let (code, status, message) = match e {
            CwError::InvalidParameterValue(m) => ("InvalidParameterValue", 400, m),
            CwError::MissingParameter(m) => ("MissingParameter", 400, m),
            CwError::ValidationError(m) => ("ValidationError", 400, m),
            CwError::InvalidParameterCombination(m) => ("InvalidParameterCombination", 400, m),
            CwError::ResourceNotFound(m) => ("ResourceNotFound", 404, m),
            CwError::ResourceNotFoundException(m) => ("ResourceNotFoundException", 404, m),
            CwError::InvalidNextToken(m) => ("InvalidNextToken", 400, m),
            CwError::InvalidFormat(m) => ("InvalidFormat", 400, m),
            CwError::LimitExceeded(m) => ("LimitExceeded", 400, m),
            CwError::Aws(e) => return e,
            CwError::Internal(detail) => {
                tracing::error!(error = %detail, "cloudwatch internal error");
                return AwsError::new("InternalServiceError", "Internal service error.", 500);
            }
        };
        AwsError::new(code, message, status)
    }
}

/// Shorthand for handler and domain results.
pub type CwResult<T> = Result<T, CwError>;
