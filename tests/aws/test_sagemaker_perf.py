"""SageMaker numbers, printed (run with `-s`), never asserted: training time and RMSE against
Python xgboost on the same data in the same run, InvokeEndpoint latency (client round trip and
the server's ModelLatency / OverheadLatency percentiles from CloudWatch), and serverless cold
starts (ModelSetupTime). What is asserted is only that the measurements happened.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest
import xgboost as xgb

from test_sagemaker import (
    ABALONE_ROW, PY_PARAMS, create_training_job, deploy, fetch_xgboost, regression_data, split, to_csv, uid,
    wait_training,
)


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))]


def server_percentiles(cw, ep, variant, metric):
    dims = [{"Name": "EndpointName", "Value": ep}, {"Name": "VariantName", "Value": variant}]
    deadline = time.monotonic() + 10
    while True:
        pts = cw.get_metric_statistics(
            Namespace="AWS/SageMaker", MetricName=metric, Dimensions=dims, StartTime=time.time() - 3600, EndTime=time.time() + 60,
            Period=3600, ExtendedStatistics=["p50", "p99"],
        )["Datapoints"]
        if pts or time.monotonic() > deadline:
            return pts[0]["ExtendedStatistics"] if pts else {}
        time.sleep(0.5)


def test_training_time_and_rmse_vs_python(hearth, s3):
    fetch_xgboost()
    sm = hearth.client("sagemaker")
    bucket = uid("perf")
    s3.create_bucket(Bucket=bucket)
    name, X, y = regression_data()
    (Xt, yt), (Xv, yv) = split(X, y)
    s3.put_object(Bucket=bucket, Key="xgboost-regression/train.csv", Body=to_csv(Xt, yt))
    s3.put_object(Bucket=bucket, Key="xgboost-regression/validation.csv", Body=to_csv(Xv, yv))
    hearth_walls, py_walls = [], []
    for _ in range(3):
        job = uid("perf")
        t = time.perf_counter()
        create_training_job(sm, job, bucket, validation=True)
        d = wait_training(sm, job)
        hearth_walls.append(time.perf_counter() - t)
        assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
        rmse_h = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}["validation:rmse"]
        t = time.perf_counter()
        # What the training job does, in Python: parse the CSV, build the matrices, train.
        tr = np.loadtxt(to_csv(Xt, yt).decode().splitlines(), delimiter=",", dtype=np.float32)
        va = np.loadtxt(to_csv(Xv, yv).decode().splitlines(), delimiter=",", dtype=np.float32)
        dt, dv = xgb.DMatrix(tr[:, 1:], label=tr[:, 0]), xgb.DMatrix(va[:, 1:], label=va[:, 0])
        res = {}
        xgb.train(PY_PARAMS, dt, num_boost_round=50, evals=[(dt, "train"), (dv, "validation")], evals_result=res, verbose_eval=False)
        py_walls.append(time.perf_counter() - t)
        rmse_p = res["validation"]["rmse"][-1]
    print(
        f"\n[sagemaker perf] training on {name}, 50 rounds, seed hyper-parameters: Hearth CreateTrainingJob→Completed "
        f"min {min(hearth_walls):.3f} s (runs {', '.join(f'{w:.2f}' for w in hearth_walls)}); Python parse+DMatrix+train "
        f"min {min(py_walls):.3f} s; validation RMSE Hearth {rmse_h:.4f} vs Python {rmse_p:.4f}"
    )


def test_invocation_latency(hearth, s3):
    fetch_xgboost()
    sm, rt, cw = hearth.client("sagemaker"), hearth.client("sagemaker-runtime"), hearth.client("cloudwatch")
    bucket = uid("perf")
    s3.create_bucket(Bucket=bucket)
    _, X, y = regression_data()
    bst = xgb.train(PY_PARAMS, xgb.DMatrix(X, label=y), num_boost_round=50)
    from test_sagemaker import upload_python_model

    url = upload_python_model(s3, bucket, bst, "ubj")
    for kind, variant in (
        ("serverless 4096 MB", {"VariantName": "v", "ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 5}}),
        ("instance ml.m5.large", {"VariantName": "v", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}),
    ):
        ep, d = deploy(sm, url, [variant])
        assert d["EndpointStatus"] == "InService"
        rt.invoke_endpoint(EndpointName=ep, Body=ABALONE_ROW, ContentType="text/csv")["Body"].read()  # warm (cold start for serverless)
        lat = []
        for _ in range(300):
            t = time.perf_counter()
            rt.invoke_endpoint(EndpointName=ep, Body=ABALONE_ROW, ContentType="text/csv")["Body"].read()
            lat.append((time.perf_counter() - t) * 1000)
        model = server_percentiles(cw, ep, "v", "ModelLatency")
        overhead = server_percentiles(cw, ep, "v", "OverheadLatency")
        print(
            f"\n[sagemaker perf] {kind}, one abalone row, 300 sequential boto3 calls: client p50 {pct(lat, 50):.2f} ms, "
            f"p99 {pct(lat, 99):.2f} ms, mean {statistics.mean(lat):.2f} ms; server ModelLatency p50/p99 "
            f"{model.get('p50', float('nan')):.0f}/{model.get('p99', float('nan')):.0f} µs, OverheadLatency p50/p99 "
            f"{overhead.get('p50', float('nan')):.0f}/{overhead.get('p99', float('nan')):.0f} µs"
        )
        assert len(lat) == 300


@pytest.fixture
def idle_hearth(tmp_path, monkeypatch):
    from harness import Hearth

    monkeypatch.setenv("HEARTH_SAGEMAKER_SERVERLESS_IDLE_SECONDS", "0.5")
    fetch_xgboost()
    server = Hearth(tmp_path / "hearth")
    server.start()
    yield server
    server.stop()


def test_cold_start(idle_hearth):
    h = idle_hearth
    sm, rt, s3, cw = h.client("sagemaker"), h.client("sagemaker-runtime"), h.client("s3"), h.client("cloudwatch")
    bucket = uid("cold")
    s3.create_bucket(Bucket=bucket)
    _, X, y = regression_data()
    bst = xgb.train(PY_PARAMS, xgb.DMatrix(X, label=y), num_boost_round=50)
    from test_sagemaker import upload_python_model

    ep, _ = deploy(sm, upload_python_model(s3, bucket, bst, "ubj"), [{"VariantName": "v", "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}])
    cold, warm = [], []
    for _ in range(5):
        t = time.perf_counter()
        rt.invoke_endpoint(EndpointName=ep, Body=ABALONE_ROW, ContentType="text/csv")["Body"].read()
        cold.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        rt.invoke_endpoint(EndpointName=ep, Body=ABALONE_ROW, ContentType="text/csv")["Body"].read()
        warm.append((time.perf_counter() - t) * 1000)
        time.sleep(1.2)
    setup = server_percentiles(cw, ep, "v", "ModelSetupTime")
    print(
        f"\n[sagemaker perf] serverless cold start (scale from zero, 50-tree model): client median {statistics.median(cold):.1f} ms "
        f"(runs {', '.join(f'{c:.1f}' for c in cold)}) vs warm median {statistics.median(warm):.2f} ms; "
        f"server ModelSetupTime p50/p99 {setup.get('p50', float('nan')) / 1000:.1f}/{setup.get('p99', float('nan')) / 1000:.1f} ms"
    )
    assert len(cold) == 5
