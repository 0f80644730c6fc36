"""Listing objects: ListObjectsV2 paging, prefixes, delimiters, StartAfter, ordering; ListObjects v1."""

import pytest

from awsutil import aws_error, etag_of, unique_name


def fill(s3, bucket, keys):
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode("utf-8"))


def test_paging_with_continuation_token(s3, bucket):
    keys = [f"key-{i:02d}" for i in range(25)]
    fill(s3, bucket, reversed(keys))

    page1 = s3.list_objects_v2(Bucket=bucket, MaxKeys=10)
    assert page1["KeyCount"] == 10
    assert page1["MaxKeys"] == 10
    assert page1["IsTruncated"] is True
    assert [o["Key"] for o in page1["Contents"]] == keys[:10]
    token1 = page1["NextContinuationToken"]

    page2 = s3.list_objects_v2(Bucket=bucket, MaxKeys=10, ContinuationToken=token1)
    assert page2["ContinuationToken"] == token1
    assert page2["KeyCount"] == 10
    assert page2["IsTruncated"] is True
    assert [o["Key"] for o in page2["Contents"]] == keys[10:20]

    page3 = s3.list_objects_v2(
        Bucket=bucket, MaxKeys=10, ContinuationToken=page2["NextContinuationToken"]
    )
    assert page3["KeyCount"] == 5
    assert page3["IsTruncated"] is False
    assert "NextContinuationToken" not in page3
    assert [o["Key"] for o in page3["Contents"]] == keys[20:]


def test_paginator_and_entry_fields(s3, bucket):
    keys = [f"p/{i:03d}" for i in range(25)]
    fill(s3, bucket, keys)
    pages = list(
        s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 10}
        )
    )
    assert [p["KeyCount"] for p in pages] == [10, 10, 5]
    entries = [o for p in pages for o in p["Contents"]]
    assert [o["Key"] for o in entries] == keys
    for o in entries:
        assert o["Size"] == len(o["Key"])
        assert o["ETag"] == etag_of(o["Key"].encode())
        assert o["StorageClass"] == "STANDARD"
        assert o["LastModified"] is not None


def test_start_after(s3, bucket):
    keys = [f"k{i:02d}" for i in range(25)]
    fill(s3, bucket, keys)
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="k09")
    assert resp["StartAfter"] == "k09"
    assert [o["Key"] for o in resp["Contents"]] == keys[10:]
    # StartAfter need not be an existing key.
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="k095", MaxKeys=3)
    assert [o["Key"] for o in resp["Contents"]] == ["k10", "k11", "k12"]


TREE = [
    "photos/2006/jan/a.jpg",
    "photos/2006/feb/b.jpg",
    "photos/2007/c.jpg",
    "photos/d.jpg",
    "videos/e.mp4",
    "readme.txt",
]


def test_delimiter_common_prefixes(s3, bucket):
    fill(s3, bucket, TREE)

    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["photos/", "videos/"]
    assert [o["Key"] for o in top["Contents"]] == ["readme.txt"]
    assert top["KeyCount"] == 3  # keys plus common prefixes
    assert top["Delimiter"] == "/"

    photos = s3.list_objects_v2(Bucket=bucket, Prefix="photos/", Delimiter="/")
    assert photos["Prefix"] == "photos/"
    assert [p["Prefix"] for p in photos["CommonPrefixes"]] == ["photos/2006/", "photos/2007/"]
    assert [o["Key"] for o in photos["Contents"]] == ["photos/d.jpg"]

    deep = s3.list_objects_v2(Bucket=bucket, Prefix="photos/2006/")
    assert [o["Key"] for o in deep["Contents"]] == [
        "photos/2006/feb/b.jpg",
        "photos/2006/jan/a.jpg",
    ]
    assert "CommonPrefixes" not in deep

    none = s3.list_objects_v2(Bucket=bucket, Prefix="nomatch/")
    assert none["KeyCount"] == 0
    assert "Contents" not in none


def test_common_prefixes_count_toward_max_keys(s3, bucket):
    fill(s3, bucket, ["a/1", "a/2", "b/1", "c", "d/1"])
    page1 = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in page1["CommonPrefixes"]] == ["a/", "b/"]
    assert "Contents" not in page1
    assert page1["KeyCount"] == 2
    assert page1["IsTruncated"] is True
    page2 = s3.list_objects_v2(
        Bucket=bucket, Delimiter="/", MaxKeys=2, ContinuationToken=page1["NextContinuationToken"]
    )
    assert [o["Key"] for o in page2["Contents"]] == ["c"]
    assert [p["Prefix"] for p in page2["CommonPrefixes"]] == ["d/"]
    assert page2["IsTruncated"] is False


def test_order_is_utf8_binary(s3, bucket):
    keys = ["日本", "é", "a", "Z", "a b", "a+b", "a%b", "a/b", "0"]
    fill(s3, bucket, keys)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode("utf-8"))


def test_unicode_prefix_and_delimiter(s3, bucket):
    fill(s3, bucket, ["données/é t é/1", "données/hiver/2", "données/+plus/3", "autre"])
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="données/", Delimiter="/")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == [
        "données/+plus/",
        "données/hiver/",
        "données/é t é/",
    ]


def test_max_keys_zero(s3, bucket):
    fill(s3, bucket, ["x"])
    resp = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert resp["KeyCount"] == 0
    assert "Contents" not in resp


def test_list_objects_v1_marker_paging(s3, bucket):
    keys = [f"v1-{i:02d}" for i in range(25)]
    fill(s3, bucket, keys)
    page1 = s3.list_objects(Bucket=bucket, MaxKeys=10)
    assert page1["IsTruncated"] is True
    assert [o["Key"] for o in page1["Contents"]] == keys[:10]
    page2 = s3.list_objects(Bucket=bucket, MaxKeys=10, Marker=keys[9])
    assert page2["Marker"] == keys[9]
    assert [o["Key"] for o in page2["Contents"]] == keys[10:20]
    everything = [
        o["Key"]
        for page in s3.get_paginator("list_objects").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 7}
        )
        for o in page["Contents"]
    ]
    assert everything == keys
    # NextMarker is only returned together with a delimiter.
    with_delim = s3.list_objects(Bucket=bucket, MaxKeys=10, Delimiter="/")
    assert with_delim["NextMarker"] == keys[9]


@pytest.mark.parametrize("call", ["list_objects", "list_objects_v2"])
def test_listing_missing_bucket(s3, call):
    with aws_error("NoSuchBucket", 404, "The specified bucket does not exist"):
        getattr(s3, call)(Bucket=unique_name("missing"))
