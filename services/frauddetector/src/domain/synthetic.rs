//! Synthetic card transactions in the seed's record shape, with planted fraud patterns and
//! labels: the data behind `hearth fraud generate`, the compatibility tests and
//! `bench/frauddetector`.
//!
//! No registry package ships fraud data, so this module makes it, deterministically from a
//! seed. The crate README documents the patterns (the "truth"); the files written for a model
//! carry only the labels the patterns produce, never the pattern itself.
//!
//! Customers (entities) have a home state (city, ZIP, coordinates, phone area code), an e-mail
//! at a mainstream domain, a residential IP network, a card from a mainstream BIN, a browser
//! and a typical spend; they buy at their own rate, mostly by day. Fraud comes from:
//!
//! 1. account takeover: a compromised customer's burst of 3–6 purchases within ~45 minutes,
//!    from a proxy network (`185.220.x.x`, `45.154.x.x`, `91.219.x.x`), a new browser,
//!    3–12× the customer's usual spend, in `shopping_net` / `misc_net` / `electronics`; each is
//!    fraud with probability 0.9;
//! 2. a card-testing ring: one-off identities with prepaid BINs (`4147xx`, `5356xx`),
//!    throw-away e-mail domains, mostly 01:00–05:00 UTC, in `shopping_net` / `electronics` /
//!    `gift_cards`; each is fraud with probability 0.85;
//! 3. background: any ordinary purchase is fraud with probability 0.004 (disputes nobody could
//!    predict); 2% of ordinary customers use a prepaid BIN legitimately.
//!
//! The requested fraud rate sets how many pattern events there are (half takeover, half
//! ring), so the labelled share of fraud comes out close to it.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::io::Write;

/// The event variables of a transaction: (name, dataType, variableType, defaultValue).
pub const VARIABLES: [(&str, &str, &str, &str); 16] = [
    ("transaction_amt", "FLOAT", "PRICE", "0.0"),
    ("email_address", "STRING", "EMAIL_ADDRESS", "unknown"),
    ("ip_address", "STRING", "IP_ADDRESS", "unknown"),
    ("transaction_currency", "STRING", "CURRENCY_CODE", "USD"),
    ("card_bin", "STRING", "CARD_BIN", "000000"),
    ("billing_state", "STRING", "BILLING_STATE", "unknown"),
    ("billing_city", "STRING", "BILLING_CITY", "unknown"),
    ("billing_zip", "STRING", "BILLING_ZIP", "00000"),
    ("billing_street", "STRING", "BILLING_ADDRESS_L1", "unknown"),
    ("billing_latitude", "FLOAT", "NUMERIC", "0.0"),
    ("billing_longitude", "FLOAT", "NUMERIC", "0.0"),
    ("user_agent", "STRING", "USERAGENT", "unknown"),
    ("product_category", "STRING", "PRODUCT_CATEGORY", "unknown"),
    ("phone", "STRING", "PHONE_NUMBER", "unknown"),
    ("customer_name", "STRING", "BILLING_NAME", "unknown"),
    ("customer_job", "STRING", "CATEGORICAL", "unknown"),
];

/// Label probabilities of each source of events.
const P_TAKEOVER: f64 = 0.9;
const P_RING: f64 = 0.85;
const P_BACKGROUND: f64 = 0.004;
/// Mean purchases per customer-day (rates are uniform in 0.05–0.3).
const MEAN_RATE: f64 = 0.175;

const GEO: [(&str, &str, &str, f64, f64, &str); 10] = [
    ("VA", "Pulaski", "24301", 37.0567, -80.771, "540"),
    ("CA", "Fresno", "93650", 36.8403, -119.8, "559"),
    ("TX", "Austin", "78701", 30.2711, -97.7437, "512"),
    ("NY", "Albany", "12207", 42.6526, -73.7562, "518"),
    ("FL", "Tampa", "33602", 27.9506, -82.4572, "813"),
    ("IL", "Peoria", "61602", 40.6936, -89.589, "309"),
    ("WA", "Spokane", "99201", 47.6588, -117.426, "509"),
    ("OH", "Dayton", "45402", 39.7589, -84.1916, "937"),
    ("GA", "Macon", "31201", 32.8407, -83.6324, "478"),
    ("CO", "Pueblo", "81003", 38.2544, -104.609, "719"),
];
const MAIL: [&str; 7] = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "comcast.net"];
const THROWAWAY: [&str; 3] = ["mailnesia.example", "tempbox.example", "dropmail.example"];
const LEGIT_BINS: [&str; 9] = ["423768", "411111", "542418", "601100", "371449", "455673", "510510", "400022", "520082"];
/// Prepaid card BINs (the ring's cards; a few honest customers' too).
pub const PREPAID_BINS: [&str; 4] = ["414720", "414709", "535610", "535622"];
const PROXY_NETS: [&str; 3] = ["185.220", "45.154", "91.219"];
const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 13_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
];
const ODD_AGENTS: [&str; 4] = ["Opera/8.70.(Windows NT 6.0; mk-MK)", "python-requests/2.31.0", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", "curl/8.4.0"];
const CATEGORIES: [&str; 10] = ["grocery_pos", "gas_transport", "home", "kids_pets", "entertainment", "food_dining", "health_fitness", "misc_pos", "personal_care", "travel"];
const RISKY_CATEGORIES: [&str; 3] = ["shopping_net", "misc_net", "electronics"];
const RING_CATEGORIES: [&str; 3] = ["shopping_net", "electronics", "gift_cards"];
const FIRST: [&str; 16] = ["Ava", "Liam", "Mia", "Noah", "Zoe", "Omar", "Ines", "Raj", "Yuki", "Lena", "Marco", "Sara", "Ivan", "Nora", "Eli", "Hana"];
const LAST: [&str; 12] = ["Smith", "Garcia", "Chen", "Patel", "Kowalski", "Okafor", "Silva", "Nguyen", "Muller", "Rossi", "Haddad", "Kim"];
const JOBS: [&str; 10] = ["Engineer", "Teacher", "Nurse", "Designer", "Chef", "Analyst", "Driver", "Writer", "Pharmacist", "Architect"];

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of transactions (exact).
    pub count: usize,
    /// Seed of the random generator: the same options give the same file.
    pub seed: u64,
    /// Target share of transactions labelled fraud, 0–0.5.
    pub fraud_rate: f64,
    /// Length of the period, in days (at least 1).
    pub days: u32,
    /// Start of the period, milliseconds since the epoch.
    pub start_ms: i64,
}

impl Default for Options {
    fn default() -> Self {
        // 2024-03-01T00:00:00Z
        Options { count: 10_000, seed: 7, fraud_rate: 0.05, days: 60, start_ms: 1_709_251_200_000 }
    }
}

/// Which source produced a transaction (the truth a model never sees).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// An ordinary purchase (fraud only as a background dispute).
    Ordinary,
    /// Part of an account-takeover burst.
    Takeover,
    /// A card-testing ring purchase.
    Ring,
}

impl Pattern {
    /// Lower-case name, as the truth file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::Ordinary => "ordinary",
            Pattern::Takeover => "takeover",
            Pattern::Ring => "ring",
        }
    }
}

/// One generated transaction.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub event_id: String,
    pub entity_id: String,
    /// Event time, milliseconds since the epoch.
    pub ts_ms: i64,
    /// Values of [`VARIABLES`], in that order.
    pub values: Vec<String>,
    pub fraud: bool,
    pub pattern: Pattern,
}

struct Customer {
    entity_id: String,
    name: String,
    email: String,
    ip_net: String,
    bin: &'static str,
    geo: usize,
    agent: &'static str,
    spend: f64,
    rate: f64,
    job: &'static str,
    street: String,
    phone: String,
}

fn pick<'a, T: ?Sized>(rng: &mut StdRng, xs: &[&'a T]) -> &'a T {
    xs[rng.gen_range(0..xs.len())]
}

fn gauss(rng: &mut StdRng, mean: f64, sd: f64) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn customer(rng: &mut StdRng) -> Customer {
    let (first, last) = (pick(rng, &FIRST), pick(rng, &LAST));
    let geo = rng.gen_range(0..GEO.len());
    let suffix = if rng.gen::<f64>() < 0.4 { rng.gen_range(1..100).to_string() } else { String::new() };
    Customer {
        entity_id: format!("{}-{}-{}", rng.gen_range(100..900), rng.gen_range(10..100), rng.gen_range(1000..10000)),
        name: format!("Synthetic {first} {last}"),
        email: format!("{}.{}{suffix}@{}", first.to_lowercase(), last.to_lowercase(), pick(rng, &MAIL)),
        ip_net: format!("{}.{}", rng.gen_range(24..100), rng.gen_range(0..256)),
        bin: if rng.gen::<f64>() < 0.02 { pick(rng, &PREPAID_BINS) } else { pick(rng, &LEGIT_BINS) },
        geo,
        agent: pick(rng, &AGENTS),
        spend: gauss(rng, 3.6, 0.6).exp(),
        rate: rng.gen_range(0.05..0.3),
        job: pick(rng, &JOBS),
        street: format!("{} Synthetic {}", rng.gen_range(1..1000), pick(rng, &["Courts", "Lane", "Street", "Avenue", "Road"])),
        phone: format!("{}-{}-{}", GEO[geo].5, rng.gen_range(200..1000), rng.gen_range(1000..10000)),
    }
}

struct Purchase<'a> {
    amount: f64,
    ip: String,
    agent: &'a str,
    category: &'a str,
    email: Option<String>,
    bin: Option<&'a str>,
}

fn values(c: &Customer, p: Purchase<'_>) -> Vec<String> {
    let (state, city, zip, lat, lon, _) = GEO[c.geo];
    vec![
        format!("{:.2}", p.amount),
        p.email.unwrap_or_else(|| c.email.clone()),
        p.ip,
        "USD".into(),
        p.bin.unwrap_or(c.bin).into(),
        state.into(),
        city.into(),
        zip.into(),
        c.street.clone(),
        format!("{lat:.4}"),
        format!("{lon:.4}"),
        p.agent.into(),
        p.category.into(),
        c.phone.clone(),
        c.name.clone(),
        c.job.into(),
    ]
}

const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

/// Mostly 08:00–22:00 UTC, some evenings and nights.
fn daytime(rng: &mut StdRng, day_ms: i64) -> i64 {
    let hour = gauss(rng, 15.0, 4.0).clamp(0.0, 23.0) as i64;
    day_ms + hour * 3_600_000 + rng.gen_range(0..60) * MINUTE_MS + rng.gen_range(0..60) * 1000
}

/// Check options; the message names the bad option.
pub fn check(o: &Options) -> Result<(), String> {
    if o.count == 0 || o.count > 50_000_000 {
        return Err(format!("count must be between 1 and 50000000, not {}", o.count));
    }
    if !(0.0..=0.5).contains(&o.fraud_rate) {
        return Err(format!("fraud rate must be between 0 and 0.5, not {}", o.fraud_rate));
    }
    if o.days == 0 || o.days > 3650 {
        return Err(format!("days must be between 1 and 3650, not {}", o.days));
    }
    Ok(())
}

/// Generate `o.count` transactions sorted by time, labelled by the patterns above.
pub fn generate(o: &Options) -> Result<Vec<Transaction>, String> {
    check(o)?;
    let mut rng = StdRng::seed_from_u64(o.seed);
    let pattern_p = (P_TAKEOVER + P_RING) / 2.0;
    let (background, pattern_share) = if o.fraud_rate <= P_BACKGROUND { (o.fraud_rate, 0.0) } else { (P_BACKGROUND, (o.fraud_rate - P_BACKGROUND) / (pattern_p - P_BACKGROUND)) };
    let n_pattern = ((o.count as f64) * pattern_share).round() as usize;
    let n_takeover = n_pattern / 2;
    let n_ring = n_pattern - n_takeover;
    let n_ordinary = o.count - n_pattern;
    let days = o.days as i64;
    let mut seq = 0usize;
    let mut next_id = || {
        seq += 1;
        format!("txn-{}-{seq:07}", o.seed)
    };

    let n_customers = ((n_ordinary as f64 / (MEAN_RATE * days as f64)).round() as usize).max(1);
    let customers: Vec<Customer> = (0..n_customers).map(|_| customer(&mut rng)).collect();
    let mut cumulative = Vec::with_capacity(customers.len());
    let mut total = 0.0;
    for c in &customers {
        total += c.rate;
        cumulative.push(total);
    }
    let mut out = Vec::with_capacity(o.count);
    for _ in 0..n_ordinary {
        let x = rng.gen::<f64>() * total;
        let c = &customers[cumulative.partition_point(|&w| w < x).min(customers.len() - 1)];
        let day = o.start_ms + rng.gen_range(0..days) * DAY_MS;
        let amount = (c.spend * gauss(&mut rng, 0.0, 0.45).exp()).max(1.0);
        let category = if rng.gen::<f64>() < 0.85 { pick(&mut rng, &CATEGORIES) } else { pick(&mut rng, &RISKY_CATEGORIES) };
        let ip = format!("{}.{}.{}", c.ip_net, rng.gen_range(0..256), rng.gen_range(1..255));
        let ts_ms = daytime(&mut rng, day);
        let fraud = rng.gen::<f64>() < background;
        out.push(Transaction { event_id: next_id(), entity_id: c.entity_id.clone(), ts_ms, values: values(c, Purchase { amount, ip, agent: c.agent, category, email: None, bin: None }), fraud, pattern: Pattern::Ordinary });
    }

    // 1. Account-takeover bursts, on customers taken in a random order (again if need be).
    let mut order: Vec<usize> = (0..customers.len()).collect();
    order.shuffle(&mut rng);
    let mut left = n_takeover;
    let mut k = 0;
    while left > 0 {
        let c = &customers[order[k % order.len()]];
        k += 1;
        let (lo, hi) = if days > 4 { (3.0, (days - 1) as f64) } else { (0.0, days as f64) };
        let t0 = o.start_ms + (rng.gen_range(lo..hi) * DAY_MS as f64) as i64 + (rng.gen_range(0.0..23.0) * 3_600_000.0) as i64;
        let net = pick(&mut rng, &PROXY_NETS);
        let agent = if rng.gen_range(0..ODD_AGENTS.len() + AGENTS.len()) < ODD_AGENTS.len() { pick(&mut rng, &ODD_AGENTS) } else { pick(&mut rng, &AGENTS) };
        let burst = rng.gen_range(3..=6).min(left);
        let mut ts_ms = t0;
        for _ in 0..burst {
            let amount = c.spend * rng.gen_range(3.0..12.0);
            let ip = format!("{net}.{}.{}", rng.gen_range(0..256), rng.gen_range(1..255));
            let category = pick(&mut rng, &RISKY_CATEGORIES);
            let fraud = rng.gen::<f64>() < P_TAKEOVER;
            out.push(Transaction { event_id: next_id(), entity_id: c.entity_id.clone(), ts_ms, values: values(c, Purchase { amount, ip, agent, category, email: None, bin: None }), fraud, pattern: Pattern::Takeover });
            ts_ms += (rng.gen_range(2.0..12.0) * MINUTE_MS as f64) as i64;
        }
        left -= burst;
    }

    // 2. Card-testing ring: one-off identities.
    for _ in 0..n_ring {
        let c = customer(&mut rng);
        let local: String = (0..rng.gen_range(8..=14)).map(|_| *b"abcdefghijklmnopqrstuvwxyz0123456789".choose(&mut rng).unwrap_or(&b'x') as char).collect();
        let email = format!("{local}@{}", pick(&mut rng, &THROWAWAY));
        let day = o.start_ms + rng.gen_range(0..days) * DAY_MS;
        let hour = if rng.gen::<f64>() < 0.8 { rng.gen_range(1..=5) } else { rng.gen_range(6..=23) };
        let ts_ms = day + hour * 3_600_000 + rng.gen_range(0..60) * MINUTE_MS;
        let amount = rng.gen_range(150.0..900.0);
        let ip = if rng.gen::<f64>() < 0.5 {
            format!("{}.{}.{}", pick(&mut rng, &PROXY_NETS), rng.gen_range(0..256), rng.gen_range(1..255))
        } else {
            format!("{}.{}.{}.{}", rng.gen_range(24..100), rng.gen_range(0..256), rng.gen_range(0..256), rng.gen_range(1..255))
        };
        let agent = if rng.gen_range(0..ODD_AGENTS.len() + AGENTS.len()) < ODD_AGENTS.len() { pick(&mut rng, &ODD_AGENTS) } else { pick(&mut rng, &AGENTS) };
        let category = pick(&mut rng, &RING_CATEGORIES);
        let bin = pick(&mut rng, &PREPAID_BINS);
        let fraud = rng.gen::<f64>() < P_RING;
        out.push(Transaction { event_id: next_id(), entity_id: c.entity_id.clone(), ts_ms, values: values(&c, Purchase { amount, ip, agent, category, email: Some(email), bin: Some(bin) }), fraud, pattern: Pattern::Ring });
    }
    out.sort_by(|a, b| (a.ts_ms, &a.event_id).cmp(&(b.ts_ms, &b.event_id)));
    Ok(out)
}

fn label(t: &Transaction) -> &'static str {
    if t.fraud {
        "fraud"
    } else {
        "legit"
    }
}

/// Seconds-resolution ISO 8601 UTC (`2024-03-01T13:05:09Z`), as event files and the API take it.
pub fn timestamp(ms: i64) -> String {
    let s = super::values::iso_millis(ms);
    format!("{}Z", s.get(..19).unwrap_or(&s))
}

/// The event file CreateModelVersion (`EXTERNAL_EVENTS`) trains on and CreateBatchImportJob
/// reads: `EVENT_ID, EVENT_TIMESTAMP, ENTITY_ID, ENTITY_TYPE, EVENT_LABEL, LABEL_TIMESTAMP`,
/// then the variables of [`VARIABLES`]. No column tells the pattern.
pub fn write_csv<W: Write>(txns: &[Transaction], entity_type: &str, w: W) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(w);
    let mut head = vec!["EVENT_ID", "EVENT_TIMESTAMP", "ENTITY_ID", "ENTITY_TYPE", "EVENT_LABEL", "LABEL_TIMESTAMP"];
    head.extend(VARIABLES.iter().map(|v| v.0));
    w.write_record(&head)?;
    for t in txns {
        let ts = timestamp(t.ts_ms);
        let mut row: Vec<&str> = vec![&t.event_id, &ts, &t.entity_id, entity_type, label(t), &ts];
        row.extend(t.values.iter().map(String::as_str));
        w.write_record(&row)?;
    }
    w.flush()
}

/// One JSON object a line, as the seed's producer writes a transaction to Kafka
/// (`event_id`, `entity_id`, `event_time` and the variables; no label).
pub fn write_jsonl<W: Write>(txns: &[Transaction], mut w: W) -> std::io::Result<()> {
    for t in txns {
        let mut m = serde_json::Map::new();
        m.insert("event_id".into(), t.event_id.clone().into());
        m.insert("entity_id".into(), t.entity_id.clone().into());
        let iso = super::values::iso_millis(t.ts_ms);
        m.insert("event_time".into(), iso.trim_end_matches('Z').to_string().into());
        for ((name, ..), v) in VARIABLES.iter().zip(&t.values) {
            m.insert((*name).into(), v.clone().into());
        }
        serde_json::to_writer(&mut w, &m)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// The truth beside the data, for measuring: `EVENT_ID, EVENT_LABEL, PATTERN`.
pub fn write_truth<W: Write>(txns: &[Transaction], w: W) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(w);
    w.write_record(["EVENT_ID", "EVENT_LABEL", "PATTERN"])?;
    for t in txns {
        w.write_record([t.event_id.as_str(), label(t), t.pattern.as_str()])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(count: usize, seed: u64, fraud_rate: f64) -> Options {
        Options { count, seed, fraud_rate, days: 30, ..Options::default() }
    }

    #[test]
    fn deterministic_exact_count_sorted() {
        let a = generate(&opts(3000, 3, 0.05)).unwrap();
        let b = generate(&opts(3000, 3, 0.05)).unwrap();
        assert_eq!(a.len(), 3000);
        assert_eq!(a.iter().map(|t| &t.event_id).collect::<Vec<_>>(), b.iter().map(|t| &t.event_id).collect::<Vec<_>>());
        assert!(a.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms));
        let c = generate(&opts(3000, 4, 0.05)).unwrap();
        assert_ne!(a[0].values, c[0].values);
    }

    #[test]
    fn fraud_rate_is_close_to_the_request() {
        for rate in [0.0, 0.02, 0.05, 0.2] {
            let t = generate(&opts(20_000, 1, rate)).unwrap();
            let got = t.iter().filter(|t| t.fraud).count() as f64 / t.len() as f64;
            assert!((got - rate).abs() < 0.01 + rate * 0.15, "asked {rate}, got {got}");
        }
    }

    #[test]
    fn patterns_are_planted_as_documented() {
        let t = generate(&opts(10_000, 5, 0.06)).unwrap();
        let ring: Vec<_> = t.iter().filter(|t| t.pattern == Pattern::Ring).collect();
        let takeover: Vec<_> = t.iter().filter(|t| t.pattern == Pattern::Takeover).collect();
        assert!(!ring.is_empty() && !takeover.is_empty());
        assert!(ring.iter().all(|t| PREPAID_BINS.contains(&t.values[4].as_str()) && THROWAWAY.iter().any(|d| t.values[1].ends_with(d))));
        assert!(takeover.iter().all(|t| PROXY_NETS.iter().any(|n| t.values[2].starts_with(n)) && RISKY_CATEGORIES.contains(&t.values[12].as_str())));
        assert!(generate(&opts(10, 1, 0.6)).is_err());
        assert!(generate(&opts(0, 1, 0.1)).is_err());
    }

    #[test]
    fn files_have_the_documented_headers() {
        let t = generate(&opts(50, 1, 0.1)).unwrap();
        let mut csv_bytes = Vec::new();
        write_csv(&t, "customer", &mut csv_bytes).unwrap();
        let file = crate::domain::dataset::parse_event_file(&csv_bytes).unwrap();
        assert_eq!(file.rows.len(), 50);
        assert!(file.rejected.is_empty());
        assert_eq!(file.variable_columns, VARIABLES.iter().map(|v| v.0.to_string()).collect::<Vec<_>>());
        assert!(!String::from_utf8(csv_bytes).unwrap().contains("takeover"));
        let mut j = Vec::new();
        write_jsonl(&t[..1], &mut j).unwrap();
        let rec: serde_json::Value = serde_json::from_slice(&j).unwrap();
        for key in ["transaction_amt", "email_address", "ip_address", "transaction_currency", "event_id", "entity_id", "event_time", "billing_state", "card_bin", "user_agent", "product_category", "customer_name"] {
            assert!(rec.get(key).is_some(), "{key}");
        }
    }
}
