//! Transcribe's typed tables in the metadata store, one record kind per resource, keyed by
//! name within (account, region): transcription jobs, custom vocabularies, vocabulary filters
//! and custom language models. Times are Unix milliseconds.

use hearth_runtime::Record;
use serde::{Deserialize, Serialize};

use crate::api;

/// A transcription job as the API shows it, plus where its work stands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobRecord {
    /// TranscriptionJobName.
    pub name: String,
    /// QUEUED, IN_PROGRESS, COMPLETED or FAILED.
    pub status: String,
    /// The id of the durable job doing the work.
    pub job_id: String,
    /// LanguageCode (en-US).
    pub language_code: String,
    /// The request, as sent (media, formats, settings, redaction, output location, tags).
    pub request: api::StartTranscriptionJobRequest,
    /// Sample rate found in the media, once read.
    pub detected_sample_rate: Option<i32>,
    /// Media format found in the media, once read.
    pub detected_format: Option<String>,
    pub creation_ms: i64,
    pub start_ms: Option<i64>,
    pub completion_ms: Option<i64>,
    pub failure_reason: Option<String>,
    /// Where the transcript was written (https URI of the object).
    pub transcript_uri: Option<String>,
    /// Where the redacted transcript was written.
    pub redacted_transcript_uri: Option<String>,
    /// Transcripts kept by Hearth (no `OutputBucketName`): where they are and the secret of
    /// their links.
    #[serde(default)]
    pub managed: Option<ManagedOutput>,
    /// With language identification: the probability of the identified language.
    #[serde(default)]
    pub identified_language_score: Option<f32>,
    /// With language identification: the identified language and the seconds of audio in it.
    #[serde(default)]
    pub language_codes: Vec<(String, f64)>,
}

/// Transcripts stored by Hearth for a job without an output bucket (AWS's service-managed
/// bucket), served at expiring unsigned links ([`crate::public`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ManagedOutput {
    /// Hex secret that signs the job's links (random per job).
    pub secret: String,
    /// Blob of the transcript (`asrOutput.json`), once written.
    pub transcript_blob: Option<String>,
    /// Blob of the redacted transcript (`redacted-asrOutput.json`), once written.
    pub redacted_blob: Option<String>,
}

impl Record for JobRecord {
    const KIND: &'static str = "transcribe.job";
}

/// One entry of a custom vocabulary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VocabularyEntry {
    /// The phrase as spoken words (hyphens of the table format turned into spaces).
    pub phrase: String,
    /// How it sounds, as words the recogniser might write, if given.
    pub sounds_like: Vec<String>,
    /// IPA, if given (kept, not used by the recogniser).
    pub ipa: Option<String>,
    /// How to write it in the transcript, if given.
    pub display_as: Option<String>,
}

/// A custom vocabulary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VocabularyRecord {
    pub name: String,
    pub language_code: String,
    /// PENDING, READY or FAILED.
    pub state: String,
    pub failure_reason: Option<String>,
    pub entries: Vec<VocabularyEntry>,
    /// Where the entries came from: the S3 URI of the file, if any.
    pub file_uri: Option<String>,
    pub last_modified_ms: i64,
    pub tags: Vec<api::Tag>,
}

impl Record for VocabularyRecord {
    const KIND: &'static str = "transcribe.vocabulary";
}

/// A vocabulary filter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FilterRecord {
    pub name: String,
    pub language_code: String,
    /// The words, as given.
    pub words: Vec<String>,
    pub file_uri: Option<String>,
    pub last_modified_ms: i64,
    pub tags: Vec<api::Tag>,
}

impl Record for FilterRecord {
    const KIND: &'static str = "transcribe.vocabulary_filter";
}

/// A custom language model: its training input and what training learned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LanguageModelRecord {
    pub name: String,
    pub language_code: String,
    /// NarrowBand or WideBand.
    pub base_model_name: String,
    /// IN_PROGRESS, COMPLETED or FAILED.
    pub status: String,
    pub failure_reason: Option<String>,
    pub input: api::InputDataConfig,
    /// What training produced (empty until COMPLETED).
    pub trained: crate::domain::language_model::TrainedModel,
    pub job_id: String,
    pub create_ms: i64,
    pub last_modified_ms: i64,
    pub tags: Vec<api::Tag>,
}

impl Record for LanguageModelRecord {
    const KIND: &'static str = "transcribe.language_model";
}
