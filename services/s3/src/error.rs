//! S3's errors and their one mapping to AWS codes, messages and statuses (S3 API reference,
//! "Error responses"). Internal failures are logged here and reach the client as `InternalError`.

use hearth_protocol::AwsError;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("access denied")]
    AccessDenied,
    #[error("bucket exists")]
    BucketAlreadyExists(String),
    #[error("bucket owned by you")]
    BucketAlreadyOwnedByYou(String),
    #[error("bucket not empty")]
    BucketNotEmpty(String),
    #[error("no such bucket")]
    NoSuchBucket(String),
    #[error("no such key")]
    NoSuchKey(String),
    #[error("no such upload")]
    NoSuchUpload(String),
    #[error("invalid bucket name")]
    InvalidBucketName(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("invalid range")]
    InvalidRange(u64),
    #[error("bad digest")]
    BadDigest,
    #[error("invalid digest")]
    InvalidDigest,
    #[error("sha256 mismatch")]
    ContentSha256Mismatch { client: String, computed: String },
    #[error("checksum mismatch")]
    ChecksumMismatch(&'static str),
    #[error("entity too small")]
    EntityTooSmall,
    #[error("entity too large")]
    EntityTooLarge,
    #[error("incomplete body")]
    IncompleteBody,
    #[error("invalid part")]
    InvalidPart,
    #[error("invalid part order")]
    InvalidPartOrder,
    #[error("malformed xml")]
    MalformedXml,
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("missing content length")]
    MissingContentLength,
    #[error("key too long")]
    KeyTooLong,
    #[error("metadata too large")]
    MetadataTooLarge,
    #[error("invalid location constraint")]
    InvalidLocationConstraint,
    #[error("illegal location constraint")]
    IllegalLocationConstraint(String),
    #[error("not implemented: {0}")]
    NotImplemented(String),
    /// A protocol rejection already in AWS form (bad signature, malformed input).
    #[error("{}: {}", .0.code, .0.message)]
    Aws(AwsError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<hearth_runtime::MetaError> for S3Error {
    fn from(e: hearth_runtime::MetaError) -> Self {
        S3Error::Internal(e.to_string())
    }
}

impl From<std::io::Error> for S3Error {
    fn from(e: std::io::Error) -> Self {
        S3Error::Internal(e.to_string())
    }
}

impl S3Error {
    pub fn to_aws(&self) -> AwsError {
        use S3Error::*;
        match self {
            AccessDenied => AwsError::new("AccessDenied", "Access Denied", 403),
            BucketAlreadyExists(b) => AwsError::new("BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", 409).with("BucketName", b),
            BucketAlreadyOwnedByYou(b) => AwsError::new("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", 409).with("BucketName", b),
            BucketNotEmpty(b) => AwsError::new("BucketNotEmpty", "The bucket you tried to delete is not empty", 409).with("BucketName", b),
            NoSuchBucket(b) => AwsError::new("NoSuchBucket", "The specified bucket does not exist", 404).with("BucketName", b),
            NoSuchKey(k) => AwsError::new("NoSuchKey", "The specified key does not exist.", 404).with("Key", k),
            NoSuchUpload(u) => AwsError::new("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", 404).with("UploadId", u),
            InvalidBucketName(b) => AwsError::new("InvalidBucketName", "The specified bucket is not valid.", 400).with("BucketName", b),
            InvalidArgument(m) => AwsError::new("InvalidArgument", m.clone(), 400),
            InvalidRequest(m) => AwsError::new("InvalidRequest", m.clone(), 400),
            InvalidRange(size) => AwsError::new("InvalidRange", "The requested range is not satisfiable", 416).with("ActualObjectSize", size.to_string()),
            BadDigest => AwsError::new("BadDigest", "The Content-MD5 you specified did not match what we received.", 400),
            InvalidDigest => AwsError::new("InvalidDigest", "The Content-MD5 you specified is not valid.", 400),
            ContentSha256Mismatch { client, computed } => AwsError::new("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", 400)
                .with("ClientComputedContentSHA256", client)
                .with("S3ComputedContentSHA256", computed),
            ChecksumMismatch(alg) => AwsError::new("BadDigest", format!("The {alg} you specified did not match the calculated checksum."), 400),
            EntityTooSmall => AwsError::new("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", 400),
            EntityTooLarge => AwsError::new("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.", 400),
            IncompleteBody => AwsError::new("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.", 400),
            InvalidPart => AwsError::new("InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", 400),
            InvalidPartOrder => AwsError::new("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.", 400),
            MalformedXml => AwsError::new("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema", 400),
            PreconditionFailed => AwsError::new("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412).with("Condition", "If-Match"),
            MissingContentLength => AwsError::new("MissingContentLength", "You must provide the Content-Length HTTP header.", 411),
            KeyTooLong => AwsError::new("KeyTooLongError", "Your key is too long", 400),
            MetadataTooLarge => AwsError::new("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.", 400).with("MaxSizeAllowed", "2048"),
            InvalidLocationConstraint => AwsError::new("InvalidLocationConstraint", "The specified location-constraint is not valid", 400),
            IllegalLocationConstraint(r) => AwsError::new("IllegalLocationConstraintException", format!("The {r} location constraint is incompatible for the region specific endpoint this request was sent to."), 400),
            NotImplemented(op) => AwsError::new("NotImplemented", format!("A header or operation you provided implies functionality that is not implemented ({op})."), 501),
            Aws(e) => e.clone(),
            Internal(detail) => {
                tracing::error!(%detail, "s3 internal error");
                AwsError::new("InternalError", "We encountered an internal error. Please try again.", 500)
            }
        }
    }
}
