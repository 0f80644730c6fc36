"""Helpers shared by the compatibility tests: accounts, error assertions, ETags, raw signed requests.

Kept free of fixtures so test modules can import it directly (`import awsutil`); conftest.py
registers it for pytest's assertion rewriting.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime
import hashlib
import unittest.mock
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

Creds = collections.namedtuple("Creds", "access_key_id secret_access_key")

#: The second tenant, added through the config file (`[[accounts]]` in hearth.toml).
OTHER_ACCOUNT_ID = "111111111111"
OTHER_CREDS = Creds("AKIAOTHER00000000001", "othersecretothersecretothersecret0000000")

MiB = 1024 * 1024


def unique_name(prefix: str = "t") -> str:
    """A bucket name no other test uses (valid S3 bucket name, 18 characters)."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


# -- errors ------------------------------------------------------------------------------------


@contextlib.contextmanager
def aws_error(code: str, status: int | None = None, message: str | None = None):
    """Assert that the block raises a botocore ClientError with this AWS error code.

    `status` is the HTTP status; `message`, when given, must be contained in the error message.
    Yields pytest's ExceptionInfo so the caller can look further into the response.
    """
    with pytest.raises(ClientError) as info:
        yield info
    response = info.value.response
    error = response.get("Error", {})
    got_status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    assert error.get("Code") == code, f"expected {code} ({status}), got {error} status {got_status}"
    if status is not None:
        assert got_status == status, f"{code}: expected HTTP {status}, got {got_status}"
    if message is not None:
        assert message in error.get("Message", ""), f"{code}: message {error.get('Message')!r}"


def xml_error(response: requests.Response) -> tuple[str | None, str | None]:
    """(Code, Message) of an AWS XML error body (S3 `<Error>` or query `<ErrorResponse>`)."""
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        return None, None

    def find(tag: str) -> str | None:
        for el in root.iter():
            if el.tag.rsplit("}", 1)[-1] == tag:
                return el.text
        return None

    return find("Code"), find("Message")


def wire_error(response: requests.Response) -> tuple[str | None, str | None]:
    """(Code, Message) of an AWS error in any wire protocol: XML (S3, query) or JSON
    (`__type` / `x-amzn-ErrorType`, namespace prefix removed)."""
    try:
        body = response.json()
    except ValueError:
        return xml_error(response)
    if not isinstance(body, dict):
        return None, None
    code = body.get("__type") or body.get("code") or response.headers.get("x-amzn-ErrorType")
    if code:
        code = code.split(":", 1)[0].rsplit("#", 1)[-1]
    return code, body.get("message") or body.get("Message")


# -- checksums ---------------------------------------------------------------------------------


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def etag_of(data: bytes) -> str:
    """The ETag S3 gives a single-part object: the quoted hex MD5 of its bytes."""
    return f'"{md5_hex(data)}"'


def multipart_etag(parts: list[bytes]) -> str:
    """The ETag S3 gives a completed multipart upload: MD5 of the parts' binary MD5s, "-N"."""
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MiB), b""):
            h.update(chunk)
    return h.hexdigest()


# -- raw signed requests -----------------------------------------------------------------------


def signed_request(
    method: str,
    url: str,
    *,
    service: str,
    creds: Creds,
    region: str = "us-east-1",
    body: bytes | dict | None = None,
    headers: dict[str, str] | None = None,
    when: datetime.datetime | None = None,
) -> requests.Response:
    """Send one request signed with SigV4 the way botocore signs it (S3 flavour for "s3").

    `when` (naive UTC) signs as if the clock read that time, for clock-skew tests. `body` may be
    a dict for form-encoded query-protocol calls.
    """
    headers = dict(headers or {})
    if isinstance(body, dict):
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    signer_cls = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = signer_cls(Credentials(creds.access_key_id, creds.secret_access_key), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        with unittest.mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    prepared = request.prepare()
    return requests.request(
        prepared.method, prepared.url, headers=dict(prepared.headers), data=prepared.body,
        timeout=60, allow_redirects=False,
    )
