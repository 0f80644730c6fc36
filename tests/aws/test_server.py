"""The server process as an operator sees it: health, metrics, request ids, shutdown."""

import re
import signal
import time

import requests


def test_health(hearth):
    resp = requests.get(f"{hearth.endpoint}/health", timeout=10)
    assert resp.status_code == 200


def test_responses_carry_request_ids(s3, bucket):
    resp = s3.list_objects_v2(Bucket=bucket)
    assert resp["ResponseMetadata"]["RequestId"]
    assert resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id")


def test_metrics_count_http_requests(hearth, s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"m{i}", Body=b"x")
        s3.get_object(Bucket=bucket, Key=f"m{i}")["Body"].read()
    resp = requests.get(f"{hearth.endpoint}/metrics", timeout=10)
    assert resp.status_code == 200
    content_type = resp.headers.get("Content-Type", "")
    assert content_type.startswith(("text/plain", "application/openmetrics-text")), content_type
    samples = re.findall(
        r"^([a-zA-Z0-9_:]*http_requests[a-zA-Z0-9_:]*)(\{[^}]*\})? ([0-9.eE+-]+)",
        resp.text,
        re.MULTILINE,
    )
    assert samples, resp.text[:2000]
    assert sum(float(value) for _, _, value in samples) >= 10
    assert re.search(r"^# TYPE \S*http_requests\S* counter", resp.text, re.MULTILINE), resp.text[:2000]


def test_sigterm_exits_cleanly(own_hearth):
    own_hearth.client("s3").list_buckets()
    started = time.monotonic()
    code = own_hearth.stop(signal.SIGTERM, timeout=10)
    assert code == 0
    assert time.monotonic() - started < 10
    assert "listening" in own_hearth.log_path.read_text(errors="replace")
