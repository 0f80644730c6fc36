#!/usr/bin/env python3
"""S3 throughput and latency of `hearth serve` through boto3, against a plain local file copy.

Starts its own release-built `hearth serve` on 127.0.0.1 with a fresh data directory, then times,
with boto3 as a user calls it:

  put_object / get_object (body read fully)   1 MiB x 50 and 256 MiB x 3
  upload_file / download_file (TransferConfig defaults: 8 MiB multipart, 10 threads)   256 MiB x 3

The peer runs in the same process, on the same bytes and the same filesystem, in the same run:

  writes (put_object, upload_file)  <->  shutil.copyfile + fsync   (a durable local copy)
  get_object                        <->  open + read fully        (a local read)
  download_file                     <->  shutil.copyfile          (a local copy, no fsync)

Prints a table with throughput (MiB/s), p50/p99 latency and the ratio to the peer, plus the
server's peak RSS (VmHWM), and writes bench/results/s3-<date>.json and .md.

Usage: python bench/s3/run.py [--no-build] [--bin PATH] [--small-n 50] [--large-n 3]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import boto3
import botocore
import requests
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

REPO = pathlib.Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
EXPORT_RE = re.compile(r"^\s*export\s+(AWS_[A-Z0-9_]+)=(.*?)\s*$")


# -- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`hearth serve` on a free loopback port with its own data directory."""

    def __init__(self, binary: pathlib.Path, workdir: pathlib.Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "hearth.log"
        self.data_dir = workdir / "data"
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--listen", f"127.0.0.1:{self.port}",
             "--data-dir", str(self.data_dir)],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"hearth serve exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if requests.get(f"{self.endpoint}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"hearth serve not healthy after 60 s:\n{self.tail()}")
            time.sleep(0.05)
        exports = {}
        for line in self.log_path.read_text(errors="replace").splitlines():
            m = EXPORT_RE.match(line)
            if m:
                exports[m.group(1)] = m.group(2).strip("'\"")
        if "AWS_ACCESS_KEY_ID" not in exports:
            sys.exit(f"hearth serve printed no credentials:\n{self.tail()}")
        self.exports = exports

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])

    def peak_rss_mib(self) -> float:
        """VmHWM of the server process, in MiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def client(self):
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.exports["AWS_SECRET_ACCESS_KEY"],
            region_name=self.exports.get("AWS_DEFAULT_REGION", "us-east-1"),
            config=Config(retries={"total_max_attempts": 1}, max_pool_connections=16),
        )

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# -- measuring -----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def timed(n: int, fn) -> list[float]:
    """Run fn(i) n times; the wall time of each call in seconds."""
    out = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out


def summary(name: str, peer: str, size: int, times: list[float], peer_times: list[float]) -> dict:
    def stats(ts):
        return {
            "mib_per_s": size * len(ts) / MiB / sum(ts),
            "p50_ms": percentile(ts, 50) * 1000,
            "p99_ms": percentile(ts, 99) * 1000,
        }

    hearth, local = stats(times), stats(peer_times)
    return {
        "op": name,
        "size_bytes": size,
        "n": len(times),
        "hearth": hearth,
        "peer_op": peer,
        "peer": local,
        "throughput_ratio": hearth["mib_per_s"] / local["mib_per_s"],
    }


def fsync_copy(src: pathlib.Path, dst: pathlib.Path) -> None:
    shutil.copyfile(src, dst)
    with open(dst, "rb+") as f:
        os.fsync(f.fileno())


def read_fully(path: pathlib.Path) -> None:
    with open(path, "rb") as f:
        while f.read(8 * MiB):
            pass


def bench_size(s3, bucket: str, work: pathlib.Path, size: int, n: int, transfers: bool) -> list:
    label = f"{size // MiB}MiB"
    src = work / f"src-{label}.bin"
    with open(src, "wb") as f:
        left = size
        while left:
            chunk = min(left, 8 * MiB)
            f.write(os.urandom(chunk))
            left -= chunk
    data = src.read_bytes()
    rows = []

    # Writes.
    put = timed(n, lambda i: s3.put_object(Bucket=bucket, Key=f"put-{label}-{i}", Body=data))
    peer_put = timed(n, lambda i: fsync_copy(src, work / f"copy-{label}-{i}"))
    rows.append(summary("put_object", "copyfile+fsync", size, put, peer_put))

    # Reads.
    get = timed(
        n, lambda i: s3.get_object(Bucket=bucket, Key=f"put-{label}-{i}")["Body"].read()
    )
    peer_get = timed(n, lambda i: read_fully(work / f"copy-{label}-{i}"))
    rows.append(summary("get_object", "read", size, get, peer_get))

    if transfers:
        config = TransferConfig()
        up = timed(
            n, lambda i: s3.upload_file(str(src), bucket, f"up-{label}-{i}", Config=config)
        )
        peer_up = timed(n, lambda i: fsync_copy(src, work / f"copy2-{label}-{i}"))
        rows.append(summary("upload_file", "copyfile+fsync", size, up, peer_up))

        down = timed(
            n,
            lambda i: s3.download_file(
                bucket, f"up-{label}-{i}", str(work / f"down-{label}-{i}"), Config=config
            ),
        )
        peer_down = timed(
            n, lambda i: shutil.copyfile(src, work / f"copy3-{label}-{i}")
        )
        rows.append(summary("download_file", "copyfile", size, down, peer_down))
        for i in range(n):
            (work / f"down-{label}-{i}").unlink()
            (work / f"copy2-{label}-{i}").unlink()
            (work / f"copy3-{label}-{i}").unlink()

    for i in range(n):
        (work / f"copy-{label}-{i}").unlink()
    src.unlink()
    return rows


# -- reporting -----------------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    lines = [
        "| op | size | n | hearth MiB/s | p50 ms | p99 ms | peer | peer MiB/s | peer p50 ms | ratio |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        h, p = r["hearth"], r["peer"]
        lines.append(
            f"| {r['op']} | {r['size_bytes'] // MiB} MiB | {r['n']} | {h['mib_per_s']:.1f} | "
            f"{h['p50_ms']:.1f} | {h['p99_ms']:.1f} | {r['peer_op']} | {p['mib_per_s']:.1f} | "
            f"{p['p50_ms']:.1f} | {r['throughput_ratio']:.2f} |"
        )
    return "\n".join(lines)


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", type=pathlib.Path, default=REPO / "target" / "release" / "hearth")
    ap.add_argument("--no-build", action="store_true", help="don't run cargo build --release")
    ap.add_argument("--small-n", type=int, default=50)
    ap.add_argument("--large-n", type=int, default=3)
    ap.add_argument("--small-mib", type=int, default=1)
    ap.add_argument("--large-mib", type=int, default=256)
    ap.add_argument("--out-dir", type=pathlib.Path, default=REPO / "bench" / "results")
    ap.add_argument("--workdir", type=pathlib.Path, default=None,
                    help="where the server's data and the peer's copies go (default: a temp dir)")
    args = ap.parse_args()

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "hearth"], cwd=REPO, check=True)
    if not args.bin.is_file():
        sys.exit(f"no hearth binary at {args.bin}")

    load_before = os.getloadavg()
    work = pathlib.Path(tempfile.mkdtemp(prefix="hearth-bench-s3-", dir=args.workdir))
    server = Server(args.bin, work)
    rows, rss = [], {}
    try:
        s3 = server.client()
        bucket = "bench-s3"
        s3.create_bucket(Bucket=bucket)
        rows += bench_size(s3, bucket, work, args.small_mib * MiB, args.small_n, transfers=False)
        rss["after_small"] = server.peak_rss_mib()
        rows += bench_size(s3, bucket, work, args.large_mib * MiB, args.large_n, transfers=True)
        rss["after_large"] = server.peak_rss_mib()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    now = datetime.datetime.now(datetime.timezone.utc)
    result = {
        "benchmark": "s3",
        "date": now.isoformat(timespec="seconds"),
        "hearth_commit": git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            # 1-minute load average before and after: other work on the machine skews both
            # hearth and the peer (the ratio less so).
            "loadavg_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        },
        "client": {"boto3": boto3.__version__, "botocore": botocore.__version__},
        "peak_rss_mib": rss,
        "rows": rows,
    }
    text = table(rows)
    report = (
        f"# S3 benchmark {now.date()}\n\n"
        f"hearth `{result['hearth_commit']}` (release build) on {result['machine']['cpus']} CPUs "
        f"({result['machine']['cpu']}), boto3 {boto3.__version__}, client and server on one "
        f"machine over loopback. Peer: local file operations on the same bytes and filesystem "
        f"in the same run (see bench/s3/README.md). ratio = hearth MiB/s / peer MiB/s. "
        f"1-minute load average before/after: {result['machine']['loadavg_1m']}.\n\n"
        f"{text}\n\n"
        f"Server peak RSS (VmHWM): {rss.get('after_small', float('nan')):.0f} MiB after the "
        f"{args.small_mib} MiB objects, {rss.get('after_large', float('nan')):.0f} MiB after the "
        f"{args.large_mib} MiB objects.\n"
    )
    print()
    print(report)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.out_dir / f"s3-{now.date()}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".md").write_text(report)
    print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
