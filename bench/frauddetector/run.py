#!/usr/bin/env python3
"""Fraud Detector quality and speed: Hearth against Python XGBoost and scikit-learn logistic
regression on the same engineered features, and GetEventPrediction latency over HTTP and in
process.

1. Synthetic transactions in the seed's record shape from `hearth fraud generate` (the
   frauddetector crate README documents the planted fraud patterns): the first 48 of 60 days
   are the training data.
2. `fraud_bench` (services/frauddetector/examples) trains exactly as a `frauddetector.train` job
   does (time-ordered split: latest 15% held out; rounds by early stopping on the latest 15% of
   the rest; final model on the whole training part), for ONLINE_FRAUD_INSIGHTS (event
   variables) and TRANSACTION_FRAUD_INSIGHTS (plus entity aggregates), writes the engineered
   features, and times in-process scoring (features, XGBoost, calibration, 3 rules).
3. Peers on those very features, same rows, same split, same held-out AUC:
   - Python `xgboost` (the same library version) with Hearth's parameters and procedure, and
     with XGBoost's defaults (100 rounds);
   - scikit-learn `LogisticRegression` (median imputation + missing indicators, standardised).
4. A release `hearth serve`: the OFI model trained through the API from an S3 CSV, a detector
   with 3 rules, then GetEventPrediction p50/p99 and predictions/s through boto3 (1 client
   thread, and 4 client threads), and through a lean keep-alive client (http.client + botocore's
   SigV4 signer, signing outside the clock) that shows the wire and the server alone.

Writes bench/results/frauddetector-<date>.json and .md.

Usage: python bench/frauddetector/run.py [--no-build] [--count 16000] [--requests 2000]
Needs: pip install xgboost-cpu==3.2.0 scikit-learn numpy
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import importlib.util
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time

import boto3
import numpy as np
from botocore.config import Config

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "aws"))
from test_frauddetector_data import VARIABLES, auc, generate, training_csv  # noqa: E402

START = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)
ROLE = "arn:aws:iam::123456789012:role/FraudDetectorData"


def load_s3_bench():
    spec = importlib.util.spec_from_file_location("s3bench", REPO / "bench" / "s3" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_matrix(path: pathlib.Path):
    data = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=np.float32, missing_values="", filling_values=np.nan)
    return data[:, 1:], data[:, 0]


def peers(out: pathlib.Path, hearth: dict) -> dict:
    import xgboost as xgb
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    tx, ty = read_matrix(out / "train.csv")
    vx, vy = read_matrix(out / "valid.csv")
    n_fit = hearth["fit_rows"]
    params = dict(hearth["params"])
    es_metric = params.pop("eval_metric", "logloss")
    res = {}
    # Same parameters and procedure as Hearth.
    t0 = time.perf_counter()
    dfit, dstop = xgb.DMatrix(tx[:n_fit], label=ty[:n_fit], missing=np.nan), xgb.DMatrix(tx[n_fit:], label=ty[n_fit:], missing=np.nan)
    probe = xgb.train({**params, "eval_metric": es_metric}, dfit, 1000, evals=[(dstop, "validation")], early_stopping_rounds=hearth["early_stopping_rounds"], verbose_eval=False)
    rounds = max(hearth["min_rounds"], probe.best_iteration + 1)
    final = xgb.train(params, xgb.DMatrix(tx, label=ty, missing=np.nan), rounds)
    p = final.predict(xgb.DMatrix(vx, missing=np.nan))
    res["python_xgboost_same_params"] = {"auc": auc(list(map(float, p)), list(vy > 0.5)), "rounds": rounds, "seconds": time.perf_counter() - t0}
    # XGBoost defaults.
    t0 = time.perf_counter()
    d = xgb.train({"objective": "binary:logistic", "nthread": params.get("nthread", "2")}, xgb.DMatrix(tx, label=ty, missing=np.nan), 100)
    p = d.predict(xgb.DMatrix(vx, missing=np.nan))
    res["python_xgboost_defaults_100_rounds"] = {"auc": auc(list(map(float, p)), list(vy > 0.5)), "rounds": 100, "seconds": time.perf_counter() - t0}
    # Logistic regression.
    t0 = time.perf_counter()
    lr = make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True), StandardScaler(), LogisticRegression(max_iter=3000))
    lr.fit(tx, ty)
    p = lr.predict_proba(vx)[:, 1]
    res["sklearn_logistic_regression"] = {"auc": auc(list(map(float, p)), list(vy > 0.5)), "seconds": time.perf_counter() - t0}
    return res


def offline(args, work: pathlib.Path, models_dir: pathlib.Path, csv_path: pathlib.Path, vars_path: pathlib.Path, model_type: str) -> dict:
    out = work / model_type.lower()
    exe = REPO / "target" / "release" / "examples" / "fraud_bench"
    cmd = [str(exe), "--data", str(csv_path), "--vars", str(vars_path), "--model-type", model_type, "--models-dir", str(models_dir), "--out", str(out), "--threads", str(args.threads), "--predictions", str(args.predictions)]
    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    res["peers"] = peers(out, res)
    return res


class LeanClient:
    """GetEventPrediction over one keep-alive connection: `http.client` and botocore's SigV4
    signer, nothing else. Each request is signed before the clock starts, so the time is the
    wire and the server (send, server work, receive, JSON decode)."""

    def __init__(self, endpoint: str, key: str, secret: str, region: str = "us-east-1"):
        import http.client
        import urllib.parse

        from botocore.auth import SigV4Auth
        from botocore.credentials import Credentials

        u = urllib.parse.urlparse(endpoint)
        self.host, self.port, self.url = u.hostname, u.port, endpoint + "/"
        self.conn = http.client.HTTPConnection(self.host, self.port)
        self.signer = SigV4Auth(Credentials(key, secret), "frauddetector", region)

    def signed(self, body: dict):
        from botocore.awsrequest import AWSRequest

        data = json.dumps(body, separators=(",", ":")).encode()
        req = AWSRequest(method="POST", url=self.url, data=data, headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSHawksNestServiceFacade.GetEventPrediction"})
        self.signer.add_auth(req)
        return data, dict(req.headers.items())

    def send(self, signed) -> dict:
        data, headers = signed
        self.conn.request("POST", "/", body=data, headers=headers)
        resp = self.conn.getresponse()
        out = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GetEventPrediction answered {resp.status}: {out[:300]!r}")
        return json.loads(out)


def over_http(args, s3bench, models_dir: pathlib.Path, work: pathlib.Path, history, live) -> dict:
    os.environ["HEARTH_MODELS_DIR"] = str(models_dir)
    # The gateway logs each request's server-side time (`ms=`) at info.
    os.environ["RUST_LOG"] = "warn,hearth::gateway=info"
    (work / "server").mkdir(parents=True, exist_ok=True)
    server = s3bench.Server(args.bin, work / "server")
    try:
        def client(name):
            return boto3.session.Session().client(
                name, endpoint_url=server.endpoint, region_name="us-east-1",
                aws_access_key_id=server.exports["AWS_ACCESS_KEY_ID"], aws_secret_access_key=server.exports["AWS_SECRET_ACCESS_KEY"],
                config=Config(retries={"total_max_attempts": 1}, max_pool_connections=16),
            )
        fd, s3 = client("frauddetector"), client("s3")
        fd.batch_create_variable(variableEntries=[{"name": n, "dataType": dt, "dataSource": "EVENT", "defaultValue": dv, "variableType": vt} for n, dt, vt, dv in VARIABLES])
        fd.put_entity_type(name="customer")
        fd.put_label(name="fraud"), fd.put_label(name="legit")
        for o in ("block", "investigate", "approve"):
            fd.put_outcome(name=o)
        fd.put_event_type(name="transaction_event", eventVariables=[v[0] for v in VARIABLES], labels=["fraud", "legit"], entityTypes=["customer"], eventIngestion="ENABLED")
        s3.create_bucket(Bucket="bench-fraud")
        s3.put_object(Bucket="bench-fraud", Key="train.csv", Body=training_csv(history))
        fd.create_model(modelId="ofi", modelType="ONLINE_FRAUD_INSIGHTS", eventTypeName="transaction_event")
        t0 = time.perf_counter()
        fd.create_model_version(
            modelId="ofi", modelType="ONLINE_FRAUD_INSIGHTS", trainingDataSource="EXTERNAL_EVENTS",
            trainingDataSchema={"modelVariables": [v[0] for v in VARIABLES], "labelSchema": {"labelMapper": {"FRAUD": ["fraud"], "LEGIT": ["legit"]}}},
            externalEventsDetail={"dataLocation": "s3://bench-fraud/train.csv", "dataAccessRoleArn": ROLE},
        )
        while fd.get_model_version(modelId="ofi", modelType="ONLINE_FRAUD_INSIGHTS", modelVersionNumber="1.0")["status"] == "TRAINING_IN_PROGRESS":
            time.sleep(0.1)
        train_wall = time.perf_counter() - t0
        fd.update_model_version_status(modelId="ofi", modelType="ONLINE_FRAUD_INSIGHTS", modelVersionNumber="1.0", status="ACTIVE")
        fd.put_detector(detectorId="bench", eventTypeName="transaction_event")
        rules = [fd.create_rule(ruleId=r, detectorId="bench", expression=e, language="DETECTORPL", outcomes=[o])["rule"] for r, e, o in [
            ("high", "$ofi_insightscore > 900", "block"), ("medium", "$ofi_insightscore > 700 and $transaction_amt > 100", "investigate"), ("low", "$ofi_insightscore <= 900", "approve")]]
        fd.create_detector_version(detectorId="bench", rules=rules, modelVersions=[{"modelId": "ofi", "modelType": "ONLINE_FRAUD_INSIGHTS", "modelVersionNumber": "1.0"}])
        fd.update_detector_version_status(detectorId="bench", detectorVersionId="1", status="ACTIVE")

        def call(i):
            t = live[i % len(live)]
            return fd.get_event_prediction(detectorId="bench", eventId=f"{t.event_id}-{i}", eventTypeName="transaction_event", eventTimestamp=t.event_time(),
                                           entities=[{"entityType": "customer", "entityId": t.entity_id}], eventVariables=dict(t.values))
        for i in range(50):
            call(i)  # warm up: compile the detector, load the model
        lat = []
        t0 = time.perf_counter()
        for i in range(args.requests):
            s = time.perf_counter()
            call(i)
            lat.append((time.perf_counter() - s) * 1000)
        seq_rate = args.requests / (time.perf_counter() - t0)
        clients = 4
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(clients) as ex:
            list(ex.map(call, range(args.requests)))
        par_rate = args.requests / (time.perf_counter() - t0)
        # The lean client: the wire and the server without boto3's own per-call work.
        lean = LeanClient(server.endpoint, server.exports["AWS_ACCESS_KEY_ID"], server.exports["AWS_SECRET_ACCESS_KEY"])

        def body(i):
            t = live[i % len(live)]
            return {"detectorId": "bench", "eventId": f"{t.event_id}-lean-{i}", "eventTypeName": "transaction_event", "eventTimestamp": t.event_time(),
                    "entities": [{"entityType": "customer", "entityId": t.entity_id}], "eventVariables": dict(t.values)}
        for i in range(50):
            lean.send(lean.signed(body(i)))
        # Rounds, so a loaded machine's preemptions of the client show as the spread between them.
        lean_lat, lean_rounds = [], []
        busy = 0.0
        for r in range(args.lean_rounds):
            round_lat = []
            for i in range(args.lean_requests):
                req = lean.signed(body(r * args.lean_requests + i))
                s = time.perf_counter()
                lean.send(req)
                d = time.perf_counter() - s
                busy += d
                round_lat.append(d * 1000)
            lean_rounds.append({"p50": s3bench.percentile(round_lat, 50), "p99": s3bench.percentile(round_lat, 99), "load_average_1min": os.getloadavg()[0]})
            lean_lat += round_lat
        lean_rate = len(lean_lat) / busy
        server_ms = []
        for raw in server.log_path.read_text(errors="replace").splitlines():
            line = re.sub(r"\x1b\[[0-9;]*m", "", raw)
            if "GetEventPrediction" in line and "status=200" in line:
                m = re.search(r"ms=([0-9.]+)", line)
                if m:
                    server_ms.append(float(m.group(1)))
        n = args.requests
        lean_server_ms = server_ms[50 + 2 * n + 50:50 + 2 * n + 50 + len(lean_lat)]  # the lean client's calls
        server_ms = server_ms[50:50 + n]  # boto3's sequential calls, without the warm-up
        return {
            "server_ms_p50": s3bench.percentile(server_ms, 50) if server_ms else None,
            "server_ms_p99": s3bench.percentile(server_ms, 99) if server_ms else None,
            "training_wall_seconds": train_wall,
            "requests": args.requests,
            "latency_ms_p50": s3bench.percentile(lat, 50),
            "latency_ms_p99": s3bench.percentile(lat, 99),
            "per_second_1_client": seq_rate,
            "per_second_4_clients": par_rate,
            "lean_server_ms_p99": s3bench.percentile(lean_server_ms, 99) if lean_server_ms else None,
            "load_average_1min": os.getloadavg()[0],
            "lean_latency_ms_p50": s3bench.percentile(lean_lat, 50),
            "lean_latency_ms_p99": s3bench.percentile(lean_lat, 99),
            "lean_per_second_wire_and_server": lean_rate,
            "lean_rounds": lean_rounds,
            "server_peak_rss_mib": server.peak_rss_mib(),
        }
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", type=pathlib.Path, default=REPO / "target" / "release" / "hearth")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--count", type=int, default=16000, help="transactions over 60 days (hearth fraud generate)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--predictions", type=int, default=20000)
    ap.add_argument("--lean-rounds", type=int, default=5)
    ap.add_argument("--lean-requests", type=int, default=1000, help="requests per round of the lean client")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out-dir", type=pathlib.Path, default=REPO / "bench" / "results")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "hearth", "-p", "hearth-frauddetector", "--bin", "hearth", "--example", "fraud_bench"], cwd=REPO, check=True)
    s3bench = load_s3_bench()
    models_dir = pathlib.Path(os.environ.get("HEARTH_TEST_MODELS_DIR", REPO / "target" / "test-models"))
    subprocess.run([str(args.bin), "models", "fetch", "xgboost"], env=dict(os.environ, HEARTH_MODELS_DIR=str(models_dir)), check=True, capture_output=True)

    txns = generate(count=args.count, days=60, seed=11, start=START, bin=args.bin)
    cutoff = START + datetime.timedelta(days=48)
    history = [t for t in txns if t.ts < cutoff]
    live = [t for t in txns if t.ts >= cutoff]
    work = pathlib.Path(tempfile.mkdtemp(prefix="hearth-bench-fraud-"))
    csv_path = work / "transactions.csv"
    csv_path.write_bytes(training_csv(history))
    vars_path = work / "variables.json"
    vars_path.write_text(json.dumps([list(v) for v in VARIABLES]))

    result = {
        "benchmark": "frauddetector",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hearth_commit": s3bench.git_commit(),
        "machine": {"cpus": os.cpu_count(), "cpu": s3bench.cpu_model(), "kernel": platform.release(), "python": platform.python_version()},
        "data": {"events": len(history), "fraud": sum(t.fraud for t in history), "generated": args.count},
        "offline": {},
    }
    for mt in ("ONLINE_FRAUD_INSIGHTS", "TRANSACTION_FRAUD_INSIGHTS"):
        result["offline"][mt] = offline(args, work, models_dir, csv_path, vars_path, mt)
        print(json.dumps(result["offline"][mt], indent=1))
    result["http"] = over_http(args, s3bench, models_dir, work, history, live)
    print(json.dumps(result["http"], indent=1))

    lines = [f"# Fraud Detector benchmark {result['date'][:10]}", "",
             f"hearth `{result['hearth_commit']}` (release) on {result['machine']['cpus']} CPUs ({result['machine']['cpu']}). "
             f"{result['data']['events']} synthetic transactions ({result['data']['fraud']} fraud), latest 15% held out. "
             "All AUCs on the same held-out rows and the same engineered features (see bench/frauddetector/README.md).", "",
             "| model | Hearth AUC | rounds | train s | Python xgboost, same params | Python xgboost, defaults | sklearn logistic regression |",
             "|---|---|---|---|---|---|---|"]
    for mt, r in result["offline"].items():
        p = r["peers"]
        lines.append(f"| {mt} | {r['auc']:.4f} | {r['rounds']} | {r['train_seconds_total']:.2f} | {p['python_xgboost_same_params']['auc']:.4f} | "
                     f"{p['python_xgboost_defaults_100_rounds']['auc']:.4f} | {p['sklearn_logistic_regression']['auc']:.4f} |")
    lines += ["", "| scoring | p50 | p99 | predictions/s |", "|---|---|---|---|"]
    for mt, r in result["offline"].items():
        ip = r["in_process"]
        lines.append(f"| in process, {mt} (features + XGBoost + calibration + 3 rules) | {ip['latency_us_p50']:.1f} µs | {ip['latency_us_p99']:.1f} µs | "
                     f"{ip['per_second_1_thread']:.0f} (1 thread), {ip['per_second_all_threads']:.0f} ({ip['threads']} threads) |")
    h = result["http"]
    lines.append(f"| GetEventPrediction over HTTP (boto3, OFI model, 3 rules), as the client sees it | {h['latency_ms_p50']:.2f} ms | {h['latency_ms_p99']:.2f} ms | "
                 f"{h['per_second_1_client']:.0f} (1 client), {h['per_second_4_clients']:.0f} (4 clients) |")
    lines.append(f"| GetEventPrediction over HTTP (lean keep-alive client: http.client + SigV4, signing outside the clock) | {h['lean_latency_ms_p50']:.2f} ms | {h['lean_latency_ms_p99']:.2f} ms | "
                 f"{h['lean_per_second_wire_and_server']:.0f} (1 client, time on the wire only; all rounds) |")
    if h.get("server_ms_p50") is not None:
        lines.append(f"| GetEventPrediction in the server (gateway: request read → reply written, SigV4 included) | {h['server_ms_p50']:.3f} ms | {h['server_ms_p99']:.3f} ms | |")
    rounds = h["lean_rounds"]
    lines += ["", "Lean client by round (" + str(len(rounds)) + f" × {args.lean_requests} calls): p99 " + ", ".join(f"{r['p99']:.2f} ms (load {r['load_average_1min']:.1f})" for r in rounds)
              + f"; median of the rounds' p99 {sorted(r['p99'] for r in rounds)[len(rounds) // 2]:.2f} ms."]
    lines += ["", f"Load average (1 min) at the end of the HTTP part: {h['load_average_1min']:.2f} on {result['machine']['cpus']} CPUs; "
              f"server-side p99 of the lean client's calls {h['lean_server_ms_p99'] or 0:.3f} ms."]
    lines += ["", f"Training through the API (CreateModelVersion → TRAINING_COMPLETE): {h['training_wall_seconds']:.1f} s. Server peak RSS {h['server_peak_rss_mib']:.0f} MiB."]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.out_dir / f"frauddetector-{result['date'][:10]}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".md").write_text(report)
    print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
