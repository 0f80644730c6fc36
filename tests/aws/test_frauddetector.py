"""Amazon Fraud Detector end to end with boto3, as the seed's real-time fraud post uses it.

The module trains real models on synthetic transactions from `hearth fraud generate` (the
frauddetector crate README documents the planted fraud patterns and labelling rule): an Online Fraud Insights model from an S3 CSV
(EXTERNAL_EVENTS), and a Transaction Fraud Insights model on events batch-imported into the
event store (INGESTED_EVENTS, with per-entity aggregates). Rules on the model score pick the
outcome; the detector's ACTIVE version answers GetEventPrediction when no version is named, as
the post's Flink UDF calls it. Held-out later transactions check that fraudulent and legitimate
events get different scores and outcomes; AUCs and latencies are printed (`pytest -s`).
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from awsutil import aws_error
import subprocess

from harness import fetch_models, hearth_bin
from test_frauddetector_data import VARIABLES, auc, generate, generate_args, import_csv, seed_record, training_csv

START = datetime(2024, 3, 1, tzinfo=timezone.utc)
DAYS = 60
CUTOFF = START + timedelta(days=48)
EVENT_TYPE = "transaction_event"
IMPORT_TYPE = "payment_history"
DETECTOR = "transaction_fraud_detector"
OFI_MODEL = "ofi_model"
TFI_MODEL = "tfi_model"
ROLE = "arn:aws:iam::123456789012:role/FraudDetectorData"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_model(fd, model_id, model_type, version, timeout=900):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fd.get_model_version(modelId=model_id, modelType=model_type, modelVersionNumber=version)
        if v["status"] not in ("TRAINING_IN_PROGRESS",):
            return v
        time.sleep(0.5)
    raise AssertionError(f"{model_id} {version} still training after {timeout} s")


def describe(fd, model_id, model_type, version):
    return fd.describe_model_versions(modelId=model_id, modelType=model_type, modelVersionNumber=version)["modelVersionDetails"][0]


def entity(t):
    return [{"entityType": "customer", "entityId": t.entity_id}]


def predict(fd, t, event_type=EVENT_TYPE, detector=DETECTOR, **kw):
    return fd.get_event_prediction(
        detectorId=detector,
        eventId=t.event_id,
        eventTypeName=event_type,
        eventTimestamp=t.event_time(),
        entities=entity(t),
        eventVariables=dict(t.values),
        **kw,
    )


def score_of(resp, model=OFI_MODEL):
    for m in resp["modelScores"]:
        if m["modelVersion"]["modelId"] == model:
            return m["scores"][f"{model}_insightscore"]
    raise AssertionError(f"no score of {model} in {resp}")


def outcomes_of(resp):
    return [o for r in resp["ruleResults"] for o in r["outcomes"]]


@pytest.fixture(scope="module")
def world(hearth, s3):
    """Variables, entity type, labels, outcomes, event types; the data; a trained, active OFI
    model; rules on its score and an ACTIVE detector version."""
    fetch_models("xgboost")
    fd = hearth.client("frauddetector")
    txns = generate(count=16000, days=DAYS, seed=11, start=START)
    history = [t for t in txns if t.ts < CUTOFF]
    live = [t for t in txns if t.ts >= CUTOFF]

    out = fd.batch_create_variable(
        variableEntries=[{"name": n, "dataType": dt, "dataSource": "EVENT", "defaultValue": dv, "variableType": vt} for n, dt, vt, dv in VARIABLES]
    )
    assert out["errors"] == [], out["errors"]
    fd.put_entity_type(name="customer", description="card holder")
    for label in ("fraud", "legit"):
        fd.put_label(name=label)
    for outcome in ("block", "investigate", "approve"):
        fd.put_outcome(name=outcome)
    for name in (EVENT_TYPE, IMPORT_TYPE):
        fd.put_event_type(
            name=name,
            eventVariables=[v[0] for v in VARIABLES],
            labels=["fraud", "legit"],
            entityTypes=["customer"],
            eventIngestion="ENABLED",
        )

    bucket = uid("fraud-data")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="training/transactions.csv", Body=training_csv(history))

    fd.create_model(modelId=OFI_MODEL, modelType="ONLINE_FRAUD_INSIGHTS", eventTypeName=EVENT_TYPE, description="online fraud insights")
    started = time.time()
    v = fd.create_model_version(
        modelId=OFI_MODEL,
        modelType="ONLINE_FRAUD_INSIGHTS",
        trainingDataSource="EXTERNAL_EVENTS",
        trainingDataSchema={
            "modelVariables": [v[0] for v in VARIABLES],
            "labelSchema": {"labelMapper": {"FRAUD": ["fraud"], "LEGIT": ["legit"]}, "unlabeledEventsTreatment": "IGNORE"},
        },
        externalEventsDetail={"dataLocation": f"s3://{bucket}/training/transactions.csv", "dataAccessRoleArn": ROLE},
    )
    assert v["status"] == "TRAINING_IN_PROGRESS" and v["modelVersionNumber"] == "1.0"
    done = wait_model(fd, OFI_MODEL, "ONLINE_FRAUD_INSIGHTS", "1.0")
    wall = time.time() - started
    assert done["status"] == "TRAINING_COMPLETE", describe(fd, OFI_MODEL, "ONLINE_FRAUD_INSIGHTS", "1.0").get("trainingResult")
    fd.update_model_version_status(modelId=OFI_MODEL, modelType="ONLINE_FRAUD_INSIGHTS", modelVersionNumber="1.0", status="ACTIVE")

    fd.put_detector(detectorId=DETECTOR, eventTypeName=EVENT_TYPE, description="the post's transaction_fraud_detector")
    score = f"${OFI_MODEL}_insightscore"
    rules = []
    for rule_id, expr, outcome in [
        ("high_risk", f"{score} > 900", "block"),
        ("medium_risk", f"{score} > 700", "investigate"),
        ("low_risk", f"{score} <= 700", "approve"),
    ]:
        r = fd.create_rule(ruleId=rule_id, detectorId=DETECTOR, expression=expr, language="DETECTORPL", outcomes=[outcome])
        assert r["rule"] == {"detectorId": DETECTOR, "ruleId": rule_id, "ruleVersion": "1"}
        rules.append(r["rule"])
    dv = fd.create_detector_version(
        detectorId=DETECTOR,
        rules=rules,
        modelVersions=[{"modelId": OFI_MODEL, "modelType": "ONLINE_FRAUD_INSIGHTS", "modelVersionNumber": "1.0"}],
        ruleExecutionMode="FIRST_MATCHED",
    )
    assert dv["status"] == "DRAFT" and dv["detectorVersionId"] == "1"
    fd.update_detector_version_status(detectorId=DETECTOR, detectorVersionId="1", status="ACTIVE")
    return {"fd": fd, "s3": s3, "bucket": bucket, "history": history, "live": live, "rules": rules, "train_wall": wall, "hearth": hearth}


def test_ofi_model_reports_real_metrics(world):
    fd = world["fd"]
    d = describe(fd, OFI_MODEL, "ONLINE_FRAUD_INSIGHTS", "1.0")
    assert d["status"] == "ACTIVE"
    assert d["trainingDataSource"] == "EXTERNAL_EVENTS"
    v2 = d["trainingResultV2"]
    perf = v2["trainingMetricsV2"]["ofi"]["modelPerformance"]
    points = v2["trainingMetricsV2"]["ofi"]["metricDataPoints"]
    auc_v = perf["auc"]
    print(f"\nOFI validation AUC {auc_v:.4f} [{perf['uncertaintyRange']['lowerBoundValue']:.3f}, {perf['uncertaintyRange']['upperBoundValue']:.3f}], wall {world['train_wall']:.1f} s")
    print("  " + v2["dataValidationMetrics"]["fileLevelMessages"][0]["content"])
    assert auc_v >= 0.85
    assert perf["uncertaintyRange"]["lowerBoundValue"] <= auc_v <= perf["uncertaintyRange"]["upperBoundValue"]
    assert d["trainingResult"]["trainingMetrics"]["auc"] == auc_v
    # The threshold table: scores 0..1000, FPR and TPR fall as the threshold rises.
    assert [p["threshold"] for p in points] == [float(t) for t in range(0, 1001, 10)]
    fprs = [p["fpr"] for p in points]
    tprs = [p["tpr"] for p in points]
    assert all(a >= b for a, b in zip(fprs, fprs[1:])) and all(a >= b for a, b in zip(tprs, tprs[1:]))
    at = {p["threshold"]: p for p in points}
    # Calibrated as AWS documents: 600 ≈ 10% FPR, 900 ≈ 2% FPR (on the validation data).
    assert 0.06 <= at[600.0]["fpr"] <= 0.14, at[600.0]
    assert 0.005 <= at[900.0]["fpr"] <= 0.035, at[900.0]
    assert at[900.0]["tpr"] > 0.5, at[900.0]
    imp = {m["variableName"]: m for m in v2["variableImportanceMetrics"]["logOddsMetrics"]}
    assert set(imp) == {v[0] for v in VARIABLES}
    assert imp["card_bin"]["variableType"] == "CARD_BIN"
    top = sorted(imp.values(), key=lambda m: -m["variableImportance"])[:5]
    print("  top variables: " + ", ".join(f"{m['variableName']} {m['variableImportance']:.3f}" for m in top))
    assert {m["variableName"] for m in top} & {"card_bin", "email_address", "ip_address", "transaction_amt", "product_category"}


def test_predictions_separate_fraud_from_legit(world):
    fd = world["fd"]
    live = world["live"]
    fraud = [t for t in live if t.fraud][:120]
    legit = [t for t in live if not t.fraud][:360]
    scores, labels, outcomes, latencies = [], [], {True: [], False: []}, []
    for t in fraud + legit:
        t0 = time.perf_counter()
        r = predict(fd, t)  # no detectorVersionId: the ACTIVE version answers
        latencies.append((time.perf_counter() - t0) * 1000)
        s = score_of(r)
        assert 0 <= s <= 1000
        scores.append(s)
        labels.append(t.fraud)
        out = outcomes_of(r)
        assert len(out) == 1, r["ruleResults"]  # FIRST_MATCHED: exactly one rule matches
        outcomes[t.fraud].append(out[0])
    live_auc = auc(scores, labels)
    block_fraud = outcomes[True].count("block") / len(outcomes[True])
    block_legit = outcomes[False].count("block") / len(outcomes[False])
    approve_legit = outcomes[False].count("approve") / len(outcomes[False])
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
    print(f"\nlive AUC {live_auc:.4f} on {len(fraud)} fraud + {len(legit)} legit; block: fraud {block_fraud:.0%}, legit {block_legit:.1%}; approve legit {approve_legit:.0%}")
    print(f"GetEventPrediction over HTTP (boto3, debug build): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    assert live_auc > 0.85
    assert statistics.mean(s for s, l in zip(scores, labels) if l) > statistics.mean(s for s, l in zip(scores, labels) if not l) + 300
    assert block_fraud > 0.5 and block_legit < 0.06 and approve_legit > 0.8


def test_seed_record_shape_and_explicit_version(world):
    fd = world["fd"]
    t = next(t for t in world["live"] if t.fraud and t.pattern == "ring")
    rec = seed_record(t)
    # The post's UDF: variables from the Kafka record, entity = customer, no detector version.
    variables = {k: str(v) for k, v in rec.items() if k not in ("event_id", "entity_id", "event_time")}
    r = fd.get_event_prediction(
        detectorId=DETECTOR,
        eventId=rec["event_id"] + "-udf",
        eventTypeName=EVENT_TYPE,
        eventTimestamp=rec["event_time"] + "Z",
        entities=[{"entityType": "customer", "entityId": rec["entity_id"]}],
        eventVariables=variables,
    )
    same = predict(fd, t, detectorVersionId="1")
    assert score_of(r) == score_of(same)
    assert r["ruleResults"] == same["ruleResults"]
    assert r["modelScores"][0]["modelVersion"]["arn"].endswith(f"model-version/ONLINE_FRAUD_INSIGHTS/{OFI_MODEL}/1.0")
    assert r["externalModelOutputs"] == []


def test_all_matched_and_version_lifecycle(world):
    fd = world["fd"]
    rules = world["rules"]
    t = next(t for t in world["live"] if t.fraud and t.pattern == "ring")
    assert outcomes_of(predict(fd, t)) == ["block"]
    dv = fd.create_detector_version(
        detectorId=DETECTOR,
        rules=rules,
        modelVersions=[{"modelId": OFI_MODEL, "modelType": "ONLINE_FRAUD_INSIGHTS", "modelVersionNumber": "1.0"}],
        ruleExecutionMode="ALL_MATCHED",
        description="all matched",
    )
    v2 = dv["detectorVersionId"]
    assert v2 == "2"
    # A DRAFT can be evaluated by naming it; ALL_MATCHED returns every matching rule.
    r = predict(fd, t, detectorVersionId=v2)
    if score_of(r) > 900:
        assert [x["ruleId"] for x in r["ruleResults"]] == ["high_risk", "medium_risk"]
        assert outcomes_of(r) == ["block", "investigate"]
    # Activating version 2 makes version 1 INACTIVE (one active version per detector).
    fd.update_detector_version_status(detectorId=DETECTOR, detectorVersionId=v2, status="ACTIVE")
    summaries = {s["detectorVersionId"]: s["status"] for s in fd.describe_detector(detectorId=DETECTOR)["detectorVersionSummaries"]}
    assert summaries == {"1": "INACTIVE", "2": "ACTIVE"}
    assert len(predict(fd, t)["ruleResults"]) >= 1
    with aws_error("ValidationException", message="INACTIVE"):
        predict(fd, t, detectorVersionId="1")
    with aws_error("ValidationException"):
        fd.update_detector_version_status(detectorId=DETECTOR, detectorVersionId=v2, status="DRAFT")
    with aws_error("ConflictException"):
        fd.delete_detector_version(detectorId=DETECTOR, detectorVersionId=v2)
    with aws_error("ConflictException"):
        fd.update_detector_version(detectorId=DETECTOR, detectorVersionId=v2, rules=rules, externalModelEndpoints=[])
    with aws_error("ConflictException"):
        fd.update_model_version_status(modelId=OFI_MODEL, modelType="ONLINE_FRAUD_INSIGHTS", modelVersionNumber="1.0", status="INACTIVE")
    # Back to version 1, as the post does when a new version misbehaves.
    fd.update_detector_version_status(detectorId=DETECTOR, detectorVersionId="1", status="ACTIVE")
    summaries = {s["detectorVersionId"]: s["status"] for s in fd.describe_detector(detectorId=DETECTOR)["detectorVersionSummaries"]}
    assert summaries == {"1": "ACTIVE", "2": "INACTIVE"}
    assert outcomes_of(predict(fd, t)) == ["block"]
    fd.delete_detector_version(detectorId=DETECTOR, detectorVersionId=v2)
    with aws_error("ResourceNotFoundException"):
        fd.get_detector_version(detectorId=DETECTOR, detectorVersionId=v2)
    got = fd.get_detector_version(detectorId=DETECTOR, detectorVersionId="1")
    assert got["status"] == "ACTIVE" and got["ruleExecutionMode"] == "FIRST_MATCHED"
    assert [r["ruleId"] for r in got["rules"]] == ["high_risk", "medium_risk", "low_risk"]
    assert got["modelVersions"][0]["modelVersionNumber"] == "1.0"


def test_rules_with_variables_lists_and_functions(world):
    fd = world["fd"]
    det = uid("rules-det")
    fd.put_detector(detectorId=det, eventTypeName=EVENT_TYPE)
    fd.create_list(name="blocked_domains_" + det.replace("-", "_"), elements=["tempbox.example", "mailnesia.example"], variableType="EMAIL_ADDRESS")
    listname = "blocked_domains_" + det.replace("-", "_")
    exprs = [
        ("night_big", "$transaction_amt > 500 and $billing_state in [\"VA\", \"CA\", \"TX\", \"NY\", \"FL\", \"IL\", \"WA\", \"OH\", \"GA\", \"CO\"]", "investigate"),
        ("throwaway", f"regex_match(\".*@(tempbox|mailnesia|dropmail)\\.example\", lowercase($email_address))", "block"),
        ("known_good", "$card_bin not in [\"414720\", \"414709\", \"535610\", \"535622\"] and $transaction_amt * 2 < 1000", "approve"),
        ("no_ip", "$ip_address == null or $ip_address == \"unknown\"", "investigate"),
    ]
    rules = []
    for rid, expr, outcome in exprs:
        rules.append(fd.create_rule(ruleId=rid, detectorId=det, expression=expr, language="DETECTORPL", outcomes=[outcome])["rule"])
    # A list is usable in a new version of a rule.
    upd = fd.update_rule_version(rule=rules[1], expression=f"$email_address in @{listname} or regex_match(\".*@(tempbox|mailnesia|dropmail)\\.example\", lowercase($email_address))", language="DETECTORPL", outcomes=["block"])
    assert upd["rule"]["ruleVersion"] == "2"
    rules[1] = upd["rule"]
    got = fd.get_rules(detectorId=det, ruleId="throwaway")["ruleDetails"]
    assert sorted(r["ruleVersion"] for r in got) == ["1", "2"]
    fd.create_detector_version(detectorId=det, rules=rules, ruleExecutionMode="ALL_MATCHED")
    fd.update_detector_version_status(detectorId=det, detectorVersionId="1", status="ACTIVE")
    ring = next(t for t in world["live"] if t.pattern == "ring")
    r = predict(fd, ring, detector=det)
    matched = {x["ruleId"] for x in r["ruleResults"]}
    assert "throwaway" in matched and "known_good" not in matched
    assert r["modelScores"] == []
    # Missing variables take their default value ("unknown" for ip_address).
    values = dict(ring.values)
    del values["ip_address"]
    r = fd.get_event_prediction(detectorId=det, eventId=uid("e"), eventTypeName=EVENT_TYPE, eventTimestamp=ring.event_time(), entities=entity(ring), eventVariables=values)
    assert "no_ip" in {x["ruleId"] for x in r["ruleResults"]}
    # A list used by a rule cannot be deleted; an outcome used by a rule neither.
    with aws_error("ConflictException"):
        fd.delete_list(name=listname)
    with aws_error("ConflictException"):
        fd.delete_outcome(name="block")
    with aws_error("ConflictException"):
        fd.delete_rule(rule=rules[0])


@pytest.mark.parametrize(
    "expression, fragment",
    [
        ("$transaction_amt >", "ends where a value was expected"),
        ("$transaction_amt = 5", "'=='"),
        ("transaction_amt > 5", "variables start with '$'"),
        ("$no_such_variable > 5", "not defined"),
        ("$transaction_amt > 5 && $card_bin == \"1\"", "'and' and 'or'"),
        ("$email_address > 5", "cannot compare"),
        ("$transaction_amt", "must be a condition"),
        ("$card_bin in @no_such_list", "does not exist"),
        ("regex_match(\"(\", $email_address)", "invalid regular expression"),
        ("len($email_address) > 3", "unknown function"),
        ("($transaction_amt > 5", "')'"),
        ("$other_model_insightscore > 900", "not defined"),
    ],
)
def test_invalid_rule_expressions(world, expression, fragment):
    fd = world["fd"]
    with aws_error("ValidationException", message=fragment) as info:
        fd.create_rule(ruleId=uid("bad")[:40], detectorId=DETECTOR, expression=expression, language="DETECTORPL", outcomes=["block"])
    assert info.value.response["Error"]["Message"].startswith("Invalid rule expression: ")


def test_api_validation_errors(world):
    fd = world["fd"]
    t = world["live"][0]
    with aws_error("ValidationException", message="Member must satisfy regular expression pattern: ^[0-9a-z_-]+$"):
        fd.put_label(name="Fraud Label")
    with aws_error("ValidationException", message="Member must satisfy enum value set"):
        fd.create_rule(ruleId="x", detectorId=DETECTOR, expression="$transaction_amt > 1", language="SQL", outcomes=["block"])
    with aws_error("ResourceNotFoundException"):
        predict(fd, t, detector="no_such_detector")
    with aws_error("ValidationException", message="not part of the event type"):
        fd.get_event_prediction(detectorId=DETECTOR, eventId="e1", eventTypeName=EVENT_TYPE, eventTimestamp=t.event_time(), entities=entity(t), eventVariables={"not_a_variable": "1"})
    with aws_error("ValidationException", message="is not a valid FLOAT"):
        fd.get_event_prediction(detectorId=DETECTOR, eventId="e2", eventTypeName=EVENT_TYPE, eventTimestamp=t.event_time(), entities=entity(t), eventVariables={"transaction_amt": "lots"})
    with aws_error("ValidationException", message="evaluates events of the type"):
        predict(fd, t, event_type=IMPORT_TYPE)
    with aws_error("ResourceNotFoundException", message="event type no_such_type"):
        predict(fd, t, event_type="no_such_type")
    with aws_error("ValidationException", message="At least one event variable"):
        fd.get_event_prediction(detectorId=DETECTOR, eventId="e0", eventTypeName=EVENT_TYPE, eventTimestamp=t.event_time(), entities=entity(t), eventVariables={})
    with aws_error("ResourceNotFoundException", message="version 9"):
        predict(fd, t, detectorVersionId="9")
    with aws_error("ValidationException", message="ISO 8601"):
        fd.get_event_prediction(detectorId=DETECTOR, eventId="e3", eventTypeName=EVENT_TYPE, eventTimestamp="yesterday at noon", entities=entity(t), eventVariables=dict(t.values))
    with aws_error("ValidationException", message="entity type"):
        fd.get_event_prediction(detectorId=DETECTOR, eventId="e4", eventTypeName=EVENT_TYPE, eventTimestamp=t.event_time(), entities=[{"entityType": "merchant", "entityId": "m1"}], eventVariables=dict(t.values))
    with aws_error("ValidationException", message="entityId"):
        fd.get_event_prediction(detectorId=DETECTOR, eventId="e5", eventTypeName=EVENT_TYPE, eventTimestamp=t.event_time(), entities=[{"entityType": "customer", "entityId": "bad id"}], eventVariables=dict(t.values))
    fd.put_detector(detectorId="other_detector", eventTypeName=EVENT_TYPE)
    fd.create_rule(ruleId="r", detectorId="other_detector", expression="$transaction_amt > 1", language="DETECTORPL", outcomes=["block"])
    rule = [{"detectorId": "other_detector", "ruleId": "r", "ruleVersion": "1"}]
    with aws_error("ResourceNotFoundException"):
        fd.create_detector_version(detectorId="other_detector", rules=rule, modelVersions=[{"modelId": OFI_MODEL, "modelType": "ONLINE_FRAUD_INSIGHTS", "modelVersionNumber": "7.0"}])
    # A retrained minor version is TRAINING_COMPLETE, not ACTIVE: detectors cannot use it yet.
    v = fd.update_model_version(
        modelId=OFI_MODEL,
        modelType="ONLINE_FRAUD_INSIGHTS",
        majorVersionNumber="1",
        externalEventsDetail={"dataLocation": f"s3://{world['bucket']}/training/transactions.csv", "dataAccessRoleArn": ROLE},
    )
    assert v["modelVersionNumber"] == "1.1" and v["status"] == "TRAINING_IN_PROGRESS"
    assert wait_model(fd, OFI_MODEL, "ONLINE_FRAUD_INSIGHTS", "1.1")["status"] == "TRAINING_COMPLETE"
    with aws_error("ValidationException", message="only ACTIVE model versions"):
        fd.create_detector_version(detectorId="other_detector", rules=rule, modelVersions=[{"modelId": OFI_MODEL, "modelType": "ONLINE_FRAUD_INSIGHTS", "modelVersionNumber": "1.1"}])
    with aws_error("ValidationException", message="cannot change from TRAINING_COMPLETE to INACTIVE"):
        fd.update_model_version_status(modelId=OFI_MODEL, modelType="ONLINE_FRAUD_INSIGHTS", modelVersionNumber="1.1", status="INACTIVE")
    with aws_error("ValidationException", message="no version of the model"):
        fd.create_rule(ruleId="scored", detectorId="other_detector", expression=f"${OFI_MODEL}_insightscore > 900", language="DETECTORPL", outcomes=["block"])
        fd.create_detector_version(detectorId="other_detector", rules=[{"detectorId": "other_detector", "ruleId": "scored", "ruleVersion": "1"}])
    with aws_error("ValidationException", message="INGESTED_EVENTS"):
        fd.create_model(modelId="tfi_s3", modelType="TRANSACTION_FRAUD_INSIGHTS", eventTypeName=EVENT_TYPE)
        fd.create_model_version(
            modelId="tfi_s3",
            modelType="TRANSACTION_FRAUD_INSIGHTS",
            trainingDataSource="EXTERNAL_EVENTS",
            trainingDataSchema={"modelVariables": ["transaction_amt", "card_bin"], "labelSchema": {"labelMapper": {"FRAUD": ["fraud"], "LEGIT": ["legit"]}}},
            externalEventsDetail={"dataLocation": f"s3://{world['bucket']}/training/transactions.csv", "dataAccessRoleArn": ROLE},
        )
    with aws_error("ResourceNotFoundException"):
        fd.create_model_version(
            modelId="no_such_model",
            modelType="ONLINE_FRAUD_INSIGHTS",
            trainingDataSource="EXTERNAL_EVENTS",
            trainingDataSchema={"modelVariables": ["transaction_amt", "card_bin"]},
            externalEventsDetail={"dataLocation": f"s3://{world['bucket']}/x.csv", "dataAccessRoleArn": ROLE},
        )
    # Nothing half-created: the refused detector versions do not exist.
    assert fd.describe_detector(detectorId="other_detector")["detectorVersionSummaries"] == []


def test_training_data_problems_fail_the_version(world):
    fd = world["fd"]
    s3, bucket = world["s3"], world["bucket"]
    few = [t for t in world["history"]][:300]
    s3.put_object(Bucket=bucket, Key="small.csv", Body=training_csv(few))
    fd.create_model(modelId="small_model", modelType="ONLINE_FRAUD_INSIGHTS", eventTypeName=EVENT_TYPE)
    schema = {"modelVariables": ["transaction_amt", "card_bin", "email_address"], "labelSchema": {"labelMapper": {"FRAUD": ["fraud"], "LEGIT": ["legit"]}}}
    v = fd.create_model_version(modelId="small_model", modelType="ONLINE_FRAUD_INSIGHTS", trainingDataSource="EXTERNAL_EVENTS", trainingDataSchema=schema, externalEventsDetail={"dataLocation": f"s3://{bucket}/small.csv", "dataAccessRoleArn": ROLE})
    done = wait_model(fd, "small_model", "ONLINE_FRAUD_INSIGHTS", v["modelVersionNumber"])
    assert done["status"] == "ERROR"
    msgs = describe(fd, "small_model", "ONLINE_FRAUD_INSIGHTS", "1.0")["trainingResult"]["dataValidationMetrics"]["fileLevelMessages"]
    assert msgs[0]["type"] == "ERROR" and msgs[0]["title"] == "Insufficient data", msgs
    # A column missing from the file.
    s3.put_object(Bucket=bucket, Key="nocol.csv", Body=b"EVENT_TIMESTAMP,EVENT_LABEL,transaction_amt\n2024-03-01T00:00:00Z,fraud,5\n")
    v = fd.create_model_version(modelId="small_model", modelType="ONLINE_FRAUD_INSIGHTS", trainingDataSource="EXTERNAL_EVENTS", trainingDataSchema=schema, externalEventsDetail={"dataLocation": f"s3://{bucket}/nocol.csv", "dataAccessRoleArn": ROLE})
    assert v["modelVersionNumber"] == "2.0"
    assert wait_model(fd, "small_model", "ONLINE_FRAUD_INSIGHTS", "2.0")["status"] == "ERROR"
    msgs = describe(fd, "small_model", "ONLINE_FRAUD_INSIGHTS", "2.0")["trainingResult"]["dataValidationMetrics"]["fileLevelMessages"]
    assert "card_bin" in msgs[0]["content"]
    with aws_error("ValidationException"):
        fd.update_model_version_status(modelId="small_model", modelType="ONLINE_FRAUD_INSIGHTS", modelVersionNumber="2.0", status="ACTIVE")
    # A version number freed by a deletion is trained again when reused.
    fd.delete_model_version(modelId="small_model", modelType="ONLINE_FRAUD_INSIGHTS", modelVersionNumber="2.0")
    v = fd.create_model_version(modelId="small_model", modelType="ONLINE_FRAUD_INSIGHTS", trainingDataSource="EXTERNAL_EVENTS", trainingDataSchema=schema, externalEventsDetail={"dataLocation": f"s3://{bucket}/small.csv", "dataAccessRoleArn": ROLE})
    assert v["modelVersionNumber"] == "2.0"
    assert wait_model(fd, "small_model", "ONLINE_FRAUD_INSIGHTS", "2.0")["status"] == "ERROR"
    msgs = describe(fd, "small_model", "ONLINE_FRAUD_INSIGHTS", "2.0")["trainingResult"]["dataValidationMetrics"]["fileLevelMessages"]
    assert msgs[0]["title"] == "Insufficient data", msgs
    fd.delete_model(modelId="small_model", modelType="ONLINE_FRAUD_INSIGHTS")
    assert fd.get_models(modelId="small_model")["models"] == []


def test_prediction_metadata_and_history(world):
    fd = world["fd"]
    t = next(t for t in world["live"] if t.fraud and t.pattern == "ring")
    t_id = t.event_id + "-meta"
    fd.get_event_prediction(detectorId=DETECTOR, eventId=t_id, eventTypeName=EVENT_TYPE, eventTimestamp=t.event_time(), entities=entity(t), eventVariables=dict(t.values))
    listed = fd.list_event_predictions(eventId={"value": t_id}, detectorId={"value": DETECTOR})["eventPredictionSummaries"]
    assert len(listed) == 1
    p = listed[0]
    meta = fd.get_event_prediction_metadata(eventId=t_id, eventTypeName=EVENT_TYPE, detectorId=DETECTOR, detectorVersionId=p["detectorVersionId"], predictionTimestamp=p["predictionTimestamp"])
    assert meta["entityId"] == t.entity_id and meta["entityType"] == "customer"
    assert meta["ruleExecutionMode"] == "FIRST_MATCHED"
    rules = {r["ruleId"]: r for r in meta["rules"]}
    assert rules["high_risk"]["evaluated"] is True
    score = float(meta["evaluatedModelVersions"][0]["evaluations"][0]["evaluationScore"])
    assert rules["high_risk"]["matched"] == (score > 900)
    assert str(int(score)) in rules["high_risk"]["expressionWithValues"]
    ev = meta["evaluatedModelVersions"][0]["evaluations"][0]
    assert ev["outputVariableName"] == f"{OFI_MODEL}_insightscore"
    impacts = {x["eventVariableName"]: x for x in ev["predictionExplanations"]["variableImpactExplanations"]}
    assert set(impacts) == {v[0] for v in VARIABLES}
    top = max(impacts.values(), key=lambda x: abs(x["logOddsImpact"]))
    assert top["relativeImpact"].split(" ")[0] in {"3", "4", "5"}, top
    vars_ = {v["name"]: v for v in meta["eventVariables"]}
    assert vars_["card_bin"]["value"] == t.values["card_bin"] and vars_["card_bin"]["source"] == "EVENT"
    # The event type ingests events: the predicted event is stored.
    stored = fd.get_event(eventId=t_id, eventTypeName=EVENT_TYPE)["event"]
    assert stored["eventVariables"]["card_bin"] == t.values["card_bin"]
    with aws_error("ResourceNotFoundException"):
        fd.get_event_prediction_metadata(eventId=t_id, eventTypeName=EVENT_TYPE, detectorId=DETECTOR, detectorVersionId="1", predictionTimestamp="2020-01-01T00:00:00.000Z")


def test_events_send_get_label_delete(world):
    fd = world["fd"]
    t = world["live"][5]
    eid = uid("sent")
    fd.send_event(eventId=eid, eventTypeName=EVENT_TYPE, eventTimestamp=t.event_time(), eventVariables=dict(t.values), entities=entity(t), assignedLabel="legit", labelTimestamp=t.event_time())
    e = fd.get_event(eventId=eid, eventTypeName=EVENT_TYPE)["event"]
    assert e["currentLabel"] == "legit" and e["entities"] == entity(t)
    fd.update_event_label(eventId=eid, eventTypeName=EVENT_TYPE, assignedLabel="fraud", labelTimestamp="2024-05-01T00:00:00Z")
    assert fd.get_event(eventId=eid, eventTypeName=EVENT_TYPE)["event"]["currentLabel"] == "fraud"
    with aws_error("ValidationException"):
        fd.update_event_label(eventId=eid, eventTypeName=EVENT_TYPE, assignedLabel="block", labelTimestamp="2024-05-01T00:00:00Z")
    fd.delete_event(eventId=eid, eventTypeName=EVENT_TYPE)
    with aws_error("ResourceNotFoundException"):
        fd.get_event(eventId=eid, eventTypeName=EVENT_TYPE)
    with aws_error("ResourceNotFoundException"):
        fd.send_event(eventId=eid, eventTypeName="no_such_type", eventTimestamp=t.event_time(), eventVariables=dict(t.values), entities=entity(t))


def test_tfi_model_on_imported_events(world):
    """Batch import the history into the event store, train Transaction Fraud Insights on it
    (entity aggregates), and compare with the OFI model on the same held-out transactions."""
    fd, s3, bucket = world["fd"], world["s3"], world["bucket"]
    history, live = world["history"], world["live"]
    body = import_csv(history)
    # Two broken rows: reported in the failed-records file, the rest imported.
    body += b"bad-1,not a time,c1,customer,legit,,1,a@b.c,1.1.1.1,USD,411111,VA,Pulaski,24301,x,1,1,ua,misc_pos,540-555-1234,n,j\n"
    body += b"bad-2,2024-03-02T00:00:00Z,c1,merchant,legit,,1,a@b.c,1.1.1.1,USD,411111,VA,Pulaski,24301,x,1,1,ua,misc_pos,540-555-1234,n,j\n"
    s3.put_object(Bucket=bucket, Key="import/history.csv", Body=body)
    job = uid("import")
    t0 = time.time()
    fd.create_batch_import_job(jobId=job, inputPath=f"s3://{bucket}/import/history.csv", outputPath=f"s3://{bucket}/import/out/", eventTypeName=IMPORT_TYPE, iamRoleArn=ROLE)
    deadline = time.time() + 600
    while True:
        j = fd.get_batch_import_jobs(jobId=job)["batchImports"][0]
        if j["status"] in ("COMPLETE", "FAILED", "CANCELED"):
            break
        assert time.time() < deadline
        time.sleep(0.5)
    print(f"\nbatch import of {len(history)} events: {time.time() - t0:.1f} s")
    assert j["status"] == "COMPLETE", j
    assert j["processedRecordsCount"] == len(history) and j["failedRecordsCount"] == 2 and j["totalRecordsCount"] == len(history) + 2
    failed = s3.get_object(Bucket=bucket, Key=f"import/out/{job}_failed_records.csv")["Body"].read().decode()
    assert "not a valid" in failed or "supported format" in failed
    assert "merchant" in failed
    stats = fd.get_event_types(name=IMPORT_TYPE)["eventTypes"][0]["ingestedEventStatistics"]
    assert stats["numberOfEvents"] == len(history)

    fd.create_model(modelId=TFI_MODEL, modelType="TRANSACTION_FRAUD_INSIGHTS", eventTypeName=IMPORT_TYPE)
    started = time.time()
    fd.create_model_version(
        modelId=TFI_MODEL,
        modelType="TRANSACTION_FRAUD_INSIGHTS",
        trainingDataSource="INGESTED_EVENTS",
        trainingDataSchema={"modelVariables": [v[0] for v in VARIABLES], "labelSchema": {"labelMapper": {"FRAUD": ["fraud"], "LEGIT": ["legit"]}, "unlabeledEventsTreatment": "IGNORE"}},
        ingestedEventsDetail={"ingestedEventsTimeWindow": {"startTime": START.strftime("%Y-%m-%dT%H:%M:%SZ"), "endTime": CUTOFF.strftime("%Y-%m-%dT%H:%M:%SZ")}},
    )
    assert wait_model(fd, TFI_MODEL, "TRANSACTION_FRAUD_INSIGHTS", "1.0")["status"] == "TRAINING_COMPLETE"
    wall = time.time() - started
    d = describe(fd, TFI_MODEL, "TRANSACTION_FRAUD_INSIGHTS", "1.0")
    tfi = d["trainingResultV2"]["trainingMetricsV2"]["tfi"]
    agg = d["trainingResultV2"]["aggregatedVariablesImportanceMetrics"]["logOddsMetrics"][0]
    assert "transaction_amt" in agg["variableNames"] and agg["aggregatedVariablesImportance"] > 0
    fd.update_model_version_status(modelId=TFI_MODEL, modelType="TRANSACTION_FRAUD_INSIGHTS", modelVersionNumber="1.0", status="ACTIVE")
    det = "tfi_detector"
    fd.put_detector(detectorId=det, eventTypeName=IMPORT_TYPE)
    r = fd.create_rule(ruleId="tfi_high", detectorId=det, expression=f"${TFI_MODEL}_insightscore > 900", language="DETECTORPL", outcomes=["block"])["rule"]
    r2 = fd.create_rule(ruleId="tfi_rest", detectorId=det, expression=f"${TFI_MODEL}_insightscore <= 900", language="DETECTORPL", outcomes=["approve"])["rule"]
    fd.create_detector_version(detectorId=det, rules=[r, r2], modelVersions=[{"modelId": TFI_MODEL, "modelType": "TRANSACTION_FRAUD_INSIGHTS", "modelVersionNumber": "1.0"}])
    fd.update_detector_version_status(detectorId=det, detectorVersionId="1", status="ACTIVE")
    # Live events in time order (aggregates see each entity's earlier live events too).
    sample = sorted([t for t in live if t.fraud][:120] + [t for t in live if not t.fraud][:360], key=lambda t: t.ts)
    tfi_scores, ofi_scores, labels = [], [], []
    for t in sample:
        tfi_scores.append(score_of(predict(fd, t, event_type=IMPORT_TYPE, detector=det), TFI_MODEL))
        ofi_scores.append(score_of(predict(fd, t, detectorVersionId="1")))
        labels.append(t.fraud)
    a_tfi, a_ofi = auc(tfi_scores, labels), auc(ofi_scores, labels)
    print(f"TFI validation AUC {tfi['modelPerformance']['auc']:.4f} (train wall {wall:.1f} s); live AUC TFI {a_tfi:.4f} vs OFI {a_ofi:.4f}")
    assert tfi["modelPerformance"]["auc"] >= 0.85
    assert a_tfi > 0.85


def test_generated_file_to_s3_trains_a_model_that_generalises(world):
    """`hearth fraud generate --out s3://…` writes an event file straight into the server's S3;
    a model trained on it through the API separates fraud from legit on transactions of other
    customers (another seed) that it never saw."""
    fd, s3, hearth = world["fd"], world["s3"], world["hearth"]
    bucket = uid("generated")
    s3.create_bucket(Bucket=bucket)
    cmd = [str(hearth_bin()), *generate_args(8000, 21, fraud_rate=0.06, days=40), "--out", f"s3://{bucket}/gen/events.csv", "--data-dir", str(hearth.data_dir)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    head = s3.get_object(Bucket=bucket, Key="gen/events.csv")["Body"].read().decode().splitlines()
    assert len(head) == 8001 and head[0].startswith("EVENT_ID,EVENT_TIMESTAMP,ENTITY_ID,ENTITY_TYPE,EVENT_LABEL,LABEL_TIMESTAMP,transaction_amt")
    model = "generated_model"
    fd.create_model(modelId=model, modelType="ONLINE_FRAUD_INSIGHTS", eventTypeName=EVENT_TYPE)
    fd.create_model_version(
        modelId=model, modelType="ONLINE_FRAUD_INSIGHTS", trainingDataSource="EXTERNAL_EVENTS",
        trainingDataSchema={"modelVariables": [v[0] for v in VARIABLES], "labelSchema": {"labelMapper": {"FRAUD": ["fraud"], "LEGIT": ["legit"]}}},
        externalEventsDetail={"dataLocation": f"s3://{bucket}/gen/events.csv", "dataAccessRoleArn": ROLE},
    )
    assert wait_model(fd, model, "ONLINE_FRAUD_INSIGHTS", "1.0")["status"] == "TRAINING_COMPLETE"
    valid_auc = describe(fd, model, "ONLINE_FRAUD_INSIGHTS", "1.0")["trainingResultV2"]["trainingMetricsV2"]["ofi"]["modelPerformance"]["auc"]
    fd.update_model_version_status(modelId=model, modelType="ONLINE_FRAUD_INSIGHTS", modelVersionNumber="1.0", status="ACTIVE")
    detector = "generated_detector"
    fd.put_detector(detectorId=detector, eventTypeName=EVENT_TYPE)
    rule = fd.create_rule(ruleId="gen_high", detectorId=detector, expression=f"${model}_insightscore > 900", language="DETECTORPL", outcomes=["block"])["rule"]
    fd.create_detector_version(detectorId=detector, rules=[rule], modelVersions=[{"modelId": model, "modelType": "ONLINE_FRAUD_INSIGHTS", "modelVersionNumber": "1.0"}])
    fd.update_detector_version_status(detectorId=detector, detectorVersionId="1", status="ACTIVE")
    held_out = generate(count=3000, seed=22, fraud_rate=0.06, days=10, start=START + timedelta(days=40))
    sample = [t for t in held_out if t.fraud][:100] + [t for t in held_out if not t.fraud][:300]
    scores = [score_of(predict(fd, t, detector=detector), model) for t in sample]
    held_auc = auc(scores, [t.fraud for t in sample])
    print(f"\ngenerated data: validation AUC {valid_auc:.4f}, held-out (other customers) AUC {held_auc:.4f}")
    assert valid_auc > 0.85 and held_auc > 0.85


def test_models_rules_and_history_survive_a_crash(own_hearth):
    """Everything acknowledged is durable: after SIGKILL and a restart the trained model, the
    rules, the ACTIVE version and the entity history answer exactly as before."""
    fetch_models("xgboost")
    fd, s3 = own_hearth.client("frauddetector"), own_hearth.client("s3")
    txns = generate(count=5000, days=30, seed=5, fraud_rate=0.1, start=START)
    fd.batch_create_variable(variableEntries=[{"name": n, "dataType": dt, "dataSource": "EVENT", "defaultValue": dv, "variableType": vt} for n, dt, vt, dv in VARIABLES])
    fd.put_entity_type(name="customer")
    fd.put_label(name="fraud"), fd.put_label(name="legit")
    fd.put_outcome(name="block"), fd.put_outcome(name="approve")
    fd.put_event_type(name="tx", eventVariables=[v[0] for v in VARIABLES], labels=["fraud", "legit"], entityTypes=["customer"], eventIngestion="ENABLED")
    s3.create_bucket(Bucket="crash-data")
    s3.put_object(Bucket="crash-data", Key="import.csv", Body=import_csv(txns))
    fd.create_batch_import_job(jobId="history", inputPath="s3://crash-data/import.csv", outputPath="s3://crash-data/out/", eventTypeName="tx", iamRoleArn=ROLE)
    while fd.get_batch_import_jobs(jobId="history")["batchImports"][0]["status"] != "COMPLETE":
        time.sleep(0.3)
    fd.create_model(modelId="m", modelType="TRANSACTION_FRAUD_INSIGHTS", eventTypeName="tx")
    fd.create_model_version(
        modelId="m", modelType="TRANSACTION_FRAUD_INSIGHTS", trainingDataSource="INGESTED_EVENTS",
        trainingDataSchema={"modelVariables": [v[0] for v in VARIABLES], "labelSchema": {"labelMapper": {"FRAUD": ["fraud"], "LEGIT": ["legit"]}}},
        ingestedEventsDetail={"ingestedEventsTimeWindow": {"startTime": "2024-01-01T00:00:00Z", "endTime": "2024-12-31T00:00:00Z"}},
    )
    assert wait_model(fd, "m", "TRANSACTION_FRAUD_INSIGHTS", "1.0")["status"] == "TRAINING_COMPLETE"
    fd.update_model_version_status(modelId="m", modelType="TRANSACTION_FRAUD_INSIGHTS", modelVersionNumber="1.0", status="ACTIVE")
    fd.put_detector(detectorId="d", eventTypeName="tx")
    rules = [fd.create_rule(ruleId=r, detectorId="d", expression=e, language="DETECTORPL", outcomes=[o])["rule"] for r, e, o in [("hi", "$m_insightscore > 900", "block"), ("lo", "$m_insightscore <= 900", "approve")]]
    fd.create_detector_version(detectorId="d", rules=rules, modelVersions=[{"modelId": "m", "modelType": "TRANSACTION_FRAUD_INSIGHTS", "modelVersionNumber": "1.0"}])
    fd.update_detector_version_status(detectorId="d", detectorVersionId="1", status="ACTIVE")
    probes = [t for t in txns if t.fraud][:5] + [t for t in txns if not t.fraud][-5:]

    def answers():
        out = []
        for t in probes:
            r = fd.get_event_prediction(detectorId="d", eventId=t.event_id + "-probe", eventTypeName="tx", eventTimestamp=t.event_time(), entities=entity(t), eventVariables=dict(t.values))
            out.append((score_of(r, "m"), outcomes_of(r)))
        return out

    before = answers()
    # Prediction records are written in the background (as AWS's prediction history is);
    # listing them waits for what is queued, so the crash below loses nothing.
    assert len(fd.list_event_predictions(detectorId={"value": "d"})["eventPredictionSummaries"]) == len(probes)
    own_hearth.kill9()
    own_hearth.start()
    fd = own_hearth.client("frauddetector")
    assert answers() == before
    assert fd.describe_detector(detectorId="d")["detectorVersionSummaries"][0]["status"] == "ACTIVE"
    assert describe(fd, "m", "TRANSACTION_FRAUD_INSIGHTS", "1.0")["status"] == "ACTIVE"


def test_external_sagemaker_model_feeds_rules(world):
    """An XGBoost model on a Hearth SageMaker endpoint imported with PutExternalModel: the
    detector builds its CSV input from the event (csvInputTemplate), reads the reply into an
    EXTERNAL_MODEL_SCORE variable that rules use, reports it in externalModelOutputs and in the
    prediction's metadata; pass-through input takes the caller's bytes."""
    import io
    import tarfile

    import numpy as np
    import xgboost as xgb

    fd, s3, hearth = world["fd"], world["s3"], world["hearth"]
    sm = hearth.client("sagemaker")
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(1, 900, 600), rng.uniform(25, 48, 600)]).astype(np.float32)
    y = (X[:, 0] > 300).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "eta": 0.5}, xgb.DMatrix(X, label=y), 8)
    raw = bytes(booster.save_raw(raw_format="ubj"))
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    key = f"sagemaker/{uid('m')}/model.tar.gz"
    s3.put_object(Bucket=world["bucket"], Key=key, Body=packed.getvalue())
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    model, cfg, ep = uid("fd-model"), uid("fd-cfg"), uid("fd-ep")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": image, "ModelDataUrl": f"s3://{world['bucket']}/{key}"})
    sm.create_endpoint_config(EndpointConfigName=cfg, ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName=ep, EndpointConfigName=cfg)
    deadline = time.time() + 120
    while sm.describe_endpoint(EndpointName=ep)["EndpointStatus"] != "InService":
        assert time.time() < deadline
        time.sleep(0.1)

    fd.create_variable(name="sm_fraud_score", dataType="FLOAT", dataSource="EXTERNAL_MODEL_SCORE", defaultValue="0.0")
    csv_input = {"useEventVariables": True, "eventTypeName": EVENT_TYPE, "format": "TEXT_CSV", "csvInputTemplate": "{{transaction_amt}},{{billing_latitude}}"}
    output = {"format": "TEXT_CSV", "csvIndexToVariableMap": {"0": "sm_fraud_score"}}
    with aws_error("ValidationException", message="EXTERNAL_MODEL_SCORE"):
        fd.put_external_model(modelEndpoint=ep, modelSource="SAGEMAKER", invokeModelEndpointRoleArn=ROLE, inputConfiguration=csv_input,
                              outputConfiguration={"format": "TEXT_CSV", "csvIndexToVariableMap": {"0": "transaction_amt"}}, modelEndpointStatus="ASSOCIATED")
    with aws_error("ValidationException", message="not a variable of the event type"):
        fd.put_external_model(modelEndpoint=ep, modelSource="SAGEMAKER", invokeModelEndpointRoleArn=ROLE,
                              inputConfiguration={**csv_input, "csvInputTemplate": "{{transaction_amt}},{{shoe_size}}"}, outputConfiguration=output, modelEndpointStatus="ASSOCIATED")
    fd.put_external_model(modelEndpoint=ep, modelSource="SAGEMAKER", invokeModelEndpointRoleArn=ROLE, inputConfiguration=csv_input, outputConfiguration=output, modelEndpointStatus="ASSOCIATED")
    got = fd.get_external_models(modelEndpoint=ep)["externalModels"][0]
    assert got["modelEndpointStatus"] == "ASSOCIATED" and got["inputConfiguration"]["csvInputTemplate"] == csv_input["csvInputTemplate"]
    assert got["outputConfiguration"] == output and got["arn"].endswith(f":external-model/{ep}")
    assert ep in [m["modelEndpoint"] for m in fd.get_external_models()["externalModels"]]

    detector = "sm_detector"
    fd.put_detector(detectorId=detector, eventTypeName=EVENT_TYPE)
    rules = [fd.create_rule(ruleId=r, detectorId=detector, expression=e, language="DETECTORPL", outcomes=[o])["rule"]
             for r, e, o in [("sm_high", "$sm_fraud_score > 0.5", "block"), ("sm_low", "$sm_fraud_score <= 0.5", "approve")]]
    fd.create_detector_version(detectorId=detector, rules=rules, externalModelEndpoints=[ep])
    assert fd.get_detector_version(detectorId=detector, detectorVersionId="1")["externalModelEndpoints"] == [ep]
    fd.update_detector_version_status(detectorId=detector, detectorVersionId="1", status="ACTIVE")
    base = world["live"][0]
    for amt in ("812.50", "19.99"):
        t_id = uid("ext")
        values = {**base.values, "transaction_amt": amt}
        r = fd.get_event_prediction(detectorId=detector, eventId=t_id, eventTypeName=EVENT_TYPE, eventTimestamp=base.event_time(), entities=entity(base), eventVariables=values)
        out = r["externalModelOutputs"][0]
        assert out["externalModel"] == {"modelEndpoint": ep, "modelSource": "SAGEMAKER"}
        score = float(out["outputs"]["sm_fraud_score"])
        want = float(booster.predict(xgb.DMatrix(np.array([[float(amt), float(values["billing_latitude"])]], dtype=np.float32)))[0])
        assert abs(score - want) < 1e-5, (score, want)
        assert outcomes_of(r) == (["block"] if score > 0.5 else ["approve"])
        p = fd.list_event_predictions(eventId={"value": t_id})["eventPredictionSummaries"][0]
        meta = fd.get_event_prediction_metadata(eventId=t_id, eventTypeName=EVENT_TYPE, detectorId=detector, detectorVersionId="1", predictionTimestamp=p["predictionTimestamp"])
        ev = meta["evaluatedExternalModels"][0]
        assert ev["modelEndpoint"] == ep and ev["useEventVariables"] is True
        assert ev["inputVariables"] == {"transaction_amt": amt, "billing_latitude": values["billing_latitude"]}
        assert ev["outputVariables"] == {"sm_fraud_score": out["outputs"]["sm_fraud_score"]}
    assert {float(amt) > 300 for amt in ("812.50", "19.99")} == {True, False}

    # Pass-through input: the caller's bytes go to the endpoint as they are.
    fd.put_external_model(modelEndpoint=ep, modelSource="SAGEMAKER", invokeModelEndpointRoleArn=ROLE, inputConfiguration={"useEventVariables": False},
                          outputConfiguration=output, modelEndpointStatus="ASSOCIATED")
    blob = {ep: {"byteBuffer": b"650,40.0", "contentType": "text/csv"}}
    r = fd.get_event_prediction(detectorId=detector, eventId=uid("ext"), eventTypeName=EVENT_TYPE, eventTimestamp=base.event_time(), entities=entity(base),
                                eventVariables=dict(base.values), externalModelEndpointDataBlobs=blob)
    want = float(booster.predict(xgb.DMatrix(np.array([[650, 40.0]], dtype=np.float32)))[0])
    assert abs(float(r["externalModelOutputs"][0]["outputs"]["sm_fraud_score"]) - want) < 1e-5
    with aws_error("ValidationException", message="externalModelEndpointDataBlobs"):
        fd.get_event_prediction(detectorId=detector, eventId=uid("ext"), eventTypeName=EVENT_TYPE, eventTimestamp=base.event_time(), entities=entity(base), eventVariables=dict(base.values))
    # In use: neither deleted nor dissociated; once no version lists it, it can go.
    with aws_error("ConflictException"):
        fd.delete_external_model(modelEndpoint=ep)
    fd.update_detector_version_status(detectorId=detector, detectorVersionId="1", status="INACTIVE")
    fd.delete_detector_version(detectorId=detector, detectorVersionId="1")
    fd.delete_external_model(modelEndpoint=ep)
    with aws_error("ResourceNotFoundException"):
        fd.get_external_models(modelEndpoint=ep)
