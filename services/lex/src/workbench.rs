//! Running a test set against a bot alias (StartTestExecution's job): each conversation in a
//! fresh session, each user turn through the dialog, each agent turn compared with what the
//! bot said. A turn matches its intent when the session's intent is the expected one, and a
//! slot when the expected value is the slot's original, interpreted or resolved value, or
//! resolves (through the slot's type) to the same value ("tomorrow" = 2024-03-14).

use crate::api;
use crate::conversation::Target;
use crate::domain::dialog::SessionState;
use crate::domain::nlu::{self, SlotFill};
use crate::domain::testsets::conversations;
use crate::domain::text::{normalize, tokenize};
use crate::Lex;
use std::collections::BTreeMap;

const MATCHED: &str = "Matched";
const MISMATCHED: &str = "Mismatched";
const ERROR: &str = "ExecutionError";

/// Whether the expected slot text names the same value as the actual fill; returns the actual
/// value to report.
fn compare_slot(
    lex: &Lex,
    t: &Target,
    intent: &str,
    slot: &str,
    expected: &str,
    actual: Option<&SlotFill>,
) -> (bool, Option<String>) {
    let Some(a) = actual else {
        return (false, None);
    };
    let e = normalize(expected);
    let candidates = std::iter::once(&a.original)
        .chain(std::iter::once(&a.interpreted))
        .chain(a.resolved.iter());
    for c in candidates {
        if normalize(c) == e {
            return (true, Some(expected.to_string()));
        }
    }
    // Resolve the expected words through the slot's type.
    let model = &t.model;
    if let Some(s) = model
        .intent_index(intent)
        .and_then(|i| model.intents[i].slot(slot))
    {
        let toks = tokenize(expected);
        if !toks.is_empty() {
            if let Some(v) = nlu::span_value(model, s, expected, &toks, 0, toks.len(), lex.today())
            {
                if v.interpreted == a.interpreted
                    || (!v.resolved.is_empty() && v.resolved == a.resolved)
                {
                    return (true, Some(expected.to_string()));
                }
            }
        }
    }
    (false, Some(a.interpreted.clone()))
}

/// Run every conversation; returns the turn results (with "multi-turn" flags) and the
/// conversation results.
pub async fn run(
    lex: &Lex,
    t: &Target,
    records: &[api::TestSetTurnRecord],
) -> (
    Vec<(bool, api::UtteranceLevelTestResultItem)>,
    Vec<api::ConversationLevelTestResultItem>,
) {
    let mut turns = Vec::new();
    let mut convs = Vec::new();
    for (conv_id, recs) in conversations(records) {
        let multi = conv_id.is_some();
        let mut state = SessionState::default();
        let mut last_messages: Vec<String> = Vec::new();
        let mut conv_ok = true;
        let mut intent_results: BTreeMap<String, bool> = BTreeMap::new();
        let mut slot_results: BTreeMap<(String, String), bool> = BTreeMap::new();
        let mut had_error = false;
        let first = turns.len();
        for r in recs {
            let turn_result = if let Some(agent) = &r.turn_specification.agent_turn {
                let actual = last_messages.join(" ");
                let ok = normalize(&actual) == normalize(&agent.agent_prompt);
                conv_ok &= ok;
                api::TestSetTurnResult {
                    agent: Some(api::AgentTurnResult {
                        expected_agent_prompt: agent.agent_prompt.clone(),
                        actual_agent_prompt: (!actual.is_empty()).then_some(actual),
                        actual_elicited_slot: state
                            .dialog_action
                            .as_ref()
                            .and_then(|a| a.slot_to_elicit.clone()),
                        actual_intent: state.intent.as_ref().map(|i| i.name.clone()),
                        error_details: None,
                    }),
                    user: None,
                }
            } else if let Some(user) = &r.turn_specification.user_turn {
                let text = user
                    .input
                    .utterance_input
                    .text_input
                    .clone()
                    .unwrap_or_default();
                if let Some(ss) = &user.input.session_state {
                    for (k, v) in ss.session_attributes.iter().flatten() {
                        state.attributes.insert(k.clone(), v.clone());
                    }
                }
                let expected = &user.expected.intent;
                let mut result = api::UserTurnResult {
                    input: user.input.clone(),
                    expected_output: user.expected.clone(),
                    ..Default::default()
                };
                match lex.dry_turn(t, &mut state, &text).await {
                    Ok(reply) => {
                        last_messages = reply
                            .messages
                            .iter()
                            .filter_map(|m| m.content.clone())
                            .collect();
                        let actual_intent = state
                            .intent
                            .as_ref()
                            .map(|i| i.name.clone())
                            .unwrap_or_default();
                        let intent_ok = actual_intent == expected.name;
                        let filled: BTreeMap<String, Option<SlotFill>> = state
                            .intent
                            .as_ref()
                            .map(|i| i.slots.clone())
                            .unwrap_or_default();
                        let mut slots_ok = true;
                        let mut actual_slots = BTreeMap::new();
                        for (name, exp) in expected.slots.iter().flatten() {
                            let (ok, shown) = compare_slot(
                                lex,
                                t,
                                &expected.name,
                                name,
                                exp.value.as_deref().unwrap_or_default(),
                                filled.get(name).and_then(|v| v.as_ref()),
                            );
                            slots_ok &= ok && intent_ok;
                            let e = slot_results
                                .entry((expected.name.clone(), name.clone()))
                                .or_insert(true);
                            *e &= ok && intent_ok;
                            if let Some(v) = shown {
                                actual_slots.insert(
                                    name.clone(),
                                    api::UserTurnSlotOutput {
                                        value: Some(v),
                                        ..Default::default()
                                    },
                                );
                            }
                        }
                        for (name, v) in filled.iter() {
                            if let (Some(v), false) = (v, actual_slots.contains_key(name)) {
                                actual_slots.insert(
                                    name.clone(),
                                    api::UserTurnSlotOutput {
                                        value: Some(v.interpreted.clone()),
                                        ..Default::default()
                                    },
                                );
                            }
                        }
                        let e = intent_results.entry(expected.name.clone()).or_insert(true);
                        *e &= intent_ok;
                        conv_ok &= intent_ok && slots_ok;
                        result.actual_output = Some(api::UserTurnOutputSpecification {
                            intent: api::UserTurnIntentOutput {
                                name: if actual_intent.is_empty() {
                                    "None".into()
                                } else {
                                    actual_intent
                                },
                                slots: (!actual_slots.is_empty()).then_some(actual_slots),
                            },
                            active_contexts: None,
                            transcript: None,
                        });
                        result.intent_match_result =
                            Some(if intent_ok { MATCHED } else { MISMATCHED }.into());
                        result.slot_match_result =
                            Some(if slots_ok { MATCHED } else { MISMATCHED }.into());
                        result.end_to_end_result = Some(
                            if intent_ok && slots_ok {
                                MATCHED
                            } else {
                                MISMATCHED
                            }
                            .into(),
                        );
                    }
                    Err(e) => {
                        let aws = e.to_aws();
                        had_error = true;
                        conv_ok = false;
                        intent_results.insert(expected.name.clone(), false);
                        result.error_details = Some(api::ExecutionErrorDetails {
                            error_code: aws.code,
                            error_message: aws.message,
                        });
                        result.intent_match_result = Some(ERROR.into());
                        result.slot_match_result = Some(ERROR.into());
                        result.end_to_end_result = Some(ERROR.into());
                    }
                }
                api::TestSetTurnResult {
                    user: Some(result),
                    agent: None,
                }
            } else {
                continue;
            };
            turns.push((
                multi,
                api::UtteranceLevelTestResultItem {
                    record_number: r.record_number,
                    conversation_id: r.conversation_id.clone(),
                    turn_result,
                },
            ));
        }
        let end = if had_error {
            ERROR
        } else if conv_ok {
            MATCHED
        } else {
            MISMATCHED
        };
        for (_, t) in &mut turns[first..] {
            if let Some(u) = t.turn_result.user.as_mut() {
                u.conversation_level_result = Some(api::ConversationLevelResultDetail {
                    end_to_end_result: end.into(),
                    speech_transcription_result: None,
                });
            }
        }
        // Conversation-level results are for conversations (rows with a conversation number).
        let Some(conversation_id) = conv_id else {
            continue;
        };
        convs.push(api::ConversationLevelTestResultItem {
            conversation_id,
            end_to_end_result: end.into(),
            intent_classification_results: intent_results
                .into_iter()
                .map(
                    |(intent_name, ok)| api::ConversationLevelIntentClassificationResultItem {
                        intent_name,
                        match_result: if ok { MATCHED } else { MISMATCHED }.into(),
                    },
                )
                .collect(),
            slot_resolution_results: slot_results
                .into_iter()
                .map(|((intent_name, slot_name), ok)| {
                    api::ConversationLevelSlotResolutionResultItem {
                        intent_name,
                        slot_name,
                        match_result: if ok { MATCHED } else { MISMATCHED }.into(),
                    }
                })
                .collect(),
            speech_transcription_result: None,
        });
    }
    (turns, convs)
}
