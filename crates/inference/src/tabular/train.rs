//! The training loop: what Python's `xgboost.train(params, dtrain, num_round, evals=…,
//! early_stopping_rounds=…)` does, call for call, so the same data and parameters give the
//! same model.
//!
//! The booster caches the training matrix and the evaluation matrices, gets the parameters
//! (plus `validate_parameters`, as Python adds it), then each round runs
//! `XGBoosterUpdateOneIter(round)` and, when there are evaluation sets, `XGBoosterEvalOneIter`
//! whose line (`[3]\ttrain-rmse:1.2\tvalidation-rmse:1.5`) is parsed into [`RoundEval`].
//! Early stopping watches the last metric of the last set, as Python's `EarlyStopping`
//! callback does, and records the `best_iteration` / `best_score` attributes the same way.
//! A cancel flag is checked between rounds.

use super::booster::{Booster, DMatrix};
use super::library::Xgb;
use super::{Dataset, TabularError, TrainParams};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One round's evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundEval {
    /// The round, counted from 0.
    pub round: usize,
    /// `(set, metric, value)`, e.g. `("validation", "rmse", 2.1)`, in XGBoost's order.
    pub metrics: Vec<(String, String, f64)>,
    /// XGBoost's line as printed by Python (`[0]\ttrain-rmse:…`).
    pub line: String,
}

impl RoundEval {
    /// The value of `metric` on `set`, if evaluated.
    pub fn get(&self, set: &str, metric: &str) -> Option<f64> {
        self.metrics.iter().find(|(s, m, _)| s == set && m == metric).map(|(_, _, v)| *v)
    }
}

/// Parse XGBoost's evaluation line.
pub fn parse_eval_line(round: usize, line: &str) -> RoundEval {
    let mut metrics = Vec::new();
    for part in line.split('\t').skip(1) {
        let Some((name, value)) = part.rsplit_once(':') else { continue };
        let Some((set, metric)) = name.split_once('-') else { continue };
        if let Ok(v) = value.trim().parse::<f64>() {
            metrics.push((set.to_string(), metric.to_string(), v));
        }
    }
    RoundEval { round, metrics, line: line.to_string() }
}

/// How a training run is observed and stopped.
#[derive(Default)]
pub struct TrainControl<'a> {
    /// Set to stop after the round in progress (the model keeps the rounds done).
    pub cancel: Option<&'a AtomicBool>,
    /// Called after every round with its evaluation (when there are evaluation sets).
    pub on_round: Option<&'a mut dyn FnMut(&RoundEval)>,
    /// XGBoost threads (`nthread`) when the parameters do not say; `None`: XGBoost's default.
    pub threads: Option<usize>,
}

/// A finished training run.
#[derive(Debug)]
pub struct TrainOutput {
    /// The model.
    pub booster: Booster,
    /// Per-round evaluations (empty without evaluation sets).
    pub evals: Vec<RoundEval>,
    /// Rounds trained.
    pub rounds: usize,
    /// Best round when early stopping was on.
    pub best_iteration: Option<usize>,
    /// Whether the run was cancelled before `num_round`.
    pub cancelled: bool,
    /// Wall time of the boosting loop (data copied into XGBoost excluded).
    pub elapsed: Duration,
}

/// Metrics where larger is better (Python's `EarlyStopping` maximize list).
fn maximize(metric: &str) -> bool {
    let base = metric.split('@').next().unwrap_or(metric);
    matches!(base, "auc" | "aucpr" | "pre" | "map" | "ndcg" | "auc_pr" | "accuracy" | "f1" | "r2")
}

/// Train a model on `train`, evaluating on `evals` (named sets, e.g. `("validation", &val)`).
/// The training set is evaluated as `"train"` when any evaluation set is given, as SageMaker's
/// container does.
pub fn train(xgb: &Arc<Xgb>, params: &TrainParams, train: &Dataset, evals: &[(&str, &Dataset)], mut ctl: TrainControl<'_>) -> Result<TrainOutput, TabularError> {
    if train.is_empty() {
        return Err(TabularError::Data("the training data has no rows".into()));
    }
    if params.num_round == 0 {
        return Err(TabularError::Param("num_round must be at least 1".into()));
    }
    for (name, d) in evals {
        if d.features.cols() > train.features.cols() {
            return Err(TabularError::Data(format!(
                "the {name} data has {} features, the training data {}",
                d.features.cols(),
                train.features.cols()
            )));
        }
    }
    let dtrain = DMatrix::new(xgb, train)?;
    let mut eval_sets: Vec<(DMatrix, String)> = Vec::new();
    for (name, d) in evals {
        // Evaluation data with fewer features than the training data gets missing columns.
        let padded;
        let d = if d.features.cols() < train.features.cols() {
            padded = Dataset::new(d.features.pad_columns(train.features.cols() - d.features.cols()), d.labels.clone(), d.weights.clone())?;
            &padded
        } else {
            *d
        };
        eval_sets.push((DMatrix::new(xgb, d)?, name.to_string()));
    }
    let mut cache: Vec<&DMatrix> = vec![&dtrain];
    cache.extend(eval_sets.iter().map(|(d, _)| d));
    let booster = Booster::with_cache(xgb, &cache)?;
    for (k, v) in &params.params {
        booster.set_param(k, v)?;
    }
    if params.get("nthread").is_none() {
        if let Some(n) = ctl.threads {
            booster.set_param("nthread", &n.max(1).to_string())?;
        }
    }
    booster.set_param("validate_parameters", "True")?;

    let mut watch: Vec<(&DMatrix, &str)> = Vec::new();
    if !eval_sets.is_empty() {
        watch.push((&dtrain, "train"));
        watch.extend(eval_sets.iter().map(|(d, n)| (d, n.as_str())));
    }
    let started = Instant::now();
    let mut out_evals = Vec::new();
    let mut best: Option<(usize, f64)> = None;
    let mut rounds = 0;
    let mut cancelled = false;
    for i in 0..params.num_round {
        if ctl.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            cancelled = true;
            break;
        }
        booster.update(i, &dtrain)?;
        rounds = i + 1;
        if watch.is_empty() {
            continue;
        }
        let ev = parse_eval_line(i, &booster.eval(i, &watch)?);
        if let Some(cb) = ctl.on_round.as_mut() {
            cb(&ev);
        }
        let mut stop = false;
        if let (Some(patience), Some((set, metric, score))) = (params.early_stopping_rounds, ev.metrics.last().cloned()) {
            if set != "train" {
                let better = match best {
                    None => true,
                    Some((_, b)) => if maximize(&metric) { score > b } else { score < b },
                };
                if better {
                    best = Some((i, score));
                    booster.set_attr("best_iteration", &i.to_string())?;
                    booster.set_attr("best_score", &super::pyfmt::float_repr(score))?;
                } else if let Some((bi, _)) = best {
                    stop = i - bi >= patience;
                }
            }
        }
        out_evals.push(ev);
        if stop {
            tracing::info!(round = i, best = best.map(|b| b.0), "early stopping");
            break;
        }
    }
    Ok(TrainOutput { booster, evals: out_evals, rounds, best_iteration: best.map(|b| b.0), cancelled, elapsed: started.elapsed() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_lines() {
        let e = parse_eval_line(3, "[3]\ttrain-rmse:1.25\tvalidation-rmse:1.5\tvalidation-error@0.6:0.1");
        assert_eq!(e.get("train", "rmse"), Some(1.25));
        assert_eq!(e.get("validation", "rmse"), Some(1.5));
        assert_eq!(e.get("validation", "error@0.6"), Some(0.1));
        assert!(maximize("auc") && !maximize("rmse") && maximize("ndcg@5"));
    }
}
