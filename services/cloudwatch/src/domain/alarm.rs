//! The alarm state machine: from the datapoints of an alarm's evaluation range to its next
//! state and the reason CloudWatch gives, following the CloudWatch user guide ("Evaluating an
//! alarm", "How alarm state is evaluated when data is missing").
//!
//! At each evaluation the alarm looks at the evaluation range: `N + 2` periods for an alarm of
//! `N` evaluation periods (the guide's tables retrieve 5 datapoints for `N = 3`). Then:
//! - with at least `N` real datapoints in the range, the newest `N` of them are evaluated and
//!   TreatMissingData plays no part;
//! - with none, the alarm goes to INSUFFICIENT_DATA (`missing`), keeps its state (`ignore`), or
//!   goes to ALARM (`breaching`) or OK (`notBreaching`);
//! - with some, every real datapoint is evaluated together with as few missing ones as needed to
//!   make `N`: with `breaching`/`notBreaching` the missing ones count as such; with `missing` and
//!   `ignore`, `M` breaching real datapoints mean ALARM, any non-breaching one means OK, and when
//!   all real datapoints breach but fewer than `M` the alarm goes to ALARM if the oldest evaluated
//!   datapoint is a real one and otherwise to INSUFFICIENT_DATA (`missing`) or stays (`ignore`).
//!   These rules reproduce every row of the guide's two example tables (see the tests).
//!
//! `ALARM` needs `M` (DatapointsToAlarm) breaching datapoints among the `N` evaluated; otherwise
//! the alarm is `OK` (the "minimum N-M+1 datapoints for ALARM -> OK transition" of the reasons).

use serde::{Deserialize, Serialize};

/// An alarm state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StateValue {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl StateValue {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StateValue::Ok => "OK",
            StateValue::Alarm => "ALARM",
            StateValue::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
    /// Parse AWS's spelling.
    pub fn parse(s: &str) -> Option<StateValue> {
        Some(match s {
            "OK" => StateValue::Ok,
            "ALARM" => StateValue::Alarm,
            "INSUFFICIENT_DATA" => StateValue::InsufficientData,
            _ => return None,
        })
    }
}

/// The comparison of a datapoint with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl Comparison {
    /// Parse a `ComparisonOperator` (the anomaly-band operators are not served).
    pub fn parse(s: &str) -> Option<Comparison> {
        Some(match s {
            "GreaterThanOrEqualToThreshold" => Comparison::GreaterThanOrEqualToThreshold,
            "GreaterThanThreshold" => Comparison::GreaterThanThreshold,
            "LessThanThreshold" => Comparison::LessThanThreshold,
            "LessThanOrEqualToThreshold" => Comparison::LessThanOrEqualToThreshold,
            _ => return None,
        })
    }
    /// Whether `v` breaches `threshold`.
    pub fn breaches(self, v: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => v >= threshold,
            Comparison::GreaterThanThreshold => v > threshold,
            Comparison::LessThanThreshold => v < threshold,
            Comparison::LessThanOrEqualToThreshold => v <= threshold,
        }
    }
    fn phrase(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Comparison::GreaterThanThreshold => "greater than",
            Comparison::LessThanThreshold => "less than",
            Comparison::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }
}

/// `TreatMissingData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreatMissing {
    Missing,
    NotBreaching,
    Breaching,
    Ignore,
}

impl TreatMissing {
    /// Parse AWS's spelling (`missing`, `notBreaching`, `breaching`, `ignore`).
    pub fn parse(s: &str) -> Option<TreatMissing> {
        Some(match s {
            "missing" => TreatMissing::Missing,
            "notBreaching" => TreatMissing::NotBreaching,
            "breaching" => TreatMissing::Breaching,
            "ignore" => TreatMissing::Ignore,
            _ => return None,
        })
    }
}

/// One period of the evaluation range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    /// Start of the period, epoch seconds.
    pub start: i64,
    /// The statistic's value; None when the period has no data.
    pub value: Option<f64>,
    /// Samples behind the value (single-metric alarms).
    pub sample_count: Option<f64>,
}

/// What an alarm compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub threshold: f64,
    pub comparison: Comparison,
    pub treat_missing: TreatMissing,
    /// `EvaluateLowSampleCountPercentile=ignore` on a percentile alarm: the sample count below
    /// which a datapoint leaves the state unchanged.
    pub low_sample_ignore_below: Option<f64>,
}

impl Rule {
    /// How many periods the evaluation range spans.
    pub fn range_len(&self) -> usize {
        self.evaluation_periods as usize + 2
    }
}

/// One datapoint as an evaluation used it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluated {
    pub start: i64,
    /// None for a missing datapoint filled by TreatMissingData.
    pub value: Option<f64>,
    pub sample_count: Option<f64>,
    pub breaching: bool,
}

/// Why the evaluation decided what it did (turned into the AWS reason text by [`reason`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Basis {
    /// Real datapoints decided (possibly with filled missing ones).
    Crossed {
        /// How many evaluated datapoints there were.
        evaluated: usize,
        /// The real datapoints of the deciding kind (breaching for ALARM, else not), newest first.
        deciding: Vec<Evaluated>,
        /// Missing datapoints filled by TreatMissingData, and whether they counted as breaching.
        filled: usize,
        filled_breaching: bool,
        /// Real datapoints evaluated.
        received: usize,
    },
    /// No decision possible: this many datapoints were unknown.
    Unknown(usize),
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The state the alarm should be in; None to keep the current one.
    pub state: Option<StateValue>,
    pub basis: Basis,
    /// The datapoints evaluated, newest first.
    pub evaluated: Vec<Evaluated>,
}

/// Evaluate `slots` (the evaluation range, oldest first) under `rule`.
pub fn evaluate(rule: &Rule, slots: &[Slot]) -> Decision {
    let n = rule.evaluation_periods.max(1) as usize;
    let m = rule.datapoints_to_alarm.clamp(1, n as u32) as usize;
    let point = |s: &Slot| Evaluated {
        start: s.start,
        value: s.value,
        sample_count: s.sample_count,
        breaching: s
            .value
            .is_some_and(|v| rule.comparison.breaches(v, rule.threshold)),
    };
    let real: Vec<Evaluated> = slots
        .iter()
        .filter(|s| s.value.is_some())
        .map(point)
        .collect();

    // Percentile alarms told to ignore statistically insignificant samples.
    if let Some(min) = rule.low_sample_ignore_below {
        if real
            .iter()
            .rev()
            .take(n)
            .any(|p| p.sample_count.is_some_and(|c| c < min))
        {
            return Decision {
                state: None,
                basis: Basis::Unknown(0),
                evaluated: Vec::new(),
            };
        }
    }

    let newest_first = |mut v: Vec<Evaluated>| {
        v.sort_by_key(|p| std::cmp::Reverse(p.start));
        v
    };
    let crossed =
        |state: StateValue, evaluated: Vec<Evaluated>, filled: usize, filled_breaching: bool| {
            let evaluated = newest_first(evaluated);
            let want_breaching = state == StateValue::Alarm;
            let deciding = evaluated
                .iter()
                .filter(|p| p.value.is_some() && p.breaching == want_breaching)
                .copied()
                .collect();
            let received = evaluated.iter().filter(|p| p.value.is_some()).count();
            Decision {
                state: Some(state),
                basis: Basis::Crossed {
                    evaluated: evaluated.len(),
                    deciding,
                    filled,
                    filled_breaching,
                    received,
                },
                evaluated,
            }
        };
    let by_count = |breaching: usize| {
        if breaching >= m {
            StateValue::Alarm
        } else {
            StateValue::Ok
        }
    };

    if real.len() >= n {
        let evaluated: Vec<Evaluated> = real[real.len() - n..].to_vec();
        let breaching = evaluated.iter().filter(|p| p.breaching).count();
        return crossed(by_count(breaching), evaluated, 0, false);
    }

    // The newest missing slots fill the evaluation up to N datapoints.
    let fills_needed = n - real.len();
    let fills: Vec<Evaluated> = slots
        .iter()
        .rev()
        .filter(|s| s.value.is_none())
        .take(fills_needed)
        .map(|s| Evaluated {
            start: s.start,
            value: None,
            sample_count: None,
            breaching: rule.treat_missing == TreatMissing::Breaching,
        })
        .collect();
    let filled = fills.len();
    let mut evaluated = real.clone();
    evaluated.extend(fills.iter().copied());

    match rule.treat_missing {
        TreatMissing::Breaching | TreatMissing::NotBreaching => {
            let filled_breaching = rule.treat_missing == TreatMissing::Breaching;
            let breaching = real.iter().filter(|p| p.breaching).count()
                + if filled_breaching { filled } else { 0 };
            crossed(by_count(breaching), evaluated, filled, filled_breaching)
        }
        TreatMissing::Missing | TreatMissing::Ignore => {
            let keep_or_unknown = |evaluated: Vec<Evaluated>| Decision {
                state: (rule.treat_missing == TreatMissing::Missing)
                    .then_some(StateValue::InsufficientData),
                basis: Basis::Unknown(filled),
                evaluated: newest_first(evaluated),
            };
            if real.is_empty() {
                return keep_or_unknown(evaluated);
            }
            let breaching = real.iter().filter(|p| p.breaching).count();
            if breaching >= m {
                return crossed(StateValue::Alarm, real, 0, false);
            }
            if breaching < real.len() {
                return crossed(StateValue::Ok, real, 0, false);
            }
            // Every real datapoint breaches, but fewer than M of them.
            let oldest_is_real = evaluated
                .iter()
                .min_by_key(|p| p.start)
                .is_some_and(|p| p.value.is_some());
            match (oldest_is_real, rule.treat_missing) {
                (true, TreatMissing::Missing) => crossed(StateValue::Alarm, real, 0, false),
                _ => keep_or_unknown(evaluated),
            }
        }
    }
}

/// Java's `Double.toString`, which CloudWatch's reasons use (`5.0`, `0.25`, `1.0E7`).
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v:?}");
        if s.contains('.') || s.contains('e') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        // Shortest round-trip digits in scientific form: d.dddE±x.
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// `25/11/26 13:00:00`: the datapoint time format of reasons.
pub fn reason_time(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.day(),
        t.month() as u8,
        t.year().rem_euclid(100),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The reason text of a transition from `old` to `decision.state`, in CloudWatch's words.
pub fn reason(rule: &Rule, decision: &Decision, old: StateValue) -> String {
    let new = decision.state.unwrap_or(old);
    match &decision.basis {
        Basis::Unknown(n) => format!(
            "Insufficient Data: {} {} unknown.",
            plural(*n, "datapoint", "datapoints"),
            if *n == 1 { "was" } else { "were" }
        ),
        Basis::Crossed {
            evaluated,
            deciding,
            filled,
            filled_breaching,
            received,
        } => {
            let n = rule.evaluation_periods.max(1) as usize;
            let m = rule.datapoints_to_alarm.clamp(1, n as u32) as usize;
            let negation = if new == StateValue::Alarm { "" } else { "not " };
            let treated = if *filled_breaching {
                "Breaching"
            } else {
                "NonBreaching"
            };
            let filled_text = format!(
                "{} {} treated as [{treated}]",
                plural(*filled, "missing datapoint", "missing datapoints"),
                if *filled == 1 { "was" } else { "were" }
            );
            if deciding.is_empty() {
                // Only filled datapoints decided.
                let received_text = match received {
                    0 => format!(
                        "no datapoints were received for {}",
                        plural(*evaluated, "period", "periods")
                    ),
                    r => format!(
                        "{} {} received for {}",
                        plural(*r, "datapoint", "datapoints"),
                        if *r == 1 { "was" } else { "were" },
                        plural(*evaluated, "period", "periods")
                    ),
                };
                return format!("Threshold Crossed: {received_text} and {filled_text}.");
            }
            let list: Vec<String> = deciding
                .iter()
                .map(|p| {
                    format!(
                        "{} ({})",
                        java_double(p.value.unwrap_or(0.0)),
                        reason_time(p.start)
                    )
                })
                .collect();
            let minimum = if new == StateValue::Alarm {
                m
            } else {
                n - m + 1
            };
            let filled_part = if *filled > 0 {
                format!(" and {filled_text}")
            } else {
                String::new()
            };
            format!(
                "Threshold Crossed: {} out of the last {} [{}] {} {negation}{} the threshold ({}){filled_part} (minimum {} for {} -> {} transition).",
                deciding.len(),
                plural(*evaluated, "datapoints", "datapoints"),
                list.join(", "),
                if deciding.len() == 1 { "was" } else { "were" },
                rule.comparison.phrase(),
                java_double(rule.threshold),
                plural(minimum, "datapoint", "datapoints"),
                old.as_str(),
                new.as_str(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(m: u32, n: u32, treat: TreatMissing) -> Rule {
        Rule {
            evaluation_periods: n,
            datapoints_to_alarm: m,
            threshold: 1.0,
            comparison: Comparison::GreaterThanThreshold,
            treat_missing: treat,
            low_sample_ignore_below: None,
        }
    }

    /// `0 - X - X` → slots (oldest first): `0` is 0.0, `X` is 5.0, `-` is missing.
    fn slots(pattern: &str) -> Vec<Slot> {
        pattern
            .split_whitespace()
            .enumerate()
            .map(|(i, c)| Slot {
                start: i as i64 * 60,
                value: match c {
                    "0" => Some(0.0),
                    "X" => Some(5.0),
                    _ => None,
                },
                sample_count: None,
            })
            .collect()
    }

    const RETAIN: Option<StateValue> = None;
    const OK: Option<StateValue> = Some(StateValue::Ok);
    const ALARM: Option<StateValue> = Some(StateValue::Alarm);
    const INSUFFICIENT: Option<StateValue> = Some(StateValue::InsufficientData);

    fn check(m: u32, n: u32, rows: &[(&str, [Option<StateValue>; 4])]) {
        let treatments = [
            TreatMissing::Missing,
            TreatMissing::Ignore,
            TreatMissing::Breaching,
            TreatMissing::NotBreaching,
        ];
        for (pattern, expected) in rows {
            for (t, want) in treatments.iter().zip(expected) {
                let d = evaluate(&rule(m, n, *t), &slots(pattern));
                assert_eq!(d.state, *want, "{m} of {n}, {pattern}, {t:?}");
            }
        }
    }

    #[test]
    fn user_guide_table_three_of_three() {
        check(
            3,
            3,
            &[
                ("0 - X - X", [OK, OK, OK, OK]),
                ("0 - - - -", [OK, OK, OK, OK]),
                ("- - - - -", [INSUFFICIENT, RETAIN, ALARM, OK]),
                ("0 X X - X", [ALARM, ALARM, ALARM, ALARM]),
                ("- - - - X", [INSUFFICIENT, RETAIN, ALARM, OK]),
                ("X - - - -", [ALARM, RETAIN, ALARM, OK]),
            ],
        );
    }

    #[test]
    fn user_guide_table_two_of_three() {
        check(
            2,
            3,
            &[
                ("0 - X - X", [ALARM, ALARM, ALARM, ALARM]),
                ("0 0 X 0 X", [ALARM, ALARM, ALARM, ALARM]),
                ("0 - X - -", [OK, OK, ALARM, OK]),
                ("- - - - 0", [OK, OK, ALARM, OK]),
                ("- - - - X", [INSUFFICIENT, RETAIN, ALARM, OK]),
            ],
        );
    }

    #[test]
    fn more_m_of_n_cases() {
        // 1 of 1: the newest real datapoint decides.
        check(
            1,
            1,
            &[
                ("- - X", [ALARM, ALARM, ALARM, ALARM]),
                ("X - 0", [OK, OK, OK, OK]),
                ("- - -", [INSUFFICIENT, RETAIN, ALARM, OK]),
            ],
        );
        // 3 of 5 with a range of 7: enough real datapoints, TreatMissingData unused.
        check(
            3,
            5,
            &[
                ("X X 0 - X X 0", [ALARM, ALARM, ALARM, ALARM]),
                ("X 0 0 - X 0 0", [OK, OK, OK, OK]),
            ],
        );
    }

    #[test]
    fn reasons_use_aws_wording() {
        let r = rule(1, 1, TreatMissing::Missing);
        let s = [Slot {
            start: 1_764_075_600,
            value: Some(5.0),
            sample_count: Some(1.0),
        }];
        let d = evaluate(&r, &s);
        assert_eq!(
            reason(&r, &d, StateValue::Ok),
            "Threshold Crossed: 1 out of the last 1 datapoints [5.0 (25/11/25 13:00:00)] was greater than the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
        );
        let s = [Slot {
            start: 1_764_075_660,
            value: Some(0.0),
            sample_count: Some(1.0),
        }];
        let d = evaluate(&r, &s);
        assert_eq!(
            reason(&r, &d, StateValue::Alarm),
            "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (25/11/25 13:01:00)] was not greater than the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition)."
        );
        let r = rule(2, 3, TreatMissing::Breaching);
        let d = evaluate(&r, &slots("- - - - -"));
        assert_eq!(reason(&r, &d, StateValue::Ok), "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].");
        let d = evaluate(&r, &slots("- - - - 0"));
        assert_eq!(reason(&r, &d, StateValue::Ok), "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching].");
        let r = rule(1, 3, TreatMissing::NotBreaching);
        let d = evaluate(&r, &slots("- - - - X"));
        assert!(reason(&r, &d, StateValue::Ok).starts_with("Threshold Crossed: 1 out of the last 3 datapoints [5.0 (01/01/70 00:04:00)] was greater than the threshold (1.0) and 2 missing datapoints were treated as [NonBreaching] (minimum 1 datapoint"));
        let r = rule(3, 3, TreatMissing::Missing);
        let d = evaluate(&r, &slots("- - - - -"));
        assert_eq!(
            reason(&r, &d, StateValue::Ok),
            "Insufficient Data: 3 datapoints were unknown."
        );
        let d = evaluate(&r, &slots("X X X 0 0"));
        assert_eq!(
            reason(&r, &d, StateValue::Alarm),
            "Threshold Crossed: 2 out of the last 3 datapoints [0.0 (01/01/70 00:04:00), 0.0 (01/01/70 00:03:00)] were not greater than the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition)."
        );
    }

    #[test]
    fn low_sample_percentiles_can_be_ignored() {
        let mut r = rule(1, 1, TreatMissing::Missing);
        r.low_sample_ignore_below = Some(100.0);
        let d = evaluate(
            &r,
            &[Slot {
                start: 0,
                value: Some(5.0),
                sample_count: Some(3.0),
            }],
        );
        assert_eq!(d.state, None);
    }

    #[test]
    fn java_doubles() {
        assert_eq!(java_double(5.0), "5.0");
        assert_eq!(java_double(0.25), "0.25");
        assert_eq!(java_double(-3.0), "-3.0");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1.5e-5), "1.5E-5");
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(0.19726775956284198), "0.19726775956284198");
    }
}
