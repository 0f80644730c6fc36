"""Durability: what a call acknowledged survives `kill -9` and a restart on the same data dir."""

import os
import subprocess

from awsutil import MiB, aws_error, etag_of, multipart_etag, unique_name
from harness import hearth_bin, parse_exports


def test_put_survives_kill9(own_hearth):
    s3 = own_hearth.client("s3")
    bucket = unique_name()
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(3 * MiB + 17)
    put = s3.put_object(
        Bucket=bucket, Key="durable.bin", Body=data, ContentType="application/x-durable",
        Metadata={"kept": "yes"},
    )
    own_hearth.kill9()  # right after the acknowledgement
    own_hearth.start()

    s3 = own_hearth.client("s3")
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    got = s3.get_object(Bucket=bucket, Key="durable.bin")
    assert got["Body"].read() == data
    assert got["ETag"] == put["ETag"] == etag_of(data)
    assert got["ContentType"] == "application/x-durable"
    assert got["Metadata"] == {"kept": "yes"}


def test_delete_survives_kill9(own_hearth):
    s3 = own_hearth.client("s3")
    bucket = unique_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="doomed", Body=b"x")
    s3.put_object(Bucket=bucket, Key="kept", Body=b"y")
    s3.delete_object(Bucket=bucket, Key="doomed")
    own_hearth.kill9()
    own_hearth.start()
    s3 = own_hearth.client("s3")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["kept"]
    with aws_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="doomed")


def test_completed_multipart_survives_kill9(own_hearth):
    s3 = own_hearth.client("s3")
    bucket = unique_name()
    s3.create_bucket(Bucket=bucket)
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(999)]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        etag = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=number, Body=data
        )["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
    completed = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    own_hearth.kill9()
    own_hearth.start()

    got = own_hearth.client("s3").get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == completed["ETag"] == multipart_etag(parts)


def test_in_progress_multipart_survives_kill9(own_hearth):
    s3 = own_hearth.client("s3")
    bucket = unique_name()
    s3.create_bucket(Bucket=bucket)
    first = os.urandom(5 * MiB)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="resume")["UploadId"]
    etag1 = s3.upload_part(
        Bucket=bucket, Key="resume", UploadId=upload_id, PartNumber=1, Body=first
    )["ETag"]
    own_hearth.kill9()
    own_hearth.start()

    s3 = own_hearth.client("s3")
    parts = s3.list_parts(Bucket=bucket, Key="resume", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, etag1, len(first))]
    etag2 = s3.upload_part(
        Bucket=bucket, Key="resume", UploadId=upload_id, PartNumber=2, Body=b"tail"
    )["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="resume", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag1}, {"PartNumber": 2, "ETag": etag2}]},
    )
    assert s3.get_object(Bucket=bucket, Key="resume")["Body"].read() == first + b"tail"


def test_credentials_stable_across_restarts(own_hearth):
    first = dict(own_hearth.exports)
    assert first["AWS_ACCESS_KEY_ID"] and first["AWS_SECRET_ACCESS_KEY"]

    own_hearth.restart()
    own_hearth.kill9()
    own_hearth.start()

    printed = subprocess.run(
        [str(hearth_bin()), "credentials", "--data-dir", str(own_hearth.data_dir)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    exports = parse_exports(printed)
    assert exports["AWS_ACCESS_KEY_ID"] == first["AWS_ACCESS_KEY_ID"]
    assert exports["AWS_SECRET_ACCESS_KEY"] == first["AWS_SECRET_ACCESS_KEY"]
    assert exports["AWS_DEFAULT_REGION"] == "us-east-1"

    # The original key still signs, and so does the configured second account.
    assert own_hearth.client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert own_hearth.client("sts", account="other").get_caller_identity()["Account"]
