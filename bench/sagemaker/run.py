#!/usr/bin/env python3
"""SageMaker hosting speed: InvokeEndpoint on a Hearth endpoint against Python xgboost behind a
minimal HTTP server serving the same model file, in the same run; cold start from zero against
warm latency; training time against Python xgboost with the same parameters.

1. Data: scikit-learn's diabetes set (first 8 features) or the tests' fixed synthetic set
   (tests/aws/test_sagemaker.py `regression_data`), label first, 80/20 split.
2. A release `hearth serve` trains the seed's job (built-in XGBoost, objective reg:linear,
   50 rounds, max_depth 5, eta 0.2, gamma 4, min_child_weight 6, subsample 0.7) from S3;
   Python xgboost trains the same rows with the same parameters (from the same CSV files).
3. The trained `model.tar.gz` is served by (a) a Hearth instance endpoint (ml.m5.xlarge × 1),
   and (b) the peer: `peer_server.py`, stdlib `http.server` (threading, keep-alive) with
   Python xgboost's `inplace_predict` on the same `xgboost-model` file, answering
   `POST /invocations` with text/csv like the container.
4. Load: ApacheBench (`ab -k`, apt package apache2-utils) with 1, 8 and 32 keep-alive
   connections, one 8-feature CSV row per request (the seed's call). Requests to Hearth carry
   a SigV4 signature made once by botocore's signer (a signed request may be sent again
   within 15 minutes), so both sides get the same client. Latency p50/p99 and requests/s.
   The server's own time per InvokeEndpoint (gateway: request read → reply written) is read
   from its log.
5. Cold start: a serverless endpoint (2048 MB, MaxConcurrency 8) scaled to zero after 2 s
   idle; the first call after each scale-to-zero against warm calls, plus ModelSetupTime.

Writes bench/results/sagemaker-<date>.json and .md.

Usage: python bench/sagemaker/run.py [--no-build] [--requests 3000]
Needs: xgboost-cpu 3.2.0, numpy (scikit-learn optional).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import io
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tarfile
import tempfile
import time

import boto3
import numpy as np
from botocore.config import Config

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "aws"))
from test_sagemaker import PY_PARAMS, SEED_HYPERPARAMETERS, XGB_IMAGE, regression_data, split, to_csv  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole"
ROW = b".345,0.224414,.131102,0.042329,.279923,-0.110329,-0.099358,0.0"


def load_s3_bench():
    spec = importlib.util.spec_from_file_location("s3bench", REPO / "bench" / "s3" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- load generation -------------------------------------------------------------------------


def signed_headers(url: str, key: str, secret: str) -> dict:
    """SigV4 headers for POST `url` with the row as body (botocore's signer). SigV4 allows a
    signed request to be sent again within its 15 minutes, so one signature serves a run."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    r = AWSRequest(method="POST", url=url, data=ROW, headers={"Content-Type": "text/csv"})
    SigV4Auth(Credentials(key, secret), "sagemaker", "us-east-1").add_auth(r)
    return dict(r.headers.items())


def load(url: str, headers: dict, clients: int, total: int, work: pathlib.Path) -> dict:
    """ApacheBench: `clients` keep-alive connections, `total` requests of the row."""
    body = work / "row.csv"
    body.write_bytes(ROW)
    pct_file = work / f"ab-{clients}-{time.monotonic_ns()}.csv"
    cmd = ["ab", "-q", "-k", "-n", str(total), "-c", str(clients), "-p", str(body), "-T", "text/csv", "-e", str(pct_file)]
    for k, v in headers.items():
        if k.lower() not in ("content-type", "content-length", "host"):
            cmd += ["-H", f"{k}: {v}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    pct = {}
    for line in pct_file.read_text().splitlines()[1:]:
        p, t = line.split(",")
        pct[int(float(p))] = float(t)
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    if non2xx or failed:
        raise RuntimeError(f"{url}: errors under load:\n{out}")
    return {"clients": clients, "requests": total, "p50_ms": pct[50], "p99_ms": pct[99], "per_second": float(re.search(r"Requests per second:\s+([0-9.]+)", out).group(1))}


# -- the peer --------------------------------------------------------------------------------


def start_peer(model_path: pathlib.Path, s3bench) -> tuple[subprocess.Popen, str]:
    port = s3bench.free_port()
    proc = subprocess.Popen([sys.executable, str(pathlib.Path(__file__).with_name("peer_server.py")), str(model_path), str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = []
    while True:
        line = proc.stdout.readline().decode()
        seen.append(line)
        if "ready" in line:
            break
        if not line or len(seen) >= 20:
            proc.kill()
            sys.exit("the peer server did not start:\n" + "".join(seen))
    return proc, f"http://127.0.0.1:{port}/invocations"


# -- main --------------------------------------------------------------------------------------


def server_ms(log_path: pathlib.Path, op: str) -> list[float]:
    out = []
    for raw in log_path.read_text(errors="replace").splitlines():
        line = re.sub(r"\x1b\[[0-9;]*m", "", raw)
        if op in line and "status=200" in line:
            m = re.search(r"ms=([0-9.]+)", line)
            if m:
                out.append(float(m.group(1)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", type=pathlib.Path, default=REPO / "target" / "release" / "hearth")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--requests", type=int, default=20000, help="requests per concurrency level and peer")
    ap.add_argument("--cold-starts", type=int, default=5)
    ap.add_argument("--out-dir", type=pathlib.Path, default=REPO / "bench" / "results")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "hearth", "--bin", "hearth"], cwd=REPO, check=True)
    s3bench = load_s3_bench()
    models_dir = pathlib.Path(os.environ.get("HEARTH_TEST_MODELS_DIR", REPO / "target" / "test-models"))
    subprocess.run([str(args.bin), "models", "fetch", "xgboost"], env=dict(os.environ, HEARTH_MODELS_DIR=str(models_dir)), check=True, capture_output=True)
    import xgboost as xgb

    work = pathlib.Path(tempfile.mkdtemp(prefix="hearth-bench-sagemaker-"))
    name, X, y = regression_data()
    (Xt, yt), (Xv, yv) = split(X, y)
    train_csv, valid_csv = to_csv(Xt, yt), to_csv(Xv, yv)
    (work / "train.csv").write_bytes(train_csv)
    (work / "validation.csv").write_bytes(valid_csv)

    os.environ["HEARTH_MODELS_DIR"] = str(models_dir)
    os.environ["RUST_LOG"] = "warn,hearth::gateway=info"
    os.environ["HEARTH_SAGEMAKER_SERVERLESS_IDLE_SECONDS"] = "2"
    (work / "server").mkdir()
    server = s3bench.Server(args.bin, work / "server")
    result = {
        "benchmark": "sagemaker",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hearth_commit": s3bench.git_commit(),
        "machine": {"cpus": os.cpu_count(), "cpu": s3bench.cpu_model(), "kernel": platform.release(), "python": platform.python_version(), "xgboost": xgb.__version__},
        "data": {"name": name, "train_rows": len(yt), "validation_rows": len(yv)},
    }
    peer = None
    try:
        def client(svc):
            return boto3.session.Session().client(svc, endpoint_url=server.endpoint, region_name="us-east-1",
                                                  aws_access_key_id=server.exports["AWS_ACCESS_KEY_ID"], aws_secret_access_key=server.exports["AWS_SECRET_ACCESS_KEY"],
                                                  config=Config(retries={"total_max_attempts": 1}))
        sm, rt, s3, cw = client("sagemaker"), client("sagemaker-runtime"), client("s3"), client("cloudwatch")
        s3.create_bucket(Bucket="bench-sm")
        s3.put_object(Bucket="bench-sm", Key="data/train.csv", Body=train_csv)
        s3.put_object(Bucket="bench-sm", Key="data/validation.csv", Body=valid_csv)

        # -- training
        def channel(n):
            return {"ChannelName": n, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://bench-sm/data/{n}.csv"}}, "ContentType": "text/csv"}
        t0 = time.perf_counter()
        sm.create_training_job(
            TrainingJobName="bench-train", AlgorithmSpecification={"TrainingImage": XGB_IMAGE, "TrainingInputMode": "File"}, RoleArn=ROLE,
            InputDataConfig=[channel("train"), channel("validation")], OutputDataConfig={"S3OutputPath": "s3://bench-sm/out"},
            ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5}, StoppingCondition={"MaxRuntimeInSeconds": 3600},
            HyperParameters=SEED_HYPERPARAMETERS)
        while True:
            d = sm.describe_training_job(TrainingJobName="bench-train")
            if d["TrainingJobStatus"] != "InProgress":
                break
            time.sleep(0.02)
        train_wall = time.perf_counter() - t0
        assert d["TrainingJobStatus"] == "Completed", d
        t0 = time.perf_counter()
        tr = np.loadtxt(work / "train.csv", delimiter=",", dtype=np.float32)
        va = np.loadtxt(work / "validation.csv", delimiter=",", dtype=np.float32)
        dtrain, dvalid = xgb.DMatrix(tr[:, 1:], label=tr[:, 0]), xgb.DMatrix(va[:, 1:], label=va[:, 0])
        t1 = time.perf_counter()
        evals = {}
        xgb.train(PY_PARAMS, dtrain, 50, evals=[(dtrain, "train"), (dvalid, "validation")], evals_result=evals, verbose_eval=False)
        py_train = time.perf_counter() - t1
        py_total = time.perf_counter() - t0
        metrics = {m["MetricName"]: m["Value"] for m in d.get("FinalMetricDataList", [])}
        result["training"] = {
            "hearth_api_wall_seconds": train_wall,
            "hearth_job_seconds": (d["TrainingEndTime"] - d["TrainingStartTime"]).total_seconds(),
            "hearth_validation_rmse": metrics.get("validation:rmse"),
            "python_train_seconds": py_train,
            "python_parse_and_train_seconds": py_total,
            "python_validation_rmse": evals["validation"]["rmse"][-1],
        }
        print(json.dumps(result["training"], indent=1))

        # -- endpoints
        url = d["ModelArtifacts"]["S3ModelArtifacts"]
        sm.create_model(ModelName="bench-model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": url})
        sm.create_endpoint_config(EndpointConfigName="bench-rt", ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "bench-model", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1}])
        sm.create_endpoint_config(EndpointConfigName="bench-sl", ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "bench-model", "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 8}}])
        sm.create_endpoint(EndpointName="bench-rt", EndpointConfigName="bench-rt")
        sm.create_endpoint(EndpointName="bench-sl", EndpointConfigName="bench-sl")
        for ep in ("bench-rt", "bench-sl"):
            while sm.describe_endpoint(EndpointName=ep)["EndpointStatus"] == "Creating":
                time.sleep(0.05)
        bucket, key = url[len("s3://"):].split("/", 1)
        with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()), mode="r:gz") as tar:
            (work / "xgboost-model").write_bytes(tar.extractfile("xgboost-model").read())
        hearth_pred = float(rt.invoke_endpoint(EndpointName="bench-rt", Body=ROW, ContentType="text/csv")["Body"].read())
        peer, peer_url = start_peer(work / "xgboost-model", s3bench)
        import urllib.request
        peer_pred = float(urllib.request.urlopen(urllib.request.Request(peer_url, data=ROW, headers={"Content-Type": "text/csv"})).read())
        result["same_prediction"] = {"hearth": hearth_pred, "python": peer_pred}
        assert abs(hearth_pred - peer_pred) <= 1e-5 * max(1.0, abs(peer_pred)), result["same_prediction"]

        # -- warm load at 1, 8, 32 clients
        hearth_url = f"{server.endpoint}/endpoints/bench-rt/invocations"
        result["load"] = []
        for c in (1, 8, 32):
            hdrs = signed_headers(hearth_url, server.exports["AWS_ACCESS_KEY_ID"], server.exports["AWS_SECRET_ACCESS_KEY"])
            load(hearth_url, hdrs, c, min(500, args.requests), work)  # warm-up
            load(peer_url, {}, c, min(500, args.requests), work)
            before = len(server_ms(server.log_path, "InvokeEndpoint"))
            h = load(hearth_url, hdrs, c, args.requests, work)
            sms = server_ms(server.log_path, "InvokeEndpoint")[before:]
            h["server_p50_ms"] = s3bench.percentile(sms, 50) if sms else None
            h["server_p99_ms"] = s3bench.percentile(sms, 99) if sms else None
            p = load(peer_url, {}, c, args.requests, work)
            row = {"clients": c, "hearth": h, "python_xgboost_http_server": p, "throughput_ratio": h["per_second"] / p["per_second"], "load_average_1min": os.getloadavg()[0]}
            print(json.dumps(row, indent=1))
            result["load"].append(row)

        # -- cold starts (serverless, scaled to zero after 2 s idle)
        def once(ep):
            s = time.perf_counter()
            rt.invoke_endpoint(EndpointName=ep, Body=ROW, ContentType="text/csv")
            return (time.perf_counter() - s) * 1000
        cold, warm = [], []
        for _ in range(args.cold_starts):
            time.sleep(3.0)  # idle 2 s + the reaper's 0.5 s tick
            cold.append(once("bench-sl"))
            warm.extend(once("bench-sl") for _ in range(50))
        time.sleep(2.5)  # metrics are written once a second, then batched by the store
        setup = cw.get_metric_statistics(Namespace="AWS/SageMaker", MetricName="ModelSetupTime", Dimensions=[{"Name": "EndpointName", "Value": "bench-sl"}, {"Name": "VariantName", "Value": "AllTraffic"}],
                                         StartTime=time.time() - 3600, EndTime=time.time() + 60, Period=3600, Statistics=["Average", "Maximum", "SampleCount"])["Datapoints"]
        result["cold_start"] = {
            "cold_ms": cold,
            "cold_p50_ms": s3bench.percentile(cold, 50),
            "warm_p50_ms": s3bench.percentile(warm, 50),
            "warm_p99_ms": s3bench.percentile(warm, 99),
            "model_setup_time_us": setup[0] if setup else None,
            "note": "boto3 client, one call at a time; cold = first call after scale to zero",
        }
        print(json.dumps(result["cold_start"], indent=1, default=str))
        result["server_peak_rss_mib"] = server.peak_rss_mib()
    finally:
        if peer:
            peer.terminate()
        server.stop()

    lines = [f"# SageMaker hosting benchmark {result['date'][:10]}", "",
             f"hearth `{result['hearth_commit']}` (release) on {result['machine']['cpus']} CPUs ({result['machine']['cpu']}), Python xgboost {result['machine']['xgboost']}. "
             f"Data: {result['data']['name']}, {result['data']['train_rows']} training rows. Client and servers share the machine.", "",
             "## InvokeEndpoint (one 8-feature CSV row per request), warm", "",
             "| clients | Hearth p50 | Hearth p99 | Hearth req/s | Hearth server-side p50 / p99 | Python xgboost + http.server p50 | p99 | req/s | throughput ratio | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["load"]:
        h, p = r["hearth"], r["python_xgboost_http_server"]
        sp = f"{h['server_p50_ms']:.3f} / {h['server_p99_ms']:.3f} ms" if h.get("server_p50_ms") is not None else "n/a"
        lines.append(f"| {r['clients']} | {h['p50_ms']:.2f} ms | {h['p99_ms']:.2f} ms | {h['per_second']:.0f} | {sp} | {p['p50_ms']:.2f} ms | {p['p99_ms']:.2f} ms | {p['per_second']:.0f} | {r['throughput_ratio']:.2f}× | {r['load_average_1min']:.2f} |")
    c = result["cold_start"]
    st = c["model_setup_time_us"] or {}
    lines += ["", "## Cold start (serverless, scaled to zero) vs warm, boto3, one call at a time", "",
              f"cold (first call after scale to zero): p50 {c['cold_p50_ms']:.1f} ms (all: {', '.join(f'{x:.1f}' for x in c['cold_ms'])} ms); "
              f"warm: p50 {c['warm_p50_ms']:.2f} ms, p99 {c['warm_p99_ms']:.2f} ms; "
              f"ModelSetupTime average {st.get('Average', float('nan')) / 1000:.1f} ms, max {st.get('Maximum', float('nan')) / 1000:.1f} ms over {st.get('SampleCount', 0):.0f} cold starts."]
    t = result["training"]
    lines += ["", "## Training (seed hyper-parameters, 50 rounds)", "",
              "| | seconds | validation RMSE |", "|---|---|---|",
              f"| Hearth, CreateTrainingJob → Completed (API wall: S3 read, parse, train, upload) | {t['hearth_api_wall_seconds']:.2f} | {t['hearth_validation_rmse']} |",
              f"| Hearth, TrainingStartTime → TrainingEndTime | {t['hearth_job_seconds']:.2f} | |",
              f"| Python xgboost, xgb.train only | {t['python_train_seconds']:.2f} | {t['python_validation_rmse']:.4f} |",
              f"| Python xgboost, np.loadtxt + DMatrix + train | {t['python_parse_and_train_seconds']:.2f} | |",
              "", f"Server peak RSS {result['server_peak_rss_mib']:.0f} MiB. Same prediction for the seed row: Hearth {result['same_prediction']['hearth']}, Python {result['same_prediction']['python']}."]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.out_dir / f"sagemaker-{result['date'][:10]}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    stem.with_suffix(".md").write_text(report)
    print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
