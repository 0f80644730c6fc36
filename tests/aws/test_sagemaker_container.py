"""SageMaker's container contract without Docker, through boto3: an image registered in
`[[sagemaker.images]]` runs as a local process per worker with SageMaker's environment and the
model artifact extracted into its model directory; InvokeEndpoint is proxied to its
`/invocations`; a container that fails its `/ping` fails the endpoint; a worker over the
variant's memory size is restarted; MemoryUtilization is reported; processes stop on scale to
zero, endpoint deletion and server shutdown.

The container is `sagemaker_container/serve.py` (a stdlib HTTP server).
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import signal
import sys
import tarfile
import time
import uuid

import pytest

from awsutil import aws_error
from harness import CONFIG_TOML, Hearth

HERE = pathlib.Path(__file__).resolve().parent
SERVE = HERE / "sagemaker_container" / "serve.py"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hearth-test-container:1"
BROKEN_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hearth-test-broken:1"
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still running"
        time.sleep(0.05)


def start_server(base: pathlib.Path, monkeypatch, idle_seconds: float | None = None) -> Hearth:
    server = Hearth(base)
    server.config_path.write_text(
        CONFIG_TOML
        + f"""
[sagemaker]
container_startup_timeout_seconds = 3
memory_check_interval_ms = 100

[[sagemaker.images]]
image = "{IMAGE}"
command = ["{sys.executable}", "{SERVE}"]
[sagemaker.images.environment]
FROM_CONFIG = "yes"

[[sagemaker.images]]
image = "{BROKEN_IMAGE}"
command = ["{sys.executable}", "{SERVE}"]
[sagemaker.images.environment]
FAIL_PING = "1"
"""
    )
    if idle_seconds is not None:
        monkeypatch.setenv("HEARTH_SAGEMAKER_SERVERLESS_IDLE_SECONDS", str(idle_seconds))
    server.start()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    s = start_server(tmp_path_factory.mktemp("container-hearth"), mp, idle_seconds=2)
    mp.undo()
    yield s
    try:
        s.stop(signal.SIGKILL)
    except Exception:
        pass


@pytest.fixture(scope="module")
def env(server):
    s3 = server.client("s3")
    bucket = uid("containers")
    s3.create_bucket(Bucket=bucket)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in [("model.json", json.dumps({"scale": 3.0}).encode()), ("code/extra.txt", b"hello")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    s3.put_object(Bucket=bucket, Key="model/model.tar.gz", Body=out.getvalue())
    return {"sm": server.client("sagemaker"), "rt": server.client("sagemaker-runtime"), "cw": server.client("cloudwatch"), "url": f"s3://{bucket}/model/model.tar.gz", "server": server}


def deploy(sm, url, variant, image=IMAGE, environment=None):
    model = uid("model")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": image, "ModelDataUrl": url, "Environment": environment or {}})
    variant = dict(variant, ModelName=model, VariantName=variant.get("VariantName", "AllTraffic"))
    cfg = uid("epc")
    sm.create_endpoint_config(EndpointConfigName=cfg, ProductionVariants=[variant])
    ep = uid("ep")
    sm.create_endpoint(EndpointName=ep, EndpointConfigName=cfg)
    deadline = time.monotonic() + 60
    while True:
        d = sm.describe_endpoint(EndpointName=ep)
        if d["EndpointStatus"] not in ("Creating", "Updating"):
            return ep, d
        assert time.monotonic() < deadline, d
        time.sleep(0.1)


def view(rt, ep) -> dict:
    r = rt.invoke_endpoint(EndpointName=ep, Body=b"env", ContentType="text/plain")
    return json.loads(r["Body"].read())


def test_container_contract(env):
    sm, rt = env["sm"], env["rt"]
    ep, d = deploy(sm, env["url"], {"InstanceType": "ml.m5.large", "InitialInstanceCount": 2}, environment={"GREETING": "hi", "FROM_CONFIG": "model-wins"})
    assert d["EndpointStatus"] == "InService", d

    r = rt.invoke_endpoint(EndpointName=ep, Body=b"1,2", ContentType="text/csv", CustomAttributes="trace=7")
    assert r["Body"].read() == b"9.0"
    assert r["ContentType"] == "text/csv"
    assert r["CustomAttributes"] == "seen:trace=7"
    assert r["InvokedProductionVariant"] == "AllTraffic"
    r = rt.invoke_endpoint(EndpointName=ep, Body=b"1,2", ContentType="text/csv", Accept="application/json")
    assert json.loads(r["Body"].read()) == {"prediction": 9.0}

    views = [view(rt, ep) for _ in range(4)]
    v = views[0]
    assert v["argv"][1:] == ["serve"]
    e = v["env"]
    assert e["GREETING"] == "hi" and e["FROM_CONFIG"] == "model-wins"
    assert e["SM_MODEL_DIR"] and v["model_files"] == ["code", "model.json"]
    port = int(e["SAGEMAKER_BIND_TO_PORT"])
    lo, hi = (int(x) for x in e["SAGEMAKER_SAFE_PORT_RANGE"].split("-"))
    assert hi - lo == 15 and not lo <= port <= hi
    assert e["AWS_REGION"] == "us-east-1"
    assert "AWS_ACCESS_KEY_ID" not in e and not any(k.startswith("HEARTH_") for k in e)
    assert v["content_type"] == "text/plain"
    pids = {x["pid"] for x in views}
    assert len(pids) == 2, "two instances, two worker processes"

    with aws_error("ModelError", 424) as err:
        rt.invoke_endpoint(EndpointName=ep, Body=b"error", ContentType="text/csv")
    resp = err.value.response
    assert resp["OriginalStatusCode"] in (400, "400")
    assert resp["OriginalMessage"] == "bad input: the model wants numbers"
    assert 'Received client error (400) from primary with message "bad input: the model wants numbers"' in resp["Error"]["Message"]

    # A crashed worker is restarted.
    os.kill(v["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 20
    while True:
        try:
            now = {view(rt, ep)["pid"] for _ in range(4)}
            if v["pid"] not in now and len(now) == 2:
                break
        except Exception:
            pass
        assert time.monotonic() < deadline, "worker not restarted"
        time.sleep(0.2)

    sm.delete_endpoint(EndpointName=ep)
    for pid in pids | now:
        wait_gone(pid)


def test_failed_health_check_fails_the_endpoint(env):
    sm = env["sm"]
    ep, d = deploy(sm, env["url"], {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1}, image=BROKEN_IMAGE)
    assert d["EndpointStatus"] == "Failed"
    assert d["FailureReason"].startswith("The primary container for production variant AllTraffic did not pass the ping health check. Please check CloudWatch logs for this endpoint."), d["FailureReason"]
    assert "GET /ping did not answer 200 within 3 seconds" in d["FailureReason"]


def test_memory_limit_restarts_the_worker_and_utilization_is_reported(env):
    sm, rt, cw = env["sm"], env["rt"], env["cw"]
    ep, d = deploy(sm, env["url"], {"ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 2, "ProvisionedConcurrency": 1}})
    assert d["EndpointStatus"] == "InService", d
    before = view(rt, ep)["pid"]
    with aws_error("ModelError", 424) as err:
        rt.invoke_endpoint(EndpointName=ep, Body=b"alloc:1300", ContentType="text/plain")
    msg = err.value.response["Error"]["Message"]
    assert "exceeded the memory size of the variant (1024 MB)" in msg, msg
    wait_gone(before)
    deadline = time.monotonic() + 20
    while True:
        try:
            after = view(rt, ep)["pid"]
            break
        except Exception:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert after != before
    # MemoryUtilization (AWS/SageMaker, EndpointName + VariantName), in percent of 1024 MB.
    deadline = time.monotonic() + 30
    while True:
        stats = cw.get_metric_statistics(
            Namespace="AWS/SageMaker", MetricName="MemoryUtilization",
            Dimensions=[{"Name": "EndpointName", "Value": ep}, {"Name": "VariantName", "Value": "AllTraffic"}],
            StartTime=time.time() - 600, EndTime=time.time() + 60, Period=60, Statistics=["Maximum", "Minimum"],
        )["Datapoints"]
        if stats:
            break
        assert time.monotonic() < deadline, "no MemoryUtilization"
        time.sleep(0.5)
    # Every point is a measurement (> 0); the worker may be seen over 100% before its kill.
    assert all(0 < p["Minimum"] and p["Maximum"] < 200 for p in stats), stats
    assert stats[0]["Unit"] == "Percent"
    sm.delete_endpoint(EndpointName=ep)
    wait_gone(after)


def test_scale_to_zero_stops_the_process(env):
    sm, rt = env["sm"], env["rt"]
    ep, d = deploy(sm, env["url"], {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 1}})
    assert d["EndpointStatus"] == "InService", d
    first = view(rt, ep)["pid"]
    wait_gone(first, timeout=20)  # idle 2 s → scaled to zero
    second = view(rt, ep)["pid"]  # a cold start brings up a new process
    assert second != first
    sm.delete_endpoint(EndpointName=ep)
    wait_gone(second)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_orphans_when_the_server_stops(tmp_path, monkeypatch, sig):
    server = start_server(tmp_path / "hearth", monkeypatch)
    try:
        s3, sm, rt = server.client("s3"), server.client("sagemaker"), server.client("sagemaker-runtime")
        bucket = uid("orphans")
        s3.create_bucket(Bucket=bucket)
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w:gz") as tar:
            data = b'{"scale": 1}'
            info = tarfile.TarInfo("model.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        s3.put_object(Bucket=bucket, Key="m.tar.gz", Body=out.getvalue())
        ep, d = deploy(sm, f"s3://{bucket}/m.tar.gz", {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1})
        assert d["EndpointStatus"] == "InService", d
        pid = view(rt, ep)["pid"]
    finally:
        server.stop(sig)
    wait_gone(pid)
