//! The SigV4 canonical request, built from the request as received, the way botocore builds it
//! before sending (`botocore.auth.SigV4Auth.canonical_request`).
//!
//! - Path: S3 signs the path as sent (`S3SigV4Auth._normalize_url_path` is the identity); every
//!   other service signs `quote(remove_dot_segments(path), safe='/~')`, i.e. the already
//!   percent-encoded path encoded once more. For S3 we also accept the path decoded and
//!   re-encoded with AWS's `UriEncode`, which is what clients that send unescaped characters
//!   (for example `!` or `'`) signed.
//! - Query: every parameter is percent-decoded and re-encoded with `UriEncode` (only
//!   `A-Za-z0-9-_.~` unescaped, `%XX` upper case), then sorted by key and value. A raw `+` is
//!   decoded as a space (form encoding), as the server's query parser reads it; SDKs send a
//!   literal plus as `%2B`.
//! - Headers: the signed ones, lower-cased, each value trimmed with inner whitespace runs
//!   collapsed to one space, repeated headers joined with `,`.

use http::request::Parts;
use percent_encoding::{percent_decode, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but the unreserved characters of RFC 3986 (`A-Za-z0-9-_.~`).
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The same, leaving `/` alone (paths).
const URI_ENCODE_PATH: &AsciiSet = &URI_ENCODE.remove(b'/');

/// AWS `UriEncode` of raw bytes; `/` is kept when `keep_slash`.
pub(crate) fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let set = if keep_slash {
        URI_ENCODE_PATH
    } else {
        URI_ENCODE
    };
    percent_encoding::percent_encode(bytes, set).to_string()
}

/// One query parameter, percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryParam {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    /// Whether the segment had an `=` (`?acl` has none).
    has_eq: bool,
}

impl QueryParam {
    pub(crate) fn key_is(&self, name: &str) -> bool {
        self.key == name.as_bytes()
    }

    pub(crate) fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }

    /// Whether the parameter was sent as `name=value` rather than a bare `name`.
    pub(crate) fn has_value(&self) -> bool {
        self.has_eq
    }
}

/// Splits a raw query string into decoded parameters, `+` read as a space (form encoding, as
/// `form_urlencoded` reads it: the signature must cover what the server will act on). Empty
/// segments are skipped.
pub(crate) fn parse_query(raw: &str) -> Vec<QueryParam> {
    raw.split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let (k, v) = segment.split_once('=').unwrap_or((segment, ""));
            QueryParam {
                key: form_decode(k),
                value: form_decode(v),
                has_eq: segment.contains('='),
            }
        })
        .collect()
}

fn form_decode(s: &str) -> Vec<u8> {
    if s.contains('+') {
        let replaced = s.replace('+', " ");
        percent_decode(replaced.as_bytes()).collect()
    } else {
        percent_decode(s.as_bytes()).collect()
    }
}

/// The canonical query string: every parameter re-encoded, sorted by key then value.
/// `skip_signature` drops `X-Amz-Signature` (presigned).
pub(crate) fn canonical_query(params: &[QueryParam], skip_signature: bool) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|p| !(skip_signature && p.key_is("X-Amz-Signature")))
        .map(|p| (uri_encode(&p.key, false), uri_encode(&p.value, false)))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Canonical URIs to try for S3: the path as sent, then the decoded-and-re-encoded path if different.
pub(crate) fn s3_canonical_uris(path: &str) -> Vec<String> {
    let sent = if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    };
    let decoded: Vec<u8> = percent_decode(sent.as_bytes()).collect();
    let reencoded = uri_encode(&decoded, true);
    if reencoded == sent {
        vec![sent]
    } else {
        vec![sent, reencoded]
    }
}

/// Canonical URI for services other than S3: botocore's `quote(normalize_url_path(path), safe='/~')`.
pub(crate) fn canonical_uri(path: &str) -> String {
    let normalized = remove_dot_segments(path);
    utf8_percent_encode(&normalized, URI_ENCODE_PATH).to_string()
}

/// RFC 3986 dot-segment removal that also drops empty segments, as botocore's `remove_dot_segments`.
pub(crate) fn remove_dot_segments(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !out.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", out.join("/"))
}

/// Python's `' '.join(value.split())` on bytes: trims and collapses whitespace runs to one space.
pub(crate) fn trim_all(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for word in value
        .split(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
    out
}

/// The canonical headers block (`name:value\n` per signed header) for the given signed header names.
/// A signed `host` absent from the headers (HTTP/2) is taken from the URI authority.
pub(crate) fn canonical_headers(parts: &Parts, signed: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for name in signed {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let mut first = true;
        let mut any = false;
        for value in parts.headers.get_all(name.as_str()) {
            any = true;
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(&trim_all(value.as_bytes()));
        }
        if !any && name == "host" {
            if let Some(authority) = parts.uri.authority() {
                out.extend_from_slice(authority.as_str().as_bytes());
            }
        }
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(
            uri_encode(b"a b+c/d~e_f.g-h*", false),
            "a%20b%2Bc%2Fd~e_f.g-h%2A"
        );
        assert_eq!(uri_encode(b"a b/c", true), "a%20b/c");
        assert_eq!(uri_encode("é".as_bytes(), true), "%C3%A9");
    }

    #[test]
    fn query_sorting_and_reencoding() {
        let params = parse_query("prefix=a%2Bb&acl&Z=1&a=z&a=b&empty=&x=%7e&y=a+b&&bad=%zz");
        assert_eq!(
            canonical_query(&params, false),
            "Z=1&a=b&a=z&acl=&bad=%25zz&empty=&prefix=a%2Bb&x=~&y=a%20b"
        );
        let params = parse_query("X-Amz-Signature=abc&b=2");
        assert_eq!(canonical_query(&params, true), "b=2");
        assert_eq!(canonical_query(&params, false), "X-Amz-Signature=abc&b=2");
    }

    #[test]
    fn paths() {
        assert_eq!(s3_canonical_uris("/bucket/a%20b"), vec!["/bucket/a%20b"]);
        assert_eq!(
            s3_canonical_uris("/bucket/a!b"),
            vec!["/bucket/a!b", "/bucket/a%21b"]
        );
        assert_eq!(s3_canonical_uris(""), vec!["/"]);
        assert_eq!(canonical_uri("/a%20b/./c/../d//e/"), "/a%2520b/d/e/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(remove_dot_segments("/.."), "/");
        assert_eq!(remove_dot_segments("/a/b/../../.."), "/");
    }

    #[test]
    fn trimming() {
        assert_eq!(trim_all(b"  a   b \t c  "), b"a b c");
        assert_eq!(trim_all(b""), b"");
    }
}
