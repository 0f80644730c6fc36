//! Serving an XGBoost model's trees without a library call per event.
//!
//! Why: one-row predictions through XGBoost's C API (`XGBoosterPredictFromDense`) cost about
//! 150–200 µs of CPU here — the library sets up a prediction context for every call — while
//! walking 20–600 small trees takes a few microseconds. GetEventPrediction scores one event
//! at a time, so the per-call cost would dominate its latency.
//!
//! What: the booster's own JSON model (saved by XGBoost, `ModelFormat::Json`) read into flat
//! arrays and evaluated as XGBoost does: a split sends `x < condition` (compared as `f32`) to
//! the left child and a missing value (`NaN`) to its default side; the margin is the base
//! margin plus the leaves reached; `binary:logistic` turns it into a probability. This is not
//! a second trainer — training is XGBoost's — and it is only used after [`Forest::verify`]
//! has matched the library's own predictions on probe rows built from every split condition
//! of the model (values just below and at each threshold, and missing values); otherwise the
//! scorer keeps calling the library.

use serde_json::Value;

/// One tree in flat arrays (index = node id).
#[derive(Debug, Clone)]
struct Tree {
    left: Vec<i32>,
    right: Vec<i32>,
    feature: Vec<u32>,
    /// Split condition of an inner node, leaf value of a leaf.
    value: Vec<f32>,
    default_left: Vec<bool>,
}

/// A gradient-boosted tree ensemble for `binary:logistic`.
#[derive(Debug, Clone)]
pub struct Forest {
    trees: Vec<Tree>,
    base_margin: f32,
    num_feature: usize,
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_start_matches('[').trim_end_matches(']').split(',').next()?.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn array<T>(v: &Value, f: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    v.as_array()?.iter().map(f).collect()
}

impl Forest {
    /// Read XGBoost's JSON model. `None` for anything but a `gbtree` `binary:logistic` model.
    pub fn from_json(bytes: &[u8]) -> Option<Forest> {
        let root: Value = serde_json::from_slice(bytes).ok()?;
        let learner = &root["learner"];
        if learner["objective"]["name"].as_str()? != "binary:logistic" {
            return None;
        }
        let booster = &learner["gradient_booster"];
        if booster["name"].as_str()? != "gbtree" {
            return None;
        }
        let params = &learner["learner_model_param"];
        if num(&params["num_class"]).unwrap_or(0.0) > 1.0 || num(&params["num_target"]).unwrap_or(1.0) > 1.0 {
            return None;
        }
        let base_score = num(&params["base_score"])? as f32;
        if !(0.0..1.0).contains(&base_score) || base_score <= 0.0 {
            return None;
        }
        let base_margin = (base_score / (1.0 - base_score)).ln();
        let num_feature = num(&params["num_feature"])? as usize;
        let mut trees = Vec::new();
        for t in booster["model"]["trees"].as_array()? {
            let left: Vec<i32> = array(&t["left_children"], |x| x.as_i64().map(|v| v as i32))?;
            let right: Vec<i32> = array(&t["right_children"], |x| x.as_i64().map(|v| v as i32))?;
            let feature: Vec<u32> = array(&t["split_indices"], |x| x.as_u64().map(|v| v as u32))?;
            let value: Vec<f32> = array(&t["split_conditions"], |x| x.as_f64().map(|v| v as f32))?;
            let default_left: Vec<bool> = array(&t["default_left"], |x| num(x).map(|v| v != 0.0))?;
            let n = left.len();
            if right.len() != n || feature.len() != n || value.len() != n || default_left.len() != n || n == 0 {
                return None;
            }
            // Children must point inside the tree and forward (no cycles).
            for i in 0..n {
                if left[i] >= 0 && (left[i] as usize >= n || right[i] < 0 || right[i] as usize >= n || left[i] as usize <= i || right[i] as usize <= i) {
                    return None;
                }
                if left[i] >= 0 && feature[i] as usize >= num_feature.max(1) {
                    return None;
                }
            }
            trees.push(Tree { left, right, feature, value, default_left });
        }
        Some(Forest { trees, base_margin, num_feature })
    }

    /// Number of features the model reads.
    pub fn num_feature(&self) -> usize {
        self.num_feature
    }

    /// The margin (log-odds) of one row.
    pub fn margin(&self, x: &[f32]) -> f32 {
        let mut m = self.base_margin;
        for t in &self.trees {
            let mut i = 0usize;
            loop {
                let l = t.left[i];
                if l < 0 {
                    m += t.value[i];
                    break;
                }
                let v = x.get(t.feature[i] as usize).copied().unwrap_or(f32::NAN);
                let go_left = if v.is_nan() { t.default_left[i] } else { v < t.value[i] };
                i = if go_left { l as usize } else { t.right[i] as usize };
            }
        }
        m
    }

    /// The probability of fraud of one row.
    pub fn probability(&self, x: &[f32]) -> f32 {
        1.0 / (1.0 + (-self.margin(x)).exp())
    }

    /// Probe rows that exercise every split of the model: each row sets every feature to a
    /// value just below, at or above one of its thresholds, or to missing.
    pub fn probes(&self, rows: usize) -> Vec<Vec<f32>> {
        let mut thresholds: Vec<Vec<f32>> = vec![Vec::new(); self.num_feature];
        for t in &self.trees {
            for i in 0..t.left.len() {
                if t.left[i] >= 0 {
                    thresholds[t.feature[i] as usize].push(t.value[i]);
                }
            }
        }
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        (0..rows)
            .map(|_| {
                (0..self.num_feature)
                    .map(|f| {
                        let th = &thresholds[f];
                        let r = next();
                        if th.is_empty() || r % 7 == 0 {
                            return if r % 2 == 0 { f32::NAN } else { (r % 1000) as f32 / 10.0 };
                        }
                        let c = th[(r / 7) as usize % th.len()];
                        match (r / 64) % 3 {
                            0 => c,
                            1 => f32::from_bits(c.to_bits().wrapping_sub(1)),
                            _ => c + c.abs().max(1.0) * 0.01,
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Whether this forest predicts what the library predicted (`expected`) for `rows`.
    pub fn verify(&self, rows: &[Vec<f32>], expected: &[f32]) -> bool {
        rows.len() == expected.len() && rows.iter().zip(expected).all(|(x, e)| (self.probability(x) - e).abs() <= 1e-5 + 1e-4 * e.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_a_hand_written_model() {
        // One tree: f0 < 0.5 → (f1 missing → right) leaf 0.2 / leaf -0.4; else leaf 1.0.
        let json = r#"{"learner": {"objective": {"name": "binary:logistic"}, "learner_model_param": {"base_score": "[5E-1]", "num_class": "0", "num_feature": "2"},
            "gradient_booster": {"name": "gbtree", "model": {"trees": [
              {"left_children": [1, 3, -1, -1, -1], "right_children": [2, 4, -1, -1, -1], "split_indices": [0, 1, 0, 0, 0],
               "split_conditions": [0.5, 2.0, 1.0, 0.2, -0.4], "default_left": [1, 0, 0, 0, 0]}]}}}}"#;
        let f = Forest::from_json(json.as_bytes()).unwrap();
        assert_eq!(f.margin(&[0.7, 0.0]), 1.0);
        assert_eq!(f.margin(&[0.5, 0.0]), 1.0, "x == condition goes right");
        assert_eq!(f.margin(&[0.2, 1.0]), 0.2);
        assert_eq!(f.margin(&[0.2, 3.0]), -0.4);
        assert_eq!(f.margin(&[0.2, f32::NAN]), -0.4, "missing follows default_left = false");
        assert_eq!(f.margin(&[f32::NAN, 1.0]), 0.2, "missing follows default_left = true");
        assert!((f.probability(&[0.7, 0.0]) - 1.0 / (1.0 + (-1.0f32).exp())).abs() < 1e-7);
        assert_eq!(f.probes(10).len(), 10);
        // Other objectives and malformed trees are refused.
        assert!(Forest::from_json(json.replace("binary:logistic", "reg:squarederror").as_bytes()).is_none());
        assert!(Forest::from_json(json.replace("[1, 3, -1, -1, -1]", "[1, 0, -1, -1, -1]").as_bytes()).is_none());
    }
}
