//! A whole media file → timed words: decode and resample one channel (or the mix) to 16 kHz,
//! detect speech and pack it into ≤30 s windows, transcribe each window on the engine, and
//! map word times back to the file. Blocking; run it on a blocking thread.
//!
//! Memory is bounded whatever the length of the file: the bytes are read through a [`Media`]
//! (an S3 object streams from its blob files), decoded and resampled block by block, and the
//! segmenter holds at most one window and one speech region in progress; only the words (and,
//! with speaker labels, one small voice signature per second of speech) accumulate. A stereo
//! file with channel identification is read once per channel.
//!
//! Words come out as the transcript items need them: the spoken form without surrounding
//! punctuation, the punctuation that followed it, start/end in seconds of the file (never
//! decreasing, inside the audio), and a confidence. Bracketed non-speech annotations the model
//! sometimes writes (`[MUSIC]`, `(laughs)`, `♪`) are dropped.

use std::sync::Arc;

use super::audio::{ChannelReader, ChannelSelect, Media, MediaInfo};
use super::segment::{Segmenter, VadSettings, Window};
use super::{AsrEngine, AsrError, Biasing, WindowOptions, WordTiming};

/// One recognised word.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// Start, seconds from the beginning of the file.
    pub start: f64,
    /// End, seconds from the beginning of the file.
    pub end: f64,
    /// The word without leading/trailing punctuation (inner apostrophes and hyphens kept).
    pub text: String,
    /// Punctuation written right after the word (`.`, `,`, `?`, `!`), if any.
    pub punctuation: Option<String>,
    /// Confidence 0..1 (mean token probability).
    pub confidence: f32,
    /// Speaker number (0-based, first to speak is 0) when speakers were asked for.
    pub speaker: Option<usize>,
}

/// The words of one channel (or of the mix).
#[derive(Debug, Clone, Default)]
pub struct ChannelTranscript {
    /// Words in time order.
    pub words: Vec<Word>,
    /// Seconds of audio read.
    pub seconds: f64,
    /// Seconds of audio sent to the model (speech found by the detector).
    pub speech_seconds: f64,
    /// With alternatives asked: one segment per decoded window, each with its hypotheses
    /// (best first, the first being `words` of that stretch).
    pub segments: Vec<AltSegment>,
}

/// A stretch of speech decoded at once and its alternative transcriptions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AltSegment {
    /// Start, seconds from the beginning of the file.
    pub start: f64,
    /// End, seconds from the beginning of the file.
    pub end: f64,
    /// Hypotheses, best first, as words on the file's time line.
    pub alternatives: Vec<Vec<Word>>,
}

/// What to transcribe.
#[derive(Debug, Clone)]
pub struct MediaRequest {
    /// The file (in memory or streamed).
    pub media: Media,
    /// A file extension hint (`wav`, `mp3`, …).
    pub hint: Option<String>,
    /// The channel (or the mix).
    pub select: ChannelSelect,
    /// Vocabulary hints.
    pub bias: Arc<Biasing>,
    /// Label speakers, at most this many ([`super::diarize`]).
    pub max_speakers: Option<usize>,
    /// Language code (`en`, `de`, …) for multilingual models; `None`: English.
    pub language: Option<String>,
    /// Alternative transcriptions per segment (0: none, greedy decoding).
    pub alternatives: usize,
}

impl MediaRequest {
    /// A request for `select` of `media` with no hints, speakers, language or alternatives.
    pub fn new(media: impl Into<Media>, hint: Option<String>, select: ChannelSelect) -> Self {
        MediaRequest { media: media.into(), hint, select, bias: Arc::new(Biasing::default()), max_speakers: None, language: None, alternatives: 0 }
    }
}

/// Identify the spoken language from the first ≤30 s of speech of `select` (Whisper's
/// language-detection token probabilities): (code, probability) best first, restricted to
/// `candidates` (codes such as `en`) when not empty; `None` when the file holds no speech.
pub fn identify_language(engine: &AsrEngine, media: &Media, hint: Option<&str>, select: ChannelSelect, candidates: &[String]) -> Result<Option<Vec<(String, f32)>>, AsrError> {
    let mut reader = ChannelReader::open(media, hint, select)?;
    let mut seg = Segmenter::new(VadSettings::default());
    let mut first: Option<Window> = None;
    while let Some(block) = reader.next_block()? {
        if let Some(w) = seg.push(&block).into_iter().next() {
            first = Some(w);
            break;
        }
    }
    if first.is_none() {
        first = seg.finish().into_iter().next();
    }
    match first {
        Some(w) => Ok(Some(engine.detect_language_blocking(w.samples, candidates.to_vec())?)),
        None => Ok(None),
    }
}

/// Open the media and report what it holds (sample rate, channels) without transcribing.
pub fn probe(media: &Media, hint: Option<&str>) -> Result<MediaInfo, AsrError> {
    Ok(super::audio::MediaDecoder::open(media, hint)?.info().clone())
}

/// Transcribe one channel of a media file. `progress` is called after each window with the
/// seconds of audio read so far.
pub fn transcribe_media(engine: &AsrEngine, req: &MediaRequest, mut progress: impl FnMut(f64)) -> Result<ChannelTranscript, AsrError> {
    let mut reader = ChannelReader::open(&req.media, req.hint.as_deref(), req.select)?;
    let mut seg = Segmenter::new(VadSettings::default());
    let mut out = ChannelTranscript::default();
    let mut total = 0usize;
    let mel = req.max_speakers.map(|_| super::mel::MelExtractor::new());
    let mut regions: Vec<super::diarize::Region> = Vec::new();
    let opts = Arc::new(WindowOptions { bias: (*req.bias).clone(), language: req.language.clone(), alternatives: req.alternatives });
    let mut handle = |w: Window, out: &mut ChannelTranscript| -> Result<(), AsrError> {
        out.speech_seconds += w.samples.len() as f64 / super::mel::SAMPLE_RATE as f64;
        if let Some(mel) = &mel {
            // Signatures of ~1 s pieces: a span may hold several turns.
            let rate = super::mel::SAMPLE_RATE;
            for s in &w.spans {
                let pieces = (s.len / rate).max(1);
                let step = s.len / pieces;
                for k in 0..pieces {
                    let at = s.at + k * step;
                    let len = if k + 1 == pieces { s.len - k * step } else { step };
                    let start = (s.source + k * step) as f64 / rate as f64;
                    let samples = &w.samples[at.min(w.samples.len())..(at + len).min(w.samples.len())];
                    regions.push(super::diarize::region(mel, samples, start, start + len as f64 / rate as f64));
                }
            }
        }
        let r = engine.window_blocking(w.samples.clone(), opts.clone())?;
        if !r.alternatives.is_empty() {
            let alternatives: Vec<Vec<Word>> = r
                .alternatives
                .iter()
                .map(|h| {
                    let mut words = Vec::new();
                    append_words(&mut words, &w, &h.words);
                    words
                })
                .filter(|words| !words.is_empty())
                .collect();
            if let (Some(first), Some(last)) = (w.spans.first(), w.spans.last()) {
                let rate = super::mel::SAMPLE_RATE as f64;
                if !alternatives.is_empty() {
                    out.segments.push(AltSegment { start: first.source as f64 / rate, end: (last.source + last.len) as f64 / rate, alternatives });
                }
            }
        }
        append_words(&mut out.words, &w, &r.words);
        Ok(())
    };
    while let Some(block) = reader.next_block()? {
        total += block.len();
        for w in seg.push(&block) {
            handle(w, &mut out)?;
            progress(reader.seconds_read());
        }
    }
    for w in seg.finish() {
        handle(w, &mut out)?;
    }
    if let Some(max) = req.max_speakers {
        let labels = super::diarize::cluster(&regions, max);
        for w in &mut out.words {
            let mid = (w.start + w.end) / 2.0;
            let nearest = regions
                .iter()
                .enumerate()
                .min_by(|a, b| {
                    let d = |r: &super::diarize::Region| if mid < r.start { r.start - mid } else if mid > r.end { mid - r.end } else { 0.0 };
                    d(a.1).total_cmp(&d(b.1))
                })
                .map(|(i, _)| i);
            w.speaker = Some(nearest.and_then(|i| labels.get(i).copied()).unwrap_or(0));
        }
    }
    out.seconds = total as f64 / super::mel::SAMPLE_RATE as f64;
    for w in out.words.iter_mut().chain(out.segments.iter_mut().flat_map(|s| s.alternatives.iter_mut().flatten())) {
        w.end = w.end.min(out.seconds);
        w.start = w.start.min(w.end);
    }
    for s in &mut out.segments {
        s.end = s.end.min(out.seconds);
    }
    progress(out.seconds);
    Ok(out)
}

fn is_annotation(s: &str) -> bool {
    let t = s.trim();
    (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('(') && t.ends_with(')')) || t.chars().all(|c| matches!(c, '♪' | '♫' | '*' | '-' | ' '))
}

/// Turn a window's word timings into [`Word`]s on the file's time line and append them.
pub fn append_words(out: &mut Vec<Word>, window: &Window, timings: &[WordTiming]) {
    // Join pieces written without a leading space to the previous word ("well" + "-known").
    let mut merged: Vec<WordTiming> = Vec::new();
    for t in timings {
        match merged.last_mut() {
            Some(prev) if !t.text.starts_with(' ') && !t.text.trim().chars().all(|c| c.is_ascii_punctuation()) => {
                prev.text.push_str(&t.text);
                prev.end = prev.end.max(t.end);
                prev.probability = (prev.probability + t.probability) / 2.0;
            }
            Some(prev) if !t.text.starts_with(' ') => {
                prev.text.push_str(&t.text);
            }
            _ => merged.push(t.clone()),
        }
    }
    // Drop bracketed annotations, which can span several words: "(upbeat music)".
    let mut depth = 0i32;
    let mut kept = Vec::new();
    for t in merged {
        let s = t.text.trim();
        let opens = s.starts_with('[') || s.starts_with('(');
        let closes = s.ends_with(']') || s.ends_with(')') || s.ends_with("].") || s.ends_with(").");
        if depth > 0 || opens {
            if !(opens && closes) {
                depth += i32::from(opens) - i32::from(closes);
            }
            depth = depth.max(0);
            continue;
        }
        if is_annotation(s) {
            continue;
        }
        kept.push(t);
    }
    for t in kept {
        let s = t.text.trim();
        let core_start = s.find(|c: char| c.is_alphanumeric()).unwrap_or(s.len());
        let core_end = s.rfind(|c: char| c.is_alphanumeric() || c == '%' || c == '$').map_or(core_start, |i| i + s[i..].chars().next().map_or(1, |c| c.len_utf8()));
        if core_end <= core_start {
            // Bare punctuation: attach to the previous word.
            if let Some(prev) = out.last_mut() {
                let p: String = s.chars().filter(|c| matches!(c, '.' | ',' | '?' | '!')).take(1).collect();
                if !p.is_empty() && prev.punctuation.is_none() {
                    prev.punctuation = Some(p);
                }
            }
            continue;
        }
        // Keep a leading currency sign with the word.
        let core_start = if core_start > 0 && s[..core_start].ends_with('$') { core_start - 1 } else { core_start };
        let text = s[core_start..core_end].to_string();
        let tail = &s[core_end..];
        let punctuation = tail.chars().find(|c| matches!(c, '.' | ',' | '?' | '!')).map(|c| c.to_string());
        let mut start = window.stream_time(t.start);
        let mut end = window.stream_time(t.end);
        if let Some(prev) = out.last() {
            start = start.max(prev.start);
        }
        // A word is rarely longer than 1.5 s: trim one that swallowed a pause.
        if end - start > 1.5 {
            start = end - 1.5;
        }
        end = end.max(start + 0.01);
        out.push(Word { start, end, text, punctuation, confidence: t.probability.clamp(0.0, 1.0), speaker: None });
    }
}

#[cfg(test)]
mod tests {
    use super::super::segment::Span;
    use super::*;

    fn wt(text: &str, start: f32, end: f32) -> WordTiming {
        WordTiming { text: text.into(), start, end, probability: 0.9 }
    }

    #[test]
    fn words_split_punctuation_and_map_time() {
        let window = Window { samples: vec![0.0; 16000 * 4], spans: vec![Span { at: 0, source: 16000 * 10, len: 16000 * 4 }] };
        let mut out = Vec::new();
        append_words(
            &mut out,
            &window,
            &[wt(" Hello,", 0.0, 0.5), wt(" it's", 0.5, 0.8), wt(" well", 0.8, 1.0), wt("-known", 1.0, 1.4), wt(" [MUSIC]", 1.4, 2.0), wt(" $5", 2.0, 2.4), wt(".", 2.4, 2.4)],
        );
        let texts: Vec<&str> = out.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, vec!["Hello", "it's", "well-known", "$5"]);
        assert_eq!(out[0].punctuation.as_deref(), Some(","));
        assert_eq!(out[3].punctuation.as_deref(), Some("."));
        assert!((out[0].start - 10.0).abs() < 1e-6);
        assert!((out[2].end - 11.4).abs() < 1e-3);
    }

    #[test]
    fn annotations_spanning_words_are_dropped() {
        let window = Window { samples: vec![0.0; 16000], spans: vec![Span { at: 0, source: 0, len: 16000 }] };
        let mut out = Vec::new();
        append_words(&mut out, &window, &[wt(" (upbeat", 0.0, 0.1), wt(" music)", 0.1, 0.2), wt(" Hi", 0.3, 0.4)]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].text, "Hi");
    }
}
