"""A CloudWatch alarm action reaching an inbox: alarm → SNS topic → email subscription → a local
SMTP sink (aiosmtpd) that this test runs, with the notification CloudWatch sends."""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
import time
import urllib.parse

import pytest

from awsutil import unique_name
from harness import CONFIG_TOML, Hearth, free_port

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

CONFIRM = re.compile(r"(http://\S+/sns/confirm\?\S+)")


class Inbox:
    """An SMTP server keeping every mail it receives."""

    def __init__(self):
        self.port = free_port()
        self.mails: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.controller = aiosmtpd_controller.Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def wait(self, count: int, timeout: float = 60.0) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.mails) >= count:
                    return list(self.mails)
            time.sleep(0.1)
        raise AssertionError(f"expected {count} mails in {timeout}s, got {len(self.mails)}")


@pytest.fixture
def inbox():
    box = Inbox()
    box.controller.start()
    yield box
    box.controller.stop()


@pytest.fixture
def mail_hearth(tmp_path, inbox):
    server = Hearth(tmp_path / "hearth")
    server.config_path.write_text(CONFIG_TOML + f'\n[sns]\nsmtp_relay = "127.0.0.1:{inbox.port}"\nsmtp_from = "alarms@hearth.test"\n')
    server.start()
    yield server
    server.stop()


def text(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def test_alarm_notification_reaches_the_inbox(mail_hearth, inbox):
    sns = mail_hearth.client("sns")
    cw = mail_hearth.client("cloudwatch")
    topic = sns.create_topic(Name=unique_name("oncall"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
    link = CONFIRM.search(text(inbox.wait(1)[0])).group(1)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    sns.confirm_subscription(TopicArn=query["TopicArn"][0], Token=query["Token"][0])

    name = unique_name("endpoint-5xx")
    dims = [{"Name": "EndpointName", "Value": "fraud-detector"}, {"Name": "VariantName", "Value": "canary"}]
    cw.put_metric_alarm(
        AlarmName=name, AlarmDescription="Canary variant returns server errors", Namespace="Guardrails", MetricName="Invocation5XXErrors",
        Dimensions=dims, Statistic="Sum", Period=10, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching", AlarmActions=[topic],
    )
    cw.put_metric_data(Namespace="Guardrails", MetricData=[{"MetricName": "Invocation5XXErrors", "Dimensions": dims, "Value": 4.0, "Unit": "Count", "StorageResolution": 1}])

    mail = inbox.wait(2)[1]
    assert mail["To"] == "oncall@example.com"
    assert mail["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    body = text(mail)
    doc = json.loads(body[: body.rindex("}") + 1])
    assert doc["AlarmName"] == name
    assert doc["AlarmDescription"] == "Canary variant returns server errors"
    assert doc["NewStateValue"] == "ALARM" and doc["OldStateValue"] == "OK"
    assert doc["NewStateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [4.0 (")
    assert doc["Region"] == "US East (N. Virginia)"
    assert doc["AlarmActions"] == [topic]
    assert doc["Trigger"]["MetricName"] == "Invocation5XXErrors"
    assert doc["Trigger"]["Statistic"] == "SUM"
    assert doc["Trigger"]["Period"] == 10
    assert {d["name"]: d["value"] for d in doc["Trigger"]["Dimensions"]} == {"EndpointName": "fraud-detector", "VariantName": "canary"}

    history = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == f"Successfully executed action {topic}"
    assert json.loads(history[0]["HistoryData"])["actionState"] == "Succeeded"
