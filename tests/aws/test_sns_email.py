"""SNS email deliveries through an SMTP relay: the test runs an aiosmtpd sink, starts a Hearth
whose `[sns] smtp_relay` points at it, and reads the mail a subscriber would get.
"""

import email
import email.policy
import json
import re
import threading
import time
import urllib.parse

import pytest
import requests

from awsutil import unique_name
from harness import CONFIG_TOML, Hearth, free_port

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

LINK = re.compile(r"(http://\S+/sns/(?:confirm|unsubscribe)\?\S+)")


class Sink:
    """An SMTP server that keeps every mail it receives."""

    def __init__(self):
        self.port = free_port()
        self.mails: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        self.controller = aiosmtpd_controller.Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def wait(self, count: int, timeout: float = 30.0) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.mails) >= count:
                    return list(self.mails)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails in {timeout}s, got {len(self.mails)}")


@pytest.fixture
def sink():
    s = Sink()
    s.controller.start()
    yield s
    s.controller.stop()


@pytest.fixture
def mail_hearth(tmp_path, sink):
    """A Hearth of this test's own whose SNS mails go to `sink`."""
    server = Hearth(tmp_path / "hearth")
    server.config_path.write_text(CONFIG_TOML + f'\n[sns]\nsmtp_relay = "127.0.0.1:{sink.port}"\nsmtp_from = "alerts@hearth.test"\n')
    server.start()
    yield server
    server.stop()


def body(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def test_email_subscription_confirm_and_notify(mail_hearth, sink):
    sns = mail_hearth.client("sns")
    topic = sns.create_topic(Name=unique_name("fraud"), Attributes={"DisplayName": "Fraud desk"})["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="analyst@example.com")["SubscriptionArn"] == "pending confirmation"

    confirm = sink.wait(1)[0]
    assert confirm["Subject"] == "AWS Notification - Subscription Confirmation"
    assert confirm["To"] == "analyst@example.com"
    assert confirm["From"] == "Fraud desk <alerts@hearth.test>"
    assert sink.envelopes[0] == ("alerts@hearth.test", ["analyst@example.com"])
    text = body(confirm)
    assert topic in text
    link = LINK.search(text).group(1)
    assert link.startswith(f"{mail_hearth.endpoint}/sns/confirm?TopicArn={topic}&Token=")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"] == "PendingConfirmation"

    sub_arn = sns.confirm_subscription(TopicArn=query["TopicArn"][0], Token=query["Token"][0])["SubscriptionArn"]
    assert sub_arn.startswith(topic + ":")
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [sub_arn]

    message_id = sns.publish(TopicArn=topic, Subject="Fraud alert: transaction blocked", Message="Transaction 42 (1250.50 EUR) was blocked.")["MessageId"]
    assert message_id
    note = sink.wait(2)[1]
    assert note["Subject"] == "Fraud alert: transaction blocked"
    assert note["From"] == "Fraud desk <alerts@hearth.test>"
    assert note["To"] == "analyst@example.com"
    text = body(note)
    assert text.startswith("Transaction 42 (1250.50 EUR) was blocked.")
    unsubscribe = LINK.search(text).group(1)
    assert unsubscribe == f"{mail_hearth.endpoint}/sns/unsubscribe?SubscriptionArn={sub_arn}"

    # A message without a subject gets AWS's default one.
    sns.publish(TopicArn=topic, Message="second")
    assert sink.wait(3)[2]["Subject"] == "AWS Notification Message"

    # The unsubscribe link works from a browser.
    page = requests.get(unsubscribe, headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and "Subscription removed!" in page.text
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    sns.publish(TopicArn=topic, Message="not for the analyst any more")
    time.sleep(1)
    assert len(sink.mails) == 3


def test_email_json_confirmed_by_link(mail_hearth, sink):
    sns = mail_hearth.client("sns")
    topic = sns.create_topic(Name=unique_name("json"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="robot@example.com")
    confirm = sink.wait(1)[0]
    doc = json.loads(body(confirm))
    assert doc["Type"] == "SubscriptionConfirmation" and doc["TopicArn"] == topic
    page = requests.get(doc["SubscribeURL"], headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and "Subscription confirmed!" in page.text

    published = sns.publish(TopicArn=topic, Message="structured", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    note = sink.wait(2)[1]
    assert note["Subject"] == "AWS Notification Message"
    doc = json.loads(body(note))
    assert doc["Type"] == "Notification"
    assert doc["MessageId"] == published["MessageId"]
    assert doc["Message"] == "structured"
    assert doc["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert doc["UnsubscribeURL"].startswith(f"{mail_hearth.endpoint}/sns/unsubscribe?SubscriptionArn=")


def test_email_without_a_relay_waits_and_says_why(own_hearth):
    sns = own_hearth.client("sns")
    topic = sns.create_topic(Name=unique_name("norelay"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="someone@example.com")
    deadline = time.monotonic() + 20
    while "no SMTP relay configured" not in own_hearth.log_path.read_text():
        assert time.monotonic() < deadline, own_hearth.log_tail()
        time.sleep(0.1)
    assert "delivery failed; will retry" in own_hearth.log_path.read_text()
