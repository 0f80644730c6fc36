//! Decodes arbitrary awsJson/restJson bodies into generated input types. Nothing may panic.
#![no_main]

use hearth_protocol::codec::{self, json};
use libfuzzer_sys::fuzz_target;

// The generated S3 model, included directly so the fuzz build does not compile the service.
#[path = "../../../../services/s3/src/api.rs"]
mod s3_api;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = json::decode_input(data) {
        let _ = codec::from_value::<s3_api::CompleteMultipartUploadRequest>(v.clone());
        let _ = codec::from_value::<s3_api::PutObjectRequest>(v);
    }
});
