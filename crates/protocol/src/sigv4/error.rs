//! Why a request failed authentication, and the AWS error each protocol answers with.
//!
//! [`AuthError`] says what went wrong in protocol-neutral terms; [`AuthError::to_aws`] turns it
//! into the code, message, status and extra fields that the service's own protocol uses, copying
//! AWS wording (S3 on `restXml`; `awsJson`/`restJson` services; `awsQuery` services such as STS,
//! SNS and CloudWatch).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::time_fmt::amz_datetime;
use crate::error::{AwsError, Protocol};

/// The signature message S3 sends with `SignatureDoesNotMatch`.
const S3_BAD_SIGNATURE: &str =
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
/// The signature message of every other service (`InvalidSignatureException`, `SignatureDoesNotMatch`).
const BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. \
Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
/// The message of `UnrecognizedClientException` / `InvalidClientTokenId`.
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

/// A request that could not be authenticated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header and no presigned query parameters.
    #[error("request carries no authentication")]
    Missing,
    /// Authentication of a kind this server does not accept (SigV2, SigV4A, bearer tokens...).
    #[error("unsupported authorization type {0:?}")]
    UnsupportedAlgorithm(String),
    /// Both an `Authorization` header and presigned query parameters.
    #[error("more than one authentication mechanism in the request")]
    MultipleAuth,
    /// The `Authorization` header lacks some of `Credential`, `SignedHeaders` and `Signature`.
    #[error("authorization header lacks {missing:?}")]
    IncompleteHeader {
        /// The component names that are missing, in AWS's order.
        missing: Vec<&'static str>,
        /// The header as received, echoed by JSON services.
        header: String,
    },
    /// The `Authorization` header is present but malformed. The detail uses S3's wording and
    /// follows "The authorization header is malformed; ".
    #[error("malformed authorization header: {0}")]
    Malformed(String),
    /// A presigned URL's `X-Amz-*` parameters are malformed; the text is S3's whole message.
    #[error("malformed presigned query: {0}")]
    MalformedPresigned(String),
    /// A SigV2 presigned URL's parameters are missing or malformed; the text is S3's message.
    #[error("malformed sigv2 presigned query: {0}")]
    MalformedPresignedV2(String),
    /// A SigV2 presigned URL past its `Expires`.
    #[error("sigv2 presigned request expired at {expires_at}")]
    ExpiredV2 {
        /// When the URL stopped being valid.
        expires_at: OffsetDateTime,
        /// The server's time when it checked.
        server_time: OffsetDateTime,
    },
    /// Header authentication without a usable `X-Amz-Date` or `Date` header.
    #[error("no valid x-amz-date or date header")]
    MissingDate,
    /// The access key is not one of ours.
    #[error("unknown access key {0:?}")]
    UnknownKey(String),
    /// The signature does not match; the strings are what the server computed, which AWS
    /// returns to help the client debug its signer.
    #[error("signature does not match")]
    BadSignature {
        /// The access key of the request.
        access_key: String,
        /// The signature the client sent.
        signature_provided: String,
        /// The string to sign the server computed.
        string_to_sign: String,
        /// The canonical request the server computed.
        canonical_request: String,
    },
    /// Header authentication whose request time is more than 15 minutes from the server's.
    #[error("request time {request_time} is too far from server time {server_time}")]
    Skewed {
        /// The time the request says it was signed.
        request_time: OffsetDateTime,
        /// The server's time when it checked.
        server_time: OffsetDateTime,
    },
    /// A presigned URL past `X-Amz-Date + X-Amz-Expires`.
    #[error("presigned request expired at {expires_at}")]
    Expired {
        /// The `X-Amz-Expires` value, in seconds.
        expires_secs: i64,
        /// When the URL stopped being valid.
        expires_at: OffsetDateTime,
        /// The server's time when it checked.
        server_time: OffsetDateTime,
    },
    /// A presigned URL whose `X-Amz-Date` is more than 15 minutes in the future.
    #[error("presigned request dated {request_time} is not valid yet")]
    NotYetValid {
        /// The time the URL says it was signed.
        request_time: OffsetDateTime,
        /// When the URL stops being valid.
        expires_at: OffsetDateTime,
        /// The server's time when it checked.
        server_time: OffsetDateTime,
    },
    /// Presigned (S3) request with `x-amz-*` headers that are not in `X-Amz-SignedHeaders`.
    #[error("unsigned x-amz headers: {0:?}")]
    HeadersNotSigned(Vec<String>),
    /// `x-amz-content-sha256` is neither a digest nor one of the known sentinel values.
    #[error("invalid x-amz-content-sha256 {0:?}")]
    InvalidContentSha256(String),
    /// `x-amz-content-sha256` disagrees with the hash of the body the caller already read.
    #[error("x-amz-content-sha256 {client} does not match body hash {computed}")]
    ContentSha256Mismatch {
        /// What the client said.
        client: String,
        /// What the body hashes to.
        computed: String,
    },
    /// Streamed (S3) request without `x-amz-content-sha256`: nothing to put in the canonical request.
    #[error("missing x-amz-content-sha256")]
    MissingContentSha256,
    /// An aws-chunked chunk (or the trailer) whose signature does not match.
    #[error("chunk signature does not match")]
    ChunkSignatureMismatch {
        /// The chunk string to sign the server computed.
        string_to_sign: String,
    },
    /// The aws-chunked body is not well-formed.
    #[error("malformed aws-chunked body: {0}")]
    MalformedChunk(String),
    /// The aws-chunked trailer section is not well-formed.
    #[error("malformed aws-chunked trailer: {0}")]
    MalformedTrailer(String),
    /// The aws-chunked body ended before its final chunk.
    #[error("aws-chunked body ended early")]
    IncompleteBody,
}

impl AuthError {
    /// The AWS error a client of a service speaking `protocol` expects for this failure.
    /// `service` is the signing name (`s3`, `sts`, `rekognition`...); S3 wording is used for
    /// `restXml` and for the `s3` service.
    pub fn to_aws(&self, protocol: Protocol, service: &str) -> AwsError {
        let family = if matches!(protocol, Protocol::RestXml) || service == "s3" {
            Family::S3
        } else if matches!(protocol, Protocol::Query) {
            Family::Query
        } else {
            Family::Json
        };
        tracing::debug!(service, error = %self, "request authentication failed");
        let mut e = match family {
            Family::S3 => self.s3(),
            Family::Json | Family::Query => self.other(family),
        };
        // awsJson services (DynamoDB, Kinesis, SageMaker, Rekognition...) answer these with 400;
        // restJson services behind API Gateway keep 403.
        if matches!(protocol, Protocol::AwsJson { .. } | Protocol::RpcV2Cbor) && e.status.as_u16() == 403 {
            e.status = http::StatusCode::BAD_REQUEST;
        }
        e
    }

    fn s3(&self) -> AwsError {
        use AuthError::*;
        match self {
            Missing => AwsError::new("AccessDenied", "Access Denied", 403),
            UnsupportedAlgorithm(value) => AwsError::new("InvalidArgument", "Unsupported Authorization Type", 400)
                .with("ArgumentName", "Authorization")
                .with("ArgumentValue", value.clone()),
            MultipleAuth => AwsError::new(
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query \
                 string parameter or the Authorization header should be specified",
                400,
            )
            .with("ArgumentName", "Authorization"),
            IncompleteHeader { .. } => AwsError::new(
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; the authorization header requires three components: \
                 Credential, SignedHeaders, and Signature.",
                400,
            ),
            Malformed(detail) => AwsError::new(
                "AuthorizationHeaderMalformed",
                format!("The authorization header is malformed; {detail}"),
                400,
            ),
            MalformedPresigned(message) => AwsError::new("AuthorizationQueryParametersError", message.clone(), 400),
            MalformedPresignedV2(message) => AwsError::new("AccessDenied", message.clone(), 403),
            ExpiredV2 { expires_at, server_time } => AwsError::new("AccessDenied", "Request has expired", 403)
                .with("Expires", rfc3339(*expires_at))
                .with("ServerTime", rfc3339(*server_time)),
            MissingDate => AwsError::new("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403),
            UnknownKey(key) => AwsError::new(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                403,
            )
            .with("AWSAccessKeyId", key.clone()),
            BadSignature { access_key, signature_provided, string_to_sign, canonical_request } => {
                AwsError::new("SignatureDoesNotMatch", S3_BAD_SIGNATURE, 403)
                    .with("AWSAccessKeyId", access_key.clone())
                    .with("StringToSign", string_to_sign.clone())
                    .with("SignatureProvided", signature_provided.clone())
                    .with("StringToSignBytes", spaced_hex(string_to_sign.as_bytes()))
                    .with("CanonicalRequest", canonical_request.clone())
                    .with("CanonicalRequestBytes", spaced_hex(canonical_request.as_bytes()))
            }
            Skewed { request_time, server_time } => AwsError::new(
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                403,
            )
            .with("RequestTime", amz_datetime(*request_time))
            .with("ServerTime", rfc3339(*server_time))
            .with("MaxAllowedSkewMilliseconds", "900000"),
            Expired { expires_secs, expires_at, server_time } => AwsError::new("AccessDenied", "Request has expired", 403)
                .with("X-Amz-Expires", expires_secs.to_string())
                .with("Expires", rfc3339(*expires_at))
                .with("ServerTime", rfc3339(*server_time)),
            NotYetValid { request_time, expires_at, server_time } => {
                AwsError::new("AccessDenied", "Request is not valid yet", 403)
                    .with("X-Amz-Date", amz_datetime(*request_time))
                    .with("Expires", rfc3339(*expires_at))
                    .with("ServerTime", rfc3339(*server_time))
            }
            HeadersNotSigned(names) => {
                AwsError::new("AccessDenied", "There were headers present in the request which were not signed", 403)
                    .with("HeadersNotSigned", names.join(", "))
            }
            InvalidContentSha256(value) => AwsError::new(
                "InvalidArgument",
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, \
                 STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.",
                400,
            )
            .with("ArgumentName", "x-amz-content-sha256")
            .with("ArgumentValue", value.clone()),
            ContentSha256Mismatch { client, computed } => AwsError::new(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                400,
            )
            .with("ClientComputedContentSHA256", client.clone())
            .with("S3ComputedContentSHA256", computed.clone()),
            MissingContentSha256 => {
                AwsError::new("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400)
            }
            ChunkSignatureMismatch { string_to_sign } => AwsError::new("SignatureDoesNotMatch", S3_BAD_SIGNATURE, 403)
                .with("StringToSign", string_to_sign.clone()),
            MalformedChunk(detail) => {
                AwsError::new("InvalidRequest", format!("Invalid aws-chunked request body: {detail}"), 400)
            }
            MalformedTrailer(_) => AwsError::new(
                "MalformedTrailerError",
                "The request contained trailing data that was not well-formed or did not conform to our published schema.",
                400,
            ),
            IncompleteBody => AwsError::new("IncompleteBody", "The request body terminated unexpectedly", 400),
        }
    }

    fn other(&self, family: Family) -> AwsError {
        use AuthError::*;
        let json = family == Family::Json;
        let incomplete = if json {
            "IncompleteSignatureException"
        } else {
            "IncompleteSignature"
        };
        let bad_signature = if json {
            "InvalidSignatureException"
        } else {
            "SignatureDoesNotMatch"
        };
        match self {
            Missing => {
                if json {
                    AwsError::new("MissingAuthenticationTokenException", "Missing Authentication Token", 403)
                } else {
                    AwsError::new("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
                }
            }
            UnknownKey(_) => {
                let code = if json { "UnrecognizedClientException" } else { "InvalidClientTokenId" };
                AwsError::new(code, INVALID_TOKEN, 403)
            }
            BadSignature { string_to_sign, canonical_request, .. } => AwsError::new(
                bad_signature,
                format!(
                    "{BAD_SIGNATURE}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\n\
                     The String-to-Sign should have been\n'{string_to_sign}'\n"
                ),
                403,
            ),
            ChunkSignatureMismatch { .. } | ContentSha256Mismatch { .. } => AwsError::new(bad_signature, BAD_SIGNATURE, 403),
            Skewed { request_time, server_time } => {
                let window = time::Duration::minutes(15);
                let message = if request_time < server_time {
                    format!(
                        "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                        amz_datetime(*request_time),
                        amz_datetime(*server_time - window),
                        amz_datetime(*server_time)
                    )
                } else {
                    format!(
                        "Signature not yet current: {} is still later than {} ({} + 15 min.)",
                        amz_datetime(*request_time),
                        amz_datetime(*server_time + window),
                        amz_datetime(*server_time)
                    )
                };
                AwsError::new(bad_signature, message, if json { 400 } else { 403 })
            }
            Expired { .. } | ExpiredV2 { .. } => AwsError::new(bad_signature, "Request has expired", 403),
            NotYetValid { .. } => AwsError::new(bad_signature, "Request is not valid yet", 403),
            IncompleteHeader { missing, header } => {
                let mut message = String::new();
                for name in missing {
                    message.push_str(&format!("Authorization header requires '{name}' parameter. "));
                }
                message.push_str(&format!("Authorization={header}"));
                AwsError::new(incomplete, message, 400)
            }
            MissingDate => AwsError::new(
                incomplete,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
                400,
            ),
            UnsupportedAlgorithm(value) => {
                AwsError::new(incomplete, format!("Unsupported AWS 'algorithm': {value}"), 400)
            }
            MultipleAuth => AwsError::new(
                incomplete,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization \
                 header should be specified",
                400,
            ),
            Malformed(detail) => AwsError::new(incomplete, format!("Authorization header is malformed; {detail}"), 400),
            MalformedPresigned(message) | MalformedPresignedV2(message) => AwsError::new(incomplete, message.clone(), 400),
            HeadersNotSigned(names) => AwsError::new(
                incomplete,
                format!("There were headers present in the request which were not signed: {}", names.join(", ")),
                400,
            ),
            InvalidContentSha256(_) | MissingContentSha256 => {
                AwsError::new(bad_signature, BAD_SIGNATURE, 403)
            }
            MalformedChunk(detail) | MalformedTrailer(detail) => {
                let code = if json { "SerializationException" } else { "MalformedInput" };
                AwsError::new(code, format!("Invalid aws-chunked request body: {detail}"), 400)
            }
            IncompleteBody => {
                let code = if json { "SerializationException" } else { "MalformedInput" };
                AwsError::new(code, "The request body terminated unexpectedly", 400)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    S3,
    Json,
    Query,
}

fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

/// S3's `StringToSignBytes` form: two hex digits per byte, separated by spaces.
fn spaced_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn s3_codes_and_messages() {
        let s3 = Protocol::RestXml;
        let e = AuthError::Missing.to_aws(s3, "s3");
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.status.as_u16()),
            ("AccessDenied", "Access Denied", 403)
        );
        let e = AuthError::UnknownKey("AK".into()).to_aws(s3, "s3");
        assert_eq!(e.code, "InvalidAccessKeyId");
        assert_eq!(
            e.message,
            "The AWS Access Key Id you provided does not exist in our records."
        );
        assert_eq!(e.status.as_u16(), 403);
        let e = AuthError::BadSignature {
            access_key: "AK".into(),
            signature_provided: "00".into(),
            string_to_sign: "sts".into(),
            canonical_request: "cr".into(),
        }
        .to_aws(s3, "s3");
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert_eq!(e.message, S3_BAD_SIGNATURE);
        assert!(e
            .extra
            .contains(&("StringToSignBytes".to_string(), "73 74 73".to_string())));
        let e = AuthError::Skewed {
            request_time: datetime!(2024-01-01 0:00 UTC),
            server_time: datetime!(2024-01-01 1:00 UTC),
        }
        .to_aws(s3, "s3");
        assert_eq!(e.code, "RequestTimeTooSkewed");
        assert_eq!(
            e.message,
            "The difference between the request time and the current time is too large."
        );
        assert_eq!(e.status.as_u16(), 403);
        assert!(e
            .extra
            .contains(&("ServerTime".to_string(), "2024-01-01T01:00:00Z".to_string())));
        let e = AuthError::Expired {
            expires_secs: 60,
            expires_at: datetime!(2024-01-01 0:01 UTC),
            server_time: datetime!(2024-01-01 1:00 UTC),
        }
        .to_aws(s3, "s3");
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.status.as_u16()),
            ("AccessDenied", "Request has expired", 403)
        );
    }

    #[test]
    fn json_codes_and_messages() {
        let json = Protocol::AwsJson { version_1_1: true };
        let e = AuthError::Missing.to_aws(json, "rekognition");
        assert_eq!(e.code, "MissingAuthenticationTokenException");
        assert_eq!(e.message, "Missing Authentication Token");
        assert_eq!(e.status.as_u16(), 400);
        let e = AuthError::Missing.to_aws(Protocol::RestJson, "lex");
        assert_eq!(e.code, "MissingAuthenticationTokenException");
        let e = AuthError::UnknownKey("AK".into()).to_aws(json, "rekognition");
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("UnrecognizedClientException", INVALID_TOKEN)
        );
        let e = AuthError::BadSignature {
            access_key: "AK".into(),
            signature_provided: "00".into(),
            string_to_sign: "sts".into(),
            canonical_request: "cr".into(),
        }
        .to_aws(json, "rekognition");
        assert_eq!(e.code, "InvalidSignatureException");
        assert!(e.message.starts_with(BAD_SIGNATURE));
        assert_eq!(e.status.as_u16(), 400);
        let e = AuthError::Skewed {
            request_time: datetime!(2014-03-25 14:34:53 UTC),
            server_time: datetime!(2014-03-25 14:52:51 UTC),
        }
        .to_aws(json, "kinesis");
        assert_eq!(e.code, "InvalidSignatureException");
        assert_eq!(
            e.message,
            "Signature expired: 20140325T143453Z is now earlier than 20140325T143751Z (20140325T145251Z - 15 min.)"
        );
        let e = AuthError::Skewed {
            request_time: datetime!(2018-11-20 21:35:43 UTC),
            server_time: datetime!(2018-11-20 21:10:29 UTC),
        }
        .to_aws(json, "kinesis");
        assert_eq!(
            e.message,
            "Signature not yet current: 20181120T213543Z is still later than 20181120T212529Z (20181120T211029Z + 15 min.)"
        );
    }

    #[test]
    fn query_codes_and_messages() {
        let q = Protocol::Query;
        let e = AuthError::Missing.to_aws(q, "sts");
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (
                "MissingAuthenticationToken",
                "Request is missing Authentication Token"
            )
        );
        assert_eq!(e.status.as_u16(), 403);
        let e = AuthError::UnknownKey("AK".into()).to_aws(q, "sns");
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("InvalidClientTokenId", INVALID_TOKEN)
        );
        let e = AuthError::Skewed {
            request_time: datetime!(2022-01-27 0:14:27 UTC),
            server_time: datetime!(2022-01-27 1:59:28 UTC),
        }
        .to_aws(q, "sts");
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert_eq!(
            e.message,
            "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)"
        );
        assert!(e.sender_fault);
    }
}
