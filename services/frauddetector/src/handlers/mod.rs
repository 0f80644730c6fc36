//! Operation handlers, one file per resource family. Each handler validates what the model's
//! constraints cannot express, calls the domain, persists through the metadata store and
//! builds the generated output. This file holds what they share: the request context, ARNs,
//! timestamps, pagination and tags.

pub mod batch_import;
pub mod detectors;
pub mod event_types;
pub mod events;
pub mod external_models;
pub mod lists;
pub mod models;
pub mod predictions;
pub mod resources;
pub mod rules;
pub mod tags;
pub mod validate;
pub mod variables;

use crate::api;
use crate::error::{FdError, FdResult};
use crate::store::{Stamp, TagsRec};
use crate::Inner;
use hearth_runtime::{Expect, ListQuery, Record, Scope, WriteOp};

/// Who is calling and when.
pub struct Cx {
    pub scope: Scope,
    pub account: String,
    pub region: String,
    /// The request time (ISO 8601 UTC).
    pub now: String,
    pub now_ms: i64,
}

impl Cx {
    /// The context of a request at the service clock's time.
    pub fn new(account: &str, region: &str, now: time::OffsetDateTime) -> Cx {
        let region = if region.is_empty() { "us-east-1" } else { region };
        Cx {
            scope: Scope::new(account, region),
            account: account.to_string(),
            region: region.to_string(),
            now: crate::domain::values::iso(now),
            now_ms: crate::domain::values::to_millis(now),
        }
    }

    /// `arn:aws:frauddetector:<region>:<account>:<resource>`.
    pub fn arn(&self, resource: &str) -> String {
        format!("arn:aws:frauddetector:{}:{}:{resource}", self.region, self.account)
    }

    /// A new resource's stamp.
    pub fn stamp(&self, resource: &str) -> Stamp {
        Stamp { arn: self.arn(resource), created: self.now.clone(), updated: self.now.clone() }
    }

    /// An existing resource's stamp, updated now.
    pub fn touch(&self, s: &Stamp) -> Stamp {
        Stamp { arn: s.arn.clone(), created: s.created.clone(), updated: self.now.clone() }
    }
}

/// Records of one kind, all of them, in key order.
pub async fn list_all<T: Record>(svc: &Inner, scope: &Scope, prefix: &str) -> FdResult<Vec<(String, T)>> {
    let q = ListQuery { prefix: prefix.to_string(), ..Default::default() };
    Ok(svc.rt.meta.list::<T>(scope, &q).await?.into_iter().map(|(k, v)| (k, v.value)).collect())
}

/// One record.
pub async fn get<T: Record>(svc: &Inner, scope: &Scope, key: &str) -> FdResult<Option<T>> {
    Ok(svc.rt.meta.get::<T>(scope, key).await?.map(|v| v.value))
}

/// A page of `items` (already in order) after `next_token` (the last key of the previous page).
pub fn page<T>(items: Vec<(String, T)>, next_token: Option<&str>, max: usize) -> FdResult<(Vec<T>, Option<String>)> {
    let start = match next_token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => {
            let after = decode_token(t)?;
            items.iter().position(|(k, _)| k.as_str() > after.as_str()).unwrap_or(items.len())
        }
    };
    let max = max.max(1);
    let mut rest: Vec<(String, T)> = items.into_iter().skip(start).collect();
    let next = if rest.len() > max { Some(encode_token(&rest[max - 1].0)) } else { None };
    rest.truncate(max);
    Ok((rest.into_iter().map(|(_, v)| v).collect(), next))
}

fn encode_token(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(t: &str) -> FdResult<String> {
    let bad = || FdError::validation("The nextToken is invalid.");
    if !t.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes: Result<Vec<u8>, _> = (0..t.len()).step_by(2).map(|i| u8::from_str_radix(&t[i..i + 2], 16)).collect();
    String::from_utf8(bytes.map_err(|_| bad())?).map_err(|_| bad())
}

/// The tag writes of a new resource (none when `tags` is empty).
pub fn tag_ops(scope: &Scope, arn: &str, tags: &Option<Vec<api::Tag>>) -> FdResult<Vec<WriteOp>> {
    match tags {
        Some(t) if !t.is_empty() => {
            let rec = TagsRec { tags: t.iter().map(|x| (x.key.clone(), x.value.clone())).collect() };
            Ok(vec![WriteOp::put(scope, arn, &rec, Expect::Any)?])
        }
        _ => Ok(vec![]),
    }
}

/// Delete the tags of a resource along with it.
pub fn untag_op(scope: &Scope, arn: &str) -> WriteOp {
    WriteOp::delete::<TagsRec>(scope, arn, Expect::Any)
}

/// Apply a batch, turning a lost race on `Expect` into `ConflictException`.
pub async fn apply(svc: &Inner, ops: Vec<WriteOp>, conflict: impl FnOnce() -> String) -> FdResult<()> {
    match svc.rt.meta.apply(ops).await {
        Ok(()) => {
            svc.serving.invalidate();
            Ok(())
        }
        Err(hearth_runtime::MetaError::ConditionFailed { .. }) => Err(FdError::conflict(conflict())),
        Err(e) => Err(e.into()),
    }
}

/// `maxResults` or its default.
pub fn max_results(v: Option<i32>, default: usize) -> usize {
    v.map(|n| n.max(1) as usize).unwrap_or(default)
}
