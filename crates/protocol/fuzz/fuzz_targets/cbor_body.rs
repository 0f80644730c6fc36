//! Decodes arbitrary RPC v2 CBOR bodies against every CloudWatch input shape (the model that
//! declares `smithy-rpc-v2-cbor`), reads the generated input types, and re-encodes what decoded
//! as an output. Nothing may panic.
#![no_main]

use hearth_protocol::codec::{self, cbor};
use libfuzzer_sys::fuzz_target;

// The generated CloudWatch model, included directly so the fuzz build does not compile the service.
#[path = "../../../../services/cloudwatch/src/api.rs"]
mod cloudwatch_api;

fuzz_target!(|data: &[u8]| {
    let svc = &cloudwatch_api::SERVICE;
    for op in svc.operations {
        if let Ok(v) = cbor::decode_input(svc, op, data) {
            let _ = codec::from_value::<cloudwatch_api::PutMetricDataInput>(v.clone());
            let _ = codec::from_value::<cloudwatch_api::GetMetricDataInput>(v.clone());
            let _ = cbor::encode_output(svc, op, &v);
        }
    }
    let _ = cbor::error_body("Code", &String::from_utf8_lossy(data), &[]);
});
