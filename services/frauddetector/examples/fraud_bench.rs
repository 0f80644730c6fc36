//! In-process half of `bench/frauddetector`: trains a model exactly as a `frauddetector.train`
//! job does, writes the engineered features it trained on (so Python peers can train on the
//! very same numbers), and measures scoring in process (features + XGBoost + calibration +
//! three DETECTORPL rules) on one thread and on several.
//!
//! ```text
//! cargo run --release -p hearth-frauddetector --example fraud_bench -- \
//!     --data transactions.csv --vars variables.json --model-type ONLINE_FRAUD_INSIGHTS \
//!     --models-dir <model cache> --out <dir> [--threads 2] [--predictions 20000]
//! ```
//! `variables.json` is `[[name, dataType, variableType, defaultValue], …]`. Prints one JSON
//! object (AUC, rounds, training seconds, predictions/s, latency percentiles).

use hearth_frauddetector::domain::dataset::parse_event_file;
use hearth_frauddetector::domain::features::{InputVariable, Row};
use hearth_frauddetector::domain::history::{EventView, History};
use hearth_frauddetector::domain::rules::{self, Schema, Scope, Ty, Value};
use hearth_frauddetector::domain::training::{self, Artifact, Scorer, TrainConfig, TrainRow};
use hearth_frauddetector::domain::values::DataType;
use hearth_inference::tabular::Xgb;
use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn write_matrix(path: &std::path::Path, x: &[f32], width: usize, labels: &[f32], names: &[String]) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "label,{}", names.join(","))?;
    for (i, y) in labels.iter().enumerate() {
        write!(f, "{y}")?;
        for v in &x[i * width..(i + 1) * width] {
            if v.is_finite() {
                write!(f, ",{v}")?;
            } else {
                write!(f, ",")?;
            }
        }
        writeln!(f)?;
    }
    Ok(())
}

struct ScoreSchema;
impl Schema for ScoreSchema {
    fn variable(&self, name: &str) -> Option<Ty> {
        (name == "model_insightscore" || name == "transaction_amt").then_some(Ty::Num)
    }
    fn list_exists(&self, _: &str) -> bool {
        false
    }
}

struct OneScore(f64, f64);
impl Scope for OneScore {
    fn var(&self, name: &str) -> Value<'_> {
        if name == "transaction_amt" {
            Value::Num(self.1)
        } else {
            Value::Num(self.0)
        }
    }
    fn list_contains(&self, _: &str, _: &str) -> bool {
        false
    }
}

/// Score one event end to end; returns the first matching rule.
fn one(i: usize, scorer: &Scorer, history: &Option<History>, rules: &[rules::Expr], rows: &[TrainRow]) -> usize {
    let r = &rows[i % rows.len()];
    let aggs = history.as_ref().map(|h| h.aggregates(&EventView { event_id: &r.event_id, entity_id: &r.entity_id, ts_ms: r.ts_ms, values: &r.variables }));
    let x = scorer.spec.transform(&Row { values: &r.variables, ts_ms: r.ts_ms, aggregates: aggs.as_deref() });
    let p = scorer.probabilities(x).expect("predict")[0];
    let score = scorer.calibration.score(p) as f64;
    let amt = r.variables.get("transaction_amt").and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let scope = OneScore(score, amt);
    rules.iter().position(|e| rules::evaluate(e, &scope)).unwrap_or(usize::MAX)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn main() {
    let data = arg("--data").expect("--data");
    let vars = arg("--vars").expect("--vars");
    let model_type = arg("--model-type").unwrap_or_else(|| "ONLINE_FRAUD_INSIGHTS".into());
    let models_dir = arg("--models-dir").expect("--models-dir");
    let out = std::path::PathBuf::from(arg("--out").expect("--out"));
    let threads: usize = arg("--threads").and_then(|t| t.parse().ok()).unwrap_or(2);
    let n_pred: usize = arg("--predictions").and_then(|t| t.parse().ok()).unwrap_or(20_000);

    let defs: Vec<(String, String, String, String)> = serde_json::from_slice(&std::fs::read(&vars).expect("read vars")).expect("vars json");
    let inputs: Vec<InputVariable> = defs
        .iter()
        .map(|(n, dt, vt, dv)| InputVariable { name: n.clone(), data_type: DataType::parse(dt).expect("data type"), variable_type: Some(vt.clone()), default_value: dv.clone() })
        .collect();
    let file = parse_event_file(&std::fs::read(&data).expect("read data")).expect("event file");
    let rows: Vec<TrainRow> = file
        .rows
        .into_iter()
        .map(|r| TrainRow {
            event_id: r.event_id.unwrap_or_else(|| format!("line-{}", r.line)),
            entity_id: r.entity_id.unwrap_or_else(|| "unknown".into()),
            ts_ms: r.ts_ms,
            variables: r.variables,
            fraud: r.label.as_deref() == Some("fraud"),
        })
        .collect();
    let tfi = model_type == "TRANSACTION_FRAUD_INSIGHTS";
    let cfg = TrainConfig { inputs, aggregates: tfi, threads };
    let xgb = Xgb::from_models_dir(std::path::Path::new(&models_dir)).expect("libxgboost");

    let t0 = Instant::now();
    let prepared = training::prepare(&cfg, rows.clone()).unwrap_or_else(|e| panic!("prepare: {e:?}"));
    let prepare_s = t0.elapsed().as_secs_f64();
    std::fs::create_dir_all(&out).expect("out dir");
    let names: Vec<String> = prepared.spec.columns.iter().map(|c| c.name.clone()).collect();
    let w = prepared.width;
    write_matrix(&out.join("train.csv"), &prepared.train_x, w, &prepared.train_y, &names).expect("write train");
    let vy: Vec<f32> = prepared.valid_y.iter().map(|b| if *b { 1.0 } else { 0.0 }).collect();
    write_matrix(&out.join("valid.csv"), &prepared.valid_x, w, &vy, &names).expect("write valid");
    let n_fit = prepared.n_fit;
    let params = training::params(0, threads);
    let valid_x = prepared.valid_x.clone();
    let (artifact, report) = training::fit(&xgb, &cfg, prepared, &AtomicBool::new(false), t0).unwrap_or_else(|e| panic!("fit: {e:?}"));
    let train_s = t0.elapsed().as_secs_f64();

    // Scoring in process: features (+ aggregates) → booster → calibration → rules, per event.
    let artifact = Artifact::from_bytes(&artifact.to_bytes().expect("artifact")).expect("artifact");
    let scorer = std::sync::Arc::new(Scorer::load(&xgb, artifact).expect("load"));
    let mut history = scorer.spec.aggregates.clone().map(History::new);
    if let Some(h) = history.as_mut() {
        for r in &rows {
            h.insert(&EventView { event_id: &r.event_id, entity_id: &r.entity_id, ts_ms: r.ts_ms, values: &r.variables });
        }
    }
    let history = std::sync::Arc::new(history);
    let rules: std::sync::Arc<Vec<rules::Expr>> = std::sync::Arc::new(
        ["$model_insightscore > 900", "$model_insightscore > 700 and $transaction_amt > 100", "$model_insightscore <= 700"]
            .iter()
            .map(|e| {
                let x = rules::parse(e).expect("rule");
                rules::check(&x, &ScoreSchema).expect("rule check");
                x
            })
            .collect(),
    );
    let rows = std::sync::Arc::new(rows);
    // Where the time of one event goes: features vs the booster call.
    let (mut t_feat, mut t_pred) = (0f64, 0f64);
    for i in 0..2000 {
        let r = &rows[i % rows.len()];
        let t = Instant::now();
        let aggs = history.as_ref().as_ref().map(|h| h.aggregates(&EventView { event_id: &r.event_id, entity_id: &r.entity_id, ts_ms: r.ts_ms, values: &r.variables }));
        let x = scorer.spec.transform(&Row { values: &r.variables, ts_ms: r.ts_ms, aggregates: aggs.as_deref() });
        t_feat += t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::hint::black_box(scorer.probabilities(x).expect("predict"));
        t_pred += t.elapsed().as_secs_f64();
    }
    let parts = (t_feat / 2000.0 * 1e6, t_pred / 2000.0 * 1e6);
    // One thread: latency per event.
    let mut lat = Vec::with_capacity(n_pred);
    for i in 0..n_pred {
        let t = Instant::now();
        std::hint::black_box(one(i, &scorer, &history, &rules, &rows));
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let single_rate = n_pred as f64 / (lat.iter().sum::<f64>() / 1e6);
    // All threads.
    let t = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|k| {
            let (scorer, history, rules, rows) = (scorer.clone(), history.clone(), rules.clone(), rows.clone());
            std::thread::spawn(move || {
                for i in (k..n_pred).step_by(threads) {
                    std::hint::black_box(one(i, &scorer, &history, &rules, &rows));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let multi_rate = n_pred as f64 / t.elapsed().as_secs_f64();
    let _ = valid_x;
    let result = serde_json::json!({
        "model_type": model_type,
        "features": w,
        "train_rows": report.train_events,
        "fit_rows": n_fit,
        "validation_rows": report.validation_events,
        "auc": report.auc,
        "auc_interval": [report.auc_lower, report.auc_upper],
        "rounds": report.rounds,
        "params": params.params,
        "early_stopping_rounds": training::EARLY_STOPPING_ROUNDS,
        "min_rounds": training::MIN_ROUNDS,
        "prepare_seconds": prepare_s,
        "train_seconds_total": train_s,
        "xgboost": xgb.version(),
        "in_process": {
            "predictions": n_pred,
            "latency_us_p50": pct(&lat, 0.50),
            "latency_us_p99": pct(&lat, 0.99),
            "per_second_1_thread": single_rate,
            "threads": threads,
            "per_second_all_threads": multi_rate,
            "mean_us_features": parts.0,
            "mean_us_booster": parts.1,
        },
    });
    println!("{result}");
}
