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
