//! Amazon Lex V2 model building (restJson1, signing name `lex`) — work in progress.

pub mod api;
pub mod domain;
