//! The built NLU model of one bot locale, what BuildBotLocale produces from the locale's
//! intents, slots and slot types: each intent's sample utterances as templates and as sentence
//! embeddings (one centroid per intent), each slot's type and prompts, each custom slot type's
//! matcher. It is stored with the locale (and copied into each bot version) so the runtime
//! never rebuilds it.
//!
//! Building is two halves around the embedding call: [`compile`] validates the definition
//! (failing with the reasons Lex reports) and lists the texts to embed; [`Compiled::finish`]
//! takes their vectors.

use super::builtin::Builtin;
use super::nlu::Scoring;
use super::slot_types::{CustomType, Strategy, TypeValue};
use super::templates::{self, Part, Template, TemplateError};
use crate::api;
use base64::Engine;
use hearth_inference::text::dot;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Signature of the intent Lex picks when nothing else fits.
pub const FALLBACK_SIGNATURE: &str = "AMAZON.FallbackIntent";

/// One intent as defined (the input of a build).
#[derive(Debug, Clone, Default)]
pub struct IntentDef {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub signature: Option<String>,
    pub sample_utterances: Vec<String>,
    /// Slot ids in elicitation order.
    pub slot_order: Vec<String>,
    pub slots: Vec<SlotDef>,
    pub confirmation: Option<api::IntentConfirmationSetting>,
    pub closing: Option<api::IntentClosingSetting>,
    pub fulfillment: Option<api::FulfillmentCodeHookSettings>,
    pub initial_response: Option<api::InitialResponseSetting>,
    pub input_contexts: Vec<String>,
    pub output_contexts: Vec<api::OutputContext>,
}

/// One slot as defined.
#[derive(Debug, Clone, Default)]
pub struct SlotDef {
    pub id: String,
    pub name: String,
    /// `AMAZON.<Type>` or a custom slot type id.
    pub slot_type_id: String,
    pub elicitation: api::SlotValueElicitationSetting,
    pub obfuscate: bool,
}

/// One custom slot type as defined.
#[derive(Debug, Clone, Default)]
pub struct SlotTypeDef {
    pub id: String,
    pub name: String,
    pub values: Vec<TypeValue>,
    pub strategy: Option<String>,
    pub regex: Option<String>,
    pub parent: Option<String>,
}

/// Intent disambiguation (the locale's `generativeAISettings…intentDisambiguationSettings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disambiguation {
    pub max_intents: usize,
    pub message: Option<String>,
}

/// A whole locale as defined.
#[derive(Debug, Clone, Default)]
pub struct LocaleDef {
    pub locale_id: String,
    pub threshold: f64,
    pub disambiguation: Option<Disambiguation>,
    pub intents: Vec<IntentDef>,
    pub slot_types: Vec<SlotTypeDef>,
}

/// Which type a slot has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotKind {
    Builtin(Builtin),
    /// Index into [`BotModel::slot_types`].
    Custom(usize),
}

/// A slot of a built intent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlotModel {
    pub id: String,
    pub name: String,
    pub kind: SlotKind,
    pub required: bool,
    pub prompt: Option<api::PromptSpecification>,
    pub capture: Option<api::SlotCaptureSetting>,
    /// The slot's own sample utterances ("it's {AccountType}"), for answers to its prompt.
    pub templates: Vec<Template>,
    pub defaults: Vec<String>,
    pub obfuscate: bool,
    /// Words that come right before this slot in the intent's templates ("from", "to").
    pub cues: Vec<String>,
}

/// A built intent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntentModel {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub signature: Option<String>,
    pub templates: Vec<Template>,
    /// Slots in elicitation order.
    pub slots: Vec<SlotModel>,
    pub confirmation: Option<api::IntentConfirmationSetting>,
    pub closing: Option<api::IntentClosingSetting>,
    pub fulfillment: Option<api::FulfillmentCodeHookSettings>,
    pub initial_response: Option<api::InitialResponseSetting>,
    pub input_contexts: Vec<String>,
    pub output_contexts: Vec<api::OutputContext>,
}

impl IntentModel {
    /// Whether this is the locale's fallback intent.
    pub fn is_fallback(&self) -> bool {
        self.signature.as_deref() == Some(FALLBACK_SIGNATURE)
    }
    /// The slot named `name`.
    pub fn slot(&self, name: &str) -> Option<&SlotModel> {
        self.slots.iter().find(|s| s.name == name)
    }
    /// Whether fulfillment goes through a (Lambda) code hook.
    pub fn fulfillment_hook(&self) -> bool {
        self.fulfillment
            .as_ref()
            .is_some_and(|f| f.enabled && f.active != Some(false))
    }
}

/// Row-major f32 matrix, stored as base64 of little-endian floats.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matrix {
    pub dim: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }
}

impl Serialize for Matrix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = self.data.iter().flat_map(|f| f.to_le_bytes()).collect();
        (
            self.dim,
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Matrix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (dim, b64): (usize, String) = Deserialize::deserialize(d)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(serde::de::Error::custom)?;
        if bytes.len() % 4 != 0 || (dim > 0 && (bytes.len() / 4) % dim != 0) {
            return Err(serde::de::Error::custom("matrix size"));
        }
        let data = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(Matrix { dim, data })
    }
}

/// The built model of one locale.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BotModel {
    pub locale_id: String,
    pub threshold: f64,
    pub disambiguation: Option<Disambiguation>,
    pub intents: Vec<IntentModel>,
    pub slot_types: Vec<CustomType>,
    /// Embedded sample utterances, one row each.
    pub vectors: Matrix,
    /// Intent index of each row of `vectors`.
    pub owners: Vec<u32>,
    /// Unit mean vector of each intent's rows (empty for intents without utterances).
    pub centroids: Vec<Vec<f32>>,
    /// Per intent, the mean leave-one-out score of its own sample utterances (each scored
    /// against the intent's other samples, as an unseen paraphrase would be): how close the
    /// intent's own wordings are to one another. 0 when the intent has fewer than two
    /// samples. The runtime divides scores by it (see `nlu::rank`), so a loosely worded
    /// intent and a tightly worded one fall back at the same relative distance. Empty in
    /// models built before calibration (scores are then the raw blend).
    #[serde(default)]
    pub calibration: Vec<f32>,
    /// The text embedded for each row of `vectors` (a rebuild re-embeds only texts that are
    /// not here). Empty in models built before it was kept.
    #[serde(default)]
    pub texts: Vec<String>,
    /// Embedded out-of-domain background lines that none of the intents claims
    /// (`background::attach`); an utterance nearer to one of them than to its best intent
    /// loses confidence. Empty in models built before it (scores as before).
    #[serde(default)]
    pub background: Matrix,
}

impl BotModel {
    /// The stored vector of each embedded text (for reuse by a rebuild).
    pub fn vectors_by_text(&self) -> HashMap<&str, &[f32]> {
        if self.texts.len() != self.vectors.rows() {
            return HashMap::new();
        }
        self.texts
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), self.vectors.row(i)))
            .collect()
    }

    /// Index of the fallback intent.
    pub fn fallback(&self) -> Option<usize> {
        self.intents.iter().position(|i| i.is_fallback())
    }
    /// Index of the intent named `name`.
    pub fn intent_index(&self, name: &str) -> Option<usize> {
        self.intents.iter().position(|i| i.name == name)
    }
}

/// A definition that passed validation, with the texts to embed.
#[derive(Debug)]
pub struct Compiled {
    model: BotModel,
    /// One text per row to embed, and the intent it belongs to.
    pub texts: Vec<String>,
    owners: Vec<u32>,
}

/// Built-in intents Hearth knows sample utterances for.
pub fn builtin_intent_utterances(signature: &str) -> Option<&'static [&'static str]> {
    Some(match signature {
        "AMAZON.CancelIntent" => &[
            "cancel",
            "never mind",
            "forget it",
            "cancel that",
            "stop this request",
            "i changed my mind",
        ],
        "AMAZON.StopIntent" => &["stop", "quit", "exit", "that's all", "i'm done", "goodbye"],
        "AMAZON.HelpIntent" => &[
            "help",
            "what can you do",
            "i need help",
            "how does this work",
            "what can i say",
            "can you help me",
        ],
        "AMAZON.RepeatIntent" => &[
            "repeat",
            "say that again",
            "can you repeat that",
            "what did you say",
            "pardon",
            "come again",
        ],
        "AMAZON.StartOverIntent" => &[
            "start over",
            "restart",
            "start again",
            "let's start from the beginning",
            "begin again",
            "reset",
        ],
        FALLBACK_SIGNATURE => &[],
        _ => return None,
    })
}

fn required(slot: &SlotDef) -> bool {
    slot.elicitation.slot_constraint == "Required"
}

/// Validate a locale and prepare its texts. Errors are Lex-style build failure reasons.
pub fn compile(def: &LocaleDef) -> Result<Compiled, Vec<String>> {
    let mut failures = Vec::new();
    if !def
        .intents
        .iter()
        .any(|i| i.signature.as_deref() != Some(FALLBACK_SIGNATURE))
    {
        failures.push("Failed to build the bot locale: it must contain at least one intent other than AMAZON.FallbackIntent.".to_string());
    }
    // Slot types.
    let mut types = Vec::new();
    let mut type_index: HashMap<&str, usize> = HashMap::new();
    for t in &def.slot_types {
        let alnum = t.parent.as_deref() == Some("AMAZON.AlphaNumeric");
        if t.values.is_empty() && !alnum {
            failures.push(format!(
                "Slot type '{}' must have at least one slot type value.",
                t.name
            ));
        }
        if let Some(r) = &t.regex {
            if regex::Regex::new(r).is_err() {
                failures.push(format!(
                    "Slot type '{}' has a regular expression that is not valid: '{r}'.",
                    t.name
                ));
            }
        }
        type_index.insert(t.id.as_str(), types.len());
        let strategy = Strategy::parse(t.strategy.as_deref().unwrap_or("OriginalValue"));
        types.push(CustomType::new(
            &t.name,
            t.values.clone(),
            strategy,
            t.regex.clone(),
            alnum,
        ));
    }
    // Intents.
    let mut intents = Vec::new();
    let mut texts = Vec::new();
    let mut owners = Vec::new();
    let mut seen_utterances: HashMap<String, String> = HashMap::new();
    for (idx, intent) in def.intents.iter().enumerate() {
        let by_id: HashMap<&str, &SlotDef> =
            intent.slots.iter().map(|s| (s.id.as_str(), s)).collect();
        let mut ordered: Vec<&SlotDef> = intent
            .slot_order
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .collect();
        for s in &intent.slots {
            if !ordered.iter().any(|o| o.id == s.id) {
                ordered.push(s);
            }
        }
        let slot_names: Vec<&str> = ordered.iter().map(|s| s.name.as_str()).collect();
        let mut parsed = Vec::new();
        for u in &intent.sample_utterances {
            match templates::parse(u) {
                Ok(t) => {
                    for s in t.slots() {
                        if !slot_names.contains(&s) {
                            failures.push(format!("Intent '{}' has a sample utterance '{u}' that refers to the slot '{s}', which does not exist in the intent.", intent.name));
                        }
                    }
                    let key = super::text::normalize(&t.render(|s| format!("{{{s}}}")));
                    if let Some(other) = seen_utterances.get(&key) {
                        if other != &intent.name {
                            failures.push(format!("The sample utterance '{u}' in intent '{}' is a duplicate of a sample utterance in intent '{other}'.", intent.name));
                        }
                    } else {
                        seen_utterances.insert(key, intent.name.clone());
                    }
                    parsed.push(t);
                }
                Err(TemplateError::Braces) => failures.push(format!("Intent '{}' has a sample utterance '{u}' with unbalanced braces.", intent.name)),
                Err(TemplateError::BadSlotName(n)) => failures.push(format!("Intent '{}' has a sample utterance '{u}' with an invalid slot reference '{{{n}}}'.", intent.name)),
            }
        }
        let builtin_utterances = intent
            .signature
            .as_deref()
            .and_then(builtin_intent_utterances);
        if parsed.is_empty() && builtin_utterances.is_none() {
            failures.push(format!(
                "Intent '{}' must have at least one sample utterance.",
                intent.name
            ));
        }
        // Slots.
        let mut slots = Vec::new();
        for s in &ordered {
            let kind = match Builtin::from_signature(&s.slot_type_id) {
                Some(b) => SlotKind::Builtin(b),
                None => match type_index.get(s.slot_type_id.as_str()) {
                    Some(i) => SlotKind::Custom(*i),
                    None => {
                        failures.push(format!("Slot '{}' in intent '{}' uses the slot type '{}', which does not exist.", s.name, intent.name, s.slot_type_id));
                        continue;
                    }
                },
            };
            if required(s) && s.elicitation.prompt_specification.is_none() {
                failures.push(format!(
                    "Slot '{}' in intent '{}' is required but has no prompt.",
                    s.name, intent.name
                ));
            }
            let mut slot_templates = Vec::new();
            for u in s.elicitation.sample_utterances.iter().flatten() {
                match templates::parse(&u.utterance) {
                    Ok(t) => slot_templates.push(t),
                    Err(_) => failures.push(format!(
                        "Slot '{}' in intent '{}' has a sample utterance '{}' that is not valid.",
                        s.name, intent.name, u.utterance
                    )),
                }
            }
            let mut cues: Vec<String> = parsed
                .iter()
                .flat_map(|t| t.left_words())
                .filter(|(slot, _)| *slot == s.name)
                .map(|(_, w)| w.to_string())
                .collect();
            cues.sort();
            cues.dedup();
            slots.push(SlotModel {
                id: s.id.clone(),
                name: s.name.clone(),
                kind,
                required: required(s),
                prompt: s.elicitation.prompt_specification.clone(),
                capture: s.elicitation.slot_capture_setting.clone(),
                templates: slot_templates,
                defaults: s
                    .elicitation
                    .default_value_specification
                    .iter()
                    .flat_map(|d| d.default_value_list.iter().map(|v| v.default_value.clone()))
                    .collect(),
                obfuscate: s.obfuscate,
                cues,
            });
        }
        // Texts to embed: each template with example values in its slots.
        let example = |slot: &str| -> String {
            match slots.iter().find(|s| s.name == slot).map(|s| s.kind) {
                Some(SlotKind::Builtin(b)) => b.example().to_string(),
                Some(SlotKind::Custom(i)) => types[i].example().to_string(),
                None => slot.to_string(),
            }
        };
        for t in &parsed {
            texts.push(t.render(example));
            owners.push(idx as u32);
        }
        if parsed.is_empty() {
            for u in builtin_utterances.unwrap_or(&[]) {
                texts.push((*u).to_string());
                owners.push(idx as u32);
                parsed.push(templates::parse(u).unwrap_or(Template {
                    text: (*u).to_string(),
                    parts: vec![Part::Word((*u).to_string())],
                }));
            }
        }
        intents.push(IntentModel {
            id: intent.id.clone(),
            name: intent.name.clone(),
            display_name: intent.display_name.clone(),
            signature: intent.signature.clone(),
            templates: parsed,
            slots,
            confirmation: intent.confirmation.clone(),
            closing: intent.closing.clone(),
            fulfillment: intent.fulfillment.clone(),
            initial_response: intent.initial_response.clone(),
            input_contexts: intent.input_contexts.clone(),
            output_contexts: intent.output_contexts.clone(),
        });
    }
    if !failures.is_empty() {
        failures.sort();
        failures.dedup();
        return Err(failures);
    }
    Ok(Compiled {
        model: BotModel {
            locale_id: def.locale_id.clone(),
            threshold: def.threshold,
            disambiguation: def.disambiguation.clone(),
            intents,
            slot_types: types,
            vectors: Matrix::default(),
            owners: Vec::new(),
            centroids: Vec::new(),
            calibration: Vec::new(),
            texts: Vec::new(),
            background: Matrix::default(),
        },
        texts,
        owners,
    })
}

impl Compiled {
    /// The finished model, given one unit vector per text (in order), calibrated with the
    /// default score blend.
    pub fn finish(self, vectors: Vec<Vec<f32>>) -> Result<BotModel, String> {
        self.finish_with(vectors, Scoring::default())
    }

    /// [`Compiled::finish`] with the blend the runtime scores with (the calibration must use
    /// the same one).
    pub fn finish_with(
        mut self,
        vectors: Vec<Vec<f32>>,
        scoring: Scoring,
    ) -> Result<BotModel, String> {
        if vectors.len() != self.texts.len() {
            return Err(format!(
                "expected {} embeddings, got {}",
                self.texts.len(),
                vectors.len()
            ));
        }
        let dim = vectors.first().map_or(0, Vec::len);
        if vectors.iter().any(|v| v.len() != dim) {
            return Err("embeddings of different lengths".into());
        }
        let n = self.model.intents.len();
        let mut sums = vec![vec![0f32; dim]; n];
        let mut counts = vec![0usize; n];
        for (v, &o) in vectors.iter().zip(&self.owners) {
            counts[o as usize] += 1;
            for (s, x) in sums[o as usize].iter_mut().zip(v) {
                *s += x;
            }
        }
        self.model.centroids = sums
            .into_iter()
            .zip(counts)
            .map(|(s, c)| {
                if c == 0 {
                    Vec::new()
                } else {
                    hearth_inference::text::normalized(s)
                }
            })
            .collect();
        self.model.calibration = (0..n)
            .map(|i| {
                let rows: Vec<&[f32]> = vectors
                    .iter()
                    .zip(&self.owners)
                    .filter(|(_, &o)| o as usize == i)
                    .map(|(v, _)| v.as_slice())
                    .collect();
                leave_one_out_mean(&rows, scoring.centroid_weight)
            })
            .collect();
        self.model.vectors = Matrix {
            dim,
            data: vectors.into_iter().flatten().collect(),
        };
        self.model.owners = self.owners;
        self.model.texts = self.texts;
        Ok(self.model)
    }

    /// The intents' names, in model order (for logs).
    pub fn intent_names(&self) -> Vec<&str> {
        self.model.intents.iter().map(|i| i.name.as_str()).collect()
    }
}

/// The mean over `rows` of each row's blend score against the other rows (centroid of the
/// others with weight `w`, nearest other with `1 - w`); 0 for fewer than two rows.
fn leave_one_out_mean(rows: &[&[f32]], w: f32) -> f32 {
    if rows.len() < 2 {
        return 0.0;
    }
    let w = w.clamp(0.0, 1.0);
    let dim = rows[0].len();
    let mut sum = vec![0f32; dim];
    for r in rows {
        sum.iter_mut().zip(r.iter()).for_each(|(s, x)| *s += x);
    }
    let mut total = 0f32;
    for (j, r) in rows.iter().enumerate() {
        let others: Vec<f32> = sum.iter().zip(r.iter()).map(|(s, x)| s - x).collect();
        let centroid = hearth_inference::text::normalized(others);
        let cos = dot(&centroid, r);
        let nn = rows
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != j)
            .map(|(_, o)| dot(o, r))
            .fold(f32::MIN, f32::max);
        total += w * cos + (1.0 - w) * nn;
    }
    total / rows.len() as f32
}

/// Number of sample utterances per intent name (for DescribeBotLocale and logs).
pub fn utterance_counts(model: &BotModel) -> BTreeMap<String, usize> {
    model
        .intents
        .iter()
        .map(|i| (i.name.clone(), i.templates.len()))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn prompt(text: &str) -> api::PromptSpecification {
        api::PromptSpecification {
            max_retries: 2,
            message_groups: vec![api::MessageGroup {
                message: api::Message {
                    plain_text_message: Some(api::PlainTextMessage { value: text.into() }),
                    ..Default::default()
                },
                variations: None,
            }],
            ..Default::default()
        }
    }

    pub fn slot(id: &str, name: &str, ty: &str, prompt_text: &str) -> SlotDef {
        SlotDef {
            id: id.into(),
            name: name.into(),
            slot_type_id: ty.into(),
            elicitation: api::SlotValueElicitationSetting {
                slot_constraint: "Required".into(),
                prompt_specification: Some(prompt(prompt_text)),
                ..Default::default()
            },
            obfuscate: false,
        }
    }

    /// A small banking bot like the seed's.
    pub fn bank() -> LocaleDef {
        LocaleDef {
            locale_id: "en_US".into(),
            threshold: 0.4,
            disambiguation: None,
            slot_types: vec![SlotTypeDef {
                id: "ACCTTYPE01".into(),
                name: "AccountType".into(),
                values: vec![
                    TypeValue {
                        value: "Checking".into(),
                        synonyms: vec!["current".into()],
                    },
                    TypeValue {
                        value: "Savings".into(),
                        synonyms: vec!["ISA".into(), "deposit account".into()],
                    },
                ],
                strategy: Some("TopResolution".into()),
                regex: None,
                parent: None,
            }],
            intents: vec![
                IntentDef {
                    id: "FALLBCKINT".into(),
                    name: "FallbackIntent".into(),
                    signature: Some(FALLBACK_SIGNATURE.into()),
                    ..Default::default()
                },
                IntentDef {
                    id: "OPENACCT01".into(),
                    name: "OpenAccount".into(),
                    sample_utterances: vec![
                        "Open a new account".into(),
                        "I want to open a {AccountType} account".into(),
                        "Help with opening an account".into(),
                    ],
                    slot_order: vec!["SLOTACCT01".into()],
                    slots: vec![slot(
                        "SLOTACCT01",
                        "AccountType",
                        "ACCTTYPE01",
                        "Which type of account?",
                    )],
                    ..Default::default()
                },
                IntentDef {
                    id: "FRAUD00001".into(),
                    name: "ReportFraud".into(),
                    sample_utterances: vec![
                        "Unknown charge on my account".into(),
                        "I think someone stole my card".into(),
                        "Fraudulent charges on my account".into(),
                    ],
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn compile_lists_texts_and_finish_builds_centroids() {
        let c = compile(&bank()).unwrap();
        assert_eq!(c.texts.len(), 6);
        assert!(c
            .texts
            .contains(&"i want to open a Checking account".to_string()));
        let vectors: Vec<Vec<f32>> = c
            .owners
            .iter()
            .map(|o| {
                if *o == 1 {
                    vec![1.0, 0.0]
                } else {
                    vec![0.0, 1.0]
                }
            })
            .collect();
        let m = c.finish(vectors).unwrap();
        assert_eq!(m.centroids[1], vec![1.0, 0.0]);
        assert!(m.centroids[0].is_empty(), "fallback has no utterances");
        assert_eq!(m.fallback(), Some(0));
        assert_eq!(m.intents[1].slots[0].cues, ["a"]);
        let json = serde_json::to_string(&m).unwrap();
        let back: BotModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back.vectors, m.vectors);
    }

    #[test]
    fn build_failures_name_the_problem() {
        let mut def = bank();
        def.intents[1]
            .sample_utterances
            .push("open {Nope} now".into());
        def.intents[2]
            .sample_utterances
            .push("open a new account".into());
        def.intents[1].slots[0].slot_type_id = "MISSING123".into();
        let errs = compile(&def).unwrap_err();
        assert!(
            errs.iter().any(|e| e.contains("refers to the slot 'Nope'")),
            "{errs:?}"
        );
        assert!(errs.iter().any(|e| e.contains("duplicate")), "{errs:?}");
        assert!(
            errs.iter()
                .any(|e| e.contains("'MISSING123', which does not exist")),
            "{errs:?}"
        );
        let only_fallback = LocaleDef {
            intents: vec![bank().intents.remove(0)],
            ..bank()
        };
        assert!(compile(&only_fallback).unwrap_err()[0].contains("at least one intent"));
    }
}
