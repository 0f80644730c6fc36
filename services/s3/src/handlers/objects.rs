//! Objects: put, get/head (ranges and conditions), delete, batch delete, copy.

use super::body::{receive, Received};
use super::{check_key, etag_of, owned_bucket};
use crate::api;
use crate::error::S3Error;
use crate::store::{object_key, Extent, Object, ObjectHeaders};
use crate::{input, Call, Reply, S3, MAX_PUT_SIZE};
use axum::body::Body;
use bytes::Bytes;
use hearth_protocol::sigv4::Payload;
use hearth_protocol::types::Timestamp;
use hearth_runtime::{Expect, MetaError, Scope, WriteOp};
use std::collections::BTreeMap;
use tokio::io::AsyncReadExt;

/// Replace (or create) an object record, then remove the blobs of the object it replaced.
/// `extra` writes commit in the same transaction (multipart completion).
pub(crate) async fn commit_object(s3: &S3, bucket: &str, obj: &Object, extra: Vec<WriteOp>) -> Result<(), S3Error> {
    let key = object_key(bucket, &obj.key);
    loop {
        let prev = s3.meta.get::<Object>(&Scope::global(), &key).await?;
        let expect = prev.as_ref().map_or(Expect::Absent, |p| Expect::Version(p.version));
        let mut ops = vec![WriteOp::put(&Scope::global(), &key, obj, expect)?];
        ops.extend(extra.iter().cloned());
        match s3.meta.apply(ops).await {
            Ok(()) => {
                if let Some(prev) = prev {
                    delete_extents(s3, &prev.value.extents).await;
                }
                return Ok(());
            }
            // Another writer replaced the object meanwhile: retry against its version.
            Err(MetaError::ConditionFailed { kind, .. }) if kind == "s3.object" => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

pub(crate) async fn delete_extents(s3: &S3, extents: &[Extent]) {
    for e in extents {
        if let Err(err) = s3.blobs.delete(&e.blob).await {
            tracing::warn!(blob = %e.blob.0, error = %err, "could not delete blob");
        }
    }
}

/// User metadata may hold at most 2 KB of names and values (UTF-8 bytes).
pub(crate) fn check_metadata(metadata: &Option<BTreeMap<String, String>>) -> Result<(), S3Error> {
    let size: usize = metadata.iter().flatten().map(|(k, v)| k.len() + v.len()).sum();
    if size > 2048 {
        return Err(S3Error::MetadataTooLarge);
    }
    Ok(())
}

pub(crate) fn headers_from(
    content_type: Option<String>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    expires: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
) -> ObjectHeaders {
    ObjectHeaders {
        content_type: content_type.or_else(|| Some("binary/octet-stream".into())),
        cache_control,
        content_disposition,
        content_encoding: content_encoding.filter(|e| e != "aws-chunked"),
        content_language,
        expires,
        metadata: metadata.unwrap_or_default().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect(),
    }
}

fn take_body(call: &mut Call) -> (Payload, Body) {
    let payload = std::mem::replace(&mut call.payload, Payload::Unsigned);
    (payload, call.body.take().unwrap_or_else(Body::empty))
}

pub async fn put_object(s3: &S3, mut call: Call) -> Result<Reply, S3Error> {
    let req: api::PutObjectRequest = input(&call)?;
    check_key(&req.key)?;
    check_metadata(&req.metadata)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    let obj_key = object_key(&req.bucket, &req.key);
    if let Some(cond) = &req.if_none_match {
        if cond.trim() == "*" && s3.meta.get::<Object>(&Scope::global(), &obj_key).await?.is_some() {
            return Err(S3Error::PreconditionFailed);
        }
    }
    let (payload, body) = take_body(&mut call);
    let Received { blob, len, md5, checksums } = receive(s3, &call.parts.headers, payload, body, MAX_PUT_SIZE).await?;
    let obj = Object {
        key: req.key.clone(),
        size: len,
        etag: etag_of(&md5),
        last_modified: Timestamp(s3.clock.now()),
        headers: headers_from(req.content_type, req.cache_control, req.content_disposition, req.content_encoding, req.content_language, req.expires, req.metadata),
        extents: vec![Extent { blob, len }],
        parts_count: None,
        checksums: checksums.clone(),
    };
    if let Err(e) = commit_object(s3, &req.bucket, &obj, vec![]).await {
        delete_extents(s3, &obj.extents).await;
        return Err(e);
    }
    tracing::debug!(bucket = %req.bucket, key = %req.key, size = len, "object stored");
    let mut out = api::PutObjectOutput { e_tag: Some(obj.etag), ..Default::default() };
    set_checksums(&checksums, &mut out.checksum_crc32, &mut out.checksum_crc32_c, &mut out.checksum_sha1, &mut out.checksum_sha256);
    Reply::of(&out)
}

fn set_checksums(sums: &BTreeMap<String, String>, crc32: &mut Option<String>, crc32c: &mut Option<String>, sha1: &mut Option<String>, sha256: &mut Option<String>) {
    *crc32 = sums.get("crc32").cloned();
    *crc32c = sums.get("crc32c").cloned();
    *sha1 = sums.get("sha1").cloned();
    *sha256 = sums.get("sha256").cloned();
}

/// A parsed `Range: bytes=…` header resolved against the object size: (start, end inclusive).
fn parse_range(range: &str, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    // A header that does not parse is ignored (RFC 9110 §14.2): the whole object is returned.
    let Some(spec) = range.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None); // S3 ignores multi-range requests and returns the whole object
    }
    let Some((a, b)) = spec.split_once('-') else { return Ok(None) };
    let num = |s: &str| s.parse::<u64>().ok();
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let Some(n) = num(n) else { return Ok(None) };
            if n == 0 {
                return Err(S3Error::InvalidRange(size));
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (s, "") => match num(s) {
            Some(s) => (s, size.saturating_sub(1)),
            None => return Ok(None),
        },
        (s, e) => {
            let (Some(s), Some(e)) = (num(s), num(e)) else { return Ok(None) };
            if e < s {
                return Ok(None); // syntactically invalid ranges are ignored
            }
            (s, e.min(size.saturating_sub(1)))
        }
    };
    if start >= size {
        return Err(S3Error::InvalidRange(size));
    }
    Ok(Some((start, end)))
}

fn etag_matches(cond: &str, etag: &str) -> bool {
    cond.split(',').map(str::trim).any(|c| c == "*" || c == etag || c.trim_matches('"') == etag.trim_matches('"'))
}

pub async fn get_object(s3: &S3, call: Call, head: bool) -> Result<Reply, S3Error> {
    let req: api::GetObjectRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    let obj = s3
        .meta
        .get::<Object>(&Scope::global(), &object_key(&req.bucket, &req.key))
        .await?
        .ok_or_else(|| S3Error::NoSuchKey(req.key.clone()))?
        .value;
    // Conditions, in the order RFC 7232 gives them.
    let lm_secs = obj.last_modified.0.unix_timestamp();
    if let Some(c) = &req.if_match {
        if !etag_matches(c, &obj.etag) {
            return Err(S3Error::PreconditionFailed);
        }
    } else if let Some(t) = req.if_unmodified_since {
        if lm_secs > t.0.unix_timestamp() {
            return Err(S3Error::PreconditionFailed);
        }
    }
    let not_modified = match (&req.if_none_match, req.if_modified_since) {
        (Some(c), _) => etag_matches(c, &obj.etag),
        (None, Some(t)) => lm_secs <= t.0.unix_timestamp(),
        _ => false,
    };
    let mut out = api::GetObjectOutput {
        accept_ranges: Some("bytes".into()),
        e_tag: Some(obj.etag.clone()),
        last_modified: Some(obj.last_modified),
        content_type: req.response_content_type.clone().or(obj.headers.content_type.clone()),
        cache_control: req.response_cache_control.clone().or(obj.headers.cache_control.clone()),
        content_disposition: req.response_content_disposition.clone().or(obj.headers.content_disposition.clone()),
        content_encoding: req.response_content_encoding.clone().or(obj.headers.content_encoding.clone()),
        content_language: req.response_content_language.clone().or(obj.headers.content_language.clone()),
        expires: obj.headers.expires.clone(),
        metadata: (!obj.headers.metadata.is_empty()).then(|| obj.headers.metadata.clone()),
        ..Default::default()
    };
    if not_modified {
        let mut reply = Reply::of(&api::GetObjectOutput { e_tag: out.e_tag, last_modified: out.last_modified, ..Default::default() })?;
        reply.status = Some(304);
        reply.body = Some(Body::empty());
        return Ok(reply);
    }
    let range = match &req.range {
        Some(r) => parse_range(r, obj.size)?,
        None => None,
    };
    let (start, len, status) = match range {
        Some((s, e)) => {
            out.content_range = Some(format!("bytes {s}-{e}/{}", obj.size));
            (s, e - s + 1, 206)
        }
        None => {
            if req.checksum_mode.as_deref() == Some("ENABLED") && obj.parts_count.is_none() {
                set_checksums(&obj.checksums, &mut out.checksum_crc32, &mut out.checksum_crc32_c, &mut out.checksum_sha1, &mut out.checksum_sha256);
            }
            (0, obj.size, 200)
        }
    };
    out.content_length = Some(len as i64);
    if let Some(n) = obj.parts_count {
        if req.part_number.is_some() {
            out.parts_count = Some(n as i32);
        }
    }
    let mut reply = Reply::of(&out)?;
    reply.status = Some(status);
    reply.body = Some(if head { Body::empty() } else { stream_extents(s3, obj.extents, start, len) });
    Ok(reply)
}

/// Stream `len` bytes from `start` across the object's extents.
pub(crate) fn stream_extents(s3: &S3, extents: Vec<Extent>, start: u64, len: u64) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let blobs = s3.blobs.clone();
    tokio::spawn(async move {
        let mut pos = 0u64;
        let end = start + len;
        for e in extents {
            let (lo, hi) = (pos, pos + e.len);
            pos = hi;
            if hi <= start || lo >= end {
                continue;
            }
            let from = start.max(lo) - lo;
            let n = end.min(hi) - lo - from;
            let mut reader = match blobs.read(&e.blob, from, n).await {
                Ok(r) => r,
                Err(err) => {
                    tracing::error!(blob = %e.blob.0, error = %err, "object blob unreadable");
                    let _ = tx.send(Err(err)).await;
                    return;
                }
            };
            loop {
                let mut buf = vec![0u8; 256 * 1024];
                match reader.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(k) => {
                        buf.truncate(k);
                        if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                            return; // client went away
                        }
                    }
                    Err(err) => {
                        let _ = tx.send(Err(err)).await;
                        return;
                    }
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    Body::from_stream(stream)
}

pub async fn delete_object(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::DeleteObjectRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    remove_object(s3, &req.bucket, &req.key).await?;
    Reply::of(&api::DeleteObjectOutput::default())
}

async fn remove_object(s3: &S3, bucket: &str, key: &str) -> Result<(), S3Error> {
    let k = object_key(bucket, key);
    loop {
        let Some(prev) = s3.meta.get::<Object>(&Scope::global(), &k).await? else { return Ok(()) };
        match s3.meta.delete::<Object>(&Scope::global(), &k, Expect::Version(prev.version)).await {
            Ok(_) => {
                delete_extents(s3, &prev.value.extents).await;
                return Ok(());
            }
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

pub async fn delete_objects(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::DeleteObjectsRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    if req.delete.objects.len() > 1000 {
        return Err(S3Error::MalformedXml);
    }
    let quiet = req.delete.quiet.unwrap_or(false);
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for o in req.delete.objects {
        match remove_object(s3, &req.bucket, &o.key).await {
            Ok(()) if quiet => {}
            Ok(()) => deleted.push(api::DeletedObject { key: Some(o.key), ..Default::default() }),
            Err(e) => {
                let aws = e.to_aws();
                errors.push(api::Error { key: Some(o.key), code: Some(aws.code), message: Some(aws.message), ..Default::default() });
            }
        }
    }
    Reply::of(&api::DeleteObjectsOutput {
        deleted: (!deleted.is_empty()).then_some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        ..Default::default()
    })
}

/// `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, optional `?versionId=`.
fn parse_copy_source(src: &str) -> Result<(String, String), S3Error> {
    let src = src.split('?').next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(src.trim_start_matches('/')).decode_utf8().map_err(|_| S3Error::InvalidArgument("Invalid copy source encoding".into()))?;
    match decoded.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_string(), k.to_string())),
        _ => Err(S3Error::InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey".into())),
    }
}

pub async fn copy_object(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::CopyObjectRequest = input(&call)?;
    check_key(&req.key)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    let (src_bucket, src_key) = parse_copy_source(&req.copy_source)?;
    owned_bucket(s3, &call.ctx, &src_bucket).await?;
    let src = s3
        .meta
        .get::<Object>(&Scope::global(), &object_key(&src_bucket, &src_key))
        .await?
        .ok_or_else(|| S3Error::NoSuchKey(src_key.clone()))?
        .value;
    if let Some(c) = &req.copy_source_if_match {
        if !etag_matches(c, &src.etag) {
            return Err(S3Error::PreconditionFailed);
        }
    }
    if let Some(c) = &req.copy_source_if_none_match {
        if etag_matches(c, &src.etag) {
            return Err(S3Error::PreconditionFailed);
        }
    }
    let replace = req.metadata_directive.as_deref() == Some("REPLACE");
    if src_bucket == req.bucket && src_key == req.key && !replace {
        return Err(S3Error::InvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.".into()));
    }
    let headers = if replace {
        headers_from(req.content_type, req.cache_control, req.content_disposition, req.content_encoding, req.content_language, req.expires, req.metadata)
    } else {
        src.headers.clone()
    };
    // Copy the bytes into a new blob: blobs are never shared between objects.
    let mut writer = s3.blobs.writer().await?;
    let copied: Result<(), S3Error> = async {
        for e in &src.extents {
            let mut r = s3.blobs.read(&e.blob, 0, e.len).await?;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = r.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                writer.write(&buf[..n]).await?;
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = copied {
        let _ = writer.abort().await;
        return Err(e);
    }
    let len = writer.len();
    let blob = writer.finish().await?;
    let obj = Object {
        key: req.key.clone(),
        size: len,
        etag: src.etag.clone(),
        last_modified: Timestamp(s3.clock.now()),
        headers,
        extents: vec![Extent { blob, len }],
        parts_count: src.parts_count,
        checksums: src.checksums.clone(),
    };
    if let Err(e) = commit_object(s3, &req.bucket, &obj, vec![]).await {
        delete_extents(s3, &obj.extents).await;
        return Err(e);
    }
    Reply::of(&api::CopyObjectOutput {
        copy_object_result: Some(api::CopyObjectResult { e_tag: Some(obj.etag), last_modified: Some(obj.last_modified), ..Default::default() }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_s3() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), Some((0, 9)));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=90-1000", 100).unwrap(), Some((90, 99)));
        assert!(parse_range("bytes=100-", 100).is_err());
        assert_eq!(parse_range("bytes=5-1", 100).unwrap(), None);
        assert_eq!(parse_range("items=0-1", 100).unwrap(), None);
        assert_eq!(parse_range("bytes=-500", 100).unwrap(), Some((0, 99)));
        assert_eq!(parse_range("bytes=abc", 100).unwrap(), None);
    }

    #[test]
    fn copy_sources() {
        assert_eq!(parse_copy_source("/b/dir/a%20b.txt").unwrap(), ("b".into(), "dir/a b.txt".into()));
        assert_eq!(parse_copy_source("b/k?versionId=1").unwrap(), ("b".into(), "k".into()));
        assert!(parse_copy_source("b").is_err());
    }
}
