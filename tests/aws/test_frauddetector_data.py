"""Synthetic card transactions in the seed's record shape, with planted fraud patterns.

The data come from `hearth fraud generate` (the generator is
`services/frauddetector/src/domain/synthetic.rs`; the crate README documents the planted
patterns and the labelling rule, which the model never sees — only the labels it produces).
This module runs the command, reads its event file and truth file back as `Transaction`s, and
writes the subsets the tests need (training history, import files, seed records).

The real-time fraud post streams records like
``{"transaction_amt": 7, "email_address": ..., "ip_address": ..., "transaction_currency": "USD",
"event_id": ..., "entity_id": "269-37-3393", "event_time": ..., "billing_longitude": ...,
"billing_state": "VA", "user_agent": ..., "billing_street": ..., "billing_city": ...,
"card_bin": "423768", "customer_name": ..., "product_category": "misc_pos", "customer_job": ...,
"phone": ..., "billing_latitude": ..., "billing_zip": ...}``.
"""

from __future__ import annotations

import csv
import io
import pathlib
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone

from harness import hearth_bin

VARIABLES = [
    # name, dataType, variableType, defaultValue (as the Rust generator's VARIABLES)
    ("transaction_amt", "FLOAT", "PRICE", "0.0"),
    ("email_address", "STRING", "EMAIL_ADDRESS", "unknown"),
    ("ip_address", "STRING", "IP_ADDRESS", "unknown"),
    ("transaction_currency", "STRING", "CURRENCY_CODE", "USD"),
    ("card_bin", "STRING", "CARD_BIN", "000000"),
    ("billing_state", "STRING", "BILLING_STATE", "unknown"),
    ("billing_city", "STRING", "BILLING_CITY", "unknown"),
    ("billing_zip", "STRING", "BILLING_ZIP", "00000"),
    ("billing_street", "STRING", "BILLING_ADDRESS_L1", "unknown"),
    ("billing_latitude", "FLOAT", "NUMERIC", "0.0"),
    ("billing_longitude", "FLOAT", "NUMERIC", "0.0"),
    ("user_agent", "STRING", "USERAGENT", "unknown"),
    ("product_category", "STRING", "PRODUCT_CATEGORY", "unknown"),
    ("phone", "STRING", "PHONE_NUMBER", "unknown"),
    ("customer_name", "STRING", "BILLING_NAME", "unknown"),
    ("customer_job", "STRING", "CATEGORICAL", "unknown"),
]
VARIABLE_NAMES = [v[0] for v in VARIABLES]
PREPAID_BINS = ["414720", "414709", "535610", "535622"]
START = datetime(2024, 3, 1, tzinfo=timezone.utc)


@dataclass
class Transaction:
    event_id: str
    entity_id: str
    ts: datetime
    values: dict
    fraud: bool
    pattern: str = "ordinary"
    extra: dict = field(default_factory=dict)

    def event_time(self) -> str:
        return self.ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_args(count: int, seed: int, fraud_rate: float = 0.05, days: int = 60, start: datetime = START) -> list[str]:
    """The `hearth fraud generate` options for these parameters."""
    return ["fraud", "generate", "--count", str(count), "--seed", str(seed), "--fraud-rate", str(fraud_rate),
            "--days", str(days), "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ")]


def read_event_file(data: bytes, truth: bytes | None = None) -> list[Transaction]:
    """Transactions of a generated CSV event file (and its truth file: the patterns)."""
    patterns = {}
    if truth is not None:
        patterns = {r["EVENT_ID"]: r["PATTERN"] for r in csv.DictReader(io.StringIO(truth.decode()))}
    out = []
    for r in csv.DictReader(io.StringIO(data.decode())):
        ts = datetime.strptime(r["EVENT_TIMESTAMP"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        out.append(Transaction(r["EVENT_ID"], r["ENTITY_ID"], ts, {n: r[n] for n in VARIABLE_NAMES}, r["EVENT_LABEL"] == "fraud", patterns.get(r["EVENT_ID"], "ordinary")))
    return out


def generate(count: int = 16000, seed: int = 7, fraud_rate: float = 0.05, days: int = 60, start: datetime = START, bin: pathlib.Path | None = None) -> list[Transaction]:
    """`count` transactions over `days`, sorted by time, from `hearth fraud generate`."""
    with tempfile.TemporaryDirectory(prefix="hearth-fraud-gen-") as d:
        data, truth = pathlib.Path(d) / "events.csv", pathlib.Path(d) / "truth.csv"
        cmd = [str(bin or hearth_bin()), *generate_args(count, seed, fraud_rate, days, start), "--out", str(data), "--truth", str(truth)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        return read_event_file(data.read_bytes(), truth.read_bytes())


def training_csv(txns: list[Transaction]) -> bytes:
    """The EXTERNAL_EVENTS training file: EVENT_TIMESTAMP, EVENT_LABEL, ENTITY_ID and variables."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["EVENT_TIMESTAMP", "EVENT_LABEL", "ENTITY_ID", *VARIABLE_NAMES])
    for t in txns:
        w.writerow([t.event_time(), "fraud" if t.fraud else "legit", t.entity_id, *[t.values[n] for n in VARIABLE_NAMES]])
    return buf.getvalue().encode()


def import_csv(txns: list[Transaction], entity_type: str = "customer") -> bytes:
    """The batch-import file: EVENT_ID, EVENT_TIMESTAMP, ENTITY_ID, ENTITY_TYPE, EVENT_LABEL, LABEL_TIMESTAMP and variables."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["EVENT_ID", "EVENT_TIMESTAMP", "ENTITY_ID", "ENTITY_TYPE", "EVENT_LABEL", "LABEL_TIMESTAMP", *VARIABLE_NAMES])
    for t in txns:
        w.writerow([t.event_id, t.event_time(), t.entity_id, entity_type, "fraud" if t.fraud else "legit", t.event_time(), *[t.values[n] for n in VARIABLE_NAMES]])
    return buf.getvalue().encode()


def seed_record(t: Transaction) -> dict:
    """The transaction as the seed's producer writes it to Kafka."""
    r = {"event_id": t.event_id, "entity_id": t.entity_id, "event_time": t.ts.strftime("%Y-%m-%dT%H:%M:%S.%f")}
    r.update(t.values)
    return r


def auc(scores: list[float], labels: list[bool]) -> float:
    """Area under the ROC curve (ties count half)."""
    pairs = sorted(zip(scores, labels))
    pos = sum(1 for _, l in pairs if l)
    neg = len(pairs) - pos
    rank, i, total = 0.0, 0, 0.0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg = (i + j + 1) / 2.0
        total += avg * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (total - pos * (pos + 1) / 2.0) / (pos * neg)


# -- the generator as the tests see it ----------------------------------------------------


def test_generator_is_deterministic_and_documented():
    a = generate(count=3000, days=20, seed=3)
    b = generate(count=3000, days=20, seed=3)
    assert len(a) == 3000
    assert [t.event_id for t in a] == [t.event_id for t in b]
    assert all(a[i].ts <= a[i + 1].ts for i in range(len(a) - 1))
    fraud = [t for t in a if t.fraud]
    assert 0.035 < len(fraud) / len(a) < 0.065, len(fraud) / len(a)
    patterns = {t.pattern for t in fraud}
    assert {"takeover", "ring"} <= patterns
    rec = seed_record(a[0])
    for key in ("transaction_amt", "email_address", "ip_address", "transaction_currency", "event_id", "entity_id", "event_time", "billing_state", "card_bin", "user_agent", "product_category", "customer_name"):
        assert key in rec
    ring = [t for t in a if t.pattern == "ring"]
    assert all(t.values["card_bin"] in PREPAID_BINS for t in ring)
    high = generate(count=3000, days=20, seed=3, fraud_rate=0.2)
    assert 0.17 < sum(t.fraud for t in high) / len(high) < 0.23


def test_files_have_the_documented_headers():
    out = subprocess.run([str(hearth_bin()), *generate_args(50, 1, days=5)], check=True, capture_output=True, timeout=60).stdout.decode()
    head = out.splitlines()[0].split(",")
    assert head == ["EVENT_ID", "EVENT_TIMESTAMP", "ENTITY_ID", "ENTITY_TYPE", "EVENT_LABEL", "LABEL_TIMESTAMP", *VARIABLE_NAMES]
    assert not any(p in out for p in ("takeover", "ordinary", "PATTERN"))  # the truth is not in the data
    lines = subprocess.run([str(hearth_bin()), *generate_args(5, 1, days=5), "--format", "jsonl"], check=True, capture_output=True, timeout=60).stdout.decode().splitlines()
    assert len(lines) == 5 and '"event_time"' in lines[0] and "EVENT_LABEL" not in lines[0]
    txns = generate(count=50, days=5, seed=1)
    head = training_csv(txns).decode().splitlines()[0].split(",")
    assert head[:3] == ["EVENT_TIMESTAMP", "EVENT_LABEL", "ENTITY_ID"]
    head = import_csv(txns).decode().splitlines()[0].split(",")
    assert head[:6] == ["EVENT_ID", "EVENT_TIMESTAMP", "ENTITY_ID", "ENTITY_TYPE", "EVENT_LABEL", "LABEL_TIMESTAMP"]
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
