"""S3 objects as a boto3 user sees them: put/get/head, metadata, ranges, conditions, digests,
delete, batch delete, copy, odd keys."""

import datetime
import os
import pathlib
import uuid

import pytest
from botocore.exceptions import ClientError

from awsutil import aws_error, etag_of, md5_b64, unique_name

NO_SUCH_KEY = "The specified key does not exist."
NO_SUCH_BUCKET = "The specified bucket does not exist"
PRECONDITION = "At least one of the pre-conditions you specified did not hold"


def test_put_get_head_round_trip(s3, bucket):
    data = os.urandom(1000)
    put = s3.put_object(Bucket=bucket, Key="obj.bin", Body=data)
    assert put["ETag"] == etag_of(data)

    got = s3.get_object(Bucket=bucket, Key="obj.bin")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    assert got["ETag"] == etag_of(data)
    assert got["ContentType"] == "binary/octet-stream"  # S3's default when none was sent
    assert got["AcceptRanges"] == "bytes"
    assert isinstance(got["LastModified"], datetime.datetime)

    head = s3.head_object(Bucket=bucket, Key="obj.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == etag_of(data)
    assert head["LastModified"] == got["LastModified"]


def test_empty_object(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0
    assert got["Body"].read() == b""


def test_overwrite_replaces_content_and_metadata(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"v": "1"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"second!")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second!"
    assert got["ETag"] == etag_of(b"second!")
    assert got["Metadata"] == {}


def test_user_metadata_and_standard_headers(s3, bucket):
    s3.put_object(
        Bucket=bucket,
        Key="doc.txt",
        Body=b"hello",
        ContentType="text/plain; charset=utf-8",
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="doc.txt"',
        ContentLanguage="en",
        Metadata={"a": "b", "Mixed-Case": "Value with spaces"},
    )
    for resp in (
        s3.get_object(Bucket=bucket, Key="doc.txt"),
        s3.head_object(Bucket=bucket, Key="doc.txt"),
    ):
        # S3 stores user-metadata names lower-cased.
        assert resp["Metadata"] == {"a": "b", "mixed-case": "Value with spaces"}
        assert resp["ContentType"] == "text/plain; charset=utf-8"
        assert resp["CacheControl"] == "max-age=60"
        assert resp["ContentDisposition"] == 'attachment; filename="doc.txt"'
        assert resp["ContentLanguage"] == "en"


RANGE_DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.mark.parametrize(
    "spec,start,end",
    [
        ("bytes=0-9", 0, 9),
        ("bytes=-10", 1014, 1023),
        ("bytes=100-", 100, 1023),
        ("bytes=1000-5000", 1000, 1023),  # end past the size is clamped
        ("bytes=5-5", 5, 5),
    ],
)
def test_range_get(s3, bucket, spec, start, end):
    s3.put_object(Bucket=bucket, Key="r", Body=RANGE_DATA)
    got = s3.get_object(Bucket=bucket, Key="r", Range=spec)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {start}-{end}/{len(RANGE_DATA)}"
    assert got["ContentLength"] == end - start + 1
    assert got["Body"].read() == RANGE_DATA[start : end + 1]
    assert got["ETag"] == etag_of(RANGE_DATA)


def test_unsatisfiable_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=RANGE_DATA)
    with aws_error("InvalidRange", 416, "The requested range is not satisfiable"):
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=2000-3000")


def test_malformed_range_is_ignored(s3, bucket):
    # RFC 9110: a Range header that doesn't parse is ignored; S3 answers 200 with the whole object.
    s3.put_object(Bucket=bucket, Key="r", Body=RANGE_DATA)
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=abc")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == RANGE_DATA


def test_conditional_get_and_head(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")
    etag = put["ETag"]
    last_modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]

    with aws_error("304", 304):
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    with aws_error("304", 304):
        s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    with aws_error("PreconditionFailed", 412, PRECONDITION):
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    with aws_error("412", 412):
        s3.head_object(Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')

    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional"
    other = '"0123456789abcdef0123456789abcdef"'
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=other)["Body"].read() == (
        b"conditional"
    )

    later = last_modified + datetime.timedelta(hours=1)
    earlier = last_modified - datetime.timedelta(days=1)
    with aws_error("304", 304):
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=later)
    with aws_error("PreconditionFailed", 412):
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=earlier)
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=earlier)["ETag"] == etag


def test_content_md5(s3, bucket):
    data = b"checked payload"
    put = s3.put_object(Bucket=bucket, Key="m", Body=data, ContentMD5=md5_b64(data))
    assert put["ETag"] == etag_of(data)

    with aws_error(
        "BadDigest", 400, "The Content-MD5 you specified did not match what we received."
    ):
        s3.put_object(Bucket=bucket, Key="bad", Body=data, ContentMD5=md5_b64(b"something else"))
    with aws_error("InvalidDigest", 400, "The Content-MD5 you specified is not valid."):
        s3.put_object(Bucket=bucket, Key="bad", Body=data, ContentMD5="not-a-valid-md5")
    # A rejected upload stores nothing.
    with aws_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="bad")


def test_missing_key_and_bucket_errors(s3, bucket):
    with aws_error("NoSuchKey", 404, NO_SUCH_KEY) as info:
        s3.get_object(Bucket=bucket, Key="nope")
    assert info.value.response["ResponseMetadata"]["RequestId"]
    with aws_error("404", 404):
        s3.head_object(Bucket=bucket, Key="nope")

    missing = unique_name("missing")
    with aws_error("NoSuchBucket", 404, NO_SUCH_BUCKET):
        s3.get_object(Bucket=missing, Key="k")
    with aws_error("NoSuchBucket", 404, NO_SUCH_BUCKET):
        s3.put_object(Bucket=missing, Key="k", Body=b"x")
    with aws_error("NoSuchBucket", 404, NO_SUCH_BUCKET):
        s3.list_objects_v2(Bucket=missing)


def test_early_error_with_expect_continue_keeps_connection_sane(hearth, s3, bucket):
    """boto3 sends `Expect: 100-continue` with PutObject and skips the body when the answer comes
    first (e.g. NoSuchBucket). The server must not read the next request as that body: it closes
    the connection after such an answer, and the next calls on the same client work."""
    import socket

    sock = socket.create_connection((hearth.host, hearth.port), timeout=10)
    sock.sendall(
        f"PUT /{unique_name('missing')}/k HTTP/1.1\r\nHost: {hearth.host}:{hearth.port}\r\n"
        "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "connection closed before an answer"
        head += chunk
    sock.close()
    status_line, *headers = head.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert status_line.split()[1] == "403"
    assert "connection: close" in [h.lower() for h in headers]

    for _ in range(3):
        with aws_error("NoSuchBucket", 404, NO_SUCH_BUCKET):
            s3.put_object(Bucket=unique_name("missing"), Key="k", Body=b"some bytes")
        s3.put_object(Bucket=bucket, Key="after-early-error", Body=b"")
        assert s3.get_object(Bucket=bucket, Key="after-early-error")["ContentLength"] == 0


def test_empty_put_then_more_puts_on_one_connection(s3, bucket):
    # An empty body gets no `100 Continue` (nothing to send); the next request on the client's
    # connection must still be read and answered normally.
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    s3.put_object(Bucket=bucket, Key="small", Body=b"a" * 44)
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == b"a" * 44
    assert s3.head_object(Bucket=bucket, Key="empty")["ContentLength"] == 0


def test_delete_object_is_idempotent(s3, bucket):
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    first = s3.delete_object(Bucket=bucket, Key="gone")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 204
    with aws_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="gone")
    again = s3.delete_object(Bucket=bucket, Key="gone")
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 204
    never = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert never["ResponseMetadata"]["HTTPStatusCode"] == 204
    with aws_error("NoSuchBucket", 404):
        s3.delete_object(Bucket=unique_name("missing"), Key="k")


def test_delete_objects_verbose(s3, bucket):
    present = ["d/1", "d/2", "d/3"]
    for key in present:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3.put_object(Bucket=bucket, Key="keep", Body=b"k")
    keys = present + ["d/missing"]
    resp = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": False}
    )
    # S3 reports keys that didn't exist as deleted too.
    assert sorted(d["Key"] for d in resp["Deleted"]) == sorted(keys)
    assert not resp.get("Errors")
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == ["keep"]


def test_delete_objects_quiet(s3, bucket):
    for key in ["q/1", "q/2"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    resp = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "q/1"}, {"Key": "q/2"}, {"Key": "q/none"}], "Quiet": True},
    )
    assert not resp.get("Deleted")
    assert not resp.get("Errors")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_copy_object_metadata_directives(s3, bucket):
    data = b"copy me" * 100
    s3.put_object(
        Bucket=bucket, Key="src", Body=data, ContentType="text/plain", Metadata={"origin": "src"}
    )

    copied = s3.copy_object(Bucket=bucket, Key="dst-copy", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == etag_of(data)
    got = s3.get_object(Bucket=bucket, Key="dst-copy")
    assert got["Body"].read() == data
    assert got["Metadata"] == {"origin": "src"}
    assert got["ContentType"] == "text/plain"

    s3.copy_object(
        Bucket=bucket,
        Key="dst-replace",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        Metadata={"new": "meta"},
        ContentType="application/json",
    )
    got = s3.get_object(Bucket=bucket, Key="dst-replace")
    assert got["Body"].read() == data
    assert got["Metadata"] == {"new": "meta"}
    assert got["ContentType"] == "application/json"


def test_copy_object_to_other_bucket_with_odd_key(s3, bucket):
    target = unique_name()
    s3.create_bucket(Bucket=target)
    key = "dir/with space+plus/ünïcødé %41.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"across buckets")
    s3.copy_object(Bucket=target, Key="copied", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=target, Key="copied")["Body"].read() == b"across buckets"
    # The source is untouched.
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"across buckets"


def test_copy_object_onto_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"x", Metadata={"v": "1"})
    with aws_error(
        "InvalidRequest",
        400,
        "This copy request is illegal because it is trying to copy an object to itself without "
        "changing the object's metadata, storage class, website redirect location or encryption "
        "attributes.",
    ):
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    # Replacing the metadata in place is allowed.
    s3.copy_object(
        Bucket=bucket,
        Key="self",
        CopySource={"Bucket": bucket, "Key": "self"},
        MetadataDirective="REPLACE",
        Metadata={"v": "2"},
    )
    assert s3.head_object(Bucket=bucket, Key="self")["Metadata"] == {"v": "2"}


def test_copy_missing_source(s3, bucket):
    with aws_error("NoSuchKey", 404):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "absent"})


ODD_KEYS = [
    "with space.txt",
    "plus+sign",
    "percent%20literal%",
    "unicode/ключ/日本語.txt",
    "xml&special<chars>\"quote'apos",
    "symbols~!*()$@=;:,?#[]",
    "trailing/",
    "double//slash",
    "/leading-slash",
    "tab\tinside",
    "emoji-😀",
]


@pytest.mark.parametrize("key", ODD_KEYS)
def test_odd_keys_round_trip(s3, bucket, key):
    body = key.encode("utf-8")
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_dot_segment_keys_stay_inside_the_data_dir(hearth, s3, bucket):
    """Keys with `.`/`..` segments are either stored as literal keys or refused with 400, never
    normalised into another key and never written outside the server's data directory."""
    marker = f"escape-{uuid.uuid4().hex}"
    keys = [
        "a/../b",
        "./c",
        "a/./d",
        "..",
        f"../../../../../{marker}",
        f"x/../../../../../../{marker}-2",
        f"..%2F..%2F{marker}-3",
    ]
    stored = {}
    for key in keys:
        body = f"body of {key}".encode()
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        except ClientError as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, (key, e.response)
            continue
        stored[key] = body
    for key, body in stored.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key

    # No aliasing: the normalised forms are different, absent keys.
    for alias in ["b", "c", "a/d", marker]:
        with aws_error("NoSuchKey", 404):
            s3.get_object(Bucket=bucket, Key=alias)
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert listed == set(stored)

    # Nothing landed outside the data directory.
    data_dir = hearth.data_dir.resolve()
    for ancestor in data_dir.parents:
        try:
            names = os.listdir(ancestor)
        except OSError:
            continue
        assert not [n for n in names if marker in n], f"object escaped into {ancestor}"
    for root, dirs, files in os.walk(hearth.base_dir):
        if pathlib.Path(root).resolve() == data_dir:
            dirs[:] = []
            continue
        assert not [n for n in dirs + files if marker in n], f"object escaped into {root}"
