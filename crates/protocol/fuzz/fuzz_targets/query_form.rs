//! Decodes arbitrary awsQuery forms against every S3 input shape (nested lists, maps and
//! structures exercise the `Name.member.N` / `Name.entry.N.key` rules). Nothing may panic.
#![no_main]

use hearth_protocol::codec::query::{self, Form};
use libfuzzer_sys::fuzz_target;

// The generated S3 model, included directly so the fuzz build does not compile the service.
#[path = "../../../../services/s3/src/api.rs"]
mod s3_api;

fuzz_target!(|data: &[u8]| {
    let form = Form::parse(data);
    for op in s3_api::SERVICE.operations {
        if let Ok(v) = query::decode_input(&s3_api::SERVICE, op, &form) {
            let _ = query::encode_output(&s3_api::SERVICE, op, &v, "fuzz");
        }
    }
});
