"""Presigned URLs from `generate_presigned_url`, fetched with plain `requests` as a browser would."""

import time
import urllib.parse

import requests

from awsutil import xml_error


def test_presigned_get_sigv4(hearth, bucket):
    s3 = hearth.client("s3", signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="dir/file name+1.txt", Body=b"presigned body")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "dir/file name+1.txt"}, ExpiresIn=300
    )
    assert "X-Amz-Signature=" in url
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"presigned body"


def test_presigned_get_with_boto3_default_signer(s3, bucket):
    # Without signature_version in its Config, boto3 presigns S3 URLs with query-string auth
    # (AWSAccessKeyId / Signature / Expires); unmodified programs send exactly these.
    s3.put_object(Bucket=bucket, Key="default.txt", Body=b"default signer")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "default.txt"}, ExpiresIn=300
    )
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"default signer"


def test_presigned_put_sigv4(hearth, bucket):
    s3 = hearth.client("s3", signature_version="s3v4")
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "uploaded.bin"}, ExpiresIn=300
    )
    resp = requests.put(url, data=b"uploaded through a presigned url", timeout=30)
    assert resp.status_code == 200, resp.text
    got = s3.get_object(Bucket=bucket, Key="uploaded.bin")
    assert got["Body"].read() == b"uploaded through a presigned url"
    assert resp.headers["ETag"] == got["ETag"]


def test_expired_presigned_url(hearth, bucket):
    s3 = hearth.client("s3", signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="short-lived", Body=b"x")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "short-lived"}, ExpiresIn=1
    )
    time.sleep(2.5)
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 403
    code, message = xml_error(resp)
    assert code == "AccessDenied"
    assert message == "Request has expired"


def test_tampered_presigned_signature(hearth, bucket):
    s3 = hearth.client("s3", signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300
    )
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    flip = lambda sig: sig[:-1] + ("1" if sig.endswith("0") else "0")  # noqa: E731
    tampered = [(k, flip(v) if k == "X-Amz-Signature" else v) for k, v in query]
    bad_url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(tampered)))
    assert bad_url != url
    resp = requests.get(bad_url, timeout=30)
    assert resp.status_code == 403
    assert xml_error(resp)[0] == "SignatureDoesNotMatch"


def test_presigned_url_for_other_key_is_rejected(hearth, bucket):
    # The signature covers the path: reusing it for another key must fail.
    s3 = hearth.client("s3", signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="allowed", Body=b"a")
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "allowed"}, ExpiresIn=300
    )
    resp = requests.get(url.replace("/allowed?", "/secret?"), timeout=30)
    assert resp.status_code == 403
    assert xml_error(resp)[0] == "SignatureDoesNotMatch"
