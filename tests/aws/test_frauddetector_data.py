"""Synthetic card transactions in the seed's record shape, with planted fraud patterns.

The real-time fraud post streams records like
``{"transaction_amt": 7, "email_address": ..., "ip_address": ..., "transaction_currency": "USD",
"event_id": ..., "entity_id": "269-37-3393", "event_time": ..., "billing_longitude": ...,
"billing_state": "VA", "user_agent": ..., "billing_street": ..., "billing_city": ...,
"card_bin": "423768", "customer_name": ..., "product_category": "misc_pos", "customer_job": ...,
"phone": ..., "billing_latitude": ..., "billing_zip": ...}``. No registry package ships fraud
data (see models.md), so this module generates it, deterministically from a seed.

Customers (entities) have a home state (city, ZIP, coordinates, phone area code), an e-mail at a
mainstream domain, a residential IP network, a card from a mainstream BIN, a browser and a
typical spend. They buy through the period at their own rate, mostly by day.

Labelling rule (the "truth" — the model never sees it, only the labels it produces):

1. Account takeover: ~6% of customers are compromised once. From that moment a burst of 3–6
   purchases follows within ~45 minutes, from an IP in one of a few proxy networks
   (``185.220.x.x``, ``45.154.x.x``, ``91.219.x.x``), with a new browser, amounts 3–12× the
   customer's usual spend, in ``shopping_net`` / ``misc_net`` / ``electronics``. Each is fraud
   with probability 0.9.
2. Card-testing ring: one-off identities (a third as many as customers) buy with prepaid BINs (``4147xx``,
   ``5356xx``), throw-away e-mail domains, mostly between 01:00 and 05:00 UTC, in
   ``shopping_net`` / ``electronics`` / ``gift_cards``. Each is fraud with probability 0.85.
3. Background: any ordinary purchase is fraud with probability 0.004 (disputes nobody could
   predict); 2% of ordinary customers use a prepaid BIN legitimately.

So fraud is learnable from event variables (BIN, e-mail domain, IP network, hour, amount,
category) and, better, from entity history (bursts, a new IP or browser, an amount far above
the customer's usual), which is what Transaction Fraud Insights aggregates.
"""

from __future__ import annotations

import csv
import io
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

VARIABLES = [
    # name, dataType, variableType, defaultValue
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

GEO = [
    # state, city, zip, lat, lon, area code
    ("VA", "Pulaski", "24301", 37.0567, -80.771, "540"),
    ("CA", "Fresno", "93650", 36.8403, -119.8, "559"),
    ("TX", "Austin", "78701", 30.2711, -97.7437, "512"),
    ("NY", "Albany", "12207", 42.6526, -73.7562, "518"),
    ("FL", "Tampa", "33602", 27.9506, -82.4572, "813"),
    ("IL", "Peoria", "61602", 40.6936, -89.589, "309"),
    ("WA", "Spokane", "99201", 47.6588, -117.426, "509"),
    ("OH", "Dayton", "45402", 39.7589, -84.1916, "937"),
    ("GA", "Macon", "31201", 32.8407, -83.6324, "478"),
    ("CO", "Pueblo", "81003", 38.2544, -104.609, "719"),
]
MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "comcast.net"]
THROWAWAY = ["mailnesia.example", "tempbox.example", "dropmail.example"]
LEGIT_BINS = ["423768", "411111", "542418", "601100", "371449", "455673", "510510", "400022", "520082"]
PREPAID_BINS = ["414720", "414709", "535610", "535622"]
PROXY_NETS = ["185.220", "45.154", "91.219"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 13_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
]
ODD_AGENTS = [
    "Opera/8.70.(Windows NT 6.0; mk-MK)",
    "python-requests/2.31.0",
    "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
    "curl/8.4.0",
]
CATEGORIES = ["grocery_pos", "gas_transport", "home", "kids_pets", "entertainment", "food_dining", "health_fitness", "misc_pos", "personal_care", "travel"]
RISKY_CATEGORIES = ["shopping_net", "misc_net", "electronics"]
RING_CATEGORIES = ["shopping_net", "electronics", "gift_cards"]
FIRST = ["Ava", "Liam", "Mia", "Noah", "Zoe", "Omar", "Ines", "Raj", "Yuki", "Lena", "Marco", "Sara", "Ivan", "Nora", "Eli", "Hana"]
LAST = ["Smith", "Garcia", "Chen", "Patel", "Kowalski", "Okafor", "Silva", "Nguyen", "Muller", "Rossi", "Haddad", "Kim"]
JOBS = ["Engineer", "Teacher", "Nurse", "Designer", "Chef", "Analyst", "Driver", "Writer", "Pharmacist", "Architect"]


@dataclass
class Customer:
    entity_id: str
    name: str
    email: str
    ip_net: str
    bin: str
    geo: tuple
    agent: str
    spend: float
    rate_per_day: float
    job: str
    street: str
    phone: str


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


def _ssn(rng: random.Random) -> str:
    return f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"


def _customer(rng: random.Random, i: int) -> Customer:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    geo = rng.choice(GEO)
    return Customer(
        entity_id=_ssn(rng),
        name=f"Synthetic {first} {last}",
        email=f"{first.lower()}.{last.lower()}{rng.randint(1, 99) if rng.random() < 0.4 else ''}@{rng.choice(MAIL)}",
        ip_net=f"{rng.randint(24, 99)}.{rng.randint(0, 255)}",
        bin=rng.choice(PREPAID_BINS) if rng.random() < 0.02 else rng.choice(LEGIT_BINS),
        geo=geo,
        agent=rng.choice(AGENTS),
        spend=math.exp(rng.gauss(3.6, 0.6)),
        rate_per_day=rng.uniform(0.05, 0.3),
        job=rng.choice(JOBS),
        street=f"{rng.randint(1, 999)} Synthetic {rng.choice(['Courts', 'Lane', 'Street', 'Avenue', 'Road'])}",
        phone=f"{geo[5]}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
    )


def _values(c: Customer, amount: float, ip: str, agent: str, category: str, email: str | None = None, bin: str | None = None) -> dict:
    state, city, zip_, lat, lon, _ = c.geo
    return {
        "transaction_amt": f"{amount:.2f}",
        "email_address": email or c.email,
        "ip_address": ip,
        "transaction_currency": "USD",
        "card_bin": bin or c.bin,
        "billing_state": state,
        "billing_city": city,
        "billing_zip": zip_,
        "billing_street": c.street,
        "billing_latitude": f"{lat:.4f}",
        "billing_longitude": f"{lon:.4f}",
        "user_agent": agent,
        "product_category": category,
        "phone": c.phone,
        "customer_name": c.name,
        "customer_job": c.job,
    }


def _daytime(rng: random.Random, day: datetime) -> datetime:
    # Mostly 08:00-22:00 UTC, some evenings and nights.
    hour = min(23, max(0, int(rng.gauss(15, 4))))
    return day + timedelta(hours=hour, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))


def generate(n_customers: int = 1500, days: int = 60, seed: int = 7, start: datetime | None = None) -> list[Transaction]:
    """Transactions of `n_customers` over `days`, sorted by time, labelled by the rule above."""
    rng = random.Random(seed)
    start = start or datetime(2024, 3, 1, tzinfo=timezone.utc)
    out: list[Transaction] = []
    seq = 0

    def next_id() -> str:
        nonlocal seq
        seq += 1
        return f"txn-{seed}-{seq:07d}"

    customers = [_customer(rng, i) for i in range(n_customers)]
    for c in customers:
        home_ip = lambda: f"{c.ip_net}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"  # noqa: E731
        for d in range(days):
            day = start + timedelta(days=d)
            for _ in range(_poisson(rng, c.rate_per_day)):
                amount = max(1.0, rng.lognormvariate(math.log(c.spend), 0.45))
                cat = rng.choice(CATEGORIES) if rng.random() < 0.85 else rng.choice(RISKY_CATEGORIES)
                t = Transaction(next_id(), c.entity_id, _daytime(rng, day), _values(c, amount, home_ip(), c.agent, cat), rng.random() < 0.004)
                out.append(t)
        # 1. Account takeover burst.
        if rng.random() < 0.06:
            t0 = start + timedelta(days=rng.uniform(3, days - 1), hours=rng.uniform(0, 23))
            net = rng.choice(PROXY_NETS)
            agent = rng.choice(ODD_AGENTS + AGENTS)
            for k in range(rng.randint(3, 6)):
                amount = c.spend * rng.uniform(3, 12)
                ip = f"{net}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                ts = t0 + timedelta(minutes=k * rng.uniform(2, 12))
                out.append(Transaction(next_id(), c.entity_id, ts, _values(c, amount, ip, agent, rng.choice(RISKY_CATEGORIES)), rng.random() < 0.9, "takeover"))
    # 2. Card-testing ring: one-off identities.
    for _ in range(max(1, n_customers // 3)):
        c = _customer(rng, -1)
        local = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(8, 14)))
        email = f"{local}@{rng.choice(THROWAWAY)}"
        day = start + timedelta(days=rng.randint(0, days - 1))
        ts = day + timedelta(hours=rng.choice([1, 2, 3, 4, 5]) if rng.random() < 0.8 else rng.randint(6, 23), minutes=rng.randint(0, 59))
        amount = rng.uniform(150, 900)
        ip = f"{rng.choice(PROXY_NETS)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" if rng.random() < 0.5 else f"{rng.randint(24, 99)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        v = _values(c, amount, ip, rng.choice(ODD_AGENTS + AGENTS), rng.choice(RING_CATEGORIES), email=email, bin=rng.choice(PREPAID_BINS))
        out.append(Transaction(next_id(), c.entity_id, ts, v, rng.random() < 0.85, "ring"))
    out.sort(key=lambda t: (t.ts, t.event_id))
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method (lam is small).
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


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


# -- the generator's own checks -----------------------------------------------------------


def test_generator_is_deterministic_and_documented():
    a = generate(n_customers=200, days=20, seed=3)
    b = generate(n_customers=200, days=20, seed=3)
    assert [t.event_id for t in a] == [t.event_id for t in b]
    assert all(a[i].ts <= a[i + 1].ts for i in range(len(a) - 1))
    fraud = [t for t in a if t.fraud]
    assert 0.02 < len(fraud) / len(a) < 0.15, len(fraud) / len(a)
    patterns = {t.pattern for t in fraud}
    assert {"takeover", "ring"} <= patterns
    rec = seed_record(a[0])
    for key in ("transaction_amt", "email_address", "ip_address", "transaction_currency", "event_id", "entity_id", "event_time", "billing_state", "card_bin", "user_agent", "product_category"):
        assert key in rec
    ring = [t for t in a if t.pattern == "ring"]
    assert all(t.values["card_bin"] in PREPAID_BINS for t in ring)


def test_files_have_the_documented_headers():
    txns = generate(n_customers=50, days=5, seed=1)
    head = training_csv(txns).decode().splitlines()[0].split(",")
    assert head[:3] == ["EVENT_TIMESTAMP", "EVENT_LABEL", "ENTITY_ID"]
    head = import_csv(txns).decode().splitlines()[0].split(",")
    assert head[:6] == ["EVENT_ID", "EVENT_TIMESTAMP", "ENTITY_ID", "ENTITY_TYPE", "EVENT_LABEL", "LABEL_TIMESTAMP"]
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
