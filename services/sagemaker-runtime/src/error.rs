//! SageMaker Runtime's errors, mapped to AWS's codes and statuses in one `match`.

use hearth_protocol::AwsError;
use hearth_sagemaker::hosting::InvokeError;

/// What InvokeEndpoint can answer besides success.
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeError {
    /// `ValidationError` (400).
    Validation(String),
    /// `ModelError` (424): the model container answered with an error.
    Model { original_status: u16, original_message: String, message: String, log_stream_arn: String },
    /// `ThrottlingException` (400): serverless `MaxConcurrency` reached (AWS sends no message).
    Throttling,
    /// A server-side failure; logged, sent as `InternalFailure`.
    Internal(String),
}

impl From<InvokeError> for RuntimeError {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::Validation(m) => RuntimeError::Validation(m),
            InvokeError::Model { original_status, original_message, message, log_stream_arn } => RuntimeError::Model { original_status, original_message, message, log_stream_arn },
            InvokeError::Throttling => RuntimeError::Throttling,
            InvokeError::Internal(m) => RuntimeError::Internal(m),
        }
    }
}

impl RuntimeError {
    /// The error as the client sees it.
    pub fn to_aws(&self) -> AwsError {
        match self {
            RuntimeError::Validation(m) => AwsError::new("ValidationError", m.clone(), 400),
            RuntimeError::Model { original_status, original_message, message, log_stream_arn } => AwsError::new("ModelError", message.clone(), 424)
                .with("OriginalStatusCode", original_status.to_string())
                .with("OriginalMessage", original_message.clone())
                .with("LogStreamArn", log_stream_arn.clone()),
            RuntimeError::Throttling => AwsError::new("ThrottlingException", "", 400),
            RuntimeError::Internal(detail) => {
                tracing::error!(detail = %detail, "sagemaker-runtime internal error");
                AwsError::new("InternalFailure", "An internal failure occurred.", 500)
            }
        }
    }
}
