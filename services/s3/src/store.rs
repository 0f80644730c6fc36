//! S3's typed records in the metadata store.
//!
//! - `s3.bucket` (global scope, key = bucket name): bucket names are unique across accounts;
//!   the record names the owning account and region.
//! - `s3.object` (global scope, key = `<bucket>/<key>`): object metadata and the blobs holding
//!   its bytes, in order (a completed multipart upload keeps its part blobs without copying).
//! - `s3.upload` (global scope, key = `<bucket>/<upload id>`) and `s3.part`
//!   (key = `<upload id>/<part number, 5 digits>`): multipart uploads in progress.

use hearth_protocol::types::Timestamp;
use hearth_runtime::blob::BlobId;
use hearth_runtime::Record;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    pub account: String,
    pub region: String,
    pub created: Timestamp,
}

impl Record for Bucket {
    const KIND: &'static str = "s3.bucket";
}

/// A run of an object's bytes stored in one blob.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extent {
    pub blob: BlobId,
    pub len: u64,
}

/// Headers stored with an object and returned by GET/HEAD.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ObjectHeaders {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub expires: Option<String>,
    /// User metadata (`x-amz-meta-*`), keys lower-cased.
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Object {
    pub key: String,
    pub size: u64,
    /// Quoted ETag as returned to clients.
    pub etag: String,
    pub last_modified: Timestamp,
    pub headers: ObjectHeaders,
    pub extents: Vec<Extent>,
    /// Number of parts when created by a multipart upload.
    pub parts_count: Option<u32>,
    /// Checksums given at upload (algorithm name → base64 value), returned on request.
    #[serde(default)]
    pub checksums: BTreeMap<String, String>,
}

impl Record for Object {
    const KIND: &'static str = "s3.object";
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated: Timestamp,
    pub headers: ObjectHeaders,
    pub account: String,
}

impl Record for Upload {
    const KIND: &'static str = "s3.upload";
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    pub number: u32,
    pub etag: String,
    pub size: u64,
    pub blob: BlobId,
    pub last_modified: Timestamp,
}

impl Record for Part {
    const KIND: &'static str = "s3.part";
}

pub fn object_key(bucket: &str, key: &str) -> String {
    format!("{bucket}/{key}")
}

pub fn upload_key(bucket: &str, upload_id: &str) -> String {
    format!("{bucket}/{upload_id}")
}

pub fn part_key(upload_id: &str, number: u32) -> String {
    format!("{upload_id}/{number:05}")
}
