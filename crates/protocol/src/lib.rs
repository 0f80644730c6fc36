//! AWS wire protocols, and nothing else: no service logic lives here.
//!
//! - [`schema`]: the runtime description of a service's shapes and operations, generated from the
//!   vendored botocore `service-2.json` (see `xtask codegen`);
//! - codecs that turn an HTTP request into the generated input type and the generated output type
//!   into an HTTP response, for each protocol: awsJson1_0/1_1, restJson1, restXml, awsQuery;
//! - [`error`]: the AWS error envelope of each protocol, so botocore raises `ClientError` with the
//!   right code, message and HTTP status;
//! - [`sigv4`]: request authentication (Authorization header, presigned URLs, chunked uploads).

pub mod error;
pub mod sigv4;

pub use error::{AwsError, Protocol};
