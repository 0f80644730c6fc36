//! Lex's durable jobs.
//!
//! - [`BuildJob`] (`lex.build`): BuildBotLocale. Reads the draft locale's intents, slots and
//!   slot types, validates them (a failure ends the build as `Failed` with Lex's reasons),
//!   embeds every sample utterance with the text engine, and stores the model and `Built` in
//!   one write. A newer build of the same locale supersedes an older one.
//! - [`ImportJob`] (`lex.import`): StartImport of a test set — reads the CSV from S3 and
//!   stores the test set.
//! - [`TestExecutionJob`] (`lex.testexec`): StartTestExecution — runs every conversation of a
//!   test set through the dialog engine and stores the results.

use crate::domain::model::{self, Disambiguation, IntentDef, LocaleDef, SlotDef, SlotTypeDef};
use crate::domain::slot_types::TypeValue;
use crate::error::LexError;
use crate::store::{self, DRAFT};
use crate::Lex;
use hearth_runtime::jobs::{JobContext, JobError, JobHandler, StepOutcome};
use hearth_runtime::{Expect, ListQuery, MetaStore, Scope, WriteOp};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The definition of a locale of a version, as the build reads it.
pub async fn locale_def(
    meta: &MetaStore,
    scope: &Scope,
    bot: &str,
    version: &str,
    locale: &str,
) -> Result<Option<LocaleDef>, LexError> {
    let key = store::locale_key(bot, version, locale);
    let Some(loc) = meta.get::<store::Locale>(scope, &key).await? else {
        return Ok(None);
    };
    let q = ListQuery {
        prefix: format!("{key}/"),
        ..Default::default()
    };
    let intents = meta.list::<store::Intent>(scope, &q).await?;
    let slots = meta.list::<store::Slot>(scope, &q).await?;
    let types = meta.list::<store::SlotType>(scope, &q).await?;
    let disambiguation = locale_disambiguation(&loc.value.def);
    let mut def = LocaleDef {
        locale_id: locale.to_string(),
        threshold: loc.value.def.nlu_intent_confidence_threshold,
        disambiguation,
        ..Default::default()
    };
    for (_, t) in types {
        let t = t.value.def;
        def.slot_types.push(SlotTypeDef {
            id: t.slot_type_id,
            name: t.slot_type_name,
            values: t
                .slot_type_values
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| {
                    let value = v.sample_value?.value;
                    Some(TypeValue {
                        value,
                        synonyms: v
                            .synonyms
                            .unwrap_or_default()
                            .into_iter()
                            .map(|s| s.value)
                            .collect(),
                    })
                })
                .collect(),
            strategy: t
                .value_selection_setting
                .as_ref()
                .map(|s| s.resolution_strategy.clone()),
            regex: t
                .value_selection_setting
                .as_ref()
                .and_then(|s| s.regex_filter.as_ref())
                .map(|r| r.pattern.clone()),
            parent: t.parent_slot_type_signature,
        });
    }
    for (_, i) in intents {
        let i = i.value.def;
        let mut priorities = i.slot_priorities.clone().unwrap_or_default();
        priorities.sort_by_key(|p| p.priority);
        def.intents.push(IntentDef {
            id: i.intent_id.clone(),
            name: i.intent_name,
            display_name: i.intent_display_name,
            signature: i.parent_intent_signature,
            sample_utterances: i
                .sample_utterances
                .unwrap_or_default()
                .into_iter()
                .map(|u| u.utterance)
                .collect(),
            slot_order: priorities.into_iter().map(|p| p.slot_id).collect(),
            slots: slots
                .iter()
                .filter(|(_, s)| s.value.def.intent_id == i.intent_id)
                .map(|(_, s)| {
                    let s = &s.value.def;
                    SlotDef {
                        id: s.slot_id.clone(),
                        name: s.slot_name.clone(),
                        slot_type_id: s.slot_type_id.clone().unwrap_or_default(),
                        elicitation: s.value_elicitation_setting.clone(),
                        obfuscate: s
                            .obfuscation_setting
                            .as_ref()
                            .is_some_and(|o| o.obfuscation_setting_type == "DefaultObfuscation"),
                    }
                })
                .collect(),
            confirmation: i.intent_confirmation_setting,
            closing: i.intent_closing_setting,
            fulfillment: i.fulfillment_code_hook,
            initial_response: i.initial_response_setting,
            input_contexts: i
                .input_contexts
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.name)
                .collect(),
            output_contexts: i.output_contexts.unwrap_or_default(),
        });
    }
    Ok(Some(def))
}

/// The locale's intent disambiguation settings, when turned on.
pub fn locale_disambiguation(def: &crate::api::UpdateBotLocaleRequest) -> Option<Disambiguation> {
    def.generative_ai_settings
        .as_ref()
        .and_then(|g| g.runtime_settings.as_ref())
        .and_then(|r| r.nlu_improvement.as_ref())
        .and_then(|n| n.intent_disambiguation_settings.as_ref())
        .filter(|d| d.enabled)
        .map(|d| Disambiguation {
            max_intents: d.max_disambiguation_intents.unwrap_or(3).clamp(2, 5) as usize,
            message: d.custom_disambiguation_message.clone(),
        })
}

/// State of a build job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildState {
    pub bot_id: String,
    pub locale_id: String,
    /// The locale's build number this job builds.
    pub build: u64,
}

/// BuildBotLocale as a durable job.
pub struct BuildJob {
    pub lex: Lex,
}

impl BuildJob {
    /// Store the outcome if this is still the locale's latest build.
    async fn finish(
        &self,
        scope: &Scope,
        st: &BuildState,
        outcome: Result<model::BotModel, Vec<String>>,
    ) -> Result<(), JobError> {
        let meta = &self.lex.inner.rt.meta;
        let key = store::locale_key(&st.bot_id, DRAFT, &st.locale_id);
        let Some(cur) = meta.get::<store::Locale>(scope, &key).await? else {
            tracing::info!(bot = %st.bot_id, locale = %st.locale_id, "locale deleted during its build");
            return Ok(());
        };
        if cur.value.builds != st.build {
            tracing::info!(bot = %st.bot_id, locale = %st.locale_id, build = st.build, latest = cur.value.builds, "build superseded");
            return Ok(());
        }
        let mut loc = cur.value;
        let now = self.lex.now();
        loc.updated = now;
        let mut ops = Vec::new();
        match outcome {
            Ok(m) => {
                loc.status = "Built".into();
                loc.failure_reasons.clear();
                loc.model_built = Some(now);
                loc.history.push(crate::api::BotLocaleHistoryEvent {
                    event: "Built".into(),
                    event_date: now,
                });
                ops.push(WriteOp::put(
                    scope,
                    key.clone(),
                    &store::Model {
                        model: m,
                        built: now,
                    },
                    Expect::Any,
                )?);
            }
            Err(reasons) => {
                loc.status = "Failed".into();
                loc.failure_reasons = reasons;
                loc.history.push(crate::api::BotLocaleHistoryEvent {
                    event: "Failed".into(),
                    event_date: now,
                });
            }
        }
        if loc.history.len() > 50 {
            let drop = loc.history.len() - 50;
            loc.history.drain(..drop);
        }
        ops.push(WriteOp::put(
            scope,
            key,
            &loc,
            Expect::Version(cur.version),
        )?);
        meta.apply(ops).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl JobHandler for BuildJob {
    const KIND: &'static str = "lex.build";
    type State = BuildState;

    fn steps(&self) -> &'static [&'static str] {
        &["build"]
    }

    async fn run_step(
        &self,
        ctx: &JobContext,
        _step: usize,
        st: &mut BuildState,
    ) -> Result<StepOutcome, JobError> {
        let started = Instant::now();
        let meta = &self.lex.inner.rt.meta;
        let Some(def) = locale_def(meta, &ctx.scope, &st.bot_id, DRAFT, &st.locale_id)
            .await
            .map_err(|e| JobError::retryable(e.to_string()))?
        else {
            return Ok(StepOutcome::Finish);
        };
        let compiled = match model::compile(&def) {
            Ok(c) => c,
            Err(reasons) => {
                tracing::info!(bot = %st.bot_id, locale = %st.locale_id, reasons = reasons.len(), "lex build failed validation");
                self.finish(&ctx.scope, st, Err(reasons)).await?;
                return Ok(StepOutcome::Finish);
            }
        };
        let texts = compiled.texts.clone();
        // A rebuild re-embeds only the texts the previous build of this locale did not have.
        let previous = meta
            .get::<store::Model>(
                &ctx.scope,
                &store::locale_key(&st.bot_id, DRAFT, &st.locale_id),
            )
            .await
            .map_err(|e| JobError::retryable(e.to_string()))?;
        let known = previous
            .as_ref()
            .map(|p| p.value.model.vectors_by_text())
            .unwrap_or_default();
        let mut missing: Vec<String> = texts
            .iter()
            .filter(|t| !known.contains_key(t.as_str()))
            .cloned()
            .collect();
        missing.sort();
        missing.dedup();
        let fresh = match self.lex.embed(missing.clone()).await {
            Ok(v) => v,
            Err(hearth_inference::text::TextError::Load(m)) => {
                self.finish(&ctx.scope, st, Err(vec![format!("Failed to build the bot locale: the intent classification model is not available ({m}).")])).await?;
                return Ok(StepOutcome::Finish);
            }
            Err(e) => return Err(JobError::retryable(e)),
        };
        let dim = fresh.first().map(Vec::len);
        let fresh: std::collections::HashMap<&str, &Vec<f32>> = missing
            .iter()
            .map(String::as_str)
            .zip(fresh.iter())
            .collect();
        let mut vectors: Vec<Vec<f32>> = texts
            .iter()
            .map(|t| match fresh.get(t.as_str()) {
                Some(v) => (*v).clone(),
                None => known
                    .get(t.as_str())
                    .map(|v| v.to_vec())
                    .unwrap_or_default(),
            })
            .collect();
        let mut reused = texts.len().saturating_sub(missing.len());
        // Stored vectors of another length (another model) are not reused.
        if dim.is_some_and(|d| vectors.iter().any(|v| v.len() != d)) {
            vectors = match self.lex.embed(texts.clone()).await {
                Ok(v) => v,
                Err(e) => return Err(JobError::retryable(e)),
            };
            reused = 0;
        }
        let scoring = self.lex.inner.opts.scoring;
        let mut built = compiled
            .finish_with(vectors, scoring)
            .map_err(JobError::fatal)?;
        let background = match self.lex.background_vectors().await {
            Ok(v) => v,
            Err(hearth_inference::text::TextError::Load(m)) => {
                self.finish(&ctx.scope, st, Err(vec![format!("Failed to build the bot locale: the intent classification model is not available ({m}).")])).await?;
                return Ok(StepOutcome::Finish);
            }
            Err(e) => return Err(JobError::retryable(e)),
        };
        crate::domain::background::attach(&mut built, &background, scoring);
        self.finish(&ctx.scope, st, Ok(built)).await?;
        tracing::info!(bot = %st.bot_id, locale = %st.locale_id, utterances = texts.len(), reused, ms = started.elapsed().as_millis() as u64, "lex locale built");
        Ok(StepOutcome::Done)
    }

    async fn on_failed(&self, ctx: &JobContext, st: &mut BuildState, error: &str) {
        let reason = vec![format!("Failed to build the bot locale: {error}")];
        if let Err(e) = self.finish(&ctx.scope, st, Err(reason)).await {
            tracing::warn!(error = %e, "could not mark the failed build");
        }
    }
}

/// State of an import job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportState {
    pub import_id: String,
}

/// StartImport of a test set as a durable job: read the CSV from S3, parse, store.
pub struct ImportJob {
    pub lex: Lex,
}

impl ImportJob {
    async fn set(
        &self,
        scope: &Scope,
        id: &str,
        f: impl FnOnce(&mut store::Import),
    ) -> Result<(), JobError> {
        let meta = &self.lex.inner.rt.meta;
        let Some(cur) = meta.get::<store::Import>(scope, id).await? else {
            return Ok(());
        };
        let mut i = cur.value;
        f(&mut i);
        i.updated = self.lex.now();
        meta.put(scope, id, &i, Expect::Version(cur.version))
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl JobHandler for ImportJob {
    const KIND: &'static str = "lex.import";
    type State = ImportState;

    fn steps(&self) -> &'static [&'static str] {
        &["import"]
    }

    async fn run_step(
        &self,
        ctx: &JobContext,
        _step: usize,
        st: &mut ImportState,
    ) -> Result<StepOutcome, JobError> {
        let meta = &self.lex.inner.rt.meta;
        let Some(imp) = meta.get::<store::Import>(&ctx.scope, &st.import_id).await? else {
            return Ok(StepOutcome::Finish);
        };
        if imp.value.status != "InProgress" {
            return Ok(StepOutcome::Finish);
        }
        let Some(spec) = imp
            .value
            .spec
            .test_set_import_resource_specification
            .clone()
        else {
            return Ok(StepOutcome::Finish);
        };
        let loc = &spec.import_input_location;
        let fail = |reasons: Vec<String>| {
            move |i: &mut store::Import| {
                i.status = "Failed".into();
                i.failure_reasons = reasons;
            }
        };
        let bytes = match self
            .lex
            .inner
            .s3
            .read_object(&ctx.scope.account, &loc.s3_bucket_name, &loc.s3_path)
            .await
        {
            Ok(b) => b,
            Err(e) => {
                self.set(
                    &ctx.scope,
                    &st.import_id,
                    fail(vec![format!(
                        "Could not read s3://{}/{}: {}",
                        loc.s3_bucket_name, loc.s3_path, e.message
                    )]),
                )
                .await?;
                return Ok(StepOutcome::Finish);
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            self.set(
                &ctx.scope,
                &st.import_id,
                fail(vec!["The test set file is not UTF-8 text (CSV).".into()]),
            )
            .await?;
            return Ok(StepOutcome::Finish);
        };
        let records = match crate::domain::testsets::parse_test_set(&text) {
            Ok(r) => r,
            Err(reasons) => {
                self.set(&ctx.scope, &st.import_id, fail(reasons)).await?;
                return Ok(StepOutcome::Finish);
            }
        };
        let now = self.lex.now();
        // The test set id is derived from the import id so a retried step does not make two.
        let id: String = st.import_id.chars().rev().collect();
        let set = store::TestSet {
            id: id.clone(),
            name: spec.test_set_name.clone(),
            description: spec.description.clone(),
            modality: spec.modality.clone(),
            status: "Ready".into(),
            role_arn: spec.role_arn.clone(),
            storage: spec.storage_location.clone(),
            records,
            created: now,
            updated: now,
            tags: spec.test_set_tags.clone().unwrap_or_default(),
        };
        meta.put(&ctx.scope, &id, &set, Expect::Any).await?;
        let turns = set.records.len();
        self.set(&ctx.scope, &st.import_id, |i| {
            i.status = "Completed".into();
            i.imported_resource_id = Some(id.clone());
            i.imported_resource_name = Some(spec.test_set_name.clone());
        })
        .await?;
        tracing::info!(import = %st.import_id, test_set = %id, turns, "lex test set imported");
        Ok(StepOutcome::Done)
    }

    async fn on_failed(&self, ctx: &JobContext, st: &mut ImportState, error: &str) {
        let reason = error.to_string();
        if let Err(e) = self
            .set(&ctx.scope, &st.import_id, |i| {
                i.status = "Failed".into();
                i.failure_reasons = vec![reason];
            })
            .await
        {
            tracing::warn!(error = %e, "could not mark the failed import");
        }
    }
}

/// State of a test execution job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestExecutionState {
    pub execution_id: String,
}

/// StartTestExecution as a durable job.
pub struct TestExecutionJob {
    pub lex: Lex,
}

impl TestExecutionJob {
    async fn set(
        &self,
        scope: &Scope,
        id: &str,
        f: impl FnOnce(&mut store::TestExecution),
    ) -> Result<(), JobError> {
        let meta = &self.lex.inner.rt.meta;
        let Some(cur) = meta.get::<store::TestExecution>(scope, id).await? else {
            return Ok(());
        };
        let mut e = cur.value;
        f(&mut e);
        e.updated = self.lex.now();
        meta.put(scope, id, &e, Expect::Version(cur.version))
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl JobHandler for TestExecutionJob {
    const KIND: &'static str = "lex.testexec";
    type State = TestExecutionState;

    fn steps(&self) -> &'static [&'static str] {
        &["execute"]
    }

    async fn run_step(
        &self,
        ctx: &JobContext,
        _step: usize,
        st: &mut TestExecutionState,
    ) -> Result<StepOutcome, JobError> {
        let meta = &self.lex.inner.rt.meta;
        let Some(exec) = meta
            .get::<store::TestExecution>(&ctx.scope, &st.execution_id)
            .await?
        else {
            return Ok(StepOutcome::Finish);
        };
        let exec = exec.value;
        let failed = |reason: String| {
            move |e: &mut store::TestExecution| {
                e.status = "Failed".into();
                e.failure_reasons = vec![reason];
            }
        };
        let Some(set) = meta
            .get::<store::TestSet>(&ctx.scope, &exec.test_set_id)
            .await?
        else {
            self.set(
                &ctx.scope,
                &st.execution_id,
                failed(format!(
                    "The test set {} no longer exists.",
                    exec.test_set_id
                )),
            )
            .await?;
            return Ok(StepOutcome::Finish);
        };
        let Some(alias) = exec.target.bot_alias_target.clone() else {
            return Ok(StepOutcome::Finish);
        };
        let target = match self
            .lex
            .target(
                &ctx.scope,
                &alias.bot_id,
                &alias.bot_alias_id,
                &alias.locale_id,
            )
            .await
        {
            Ok(t) => t,
            Err(e) => {
                self.set(&ctx.scope, &st.execution_id, failed(e.to_aws().message))
                    .await?;
                return Ok(StepOutcome::Finish);
            }
        };
        self.set(&ctx.scope, &st.execution_id, |e| {
            e.status = "InProgress".into()
        })
        .await?;
        let started = Instant::now();
        let (turns, conversations) =
            crate::workbench::run(&self.lex, &target, &set.value.records).await;
        let n = turns.len();
        self.set(&ctx.scope, &st.execution_id, |e| {
            e.status = "Completed".into();
            e.turns = turns;
            e.conversations = conversations;
        })
        .await?;
        tracing::info!(execution = %st.execution_id, turns = n, ms = started.elapsed().as_millis() as u64, "lex test execution completed");
        Ok(StepOutcome::Done)
    }

    async fn on_failed(&self, ctx: &JobContext, st: &mut TestExecutionState, error: &str) {
        let reason = error.to_string();
        if let Err(e) = self
            .set(&ctx.scope, &st.execution_id, |x| {
                x.status = "Failed".into();
                x.failure_reasons = vec![reason];
            })
            .await
        {
            tracing::warn!(error = %e, "could not mark the failed test execution");
        }
    }
}
