#!/usr/bin/env python3
"""SageMaker deployment guardrails under load: what an update costs the callers, and how fast a
failing canary is rolled back.

Starts its own `hearth serve` (fresh data directory, loopback port), deploys an XGBoost endpoint
with 3 instances, and keeps a steady InvokeEndpoint load on it from client threads (boto3, as a
user calls it). Then, in the same run:

  1. baseline  (the peer): the same endpoint under the same load with no deployment running —
     p50/p99 latency and failures;
  2. LINEAR    update to a healthy model (33 % steps, short bakes, rollback alarms attached):
     failed requests during the update (target 0) and p99 added over the baseline;
  3. failing CANARY: update to a model that answers every request with a model error; the
     rollback alarm (Invocation4XXErrors, 10 s period) goes to ALARM and the deployment rolls
     back. Measured: time from the alarm's state change (its DescribeAlarmHistory timestamp) to
     100 % of traffic on blue (the deployment's rollback event, `hearth deployments describe
     --json`), target < 1 s; and the requests that failed in that window.

Writes bench/results/guardrails-<date>.json and .md (with the load average: the machine is
shared).

Usage: python bench/guardrails/run.py [--bin PATH] [--rate 40] [--threads 2]
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import pathlib
import platform
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

import numpy as np
import xgboost as xgb

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "aws"))
from harness import Hearth, fetch_models  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROW = b".345,0.224414,.131102,0.042329,.279923,-0.110329,-0.099358,0.0"


def artifact(features: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-0.2, 0.4, size=(400, features)).astype(np.float32)
    y = (X[:, 0] * 3 + X[:, 1] > 0.3).astype(np.float32)
    raw = bytes(xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, label=y), 10).save_raw(raw_format="ubj"))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return out.getvalue()


class Load:
    """`threads` clients, each at `rate / threads` requests per second; records (start, end, ok)."""

    def __init__(self, h: Hearth, ep: str, rate: float, threads: int):
        self.h, self.ep, self.rate, self.threads = h, ep, rate, threads
        self.rows: list[tuple[float, float, bool]] = []
        self.stop = threading.Event()
        self.ts = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        rt = self.h.client("sagemaker-runtime")
        gap = self.threads / self.rate
        nxt = time.monotonic()
        while not self.stop.is_set():
            t0 = time.monotonic()
            ok = True
            try:
                rt.invoke_endpoint(EndpointName=self.ep, Body=ROW, ContentType="text/csv")["Body"].read()
            except Exception:  # noqa: BLE001
                ok = False
            self.rows.append((t0, time.monotonic(), ok))
            nxt += gap
            time.sleep(max(0.0, nxt - time.monotonic()))

    def start(self):
        for t in self.ts:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.ts:
            t.join(10)

    def window(self, a: float, b: float):
        rows = [r for r in list(self.rows) if a <= r[0] < b]
        lat = sorted((e - s) * 1000 for s, e, ok in rows if ok)
        pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")  # noqa: E731
        return {"requests": len(rows), "failed": sum(1 for r in rows if not r[2]), "p50_ms": round(pct(0.5), 2), "p99_ms": round(pct(0.99), 2)}


def wait_status(sm, ep, timeout=300):
    deadline = time.monotonic() + timeout
    while True:
        d = sm.describe_endpoint(EndpointName=ep)
        if d["EndpointStatus"] not in ("Creating", "Updating", "RollingBack"):
            return d
        if time.monotonic() > deadline:
            sys.exit(f"endpoint stuck: {d}")
        time.sleep(0.1)


def deployment_json(h: Hearth, ep: str, number: int) -> dict:
    out = subprocess.run([str(h_bin), "deployments", "describe", ep, "--number", str(number), "--json",
                          "--data-dir", str(h.data_dir), "--config", str(h.config_path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def ts_of(v) -> float:
    """A record timestamp (RFC 3339 string or epoch seconds) as epoch seconds."""
    if isinstance(v, (int, float)):
        return float(v)
    return datetime.datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()


def main():
    global h_bin
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / "target" / "release" / "hearth"))
    ap.add_argument("--rate", type=float, default=40.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--baseline-seconds", type=float, default=20.0)
    args = ap.parse_args()
    h_bin = pathlib.Path(args.bin)
    os.environ["HEARTH_BIN"] = str(h_bin)
    fetch_models("xgboost")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-guardrails-"))
    h = Hearth(work)
    h.start()
    result: dict = {"date": datetime.date.today().isoformat(), "binary": f"{h_bin.parent.name}/{h_bin.name}"}
    try:
        sm, s3, cw = h.client("sagemaker"), h.client("s3"), h.client("cloudwatch")
        s3.create_bucket(Bucket="bench")
        cfgs = {}
        for name, feats, seed in (("good", 8, 1), ("good2", 8, 3), ("bad", 12, 2)):
            s3.put_object(Bucket="bench", Key=f"{name}.tar.gz", Body=artifact(feats, seed))
            sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://bench/{name}.tar.gz"})
            sm.create_endpoint_config(EndpointConfigName=f"cfg-{name}", ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 3}])
            cfgs[name] = f"cfg-{name}"
        ep = "bench-guardrails"
        sm.create_endpoint(EndpointName=ep, EndpointConfigName=cfgs["good"])
        wait_status(sm, ep)
        alarm = "bench-4xx"
        cw.put_metric_alarm(AlarmName=alarm, Namespace="AWS/SageMaker", MetricName="Invocation4XXErrors", Statistic="Sum",
                            Dimensions=[{"Name": "EndpointName", "Value": ep}, {"Name": "VariantName", "Value": "AllTraffic"}],
                            Period=10, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching")
        rollback = {"Alarms": [{"AlarmName": alarm}]}
        load = Load(h, ep, args.rate, args.threads).start()
        time.sleep(2)  # warm up

        # 1. baseline
        t0 = time.monotonic()
        time.sleep(args.baseline_seconds)
        result["baseline"] = load.window(t0, time.monotonic())

        # 2. LINEAR to a healthy model
        t1 = time.monotonic()
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=cfgs["good2"], DeploymentConfig={
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 33}, "WaitIntervalInSeconds": 5},
                                      "TerminationWaitInSeconds": 2, "MaximumExecutionTimeoutInSeconds": 600},
            "AutoRollbackConfiguration": rollback})
        d = wait_status(sm, ep)
        t2 = time.monotonic()
        lin = load.window(t1, t2)
        lin["seconds"] = round(t2 - t1, 2)
        lin["ended_on"] = d["EndpointConfigName"]
        lin["added_p99_ms"] = round(lin["p99_ms"] - result["baseline"]["p99_ms"], 2)
        result["linear"] = lin

        # 3. failing CANARY
        t3 = time.monotonic()
        wall3 = time.time()
        sm.update_endpoint(EndpointName=ep, EndpointConfigName=cfgs["bad"], DeploymentConfig={
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 120},
                                      "TerminationWaitInSeconds": 2, "MaximumExecutionTimeoutInSeconds": 600},
            "AutoRollbackConfiguration": rollback})
        d = wait_status(sm, ep)
        t4 = time.monotonic()
        time.sleep(3)
        load.finish()
        dep = deployment_json(h, ep, 2)
        rb = next(e for e in dep["events"] if e["message"].startswith("rolling back"))
        rolled_back = ts_of(rb["time"])
        hist = cw.describe_alarm_history(AlarmName=alarm, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
        to_alarm = [i for i in hist if json.loads(i["HistoryData"])["newState"]["stateValue"] == "ALARM" and i["Timestamp"].timestamp() >= wall3 - 1]
        alarm_at = min(i["Timestamp"].timestamp() for i in to_alarm)
        # Requests failing between the alarm's change and the rollback (client clock ~ server clock: same machine).
        mono_off = time.monotonic() - time.time()
        failed_between = sum(1 for s, e, ok in load.rows if not ok and alarm_at + mono_off <= s < rolled_back + mono_off)
        after = [r for r in load.rows if r[0] >= rolled_back + mono_off + 0.05]
        result["failing_canary"] = {
            "alarm_to_all_on_blue_ms": round((rolled_back - alarm_at) * 1000, 1),
            "failed_between_alarm_and_rollback": failed_between,
            "failed_total_during_canary": sum(1 for s, e, ok in load.rows if not ok and t3 <= s < t4),
            "failed_after_rollback": sum(1 for r in after if not r[2]),
            "canary_to_alarm_seconds": round(alarm_at - wall3, 2),
            "ended_on": d["EndpointConfigName"],
            "failure_reason": d.get("FailureReason"),
        }
        result["load"] = {"rate_rps": args.rate, "threads": args.threads}
        result["loadavg"] = os.getloadavg()
        result["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
        result["commit"] = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    finally:
        h.stop()
    out = REPO / "bench" / "results" / f"guardrails-{result['date']}"
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    b, lin, fc = result["baseline"], result["linear"], result["failing_canary"]
    md = f"""# Deployment guardrails — {result['date']}

Hearth {result['commit']} ({result['binary']}), {result['machine']['cpus']} CPUs, load average {', '.join(f'{x:.2f}' for x in result['loadavg'])} (shared machine).
Steady load: {result['load']['rate_rps']:.0f} InvokeEndpoint/s from {result['load']['threads']} boto3 threads; endpoint of 3 instances (XGBoost).

| phase | requests | failed | p50 ms | p99 ms | notes |
|---|---|---|---|---|---|
| baseline, no deployment (peer) | {b['requests']} | {b['failed']} | {b['p50_ms']} | {b['p99_ms']} | |
| LINEAR 33 % steps to a healthy model | {lin['requests']} | **{lin['failed']}** | {lin['p50_ms']} | {lin['p99_ms']} | added p99 **{lin['added_p99_ms']} ms**, {lin['seconds']} s, ended on {lin['ended_on']} |

Failing CANARY (1 of 3 instances, model errors on every request), rollback alarm Invocation4XXErrors ≥ 1 per 10 s:

| measure | value |
|---|---|
| alarm state change → 100 % traffic on blue | **{fc['alarm_to_all_on_blue_ms']} ms** (target < 1000) |
| requests failed between the alarm's change and the rollback | {fc['failed_between_alarm_and_rollback']} |
| requests failed during the whole canary (canary share until the alarm fired) | {fc['failed_total_during_canary']} |
| requests failed after the rollback | {fc['failed_after_rollback']} |
| canary start → alarm (CloudWatch evaluates on 10 s periods) | {fc['canary_to_alarm_seconds']} s |
| ended on | {fc['ended_on']} |
"""
    out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
