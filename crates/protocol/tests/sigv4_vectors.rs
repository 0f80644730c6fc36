//! Checks `hearth_protocol::sigv4` against requests signed by real botocore.
//!
//! Each `tests/sigv4_vectors/*.json` is a request exactly as a boto3 client prepared it for the
//! wire (method, path and query, headers, body) and the outcome the verifier must reach; they are
//! written by `tests/fixtures/gen_sigv4_vectors.py`.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use hearth_protocol::sigv4::{self, AuthError, KeyInfo, KeyStore, Payload};
use serde_json::Value;
use sha2::{Digest, Sha256};

struct Keys(HashMap<String, KeyInfo>);

impl KeyStore for Keys {
    fn lookup(&self, access_key: &str) -> Option<KeyInfo> {
        self.0.get(access_key).cloned()
    }
}

fn str_field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {name} missing"))
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn check(vector: &Value) {
    let name = str_field(vector, "name");
    let mut builder = http::Request::builder()
        .method(str_field(vector, "method"))
        .uri(str_field(vector, "path_and_query"));
    for header in vector["headers"].as_array().expect("headers") {
        builder = builder.header(header[0].as_str().unwrap(), header[1].as_str().unwrap());
    }
    let (parts, ()) = builder.body(()).expect("request").into_parts();
    let body = b64(str_field(vector, "body_base64"));
    let body_sha256 = vector["body_hash_known"]
        .as_bool()
        .unwrap()
        .then(|| sha256_hex(&body));
    let keys = Keys(HashMap::from([(
        str_field(vector, "access_key").to_string(),
        KeyInfo {
            secret: str_field(vector, "secret").to_string(),
            account: "123456789012".to_string(),
        },
    )]));
    let now = time::PrimitiveDateTime::parse(
        str_field(vector, "now"),
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .expect("now")
    .assume_utc();

    let result = sigv4::verify(&parts, body_sha256.as_deref(), &keys, now);
    let expect = str_field(vector, "expect");
    match (expect, &result) {
        ("BadSignature", Err(AuthError::BadSignature { .. }))
        | ("Skewed", Err(AuthError::Skewed { .. }))
        | ("Expired", Err(AuthError::Expired { .. } | AuthError::ExpiredV2 { .. })) => return,
        ("ok" | "BodyMismatch", Ok(_)) => {}
        _ => panic!("{name}: expected {expect}, got {result:?}"),
    }
    let verified = result.unwrap();
    let scope = sigv4::credential_scope(&parts);
    assert_eq!(verified.service, str_field(vector, "service"), "{name}");
    assert_eq!(verified.region, str_field(vector, "region"), "{name}");
    if let Some(scope) = scope {
        assert_eq!(scope.service, verified.service, "{name}");
    }
    if expect == "BodyMismatch" {
        let Payload::Signed {
            expected_sha256: Some(expected),
        } = &verified.payload
        else {
            panic!("{name}: {:?}", verified.payload)
        };
        assert_ne!(*expected, sha256_hex(&body), "{name}");
        return;
    }
    let decoded_expected = vector
        .get("decoded_body_base64")
        .and_then(Value::as_str)
        .map(b64);
    let payload = str_field(vector, "payload");
    let decoded = match (&verified.payload, payload) {
        (Payload::Signed { expected_sha256 }, "signed") => {
            if let Some(expected) = expected_sha256 {
                assert_eq!(*expected, sha256_hex(&body), "{name}: body hash");
            }
            body.clone()
        }
        (Payload::Unsigned, "unsigned") => body.clone(),
        (
            Payload::StreamingUnsignedTrailer | Payload::Streaming(_),
            "streaming_unsigned_trailer" | "streaming",
        ) => {
            // Feed in uneven pieces to exercise the incremental decoder.
            let mut decoder = verified.payload.chunked_decoder().expect("decoder");
            let mut out = Vec::new();
            for (i, piece) in body.chunks(1 + body.len() / 7).enumerate() {
                for (j, sub) in piece.chunks(1 + i * 13).enumerate() {
                    let _ = j;
                    for bytes in decoder
                        .feed(sub)
                        .unwrap_or_else(|e| panic!("{name}: {e:?}"))
                    {
                        out.extend_from_slice(&bytes);
                    }
                }
            }
            assert_eq!(decoder.decoded_len(), out.len() as u64);
            let trailers = decoder.finish().unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let expected: Vec<(String, String)> = vector["trailers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|t| {
                            (
                                t[0].as_str().unwrap().to_string(),
                                t[1].as_str().unwrap().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(trailers, expected, "{name}: trailers");
            out
        }
        (other, _) => panic!("{name}: payload {other:?}, expected {payload}"),
    };
    if let Some(expected) = decoded_expected {
        assert_eq!(decoded, expected, "{name}: decoded body");
    }
}

#[test]
fn botocore_vectors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigv4_vectors");
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("vector dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read vector");
        let vector: Value = serde_json::from_str(&text).expect("vector json");
        check(&vector);
        count += 1;
    }
    assert!(
        count >= 20,
        "only {count} vectors found in {}",
        dir.display()
    );
}
