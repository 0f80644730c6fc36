//! Conversations with a bot alias, shared by the runtime API (`hearth-lex-runtime`) and the
//! test workbench: which built model an alias serves, and one text turn end to end — load the
//! session (a fresh one after the bot's idle TTL), embed the utterance on the text engine, run
//! the dialog, then store the session and the utterance record in one write before answering.

use crate::domain::builtin::Now;
use crate::domain::dialog::{self, Interpretation, SessionState, Turn};
use crate::domain::messages::OutMessage;
use crate::domain::model::{BotModel, Disambiguation};
use crate::error::{LexError, Result};
use crate::store::{self, DRAFT, TEST_ALIAS_ID};
use crate::Lex;
use hearth_inference::text::TextError;
use hearth_protocol::types::Timestamp;
use hearth_runtime::{Expect, Scope, WriteOp};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Longest text RecognizeText takes.
pub const MAX_TEXT: usize = 1024;

/// What an alias serves in one locale.
#[derive(Clone)]
pub struct Target {
    pub bot_id: String,
    pub alias_id: String,
    pub locale_id: String,
    /// `DRAFT` or a version number.
    pub version: String,
    pub model: Arc<BotModel>,
    /// The locale's current threshold and disambiguation settings (they apply without a
    /// rebuild).
    pub threshold: f64,
    pub disambiguation: Option<Disambiguation>,
    /// The bot's idle session TTL in seconds.
    pub idle_ttl: i64,
}

/// A turn's input once embedded, with the session as read.
struct Utterance<'a> {
    session_id: &'a str,
    text: &'a str,
    vector: &'a [f32],
    existing: Option<hearth_runtime::Versioned<store::Session>>,
    state_in: Option<SessionState>,
    request_attributes: BTreeMap<String, String>,
    request_id: &'a str,
}

/// The result of a turn or a session call.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub session_id: String,
    pub state: SessionState,
    pub messages: Vec<OutMessage>,
    pub interpretations: Vec<Interpretation>,
    pub request_attributes: BTreeMap<String, String>,
}

fn check_len(v: &str, member: &str, min: usize, max: usize) -> Result<()> {
    let n = v.chars().count();
    if n < min {
        return Err(LexError::Validation(format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length greater than or equal to {min}")));
    }
    if n > max {
        return Err(LexError::Validation(format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}")));
    }
    Ok(())
}

/// A session id: 2 to 100 characters of `[0-9a-zA-Z._:-]`.
pub fn check_session_id(id: &str) -> Result<()> {
    check_len(id, "sessionId", 2, 100)?;
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
    {
        return Err(LexError::member(
            id,
            "sessionId",
            "Member must satisfy regular expression pattern: [0-9a-zA-Z._:-]+",
        ));
    }
    Ok(())
}

/// What Lex V2's runtime answers (404) for a bot or alias id it does not know; the wording of
/// the message is the one Lex users report ("… is not a valid BotId/BotAliasId combination.").
fn not_a_combination(bot_id: &str, alias_id: &str) -> LexError {
    LexError::NotFound(format!(
        "{bot_id}/{alias_id} is not a valid BotId/BotAliasId combination."
    ))
}

impl Lex {
    /// The built model an alias serves for a locale, or the error Lex gives.
    pub async fn target(
        &self,
        scope: &Scope,
        bot_id: &str,
        alias_id: &str,
        locale_id: &str,
    ) -> Result<Target> {
        check_len(bot_id, "botId", 10, 10)?;
        check_len(alias_id, "botAliasId", 10, 10)?;
        let meta = &self.inner.rt.meta;
        let alias_key = format!("{bot_id}/{alias_id}");
        let (bot, alias) = tokio::try_join!(
            meta.get::<store::Bot>(scope, bot_id),
            meta.get::<store::Alias>(scope, &alias_key)
        )?;
        let bot = bot
            .ok_or_else(|| not_a_combination(bot_id, alias_id))?
            .value;
        let alias = alias
            .ok_or_else(|| not_a_combination(bot_id, alias_id))?
            .value;
        let version = if alias_id == TEST_ALIAS_ID {
            DRAFT.to_string()
        } else {
            alias.def.bot_version.clone().ok_or_else(|| {
                LexError::Validation(format!(
                    "The bot alias {alias_id} is not associated with a bot version."
                ))
            })?
        };
        if let Some(settings) = &alias.def.bot_alias_locale_settings {
            if !settings.get(locale_id).is_some_and(|s| s.enabled) {
                return Err(LexError::NotFound(format!(
                    "The locale {locale_id} is not enabled for the bot alias {alias_id}."
                )));
            }
        }
        let locale_key = store::locale_key(bot_id, &version, locale_id);
        let locale = meta
            .get::<store::Locale>(scope, &locale_key)
            .await?
            .ok_or_else(|| LexError::NotFound(format!("The locale {locale_id} does not exist in version {version} of the bot {bot_id}.")))?
            .value;
        // The model by the locale record just read (no second read of it).
        let model = self.built_model(scope, &locale_key, &locale).await?.ok_or_else(|| {
            LexError::NotFound(format!("The locale {locale_id} of version {version} of the bot {bot_id} is not built. Build the locale and try again."))
        })?;
        let disambiguation = crate::jobs::locale_disambiguation(&locale.def);
        Ok(Target {
            bot_id: bot_id.into(),
            alias_id: alias_id.into(),
            locale_id: locale_id.into(),
            version,
            model,
            threshold: locale.def.nlu_intent_confidence_threshold,
            disambiguation,
            idle_ttl: i64::from(bot.def.idle_session_ttl_in_seconds),
        })
    }

    /// The stored session, unless it idled past the bot's TTL.
    pub async fn load_session(
        &self,
        scope: &Scope,
        t: &Target,
        session_id: &str,
    ) -> Result<Option<hearth_runtime::Versioned<store::Session>>> {
        let key = store::session_key(&t.bot_id, &t.alias_id, &t.locale_id, session_id);
        let Some(s) = self
            .inner
            .rt
            .meta
            .get::<store::Session>(scope, &key)
            .await?
        else {
            return Ok(None);
        };
        let now = self.inner.rt.clock.now().unix_timestamp();
        if now - s.value.last_active > t.idle_ttl {
            return Ok(None);
        }
        Ok(Some(s))
    }

    /// One RecognizeText turn addressed by ids: the utterance is embedded on the text engine
    /// while the alias, locale, model and session are read, then the turn runs (dialog,
    /// session and utterance record). Returns the target with the exchange.
    #[allow(clippy::too_many_arguments)]
    pub async fn recognize_text_at(
        &self,
        scope: &Scope,
        bot_id: &str,
        alias_id: &str,
        locale_id: &str,
        session_id: &str,
        text: &str,
        state_in: Option<SessionState>,
        request_attributes: BTreeMap<String, String>,
        request_id: &str,
    ) -> Result<(Target, Exchange)> {
        check_session_id(session_id)?;
        check_len(text, "text", 1, MAX_TEXT)?;
        let lookup = async {
            let t = self.target(scope, bot_id, alias_id, locale_id).await?;
            let session = self.load_session(scope, &t, session_id).await?;
            Ok::<_, LexError>((t, session))
        };
        let timer = std::time::Instant::now();
        let (looked_up, vector) = tokio::join!(lookup, self.embed_utterance(text));
        let (t, existing) = looked_up?;
        let vector = vector?;
        let embedded = timer.elapsed();
        let ex = self
            .finish_turn(
                scope,
                &t,
                Utterance {
                    session_id,
                    text,
                    vector: &vector,
                    existing,
                    state_in,
                    request_attributes,
                    request_id,
                },
                timer,
                embedded,
            )
            .await?;
        Ok((t, ex))
    }

    /// The utterance's embedding, or the error Lex answers when the model cannot give it.
    async fn embed_utterance(&self, text: &str) -> Result<Vec<f32>> {
        match self.embed(vec![text.to_string()]).await {
            Ok(mut v) => Ok(v.pop().unwrap_or_default()),
            Err(TextError::Load(m)) => Err(LexError::DependencyFailed(format!(
                "The intent classification model is not available: {m}"
            ))),
            Err(e) => Err(LexError::Internal(e.to_string())),
        }
    }

    /// The rest of a turn once the utterance is embedded and the session read: dialog, then
    /// the session and the utterance record stored in one commit before answering.
    async fn finish_turn(
        &self,
        scope: &Scope,
        t: &Target,
        u: Utterance<'_>,
        timer: std::time::Instant,
        embedded: std::time::Duration,
    ) -> Result<Exchange> {
        let Utterance {
            session_id,
            text,
            vector,
            existing,
            state_in,
            request_attributes,
            request_id,
        } = u;
        self.note_traffic(scope, &t.bot_id);
        let key = store::session_key(&t.bot_id, &t.alias_id, &t.locale_id, session_id);
        let now_t = self.inner.rt.clock.now();
        let expect = existing
            .as_ref()
            .map_or(Expect::Any, |s| Expect::Version(s.version));
        let started = existing
            .as_ref()
            .map_or(Timestamp(now_t), |s| s.value.started);
        let mut state = match (state_in, existing) {
            (Some(s), _) => s,
            (None, Some(s)) => s.value.state,
            (None, None) => SessionState::default(),
        };
        state
            .originating_request_id
            .get_or_insert_with(|| request_id.to_string());
        let turn = self.turn(t, text, vector, now_t);
        let reply = dialog::recognize(&mut state, &turn);
        let understood = timer.elapsed();
        let session = store::Session {
            state: state.clone(),
            messages: reply.messages.clone(),
            interpretations: reply.interpretations.clone(),
            request_attributes: request_attributes.clone(),
            last_active: now_t.unix_timestamp(),
            started,
        };
        let at = Timestamp(now_t);
        let uid = uuid::Uuid::new_v4().simple().to_string();
        let utterance = store::Utterance {
            at,
            bot_id: t.bot_id.clone(),
            alias_id: t.alias_id.clone(),
            version: t.version.clone(),
            locale_id: t.locale_id.clone(),
            session_id: session_id.to_string(),
            request_id: request_id.to_string(),
            text: text.to_string(),
            intent: reply.outcome.intent.clone(),
            missed: reply.outcome.missed,
            switched_from: reply.outcome.switched_from.clone(),
            intent_state: reply.outcome.state.map(|s| s.as_str().to_string()),
            dialog_action: state
                .dialog_action
                .as_ref()
                .map(|a| a.kind.as_str().to_string()),
            slot_to_elicit: state
                .dialog_action
                .as_ref()
                .and_then(|a| a.slot_to_elicit.clone()),
            mode: "Text".into(),
            conversation_start: started,
            responses: reply.messages.clone(),
            slots_filled: state
                .intent
                .as_ref()
                .map(|i| {
                    i.slots
                        .iter()
                        .filter(|(_, v)| v.is_some())
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default(),
        };
        self.inner
            .rt
            .meta
            .apply(vec![
                WriteOp::put(scope, key, &session, expect)?,
                WriteOp::put(
                    scope,
                    store::utterance_key(&t.bot_id, &at, &uid[..12]),
                    &utterance,
                    Expect::Absent,
                )?,
            ])
            .await?;
        tracing::debug!(
            bot = %t.bot_id,
            intent = reply.outcome.intent.as_deref().unwrap_or("-"),
            embed_ms = embedded.as_secs_f64() * 1e3,
            dialog_ms = (understood - embedded).as_secs_f64() * 1e3,
            store_ms = (timer.elapsed() - understood).as_secs_f64() * 1e3,
            "lex turn"
        );
        Ok(Exchange {
            session_id: session_id.to_string(),
            state,
            messages: reply.messages,
            interpretations: reply.interpretations,
            request_attributes,
        })
    }

    /// PutSession: set the session's state; the reply carries the messages given, or the
    /// prompt the new state waits on.
    pub async fn put_session(
        &self,
        scope: &Scope,
        t: &Target,
        session_id: &str,
        mut state: SessionState,
        messages: Option<Vec<OutMessage>>,
        request_attributes: BTreeMap<String, String>,
    ) -> Result<Exchange> {
        check_session_id(session_id)?;
        let now_t = self.inner.rt.clock.now();
        let existing = self.load_session(scope, t, session_id).await?;
        let started = existing
            .as_ref()
            .map_or(Timestamp(now_t), |s| s.value.started);
        if let Some(i) = &state.intent {
            if t.model.intent_index(&i.name).is_none() {
                return Err(LexError::Validation(format!(
                    "The intent {} does not exist in the bot locale.",
                    i.name
                )));
            }
        }
        let out = match messages {
            Some(m) => m,
            None => dialog::put_session_messages(&mut state, &t.model),
        };
        dialog::stamp_contexts(&mut state, now_t.unix_timestamp());
        let session = store::Session {
            state: state.clone(),
            messages: out.clone(),
            interpretations: Vec::new(),
            request_attributes: request_attributes.clone(),
            last_active: now_t.unix_timestamp(),
            started,
        };
        let key = store::session_key(&t.bot_id, &t.alias_id, &t.locale_id, session_id);
        self.inner
            .rt
            .meta
            .put(scope, &key, &session, Expect::Any)
            .await?;
        Ok(Exchange {
            session_id: session_id.to_string(),
            state,
            messages: out,
            interpretations: Vec::new(),
            request_attributes,
        })
    }

    /// GetSession: the stored session, or ResourceNotFoundException.
    pub async fn get_session(
        &self,
        scope: &Scope,
        t: &Target,
        session_id: &str,
    ) -> Result<Exchange> {
        check_session_id(session_id)?;
        let s = self
            .load_session(scope, t, session_id)
            .await?
            .ok_or_else(|| LexError::NotFound(format!("Session {session_id} does not exist.")))?
            .value;
        Ok(Exchange {
            session_id: session_id.to_string(),
            state: s.state,
            messages: s.messages,
            interpretations: s.interpretations,
            request_attributes: s.request_attributes,
        })
    }

    /// DeleteSession: remove it, or ResourceNotFoundException.
    pub async fn delete_session(&self, scope: &Scope, t: &Target, session_id: &str) -> Result<()> {
        check_session_id(session_id)?;
        let key = store::session_key(&t.bot_id, &t.alias_id, &t.locale_id, session_id);
        if !self
            .inner
            .rt
            .meta
            .delete::<store::Session>(scope, &key, Expect::Any)
            .await?
        {
            return Err(LexError::NotFound(format!(
                "Session {session_id} does not exist."
            )));
        }
        Ok(())
    }

    /// Run a turn without storing anything (the test workbench).
    pub async fn dry_turn(
        &self,
        t: &Target,
        state: &mut SessionState,
        text: &str,
    ) -> Result<dialog::Reply> {
        let vector = match self.embed(vec![text.to_string()]).await {
            Ok(mut v) => v.pop().unwrap_or_default(),
            Err(TextError::Load(m)) => {
                return Err(LexError::DependencyFailed(format!(
                    "The intent classification model is not available: {m}"
                )))
            }
            Err(e) => return Err(LexError::Internal(e.to_string())),
        };
        let turn = self.turn(t, text, &vector, self.inner.rt.clock.now());
        Ok(dialog::recognize(state, &turn))
    }

    fn turn<'a>(
        &self,
        t: &'a Target,
        text: &'a str,
        vector: &'a [f32],
        now: time::OffsetDateTime,
    ) -> Turn<'a> {
        Turn {
            model: &t.model,
            utterance: text,
            vector,
            unix_now: now.unix_timestamp(),
            today: now.date(),
            threshold: t.threshold as f32,
            disambiguation: t.disambiguation.as_ref(),
            scoring: self.inner.opts.scoring,
            disambiguation_margin: self.inner.opts.disambiguation_margin,
        }
    }

    /// Today on the runtime clock (for slot resolution outside a turn).
    pub fn today(&self) -> Now {
        Now {
            today: self.inner.rt.clock.now().date(),
        }
    }
}
