//! PutSession, GetSession, DeleteSession.

use crate::{api, convert, output};
use hearth_lex::error::Result;
use hearth_lex::Lex;
use hearth_protocol::RequestContext;
use hearth_runtime::Scope;
use serde_json::Value;

fn scope(ctx: &RequestContext) -> Scope {
    Scope::new(ctx.account.clone(), ctx.region.clone())
}

pub(crate) async fn put_session(
    lex: &Lex,
    ctx: &RequestContext,
    req: api::PutSessionRequest,
) -> Result<Value> {
    let scope = scope(ctx);
    let target = lex
        .target(&scope, &req.bot_id, &req.bot_alias_id, &req.locale_id)
        .await?;
    let now = lex.runtime().clock.now().unix_timestamp();
    let state = convert::state_in(req.session_state, now)?;
    let messages = req.messages.map(convert::messages_in).transpose()?;
    let attrs = req.request_attributes.unwrap_or_default();
    let ex = lex
        .put_session(&scope, &target, &req.session_id, state, messages, attrs)
        .await?;
    let msgs = serde_json::to_value(convert::messages_out(&ex.messages)).unwrap_or(Value::Null);
    output(&api::PutSessionResponse {
        content_type: Some(
            req.response_content_type
                .unwrap_or_else(|| "text/plain; charset=utf-8".into()),
        ),
        messages: (!ex.messages.is_empty()).then(|| convert::gzip_b64(&msgs)),
        request_attributes: (!ex.request_attributes.is_empty())
            .then(|| convert::gzip_b64(&convert::attributes(&ex.request_attributes))),
        session_id: Some(ex.session_id),
        session_state: Some(convert::gzip_b64(&convert::state_out(&ex.state, now))),
    })
}

pub(crate) async fn get_session(
    lex: &Lex,
    ctx: &RequestContext,
    req: api::GetSessionRequest,
) -> Result<Value> {
    let scope = scope(ctx);
    let target = lex
        .target(&scope, &req.bot_id, &req.bot_alias_id, &req.locale_id)
        .await?;
    let now = lex.runtime().clock.now().unix_timestamp();
    let ex = lex.get_session(&scope, &target, &req.session_id).await?;
    let mut out = output(&api::GetSessionResponse {
        messages: Some(convert::messages_out(&ex.messages)),
        session_id: Some(ex.session_id.clone()),
        ..Default::default()
    })?;
    if let Value::Object(o) = &mut out {
        o.insert("sessionState".into(), convert::state_out(&ex.state, now));
        o.insert(
            "interpretations".into(),
            convert::interpretations_out(&ex.interpretations),
        );
    }
    Ok(out)
}

pub(crate) async fn delete_session(
    lex: &Lex,
    ctx: &RequestContext,
    req: api::DeleteSessionRequest,
) -> Result<Value> {
    let scope = scope(ctx);
    let target = lex
        .target(&scope, &req.bot_id, &req.bot_alias_id, &req.locale_id)
        .await?;
    lex.delete_session(&scope, &target, &req.session_id).await?;
    output(&api::DeleteSessionResponse {
        bot_alias_id: Some(req.bot_alias_id),
        bot_id: Some(req.bot_id),
        locale_id: Some(req.locale_id),
        session_id: Some(req.session_id),
    })
}
