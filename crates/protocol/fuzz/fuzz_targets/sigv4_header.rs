//! Parses arbitrary `Authorization` headers and verifies arbitrary requests built from them:
//! input is `<path and query>\n<authorization>\n<x-amz-date>\n<x-amz-content-sha256>`.
//! Nothing may panic, whatever the bytes.
#![no_main]

use hearth_protocol::sigv4::{self, KeyInfo, KeyStore};
use libfuzzer_sys::fuzz_target;

struct Keys;

impl KeyStore for Keys {
    fn lookup(&self, access_key: &str) -> Option<KeyInfo> {
        (access_key == "AKIAIOSFODNN7EXAMPLE").then(|| KeyInfo {
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string(),
            account: "123456789012".to_string(),
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = sigv4::parse_authorization_header(&text);

    let mut fields = data.split(|&b| b == b'\n');
    let uri = fields.next().unwrap_or_default();
    let mut builder = http::Request::builder()
        .method("PUT")
        .uri(if uri.is_empty() { &b"/"[..] } else { uri });
    for name in ["authorization", "x-amz-date", "x-amz-content-sha256"] {
        if let Some(value) = fields.next() {
            if let Ok(value) = http::HeaderValue::from_bytes(value) {
                builder = builder.header(name, value);
            }
        }
    }
    let Ok(request) = builder.header("host", "example.com").body(()) else {
        return;
    };
    let (parts, ()) = request.into_parts();
    let _ = sigv4::credential_scope(&parts);
    let now = time::macros::datetime!(2013-05-24 0:05 UTC);
    for body_sha256 in [
        None,
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ] {
        if let Err(e) = sigv4::verify(&parts, body_sha256, &Keys, now) {
            let _ = e.to_aws(hearth_protocol::Protocol::RestXml, "s3");
            let _ = e.to_aws(hearth_protocol::Protocol::Query, "sts");
        }
    }
});
