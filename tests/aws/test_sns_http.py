"""SNS deliveries to HTTP endpoints: the SubscriptionConfirmation handshake, notifications with
AWS's JSON fields and headers, signatures, raw delivery, filter policies, retries, unsubscribe
links, and at-least-once delivery across a restart of Hearth.

Each test runs a small `http.server` on 127.0.0.1 as the subscriber.
"""

import base64
import hashlib
import http.server
import json
import re
import threading
import time
import urllib.parse

import pytest
import requests

from awsutil import unique_name
from harness import free_port


class Endpoint:
    """An HTTP subscriber: records every POST; answers the next status of `statuses` (then 200)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/sns"
        self.received: list[dict] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with outer.lock:
                    outer.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                    status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def wait(self, count: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} deliveries in {timeout}s, got {len(self.received)}: {self.received}")

    def documents(self, kind: str) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.received if r["headers"].get("x-amz-sns-message-type") == kind]


@pytest.fixture
def endpoint():
    ep = Endpoint().start()
    yield ep
    ep.stop()


@pytest.fixture(scope="module")
def sns(hearth):
    return hearth.client("sns")


def subscribe_confirmed(sns, topic, endpoint, **kwargs):
    """Subscribe `endpoint`, answer the handshake by GETting the SubscribeURL; returns the ARN."""
    before = len(endpoint.received)
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, **kwargs)["SubscriptionArn"] == "pending confirmation"
    doc = json.loads(endpoint.wait(before + 1)[before]["body"])
    assert doc["Type"] == "SubscriptionConfirmation"
    reply = requests.get(doc["SubscribeURL"], timeout=10)
    assert reply.status_code == 200, reply.text
    return urllib.parse.unquote(reply.text.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0])


def test_handshake_then_notification(sns, endpoint, hearth):
    topic = sns.create_topic(Name=unique_name("http"))["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)["SubscriptionArn"] == "pending confirmation"

    confirmation = endpoint.wait(1)[0]
    headers, doc = confirmation["headers"], json.loads(confirmation["body"])
    assert confirmation["path"] == "/sns"
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-message-id"] == doc["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic
    assert "x-amz-sns-subscription-arn" not in headers
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert set(doc) == {"Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"}
    assert doc["Message"] == f"You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
    assert doc["SubscribeURL"] == f"{hearth.endpoint}/sns/confirm?TopicArn={topic}&Token={doc['Token']}"
    assert doc["SignatureVersion"] == "1"
    assert len(doc["Token"]) == 288
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc["Timestamp"]), doc["Timestamp"]

    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"]
    # Nothing is delivered to a pending subscription.
    sns.publish(TopicArn=topic, Message="too early")

    reply = requests.get(doc["SubscribeURL"], timeout=10)
    assert reply.status_code == 200
    assert reply.text.startswith("<ConfirmSubscriptionResponse")
    sub_arn = reply.text.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
    assert sub_arn.startswith(topic + ":")
    # Confirming again is harmless, also with the API.
    assert sns.confirm_subscription(TopicArn=topic, Token=doc["Token"])["SubscriptionArn"] == sub_arn
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["ConfirmationWasAuthenticated"] == "false"  # the link is unsigned
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"] == "1"

    published = sns.publish(
        TopicArn=topic,
        Subject="Fraud alert",
        Message="transaction 42 blocked",
        MessageAttributes={
            "severity": {"DataType": "String", "StringValue": "high"},
            "amount": {"DataType": "Number", "StringValue": "1250.5"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
        },
    )
    delivered = endpoint.wait(2)[1]
    headers, note = delivered["headers"], json.loads(delivered["body"])
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-message-id"] == published["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["x-amz-sns-subscription-arn"] == sub_arn
    assert note["Type"] == "Notification"
    assert note["MessageId"] == published["MessageId"]
    assert note["TopicArn"] == topic
    assert note["Subject"] == "Fraud alert"
    assert note["Message"] == "transaction 42 blocked"
    assert note["SignatureVersion"] == "1"
    assert note["Signature"] and note["SigningCertURL"].startswith(f"{hearth.endpoint}/sns/SimpleNotificationService-")
    assert note["UnsubscribeURL"] == f"{hearth.endpoint}/sns/unsubscribe?SubscriptionArn={sub_arn}"
    assert note["MessageAttributes"] == {
        "severity": {"Type": "String", "Value": "high"},
        "amount": {"Type": "Number", "Value": "1250.5"},
        "raw": {"Type": "Binary", "Value": base64.b64encode(b"\x02\x03\x04").decode()},
    }
    assert "too early" not in [json.loads(r["body"]).get("Message") for r in endpoint.received]

    # The unsubscribe link removes the subscription and sends an UnsubscribeConfirmation whose
    # SubscribeURL brings it back.
    reply = requests.get(note["UnsubscribeURL"], timeout=10)
    assert reply.status_code == 200 and reply.text.startswith("<UnsubscribeResponse")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    bye = json.loads(endpoint.wait(3)[2]["body"])
    assert bye["Type"] == "UnsubscribeConfirmation"
    assert bye["Message"].startswith(f"You have chosen to deactivate subscription {sub_arn}.")
    assert requests.get(bye["SubscribeURL"], timeout=10).status_code == 200
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [sub_arn]


def rsa_public_key(pem: bytes) -> tuple[int, int]:
    """(modulus, exponent) of the RSA key in an X.509 certificate (a small DER walk, no crypto library)."""

    def read(b, i):
        tag, length = b[i], b[i + 1]
        i += 2
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(b[i : i + n], "big")
            i += n
        return tag, i, i + length

    def children(b, start, end):
        out, i = [], start
        while i < end:
            out.append(read(b, i))
            i = out[-1][2]
        return out

    der = base64.b64decode(b"".join(line for line in pem.splitlines() if not line.startswith(b"-----")))
    _, start, end = read(der, 0)
    _, tbs_start, tbs_end = children(der, start, end)[0]
    fields = children(der, tbs_start, tbs_end)
    if fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    _, spki_start, spki_end = fields[5]  # serial, algorithm, issuer, validity, subject, key
    _, bits_start, bits_end = children(der, spki_start, spki_end)[1]
    key = der[bits_start + 1 : bits_end]  # skip the unused-bits byte
    _, key_start, key_end = read(key, 0)
    n, e = (int.from_bytes(key[s:t], "big") for _, s, t in children(key, key_start, key_end))
    return n, e


DIGEST_INFO = {"1": bytes.fromhex("3021300906052b0e03021a05000414"), "2": bytes.fromhex("3031300d060960864801650304020105000420")}


def verify_pkcs1v15(pem: bytes, version: str, data: bytes, signature: bytes) -> bool:
    n, e = rsa_public_key(pem)
    size = (n.bit_length() + 7) // 8
    digest = (hashlib.sha256 if version == "2" else hashlib.sha1)(data).digest()
    suffix = DIGEST_INFO[version] + digest
    expected = b"\x00\x01" + b"\xff" * (size - 3 - len(suffix)) + b"\x00" + suffix
    return pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big") == expected


def test_signatures_verify_with_the_published_certificate(sns, endpoint):
    topic = sns.create_topic(Name=unique_name("signed"))["TopicArn"]
    subscribe_confirmed(sns, topic, endpoint)
    sns.publish(TopicArn=topic, Message="signed v1", Subject="s")
    endpoint.wait(2)  # signed when delivered: change the version only after this one went out
    sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
    sns.publish(TopicArn=topic, Message="signed v2")
    docs = [json.loads(r["body"]) for r in endpoint.wait(3)]
    for doc in docs:
        cert = requests.get(doc["SigningCertURL"], timeout=10)
        assert cert.status_code == 200 and cert.content.startswith(b"-----BEGIN CERTIFICATE-----")
        if doc["Type"] == "Notification":
            fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        string_to_sign = "".join(f"{f}\n{doc[f]}\n" for f in fields if f in doc).encode()
        signature = base64.b64decode(doc["Signature"])
        assert verify_pkcs1v15(cert.content, doc["SignatureVersion"], string_to_sign, signature), doc
        assert not verify_pkcs1v15(cert.content, doc["SignatureVersion"], string_to_sign + b"x", signature)
    assert [d["SignatureVersion"] for d in docs] == ["1", "1", "2"]


def test_raw_delivery_content_type_and_api_confirmation(sns, endpoint):
    topic = sns.create_topic(
        Name=unique_name("raw"),
        Attributes={"DeliveryPolicy": json.dumps({"http": {"defaultRequestPolicy": {"headerContentType": "application/json"}}})},
    )["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, Attributes={"RawMessageDelivery": "true"})
    confirmation = endpoint.wait(1)[0]
    assert confirmation["headers"]["content-type"] == "text/plain; charset=UTF-8"  # confirmations keep the default
    token = json.loads(confirmation["body"])["Token"]
    sub_arn = sns.confirm_subscription(TopicArn=topic, Token=token, AuthenticateOnUnsubscribe="true")["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]["ConfirmationWasAuthenticated"] == "true"

    sns.publish(TopicArn=topic, Message='{"order": 7}')
    delivered = endpoint.wait(2)[1]
    assert delivered["body"] == '{"order": 7}'
    assert delivered["headers"]["x-amz-sns-rawdelivery"] == "true"
    assert delivered["headers"]["content-type"] == "application/json"
    # Confirmed with AuthenticateOnUnsubscribe: the unsigned link may not remove it.
    r = requests.get(f"{sns.meta.endpoint_url}/sns/unsubscribe", params={"SubscriptionArn": sub_arn}, timeout=10)
    assert r.status_code == 403
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1


def test_filter_policies_and_message_structure(sns):
    refunds, everything = Endpoint().start(), Endpoint().start()
    try:
        topic = sns.create_topic(Name=unique_name("filter"))["TopicArn"]
        subscribe_confirmed(sns, topic, refunds, Attributes={"FilterPolicy": json.dumps({"kind": ["refund"], "amount": [{"numeric": [">", 100]}]})})
        subscribe_confirmed(sns, topic, everything)
        attrs = lambda kind, amount: {"kind": {"DataType": "String", "StringValue": kind}, "amount": {"DataType": "Number", "StringValue": str(amount)}}
        sns.publish(TopicArn=topic, Message="small refund", MessageAttributes=attrs("refund", 5))
        sns.publish(TopicArn=topic, Message="big sale", MessageAttributes=attrs("sale", 500))
        sns.publish(TopicArn=topic, Message="big refund", MessageAttributes=attrs("refund", 500))
        sns.publish(TopicArn=topic, Message=json.dumps({"default": "plain", "http": "for http"}), MessageStructure="json")
        everything.wait(5)
        time.sleep(0.5)
        assert sorted(d["Message"] for d in refunds.documents("Notification")) == ["big refund"]
        assert sorted(d["Message"] for d in everything.documents("Notification")) == ["big refund", "big sale", "for http", "small refund"]
    finally:
        refunds.stop()
        everything.stop()


def test_failed_deliveries_are_retried_with_the_same_message(sns, endpoint):
    policy = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 3}}}
    topic = sns.create_topic(Name=unique_name("retry"), Attributes={"DeliveryPolicy": json.dumps(policy)})["TopicArn"]
    subscribe_confirmed(sns, topic, endpoint)
    endpoint.statuses = [500, 503]
    started = time.monotonic()
    message_id = sns.publish(TopicArn=topic, Message="eventually")["MessageId"]
    attempts = endpoint.wait(4, timeout=20)[1:]
    assert time.monotonic() - started >= 1.5  # two waits of ~1 s
    assert [r["headers"]["x-amz-sns-message-id"] for r in attempts] == [message_id] * 3
    assert len({r["body"] for r in attempts}) == 1  # the very same signed document
    # 4xx answers count as delivered (AWS retries only on 5xx and no answer).
    endpoint.statuses = [404]
    sns.publish(TopicArn=topic, Message="not retried")
    endpoint.wait(5)
    time.sleep(2.5)
    assert len(endpoint.received) == 5


def test_delivery_survives_a_crash_while_the_endpoint_is_down(own_hearth):
    sns = own_hearth.client("sns")
    policy = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 60}}}
    topic = sns.create_topic(Name=unique_name("durable"), Attributes={"DeliveryPolicy": json.dumps(policy)})["TopicArn"]
    endpoint = Endpoint().start()
    try:
        subscribe_confirmed(sns, topic, endpoint)
        endpoint.stop()  # the subscriber goes away

        message_id = sns.publish(TopicArn=topic, Message="keep me", Subject="durable")["MessageId"]
        time.sleep(1.5)  # a failed attempt or two
        own_hearth.kill9()
        own_hearth.start()

        endpoint = Endpoint(endpoint.port).start()  # back, on the same address
        # A job whose lease the crashed process held is resumed once the 30 s lease expires.
        doc = json.loads(endpoint.wait(1, timeout=60)[0]["body"])
        assert doc["Type"] == "Notification"
        assert doc["MessageId"] == message_id
        assert doc["Message"] == "keep me"
        log = own_hearth.log_path.read_text()
        assert "delivery failed; will retry" in log
    finally:
        endpoint.stop()
