//! The conversation: one user turn moves a session's state the way Lex V2 does without a
//! Lambda code hook.
//!
//! - No intent in progress: rank the intents ([`super::nlu::rank`]); below the locale's
//!   confidence threshold the turn goes to the fallback intent; with intent disambiguation on,
//!   close runners-up give an `ElicitIntent` that names them; otherwise the best intent starts
//!   with the slot values the utterance carried.
//! - An intent starts by playing its initial response, then each required slot without a value
//!   is elicited in priority order (`ElicitSlot` with the slot's prompt). An answer fills the
//!   slot (and any other slot it mentions); an unusable answer re-prompts up to the prompt's
//!   `maxRetries`, then the slot's failure response ends the intent as `Failed`. An answer that
//!   is clearly another intent switches to it.
//! - With all required slots, an active confirmation setting asks (`ConfirmIntent`); yes
//!   confirms, no plays the declination response and fails the intent.
//! - Fulfilment: `Fulfilled` when the fulfilment code hook is off (Lex succeeds without
//!   Lambda), `ReadyForFulfillment` when it is on (Hearth runs no Lambda: the client fulfils);
//!   then the closing response, `Close`, and the intent's output contexts become active.

use super::builtin::words::confirmation;
use super::builtin::Now;
use super::messages::{self, OutMessage, Vars};
use super::model::{BotModel, IntentModel};
use super::nlu::{self, round_score, Candidate, Input, Scoring, SlotFill};
use super::text::{tokenize, Token};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Lowest score at which an answer to a prompt is taken as a switch to another intent.
const SWITCH_MIN: f32 = 0.8;

/// The state of an intent in a session (AWS spelling in the wire form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntentState {
    Failed,
    Fulfilled,
    InProgress,
    ReadyForFulfillment,
    Waiting,
    FulfillmentInProgress,
}

impl IntentState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            IntentState::Failed => "Failed",
            IntentState::Fulfilled => "Fulfilled",
            IntentState::InProgress => "InProgress",
            IntentState::ReadyForFulfillment => "ReadyForFulfillment",
            IntentState::Waiting => "Waiting",
            IntentState::FulfillmentInProgress => "FulfillmentInProgress",
        }
    }
    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<IntentState> {
        Some(match s {
            "Failed" => IntentState::Failed,
            "Fulfilled" => IntentState::Fulfilled,
            "InProgress" => IntentState::InProgress,
            "ReadyForFulfillment" => IntentState::ReadyForFulfillment,
            "Waiting" => IntentState::Waiting,
            "FulfillmentInProgress" => IntentState::FulfillmentInProgress,
            _ => return None,
        })
    }
}

/// Whether the user confirmed the intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Confirmation {
    Confirmed,
    Denied,
    None,
}

impl Confirmation {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Confirmation::Confirmed => "Confirmed",
            Confirmation::Denied => "Denied",
            Confirmation::None => "None",
        }
    }
    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Confirmation> {
        Some(match s {
            "Confirmed" => Confirmation::Confirmed,
            "Denied" => Confirmation::Denied,
            "None" => Confirmation::None,
            _ => return None,
        })
    }
}

/// The next thing the bot does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionType {
    Close,
    ConfirmIntent,
    Delegate,
    ElicitIntent,
    ElicitSlot,
    None,
}

impl ActionType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::Close => "Close",
            ActionType::ConfirmIntent => "ConfirmIntent",
            ActionType::Delegate => "Delegate",
            ActionType::ElicitIntent => "ElicitIntent",
            ActionType::ElicitSlot => "ElicitSlot",
            ActionType::None => "None",
        }
    }
    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<ActionType> {
        Some(match s {
            "Close" => ActionType::Close,
            "ConfirmIntent" => ActionType::ConfirmIntent,
            "Delegate" => ActionType::Delegate,
            "ElicitIntent" => ActionType::ElicitIntent,
            "ElicitSlot" => ActionType::ElicitSlot,
            "None" => ActionType::None,
            _ => return None,
        })
    }
}

/// `dialogAction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogAction {
    pub kind: ActionType,
    pub slot_to_elicit: Option<String>,
}

/// `intent` of a session state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentStatus {
    pub name: String,
    /// Every slot of the intent; `None` until filled.
    pub slots: BTreeMap<String, Option<SlotFill>>,
    pub state: Option<IntentState>,
    pub confirmation: Option<Confirmation>,
}

/// An active context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveContext {
    pub name: String,
    pub ttl_seconds: i64,
    pub turns_to_live: i64,
    /// Unix seconds after which the context is gone.
    pub expires_at: i64,
    /// Turns left (counted down on each user turn).
    pub turns_left: i64,
    pub attributes: BTreeMap<String, String>,
}

/// A session's dialog state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    pub dialog_action: Option<DialogAction>,
    pub intent: Option<IntentStatus>,
    pub attributes: BTreeMap<String, String>,
    pub active_contexts: Vec<ActiveContext>,
    pub originating_request_id: Option<String>,
    /// Failed answers to the current prompt.
    #[serde(default)]
    pub retries: u32,
}

/// One interpretation of a turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interpretation {
    pub intent: IntentStatus,
    /// `None` for the fallback intent.
    pub score: Option<f64>,
}

/// What analytics records about a turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The intent the turn went to (fallback included).
    pub intent: Option<String>,
    /// Whether the turn went to the fallback intent (a missed utterance).
    pub missed: bool,
    /// The intent the user left for another one, if any.
    pub switched_from: Option<String>,
    /// The intent's state after the turn.
    pub state: Option<IntentState>,
}

/// The reply to a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub messages: Vec<OutMessage>,
    pub interpretations: Vec<Interpretation>,
    pub outcome: Outcome,
}

/// One user turn.
pub struct Turn<'a> {
    pub model: &'a BotModel,
    pub utterance: &'a str,
    /// The utterance's sentence embedding.
    pub vector: &'a [f32],
    /// Now, in Unix seconds, and today's date.
    pub unix_now: i64,
    pub today: time::Date,
    /// The locale's confidence threshold (below it, the fallback intent).
    pub threshold: f32,
    /// The locale's intent disambiguation settings, when on.
    pub disambiguation: Option<&'a super::model::Disambiguation>,
    pub scoring: Scoring,
    /// Best two intents closer than this (and disambiguation on) → ask which one.
    pub disambiguation_margin: f32,
}

impl SessionState {
    /// Count a turn down on every active context and drop those that ran out.
    fn age_contexts(&mut self, now: i64) {
        for c in &mut self.active_contexts {
            c.turns_left -= 1;
        }
        self.active_contexts
            .retain(|c| c.turns_left >= 0 && c.expires_at > now);
    }

    fn vars(&self) -> (BTreeMap<String, Option<SlotFill>>, BTreeMap<String, String>) {
        (
            self.intent
                .as_ref()
                .map(|i| i.slots.clone())
                .unwrap_or_default(),
            self.attributes.clone(),
        )
    }
}

/// Run one user turn.
pub fn recognize(st: &mut SessionState, t: &Turn) -> Reply {
    let reply = turn(st, t);
    stamp_contexts(st, t.unix_now);
    reply
}

fn turn(st: &mut SessionState, t: &Turn) -> Reply {
    st.age_contexts(t.unix_now);
    let tokens = tokenize(t.utterance);
    let active: Vec<String> = st.active_contexts.iter().map(|c| c.name.clone()).collect();
    let now = Now { today: t.today };
    let input = Input {
        utterance: t.utterance,
        tokens: &tokens,
        vector: t.vector,
        now,
        active_contexts: &active,
        scoring: t.scoring,
    };
    let ranked = nlu::rank(t.model, &input);
    let mut cx = Cx {
        t,
        tokens: &tokens,
        now,
        ranked: &ranked,
    };
    let current = st
        .intent
        .as_ref()
        .filter(|i| i.state == Some(IntentState::InProgress))
        .and_then(|i| t.model.intent_index(&i.name));
    if let (Some(idx), Some(action)) = (current, st.dialog_action.clone()) {
        match action.kind {
            ActionType::ElicitSlot => {
                if let Some(slot) = action.slot_to_elicit.as_deref() {
                    if t.model.intents[idx].slot(slot).is_some() {
                        return cx.continue_slot(st, idx, slot);
                    }
                }
            }
            ActionType::ConfirmIntent => return cx.confirm(st, idx),
            _ => {}
        }
    }
    cx.start(st)
}

/// The messages a session sends when a client sets its state (PutSession): the prompt of the
/// slot or confirmation it now waits for, or, for `Delegate`, the next step Lex would take.
pub fn put_session_messages(st: &mut SessionState, model: &BotModel) -> Vec<OutMessage> {
    let Some(action) = st.dialog_action.clone() else {
        return Vec::new();
    };
    let Some(idx) = st.intent.as_ref().and_then(|i| model.intent_index(&i.name)) else {
        return Vec::new();
    };
    let intent = &model.intents[idx];
    ensure_slots(st, intent);
    let (slots, attributes) = st.vars();
    let vars = Vars {
        slots: &slots,
        attributes: &attributes,
    };
    match action.kind {
        ActionType::ElicitSlot => action
            .slot_to_elicit
            .as_deref()
            .and_then(|s| intent.slot(s))
            .and_then(|s| s.prompt.as_ref())
            .map(|p| messages::prompt(p, &vars))
            .unwrap_or_default(),
        ActionType::ConfirmIntent => intent
            .confirmation
            .as_ref()
            .map(|c| messages::prompt(&c.prompt_specification, &vars))
            .unwrap_or_default(),
        ActionType::Delegate => {
            if let Some(i) = st.intent.as_mut() {
                i.state = Some(IntentState::InProgress);
            }
            let mut out = Vec::new();
            next_step(st, model, idx, &mut out);
            out
        }
        _ => Vec::new(),
    }
}

/// Make sure every slot of the intent is listed in the session (unfilled ones as `None`).
fn ensure_slots(st: &mut SessionState, intent: &IntentModel) {
    if let Some(i) = st.intent.as_mut() {
        for s in &intent.slots {
            i.slots.entry(s.name.clone()).or_insert(None);
        }
    }
}

struct Cx<'a> {
    t: &'a Turn<'a>,
    tokens: &'a [Token],
    now: Now,
    ranked: &'a [Candidate],
}

impl Cx<'_> {
    fn model(&self) -> &BotModel {
        self.t.model
    }

    /// A candidate strong enough to leave the current intent for.
    fn switch_target(&self, current: usize) -> Option<&Candidate> {
        self.ranked.first().filter(|c| {
            c.intent != current && (c.exact || c.score >= SWITCH_MIN.max(self.t.threshold))
        })
    }

    fn continue_slot(&mut self, st: &mut SessionState, idx: usize, slot_name: &str) -> Reply {
        let model = self.model();
        let intent = &model.intents[idx];
        let Some(slot) = intent.slot(slot_name) else {
            return self.start(st);
        };
        let answer = nlu::slot_answer(model, slot, self.t.utterance, self.tokens, self.now);
        // An unlisted value accepted by an OriginalValue type is weak evidence next to a clear
        // request for another intent.
        let weak = answer.as_ref().is_some_and(|(f, _, _)| {
            f.resolved.is_empty() && matches!(slot.kind, super::model::SlotKind::Custom(_))
        });
        if answer.is_none() || weak {
            if let Some(c) = self.switch_target(idx).cloned() {
                let from = intent.name.clone();
                let mut r = self.start_intent(st, &c);
                r.outcome.switched_from = Some(from);
                return r;
            }
        }
        let mut out = Vec::new();
        match answer {
            Some((fill, a, b)) => {
                ensure_slots(st, intent);
                let mut taken = vec![false; self.tokens.len()];
                taken[a..b].iter_mut().for_each(|x| *x = true);
                let filled: Vec<&str> = st
                    .intent
                    .as_ref()
                    .map(|i| {
                        i.slots
                            .iter()
                            .filter(|(_, v)| v.is_some())
                            .map(|(k, _)| k.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                let mut skip: Vec<&str> = filled;
                skip.push(slot_name);
                let extra = nlu::extract_slots(
                    model,
                    intent,
                    self.t.utterance,
                    self.tokens,
                    self.now,
                    &skip,
                    &mut taken,
                );
                if let Some(i) = st.intent.as_mut() {
                    i.slots.insert(slot_name.to_string(), Some(fill));
                    for (k, v) in extra {
                        i.slots.insert(k, Some(v));
                    }
                }
                st.retries = 0;
                if let Some(resp) = slot
                    .capture
                    .as_ref()
                    .and_then(|c| c.capture_response.as_ref())
                {
                    let (slots, attributes) = st.vars();
                    out.extend(messages::response(
                        resp,
                        &Vars {
                            slots: &slots,
                            attributes: &attributes,
                        },
                    ));
                }
                next_step(st, model, idx, &mut out);
            }
            None => {
                st.retries += 1;
                let max = slot
                    .prompt
                    .as_ref()
                    .map_or(0, |p| p.max_retries.max(0) as u32);
                let (slots, attributes) = st.vars();
                let vars = Vars {
                    slots: &slots,
                    attributes: &attributes,
                };
                if st.retries > max {
                    if let Some(resp) = slot
                        .capture
                        .as_ref()
                        .and_then(|c| c.failure_response.as_ref())
                    {
                        out.extend(messages::response(resp, &vars));
                    }
                    fail(st);
                } else if let Some(p) = &slot.prompt {
                    out.extend(messages::prompt(p, &vars));
                }
            }
        }
        self.reply(st, Some(idx), out, false)
    }

    fn confirm(&mut self, st: &mut SessionState, idx: usize) -> Reply {
        let model = self.model();
        let intent = &model.intents[idx];
        let Some(setting) = intent.confirmation.as_ref() else {
            return self.start(st);
        };
        let answer = confirmation(self.tokens);
        let mut out = Vec::new();
        let (slots, attributes) = st.vars();
        let vars = Vars {
            slots: &slots,
            attributes: &attributes,
        };
        match answer {
            Some("Yes") => {
                if let Some(i) = st.intent.as_mut() {
                    i.confirmation = Some(Confirmation::Confirmed);
                }
                st.retries = 0;
                if let Some(r) = &setting.confirmation_response {
                    out.extend(messages::response(r, &vars));
                }
                fulfil(st, model, idx, &mut out);
            }
            Some("No") => {
                if let Some(i) = st.intent.as_mut() {
                    i.confirmation = Some(Confirmation::Denied);
                }
                st.retries = 0;
                if let Some(r) = &setting.declination_response {
                    out.extend(messages::response(r, &vars));
                }
                fail(st);
            }
            _ => {
                if let Some(c) = self.switch_target(idx).cloned() {
                    let from = intent.name.clone();
                    let mut r = self.start_intent(st, &c);
                    r.outcome.switched_from = Some(from);
                    return r;
                }
                st.retries += 1;
                if st.retries > setting.prompt_specification.max_retries.max(0) as u32 {
                    if let Some(r) = &setting.failure_response {
                        out.extend(messages::response(r, &vars));
                    }
                    fail(st);
                } else {
                    out.extend(messages::prompt(&setting.prompt_specification, &vars));
                }
            }
        }
        self.reply(st, Some(idx), out, false)
    }

    fn start(&mut self, st: &mut SessionState) -> Reply {
        let model = self.model();
        let threshold = self.t.threshold;
        let Some(top) = self
            .ranked
            .first()
            .filter(|c| c.exact || c.score >= threshold)
            .cloned()
        else {
            return self.fallback(st);
        };
        if let Some(d) = self.t.disambiguation {
            let close: Vec<&Candidate> = self
                .ranked
                .iter()
                .take_while(|c| {
                    !top.exact
                        && c.score >= threshold
                        && top.score - c.score < self.t.disambiguation_margin
                })
                .take(d.max_intents.clamp(2, 5))
                .collect();
            if close.len() >= 2 {
                let names: Vec<String> = close
                    .iter()
                    .map(|c| {
                        model.intents[c.intent]
                            .display_name
                            .clone()
                            .unwrap_or_else(|| model.intents[c.intent].name.clone())
                    })
                    .collect();
                let list = match names.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} or {last}", rest.join(", "))
                    }
                    _ => names.join(""),
                };
                let lead = d
                    .message
                    .clone()
                    .unwrap_or_else(|| "I'm not sure which of these you meant.".to_string());
                st.intent = None;
                st.dialog_action = Some(DialogAction {
                    kind: ActionType::ElicitIntent,
                    slot_to_elicit: None,
                });
                st.retries = 0;
                let msgs = vec![OutMessage::text(format!("{lead} {list}?"))];
                return self.reply(st, None, msgs, false);
            }
        }
        self.start_intent(st, &top)
    }

    fn start_intent(&mut self, st: &mut SessionState, c: &Candidate) -> Reply {
        let model = self.model();
        let intent = &model.intents[c.intent];
        let mut slots: BTreeMap<String, Option<SlotFill>> = intent
            .slots
            .iter()
            .map(|s| (s.name.clone(), None))
            .collect();
        for (k, v) in &c.slots {
            slots.insert(k.clone(), Some(v.clone()));
        }
        st.intent = Some(IntentStatus {
            name: intent.name.clone(),
            slots,
            state: Some(IntentState::InProgress),
            confirmation: Some(Confirmation::None),
        });
        st.retries = 0;
        let mut out = Vec::new();
        if let Some(r) = intent
            .initial_response
            .as_ref()
            .and_then(|i| i.initial_response.as_ref())
        {
            let (slots, attributes) = st.vars();
            out.extend(messages::response(
                r,
                &Vars {
                    slots: &slots,
                    attributes: &attributes,
                },
            ));
        }
        next_step(st, model, c.intent, &mut out);
        self.reply(st, Some(c.intent), out, false)
    }

    fn fallback(&mut self, st: &mut SessionState) -> Reply {
        let model = self.model();
        st.retries = 0;
        let Some(fb) = model.fallback() else {
            st.intent = None;
            st.dialog_action = Some(DialogAction {
                kind: ActionType::ElicitIntent,
                slot_to_elicit: None,
            });
            return self.reply(st, None, Vec::new(), true);
        };
        st.intent = Some(IntentStatus {
            name: model.intents[fb].name.clone(),
            slots: BTreeMap::new(),
            state: Some(IntentState::InProgress),
            confirmation: Some(Confirmation::None),
        });
        let mut out = Vec::new();
        fulfil(st, model, fb, &mut out);
        self.reply(st, Some(fb), out, true)
    }

    /// Build the reply: the chosen intent first, then the other candidates, then fallback.
    fn reply(
        &self,
        st: &SessionState,
        chosen: Option<usize>,
        messages: Vec<OutMessage>,
        missed: bool,
    ) -> Reply {
        let model = self.model();
        let mut interpretations = Vec::new();
        let score_of = |i: usize| {
            self.ranked
                .iter()
                .find(|c| c.intent == i)
                .map(|c| round_score(c.score))
        };
        if let (Some(i), Some(status)) = (chosen, st.intent.as_ref()) {
            let score = if model.intents[i].is_fallback() {
                None
            } else {
                score_of(i)
            };
            interpretations.push(Interpretation {
                intent: status.clone(),
                score,
            });
        }
        for c in self.ranked.iter() {
            if interpretations.len() >= 4 {
                break;
            }
            if Some(c.intent) == chosen {
                continue;
            }
            let intent = &model.intents[c.intent];
            let mut slots: BTreeMap<String, Option<SlotFill>> = intent
                .slots
                .iter()
                .map(|s| (s.name.clone(), None))
                .collect();
            for (k, v) in &c.slots {
                slots.insert(k.clone(), Some(v.clone()));
            }
            interpretations.push(Interpretation {
                intent: IntentStatus {
                    name: intent.name.clone(),
                    slots,
                    state: None,
                    confirmation: None,
                },
                score: Some(round_score(c.score)),
            });
        }
        if let Some(fb) = model.fallback().filter(|fb| Some(*fb) != chosen) {
            interpretations.push(Interpretation {
                intent: IntentStatus {
                    name: model.intents[fb].name.clone(),
                    slots: BTreeMap::new(),
                    state: None,
                    confirmation: None,
                },
                score: None,
            });
        }
        Reply {
            messages,
            interpretations,
            outcome: Outcome {
                intent: chosen.map(|i| model.intents[i].name.clone()),
                missed,
                switched_from: None,
                state: st.intent.as_ref().and_then(|i| i.state),
            },
        }
    }
}

fn fail(st: &mut SessionState) {
    if let Some(i) = st.intent.as_mut() {
        i.state = Some(IntentState::Failed);
    }
    st.dialog_action = Some(DialogAction {
        kind: ActionType::Close,
        slot_to_elicit: None,
    });
    st.retries = 0;
}

/// Elicit the next required slot, confirm, or fulfil.
fn next_step(st: &mut SessionState, model: &BotModel, idx: usize, out: &mut Vec<OutMessage>) {
    let intent = &model.intents[idx];
    ensure_slots(st, intent);
    for slot in intent.slots.iter().filter(|s| s.required) {
        let filled = st
            .intent
            .as_ref()
            .and_then(|i| i.slots.get(&slot.name))
            .is_some_and(|v| v.is_some());
        if filled {
            continue;
        }
        // Default values: `#attribute` reads a session attribute, anything else is literal.
        let default = slot
            .defaults
            .iter()
            .find_map(|d| match d.strip_prefix('#') {
                Some(attr) => st.attributes.get(attr).cloned(),
                None => Some(d.clone()),
            });
        if let Some(v) = default {
            if let Some(i) = st.intent.as_mut() {
                i.slots.insert(
                    slot.name.clone(),
                    Some(SlotFill {
                        original: v.clone(),
                        interpreted: v.clone(),
                        resolved: vec![v],
                    }),
                );
            }
            continue;
        }
        st.dialog_action = Some(DialogAction {
            kind: ActionType::ElicitSlot,
            slot_to_elicit: Some(slot.name.clone()),
        });
        if let Some(i) = st.intent.as_mut() {
            i.state = Some(IntentState::InProgress);
        }
        if let Some(p) = &slot.prompt {
            let (slots, attributes) = st.vars();
            out.extend(messages::prompt(
                p,
                &Vars {
                    slots: &slots,
                    attributes: &attributes,
                },
            ));
        }
        return;
    }
    if let Some(c) = intent
        .confirmation
        .as_ref()
        .filter(|c| c.active != Some(false))
    {
        let pending = st
            .intent
            .as_ref()
            .is_some_and(|i| matches!(i.confirmation, None | Some(Confirmation::None)));
        if pending {
            st.dialog_action = Some(DialogAction {
                kind: ActionType::ConfirmIntent,
                slot_to_elicit: None,
            });
            let (slots, attributes) = st.vars();
            out.extend(messages::prompt(
                &c.prompt_specification,
                &Vars {
                    slots: &slots,
                    attributes: &attributes,
                },
            ));
            return;
        }
    }
    fulfil(st, model, idx, out);
}

/// Fulfil the intent, play the closing response, close, and activate output contexts.
fn fulfil(st: &mut SessionState, model: &BotModel, idx: usize, out: &mut Vec<OutMessage>) {
    let intent = &model.intents[idx];
    let hook = intent.fulfillment_hook();
    if let Some(i) = st.intent.as_mut() {
        i.state = Some(if hook {
            IntentState::ReadyForFulfillment
        } else {
            IntentState::Fulfilled
        });
    }
    let (slots, attributes) = st.vars();
    let vars = Vars {
        slots: &slots,
        attributes: &attributes,
    };
    if !hook {
        if let Some(r) = intent
            .fulfillment
            .as_ref()
            .and_then(|f| f.post_fulfillment_status_specification.as_ref())
            .and_then(|p| p.success_response.as_ref())
        {
            out.extend(messages::response(r, &vars));
        }
    }
    if let Some(c) = intent.closing.as_ref().filter(|c| c.active != Some(false)) {
        if let Some(r) = &c.closing_response {
            out.extend(messages::response(r, &vars));
        }
    }
    st.dialog_action = Some(DialogAction {
        kind: ActionType::Close,
        slot_to_elicit: None,
    });
    st.retries = 0;
    for oc in &intent.output_contexts {
        st.active_contexts.retain(|c| c.name != oc.name);
        st.active_contexts.push(ActiveContext {
            name: oc.name.clone(),
            ttl_seconds: i64::from(oc.time_to_live_in_seconds),
            turns_to_live: i64::from(oc.turns_to_live),
            expires_at: 0,
            turns_left: i64::from(oc.turns_to_live),
            attributes: BTreeMap::new(),
        });
    }
}

/// Set the expiry of contexts activated by this turn or by a client (fulfil does not know the
/// time).
pub fn stamp_contexts(st: &mut SessionState, now: i64) {
    for c in &mut st.active_contexts {
        if c.expires_at == 0 {
            c.expires_at = now + c.ttl_seconds;
        }
    }
}

#[cfg(test)]
mod tests;
