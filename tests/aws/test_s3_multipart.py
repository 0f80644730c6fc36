"""Multipart uploads: the low-level calls, their errors, and boto3's managed transfers."""

import os

import pytest
from boto3.s3.transfer import TransferConfig

from awsutil import MiB, aws_error, etag_of, multipart_etag, sha256_file

NO_SUCH_UPLOAD = (
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have "
    "been aborted or completed."
)


def upload_parts(s3, bucket, key, upload_id, parts):
    done = []
    for number, data in enumerate(parts, start=1):
        resp = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        assert resp["ETag"] == etag_of(data)
        done.append({"PartNumber": number, "ETag": resp["ETag"]})
    return done


def test_three_part_upload(s3, bucket):
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1234)]
    created = s3.create_multipart_upload(
        Bucket=bucket, Key="big.bin", ContentType="application/x-test", Metadata={"m": "1"}
    )
    upload_id = created["UploadId"]
    assert created["Bucket"] == bucket and created["Key"] == "big.bin"

    done = upload_parts(s3, bucket, "big.bin", upload_id, parts)

    listed = s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
        (i + 1, etag_of(d), len(d)) for i, d in enumerate(parts)
    ]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big.bin", upload_id)]

    completed = s3.complete_multipart_upload(
        Bucket=bucket, Key="big.bin", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    assert completed["ETag"] == multipart_etag(parts)
    assert completed["Key"] == "big.bin"

    got = s3.get_object(Bucket=bucket, Key="big.bin")
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == multipart_etag(parts)
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"m": "1"}
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == sum(map(len, parts))
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")

    # Completed: the upload id is gone.
    with aws_error("NoSuchUpload", 404, NO_SUCH_UPLOAD):
        s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload_id)


def test_reuploading_a_part_replaces_it(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"old")
    new = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"new!")
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 4)]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": new["ETag"]}]},
    )
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"new!"


def test_small_non_last_part_is_entity_too_small(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    done = upload_parts(s3, bucket, "small", upload_id, [os.urandom(MiB), os.urandom(MiB)])
    with aws_error(
        "EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size."
    ):
        s3.complete_multipart_upload(
            Bucket=bucket, Key="small", UploadId=upload_id, MultipartUpload={"Parts": done}
        )
    with aws_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="small")


def test_wrong_etag_is_invalid_part(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    upload_parts(s3, bucket, "k", upload_id, [b"only part"])
    for parts in (
        [{"PartNumber": 1, "ETag": '"0123456789abcdef0123456789abcdef"'}],
        [{"PartNumber": 2, "ETag": etag_of(b"only part")}],  # never uploaded
    ):
        with aws_error("InvalidPart", 400, "One or more of the specified parts could not be found"):
            s3.complete_multipart_upload(
                Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}
            )


def test_parts_out_of_order(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    # Both parts are big enough, so only the order is wrong.
    done = upload_parts(s3, bucket, "k", upload_id, [os.urandom(5 * MiB), os.urandom(5 * MiB)])
    with aws_error("InvalidPartOrder", 400, "The list of parts was not in ascending order"):
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id,
            MultipartUpload={"Parts": list(reversed(done))},
        )


def test_abort(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    upload_parts(s3, bucket, "k", upload_id, [b"part"])
    aborted = s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert aborted["ResponseMetadata"]["HTTPStatusCode"] == 204

    with aws_error("NoSuchUpload", 404, NO_SUCH_UPLOAD):
        s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    with aws_error("NoSuchUpload", 404):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=2, Body=b"x")
    with aws_error("NoSuchUpload", 404):
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag_of(b"part")}]},
        )
    with aws_error("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="k")


def test_unknown_upload_id(s3, bucket):
    with aws_error("NoSuchUpload", 404):
        s3.upload_part(Bucket=bucket, Key="k", UploadId="no-such-upload-id", PartNumber=1, Body=b"x")


def test_part_number_out_of_range(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for number in (0, 10001):
        with aws_error("InvalidArgument", 400, "Part number must be an integer between 1 and 10000"):
            s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"x")


def test_list_multipart_uploads(s3, bucket):
    a = s3.create_multipart_upload(Bucket=bucket, Key="a")["UploadId"]
    b = s3.create_multipart_upload(Bucket=bucket, Key="b")["UploadId"]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert sorted((u["Key"], u["UploadId"]) for u in uploads) == [("a", a), ("b", b)]
    assert all(u["Initiated"] is not None for u in uploads)
    s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=a)
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("b", b)]


@pytest.mark.slow
def test_upload_file_download_file_200mb(s3, bucket, tmp_path):
    """boto3's managed transfer with its defaults (8 MB threshold and chunks, 10 threads)."""
    src = tmp_path / "src.bin"
    with open(src, "wb") as f:
        for _ in range(25):
            f.write(os.urandom(8 * MiB))
    config = TransferConfig()
    s3.upload_file(str(src), bucket, "transfer/200mb.bin", Config=config)

    head = s3.head_object(Bucket=bucket, Key="transfer/200mb.bin")
    assert head["ContentLength"] == 200 * MiB
    assert head["ETag"].endswith('-25"')

    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "transfer/200mb.bin", str(dst), Config=config)
    assert sha256_file(dst) == sha256_file(src)
