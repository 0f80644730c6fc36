//! What the bot says: a prompt's or response's message groups turned into the messages of a
//! reply — one message per group (the group's message or, with the `Random` strategy, one of
//! its variations), with `{SlotName}` replaced by the slot's value and `((attribute))` /
//! `[attribute]` by a session attribute.

use super::nlu::SlotFill;
use crate::api;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A response card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub title: String,
    pub subtitle: Option<String>,
    pub image_url: Option<String>,
    /// (text, value) of each button.
    pub buttons: Vec<(String, String)>,
}

/// One message of a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutMessage {
    /// `PlainText`, `SSML`, `CustomPayload` or `ImageResponseCard`.
    pub content_type: String,
    pub content: Option<String>,
    pub card: Option<Card>,
}

impl OutMessage {
    /// A plain text message.
    pub fn text(s: impl Into<String>) -> OutMessage {
        OutMessage {
            content_type: "PlainText".into(),
            content: Some(s.into()),
            card: None,
        }
    }
}

/// Values a message may refer to.
pub struct Vars<'a> {
    pub slots: &'a BTreeMap<String, Option<SlotFill>>,
    pub attributes: &'a BTreeMap<String, String>,
}

/// Replace `{Slot}`, `((attr))` and `[attr]` references that have a value.
pub fn substitute(text: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(['{', '(', '[']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let (open, close) = if tail.starts_with("((") {
            ("((", "))")
        } else if tail.starts_with('{') {
            ("{", "}")
        } else if tail.starts_with('[') {
            ("[", "]")
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
            continue;
        };
        let inner_start = open.len();
        match tail[inner_start..].find(close) {
            Some(end) => {
                let name = &tail[inner_start..inner_start + end];
                let value = if open == "{" {
                    vars.slots
                        .get(name)
                        .and_then(|v| v.as_ref())
                        .map(|f| f.interpreted.clone())
                } else {
                    vars.attributes.get(name).cloned()
                };
                match value {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&tail[..inner_start + end + close.len()]),
                }
                rest = &tail[inner_start + end + close.len()..];
            }
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn render_one(m: &api::Message, vars: &Vars) -> Option<OutMessage> {
    if let Some(p) = &m.plain_text_message {
        return Some(OutMessage::text(substitute(&p.value, vars)));
    }
    if let Some(s) = &m.ssml_message {
        return Some(OutMessage {
            content_type: "SSML".into(),
            content: Some(substitute(&s.value, vars)),
            card: None,
        });
    }
    if let Some(c) = &m.custom_payload {
        return Some(OutMessage {
            content_type: "CustomPayload".into(),
            content: Some(substitute(&c.value, vars)),
            card: None,
        });
    }
    if let Some(c) = &m.image_response_card {
        return Some(OutMessage {
            content_type: "ImageResponseCard".into(),
            content: None,
            card: Some(Card {
                title: substitute(&c.title, vars),
                subtitle: c.subtitle.as_ref().map(|s| substitute(s, vars)),
                image_url: c.image_url.clone(),
                buttons: c
                    .buttons
                    .iter()
                    .flatten()
                    .map(|b| (substitute(&b.text, vars), b.value.clone()))
                    .collect(),
            }),
        });
    }
    None
}

/// The messages of a list of message groups.
pub fn render(
    groups: &[api::MessageGroup],
    strategy: Option<&str>,
    vars: &Vars,
) -> Vec<OutMessage> {
    groups
        .iter()
        .filter_map(|g| {
            let variations = g.variations.as_deref().unwrap_or(&[]);
            let pick = if strategy != Some("Ordered") && !variations.is_empty() {
                let i = rand::random::<usize>() % (variations.len() + 1);
                if i == 0 {
                    &g.message
                } else {
                    &variations[i - 1]
                }
            } else {
                &g.message
            };
            render_one(pick, vars)
        })
        .collect()
}

/// The messages of a prompt.
pub fn prompt(p: &api::PromptSpecification, vars: &Vars) -> Vec<OutMessage> {
    render(
        &p.message_groups,
        p.message_selection_strategy.as_deref(),
        vars,
    )
}

/// The messages of a response.
pub fn response(r: &api::ResponseSpecification, vars: &Vars) -> Vec<OutMessage> {
    render(&r.message_groups, None, vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_replaced_when_known() {
        let mut slots = BTreeMap::new();
        slots.insert(
            "Amount".to_string(),
            Some(SlotFill {
                original: "two hundred".into(),
                interpreted: "200".into(),
                resolved: vec!["200".into()],
            }),
        );
        slots.insert("Date".to_string(), None);
        let mut attributes = BTreeMap::new();
        attributes.insert("balance".to_string(), "$200.00".to_string());
        let vars = Vars {
            slots: &slots,
            attributes: &attributes,
        };
        assert_eq!(
            substitute(
                "Pay {Amount} on {Date}? Balance ((balance)) [balance] [x] (ok)",
                &vars
            ),
            "Pay 200 on {Date}? Balance $200.00 $200.00 [x] (ok)"
        );
        assert_eq!(substitute("unclosed {Amount", &vars), "unclosed {Amount");
    }
}
