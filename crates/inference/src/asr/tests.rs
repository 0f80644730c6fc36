//! Tests of the speech engine on the real model. They need `whisper-tiny-en` in the model
//! cache (`HEARTH_MODELS_DIR`, else `~/.cache/hearth/models`); without it they print why and
//! pass. The audio is `testdata/support.flac`: espeak-ng (en-us, 150 wpm) saying "Thank you
//! for calling customer support. My name is Sarah. How can I help you today?", 8 kHz mono.

use super::*;

const SUPPORT_FLAC: &[u8] = include_bytes!("testdata/support.flac");

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

fn words(t: &ChannelTranscript) -> Vec<String> {
    t.words.iter().map(|w| w.text.to_lowercase()).collect()
}

#[test]
fn transcribes_speech_with_increasing_word_times() {
    let Some(dir) = model_dir() else { return };
    let engine = AsrEngine::start(dir, AsrEngineOptions::default()).unwrap();
    let req = MediaRequest { media: SUPPORT_FLAC.to_vec().into(), hint: Some("flac".into()), select: ChannelSelect::Mix, bias: Arc::new(Biasing::default()), max_speakers: None, language: None, alternatives: 0 };
    let started = std::time::Instant::now();
    let t = transcribe_media(&engine, &req, |_| {}).unwrap();
    eprintln!("{:.2}s of audio in {:?}", t.seconds, started.elapsed());
    for w in &t.words {
        eprintln!("{:6.2} {:6.2} {:.2} {}{}", w.start, w.end, w.confidence, w.text, w.punctuation.as_deref().unwrap_or(""));
    }
    let got = words(&t);
    let want = ["thank", "you", "for", "calling", "customer", "support", "my", "name", "is", "sarah", "how", "can", "i", "help", "you", "today"];
    let hits = want.iter().filter(|w| got.contains(&w.to_string())).count();
    assert!(hits >= 14, "{got:?}");
    assert!((t.seconds - 6.2).abs() < 0.1, "{}", t.seconds);
    let mut last = 0.0;
    for w in &t.words {
        assert!(w.start >= last - 1e-9 && w.end >= w.start && w.end <= t.seconds + 1e-9, "{w:?}");
        assert!((0.0..=1.0).contains(&w.confidence));
        last = w.start;
    }
    // "support" ends the first sentence, around 1.7–2.5 s.
    let support = t.words.iter().find(|w| w.text.eq_ignore_ascii_case("support")).unwrap();
    assert!(support.start > 1.0 && support.start < 2.3, "{support:?}");
    assert_eq!(support.punctuation.as_deref(), Some("."));
}

#[test]
fn silence_gives_no_words() {
    let Some(dir) = model_dir() else { return };
    let engine = AsrEngine::start(dir, AsrEngineOptions::default()).unwrap();
    let wav = super::audio::encode_wav(16000, 1, &vec![0i16; 16000 * 20]);
    let req = MediaRequest { media: wav.into(), hint: None, select: ChannelSelect::Mix, bias: Arc::new(Biasing::default()), max_speakers: None, language: None, alternatives: 0 };
    let t = transcribe_media(&engine, &req, |_| {}).unwrap();
    assert!(t.words.is_empty(), "{:?}", t.words);
    assert_eq!(t.speech_seconds, 0.0);
}

#[test]
fn missing_model_answers_load_errors() {
    let engine = AsrEngine::start(PathBuf::from("/nonexistent-hearth-model"), AsrEngineOptions::default()).unwrap();
    let e = engine.window_blocking(vec![0.0; 16000], Arc::new(WindowOptions::default())).unwrap_err();
    assert!(matches!(e, AsrError::Load(_)), "{e:?}");
}

#[test]
fn speaker_signatures_of_a_file() {
    // Diagnostic on a file named by HEARTH_DIARIZE_WAV (16 kHz mono WAV); prints the labels.
    let Some(path) = std::env::var_os("HEARTH_DIARIZE_WAV") else { return };
    let Some(dir) = model_dir() else { return };
    let engine = AsrEngine::start(dir, AsrEngineOptions::default()).unwrap();
    let data = std::fs::read(path).unwrap();
    let req = MediaRequest { media: data.into(), hint: None, select: ChannelSelect::Mix, bias: Arc::new(Biasing::default()), max_speakers: Some(2), language: None, alternatives: 0 };
    let t = transcribe_media(&engine, &req, |_| {}).unwrap();
    for w in &t.words {
        eprintln!("{:6.2} {:?} {}", w.start, w.speaker, w.text);
    }
}

#[test]
fn model_dir_diagnostic() {
    // Diagnostic: HEARTH_ASR_DIR (a model directory) + HEARTH_ASR_WAV (a media file); optional
    // HEARTH_ASR_LANG, HEARTH_ASR_ALTS (alternatives), HEARTH_ASR_PHRASES (comma-separated
    // vocabulary). Prints the detected language, the words, alternatives and the real-time factor.
    let (Some(dir), Some(path)) = (std::env::var_os("HEARTH_ASR_DIR"), std::env::var_os("HEARTH_ASR_WAV")) else { return };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let engine = AsrEngine::start(PathBuf::from(dir), AsrEngineOptions::from_env()).unwrap();
    let data = Arc::new(std::fs::read(path).unwrap());
    let _ = engine.window_blocking(vec![0.0; 16000], Arc::new(WindowOptions::default()));
    if let Ok(Some(langs)) = identify_language(&engine, &data.clone().into(), None, ChannelSelect::Mix, &[]) {
        eprintln!("language: {:?}", &langs[..langs.len().min(3)]);
    }
    let phrases: Vec<String> = env("HEARTH_ASR_PHRASES").map(|p| p.split(',').map(str::to_string).collect()).unwrap_or_default();
    let bias = Biasing { prompt: String::new(), strength: if phrases.is_empty() { 0.0 } else { 5.0 }, phrases, aliases: Vec::new() };
    let mut req = MediaRequest::new(data, None, ChannelSelect::Mix);
    req.bias = Arc::new(bias);
    req.language = env("HEARTH_ASR_LANG");
    req.alternatives = env("HEARTH_ASR_ALTS").and_then(|a| a.parse().ok()).unwrap_or(0);
    let started = std::time::Instant::now();
    let t = transcribe_media(&engine, &req, |_| {}).unwrap();
    let took = started.elapsed().as_secs_f64();
    let text = |ws: &[Word]| ws.iter().map(|w| format!("{}{}", w.text, w.punctuation.as_deref().unwrap_or(""))).collect::<Vec<_>>().join(" ");
    eprintln!("{}", text(&t.words));
    for s in &t.segments {
        for (i, a) in s.alternatives.iter().enumerate() {
            eprintln!("  [{:.2}-{:.2}] #{i}: {}", s.start, s.end, text(a));
        }
    }
    eprintln!("{:.1}s audio, {:.1}s speech, {:.2}s, rtf {:.3}", t.seconds, t.speech_seconds, took, took / t.seconds);
}
