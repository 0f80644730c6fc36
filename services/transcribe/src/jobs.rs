//! Durable jobs: transcription (steps `transcribe` → `write`) and custom language model
//! training (step `train`).
//!
//! A transcription job waits QUEUED until one of the node's transcription slots is free
//! (`StepOutcome::Wait`), then opens the media in S3 as a stream (never read whole: a 2 h WAV
//! is over a gigabyte), checks it as AWS does (format, sample rate, channels, size: failures
//! carry AWS's `FailureReason`), and runs the speech pipeline on a blocking thread (the model
//! itself runs on the engine thread); every read of the media happens on blocking threads.
//! The recognised words are committed with the `transcribe` step, so a restart after it never
//! recognises again; the `write` step builds the transcript file(s) and writes them to the
//! output bucket. Both steps are idempotent. A job whose record was deleted ends quietly.

use std::sync::Arc;
use std::time::Duration;

use hearth_inference::asr::{self, AsrEngine, AsrEngineOptions, Biasing, ChannelSelect, MediaRequest, Word};
use hearth_runtime::jobs::{JobContext, JobError, JobHandler, StepOutcome};
use hearth_runtime::{Expect, MetaError, Scope};
use serde::{Deserialize, Serialize};

use crate::domain::media::{self, MediaFailure};
use crate::domain::transcript::{self, ChannelWords, Filter, FilterMethod};
use crate::domain::{language_model, validate, vocabulary};
use crate::store::{FilterRecord, JobRecord, LanguageModelRecord, VocabularyRecord};
use crate::Inner;

/// A word as stored between steps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredWord {
    pub s: f64,
    pub e: f64,
    pub t: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    pub c: f32,
    /// Speaker number, when speakers were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
}

/// The words of one channel, as stored between steps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct StoredChannel {
    pub channel: Option<usize>,
    pub words: Vec<StoredWord>,
    /// Alternative transcriptions per segment, when asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<StoredSegment>,
}

/// A segment and its alternative transcriptions, as stored between steps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct StoredSegment {
    pub s: f64,
    pub e: f64,
    pub alternatives: Vec<Vec<StoredWord>>,
}

impl StoredWord {
    fn of(w: Word) -> Self {
        StoredWord { s: w.start, e: w.end, t: w.text, p: w.punctuation, c: w.confidence, k: w.speaker }
    }

    fn word(&self) -> Word {
        Word { start: self.s, end: self.e, text: self.t.clone(), punctuation: self.p.clone(), confidence: self.c, speaker: self.k }
    }
}

/// State of a transcription job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct TranscriptionState {
    /// The job's name (its record's key in the job's scope).
    pub name: String,
    /// Recognised words, once the `transcribe` step is done.
    #[serde(default)]
    pub channels: Vec<StoredChannel>,
    /// Seconds of audio.
    #[serde(default)]
    pub seconds: f64,
}

/// The transcription job kind.
pub struct TranscriptionJob(pub Arc<Inner>);

/// State of a language model training job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct TrainingState {
    pub name: String,
}

/// The language model training job kind.
pub struct LanguageModelTraining(pub Arc<Inner>);

fn now_ms(ctx: &JobContext) -> i64 {
    (ctx.now().unix_timestamp_nanos() / 1_000_000) as i64
}

fn fail(f: MediaFailure) -> JobError {
    JobError::fatal(f.reason())
}

/// A decoding error as the job's failure (AWS's reason), or a retry when reading the stored
/// bytes failed (not the media's fault).
fn media_error(m: &asr::MediaError) -> JobError {
    match m {
        asr::MediaError::Io(msg) => JobError::retryable(format!("reading the media: {msg}")),
        other => fail(media::from_media_error(other)),
    }
}

fn job_error(e: asr::AsrError) -> JobError {
    match e {
        asr::AsrError::Media(m) => media_error(&m),
        other => JobError::retryable(other),
    }
}

/// Update the job's record with `change` (read, change, conditional write; retried on races).
async fn update_record(inner: &Inner, scope: &Scope, name: &str, job_id: &str, change: impl Fn(&mut JobRecord)) -> Result<Option<JobRecord>, JobError> {
    for _ in 0..5 {
        let Some(cur) = inner.rt.meta.get::<JobRecord>(scope, name).await? else { return Ok(None) };
        if cur.value.job_id != job_id {
            return Ok(None);
        }
        let mut rec = cur.value;
        change(&mut rec);
        match inner.rt.meta.put(scope, name, &rec, Expect::Version(cur.version)).await {
            Ok(_) => return Ok(Some(rec)),
            Err(MetaError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(JobError::retryable("the job record kept changing"))
}

/// Output keys: (transcript key, redacted transcript key) under OutputKey's rules.
pub fn output_keys(job: &str, output_key: Option<&str>) -> (String, String) {
    let (dir, file) = match output_key {
        None => (String::new(), format!("{job}.json")),
        Some(k) if k.ends_with('/') => (k.to_string(), format!("{job}.json")),
        Some(k) if k.ends_with(".json") => match k.rsplit_once('/') {
            Some((d, f)) => (format!("{d}/"), f.to_string()),
            None => (String::new(), k.to_string()),
        },
        Some(k) => (format!("{k}/"), format!("{job}.json")),
    };
    (format!("{dir}{file}"), format!("{dir}redacted-{file}"))
}

fn https_uri(region: &str, bucket: &str, key: &str) -> String {
    format!("https://s3.{region}.amazonaws.com/{bucket}/{key}")
}

impl TranscriptionJob {
    async fn biasing(&self, scope: &Scope, rec: &JobRecord) -> Result<(Biasing, Vec<crate::store::VocabularyEntry>), JobError> {
        let inner = &self.0;
        let mut bias = Biasing::default();
        let mut entries = Vec::new();
        if let Some(m) = rec.request.model_settings.as_ref().and_then(|m| m.language_model_name.as_ref()) {
            match inner.rt.meta.get::<LanguageModelRecord>(scope, m).await? {
                Some(lm) if lm.value.status == "COMPLETED" => bias = lm.value.trained.biasing(),
                _ => return Err(JobError::fatal("The requested language model couldn't be found or hasn't finished training.")),
            }
        }
        if let Some(v) = rec.request.settings.as_ref().and_then(|s| s.vocabulary_name.as_ref()) {
            match inner.rt.meta.get::<VocabularyRecord>(scope, v).await? {
                Some(voc) if voc.value.state == "READY" => {
                    let vb = vocabulary::biasing(&voc.value.entries);
                    // Vocabulary phrases first: they are the user's explicit terms.
                    let mut phrases = vb.phrases;
                    for p in bias.phrases {
                        if !phrases_contains(&phrases, &p) {
                            phrases.push(p);
                        }
                    }
                    bias = Biasing { prompt: bias.prompt, phrases, strength: vb.strength, aliases: vb.aliases };
                    entries = voc.value.entries;
                }
                _ => return Err(JobError::fatal("The requested vocabulary couldn't be found.")),
            }
        }
        Ok((bias, entries))
    }

    async fn transcribe(&self, ctx: &JobContext, state: &mut TranscriptionState, rec: JobRecord) -> Result<StepOutcome, JobError> {
        let inner = &self.0;
        let uri = rec.request.media.media_file_uri.clone().unwrap_or_default();
        let (bucket, key) = hearth_s3::internal::parse_s3_uri(&uri).ok_or_else(|| JobError::fatal("The S3 URI that you provided can't be accessed."))?;
        // The media streams from the object's blob files (held open, so an overwrite or
        // delete of the key meanwhile does not disturb the job): a 2 h file never sits in memory.
        let object = inner
            .s3
            .open_object(&ctx.scope.account, &bucket, &key)
            .await
            .map_err(|_| JobError::fatal("The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your request again."))?;
        if object.len() > media::MAX_MEDIA_BYTES {
            return Err(fail(MediaFailure::FileTooLarge));
        }
        let size = object.len();
        let data = asr::Media::from_reader(object, size);
        let probe_data = data.clone();
        let (detected, probed) = tokio::task::spawn_blocking(move || -> Result<_, asr::MediaError> {
            let detected = probe_data.sniff()?;
            let hint = detected.map(str::to_string);
            Ok((detected, asr::pipeline::probe(&probe_data, hint.as_deref())))
        })
        .await
        .map_err(|e| JobError::retryable(format!("media probe task: {e}")))?
        .map_err(|e| JobError::retryable(format!("reading the media: {e}")))?;
        media::check_format(rec.request.media_format.as_deref(), detected).map_err(fail)?;
        let hint = detected.map(str::to_string);
        let info = probed.map_err(job_error)?;
        media::check_rate(rec.request.media_sample_rate_hertz, info.sample_rate).map_err(fail)?;
        if info.channels > 2 {
            return Err(fail(MediaFailure::TooManyChannels));
        }
        let rate = info.sample_rate as i32;
        let format = detected.map(str::to_string);
        update_record(inner, &ctx.scope, &state.name, &ctx.id, |r| {
            r.detected_sample_rate = Some(rate);
            r.detected_format = format.clone();
        })
        .await?;
        let (bias, entries) = self.biasing(&ctx.scope, &rec).await?;
        let unavailable = |e: asr::AsrError| JobError::fatal(format!("The speech model isn't available on this server: {e}"));
        let identify = rec.request.identify_language == Some(true) || rec.request.identify_multiple_languages == Some(true);
        let mut language_code = rec.language_code.clone();
        if identify {
            let options: Vec<String> = rec.request.language_options.clone().unwrap_or_default();
            let mut candidates: Vec<String> = options.iter().filter_map(|o| validate::whisper_code(o).map(str::to_string)).collect();
            candidates.dedup();
            let engine = AsrEngine::shared(&inner.rt.models_dir, &inner.limits.multilingual_model, AsrEngineOptions::from_env()).map_err(unavailable)?;
            let (d, h) = (data.clone(), hint.clone());
            let found = tokio::task::spawn_blocking(move || asr::identify_language(&engine, &d, h.as_deref(), ChannelSelect::Mix, &candidates))
                .await
                .map_err(|e| JobError::retryable(format!("language identification task: {e}")))?
                .map_err(|e| match e {
                    asr::AsrError::Media(m) => media_error(&m),
                    asr::AsrError::Load(msg) => JobError::fatal(format!("The speech model isn't available on this server: {msg}")),
                    other => JobError::fatal(format!("Language identification failed: {other}")),
                })?;
            let (code, score) = match found.as_ref().and_then(|l| l.first()) {
                Some((w, p)) => (validate::aws_code(w, &options).unwrap_or_else(|| options.first().cloned().unwrap_or_else(|| "en-US".into())), Some(*p)),
                // No speech: nothing to identify; the first option (or en-US) stands.
                None => (options.first().cloned().unwrap_or_else(|| "en-US".into()), None),
            };
            tracing::info!(job = %state.name, language = %code, score = ?score, "language identified");
            language_code = code.clone();
            update_record(inner, &ctx.scope, &state.name, &ctx.id, |r| {
                r.language_code = code.clone();
                r.identified_language_score = score;
            })
            .await?;
        }
        let model = inner.limits.model_for(&language_code).to_string();
        let language = validate::whisper_code(&language_code).filter(|w| *w != "en").map(str::to_string);
        let alternatives = rec.request.settings.as_ref().filter(|s| s.show_alternatives == Some(true)).and_then(|s| s.max_alternatives).map_or(0, |m| m.clamp(2, 10) as usize);
        let engine = AsrEngine::shared(&inner.rt.models_dir, &model, AsrEngineOptions::from_env()).map_err(unavailable)?;
        let channel_id = rec.request.settings.as_ref().and_then(|s| s.channel_identification).unwrap_or(false);
        let selects: Vec<(Option<usize>, ChannelSelect)> = if channel_id {
            (0..info.channels).map(|c| (Some(c), ChannelSelect::Index(c))).collect()
        } else {
            vec![(None, ChannelSelect::Mix)]
        };
        let bias = Arc::new(bias);
        let max_speakers = rec.request.settings.as_ref().filter(|s| s.show_speaker_labels == Some(true) && !channel_id).and_then(|s| s.max_speaker_labels).map(|m| m.clamp(2, 30) as usize);
        let name = state.name.clone();
        let started = std::time::Instant::now();
        let result = tokio::task::spawn_blocking(move || -> Result<(Vec<(Option<usize>, asr::ChannelTranscript)>, f64), asr::AsrError> {
            let mut out = Vec::new();
            let mut seconds = 0f64;
            for (label, select) in selects {
                let req = MediaRequest { media: data.clone(), hint: hint.clone(), select, bias: bias.clone(), max_speakers, language: language.clone(), alternatives };
                let t = asr::transcribe_media(&engine, &req, |_| {})?;
                seconds = seconds.max(t.seconds);
                out.push((label, t));
            }
            Ok((out, seconds))
        })
        .await
        .map_err(|e| JobError::retryable(format!("transcription task: {e}")))?;
        let (channels, seconds) = result.map_err(|e| match e {
            asr::AsrError::Media(m) => media_error(&m),
            asr::AsrError::Load(msg) => JobError::fatal(format!("The speech model isn't available on this server: {msg}")),
            other => JobError::retryable(other),
        })?;
        let took = started.elapsed().as_secs_f64();
        tracing::info!(job = %name, seconds, took, rtf = took / seconds.max(1e-3), "transcription finished");
        state.seconds = seconds;
        state.channels = channels
            .into_iter()
            .map(|(channel, t)| {
                let mut words = t.words;
                vocabulary::apply(&entries, &mut words);
                let segments = t
                    .segments
                    .into_iter()
                    .map(|seg| StoredSegment {
                        s: seg.start,
                        e: seg.end,
                        alternatives: seg
                            .alternatives
                            .into_iter()
                            .map(|mut a| {
                                vocabulary::apply(&entries, &mut a);
                                a.into_iter().map(StoredWord::of).collect()
                            })
                            .collect(),
                    })
                    .collect();
                StoredChannel { channel, words: words.into_iter().map(StoredWord::of).collect(), segments }
            })
            .collect();
        if identify {
            let (code, secs) = (language_code.clone(), seconds);
            update_record(inner, &ctx.scope, &state.name, &ctx.id, |r| r.language_codes = vec![(code.clone(), secs)]).await?;
        }
        Ok(StepOutcome::Done)
    }

    async fn write(&self, ctx: &JobContext, state: &mut TranscriptionState, rec: JobRecord) -> Result<StepOutcome, JobError> {
        let inner = &self.0;
        let settings = rec.request.settings.clone().unwrap_or_default();
        let filter = match &settings.vocabulary_filter_name {
            Some(f) => {
                let r = inner.rt.meta.get::<FilterRecord>(&ctx.scope, f).await?.ok_or_else(|| JobError::fatal("The requested vocabulary filter couldn't be found."))?;
                let method = settings.vocabulary_filter_method.as_deref().and_then(FilterMethod::parse).unwrap_or(FilterMethod::Mask);
                Some(Filter { words: r.value.words.iter().map(|w| w.split_whitespace().map(|p| p.chars().filter(|c| c.is_alphanumeric() || *c == '\'').flat_map(char::to_lowercase).collect()).collect()).collect(), method })
            }
            None => None,
        };
        let redaction = rec.request.content_redaction.clone();
        let opts = transcript::Options {
            job_name: rec.name.clone(),
            account: ctx.scope.account.clone(),
            channel_identification: settings.channel_identification.unwrap_or(false),
            speaker_labels: settings.show_speaker_labels.unwrap_or(false),
            filter,
            redact: redaction.as_ref().map(|r| r.pii_entity_types.clone().filter(|t| !t.is_empty()).unwrap_or_else(|| vec!["ALL".into()])).unwrap_or_default(),
            alternatives: settings.show_alternatives == Some(true),
            identified_language: (rec.request.identify_language == Some(true) || rec.request.identify_multiple_languages == Some(true))
                .then(|| (rec.language_code.clone(), rec.identified_language_score)),
        };
        let channels: Vec<ChannelWords> = state
            .channels
            .iter()
            .map(|c| ChannelWords {
                channel: c.channel,
                words: c.words.iter().map(StoredWord::word).collect(),
                segments: c.segments.iter().map(|g| asr::AltSegment { start: g.s, end: g.e, alternatives: g.alternatives.iter().map(|a| a.iter().map(StoredWord::word).collect()).collect() }).collect(),
            })
            .collect();
        let (key, redacted_key) = output_keys(&rec.name, rec.request.output_key.as_deref());
        let write = |key: String, file: transcript::TranscriptFile| {
            let bucket = rec.request.output_bucket_name.clone();
            async move {
                let body = serde_json::to_vec(&file).map_err(|e| JobError::fatal(format!("transcript encoding: {e}")))?;
                let Some(bucket) = bucket else {
                    // Kept by Hearth: a durable blob, linked from the job's record.
                    let mut w = inner.rt.blobs.writer().await.map_err(|e| JobError::retryable(format!("transcript store: {e}")))?;
                    if let Err(e) = w.write(&body).await {
                        let _ = w.abort().await;
                        return Err(JobError::retryable(format!("transcript store: {e}")));
                    }
                    let id = w.finish().await.map_err(|e| JobError::retryable(format!("transcript store: {e}")))?;
                    return Ok::<String, JobError>(id.0);
                };
                inner
                    .s3
                    .write_object(&ctx.scope.account, &bucket, &key, &body, "application/json")
                    .await
                    .map_err(|e| JobError::fatal(format!("The transcript couldn't be written to s3://{bucket}/{key}: {}", e.message)))?;
                Ok::<String, JobError>(https_uri(&ctx.scope.region, &bucket, &key))
            }
        };
        let mut transcript_uri = None;
        let mut redacted_uri = None;
        match &redaction {
            Some(r) => {
                redacted_uri = Some(write(redacted_key, transcript::assemble(&channels, &opts, true)).await?);
                if r.redaction_output == "redacted_and_unredacted" {
                    transcript_uri = Some(write(key, transcript::assemble(&channels, &opts, false)).await?);
                }
            }
            None => transcript_uri = Some(write(key, transcript::assemble(&channels, &opts, false)).await?),
        }
        let now = now_ms(ctx);
        let managed = rec.managed.is_some();
        let stored = update_record(inner, &ctx.scope, &state.name, &ctx.id, |r| {
            r.status = "COMPLETED".into();
            r.completion_ms = Some(now);
            match r.managed.as_mut().filter(|_| managed) {
                Some(m) => {
                    m.transcript_blob = transcript_uri.clone();
                    m.redacted_blob = redacted_uri.clone();
                }
                None => {
                    r.transcript_uri = transcript_uri.clone();
                    r.redacted_transcript_uri = redacted_uri.clone();
                }
            }
        })
        .await?;
        if stored.is_none() && managed {
            // The job was deleted meanwhile: its kept transcripts go too.
            for blob in [&transcript_uri, &redacted_uri].into_iter().flatten() {
                let _ = inner.rt.blobs.delete(&hearth_runtime::blob::BlobId(blob.clone())).await;
            }
        }
        tracing::info!(job = %state.name, "transcription job completed");
        Ok(StepOutcome::Done)
    }
}

fn phrases_contains(list: &[String], p: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(p))
}

#[async_trait::async_trait]
impl JobHandler for TranscriptionJob {
    const KIND: &'static str = "transcribe.transcription";
    type State = TranscriptionState;

    fn steps(&self) -> &'static [&'static str] {
        &["transcribe", "write"]
    }

    async fn run_step(&self, ctx: &JobContext, step: usize, state: &mut TranscriptionState) -> Result<StepOutcome, JobError> {
        let inner = &self.0;
        let Some(rec) = inner.rt.meta.get::<JobRecord>(&ctx.scope, &state.name).await?.map(|r| r.value).filter(|r| r.job_id == ctx.id) else {
            tracing::info!(job = %state.name, "transcription job was deleted");
            return Ok(StepOutcome::Finish);
        };
        match step {
            0 => {
                let Ok(_slot) = inner.slots.clone().try_acquire_owned() else {
                    return Ok(StepOutcome::Wait(Duration::from_millis(500)));
                };
                let now = now_ms(ctx);
                let Some(rec) = update_record(inner, &ctx.scope, &state.name, &ctx.id, |r| {
                    r.status = "IN_PROGRESS".into();
                    r.start_ms.get_or_insert(now);
                })
                .await?
                else {
                    return Ok(StepOutcome::Finish);
                };
                self.transcribe(ctx, state, rec).await
            }
            _ => self.write(ctx, state, rec).await,
        }
    }

    async fn on_failed(&self, ctx: &JobContext, state: &mut TranscriptionState, error: &str) {
        let now = now_ms(ctx);
        let reason = error.to_string();
        tracing::warn!(job = %state.name, reason = %reason, "transcription job failed");
        let _ = update_record(&self.0, &ctx.scope, &state.name, &ctx.id, |r| {
            r.status = "FAILED".into();
            r.failure_reason = Some(reason.clone());
            r.completion_ms = Some(now);
        })
        .await;
    }
}

#[async_trait::async_trait]
impl JobHandler for LanguageModelTraining {
    const KIND: &'static str = "transcribe.language_model";
    type State = TrainingState;

    fn steps(&self) -> &'static [&'static str] {
        &["train"]
    }

    async fn run_step(&self, ctx: &JobContext, _step: usize, state: &mut TrainingState) -> Result<StepOutcome, JobError> {
        let inner = &self.0;
        let Some(cur) = inner.rt.meta.get::<LanguageModelRecord>(&ctx.scope, &state.name).await?.filter(|r| r.value.job_id == ctx.id) else {
            return Ok(StepOutcome::Finish);
        };
        let mut docs = Vec::new();
        let mut total = 0usize;
        let uris = std::iter::once(cur.value.input.s3_uri.clone()).chain(cur.value.input.tuning_data_s3_uri.clone());
        for uri in uris {
            let (bucket, prefix) = hearth_s3::internal::parse_s3_uri(&uri).ok_or_else(|| JobError::fatal("The S3 URI of the training data isn't valid."))?;
            let objects = inner.s3.list_objects(&ctx.scope.account, &bucket, &prefix).await.map_err(|_| JobError::fatal("The training data S3 URI can't be accessed. Check the S3 URI and the permissions of the data access role."))?;
            for (key, size) in objects {
                if key.ends_with('/') || size == 0 {
                    continue;
                }
                total += size as usize;
                if total > language_model::MAX_TRAINING_BYTES {
                    return Err(JobError::fatal("The training data is larger than 64 MB."));
                }
                let data = inner.s3.read_object(&ctx.scope.account, &bucket, &key).await.map_err(|e| JobError::retryable(e.message))?;
                docs.push(String::from_utf8_lossy(&data).into_owned());
            }
        }
        if docs.is_empty() {
            return Err(JobError::fatal("No training data was found at the S3 URI. Add plain text files under it and try again."));
        }
        let trained = language_model::train(&docs).map_err(JobError::fatal)?;
        let mut rec = cur.value;
        rec.trained = trained;
        rec.status = "COMPLETED".into();
        rec.last_modified_ms = now_ms(ctx);
        match inner.rt.meta.put(&ctx.scope, &state.name, &rec, Expect::Version(cur.version)).await {
            Ok(_) | Err(MetaError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        tracing::info!(model = %state.name, terms = rec.trained.terms.len(), "language model trained");
        Ok(StepOutcome::Done)
    }

    async fn on_failed(&self, ctx: &JobContext, state: &mut TrainingState, error: &str) {
        let inner = &self.0;
        if let Ok(Some(cur)) = inner.rt.meta.get::<LanguageModelRecord>(&ctx.scope, &state.name).await {
            if cur.value.job_id != ctx.id {
                return;
            }
            let mut rec = cur.value;
            rec.status = "FAILED".into();
            rec.failure_reason = Some(error.to_string());
            rec.last_modified_ms = now_ms(ctx);
            let _ = inner.rt.meta.put(&ctx.scope, &state.name, &rec, Expect::Version(cur.version)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keys_follow_aws_examples() {
        assert_eq!(output_keys("job", None), ("job.json".into(), "redacted-job.json".into()));
        assert_eq!(output_keys("job", Some("my-transcript.json")).0, "my-transcript.json");
        assert_eq!(output_keys("job", Some("my-transcript")).0, "my-transcript/job.json");
        assert_eq!(output_keys("job", Some("test-files/my-transcript.json")), ("test-files/my-transcript.json".into(), "test-files/redacted-my-transcript.json".into()));
        assert_eq!(output_keys("job", Some("test-files/")).0, "test-files/job.json");
    }
}
