//! The console's Lex V2 page: missed utterances — what users said that went to
//! `AMAZON.FallbackIntent` — ranked by count for a bot locale, with a button that adds one as a
//! sample utterance of an intent chosen from the locale's intents, and the locale's build state
//! (an added utterance leaves the locale `NotBuilt` until it is built again; the page offers
//! the build and follows it to `Built`).
//!
//! Every read and write goes through the Lex V2 models API handler itself (the same
//! [`Handler`] the gateway hands boto3's requests to, after its SigV4 and protocol checks), so
//! the page shows what ListAggregatedUtterances returns and an added utterance is an
//! UpdateIntent like any other:
//!
//! - `GET lex/bots?region=` → bots with their draft locales (ListBots, ListBotLocales);
//! - `GET lex/missed?region=&botId=&localeId=` → the locale's status, its intents, and its
//!   missed utterances over the last two weeks for every alias (ListAggregatedUtterances,
//!   merged over ListBotAliases), most missed first;
//! - `POST lex/sample` `{region, botId, localeId, intentId, utterance}` → DescribeIntent, then
//!   UpdateIntent with the utterance appended (no change when it is already a sample);
//! - `POST lex/build` `{region, botId, localeId}` → BuildBotLocale.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hearth_protocol::dispatch::Handler;
use hearth_protocol::schema::ShapeKind;
use hearth_protocol::{AwsError, RequestContext};
use http::{header, HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::auth::Signed;
use crate::http_util::{json as reply, ApiError};
use crate::session::SessionInfo;
use crate::Console;

/// Largest JSON body the page's POSTs take.
const MAX_BODY: usize = 16 * 1024;
/// Pages of a list call the console follows at most.
const MAX_PAGES: usize = 50;

/// An error of this page: AWS's code and message from the Lex handler, or the console's own.
pub(crate) enum LexPageError {
    Aws(AwsError),
    Console(ApiError),
}

impl From<ApiError> for LexPageError {
    fn from(e: ApiError) -> Self {
        LexPageError::Console(e)
    }
}

impl IntoResponse for LexPageError {
    fn into_response(self) -> Response {
        match self {
            LexPageError::Console(e) => e.into_response(),
            LexPageError::Aws(e) if e.status.is_server_error() => {
                ApiError::internal(format!("{}: {}", e.code, e.message)).into_response()
            }
            LexPageError::Aws(e) => reply(
                e.status,
                &json!({"error": {"code": e.code, "message": e.message}}),
            ),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, LexPageError>;

/// The Lex V2 models API as the signed-in user's account sees it in one region.
struct Models<'a> {
    handler: &'a Arc<dyn Handler>,
    ctx: RequestContext,
}

impl<'a> Models<'a> {
    fn new(console: &'a Console, s: &SessionInfo, region: Option<&str>) -> Result<Self> {
        let Some(handler) = console.inner.lex.as_ref() else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                "Lex V2 is not served by this server.",
            )
            .into());
        };
        let region = region
            .filter(|r| !r.is_empty())
            .unwrap_or(&console.inner.default_region);
        let valid = region.len() <= 32
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(ApiError::invalid(format!(
                "The value {region} for parameter region is invalid."
            ))
            .into());
        }
        Ok(Models {
            handler,
            ctx: RequestContext {
                request_id: format!("console-{}", hex::encode(rand::random::<[u8; 8]>())),
                account: s.account.clone(),
                region: region.to_string(),
                access_key: s.access_key_id.clone(),
            },
        })
    }

    /// One operation of the models API with its canonical input (member names as in the
    /// botocore model).
    async fn call(&self, op: &str, input: Value) -> Result<Value> {
        let spec = self.handler.model().operation(op).ok_or_else(|| {
            LexPageError::Console(ApiError::internal(format!("no operation {op}")))
        })?;
        self.handler
            .call(&self.ctx, spec, input)
            .await
            .map_err(LexPageError::Aws)
    }

    /// Every item of a paginated list operation (`field` holds the items).
    async fn list_all(&self, op: &str, mut input: Value, field: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.call(op, input.clone()).await?;
            if let Some(items) = page.get(field).and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
            match page.get("nextToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => input["nextToken"] = json!(t),
                _ => break,
            }
        }
        Ok(out)
    }

    /// The names of the members of `op`'s input.
    fn input_members(&self, op: &str) -> Vec<&'static str> {
        let model = self.handler.model();
        let Some(id) = model.operation(op).and_then(|o| o.input) else {
            return Vec::new();
        };
        match &model.shape(id).kind {
            ShapeKind::Structure { members, .. } => members.iter().map(|m| m.name).collect(),
            _ => Vec::new(),
        }
    }
}

fn str_of<'v>(v: &'v Value, field: &str) -> &'v str {
    v.get(field).and_then(Value::as_str).unwrap_or_default()
}

#[derive(Deserialize)]
pub(crate) struct RegionQuery {
    region: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BotView {
    bot_id: String,
    bot_name: String,
    locales: Vec<LocaleView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocaleView {
    locale_id: String,
    locale_name: String,
    status: String,
}

/// `GET /console/api/lex/bots`.
pub(crate) async fn bots(
    State(console): State<Console>,
    Signed(s): Signed,
    Query(q): Query<RegionQuery>,
) -> Result<Response> {
    let m = Models::new(&console, &s, q.region.as_deref())?;
    let mut out = Vec::new();
    for b in m.list_all("ListBots", json!({}), "botSummaries").await? {
        let bot_id = str_of(&b, "botId").to_string();
        let locales = m
            .list_all(
                "ListBotLocales",
                json!({"botId": bot_id, "botVersion": "DRAFT"}),
                "botLocaleSummaries",
            )
            .await?
            .iter()
            .map(|l| LocaleView {
                locale_id: str_of(l, "localeId").into(),
                locale_name: str_of(l, "localeName").into(),
                status: str_of(l, "botLocaleStatus").into(),
            })
            .collect();
        out.push(BotView {
            bot_name: str_of(&b, "botName").into(),
            bot_id,
            locales,
        });
    }
    out.sort_by(|a, b| a.bot_name.cmp(&b.bot_name));
    Ok(reply(StatusCode::OK, &json!({ "bots": out })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocaleQuery {
    region: Option<String>,
    bot_id: Option<String>,
    locale_id: Option<String>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct MissedView {
    utterance: String,
    missed_count: i64,
    hit_count: i64,
    /// Unix seconds.
    last_recorded: f64,
    aliases: Vec<String>,
}

fn required<'q>(v: &'q Option<String>, name: &str) -> std::result::Result<&'q str, ApiError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing(name))
}

/// The locale's status as the page shows it.
async fn locale_state(m: &Models<'_>, bot: &str, locale: &str) -> Result<Value> {
    let d = m
        .call(
            "DescribeBotLocale",
            json!({"botId": bot, "botVersion": "DRAFT", "localeId": locale}),
        )
        .await?;
    Ok(json!({
        "status": d.get("botLocaleStatus"),
        "lastBuildSubmitted": d.get("lastBuildSubmittedDateTime"),
        "lastUpdated": d.get("lastUpdatedDateTime"),
        "failureReasons": d.get("failureReasons"),
    }))
}

/// `GET /console/api/lex/missed`.
pub(crate) async fn missed(
    State(console): State<Console>,
    Signed(s): Signed,
    Query(q): Query<LocaleQuery>,
) -> Result<Response> {
    let bot = required(&q.bot_id, "botId")?;
    let locale = required(&q.locale_id, "localeId")?;
    let m = Models::new(&console, &s, q.region.as_deref())?;
    let state = locale_state(&m, bot, locale).await?;
    let mut intents: Vec<Value> = m
        .list_all(
            "ListIntents",
            json!({"botId": bot, "botVersion": "DRAFT", "localeId": locale}),
            "intentSummaries",
        )
        .await?
        .into_iter()
        .filter(|i| str_of(i, "parentIntentSignature") != "AMAZON.FallbackIntent")
        .map(
            |i| json!({"intentId": str_of(&i, "intentId"), "intentName": str_of(&i, "intentName")}),
        )
        .collect();
    intents.sort_by(|a, b| str_of(a, "intentName").cmp(str_of(b, "intentName")));
    let aliases = m
        .list_all("ListBotAliases", json!({"botId": bot}), "botAliasSummaries")
        .await?;
    let mut merged: BTreeMap<String, MissedView> = BTreeMap::new();
    for a in &aliases {
        let alias = str_of(a, "botAliasId");
        let items = m
            .list_all(
                "ListAggregatedUtterances",
                json!({
                    "botId": bot,
                    "botAliasId": alias,
                    "localeId": locale,
                    "aggregationDuration": {"relativeAggregationDuration": {"timeDimension": "Weeks", "timeValue": 2}},
                    "sortBy": {"attribute": "MissedCount", "order": "Descending"},
                    "maxResults": 1000,
                }),
                "aggregatedUtterancesSummaries",
            )
            .await?;
        for u in items {
            let text = str_of(&u, "utterance").to_string();
            let e = merged.entry(text.clone()).or_insert_with(|| MissedView {
                utterance: text,
                ..Default::default()
            });
            e.missed_count += u.get("missedCount").and_then(Value::as_i64).unwrap_or(0);
            e.hit_count += u.get("hitCount").and_then(Value::as_i64).unwrap_or(0);
            let last = u
                .get("utteranceLastRecordedInAggregationDuration")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            e.last_recorded = e.last_recorded.max(last);
            e.aliases.push(alias.to_string());
        }
    }
    let mut missed: Vec<MissedView> = merged
        .into_values()
        .filter(|u| u.missed_count > 0)
        .collect();
    missed.sort_by(|a, b| {
        b.missed_count
            .cmp(&a.missed_count)
            .then(b.last_recorded.total_cmp(&a.last_recorded))
            .then(a.utterance.cmp(&b.utterance))
    });
    Ok(reply(
        StatusCode::OK,
        &json!({"locale": state, "intents": intents, "missed": missed}),
    ))
}

/// The JSON body of a POST (Content-Type `application/json`, at most [`MAX_BODY`]).
fn body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "This request takes a JSON body.",
        )
        .into());
    }
    if body.len() > MAX_BODY {
        return Err(ApiError::invalid("The request is too large.").into());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("The request body is not valid: {e}")).into())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddSample {
    region: Option<String>,
    bot_id: Option<String>,
    locale_id: Option<String>,
    intent_id: Option<String>,
    utterance: Option<String>,
}

/// `POST /console/api/lex/sample`: add a missed utterance to an intent's samples.
pub(crate) async fn add_sample(
    State(console): State<Console>,
    Signed(s): Signed,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response> {
    let req: AddSample = body(&headers, &raw)?;
    let bot = required(&req.bot_id, "botId")?;
    let locale = required(&req.locale_id, "localeId")?;
    let intent = required(&req.intent_id, "intentId")?;
    let utterance = required(&req.utterance, "utterance")?.trim().to_string();
    let m = Models::new(&console, &s, req.region.as_deref())?;
    let described = m
        .call(
            "DescribeIntent",
            json!({"botId": bot, "botVersion": "DRAFT", "localeId": locale, "intentId": intent}),
        )
        .await?;
    // UpdateIntent replaces the whole definition: send back every settable member as
    // described, with the new sample utterance appended.
    let mut update = Map::new();
    for name in m.input_members("UpdateIntent") {
        if let Some(v) = described.get(name).filter(|v| !v.is_null()) {
            update.insert(name.to_string(), v.clone());
        }
    }
    update.insert("botId".into(), json!(bot));
    update.insert("botVersion".into(), json!("DRAFT"));
    update.insert("localeId".into(), json!(locale));
    update.insert("intentId".into(), json!(intent));
    let mut samples: Vec<Value> = update
        .get("sampleUtterances")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let already = samples.iter().any(|u| {
        str_of(u, "utterance")
            .trim()
            .eq_ignore_ascii_case(&utterance)
    });
    if !already {
        samples.push(json!({ "utterance": utterance }));
        update.insert("sampleUtterances".into(), Value::Array(samples));
        m.call("UpdateIntent", Value::Object(update)).await?;
        tracing::info!(bot = %bot, locale = %locale, intent = %intent, "console added a sample utterance");
    }
    let state = locale_state(&m, bot, locale).await?;
    Ok(reply(
        StatusCode::OK,
        &json!({
            "added": !already,
            "intentName": described.get("intentName"),
            "locale": state,
        }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Build {
    region: Option<String>,
    bot_id: Option<String>,
    locale_id: Option<String>,
}

/// `POST /console/api/lex/build`: BuildBotLocale of the draft locale.
pub(crate) async fn build(
    State(console): State<Console>,
    Signed(s): Signed,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response> {
    let req: Build = body(&headers, &raw)?;
    let bot = required(&req.bot_id, "botId")?;
    let locale = required(&req.locale_id, "localeId")?;
    let m = Models::new(&console, &s, req.region.as_deref())?;
    let out = m
        .call(
            "BuildBotLocale",
            json!({"botId": bot, "botVersion": "DRAFT", "localeId": locale}),
        )
        .await?;
    Ok(reply(
        StatusCode::OK,
        &json!({"status": out.get("botLocaleStatus")}),
    ))
}

/// `GET /console/lex`.
pub(crate) async fn page(State(console): State<Console>, headers: HeaderMap) -> Response {
    crate::assets::page(&console, &headers, crate::assets::LEX_HTML, "/console/lex").await
}
