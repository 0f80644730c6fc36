//! Evaluation metrics over predictions and labels, computed in Rust (XGBoost's own metrics are
//! in the per-round evaluation lines; these serve callers that score a held-out set or a
//! deployed model: model reports, tests, the Fraud Detector's model performance).
//!
//! Definitions follow XGBoost's: `rmse`, `mae`, `mse`, `r2` for regression; for binary
//! classification on probabilities, `logloss` (clipped at 1e-16), `error` at threshold 0.5,
//! `auc` (rank statistic with ties averaged), `accuracy`, `precision`, `recall`, `f1`.

/// A metric name XGBoost and SageMaker use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Rmse,
    Mae,
    Mse,
    R2,
    Logloss,
    Error,
    Auc,
    Accuracy,
    Precision,
    Recall,
    F1,
}

impl Metric {
    /// Parse XGBoost's spelling (`rmse`, `auc`, …).
    pub fn parse(name: &str) -> Option<Metric> {
        Some(match name {
            "rmse" => Metric::Rmse,
            "mae" => Metric::Mae,
            "mse" => Metric::Mse,
            "r2" => Metric::R2,
            "logloss" => Metric::Logloss,
            "error" => Metric::Error,
            "auc" => Metric::Auc,
            "accuracy" => Metric::Accuracy,
            "precision" => Metric::Precision,
            "recall" => Metric::Recall,
            "f1" => Metric::F1,
            _ => return None,
        })
    }

    /// XGBoost's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Rmse => "rmse",
            Metric::Mae => "mae",
            Metric::Mse => "mse",
            Metric::R2 => "r2",
            Metric::Logloss => "logloss",
            Metric::Error => "error",
            Metric::Auc => "auc",
            Metric::Accuracy => "accuracy",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::F1 => "f1",
        }
    }

    /// Whether larger values are better.
    pub fn maximize(self) -> bool {
        matches!(self, Metric::R2 | Metric::Auc | Metric::Accuracy | Metric::Precision | Metric::Recall | Metric::F1)
    }

    /// The metric of `preds` against `labels` (same length, non-empty), or `None` when it is
    /// undefined (empty input, AUC with a single class, R² of constant labels).
    pub fn evaluate(self, preds: &[f32], labels: &[f32]) -> Option<f64> {
        if preds.is_empty() || preds.len() != labels.len() {
            return None;
        }
        let n = preds.len() as f64;
        let pairs = || preds.iter().zip(labels).map(|(&p, &y)| (p as f64, y as f64));
        let positive = |p: f64| p > 0.5;
        let confusion = || {
            let (mut tp, mut fp, mut fn_, mut tn) = (0f64, 0f64, 0f64, 0f64);
            for (p, y) in pairs() {
                match (positive(p), y > 0.5) {
                    (true, true) => tp += 1.0,
                    (true, false) => fp += 1.0,
                    (false, true) => fn_ += 1.0,
                    (false, false) => tn += 1.0,
                }
            }
            (tp, fp, fn_, tn)
        };
        match self {
            Metric::Mse => Some(pairs().map(|(p, y)| (p - y).powi(2)).sum::<f64>() / n),
            Metric::Rmse => Metric::Mse.evaluate(preds, labels).map(f64::sqrt),
            Metric::Mae => Some(pairs().map(|(p, y)| (p - y).abs()).sum::<f64>() / n),
            Metric::R2 => {
                let mean = labels.iter().map(|&y| y as f64).sum::<f64>() / n;
                let ss_tot: f64 = labels.iter().map(|&y| (y as f64 - mean).powi(2)).sum();
                let ss_res: f64 = pairs().map(|(p, y)| (y - p).powi(2)).sum();
                (ss_tot > 0.0).then(|| 1.0 - ss_res / ss_tot)
            }
            Metric::Logloss => {
                let eps = 1e-16;
                Some(-pairs().map(|(p, y)| {
                    let p = p.clamp(eps, 1.0 - eps);
                    y * p.ln() + (1.0 - y) * (1.0 - p).ln()
                }).sum::<f64>() / n)
            }
            Metric::Error => Some(pairs().filter(|&(p, y)| positive(p) != (y > 0.5)).count() as f64 / n),
            Metric::Accuracy => Metric::Error.evaluate(preds, labels).map(|e| 1.0 - e),
            Metric::Precision => {
                let (tp, fp, _, _) = confusion();
                (tp + fp > 0.0).then(|| tp / (tp + fp))
            }
            Metric::Recall => {
                let (tp, _, fn_, _) = confusion();
                (tp + fn_ > 0.0).then(|| tp / (tp + fn_))
            }
            Metric::F1 => {
                let (tp, fp, fn_, _) = confusion();
                (2.0 * tp + fp + fn_ > 0.0).then(|| 2.0 * tp / (2.0 * tp + fp + fn_))
            }
            Metric::Auc => auc(preds, labels),
        }
    }
}

/// Area under the ROC curve: the Mann–Whitney statistic, ties sharing their average rank.
fn auc(preds: &[f32], labels: &[f32]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..preds.len()).collect();
    idx.sort_by(|&a, &b| preds[a].total_cmp(&preds[b]));
    let mut rank_sum_pos = 0f64;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && preds[idx[j + 1]] == preds[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] > 0.5 {
                rank_sum_pos += avg_rank;
            }
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&y| y > 0.5).count() as f64;
    let neg = labels.len() as f64 - pos;
    (pos > 0.0 && neg > 0.0).then(|| (rank_sum_pos - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_metrics() {
        let (p, y) = ([1.0, 2.0, 4.0], [1.0, 3.0, 2.0]);
        assert!((Metric::Mse.evaluate(&p, &y).unwrap() - 5.0 / 3.0).abs() < 1e-12);
        assert!((Metric::Rmse.evaluate(&p, &y).unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((Metric::Mae.evaluate(&p, &y).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(Metric::R2.evaluate(&[2.0, 2.0], &[2.0, 2.0]), None);
        assert_eq!(Metric::Rmse.evaluate(&[], &[]), None);
    }

    #[test]
    fn classification_metrics() {
        let p = [0.1, 0.4, 0.35, 0.8];
        let y = [0.0, 0.0, 1.0, 1.0];
        assert!((Metric::Auc.evaluate(&p, &y).unwrap() - 0.75).abs() < 1e-12);
        assert_eq!(Metric::Error.evaluate(&p, &y), Some(0.25));
        assert_eq!(Metric::Precision.evaluate(&p, &y), Some(1.0));
        assert_eq!(Metric::Recall.evaluate(&p, &y), Some(0.5));
        assert_eq!(Metric::Auc.evaluate(&[0.5, 0.5], &[1.0, 1.0]), None);
        assert!((Metric::Auc.evaluate(&[0.5, 0.5], &[0.0, 1.0]).unwrap() - 0.5).abs() < 1e-12);
        assert!(Metric::Logloss.evaluate(&[1.0], &[0.0]).unwrap().is_finite());
        assert_eq!(Metric::parse("auc"), Some(Metric::Auc));
    }
}
