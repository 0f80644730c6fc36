//! Engine tests against the real library. They need `libxgboost.so`: set
//! `HEARTH_XGBOOST_LIB=/path/to/libxgboost.so`, or `HEARTH_MODELS_DIR` to a model cache where
//! `hearth models fetch xgboost` ran. Without either they print a notice and pass (the
//! compatibility suite in `tests/aws` always fetches the library and covers the same ground).

use super::*;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn library() -> Option<Arc<Xgb>> {
    if let Ok(p) = std::env::var("HEARTH_XGBOOST_LIB") {
        return Some(Xgb::open(std::path::Path::new(&p)).expect("HEARTH_XGBOOST_LIB opens"));
    }
    if let Ok(d) = std::env::var("HEARTH_MODELS_DIR") {
        return Some(Xgb::from_models_dir(std::path::Path::new(&d)).expect("xgboost fetched into HEARTH_MODELS_DIR"));
    }
    eprintln!("tabular tests skipped: set HEARTH_XGBOOST_LIB or HEARTH_MODELS_DIR");
    None
}

/// y = 3·x0 − 2·x1² + noise-free step on x2, on a deterministic grid.
fn regression(n: usize) -> Dataset {
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let x0 = (i % 17) as f32 / 17.0;
        let x1 = ((i * 7) % 23) as f32 / 23.0;
        let x2 = ((i * 13) % 11) as f32 / 11.0;
        rows.push([x0, x1, x2]);
        labels.push(3.0 * x0 - 2.0 * x1 * x1 + if x2 > 0.5 { 1.0 } else { 0.0 });
    }
    Dataset::new(Matrix::from_rows(&rows).unwrap(), labels, None).unwrap()
}

#[test]
fn train_predict_save_load() {
    let Some(xgb) = library() else { return };
    let data = regression(400);
    let params = TrainParams::new("reg:squarederror", 50).max_depth(5).eta(0.2).gamma(0.0).min_child_weight(1.0).subsample(0.7);
    let mut seen = 0;
    let mut on_round = |_: &RoundEval| seen += 1;
    let out = train(&xgb, &params, &data, &[("validation", &data)], TrainControl { on_round: Some(&mut on_round), threads: Some(2), ..Default::default() }).unwrap();
    assert_eq!(out.rounds, 50);
    assert_eq!(seen, 50);
    let last = out.evals.last().unwrap();
    assert!(last.get("train", "rmse").unwrap() < 0.1, "{}", last.line);
    assert_eq!(out.booster.num_features().unwrap(), 3);
    assert_eq!(out.booster.boosted_rounds().unwrap(), 50);
    assert_eq!(out.booster.objective().unwrap(), "reg:squarederror");

    let p = out.booster.predict(&data.features).unwrap();
    assert_eq!((p.rows, p.groups), (400, 1));
    let rmse = Metric::Rmse.evaluate(&p.values, &data.labels).unwrap();
    assert!((rmse - last.get("train", "rmse").unwrap()).abs() < 1e-4, "{rmse} vs {}", last.line);

    for fmt in [ModelFormat::Json, ModelFormat::Ubjson] {
        let bytes = out.booster.save(fmt).unwrap();
        let again = Booster::load(&xgb, &bytes).unwrap();
        assert_eq!(again.predict(&data.features).unwrap(), p, "{fmt:?}");
    }
    let json = out.booster.save(ModelFormat::Json).unwrap();
    assert_eq!(json[0], b'{');
}

#[test]
fn errors_are_reported_not_panicked() {
    let Some(xgb) = library() else { return };
    let e = Booster::load(&xgb, b"not a model").unwrap_err();
    assert!(matches!(e, TabularError::Model(_)), "{e:?}");
    assert!(matches!(Booster::load(&xgb, b""), Err(TabularError::Model(_))));
    let data = regression(50);
    let out = train(&xgb, &TrainParams::new("reg:squarederror", 3), &data, &[], TrainControl::default()).unwrap();
    let wide = Matrix::new(1, 5, vec![0.0; 5]).unwrap();
    assert!(out.booster.predict(&wide).is_err());
    // A bad parameter is refused when XGBoost next configures: an error, never a crash.
    let _ = out.booster.set_param("max_depth", "-3");
    let _ = out.booster.predict(&data.features);
    let bad = TrainParams::new("no:such", 2);
    assert!(train(&xgb, &bad, &data, &[], TrainControl::default()).is_err());
}

#[test]
fn early_stopping_and_cancel() {
    let Some(xgb) = library() else { return };
    let data = regression(300);
    let noise = Dataset::new(data.features.clone(), data.labels.iter().enumerate().map(|(i, _)| (i % 7) as f32).collect(), None).unwrap();
    let params = TrainParams::new("reg:squarederror", 200).eta(0.3).early_stopping_rounds(3);
    let out = train(&xgb, &params, &data, &[("validation", &noise)], TrainControl::default()).unwrap();
    assert!(out.rounds < 200, "{} rounds", out.rounds);
    let best = out.best_iteration.unwrap();
    assert_eq!(out.booster.attr("best_iteration").unwrap(), Some(best.to_string()));
    assert_eq!(out.rounds, best + 4);

    let cancel = AtomicBool::new(true);
    let out = train(&xgb, &TrainParams::new("reg:squarederror", 10), &data, &[], TrainControl { cancel: Some(&cancel), ..Default::default() }).unwrap();
    assert!(out.cancelled);
    assert_eq!(out.rounds, 0);
}

#[test]
fn binary_classification_metrics() {
    let Some(xgb) = library() else { return };
    let data = regression(300);
    let labels: Vec<f32> = data.labels.iter().map(|&y| if y > 0.8 { 1.0 } else { 0.0 }).collect();
    let d = Dataset::new(data.features.clone(), labels, None).unwrap();
    let params = TrainParams::new("binary:logistic", 30).max_depth(3).eval_metric("auc").eval_metric("logloss");
    let out = train(&xgb, &params, &d, &[("validation", &d)], TrainControl::default()).unwrap();
    let p = out.booster.predict(&d.features).unwrap();
    assert!(p.values.iter().all(|v| (0.0..=1.0).contains(v)));
    let auc = Metric::Auc.evaluate(&p.values, &d.labels).unwrap();
    let xgb_auc = out.evals.last().unwrap().get("validation", "auc").unwrap();
    assert!((auc - xgb_auc).abs() < 1e-6, "{auc} vs {xgb_auc}");
    let ll = Metric::Logloss.evaluate(&p.values, &d.labels).unwrap();
    let xgb_ll = out.evals.last().unwrap().get("validation", "logloss").unwrap();
    assert!((ll - xgb_ll).abs() < 1e-5, "{ll} vs {xgb_ll}");
}

#[test]
fn engine_threads() {
    let Some(xgb) = library() else { return };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let engine = Engine::new(2);
        let data = regression(200);
        let out = engine
            .train(TrainRequest {
                xgb: xgb.clone(),
                params: TrainParams::new("reg:squarederror", 10),
                train: data.clone(),
                evals: vec![],
                cancel: Arc::new(AtomicBool::new(false)),
                threads: Some(1),
                on_round: Box::new(|_| {}),
            })
            .await
            .unwrap();
        let bytes = out.booster.save(ModelFormat::Ubjson).unwrap();
        let model = engine.load(xgb.clone(), bytes).await.unwrap();
        let mut handles = Vec::new();
        for _ in 0..8 {
            let (e, m, x) = (engine.clone(), model.clone(), data.features.clone());
            handles.push(tokio::spawn(async move { e.predict(m, x).await.unwrap() }));
        }
        let first = out.booster.predict(&data.features).unwrap();
        for h in handles {
            assert_eq!(h.await.unwrap(), first);
        }
        assert!(engine.load(xgb, b"junk".to_vec()).await.is_err());
    });
}
