"""The console's SageMaker endpoints pages in headless Chromium (Playwright), as a user sees
them: the endpoints list with status and variants, and one endpoint's deployment guardrails
view during a real CANARY update — the traffic split per fleet, the steps, the rollback alarm's
state, the error and latency charts — then the Promote button finishing the deployment, and
Abort rolling another one back.

Chromium and screenshots as in test_console.py (`HEARTH_UPDATE_SCREENSHOTS=1` writes
docs/console/endpoints.png and endpoint-deployment.png).
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect, sync_playwright

from test_console import chromium_path, screenshot_path, sign_in
from test_sagemaker_guardrails import ROLE, IMAGE_090_2, ROW, artifact, train, uid, wait_status, wait_pending_baking
from harness import fetch_models


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 1100}, locale="en-US", timezone_id="UTC")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    context.close()


def test_endpoints_list_and_deployment_view(hearth, page, tmp_path):
    fetch_models("xgboost")
    sm, s3, cw, rt = hearth.client("sagemaker"), hearth.client("s3"), hearth.client("cloudwatch"), hearth.client("sagemaker-runtime")
    bucket = uid("console-ep")
    s3.create_bucket(Bucket=bucket)
    cfgs = []
    for i, seed in enumerate((1, 3)):
        s3.put_object(Bucket=bucket, Key=f"m{i}.tar.gz", Body=artifact(train(8, seed)))
        m = uid("churn-model")
        sm.create_model(ModelName=m, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE_090_2, "ModelDataUrl": f"s3://{bucket}/m{i}.tar.gz"})
        c = uid("churn-config")
        sm.create_endpoint_config(EndpointConfigName=c, ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": m, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 3}])
        cfgs.append(c)
    ep = uid("churn-endpoint")
    sm.create_endpoint(EndpointName=ep, EndpointConfigName=cfgs[0])
    assert wait_status(sm, ep)["EndpointStatus"] == "InService"
    alarm = uid("churn-5xx")
    cw.put_metric_alarm(AlarmName=alarm, Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors", Statistic="Average",
                        Dimensions=[{"Name": "EndpointName", "Value": ep}, {"Name": "VariantName", "Value": "AllTraffic"}],
                        Period=10, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching")
    for _ in range(30):
        rt.invoke_endpoint(EndpointName=ep, Body=ROW, ContentType="text/csv")["Body"].read()

    # The list.
    sign_in(page, hearth, next_path="/console/endpoints")
    row = page.locator(f'tr[data-endpoint="{ep}"]')
    expect(row).to_contain_text("InService")
    expect(row).to_contain_text("AllTraffic (3× ml.m5.xlarge, weight 1)")
    page.screenshot(path=str(screenshot_path("endpoints.png", tmp_path)), full_page=True)

    # A canary that bakes for an hour: the page shows the split, the steps and the alarm.
    sm.update_endpoint(EndpointName=ep, EndpointConfigName=cfgs[1], DeploymentConfig={
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 3600},
                                  "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 7200},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]}})
    wait_pending_baking(sm, ep)
    for _ in range(60):
        rt.invoke_endpoint(EndpointName=ep, Body=ROW, ContentType="text/csv")["Body"].read()
    row.locator("a").click()
    expect(page).to_have_url(f"{hearth.endpoint}/console/endpoints?name={ep}")
    expect(page.locator("#ep-status")).to_have_text("Updating")
    blue, green = page.locator('[data-fleet="blue"]'), page.locator('[data-fleet="green"]')
    expect(blue).to_have_text("blue 66.7%")
    expect(green).to_have_text("green 33.3%")
    expect(page.locator("#steps")).to_contain_text("1. 1 inst · 33.3%")
    expect(page.locator("#steps .current")).to_have_count(1)
    expect(page.locator(f'[data-alarm="{alarm}"]')).to_be_visible()
    expect(page.locator("#chart-errors canvas")).to_have_count(1)
    expect(page.locator("#chart-latency canvas")).to_have_count(1)
    expect(page.locator("#timeline")).to_contain_text("step 1/2")
    expect(page.locator("#abort")).to_be_enabled()
    page.wait_for_function("Number(document.getElementById('chart-errors').dataset.points) > 0")
    time.sleep(0.5)
    page.screenshot(path=str(screenshot_path("endpoint-deployment.png", tmp_path)), full_page=True)

    # Promote: the remaining baking is skipped and the endpoint serves the new configuration.
    page.locator("#promote").click()
    expect(page.locator("#ep-status")).to_have_text("InService", timeout=30_000)
    d = sm.describe_endpoint(EndpointName=ep)
    assert d["EndpointConfigName"] == cfgs[1]
    expect(page.locator('[data-fleet="blue"]')).to_have_text("blue 100%")
    expect(page.locator('tr[data-deployment="1"]')).to_contain_text("succeeded")

    # Abort: back to the old configuration at once.
    sm.update_endpoint(EndpointName=ep, EndpointConfigName=cfgs[0], RetainDeploymentConfig=True)
    wait_pending_baking(sm, ep)
    expect(page.locator("#abort")).to_be_enabled(timeout=10_000)
    page.locator("#abort").click()
    expect(page.locator('tr[data-deployment="2"]')).to_contain_text("rolled-back", timeout=30_000)
    assert wait_status(sm, ep)["EndpointConfigName"] == cfgs[1]
    expect(page.locator("#ep-reason")).to_contain_text("aborted by console:")
    assert not page.errors, page.errors
