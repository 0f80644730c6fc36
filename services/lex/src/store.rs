//! Lex's typed records in the metadata store, all scoped to (account, region).
//!
//! | kind | key | what |
//! |---|---|---|
//! | `lex.bot` | `<botId>` | bot settings, status, tags, next version number |
//! | `lex.locale` | `<botId>/<version>/<localeId>` | locale settings, build status and reasons |
//! | `lex.intent` | `<botId>/<version>/<localeId>/<intentId>` | intent definition |
//! | `lex.slot` | `<botId>/<version>/<localeId>/<intentId>/<slotId>` | slot definition |
//! | `lex.slottype` | `<botId>/<version>/<localeId>/<slotTypeId>` | custom slot type |
//! | `lex.model` | `<botId>/<version>/<localeId>` | the built NLU model |
//! | `lex.version` | `<botId>/<version, 5 digits>` | a numbered version's bot settings |
//! | `lex.alias` | `<botId>/<aliasId>` | alias settings, tags, history |
//! | `lex.session` | `<botId>/<aliasId>/<localeId>/<sessionId>` | a runtime session |
//! | `lex.utterance` | `<botId>/<unix ms, 13 digits>-<id>` | one runtime utterance (analytics) |
//! | `lex.testset` | `<testSetId>` | test set and its turns |
//! | `lex.testexec` | `<testExecutionId>` | test execution and its results |
//! | `lex.import` | `<importId>` | import (test sets) |
//!
//! Definitions are kept as the generated `Update…Request` types, which hold every settable
//! field of a resource, so Describe returns exactly what was set.

use crate::api;
use crate::domain::dialog::{Interpretation, SessionState};
use crate::domain::messages::OutMessage;
use crate::domain::model::BotModel;
use hearth_protocol::types::Timestamp;
use hearth_runtime::Record;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version name of the working copy.
pub const DRAFT: &str = "DRAFT";
/// The id of the test alias every bot gets.
pub const TEST_ALIAS_ID: &str = "TSTALIASID";
/// The id of the fallback intent every locale gets.
pub const FALLBACK_INTENT_ID: &str = "FALLBCKINT";

/// A bot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bot {
    pub def: api::UpdateBotRequest,
    pub status: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub tags: BTreeMap<String, String>,
    /// The number the next CreateBotVersion takes.
    pub next_version: u32,
}

impl Record for Bot {
    const KIND: &'static str = "lex.bot";
}

/// A bot locale of one version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Locale {
    pub def: api::UpdateBotLocaleRequest,
    pub status: String,
    pub failure_reasons: Vec<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub last_build_submitted: Option<Timestamp>,
    pub history: Vec<api::BotLocaleHistoryEvent>,
    /// Number of builds submitted (the build job's id carries it).
    pub builds: u64,
    /// When the model in `lex.model` was built (the runtime's cache checks it).
    #[serde(default)]
    pub model_built: Option<Timestamp>,
}

impl Record for Locale {
    const KIND: &'static str = "lex.locale";
}

/// An intent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Intent {
    pub def: api::UpdateIntentRequest,
    pub created: Timestamp,
    pub updated: Timestamp,
}

impl Record for Intent {
    const KIND: &'static str = "lex.intent";
}

/// A slot of an intent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Slot {
    pub def: api::UpdateSlotRequest,
    pub created: Timestamp,
    pub updated: Timestamp,
}

impl Record for Slot {
    const KIND: &'static str = "lex.slot";
}

/// A custom slot type.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlotType {
    pub def: api::UpdateSlotTypeRequest,
    pub created: Timestamp,
    pub updated: Timestamp,
}

impl Record for SlotType {
    const KIND: &'static str = "lex.slottype";
}

/// The built model of a locale.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub model: BotModel,
    pub built: Timestamp,
}

impl Record for Model {
    const KIND: &'static str = "lex.model";
}

/// A numbered bot version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    pub version: String,
    pub description: Option<String>,
    /// The bot's settings when the version was made.
    pub bot: api::UpdateBotRequest,
    pub locales: BTreeMap<String, api::BotVersionLocaleDetails>,
    pub status: String,
    pub created: Timestamp,
}

impl Record for Version {
    const KIND: &'static str = "lex.version";
}

/// A bot alias.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    pub def: api::UpdateBotAliasRequest,
    pub status: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub history: Vec<api::BotAliasHistoryEvent>,
    pub tags: BTreeMap<String, String>,
}

impl Record for Alias {
    const KIND: &'static str = "lex.alias";
}

/// A runtime session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub state: SessionState,
    pub messages: Vec<OutMessage>,
    pub interpretations: Vec<Interpretation>,
    pub request_attributes: BTreeMap<String, String>,
    /// Unix seconds of the last turn (for the bot's idle session TTL).
    pub last_active: i64,
    /// When the conversation started.
    pub started: Timestamp,
}

impl Record for Session {
    const KIND: &'static str = "lex.session";
}

/// One runtime utterance, for analytics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Utterance {
    pub at: Timestamp,
    pub bot_id: String,
    pub alias_id: String,
    pub version: String,
    pub locale_id: String,
    pub session_id: String,
    pub request_id: String,
    pub text: String,
    /// The intent the turn went to.
    pub intent: Option<String>,
    /// Whether it went to the fallback intent.
    pub missed: bool,
    pub switched_from: Option<String>,
    /// The intent's state after the turn.
    pub intent_state: Option<String>,
    pub dialog_action: Option<String>,
    pub slot_to_elicit: Option<String>,
    /// `Text` (RecognizeText) — the only mode Hearth serves.
    pub mode: String,
    /// When the session's conversation started.
    pub conversation_start: Timestamp,
    /// What the bot answered.
    pub responses: Vec<OutMessage>,
    /// Slots that had values after the turn.
    pub slots_filled: Vec<String>,
}

impl Record for Utterance {
    const KIND: &'static str = "lex.utterance";
}

/// Key of a version record (zero-padded so versions list in numeric order).
pub fn version_key(bot: &str, version: &str) -> String {
    match version.parse::<u32>() {
        Ok(n) => format!("{bot}/{n:05}"),
        Err(_) => format!("{bot}/{version}"),
    }
}

/// `<bot>/<version>/<locale>`.
pub fn locale_key(bot: &str, version: &str, locale: &str) -> String {
    format!("{bot}/{version}/{locale}")
}

/// `<bot>/<version>/<locale>/<id>` (intents, slot types).
pub fn child_key(bot: &str, version: &str, locale: &str, id: &str) -> String {
    format!("{bot}/{version}/{locale}/{id}")
}

/// `<bot>/<version>/<locale>/<intent>/<slot>`.
pub fn slot_key(bot: &str, version: &str, locale: &str, intent: &str, slot: &str) -> String {
    format!("{bot}/{version}/{locale}/{intent}/{slot}")
}

/// `<bot>/<alias>/<locale>/<session>`.
pub fn session_key(bot: &str, alias: &str, locale: &str, session: &str) -> String {
    format!("{bot}/{alias}/{locale}/{session}")
}

/// `<bot>/<unix ms>-<id>`.
pub fn utterance_key(bot: &str, at: &Timestamp, id: &str) -> String {
    let ms = (at.0.unix_timestamp_nanos() / 1_000_000).max(0);
    format!("{bot}/{ms:013}-{id}")
}

/// A test set (Test Workbench) with its turns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestSet {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub modality: String,
    /// `Importing`, `Ready`, `ValidationError`, `Deleting`.
    pub status: String,
    pub role_arn: String,
    pub storage: api::TestSetStorageLocation,
    pub records: Vec<api::TestSetTurnRecord>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub tags: BTreeMap<String, String>,
}

impl Record for TestSet {
    const KIND: &'static str = "lex.testset";
}

/// A test execution and, once done, its results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestExecution {
    pub id: String,
    pub test_set_id: String,
    pub test_set_name: String,
    pub target: api::TestExecutionTarget,
    pub api_mode: String,
    pub modality: Option<String>,
    /// `Pending`, `InProgress`, `Completed`, `Failed`.
    pub status: String,
    pub failure_reasons: Vec<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// Each turn's result, and whether it belongs to a multi-turn conversation.
    pub turns: Vec<(bool, api::UtteranceLevelTestResultItem)>,
    pub conversations: Vec<api::ConversationLevelTestResultItem>,
}

impl Record for TestExecution {
    const KIND: &'static str = "lex.testexec";
}

/// An import (Hearth imports test sets).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Import {
    pub id: String,
    pub spec: api::ImportResourceSpecification,
    pub merge_strategy: String,
    /// `InProgress`, `Completed`, `Failed`.
    pub status: String,
    pub failure_reasons: Vec<String>,
    pub resource_type: String,
    pub imported_resource_id: Option<String>,
    pub imported_resource_name: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

impl Record for Import {
    const KIND: &'static str = "lex.import";
}
