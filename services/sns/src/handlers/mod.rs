//! SNS operations, one file per resource family: [`topics`], [`subscriptions`], [`publish`],
//! [`tags`]. Handlers check the input, call the domain rules and the store, and build the
//! generated output type. This file holds what they share: scopes, ARN ownership checks,
//! loading topics and subscriptions, and `NextToken` pagination.

pub mod publish;
pub mod subscriptions;
pub mod tags;
pub mod topics;

use crate::domain::arn::TopicArn;
use crate::error::SnsError;
use crate::store::{self, Subscription, Topic};
use crate::Inner;
use base64::Engine;
use hearth_protocol::RequestContext;
use hearth_runtime::{ListQuery, Record, Scope, Versioned};

/// Items per page of the list operations.
pub const PAGE_SIZE: usize = 100;

/// The caller's scope.
pub fn scope(ctx: &RequestContext) -> Scope {
    Scope::new(ctx.account.clone(), ctx.region.clone())
}

/// Check that `arn` names a topic of the caller's region and account. Another region is
/// `Invalid parameter: TopicArn`; another account is an `AuthorizationError` (Hearth has no
/// cross-account topic policies).
pub fn own_topic(ctx: &RequestContext, arn: &TopicArn, param: &str, action: &str) -> Result<(), SnsError> {
    if arn.region != ctx.region {
        return Err(SnsError::invalid(format!("Invalid parameter: {param}")));
    }
    if arn.account != ctx.account {
        return Err(SnsError::AuthorizationError(format!(
            "User: arn:aws:iam::{}:root is not authorized to perform: SNS:{action} on resource: {arn} because no resource-based policy allows the SNS:{action} action",
            ctx.account
        )));
    }
    Ok(())
}

/// Load a topic or answer `NotFound: Topic does not exist`.
pub async fn load_topic(inner: &Inner, scope: &Scope, name: &str) -> Result<Versioned<Topic>, SnsError> {
    inner.meta.get::<Topic>(scope, name).await?.ok_or_else(SnsError::topic_not_found)
}

/// Every subscription of one topic.
pub async fn topic_subscriptions(inner: &Inner, scope: &Scope, topic: &str) -> Result<Vec<Subscription>, SnsError> {
    let q = ListQuery { prefix: store::subscription_prefix(topic), ..Default::default() };
    Ok(inner.meta.list::<Subscription>(scope, &q).await?.into_iter().map(|(_, v)| v.value).collect())
}

/// One page of records of kind `T` under `prefix`, after the key `next_token` encodes.
/// Returns the records and the token of the next page.
pub async fn page<T: Record>(inner: &Inner, scope: &Scope, prefix: &str, next_token: Option<&str>) -> Result<(Vec<(String, T)>, Option<String>), SnsError> {
    let start_after = match next_token.filter(|t| !t.is_empty()) {
        Some(t) => {
            let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|k| k.starts_with(prefix))
                .ok_or_else(|| SnsError::invalid("Invalid parameter: NextToken"))?;
            Some(key)
        }
        None => None,
    };
    let q = ListQuery { prefix: prefix.to_string(), start_after, limit: Some(PAGE_SIZE + 1) };
    let mut rows: Vec<(String, T)> = inner.meta.list::<T>(scope, &q).await?.into_iter().map(|(k, v)| (k, v.value)).collect();
    let next = if rows.len() > PAGE_SIZE {
        rows.truncate(PAGE_SIZE);
        rows.last().map(|(k, _)| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k))
    } else {
        None
    };
    Ok((rows, next))
}

/// Record a metric in `AWS/SNS` for one topic; a dropped datum is only logged.
pub fn metric(inner: &Inner, scope: &Scope, topic: &str, name: &str, value: f64, unit: hearth_runtime::Unit) {
    let datum = hearth_runtime::MetricDatum::new("AWS/SNS", name, inner.clock.now(), value).dimension("TopicName", topic).unit(unit);
    if let Err(e) = inner.metrics.record(scope, datum) {
        tracing::debug!(error = %e, "sns metric dropped");
    }
}
