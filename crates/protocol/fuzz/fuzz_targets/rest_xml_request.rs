//! Routes and decodes arbitrary S3 (restXml) requests with the generated S3 schema:
//! input is `<METHOD> <path?query>\n<header: value lines>\n\n<body>`. Nothing may panic.
#![no_main]

use hearth_protocol::codec::rest;
use libfuzzer_sys::fuzz_target;

// The generated S3 model, included directly so the fuzz build does not compile the service.
#[path = "../../../../services/s3/src/api.rs"]
mod s3_api;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &b""[..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let first = lines.next().unwrap_or("GET /");
    let (method, target) = first.split_once(' ').unwrap_or(("GET", first));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = http::HeaderMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            if let (Ok(k), Ok(v)) = (http::HeaderName::from_bytes(k.trim().as_bytes()), http::HeaderValue::from_str(v.trim())) {
                headers.append(k, v);
            }
        }
    }
    let q = rest::parse_query(query);
    if let Some(route) = rest::route(&s3_api::SERVICE, method, path, &q, &headers) {
        if let Ok(v) = rest::decode_input(&s3_api::SERVICE, route.op, &route.labels, &q, &headers, body) {
            let _ = rest::encode_output(&s3_api::SERVICE, route.op, &v);
        }
    }
    let _ = hearth_protocol::codec::xml::parse(body);
});
