//! Multipart uploads: parts are stored as blobs and become the object's extents on completion
//! (no copy). ETag of the object: MD5 of the concatenated binary part MD5s, then `-N`.

use super::body::{receive, Received};
use super::buckets::owner;
use super::objects::{commit_object, delete_extents, headers_from};
use super::{check_key, etag_of, owned_bucket};
use crate::api;
use crate::error::S3Error;
use crate::store::{part_key, upload_key, Extent, Object, Part, Upload};
use crate::{input, Call, Reply, S3};
use hearth_protocol::sigv4::Payload;
use hearth_protocol::types::Timestamp;
use hearth_runtime::{Expect, ListQuery, MetaError, Scope, WriteOp};
use md5::{Digest, Md5};

/// Smallest part other than the last (5 MiB).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Largest part (5 GiB).
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;

async fn upload(s3: &S3, bucket: &str, key: &str, upload_id: &str) -> Result<Upload, S3Error> {
    match s3.meta.get::<Upload>(&Scope::global(), &upload_key(bucket, upload_id)).await? {
        Some(u) if u.value.key == key => Ok(u.value),
        _ => Err(S3Error::NoSuchUpload(upload_id.to_string())),
    }
}

async fn parts_of(s3: &S3, upload_id: &str) -> Result<Vec<Part>, S3Error> {
    let q = ListQuery { prefix: format!("{upload_id}/"), ..Default::default() };
    Ok(s3.meta.list::<Part>(&Scope::global(), &q).await?.into_iter().map(|(_, p)| p.value).collect())
}

pub async fn create_multipart_upload(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::CreateMultipartUploadRequest = input(&call)?;
    check_key(&req.key)?;
    super::objects::check_metadata(&req.metadata)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    let upload_id = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let up = Upload {
        upload_id: upload_id.clone(),
        bucket: req.bucket.clone(),
        key: req.key.clone(),
        initiated: Timestamp(s3.clock.now()),
        headers: headers_from(req.content_type, req.cache_control, req.content_disposition, req.content_encoding, req.content_language, req.expires, req.metadata),
        account: call.ctx.account.clone(),
    };
    s3.meta.put(&Scope::global(), &upload_key(&req.bucket, &upload_id), &up, Expect::Absent).await?;
    Reply::of(&api::CreateMultipartUploadOutput { bucket: Some(req.bucket), key: Some(req.key), upload_id: Some(upload_id), ..Default::default() })
}

pub async fn upload_part(s3: &S3, mut call: Call) -> Result<Reply, S3Error> {
    let req: api::UploadPartRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    if !(1..=10000).contains(&req.part_number) {
        return Err(S3Error::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive".into()));
    }
    upload(s3, &req.bucket, &req.key, &req.upload_id).await?;
    let payload = std::mem::replace(&mut call.payload, Payload::Unsigned);
    let body = call.body.take().unwrap_or_default();
    let Received { blob, len, md5, checksums } = receive(s3, &call.parts.headers, payload, body, MAX_PART_SIZE).await?;
    let part = Part { number: req.part_number as u32, etag: etag_of(&md5), size: len, blob: blob.clone(), last_modified: Timestamp(s3.clock.now()) };
    let key = part_key(&req.upload_id, part.number);
    let prev = s3.meta.get::<Part>(&Scope::global(), &key).await?;
    // The upload must still exist when the part is recorded (it may be aborted meanwhile).
    let ops = vec![
        WriteOp::put(&Scope::global(), upload_key(&req.bucket, &req.upload_id), &upload(s3, &req.bucket, &req.key, &req.upload_id).await?, Expect::Present)?,
        WriteOp::put(&Scope::global(), &key, &part, prev.as_ref().map_or(Expect::Absent, |p| Expect::Version(p.version)))?,
    ];
    if let Err(e) = s3.meta.apply(ops).await {
        delete_extents(s3, &[Extent { blob, len }]).await;
        return Err(match e {
            MetaError::ConditionFailed { kind, .. } if kind == "s3.upload" => S3Error::NoSuchUpload(req.upload_id),
            MetaError::ConditionFailed { .. } => S3Error::Aws(hearth_protocol::AwsError::new("OperationAborted", "A conflicting conditional operation is currently in progress against this resource. Please try again.", 409)),
            e => e.into(),
        });
    }
    if let Some(prev) = prev {
        delete_extents(s3, &[Extent { blob: prev.value.blob, len: prev.value.size }]).await;
    }
    Reply::of(&api::UploadPartOutput {
        e_tag: Some(part.etag),
        checksum_crc32: checksums.get("crc32").cloned(),
        checksum_crc32_c: checksums.get("crc32c").cloned(),
        checksum_sha1: checksums.get("sha1").cloned(),
        checksum_sha256: checksums.get("sha256").cloned(),
        ..Default::default()
    })
}

pub async fn complete_multipart_upload(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::CompleteMultipartUploadRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    let up = upload(s3, &req.bucket, &req.key, &req.upload_id).await?;
    let wanted = req.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
    if wanted.is_empty() {
        return Err(S3Error::MalformedXml);
    }
    let stored = parts_of(s3, &req.upload_id).await?;
    let mut chosen: Vec<&Part> = Vec::new();
    let mut last = 0;
    for w in &wanted {
        let n = w.part_number.ok_or(S3Error::MalformedXml)?;
        if n <= last {
            return Err(S3Error::InvalidPartOrder);
        }
        last = n;
        let p = stored.iter().find(|p| p.number as i32 == n).ok_or(S3Error::InvalidPart)?;
        let etag = w.e_tag.as_deref().unwrap_or("");
        if etag.trim_matches('"') != p.etag.trim_matches('"') {
            return Err(S3Error::InvalidPart);
        }
        chosen.push(p);
    }
    if chosen[..chosen.len() - 1].iter().any(|p| p.size < MIN_PART_SIZE) {
        return Err(S3Error::EntityTooSmall);
    }
    let mut md5s = Md5::new();
    for p in &chosen {
        md5s.update(hex::decode(p.etag.trim_matches('"')).unwrap_or_default());
    }
    let etag = format!("\"{}-{}\"", hex::encode(md5s.finalize()), chosen.len());
    let obj = Object {
        key: req.key.clone(),
        size: chosen.iter().map(|p| p.size).sum(),
        etag: etag.clone(),
        last_modified: Timestamp(s3.clock.now()),
        headers: up.headers.clone(),
        extents: chosen.iter().map(|p| Extent { blob: p.blob.clone(), len: p.size }).collect(),
        parts_count: Some(chosen.len() as u32),
        checksums: Default::default(),
    };
    // The object, the end of the upload and its part records commit together.
    let mut extra = vec![WriteOp::delete::<Upload>(&Scope::global(), upload_key(&req.bucket, &req.upload_id), Expect::Present)];
    for p in &stored {
        extra.push(WriteOp::delete::<Part>(&Scope::global(), part_key(&req.upload_id, p.number), Expect::Any));
    }
    match commit_object(s3, &req.bucket, &obj, extra).await {
        Ok(()) => {}
        Err(S3Error::Internal(_)) | Err(_) if s3.meta.get::<Upload>(&Scope::global(), &upload_key(&req.bucket, &req.upload_id)).await?.is_none() => {
            return Err(S3Error::NoSuchUpload(req.upload_id));
        }
        Err(e) => return Err(e),
    }
    // Parts uploaded but not named in the completion are discarded.
    let unused: Vec<Extent> = stored.iter().filter(|p| !chosen.iter().any(|c| c.number == p.number)).map(|p| Extent { blob: p.blob.clone(), len: p.size }).collect();
    delete_extents(s3, &unused).await;
    tracing::debug!(bucket = %req.bucket, key = %req.key, parts = chosen.len(), "multipart upload completed");
    Reply::of(&api::CompleteMultipartUploadOutput {
        bucket: Some(req.bucket.clone()),
        key: Some(req.key.clone()),
        e_tag: Some(etag),
        location: Some(format!("/{}/{}", req.bucket, req.key)),
        ..Default::default()
    })
}

pub async fn abort_multipart_upload(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::AbortMultipartUploadRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    upload(s3, &req.bucket, &req.key, &req.upload_id).await?;
    let parts = parts_of(s3, &req.upload_id).await?;
    let mut ops = vec![WriteOp::delete::<Upload>(&Scope::global(), upload_key(&req.bucket, &req.upload_id), Expect::Present)];
    for p in &parts {
        ops.push(WriteOp::delete::<Part>(&Scope::global(), part_key(&req.upload_id, p.number), Expect::Any));
    }
    s3.meta.apply(ops).await.map_err(|e| match e {
        MetaError::ConditionFailed { .. } => S3Error::NoSuchUpload(req.upload_id.clone()),
        e => e.into(),
    })?;
    let extents: Vec<Extent> = parts.into_iter().map(|p| Extent { blob: p.blob, len: p.size }).collect();
    delete_extents(s3, &extents).await;
    Reply::of(&api::AbortMultipartUploadOutput::default())
}

pub async fn list_parts(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::ListPartsRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    upload(s3, &req.bucket, &req.key, &req.upload_id).await?;
    let max = req.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
    let marker = req.part_number_marker.unwrap_or(0);
    let all: Vec<Part> = parts_of(s3, &req.upload_id).await?.into_iter().filter(|p| p.number as i32 > marker).collect();
    let truncated = all.len() > max;
    let page: Vec<&Part> = all.iter().take(max).collect();
    let own = owner(&call.ctx.account);
    Reply::of(&api::ListPartsOutput {
        bucket: Some(req.bucket.clone()),
        key: Some(req.key.clone()),
        upload_id: Some(req.upload_id.clone()),
        part_number_marker: Some(marker),
        next_part_number_marker: page.last().map(|p| p.number as i32),
        max_parts: Some(max as i32),
        is_truncated: Some(truncated),
        initiator: Some(api::Initiator { id: own.id.clone(), display_name: own.display_name.clone() }),
        owner: Some(own),
        storage_class: Some("STANDARD".into()),
        parts: Some(
            page.iter()
                .map(|p| api::Part { part_number: Some(p.number as i32), e_tag: Some(p.etag.clone()), size: Some(p.size as i64), last_modified: Some(p.last_modified), ..Default::default() })
                .collect(),
        )
        .filter(|v: &Vec<api::Part>| !v.is_empty()),
        ..Default::default()
    })
}

pub async fn list_multipart_uploads(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::ListMultipartUploadsRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    let max = req.max_uploads.unwrap_or(1000).clamp(0, 1000) as usize;
    let prefix = req.prefix.clone().unwrap_or_default();
    let q = ListQuery { prefix: format!("{}/", req.bucket), ..Default::default() };
    let mut ups: Vec<Upload> = s3.meta.list::<Upload>(&Scope::global(), &q).await?.into_iter().map(|(_, u)| u.value).filter(|u| u.key.starts_with(&prefix)).collect();
    ups.sort_by(|a, b| (a.key.as_str(), a.initiated, a.upload_id.as_str()).cmp(&(b.key.as_str(), b.initiated, b.upload_id.as_str())));
    if let Some(km) = &req.key_marker {
        let uid = req.upload_id_marker.clone().unwrap_or_default();
        ups.retain(|u| u.key.as_str() > km.as_str() || (u.key == *km && !uid.is_empty() && u.upload_id.as_str() > uid.as_str()));
    }
    let truncated = ups.len() > max;
    ups.truncate(max);
    let own = owner(&call.ctx.account);
    Reply::of(&api::ListMultipartUploadsOutput {
        bucket: Some(req.bucket.clone()),
        prefix: req.prefix.clone(),
        key_marker: Some(req.key_marker.clone().unwrap_or_default()),
        upload_id_marker: Some(req.upload_id_marker.clone().unwrap_or_default()),
        next_key_marker: truncated.then(|| ups.last().map(|u| u.key.clone())).flatten(),
        next_upload_id_marker: truncated.then(|| ups.last().map(|u| u.upload_id.clone())).flatten(),
        max_uploads: Some(max as i32),
        is_truncated: Some(truncated),
        uploads: Some(
            ups.iter()
                .map(|u| api::MultipartUpload {
                    key: Some(u.key.clone()),
                    upload_id: Some(u.upload_id.clone()),
                    initiated: Some(u.initiated),
                    storage_class: Some("STANDARD".into()),
                    owner: Some(own.clone()),
                    initiator: Some(api::Initiator { id: own.id.clone(), display_name: own.display_name.clone() }),
                    ..Default::default()
                })
                .collect(),
        )
        .filter(|v: &Vec<api::MultipartUpload>| !v.is_empty()),
        ..Default::default()
    })
}
