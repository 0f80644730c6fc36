//! Dialog tests on a toy bag-of-words embedding (the real model is exercised by tests/aws).

use super::*;
use crate::api;
use crate::domain::model::tests::{bank, prompt, slot};
use crate::domain::model::{compile, BotModel};
use time::macros::date;

fn embed(s: &str) -> Vec<f32> {
    const VOCAB: [&str; 10] = [
        "open", "account", "new", "card", "stole", "charge", "fraud", "unknown", "pay", "bill",
    ];
    let norm = crate::domain::text::normalize(s);
    let v: Vec<f32> = VOCAB
        .iter()
        .map(|w| norm.split(' ').filter(|x| x.starts_with(w)).count() as f32)
        .collect();
    hearth_inference::text::normalized(v)
}

fn response(text: &str) -> api::ResponseSpecification {
    api::ResponseSpecification {
        message_groups: prompt(text).message_groups,
        allow_interrupt: None,
    }
}

/// The seed's bank bot plus a payment intent with a number, a date and a confirmation.
fn model() -> BotModel {
    let mut def = bank();
    def.intents[1].closing = Some(api::IntentClosingSetting {
        closing_response: Some(response("Your {AccountType} account is open.")),
        ..Default::default()
    });
    def.intents[1].output_contexts = vec![api::OutputContext {
        name: "NewCustomer".into(),
        time_to_live_in_seconds: 60,
        turns_to_live: 2,
    }];
    def.intents.push(crate::domain::model::IntentDef {
        id: "PAYBILL001".into(),
        name: "PayBill".into(),
        sample_utterances: vec![
            "pay my bill".into(),
            "I want to pay {Amount} on {PayDate}".into(),
        ],
        slot_order: vec!["SLOTAMT001".into(), "SLOTDATE01".into()],
        slots: vec![
            slot("SLOTAMT001", "Amount", "AMAZON.Number", "How much?"),
            slot("SLOTDATE01", "PayDate", "AMAZON.Date", "When?"),
        ],
        confirmation: Some(api::IntentConfirmationSetting {
            prompt_specification: prompt("Pay {Amount} on {PayDate}?"),
            declination_response: Some(response("Okay, I won't pay.")),
            ..Default::default()
        }),
        fulfillment: Some(api::FulfillmentCodeHookSettings {
            enabled: true,
            ..Default::default()
        }),
        ..Default::default()
    });
    let c = compile(&def).unwrap();
    let v = c.texts.iter().map(|t| embed(t)).collect();
    c.finish(v).unwrap()
}

fn say(st: &mut SessionState, m: &BotModel, u: &str) -> Reply {
    say_with_margin(st, m, u, 0.05)
}

fn say_with_margin(st: &mut SessionState, m: &BotModel, u: &str, margin: f32) -> Reply {
    let v = embed(u);
    let t = Turn {
        model: m,
        utterance: u,
        vector: &v,
        unix_now: 1_000,
        today: date!(2024 - 03 - 13),
        threshold: m.threshold as f32,
        disambiguation: m.disambiguation.as_ref(),
        scoring: Scoring::default(),
        disambiguation_margin: margin,
    };
    recognize(st, &t)
}

fn text(r: &Reply) -> Vec<String> {
    r.messages
        .iter()
        .filter_map(|m| m.content.clone())
        .collect()
}

fn action(st: &SessionState) -> (ActionType, Option<String>) {
    let a = st.dialog_action.clone().unwrap();
    (a.kind, a.slot_to_elicit)
}

#[test]
fn slot_elicitation_then_close_with_contexts() {
    let m = model();
    let mut st = SessionState::default();
    let r = say(&mut st, &m, "open a new account please");
    assert_eq!(r.outcome.intent.as_deref(), Some("OpenAccount"));
    assert_eq!(
        action(&st),
        (ActionType::ElicitSlot, Some("AccountType".into()))
    );
    assert_eq!(text(&r), ["Which type of account?"]);
    assert_eq!(st.intent.as_ref().unwrap().slots["AccountType"], None);
    let r = say(&mut st, &m, "a deposit account");
    assert_eq!(action(&st).0, ActionType::Close);
    let i = st.intent.as_ref().unwrap();
    assert_eq!(i.state, Some(IntentState::Fulfilled));
    assert_eq!(
        i.slots["AccountType"].as_ref().unwrap().interpreted,
        "Savings"
    );
    assert_eq!(text(&r), ["Your Savings account is open."]);
    assert_eq!(st.active_contexts[0].name, "NewCustomer");
    assert_eq!(st.active_contexts[0].expires_at, 1_060);
    // Contexts count turns down.
    say(&mut st, &m, "fraudulent charges on my account");
    say(&mut st, &m, "fraudulent charges on my account");
    assert_eq!(st.active_contexts.len(), 1);
    say(&mut st, &m, "fraudulent charges on my account");
    assert!(st.active_contexts.is_empty());
}

#[test]
fn multi_slot_utterance_confirmation_and_hook() {
    let m = model();
    let mut st = SessionState::default();
    let r = say(&mut st, &m, "I want to pay one hundred on next Tuesday");
    assert_eq!(r.interpretations[0].score, Some(1.0));
    assert_eq!(action(&st).0, ActionType::ConfirmIntent);
    assert_eq!(text(&r), ["Pay 100 on 2024-03-19?"]);
    let r = say(&mut st, &m, "yes please");
    let i = st.intent.clone().unwrap();
    assert_eq!(
        (i.state, i.confirmation),
        (
            Some(IntentState::ReadyForFulfillment),
            Some(Confirmation::Confirmed)
        ),
        "fulfilment hook on: the client fulfils"
    );
    assert!(r.messages.is_empty());
    // Declined.
    let mut st = SessionState::default();
    say(&mut st, &m, "pay my bill");
    assert_eq!(action(&st), (ActionType::ElicitSlot, Some("Amount".into())));
    let r = say(&mut st, &m, "one zero zero");
    assert_eq!(
        st.intent.as_ref().unwrap().slots["Amount"]
            .as_ref()
            .unwrap()
            .interpreted,
        "100"
    );
    assert_eq!(text(&r), ["When?"]);
    say(&mut st, &m, "tomorrow");
    let r = say(&mut st, &m, "no");
    assert_eq!(text(&r), ["Okay, I won't pay."]);
    assert_eq!(st.intent.as_ref().unwrap().state, Some(IntentState::Failed));
    assert_eq!(
        st.intent.as_ref().unwrap().confirmation,
        Some(Confirmation::Denied)
    );
}

#[test]
fn retries_run_out_and_intents_can_switch() {
    let m = model();
    let mut st = SessionState::default();
    say(&mut st, &m, "pay my bill");
    for _ in 0..2 {
        let r = say(&mut st, &m, "purple");
        assert_eq!(text(&r), ["How much?"], "re-prompt");
    }
    say(&mut st, &m, "purple");
    assert_eq!(st.intent.as_ref().unwrap().state, Some(IntentState::Failed));
    assert_eq!(action(&st).0, ActionType::Close);
    let mut st = SessionState::default();
    say(&mut st, &m, "pay my bill");
    let r = say(&mut st, &m, "I think someone stole my card");
    assert_eq!(r.outcome.switched_from.as_deref(), Some("PayBill"));
    assert_eq!(st.intent.as_ref().unwrap().name, "ReportFraud");
}

#[test]
fn fallback_and_interpretations() {
    let m = model();
    let mut st = SessionState::default();
    let r = say(&mut st, &m, "what's the weather like");
    assert!(r.outcome.missed);
    assert_eq!(r.interpretations[0].intent.name, "FallbackIntent");
    assert_eq!(r.interpretations[0].score, None);
    assert_eq!(action(&st).0, ActionType::Close);
    let r = say(&mut st, &m, "someone stole my card");
    assert_eq!(r.interpretations[0].intent.name, "ReportFraud");
    assert!(r.interpretations.last().unwrap().intent.name == "FallbackIntent");
    assert!(r.interpretations.len() <= 5);
}

#[test]
fn disambiguation_asks_between_close_intents() {
    let mut m = model();
    m.disambiguation = Some(crate::domain::model::Disambiguation {
        max_intents: 3,
        message: Some("Did you mean".into()),
    });
    m.threshold = 0.3;
    let mut st = SessionState::default();
    // "account" alone is about as close to OpenAccount (calibrated 0.45) as to ReportFraud
    // (0.37) here.
    let r = say_with_margin(&mut st, &m, "account", 0.2);
    assert_eq!(
        action(&st).0,
        ActionType::ElicitIntent,
        "{:?}",
        r.interpretations
    );
    assert!(text(&r)[0].starts_with("Did you mean"));
    assert!(st.intent.is_none());
}

#[test]
fn put_session_prompts_and_delegates() {
    let m = model();
    let mut st = SessionState {
        intent: Some(IntentStatus {
            name: "PayBill".into(),
            slots: BTreeMap::new(),
            state: Some(IntentState::InProgress),
            confirmation: None,
        }),
        dialog_action: Some(DialogAction {
            kind: ActionType::ElicitSlot,
            slot_to_elicit: Some("PayDate".into()),
        }),
        ..Default::default()
    };
    assert_eq!(
        put_session_messages(&mut st, &m)[0].content.as_deref(),
        Some("When?")
    );
    st.dialog_action = Some(DialogAction {
        kind: ActionType::Delegate,
        slot_to_elicit: None,
    });
    assert_eq!(
        put_session_messages(&mut st, &m)[0].content.as_deref(),
        Some("How much?")
    );
    assert_eq!(action(&st), (ActionType::ElicitSlot, Some("Amount".into())));
}
