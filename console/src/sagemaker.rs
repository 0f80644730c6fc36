//! The console's SageMaker endpoints pages: every endpoint with its status and variants, and
//! one endpoint's deployment guardrails view — the live traffic split per fleet (blue/green),
//! the step timeline, the rollback alarms' states, error and latency charts side by side, the
//! deployment history, and Abort / Promote buttons.
//!
//! Data API (session required, the session's account, the asked region):
//! - `GET sagemaker/endpoints?region=` → endpoints (DescribeEndpoint's fields plus the running
//!   deployment's phase and green share);
//! - `GET sagemaker/endpoint?region=&name=` → one endpoint, its deployments (newest first),
//!   the traffic split, alarm states, and per-10 s series of `Invocations`,
//!   `Invocation4XXErrors`, `Invocation5XXErrors` (sums) and `ModelLatency` (average, µs) over
//!   the last 10 minutes, summed over the endpoint's variants;
//! - `POST sagemaker/deployment` `{region, endpoint, action: "abort"|"promote"}` → writes the
//!   operator request the deployment job polls (the same record `hearth deployments abort`
//!   writes), answered with the deployment it went to.
//!
//! Records are read from the metadata store with SageMaker's own types
//! ([`hearth_sagemaker::store`], [`hearth_sagemaker::deployments`]); metrics and alarm states
//! through CloudWatch's in-process API.

use crate::api::{rfc3339, scope};
use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::response::Response;
use bytes::Bytes;
use hearth_runtime::metrics::MetricId;
use hearth_runtime::{ListQuery, Scope};
use hearth_sagemaker::store::{DeploymentRecord, EndpointRecord};
use http::{header, HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::auth::Signed;
use crate::http_util::{json, ApiError};
use crate::Console;

/// Chart resolution and range.
const PERIOD: i64 = 10;
const RANGE_SECS: i64 = 10 * 60;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariantView {
    name: String,
    model: String,
    weight: f32,
    instance_type: Option<String>,
    instances: Option<i32>,
    serverless: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EndpointView {
    name: String,
    status: String,
    config: String,
    failure_reason: Option<String>,
    variants: Vec<VariantView>,
    created: String,
    modified: String,
    /// The running deployment: phase and green share.
    deployment_phase: Option<String>,
    green_share: Option<f64>,
}

fn variants(v: &[hearth_sagemaker::store::VariantState]) -> Vec<VariantView> {
    v.iter()
        .map(|v| VariantView {
            name: v.name.clone(),
            model: v.model_name.clone(),
            weight: v.current_weight,
            instance_type: v.instance_type.clone(),
            instances: v.current_instance_count,
            serverless: v.current_serverless.is_some(),
        })
        .collect()
}

async fn endpoint_view(console: &Console, scope: &Scope, e: &EndpointRecord) -> EndpointView {
    let dep = match &e.deployment {
        Some(k) => console
            .inner
            .meta
            .get::<DeploymentRecord>(scope, k)
            .await
            .ok()
            .flatten()
            .map(|r| r.value),
        None => None,
    };
    EndpointView {
        name: e.name.clone(),
        status: e.status.as_str().to_string(),
        config: e.config_name.clone(),
        failure_reason: e.failure_reason.clone(),
        variants: variants(&e.variants),
        created: rfc3339(e.created.0),
        modified: rfc3339(e.last_modified.0),
        deployment_phase: dep.as_ref().map(|d| d.phase.as_str().to_string()),
        green_share: dep.as_ref().map(|d| d.green_share),
    }
}

#[derive(Deserialize)]
pub(crate) struct ListQueryParams {
    region: Option<String>,
}

/// `GET /console/api/sagemaker/endpoints`.
pub(crate) async fn endpoints(
    State(console): State<Console>,
    Signed(s): Signed,
    Query(q): Query<ListQueryParams>,
) -> Result<Response, ApiError> {
    let scope = scope(&console, &s, q.region.as_deref())?;
    let all = console
        .inner
        .meta
        .list::<EndpointRecord>(&scope, &ListQuery::default())
        .await
        .map_err(ApiError::internal)?;
    let mut out = Vec::new();
    for (_, r) in all {
        out.push(endpoint_view(&console, &scope, &r.value).await);
    }
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "endpoints": out }),
    ))
}

#[derive(Deserialize)]
pub(crate) struct EndpointQuery {
    region: Option<String>,
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fleet {
    /// `blue` (the old configuration) or `green` (the new one).
    fleet: &'static str,
    config: String,
    share: f64,
    variants: Vec<VariantView>,
}

#[derive(Serialize)]
struct Series {
    /// Period starts (Unix seconds).
    t: Vec<i64>,
    invocations: Vec<Option<f64>>,
    errors4xx: Vec<Option<f64>>,
    errors5xx: Vec<Option<f64>>,
    latency: Vec<Option<f64>>,
}

/// `GET /console/api/sagemaker/endpoint`.
pub(crate) async fn endpoint(
    State(console): State<Console>,
    Signed(s): Signed,
    Query(q): Query<EndpointQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&console, &s, q.region.as_deref())?;
    let name = q
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::missing("name"))?;
    let rec = console
        .inner
        .meta
        .get::<EndpointRecord>(&scope, &name.to_ascii_lowercase())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "ValidationException",
                format!("Could not find endpoint \"{name}\"."),
            )
        })?
        .value;
    let view = endpoint_view(&console, &scope, &rec).await;
    let mut history =
        hearth_sagemaker::deployments::history(&console.inner.meta, &scope, &rec.name)
            .await
            .map_err(ApiError::internal)?;
    history.reverse();
    let running = history
        .first()
        .filter(|d| !d.phase.is_final() && rec.deployment.as_deref() == Some(d.key().as_str()))
        .cloned();

    // The traffic split: one fleet normally, two while a deployment runs.
    let fleets = match &running {
        Some(d) if d.phase == hearth_sagemaker::store::DeploymentPhase::Terminating => vec![
            Fleet {
                fleet: "green",
                config: d.to_config.clone(),
                share: 1.0,
                variants: variants(&d.green_variants),
            },
            Fleet {
                fleet: "blue",
                config: d.from_config.clone(),
                share: 0.0,
                variants: variants(&d.blue_variants),
            },
        ],
        Some(d) => vec![
            Fleet {
                fleet: "blue",
                config: d.from_config.clone(),
                share: 1.0 - d.green_share,
                variants: variants(&d.blue_variants),
            },
            Fleet {
                fleet: "green",
                config: d.to_config.clone(),
                share: d.green_share,
                variants: variants(&d.green_variants),
            },
        ],
        None => vec![Fleet {
            fleet: "blue",
            config: rec.config_name.clone(),
            share: 1.0,
            variants: variants(&rec.variants),
        }],
    };

    // Alarm states of the latest deployment's rollback alarms, read now.
    let mut alarms = Vec::new();
    if let Some(d) = history.first() {
        for a in &d.policy.alarms {
            let state = console
                .inner
                .cloudwatch
                .alarm_state(&scope.account, &scope.region, a)
                .await;
            alarms.push(
                serde_json::json!({ "name": a, "state": state.map(|s| s.as_str().to_string()) }),
            );
        }
    }

    // Metrics over every variant name the endpoint has had in its latest deployment.
    let mut names: BTreeSet<String> = rec.variants.iter().map(|v| v.name.clone()).collect();
    if let Some(d) = history.first() {
        names.extend(d.green_variants.iter().map(|v| v.name.clone()));
        names.extend(d.blue_variants.iter().map(|v| v.name.clone()));
    }
    // Period-aligned range ending after the current period.
    let now = console.inner.clock.now().unix_timestamp();
    let end_s = now - now.rem_euclid(PERIOD) + PERIOD;
    let end = OffsetDateTime::from_unix_timestamp(end_s).map_err(ApiError::internal)?;
    let start = end - time::Duration::seconds(RANGE_SECS);
    let mut sums: BTreeMap<&str, BTreeMap<i64, f64>> = BTreeMap::new();
    let mut lat: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for v in &names {
        let dims = vec![
            ("EndpointName".to_string(), rec.name.clone()),
            ("VariantName".to_string(), v.clone()),
        ];
        for m in ["Invocations", "Invocation4XXErrors", "Invocation5XXErrors"] {
            let id = MetricId::new("AWS/SageMaker", m, dims.clone());
            let pts = console
                .inner
                .cloudwatch
                .metric_statistics(
                    &scope.account,
                    &scope.region,
                    &id,
                    "Sum",
                    PERIOD,
                    start,
                    end,
                )
                .await
                .unwrap_or_default();
            let e = sums.entry(m).or_default();
            for (t, x) in pts {
                *e.entry(t.unix_timestamp()).or_default() += x;
            }
        }
        let id = MetricId::new("AWS/SageMaker", "ModelLatency", dims.clone());
        let avg = console
            .inner
            .cloudwatch
            .metric_statistics(
                &scope.account,
                &scope.region,
                &id,
                "Average",
                PERIOD,
                start,
                end,
            )
            .await
            .unwrap_or_default();
        let n = console
            .inner
            .cloudwatch
            .metric_statistics(
                &scope.account,
                &scope.region,
                &id,
                "SampleCount",
                PERIOD,
                start,
                end,
            )
            .await
            .unwrap_or_default();
        let counts: BTreeMap<i64, f64> = n
            .into_iter()
            .map(|(t, c)| (t.unix_timestamp(), c))
            .collect();
        for (t, a) in avg {
            let c = counts.get(&t.unix_timestamp()).copied().unwrap_or(1.0);
            let e = lat.entry(t.unix_timestamp()).or_default();
            e.0 += a * c;
            e.1 += c;
        }
    }
    let mut series = Series {
        t: Vec::new(),
        invocations: Vec::new(),
        errors4xx: Vec::new(),
        errors5xx: Vec::new(),
        latency: Vec::new(),
    };
    let mut t = start.unix_timestamp();
    while t < end.unix_timestamp() {
        let get = |m: &str| sums.get(m).and_then(|s| s.get(&t)).copied();
        series.t.push(t);
        series.invocations.push(get("Invocations"));
        series.errors4xx.push(get("Invocation4XXErrors"));
        series.errors5xx.push(get("Invocation5XXErrors"));
        series
            .latency
            .push(lat.get(&t).filter(|(_, c)| *c > 0.0).map(|(s, c)| s / c));
        t += PERIOD;
    }

    let deployments: Vec<serde_json::Value> = history
        .iter()
        .map(|d| {
            serde_json::json!({
                "number": d.number,
                "phase": d.phase.as_str(),
                "running": !d.phase.is_final(),
                "requestedBy": d.requested_by,
                "from": d.from_config,
                "to": d.to_config,
                "routing": format!("{:?}", d.policy.routing),
                "waitSeconds": d.policy.wait_seconds,
                "terminationWaitSeconds": d.policy.termination_wait_seconds,
                "alarms": d.policy.alarms,
                "steps": d.steps.iter().map(|s| serde_json::json!({"instances": s.green_instances, "share": s.green_share})).collect::<Vec<_>>(),
                "step": d.step,
                "greenShare": d.green_share,
                "started": rfc3339(d.started.0),
                "ended": d.ended.map(|e| rfc3339(e.0)),
                "reason": d.reason,
                "events": d.events.iter().map(|e| serde_json::json!({"time": rfc3339(e.time.0), "message": e.message, "greenShare": e.green_share})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "endpoint": view,
            "fleets": fleets,
            "alarms": alarms,
            "series": series,
            "deployments": deployments,
        }),
    ))
}

#[derive(Deserialize)]
struct ControlBody {
    region: Option<String>,
    endpoint: String,
    action: String,
}

/// `POST /console/api/sagemaker/deployment`.
pub(crate) async fn control(
    State(console): State<Console>,
    Signed(s): Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::invalid("Send the request as application/json."));
    }
    if body.len() > 4096 {
        return Err(ApiError::invalid("The request body is too large."));
    }
    let b: ControlBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid(format!("Invalid request body: {e}")))?;
    if b.action != "abort" && b.action != "promote" {
        return Err(ApiError::invalid(format!(
            "The value {} for parameter action is invalid (abort or promote).",
            b.action
        )));
    }
    let scope = scope(&console, &s, b.region.as_deref())?;
    let who = format!("console:{}", s.access_key_id);
    match hearth_sagemaker::deployments::request(
        &console.inner.meta,
        &scope,
        &b.endpoint,
        &b.action,
        &who,
        console.inner.clock.now(),
    )
    .await
    {
        Ok(d) => Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "endpoint": d.endpoint, "deployment": d.number, "action": b.action }),
        )),
        Err(hearth_sagemaker::deployments::ControlError::Store(e)) => Err(ApiError::internal(e)),
        Err(e) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "ValidationException",
            e.to_string(),
        )),
    }
}

/// `GET /console/endpoints`.
pub(crate) async fn page(State(console): State<Console>, headers: HeaderMap) -> Response {
    crate::assets::page(
        &console,
        &headers,
        crate::assets::ENDPOINTS_HTML,
        "/console/endpoints",
    )
    .await
}
