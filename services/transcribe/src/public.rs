//! Transcripts of jobs started without `OutputBucketName`. AWS then keeps the transcript in a
//! service-managed bucket and `GetTranscriptionJob` answers a pre-signed HTTPS link to it that
//! expires after 15 minutes; Hearth keeps the file in its blob store (durable, written before
//! the job is COMPLETED) and serves it on its public endpoint, next to the AWS APIs (the
//! mechanism SNS uses for its confirmation links), at
//!
//! `GET /transcribe/output/<account>/<region>/<job>/<file>?Expires=<unix>&Signature=<hex>`
//!
//! where `<file>` is `asrOutput.json` or `redacted-asrOutput.json` and the signature is
//! HMAC-SHA256, under a random per-job secret kept in the job's record, of the account,
//! region, job, file and expiry. The link needs no credentials (like AWS's pre-signed one), is
//! unguessable without the secret, and expires; each `GetTranscriptionJob` mints a fresh one.
//! Refusals use S3's XML error bodies (`AccessDenied` "Request has expired",
//! `SignatureDoesNotMatch`, `NoSuchKey`), which is what a GET of AWS's link returns. This path
//! shadows path-style S3 GETs of keys under `output/` in a bucket named `transcribe`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hearth_runtime::blob::BlobId;
use hearth_runtime::Scope;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::AsyncReadExt;

use crate::store::JobRecord;
use crate::Inner;

/// Seconds a link stays valid (AWS: 15 minutes).
pub const LINK_TTL_SECONDS: i64 = 900;
/// File name of the transcript in the service-managed location.
pub const TRANSCRIPT_FILE: &str = "asrOutput.json";
/// File name of the redacted transcript.
pub const REDACTED_FILE: &str = "redacted-asrOutput.json";

/// A fresh random secret for a job's links.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn signature(secret: &str, account: &str, region: &str, job: &str, file: &str, expires: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("hmac takes keys of any length");
    mac.update(format!("{account}\n{region}\n{job}\n{file}\n{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The link to `file` of a job, valid for [`LINK_TTL_SECONDS`] from `now_s` (Unix seconds).
pub fn link(endpoint: &str, secret: &str, scope: &Scope, job: &str, file: &str, now_s: i64) -> String {
    let expires = now_s + LINK_TTL_SECONDS;
    let sig = signature(secret, &scope.account, &scope.region, job, file, expires);
    format!("{}/transcribe/output/{}/{}/{}/{file}?Expires={expires}&Signature={sig}", endpoint.trim_end_matches('/'), scope.account, scope.region, job)
}

/// The router of the public route.
pub fn routes(inner: Arc<Inner>) -> axum::Router {
    axum::Router::new().route("/transcribe/output/{account}/{region}/{job}/{file}", get(transcript)).with_state(inner)
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{}</RequestId></Error>",
        hearth_protocol::new_request_id()
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

async fn transcript(State(inner): State<Arc<Inner>>, Path((account, region, job, file)): Path<(String, String, String, String)>, RawQuery(q): RawQuery) -> Response {
    let params: std::collections::HashMap<String, String> = form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect();
    let (Some(expires), Some(sig)) = (params.get("Expires").and_then(|e| e.parse::<i64>().ok()), params.get("Signature")) else {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Query-string authentication requires the Signature and Expires parameters");
    };
    if file != TRANSCRIPT_FILE && file != REDACTED_FILE {
        return s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.");
    }
    let scope = Scope::new(account.clone(), region.clone());
    let record = match inner.rt.meta.get::<JobRecord>(&scope, &job).await {
        Ok(r) => r.map(|r| r.value),
        Err(e) => {
            tracing::error!(error = %e, "transcript link lookup failed");
            return s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "We encountered an internal error. Please try again.");
        }
    };
    let Some(managed) = record.as_ref().and_then(|r| r.managed.clone()) else {
        return s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.");
    };
    let want = signature(&managed.secret, &account, &region, &job, &file, expires);
    if !constant_time_eq(want.as_bytes(), sig.as_bytes()) {
        return s3_error(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
    }
    let now = inner.rt.clock.now().unix_timestamp();
    if now > expires {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
    }
    let blob = if file == TRANSCRIPT_FILE { managed.transcript_blob } else { managed.redacted_blob };
    let Some(blob) = blob.map(BlobId) else {
        return s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.");
    };
    let read = async {
        let size = inner.rt.blobs.size(&blob).await?;
        let mut r = inner.rt.blobs.read(&blob, 0, size).await?;
        let mut body = Vec::with_capacity(size as usize);
        r.read_to_end(&mut body).await?;
        Ok::<Vec<u8>, std::io::Error>(body)
    };
    match read.await {
        Ok(body) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(job = %job, error = %e, "transcript blob unreadable");
            s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.")
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_signed_per_job_and_expire() {
        let scope = Scope::new("123456789012", "us-east-1");
        let url = link("http://127.0.0.1:4566/", "s3cr3t", &scope, "job-1", TRANSCRIPT_FILE, 1_000);
        assert!(url.starts_with("http://127.0.0.1:4566/transcribe/output/123456789012/us-east-1/job-1/asrOutput.json?Expires=1900&Signature="), "{url}");
        let sig = url.rsplit_once("Signature=").unwrap().1;
        assert_eq!(sig, signature("s3cr3t", "123456789012", "us-east-1", "job-1", TRANSCRIPT_FILE, 1900));
        assert_ne!(sig, signature("other", "123456789012", "us-east-1", "job-1", TRANSCRIPT_FILE, 1900));
        assert_ne!(sig, signature("s3cr3t", "123456789012", "us-east-1", "job-1", TRANSCRIPT_FILE, 1901));
        assert!(constant_time_eq(b"ab", b"ab") && !constant_time_eq(b"ab", b"ac") && !constant_time_eq(b"a", b"ab"));
    }
}
