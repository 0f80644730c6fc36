//! ListObjectsV2 and ListObjects: keys in UTF-8 binary order, prefix, delimiter roll-up into
//! common prefixes, paging by continuation token / marker, and `encoding-type=url`.

use super::buckets::owner;
use super::owned_bucket;
use crate::api;
use crate::error::S3Error;
use crate::store::Object;
use crate::{input, Call, Reply, S3};
use base64::Engine;
use hearth_runtime::{ListQuery, Scope};

/// One page of a listing.
struct Page {
    objects: Vec<Object>,
    prefixes: Vec<String>,
    truncated: bool,
    /// The last key or common prefix returned (the next page starts after it).
    last: Option<String>,
}

/// Skip past every key under a common prefix.
fn after_prefix(p: &str) -> String {
    format!("{p}\u{10FFFF}")
}

async fn list_page(s3: &S3, bucket: &str, prefix: &str, delimiter: Option<&str>, start_after: Option<String>, max: usize) -> Result<Page, S3Error> {
    let base = format!("{bucket}/");
    let mut page = Page { objects: Vec::new(), prefixes: Vec::new(), truncated: false, last: None };
    let mut cursor = start_after;
    let delimiter = delimiter.filter(|d| !d.is_empty());
    'outer: loop {
        let q = ListQuery { prefix: format!("{base}{prefix}"), start_after: cursor.as_ref().map(|c| format!("{base}{c}")), limit: Some(1000) };
        let batch = s3.meta.list::<Object>(&Scope::global(), &q).await?;
        if batch.is_empty() {
            break;
        }
        let n = batch.len();
        for (full, rec) in batch {
            let key = &full[base.len()..];
            let rolled = delimiter.and_then(|d| key[prefix.len()..].find(d).map(|i| key[..prefix.len() + i + d.len()].to_string()));
            if page.objects.len() + page.prefixes.len() == max {
                page.truncated = true;
                break 'outer;
            }
            match rolled {
                Some(cp) => {
                    cursor = Some(after_prefix(&cp));
                    page.last = Some(cp.clone());
                    page.prefixes.push(cp);
                    continue 'outer; // re-query past the whole prefix
                }
                None => {
                    cursor = Some(key.to_string());
                    page.last = Some(key.to_string());
                    page.objects.push(rec.value);
                }
            }
        }
        if n < 1000 {
            break;
        }
    }
    Ok(page)
}

fn encode_key(s: &str, url: bool) -> String {
    if !url {
        return s.to_string();
    }
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

fn max_keys(m: Option<i32>) -> Result<usize, S3Error> {
    match m {
        None => Ok(1000),
        Some(n) if n < 0 => Err(S3Error::InvalidArgument("max-keys cannot be negative".into())),
        Some(n) => Ok((n as usize).min(1000)),
    }
}

fn contents(page: &Page, url: bool, fetch_owner: Option<&api::Owner>) -> Vec<api::Object> {
    page.objects
        .iter()
        .map(|o| api::Object {
            key: Some(encode_key(&o.key, url)),
            last_modified: Some(o.last_modified),
            e_tag: Some(o.etag.clone()),
            size: Some(o.size as i64),
            storage_class: Some("STANDARD".into()),
            owner: fetch_owner.cloned(),
            ..Default::default()
        })
        .collect()
}

fn common_prefixes(page: &Page, url: bool) -> Option<Vec<api::CommonPrefix>> {
    (!page.prefixes.is_empty()).then(|| page.prefixes.iter().map(|p| api::CommonPrefix { prefix: Some(encode_key(p, url)) }).collect())
}

pub async fn list_objects_v2(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::ListObjectsV2Request = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    let url = match req.encoding_type.as_deref() {
        None => false,
        Some("url") => true,
        Some(_) => return Err(S3Error::InvalidArgument("Invalid Encoding Method specified in Request".into())),
    };
    let max = max_keys(req.max_keys)?;
    let prefix = req.prefix.clone().unwrap_or_default();
    let start = match &req.continuation_token {
        Some(t) => {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t).map_err(|_| S3Error::InvalidArgument("The continuation token provided is incorrect".into()))?;
            Some(String::from_utf8(raw).map_err(|_| S3Error::InvalidArgument("The continuation token provided is incorrect".into()))?)
        }
        None => req.start_after.clone().filter(|s| !s.is_empty()),
    };
    let page = list_page(s3, &req.bucket, &prefix, req.delimiter.as_deref(), start, max).await?;
    let next = if page.truncated {
        page.last.as_ref().map(|l| {
            let resume = if page.prefixes.last() == Some(l) { after_prefix(l) } else { l.clone() };
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(resume)
        })
    } else {
        None
    };
    let owner = req.fetch_owner.unwrap_or(false).then(|| owner(&call.ctx.account));
    let out = api::ListObjectsV2Output {
        name: Some(req.bucket.clone()),
        prefix: Some(encode_key(&prefix, url)),
        delimiter: req.delimiter.as_deref().map(|d| encode_key(d, url)),
        max_keys: Some(max as i32),
        key_count: Some((page.objects.len() + page.prefixes.len()) as i32),
        is_truncated: Some(page.truncated),
        contents: Some(contents(&page, url, owner.as_ref())).filter(|c| !c.is_empty()),
        common_prefixes: common_prefixes(&page, url),
        continuation_token: req.continuation_token.clone(),
        next_continuation_token: next,
        start_after: req.start_after.as_deref().map(|s| encode_key(s, url)),
        encoding_type: req.encoding_type.clone(),
        ..Default::default()
    };
    Reply::of(&out)
}

pub async fn list_objects(s3: &S3, call: Call) -> Result<Reply, S3Error> {
    let req: api::ListObjectsRequest = input(&call)?;
    owned_bucket(s3, &call.ctx, &req.bucket).await?;
    let url = req.encoding_type.as_deref() == Some("url");
    let max = max_keys(req.max_keys)?;
    let prefix = req.prefix.clone().unwrap_or_default();
    let start = req.marker.clone().filter(|m| !m.is_empty());
    let page = list_page(s3, &req.bucket, &prefix, req.delimiter.as_deref(), start, max).await?;
    let next_marker = (page.truncated && req.delimiter.is_some()).then(|| page.last.clone().map(|l| encode_key(&l, url))).flatten();
    let out = api::ListObjectsOutput {
        name: Some(req.bucket.clone()),
        prefix: Some(encode_key(&prefix, url)),
        delimiter: req.delimiter.as_deref().map(|d| encode_key(d, url)),
        marker: Some(req.marker.clone().unwrap_or_default()),
        max_keys: Some(max as i32),
        is_truncated: Some(page.truncated),
        contents: Some(contents(&page, url, Some(&owner(&call.ctx.account)))).filter(|c| !c.is_empty()),
        common_prefixes: common_prefixes(&page, url),
        next_marker,
        encoding_type: req.encoding_type.clone(),
        ..Default::default()
    };
    Reply::of(&out)
}
