"""Object integrity and limits: additional checksums (what botocore sends by default), response
header overrides, metadata and key size limits."""

import base64
import binascii
import hashlib

from awsutil import aws_error


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(binascii.crc32(data).to_bytes(4, "big")).decode()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_default_crc32_checksum_is_echoed_and_stored(s3, bucket):
    # botocore >= 1.36 sends x-amz-checksum-crc32 on every PutObject by default.
    data = b"checksummed by default"
    put = s3.put_object(Bucket=bucket, Key="crc", Body=data)
    assert put["ChecksumCRC32"] == crc32_b64(data)
    got = s3.get_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == crc32_b64(data)
    assert got["Body"].read() == data
    head = s3.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc32_b64(data)


def test_sha256_checksum(s3, bucket):
    data = b"checksummed with sha256"
    put = s3.put_object(Bucket=bucket, Key="sha", Body=data, ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"] == sha256_b64(data)
    got = s3.get_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == sha256_b64(data)


def test_wrong_checksum_is_bad_digest(s3, bucket):
    data = b"the real bytes"
    with aws_error(
        "BadDigest", 400, "The CRC32 you specified did not match the calculated checksum."
    ):
        s3.put_object(Bucket=bucket, Key="bad", Body=data, ChecksumCRC32=crc32_b64(b"other"))
    with aws_error("BadDigest", 400):
        s3.put_object(Bucket=bucket, Key="bad", Body=data, ChecksumSHA256=sha256_b64(b"other"))
    with aws_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="bad")


def test_response_header_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="report", Body=b"a,b\n1,2\n", ContentType="text/plain")
    got = s3.get_object(
        Bucket=bucket,
        Key="report",
        ResponseContentType="text/csv",
        ResponseContentDisposition='attachment; filename="report.csv"',
        ResponseCacheControl="no-cache",
        ResponseContentLanguage="fr",
    )
    assert got["ContentType"] == "text/csv"
    assert got["ContentDisposition"] == 'attachment; filename="report.csv"'
    assert got["CacheControl"] == "no-cache"
    assert got["ContentLanguage"] == "fr"
    # Overrides apply to that response only.
    assert s3.head_object(Bucket=bucket, Key="report")["ContentType"] == "text/plain"


def test_metadata_too_large(s3, bucket):
    # User-defined metadata is limited to 2 KB (names and values, UTF-8).
    with aws_error("MetadataTooLarge", 400):
        s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata={"big": "v" * 2100})
    s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata={"fits": "v" * 1500})


def test_key_too_long(s3, bucket):
    with aws_error("KeyTooLongError", 400, "Your key is too long"):
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    longest = "k" * 1024
    s3.put_object(Bucket=bucket, Key=longest, Body=b"x")
    assert s3.get_object(Bucket=bucket, Key=longest)["Body"].read() == b"x"
