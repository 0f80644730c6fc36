"""The web console (`/console`) in headless Chromium, driven by Playwright, as a user sees it.

- the data API and the pages refuse anyone without a session (401 / redirect to sign-in);
- sign-in with a wrong secret is refused on the page, and no session cookie appears;
- signed in, the metrics explorer charts S3's AllRequests for a bucket after real S3 calls;
- signed in, the alarms page shows alarms made with boto3, their state, reason and history;
- a session only ever sees its own account's data.

Chromium is Debian's (`apt-get install chromium`; .ci/run installs it), found through
`$CHROMIUM`, else `chromium` / `chromium-browser` on PATH; Playwright never downloads a browser.
Screenshots go to the test's temporary directory, or to docs/console/ when
`HEARTH_UPDATE_SCREENSHOTS=1` (how the committed ones were made).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import time
import urllib.parse

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from awsutil import OTHER_CREDS, unique_name
from harness import REPO_ROOT

DOCS = REPO_ROOT / "docs" / "console"


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise RuntimeError("Chromium not found: `apt-get install chromium` (or set CHROMIUM)")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 860}, locale="en-US", timezone_id="UTC")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    context.close()


def screenshot_path(name: str, tmp_path: pathlib.Path) -> pathlib.Path:
    if os.environ.get("HEARTH_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS / name
    return tmp_path / name


def sign_in(page, hearth, creds=None, next_path="/console/metrics"):
    creds = creds or hearth.creds
    page.goto(f"{hearth.endpoint}{next_path}")
    expect(page).to_have_url(f"{hearth.endpoint}/console/signin?next={next_path}")
    page.get_by_label("Access key ID").fill(creds.access_key_id)
    page.get_by_label("Secret access key").fill(creds.secret_access_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{hearth.endpoint}{next_path}", timeout=10_000)


def api_session(hearth, creds) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{hearth.endpoint}/console/api/signin",
               json={"accessKeyId": creds.access_key_id, "secretAccessKey": creds.secret_access_key})
    assert r.status_code == 200, r.text
    return s


# -- without a session ---------------------------------------------------------------------------


def test_api_without_session_is_refused(hearth):
    for path in ("session", "namespaces", "metrics?namespace=AWS/S3", "statistics", "alarms",
                 "alarm-history?alarmName=x"):
        r = requests.get(f"{hearth.endpoint}/console/api/{path}")
        assert r.status_code == 401, (path, r.status_code, r.text)
        assert r.json()["error"]["code"] == "Unauthenticated"
        r = requests.get(f"{hearth.endpoint}/console/api/{path}", cookies={"hearth_console": "forged"})
        assert r.status_code == 401, (path, "forged cookie")
    r = requests.get(f"{hearth.endpoint}/console/alarms", allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/console/signin?next=/console/alarms"


def test_signin_cookie_is_httponly_strict_and_holds_no_secret(hearth):
    r = requests.post(f"{hearth.endpoint}/console/api/signin",
                      json={"accessKeyId": hearth.creds.access_key_id,
                            "secretAccessKey": hearth.creds.secret_access_key})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert hearth.creds.secret_access_key not in cookie
    assert r.json()["accountId"] == "000000000000"
    r = requests.post(f"{hearth.endpoint}/console/api/signin",
                      data={"accessKeyId": hearth.creds.access_key_id,
                            "secretAccessKey": hearth.creds.secret_access_key})
    assert r.status_code == 415, "a cross-site form post cannot sign in"


def test_signin_rejected_with_wrong_secret(hearth, page):
    page.goto(f"{hearth.endpoint}/console/metrics")
    expect(page).to_have_url(f"{hearth.endpoint}/console/signin?next=/console/metrics")
    page.get_by_label("Access key ID").fill(hearth.creds.access_key_id)
    page.get_by_label("Secret access key").fill("not-the-secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("The access key ID or secret access key is incorrect.")
    assert "/console/signin" in page.url
    assert not page.context.cookies(), "no session cookie after a refused sign-in"
    page.goto(f"{hearth.endpoint}/console/metrics")
    expect(page).to_have_url(f"{hearth.endpoint}/console/signin?next=/console/metrics")


# -- metrics explorer ----------------------------------------------------------------------------


def test_metrics_explorer_charts_s3_requests(hearth, s3, page, tmp_path):
    bucket = unique_name("console")
    s3.create_bucket(Bucket=bucket)
    calls = 1
    # Bursts of growing size about a second apart: a rising line at a 1-second period.
    for burst in range(1, 7):
        for i in range(burst):
            s3.put_object(Bucket=bucket, Key=f"k{burst}-{i}", Body=b"x" * 100)
            calls += 1
        time.sleep(1.05)
    s3.list_objects_v2(Bucket=bucket)
    calls += 1

    dims = {"BucketName": bucket, "FilterId": "EntireBucket"}
    api = api_session(hearth, hearth.creds)
    deadline = time.monotonic() + 15
    total = 0.0
    while time.monotonic() < deadline:  # request metrics are written about once a second
        r = api.get(f"{hearth.endpoint}/console/api/statistics", params={
            "namespace": "AWS/S3", "metricName": "AllRequests", "dimensions": json.dumps(dims),
            "statistic": "Sum", "period": 60})
        total = sum(d["value"] for d in r.json()["datapoints"])
        if total >= calls:
            break
        time.sleep(0.3)
    assert total == calls

    sign_in(page, hearth)
    expect(page.get_by_role("heading", name="Metrics explorer")).to_be_visible()
    page.get_by_label("Namespace").select_option("AWS/S3")
    page.get_by_label("Metric").select_option("AllRequests")
    page.get_by_label("Dimensions").select_option(label=f"BucketName={bucket}, FilterId=EntireBucket")
    page.get_by_label("Statistic").select_option("Sum")
    # A 1-second period is offered only for ranges of at most 1,440 seconds (CloudWatch's limit).
    expect(page.get_by_label("Period").locator("option", has_text="1 second")).to_be_disabled()
    page.get_by_label("Time range").select_option(label="Last 15 minutes")
    page.get_by_label("Period").select_option(label="1 second")

    expect(page.locator("#chart-title")).to_have_text("AWS/S3 · AllRequests · Sum")
    summary = page.locator("#chart-summary")
    expect(summary).to_contain_text(f"BucketName={bucket}")
    expect(summary).to_contain_text("1 second periods")
    chart = page.locator("#chart")
    expect(chart.locator("canvas")).to_be_visible()
    points = int(chart.get_attribute("data-points"))
    assert points >= 1
    expect(summary).to_contain_text(f"{points} datapoints")
    box = chart.locator("canvas").bounding_box()
    assert box["width"] > 600 and box["height"] > 200
    # The line is drawn: the canvas has pixels of the series colour.
    drawn = page.evaluate("""() => {
        const c = document.querySelector('#chart canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i+1] < 110 && d[i+2] < 60 && d[i+3] > 200) n++;
        return n;
    }""")
    assert drawn > 100, f"series pixels on the canvas: {drawn}"
    # The selection is kept in the address, so a reload shows the same chart.
    assert "statistic=Sum" in page.url and urllib.parse.quote(bucket) in page.url
    page.reload()
    expect(page.locator("#chart-title")).to_have_text("AWS/S3 · AllRequests · Sum")
    expect(page.locator("#chart canvas")).to_be_visible()
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot_path("metrics.png", tmp_path)), full_page=True)
    assert not page.errors, page.errors


def test_console_is_scoped_to_the_signed_in_account(hearth, s3):
    bucket = unique_name("scope")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    dims = json.dumps({"BucketName": bucket, "FilterId": "EntireBucket"})
    mine, other = api_session(hearth, hearth.creds), api_session(hearth, OTHER_CREDS)
    params = {"namespace": "AWS/S3", "metricName": "AllRequests", "dimensions": dims, "statistic": "Sum"}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if mine.get(f"{hearth.endpoint}/console/api/statistics", params=params).json()["datapoints"]:
            break
        time.sleep(0.3)
    else:
        pytest.fail("the bucket's requests never showed up")
    assert other.get(f"{hearth.endpoint}/console/api/session").json()["accountId"] == "111111111111"
    assert other.get(f"{hearth.endpoint}/console/api/statistics", params=params).json()["datapoints"] == []
    listed = other.get(f"{hearth.endpoint}/console/api/metrics", params={"namespace": "AWS/S3"}).json()["metrics"]
    assert all(m["dimensions"].get("BucketName") != bucket for m in listed)
    r = other.post(f"{hearth.endpoint}/console/api/signout")
    assert r.status_code == 204
    assert other.get(f"{hearth.endpoint}/console/api/session").status_code == 401


# -- alarms --------------------------------------------------------------------------------------


def test_alarms_page_shows_alarm_state_and_history(hearth, page, tmp_path):
    cw = hearth.client("cloudwatch")
    name = f"console-{unique_name('alarm')}"
    cw.put_metric_alarm(
        AlarmName=name,
        AlarmDescription="5XX errors on the canary variant",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": "fraud-endpoint"},
                    {"Name": "VariantName", "Value": "canary"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    quiet = f"console-{unique_name('quiet')}"
    cw.put_metric_alarm(AlarmName=quiet, Namespace="Custom/App", MetricName="QueueDepth", Statistic="Average",
                        Period=300, EvaluationPeriods=1, Threshold=100.0,
                        ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="Threshold Crossed: 2 of 3 datapoints were >= 1.0")
    state = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert state["StateValue"] == "ALARM"

    sign_in(page, hearth, next_path="/console/alarms")
    row = page.locator("#alarms tbody tr", has_text=name)
    expect(row).to_be_visible()
    expect(row.locator(".state")).to_have_text("In alarm")
    expect(row).to_contain_text("Threshold Crossed: 2 of 3 datapoints were >= 1.0")
    expect(row).to_contain_text("AWS/SageMaker · Invocation5XXErrors")
    expect(row).to_contain_text("EndpointName=fraud-endpoint, VariantName=canary")
    expect(row).to_contain_text("Sum ≥ 1 for 2 of 3 × 60 s")
    quiet_row = page.locator("#alarms tbody tr", has_text=quiet)
    expect(quiet_row).to_be_visible()
    expect(quiet_row.locator(".state")).to_have_text(quiet_state_label(cw, quiet))

    row.get_by_role("button", name=name).click()
    expect(page.locator("#history-title")).to_have_text(f"History of {name}")
    history = page.locator("#history tbody tr")
    expect(history.first).to_be_visible()
    # The evaluator may have moved it to OK before SetAlarmState: the last change is "... to ALARM".
    expect(history.first).to_contain_text("StateUpdate")
    expect(history.first).to_contain_text(re.compile(r"Alarm updated from (INSUFFICIENT_DATA|OK) to ALARM"))
    expect(history.last).to_contain_text(f'Alarm "{name}" created')
    page.wait_for_timeout(200)
    page.screenshot(path=str(screenshot_path("alarms.png", tmp_path)), full_page=True)
    assert not page.errors, page.errors


def quiet_state_label(cw, name: str) -> str:
    state = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
    return {"ALARM": "In alarm", "OK": "OK", "INSUFFICIENT_DATA": "Insufficient data"}[state]
