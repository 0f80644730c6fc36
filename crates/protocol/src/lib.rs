//! Hearth's wire layer: AWS protocols, SigV4, error envelopes. No service logic lives here.
//!
//! - [`schema`]: the static model tables each service's generated `api.rs` provides;
//! - [`codec`]: awsJson, restJson, restXml, awsQuery and RPC v2 CBOR codecs driven by those tables;
//! - [`types`]: `Timestamp` and `Blob`, the scalar types of generated code;
//! - [`error`]: `AwsError` and its envelope on each protocol;
//! - [`sigv4`]: request signature verification.

pub mod codec;
pub mod context;
pub mod dispatch;
pub mod error;
pub mod schema;
pub mod sigv4;
pub mod types;

pub use context::{new_request_id, RequestContext};
pub use error::{AwsError, Protocol};
