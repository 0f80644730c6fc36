//! Tests of the text engine on the real model. They need `minilm-l6-v2` in the model cache
//! (`HEARTH_MODELS_DIR`, else `~/.cache/hearth/models`); without it they print why and pass.

use super::*;

fn model_dir() -> Option<PathBuf> {
    let dirs = [
        std::env::var_os("HEARTH_MODELS_DIR").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/hearth/models")),
    ];
    for d in dirs.into_iter().flatten() {
        if let Ok(p) = crate::require(&d, MODEL_NAME) {
            return Some(p);
        }
    }
    eprintln!("skipping: {MODEL_NAME} not fetched (run `hearth models fetch {MODEL_NAME}` with HEARTH_MODELS_DIR set)");
    None
}

#[test]
fn embeddings_are_unit_vectors_and_semantic() {
    let Some(dir) = model_dir() else { return };
    let m = SentenceEmbedder::load(&dir).unwrap();
    assert_eq!(m.dim(), 384);
    let v = m
        .embed(&[
            "I want to open a new credit card",
            "Help me get a new credit card",
            "What is the weather in Paris",
        ])
        .unwrap();
    for x in &v {
        let n: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-4, "norm {n}");
    }
    let close = dot(&v[0], &v[1]);
    let far = dot(&v[0], &v[2]);
    assert!(
        close > 0.6 && far < 0.3 && close > far + 0.3,
        "close {close} far {far}"
    );
}

#[test]
fn batching_and_padding_do_not_change_vectors() {
    let Some(dir) = model_dir() else { return };
    let m = SentenceEmbedder::load(&dir).unwrap();
    let short = "hi";
    let long = "I think someone stole my card and made fraudulent charges on my account last night";
    let alone = m.embed(&[short]).unwrap().remove(0);
    let batched = m.embed(&[long, short]).unwrap();
    assert!(
        dot(&alone, &batched[1]) > 0.99999,
        "padding changed the vector"
    );
    // More than one chunk, results in input order.
    let many: Vec<String> = (0..70)
        .map(|i| format!("{} number {i}", if i % 2 == 0 { short } else { long }))
        .collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let all = m.embed(&refs).unwrap();
    let one = m.embed(&[refs[41]]).unwrap().remove(0);
    assert!(dot(&all[41], &one) > 0.99999);
}

#[test]
fn engine_thread_batches_concurrent_requests() {
    let Some(dir) = model_dir() else { return };
    let engine = TextEngine::start(
        dir,
        TextEngineOptions {
            threads: 1,
            max_batch: 8,
        },
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let texts = [
        "block my card",
        "open an account",
        "unknown charge on my statement",
        "what time is it",
    ];
    let solo: Vec<Vec<f32>> = texts
        .iter()
        .map(|t| {
            engine
                .embed_blocking(vec![t.to_string()])
                .unwrap()
                .remove(0)
        })
        .collect();
    let together = rt.block_on(async {
        let futs: Vec<_> = texts.iter().map(|t| engine.embed_one(t)).collect();
        let mut out = Vec::new();
        for f in futs {
            out.push(f.await.unwrap());
        }
        out
    });
    for (a, b) in solo.iter().zip(&together) {
        assert!(dot(a, b) > 0.99999);
    }
    assert_eq!(engine.dim(), Some(384));
}

#[test]
fn missing_model_is_a_load_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = TextEngine::shared(tmp.path(), TextEngineOptions::default()).unwrap_err();
    assert!(
        matches!(err, TextError::Load(ref m) if m.contains("hearth models fetch")),
        "{err}"
    );
    let engine = TextEngine::start(tmp.path().to_path_buf(), TextEngineOptions::default()).unwrap();
    assert!(matches!(
        engine.embed_blocking(vec!["x".into()]),
        Err(TextError::Load(_))
    ));
}

#[test]
fn erf_matches_the_series_to_1e6() {
    // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)), summed in f64.
    fn series(x: f64) -> f64 {
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }
    let mut worst: f64 = 0.0;
    for i in -4000..=4000 {
        let x = i as f64 / 1000.0;
        worst = worst.max((super::bert::erf(x as f32) as f64 - series(x)).abs());
    }
    assert!(worst < 1e-6, "largest error {worst:e}");
    assert!((super::bert::erf(9.0) - 1.0).abs() < 1e-6);
    assert!((super::bert::erf(-30.0) + 1.0).abs() < 1e-6);
}

#[test]
fn encoder_matches_candle_bert() {
    use candle_core::{DType, Device, Tensor};
    let Some(dir) = model_dir() else { return };
    let m = SentenceEmbedder::load(&dir).unwrap();
    let texts = [
        "hi",
        "I think someone stole my card and made fraudulent charges on my account last night",
        "book a table for four at a sushi place tonight",
    ];
    // A batch of more than 32 tokens takes the f32 weights.
    let filler =
        "a long enough sentence to make the batch take the general path, with many words in it";
    let mut batch = texts.to_vec();
    batch.push(filler);
    let ours = m.embed(&batch).unwrap();
    // The reference: candle-transformers' BertModel, one text at a time.
    let config: candle_transformers::models::bert::Config =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    let vb = candle_nn::VarBuilder::from_buffered_safetensors(
        std::fs::read(dir.join("model.safetensors")).unwrap(),
        DType::F32,
        &Device::Cpu,
    )
    .unwrap();
    let bert = candle_transformers::models::bert::BertModel::load(vb, &config).unwrap();
    let tok = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    for (text, v) in texts.iter().zip(&ours) {
        let mut tok = tok.clone();
        tok.with_padding(None);
        let ids: Vec<u32> = tok.encode(*text, true).unwrap().get_ids().to_vec();
        let n = ids.len();
        let ids = Tensor::new(ids.as_slice(), &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let types = ids.zeros_like().unwrap();
        let hidden = bert.forward(&ids, &types, None).unwrap();
        let mean: Vec<f32> = (hidden.sum(1).unwrap() / n as f64)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec1()
            .unwrap();
        let reference = normalized(mean);
        let largest = |v: &[f32]| {
            v.iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max)
        };
        // In the batch: f32 weights, the reference's arithmetic.
        let diff = largest(v);
        assert!(diff < 2e-5, "{text:?}: largest difference {diff:e}");
        // Alone: a short text may take the f16-weight kernel.
        let alone = m.embed(&[text]).unwrap().remove(0);
        let diff = largest(&alone);
        let cos = dot(&alone, &reference);
        eprintln!("{text:?} alone: largest difference {diff:e}, cosine {cos}");
        assert!(
            diff < 2e-3 && cos > 0.9999,
            "{text:?} alone: largest difference {diff:e}, cosine {cos}"
        );
    }
}

#[test]
fn dot_matches_the_plain_sum_at_every_length() {
    for n in [0usize, 1, 7, 8, 9, 31, 384, 385] {
        let a: Vec<f32> = (0..n).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.0).collect();
        let b: Vec<f32> = (0..n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 3.0).collect();
        let plain: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
        assert!((f64::from(dot(&a, &b)) - plain).abs() < 1e-4, "length {n}");
    }
    // Unequal lengths: the common prefix, as zip gave.
    assert_eq!(dot(&[1.0, 2.0, 3.0], &[1.0, 1.0]), 3.0);
}
