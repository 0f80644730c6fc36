//! Buckets: create, head, list, delete, location. Names are global across accounts.

use super::owned_bucket;
use crate::api;
use crate::error::S3Error;
use crate::store::{self, Bucket};
use crate::{input, Call, Reply, S3};
use hearth_protocol::types::Timestamp;
use hearth_runtime::{Expect, ListQuery, MetaError, Scope};

/// S3 bucket naming rules for general purpose buckets.
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return false;
    }
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-';
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !b.iter().all(|&c| ok_char(c)) || !edge(b[0]) || !edge(b[b.len() - 1]) {
        return false;
    }
    if name.contains("..") || name.starts_with("xn--") || name.starts_with("sthree-") || name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        return false;
    }
    // Not formatted as an IP address.
    !(name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()))
}

pub async fn create_bucket(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::CreateBucketRequest = input(&call)?;
    if !valid_bucket_name(&req.bucket) {
        return Err(S3Error::InvalidBucketName(req.bucket));
    }
    let constraint = req.create_bucket_configuration.and_then(|c| c.location_constraint).filter(|c| !c.is_empty());
    let region = match constraint {
        Some(c) if c == "us-east-1" => return Err(S3Error::InvalidLocationConstraint),
        Some(c) if c == "EU" => "eu-west-1".to_string(),
        Some(c) => {
            if !c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-') {
                return Err(S3Error::InvalidLocationConstraint);
            }
            c
        }
        None if call.ctx.region == "us-east-1" => "us-east-1".to_string(),
        None => return Err(S3Error::IllegalLocationConstraint("unspecified".into())),
    };
    let bucket = Bucket { name: req.bucket.clone(), account: call.ctx.account.clone(), region, created: Timestamp(s3.clock.now()) };
    match s3.meta.put(&Scope::global(), &req.bucket, &bucket, Expect::Absent).await {
        Ok(_) => {}
        Err(MetaError::ConditionFailed { .. }) => {
            let existing = s3.meta.get::<Bucket>(&Scope::global(), &req.bucket).await?;
            return match existing {
                // us-east-1 keeps its legacy behaviour: re-creating your own bucket succeeds.
                Some(b) if b.value.account == call.ctx.account && b.value.region == "us-east-1" && bucket.region == "us-east-1" => {
                    Reply::of(&api::CreateBucketOutput { location: Some(format!("/{}", req.bucket)), ..Default::default() })
                }
                Some(b) if b.value.account == call.ctx.account => Err(S3Error::BucketAlreadyOwnedByYou(req.bucket)),
                _ => Err(S3Error::BucketAlreadyExists(req.bucket)),
            };
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(bucket = %req.bucket, account = %call.ctx.account, "bucket created");
    Reply::of(&api::CreateBucketOutput { location: Some(format!("/{}", req.bucket)), ..Default::default() })
}

pub async fn head_bucket(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::HeadBucketRequest = input(&call)?;
    let b = owned_bucket(s3, &call.ctx, &req.bucket).await?;
    Reply::of(&api::HeadBucketOutput { bucket_region: Some(b.region), ..Default::default() })
}

pub async fn get_bucket_location(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::GetBucketLocationRequest = input(&call)?;
    let b = owned_bucket(s3, &call.ctx, &req.bucket).await?;
    // The reply is the bare element; us-east-1 is reported as an empty constraint, as S3 does.
    let ns = api::SERVICE.xml_namespace;
    let xml = if b.region == "us-east-1" {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{ns}\"/>")
    } else {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{ns}\">{}</LocationConstraint>", b.region)
    };
    let mut reply = Reply::of(&serde_json::json!({}))?;
    reply.headers.push(("content-type".into(), "application/xml".into()));
    reply.headers.push(("content-length".into(), xml.len().to_string()));
    reply.body = Some(axum::body::Body::from(xml));
    Ok(reply)
}

pub async fn list_buckets(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::ListBucketsRequest = input(&call)?;
    let all = s3.meta.list::<Bucket>(&Scope::global(), &ListQuery { prefix: req.prefix.clone().unwrap_or_default(), ..Default::default() }).await?;
    let buckets = all
        .into_iter()
        .map(|(_, b)| b.value)
        .filter(|b| b.account == call.ctx.account)
        .filter(|b| req.bucket_region.as_ref().map_or(true, |r| *r == b.region))
        .map(|b| api::Bucket { name: Some(b.name), creation_date: Some(b.created), bucket_region: Some(b.region), ..Default::default() })
        .collect();
    Reply::of(&api::ListBucketsOutput { buckets: Some(buckets), owner: Some(owner(&call.ctx.account)), prefix: req.prefix, ..Default::default() })
}

pub async fn delete_bucket(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::DeleteBucketRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    let q = ListQuery { prefix: format!("{}/", req.bucket), limit: Some(1), ..Default::default() };
    let objects = s3.meta.list::<store::Object>(&Scope::global(), &q).await?;
    let uploads = s3.meta.list::<store::Upload>(&Scope::global(), &q).await?;
    if !objects.is_empty() || !uploads.is_empty() {
        return Err(S3Error::BucketNotEmpty(req.bucket));
    }
    s3.meta.delete::<Bucket>(&Scope::global(), &req.bucket, Expect::Present).await.map_err(|e| match e {
        MetaError::ConditionFailed { .. } => S3Error::NoSuchBucket(req.bucket.clone()),
        e => e.into(),
    })?;
    tracing::info!(bucket = %req.bucket, "bucket deleted");
    Reply::of(&serde_json::json!({}))
}

/// The owner element for an account (the canonical id is derived from the account id).
pub fn owner(account: &str) -> api::Owner {
    use sha2::Digest;
    api::Owner { id: Some(hex::encode(sha2::Sha256::digest(account.as_bytes()))), display_name: Some(account.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::valid_bucket_name;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["abc", "my-bucket.data", "a1b2c3", &"a".repeat(63)] {
            assert!(valid_bucket_name(ok), "{ok}");
        }
        for bad in ["ab", "ABC", "-abc", "abc-", "a..b", "192.168.1.1", "xn--abc", "a_b", "buck/et", &"a".repeat(64), "x-s3alias"] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }
}
