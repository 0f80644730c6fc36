//! The runtime API's handlers: RecognizeText in `recognize.rs`, the session calls in
//! `sessions.rs`.

pub(crate) mod recognize;
pub(crate) mod sessions;
