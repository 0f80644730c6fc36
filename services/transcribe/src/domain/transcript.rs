//! The transcript file exactly as Amazon Transcribe writes it for a batch job:
//! `jobName`, `accountId`, `status`, `results.transcripts[0].transcript`, `results.items`
//! (`id`, `start_time`/`end_time` as strings, `alternatives[{confidence, content}]`,
//! `type` pronunciation | punctuation, `channel_label` / `speaker_label` when asked,
//! `vocabulary_filter_match` when a filter tags), `results.channel_labels` (channel
//! identification), `results.speaker_labels` (speaker partitioning), `results.audio_segments`
//! (utterances with the ids of their items), and for redaction `isRedacted` plus `[PII]`
//! items carrying `redactions[{confidence, type, category}]`. With alternatives,
//! `results.segments[{start_time, end_time, alternatives[{transcript, items[{start_time,
//! end_time, confidence, content, type}]}]}]` (AWS's "Alternative transcriptions" layout);
//! with language identification, `results.language_code` and
//! `results.language_identification[{code, score}]`.
//!
//! [`assemble`] takes the recognised words of each channel and applies, in order: the
//! vocabulary filter (mask `***`, remove, tag), PII redaction (each entity becomes one `[PII]`
//! item spanning its words), then lays the items of all channels out in time order.

use hearth_inference::asr::{AltSegment, Word};
use serde::Serialize;

use super::pii;

/// How a vocabulary filter acts on matching words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMethod {
    /// Replace the word with `***`.
    Mask,
    /// Drop the word.
    Remove,
    /// Keep the word and flag it.
    Tag,
}

impl FilterMethod {
    /// The API's spelling (`mask`, `remove`, `tag`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mask" => Some(FilterMethod::Mask),
            "remove" => Some(FilterMethod::Remove),
            "tag" => Some(FilterMethod::Tag),
            _ => None,
        }
    }
}

/// A vocabulary filter in use.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Lower-case words (and phrases of several words).
    pub words: Vec<Vec<String>>,
    pub method: FilterMethod,
}

/// The recognised words of one channel (or of the whole file).
#[derive(Debug, Clone)]
pub struct ChannelWords {
    /// 0-based channel number (None: mono / mixed, no channel identification).
    pub channel: Option<usize>,
    pub words: Vec<Word>,
    /// Alternative transcriptions per segment (empty unless asked).
    pub segments: Vec<AltSegment>,
}

/// What to put in the file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub job_name: String,
    pub account: String,
    /// Emit `channel_labels` and `channel_label` on items.
    pub channel_identification: bool,
    /// Emit `speaker_labels` and `speaker_label` on items.
    pub speaker_labels: bool,
    pub filter: Option<Filter>,
    /// Redact these PII types (empty: no redaction).
    pub redact: Vec<String>,
    /// Emit `segments` with alternative transcriptions.
    pub alternatives: bool,
    /// With language identification: the identified language and its score.
    pub identified_language: Option<(String, Option<f32>)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TranscriptFile {
    #[serde(rename = "jobName")]
    pub job_name: String,
    #[serde(rename = "accountId")]
    pub account_id: String,
    #[serde(rename = "isRedacted", skip_serializing_if = "Option::is_none")]
    pub is_redacted: Option<bool>,
    pub status: String,
    pub results: Results,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Results {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_identification: Option<Vec<LanguageScore>>,
    pub transcripts: Vec<TranscriptText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker_labels: Option<SpeakerLabels>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_labels: Option<ChannelLabels>,
    pub items: Vec<Item>,
    pub audio_segments: Vec<AudioSegment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<Segment>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LanguageScore {
    pub code: String,
    pub score: String,
}

/// A segment with its alternative transcriptions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Segment {
    pub start_time: String,
    pub end_time: String,
    pub alternatives: Vec<SegmentAlternative>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SegmentAlternative {
    pub transcript: String,
    pub items: Vec<SegmentItem>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SegmentItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub content: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TranscriptText {
    pub transcript: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Item {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    pub alternatives: Vec<Alternative>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocabulary_filter_match: Option<bool>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alternative {
    pub confidence: String,
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redactions: Option<Vec<Redaction>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Redaction {
    pub confidence: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub category: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChannelLabels {
    pub channels: Vec<ChannelItems>,
    pub number_of_channels: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChannelItems {
    pub channel_label: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpeakerLabels {
    pub speakers: usize,
    pub segments: Vec<SpeakerSegment>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpeakerSegment {
    pub start_time: String,
    pub speaker_label: String,
    pub end_time: String,
    pub items: Vec<SpeakerItem>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpeakerItem {
    pub start_time: String,
    pub speaker_label: String,
    pub end_time: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AudioSegment {
    pub id: usize,
    pub transcript: String,
    pub start_time: String,
    pub end_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker_label: Option<String>,
    pub items: Vec<usize>,
}

/// Seconds as AWS writes them: up to 3 decimals, trailing zeros dropped ("4.86", "5.0").
pub fn fmt_time(t: f64) -> String {
    let s = format!("{:.3}", t.max(0.0));
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_string()
    }
}

fn fmt_conf(c: f32) -> String {
    let s = format!("{:.4}", c.clamp(0.0, 1.0));
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_string()
    }
}

/// One token before layout.
#[derive(Debug, Clone)]
struct Token {
    start: f64,
    end: f64,
    content: String,
    confidence: f32,
    punctuation: bool,
    channel: Option<usize>,
    /// Speaker number (from diarization, else the channel).
    speaker: Option<usize>,
    filter_match: bool,
    redaction: Option<(&'static str, f32)>,
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric() || *c == '\'').flat_map(char::to_lowercase).collect()
}

/// Tokens of one channel: filter and (when `redact` is set) PII applied.
fn channel_tokens(c: &ChannelWords, opts: &Options, redact: bool) -> Vec<Token> {
    let words = &c.words;
    // Filter matches (word-index ranges).
    let mut filtered = vec![false; words.len()];
    if let Some(f) = &opts.filter {
        let normed: Vec<String> = words.iter().map(|w| norm(&w.text)).collect();
        for i in 0..words.len() {
            for seq in &f.words {
                let n = seq.len();
                if n > 0 && i + n <= words.len() && normed[i..i + n].iter().zip(seq).all(|(a, b)| a == b) {
                    filtered[i..i + n].iter_mut().for_each(|x| *x = true);
                }
            }
        }
    }
    let entities = if redact && !opts.redact.is_empty() {
        let texts: Vec<String> = words.iter().map(|w| format!("{}{}", w.text, w.punctuation.as_deref().unwrap_or(""))).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        pii::detect(&refs).into_iter().filter(|e| opts.redact.iter().any(|t| t == "ALL" || t == e.kind)).collect()
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if let Some(e) = entities.iter().find(|e| e.start == i) {
            let last = &words[e.end - 1];
            out.push(Token {
                start: words[i].start,
                end: last.end,
                content: "[PII]".into(),
                confidence: 0.0,
                punctuation: false,
                channel: c.channel,
                speaker: words[i].speaker.or(c.channel),
                filter_match: false,
                redaction: Some((e.kind, e.confidence)),
            });
            if let Some(p) = &last.punctuation {
                out.push(Token { start: last.end, end: last.end, content: p.clone(), confidence: 0.0, punctuation: true, channel: c.channel, speaker: last.speaker.or(c.channel), filter_match: false, redaction: None });
            }
            i = e.end;
            continue;
        }
        let w = &words[i];
        let mut content = w.text.clone();
        let mut skip_word = false;
        if filtered[i] {
            match opts.filter.as_ref().map(|f| f.method) {
                Some(FilterMethod::Mask) => content = "***".into(),
                Some(FilterMethod::Remove) => skip_word = true,
                _ => {}
            }
        }
        if !skip_word {
            out.push(Token {
                start: w.start,
                end: w.end,
                content,
                confidence: w.confidence,
                punctuation: false,
                channel: c.channel,
                speaker: w.speaker.or(c.channel),
                filter_match: filtered[i] && opts.filter.as_ref().is_some_and(|f| f.method == FilterMethod::Tag),
                redaction: None,
            });
        }
        if let Some(p) = &w.punctuation {
            out.push(Token { start: w.end, end: w.end, content: p.clone(), confidence: 0.0, punctuation: true, channel: c.channel, speaker: w.speaker.or(c.channel), filter_match: false, redaction: None });
        }
        i += 1;
    }
    out
}

fn label(prefix: &str, n: usize) -> String {
    format!("{prefix}_{n}")
}

fn item_of(t: &Token, id: Option<usize>, opts: &Options, with_channel: bool) -> Item {
    let channel_label = (opts.channel_identification && with_channel).then(|| label("ch", t.channel.unwrap_or(0)));
    let speaker_label = opts.speaker_labels.then(|| label("spk", t.speaker.unwrap_or(0)));
    Item {
        id,
        channel_label,
        speaker_label,
        start_time: (!t.punctuation).then(|| fmt_time(t.start)),
        end_time: (!t.punctuation).then(|| fmt_time(t.end)),
        alternatives: vec![Alternative {
            confidence: fmt_conf(t.confidence),
            content: t.content.clone(),
            redactions: t.redaction.map(|(kind, c)| vec![Redaction { confidence: fmt_conf(c), kind: kind.to_string(), category: "PII".into() }]),
        }],
        kind: if t.punctuation { "punctuation" } else { "pronunciation" }.into(),
        vocabulary_filter_match: t.filter_match.then_some(true),
    }
}

fn join(tokens: &[&Token]) -> String {
    let mut s = String::new();
    for t in tokens {
        if !t.punctuation && !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&t.content);
    }
    s
}

/// Build the transcript file. `redacted` applies PII redaction (`Options::redact`).
pub fn assemble(channels: &[ChannelWords], opts: &Options, redacted: bool) -> TranscriptFile {
    let per_channel: Vec<Vec<Token>> = channels.iter().map(|c| channel_tokens(c, opts, redacted)).collect();
    // Merge channels by time: each channel's sentence-sized runs stay together.
    let mut tokens: Vec<Token> = Vec::new();
    {
        // Group tokens into (start time, run) per channel, where a run ends at punctuation.
        let mut runs: Vec<(f64, usize, Vec<Token>)> = Vec::new();
        for (ci, toks) in per_channel.iter().enumerate() {
            let mut cur: Vec<Token> = Vec::new();
            for t in toks {
                cur.push(t.clone());
                if t.punctuation {
                    let start = cur.iter().find(|x| !x.punctuation).map_or(t.start, |x| x.start);
                    runs.push((start, ci, std::mem::take(&mut cur)));
                }
            }
            if !cur.is_empty() {
                let start = cur.iter().find(|x| !x.punctuation).map_or(0.0, |x| x.start);
                runs.push((start, ci, cur));
            }
        }
        runs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (_, _, r) in runs {
            tokens.extend(r);
        }
    }
    let items: Vec<Item> = tokens.iter().enumerate().map(|(i, t)| item_of(t, Some(i), opts, true)).collect();
    let all: Vec<&Token> = tokens.iter().collect();
    let transcript = join(&all);

    let channel_labels = opts.channel_identification.then(|| ChannelLabels {
        channels: per_channel
            .iter()
            .zip(channels)
            .map(|(toks, c)| ChannelItems {
                channel_label: label("ch", c.channel.unwrap_or(0)),
                items: toks.iter().map(|t| item_of(t, None, opts, true)).collect(),
            })
            .collect(),
        number_of_channels: channels.len(),
    });

    // Utterances: a new segment at a channel change, after a sentence end, or after a pause.
    let mut audio_segments: Vec<AudioSegment> = Vec::new();
    let mut seg: Vec<usize> = Vec::new();
    let flush = |seg: &mut Vec<usize>, out: &mut Vec<AudioSegment>| {
        if seg.is_empty() {
            return;
        }
        let toks: Vec<&Token> = seg.iter().map(|&i| &tokens[i]).collect();
        let words: Vec<&&Token> = toks.iter().filter(|t| !t.punctuation).collect();
        if let (Some(first), Some(last)) = (words.first(), words.last()) {
            let ch = first.channel.unwrap_or(0);
            let spk = first.speaker.unwrap_or(0);
            out.push(AudioSegment {
                id: out.len(),
                transcript: join(&toks),
                start_time: fmt_time(first.start),
                end_time: fmt_time(last.end),
                channel_label: opts.channel_identification.then(|| label("ch", ch)),
                speaker_label: opts.speaker_labels.then(|| label("spk", spk)),
                items: seg.clone(),
            });
        }
        seg.clear();
    };
    let mut last_end = 0.0f64;
    for (i, t) in tokens.iter().enumerate() {
        if let Some(&prev) = seg.last() {
            let p = &tokens[prev];
            let sentence_end = p.punctuation && matches!(p.content.as_str(), "." | "?" | "!");
            if !t.punctuation && (p.channel != t.channel || p.speaker != t.speaker || sentence_end || t.start - last_end > 1.0) {
                flush(&mut seg, &mut audio_segments);
            }
        }
        if !t.punctuation {
            last_end = t.end;
        }
        seg.push(i);
    }
    flush(&mut seg, &mut audio_segments);

    let speaker_labels = opts.speaker_labels.then(|| {
        let mut segments: Vec<SpeakerSegment> = Vec::new();
        for s in &audio_segments {
            let spk = s.speaker_label.clone().unwrap_or_else(|| label("spk", 0));
            let items = s
                .items
                .iter()
                .map(|&i| &tokens[i])
                .filter(|t| !t.punctuation)
                .map(|t| SpeakerItem { start_time: fmt_time(t.start), speaker_label: spk.clone(), end_time: fmt_time(t.end) })
                .collect();
            segments.push(SpeakerSegment { start_time: s.start_time.clone(), speaker_label: spk, end_time: s.end_time.clone(), items });
        }
        let mut speakers: Vec<Option<usize>> = tokens.iter().map(|t| t.speaker).collect();
        speakers.sort();
        speakers.dedup();
        SpeakerLabels { speakers: speakers.len().max(usize::from(!tokens.is_empty())), segments }
    });

    // Alternatives: each hypothesis goes through the same filter and redaction as the items.
    let segments = opts.alternatives.then(|| {
        let mut out: Vec<(f64, Segment)> = Vec::new();
        for c in channels {
            for seg in &c.segments {
                let alternatives = seg
                    .alternatives
                    .iter()
                    .map(|words| {
                        let toks = channel_tokens(&ChannelWords { channel: c.channel, words: words.clone(), segments: Vec::new() }, opts, redacted);
                        let refs: Vec<&Token> = toks.iter().collect();
                        SegmentAlternative {
                            transcript: join(&refs),
                            items: toks
                                .iter()
                                .map(|t| SegmentItem {
                                    start_time: (!t.punctuation).then(|| fmt_time(t.start)),
                                    confidence: (!t.punctuation).then(|| fmt_conf(t.confidence)),
                                    end_time: (!t.punctuation).then(|| fmt_time(t.end)),
                                    kind: if t.punctuation { "punctuation" } else { "pronunciation" }.into(),
                                    content: t.content.clone(),
                                })
                                .collect(),
                        }
                    })
                    .collect();
                out.push((seg.start, Segment { start_time: fmt_time(seg.start), end_time: fmt_time(seg.end), alternatives }));
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out.into_iter().map(|(_, s)| s).collect()
    });

    TranscriptFile {
        job_name: opts.job_name.clone(),
        account_id: opts.account.clone(),
        is_redacted: redacted.then_some(true),
        status: "COMPLETED".into(),
        results: Results {
            language_code: opts.identified_language.as_ref().map(|(c, _)| c.clone()),
            language_identification: opts.identified_language.as_ref().map(|(c, s)| vec![LanguageScore { code: c.clone(), score: fmt_conf(s.unwrap_or(0.0)) }]),
            transcripts: vec![TranscriptText { transcript }],
            speaker_labels,
            channel_labels,
            items,
            audio_segments,
            segments,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t: &str, s: f64, p: Option<&str>) -> Word {
        Word { start: s, end: s + 0.4, text: t.into(), punctuation: p.map(String::from), confidence: 0.95, speaker: None }
    }

    fn stereo() -> Vec<ChannelWords> {
        vec![
            ChannelWords { channel: Some(0), words: vec![w("How", 0.5, None), w("can", 0.9, None), w("I", 1.3, None), w("help", 1.7, Some("?"))], segments: Vec::new() },
            ChannelWords {
                channel: Some(1),
                words: vec![w("My", 3.0, None), w("card", 3.4, None), w("is", 3.8, None), w("4111", 4.2, None), w("1111", 4.6, None), w("1111", 5.0, None), w("1111", 5.4, Some("."))],
                segments: Vec::new(),
            },
        ]
    }

    #[test]
    fn items_transcript_and_channels() {
        let opts = Options { job_name: "j".into(), account: "123456789012".into(), channel_identification: true, ..Default::default() };
        let f = assemble(&stereo(), &opts, false);
        assert_eq!(f.results.transcripts[0].transcript, "How can I help? My card is 4111 1111 1111 1111.");
        assert_eq!(f.results.items.len(), 13);
        assert_eq!(f.results.items[0].channel_label.as_deref(), Some("ch_0"));
        assert_eq!(f.results.items[5].channel_label.as_deref(), Some("ch_1"));
        assert_eq!(f.results.items[4].kind, "punctuation");
        assert!(f.results.items[4].start_time.is_none());
        assert_eq!(f.results.items[0].start_time.as_deref(), Some("0.5"));
        let ch = f.results.channel_labels.as_ref().unwrap();
        assert_eq!(ch.number_of_channels, 2);
        assert_eq!(ch.channels[1].items.len(), 8);
        assert_eq!(f.results.audio_segments.len(), 2);
        assert_eq!(f.results.audio_segments[1].items, vec![5, 6, 7, 8, 9, 10, 11, 12]);
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["results"]["items"][0]["alternatives"][0]["content"], "How");
        assert!(json.get("isRedacted").is_none());
    }

    #[test]
    fn redaction_collapses_entities() {
        let opts = Options { job_name: "j".into(), account: "1".into(), redact: vec!["ALL".into()], ..Default::default() };
        let f = assemble(&stereo(), &opts, true);
        assert_eq!(f.results.transcripts[0].transcript, "How can I help? My card is [PII].");
        let pii = f.results.items.iter().find(|i| i.alternatives[0].content == "[PII]").unwrap();
        assert_eq!(pii.start_time.as_deref(), Some("4.2"));
        assert_eq!(pii.end_time.as_deref(), Some("5.8"));
        assert_eq!(pii.alternatives[0].redactions.as_ref().unwrap()[0].kind, "CREDIT_DEBIT_NUMBER");
        assert_eq!(f.is_redacted, Some(true));
        // Only listed types are redacted.
        let only_names = Options { redact: vec!["NAME".into()], ..opts };
        assert!(!assemble(&stereo(), &only_names, true).results.transcripts[0].transcript.contains("[PII]"));
    }

    #[test]
    fn filters_mask_remove_tag() {
        let words = vec![ChannelWords { channel: None, words: vec![w("this", 0.0, None), w("darn", 0.4, None), w("thing", 0.8, Some("."))], segments: Vec::new() }];
        let mk = |m| Options { filter: Some(Filter { words: vec![vec!["darn".into()]], method: m }), ..Default::default() };
        assert_eq!(assemble(&words, &mk(FilterMethod::Mask), false).results.transcripts[0].transcript, "this *** thing.");
        assert_eq!(assemble(&words, &mk(FilterMethod::Remove), false).results.transcripts[0].transcript, "this thing.");
        let tagged = assemble(&words, &mk(FilterMethod::Tag), false);
        assert_eq!(tagged.results.transcripts[0].transcript, "this darn thing.");
        assert_eq!(tagged.results.items[1].vocabulary_filter_match, Some(true));
    }

    #[test]
    fn alternatives_are_segments_with_items() {
        let best = vec![w("My", 3.0, None), w("card", 3.4, None), w("is", 3.8, None), w("4111", 4.2, None), w("1111", 4.6, None), w("1111", 5.0, None), w("1111", 5.4, Some("."))];
        let other = vec![w("My", 3.0, None), w("cart", 3.4, None), w("is", 3.8, Some("."))];
        let ch = vec![ChannelWords { channel: None, words: best.clone(), segments: vec![AltSegment { start: 3.0, end: 5.8, alternatives: vec![best, other] }] }];
        let opts = Options { alternatives: true, redact: vec!["ALL".into()], ..Default::default() };
        let f = assemble(&ch, &opts, true);
        let segs = f.results.segments.as_ref().unwrap();
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].start_time, "3.0");
        assert_eq!(segs[0].alternatives.len(), 2);
        // Redaction reaches the alternatives too.
        assert_eq!(segs[0].alternatives[0].transcript, "My card is [PII].");
        assert_eq!(segs[0].alternatives[1].transcript, "My cart is.");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["results"]["segments"][0]["alternatives"][1]["items"][1]["content"], "cart");
        assert_eq!(json["results"]["segments"][0]["alternatives"][1]["items"][3]["type"], "punctuation");
        assert!(json["results"]["segments"][0]["alternatives"][1]["items"][3].get("start_time").is_none());
        // Without alternatives asked, no segments.
        assert!(serde_json::to_value(assemble(&ch, &Options::default(), false)).unwrap()["results"].get("segments").is_none());
    }

    #[test]
    fn times_format_like_aws() {
        assert_eq!(fmt_time(4.86), "4.86");
        assert_eq!(fmt_time(5.0), "5.0");
        assert_eq!(fmt_time(0.1234), "0.123");
        assert_eq!(fmt_conf(1.0), "1.0");
    }
}
