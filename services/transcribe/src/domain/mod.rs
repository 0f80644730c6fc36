//! Transcribe's logic, free of HTTP: request validation with AWS's constraints
//! ([`validate`]), custom vocabularies ([`vocabulary`]), vocabulary filters and the transcript
//! file AWS writes ([`transcript`]), PII detection ([`pii`]), custom language models
//! ([`language_model`]) and the job failure reasons AWS gives for media ([`media`]).

pub mod language_model;
pub mod media;
pub mod pii;
pub mod transcript;
pub mod validate;
pub mod vocabulary;
