//! S3 as other services use it in-process (training data, model artifacts, media, transcripts):
//! whole-object reads and writes by account, with the same access rules and durability as the
//! wire API.

use crate::error::S3Error;
use crate::handlers::objects::{commit_object, delete_extents, stream_extents};
use crate::handlers::{check_key, etag_of, owned_bucket};
use crate::store::{object_key, Extent, Object, ObjectHeaders};
use crate::S3;
use hearth_protocol::types::Timestamp;
use hearth_protocol::{AwsError, RequestContext};
use hearth_runtime::{ListQuery, Scope};
use http_body_util::BodyExt;
use md5::{Digest, Md5};

/// `s3://bucket/key` → (bucket, key).
pub fn parse_s3_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (b, k) = rest.split_once('/').unwrap_or((rest, ""));
    (!b.is_empty()).then(|| (b.to_string(), k.to_string()))
}

pub(crate) fn ctx(account: &str) -> RequestContext {
    RequestContext { request_id: String::new(), account: account.to_string(), region: String::new(), access_key: String::new() }
}

impl S3 {
    /// Read a whole object of `account`'s bucket.
    pub async fn read_object(&self, account: &str, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError> {
        let r: Result<Vec<u8>, S3Error> = async {
            owned_bucket(self, &ctx(account), bucket).await?;
            let obj = self.meta.get::<Object>(&Scope::global(), &object_key(bucket, key)).await?.ok_or_else(|| S3Error::NoSuchKey(key.to_string()))?.value;
            let body = stream_extents(self, obj.extents, 0, obj.size);
            let bytes = body.collect().await.map_err(|e| S3Error::Internal(e.to_string()))?.to_bytes();
            Ok(bytes.to_vec())
        }
        .await;
        r.map_err(|e| e.to_aws())
    }

    /// Write a whole object (durable when this returns); returns the quoted ETag.
    pub async fn write_object(&self, account: &str, bucket: &str, key: &str, data: &[u8], content_type: &str) -> Result<String, AwsError> {
        let r: Result<String, S3Error> = async {
            check_key(key)?;
            owned_bucket(self, &ctx(account), bucket).await?;
            let mut w = self.blobs.writer().await?;
            if let Err(e) = w.write(data).await {
                let _ = w.abort().await;
                return Err(e.into());
            }
            let blob = w.finish().await?;
            let obj = Object {
                key: key.to_string(),
                size: data.len() as u64,
                etag: etag_of(&Md5::digest(data)),
                last_modified: Timestamp(self.clock.now()),
                headers: ObjectHeaders { content_type: Some(content_type.to_string()), ..Default::default() },
                extents: vec![Extent { blob, len: data.len() as u64 }],
                parts_count: None,
                checksums: Default::default(),
            };
            if let Err(e) = commit_object(self, bucket, &obj, vec![]).await {
                delete_extents(self, &obj.extents).await;
                return Err(e);
            }
            Ok(obj.etag)
        }
        .await;
        r.map_err(|e| e.to_aws())
    }

    /// Keys and sizes under a prefix, in key order.
    pub async fn list_objects(&self, account: &str, bucket: &str, prefix: &str) -> Result<Vec<(String, u64)>, AwsError> {
        let r: Result<Vec<(String, u64)>, S3Error> = async {
            owned_bucket(self, &ctx(account), bucket).await?;
            let q = ListQuery { prefix: object_key(bucket, prefix), ..Default::default() };
            Ok(self.meta.list::<Object>(&Scope::global(), &q).await?.into_iter().map(|(_, o)| (o.value.key, o.value.size)).collect())
        }
        .await;
        r.map_err(|e| e.to_aws())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn s3_uris() {
        assert_eq!(super::parse_s3_uri("s3://b/a/b.csv"), Some(("b".into(), "a/b.csv".into())));
        assert_eq!(super::parse_s3_uri("s3://b"), Some(("b".into(), "".into())));
        assert_eq!(super::parse_s3_uri("http://b/x"), None);
    }
}
