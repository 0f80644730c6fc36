//! Per-entity event history and the aggregates Transaction Fraud Insights models learn from:
//! how often an entity transacts (counts in the last hour, day, week, month), how much it
//! spends (sums, its usual amount and how far this amount is from it), how long since its last
//! event and since its first, and whether this event's IP address, e-mail, card BIN, device or
//! phone is new for the entity.
//!
//! Aggregates are point-in-time: an event sees only the entity's events strictly before its
//! own timestamp (never itself), both when a model trains on stored events and when
//! GetEventPrediction scores a new one, so training and serving compute the same numbers.

use super::values::Variables;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The windows counts and sums are taken over, with their feature-name suffixes.
pub const WINDOWS: [(&str, i64); 4] = [("1h", 3_600_000), ("24h", 86_400_000), ("7d", 604_800_000), ("30d", 2_592_000_000)];

/// Which event variables the aggregates read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AggregateSpec {
    /// The amount variable (the first `PRICE` variable, else none).
    pub amount: Option<String>,
    /// Identity variables (IP, e-mail, card BIN, user agent, phone) whose novelty is measured.
    pub identities: Vec<String>,
}

impl AggregateSpec {
    /// Names of the aggregate features, in the order [`History::aggregates`] writes them.
    pub fn feature_names(&self) -> Vec<String> {
        let mut n: Vec<String> = WINDOWS.iter().map(|(w, _)| format!("entity_count_{w}")).collect();
        n.push("entity_count_all".into());
        n.push("entity_secs_since_previous".into());
        n.push("entity_age_days".into());
        if self.amount.is_some() {
            for (w, _) in &WINDOWS[1..] {
                n.push(format!("entity_amount_sum_{w}"));
            }
            n.push("entity_amount_mean".into());
            n.push("entity_amount_max".into());
            n.push("entity_amount_ratio".into());
        }
        for v in &self.identities {
            n.push(format!("entity_new_{v}"));
            n.push(format!("entity_distinct_{v}_30d"));
        }
        n
    }

    /// The event variables the aggregates read.
    pub fn variables(&self) -> Vec<String> {
        self.amount.iter().cloned().chain(self.identities.iter().cloned()).collect()
    }
}

/// What the history keeps of one event.
#[derive(Debug, Clone)]
struct Entry {
    ts_ms: i64,
    event: u64,
    amount: f32,
    identities: Vec<u64>,
}

/// A stable 64-bit hash (FNV-1a) of a string.
pub fn hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// One event as the history reads it.
pub struct EventView<'a> {
    pub event_id: &'a str,
    pub entity_id: &'a str,
    pub ts_ms: i64,
    /// The event's variable values.
    pub values: &'a dyn Variables,
}

/// The events of one event type, by entity, for one [`AggregateSpec`].
#[derive(Debug, Clone)]
pub struct History {
    spec: AggregateSpec,
    entities: HashMap<String, Vec<Entry>>,
    len: usize,
}

/// Entities whose events say nothing about who acted (`unknown` is AWS's placeholder).
pub fn is_anonymous(entity_id: &str) -> bool {
    entity_id.is_empty() || entity_id == "unknown"
}

impl History {
    /// An empty history.
    pub fn new(spec: AggregateSpec) -> Self {
        History { spec, entities: HashMap::new(), len: 0 }
    }

    /// The spec this history was built for.
    pub fn spec(&self) -> &AggregateSpec {
        &self.spec
    }

    /// Number of events held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn entry(&self, ev: &EventView) -> Entry {
        let amount = self.spec.amount.as_deref().and_then(|a| ev.values.get(a)).and_then(|v| v.trim().parse::<f32>().ok()).filter(|v| v.is_finite()).unwrap_or(f32::NAN);
        let identities = self.spec.identities.iter().map(|v| ev.values.get(v).map(|x| hash(&x.trim().to_lowercase())).unwrap_or(0)).collect();
        Entry { ts_ms: ev.ts_ms, event: hash(ev.event_id), amount, identities }
    }

    /// Add an event (replacing an earlier one with the same id and timestamp).
    pub fn insert(&mut self, ev: &EventView) {
        if is_anonymous(ev.entity_id) {
            return;
        }
        let e = self.entry(ev);
        let list = self.entities.entry(ev.entity_id.to_string()).or_default();
        let at = list.partition_point(|x| x.ts_ms <= e.ts_ms);
        if list[..at].iter().rev().take_while(|x| x.ts_ms == e.ts_ms).any(|x| x.event == e.event) {
            return;
        }
        list.insert(at, e);
        self.len += 1;
    }

    /// Remove an event.
    pub fn remove(&mut self, entity_id: &str, event_id: &str) {
        let h = hash(event_id);
        if let Some(list) = self.entities.get_mut(entity_id) {
            let before = list.len();
            list.retain(|x| x.event != h);
            self.len -= before - list.len();
        }
    }

    /// The aggregate features of `ev` (see [`AggregateSpec::feature_names`]); missing values
    /// are `NaN`.
    pub fn aggregates(&self, ev: &EventView) -> Vec<f32> {
        let n_features = self.spec.feature_names().len();
        let mut out = Vec::with_capacity(n_features);
        let me = self.entry(ev);
        let empty = Vec::new();
        let list = if is_anonymous(ev.entity_id) { &empty } else { self.entities.get(ev.entity_id).unwrap_or(&empty) };
        // Strictly earlier events, never the event itself.
        let end = list.partition_point(|x| x.ts_ms < ev.ts_ms);
        let prior: Vec<&Entry> = list[..end].iter().filter(|x| x.event != me.event).collect();
        let t = ev.ts_ms;
        let since = |w: i64| prior.partition_point(|x| x.ts_ms < t - w);
        for (_, w) in WINDOWS {
            out.push((prior.len() - since(w)) as f32);
        }
        out.push(prior.len() as f32);
        match (prior.last(), prior.first()) {
            (Some(last), Some(first)) => {
                out.push(((t - last.ts_ms) as f32) / 1000.0);
                out.push(((t - first.ts_ms) as f32) / 86_400_000.0);
            }
            _ => {
                out.push(f32::NAN);
                out.push(f32::NAN);
            }
        }
        if self.spec.amount.is_some() {
            for (_, w) in &WINDOWS[1..] {
                let s: f32 = prior[since(*w)..].iter().map(|x| x.amount).filter(|a| a.is_finite()).sum();
                out.push(s);
            }
            let amounts: Vec<f32> = prior.iter().map(|x| x.amount).filter(|a| a.is_finite()).collect();
            if amounts.is_empty() {
                out.extend([f32::NAN, f32::NAN, f32::NAN]);
            } else {
                let mean = amounts.iter().sum::<f32>() / amounts.len() as f32;
                let max = amounts.iter().cloned().fold(f32::MIN, f32::max);
                out.push(mean);
                out.push(max);
                out.push(if me.amount.is_finite() && mean > 0.0 { me.amount / mean } else { f32::NAN });
            }
        }
        let recent = since(WINDOWS[3].1);
        for (k, _) in self.spec.identities.iter().enumerate() {
            let v = me.identities[k];
            if prior.is_empty() || v == 0 {
                out.push(f32::NAN);
            } else {
                out.push(if prior.iter().any(|x| x.identities[k] == v) { 0.0 } else { 1.0 });
            }
            let mut distinct: Vec<u64> = prior[recent..].iter().map(|x| x.identities[k]).filter(|h| *h != 0).collect();
            distinct.sort_unstable();
            distinct.dedup();
            out.push(distinct.len() as f32);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn with<R>(id: &str, entity: &str, ts: i64, vars: &BTreeMap<String, String>, f: impl FnOnce(&EventView) -> R) -> R {
        let ev = EventView { event_id: id, entity_id: entity, ts_ms: ts, values: vars };
        f(&ev)
    }

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn aggregates_are_point_in_time() {
        let spec = AggregateSpec { amount: Some("amt".into()), identities: vec!["ip".into()] };
        let names = spec.feature_names();
        let mut h = History::new(spec);
        let hour = 3_600_000;
        let a = m(&[("amt", "10"), ("ip", "1.1.1.1")]);
        let b = m(&[("amt", "30"), ("ip", "1.1.1.1")]);
        let c = m(&[("amt", "200"), ("ip", "9.9.9.9")]);
        with("e1", "cust", 0, &a, |v| h.insert(v));
        with("e2", "cust", 10 * hour, &b, |v| h.insert(v));
        with("e3", "cust", 10 * hour + 600_000, &c, |v| h.insert(v));
        with("e3", "cust", 10 * hour + 600_000, &c, |v| h.insert(v));
        assert_eq!(h.len(), 3, "re-inserting an event does not duplicate it");
        // The third event sees the two before it, not itself.
        let f = with("e3", "cust", 10 * hour + 600_000, &c, |v| h.aggregates(v));
        let get = |name: &str| f[names.iter().position(|n| n == name).unwrap()];
        assert_eq!(get("entity_count_1h"), 1.0);
        assert_eq!(get("entity_count_24h"), 2.0);
        assert_eq!(get("entity_count_all"), 2.0);
        assert_eq!(get("entity_secs_since_previous"), 600.0);
        assert_eq!(get("entity_amount_mean"), 20.0);
        assert_eq!(get("entity_amount_ratio"), 10.0);
        assert_eq!(get("entity_new_ip"), 1.0);
        assert_eq!(get("entity_distinct_ip_30d"), 1.0);
        // The first event has no history.
        let f = with("e1", "cust", 0, &a, |v| h.aggregates(v));
        assert_eq!(f[names.iter().position(|n| n == "entity_count_all").unwrap()], 0.0);
        assert!(f[names.iter().position(|n| n == "entity_new_ip").unwrap()].is_nan());
        // An unknown entity has no history either.
        let f = with("e9", "unknown", 20 * hour, &a, |v| h.aggregates(v));
        assert_eq!(f[names.iter().position(|n| n == "entity_count_all").unwrap()], 0.0);
        h.remove("cust", "e1");
        assert_eq!(h.len(), 2);
        assert_eq!(f.len(), names.len());
    }
}
