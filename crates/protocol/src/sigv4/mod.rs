//! AWS Signature Version 4 verification: the `Authorization` header form, presigned URLs
//! (`X-Amz-Signature` in the query) and signed or unsigned `aws-chunked` streaming bodies.
//! S3's legacy Signature Version 2 is accepted too (see `sigv2`), because botocore presigns S3
//! URLs with it unless the client sets `signature_version='s3v4'`.
//!
//! The server first calls [`credential_scope`] to route a request by its signing service and
//! region, then [`verify`] with its [`KeyStore`]. A rejection becomes the client-visible error of
//! the service's protocol with [`AuthError::to_aws`]. For streamed S3 bodies, [`Payload`] says what
//! remains to check: a body hash ([`Payload::Signed`]), or chunk signatures through an
//! [`AwsChunkedDecoder`].
//!
//! ```
//! use hearth_protocol::sigv4::{self, KeyInfo, KeyStore, Payload};
//! use hearth_protocol::Protocol;
//!
//! struct Keys;
//! impl KeyStore for Keys {
//!     fn lookup(&self, access_key: &str) -> Option<KeyInfo> {
//!         (access_key == "AKIAIOSFODNN7EXAMPLE").then(|| KeyInfo {
//!             secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
//!             account: "123456789012".into(),
//!         })
//!     }
//! }
//!
//! // AWS's "GET Object" example request.
//! let (parts, ()) = http::Request::get("/test.txt")
//!     .header("host", "examplebucket.s3.amazonaws.com")
//!     .header("range", "bytes=0-9")
//!     .header("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
//!     .header("x-amz-date", "20130524T000000Z")
//!     .header("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
//!         SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
//!         Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
//!     .body(())
//!     .unwrap()
//!     .into_parts();
//! let scope = sigv4::credential_scope(&parts).unwrap(); // route on scope.service
//! assert_eq!(scope.service, "s3");
//! let now = time::macros::datetime!(2013-05-24 0:01 UTC); // from the injectable clock
//! match sigv4::verify(&parts, None, &Keys, now) {
//!     Ok(verified) => match verified.payload {
//!         // Streamed body: hash it while storing, reject on mismatch.
//!         Payload::Signed { expected_sha256: Some(_hex) } => {}
//!         // aws-chunked: feed the raw body through the decoder, then check
//!         // decoder.decoded_len() against x-amz-decoded-content-length and the trailers.
//!         ref p @ (Payload::Streaming(_) | Payload::StreamingUnsignedTrailer) => {
//!             let _decoder = p.chunked_decoder().unwrap();
//!         }
//!         Payload::Signed { expected_sha256: None } | Payload::Unsigned => {}
//!     },
//!     Err(e) => {
//!         let _aws_error = e.to_aws(Protocol::RestXml, &scope.service);
//!         unreachable!("the example verifies");
//!     }
//! }
//! ```
//!
//! The canonical request is rebuilt from the request as received exactly as botocore builds it
//! before sending (see [`canonical`](self) module docs): S3 signs the path as sent, other
//! services the path encoded once more; query parameters are decoded and re-encoded with AWS's
//! `UriEncode`. Signatures are compared in constant time. Written by hand over `hmac`/`sha2`
//! because the SigV4 crates of the ecosystem sign requests; they do not verify server-side.

mod canonical;
mod chunked;
mod error;
mod parse;
mod signing;
mod sigv2;
mod time_fmt;

use http::request::Parts;
use time::{Duration, OffsetDateTime};

pub use chunked::{AwsChunkedDecoder, ChunkVerifier, MAX_LINE, MAX_SIGNED_CHUNK, MAX_TRAILERS};
pub use error::AuthError;
pub use parse::{parse_authorization_header, AuthorizationHeader, Credential};

use canonical::QueryParam;
use signing::{decode_signature, is_sha256_hex, SigningKey, ALGORITHM};

/// `x-amz-content-sha256` (and presigned payload hash) for a payload that is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `x-amz-content-sha256` of a signed aws-chunked body.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// `x-amz-content-sha256` of a signed aws-chunked body with signed trailers.
pub const STREAMING_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// `x-amz-content-sha256` of an unsigned aws-chunked body with trailers (botocore's checksum uploads).
pub const STREAMING_UNSIGNED_PAYLOAD_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// Largest distance between the request time and the server time for header authentication.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);
/// Largest `X-Amz-Expires` of a presigned URL (seven days).
pub const MAX_PRESIGNED_EXPIRES: i64 = 604_800;

/// Looks up a secret for an access key. Implemented by the server over its configured keys.
pub trait KeyStore: Send + Sync {
    /// The key's secret and owning account, or `None` if the access key is unknown.
    fn lookup(&self, access_key: &str) -> Option<KeyInfo>;
}

/// What the server knows about an access key.
#[derive(Clone)]
pub struct KeyInfo {
    /// The secret access key.
    pub secret: String,
    /// The 12-digit account the key belongs to.
    pub account: String,
}

impl std::fmt::Debug for KeyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyInfo")
            .field("secret", &"<redacted>")
            .field("account", &self.account)
            .finish()
    }
}

/// Credential scope parsed WITHOUT verification, used for routing (service name, region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    /// The access key id.
    pub access_key: String,
    /// The scope date, `YYYYMMDD`.
    pub date: String,
    /// The signing region.
    pub region: String,
    /// The signing service name (`s3`, `sts`, `monitoring`, `rekognition`...).
    pub service: String,
}

/// The credential scope of the `Authorization` header or of the `X-Amz-Credential` query
/// parameter; `None` when the request carries neither or it does not parse.
pub fn credential_scope(parts: &Parts) -> Option<CredentialScope> {
    let credential = if let Some(header) = parts.headers.get(http::header::AUTHORIZATION) {
        parse_authorization_header(header.to_str().ok()?)
            .ok()?
            .credential
    } else {
        let params = canonical::parse_query(parts.uri.query()?);
        let value = params.iter().find(|p| p.key_is("X-Amz-Credential"))?;
        parse::parse_credential(value.value_str()?).ok()?
    };
    Some(CredentialScope {
        access_key: credential.access_key,
        date: credential.date,
        region: credential.region,
        service: credential.service,
    })
}

/// An authenticated request.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The access key that signed.
    pub access_key: String,
    /// The account of that key.
    pub account: String,
    /// The signing region.
    pub region: String,
    /// The signing service name.
    pub service: String,
    /// What is still to check about the body.
    pub payload: Payload,
    /// `X-Amz-Security-Token` (header or query), when sent; checking it is the caller's business.
    pub security_token: Option<String>,
    /// Whether the request was a presigned URL.
    pub presigned: bool,
    /// The signing time (`X-Amz-Date`, or `Date`).
    pub signed_at: OffsetDateTime,
}

/// The body's status after the headers verified.
#[derive(Debug, Clone)]
pub enum Payload {
    /// The signature covered a body hash. `expected_sha256` is `Some(hex)` when the body has not
    /// been checked yet (the caller passed no body hash, as S3 does for streamed bodies): the
    /// caller must compare the body's SHA-256 with it and reject a mismatch with
    /// [`AuthError::ContentSha256Mismatch`]. `None` when the caller's body hash was part of the
    /// verified signature: nothing left to check.
    Signed {
        /// Lower-case hex SHA-256 the body must have, if still unchecked.
        expected_sha256: Option<String>,
    },
    /// `UNSIGNED-PAYLOAD` (header, or presigned URL): the body is not covered by the signature.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: decode the body with
    /// [`AwsChunkedDecoder::new_signed`], which checks each chunk signature.
    Streaming(ChunkVerifier),
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: decode with [`AwsChunkedDecoder::new_unsigned`].
    StreamingUnsignedTrailer,
}

impl Payload {
    /// The aws-chunked decoder this payload needs, if it is aws-chunked.
    pub fn chunked_decoder(&self) -> Option<AwsChunkedDecoder> {
        match self {
            Payload::Streaming(verifier) => Some(AwsChunkedDecoder::new_signed(verifier.clone())),
            Payload::StreamingUnsignedTrailer => Some(AwsChunkedDecoder::new_unsigned()),
            Payload::Signed { .. } | Payload::Unsigned => None,
        }
    }
}

/// Verify a request. `body_sha256`: hex sha256 of the body if the caller already has the whole body
/// (non-S3 services read small bodies fully); None when the body is streamed (S3) — then the
/// x-amz-content-sha256 header value is used in the canonical request.
///
/// Checks, in order: the form of the authentication, the request time (15 minutes of skew for
/// header authentication; `X-Amz-Expires` for presigned URLs), the access key, then the signature.
pub fn verify(
    parts: &Parts,
    body_sha256: Option<&str>,
    keys: &dyn KeyStore,
    now: OffsetDateTime,
) -> Result<Verified, AuthError> {
    let params = canonical::parse_query(parts.uri.query().unwrap_or(""));
    let presigned = params.iter().any(|p| {
        p.key_is("X-Amz-Algorithm") || p.key_is("X-Amz-Credential") || p.key_is("X-Amz-Signature")
    });
    let result = match (parts.headers.get(http::header::AUTHORIZATION), presigned) {
        (Some(_), true) => Err(AuthError::MultipleAuth),
        (Some(header), false) => verify_header(parts, header, &params, body_sha256, keys, now),
        (None, true) => verify_presigned(parts, &params, body_sha256, keys, now),
        (None, false) => {
            if params.iter().any(|p| p.key_is("AWSAccessKeyId"))
                || params.iter().any(|p| p.key_is("Signature"))
            {
                sigv2::verify_query(parts, &params, keys, now)
            } else {
                Err(AuthError::Missing)
            }
        }
    };
    match &result {
        Ok(v) => {
            tracing::trace!(access_key = %v.access_key, service = %v.service, presigned = v.presigned, "request signature verified")
        }
        Err(e) => tracing::debug!(error = %e, "request signature rejected"),
    }
    result
}

fn verify_header(
    parts: &Parts,
    header: &http::HeaderValue,
    params: &[QueryParam],
    body_sha256: Option<&str>,
    keys: &dyn KeyStore,
    now: OffsetDateTime,
) -> Result<Verified, AuthError> {
    let text = header.to_str().map_err(|_| {
        AuthError::Malformed(
            "the authorization header holds characters that are not visible ASCII.".into(),
        )
    })?;
    if text.starts_with("AWS ") {
        return sigv2::verify_header(parts, text, params, keys, now);
    }
    let auth = parse_authorization_header(text)?;
    let signed_at = header_time(parts)?;
    let datetime = time_fmt::amz_datetime(signed_at);
    if auth.credential.date != datetime[..8] {
        return Err(AuthError::Malformed(
            "Invalid credential date. Date is not the same as X-Amz-Date.".into(),
        ));
    }
    let key = keys
        .lookup(&auth.credential.access_key)
        .ok_or_else(|| AuthError::UnknownKey(auth.credential.access_key.clone()))?;
    if (now - signed_at).abs() > MAX_CLOCK_SKEW {
        return Err(AuthError::Skewed {
            request_time: signed_at,
            server_time: now,
        });
    }
    let content_sha256 = header_str(parts, "x-amz-content-sha256")?;
    let (payload_hash, kind) =
        payload_hash(content_sha256, body_sha256, false, &auth.credential.service)?;
    let security_token = header_str(parts, "x-amz-security-token")
        .ok()
        .flatten()
        .map(str::to_string);
    let input = SignatureInput {
        credential: &auth.credential,
        datetime: &datetime,
        signed_headers: &auth.signed_headers,
        signature: &auth.signature,
        payload_hash: &payload_hash,
        presigned: false,
    };
    let signing_key = check_signature(parts, params, &input, &key.secret)?;
    Ok(verified(
        auth.credential,
        key,
        kind,
        signing_key,
        &datetime,
        &auth.signature,
        security_token,
        false,
        signed_at,
    ))
}

fn verify_presigned(
    parts: &Parts,
    params: &[QueryParam],
    body_sha256: Option<&str>,
    keys: &dyn KeyStore,
    now: OffsetDateTime,
) -> Result<Verified, AuthError> {
    const REQUIRED: &str = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, \
                            X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
    let get = |name: &str| {
        params
            .iter()
            .find(|p| p.key_is(name))
            .and_then(QueryParam::value_str)
    };
    let (
        Some(algorithm),
        Some(credential),
        Some(signature),
        Some(date),
        Some(signed_headers),
        Some(expires),
    ) = (
        get("X-Amz-Algorithm"),
        get("X-Amz-Credential"),
        get("X-Amz-Signature"),
        get("X-Amz-Date"),
        get("X-Amz-SignedHeaders"),
        get("X-Amz-Expires"),
    )
    else {
        return Err(AuthError::MalformedPresigned(REQUIRED.into()));
    };
    if algorithm != ALGORITHM {
        return Err(AuthError::MalformedPresigned(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".into(),
        ));
    }
    let credential = parse::parse_credential(credential).map_err(|detail| {
        AuthError::MalformedPresigned(format!(
            "Error parsing the X-Amz-Credential parameter; {detail}"
        ))
    })?;
    let signed_at = time_fmt::parse_amz_datetime(date).ok_or_else(|| {
        AuthError::MalformedPresigned(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"".into(),
        )
    })?;
    let expires_secs: i64 = expires
        .parse()
        .map_err(|_| AuthError::MalformedPresigned("X-Amz-Expires should be a number".into()))?;
    if expires_secs < 0 {
        return Err(AuthError::MalformedPresigned(
            "X-Amz-Expires must be non-negative".into(),
        ));
    }
    if expires_secs > MAX_PRESIGNED_EXPIRES {
        return Err(AuthError::MalformedPresigned(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than \
             604800 seconds"
                .into(),
        ));
    }
    let signed_headers = parse::parse_signed_headers(signed_headers).ok_or_else(|| {
        AuthError::MalformedPresigned(format!(
            "Error parsing the X-Amz-SignedHeaders parameter \"{signed_headers}\""
        ))
    })?;
    let datetime = time_fmt::amz_datetime(signed_at);
    if credential.date != datetime[..8] {
        return Err(AuthError::MalformedPresigned(
            "Invalid credential date. Date is not the same as X-Amz-Date.".into(),
        ));
    }
    let key = keys
        .lookup(&credential.access_key)
        .ok_or_else(|| AuthError::UnknownKey(credential.access_key.clone()))?;
    let expires_at = signed_at + Duration::seconds(expires_secs);
    if signed_at - now > MAX_CLOCK_SKEW {
        return Err(AuthError::NotYetValid {
            request_time: signed_at,
            expires_at,
            server_time: now,
        });
    }
    if now > expires_at {
        return Err(AuthError::Expired {
            expires_secs,
            expires_at,
            server_time: now,
        });
    }
    if credential.service == "s3" {
        let unsigned: Vec<String> = parts
            .headers
            .keys()
            .map(|name| name.as_str())
            .filter(|name| {
                name.starts_with("x-amz-")
                    && !signed_headers.iter().any(|s| s.eq_ignore_ascii_case(name))
            })
            .map(str::to_string)
            .collect();
        if !unsigned.is_empty() {
            return Err(AuthError::HeadersNotSigned(unsigned));
        }
    }
    let content_sha256 = header_str(parts, "x-amz-content-sha256")?;
    let (payload_hash, kind) =
        payload_hash(content_sha256, body_sha256, true, &credential.service)?;
    let security_token = get("X-Amz-Security-Token").map(str::to_string);
    let input = SignatureInput {
        credential: &credential,
        datetime: &datetime,
        signed_headers: &signed_headers,
        signature,
        payload_hash: &payload_hash,
        presigned: true,
    };
    let signing_key = check_signature(parts, params, &input, &key.secret)?;
    Ok(verified(
        credential,
        key,
        kind,
        signing_key,
        &datetime,
        signature,
        security_token,
        true,
        signed_at,
    ))
}

#[allow(clippy::too_many_arguments)]
fn verified(
    credential: Credential,
    key: KeyInfo,
    kind: PayloadKind,
    signing_key: SigningKey,
    datetime: &str,
    signature: &str,
    security_token: Option<String>,
    presigned: bool,
    signed_at: OffsetDateTime,
) -> Verified {
    let scope = credential.scope();
    let payload = match kind {
        PayloadKind::Signed(expected_sha256) => Payload::Signed { expected_sha256 },
        PayloadKind::Unsigned => Payload::Unsigned,
        PayloadKind::StreamingUnsignedTrailer => Payload::StreamingUnsignedTrailer,
        PayloadKind::Streaming { trailer } => {
            // The signature verified, so it is 64 hex digits.
            let seed = decode_signature(signature).unwrap_or([0; 32]);
            Payload::Streaming(ChunkVerifier::from_key(
                signing_key,
                datetime.to_string(),
                scope,
                seed,
                trailer,
            ))
        }
    };
    Verified {
        access_key: credential.access_key,
        account: key.account,
        region: credential.region,
        service: credential.service,
        payload,
        security_token,
        presigned,
        signed_at,
    }
}

/// The request time of header authentication: `X-Amz-Date`, else `Date`.
fn header_time(parts: &Parts) -> Result<OffsetDateTime, AuthError> {
    if let Some(value) = parts.headers.get("x-amz-date") {
        return value
            .to_str()
            .ok()
            .and_then(time_fmt::parse_amz_datetime)
            .ok_or(AuthError::MissingDate);
    }
    parts
        .headers
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(time_fmt::parse_http_date)
        .ok_or(AuthError::MissingDate)
}

fn header_str<'a>(parts: &'a Parts, name: &str) -> Result<Option<&'a str>, AuthError> {
    match parts.headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.trim())).map_err(|_| {
            AuthError::InvalidContentSha256(String::from_utf8_lossy(v.as_bytes()).into_owned())
        }),
    }
}

enum PayloadKind {
    Signed(Option<String>),
    Unsigned,
    Streaming { trailer: bool },
    StreamingUnsignedTrailer,
}

/// The payload hash of the canonical request and what it means for the body.
fn payload_hash(
    content_sha256: Option<&str>,
    body_sha256: Option<&str>,
    presigned: bool,
    service: &str,
) -> Result<(String, PayloadKind), AuthError> {
    let Some(value) = content_sha256 else {
        return match body_sha256 {
            Some(body) if !(presigned && service == "s3") => {
                Ok((body.to_ascii_lowercase(), PayloadKind::Signed(None)))
            }
            _ if presigned => Ok((UNSIGNED_PAYLOAD.to_string(), PayloadKind::Unsigned)),
            _ => Err(AuthError::MissingContentSha256),
        };
    };
    let kind = match value {
        UNSIGNED_PAYLOAD => PayloadKind::Unsigned,
        STREAMING_PAYLOAD => PayloadKind::Streaming { trailer: false },
        STREAMING_PAYLOAD_TRAILER => PayloadKind::Streaming { trailer: true },
        STREAMING_UNSIGNED_PAYLOAD_TRAILER => PayloadKind::StreamingUnsignedTrailer,
        digest if is_sha256_hex(digest) => match body_sha256 {
            Some(body) if !body.eq_ignore_ascii_case(digest) => {
                return Err(AuthError::ContentSha256Mismatch {
                    client: digest.to_string(),
                    computed: body.to_ascii_lowercase(),
                })
            }
            Some(_) => PayloadKind::Signed(None),
            None => PayloadKind::Signed(Some(digest.to_ascii_lowercase())),
        },
        other => return Err(AuthError::InvalidContentSha256(other.to_string())),
    };
    Ok((value.to_string(), kind))
}

struct SignatureInput<'a> {
    credential: &'a Credential,
    datetime: &'a str,
    signed_headers: &'a [String],
    signature: &'a str,
    payload_hash: &'a str,
    presigned: bool,
}

/// Rebuilds the canonical request (each accepted variant of the path) and checks the
/// signature in constant time; returns the signing key for chunk verification.
fn check_signature(
    parts: &Parts,
    params: &[QueryParam],
    input: &SignatureInput<'_>,
    secret: &str,
) -> Result<SigningKey, AuthError> {
    let credential = input.credential;
    let key = SigningKey::derive(
        secret,
        &credential.date,
        &credential.region,
        &credential.service,
    );
    let scope = credential.scope();
    let path = parts.uri.path();
    let uris = if credential.service == "s3" {
        canonical::s3_canonical_uris(path)
    } else {
        vec![canonical::canonical_uri(path)]
    };
    let query = canonical::canonical_query(params, input.presigned);
    let headers = canonical::canonical_headers(parts, input.signed_headers);
    let signed = input.signed_headers.join(";");
    let provided = decode_signature(input.signature);
    let mut first: Option<(Vec<u8>, String)> = None;
    for uri in &uris {
        let mut request = Vec::with_capacity(256 + headers.len());
        request.extend_from_slice(parts.method.as_str().as_bytes());
        request.push(b'\n');
        request.extend_from_slice(uri.as_bytes());
        request.push(b'\n');
        request.extend_from_slice(query.as_bytes());
        request.push(b'\n');
        request.extend_from_slice(&headers);
        request.push(b'\n');
        request.extend_from_slice(signed.as_bytes());
        request.push(b'\n');
        request.extend_from_slice(input.payload_hash.as_bytes());
        let string_to_sign = signing::string_to_sign(input.datetime, &scope, &request);
        if let Some(provided) = &provided {
            if key.verify(string_to_sign.as_bytes(), provided) {
                return Ok(key);
            }
        }
        if first.is_none() {
            first = Some((request, string_to_sign));
        }
    }
    let (request, string_to_sign) = first.unwrap_or_default();
    Err(AuthError::BadSignature {
        access_key: credential.access_key.clone(),
        signature_provided: input.signature.to_string(),
        string_to_sign,
        canonical_request: String::from_utf8_lossy(&request).into_owned(),
    })
}

#[cfg(test)]
mod tests;
