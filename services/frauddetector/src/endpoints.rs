//! The SageMaker endpoints external models call. The Fraud Detector does not depend on the
//! SageMaker crate: the server hands it an implementation of [`ModelEndpoints`] over
//! SageMaker's in-process hosting (the same path InvokeEndpoint takes), and tests can hand it
//! their own.

use hearth_runtime::Scope;

/// Why an endpoint could not answer.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointError {
    /// No such endpoint (or not in service) for the account.
    NotFound(String),
    /// The endpoint or its model refused or failed the request.
    Failed(String),
}

/// One invocation's reply.
#[derive(Debug, Clone)]
pub struct EndpointReply {
    pub body: Vec<u8>,
    pub content_type: String,
}

/// The future [`ModelEndpoints::invoke`] returns.
pub type InvokeFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<EndpointReply, EndpointError>> + Send + 'a>>;

/// One invocation's request.
#[derive(Debug, Clone)]
pub struct EndpointRequest {
    pub endpoint: String,
    pub body: Vec<u8>,
    pub content_type: String,
    pub accept: String,
}

/// Invokes the account's SageMaker endpoints in-process.
pub trait ModelEndpoints: Send + Sync {
    /// Send the request to the endpoint of `scope`'s account and region, as InvokeEndpoint would.
    fn invoke<'a>(&'a self, scope: &'a Scope, req: EndpointRequest) -> InvokeFuture<'a>;
}
