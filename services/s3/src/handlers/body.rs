//! Request bodies: small XML documents read whole, and object data streamed into a blob while
//! MD5, the signed SHA-256 and any `x-amz-checksum-*` are computed and checked. Handles plain,
//! `UNSIGNED-PAYLOAD` and aws-chunked (`STREAMING-…`) bodies.

use crate::error::S3Error;
use crate::S3;
use axum::body::Body;
use base64::Engine;
use bytes::Bytes;
use futures_util::StreamExt;
use hearth_protocol::sigv4::{AwsChunkedDecoder, Payload};
use hearth_protocol::Protocol;
use hearth_runtime::blob::BlobId;
use md5::{Digest, Md5};
use sha2::Sha256;
use std::collections::BTreeMap;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn auth(e: hearth_protocol::sigv4::AuthError) -> S3Error {
    S3Error::Aws(e.to_aws(Protocol::RestXml, "s3"))
}

/// Streaming checks over the decoded payload.
struct Digests {
    md5: Md5,
    sha256: Option<Sha256>,
    crc32: Option<crc32fast::Hasher>,
    crc32c: Option<u32>,
    sha1: Option<sha1::Sha1>,
    sha256_checksum: Option<Sha256>,
}

impl Digests {
    fn new(want_sha256: bool, algorithms: &[String]) -> Self {
        let has = |a: &str| algorithms.iter().any(|x| x == a);
        Digests {
            md5: Md5::new(),
            sha256: want_sha256.then(Sha256::new),
            crc32: has("crc32").then(crc32fast::Hasher::new),
            crc32c: has("crc32c").then_some(0),
            sha1: has("sha1").then(sha1::Sha1::new),
            sha256_checksum: has("sha256").then(Sha256::new),
        }
    }
    fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        if let Some(h) = &mut self.crc32 {
            h.update(data);
        }
        if let Some(c) = &mut self.crc32c {
            *c = crc32c::crc32c_append(*c, data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha256_checksum {
            h.update(data);
        }
    }
    /// (md5, sha256 hex, checksums by algorithm name as base64)
    fn finish(self) -> ([u8; 16], Option<String>, BTreeMap<String, String>) {
        let mut sums = BTreeMap::new();
        if let Some(h) = self.crc32 {
            sums.insert("crc32".into(), b64(&h.finalize().to_be_bytes()));
        }
        if let Some(c) = self.crc32c {
            sums.insert("crc32c".into(), b64(&c.to_be_bytes()));
        }
        if let Some(h) = self.sha1 {
            sums.insert("sha1".into(), b64(&h.finalize()));
        }
        if let Some(h) = self.sha256_checksum {
            sums.insert("sha256".into(), b64(&h.finalize()));
        }
        (self.md5.finalize().into(), self.sha256.map(|h| hex::encode(h.finalize())), sums)
    }
}

/// Decodes the wire body into payload bytes.
enum Decoder {
    Plain,
    Chunked(AwsChunkedDecoder),
}

impl Decoder {
    fn for_payload(payload: Payload) -> (Decoder, Option<String>) {
        match payload {
            Payload::Signed { expected_sha256 } => (Decoder::Plain, expected_sha256),
            Payload::Unsigned => (Decoder::Plain, None),
            Payload::Streaming(v) => (Decoder::Chunked(AwsChunkedDecoder::new_signed(v)), None),
            Payload::StreamingUnsignedTrailer => (Decoder::Chunked(AwsChunkedDecoder::new_unsigned()), None),
        }
    }
    fn feed(&mut self, frame: Bytes) -> Result<Vec<Bytes>, S3Error> {
        match self {
            Decoder::Plain => Ok(vec![frame]),
            Decoder::Chunked(d) => d.feed(&frame).map_err(auth),
        }
    }
    fn finish(self) -> Result<Vec<(String, String)>, S3Error> {
        match self {
            Decoder::Plain => Ok(Vec::new()),
            Decoder::Chunked(d) => d.finish().map_err(auth),
        }
    }
}

fn header<'a>(h: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Read a small body whole (XML documents), decoding aws-chunked and checking the signed hash.
pub async fn read_small(body: Body, payload: &Payload, headers: &http::HeaderMap, limit: usize) -> Result<Vec<u8>, S3Error> {
    let payload = match payload {
        Payload::Signed { expected_sha256 } => Payload::Signed { expected_sha256: expected_sha256.clone() },
        Payload::Unsigned => Payload::Unsigned,
        // Chunked encodings only carry object data; a small body with them is read as sent.
        _ => Payload::Unsigned,
    };
    let (mut dec, expected) = Decoder::for_payload(payload);
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(frame) = stream.next().await {
        let frame = frame.map_err(|_| S3Error::IncompleteBody)?;
        for data in dec.feed(frame)? {
            if out.len() + data.len() > limit {
                return Err(S3Error::Aws(hearth_protocol::AwsError::new("MaxMessageLengthExceeded", "Your request was too big.", 400)));
            }
            out.extend_from_slice(&data);
        }
    }
    dec.finish()?;
    if let Some(expected) = expected {
        let computed = hex::encode(Sha256::digest(&out));
        if computed != expected {
            return Err(S3Error::ContentSha256Mismatch { client: expected, computed });
        }
    }
    check_content_md5(headers, &Md5::digest(&out))?;
    Ok(out)
}

fn check_content_md5(headers: &http::HeaderMap, md5: &[u8]) -> Result<(), S3Error> {
    if let Some(given) = header(headers, "content-md5") {
        let given = base64::engine::general_purpose::STANDARD.decode(given.trim()).map_err(|_| S3Error::InvalidDigest)?;
        if given.len() != 16 {
            return Err(S3Error::InvalidDigest);
        }
        if given != md5 {
            return Err(S3Error::BadDigest);
        }
    }
    Ok(())
}

/// Object data received into a durable blob.
pub struct Received {
    pub blob: BlobId,
    pub len: u64,
    pub md5: [u8; 16],
    /// Checksums the client sent and we verified (algorithm → base64).
    pub checksums: BTreeMap<String, String>,
}

const ALGORITHMS: [&str; 4] = ["crc32", "crc32c", "sha1", "sha256"];

/// Stream the request body into a new blob, verifying every digest the client declared. The
/// blob is durable when this returns; on any error it is removed.
pub async fn receive(s3: &S3, headers: &http::HeaderMap, payload: Payload, body: Body, max: u64) -> Result<Received, S3Error> {
    let chunked = !matches!(payload, Payload::Signed { .. } | Payload::Unsigned);
    let declared: Option<u64> = if chunked {
        header(headers, "x-amz-decoded-content-length").and_then(|v| v.parse().ok())
    } else {
        header(headers, "content-length").and_then(|v| v.parse().ok())
    };
    let declared = match declared {
        Some(n) => n,
        None if chunked || headers.contains_key("transfer-encoding") => u64::MAX,
        None => return Err(S3Error::MissingContentLength),
    };
    if declared != u64::MAX && declared > max {
        return Err(S3Error::EntityTooLarge);
    }
    // Checksums declared as headers or announced as trailers.
    let mut algorithms: Vec<String> = Vec::new();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for a in ALGORITHMS {
        if let Some(v) = header(headers, &format!("x-amz-checksum-{a}")) {
            algorithms.push(a.into());
            expected.insert(a.into(), v.trim().to_string());
        }
    }
    if let Some(t) = header(headers, "x-amz-trailer") {
        for name in t.split(',') {
            if let Some(a) = name.trim().strip_prefix("x-amz-checksum-") {
                if ALGORITHMS.contains(&a) && !algorithms.iter().any(|x| x == a) {
                    algorithms.push(a.into());
                }
            }
        }
    }
    let (mut dec, sha_expected) = Decoder::for_payload(payload);
    let mut digests = Digests::new(sha_expected.is_some(), &algorithms);
    let mut writer = s3.blobs.writer().await?;
    let result: Result<Vec<(String, String)>, S3Error> = async {
        let mut stream = body.into_data_stream();
        let mut len: u64 = 0;
        while let Some(frame) = stream.next().await {
            let frame = frame.map_err(|_| S3Error::IncompleteBody)?;
            for data in dec.feed(frame)? {
                len += data.len() as u64;
                if len > max {
                    return Err(S3Error::EntityTooLarge);
                }
                if declared != u64::MAX && len > declared {
                    return Err(S3Error::InvalidRequest("The request body is longer than its declared length.".into()));
                }
                digests.update(&data);
                writer.write(&data).await?;
            }
        }
        if declared != u64::MAX && len != declared {
            return Err(S3Error::IncompleteBody);
        }
        dec.finish()
    }
    .await;
    let trailers = match result {
        Ok(t) => t,
        Err(e) => {
            let _ = writer.abort().await;
            return Err(e);
        }
    };
    for (k, v) in trailers {
        if let Some(a) = k.to_ascii_lowercase().strip_prefix("x-amz-checksum-") {
            expected.insert(a.to_string(), v.trim().to_string());
        }
    }
    let len = writer.len();
    let (md5, sha256, sums) = digests.finish();
    let check = (|| {
        if let (Some(expected), Some(computed)) = (&sha_expected, &sha256) {
            if expected != computed {
                return Err(S3Error::ContentSha256Mismatch { client: expected.clone(), computed: computed.clone() });
            }
        }
        check_content_md5(headers, &md5)?;
        for (alg, want) in &expected {
            if sums.get(alg) != Some(want) {
                return Err(S3Error::ChecksumMismatch(match alg.as_str() {
                    "crc32" => "CRC32",
                    "crc32c" => "CRC32C",
                    "sha1" => "SHA1",
                    _ => "SHA256",
                }));
            }
        }
        Ok(())
    })();
    if let Err(e) = check {
        let _ = writer.abort().await;
        return Err(e);
    }
    let blob = writer.finish().await?;
    let checksums = sums.into_iter().filter(|(k, _)| expected.contains_key(k)).collect();
    Ok(Received { blob, len, md5, checksums })
}
