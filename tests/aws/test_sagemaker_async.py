"""SageMaker asynchronous inference through boto3: endpoint configurations with
AsyncInferenceConfig, InvokeEndpointAsync (202, InferenceId, OutputLocation, FailureLocation),
results and errors written to S3, InferenceResult events on the SNS success and error topics,
the validation errors, and queued invocations surviving a crash of the server.

The model is a small Python-trained XGBoost regression packed as SageMaker packs artifacts,
served by the built-in XGBoost container of Hearth.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import xgboost as xgb

from awsutil import aws_error
from test_sagemaker import ABALONE_ROW, ROLE, XGB_IMAGE, fetch_xgboost, uid, upload_python_model, wait_endpoint
from test_sns_http import Endpoint, subscribe_confirmed


def small_model() -> xgb.Booster:
    rng = np.random.default_rng(3)
    X = rng.uniform(-0.2, 0.4, size=(300, 8)).astype(np.float32)
    y = (10 + 20 * X[:, 0] - 5 * X[:, 1]).astype(np.float32)
    return xgb.train({"objective": "reg:squarederror", "max_depth": 3}, xgb.DMatrix(X, label=y), num_boost_round=10)


@pytest.fixture(scope="module")
def env(hearth, s3):
    fetch_xgboost()
    bucket = uid("async")
    s3.create_bucket(Bucket=bucket)
    booster = small_model()
    url = upload_python_model(s3, bucket, booster, "ubj")
    return {"sm": hearth.client("sagemaker"), "rt": hearth.client("sagemaker-runtime"), "sns": hearth.client("sns"), "s3": s3, "bucket": bucket, "url": url, "booster": booster}


def deploy_async(sm, url, async_config, count=1):
    model = uid("model")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": url})
    cfg = uid("epc")
    sm.create_endpoint_config(
        EndpointConfigName=cfg,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": count}],
        AsyncInferenceConfig=async_config,
    )
    ep = uid("ep")
    sm.create_endpoint(EndpointName=ep, EndpointConfigName=cfg)
    assert wait_endpoint(sm, ep)["EndpointStatus"] == "InService"
    return ep, cfg


def wait_object(s3, uri, timeout=30):
    bucket, key = uri[len("s3://"):].split("/", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return s3.get_object(Bucket=bucket, Key=key)
        except s3.exceptions.NoSuchKey:
            assert time.monotonic() < deadline, f"{uri} never written"
            time.sleep(0.05)


def test_async_config_described_and_validated(env):
    sm, bucket = env["sm"], env["bucket"]
    cfg = {
        "OutputConfig": {"S3OutputPath": f"s3://{bucket}/out", "S3FailurePath": f"s3://{bucket}/fail"},
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4},
    }
    ep, name = deploy_async(sm, env["url"], cfg)
    d = sm.describe_endpoint_config(EndpointConfigName=name)
    assert d["AsyncInferenceConfig"] == cfg

    model = uid("model")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": env["url"]})
    pv = [{"VariantName": "v", "ModelName": model, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1}]
    with aws_error("ValidationException", 400) as e:
        sm.create_endpoint_config(EndpointConfigName=uid("epc"), ProductionVariants=pv, AsyncInferenceConfig={"OutputConfig": {"S3OutputPath": "ftp://x", "S3FailurePath": "s3:///no-bucket"}, "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 1001}})
    msg = e.value.response["Error"]["Message"]
    assert msg.startswith("3 validation errors detected: "), msg
    assert "'asyncInferenceConfig.outputConfig.s3OutputPath'" in msg and "'asyncInferenceConfig.outputConfig.s3FailurePath'" in msg
    assert "'asyncInferenceConfig.clientConfig.maxConcurrentInvocationsPerInstance' failed to satisfy constraint: Member must have value less than or equal to 1000" in msg
    with aws_error("ValidationException", 400) as e:
        sm.create_endpoint_config(EndpointConfigName=uid("epc"), ProductionVariants=pv, AsyncInferenceConfig={"OutputConfig": {"S3OutputPath": f"s3://{bucket}/o", "NotificationConfig": {"SuccessTopic": "not-an-arn"}}})
    assert "successTopic" in e.value.response["Error"]["Message"]
    sm.delete_endpoint(EndpointName=ep)


def test_async_invocation_end_to_end_with_notifications(env):
    sm, rt, s3, sns, bucket = env["sm"], env["rt"], env["s3"], env["sns"], env["bucket"]
    ok_topic = sns.create_topic(Name=uid("async-ok"))["TopicArn"]
    err_topic = sns.create_topic(Name=uid("async-err"))["TopicArn"]
    sub = Endpoint().start()
    try:
        subscribe_confirmed(sns, ok_topic, sub)
        subscribe_confirmed(sns, err_topic, sub)
        ep, _ = deploy_async(sm, env["url"], {
            "OutputConfig": {
                "S3OutputPath": f"s3://{bucket}/async-out/",
                "S3FailurePath": f"s3://{bucket}/async-fail",
                "NotificationConfig": {"SuccessTopic": ok_topic, "ErrorTopic": err_topic},
            },
        })
        s3.put_object(Bucket=bucket, Key="async-in/row.csv", Body=ABALONE_ROW)
        r = rt.invoke_endpoint_async(EndpointName=ep, InputLocation=f"s3://{bucket}/async-in/row.csv", ContentType="text/csv", InferenceId="first-inference")
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert r["InferenceId"] == "first-inference"
        assert r["OutputLocation"] == f"s3://{bucket}/async-out/first-inference.out"
        assert r["FailureLocation"] == f"s3://{bucket}/async-fail/first-inference-error.out"
        out = wait_object(s3, r["OutputLocation"])
        pred = float(out["Body"].read())
        row = np.array([[float(v) for v in ABALONE_ROW.split(b",")]], dtype=np.float32)
        assert pred == pytest.approx(float(env["booster"].predict(xgb.DMatrix(row))[0]), rel=1e-6)

        # A generated id; a payload the model rejects goes to the failure path and the error topic.
        s3.put_object(Bucket=bucket, Key="async-in/bad.csv", Body=b"1,2,3,4,5,6,7,8,9,10")
        bad = rt.invoke_endpoint_async(EndpointName=ep, InputLocation=f"s3://{bucket}/async-in/bad.csv", ContentType="text/csv")
        assert len(bad["InferenceId"]) == 36
        err = wait_object(s3, bad["FailureLocation"]).get("Body").read().decode()
        assert "Feature size of csv inference data 10 is not consistent with feature size of trained model 8" in err

        deadline = time.monotonic() + 30
        events = []
        while time.monotonic() < deadline:
            events = [json.loads(n["Message"]) for n in sub.documents("Notification")]
            if len(events) >= 2:
                break
            time.sleep(0.05)
        by_id = {e["inferenceId"]: e for e in events}
        done = by_id["first-inference"]
        assert done["invocationStatus"] == "Completed"
        assert done["eventName"] == "InferenceResult" and done["eventSource"] == "aws:sagemaker"
        assert done["requestParameters"] == {"contentType": "text/csv", "endpointName": ep, "inputLocation": f"s3://{bucket}/async-in/row.csv"}
        assert done["responseParameters"]["outputLocation"] == r["OutputLocation"]
        failed = by_id[bad["InferenceId"]]
        assert failed["invocationStatus"] == "Failed"
        assert failed["failureReason"].startswith("ClientError: Received client error (400) from model"), failed
        topics = {n["TopicArn"] for n in sub.documents("Notification")}
        assert topics == {ok_topic, err_topic}
        sm.delete_endpoint(EndpointName=ep)
    finally:
        sub.stop()


def test_async_errors(env):
    sm, rt, bucket = env["sm"], env["rt"], env["bucket"]
    with aws_error("ValidationError", 400, f"Endpoint nope-{bucket} of account"):
        rt.invoke_endpoint_async(EndpointName=f"nope-{bucket}", InputLocation=f"s3://{bucket}/x")
    # A real-time endpoint (no AsyncInferenceConfig).
    model = uid("model")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": env["url"]})
    cfg = uid("epc")
    sm.create_endpoint_config(EndpointConfigName=cfg, ProductionVariants=[{"VariantName": "v", "ModelName": model, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1}])
    ep = uid("ep")
    sm.create_endpoint(EndpointName=ep, EndpointConfigName=cfg)
    wait_endpoint(sm, ep)
    with aws_error("ValidationError", 400) as e:
        rt.invoke_endpoint_async(EndpointName=ep, InputLocation=f"s3://{bucket}/x")
    assert "is not an asynchronous inference endpoint" in e.value.response["Error"]["Message"]
    with aws_error("ValidationError", 400) as e:
        rt.invoke_endpoint_async(EndpointName=ep, InputLocation="ftp://x/y")
    assert e.value.response["Error"]["Message"].startswith("1 validation error detected: Value 'ftp://x/y' at 'inputLocation' failed to satisfy constraint")
    # A missing input object fails the invocation (the call itself is accepted).
    ep2, _ = deploy_async(sm, env["url"], {"OutputConfig": {"S3OutputPath": f"s3://{bucket}/o2", "S3FailurePath": f"s3://{bucket}/f2"}})
    r = rt.invoke_endpoint_async(EndpointName=ep2, InputLocation=f"s3://{bucket}/missing.csv", ContentType="text/csv")
    assert "Failed to download input data" in wait_object(env["s3"], r["FailureLocation"])["Body"].read().decode()
    sm.delete_endpoint(EndpointName=ep)
    sm.delete_endpoint(EndpointName=ep2)


def test_queued_invocations_survive_a_crash(own_hearth):
    fetch_xgboost()
    s3 = own_hearth.client("s3")
    sm, rt = own_hearth.client("sagemaker"), own_hearth.client("sagemaker-runtime")
    bucket = uid("async-crash")
    s3.create_bucket(Bucket=bucket)
    url = upload_python_model(s3, bucket, small_model(), "ubj")
    ep, _ = deploy_async(sm, url, {"OutputConfig": {"S3OutputPath": f"s3://{bucket}/out"}, "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 1}})
    s3.put_object(Bucket=bucket, Key="in.csv", Body=ABALONE_ROW + b"\n" + ABALONE_ROW)
    outputs = [rt.invoke_endpoint_async(EndpointName=ep, InputLocation=f"s3://{bucket}/in.csv", ContentType="text/csv")["OutputLocation"] for _ in range(20)]
    own_hearth.kill9()
    own_hearth.start()
    for uri in outputs:
        body = wait_object(s3, uri, timeout=60)["Body"].read().decode()
        assert len(body.split(",")) == 2, body
