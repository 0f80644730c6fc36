//! Subscription operations: Subscribe, ConfirmSubscription, ListSubscriptions,
//! ListSubscriptionsByTopic, Unsubscribe, GetSubscriptionAttributes, SetSubscriptionAttributes;
//! plus [`confirm`] and [`remove`], which the unsigned confirmation and unsubscribe links share.
//!
//! HTTP/S and email subscriptions start pending: Subscribe stores the subscription and a
//! confirmation token (valid two days) and queues a `SubscriptionConfirmation` delivery, and
//! an expiry that removes the subscription if it is still unconfirmed after 48 hours.
//! Subscribing the same endpoint again returns the same subscription (and sends a fresh
//! confirmation while it is still pending). An unsigned unsubscribe of an HTTP/S subscription
//! sends an `UnsubscribeConfirmation` whose token restores the subscription.

use super::{load_topic, own_topic, page, scope, topic_subscriptions};
use crate::api;
use crate::domain::arn::{SubscriptionArn, TopicArn};
use crate::domain::envelope::Kind;
use crate::domain::subscription as rules;
use crate::domain::{self, is_token_shaped, new_token, TOKEN_LIFETIME};
use crate::error::SnsError;
use crate::jobs::{Delivery, Expiry};
use crate::store::{self, Subscription, Token, Topic};
use crate::Inner;
use hearth_protocol::RequestContext;
use hearth_runtime::{Expect, MetaError, Scope, WriteOp};

/// What Subscribe answers for a subscription that waits for confirmation.
const PENDING: &str = "pending confirmation";

/// Subscribe.
pub async fn subscribe(inner: &Inner, ctx: &RequestContext, input: api::SubscribeInput) -> Result<api::SubscribeResponse, SnsError> {
    let arn = TopicArn::parse("TopicArn", &input.topic_arn)?;
    own_topic(ctx, &arn, "TopicArn", "Subscribe")?;
    let scope = scope(ctx);
    let topic = load_topic(inner, &scope, &arn.name).await?.value;
    let protocol = input.protocol.as_str();
    let endpoint = rules::check_endpoint(protocol, input.endpoint.as_deref(), &topic)?;
    let attributes = rules::check_attributes(&input.attributes.unwrap_or_default(), protocol)?;
    let want_arn = input.return_subscription_arn.unwrap_or(false);

    for existing in topic_subscriptions(inner, &scope, &arn.name).await? {
        if existing.protocol != protocol || existing.endpoint != endpoint {
            continue;
        }
        if !rules::same_attributes(&existing, &attributes) {
            return Err(SnsError::invalid("Invalid parameter: Attributes Reason: Subscription already exists with different attributes"));
        }
        let sub_arn = rules::arn(&arn, &existing).to_string();
        if !existing.pending {
            return Ok(api::SubscribeResponse { subscription_arn: Some(sub_arn) });
        }
        resend_confirmation(inner, &scope, existing).await?;
        return Ok(api::SubscribeResponse { subscription_arn: Some(if want_arn { sub_arn } else { PENDING.into() }) });
    }

    let pending = rules::needs_confirmation(protocol);
    let token = new_token();
    let sub = Subscription {
        id: uuid::Uuid::new_v4().to_string(),
        topic: arn.name.clone(),
        protocol: protocol.to_string(),
        endpoint,
        owner: ctx.account.clone(),
        attributes,
        pending,
        confirmation_was_authenticated: !pending,
        authenticate_on_unsubscribe: false,
        token: pending.then(|| token.clone()),
        created: inner.clock.now().into(),
    };
    let key = store::subscription_key(&sub.topic, &sub.id);
    let mut ops = vec![WriteOp::put(&scope, key, &sub, Expect::Absent)?];
    if pending {
        ops.push(WriteOp::put(&Scope::global(), token.clone(), &token_record(inner, &scope, &sub, None), Expect::Absent)?);
    }
    inner.meta.apply(ops).await?;
    let sub_arn = rules::arn(&arn, &sub).to_string();
    tracing::info!(subscription = %sub_arn, protocol = %sub.protocol, pending, "subscribed");
    if !pending {
        return Ok(api::SubscribeResponse { subscription_arn: Some(sub_arn) });
    }
    crate::jobs::submit_expiry(inner, &scope, &Expiry { topic: sub.topic.clone(), subscription: sub.id.clone() }, sub.created.0).await?;
    queue_confirmation(inner, &scope, &sub, &token, Kind::SubscriptionConfirmation).await?;
    Ok(api::SubscribeResponse { subscription_arn: Some(if want_arn { sub_arn } else { PENDING.into() }) })
}

fn token_record(inner: &Inner, scope: &Scope, sub: &Subscription, restore: Option<Subscription>) -> Token {
    Token {
        account: scope.account.clone(),
        region: scope.region.clone(),
        topic: sub.topic.clone(),
        subscription: sub.id.clone(),
        expires: (inner.clock.now() + TOKEN_LIFETIME).into(),
        restore,
    }
}

/// Issue a new token for a pending subscription and send its confirmation again.
async fn resend_confirmation(inner: &Inner, scope: &Scope, mut sub: Subscription) -> Result<(), SnsError> {
    let key = store::subscription_key(&sub.topic, &sub.id);
    let token = new_token();
    let Some(current) = inner.meta.get::<Subscription>(scope, &key).await? else { return Ok(()) };
    sub.token = Some(token.clone());
    let ops = vec![
        WriteOp::put(scope, key, &sub, Expect::Version(current.version))?,
        WriteOp::put(&Scope::global(), token.clone(), &token_record(inner, scope, &sub, None), Expect::Absent)?,
    ];
    match inner.meta.apply(ops).await {
        Ok(()) => queue_confirmation(inner, scope, &sub, &token, Kind::SubscriptionConfirmation).await,
        // Confirmed or changed meanwhile: nothing to resend.
        Err(MetaError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Queue the delivery of a confirmation document (durable when this returns).
async fn queue_confirmation(inner: &Inner, scope: &Scope, sub: &Subscription, token: &str, kind: Kind) -> Result<(), SnsError> {
    let delivery = Delivery {
        kind,
        topic: sub.topic.clone(),
        subscription: sub.id.clone(),
        protocol: sub.protocol.clone(),
        endpoint: sub.endpoint.clone(),
        message_id: uuid::Uuid::new_v4().to_string(),
        timestamp: domain::timestamp(inner.clock.now()),
        message: None,
        token: Some(token.to_string()),
        attempts: 0,
        last_error: None,
    };
    crate::jobs::submit(inner, scope, &delivery).await
}

/// ConfirmSubscription (signed): confirms, and with `AuthenticateOnUnsubscribe=true` only
/// signed requests may unsubscribe afterwards.
pub async fn confirm_subscription(inner: &Inner, ctx: &RequestContext, input: api::ConfirmSubscriptionInput) -> Result<api::ConfirmSubscriptionResponse, SnsError> {
    let lock_unsubscribe = input.authenticate_on_unsubscribe.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let arn = confirm(inner, &input.topic_arn, &input.token, Some(&ctx.region), lock_unsubscribe).await?;
    Ok(api::ConfirmSubscriptionResponse { subscription_arn: Some(arn) })
}

/// Confirm the subscription a token was issued for; `signed_region` is the region of a signed
/// request (`None` for the unsigned link). Returns the subscription ARN. Idempotent.
pub async fn confirm(inner: &Inner, topic_arn: &str, token: &str, signed_region: Option<&str>, lock_unsubscribe: bool) -> Result<String, SnsError> {
    let bad_topic = || SnsError::invalid("Invalid parameter: Topic");
    let arn = TopicArn::parse("Topic", topic_arn).map_err(|_| bad_topic())?;
    if signed_region.is_some_and(|r| r != arn.region) {
        return Err(bad_topic());
    }
    if !is_token_shaped(token) {
        return Err(SnsError::invalid("Invalid token"));
    }
    let bad_token = || SnsError::invalid("Invalid parameter: Token");
    let record = inner.meta.get::<Token>(&Scope::global(), token).await?.ok_or_else(bad_token)?.value;
    if record.expires.0 < inner.clock.now() {
        return Err(bad_token());
    }
    if record.region != arn.region {
        return Err(bad_topic());
    }
    let scope = Scope::new(record.account.clone(), record.region.clone());
    let topic_arn = TopicArn::new(&record.region, &record.account, &record.topic);
    let key = store::subscription_key(&record.topic, &record.subscription);
    let authenticated = signed_region.is_some();
    loop {
        let (sub, expect) = match inner.meta.get::<Subscription>(&scope, &key).await? {
            Some(current) if !current.value.pending => return Ok(rules::arn(&topic_arn, &current.value).to_string()),
            Some(current) => (current.value, Expect::Version(current.version)),
            None => match &record.restore {
                // The token of an UnsubscribeConfirmation: bring the subscription back.
                Some(old) if inner.meta.get::<Topic>(&scope, &record.topic).await?.is_some() => (old.clone(), Expect::Absent),
                _ => return Err(bad_token()),
            },
        };
        let confirmed = Subscription {
            pending: false,
            confirmation_was_authenticated: authenticated,
            authenticate_on_unsubscribe: authenticated && lock_unsubscribe,
            token: None,
            ..sub
        };
        match inner.meta.put(&scope, &key, &confirmed, expect).await {
            Ok(_) => {
                let sub_arn = rules::arn(&topic_arn, &confirmed).to_string();
                tracing::info!(subscription = %sub_arn, authenticated, "subscription confirmed");
                return Ok(sub_arn);
            }
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// ListSubscriptions: the caller's subscriptions in this region, 100 per page.
pub async fn list_subscriptions(inner: &Inner, ctx: &RequestContext, input: api::ListSubscriptionsInput) -> Result<api::ListSubscriptionsResponse, SnsError> {
    let (rows, next) = page::<Subscription>(inner, &scope(ctx), "", input.next_token.as_deref()).await?;
    Ok(api::ListSubscriptionsResponse { subscriptions: Some(rows.iter().map(|(_, s)| listed(ctx, s)).collect()), next_token: next })
}

/// ListSubscriptionsByTopic.
pub async fn list_subscriptions_by_topic(
    inner: &Inner,
    ctx: &RequestContext,
    input: api::ListSubscriptionsByTopicInput,
) -> Result<api::ListSubscriptionsByTopicResponse, SnsError> {
    let arn = TopicArn::parse("TopicArn", &input.topic_arn)?;
    own_topic(ctx, &arn, "TopicArn", "ListSubscriptionsByTopic")?;
    let scope = scope(ctx);
    load_topic(inner, &scope, &arn.name).await?;
    let (rows, next) = page::<Subscription>(inner, &scope, &store::subscription_prefix(&arn.name), input.next_token.as_deref()).await?;
    Ok(api::ListSubscriptionsByTopicResponse { subscriptions: Some(rows.iter().map(|(_, s)| listed(ctx, s)).collect()), next_token: next })
}

fn listed(ctx: &RequestContext, s: &Subscription) -> api::Subscription {
    let topic_arn = TopicArn::new(&ctx.region, &ctx.account, &s.topic);
    api::Subscription {
        subscription_arn: Some(if s.pending { "PendingConfirmation".into() } else { rules::arn(&topic_arn, s).to_string() }),
        owner: Some(s.owner.clone()),
        protocol: Some(s.protocol.clone()),
        endpoint: Some(s.endpoint.clone()),
        topic_arn: Some(topic_arn.to_string()),
    }
}

/// Unsubscribe (signed): idempotent; no `UnsubscribeConfirmation` is sent to the owner's own
/// endpoint, as AWS documents.
pub async fn unsubscribe(inner: &Inner, ctx: &RequestContext, input: api::UnsubscribeInput) -> Result<(), SnsError> {
    let arn = SubscriptionArn::parse("SubscriptionArn", &input.subscription_arn)?;
    own_topic(ctx, &arn.topic, "SubscriptionArn", "Unsubscribe")?;
    remove(inner, &arn, false).await
}

/// Remove a subscription; `unsigned` for the unsubscribe link, which is refused when the
/// subscription was confirmed with `AuthenticateOnUnsubscribe` and which sends HTTP/S
/// endpoints an `UnsubscribeConfirmation`.
pub async fn remove(inner: &Inner, arn: &SubscriptionArn, unsigned: bool) -> Result<(), SnsError> {
    let scope = Scope::new(arn.topic.account.clone(), arn.topic.region.clone());
    let key = store::subscription_key(&arn.topic.name, &arn.id);
    loop {
        let Some(current) = inner.meta.get::<Subscription>(&scope, &key).await? else { return Ok(()) };
        let sub = current.value;
        if unsigned && sub.authenticate_on_unsubscribe {
            return Err(SnsError::AuthorizationError("Unsubscribe of this subscription requires an AWS signature (AuthenticateOnUnsubscribe)".into()));
        }
        let mut ops = vec![WriteOp::delete::<Subscription>(&scope, key.clone(), Expect::Version(current.version))];
        if let Some(topic) = inner.meta.get::<Topic>(&scope, &sub.topic).await? {
            let mut t = topic.value;
            t.subscriptions_deleted += 1;
            ops.push(WriteOp::put(&scope, sub.topic.clone(), &t, Expect::Version(topic.version))?);
        }
        let token = new_token();
        let notify = unsigned && !sub.pending && matches!(sub.protocol.as_str(), "http" | "https");
        if notify {
            ops.push(WriteOp::put(&Scope::global(), token.clone(), &token_record(inner, &scope, &sub, Some(sub.clone())), Expect::Absent)?);
        }
        match inner.meta.apply(ops).await {
            Ok(()) => {
                tracing::info!(subscription = %arn, unsigned, "unsubscribed");
                if notify {
                    queue_confirmation(inner, &scope, &sub, &token, Kind::UnsubscribeConfirmation).await?;
                }
                return Ok(());
            }
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

async fn load_subscription(inner: &Inner, ctx: &RequestContext, arn_text: &str, action: &str) -> Result<(SubscriptionArn, Scope, hearth_runtime::Versioned<Subscription>), SnsError> {
    let arn = SubscriptionArn::parse("SubscriptionArn", arn_text)?;
    own_topic(ctx, &arn.topic, "SubscriptionArn", action)?;
    let scope = scope(ctx);
    let sub = inner
        .meta
        .get::<Subscription>(&scope, &store::subscription_key(&arn.topic.name, &arn.id))
        .await?
        .ok_or_else(SnsError::subscription_not_found)?;
    Ok((arn, scope, sub))
}

/// GetSubscriptionAttributes.
pub async fn get_subscription_attributes(
    inner: &Inner,
    ctx: &RequestContext,
    input: api::GetSubscriptionAttributesInput,
) -> Result<api::GetSubscriptionAttributesResponse, SnsError> {
    let (arn, scope, sub) = load_subscription(inner, ctx, &input.subscription_arn, "GetSubscriptionAttributes").await?;
    let topic = inner.meta.get::<Topic>(&scope, &arn.topic.name).await?.map(|t| t.value);
    Ok(api::GetSubscriptionAttributesResponse { attributes: Some(rules::attributes(&sub.value, &arn.topic, topic.as_ref())) })
}

/// SetSubscriptionAttributes: one attribute; an empty `FilterPolicy` or `DeliveryPolicy`
/// removes it.
pub async fn set_subscription_attributes(inner: &Inner, ctx: &RequestContext, input: api::SetSubscriptionAttributesInput) -> Result<(), SnsError> {
    let value = input.attribute_value.unwrap_or_default();
    loop {
        let (_, scope, current) = load_subscription(inner, ctx, &input.subscription_arn, "SetSubscriptionAttributes").await?;
        let mut sub = current.value;
        let name = input.attribute_name.as_str();
        let removable = matches!(name, "FilterPolicy" | "DeliveryPolicy");
        if value.is_empty() && removable {
            sub.attributes.remove(name);
        } else {
            let filter_scope = if name == "FilterPolicyScope" { value.clone() } else { sub.attributes.get("FilterPolicyScope").cloned().unwrap_or_else(|| "MessageAttributes".into()) };
            let stored = rules::check_attribute(name, &value, &sub.protocol, &filter_scope, "Invalid parameter: ")?;
            if name == "FilterPolicyScope" {
                if let Some(policy) = sub.attributes.get("FilterPolicy").filter(|p| !p.is_empty()) {
                    rules::check_attribute("FilterPolicy", policy, &sub.protocol, &stored, "Invalid parameter: ")?;
                }
            }
            sub.attributes.insert(name.to_string(), stored);
        }
        match inner.meta.put(&scope, &store::subscription_key(&sub.topic, &sub.id), &sub, Expect::Version(current.version)).await {
            Ok(_) => return Ok(()),
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
