//! Amazon Lex V2 model building (skeleton; work in progress).
