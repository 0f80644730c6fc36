//! Tests of [`super::verify`] against the worked examples of AWS's documentation.

use std::collections::HashMap;

use http::request::Parts;
use time::macros::datetime;
use time::OffsetDateTime;

use super::*;
use crate::error::Protocol;

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const S3_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const S3_TIME: OffsetDateTime = datetime!(2013-05-24 0:00 UTC);
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Keys(HashMap<String, KeyInfo>);

impl KeyStore for Keys {
    fn lookup(&self, access_key: &str) -> Option<KeyInfo> {
        self.0.get(access_key).cloned()
    }
}

fn keys(secret: &str) -> Keys {
    Keys(HashMap::from([(
        AK.to_string(),
        KeyInfo {
            secret: secret.to_string(),
            account: "123456789012".to_string(),
        },
    )]))
}

fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

fn auth(scope: &str, signed: &str, sig: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={signed}, Signature={sig}")
}

/// "Example: GET Object" of "Signature Calculations for the Authorization Header: Transferring
/// Payload in a Single Chunk".
fn get_object(range: &str, sig: &str) -> Parts {
    let authorization = auth(
        "20130524/us-east-1/s3/aws4_request",
        "host;range;x-amz-content-sha256;x-amz-date",
        sig,
    );
    parts(
        "GET",
        "/test.txt",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", range),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", &authorization),
        ],
    )
}

const GET_OBJECT_SIG: &str = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

#[test]
fn aws_example_get_object() {
    let v = verify(
        &get_object("bytes=0-9", GET_OBJECT_SIG),
        None,
        &keys(S3_SECRET),
        S3_TIME,
    )
    .unwrap();
    assert_eq!(v.access_key, AK);
    assert_eq!(v.account, "123456789012");
    assert_eq!((v.region.as_str(), v.service.as_str()), ("us-east-1", "s3"));
    assert!(!v.presigned);
    assert!(
        matches!(v.payload, Payload::Signed { expected_sha256: Some(ref h) } if h == EMPTY_SHA256)
    );
    // The caller already hashed the (empty) body: nothing left to check.
    let v = verify(
        &get_object("bytes=0-9", GET_OBJECT_SIG),
        Some(EMPTY_SHA256),
        &keys(S3_SECRET),
        S3_TIME,
    )
    .unwrap();
    assert!(matches!(
        v.payload,
        Payload::Signed {
            expected_sha256: None
        }
    ));
}

#[test]
fn tampering_fails_with_the_computed_strings() {
    let err = verify(
        &get_object("bytes=1-9", GET_OBJECT_SIG),
        None,
        &keys(S3_SECRET),
        S3_TIME,
    )
    .unwrap_err();
    let AuthError::BadSignature {
        canonical_request,
        string_to_sign,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(canonical_request
        .starts_with("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=1-9\n"));
    assert!(string_to_sign
        .starts_with("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"));
    assert_eq!(
        err.to_aws(Protocol::RestXml, "s3").code,
        "SignatureDoesNotMatch"
    );
    // Wrong secret; signature of the wrong length; a body that hashes differently.
    assert!(matches!(
        verify(
            &get_object("bytes=0-9", GET_OBJECT_SIG),
            None,
            &keys("other"),
            S3_TIME
        ),
        Err(AuthError::BadSignature { .. })
    ));
    assert!(matches!(
        verify(
            &get_object("bytes=0-9", &GET_OBJECT_SIG[..63]),
            None,
            &keys(S3_SECRET),
            S3_TIME
        ),
        Err(AuthError::BadSignature { .. })
    ));
    let other = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    assert!(matches!(
        verify(
            &get_object("bytes=0-9", GET_OBJECT_SIG),
            Some(other),
            &keys(S3_SECRET),
            S3_TIME
        ),
        Err(AuthError::ContentSha256Mismatch { .. })
    ));
}

#[test]
fn unknown_key_and_missing_auth() {
    let empty = Keys(HashMap::new());
    assert_eq!(
        verify(
            &get_object("bytes=0-9", GET_OBJECT_SIG),
            None,
            &empty,
            S3_TIME
        )
        .unwrap_err(),
        AuthError::UnknownKey(AK.into())
    );
    let p = parts(
        "GET",
        "/test.txt",
        &[("host", "examplebucket.s3.amazonaws.com")],
    );
    assert_eq!(
        verify(&p, None, &keys(S3_SECRET), S3_TIME).unwrap_err(),
        AuthError::Missing
    );
    let p = parts("GET", "/test.txt", &[("authorization", "Bearer abc")]);
    assert!(matches!(
        verify(&p, None, &keys(S3_SECRET), S3_TIME),
        Err(AuthError::UnsupportedAlgorithm(_))
    ));
    // SigV2 header without a date.
    let p = parts(
        "GET",
        "/test.txt",
        &[(
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
        )],
    );
    assert_eq!(
        verify(&p, None, &keys(S3_SECRET), S3_TIME).unwrap_err(),
        AuthError::MissingDate
    );
}

#[test]
fn clock_skew_is_fifteen_minutes() {
    let p = get_object("bytes=0-9", GET_OBJECT_SIG);
    let k = keys(S3_SECRET);
    assert!(verify(&p, None, &k, S3_TIME + Duration::minutes(15)).is_ok());
    assert!(verify(&p, None, &k, S3_TIME - Duration::minutes(15)).is_ok());
    let err = verify(
        &p,
        None,
        &k,
        S3_TIME + Duration::minutes(15) + Duration::seconds(1),
    )
    .unwrap_err();
    assert!(matches!(err, AuthError::Skewed { .. }));
    let e = err.to_aws(Protocol::RestXml, "s3");
    assert_eq!(
        (e.code.as_str(), e.status.as_u16()),
        ("RequestTimeTooSkewed", 403)
    );
    assert!(matches!(
        verify(&p, None, &k, S3_TIME - Duration::minutes(16)),
        Err(AuthError::Skewed { .. })
    ));
}

#[test]
fn aws_example_put_object_with_date_header() {
    // "Example: PUT Object": signs the Date header too; path holds an escaped '$'.
    let authorization = auth(
        "20130524/us-east-1/s3/aws4_request",
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    let body_sha = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    let p = parts(
        "PUT",
        "/test%24file.text",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", body_sha),
            ("authorization", &authorization),
        ],
    );
    let v = verify(&p, None, &keys(S3_SECRET), S3_TIME).unwrap();
    assert!(matches!(v.payload, Payload::Signed { expected_sha256: Some(ref h) } if h == body_sha));
}

#[test]
fn aws_example_bucket_subresources() {
    // "Example: GET Bucket Lifecycle" and "Example: Get Bucket (List Objects)".
    for (uri, sig) in [
        (
            "/?lifecycle",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        ),
        (
            "/?max-keys=2&prefix=J",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        ),
    ] {
        let authorization = auth(
            "20130524/us-east-1/s3/aws4_request",
            "host;x-amz-content-sha256;x-amz-date",
            sig,
        );
        let p = parts(
            "GET",
            uri,
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("authorization", &authorization),
            ],
        );
        verify(&p, None, &keys(S3_SECRET), S3_TIME).unwrap_or_else(|e| panic!("{uri}: {e:?}"));
    }
}

const PRESIGNED: &str = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

#[test]
fn aws_example_presigned_get() {
    let p = parts(
        "GET",
        PRESIGNED,
        &[("host", "examplebucket.s3.amazonaws.com")],
    );
    let k = keys(S3_SECRET);
    let v = verify(&p, None, &k, S3_TIME + Duration::hours(1)).unwrap();
    assert!(v.presigned);
    assert!(matches!(v.payload, Payload::Unsigned));
    let scope = credential_scope(&p).unwrap();
    assert_eq!(
        (
            scope.access_key.as_str(),
            scope.service.as_str(),
            scope.region.as_str()
        ),
        (AK, "s3", "us-east-1")
    );
    // Expiry: valid through X-Amz-Date + 86400 s, then "Request has expired".
    assert!(verify(&p, None, &k, S3_TIME + Duration::seconds(86400)).is_ok());
    let err = verify(&p, None, &k, S3_TIME + Duration::seconds(86401)).unwrap_err();
    let e = err.to_aws(Protocol::RestXml, "s3");
    assert_eq!(
        (e.code.as_str(), e.message.as_str(), e.status.as_u16()),
        ("AccessDenied", "Request has expired", 403)
    );
    // Far in the future: not valid yet.
    assert!(matches!(
        verify(&p, None, &k, S3_TIME - Duration::hours(1)),
        Err(AuthError::NotYetValid { .. })
    ));
    // Changing the signature or another parameter breaks it.
    let p2 = parts(
        "GET",
        &PRESIGNED.replace("aeeed9", "beeed9"),
        &[("host", "examplebucket.s3.amazonaws.com")],
    );
    assert!(matches!(
        verify(&p2, None, &k, S3_TIME),
        Err(AuthError::BadSignature { .. })
    ));
    let p2 = parts(
        "GET",
        &format!("{PRESIGNED}&x-id=GetObject"),
        &[("host", "examplebucket.s3.amazonaws.com")],
    );
    assert!(matches!(
        verify(&p2, None, &k, S3_TIME),
        Err(AuthError::BadSignature { .. })
    ));
    // An unsigned x-amz-* header is refused.
    let p2 = parts(
        "GET",
        PRESIGNED,
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-acl", "public-read"),
        ],
    );
    assert_eq!(
        verify(&p2, None, &k, S3_TIME).unwrap_err(),
        AuthError::HeadersNotSigned(vec!["x-amz-acl".into()])
    );
    // Both mechanisms at once.
    let p2 = parts(
        "GET",
        PRESIGNED,
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("authorization", "AWS4-HMAC-SHA256 x"),
        ],
    );
    assert_eq!(
        verify(&p2, None, &k, S3_TIME).unwrap_err(),
        AuthError::MultipleAuth
    );
}

#[test]
fn presigned_parameter_errors_use_s3_messages() {
    let k = keys(S3_SECRET);
    let check = |uri: String, message: &str| {
        let p = parts("GET", &uri, &[("host", "examplebucket.s3.amazonaws.com")]);
        let e = verify(&p, None, &k, S3_TIME)
            .unwrap_err()
            .to_aws(Protocol::RestXml, "s3");
        assert_eq!(e.code, "AuthorizationQueryParametersError", "{uri}");
        assert_eq!(e.message, message, "{uri}");
        assert_eq!(e.status.as_u16(), 400);
    };
    check(
        PRESIGNED.replace("X-Amz-Expires=86400", "X-Amz-Expires=604801"),
        "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
    );
    check(
        PRESIGNED.replace("X-Amz-Expires=86400", "X-Amz-Expires=-1"),
        "X-Amz-Expires must be non-negative",
    );
    check(
        PRESIGNED.replace("X-Amz-Expires=86400", "X-Amz-Expires=soon"),
        "X-Amz-Expires should be a number",
    );
    check(
        PRESIGNED.replace("&X-Amz-SignedHeaders=host", ""),
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, \
         X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
    );
    check(
        PRESIGNED.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
        "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
    );
    check(
        PRESIGNED.replace("X-Amz-Date=20130524T000000Z", "X-Amz-Date=2013-05-24"),
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
    );
}

#[test]
fn aws_example_chunked_put_seed_then_body() {
    let authorization = auth(
        "20130524/us-east-1/s3/aws4_request",
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    );
    let p = parts(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &[
            ("host", "s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("authorization", &authorization),
            ("x-amz-content-sha256", STREAMING_PAYLOAD),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("content-length", "66824"),
        ],
    );
    let v = verify(&p, None, &keys(S3_SECRET), S3_TIME).unwrap();
    let Payload::Streaming(verifier) = &v.payload else {
        panic!("{:?}", v.payload)
    };
    assert!(!verifier.expects_trailer());
    let mut decoder = v.payload.chunked_decoder().unwrap();
    let mut body = Vec::new();
    body.extend_from_slice(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
    body.extend(std::iter::repeat_n(b'a', 65536));
    body.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
    body.extend(std::iter::repeat_n(b'a', 1024));
    body.extend_from_slice(b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
    assert_eq!(body.len(), 66824);
    let mut total = 0;
    for piece in body.chunks(1000) {
        total += decoder
            .feed(piece)
            .unwrap()
            .iter()
            .map(|b| b.len())
            .sum::<usize>();
    }
    assert_eq!(total, 66560);
    assert_eq!(decoder.decoded_len(), 66560);
    assert!(decoder.finish().unwrap().is_empty());
}

#[test]
fn aws_example_chunked_put_with_trailer_seed() {
    let authorization = auth(
        "20130524/us-east-1/s3/aws4_request",
        "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
    );
    let p = parts(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &[
            ("host", "s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("authorization", &authorization),
            ("x-amz-content-sha256", STREAMING_PAYLOAD_TRAILER),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("x-amz-trailer", "x-amz-checksum-crc32c"),
            ("content-length", "66946"),
        ],
    );
    let v = verify(&p, None, &keys(S3_SECRET), S3_TIME).unwrap();
    let Payload::Streaming(verifier) = &v.payload else {
        panic!("{:?}", v.payload)
    };
    assert!(verifier.expects_trailer());
    assert_eq!(
        verifier.seed_signature(),
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    );
}

#[test]
fn aws_general_reference_iam_example() {
    // AWS General Reference, "Create a signed AWS API request" (IAM ListUsers, non-S3 encoding).
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={AK}/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, \
         Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    );
    let p = parts(
        "GET",
        "/?Action=ListUsers&Version=2010-05-08",
        &[
            ("host", "iam.amazonaws.com"),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", &authorization),
        ],
    );
    let k = keys("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let v = verify(&p, Some(EMPTY_SHA256), &k, datetime!(2015-08-30 12:40 UTC)).unwrap();
    assert_eq!(v.service, "iam");
    assert!(matches!(
        v.payload,
        Payload::Signed {
            expected_sha256: None
        }
    ));
    // Without a body hash there is nothing to put in the canonical request.
    assert_eq!(
        verify(&p, None, &k, datetime!(2015-08-30 12:40 UTC)).unwrap_err(),
        AuthError::MissingContentSha256
    );
    // JSON services see their own codes.
    let err = verify(&p, Some(EMPTY_SHA256), &k, datetime!(2015-08-30 13:40 UTC)).unwrap_err();
    let e = err.to_aws(Protocol::Query, "iam");
    assert_eq!(e.code, "SignatureDoesNotMatch");
    assert!(e
        .message
        .starts_with("Signature expired: 20150830T123600Z is now earlier than 20150830T132500Z"));
}

#[test]
fn header_form_errors() {
    let k = keys(S3_SECRET);
    let with_auth = |value: &str, date: Option<&str>| {
        let mut h = vec![
            ("host", "examplebucket.s3.amazonaws.com"),
            ("authorization", value),
        ];
        if let Some(d) = date {
            h.push(("x-amz-date", d));
        }
        verify(&parts("GET", "/test.txt", &h), None, &k, S3_TIME).unwrap_err()
    };
    let good = auth("20130524/us-east-1/s3/aws4_request", "host", GET_OBJECT_SIG);
    assert_eq!(with_auth(&good, None), AuthError::MissingDate);
    assert_eq!(with_auth(&good, Some("yesterday")), AuthError::MissingDate);
    let e = with_auth(&good, Some("20130525T000000Z")).to_aws(Protocol::RestXml, "s3");
    assert_eq!(e.code, "AuthorizationHeaderMalformed");
    assert_eq!(e.message, "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.");
    let e = with_auth(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
        Some("20130524T000000Z"),
    )
    .to_aws(Protocol::AwsJson { version_1_1: true }, "rekognition");
    assert_eq!(e.code, "IncompleteSignatureException");
    assert!(e.message.starts_with("Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."));
    let e = with_auth(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
        Some("20130524T000000Z"),
    )
    .to_aws(Protocol::RestXml, "s3");
    assert_eq!(e.code, "AuthorizationHeaderMalformed");
}

#[test]
fn content_sha256_values() {
    let k = keys(S3_SECRET);
    let p = |value: &str| {
        let authorization = auth(
            "20130524/us-east-1/s3/aws4_request",
            "host;x-amz-content-sha256;x-amz-date",
            GET_OBJECT_SIG,
        );
        parts(
            "PUT",
            "/b/k",
            &[
                ("host", "h"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", value),
                ("authorization", &authorization),
            ],
        )
    };
    let e = verify(&p("not-a-hash"), None, &k, S3_TIME).unwrap_err();
    assert_eq!(e, AuthError::InvalidContentSha256("not-a-hash".into()));
    assert_eq!(e.to_aws(Protocol::RestXml, "s3").code, "InvalidArgument");
    // Sentinels are accepted as far as the signature (which is wrong here).
    for v in [
        UNSIGNED_PAYLOAD,
        STREAMING_PAYLOAD,
        STREAMING_PAYLOAD_TRAILER,
        STREAMING_UNSIGNED_PAYLOAD_TRAILER,
    ] {
        assert!(
            matches!(
                verify(&p(v), None, &k, S3_TIME),
                Err(AuthError::BadSignature { .. })
            ),
            "{v}"
        );
    }
}

#[test]
fn credential_scope_for_routing() {
    let p = get_object("bytes=0-9", "00");
    let scope = credential_scope(&p).unwrap();
    assert_eq!(
        scope,
        CredentialScope {
            access_key: AK.into(),
            date: "20130524".into(),
            region: "us-east-1".into(),
            service: "s3".into()
        }
    );
    assert!(credential_scope(&parts("GET", "/", &[])).is_none());
    assert!(credential_scope(&parts("GET", "/?X-Amz-Credential=junk", &[])).is_none());
    assert!(credential_scope(&parts("GET", "/", &[("authorization", "Bearer x")])).is_none());
}
