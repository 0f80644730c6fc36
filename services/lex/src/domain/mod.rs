//! Lex's logic without HTTP: understanding utterances (built-in and custom slot types,
//! templates, intent ranking over sentence embeddings against an out-of-domain background),
//! building a locale's model, running a conversation, scoring test sets and aggregating
//! utterance analytics.

pub mod background;
pub mod builtin;
pub mod dialog;
pub mod messages;
pub mod model;
pub mod nlu;
pub mod slot_types;
pub mod templates;
pub mod testsets;
pub mod text;
