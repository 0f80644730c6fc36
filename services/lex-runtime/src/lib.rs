//! Amazon Lex V2 runtime (skeleton; work in progress).
