//! Model scores and the numbers that describe a trained model.
//!
//! Scores run from 0 (low risk) to 1000 (high risk) and are calibrated to the false-positive
//! rate, as AWS documents for Online and Transaction Fraud Insights: "a score of 600
//! corresponds to an estimated 10% false positive rate whereas a score of 900 corresponds to an
//! estimated 2% false positive rate". The mapping goes through the anchors
//! (0, 100%), (600, 10%), (900, 2%), (1000, 0.1%), log-linear between them: a raw model
//! probability p is turned into the share of validation legitimate events scoring at least p
//! (its FPR), and that FPR into the score on this curve. So on the validation data a rule
//! `score > T` flags the FPR the curve gives for T; the threshold table in the model version's
//! training metrics shows the measured FPR, TPR and precision at every threshold.

use serde::{Deserialize, Serialize};

/// (score, false-positive rate) anchors of the score scale.
const ANCHORS: [(f64, f64); 4] = [(0.0, 1.0), (600.0, 0.10), (900.0, 0.02), (1000.0, 0.001)];

/// Most legitimate validation probabilities kept in a calibration (quantiles beyond it).
const MAX_POINTS: usize = 4096;

/// The expected FPR of a score on the scale.
pub fn fpr_of_score(score: f64) -> f64 {
    let s = score.clamp(0.0, 1000.0);
    for w in ANCHORS.windows(2) {
        let ((s0, f0), (s1, f1)) = (w[0], w[1]);
        if s <= s1 {
            let t = (s - s0) / (s1 - s0);
            return (f0.ln() + t * (f1.ln() - f0.ln())).exp();
        }
    }
    ANCHORS[3].1
}

/// The score whose expected FPR is `fpr`.
pub fn score_of_fpr(fpr: f64) -> f64 {
    if fpr >= 1.0 {
        return 0.0;
    }
    if fpr <= ANCHORS[3].1 {
        return 1000.0;
    }
    for w in ANCHORS.windows(2) {
        let ((s0, f0), (s1, f1)) = (w[0], w[1]);
        if fpr >= f1 {
            let t = (fpr.ln() - f0.ln()) / (f1.ln() - f0.ln());
            return s0 + t * (s1 - s0);
        }
    }
    1000.0
}

/// The fitted map from a model probability to a score.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Calibration {
    /// Legitimate validation probabilities, ascending (a quantile sketch when there were many).
    legit: Vec<f32>,
}

impl Calibration {
    /// Fit on the validation legitimate events' probabilities.
    pub fn fit(mut legit: Vec<f32>) -> Calibration {
        legit.retain(|p| p.is_finite());
        legit.sort_by(|a, b| a.total_cmp(b));
        if legit.len() > MAX_POINTS {
            let n = legit.len();
            legit = (0..MAX_POINTS).map(|i| legit[i * (n - 1) / (MAX_POINTS - 1)]).collect();
        }
        Calibration { legit }
    }

    /// Share of legitimate validation events with probability at least `p` (interpolated
    /// between neighbours so close probabilities get close scores).
    pub fn fpr(&self, p: f32) -> f64 {
        let n = self.legit.len();
        if n == 0 || !p.is_finite() {
            return 1.0;
        }
        // Index of the first legit probability >= p.
        let k = self.legit.partition_point(|x| *x < p);
        if k == 0 {
            return 1.0;
        }
        if k == n {
            // Above every legitimate event: below 1/n, shrinking with the distance.
            let top = self.legit[n - 1] as f64;
            let gap = ((p as f64 - top) / (1.0 - top).max(1e-9)).clamp(0.0, 1.0);
            return (1.0 / n as f64) * (1.0 - gap) * 0.5;
        }
        let (lo, hi) = (self.legit[k - 1] as f64, self.legit[k] as f64);
        let t = if hi > lo { ((p as f64) - lo) / (hi - lo) } else { 1.0 };
        let at_lo = (n - k + 1) as f64 / n as f64;
        let at_hi = (n - k) as f64 / n as f64;
        at_lo + t * (at_hi - at_lo)
    }

    /// The 0–1000 score of a probability (rounded to a whole number, as AWS returns them).
    pub fn score(&self, p: f32) -> f32 {
        score_of_fpr(self.fpr(p)).round() as f32
    }
}

/// Area under the ROC curve (ties count half). `None` without both classes.
pub fn auc(scores: &[f32], labels: &[bool]) -> Option<f64> {
    let mut pairs: Vec<(f32, bool)> = scores.iter().copied().zip(labels.iter().copied()).filter(|(s, _)| s.is_finite()).collect();
    let pos = pairs.iter().filter(|(_, l)| *l).count() as f64;
    let neg = pairs.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0;
        rank_sum += avg_rank * pairs[i..j].iter().filter(|(_, l)| *l).count() as f64;
        i = j;
    }
    Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// A 95% interval of an AUC (Hanley & McNeil's standard error).
pub fn auc_interval(auc: f64, positives: usize, negatives: usize) -> (f64, f64) {
    let (np, nn) = (positives as f64, negatives as f64);
    if np == 0.0 || nn == 0.0 {
        return (auc, auc);
    }
    let q1 = auc / (2.0 - auc);
    let q2 = 2.0 * auc * auc / (1.0 + auc);
    let var = (auc * (1.0 - auc) + (np - 1.0) * (q1 - auc * auc) + (nn - 1.0) * (q2 - auc * auc)) / (np * nn);
    let se = var.max(0.0).sqrt();
    ((auc - 1.96 * se).max(0.0), (auc + 1.96 * se).min(1.0))
}

/// One row of the threshold table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdPoint {
    pub threshold: f32,
    pub fpr: f32,
    pub tpr: f32,
    pub precision: f32,
}

/// FPR, TPR and precision of `score >= t` for t = 0, 10, …, 1000 on scored, labelled events.
pub fn threshold_table(scores: &[f32], labels: &[bool]) -> Vec<ThresholdPoint> {
    let pos = labels.iter().filter(|l| **l).count().max(1) as f32;
    let neg = labels.iter().filter(|l| !**l).count().max(1) as f32;
    (0..=100)
        .map(|i| {
            let t = (i * 10) as f32;
            let (mut tp, mut fp) = (0f32, 0f32);
            for (s, l) in scores.iter().zip(labels) {
                if *s >= t {
                    if *l {
                        tp += 1.0
                    } else {
                        fp += 1.0
                    }
                }
            }
            let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 1.0 };
            ThresholdPoint { threshold: t, fpr: fp / neg, tpr: tp / pos, precision }
        })
        .collect()
}

/// A relative impact rating as AWS words it: `"<0-5> - increased|decreased"` from a
/// log-odds impact.
pub fn relative_impact(log_odds: f32) -> String {
    let m = log_odds.abs();
    let rating = if m < 0.05 {
        0
    } else if m < 0.25 {
        1
    } else if m < 0.5 {
        2
    } else if m < 1.0 {
        3
    } else if m < 2.0 {
        4
    } else {
        5
    };
    if rating == 0 {
        "0".into()
    } else {
        format!("{rating} - {}", if log_odds > 0.0 { "increased" } else { "decreased" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_matches_the_documented_points() {
        assert!((fpr_of_score(600.0) - 0.10).abs() < 1e-9);
        assert!((fpr_of_score(900.0) - 0.02).abs() < 1e-9);
        assert!((fpr_of_score(0.0) - 1.0).abs() < 1e-9);
        for s in [0.0, 150.0, 600.0, 750.0, 900.0, 950.0, 999.0] {
            assert!((score_of_fpr(fpr_of_score(s)) - s).abs() < 1e-6, "{s}");
        }
        assert_eq!(score_of_fpr(0.0), 1000.0);
        assert_eq!(score_of_fpr(1.0), 0.0);
    }

    #[test]
    fn calibrated_scores_give_the_documented_false_positive_rates() {
        // Legitimate probabilities uniform on [0, 1): FPR(p) = 1 - p.
        let legit: Vec<f32> = (0..10_000).map(|i| i as f32 / 10_000.0).collect();
        let cal = Calibration::fit(legit.clone());
        let scores: Vec<f32> = legit.iter().map(|p| cal.score(*p)).collect();
        let share = |t: f32| scores.iter().filter(|s| **s >= t).count() as f64 / scores.len() as f64;
        assert!((share(600.0) - 0.10).abs() < 0.005, "{}", share(600.0));
        assert!((share(900.0) - 0.02).abs() < 0.003, "{}", share(900.0));
        // Monotone, bounded.
        let mut last = -1.0;
        for i in 0..=1000 {
            let s = cal.score(i as f32 / 1000.0);
            assert!((0.0..=1000.0).contains(&s));
            assert!(s >= last);
            last = s;
        }
        assert_eq!(cal.score(1.0), 1000.0);
    }

    #[test]
    fn auc_and_table() {
        assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]), Some(0.75));
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), Some(0.5));
        assert_eq!(auc(&[0.5], &[true]), None);
        let (lo, hi) = auc_interval(0.9, 100, 1000);
        assert!(lo < 0.9 && hi > 0.9 && hi <= 1.0);
        let t = threshold_table(&[100.0, 950.0, 920.0, 10.0], &[false, true, false, false]);
        assert_eq!(t.len(), 101);
        let at900 = t.iter().find(|p| p.threshold == 900.0).unwrap();
        assert_eq!((at900.tpr, at900.fpr, at900.precision), (1.0, 1.0 / 3.0, 0.5));
        assert_eq!(relative_impact(2.5), "5 - increased");
        assert_eq!(relative_impact(-0.3), "2 - decreased");
        assert_eq!(relative_impact(0.01), "0");
    }
}
