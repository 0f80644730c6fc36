//! RecognizeText: one text turn of a conversation.

use crate::{api, convert, output};
use hearth_lex::error::Result;
use hearth_lex::Lex;
use hearth_protocol::RequestContext;
use hearth_runtime::Scope;
use serde_json::Value;

pub(crate) async fn recognize_text(
    lex: &Lex,
    ctx: &RequestContext,
    req: api::RecognizeTextRequest,
) -> Result<Value> {
    let scope = Scope::new(ctx.account.clone(), ctx.region.clone());
    let now = lex.runtime().clock.now().unix_timestamp();
    let state_in = req
        .session_state
        .map(|s| convert::state_in(s, now))
        .transpose()?;
    let attrs = req.request_attributes.unwrap_or_default();
    // The utterance is embedded while the alias, model and session are read.
    let (_, ex) = lex
        .recognize_text_at(
            &scope,
            &req.bot_id,
            &req.bot_alias_id,
            &req.locale_id,
            &req.session_id,
            &req.text,
            state_in,
            attrs,
            &ctx.request_id,
        )
        .await?;
    let mut out = output(&api::RecognizeTextResponse {
        messages: Some(convert::messages_out(&ex.messages)),
        session_id: Some(ex.session_id.clone()),
        request_attributes: (!ex.request_attributes.is_empty())
            .then(|| ex.request_attributes.clone()),
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
