//! Amazon Lex V2 model building (`lexv2-models`, restJson1, signing name `lex`) and the Lex
//! core that the runtime crate (`hearth-lex-runtime`) shares: bots and their definitions in
//! the metadata store, the built NLU models, the text engine, sessions and utterance records.
//!
//! Implemented operations (see `docs/coverage/lexv2-models.md`):
//! - bots: CreateBot, DescribeBot, UpdateBot, DeleteBot, ListBots (with the test alias
//!   `TSTALIASID` made by CreateBot);
//! - locales: CreateBotLocale (with its `FallbackIntent`), DescribeBotLocale, UpdateBotLocale,
//!   DeleteBotLocale, ListBotLocales, BuildBotLocale (a durable job: Building → Built or Failed
//!   with Lex's failure reasons; it embeds the sample utterances with the MiniLM model);
//! - intents, slots, slot types: Create/Describe/Update/Delete/List of each;
//!   ListBuiltInSlotTypes, ListBuiltInIntents;
//! - versions and aliases: CreateBotVersion, DescribeBotVersion, DeleteBotVersion,
//!   ListBotVersions, CreateBotAlias, DescribeBotAlias, UpdateBotAlias, DeleteBotAlias,
//!   ListBotAliases; TagResource, UntagResource, ListTagsForResource;
//! - test sets (Test Workbench): StartImport of a test-set CSV from S3, DescribeImport,
//!   ListImports, DeleteImport, ListTestSets, DescribeTestSet, UpdateTestSet, DeleteTestSet,
//!   ListTestSetRecords, StartTestExecution (a durable job), DescribeTestExecution,
//!   ListTestExecutions, ListTestExecutionResultItems;
//! - analytics of runtime utterances: ListAggregatedUtterances, DeleteUtterances,
//!   ListUtteranceMetrics, ListIntentMetrics, ListUtteranceAnalyticsData.
//!
//! Settings come from the `[lex]` config section ([`LexOptions::from_config`]); idle sessions
//! and old utterance records are purged on the runtime clock ([`purge`]).

pub mod api;
pub mod conversation;
pub mod domain;
pub mod error;
mod handlers;
pub mod jobs;
pub mod purge;
pub mod store;
mod workbench;

use api::Operation;
use domain::model::BotModel;
use domain::nlu::Scoring;
use error::LexError;
use hearth_inference::text::{TextEngine, TextEngineOptions, TextError};
use hearth_protocol::dispatch::{self, Handler};
use hearth_protocol::schema::{OperationSpec, Service};
use hearth_protocol::types::Timestamp;
use hearth_protocol::{AwsError, RequestContext};
use hearth_runtime::{Runtime, Scope};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tuning of Lex's NLU.
#[derive(Debug, Clone)]
pub struct LexOptions {
    /// The sentence-embedding engine's threads and batching.
    pub text: TextEngineOptions,
    /// With intent disambiguation on, the best two intents closer than this are both offered.
    pub disambiguation_margin: f32,
    /// How intent scores blend centroid and nearest-sample similarity, and their calibration.
    pub scoring: Scoring,
    /// How long runtime utterance records are kept for analytics.
    pub utterance_retention: Duration,
    /// How often idle sessions and old utterance records are purged.
    pub purge_interval: Duration,
}

impl Default for LexOptions {
    fn default() -> Self {
        LexOptions::from_config(&hearth_config::LexConfig::default())
    }
}

impl LexOptions {
    /// The options the `[lex]` config section sets (`HEARTH_LEX__*`); the text engine's
    /// threads come from `HEARTH_TEXT_THREADS` (the inference crate's setting).
    pub fn from_config(c: &hearth_config::LexConfig) -> Self {
        LexOptions {
            text: TextEngineOptions::from_env(),
            disambiguation_margin: c.disambiguation_margin as f32,
            scoring: Scoring {
                typical_score: c.typical_score as f32,
                ..Scoring::default()
            },
            utterance_retention: Duration::from_secs(
                u64::from(c.utterance_retention_days) * 86_400,
            ),
            purge_interval: Duration::from_secs(c.purge_interval_seconds),
        }
    }
}

pub(crate) struct Inner {
    pub rt: Runtime,
    pub s3: hearth_s3::S3,
    pub opts: LexOptions,
    /// Built models by `<account>/<region>/<bot>/<version>/<locale>`, with their build time.
    models: Mutex<HashMap<String, (Timestamp, Arc<BotModel>)>>,
    /// Bots with runtime traffic since start, for the purger.
    seen: Mutex<Vec<(Scope, String)>>,
    /// The out-of-domain background lines' embeddings, computed by the first build.
    background: tokio::sync::OnceCell<Arc<Vec<Vec<f32>>>>,
}

/// The Lex core: storage, models, text engine. Cheap to clone; shared by the models API
/// ([`LexModels`]) and the runtime API (`hearth-lex-runtime`).
#[derive(Clone)]
pub struct Lex {
    pub(crate) inner: Arc<Inner>,
}

impl Lex {
    /// The Lex core on the server's runtime with default options; registers the build,
    /// test-execution and import jobs and starts the purger. The text model loads on first use
    /// (a missing model fails builds with a message that says how to fetch it, and does not
    /// stop the server).
    pub fn new(rt: &Runtime, s3: &hearth_s3::S3) -> Lex {
        Lex::with_options(rt, s3, LexOptions::default())
    }

    /// [`Lex::new`] with explicit options (the server passes [`LexOptions::from_config`]).
    pub fn with_options(rt: &Runtime, s3: &hearth_s3::S3, opts: LexOptions) -> Lex {
        let lex = Lex {
            inner: Arc::new(Inner {
                rt: rt.clone(),
                s3: s3.clone(),
                opts,
                models: Mutex::new(HashMap::new()),
                seen: Mutex::new(Vec::new()),
                background: tokio::sync::OnceCell::new(),
            }),
        };
        lex.start_purger();
        rt.jobs.register(jobs::BuildJob { lex: lex.clone() });
        rt.jobs.register(jobs::ImportJob { lex: lex.clone() });
        rt.jobs
            .register(jobs::TestExecutionJob { lex: lex.clone() });
        lex
    }

    /// The server runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.rt
    }

    /// The NLU options.
    pub fn options(&self) -> &LexOptions {
        &self.inner.opts
    }

    /// The current time on the runtime's clock.
    pub fn now(&self) -> Timestamp {
        Timestamp(self.inner.rt.clock.now())
    }

    /// The shared sentence-embedding engine.
    pub fn engine(&self) -> Result<TextEngine, TextError> {
        TextEngine::shared(&self.inner.rt.models_dir, self.inner.opts.text.clone())
    }

    /// Embeddings of `texts` (on the engine thread).
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, TextError> {
        self.engine()?.embed(texts).await
    }

    /// Embeddings of the out-of-domain background lines ([`domain::background::SENTENCES`]):
    /// computed by the first build after start (512 short lines, under a second), then shared by
    /// every build.
    pub async fn background_vectors(&self) -> Result<Arc<Vec<Vec<f32>>>, TextError> {
        self.inner
            .background
            .get_or_try_init(|| async {
                let texts = domain::background::SENTENCES
                    .iter()
                    .map(|s| (*s).to_string())
                    .collect();
                Ok(Arc::new(self.embed(texts).await?))
            })
            .await
            .cloned()
    }

    /// The built model of a locale, if it has been built (cached by build time).
    pub async fn model(
        &self,
        scope: &Scope,
        bot: &str,
        version: &str,
        locale: &str,
    ) -> error::Result<Option<Arc<BotModel>>> {
        let key = store::locale_key(bot, version, locale);
        let Some(loc) = self.inner.rt.meta.get::<store::Locale>(scope, &key).await? else {
            return Ok(None);
        };
        self.built_model(scope, &key, &loc.value).await
    }

    /// The built model of a locale record already read (`key` is its locale key): from the
    /// cache when the build time matches, else from the store.
    pub(crate) async fn built_model(
        &self,
        scope: &Scope,
        key: &str,
        loc: &store::Locale,
    ) -> error::Result<Option<Arc<BotModel>>> {
        let Some(built) = loc.model_built else {
            return Ok(None);
        };
        let cache_key = format!("{}/{}/{key}", scope.account, scope.region);
        if let Some((t, m)) = self
            .inner
            .models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&cache_key)
        {
            if *t == built {
                return Ok(Some(m.clone()));
            }
        }
        let Some(rec) = self.inner.rt.meta.get::<store::Model>(scope, key).await? else {
            return Ok(None);
        };
        let model = Arc::new(rec.value.model);
        self.inner
            .models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(cache_key, (rec.value.built, model.clone()));
        Ok(Some(model))
    }
}

/// The `lexv2-models` API.
#[derive(Clone)]
pub struct LexModels {
    lex: Lex,
}

impl LexModels {
    /// The models API over a Lex core.
    pub fn new(lex: Lex) -> Self {
        LexModels { lex }
    }
}

#[async_trait::async_trait]
impl Handler for LexModels {
    fn model(&self) -> &'static Service {
        &api::SERVICE
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        op: &'static OperationSpec,
        input: Value,
    ) -> Result<Value, AwsError> {
        let Some(operation) = Operation::from_name(op.name) else {
            return Err(AwsError::new(
                "UnknownOperationException",
                format!("Unknown operation {}", op.name),
                400,
            ));
        };
        handlers::call(&self.lex, ctx, operation, input)
            .await
            .map_err(|e| e.to_aws())
    }
}

/// Read a generated input type (protocol rejection on failure).
pub(crate) fn input<T: serde::de::DeserializeOwned>(v: Value) -> error::Result<T> {
    dispatch::input(&api::SERVICE, v).map_err(LexError::Aws)
}

/// The canonical value of a generated output type.
pub(crate) fn output<T: serde::Serialize>(out: &T) -> error::Result<Value> {
    dispatch::output(out).map_err(LexError::Aws)
}
