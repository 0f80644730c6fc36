"""SageMaker deployment guardrails with real boto3: the seed's post (three models, endpoint
configurations with InitialInstanceCount 3, rollback alarms, CANARY and LINEAR updates that
roll back, RetainDeploymentConfig updates that succeed), with short intervals; bad input; the
`hearth deployments` CLI (abort, promote, history); a restart in the middle of a deployment.

The seed's "incompatible" model is, as in the post, a pickled XGBoost Booster on the newer
`1.2-1` image: the container starts (its /ping does not load the model), the first invocation
tries to load it, and XGBoost does not read memory snapshots of another version, so every
request it gets answers 500 `Unable to load model: …` (ModelError, `Invocation5XXErrors`). The
alarms are exactly the seed's: `Invocation5XXErrors` Average >= 1 and `ModelLatency` Average >=
10 ms. Average of Invocation5XXErrors is the error rate (0 or 1 per request), so it reaches 1
once every request of a period fails — when all traffic is on the new fleet, during the last
step's bake; the rollback happens there, before the old fleet is retired. Alarms are evaluated
by Hearth's CloudWatch on 10 s periods.

One difference from the post: its fixed model (`model3`, image `0.90-2`) reuses model2's
artifact, an XGBoost 0.90 pickle that the 0.90-2 image reads. Hearth's engine is XGBoost 3.2,
which reads no 0.90 snapshot, so model3 here is the same booster saved with `save_model`
(saved models load on every image version).
"""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import tarfile
import threading
import time
import uuid

import numpy as np
import pytest
import xgboost as xgb

from awsutil import aws_error
from harness import Hearth, fetch_models, hearth_bin

ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole"
IMAGE_090_1 = "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:0.90-1-cpu-py3"
IMAGE_12_1 = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.2-1"
IMAGE_090_2 = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:0.90-2-cpu-py3"
ROW = b".345,0.224414,.131102,0.042329,.279923,-0.110329,-0.099358,0.0"


def uid(p: str) -> str:
    return f"{p}-{uuid.uuid4().hex[:8]}"


IMAGE_32 = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-1"  # made up: Hearth's XGBoost


def artifact(booster: xgb.Booster) -> bytes:
    return tar_of(bytes(booster.save_raw(raw_format="ubj")))


def pickled_artifact(booster: xgb.Booster) -> bytes:
    """model.tar.gz holding `pickle.dumps(booster)` (a memory snapshot of this XGBoost, 3.2)."""
    return tar_of(pickle.dumps(booster))


def tar_of(raw: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return out.getvalue()


def train(features: int, seed: int) -> xgb.Booster:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-0.2, 0.4, size=(400, features)).astype(np.float32)
    y = (X[:, 0] * 3 + X[:, 1] > 0.3).astype(np.float32)
    return xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, label=y), num_boost_round=10)


class Traffic:
    """Steady InvokeEndpoint traffic on a thread; counts successes and failures over time."""

    def __init__(self, h: Hearth, endpoint: str, interval: float = 0.05):
        self.rt = h.client("sagemaker-runtime")
        self.endpoint, self.interval = endpoint, interval
        self.log: list[tuple[float, bool]] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            ok = True
            try:
                self.rt.invoke_endpoint(EndpointName=self.endpoint, Body=ROW, ContentType="text/csv")["Body"].read()
            except Exception:  # noqa: BLE001 - any failure counts, as in the seed's loop ("E")
                ok = False
            self.log.append((time.monotonic(), ok))
            time.sleep(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *a):
        self._stop.set()
        self._t.join(10)

    def failures(self, since: float = 0.0) -> int:
        return sum(1 for t, ok in list(self.log) if t >= since and not ok)

    def count(self, since: float = 0.0) -> int:
        return sum(1 for t, _ in list(self.log) if t >= since)


def wait_status(sm, ep, done=("InService", "Failed", "UpdateRollbackFailed"), timeout=240, seen=None):
    deadline = time.monotonic() + timeout
    while True:
        d = sm.describe_endpoint(EndpointName=ep)
        if seen is not None:
            seen.append(d["EndpointStatus"])
        if d["EndpointStatus"] in done:
            return d
        assert time.monotonic() < deadline, d
        time.sleep(0.1)


def wait_alarm(cw, name, state, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        a = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        if a["StateValue"] == state:
            return a
        assert time.monotonic() < deadline, a
        time.sleep(0.5)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    fetch_models("xgboost")
    h = Hearth(tmp_path_factory.mktemp("guardrails"))
    h.start()
    yield h
    h.stop()


@pytest.fixture(scope="module")
def env(server):
    """The seed's three models and endpoint configurations (InitialInstanceCount 3)."""
    h = server
    sm, s3, cw = h.client("sagemaker"), h.client("s3"), h.client("cloudwatch")
    bucket = uid("guardrails")
    s3.create_bucket(Bucket=bucket)
    urls = {}
    fixed = train(8, 2)
    for name, body in (("model", artifact(train(8, 1))), ("model2", pickled_artifact(fixed)), ("model3", artifact(fixed))):
        s3.put_object(Bucket=bucket, Key=f"model/{name}.tar.gz", Body=body)
        urls[name] = f"s3://{bucket}/model/{name}.tar.gz"
    models = {}
    for name, image in (("model", IMAGE_090_1), ("model2", IMAGE_12_1), ("model3", IMAGE_090_2)):
        models[name] = uid(f"DEMO-xgb-churn-pred-{name}")
        sm.create_model(ModelName=models[name], ExecutionRoleArn=ROLE, Containers=[{"Image": image, "ModelDataUrl": urls[name]}])
    configs = {}
    for i, name in enumerate(("model", "model2", "model3"), start=1):
        configs[i] = uid(f"DEMO-EpConfig-{i}")
        sm.create_endpoint_config(
            EndpointConfigName=configs[i],
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": models[name], "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 3}],
        )
    return {"h": h, "sm": sm, "cw": cw, "s3": s3, "bucket": bucket, "configs": configs, "models": models, "urls": urls, "fixed": fixed}


def new_endpoint(env, config=1):
    sm = env["sm"]
    ep = uid("DEMO-ep")
    sm.create_endpoint(EndpointName=ep, EndpointConfigName=env["configs"][config])
    assert wait_status(sm, ep)["EndpointStatus"] == "InService"
    return ep


def create_auto_rollback_alarm(cw, alarm_name, endpoint_name, variant_name, metric_name, statistic, threshold, period=10):
    cw.put_metric_alarm(
        AlarmName=alarm_name,
        AlarmDescription="Test SageMaker endpoint deployment auto-rollback alarm",
        ActionsEnabled=False,
        Namespace="AWS/SageMaker",
        MetricName=metric_name,
        Statistic=statistic,
        Dimensions=[{"Name": "EndpointName", "Value": endpoint_name}, {"Name": "VariantName", "Value": variant_name}],
        Period=period,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )


def alarms_for(env, ep):
    cw = env["cw"]
    names = {k: uid(f"{ep}-{k}") for k in ("error", "latency")}
    # alarm on 1% 5xx error rate for 1 minute
    create_auto_rollback_alarm(cw, names["error"], ep, "AllTraffic", "Invocation5XXErrors", "Average", 1)
    # alarm on model latency >= 10 ms for 1 minute
    create_auto_rollback_alarm(cw, names["latency"], ep, "AllTraffic", "ModelLatency", "Average", 10000)
    return names


def canary_config(names, wait=25):
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": wait},
            "TerminationWaitInSeconds": 2,
            "MaximumExecutionTimeoutInSeconds": 1800,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": n} for n in names.values()]},
    }


def linear_config(names, wait=25):
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 33}, "WaitIntervalInSeconds": wait},
            "TerminationWaitInSeconds": 2,
            "MaximumExecutionTimeoutInSeconds": 1800,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": n} for n in names.values()]},
    }


def test_seed_canary_rollback_then_retained_success(env):
    sm, cw, configs = env["sm"], env["cw"], env["configs"]
    ep = new_endpoint(env)
    names = alarms_for(env, ep)
    cfg = canary_config(names)
    with Traffic(env["h"], ep) as traffic:
        time.sleep(1)
        assert traffic.count() > 0 and traffic.failures() == 0
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[2], DeploymentConfig=cfg)
        d = sm.describe_endpoint(EndpointName=ep)
        assert d["EndpointStatus"] == "Updating"
        assert d["EndpointConfigName"] == configs[1]
        assert d["LastDeploymentConfig"] == cfg
        # Baking the canary: the pending deployment shows the new configuration.
        deadline = time.monotonic() + 30
        while True:
            d = sm.describe_endpoint(EndpointName=ep)
            p = d.get("PendingDeploymentSummary")
            if p and p["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "Baking":
                break
            assert time.monotonic() < deadline, d
            time.sleep(0.1)
        assert p["EndpointConfigName"] == configs[2]
        assert p["ProductionVariants"][0]["DesiredInstanceCount"] == 3
        assert p["ProductionVariants"][0]["CurrentInstanceCount"] == 1
        seen = []
        d = wait_status(sm, ep, seen=seen)
        rolled_back_at = time.monotonic()
        assert d["EndpointStatus"] == "InService"
        assert d["EndpointConfigName"] == configs[1]
        assert "PendingDeploymentSummary" not in d
        assert names["error"] in d["FailureReason"], d["FailureReason"]
        assert traffic.failures() > 0, "the new fleet's requests failed"
        assert traffic.failures() < traffic.count(), "the old fleet served until the rollback"
        time.sleep(1.5)
        assert traffic.failures(since=rolled_back_at + 0.2) == 0, "all traffic back on blue"

        # Once the alarms are quiet again, the retained configuration updates to the good model.
        wait_alarm(cw, names["error"], "OK")
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], RetainDeploymentConfig=True)
        started = time.monotonic()
        d = wait_status(sm, ep)
        assert d["EndpointStatus"] == "InService", d
        assert d["EndpointConfigName"] == configs[3]
        assert d["LastDeploymentConfig"] == cfg
        assert "FailureReason" not in d
        assert traffic.failures(since=started) == 0
    assert d["ProductionVariants"][0]["CurrentInstanceCount"] == 3


def test_seed_linear_rollback_then_retained_success(env):
    sm, cw, configs = env["sm"], env["cw"], env["configs"]
    ep = new_endpoint(env, config=3)
    names = alarms_for(env, ep)
    cfg = linear_config(names)
    with Traffic(env["h"], ep) as traffic:
        time.sleep(1)
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[2], DeploymentConfig=cfg)
        seen = []
        d = wait_status(sm, ep, seen=seen)
        assert d["EndpointStatus"] == "InService"
        assert d["EndpointConfigName"] == configs[3]
        assert names["error"] in d["FailureReason"], d["FailureReason"]
        assert traffic.failures() > 0
        wait_alarm(cw, names["error"], "OK")
        started = time.monotonic()
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[1], RetainDeploymentConfig=True)
        shares = set()
        while True:
            d = sm.describe_endpoint(EndpointName=ep)
            p = d.get("PendingDeploymentSummary")
            if p and p["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "Baking":
                shares.add(p["ProductionVariants"][0]["CurrentInstanceCount"])
            if d["EndpointStatus"] != "Updating":
                break
            assert time.monotonic() < started + 120, d
            time.sleep(0.2)
        assert d["EndpointStatus"] == "InService" and d["EndpointConfigName"] == configs[1]
        assert shares == {1, 2, 3}, shares  # 33 % of 3 instances per step
        assert traffic.failures(since=started) == 0
    assert time.monotonic() - started >= 75  # three 25 s bakes


def test_all_at_once_without_deployment_config(env):
    sm, configs = env["sm"], env["configs"]
    ep = new_endpoint(env)
    sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3])
    d = wait_status(sm, ep)
    assert d["EndpointStatus"] == "InService" and d["EndpointConfigName"] == configs[3]
    assert "LastDeploymentConfig" not in d


def test_rolling_update_policy(env):
    sm, configs = env["sm"], env["configs"]
    ep = new_endpoint(env)
    cfg = {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 1, "MaximumExecutionTimeoutInSeconds": 600}}
    with Traffic(env["h"], ep) as traffic:
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], DeploymentConfig=cfg)
        d = wait_status(sm, ep)
    assert (d["EndpointStatus"], d["EndpointConfigName"], d["LastDeploymentConfig"]) == ("InService", configs[3], cfg)
    assert traffic.failures() == 0
    desc = cli(env["h"], "deployments", "describe", ep)
    assert "Rolling(Instances(1))" in desc and "3. 3 instance(s), 100.0% on green" in desc, desc
    bad = {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 80}, "WaitIntervalInSeconds": 1}}
    with aws_error("ValidationException", 400, "MaximumBatchSize"):
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[1], DeploymentConfig=bad)


def test_green_that_cannot_load_fails_before_traffic(env):
    sm, s3, bucket = env["sm"], env["s3"], env["bucket"]
    ep = new_endpoint(env)
    s3.put_object(Bucket=bucket, Key="broken/model.tar.gz", Body=b"not a tarball")
    m = uid("broken")
    sm.create_model(ModelName=m, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE_090_2, "ModelDataUrl": f"s3://{bucket}/broken/model.tar.gz"})
    c = uid("broken-cfg")
    sm.create_endpoint_config(EndpointConfigName=c, ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": m, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 3}])
    with Traffic(env["h"], ep) as traffic:
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=c, DeploymentConfig=canary_config({}, wait=5) | {"AutoRollbackConfiguration": {}})
        d = wait_status(sm, ep)
        assert d["EndpointStatus"] == "InService"
        assert d["EndpointConfigName"] == env["configs"][1]
        assert d["FailureReason"].startswith("Failed to provision the new fleet"), d["FailureReason"]
        time.sleep(0.5)
    assert traffic.failures() == 0


def endpoint_stats(cw, ep, metrics, until, timeout=15):
    dims = [{"Name": "EndpointName", "Value": ep}, {"Name": "VariantName", "Value": "AllTraffic"}]
    deadline = time.monotonic() + timeout
    while True:
        stats = {
            m: (cw.get_metric_statistics(Namespace="AWS/SageMaker", MetricName=m, Dimensions=dims, StartTime=time.time() - 600, EndTime=time.time() + 60, Period=3600, Statistics=["Sum", "SampleCount", "Average"])["Datapoints"] or [{}])[0]
            for m in metrics
        }
        if until(stats):
            return stats
        assert time.monotonic() < deadline, stats
        time.sleep(0.5)


def test_incompatible_pickle_is_a_model_error_counted_as_5xx(env):
    """The seed's model2 (a pickled Booster on 1.2-1): the endpoint comes up (the container's
    /ping does not load the model); every invocation tries to load it and answers 500."""
    sm, cw = env["sm"], env["cw"]
    rt = env["h"].client("sagemaker-runtime")
    ep = new_endpoint(env, config=2)
    account = sm.describe_endpoint(EndpointName=ep)["EndpointArn"].split(":")[4]
    # An empty payload is answered before the model is needed (204), as the container does.
    assert rt.invoke_endpoint(EndpointName=ep, Body=b"", ContentType="text/csv")["Body"].read() == b""
    for _ in range(3):
        with aws_error("ModelError", 424) as e:
            rt.invoke_endpoint(EndpointName=ep, Body=ROW, ContentType="text/csv")
    r = e.value.response
    assert str(r["OriginalStatusCode"]) == "500"
    msg = r["Error"]["Message"]
    assert msg.startswith(
        'Received server error (500) from primary with message "Unable to load model: Model /opt/ml/model/xgboost-model cannot be loaded:\n'
        "Pickle load error=the pickled Booster was written by XGBoost 3.2.0; this image runs XGBoost 1.2 and reads memory snapshots of its own version only"
    ), msg
    assert "\nXGB load model error=" in msg, msg
    assert msg.endswith(f"See https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEventViewer:group=/aws/sagemaker/Endpoints/{ep} in account {account} for more information."), msg
    assert r["OriginalMessage"].startswith("Unable to load model: Model /opt/ml/model/xgboost-model cannot be loaded:"), r["OriginalMessage"]
    # A payload the container cannot read is refused before the model is loaded (415).
    with aws_error("ModelError", 424, "Received client error (415)"):
        rt.invoke_endpoint(EndpointName=ep, Body=b"\x89PNG", ContentType="image/png")
    stats = endpoint_stats(cw, ep, ("Invocations", "Invocation5XXErrors", "Invocation4XXErrors", "ModelLatency"), lambda s: s["Invocations"].get("Sum") == 5)
    assert stats["Invocation5XXErrors"]["Sum"] == 3, stats
    assert stats["Invocation4XXErrors"]["Sum"] == 1, stats
    assert stats["ModelLatency"]["SampleCount"] == 5, stats
    sm.delete_endpoint(EndpointName=ep)


def test_pickle_on_its_own_xgboost_version_predicts_as_python(env):
    """A pickled Booster loads on an image of the version that wrote it (a made-up `3.2-1` tag:
    Hearth's XGBoost) and predicts what Python predicts; the first invocation loads it."""
    sm, s3, bucket = env["sm"], env["s3"], env["bucket"]
    rt = env["h"].client("sagemaker-runtime")
    m = uid("pickled-32")
    sm.create_model(ModelName=m, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE_32, "ModelDataUrl": env["urls"]["model2"]})
    c = uid("pickled-32-cfg")
    sm.create_endpoint_config(EndpointConfigName=c, ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": m, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1}])
    ep = uid("pickled-32-ep")
    sm.create_endpoint(EndpointName=ep, EndpointConfigName=c)
    assert wait_status(sm, ep)["EndpointStatus"] == "InService"
    rows = np.random.default_rng(7).uniform(-0.2, 0.4, size=(5, 8)).astype(np.float32)
    body = "\n".join(",".join(repr(float(v)) for v in r) for r in rows).encode()
    out = rt.invoke_endpoint(EndpointName=ep, Body=body, ContentType="text/csv", Accept="application/json")
    got = [p["score"] for p in json.loads(out["Body"].read())["predictions"]]
    want = pickle.loads(pickle.dumps(env["fixed"])).predict(xgb.DMatrix(rows))
    assert np.array_equal(np.array(got, dtype=np.float32), want), (got, want)
    # The same booster saved with save_model (model3) predicts the same on the 0.90-2 image.
    e3 = new_endpoint(env, config=3)
    out = rt.invoke_endpoint(EndpointName=e3, Body=body, ContentType="text/csv", Accept="application/json")
    assert np.array_equal(np.array([p["score"] for p in json.loads(out["Body"].read())["predictions"]], dtype=np.float32), want)
    sm.delete_endpoint(EndpointName=e3)
    sm.delete_endpoint(EndpointName=ep)


def test_bad_input_changes_nothing(env):
    sm, configs = env["sm"], env["configs"]
    ep = new_endpoint(env)
    names = alarms_for(env, ep)
    before = sm.describe_endpoint(EndpointName=ep)

    with aws_error("ValidationException", 400, "do not exist"):
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], DeploymentConfig=canary_config({"x": "no-such-alarm"}))
    cfg = canary_config(names)
    cfg["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": 150}
    with aws_error("ValidationException", 400, "between 1 and 100"):
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], DeploymentConfig=cfg)
    cfg = canary_config(names, wait=4000)
    with aws_error("ValidationException", 400, "Member must have value less than or equal to 3600"):
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], DeploymentConfig=cfg)
    cfg = canary_config(names)
    cfg["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["CanarySize"]["Value"] = 2
    with aws_error("ValidationException", 400, "50%"):
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], DeploymentConfig=cfg)
    with aws_error("ValidationException", 400, "Could not find endpoint configuration"):
        sm.update_endpoint(EndpointName=ep, EndpointConfigName="no-such-config", DeploymentConfig=canary_config(names))
    with aws_error("ValidationException", 400, "Could not find endpoint"):
        sm.update_endpoint(EndpointName="no-such-endpoint", EndpointConfigName=configs[3])
    after = sm.describe_endpoint(EndpointName=ep)
    assert (after["EndpointStatus"], after["EndpointConfigName"], after["LastModifiedTime"]) == (before["EndpointStatus"], before["EndpointConfigName"], before["LastModifiedTime"])
    assert "LastDeploymentConfig" not in after

    # A second update while one runs.
    sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], DeploymentConfig=canary_config(names, wait=600))
    with aws_error("ValidationException", 400, "Cannot update in-progress endpoint"):
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[1])
    assert sm.describe_endpoint(EndpointName=ep)["PendingDeploymentSummary"]["EndpointConfigName"] == configs[3]
    cli(env["h"], "deployments", "abort", ep)
    assert wait_status(sm, ep)["EndpointConfigName"] == configs[1]
    # An endpoint still being created answers the same (when the update comes before it is
    # in service: creation is fast here, so this is only checked when it was still Creating).
    creating = uid("creating")
    sm.create_endpoint(EndpointName=creating, EndpointConfigName=configs[1])
    try:
        sm.update_endpoint(EndpointName=creating, EndpointConfigName=configs[3])
    except sm.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ValidationException"
        assert "Cannot update in-progress endpoint" in e.response["Error"]["Message"]


def test_delete_during_a_deployment_then_the_same_name_again(env):
    sm, configs = env["sm"], env["configs"]
    ep = new_endpoint(env)
    sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], DeploymentConfig=canary_config({}, wait=600) | {"AutoRollbackConfiguration": {}})
    wait_pending_baking(sm, ep)
    sm.delete_endpoint(EndpointName=ep)
    deadline = time.monotonic() + 30
    while True:
        try:
            sm.describe_endpoint(EndpointName=ep)
        except sm.exceptions.ClientError:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sm.create_endpoint(EndpointName=ep, EndpointConfigName=configs[1])
    assert wait_status(sm, ep)["EndpointStatus"] == "InService"
    sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3])
    d = wait_status(sm, ep)
    assert (d["EndpointStatus"], d["EndpointConfigName"]) == ("InService", configs[3])
    listing = cli(env["h"], "deployments", "list", ep)
    assert "#1" in listing and "failed" in listing and "#2" in listing and "succeeded" in listing, listing


def cli(h: Hearth, *args: str) -> str:
    out = subprocess.run(
        [str(hearth_bin()), *args, "--data-dir", str(h.data_dir), "--config", str(h.config_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_cli_abort_promote_and_history(env):
    sm, configs = env["sm"], env["configs"]
    ep = new_endpoint(env)
    long_bake = canary_config({}, wait=3600) | {"AutoRollbackConfiguration": {}}
    with Traffic(env["h"], ep) as traffic:
        # Abort rolls back at once.
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], DeploymentConfig=long_bake)
        wait_pending_baking(sm, ep)
        t = time.monotonic()
        out = cli(env["h"], "deployments", "abort", ep)
        assert "abort requested" in out
        d = wait_status(sm, ep)
        assert time.monotonic() - t < 10
        assert d["EndpointConfigName"] == configs[1] and "aborted by cli:" in d["FailureReason"]
        # Promote skips the remaining baking.
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], RetainDeploymentConfig=True)
        wait_pending_baking(sm, ep)
        cli(env["h"], "deployments", "promote", ep)
        d = wait_status(sm, ep)
        assert d["EndpointConfigName"] == configs[3] and "FailureReason" not in d
    assert traffic.failures() == 0
    listing = cli(env["h"], "deployments", "list", ep)
    assert "#1" in listing and "rolled-back" in listing and "#2" in listing and "succeeded" in listing
    desc = cli(env["h"], "deployments", "describe", ep, "--number", "1")
    assert "aborted by cli:" in desc and "requested by" in desc and "step" in desc
    # Nothing to abort any more.
    out = subprocess.run([str(hearth_bin()), "deployments", "abort", ep, "--data-dir", str(env["h"].data_dir)], capture_output=True, text=True)
    assert out.returncode != 0 and "too late" in out.stderr


def test_rolling_update_rolls_back_in_batches(env):
    """RollingUpdatePolicy.RollbackMaximumBatchSize: traffic returns to the old fleet one batch
    at a time (here an operator's abort while 2 of 3 instances are on the new fleet: 2 → 1 → 0)."""
    sm, configs = env["sm"], env["configs"]
    ep = new_endpoint(env)
    cfg = {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
            "WaitIntervalInSeconds": 5,
            "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
        }
    }
    with Traffic(env["h"], ep) as traffic:
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=configs[3], DeploymentConfig=cfg)
        deadline = time.monotonic() + 60
        while True:
            p = sm.describe_endpoint(EndpointName=ep).get("PendingDeploymentSummary")
            if p and p["ProductionVariants"][0].get("CurrentInstanceCount") == 2:
                break
            assert time.monotonic() < deadline, p
            time.sleep(0.05)
        cli(env["h"], "deployments", "abort", ep)
        d = wait_status(sm, ep)
    assert d["EndpointStatus"] == "InService" and d["EndpointConfigName"] == configs[1], d
    assert "aborted by cli:" in d["FailureReason"]
    assert traffic.failures() == 0
    desc = cli(env["h"], "deployments", "describe", ep)
    assert "rollback batch 1/2: 1 new-fleet instance(s) left" in desc, desc
    assert "rollback batch 2/2: 0 new-fleet instance(s) left" in desc, desc
    assert desc.index("rollback batch 1/2") < desc.index("rollback batch 2/2") < desc.index("all traffic on the old fleet")


def wait_pending_baking(sm, ep, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        p = sm.describe_endpoint(EndpointName=ep).get("PendingDeploymentSummary")
        if p and p["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "Baking":
            return p
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_restart_in_the_middle_resumes_the_deployment(tmp_path):
    fetch_models("xgboost")
    h = Hearth(tmp_path / "hearth")
    h.start()
    try:
        sm, s3 = h.client("sagemaker"), h.client("s3")
        bucket = uid("restart")
        s3.create_bucket(Bucket=bucket)
        cfgs = []
        for i, seed in enumerate((1, 3)):
            s3.put_object(Bucket=bucket, Key=f"m{i}.tar.gz", Body=artifact(train(8, seed)))
            m = uid("m")
            sm.create_model(ModelName=m, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE_090_2, "ModelDataUrl": f"s3://{bucket}/m{i}.tar.gz"})
            c = uid("c")
            sm.create_endpoint_config(EndpointConfigName=c, ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": m, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 2}])
            cfgs.append(c)
        ep = uid("ep")
        sm.create_endpoint(EndpointName=ep, EndpointConfigName=cfgs[0])
        assert wait_status(sm, ep)["EndpointStatus"] == "InService"
        cfg = canary_config({}, wait=6) | {"AutoRollbackConfiguration": {}}
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=cfgs[1], DeploymentConfig=cfg)
        wait_pending_baking(sm, ep)
        h.kill9()
        h.start()
        sm, rt = h.client("sagemaker"), h.client("sagemaker-runtime")
        assert sm.describe_endpoint(EndpointName=ep)["EndpointStatus"] == "Updating"
        rt.invoke_endpoint(EndpointName=ep, Body=ROW, ContentType="text/csv")["Body"].read()
        d = wait_status(sm, ep, timeout=120)
        assert d["EndpointStatus"] == "InService" and d["EndpointConfigName"] == cfgs[1], d
        rt.invoke_endpoint(EndpointName=ep, Body=ROW, ContentType="text/csv")["Body"].read()
        desc = cli(h, "deployments", "describe", ep)
        assert "succeeded" in desc
    finally:
        h.stop()


def test_rollback_that_cannot_restore_blue_is_update_rollback_failed(tmp_path):
    """Blue's artifact is gone when a restart forces the fleets to be rebuilt mid-deployment:
    the deployment cannot serve, rolls back, and blue cannot come back → UpdateRollbackFailed."""
    fetch_models("xgboost")
    h = Hearth(tmp_path / "hearth")
    h.start()
    try:
        sm, s3 = h.client("sagemaker"), h.client("s3")
        bucket = uid("rbfail")
        s3.create_bucket(Bucket=bucket)
        cfgs = []
        for i, seed in enumerate((1, 3)):
            s3.put_object(Bucket=bucket, Key=f"m{i}.tar.gz", Body=artifact(train(8, seed)))
            m = uid("m")
            sm.create_model(ModelName=m, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE_090_2, "ModelDataUrl": f"s3://{bucket}/m{i}.tar.gz"})
            c = uid("c")
            sm.create_endpoint_config(EndpointConfigName=c, ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": m, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 2}])
            cfgs.append(c)
        ep = uid("ep")
        sm.create_endpoint(EndpointName=ep, EndpointConfigName=cfgs[0])
        assert wait_status(sm, ep)["EndpointStatus"] == "InService"
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=cfgs[1], DeploymentConfig=canary_config({}, wait=600) | {"AutoRollbackConfiguration": {}})
        wait_pending_baking(sm, ep)
        s3.put_object(Bucket=bucket, Key="m0.tar.gz", Body=b"gone")
        h.kill9()
        h.start()
        sm = h.client("sagemaker")
        d = wait_status(sm, ep, timeout=120)
        assert d["EndpointStatus"] == "UpdateRollbackFailed", d
        assert "Rollback failed" in d["FailureReason"], d["FailureReason"]
        assert "rollback-failed" in cli(h, "deployments", "list", ep)
    finally:
        h.stop()
