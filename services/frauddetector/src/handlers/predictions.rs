//! Predictions: GetEventPrediction, GetEventPredictionMetadata, ListEventPredictions.
//!
//! A prediction checks the event against the detector's event type, scores it with every
//! model version of the detector version (features, entity aggregates for Transaction Fraud
//! Insights, XGBoost on the tabular engine threads, calibrated 0–1000 scores), evaluates the
//! rules in order — `FIRST_MATCHED` stops at the first match, `ALL_MATCHED` keeps every match —
//! and answers the scores and the matched rules' outcomes. The prediction is recorded (for
//! GetEventPredictionMetadata and ListEventPredictions) and, when the event type ingests
//! events, the event is stored for training and aggregates.

use super::events::{check_event, NewEvent};
use super::{get, list_all, max_results, page, Cx};
use crate::api;
use crate::domain::external;
use crate::domain::features::Row;
use crate::domain::history::EventView;
use crate::domain::rules::{self, Value};
use crate::domain::scores::relative_impact;
use crate::domain::values::{iso_millis, parse_timestamp, to_millis, typed_value, DataType};
use crate::endpoints::{EndpointError, EndpointRequest};
use crate::error::{FdError, FdResult};
use crate::serving::Compiled;
use crate::store::{event_key, model_version_key, prediction_key, EvaluatedExternalRec, EvaluatedModelRec, EvaluatedRuleRec, ModelVersionRec, PredictionRec, VariableRec};
use crate::Inner;
use hearth_runtime::{Expect, MetricDatum, Unit, WriteOp};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// The values rules read: event variables (typed, defaults for missing ones) and model scores.
struct RuleScope<'a> {
    values: HashMap<&'a str, Value<'a>>,
    lists: &'a HashMap<String, std::collections::HashSet<String>>,
}

impl rules::Scope for RuleScope<'_> {
    fn var(&self, name: &str) -> Value<'_> {
        self.values.get(name).cloned().unwrap_or(Value::Null)
    }
    fn list_contains(&self, list: &str, entry: &str) -> bool {
        self.lists.get(list).is_some_and(|l| l.contains(entry))
    }
}

fn typed<'a>(v: &'a VariableRec, raw: Option<&'a String>) -> Value<'a> {
    let dt = DataType::parse(&v.data_type).unwrap_or(DataType::String);
    match raw {
        Some(r) => typed_value(dt, r).unwrap_or(Value::Null),
        None => match typed_value(dt, &v.default_value) {
            Ok(Value::Str(s)) if s.is_empty() && dt != DataType::String => Value::Null,
            Ok(x) => x,
            Err(_) => Value::Null,
        },
    }
}

pub async fn get_event_prediction(svc: &Inner, cx: &Cx, req: api::GetEventPredictionRequest) -> FdResult<api::GetEventPredictionResult> {
    let started = Instant::now();
    let c = svc.serving.detector(svc, cx, &req.detector_id, req.detector_version_id.as_deref()).await?;
    if c.version.status == "INACTIVE" {
        return Err(FdError::validation(format!("The version {} of the detector {} is INACTIVE and cannot be used for predictions.", c.version.version, c.detector.detector_id)));
    }
    if req.event_type_name != c.event_type.name {
        // An event type that does not exist at all is a missing resource; an existing one is
        // simply not the detector's.
        super::event_types::require(svc, cx, &req.event_type_name).await?;
        return Err(FdError::validation(format!("The detector {} evaluates events of the type {}, not {}.", c.detector.detector_id, c.event_type.name, req.event_type_name)));
    }
    let event = check_event(
        &c.event_type,
        &c.variables,
        &NewEvent {
            event_id: &req.event_id,
            timestamp: &req.event_timestamp,
            variables: &req.event_variables,
            entities: req.entities.iter().map(|e| (e.entity_type.clone(), e.entity_id.clone())).collect(),
            label: None,
            label_timestamp: None,
        },
    )
    .map_err(FdError::Validation)?;
    // AWS: "If detectorVersion is associated with a modelVersion, you must provide at least one
    // associated eventVariable".
    if !c.models.is_empty() && !c.models.iter().any(|m| m.scorer.spec.inputs.iter().any(|i| req.event_variables.contains_key(&i.name))) {
        return Err(FdError::validation(format!(
            "The detector version {} of {} uses model versions: at least one of their event variables must be provided.",
            c.version.version, c.detector.detector_id
        )));
    }
    let entity_id = event.entity_id().to_string();

    // Features of every model, then one trip to the engine threads for all of them.
    let mut jobs = Vec::with_capacity(c.models.len());
    for m in &c.models {
        let aggregates = m.history.as_ref().map(|h| {
            let h = h.read().unwrap_or_else(|p| p.into_inner());
            h.aggregates(&EventView { event_id: &event.event_id, entity_id: &entity_id, ts_ms: event.ts_ms, values: &event.variables })
        });
        let features = m.scorer.spec.transform(&Row { values: &event.variables, ts_ms: event.ts_ms, aggregates: aggregates.as_deref() });
        jobs.push((m.scorer.clone(), features));
    }
    // Verified in-process trees score in microseconds: no need to leave this thread. Models
    // scored by the library go to the engine threads.
    let score_all = move |jobs: Vec<(std::sync::Arc<crate::domain::training::Scorer>, Vec<f32>)>| -> Result<Vec<(f32, Vec<f32>)>, String> {
        jobs.into_iter()
            .map(|(s, f)| {
                let p = s.probabilities(f.clone())?;
                let prob = p.first().copied().unwrap_or(f32::NAN);
                Ok((s.calibration.score(prob), f))
            })
            .collect()
    };
    let scored: Vec<(f32, Vec<f32>)> = if jobs.iter().all(|(s, _)| s.uses_forest()) {
        score_all(jobs)
    } else {
        svc.engine.run(move || score_all(jobs)).await.map_err(|e| FdError::internal(e.to_string()))?
    }
    .map_err(|e| FdError::Unavailable(format!("The model could not score the event: {e}")))?;

    // External (SageMaker) models.
    let (external_outputs, evaluated_externals) = if c.externals.is_empty() { (Vec::new(), Vec::new()) } else { call_externals(svc, cx, &c, &event, &req).await? };
    let external_values: HashMap<&str, &String> = evaluated_externals.iter().flat_map(|e| e.outputs.iter().map(|(k, v)| (k.as_str(), v))).collect();

    // Rules.
    let mut values: HashMap<&str, Value> = HashMap::with_capacity(c.variables.len() + scored.len() + c.external_variables.len());
    for (name, v) in &c.variables {
        values.insert(name.as_str(), typed(v, event.variables.get(name)));
    }
    for (m, (score, _)) in c.models.iter().zip(&scored) {
        values.insert(m.score_variable.as_str(), Value::Num(*score as f64));
    }
    for (name, v) in &c.external_variables {
        values.insert(name.as_str(), typed(v, external_values.get(name.as_str()).copied()));
    }
    let scope = RuleScope { values, lists: &c.lists };
    let first_only = c.version.rule_execution_mode != "ALL_MATCHED";
    let mut evaluated = Vec::with_capacity(c.rules.len());
    let mut results = Vec::new();
    let mut done = false;
    for r in &c.rules {
        if done {
            evaluated.push(EvaluatedRuleRec { rule_id: r.rule_id.clone(), rule_version: r.version.clone(), expression: r.expression.clone(), expression_with_values: String::new(), outcomes: r.outcomes.clone(), evaluated: false, matched: false });
            continue;
        }
        let matched = rules::evaluate(&r.expr, &scope);
        evaluated.push(EvaluatedRuleRec {
            rule_id: r.rule_id.clone(),
            rule_version: r.version.clone(),
            expression: r.expression.clone(),
            expression_with_values: rules::render_with_values(&r.expr, &scope),
            outcomes: r.outcomes.clone(),
            evaluated: true,
            matched,
        });
        if matched {
            results.push(api::RuleResult { rule_id: Some(r.rule_id.clone()), outcomes: Some(r.outcomes.clone()) });
            done = first_only;
        }
    }

    let model_scores: Vec<api::ModelScores> = c
        .models
        .iter()
        .zip(&scored)
        .map(|(m, (score, _))| api::ModelScores {
            model_version: Some(api::ModelVersion { arn: Some(m.arn.clone()), model_id: m.reference.model_id.clone(), model_type: m.reference.model_type.clone(), model_version_number: m.reference.version.clone() }),
            scores: Some(BTreeMap::from([(m.score_variable.clone(), *score)])),
        })
        .collect();

    record(svc, cx, &c, event, &req.event_variables, Evaluated { rules: evaluated, results: &results, scored: &scored, externals: evaluated_externals });
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let now = svc.rt.clock.now();
    for (name, value, unit) in [("GetEventPrediction", 1.0, Unit::Count), ("GetEventPredictionLatency", ms, Unit::Milliseconds)] {
        let d = MetricDatum::new("AWS/FraudDetector", name, now, value).dimension("DetectorId", c.detector.detector_id.as_str()).dimension("DetectorVersionId", c.version.version.as_str()).unit(unit);
        let _ = svc.rt.metrics.record(&cx.scope, d);
    }
    Ok(api::GetEventPredictionResult { model_scores: Some(model_scores), rule_results: Some(results), external_model_outputs: Some(external_outputs) })
}

/// Invoke the detector version's external models in order; their outputs and what to record.
async fn call_externals(svc: &Inner, cx: &Cx, c: &Compiled, event: &crate::store::EventRec, req: &api::GetEventPredictionRequest) -> FdResult<(Vec<api::ExternalModelOutputs>, Vec<EvaluatedExternalRec>)> {
    let endpoints = svc.endpoints.as_ref().ok_or_else(|| FdError::Unavailable("External models cannot be invoked: this server has no SageMaker hosting.".into()))?;
    let mut outputs = Vec::with_capacity(c.externals.len());
    let mut evaluated = Vec::with_capacity(c.externals.len());
    for m in &c.externals {
        let mut inputs = BTreeMap::new();
        let (body, content_type) = if m.use_event_variables {
            let template = m.template().unwrap_or_default();
            for name in external::placeholders(template).map_err(FdError::internal)? {
                let v = event.variables.get(&name).cloned().or_else(|| c.variables.get(&name).map(|v| v.default_value.clone())).unwrap_or_default();
                inputs.insert(name, v);
            }
            let (b, ct) = external::render(m.input_format.as_deref().unwrap_or(external::INPUT_CSV), template, |n| inputs.get(n).cloned().unwrap_or_default()).map_err(FdError::internal)?;
            (b, ct.to_string())
        } else {
            let blob = req.external_model_endpoint_data_blobs.as_ref().and_then(|b| b.get(&m.model_endpoint)).ok_or_else(|| {
                FdError::validation(format!("The external model {} takes its input as given: externalModelEndpointDataBlobs must hold an entry for it.", m.model_endpoint))
            })?;
            let bytes = blob.byte_buffer.as_ref().map(|b| b.0.clone()).unwrap_or_default();
            (bytes, blob.content_type.clone().unwrap_or_else(|| "text/csv".into()))
        };
        let call = EndpointRequest { endpoint: m.model_endpoint.clone(), body, content_type, accept: external::accept(&m.output_format).to_string() };
        let reply = endpoints.invoke(&cx.scope, call).await.map_err(|e| {
            let why = match e {
                EndpointError::NotFound(w) | EndpointError::Failed(w) => w,
            };
            FdError::Unavailable(format!("The external model {} could not be invoked: {why}", m.model_endpoint))
        })?;
        let out = external::read_output(&m.output_format, &m.csv_index_to_variable, &m.json_key_to_variable, &reply.body)
            .map_err(|e| FdError::Unavailable(format!("The output of the external model {} could not be read: {e}", m.model_endpoint)))?;
        outputs.push(api::ExternalModelOutputs {
            external_model: Some(api::ExternalModelSummary { model_endpoint: Some(m.model_endpoint.clone()), model_source: Some(m.model_source.clone()) }),
            outputs: Some(out.clone()),
        });
        evaluated.push(EvaluatedExternalRec { model_endpoint: m.model_endpoint.clone(), use_event_variables: m.use_event_variables, inputs, outputs: out });
    }
    Ok((outputs, evaluated))
}

/// What a prediction evaluated, for its record.
struct Evaluated<'a> {
    rules: Vec<EvaluatedRuleRec>,
    results: &'a [api::RuleResult],
    scored: &'a [(f32, Vec<f32>)],
    externals: Vec<EvaluatedExternalRec>,
}

/// Record the prediction (and store the event when the event type ingests events).
fn record(svc: &Inner, cx: &Cx, c: &Compiled, event: crate::store::EventRec, given: &BTreeMap<String, String>, ev: Evaluated<'_>) {
    let Evaluated { rules, results, scored, externals } = ev;
    let mut variables: Vec<(String, String, String)> = Vec::with_capacity(c.variables.len());
    for name in &c.event_type.event_variables {
        match (given.get(name), c.variables.get(name)) {
            (Some(v), _) => variables.push((name.clone(), v.clone(), "EVENT".into())),
            (None, Some(def)) => variables.push((name.clone(), def.default_value.clone(), "DEFAULT".into())),
            _ => {}
        }
    }
    let outcomes: Vec<String> = results.iter().flat_map(|r| r.outcomes.clone().unwrap_or_default()).collect();
    let models = c.models.iter().zip(scored).map(|(m, (score, features))| EvaluatedModelRec { model: m.reference.clone(), score: *score, features: features.clone() }).collect();
    let entity = event.entities.first().cloned().unwrap_or_else(|| ("unknown".into(), "unknown".into()));
    let rec = PredictionRec {
        detector_id: c.detector.detector_id.clone(),
        detector_version: c.version.version.clone(),
        detector_version_status: c.version.status.clone(),
        event_id: event.event_id.clone(),
        event_type: event.event_type.clone(),
        event_timestamp: event.timestamp.clone(),
        prediction_timestamp: iso_millis(cx.now_ms),
        prediction_ms: cx.now_ms,
        entity,
        variables,
        rules,
        rule_execution_mode: c.version.rule_execution_mode.clone(),
        outcomes,
        models,
        externals,
    };
    let key = prediction_key(cx.now_ms, &rec.detector_id, &rec.detector_version, &rec.event_type, &rec.event_id);
    let scope = cx.scope.clone();
    let ingest = c.event_type.ingestion_enabled();
    if ingest {
        svc.serving.record_event(&cx.scope, &event);
    }
    svc.serving.log_later(Box::new(move || {
        let mut ops = Vec::with_capacity(2);
        match WriteOp::put(&scope, key, &rec, Expect::Any) {
            Ok(op) => ops.push(op),
            Err(e) => tracing::error!(error = %e, "prediction record not encoded"),
        }
        if ingest {
            match WriteOp::put(&scope, event_key(&event.event_type, &event.event_id), &event, Expect::Any) {
                Ok(op) => ops.push(op),
                Err(e) => tracing::error!(error = %e, "predicted event not encoded"),
            }
        }
        ops
    }));
}

pub async fn get_event_prediction_metadata(svc: &Inner, cx: &Cx, req: api::GetEventPredictionMetadataRequest) -> FdResult<api::GetEventPredictionMetadataResult> {
    svc.serving.flush().await;
    let ts = parse_timestamp(&req.prediction_timestamp).ok_or_else(|| FdError::validation(format!("The predictionTimestamp '{}' is not a valid ISO 8601 timestamp.", req.prediction_timestamp)))?;
    let key = prediction_key(to_millis(ts), &req.detector_id, &req.detector_version_id, &req.event_type_name, &req.event_id);
    let p = get::<PredictionRec>(svc, &cx.scope, &key).await?.ok_or_else(|| {
        FdError::not_found(format!(
            "No prediction of the event {} by version {} of the detector {} was made at {}.",
            req.event_id, req.detector_version_id, req.detector_id, req.prediction_timestamp
        ))
    })?;
    let mut evaluated_models = Vec::new();
    for m in &p.models {
        let mv = get::<ModelVersionRec>(svc, &cx.scope, &model_version_key(&m.model.model_id, &m.model.model_type, &m.model.version)).await?;
        let mut explanations = api::PredictionExplanations { variable_impact_explanations: Some(vec![]), aggregated_variables_impact_explanations: Some(vec![]) };
        if let Some(mv) = mv.filter(|mv| mv.artifact.is_some()) {
            let scorer = svc.serving.scorer(svc, &cx.scope, &mv).await?;
            let features = m.features.clone();
            let impacts = svc.engine.run(move || scorer.explain(&features)).await.map_err(|e| FdError::internal(e.to_string()))?.map_err(FdError::internal)?;
            for (vars, aggregate, lo) in impacts {
                let lo = (lo * 1000.0).round() / 1000.0;
                if aggregate {
                    if let Some(v) = explanations.aggregated_variables_impact_explanations.as_mut() {
                        v.push(api::AggregatedVariablesImpactExplanation { event_variable_names: Some(vars), relative_impact: Some(relative_impact(lo)), log_odds_impact: Some(lo) });
                    }
                } else if let Some(v) = explanations.variable_impact_explanations.as_mut() {
                    v.push(api::VariableImpactExplanation { event_variable_name: vars.first().cloned(), relative_impact: Some(relative_impact(lo)), log_odds_impact: Some(lo) });
                }
            }
        }
        evaluated_models.push(api::EvaluatedModelVersion {
            model_id: Some(m.model.model_id.clone()),
            model_type: Some(m.model.model_type.clone()),
            model_version: Some(m.model.version.clone()),
            evaluations: Some(vec![api::ModelVersionEvaluation {
                output_variable_name: Some(crate::handlers::rules::score_variable(&m.model.model_id)),
                evaluation_score: Some(format!("{:.1}", m.score)),
                prediction_explanations: Some(explanations),
            }]),
        });
    }
    Ok(api::GetEventPredictionMetadataResult {
        detector_id: Some(p.detector_id.clone()),
        detector_version_id: Some(p.detector_version.clone()),
        detector_version_status: Some(p.detector_version_status.clone()),
        entity_id: Some(p.entity.1.clone()),
        entity_type: Some(p.entity.0.clone()),
        evaluated_external_models: Some(
            p.externals
                .iter()
                .map(|e| api::EvaluatedExternalModel {
                    model_endpoint: Some(e.model_endpoint.clone()),
                    use_event_variables: Some(e.use_event_variables),
                    input_variables: Some(e.inputs.clone()),
                    output_variables: Some(e.outputs.clone()),
                })
                .collect(),
        ),
        evaluated_model_versions: Some(evaluated_models),
        event_id: Some(p.event_id.clone()),
        event_timestamp: Some(p.event_timestamp.clone()),
        event_type_name: Some(p.event_type.clone()),
        event_variables: Some(p.variables.iter().map(|(n, v, s)| api::EventVariableSummary { name: Some(n.clone()), value: Some(v.clone()), source: Some(s.clone()) }).collect()),
        outcomes: Some(p.outcomes.clone()),
        prediction_timestamp: Some(p.prediction_timestamp.clone()),
        rule_execution_mode: Some(p.rule_execution_mode.clone()),
        rules: Some(
            p.rules
                .iter()
                .map(|r| api::EvaluatedRule {
                    rule_id: Some(r.rule_id.clone()),
                    rule_version: Some(r.rule_version.clone()),
                    expression: Some(r.expression.clone()),
                    expression_with_values: Some(r.expression_with_values.clone()),
                    outcomes: Some(r.outcomes.clone()),
                    evaluated: Some(r.evaluated),
                    matched: Some(r.matched),
                })
                .collect(),
        ),
    })
}

pub async fn list_event_predictions(svc: &Inner, cx: &Cx, req: api::ListEventPredictionsRequest) -> FdResult<api::ListEventPredictionsResult> {
    svc.serving.flush().await;
    let range = match &req.prediction_time_range {
        Some(r) => {
            let s = parse_timestamp(&r.start_time).ok_or_else(|| FdError::validation(format!("The startTime '{}' is not a valid ISO 8601 timestamp.", r.start_time)))?;
            let e = parse_timestamp(&r.end_time).ok_or_else(|| FdError::validation(format!("The endTime '{}' is not a valid ISO 8601 timestamp.", r.end_time)))?;
            Some((to_millis(s), to_millis(e)))
        }
        None => None,
    };
    let want = |f: &Option<api::FilterCondition>, v: &str| f.as_ref().and_then(|c| c.value.as_deref()).is_none_or(|x| x == v);
    let mut all: Vec<(String, PredictionRec)> = list_all::<PredictionRec>(svc, &cx.scope, "")
        .await?
        .into_iter()
        .filter(|(_, p)| {
            want(&req.event_id, &p.event_id)
                && want(&req.event_type, &p.event_type)
                && want(&req.detector_id, &p.detector_id)
                && want(&req.detector_version_id, &p.detector_version)
                && range.is_none_or(|(s, e)| p.prediction_ms >= s && p.prediction_ms <= e)
        })
        .collect();
    // Newest first; the page token orders on a key that grows as predictions get older.
    all.reverse();
    let keyed: Vec<(String, PredictionRec)> = all.into_iter().enumerate().map(|(i, (_, p))| (format!("{i:012}"), p)).collect();
    let (items, next) = page(keyed, req.next_token.as_deref(), max_results(req.max_results, 100))?;
    Ok(api::ListEventPredictionsResult {
        event_prediction_summaries: Some(
            items
                .iter()
                .map(|p| api::EventPredictionSummary {
                    detector_id: Some(p.detector_id.clone()),
                    detector_version_id: Some(p.detector_version.clone()),
                    event_id: Some(p.event_id.clone()),
                    event_timestamp: Some(p.event_timestamp.clone()),
                    event_type_name: Some(p.event_type.clone()),
                    prediction_timestamp: Some(p.prediction_timestamp.clone()),
                })
                .collect(),
        ),
        next_token: next,
    })
}
