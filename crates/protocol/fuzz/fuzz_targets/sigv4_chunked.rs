//! Feeds arbitrary bytes, split at arbitrary points, to the aws-chunked decoder in each of its
//! modes; it must never panic and must hand out no more bytes than it was fed.
#![no_main]

use hearth_protocol::sigv4::{AwsChunkedDecoder, ChunkVerifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    let mut decoder = match control % 3 {
        0 => AwsChunkedDecoder::new_unsigned(),
        mode => {
            // The seed of AWS's chunked-upload example; real signatures are out of reach of the
            // fuzzer, but every parse path before the check is exercised.
            let Some(verifier) = ChunkVerifier::new(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "20130524T000000Z",
                "20130524/us-east-1/s3/aws4_request",
                "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                mode == 2,
            ) else {
                return;
            };
            AwsChunkedDecoder::new_signed(verifier)
        }
    };
    let step = usize::from(control / 3) + 1;
    let mut emitted = 0usize;
    for piece in body.chunks(step) {
        match decoder.feed(piece) {
            Ok(out) => emitted += out.iter().map(|b| b.len()).sum::<usize>(),
            Err(_) => return,
        }
    }
    assert!(emitted <= body.len());
    assert_eq!(decoder.decoded_len(), emitted as u64);
    let _ = decoder.finish();
});
