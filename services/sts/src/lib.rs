//! STS (awsQuery): who am I. Implemented operations: GetCallerIdentity.
//!
//! Hearth's principals are account access keys, so the caller is the account's root identity.

pub mod api;

use api::Operation;
use hearth_protocol::dispatch::{self, Handler};
use hearth_protocol::schema::{OperationSpec, Service};
use hearth_protocol::{AwsError, RequestContext};
use serde_json::Value;

/// The STS service (stateless).
#[derive(Debug, Default, Clone)]
pub struct Sts;

#[async_trait::async_trait]
impl Handler for Sts {
    fn model(&self) -> &'static Service {
        &api::SERVICE
    }

    async fn call(&self, ctx: &RequestContext, op: &'static OperationSpec, input: Value) -> Result<Value, AwsError> {
        match Operation::from_name(op.name).expect("generated operation") {
            Operation::GetCallerIdentity => {
                let _req: api::GetCallerIdentityRequest = dispatch::input(&api::SERVICE, input)?;
                dispatch::output(&api::GetCallerIdentityResponse {
                    account: Some(ctx.account.clone()),
                    arn: Some(format!("arn:aws:iam::{}:root", ctx.account)),
                    user_id: Some(ctx.account.clone()),
                })
            }
        }
    }
}
