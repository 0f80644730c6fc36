//! The development sweep: decodes `bench/transcribe/dev.py`'s set under several bias settings
//! and prints term recall, false terms and WER (how the constants of `asr::bias` were chosen). Run with
//! `HEARTH_BIAS_DEV=<dir>/manifest.json HEARTH_MODELS_DIR=... cargo test --release -p
//! hearth-inference --lib dev_sweep -- --ignored --nocapture`.

use super::super::{decode, load, Biasing};
use std::path::PathBuf;

fn wav_samples(path: &str) -> Vec<f32> {
    let b = std::fs::read(path).unwrap();
    let mut i = 12;
    while i + 8 <= b.len() {
        let n = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        if &b[i..i + 4] == b"data" {
            let end = (i + 8 + n).min(b.len());
            return b[i + 8..end].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0).collect();
        }
        i += 8 + n;
    }
    Vec::new()
}

fn words(t: &str) -> Vec<String> {
    t.to_lowercase().split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).map(str::to_string).collect()
}


#[test]
#[ignore]
fn dev_sweep() {
    let Ok(manifest) = std::env::var("HEARTH_BIAS_DEV") else { return };
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let models = PathBuf::from(std::env::var("HEARTH_MODELS_DIR").unwrap());
    let name = std::env::var("HEARTH_ASR_MODEL").unwrap_or_else(|_| "whisper-tiny-en".into());
    let loaded = load(&crate::require(&models, &name).unwrap()).unwrap();
    let hints = |v: &str| {
        let h = &m["vocabularies"][v];
        let phrases: Vec<String> = h["phrases"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
        let aliases: Vec<(String, String)> = h["aliases"].as_array().unwrap().iter().map(|a| (a[0].as_str().unwrap().to_string(), a[1].as_str().unwrap().to_string())).collect();
        Biasing { prompt: String::new(), phrases, strength: 5.0, aliases }
    };
    let term_words = |b: &Biasing| -> Vec<String> { b.phrases.iter().flat_map(|p| p.split_whitespace().map(str::to_string)).collect() };
    // (label, strength, gate, margin, per token, alias margin)
    let grid: Vec<(String, f32, f32, f32, f32, f32)> = std::env::var("HEARTH_BIAS_GRID")
        .map(|g| g.split(';').filter(|x| !x.is_empty()).map(|c| {
            let v: Vec<f32> = c.split(',').map(|x| x.parse().unwrap()).collect();
            (c.to_string(), v[0], v[1], v[2], v[3], v[4])
        }).collect())
        .unwrap_or_else(|_| vec![("default".into(), 5.0, super::GATE, super::MARGIN, super::MARGIN_PER_TOKEN, super::ALIAS_MARGIN)]);
    let verifies: Vec<(f32, f32, f32)> = std::env::var("HEARTH_BIAS_VERIFY")
        .map(|g| g.split(';').filter(|x| !x.is_empty()).map(|c| {
            let v: Vec<f32> = c.split(',').map(|x| x.parse().unwrap()).collect();
            (v[0], v[1], v[2])
        }).collect())
        .unwrap_or_else(|_| vec![(super::VERIFY_MARGIN, super::VERIFY_MARGIN_PER_TOKEN, super::MIN_SIMILARITY)]);
    let verbose = std::env::var("HEARTH_BIAS_VERBOSE").is_ok();
    let items: Vec<&serde_json::Value> = m["items"].as_array().unwrap().iter().collect();
    let encoded: Vec<_> = items.iter().map(|it| loaded.encode(&wav_samples(it["wav"].as_str().unwrap())).unwrap().0).collect();
    let settings = |b: &Biasing, cfg: &(String, f32, f32, f32, f32, f32)| {
        let mut bb = b.clone();
        bb.strength = cfg.1;
        let mut st = loaded.settings(&bb);
        st.bias.gate = cfg.2;
        st.bias.margin = cfg.3;
        st.bias.margin_per_token = cfg.4;
        st.bias.alias_margin = cfg.5;
        if std::env::var("HEARTH_BIAS_NOPROMPT").is_ok() {
            st.prompt.clear();
        }
        st
    };
    let text = |d: &Option<decode::Decoded>| d.as_ref().map(|d| loaded.vocab.decode(&d.tokens)).unwrap_or_default();
    let plain_d: Vec<(Option<decode::Decoded>, crate::asr::model::KvCache)> = encoded.iter().map(|e| decode::decode_try(&loaded.model, &loaded.vocab, e, &loaded.settings(&Biasing::default()), 1).unwrap()).collect();
    let plain: Vec<String> = plain_d.iter().map(|(d, _)| text(d)).collect();
    for cfg in &grid {
        // (item, vocabulary, biased decoding, its settings)
        let mut runs = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let vocabs: Vec<&str> = if it["kind"] == "term" { vec![it["vocab"].as_str().unwrap()] } else { vec!["dev", "bench"] };
            for v in vocabs {
                let b = hints(v);
                let st = settings(&b, cfg);
                let (d, base) = decode::decode_try(&loaded.model, &loaded.vocab, &encoded[i], &st, 1).unwrap();
                runs.push((i, v, b, d, base, st));
            }
        }
        for (vi, &(vm, vt, vs)) in verifies.iter().enumerate() {
            let (mut hits, mut terms, mut false_terms, mut e_plain, mut e_vocab, mut n, mut plain_hits, mut e_biased) = (0, 0, 0, 0, 0, 0, 0, 0);
            for (i, v, b, d, base, st) in &runs {
                let it = items[*i];
                let mut st = st.clone();
                st.bias.verify_margin = vm;
                st.bias.verify_margin_per_token = vt;
                st.bias.min_similarity = vs;
                let (out, stretches) = match (&plain_d[*i].0, d) {
                    (Some(p), Some(bd)) if p.tokens != bd.tokens => {
                        let (o, s) = decode::verify(&loaded.model, &loaded.vocab, base, &st, p.clone(), bd).unwrap();
                        (Some(o), s)
                    }
                    (None, _) => (None, Vec::new()),
                    (Some(p), _) => (Some(p.clone()), Vec::new()),
                };
                let t = text(&out);
                let biased_text = text(d);
                let r = words(it["ref"].as_str().unwrap());
                if verbose && vi == 0 {
                    for x in &stretches {
                        if x.phrase {
                            eprintln!("    {:?} -> {:?} deficit {:.2} sim {:.2} len {} alias {} kept {}", x.plain, x.biased, x.plain_score - x.biased_score, x.similarity, loaded.vocab.encode(&x.biased).len(), x.alias, x.kept);
                        }
                    }
                }
                if it["kind"] == "term" {
                    let got: Vec<&str> = t.split(|c: char| !c.is_alphanumeric()).collect();
                    let want: Vec<&str> = it["terms"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
                    hits += want.iter().filter(|w| got.contains(w)).count();
                    plain_hits += want.iter().filter(|w| plain[*i].split(|c: char| !c.is_alphanumeric()).any(|x| x == **w)).count();
                    terms += want.len();
                    if verbose && vi == 0 {
                        eprintln!("  term {:?} | plain {:?} | biased {:?} | out {:?}", it["ref"].as_str().unwrap(), plain[*i].trim(), biased_text.trim(), t.trim());
                    }
                } else {
                    let tw = term_words(b);
                    false_terms += t.split(|c: char| !c.is_alphanumeric()).filter(|w| tw.iter().any(|x| x == w)).count();
                    e_plain += strsim::generic_levenshtein(&r, &words(&plain[*i]));
                    e_vocab += strsim::generic_levenshtein(&r, &words(&t));
                    e_biased += strsim::generic_levenshtein(&r, &words(&biased_text));
                    n += r.len();
                    if verbose && vi == 0 && t != plain[*i] {
                        eprintln!("  clean/{v}: {:?} -> {:?}", plain[*i].trim(), t.trim());
                    }
                }
            }
            eprintln!("{} verify {vm},{vt},{vs}: recall {:.2} (plain {:.2}) false terms {} wer plain {:.3} vocab {:.3} (biased before verification {:.3})", cfg.0, hits as f32 / terms as f32, plain_hits as f32 / terms as f32, false_terms, e_plain as f32 / n as f32, e_vocab as f32 / n as f32, e_biased as f32 / n as f32);
        }
    }
}
