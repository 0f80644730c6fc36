"""Tenant isolation: the second account (from the config file) and the default one share a server
but not buckets."""

import pytest

from awsutil import aws_error, unique_name

ACCESS_DENIED = "Access Denied"


@pytest.fixture
def other_s3(hearth):
    return hearth.client("s3", account="other")


def test_list_buckets_shows_only_own(s3, other_s3, bucket):
    theirs = unique_name()
    other_s3.create_bucket(Bucket=theirs)
    mine = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    others = [b["Name"] for b in other_s3.list_buckets()["Buckets"]]
    assert bucket in mine and theirs not in mine
    assert theirs in others and bucket not in others
    assert s3.list_buckets()["Owner"]["ID"] != other_s3.list_buckets()["Owner"]["ID"]


def test_other_account_cannot_touch_objects(s3, other_s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"mine")
    with aws_error("AccessDenied", 403, ACCESS_DENIED):
        other_s3.get_object(Bucket=bucket, Key="private")
    with aws_error("403", 403):
        other_s3.head_object(Bucket=bucket, Key="private")
    with aws_error("AccessDenied", 403, ACCESS_DENIED):
        other_s3.put_object(Bucket=bucket, Key="private", Body=b"overwritten")
    with aws_error("AccessDenied", 403, ACCESS_DENIED):
        other_s3.delete_object(Bucket=bucket, Key="private")
    with aws_error("AccessDenied", 403, ACCESS_DENIED):
        other_s3.list_objects_v2(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="private")["Body"].read() == b"mine"


def test_other_account_cannot_manage_bucket(s3, other_s3, bucket):
    with aws_error("403", 403):
        other_s3.head_bucket(Bucket=bucket)
    with aws_error("AccessDenied", 403, ACCESS_DENIED):
        other_s3.delete_bucket(Bucket=bucket)
    with aws_error("AccessDenied", 403, ACCESS_DENIED):
        other_s3.create_multipart_upload(Bucket=bucket, Key="k")
    s3.head_bucket(Bucket=bucket)


def test_other_account_cannot_take_the_name(other_s3, bucket):
    with aws_error("BucketAlreadyExists", 409):
        other_s3.create_bucket(Bucket=bucket)


def test_copy_into_own_bucket_from_foreign_bucket_is_denied(s3, other_s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"mine")
    theirs = unique_name()
    other_s3.create_bucket(Bucket=theirs)
    with aws_error("AccessDenied", 403, ACCESS_DENIED):
        other_s3.copy_object(
            Bucket=theirs, Key="stolen", CopySource={"Bucket": bucket, "Key": "private"}
        )
    with aws_error("NoSuchKey", 404):
        other_s3.get_object(Bucket=theirs, Key="stolen")
