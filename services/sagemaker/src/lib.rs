//! SageMaker (awsJson1_1): models, endpoint configurations, endpoints, training jobs.
pub mod api;
