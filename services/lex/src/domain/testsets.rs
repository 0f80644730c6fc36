//! Test Workbench: test sets in the Lex console's CSV format, and the scoring of a test
//! execution (intent, slot and end-to-end matches per turn, per conversation and per intent).
//!
//! CSV columns (names as the console's template, case-insensitive, alternatives accepted):
//! `Line #`, `Conversation #`, `Source` (User or Agent), `Input`, `Expected Output Intent`,
//! `Expected Output Slot N` (`SlotName = value`, one column per slot), `Session Attribute`,
//! `Request Attribute` (`name = value`) and `Input Context Tag`. Rows without a conversation
//! number (empty, `-`, `N/A`) are single-input tests. The CSV reader is a small RFC 4180
//! reader (quotes, doubled quotes, CRLF): the one file format did not justify another crate.

use crate::api;
use std::collections::BTreeMap;

/// Parse RFC 4180 CSV text into rows of fields.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                if !(row.len() == 1 && row[0].is_empty()) {
                    rows.push(std::mem::take(&mut row));
                }
                row.clear();
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn norm_header(h: &str) -> String {
    h.trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn key_value(cell: &str) -> Option<(String, String)> {
    let (k, v) = cell.split_once('=')?;
    let (k, v) = (k.trim(), v.trim());
    (!k.is_empty() && !v.is_empty()).then(|| (k.to_string(), v.to_string()))
}

/// Read a test set CSV into turn records, or the reasons it is not valid.
pub fn parse_test_set(text: &str) -> Result<Vec<api::TestSetTurnRecord>, Vec<String>> {
    let rows = parse_csv(text);
    let Some((header, body)) = rows.split_first() else {
        return Err(vec!["The test set file is empty.".into()]);
    };
    let cols: Vec<String> = header.iter().map(|h| norm_header(h)).collect();
    let find = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
    let all = |prefix: &str| {
        cols.iter()
            .enumerate()
            .filter(|(_, c)| c.starts_with(prefix))
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
    };
    let conv = find(&["conversation #", "conversation number", "conversation"]);
    let source = find(&["source", "conversation participant"]);
    let input = find(&["input", "expected transcription"]);
    let intent = find(&["expected output intent"]);
    let slots = all("expected output slot");
    let session_attrs = all("session attribute");
    let request_attrs = all("request attribute");
    let contexts = all("input context tag");
    let mut failures = Vec::new();
    for (name, col) in [
        ("Source", source),
        ("Input", input),
        ("Expected Output Intent", intent),
    ] {
        if col.is_none() {
            failures.push(format!("The test set is missing the column '{name}'."));
        }
    }
    if !failures.is_empty() {
        return Err(failures);
    }
    let (source, input, intent) = (source.unwrap_or(0), input.unwrap_or(0), intent.unwrap_or(0));
    let cell =
        |row: &[String], i: usize| row.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut records = Vec::new();
    let mut turn_numbers: BTreeMap<String, i32> = BTreeMap::new();
    for (n, row) in body.iter().enumerate() {
        let line = n + 2;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let conversation = conv
            .map(|c| cell(row, c))
            .filter(|c| !c.is_empty() && c != "-" && !c.eq_ignore_ascii_case("n/a"));
        let text = cell(row, input);
        let src = cell(row, source);
        if text.is_empty() {
            failures.push(format!("Line {line}: the Input column is empty."));
            continue;
        }
        if text.chars().count() > 1024 {
            failures.push(format!(
                "Line {line}: the input is longer than 1024 characters."
            ));
            continue;
        }
        let turn_number = match &conversation {
            Some(c) => {
                let t = turn_numbers.entry(c.clone()).or_insert(0);
                *t += 1;
                *t
            }
            None => 1,
        };
        let spec = match src.to_lowercase().as_str() {
            "user" => {
                let expected_intent = cell(row, intent);
                if expected_intent.is_empty() {
                    failures.push(format!(
                        "Line {line}: a User row needs an Expected Output Intent."
                    ));
                    continue;
                }
                let mut slot_map = BTreeMap::new();
                for &c in &slots {
                    let v = cell(row, c);
                    if v.is_empty() {
                        continue;
                    }
                    match key_value(&v) {
                        Some((k, val)) => {
                            slot_map.insert(k, api::UserTurnSlotOutput { value: Some(val), ..Default::default() });
                        }
                        None => failures.push(format!("Line {line}: the slot cell '{v}' is not of the form 'SlotName = value'.")),
                    }
                }
                let kv = |cols: &[usize]| {
                    cols.iter()
                        .filter_map(|&c| key_value(&cell(row, c)))
                        .collect::<BTreeMap<_, _>>()
                };
                let session = kv(&session_attrs);
                let request = kv(&request_attrs);
                let ctx: Vec<api::ActiveContext> = contexts
                    .iter()
                    .map(|&c| cell(row, c))
                    .filter(|c| !c.is_empty())
                    .map(|name| api::ActiveContext { name })
                    .collect();
                api::TurnSpecification {
                    user_turn: Some(api::UserTurnSpecification {
                        input: api::UserTurnInputSpecification {
                            utterance_input: api::UtteranceInputSpecification {
                                text_input: Some(text),
                                audio_input: None,
                            },
                            request_attributes: (!request.is_empty()).then_some(request),
                            session_state: (!session.is_empty() || !ctx.is_empty()).then(|| {
                                api::InputSessionStateSpecification {
                                    session_attributes: (!session.is_empty()).then_some(session),
                                    active_contexts: (!ctx.is_empty()).then_some(ctx),
                                    runtime_hints: None,
                                }
                            }),
                        },
                        expected: api::UserTurnOutputSpecification {
                            intent: api::UserTurnIntentOutput {
                                name: expected_intent,
                                slots: (!slot_map.is_empty()).then_some(slot_map),
                            },
                            active_contexts: None,
                            transcript: None,
                        },
                    }),
                    agent_turn: None,
                }
            }
            "agent" => api::TurnSpecification {
                agent_turn: Some(api::AgentTurnSpecification { agent_prompt: text }),
                user_turn: None,
            },
            other => {
                failures.push(format!(
                    "Line {line}: Source must be User or Agent, not '{other}'."
                ));
                continue;
            }
        };
        records.push(api::TestSetTurnRecord {
            record_number: records.len() as i64 + 1,
            conversation_id: conversation,
            turn_number: Some(turn_number),
            turn_specification: spec,
        });
    }
    if records.is_empty() && failures.is_empty() {
        failures.push("The test set has no rows.".into());
    }
    if failures.is_empty() {
        Ok(records)
    } else {
        Err(failures)
    }
}

/// Conversations of a test set, in record order: (conversation id, records). Single inputs
/// are each their own conversation (id `None`).
pub fn conversations(
    records: &[api::TestSetTurnRecord],
) -> Vec<(Option<String>, Vec<&api::TestSetTurnRecord>)> {
    let mut out: Vec<(Option<String>, Vec<&api::TestSetTurnRecord>)> = Vec::new();
    for r in records {
        match &r.conversation_id {
            None => out.push((None, vec![r])),
            Some(c) => match out
                .iter_mut()
                .find(|(id, _)| id.as_deref() == Some(c.as_str()))
            {
                Some((_, v)) => v.push(r),
                None => out.push((Some(c.clone()), vec![r])),
            },
        }
    }
    out
}

/// `Matched` / `Mismatched` / `ExecutionError` counts.
pub type Counts = BTreeMap<String, i32>;

fn bump(c: &mut Counts, status: &str) {
    *c.entry(status.to_string()).or_insert(0) += 1;
}

/// The aggregate views of a finished execution's turn results.
pub struct Aggregates {
    pub overall: Vec<api::OverallTestResultItem>,
    pub intents: Vec<api::IntentClassificationTestResultItem>,
    pub slots: Vec<api::IntentLevelSlotResolutionTestResultItem>,
}

/// Aggregate turn results (`multi` tells whether each came from a multi-turn conversation).
pub fn aggregate(
    turns: &[(bool, api::UtteranceLevelTestResultItem)],
    conversations: &[(bool, String)],
) -> Aggregates {
    let mut overall: BTreeMap<bool, (i32, Counts)> = BTreeMap::new();
    for (multi, status) in conversations {
        let e = overall.entry(*multi).or_default();
        e.0 += 1;
        bump(&mut e.1, status);
    }
    let mut intents: BTreeMap<(String, bool), (i32, Counts)> = BTreeMap::new();
    let mut slots: BTreeMap<(String, bool), BTreeMap<String, (i32, Counts)>> = BTreeMap::new();
    for (multi, t) in turns {
        let Some(u) = &t.turn_result.user else {
            continue;
        };
        let name = u.expected_output.intent.name.clone();
        let e = intents.entry((name.clone(), *multi)).or_default();
        e.0 += 1;
        bump(
            &mut e.1,
            u.intent_match_result.as_deref().unwrap_or("ExecutionError"),
        );
        let expected = u.expected_output.intent.slots.clone().unwrap_or_default();
        let actual = u
            .actual_output
            .as_ref()
            .and_then(|a| a.intent.slots.clone())
            .unwrap_or_default();
        for (slot, exp) in expected {
            let status = match (u.slot_match_result.as_deref(), actual.get(&slot)) {
                (Some("ExecutionError"), _) => "ExecutionError",
                (_, Some(a)) if slot_value_matches(exp.value.as_deref(), a.value.as_deref()) => {
                    "Matched"
                }
                _ => "Mismatched",
            };
            let s = slots
                .entry((name.clone(), *multi))
                .or_default()
                .entry(slot)
                .or_default();
            s.0 += 1;
            bump(&mut s.1, status);
        }
    }
    Aggregates {
        overall: overall
            .into_iter()
            .map(|(multi, (total, counts))| api::OverallTestResultItem {
                multi_turn_conversation: multi,
                total_result_count: total,
                end_to_end_result_counts: counts,
                speech_transcription_result_counts: None,
            })
            .collect(),
        intents: intents
            .into_iter()
            .map(
                |((name, multi), (total, counts))| api::IntentClassificationTestResultItem {
                    intent_name: name,
                    multi_turn_conversation: multi,
                    result_counts: api::IntentClassificationTestResultItemCounts {
                        total_result_count: total,
                        intent_match_result_counts: counts,
                        speech_transcription_result_counts: None,
                    },
                },
            )
            .collect(),
        slots: slots
            .into_iter()
            .map(
                |((name, multi), per_slot)| api::IntentLevelSlotResolutionTestResultItem {
                    intent_name: name,
                    multi_turn_conversation: multi,
                    slot_resolution_results: per_slot
                        .into_iter()
                        .map(
                            |(slot, (total, counts))| api::SlotResolutionTestResultItem {
                                slot_name: slot,
                                result_counts: api::SlotResolutionTestResultItemCounts {
                                    total_result_count: total,
                                    slot_match_result_counts: counts,
                                    speech_transcription_result_counts: None,
                                },
                            },
                        )
                        .collect(),
                },
            )
            .collect(),
    }
}

/// Whether an expected slot value equals the actual one (the actual cell already holds the
/// value that matched best among original, interpreted and resolved values).
pub fn slot_value_matches(expected: Option<&str>, actual: Option<&str>) -> bool {
    match (expected, actual) {
        (Some(e), Some(a)) => {
            crate::domain::text::normalize(e) == crate::domain::text::normalize(a)
        }
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "Line #,Conversation #,Source,Input,Expected Output Intent,Expected Output Slot 1,Expected Output Slot 2\r\n\
1,,User,book a cleaning appointment tomorrow,MakeAppointment,AppointmentType = cleaning,Date = tomorrow\r\n\
2,N/A,User,\"book one, please\",MakeAppointment,,\n\
3,1,User,I'd like to book an appointment,MakeAppointment,,\n\
4,1,Agent,What type of appointment would you like to schedule?,,,\n\
5,1,User,cleaning,MakeAppointment,AppointmentType = cleaning,\n";

    #[test]
    fn csv_rows_and_quotes() {
        let rows = parse_csv("a,\"b,\"\"c\"\"\",d\r\n\r\nx,,\n");
        assert_eq!(rows, vec![vec!["a", "b,\"c\"", "d"], vec!["x", "", ""]]);
    }

    #[test]
    fn test_set_records_and_conversations() {
        let recs = parse_test_set(CSV).unwrap();
        assert_eq!(recs.len(), 5);
        let u = recs[0].turn_specification.user_turn.as_ref().unwrap();
        assert_eq!(u.expected.intent.name, "MakeAppointment");
        assert_eq!(
            u.expected.intent.slots.as_ref().unwrap()["Date"]
                .value
                .as_deref(),
            Some("tomorrow")
        );
        assert_eq!(
            recs[1]
                .turn_specification
                .user_turn
                .as_ref()
                .unwrap()
                .input
                .utterance_input
                .text_input
                .as_deref(),
            Some("book one, please")
        );
        assert_eq!(
            recs[3]
                .turn_specification
                .agent_turn
                .as_ref()
                .unwrap()
                .agent_prompt,
            "What type of appointment would you like to schedule?"
        );
        assert_eq!(
            (recs[4].conversation_id.as_deref(), recs[4].turn_number),
            (Some("1"), Some(3))
        );
        let convs = conversations(&recs);
        assert_eq!(convs.len(), 3);
        assert_eq!(convs[2].1.len(), 3);
    }

    #[test]
    fn bad_files_say_why() {
        assert!(parse_test_set("").unwrap_err()[0].contains("empty"));
        let errs = parse_test_set("Source,Input\nUser,hi\n").unwrap_err();
        assert!(errs[0].contains("Expected Output Intent"));
        let errs = parse_test_set("Source,Input,Expected Output Intent\nBot,hi,X\nUser,hello,\n")
            .unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
    }
}
