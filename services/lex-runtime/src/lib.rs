//! Amazon Lex V2 runtime (`lexv2-runtime`, restJson1, signing name `lex`): conversations with
//! a bot alias. A thin API layer over the Lex core in `hearth-lex` (sessions, NLU, dialog,
//! utterance records), which the models API shares.
//!
//! Implemented operations (see `docs/coverage/lexv2-runtime.md`): RecognizeText, PutSession,
//! GetSession, DeleteSession. Not served: RecognizeUtterance and StartConversation (speech
//! and streaming); they are `[ ]` in the coverage file.

pub mod api;
mod convert;
mod handlers;

use api::Operation;
use hearth_lex::Lex;
use hearth_protocol::dispatch::{self, Handler};
use hearth_protocol::schema::{OperationSpec, Service};
use hearth_protocol::{AwsError, RequestContext};
use serde_json::Value;

/// The `lexv2-runtime` API over a Lex core.
#[derive(Clone)]
pub struct LexRuntime {
    lex: Lex,
}

impl LexRuntime {
    /// The runtime API over the same core as the models API (`hearth_lex::LexModels`).
    pub fn new(lex: Lex) -> Self {
        LexRuntime { lex }
    }
}

#[async_trait::async_trait]
impl Handler for LexRuntime {
    fn model(&self) -> &'static Service {
        &api::SERVICE
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        op: &'static OperationSpec,
        input: Value,
    ) -> Result<Value, AwsError> {
        let Some(operation) = Operation::from_name(op.name) else {
            return Err(AwsError::new(
                "UnknownOperationException",
                format!("Unknown operation {}", op.name),
                400,
            ));
        };
        let result = match operation {
            Operation::RecognizeText => {
                handlers::recognize::recognize_text(&self.lex, ctx, read(input)?).await
            }
            Operation::PutSession => {
                handlers::sessions::put_session(&self.lex, ctx, read(input)?).await
            }
            Operation::GetSession => {
                handlers::sessions::get_session(&self.lex, ctx, read(input)?).await
            }
            Operation::DeleteSession => {
                handlers::sessions::delete_session(&self.lex, ctx, read(input)?).await
            }
        };
        result.map_err(|e| e.to_aws())
    }
}

fn read<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, AwsError> {
    dispatch::input(&api::SERVICE, v)
}

/// The canonical value of an output type.
pub(crate) fn output<T: serde::Serialize>(out: &T) -> hearth_lex::error::Result<Value> {
    dispatch::output(out).map_err(hearth_lex::error::LexError::Aws)
}
