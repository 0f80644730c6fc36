"""CloudWatch through boto3: metric data in and out (values, statistic sets, value arrays,
units, dimensions, high resolution, percentiles, metric math), the metrics Hearth's S3 records,
alarms evaluated on real data (M of N, missing data, SetAlarmState, history, actions), and
CloudWatch's own error codes. boto3 speaks awsJson 1.0 to CloudWatch; the same calls also go
through RPC v2 CBOR and awsQuery (the other protocols the model declares) with botocore's own
serializers, by pointing botocore at a copy of the model that lists only that protocol.
"""

from __future__ import annotations

import datetime
import json
import time

import boto3
import botocore.session
import pytest
from botocore.config import Config

from awsutil import aws_error, unique_name

UTC = datetime.timezone.utc


def now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


@pytest.fixture(scope="module")
def cw(hearth):
    return hearth.client("cloudwatch")


def window(minutes: int = 10):
    t = now()
    return {"StartTime": t - datetime.timedelta(minutes=minutes), "EndTime": t + datetime.timedelta(minutes=minutes)}


def wait_state(cw, name: str, state: str, timeout: float = 45.0) -> dict:
    """Poll DescribeAlarms until the alarm is in `state` (the evaluator runs every 10 s)."""
    deadline = time.monotonic() + timeout
    while True:
        alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        if alarm["StateValue"] == state:
            return alarm
        assert time.monotonic() < deadline, f"{name} stayed {alarm['StateValue']}: {alarm['StateReason']}"
        time.sleep(0.5)


# -- metric data --------------------------------------------------------------------------------


def test_values_statistic_sets_and_arrays_aggregate(cw):
    ns = unique_name("App")
    dims = [{"Name": "Service", "Value": "checkout"}, {"Name": "Stage", "Value": "prod"}]
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": dims, "Value": 10.0, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": dims, "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 40}, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": dims, "Values": [1.0, 2.0, 50.0], "Counts": [2, 1, 1], "Unit": "Milliseconds"},
        ],
    )
    # Dimensions in any order name the same metric.
    out = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=list(reversed(dims)), Period=3600,
        Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"], **window(120),
    )
    assert out["Label"] == "Latency"
    points = out["Datapoints"]
    assert sum(p["SampleCount"] for p in points) == 9
    assert sum(p["Sum"] for p in points) == 10 + 100 + 1 * 2 + 2 + 50
    assert min(p["Minimum"] for p in points) == 1.0
    assert max(p["Maximum"] for p in points) == 50.0
    assert all(p["Unit"] == "Milliseconds" for p in points)
    for p in points:
        assert p["Average"] == pytest.approx(p["Sum"] / p["SampleCount"])
    # Another dimension set is another metric.
    other = cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Dimensions=dims[:1], Period=60, Statistics=["Sum"], **window())
    assert other["Datapoints"] == []


def test_percentiles_need_raw_values(cw):
    ns = unique_name("Pct")
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Latency", "Values": [float(v) for v in range(1, 101)], "Unit": "Milliseconds"}])
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Sets", "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10}}])
    out = cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Period=3600, ExtendedStatistics=["p50", "p90", "p99.9"], **window(120))
    [point] = out["Datapoints"]
    assert point["ExtendedStatistics"] == {"p50": 50.0, "p90": 90.0, "p99.9": 100.0}
    assert "Average" not in point
    # Statistic sets carry no values, so CloudWatch has no percentiles for them.
    sets = cw.get_metric_statistics(Namespace=ns, MetricName="Sets", Period=3600, ExtendedStatistics=["p90"], **window(120))
    assert [p.get("ExtendedStatistics") for p in sets["Datapoints"]] == [None]
    with aws_error("InvalidParameterCombination", 400, "but not both"):
        cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Period=60, Statistics=["Sum"], ExtendedStatistics=["p90"], **window())
    with aws_error("InvalidParameterValue", 400, "ExtendedStatistics.member.1"):
        cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Period=60, ExtendedStatistics=["p101"], **window())


def test_high_resolution_periods_and_units(cw):
    ns = unique_name("HiRes")
    base = now().replace(microsecond=0) - datetime.timedelta(minutes=2)
    base -= datetime.timedelta(seconds=base.second % 10)
    data = [
        {"MetricName": "Queue", "Value": float(i), "Timestamp": base + datetime.timedelta(seconds=i), "StorageResolution": 1, "Unit": "Count"}
        for i in range(30)
    ]
    data.append({"MetricName": "Queue", "Value": 1e6, "Timestamp": base, "StorageResolution": 1, "Unit": "Bytes"})
    cw.put_metric_data(Namespace=ns, MetricData=data)
    out = cw.get_metric_statistics(
        Namespace=ns, MetricName="Queue", Period=10, Statistics=["Sum", "SampleCount"], Unit="Count",
        StartTime=base, EndTime=base + datetime.timedelta(seconds=30),
    )
    points = sorted(out["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["Timestamp"] for p in points] == [base + datetime.timedelta(seconds=s) for s in (0, 10, 20)]
    assert [p["Sum"] for p in points] == [sum(range(0, 10)), sum(range(10, 20)), sum(range(20, 30))]
    assert all(p["SampleCount"] == 10 and p["Unit"] == "Count" for p in points)
    one_second = cw.get_metric_statistics(Namespace=ns, MetricName="Queue", Period=1, Statistics=["Maximum"], Unit="Bytes", StartTime=base, EndTime=base + datetime.timedelta(seconds=5))
    assert [p["Maximum"] for p in one_second["Datapoints"]] == [1e6]
    with aws_error("InvalidParameterValue", 400, "Period"):
        cw.get_metric_statistics(Namespace=ns, MetricName="Queue", Period=45, Statistics=["Sum"], **window())
    with aws_error("InvalidParameterValue", 400, "Unit"):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Queue", "Value": 1, "Unit": "Parsecs"}])


def test_list_metrics_filters_and_recent_activity(cw):
    ns = unique_name("List")
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Requests", "Dimensions": [{"Name": "Host", "Value": "a"}], "Value": 1},
            {"MetricName": "Requests", "Dimensions": [{"Name": "Host", "Value": "b"}], "Value": 1},
            {"MetricName": "Errors", "Dimensions": [{"Name": "Host", "Value": "a"}, {"Name": "Code", "Value": "500"}], "Value": 1},
        ],
    )
    metrics = cw.list_metrics(Namespace=ns)["Metrics"]
    assert len(metrics) == 3
    assert {m["MetricName"] for m in metrics} == {"Requests", "Errors"}
    by_name = cw.list_metrics(Namespace=ns, MetricName="Requests")["Metrics"]
    assert sorted(m["Dimensions"][0]["Value"] for m in by_name) == ["a", "b"]
    host_a = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Host", "Value": "a"}])["Metrics"]
    assert len(host_a) == 2
    with_code = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Code"}])["Metrics"]
    assert [m["MetricName"] for m in with_code] == ["Errors"]
    assert len(cw.list_metrics(Namespace=ns, RecentlyActive="PT3H")["Metrics"]) == 3
    # The paginator walks NextToken.
    pages = list(cw.get_paginator("list_metrics").paginate(Namespace=ns))
    assert sum(len(p["Metrics"]) for p in pages) == 3


def test_get_metric_data_with_metric_math(cw):
    ns = unique_name("Math")
    t = now().replace(second=0, microsecond=0) - datetime.timedelta(minutes=3)
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Errors", "Value": 5, "Timestamp": t},
            {"MetricName": "Requests", "Value": 50, "Timestamp": t},
            {"MetricName": "Errors", "Value": 2, "Timestamp": t + datetime.timedelta(minutes=1)},
            {"MetricName": "Requests", "Value": 40, "Timestamp": t + datetime.timedelta(minutes=1)},
        ],
    )

    def stat(qid, name):
        return {"Id": qid, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name}, "Period": 60, "Stat": "Sum"}, "ReturnData": False}

    out = cw.get_metric_data(
        MetricDataQueries=[
            stat("m1", "Errors"),
            stat("m2", "Requests"),
            {"Id": "rate", "Expression": "m1/m2*100", "Label": "Error rate (%)"},
            {"Id": "total", "Expression": "SUM([m1, m2])"},
            {"Id": "all", "Expression": "METRICS() * 2"},
            {"Id": "avg", "Expression": "AVG(m2)"},
            {"Id": "raw", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Errors"}, "Period": 60, "Stat": "Maximum"}},
        ],
        StartTime=t, EndTime=t + datetime.timedelta(minutes=2), ScanBy="TimestampAscending",
    )
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert set(results) == {"rate", "total", "avg", "raw", "all"}
    every = [r for r in out["MetricDataResults"] if r["Id"] == "all"]
    assert [r["Label"] for r in every] == ["Errors", "Requests", "Errors"]
    assert every[1]["Values"] == [100.0, 80.0]
    assert results["rate"]["Label"] == "Error rate (%)"
    assert results["rate"]["Timestamps"] == [t, t + datetime.timedelta(minutes=1)]
    assert results["rate"]["Values"] == [10.0, 5.0]
    assert results["total"]["Values"] == [55.0, 42.0]
    assert results["avg"]["Values"] == [45.0, 45.0]
    assert results["raw"]["Label"] == "Errors"
    assert results["raw"]["Values"] == [5.0, 2.0]
    assert all(r["StatusCode"] == "Complete" for r in out["MetricDataResults"])
    # Newest first by default; pages of MaxDatapoints.
    first = cw.get_metric_data(MetricDataQueries=[stat("m1", "Errors") | {"ReturnData": True}], StartTime=t, EndTime=t + datetime.timedelta(minutes=2), MaxDatapoints=1)
    assert first["MetricDataResults"][0]["Values"] == [2.0] and first["MetricDataResults"][0]["StatusCode"] == "PartialData"
    second = cw.get_metric_data(MetricDataQueries=[stat("m1", "Errors") | {"ReturnData": True}], StartTime=t, EndTime=t + datetime.timedelta(minutes=2), MaxDatapoints=1, NextToken=first["NextToken"])
    assert second["MetricDataResults"][0]["Values"] == [5.0] and "NextToken" not in second
    with aws_error("InvalidParameterValue", 400, "Unrecognized function name"):
        cw.get_metric_data(MetricDataQueries=[stat("m1", "Errors"), {"Id": "e1", "Expression": "NOPE(m1)"}], **window())
    with aws_error("ValidationError", 400, "is not matching the expected pattern"):
        cw.get_metric_data(MetricDataQueries=[stat("M1", "Errors")], **window())


def test_put_metric_data_errors(cw):
    ns = unique_name("Bad")
    with aws_error("InvalidParameterValue", 400, "The collection MetricData must not have a size greater than 1000."):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": f"m{i}", "Value": 1} for i in range(1001)])
    with aws_error("InvalidParameterValue", 400, "must not have a size greater than 30"):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": 1, "Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]}])
    with aws_error("InvalidParameterValue", 400, "The value NaN for parameter MetricData.member.1.Value is invalid."):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": float("nan")}])
    with aws_error("InvalidParameterCombination", 400, "are mutually exclusive"):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}])
    with aws_error("InvalidParameterCombination", 400, "At least one of the parameters MetricData.member.1.Value"):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m"}])
    with aws_error("MissingParameter", 400, "The parameter MetricData is required."):
        cw.put_metric_data(Namespace=ns)
    with aws_error("InvalidParameterValue", 400, "The value AWS/ for parameter Namespace is invalid."):
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "m", "Value": 1}])
    with aws_error("InvalidParameterValue", 400, "two weeks"):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": 1, "Timestamp": now() - datetime.timedelta(days=20)}])
    with aws_error("InvalidParameterValue", 400, "No metric may specify the same dimension name twice."):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": 1, "Dimensions": [{"Name": "a", "Value": "1"}, {"Name": "a", "Value": "2"}]}])
    with aws_error("InvalidParameterValue", 400, "StorageResolution"):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": 1, "StorageResolution": 5}])
    # Nothing of a rejected request was stored.
    assert cw.list_metrics(Namespace=ns)["Metrics"] == []


def test_get_metric_statistics_errors(cw):
    t = now()
    base = {"Namespace": "X", "MetricName": "m", "Statistics": ["Sum"]}
    with aws_error("InvalidParameterValue", 400, "The parameter StartTime must be less than the parameter EndTime."):
        cw.get_metric_statistics(**base, Period=60, StartTime=t, EndTime=t - datetime.timedelta(minutes=1))
    with aws_error("InvalidParameterCombination", 400, "You have requested up to 1,441 datapoints, which exceeds the limit of 1,440."):
        cw.get_metric_statistics(**base, Period=60, StartTime=t.replace(second=0, microsecond=0), EndTime=t.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1441))
    with aws_error("InvalidParameterValue", 400, "Statistics.member.1 must be a value in the set"):
        cw.get_metric_statistics(Namespace="X", MetricName="m", Statistics=["Median"], Period=60, **window())
    with aws_error("MissingParameter", 400, "Statistics or ExtendedStatistics"):
        cw.get_metric_statistics(Namespace="X", MetricName="m", Period=60, **window())


def test_s3_request_metrics_are_readable(hearth, cw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
    s3.get_object(Bucket=bucket, Key="a.txt")
    with pytest.raises(Exception):
        s3.get_object(Bucket=bucket, Key="missing")
    dims = [{"Name": "BucketName", "Value": bucket}, {"Name": "FilterId", "Value": "EntireBucket"}]
    requests_sum = lambda name: sum(
        p["Sum"] for p in cw.get_metric_statistics(Namespace="AWS/S3", MetricName=name, Dimensions=dims, Period=60, Statistics=["Sum"], **window())["Datapoints"]
    )
    assert requests_sum("AllRequests") >= 4  # create bucket, put, get, failed get
    assert requests_sum("4xxErrors") >= 1
    latency = cw.get_metric_statistics(Namespace="AWS/S3", MetricName="TotalRequestLatency", Dimensions=dims, Period=60, Statistics=["Average"], **window())
    assert latency["Datapoints"] and all(p["Unit"] == "Milliseconds" for p in latency["Datapoints"])
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AWS/S3", Dimensions=[{"Name": "BucketName", "Value": bucket}])["Metrics"]}
    assert {"AllRequests", "4xxErrors", "TotalRequestLatency"} <= names


# -- alarms -------------------------------------------------------------------------------------


def test_alarm_lifecycle_on_high_resolution_data(cw):
    ns = unique_name("Alarms")
    name = unique_name("latency-high")
    dims = [{"Name": "EndpointName", "Value": "ep-1"}, {"Name": "VariantName", "Value": "AllTraffic"}]
    cw.put_metric_alarm(
        AlarmName=name, AlarmDescription="p90 latency above 100 ms", Namespace=ns, MetricName="ModelLatency", Dimensions=dims,
        ExtendedStatistic="p90", Period=10, EvaluationPeriods=1, Threshold=100.0, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="missing", Unit="Milliseconds", Tags=[{"Key": "team", "Value": "ml"}],
    )
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    assert alarm["AlarmArn"].startswith("arn:aws:cloudwatch:us-east-1:") and alarm["AlarmArn"].endswith(f":alarm:{name}")
    assert alarm["ExtendedStatistic"] == "p90" and "Statistic" not in alarm
    assert alarm["Dimensions"] == sorted(dims, key=lambda d: d["Name"])
    assert alarm["ActionsEnabled"] is True
    assert cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [{"Key": "team", "Value": "ml"}]

    # Breaching high-resolution data: ALARM within a couple of 10-second periods.
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "ModelLatency", "Dimensions": dims, "Values": [float(v) for v in range(50, 250, 2)], "StorageResolution": 1, "Unit": "Milliseconds"}])
    alarm = wait_state(cw, name, "ALARM")
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [")
    assert alarm["StateReason"].endswith("was greater than the threshold (100.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> ALARM transition).")
    reason_data = json.loads(alarm["StateReasonData"])
    assert reason_data["version"] == "1.0" and reason_data["extendedStatistic"] == "p90" and reason_data["period"] == 10
    assert reason_data["evaluatedDatapoints"][0]["value"] == 228.0  # p90 of 50, 52, ..., 248

    # SetAlarmState holds until the next evaluation, which goes back to ALARM.
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="testing the pager", StateReasonData='{"by": "test"}')
    ok = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert ok["StateValue"] == "OK" and ok["StateReason"] == "testing the pager" and ok["StateReasonData"] == '{"by": "test"}'
    history = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == "Alarm updated from ALARM to OK"
    assert history[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    data = json.loads(history[1]["HistoryData"])
    assert data["oldState"]["stateValue"] == "INSUFFICIENT_DATA" and data["newState"]["stateValue"] == "ALARM"
    assert all(h["AlarmType"] == "MetricAlarm" and h["AlarmName"] == name for h in history)
    config = cw.describe_alarm_history(AlarmName=name, HistoryItemType="ConfigurationUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in config] == [f'Alarm "{name}" created']
    ascending = cw.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert ascending[0]["HistoryItemType"] == "ConfigurationUpdate"

    # With no more data the range empties and missing data makes it INSUFFICIENT_DATA.
    alarm = wait_state(cw, name, "INSUFFICIENT_DATA", timeout=90)
    assert alarm["StateReason"] == "Insufficient Data: 1 datapoint was unknown."

    # Filters of DescribeAlarms and DescribeAlarmsForMetric.
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix=name[:12])["MetricAlarms"]] == [name]
    assert name in [a["AlarmName"] for a in cw.describe_alarms(StateValue="INSUFFICIENT_DATA")["MetricAlarms"]]
    assert name not in [a["AlarmName"] for a in cw.describe_alarms(StateValue="ALARM")["MetricAlarms"]]
    for_metric = cw.describe_alarms_for_metric(Namespace=ns, MetricName="ModelLatency", Dimensions=dims)["MetricAlarms"]
    assert [a["AlarmName"] for a in for_metric] == [name]
    assert cw.describe_alarms_for_metric(Namespace=ns, MetricName="ModelLatency", Dimensions=dims, ExtendedStatistic="p99")["MetricAlarms"] == []

    cw.delete_alarms(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    deleted = cw.describe_alarm_history(AlarmName=name, HistoryItemType="ConfigurationUpdate")["AlarmHistoryItems"]
    assert deleted[0]["HistorySummary"] == f'Alarm "{name}" deleted'
    with aws_error("ResourceNotFound", 404):
        cw.delete_alarms(AlarmNames=[name])


def test_m_of_n_with_breaching_missing_data(cw):
    """The deployment-guardrails shape: Sum of Invocation5XXErrors, 2 of 3 datapoints."""
    ns = unique_name("Guard")
    name = unique_name("5xx")
    dims = [{"Name": "EndpointName", "Value": "fraud"}, {"Name": "VariantName", "Value": "canary"}]
    cw.put_metric_alarm(
        AlarmName=name, Namespace=ns, MetricName="Invocation5XXErrors", Dimensions=dims, Statistic="Sum", Period=10,
        EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    wait_state(cw, name, "OK")
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Invocation5XXErrors", "Dimensions": dims, "Value": 3.0, "StorageResolution": 1}])
    time.sleep(10)
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["StateValue"] == "OK", "one breaching datapoint of 2 needed"
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Invocation5XXErrors", "Dimensions": dims, "Value": 2.0, "StorageResolution": 1}])
    alarm = wait_state(cw, name, "ALARM")
    assert "out of the last 3 datapoints" in alarm["StateReason"]
    assert "were greater than or equal to the threshold (1.0)" in alarm["StateReason"]
    assert alarm["StateReason"].endswith("(minimum 2 datapoints for OK -> ALARM transition).")
    cw.delete_alarms(AlarmNames=[name])


def test_metric_math_alarm(cw):
    ns = unique_name("MathAlarm")
    name = unique_name("error-rate")

    def stat(qid, metric):
        return {"Id": qid, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": metric}, "Period": 10, "Stat": "Sum"}, "ReturnData": False}

    cw.put_metric_alarm(
        AlarmName=name, EvaluationPeriods=1, Threshold=10.0, ComparisonOperator="GreaterThanThreshold",
        Metrics=[stat("m1", "Errors"), stat("m2", "Requests"), {"Id": "e1", "Expression": "m1/m2*100", "Label": "Error rate"}],
    )
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert [m["Id"] for m in alarm["Metrics"]] == ["m1", "m2", "e1"]
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Errors", "Value": 3, "StorageResolution": 1}, {"MetricName": "Requests", "Value": 10, "StorageResolution": 1}])
    wait_state(cw, name, "ALARM")
    cw.delete_alarms(AlarmNames=[name])


def test_alarm_actions_enabled_and_disabled(cw):
    name = unique_name("actions")
    topic = "arn:aws:sns:us-east-1:000000000000:nowhere"
    cw.put_metric_alarm(AlarmName=name, Namespace="Acts", MetricName="m", Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic])
    cw.disable_alarm_actions(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is False
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="disabled: no action")
    time.sleep(1.5)
    assert cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"] == []
    cw.enable_alarm_actions(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name], ActionPrefix="arn:aws:sns:")["MetricAlarms"][0]["ActionsEnabled"] is True
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="back")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="enabled: the action runs")
    deadline = time.monotonic() + 20
    while not (actions := cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    # The topic does not exist, so the action is recorded as failed.
    assert actions[0]["HistorySummary"].startswith(f"Failed to execute action {topic}")
    assert json.loads(actions[0]["HistoryData"])["actionState"] == "Failed"
    cw.delete_alarms(AlarmNames=[name])


def test_alarm_errors(cw):
    base = {"Namespace": "E", "MetricName": "m", "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold"}
    name = unique_name("bad")
    with aws_error("MissingParameter", 400, "The parameter EvaluationPeriods is required."):
        cw.put_metric_alarm(AlarmName=name, **{k: v for k, v in base.items() if k != "EvaluationPeriods"})
    with aws_error("InvalidParameterValue", 400, "Period"):
        cw.put_metric_alarm(AlarmName=name, **(base | {"Period": 15}))
    with aws_error("InvalidParameterCombination", 400):
        cw.put_metric_alarm(AlarmName=name, **(base | {"ExtendedStatistic": "p90"}))
    with aws_error("InvalidParameterCombination", 400, "DatapointsToAlarm"):
        cw.put_metric_alarm(AlarmName=name, **(base | {"DatapointsToAlarm": 2}))
    with aws_error("InvalidParameterValue", 400, "TreatMissingData"):
        cw.put_metric_alarm(AlarmName=name, **(base | {"TreatMissingData": "sometimes"}))
    with aws_error("InvalidParameterCombination", 400, "more than a day"):
        cw.put_metric_alarm(AlarmName=name, **(base | {"Period": 3600, "EvaluationPeriods": 25}))
    with aws_error("InvalidParameterValue", 400, "Exactly one element of the metrics list should return data."):
        cw.put_metric_alarm(
            AlarmName=name, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
            Metrics=[{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "E", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}, "ReturnData": False}],
        )
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    with aws_error("ResourceNotFound", 404, "not found"):
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="x")
    cw.put_metric_alarm(AlarmName=name, **base)
    with aws_error("InvalidFormat", 400):
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="x", StateReasonData="{not json")
    with aws_error("InvalidParameterCombination", 400, "mutually exclusive"):
        cw.describe_alarms(AlarmNames=[name], AlarmNamePrefix="b")
    with aws_error("ResourceNotFound", 404):
        cw.delete_alarms(AlarmNames=[name, unique_name("ghost")])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"], "nothing is deleted when one name is unknown"
    with aws_error("ResourceNotFoundException", 404):
        cw.tag_resource(ResourceARN=f"arn:aws:cloudwatch:us-east-1:999999999999:alarm:{name}", Tags=[{"Key": "k", "Value": "v"}])
    cw.delete_alarms(AlarmNames=[name])


def test_update_keeps_state_and_tags(cw):
    name = unique_name("update")
    # No data and missing data ignored: evaluations keep whatever state the alarm is in.
    base = {"Namespace": "U", "MetricName": "m", "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "ignore"}
    cw.put_metric_alarm(AlarmName=name, Tags=[{"Key": "a", "Value": "1"}], **base)
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="held")
    cw.put_metric_alarm(AlarmName=name, Tags=[{"Key": "ignored", "Value": "x"}], **(base | {"Threshold": 5.0}))
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["Threshold"] == 5.0 and alarm["StateValue"] == "ALARM"
    arn = alarm["AlarmArn"]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "b", "Value": "2"}])
    cw.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    summaries = [h["HistorySummary"] for h in cw.describe_alarm_history(AlarmName=name, HistoryItemType="ConfigurationUpdate")["AlarmHistoryItems"]]
    assert summaries == [f'Alarm "{name}" updated', f'Alarm "{name}" created']
    paged = cw.get_paginator("describe_alarm_history").paginate(AlarmName=name, PaginationConfig={"PageSize": 1})
    everything = cw.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert len(everything) == 3  # created, set to ALARM, updated
    assert [i for p in paged for i in p["AlarmHistoryItems"]] == everything
    cw.delete_alarms(AlarmNames=[name])


def test_alarms_are_per_account(hearth, cw):
    name = unique_name("mine")
    cw.put_metric_alarm(AlarmName=name, Namespace="I", MetricName="m", Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    other = hearth.client("cloudwatch", account="other")
    assert other.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    with aws_error("ResourceNotFound", 404):
        other.delete_alarms(AlarmNames=[name])
    cw.delete_alarms(AlarmNames=[name])


def test_alarm_state_and_history_survive_a_restart(own_hearth):
    cw = own_hearth.client("cloudwatch")
    name = unique_name("durable")
    cw.put_metric_alarm(AlarmName=name, Namespace="D", MetricName="m", Statistic="Maximum", Period=10, EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="before the restart")
    own_hearth.kill9()
    own_hearth.start()
    cw = own_hearth.client("cloudwatch")
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM" and alarm["StateReason"] == "before the restart"
    # The evaluator runs after the restart: a non-breaching datapoint makes it OK.
    cw.put_metric_data(Namespace="D", MetricData=[{"MetricName": "m", "Value": 1.0, "StorageResolution": 1}])
    wait_state(cw, name, "OK")
    assert len(cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]) == 2


# -- the other protocols of the model --------------------------------------------------------------


@pytest.fixture(scope="module", params=["smithy-rpc-v2-cbor", "query"])
def protocol_client(request, hearth, tmp_path_factory):
    """A CloudWatch client speaking only `protocol`, built by botocore from the same model."""
    proto = request.param
    model = json.loads(open(hearth_spec(), encoding="utf-8").read())
    model["metadata"]["protocols"] = [proto]
    model["metadata"]["protocol"] = proto
    root = tmp_path_factory.mktemp(f"models-{proto}")
    target = root / "cloudwatch" / model["metadata"]["apiVersion"]
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(root))
    creds = hearth.account_creds()
    client = boto3.session.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=hearth.endpoint, region_name="us-east-1", aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key, config=Config(retries={"total_max_attempts": 1}),
    )
    assert client.meta.service_model.resolved_protocol == proto
    return client


def hearth_spec():
    import pathlib

    return pathlib.Path(__file__).resolve().parents[2] / "specs" / "cloudwatch.json"


def test_cbor_and_query_protocols(protocol_client):
    cw = protocol_client
    ns = unique_name("Proto")
    t = now().replace(microsecond=0)
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Values": [1.0, 2.0, 3.0], "Timestamp": t, "Dimensions": [{"Name": "k", "Value": "v"}]}])
    out = cw.get_metric_statistics(Namespace=ns, MetricName="m", Dimensions=[{"Name": "k", "Value": "v"}], Period=60, Statistics=["Sum", "Maximum"], **window())
    [p] = out["Datapoints"]
    assert (p["Sum"], p["Maximum"]) == (6.0, 3.0)
    assert isinstance(p["Timestamp"], datetime.datetime)
    data = cw.get_metric_data(MetricDataQueries=[{"Id": "m1", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "m", "Dimensions": [{"Name": "k", "Value": "v"}]}, "Period": 60, "Stat": "p50"}}], **window())
    assert data["MetricDataResults"][0]["Values"] == [2.0]
    name = unique_name("proto")
    cw.put_metric_alarm(AlarmName=name, Namespace=ns, MetricName="m", Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["AlarmName"] == name and isinstance(alarm["StateUpdatedTimestamp"], datetime.datetime)
    with aws_error("ResourceNotFound", 404):
        cw.set_alarm_state(AlarmName=unique_name("ghost"), StateValue="OK", StateReason="x")
    with aws_error("InvalidParameterValue", 400):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": 1, "StorageResolution": 7}])
    cw.delete_alarms(AlarmNames=[name])


def test_gzip_compressed_put_metric_data(cw):
    """botocore gzips PutMetricData bodies of 10 KiB and more."""
    ns = unique_name("Gzip")
    data = [{"MetricName": f"metric-{i:04d}", "Value": float(i), "Dimensions": [{"Name": "Host", "Value": f"host-{i}"}]} for i in range(300)]
    cw.put_metric_data(Namespace=ns, MetricData=data)
    assert len(list(m for p in cw.get_paginator("list_metrics").paginate(Namespace=ns) for m in p["Metrics"])) == 300


def test_aws_cli_put_and_get(hearth):
    import subprocess

    ns = unique_name("Cli")
    env = hearth.env()
    subprocess.run(["aws", "cloudwatch", "put-metric-data", "--namespace", ns, "--metric-name", "Jobs", "--value", "7", "--unit", "Count"], env=env, check=True, capture_output=True, timeout=120)
    t = now()
    out = subprocess.run(
        ["aws", "cloudwatch", "get-metric-statistics", "--namespace", ns, "--metric-name", "Jobs", "--statistics", "Sum",
         "--period", "60", "--start-time", (t - datetime.timedelta(minutes=5)).isoformat(), "--end-time", (t + datetime.timedelta(minutes=5)).isoformat()],
        env=env, check=True, capture_output=True, text=True, timeout=120,
    )
    assert [p["Sum"] for p in json.loads(out.stdout)["Datapoints"]] == [7.0]
