//! S3 handlers, one file per resource family. Each is thin: read the typed input, check access,
//! call the store, build the typed output.

pub mod body;
pub mod buckets;
pub mod listing;
pub mod multipart;
pub mod objects;

use crate::error::S3Error;
use crate::store::Bucket;
use crate::S3;
use hearth_protocol::RequestContext;
use hearth_runtime::Scope;

/// The bucket, if it exists and belongs to the caller's account.
pub(crate) async fn owned_bucket(s3: &S3, ctx: &RequestContext, name: &str) -> Result<Bucket, S3Error> {
    let b = s3.meta.get::<Bucket>(&Scope::global(), name).await?.ok_or_else(|| S3Error::NoSuchBucket(name.to_string()))?;
    if b.value.account != ctx.account {
        return Err(S3Error::AccessDenied);
    }
    Ok(b.value)
}

/// S3 keys are at most 1024 bytes of UTF-8.
pub(crate) fn check_key(key: &str) -> Result<(), S3Error> {
    if key.len() > 1024 {
        return Err(S3Error::KeyTooLong);
    }
    if key.is_empty() {
        return Err(S3Error::InvalidArgument("Object key must not be empty".into()));
    }
    Ok(())
}

/// A quoted hex MD5 ETag.
pub(crate) fn etag_of(md5: &[u8]) -> String {
    format!("\"{}\"", hex::encode(md5))
}
