//! Lex V2's errors (models and runtime) and their one mapping to AWS codes and statuses
//! (Lex V2 API reference, "Common errors" and each operation's errors). Internal failures are
//! logged here with their detail and reach the client as `InternalServerException` without it.

use hearth_protocol::AwsError;

/// Every error a Lex operation can answer.
#[derive(Debug, thiserror::Error)]
pub enum LexError {
    /// 400: the request is not valid (constraints, references, states).
    #[error("validation: {0}")]
    Validation(String),
    /// 404: a bot, alias, locale, intent, slot, session… does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// 412: the resource is not in a state that allows the operation (or is gone while
    /// updating/deleting).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 409: a name is taken, or a concurrent change got there first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 402: a quota is exhausted.
    #[error("quota: {0}")]
    Quota(String),
    /// 424 (runtime): something the bot depends on failed — here, the text model.
    #[error("dependency failed: {0}")]
    DependencyFailed(String),
    /// A protocol rejection already in AWS form.
    #[error("{}: {}", .0.code, .0.message)]
    Aws(AwsError),
    /// 500: a bug or a storage failure; the detail is logged, not sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<hearth_runtime::MetaError> for LexError {
    fn from(e: hearth_runtime::MetaError) -> Self {
        match e {
            hearth_runtime::MetaError::ConditionFailed { kind, key } => LexError::Conflict(format!(
                "The resource {kind}/{key} was changed by another request at the same time. Try your request again."
            )),
            other => LexError::Internal(other.to_string()),
        }
    }
}

impl From<AwsError> for LexError {
    fn from(e: AwsError) -> Self {
        LexError::Aws(e)
    }
}

impl From<LexError> for AwsError {
    fn from(e: LexError) -> Self {
        e.to_aws()
    }
}

impl LexError {
    /// The error as the client sees it.
    pub fn to_aws(&self) -> AwsError {
        match self {
            LexError::Validation(m) => AwsError::new("ValidationException", m.clone(), 400),
            LexError::NotFound(m) => AwsError::new("ResourceNotFoundException", m.clone(), 404),
            LexError::PreconditionFailed(m) => {
                AwsError::new("PreconditionFailedException", m.clone(), 412)
            }
            LexError::Conflict(m) => AwsError::new("ConflictException", m.clone(), 409),
            LexError::Quota(m) => AwsError::new("ServiceQuotaExceededException", m.clone(), 402),
            LexError::DependencyFailed(m) => {
                AwsError::new("DependencyFailedException", m.clone(), 424)
            }
            LexError::Aws(e) => e.clone(),
            LexError::Internal(detail) => {
                tracing::error!(%detail, "lex internal error");
                AwsError::new(
                    "InternalServerException",
                    "An internal error occurred. Try your request again.",
                    500,
                )
            }
        }
    }

    /// "1 validation error detected: …" in AWS's wording for one member.
    pub fn member(value: &str, member: &str, constraint: &str) -> LexError {
        LexError::Validation(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"))
    }
}

/// Shorthand for handler results.
pub type Result<T> = std::result::Result<T, LexError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        assert_eq!(LexError::NotFound("x".into()).to_aws().status, 404);
        assert_eq!(
            LexError::PreconditionFailed("x".into()).to_aws().code,
            "PreconditionFailedException"
        );
        let internal = LexError::Internal("disk on fire".into()).to_aws();
        assert_eq!(
            (internal.code.as_str(), internal.status.as_u16()),
            ("InternalServerException", 500)
        );
        assert!(!internal.message.contains("disk"));
        let m = LexError::member(
            "x y",
            "botName",
            "Member must satisfy regular expression pattern: ^([0-9a-zA-Z][_-]?){1,100}$",
        );
        assert!(m.to_string().contains("at 'botName'"));
    }
}
