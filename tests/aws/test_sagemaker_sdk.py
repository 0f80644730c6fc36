"""The seed's post through the SageMaker Python SDK (v2): `Estimator.fit` with the post's
hyper-parameters, then `deploy` to a serverless endpoint and `predict` the abalone row.

The SDK is not in requirements.txt (it is large); the test is skipped unless `sagemaker<3` is
installed. Two SDK habits need a hand: it calls STS at a hard-coded regional URL to find a
default bucket (so the test names the bucket), and it sends telemetry to AWS (opted out through
the SDK's own config file).
"""

from __future__ import annotations

import os

import pytest

from test_sagemaker import ABALONE_ROW, ROLE, fetch_xgboost, regression_data, to_csv, uid

sagemaker = pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is not installed")


@pytest.fixture
def sdk_env(hearth, tmp_path, monkeypatch):
    config = tmp_path / "sagemaker-config.yaml"
    config.write_text("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(config))
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", hearth.endpoint)
    fetch_xgboost()
    return hearth


def test_estimator_fit_deploy_predict(sdk_env):
    import boto3
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.serializers import CSVSerializer
    from sagemaker.serverless import ServerlessInferenceConfig

    h = sdk_env
    c = h.account_creds()
    boto_session = boto3.Session(aws_access_key_id=c.access_key_id, aws_secret_access_key=c.secret_access_key, region_name="us-east-1")
    bucket = uid("sdk")
    boto_session.client("s3", endpoint_url=h.endpoint).create_bucket(Bucket=bucket)
    sagemaker_session = sagemaker.Session(
        boto_session=boto_session,
        sagemaker_client=boto_session.client("sagemaker", endpoint_url=h.endpoint),
        sagemaker_runtime_client=boto_session.client("sagemaker-runtime", endpoint_url=h.endpoint),
        default_bucket=bucket,
    )
    _, X, y = regression_data()
    boto_session.client("s3", endpoint_url=h.endpoint).put_object(Bucket=bucket, Key="xgboost-regression/train.csv", Body=to_csv(X, y))

    image_uri = sagemaker.image_uris.retrieve(framework="xgboost", region="us-east-1", version="1.0-1", py_version="py3", instance_type="ml.m5.xlarge")
    xgb_train = Estimator(
        image_uri=image_uri,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path=f"s3://{bucket}/xgboost-example/xgb_model",
        sagemaker_session=sagemaker_session,
        role=ROLE,
    )
    xgb_train.set_hyperparameters(objective="reg:linear", num_round=50, max_depth=5, eta=0.2, gamma=4, min_child_weight=6, subsample=0.7, silent=0)
    xgb_train.fit({"train": TrainingInput(f"s3://{bucket}/xgboost-regression/train.csv", content_type="text/csv")}, logs="None")
    assert xgb_train.model_data.startswith(f"s3://{bucket}/xgboost-example/xgb_model/") and xgb_train.model_data.endswith("/output/model.tar.gz")

    predictor = xgb_train.deploy(serverless_inference_config=ServerlessInferenceConfig(memory_size_in_mb=4096, max_concurrency=1), serializer=CSVSerializer())
    try:
        out = predictor.predict(ABALONE_ROW.decode())
        assert float(out) > 0, out
    finally:
        predictor.delete_endpoint()
    assert os.environ["AWS_ENDPOINT_URL"] == h.endpoint
