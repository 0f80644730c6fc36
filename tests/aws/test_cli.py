"""The AWS CLI, configured only by the `export` lines Hearth prints, as a user pastes them."""

import filecmp
import json
import os
import subprocess

import pytest
import requests

from awsutil import MiB, sha256_file, unique_name
from harness import hearth_bin, parse_exports


def aws(hearth, *args, check=True):
    """Run `aws ...` with nothing but the printed exports for configuration."""
    result = subprocess.run(
        ["aws", *args], env=hearth.env(), capture_output=True, text=True, timeout=300
    )
    if check and result.returncode != 0:
        pytest.fail(f"aws {' '.join(args)} exited {result.returncode}\n{result.stderr}")
    return result


def test_export_lines(hearth):
    exports = hearth.exports
    assert set(exports) >= {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION",
    }
    assert exports["AWS_ENDPOINT_URL"] == hearth.endpoint
    assert exports["AWS_DEFAULT_REGION"] == "us-east-1"


def test_credentials_command_prints_the_same_exports(hearth):
    out = subprocess.run(
        [str(hearth_bin()), "credentials", "--data-dir", str(hearth.data_dir)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    exports = parse_exports(out)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        assert exports[name] == hearth.exports[name]


def test_cli_sts_get_caller_identity(hearth, sts):
    out = aws(hearth, "sts", "get-caller-identity", "--output", "json").stdout
    assert json.loads(out)["Account"] == sts.get_caller_identity()["Account"]


def test_cli_s3_cp_ls_rm(hearth, tmp_path):
    bucket = unique_name()
    aws(hearth, "s3", "mb", f"s3://{bucket}")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * MiB))  # above the CLI's 8 MB threshold: multipart
    small = tmp_path / "small name.txt"
    small.write_text("small file\n")

    aws(hearth, "s3", "cp", str(big), f"s3://{bucket}/data/big.bin")
    aws(hearth, "s3", "cp", str(small), f"s3://{bucket}/data/small name.txt")
    listing = aws(hearth, "s3", "ls", f"s3://{bucket}/data/").stdout
    assert "big.bin" in listing and "small name.txt" in listing
    assert str(20 * MiB) in listing

    back = tmp_path / "back.bin"
    aws(hearth, "s3", "cp", f"s3://{bucket}/data/big.bin", str(back))
    assert sha256_file(back) == sha256_file(big)

    aws(hearth, "s3", "rm", "--recursive", f"s3://{bucket}/data/")
    assert aws(hearth, "s3", "ls", f"s3://{bucket}/", check=False).stdout.strip() == ""
    aws(hearth, "s3", "rb", f"s3://{bucket}")
    assert bucket not in aws(hearth, "s3", "ls").stdout


def test_cli_s3_sync_round_trip(hearth, tmp_path):
    bucket = unique_name()
    aws(hearth, "s3", "mb", f"s3://{bucket}")
    src = tmp_path / "src"
    for rel, size in [
        ("a.txt", 10), ("nested/b.bin", 100_000), ("nested/deeper/c.bin", 9 * MiB),
        ("with space/d é.txt", 5), ("empty", 0),
    ]:
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))

    aws(hearth, "s3", "sync", str(src), f"s3://{bucket}/tree")
    # A second sync has nothing to upload.
    again = aws(hearth, "s3", "sync", str(src), f"s3://{bucket}/tree").stdout
    assert "upload:" not in again

    dst = tmp_path / "dst"
    aws(hearth, "s3", "sync", f"s3://{bucket}/tree", str(dst))
    cmp = filecmp.dircmp(src, dst)

    def same(c):
        assert not c.left_only and not c.right_only and not c.diff_files, (
            c.left_only, c.right_only, c.diff_files,
        )
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        assert not mismatch and not errors
        for sub in c.subdirs.values():
            same(sub)

    same(cmp)

    # Deleting locally and syncing with --delete removes the object.
    (src / "a.txt").unlink()
    aws(hearth, "s3", "sync", "--delete", str(src), f"s3://{bucket}/tree")
    listing = aws(hearth, "s3", "ls", "--recursive", f"s3://{bucket}/tree").stdout
    assert "tree/a.txt" not in listing and "tree/nested/b.bin" in listing


def test_cli_presign_and_s3api(hearth, tmp_path):
    bucket = unique_name()
    aws(hearth, "s3api", "create-bucket", "--bucket", bucket)
    body = tmp_path / "body.txt"
    body.write_text("via s3api\n")
    put = json.loads(
        aws(hearth, "s3api", "put-object", "--bucket", bucket, "--key", "k.txt",
            "--body", str(body), "--content-type", "text/plain").stdout
    )
    head = json.loads(aws(hearth, "s3api", "head-object", "--bucket", bucket, "--key", "k.txt").stdout)
    assert head["ETag"] == put["ETag"]
    assert head["ContentType"] == "text/plain"
    url = aws(hearth, "s3", "presign", f"s3://{bucket}/k.txt", "--expires-in", "300").stdout.strip()
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.text == "via s3api\n"
