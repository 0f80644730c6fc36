//! Training a fraud model: labelled events → features → a gradient-boosted classifier (real
//! XGBoost through `hearth_inference::tabular`) → calibrated scores and the metrics a model
//! version reports.
//!
//! The procedure follows AWS's description of Online / Transaction Fraud Insights: events are
//! ordered by `EVENT_TIMESTAMP`; the last 15% are held out for validation and never trained
//! on. On the first 85%, the feature encodings are fitted (out of fold), the number of
//! boosting rounds is chosen by early stopping on the latest 15% of that part, and the final
//! model is trained on the whole 85% with that many rounds. The held-out 15% then gives the
//! AUC (with a 95% interval), the score calibration of [`super::scores`], the threshold table,
//! and each variable's importance: the mean absolute change in log-odds of fraud when that
//! variable's features are shuffled across validation events (permutation importance in
//! log-odds, the unit AWS reports).

use super::features::{FeatureSpec, InputVariable, Row};
use super::history::{AggregateSpec, EventView, History};
use super::scores::{auc, auc_interval, threshold_table, Calibration, ThresholdPoint};
use hearth_inference::tabular::{self, Booster, Dataset, Matrix, ModelFormat, TrainControl, TrainParams, Xgb};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

/// Fewest fraud events (after label mapping) a model trains on.
pub const MIN_FRAUD_EVENTS: usize = 400;
/// Fewest legitimate events a model trains on.
pub const MIN_LEGIT_EVENTS: usize = 400;
/// Share of the latest events held out for validation.
const VALIDATION_SHARE: f64 = 0.15;

/// One labelled training event.
#[derive(Debug, Clone)]
pub struct TrainRow {
    pub event_id: String,
    pub entity_id: String,
    pub ts_ms: i64,
    pub variables: BTreeMap<String, String>,
    pub fraud: bool,
}

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// The model variables, in `trainingDataSchema.modelVariables` order.
    pub inputs: Vec<InputVariable>,
    /// Add entity aggregates (Transaction Fraud Insights).
    pub aggregates: bool,
    /// XGBoost threads.
    pub threads: usize,
}

/// A trained model as stored and served.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Artifact {
    pub spec: FeatureSpec,
    pub calibration: Calibration,
    /// The booster in XGBoost's UBJSON format.
    #[serde(skip)]
    pub booster: Vec<u8>,
}

const MAGIC: &[u8; 4] = b"HFD1";

impl Artifact {
    /// The stored form: `HFD1`, the JSON length (u32 LE), the JSON, the booster.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let json = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(8 + json.len() + self.booster.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        out.extend_from_slice(&self.booster);
        Ok(out)
    }

    /// Read the stored form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Artifact, String> {
        if bytes.len() < 8 || &bytes[..4] != MAGIC {
            return Err("not a Hearth fraud model artifact".into());
        }
        let n = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        let json = bytes.get(8..8 + n).ok_or("truncated model artifact")?;
        let mut a: Artifact = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        a.booster = bytes[8 + n..].to_vec();
        Ok(a)
    }
}

/// A variable's (or variable group's) importance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    pub variables: Vec<String>,
    pub importance: f32,
}

/// What a training run reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub auc: f32,
    pub auc_lower: f32,
    pub auc_upper: f32,
    pub thresholds: Vec<ThresholdPoint>,
    /// One entry per model variable.
    pub variable_importance: Vec<Importance>,
    /// The entity aggregates as one group (Transaction Fraud Insights).
    pub aggregated_importance: Option<Importance>,
    pub train_events: usize,
    pub validation_events: usize,
    pub fraud_events: usize,
    pub legit_events: usize,
    pub rounds: usize,
    pub training_seconds: f32,
    /// Per-variable warnings: (variable, title, content).
    pub warnings: Vec<(String, String, String)>,
}

/// Why training failed: a data problem (title, content) the user can fix, or an engine error.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainFailure {
    Data { title: String, content: String },
    Engine(String),
    Cancelled,
}

impl From<tabular::TabularError> for TrainFailure {
    fn from(e: tabular::TabularError) -> Self {
        TrainFailure::Engine(e.to_string())
    }
}

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    (p / (1.0 - p)).ln()
}

/// Compute every row's aggregates (point in time over all `rows`).
pub fn aggregate_rows(spec: &AggregateSpec, rows: &[TrainRow]) -> Vec<Vec<f32>> {
    let mut history = History::new(spec.clone());
    for r in rows {
        history.insert(&EventView { event_id: &r.event_id, entity_id: &r.entity_id, ts_ms: r.ts_ms, values: &r.variables });
    }
    rows.iter().map(|r| history.aggregates(&EventView { event_id: &r.event_id, entity_id: &r.entity_id, ts_ms: r.ts_ms, values: &r.variables })).collect()
}

fn matrix(values: Vec<f32>, width: usize) -> Result<Matrix, TrainFailure> {
    let rows = if width == 0 { 0 } else { values.len() / width };
    Ok(Matrix::new(rows, width, values)?)
}

fn labels_of(rows: &[TrainRow]) -> Vec<f32> {
    rows.iter().map(|r| if r.fraud { 1.0 } else { 0.0 }).collect()
}

fn params(rounds: usize, threads: usize) -> TrainParams {
    TrainParams::new("binary:logistic", rounds)
        .eta(0.08)
        .max_depth(6)
        .min_child_weight(2.0)
        .subsample(0.85)
        .colsample_bytree(0.8)
        .seed(7)
        .set("nthread", threads.max(1))
        .eval_metric("auc")
}

/// Train a model on labelled rows. Blocking (minutes at most); run it off the async runtime.
pub fn train(xgb: &Arc<Xgb>, cfg: &TrainConfig, mut rows: Vec<TrainRow>, cancel: &AtomicBool) -> Result<(Artifact, Report), TrainFailure> {
    let started = Instant::now();
    let fraud = rows.iter().filter(|r| r.fraud).count();
    let legit = rows.len() - fraud;
    if fraud < MIN_FRAUD_EVENTS || legit < MIN_LEGIT_EVENTS {
        return Err(TrainFailure::Data {
            title: "Insufficient data".into(),
            content: format!(
                "The training data has {fraud} fraud and {legit} legitimate events; at least {MIN_FRAUD_EVENTS} fraud and {MIN_LEGIT_EVENTS} legitimate events are required."
            ),
        });
    }
    rows.sort_by(|a, b| a.ts_ms.cmp(&b.ts_ms).then_with(|| a.event_id.cmp(&b.event_id)));
    let n_valid = ((rows.len() as f64) * VALIDATION_SHARE).round() as usize;
    let n_train = rows.len() - n_valid;
    let (train_part, valid_part) = rows.split_at(n_train);
    if !valid_part.iter().any(|r| r.fraud) || !valid_part.iter().any(|r| !r.fraud) || !train_part.iter().any(|r| r.fraud) {
        return Err(TrainFailure::Data {
            title: "Unstable fraud rate in the given dataset".into(),
            content: "Fraud rate in the given data is too unstable through time. Please make sure your fraud and legitimate events are sampled uniformly over time.".into(),
        });
    }

    // Warnings: variables mostly missing.
    let mut warnings = Vec::new();
    for v in &cfg.inputs {
        let missing = rows.iter().filter(|r| r.variables.get(&v.name).is_none_or(|x| x.trim().is_empty())).count();
        if missing * 10 > rows.len() * 9 {
            warnings.push((
                v.name.clone(),
                "Missing or incorrect variable values".into(),
                format!("{:.1}% of the values of '{}' are missing; the default value '{}' is used for them.", 100.0 * missing as f64 / rows.len() as f64, v.name, v.default_value),
            ));
        }
    }

    // Aggregates over all rows, point in time.
    let agg_spec = cfg.aggregates.then(|| FeatureSpec::aggregate_spec(&cfg.inputs));
    let aggs: Option<Vec<Vec<f32>>> = agg_spec.as_ref().map(|s| aggregate_rows(s, &rows));
    let view = |i: usize| Row { values: &rows[i].variables, ts_ms: rows[i].ts_ms, aggregates: aggs.as_ref().map(|a| a[i].as_slice()) };

    let train_views: Vec<Row> = (0..n_train).map(view).collect();
    let train_labels: Vec<bool> = train_part.iter().map(|r| r.fraud).collect();
    let (spec, train_x) = FeatureSpec::fit(cfg.inputs.clone(), agg_spec, &train_views, &train_labels);
    let width = spec.width();
    let mut valid_x = Vec::with_capacity(n_valid * width);
    for i in n_train..rows.len() {
        valid_x.extend(spec.transform(&view(i)));
    }

    // Rounds by early stopping on the latest part of the training data.
    let n_fit = ((n_train as f64) * (1.0 - VALIDATION_SHARE)).round() as usize;
    let fit = Dataset::new(matrix(train_x[..n_fit * width].to_vec(), width)?, labels_of(&train_part[..n_fit]), None)?;
    let stop = Dataset::new(matrix(train_x[n_fit * width..].to_vec(), width)?, labels_of(&train_part[n_fit..]), None)?;
    let probe = params(600, cfg.threads).early_stopping_rounds(40);
    let ctl = TrainControl { cancel: Some(cancel), on_round: None, threads: Some(cfg.threads) };
    let rounds = if stop.labels.iter().any(|l| *l > 0.5) && stop.labels.iter().any(|l| *l < 0.5) {
        let out = tabular::train(xgb, &probe, &fit, &[("validation", &stop)], ctl)?;
        if out.cancelled {
            return Err(TrainFailure::Cancelled);
        }
        out.best_iteration.map(|b| b + 1).unwrap_or(out.rounds).max(10)
    } else {
        200
    };
    // The final model on the whole training part.
    let all = Dataset::new(matrix(train_x, width)?, labels_of(train_part), None)?;
    let ctl = TrainControl { cancel: Some(cancel), on_round: None, threads: Some(cfg.threads) };
    let out = tabular::train(xgb, &params(rounds, cfg.threads), &all, &[], ctl)?;
    if out.cancelled {
        return Err(TrainFailure::Cancelled);
    }
    let booster = out.booster;

    // Validation.
    let vx = matrix(valid_x, width)?;
    let probs = booster.predict(&vx)?.values;
    let vlabels: Vec<bool> = valid_part.iter().map(|r| r.fraud).collect();
    let auc_v = auc(&probs, &vlabels).unwrap_or(0.5);
    let vpos = vlabels.iter().filter(|l| **l).count();
    let (lo, hi) = auc_interval(auc_v, vpos, vlabels.len() - vpos);
    let calibration = Calibration::fit(probs.iter().zip(&vlabels).filter(|(_, l)| !**l).map(|(p, _)| *p).collect());
    let scores: Vec<f32> = probs.iter().map(|p| calibration.score(*p)).collect();
    let thresholds = threshold_table(&scores, &vlabels);

    // Permutation importance in log-odds.
    let base: Vec<f32> = probs.iter().map(|p| logit(*p)).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut variable_importance = Vec::new();
    let mut aggregated_importance = None;
    for (vars, cols) in spec.groups() {
        let mut shuffled = vx.values().to_vec();
        let mut order: Vec<usize> = (0..vx.rows()).collect();
        order.shuffle(&mut rng);
        for (r, &src) in order.iter().enumerate() {
            for &c in &cols {
                shuffled[r * width + c] = vx.values()[src * width + c];
            }
        }
        let p = booster.predict(&matrix(shuffled, width)?)?.values;
        let impact = p.iter().zip(&base).map(|(q, b)| (logit(*q) - b).abs()).sum::<f32>() / p.len().max(1) as f32;
        let is_aggregate = cols.iter().all(|c| matches!(spec.columns[*c].transform, super::features::Transform::Aggregate(_)));
        let imp = Importance { variables: vars, importance: (impact * 1000.0).round() / 1000.0 };
        if is_aggregate {
            aggregated_importance = Some(imp);
        } else {
            variable_importance.push(imp);
        }
    }

    let booster_bytes = booster.save(ModelFormat::Ubjson)?;
    let report = Report {
        auc: auc_v as f32,
        auc_lower: lo as f32,
        auc_upper: hi as f32,
        thresholds,
        variable_importance,
        aggregated_importance,
        train_events: n_train,
        validation_events: n_valid,
        fraud_events: fraud,
        legit_events: legit,
        rounds,
        training_seconds: started.elapsed().as_secs_f32(),
        warnings,
    };
    Ok((Artifact { spec, calibration, booster: booster_bytes }, report))
}

/// A loaded model ready to score events.
pub struct Scorer {
    pub spec: FeatureSpec,
    pub calibration: Calibration,
    pub booster: Arc<Booster>,
}

impl Scorer {
    /// Load an artifact (the booster predicts on one thread per call).
    pub fn load(xgb: &Arc<Xgb>, artifact: Artifact) -> Result<Scorer, String> {
        let booster = Booster::load(xgb, &artifact.booster).map_err(|e| e.to_string())?;
        booster.set_param("nthread", "1").map_err(|e| e.to_string())?;
        Ok(Scorer { spec: artifact.spec, calibration: artifact.calibration, booster: Arc::new(booster) })
    }

    /// Probabilities of fraud of feature rows.
    pub fn probabilities(&self, features: Vec<f32>) -> Result<Vec<f32>, String> {
        let m = Matrix::new(features.len() / self.spec.width().max(1), self.spec.width(), features).map_err(|e| e.to_string())?;
        Ok(self.booster.predict(&m).map_err(|e| e.to_string())?.values)
    }

    /// Per-variable log-odds impacts of one event: how much each variable (group) moves the
    /// log-odds compared with the same event without it (its features missing).
    pub fn explain(&self, features: &[f32]) -> Result<Vec<(Vec<String>, bool, f32)>, String> {
        let groups = self.spec.groups();
        let w = self.spec.width();
        let mut batch = Vec::with_capacity((groups.len() + 1) * w);
        batch.extend_from_slice(features);
        for (_, cols) in &groups {
            let mut x = features.to_vec();
            for c in cols {
                x[*c] = f32::NAN;
            }
            batch.extend(x);
        }
        let p = self.probabilities(batch)?;
        let base = logit(p[0]);
        Ok(groups
            .into_iter()
            .enumerate()
            .map(|(i, (vars, cols))| {
                let aggregate = cols.iter().all(|c| matches!(self.spec.columns[*c].transform, super::features::Transform::Aggregate(_)));
                (vars, aggregate, base - logit(p[i + 1]))
            })
            .collect())
    }
}
