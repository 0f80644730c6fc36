"""Signature V4 rejections, per wire protocol, with the codes each AWS protocol answers.

Every protocol Hearth speaks is one row of PROTOCOLS: a cheap authenticated call, the same call
sent raw (unsigned, or with a garbage Authorization header), and the error codes and HTTP status
AWS returns for a bad signature, an unknown key, a missing signature and a skewed clock. The same
tests run for every row, so another protocol or service is covered by adding its row.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Callable

import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from awsutil import Creds, aws_error, signed_request, wire_error, xml_error

STS_FORM = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
GARBAGE_AUTH = {"Authorization": "AWS4-HMAC-SHA256 garbage", "x-amz-date": "20250101T000000Z"}
SAGEMAKER_JSON = {"X-Amz-Target": "SageMaker.ListModels", "Content-Type": "application/x-amz-json-1.1"}


@dataclasses.dataclass(frozen=True)
class Protocol:
    """How one AWS wire protocol rejects bad authentication."""

    name: str
    service: str
    #: A cheap call that needs a valid signature: (boto3 client) -> response.
    call: Callable
    #: The same call sent raw with these extra headers: (Hearth, headers) -> requests.Response.
    raw: Callable
    bad_signature: str
    unknown_key: str
    unsigned: str
    clock_skew: str
    #: Message fragments for a request signed 20 minutes in the past and in the future.
    clock_skew_past: str
    clock_skew_future: str
    malformed: str
    #: HTTP status of the authentication failures (bad signature, unknown key, unsigned, skew).
    status: int = 403


PROTOCOLS = [
    Protocol(
        name="rest-xml",
        service="s3",
        call=lambda c: c.list_buckets(),
        raw=lambda h, headers: requests.get(f"{h.endpoint}/", headers=headers, timeout=30),
        bad_signature="SignatureDoesNotMatch",
        unknown_key="InvalidAccessKeyId",
        unsigned="AccessDenied",
        clock_skew="RequestTimeTooSkewed",
        clock_skew_past="The difference between the request time and the current time is too large.",
        clock_skew_future="The difference between the request time and the current time is too large.",
        malformed="AuthorizationHeaderMalformed",
    ),
    Protocol(
        name="query",
        service="sts",
        call=lambda c: c.get_caller_identity(),
        raw=lambda h, headers: requests.post(
            f"{h.endpoint}/", data=STS_FORM, headers=headers, timeout=30
        ),
        bad_signature="SignatureDoesNotMatch",
        unknown_key="InvalidClientTokenId",
        unsigned="MissingAuthenticationToken",
        clock_skew="SignatureDoesNotMatch",
        clock_skew_past="Signature expired",
        clock_skew_future="Signature not yet current",
        malformed="IncompleteSignature",
    ),
    Protocol(
        # The coral awsJson services (SageMaker, Fraud Detector, Transcribe...) answer 400.
        name="json",
        service="sagemaker",
        call=lambda c: c.list_models(),
        raw=lambda h, headers: requests.post(
            f"{h.endpoint}/", data=b"{}", headers={**SAGEMAKER_JSON, **headers}, timeout=30
        ),
        bad_signature="InvalidSignatureException",
        unknown_key="UnrecognizedClientException",
        unsigned="MissingAuthenticationTokenException",
        clock_skew="InvalidSignatureException",
        clock_skew_past="Signature expired",
        clock_skew_future="Signature not yet current",
        malformed="IncompleteSignatureException",
        status=400,
    ),
]

by_protocol = pytest.mark.parametrize("proto", PROTOCOLS, ids=lambda p: f"{p.name}-{p.service}")


@by_protocol
def test_valid_signature_is_accepted(hearth, proto):
    resp = proto.call(hearth.client(proto.service))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200


@by_protocol
def test_wrong_secret(hearth, proto):
    creds = Creds(hearth.creds.access_key_id, "wrongsecretwrongsecretwrongsecret0000000")
    with aws_error(proto.bad_signature, proto.status):
        proto.call(hearth.client(proto.service, creds=creds))


@by_protocol
def test_unknown_access_key(hearth, proto):
    creds = Creds("AKIAUNKNOWN000000000", "whateverwhateverwhateverwhatever00000000")
    with aws_error(proto.unknown_key, proto.status):
        proto.call(hearth.client(proto.service, creds=creds))


@by_protocol
def test_unsigned_request(hearth, proto):
    with aws_error(proto.unsigned, proto.status):
        proto.call(hearth.client(proto.service, signature_version=UNSIGNED))


@by_protocol
def test_raw_request_without_authorization(hearth, proto):
    resp = proto.raw(hearth, {})
    assert resp.status_code == proto.status, resp.text
    assert wire_error(resp)[0] == proto.unsigned


@by_protocol
@pytest.mark.parametrize("minutes", [-20, 20])
def test_clock_skew(hearth, proto, monkeypatch, minutes):
    skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(
        minutes=minutes
    )
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *a, **k: skewed)
    message = proto.clock_skew_past if minutes < 0 else proto.clock_skew_future
    with aws_error(proto.clock_skew, proto.status, message):
        proto.call(hearth.client(proto.service))


@by_protocol
def test_malformed_authorization_header(hearth, proto):
    resp = proto.raw(hearth, GARBAGE_AUTH)
    assert resp.status_code == 400, resp.text
    assert wire_error(resp)[0] == proto.malformed


def test_raw_signed_query_request(hearth):
    """A hand-signed form POST is accepted (what non-boto3 SDKs send)."""
    resp = signed_request(
        "POST", f"{hearth.endpoint}/", service="sts", creds=hearth.creds, body=STS_FORM
    )
    assert resp.status_code == 200, resp.text
    assert b"<GetCallerIdentityResult>" in resp.content


def _signed_s3_put(hearth, url, body, headers):
    request = AWSRequest(method="PUT", url=url, data=body, headers=headers)
    signer = S3SigV4Auth(
        Credentials(hearth.creds.access_key_id, hearth.creds.secret_access_key), "s3", "us-east-1"
    )
    signer.add_auth(request)
    return request.prepare()


def test_s3_payload_not_matching_signed_hash(hearth, s3, bucket):
    url = f"{hearth.endpoint}/{bucket}/tampered"
    prepared = _signed_s3_put(hearth, url, b"signed body", {})
    resp = requests.put(url, data=b"other body!", headers=dict(prepared.headers), timeout=30)
    assert resp.status_code == 400, resp.text
    assert xml_error(resp)[0] == "XAmzContentSHA256Mismatch"
    with aws_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="tampered")


def test_s3_signed_header_changed_after_signing(hearth, s3, bucket):
    url = f"{hearth.endpoint}/{bucket}/meta"
    prepared = _signed_s3_put(hearth, url, b"body", {"x-amz-meta-owner": "alice"})
    headers = dict(prepared.headers)
    headers["x-amz-meta-owner"] = "mallory"
    resp = requests.put(url, data=b"body", headers=headers, timeout=30)
    assert resp.status_code == 403, resp.text
    assert xml_error(resp)[0] == "SignatureDoesNotMatch"
    with aws_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="meta")
