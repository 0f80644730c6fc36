//! SNS's errors and their one mapping to AWS codes, messages and statuses. Messages copy what
//! AWS answers (most were recorded against AWS by LocalStack's snapshot tests): SNS puts the
//! detail in the message of a handful of codes (`InvalidParameter`, `NotFound`, …). Internal
//! failures are logged here and reach the client as `InternalError` without detail.

use hearth_protocol::AwsError;

/// Everything an SNS operation can answer besides success.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SnsError {
    /// `InvalidParameter` (400); the message is AWS's full text, e.g. `Invalid parameter: Topic Name`.
    #[error("{0}")]
    InvalidParameter(String),
    /// `ParameterValueInvalid` (400), used for message attribute problems.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// `NotFound` (404): `Topic does not exist`, `Subscription does not exist`.
    #[error("{0}")]
    NotFound(String),
    /// `ResourceNotFound` (404) of the tagging operations.
    #[error("resource not found")]
    ResourceNotFound,
    /// `TagLimitExceeded` (400).
    #[error("tag limit exceeded")]
    TagLimitExceeded,
    /// `AuthorizationError` (403): the caller may not act on another account's resource.
    #[error("{0}")]
    AuthorizationError(String),
    /// A protocol rejection already in AWS form.
    #[error("{}: {}", .0.code, .0.message)]
    Aws(AwsError),
    /// Storage or encoding failed; logged, answered as `InternalError`.
    #[error("internal: {0}")]
    Internal(String),
}

impl SnsError {
    /// `InvalidParameter` with AWS's message.
    pub fn invalid(message: impl Into<String>) -> Self {
        SnsError::InvalidParameter(message.into())
    }

    /// `NotFound: Topic does not exist`.
    pub fn topic_not_found() -> Self {
        SnsError::NotFound("Topic does not exist".into())
    }

    /// `NotFound: Subscription does not exist`.
    pub fn subscription_not_found() -> Self {
        SnsError::NotFound("Subscription does not exist".into())
    }

    /// The error as the client sees it.
    pub fn to_aws(&self) -> AwsError {
        match self {
            SnsError::InvalidParameter(m) => AwsError::new("InvalidParameter", m.clone(), 400),
            SnsError::InvalidParameterValue(m) => AwsError::new("ParameterValueInvalid", m.clone(), 400),
            SnsError::NotFound(m) => AwsError::new("NotFound", m.clone(), 404),
            SnsError::ResourceNotFound => AwsError::new("ResourceNotFound", "Resource does not exist", 404),
            SnsError::TagLimitExceeded => {
                AwsError::new("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded", 400)
            }
            SnsError::AuthorizationError(m) => AwsError::new("AuthorizationError", m.clone(), 403),
            SnsError::Aws(e) => e.clone(),
            SnsError::Internal(detail) => {
                tracing::error!(%detail, "sns internal error");
                AwsError::new("InternalError", "Internal service error", 500)
            }
        }
    }
}

impl From<AwsError> for SnsError {
    fn from(e: AwsError) -> Self {
        SnsError::Aws(e)
    }
}

impl From<hearth_runtime::MetaError> for SnsError {
    fn from(e: hearth_runtime::MetaError) -> Self {
        SnsError::Internal(e.to_string())
    }
}

impl From<hearth_runtime::jobs::QueueError> for SnsError {
    fn from(e: hearth_runtime::jobs::QueueError) -> Self {
        SnsError::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let e = SnsError::topic_not_found().to_aws();
        assert_eq!((e.code.as_str(), e.message.as_str(), e.status.as_u16()), ("NotFound", "Topic does not exist", 404));
        assert!(e.sender_fault);
        let e = SnsError::invalid("Invalid parameter: Topic Name").to_aws();
        assert_eq!((e.code.as_str(), e.status.as_u16()), ("InvalidParameter", 400));
        let e = SnsError::Internal("db down".into()).to_aws();
        assert_eq!(e.status.as_u16(), 500);
        assert!(!e.message.contains("db down"));
    }
}
