//! SageMaker Runtime (restJson1): InvokeEndpoint.
pub mod api;
