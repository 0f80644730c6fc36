//! Between the runtime API's types and the Lex core's dialog types, in both directions; plus
//! the JSON details Lex has: unfilled slots are `null` in the slot map, and PutSession returns
//! its state and messages as base64 of gzipped JSON in headers.

use crate::api;
use hearth_lex::domain::dialog::{
    ActionType, ActiveContext, Confirmation, DialogAction, IntentState, IntentStatus,
    Interpretation, SessionState,
};
use hearth_lex::domain::messages::{Card, OutMessage};
use hearth_lex::domain::nlu::SlotFill;
use hearth_lex::error::{LexError, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn enum_err(v: &str, member: &str, values: &str) -> LexError {
    LexError::member(
        v,
        member,
        &format!("Member must satisfy enum value set: [{values}]"),
    )
}

/// A client's session state, as the dialog keeps it.
pub fn state_in(s: api::SessionState, now: i64) -> Result<SessionState> {
    let dialog_action = match s.dialog_action {
        None => None,
        Some(a) => {
            let kind = ActionType::parse(&a.r#type).ok_or_else(|| {
                enum_err(
                    &a.r#type,
                    "sessionState.dialogAction.type",
                    "Close, ConfirmIntent, Delegate, ElicitIntent, ElicitSlot, None",
                )
            })?;
            if kind == ActionType::ElicitSlot && a.slot_to_elicit.is_none() {
                return Err(LexError::Validation(
                    "The dialog action ElicitSlot needs slotToElicit.".into(),
                ));
            }
            Some(DialogAction {
                kind,
                slot_to_elicit: a.slot_to_elicit,
            })
        }
    };
    let intent = match s.intent {
        None => None,
        Some(i) => {
            let state = match i.state.as_deref() {
                None => None,
                Some(v) => Some(IntentState::parse(v).ok_or_else(|| enum_err(v, "sessionState.intent.state", "Failed, Fulfilled, InProgress, ReadyForFulfillment, Waiting, FulfillmentInProgress"))?),
            };
            let confirmation = match i.confirmation_state.as_deref() {
                None => None,
                Some(v) => Some(Confirmation::parse(v).ok_or_else(|| {
                    enum_err(
                        v,
                        "sessionState.intent.confirmationState",
                        "Confirmed, Denied, None",
                    )
                })?),
            };
            let slots = i
                .slots
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| {
                    let fill = v.value.map(|v| SlotFill {
                        original: v
                            .original_value
                            .clone()
                            .unwrap_or_else(|| v.interpreted_value.clone()),
                        resolved: v
                            .resolved_values
                            .unwrap_or_else(|| vec![v.interpreted_value.clone()]),
                        interpreted: v.interpreted_value,
                    });
                    (k, fill)
                })
                .collect();
            Some(IntentStatus {
                name: i.name,
                slots,
                state,
                confirmation,
            })
        }
    };
    let active_contexts = s
        .active_contexts
        .unwrap_or_default()
        .into_iter()
        .map(|c| ActiveContext {
            name: c.name,
            ttl_seconds: i64::from(c.time_to_live.time_to_live_in_seconds),
            turns_to_live: i64::from(c.time_to_live.turns_to_live),
            expires_at: now + i64::from(c.time_to_live.time_to_live_in_seconds),
            turns_left: i64::from(c.time_to_live.turns_to_live),
            attributes: c.context_attributes,
        })
        .collect();
    Ok(SessionState {
        dialog_action,
        intent,
        attributes: s.session_attributes.unwrap_or_default(),
        active_contexts,
        originating_request_id: s.originating_request_id,
        retries: 0,
    })
}

fn slot_value(f: &SlotFill) -> Value {
    serde_json::json!({
        "value": {
            "originalValue": f.original,
            "interpretedValue": f.interpreted,
            "resolvedValues": f.resolved,
        }
    })
}

/// An intent as Lex returns it: every slot listed, `null` until it has a value.
pub fn intent_out(i: &IntentStatus) -> Value {
    let mut slots = Map::new();
    for (k, v) in &i.slots {
        slots.insert(k.clone(), v.as_ref().map_or(Value::Null, slot_value));
    }
    let mut o = Map::new();
    o.insert("name".into(), Value::String(i.name.clone()));
    o.insert("slots".into(), Value::Object(slots));
    if let Some(s) = i.state {
        o.insert("state".into(), Value::String(s.as_str().into()));
    }
    if let Some(c) = i.confirmation {
        o.insert("confirmationState".into(), Value::String(c.as_str().into()));
    }
    Value::Object(o)
}

/// The session state as Lex returns it.
pub fn state_out(s: &SessionState, now: i64) -> Value {
    let mut o = Map::new();
    if let Some(a) = &s.dialog_action {
        let mut d = Map::new();
        d.insert("type".into(), Value::String(a.kind.as_str().into()));
        if let Some(slot) = &a.slot_to_elicit {
            d.insert("slotToElicit".into(), Value::String(slot.clone()));
        }
        o.insert("dialogAction".into(), Value::Object(d));
    }
    if let Some(i) = &s.intent {
        o.insert("intent".into(), intent_out(i));
    }
    o.insert(
        "sessionAttributes".into(),
        serde_json::to_value(&s.attributes).unwrap_or(Value::Null),
    );
    if !s.active_contexts.is_empty() {
        let ctx: Vec<Value> = s
            .active_contexts
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "timeToLive": {"timeToLiveInSeconds": (c.expires_at - now).clamp(0, c.ttl_seconds), "turnsToLive": c.turns_left.max(0)},
                    "contextAttributes": c.attributes,
                })
            })
            .collect();
        o.insert("activeContexts".into(), Value::Array(ctx));
    }
    if let Some(r) = &s.originating_request_id {
        o.insert("originatingRequestId".into(), Value::String(r.clone()));
    }
    Value::Object(o)
}

/// Interpretations as Lex returns them.
pub fn interpretations_out(list: &[Interpretation]) -> Value {
    Value::Array(
        list.iter()
            .map(|i| {
                let mut o = Map::new();
                o.insert("intent".into(), intent_out(&i.intent));
                if let Some(s) = i.score {
                    o.insert("nluConfidence".into(), serde_json::json!({ "score": s }));
                }
                o.insert("interpretationSource".into(), Value::String("Lex".into()));
                Value::Object(o)
            })
            .collect(),
    )
}

/// Messages as the API types.
pub fn messages_out(list: &[OutMessage]) -> Vec<api::Message> {
    list.iter()
        .map(|m| api::Message {
            content: m.content.clone(),
            content_type: m.content_type.clone(),
            image_response_card: m.card.as_ref().map(|c| api::ImageResponseCard {
                title: c.title.clone(),
                subtitle: c.subtitle.clone(),
                image_url: c.image_url.clone(),
                buttons: (!c.buttons.is_empty()).then(|| {
                    c.buttons
                        .iter()
                        .map(|(t, v)| api::Button {
                            text: t.clone(),
                            value: v.clone(),
                        })
                        .collect()
                }),
            }),
        })
        .collect()
}

/// A client's messages (PutSession).
pub fn messages_in(list: Vec<api::Message>) -> Result<Vec<OutMessage>> {
    list.into_iter()
        .map(|m| {
            if !matches!(
                m.content_type.as_str(),
                "PlainText" | "SSML" | "CustomPayload" | "ImageResponseCard"
            ) {
                return Err(enum_err(
                    &m.content_type,
                    "messages.member.contentType",
                    "CustomPayload, ImageResponseCard, PlainText, SSML",
                ));
            }
            Ok(OutMessage {
                content_type: m.content_type,
                content: m.content,
                card: m.image_response_card.map(|c| Card {
                    title: c.title,
                    subtitle: c.subtitle,
                    image_url: c.image_url,
                    buttons: c
                        .buttons
                        .unwrap_or_default()
                        .into_iter()
                        .map(|b| (b.text, b.value))
                        .collect(),
                }),
            })
        })
        .collect()
}

/// base64(gzip(JSON)) — how Lex puts structured values in PutSession's response headers.
pub fn gzip_b64(v: &Value) -> String {
    use base64::Engine;
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let json = serde_json::to_vec(v).unwrap_or_default();
    let bytes = enc
        .write_all(&json)
        .and_then(|_| enc.finish())
        .unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Request attributes as a JSON object.
pub fn attributes(m: &BTreeMap<String, String>) -> Value {
    serde_json::to_value(m).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_with_null_slots() {
        let input = api::SessionState {
            dialog_action: Some(api::DialogAction {
                r#type: "ElicitSlot".into(),
                slot_to_elicit: Some("Date".into()),
                ..Default::default()
            }),
            intent: Some(api::Intent {
                name: "Book".into(),
                slots: Some(BTreeMap::from([(
                    "Date".to_string(),
                    api::Slot {
                        value: Some(api::Value {
                            interpreted_value: "2024-01-02".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                )])),
                state: Some("InProgress".into()),
                confirmation_state: None,
            }),
            session_attributes: Some(BTreeMap::from([("a".to_string(), "1".to_string())])),
            ..Default::default()
        };
        let mut st = state_in(input, 100).unwrap();
        st.intent
            .as_mut()
            .unwrap()
            .slots
            .insert("Time".into(), None);
        let out = state_out(&st, 100);
        assert_eq!(out["dialogAction"]["slotToElicit"], "Date");
        assert_eq!(out["intent"]["slots"]["Time"], Value::Null);
        assert_eq!(
            out["intent"]["slots"]["Date"]["value"]["interpretedValue"],
            "2024-01-02"
        );
        assert_eq!(out["sessionAttributes"]["a"], "1");
        let bad = api::SessionState {
            dialog_action: Some(api::DialogAction {
                r#type: "Dance".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(state_in(bad, 0).is_err());
    }

    #[test]
    fn gzip_headers_decode() {
        use base64::Engine;
        use std::io::Read;
        let v = serde_json::json!({"x": [1, 2]});
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(gzip_b64(&v))
            .unwrap();
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }
}
