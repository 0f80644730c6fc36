//! Feature engineering: event variables → the numbers the gradient-boosted model reads.
//!
//! Each model variable is expanded by its `variableType` (AWS's documented types), the way
//! Online / Transaction Fraud Insights enrich raw data:
//! - numbers (`INTEGER`, `FLOAT`, and `NUMERIC` / `PRICE` strings): the value itself;
//! - `EMAIL_ADDRESS`: how often the address is seen, the domain's fraud rate and frequency,
//!   the local part's length and digit count;
//! - `IP_ADDRESS`: the address's frequency, the fraud rate of its /24 and /16 networks, the
//!   /16's frequency, the first octet;
//! - `CARD_BIN`: the BIN's fraud rate and frequency, its first digit (card network);
//! - phone numbers: the area code's fraud rate, the digit count, the number's frequency;
//! - `USERAGENT`: the fraud rate of the browser and operating-system tokens, the agent's
//!   frequency;
//! - ZIP codes: the fraud rate of the 3-digit prefix and of the whole code;
//! - names, addresses, free text: length and frequency;
//! - identifiers (order id, fingerprint): frequency;
//! - every other string (currency, category, state, country, …): its fraud rate and frequency;
//! - a `BILLING_x` / `SHIPPING_x` pair: whether both are the same;
//! - the event timestamp: hour of day and day of week (UTC);
//! - Transaction Fraud Insights adds the entity aggregates of [`super::history`].
//!
//! Fraud rates are target encodings smoothed toward the overall fraud rate. On the training
//! rows they are computed out of fold (each row's rate leaves out its own fold), so the model
//! cannot learn a row's label from its own encoding; validation and live events use the rates
//! of the whole training set. A missing value is the variable's default value, and `NaN` when
//! that is empty or not of the variable's type, identically in training and serving.

use super::history::{hash, AggregateSpec};
use super::values::{DataType, Variables};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Smoothing of target encodings: a category needs this many events to weigh as much as the
/// overall fraud rate.
const SMOOTHING: f64 = 30.0;
/// Folds of the out-of-fold target encoding.
const FOLDS: usize = 5;
/// Most categories kept per encoding table (the rarest are dropped beyond it).
const MAX_CATEGORIES: usize = 200_000;

/// A model variable as the feature code sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputVariable {
    pub name: String,
    pub data_type: DataType,
    /// AWS `variableType` (`EMAIL_ADDRESS`, `PRICE`, …), if any.
    pub variable_type: Option<String>,
    pub default_value: String,
}

/// What part of a string value a categorical encoding keys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Key {
    Whole,
    EmailDomain,
    Ip24,
    Ip16,
    Zip3,
    PhoneArea,
    UaBrowser,
    UaOs,
}

/// How one feature column is computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Transform {
    Number,
    Flag,
    Length,
    EmailLocalLength,
    EmailLocalDigits,
    DigitCount,
    FirstDigit,
    FirstOctet,
    /// Smoothed fraud rate of the key.
    FraudRate(Key),
    /// `ln(1 + events with this key)`.
    Frequency(Key),
    /// 1 when the variable equals the named one, 0 when not.
    Same(String),
    EventHour,
    EventWeekday,
    /// The n-th entity aggregate.
    Aggregate(usize),
}

/// One feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Feature name, e.g. `email_address.domain_fraud_rate`.
    pub name: String,
    /// The event variable it reads (`None` for event-time and aggregate columns).
    pub variable: Option<String>,
    pub transform: Transform,
}

/// Category counts: key → (events, fraud events).
type Table = HashMap<String, (u32, u32)>;

/// The fitted feature pipeline of a model version (stored in its artifact).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub inputs: Vec<InputVariable>,
    pub columns: Vec<Column>,
    /// Encoding tables by `"<variable>|<key>"`.
    tables: HashMap<String, Table>,
    /// Overall fraud rate of the training rows.
    prior: f64,
    /// Entity aggregates (Transaction Fraud Insights).
    pub aggregates: Option<AggregateSpec>,
    /// Per-column lookups derived from the above on first use (not stored).
    #[serde(skip)]
    resolved: std::sync::OnceLock<Resolved>,
}

/// What `transform` would otherwise recompute for every event.
#[derive(Debug, Clone, Default)]
struct Resolved {
    /// The encoding table id of each column (`None` for columns without one).
    table_ids: Vec<Option<String>>,
    /// Non-empty default values by variable.
    defaults: HashMap<String, String>,
}

/// One event as the feature code reads it.
pub struct Row<'a> {
    /// The event's variable values.
    pub values: &'a dyn Variables,
    pub ts_ms: i64,
    /// The entity aggregates, when the spec has them.
    pub aggregates: Option<&'a [f32]>,
}

fn table_id(var: &str, key: Key) -> String {
    format!("{var}|{key:?}")
}

fn vtype(v: &InputVariable) -> &str {
    v.variable_type.as_deref().unwrap_or("")
}

fn is_numeric(v: &InputVariable) -> bool {
    matches!(v.data_type, DataType::Integer | DataType::Float) || (v.data_type == DataType::String && matches!(vtype(v), "NUMERIC" | "PRICE"))
}

/// The columns a variable expands to.
fn columns_for(v: &InputVariable, all: &[InputVariable]) -> Vec<Column> {
    let col = |suffix: &str, t: Transform| Column { name: format!("{}.{suffix}", v.name), variable: Some(v.name.clone()), transform: t };
    if is_numeric(v) {
        return vec![col("value", Transform::Number)];
    }
    match v.data_type {
        DataType::Boolean => return vec![col("value", Transform::Flag)],
        DataType::Datetime => return vec![col("hour", Transform::EventHour)],
        _ => {}
    }
    let mut out = match vtype(v) {
        "EMAIL_ADDRESS" => vec![
            col("frequency", Transform::Frequency(Key::Whole)),
            col("domain_fraud_rate", Transform::FraudRate(Key::EmailDomain)),
            col("domain_frequency", Transform::Frequency(Key::EmailDomain)),
            col("local_length", Transform::EmailLocalLength),
            col("local_digits", Transform::EmailLocalDigits),
        ],
        "IP_ADDRESS" => vec![
            col("frequency", Transform::Frequency(Key::Whole)),
            col("net24_fraud_rate", Transform::FraudRate(Key::Ip24)),
            col("net16_fraud_rate", Transform::FraudRate(Key::Ip16)),
            col("net16_frequency", Transform::Frequency(Key::Ip16)),
            col("first_octet", Transform::FirstOctet),
        ],
        "CARD_BIN" => vec![
            col("fraud_rate", Transform::FraudRate(Key::Whole)),
            col("frequency", Transform::Frequency(Key::Whole)),
            col("network", Transform::FirstDigit),
        ],
        "PHONE_NUMBER" | "BILLING_PHONE" | "SHIPPING_PHONE" => vec![
            col("area_fraud_rate", Transform::FraudRate(Key::PhoneArea)),
            col("digits", Transform::DigitCount),
            col("frequency", Transform::Frequency(Key::Whole)),
        ],
        "USERAGENT" => vec![
            col("browser_fraud_rate", Transform::FraudRate(Key::UaBrowser)),
            col("os_fraud_rate", Transform::FraudRate(Key::UaOs)),
            col("frequency", Transform::Frequency(Key::Whole)),
        ],
        "BILLING_ZIP" | "SHIPPING_ZIP" => vec![
            col("zip3_fraud_rate", Transform::FraudRate(Key::Zip3)),
            col("fraud_rate", Transform::FraudRate(Key::Whole)),
        ],
        "FREE_FORM_TEXT" | "BILLING_NAME" | "SHIPPING_NAME" | "BILLING_ADDRESS_L1" | "BILLING_ADDRESS_L2" | "SHIPPING_ADDRESS_L1" | "SHIPPING_ADDRESS_L2" => {
            vec![col("length", Transform::Length), col("frequency", Transform::Frequency(Key::Whole))]
        }
        "ORDER_ID" | "FINGERPRINT" | "AUTH_CODE" => vec![col("frequency", Transform::Frequency(Key::Whole))],
        _ => vec![col("fraud_rate", Transform::FraudRate(Key::Whole)), col("frequency", Transform::Frequency(Key::Whole))],
    };
    // BILLING_x next to SHIPPING_x: do they agree?
    if let Some(rest) = vtype(v).strip_prefix("BILLING_") {
        let twin = format!("SHIPPING_{rest}");
        if let Some(other) = all.iter().find(|o| vtype(o) == twin) {
            out.push(Column { name: format!("{}.same_as_{}", v.name, other.name), variable: Some(v.name.clone()), transform: Transform::Same(other.name.clone()) });
        }
    }
    out
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// The key of `value` for an encoding.
fn key_of(key: Key, value: &str) -> Option<String> {
    let v = norm(value);
    if v.is_empty() {
        return None;
    }
    match key {
        Key::Whole => Some(v),
        Key::EmailDomain => v.rsplit_once('@').map(|(_, d)| d.to_string()).filter(|d| !d.is_empty()),
        Key::Ip24 | Key::Ip16 => {
            let n = if key == Key::Ip24 { 3 } else { 2 };
            let sep = if v.contains(':') { ':' } else { '.' };
            let parts: Vec<&str> = v.split(sep).collect();
            (parts.len() > n).then(|| parts[..n].join(&sep.to_string()))
        }
        Key::Zip3 => {
            let d: String = v.chars().filter(|c| c.is_ascii_alphanumeric()).take(3).collect();
            (d.len() == 3).then_some(d)
        }
        Key::PhoneArea => {
            let mut d: String = v.chars().filter(|c| c.is_ascii_digit()).collect();
            if d.len() == 11 && d.starts_with('1') {
                d.remove(0);
            }
            (d.len() >= 3).then(|| d[..3].to_string())
        }
        Key::UaBrowser => v.split(['/', ' ']).next().filter(|s| !s.is_empty()).map(str::to_string),
        Key::UaOs => {
            let inside = v.split_once('(')?.1;
            let os = inside.split([';', ')']).next()?.trim();
            (!os.is_empty()).then(|| os.to_string())
        }
    }
}

fn tables_needed(columns: &[Column]) -> Vec<(String, Key)> {
    let mut out: Vec<(String, Key)> = Vec::new();
    for c in columns {
        if let (Some(v), Transform::FraudRate(k) | Transform::Frequency(k)) = (&c.variable, &c.transform) {
            if !out.iter().any(|(ov, ok)| ov == v && ok == k) {
                out.push((v.clone(), *k));
            }
        }
    }
    out
}

impl FeatureSpec {
    /// The columns for `inputs` (+ event time, + aggregates), not fitted yet.
    fn layout(inputs: &[InputVariable], aggregates: Option<&AggregateSpec>) -> Vec<Column> {
        let mut columns: Vec<Column> = inputs.iter().flat_map(|v| columns_for(v, inputs)).collect();
        columns.push(Column { name: "event.hour_of_day".into(), variable: None, transform: Transform::EventHour });
        columns.push(Column { name: "event.day_of_week".into(), variable: None, transform: Transform::EventWeekday });
        if let Some(a) = aggregates {
            for (i, n) in a.feature_names().into_iter().enumerate() {
                columns.push(Column { name: n, variable: None, transform: Transform::Aggregate(i) });
            }
        }
        columns
    }

    /// The aggregate spec for `inputs`: the first price as amount, identity-like variables.
    pub fn aggregate_spec(inputs: &[InputVariable]) -> AggregateSpec {
        let amount = inputs.iter().find(|v| vtype(v) == "PRICE").or_else(|| inputs.iter().find(|v| is_numeric(v))).map(|v| v.name.clone());
        let identities = inputs
            .iter()
            .filter(|v| matches!(vtype(v), "IP_ADDRESS" | "EMAIL_ADDRESS" | "CARD_BIN" | "USERAGENT" | "PHONE_NUMBER" | "FINGERPRINT"))
            .map(|v| v.name.clone())
            .collect();
        AggregateSpec { amount, identities }
    }

    /// Fit the encodings on the training rows (with labels) and return the spec with the
    /// training rows' features (row-major, out-of-fold fraud rates).
    pub fn fit(inputs: Vec<InputVariable>, aggregates: Option<AggregateSpec>, rows: &[Row], labels: &[bool]) -> (FeatureSpec, Vec<f32>) {
        let columns = Self::layout(&inputs, aggregates.as_ref());
        let needed = tables_needed(&columns);
        let fraud = labels.iter().filter(|l| **l).count();
        let prior = if labels.is_empty() { 0.0 } else { fraud as f64 / labels.len() as f64 };
        let mut spec = FeatureSpec { inputs, columns, tables: HashMap::new(), prior, aggregates, resolved: std::sync::OnceLock::new() };
        // Full tables and per-fold tables.
        let mut folds: Vec<HashMap<String, Table>> = vec![HashMap::new(); FOLDS];
        for (var, key) in &needed {
            let id = table_id(var, *key);
            let mut full: Table = HashMap::new();
            for (i, row) in rows.iter().enumerate() {
                let Some(k) = spec.raw(row, var).and_then(|v| key_of(*key, v)) else { continue };
                let f = u32::from(labels[i]);
                let e = full.entry(k.clone()).or_insert((0, 0));
                e.0 += 1;
                e.1 += f;
                let e = folds[fold_of(i)].entry(id.clone()).or_default().entry(k).or_insert((0, 0));
                e.0 += 1;
                e.1 += f;
            }
            if full.len() > MAX_CATEGORIES {
                let mut v: Vec<(String, (u32, u32))> = full.into_iter().collect();
                v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
                v.truncate(MAX_CATEGORIES);
                full = v.into_iter().collect();
            }
            spec.tables.insert(id, full);
        }
        let mut out = Vec::with_capacity(rows.len() * spec.columns.len());
        for (i, row) in rows.iter().enumerate() {
            let fold = &folds[fold_of(i)];
            spec.write_row(row, Some(fold), &mut out);
        }
        (spec, out)
    }

    /// Number of feature columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// The features of one event (validation or live).
    pub fn transform(&self, row: &Row) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.columns.len());
        self.write_row(row, None, &mut out);
        out
    }

    fn resolved(&self) -> &Resolved {
        self.resolved.get_or_init(|| Resolved {
            table_ids: self
                .columns
                .iter()
                .map(|c| match (&c.variable, &c.transform) {
                    (Some(v), Transform::FraudRate(k) | Transform::Frequency(k)) => Some(table_id(v, *k)),
                    _ => None,
                })
                .collect(),
            defaults: self.inputs.iter().filter(|i| !i.default_value.trim().is_empty()).map(|i| (i.name.clone(), i.default_value.clone())).collect(),
        })
    }

    /// The value of `var` for `row`, or its default value.
    fn raw<'s>(&'s self, row: &'s Row<'_>, var: &str) -> Option<&'s str> {
        match row.values.get(var) {
            Some(v) if !v.trim().is_empty() => Some(v),
            _ => self.resolved().defaults.get(var).map(String::as_str),
        }
    }

    fn rate(&self, id: &str, key: &str, holdout: Option<&HashMap<String, Table>>) -> f32 {
        let (mut n, mut f) = self.tables.get(id).and_then(|t| t.get(key)).copied().unwrap_or((0, 0));
        if let Some((hn, hf)) = holdout.and_then(|h| h.get(id)).and_then(|t| t.get(key)) {
            n = n.saturating_sub(*hn);
            f = f.saturating_sub(*hf);
        }
        ((f as f64 + SMOOTHING * self.prior) / (n as f64 + SMOOTHING)) as f32
    }

    fn write_row(&self, row: &Row, holdout: Option<&HashMap<String, Table>>, out: &mut Vec<f32>) {
        let ids = &self.resolved().table_ids;
        for (ci, c) in self.columns.iter().enumerate() {
            let id = ids[ci].as_deref().unwrap_or("");
            let raw = c.variable.as_deref().and_then(|v| self.raw(row, v));
            let x = match &c.transform {
                Transform::Number => raw.and_then(|v| v.trim().parse::<f32>().ok()).filter(|v| v.is_finite()).unwrap_or(f32::NAN),
                Transform::Flag => match raw.map(|v| v.trim().to_ascii_lowercase()) {
                    Some(v) if v == "true" => 1.0,
                    Some(v) if v == "false" => 0.0,
                    _ => f32::NAN,
                },
                Transform::Length => raw.map(|v| v.trim().chars().count() as f32).unwrap_or(f32::NAN),
                Transform::EmailLocalLength => raw.and_then(|v| v.trim().rsplit_once('@')).map(|(l, _)| l.chars().count() as f32).unwrap_or(f32::NAN),
                Transform::EmailLocalDigits => raw.and_then(|v| v.trim().rsplit_once('@')).map(|(l, _)| l.chars().filter(|c| c.is_ascii_digit()).count() as f32).unwrap_or(f32::NAN),
                Transform::DigitCount => raw.map(|v| v.chars().filter(|c| c.is_ascii_digit()).count() as f32).unwrap_or(f32::NAN),
                Transform::FirstDigit => raw.and_then(|v| v.trim().chars().next()).and_then(|c| c.to_digit(10)).map(|d| d as f32).unwrap_or(f32::NAN),
                Transform::FirstOctet => raw.and_then(|v| v.trim().split('.').next().and_then(|o| o.parse::<u8>().ok())).map(f32::from).unwrap_or(f32::NAN),
                Transform::FraudRate(k) => match raw.and_then(|v| key_of(*k, v)) {
                    Some(key) => self.rate(id, &key, holdout),
                    None => f32::NAN,
                },
                Transform::Frequency(k) => match raw.and_then(|v| key_of(*k, v)) {
                    Some(key) => {
                        let n = self.tables.get(id).and_then(|t| t.get(&key)).map(|e| e.0).unwrap_or(0);
                        (1.0 + n as f32).ln()
                    }
                    None => f32::NAN,
                },
                Transform::Same(other) => match (raw, self.raw(row, other)) {
                    (Some(a), Some(b)) => {
                        if norm(a) == norm(b) {
                            1.0
                        } else {
                            0.0
                        }
                    }
                    _ => f32::NAN,
                },
                Transform::EventHour => {
                    let ts = match (&c.variable, raw) {
                        (Some(_), Some(v)) => super::values::parse_timestamp(v).map(super::values::to_millis),
                        (Some(_), None) => None,
                        (None, _) => Some(row.ts_ms),
                    };
                    ts.map(|t| (t.rem_euclid(86_400_000) / 3_600_000) as f32).unwrap_or(f32::NAN)
                }
                Transform::EventWeekday => ((row.ts_ms.div_euclid(86_400_000) + 4).rem_euclid(7)) as f32,
                Transform::Aggregate(i) => row.aggregates.and_then(|a| a.get(*i)).copied().unwrap_or(f32::NAN),
            };
            out.push(x);
        }
    }

    /// Indices of the columns derived from each model variable (for importance and
    /// explanations), in input order, then the aggregate columns as one group.
    pub fn groups(&self) -> Vec<(Vec<String>, Vec<usize>)> {
        let mut out: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
        for v in &self.inputs {
            let idx: Vec<usize> = self.columns.iter().enumerate().filter(|(_, c)| c.variable.as_deref() == Some(v.name.as_str())).map(|(i, _)| i).collect();
            if !idx.is_empty() {
                out.push((vec![v.name.clone()], idx));
            }
        }
        if let Some(a) = &self.aggregates {
            let idx: Vec<usize> = self.columns.iter().enumerate().filter(|(_, c)| matches!(c.transform, Transform::Aggregate(_))).map(|(i, _)| i).collect();
            if !idx.is_empty() {
                out.push((a.variables(), idx));
            }
        }
        out
    }
}

/// Fold of training row `i` (a fixed pseudo-random assignment).
fn fold_of(i: usize) -> usize {
    (hash(&i.to_string()) % FOLDS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, dt: DataType, vt: &str, default: &str) -> InputVariable {
        InputVariable { name: name.into(), data_type: dt, variable_type: Some(vt.into()), default_value: default.into() }
    }

    #[test]
    fn keys() {
        assert_eq!(key_of(Key::EmailDomain, " Bob@Example.COM ").as_deref(), Some("example.com"));
        assert_eq!(key_of(Key::EmailDomain, "no-at-sign"), None);
        assert_eq!(key_of(Key::Ip24, "27.67.182.10").as_deref(), Some("27.67.182"));
        assert_eq!(key_of(Key::Ip16, "27.67.182.10").as_deref(), Some("27.67"));
        assert_eq!(key_of(Key::Ip16, "2001:db8:85a3::8a2e").as_deref(), Some("2001:db8"));
        assert_eq!(key_of(Key::PhoneArea, "412-515-4616-28430").as_deref(), Some("412"));
        assert_eq!(key_of(Key::PhoneArea, "+1 (412) 515 4616").as_deref(), Some("412"));
        assert_eq!(key_of(Key::Zip3, "24301").as_deref(), Some("243"));
        assert_eq!(key_of(Key::UaBrowser, "Opera/8.70.(Windows NT 6.0; mk-MK)").as_deref(), Some("opera"));
        assert_eq!(key_of(Key::UaOs, "Opera/8.70.(Windows NT 6.0; mk-MK)").as_deref(), Some("windows nt 6.0"));
    }

    #[test]
    fn fit_and_transform_agree_and_encode_fraud_rates() {
        let inputs = vec![
            var("amt", DataType::Float, "PRICE", "0"),
            var("email", DataType::String, "EMAIL_ADDRESS", ""),
            var("bin", DataType::String, "CARD_BIN", "000000"),
            var("billing_state", DataType::String, "BILLING_STATE", ""),
            var("shipping_state", DataType::String, "SHIPPING_STATE", ""),
        ];
        let mut data: Vec<(std::collections::HashMap<String, String>, bool)> = Vec::new();
        for i in 0..400 {
            let risky = i % 4 == 0;
            let mut m = std::collections::HashMap::new();
            m.insert("amt".to_string(), format!("{}", 10 + i % 50));
            m.insert("email".to_string(), format!("user{i}@{}", if risky { "bad.example" } else { "good.example" }));
            m.insert("bin".to_string(), if risky { "999999".into() } else { "411111".into() });
            m.insert("billing_state".to_string(), "VA".to_string());
            m.insert("shipping_state".to_string(), if i % 2 == 0 { "VA".to_string() } else { "TX".to_string() });
            data.push((m, risky && i % 8 == 0));
        }
        let rows: Vec<Row> = data.iter().enumerate().map(|(i, (m, _))| Row { values: m, ts_ms: i as i64 * 3_600_000, aggregates: None }).collect();
        let labels: Vec<bool> = data.iter().map(|(_, l)| *l).collect();
        let (spec, train) = FeatureSpec::fit(inputs, None, &rows, &labels);
        assert_eq!(train.len(), rows.len() * spec.width());
        let col = |name: &str| spec.columns.iter().position(|c| c.name == name).unwrap_or_else(|| panic!("{name}"));
        let x_bad = spec.transform(&rows[0]);
        let x_good = spec.transform(&rows[1]);
        assert!(x_bad[col("email.domain_fraud_rate")] > x_good[col("email.domain_fraud_rate")]);
        assert!(x_bad[col("bin.fraud_rate")] > 0.3 && x_good[col("bin.fraud_rate")] < 0.05);
        assert_eq!(x_bad[col("billing_state.same_as_shipping_state")], 1.0);
        assert_eq!(x_good[col("billing_state.same_as_shipping_state")], 0.0);
        assert_eq!(x_bad[col("email.local_length")], 5.0);
        assert_eq!(x_bad[col("bin.network")], 9.0);
        assert_eq!(x_good[col("event.hour_of_day")], 1.0);
        // Missing values fall back to the default value, else NaN.
        let empty = std::collections::HashMap::<String, String>::new();
        let x = spec.transform(&Row { values: &empty, ts_ms: 0, aggregates: None });
        assert_eq!(x[col("amt.value")], 0.0);
        assert!(x[col("email.frequency")].is_nan());
        assert_eq!(x[col("bin.network")], 0.0);
        // Out-of-fold rates differ from the full-data rates on training rows.
        let oof = &train[..spec.width()];
        assert_ne!(oof[col("bin.fraud_rate")], x_bad[col("bin.fraud_rate")]);
        let groups = spec.groups();
        assert_eq!(groups.len(), 5);
        assert_eq!(groups[1].0, vec!["email"]);
        // The spec survives a round trip through its stored form.
        let back: FeatureSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(back.transform(&rows[3]).iter().map(|v| v.to_bits()).collect::<Vec<_>>(), spec.transform(&rows[3]).iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }
}
