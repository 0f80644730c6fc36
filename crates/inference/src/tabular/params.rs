//! Training parameters: typed for Rust callers ([`TrainParams`]), and parsed from the string
//! map SageMaker's built-in XGBoost algorithm takes ([`TrainParams::from_hyperparameters`]).
//!
//! The SageMaker parsing follows the algorithm container's validation (its hyper-parameter
//! table, ranges and messages: "Missing required hyperparameter: num_round", "Hyperparameter
//! eta: value 2.0 not in range [0, 1]", "Extraneous hyperparameter found: foo"), plus the
//! names older containers accepted: `objective=reg:linear` (now `reg:squarederror`) and
//! `silent` (now `verbosity`). Everything that is an XGBoost learner parameter is passed to
//! XGBoost as given, in name order, so a model trained here is the model Python's
//! `xgb.train(params, dtrain, num_round)` trains with the same parameters.

use super::TabularError;
use std::collections::BTreeMap;

/// What to train: the number of rounds, the XGBoost learner parameters, and the training
/// loop's own options.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams {
    /// Boosting rounds (`num_round`, at least 1).
    pub num_round: usize,
    /// XGBoost learner parameters, passed to `XGBoosterSetParam` in this order
    /// (`eval_metric` may appear several times).
    pub params: Vec<(String, String)>,
    /// Stop when the last metric of the last evaluation set has not improved for this many
    /// rounds (needs a validation set).
    pub early_stopping_rounds: Option<usize>,
    /// CSV training data carries an instance weight in its second column (`csv_weights=1`).
    pub csv_weights: bool,
}

impl TrainParams {
    /// Parameters for `objective` (e.g. `reg:squarederror`, `binary:logistic`) and `num_round`
    /// rounds; add others with [`TrainParams::set`] or the typed helpers.
    pub fn new(objective: &str, num_round: usize) -> TrainParams {
        TrainParams { num_round, params: vec![("objective".into(), objective.into())], early_stopping_rounds: None, csv_weights: false }
    }

    /// Set (or replace) one learner parameter.
    pub fn set(mut self, name: &str, value: impl ToString) -> TrainParams {
        self.params.retain(|(k, _)| k != name);
        self.params.push((name.to_string(), value.to_string()));
        self
    }
    /// `max_depth`: maximum tree depth.
    pub fn max_depth(self, v: u32) -> TrainParams {
        self.set("max_depth", v)
    }
    /// `eta`: learning rate.
    pub fn eta(self, v: f64) -> TrainParams {
        self.set("eta", v)
    }
    /// `gamma`: minimum loss reduction to split.
    pub fn gamma(self, v: f64) -> TrainParams {
        self.set("gamma", v)
    }
    /// `min_child_weight`: minimum hessian sum in a child.
    pub fn min_child_weight(self, v: f64) -> TrainParams {
        self.set("min_child_weight", v)
    }
    /// `subsample`: fraction of rows sampled per tree.
    pub fn subsample(self, v: f64) -> TrainParams {
        self.set("subsample", v)
    }
    /// `colsample_bytree`: fraction of columns sampled per tree.
    pub fn colsample_bytree(self, v: f64) -> TrainParams {
        self.set("colsample_bytree", v)
    }
    /// `seed`: random seed.
    pub fn seed(self, v: i64) -> TrainParams {
        self.set("seed", v)
    }
    /// `scale_pos_weight`: weight of positive instances (imbalanced binary labels).
    pub fn scale_pos_weight(self, v: f64) -> TrainParams {
        self.set("scale_pos_weight", v)
    }
    /// Add an evaluation metric (`rmse`, `auc`, `logloss`, …); several may be added.
    pub fn eval_metric(mut self, m: &str) -> TrainParams {
        self.params.push(("eval_metric".into(), m.into()));
        self
    }
    /// Stop early after `n` rounds without improvement on the validation set.
    pub fn early_stopping_rounds(mut self, n: usize) -> TrainParams {
        self.early_stopping_rounds = Some(n);
        self
    }

    /// The value of a learner parameter, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The objective (XGBoost's default `reg:squarederror` when unset).
    pub fn objective(&self) -> &str {
        self.get("objective").unwrap_or("reg:squarederror")
    }

    /// Parse SageMaker built-in XGBoost hyper-parameters (all values are strings, as
    /// `CreateTrainingJob` sends them). Errors carry the algorithm's own message.
    pub fn from_hyperparameters(hp: &BTreeMap<String, String>) -> Result<TrainParams, TabularError> {
        let user = |m: String| TabularError::Param(m);
        // Aliases map onto their key, as the container does.
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        for (k, v) in hp {
            let key = match k.as_str() {
                "learning_rate" => "eta",
                "min_split_loss" => "gamma",
                "reg_lambda" => "lambda",
                "reg_alpha" => "alpha",
                other => other,
            };
            values.insert(key, v.as_str());
        }
        if !values.contains_key("num_round") {
            return Err(user("Missing required hyperparameter: num_round".into()));
        }
        let mut out = TrainParams { num_round: 1, params: Vec::new(), early_stopping_rounds: None, csv_weights: false };
        for (&name, &raw) in &values {
            let spec = SPECS.iter().find(|s| s.name == name).ok_or_else(|| user(format!("Extraneous hyperparameter found: {name}")))?;
            let value = raw.trim();
            let bad = || user(format!("Hyperparameter {name}: could not parse value"));
            match &spec.kind {
                Kind::Int(range) => {
                    let v = parse_int(value).ok_or_else(bad)?;
                    if !range.contains(v as f64) {
                        return Err(user(format!("Hyperparameter {name}: value {v} not in range {}", range.show())));
                    }
                }
                Kind::Float(range) => {
                    let v: f64 = value.parse().map_err(|_| bad())?;
                    if !range.contains(v) {
                        return Err(user(format!("Hyperparameter {name}: value {} not in range {}", py_float(v), range.show())));
                    }
                }
                Kind::Choice(choices) => {
                    if !choices.contains(&value) {
                        return Err(user(format!("Hyperparameter {name}: {value} is not in {}", py_list(choices))));
                    }
                }
                Kind::List(choices) => {
                    for item in value.split(',') {
                        let metric = item.split('@').next().unwrap_or(item).trim();
                        if !choices.is_empty() && !choices.contains(&metric) {
                            let items: Vec<String> = value.split(',').map(|s| format!("'{s}'")).collect();
                            return Err(user(format!("Hyperparameter {name}: value [{}] not in range {}", items.join(", "), py_list(choices))));
                        }
                    }
                }
                Kind::Text => {}
            }
            match name {
                "num_round" => out.num_round = parse_int(value).ok_or_else(bad)? as usize,
                "early_stopping_rounds" => out.early_stopping_rounds = Some(parse_int(value).ok_or_else(bad)? as usize),
                "csv_weights" => out.csv_weights = value == "1",
                // Container-level switches, not learner parameters.
                "_tuning_objective_metric" | "save_model_on_termination" | "use_dask_gpu_training" | "prob_buffer_row" => {}
                "objective" if value == "reg:linear" => out.params.push(("objective".into(), "reg:squarederror".into())),
                "silent" => {
                    if value == "1" {
                        out.params.push(("verbosity".into(), "0".into()));
                    }
                }
                "eval_metric" => {
                    for m in value.split(',') {
                        out.params.push(("eval_metric".into(), m.trim().to_string()));
                    }
                }
                _ => out.params.push((name.to_string(), value.to_string())),
            }
        }
        let objective = out.objective().to_string();
        let num_class = values.get("num_class");
        if objective.starts_with("multi:") && num_class.is_none() {
            return Err(user("Require input for parameter 'num_class' for multi-classification".into()));
        }
        if !objective.starts_with("multi:") && values.contains_key("objective") && num_class.is_some() {
            return Err(user("Do not need to setup parameter 'num_class' for learning task other than multi-classification.".into()));
        }
        if let Some(m) = values.get("eval_metric") {
            if m.split(',').any(|x| x.trim() == "auc") && !(objective.starts_with("binary:") || objective.starts_with("rank:")) {
                return Err(user("Metric 'auc' can only be applied for classification and ranking problems.".into()));
            }
        }
        Ok(out)
    }
}

/// Python's `int()` of a hyper-parameter string (SageMaker's SDK sends `"5"`, and also
/// accepts `"5.0"`-style values for integer parameters only when they are whole).
fn parse_int(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().or_else(|| s.parse::<f64>().ok().filter(|f| f.fract() == 0.0 && f.is_finite() && f.abs() < 9e15).map(|f| f as i64))
}

/// Python's `str(float)`.
fn py_float(v: f64) -> String {
    super::pyfmt::float_repr(v)
}

fn py_list(items: &[&str]) -> String {
    format!("[{}]", items.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", "))
}

#[derive(Debug, Clone, Copy)]
struct Range {
    min: Option<(f64, bool)>,
    max: Option<(f64, bool)>,
}

impl Range {
    const fn closed(min: f64, max: f64) -> Range {
        Range { min: Some((min, true)), max: Some((max, true)) }
    }
    const fn at_least(min: f64) -> Range {
        Range { min: Some((min, true)), max: None }
    }
    const fn above(min: f64) -> Range {
        Range { min: Some((min, false)), max: None }
    }
    const fn open_closed(min: f64, max: f64) -> Range {
        Range { min: Some((min, false)), max: Some((max, true)) }
    }
    const fn open(min: f64, max: f64) -> Range {
        Range { min: Some((min, false)), max: Some((max, false)) }
    }
    fn contains(&self, v: f64) -> bool {
        if v.is_nan() {
            return false;
        }
        let lo = self.min.is_none_or(|(m, closed)| if closed { v >= m } else { v > m });
        let hi = self.max.is_none_or(|(m, closed)| if closed { v <= m } else { v < m });
        lo && hi
    }
    /// The container's interval notation: `[0, 1]`, `(0, 1]`, `[1, +inf)`.
    fn show(&self) -> String {
        let num = |v: f64| if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { py_float(v) };
        let lo = match self.min {
            Some((m, true)) => format!("[{}, ", num(m)),
            Some((m, false)) => format!("({}, ", num(m)),
            None => "(-inf, ".into(),
        };
        let hi = match self.max {
            Some((m, true)) => format!("{}]", num(m)),
            Some((m, false)) => format!("{})", num(m)),
            None => "+inf)".into(),
        };
        lo + &hi
    }
}

enum Kind {
    Int(Range),
    Float(Range),
    Choice(&'static [&'static str]),
    /// Comma-separated values from this set (empty: anything).
    List(&'static [&'static str]),
    /// Passed to XGBoost unchecked (tuples, nested lists).
    Text,
}

struct Spec {
    name: &'static str,
    kind: Kind,
}

const fn spec(name: &'static str, kind: Kind) -> Spec {
    Spec { name, kind }
}

const EVAL_METRICS: &[&str] = &[
    "accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg", "precision", "r2", "recall", "precision_macro",
    "precision_micro", "recall_macro", "recall_micro", "aft-nloglik", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik",
    "interval-regression-accuracy", "logloss", "mae", "mape", "merror", "mlogloss", "mphe", "mse", "poisson-nloglik", "rmse", "rmsle",
    "tweedie-nloglik",
];

const OBJECTIVES: &[&str] = &[
    "aft_loss_distribution", "binary:logistic", "binary:logitraw", "binary:hinge", "count:poisson", "multi:softmax", "multi:softprob",
    "rank:pairwise", "rank:ndcg", "rank:map", "reg:linear", "reg:squarederror", "reg:logistic", "reg:gamma", "reg:pseudohubererror",
    "reg:squaredlogerror", "reg:absoluteerror", "reg:tweedie", "survival:aft", "survival:cox",
];

/// The SageMaker XGBoost algorithm's hyper-parameters (its `hyperparameter_validation.py`),
/// plus `silent` from the 0.90/1.0 containers.
const SPECS: &[Spec] = &[
    spec("num_round", Kind::Int(Range::at_least(1.0))),
    spec("csv_weights", Kind::Int(Range::closed(0.0, 1.0))),
    spec("early_stopping_rounds", Kind::Int(Range::at_least(1.0))),
    spec("booster", Kind::Choice(&["gbtree", "gblinear", "dart"])),
    spec("silent", Kind::Int(Range::closed(0.0, 1.0))),
    spec("verbosity", Kind::Int(Range::closed(0.0, 3.0))),
    spec("nthread", Kind::Int(Range::at_least(1.0))),
    spec("eta", Kind::Float(Range::closed(0.0, 1.0))),
    spec("gamma", Kind::Float(Range::at_least(0.0))),
    spec("max_depth", Kind::Int(Range::at_least(0.0))),
    spec("min_child_weight", Kind::Float(Range::at_least(0.0))),
    spec("max_delta_step", Kind::Float(Range::at_least(0.0))),
    spec("subsample", Kind::Float(Range::open_closed(0.0, 1.0))),
    spec("colsample_bytree", Kind::Float(Range::open_closed(0.0, 1.0))),
    spec("colsample_bylevel", Kind::Float(Range::open_closed(0.0, 1.0))),
    spec("colsample_bynode", Kind::Float(Range::open_closed(0.0, 1.0))),
    spec("lambda", Kind::Float(Range::at_least(0.0))),
    spec("alpha", Kind::Float(Range::at_least(0.0))),
    spec("tree_method", Kind::Choice(&["auto", "exact", "approx", "hist", "gpu_hist"])),
    spec("sketch_eps", Kind::Float(Range::open(0.0, 1.0))),
    spec("scale_pos_weight", Kind::Float(Range::above(0.0))),
    spec("updater", Kind::List(&["grow_colmaker", "distcol", "grow_histmaker", "grow_skmaker", "sync", "refresh", "prune", "shotgun", "coord_descent", "grow_quantile_histmaker"])),
    spec("dsplit", Kind::Choice(&["row", "col"])),
    spec("refresh_leaf", Kind::Int(Range::closed(0.0, 1.0))),
    spec("process_type", Kind::Choice(&["default", "update"])),
    spec("grow_policy", Kind::Choice(&["depthwise", "lossguide"])),
    spec("max_leaves", Kind::Int(Range::at_least(0.0))),
    spec("max_bin", Kind::Int(Range::at_least(0.0))),
    spec("predictor", Kind::Choice(&["auto", "cpu_predictor", "gpu_predictor"])),
    spec("monotone_constraints", Kind::Text),
    spec("interaction_constraints", Kind::Text),
    spec("sample_type", Kind::Choice(&["uniform", "weighted"])),
    spec("normalize_type", Kind::Choice(&["tree", "forest"])),
    spec("rate_drop", Kind::Float(Range::closed(0.0, 1.0))),
    spec("one_drop", Kind::Int(Range::closed(0.0, 1.0))),
    spec("skip_drop", Kind::Float(Range::closed(0.0, 1.0))),
    spec("lambda_bias", Kind::Float(Range::closed(0.0, 1.0))),
    spec("tweedie_variance_power", Kind::Float(Range::open(1.0, 2.0))),
    spec("objective", Kind::Choice(OBJECTIVES)),
    spec("num_class", Kind::Int(Range::at_least(2.0))),
    spec("base_score", Kind::Float(Range::at_least(0.0))),
    spec("_tuning_objective_metric", Kind::Text),
    spec("eval_metric", Kind::List(EVAL_METRICS)),
    spec("seed", Kind::Int(Range::open(-2147483648.0, 2147483647.0))),
    spec("num_parallel_tree", Kind::Int(Range::at_least(1.0))),
    spec("save_model_on_termination", Kind::Choice(&["true", "false"])),
    spec("aft_loss_distribution", Kind::Choice(&["normal", "logistic", "extreme"])),
    spec("aft_loss_distribution_scale", Kind::Float(Range::at_least(0.0))),
    spec("deterministic_histogram", Kind::Choice(&["true", "false"])),
    spec("sampling_method", Kind::Choice(&["uniform", "gradient_based"])),
    spec("prob_buffer_row", Kind::Float(Range::above(1.0))),
    spec("use_dask_gpu_training", Kind::Choice(&["true", "false"])),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_seed_hyperparameters() {
        let p = TrainParams::from_hyperparameters(&hp(&[
            ("objective", "reg:linear"),
            ("num_round", "50"),
            ("max_depth", "5"),
            ("eta", "0.2"),
            ("gamma", "4"),
            ("min_child_weight", "6"),
            ("subsample", "0.7"),
            ("silent", "0"),
        ]))
        .unwrap();
        assert_eq!(p.num_round, 50);
        assert_eq!(p.objective(), "reg:squarederror");
        assert_eq!(p.get("max_depth"), Some("5"));
        assert_eq!(p.get("verbosity"), None);
        assert!(!p.params.iter().any(|(k, _)| k == "num_round" || k == "silent"));
    }

    #[test]
    fn container_messages() {
        let e = |pairs: &[(&str, &str)]| TrainParams::from_hyperparameters(&hp(pairs)).unwrap_err().to_string();
        assert_eq!(e(&[("eta", "0.1")]), "Missing required hyperparameter: num_round");
        assert_eq!(e(&[("num_round", "5"), ("foo", "1")]), "Extraneous hyperparameter found: foo");
        assert_eq!(e(&[("num_round", "5"), ("eta", "2")]), "Hyperparameter eta: value 2.0 not in range [0, 1]");
        assert_eq!(e(&[("num_round", "0")]), "Hyperparameter num_round: value 0 not in range [1, +inf)");
        assert_eq!(e(&[("num_round", "x")]), "Hyperparameter num_round: could not parse value");
        assert_eq!(e(&[("num_round", "5"), ("subsample", "0")]), "Hyperparameter subsample: value 0.0 not in range (0, 1]");
        assert!(e(&[("num_round", "5"), ("objective", "multi:softmax")]).contains("num_class"));
        assert!(e(&[("num_round", "5"), ("objective", "reg:squarederror"), ("eval_metric", "auc")]).contains("auc"));
        assert!(e(&[("num_round", "5"), ("booster", "x")]).starts_with("Hyperparameter booster: x is not in ['gbtree'"));
    }

    #[test]
    fn aliases_and_lists() {
        let p = TrainParams::from_hyperparameters(&hp(&[("num_round", "3"), ("learning_rate", "0.3"), ("eval_metric", "rmse,mae"), ("early_stopping_rounds", "2")])).unwrap();
        assert_eq!(p.get("eta"), Some("0.3"));
        assert_eq!(p.params.iter().filter(|(k, _)| k == "eval_metric").count(), 2);
        assert_eq!(p.early_stopping_rounds, Some(2));
        let t = TrainParams::new("binary:logistic", 10).max_depth(4).eta(0.1).eval_metric("auc");
        assert_eq!(t.get("max_depth"), Some("4"));
        assert_eq!(t.objective(), "binary:logistic");
    }
}
