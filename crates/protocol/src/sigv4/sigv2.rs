//! S3 Signature Version 2 (HMAC-SHA1), accepted because botocore still presigns S3 URLs with it
//! by default: `generate_presigned_url` on an S3 client without `signature_version='s3v4'` in a
//! region that supports SigV2 (us-east-1 among them) yields `?AWSAccessKeyId=..&Signature=..&Expires=..`.
//! The header form (`Authorization: AWS AKID:signature`) is accepted too.
//!
//! String to sign, as botocore's `HmacV1Auth.canonical_string` builds it:
//!
//! ```text
//! METHOD\nContent-MD5\nContent-Type\n<Date, or Expires when presigned>\n<x-amz-name:value\n ...><resource>
//! ```
//!
//! where `resource` is the path as sent (bucket included: path-style addressing) followed by the
//! sub-resources of interest sorted by name (`?acl`, `?uploadId=..`, `response-*` overrides...),
//! values percent-decoded. With an `x-amz-date` header the Date line is empty.

use base64::Engine;
use hmac::{Hmac, Mac};
use http::request::Parts;
use sha1::Sha1;
use time::OffsetDateTime;

use super::canonical::{self, QueryParam};
use super::error::AuthError;
use super::time_fmt;
use super::{KeyStore, Payload, Verified, MAX_CLOCK_SKEW};

/// The query parameters botocore puts in the SigV2 canonical resource (`HmacV1Auth.QSAOfInterest`).
const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "cors",
    "defaultObjectAcl",
    "location",
    "logging",
    "partNumber",
    "policy",
    "requestPayment",
    "torrent",
    "versioning",
    "versionId",
    "versions",
    "website",
    "uploads",
    "uploadId",
    "response-content-type",
    "response-content-language",
    "response-expires",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "delete",
    "lifecycle",
    "tagging",
    "restore",
    "storageClass",
    "notification",
    "replication",
    "analytics",
    "metrics",
    "inventory",
    "select",
    "select-type",
    "object-lock",
];

/// Region reported for SigV2 requests, which carry none.
const SIGV2_REGION: &str = "us-east-1";

/// Verifies `Authorization: AWS AKID:base64(signature)`.
pub(crate) fn verify_header(
    parts: &Parts,
    value: &str,
    params: &[QueryParam],
    keys: &dyn KeyStore,
    now: OffsetDateTime,
) -> Result<Verified, AuthError> {
    let invalid = || {
        AuthError::Malformed(
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature".into(),
        )
    };
    let rest = value.trim().strip_prefix("AWS ").ok_or_else(invalid)?;
    let (access_key, signature) = rest.trim().split_once(':').ok_or_else(invalid)?;
    if access_key.is_empty() || signature.is_empty() {
        return Err(invalid());
    }
    let amz_date = parts
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok());
    let date_header = parts
        .headers
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok());
    let signed_at = amz_date
        .or(date_header)
        .and_then(|d| time_fmt::parse_http_date(d).or_else(|| time_fmt::parse_amz_datetime(d)))
        .ok_or(AuthError::MissingDate)?;
    let key = keys
        .lookup(access_key)
        .ok_or_else(|| AuthError::UnknownKey(access_key.to_string()))?;
    if (now - signed_at).abs() > MAX_CLOCK_SKEW {
        return Err(AuthError::Skewed {
            request_time: signed_at,
            server_time: now,
        });
    }
    let date_line = if amz_date.is_some() {
        ""
    } else {
        date_header.unwrap_or("").trim()
    };
    check(
        parts,
        params,
        date_line,
        signature,
        access_key,
        &key.secret,
        false,
    )?;
    Ok(verified(
        access_key,
        key.account,
        header_token(parts),
        false,
        signed_at,
    ))
}

/// Verifies `?AWSAccessKeyId=..&Expires=..&Signature=..`.
pub(crate) fn verify_query(
    parts: &Parts,
    params: &[QueryParam],
    keys: &dyn KeyStore,
    now: OffsetDateTime,
) -> Result<Verified, AuthError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|p| p.key_is(name))
            .and_then(QueryParam::value_str)
    };
    let (Some(access_key), Some(signature), Some(expires)) =
        (get("AWSAccessKeyId"), get("Signature"), get("Expires"))
    else {
        return Err(AuthError::MalformedPresignedV2(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters".into(),
        ));
    };
    let expires_epoch: i64 = expires.trim().parse().map_err(|_| {
        AuthError::MalformedPresignedV2(format!(
            "Invalid date (should be seconds since epoch): {expires}"
        ))
    })?;
    let expires_at = OffsetDateTime::from_unix_timestamp(expires_epoch).map_err(|_| {
        AuthError::MalformedPresignedV2(format!(
            "Invalid date (should be seconds since epoch): {expires}"
        ))
    })?;
    let key = keys
        .lookup(access_key)
        .ok_or_else(|| AuthError::UnknownKey(access_key.to_string()))?;
    if now > expires_at {
        return Err(AuthError::ExpiredV2 {
            expires_at,
            server_time: now,
        });
    }
    // base64 has no spaces: a space here was a raw '+' read as form encoding.
    let signature = signature.replace(' ', "+");
    check(
        parts,
        params,
        expires.trim(),
        &signature,
        access_key,
        &key.secret,
        true,
    )?;
    let token = get("x-amz-security-token")
        .map(str::to_string)
        .or_else(|| header_token(parts));
    Ok(verified(access_key, key.account, token, true, now))
}

fn verified(
    access_key: &str,
    account: String,
    security_token: Option<String>,
    presigned: bool,
    signed_at: OffsetDateTime,
) -> Verified {
    Verified {
        access_key: access_key.to_string(),
        account,
        region: SIGV2_REGION.to_string(),
        service: "s3".to_string(),
        payload: Payload::Unsigned,
        security_token,
        presigned,
        signed_at,
    }
}

fn header_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn check(
    parts: &Parts,
    params: &[QueryParam],
    date_line: &str,
    signature: &str,
    access_key: &str,
    secret: &str,
    presigned: bool,
) -> Result<(), AuthError> {
    let provided = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .ok();
    let header_or_query = |name: &str| -> String {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
            .or_else(|| {
                presigned
                    .then(|| {
                        params
                            .iter()
                            .find(|p| p.key == name.as_bytes())
                            .and_then(QueryParam::value_str)
                    })
                    .flatten()
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let mut prefix = format!(
        "{}\n{}\n{}\n{}\n",
        parts.method.as_str(),
        header_or_query("content-md5"),
        header_or_query("content-type"),
        date_line
    );
    for (name, value) in amz_headers(parts, params, presigned) {
        prefix.push_str(&format!("{name}:{value}\n"));
    }
    let resources = sub_resources(params);
    let mut first = None;
    for path in canonical::s3_canonical_uris(parts.uri.path()) {
        let string_to_sign = format!("{prefix}{path}{resources}");
        if let Some(provided) = &provided {
            let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes())
                .unwrap_or_else(|_| unreachable!("any key length"));
            mac.update(string_to_sign.as_bytes());
            if mac.verify_slice(provided).is_ok() {
                return Ok(());
            }
        }
        first.get_or_insert(string_to_sign);
    }
    Err(AuthError::BadSignature {
        access_key: access_key.to_string(),
        signature_provided: signature.to_string(),
        string_to_sign: first.unwrap_or_default(),
        canonical_request: String::new(),
    })
}

/// `x-amz-*` headers (and, presigned, `x-amz-*` query parameters), sorted, values joined with ','.
fn amz_headers(parts: &Parts, params: &[QueryParam], presigned: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in parts.headers.keys() {
        let name = name.as_str();
        if !name.starts_with("x-amz-") {
            continue;
        }
        let joined: Vec<String> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            .collect();
        out.push((name.to_string(), joined.join(",")));
    }
    if presigned {
        for p in params {
            let Ok(key) = std::str::from_utf8(&p.key) else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if key.starts_with("x-amz-") && !out.iter().any(|(n, _)| *n == key) {
                out.push((key, String::from_utf8_lossy(&p.value).trim().to_string()));
            }
        }
    }
    out.sort();
    out
}

/// `?name[=decoded value]&...` for the sub-resources of interest, sorted by name; empty if none.
fn sub_resources(params: &[QueryParam]) -> String {
    let mut picked: Vec<(&str, Option<String>)> = params
        .iter()
        .filter_map(|p| {
            let key = std::str::from_utf8(&p.key).ok()?;
            SUB_RESOURCES.contains(&key).then(|| {
                (
                    key,
                    p.has_value()
                        .then(|| String::from_utf8_lossy(&p.value).into_owned()),
                )
            })
        })
        .collect();
    if picked.is_empty() {
        return String::new();
    }
    picked.sort_by(|a, b| a.0.cmp(b.0));
    let joined: Vec<String> = picked
        .into_iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.to_string(),
        })
        .collect();
    format!("?{}", joined.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::macros::datetime;

    struct Keys;
    impl KeyStore for Keys {
        fn lookup(&self, access_key: &str) -> Option<super::super::KeyInfo> {
            let secrets = HashMap::from([(
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            )]);
            secrets.get(access_key).map(|s| super::super::KeyInfo {
                secret: s.to_string(),
                account: "123456789012".into(),
            })
        }
    }

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn aws_doc_header_example_get_object() {
        // S3 "Signing and authenticating REST requests", Example Object GET (path-style form of
        // awsexamplebucket1.us-west-1.s3.amazonaws.com/photos/puppy.jpg).
        let p = parts(
            "GET",
            "/awsexamplebucket1/photos/puppy.jpg",
            &[
                ("host", "s3.us-west-1.amazonaws.com"),
                ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
                (
                    "authorization",
                    "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
                ),
            ],
        );
        let v = super::super::verify(&p, None, &Keys, datetime!(2007-03-27 19:40 UTC)).unwrap();
        assert_eq!((v.service.as_str(), v.presigned), ("s3", false));
        assert!(matches!(v.payload, Payload::Unsigned));
        let p = parts(
            "GET",
            "/awsexamplebucket1/photos/puppy.jpg",
            &[
                ("date", "Tue, 27 Mar 2007 19:36:43 +0000"),
                (
                    "authorization",
                    "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
                ),
            ],
        );
        let err =
            super::super::verify(&p, None, &Keys, datetime!(2007-03-27 19:40 UTC)).unwrap_err();
        let AuthError::BadSignature { string_to_sign, .. } = err else {
            panic!()
        };
        assert_eq!(
            string_to_sign,
            "GET\n\n\nTue, 27 Mar 2007 19:36:43 +0000\n/awsexamplebucket1/photos/puppy.jpg"
        );
    }

    #[test]
    fn sub_resources_are_picked_sorted_and_decoded() {
        let params =
            canonical::parse_query("uploadId=a%2Fb&max-keys=3&acl&partNumber=2&x-id=GetObject");
        assert_eq!(sub_resources(&params), "?acl&partNumber=2&uploadId=a/b");
        assert_eq!(sub_resources(&canonical::parse_query("list-type=2")), "");
    }

    #[test]
    fn query_errors() {
        let p = parts(
            "GET",
            "/b/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=abc",
            &[],
        );
        let e = super::super::verify(&p, None, &Keys, datetime!(2020-01-01 0:00 UTC)).unwrap_err();
        assert!(matches!(e, AuthError::MalformedPresignedV2(_)));
        let p = parts(
            "GET",
            "/b/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=abc&Expires=1577836800",
            &[],
        );
        let e =
            super::super::verify(&p, None, &Keys, datetime!(2020-01-01 0:00:01 UTC)).unwrap_err();
        let aws = e.to_aws(crate::error::Protocol::RestXml, "s3");
        assert_eq!(
            (aws.code.as_str(), aws.message.as_str()),
            ("AccessDenied", "Request has expired")
        );
        let e = super::super::verify(&p, None, &Keys, datetime!(2019-12-31 0:00 UTC)).unwrap_err();
        assert!(matches!(e, AuthError::BadSignature { .. }));
    }
}
