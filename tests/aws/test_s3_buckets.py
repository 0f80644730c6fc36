"""S3 buckets as a boto3 user sees them: create, head, list, delete, names, regions, addressing."""

import socket

import pytest

from awsutil import aws_error, unique_name

NO_SUCH_BUCKET = "The specified bucket does not exist"
ALREADY_EXISTS = (
    "The requested bucket name is not available. The bucket namespace is shared by all users "
    "of the system. Please select a different name and try again."
)
OWNED_BY_YOU = "Your previous request to create the named bucket succeeded and you already own it."


def test_create_head_list_delete(s3):
    name = unique_name()
    created = s3.create_bucket(Bucket=name)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert created["Location"] == f"/{name}"

    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["BucketRegion"] == "us-east-1"

    listed = s3.list_buckets()
    mine = [b for b in listed["Buckets"] if b["Name"] == name]
    assert len(mine) == 1
    assert mine[0]["CreationDate"] is not None
    assert listed["Owner"]["ID"]

    deleted = s3.delete_bucket(Bucket=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_head_missing_bucket_is_404(s3):
    with aws_error("404", 404):
        s3.head_bucket(Bucket=unique_name("missing"))


def test_delete_missing_bucket(s3):
    with aws_error("NoSuchBucket", 404, NO_SUCH_BUCKET):
        s3.delete_bucket(Bucket=unique_name("missing"))


def test_delete_non_empty_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with aws_error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty"):
        s3.delete_bucket(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_bucket_with_location_constraint(hearth):
    eu = hearth.client("s3", region="eu-west-1")
    name = unique_name()
    eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert eu.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert eu.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
    # ListBuckets lists the buckets of every region.
    assert name in [b["Name"] for b in hearth.client("s3").list_buckets()["Buckets"]]


def test_us_east_1_bucket_has_null_location(s3, bucket):
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None


@pytest.mark.parametrize(
    "name",
    [
        "ab",  # shorter than 3
        "a" * 64,  # longer than 63
        "UPPERCASE-bucket",
        "under_score",
        "-leading-dash",
        "trailing-dash-",
        "double..dot",
        "192.168.5.4",  # formatted as an IP address
        "xn--prefixed",  # reserved prefix
        "sthree-prefixed",  # reserved prefix
        "suffixed-s3alias",  # reserved suffix
        "suffixed--ol-s3",  # reserved suffix
    ],
)
def test_invalid_bucket_name(s3, name):
    with aws_error("InvalidBucketName", 400, "The specified bucket is not valid."):
        s3.create_bucket(Bucket=name)


def test_recreate_own_bucket_in_us_east_1_succeeds(s3, bucket):
    # AWS: "For legacy compatibility, if you re-create an existing bucket that you already own in
    # the North Virginia Region, Amazon S3 returns 200 OK and resets the bucket ACLs."
    s3.put_object(Bucket=bucket, Key="kept", Body=b"still here")
    again = s3.create_bucket(Bucket=bucket)
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"still here"


def test_recreate_own_bucket_in_other_region_is_owned_by_you(hearth):
    # AWS: BucketAlreadyOwnedByYou "in all Amazon Web Services Regions except" us-east-1.
    eu = hearth.client("s3", region="eu-west-1")
    name = unique_name()
    config = {"LocationConstraint": "eu-west-1"}
    eu.create_bucket(Bucket=name, CreateBucketConfiguration=config)
    with aws_error("BucketAlreadyOwnedByYou", 409, OWNED_BY_YOU):
        eu.create_bucket(Bucket=name, CreateBucketConfiguration=config)


def test_bucket_name_taken_by_other_account(hearth, bucket):
    other = hearth.client("s3", account="other")
    with aws_error("BucketAlreadyExists", 409, ALREADY_EXISTS):
        other.create_bucket(Bucket=bucket)


@pytest.fixture
def localhost_subdomains_resolve(monkeypatch):
    """Resolve `*.localhost` to 127.0.0.1 in this process.

    glibc without nss-myhostname doesn't resolve `bucket.localhost` (systemd-resolved does);
    patching the resolver keeps boto3's request exactly as it sends it, Host header included.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_virtual_host_addressing(hearth, localhost_subdomains_resolve):
    virtual = hearth.client(
        "s3", addressing_style="virtual", endpoint_url=f"http://localhost:{hearth.port}"
    )
    name = unique_name()
    seen_hosts = []
    virtual.meta.events.register(
        "before-send.s3", lambda request, **_: seen_hosts.append(request.url)
    )

    virtual.create_bucket(Bucket=name)
    virtual.put_object(Bucket=name, Key="dir/virtual.txt", Body=b"via virtual host")
    assert virtual.get_object(Bucket=name, Key="dir/virtual.txt")["Body"].read() == (
        b"via virtual host"
    )
    keys = [o["Key"] for o in virtual.list_objects_v2(Bucket=name)["Contents"]]
    assert keys == ["dir/virtual.txt"]
    assert all(url.startswith(f"http://{name}.localhost:{hearth.port}/") for url in seen_hosts)

    # The same bucket through path-style addressing.
    path = hearth.client("s3")
    assert path.get_object(Bucket=name, Key="dir/virtual.txt")["Body"].read() == (
        b"via virtual host"
    )
    virtual.delete_object(Bucket=name, Key="dir/virtual.txt")
    virtual.delete_bucket(Bucket=name)
    with aws_error("404", 404):
        path.head_bucket(Bucket=name)
