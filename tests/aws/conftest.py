"""Fixtures for the Hearth AWS compatibility suite.

The suite drives a real `hearth serve` process with unmodified boto3 and the AWS CLI, the way a
user would. The process itself is driven by `harness.Hearth`;
this file holds the fixtures and the pytest hooks.

Fixtures:
- `hearth`: one server for the whole session (tests use unique bucket names, so they share it).
- `own_hearth`: a fresh server with its own data directory, for tests that kill, restart or
  signal the process and must not disturb the others.
- `s3`, `sts`: clients of the session server for the default account; `bucket`: a new bucket.

Each server runs with a config file that adds a second account ("other"), so isolation tests have
two tenants. Its stdout and stderr go to `<tmp>/hearth.log`; when a test that used a server fails,
the tail of that log is attached to the failure report.
"""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

pytest.register_assert_rewrite("awsutil")

from awsutil import unique_name  # noqa: E402
from harness import AWS_ENV_TO_CLEAR, Hearth  # noqa: E402

# -- pytest plumbing ---------------------------------------------------------------------------


def pytest_configure(config):
    # Keep boto3 / requests off any proxy and away from user config files.
    for name in AWS_ENV_TO_CLEAR:
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    no_proxy = "127.0.0.1,localhost,.localhost"
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = no_proxy


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for name in ("own_hearth", "hearth"):
        server = getattr(item, "funcargs", {}).get(name)
        if isinstance(server, Hearth):
            report.sections.append((f"{name} log tail ({server.log_path})", server.log_tail()))


@pytest.fixture(scope="session")
def hearth(tmp_path_factory):
    """The shared server for the session."""
    server = Hearth(tmp_path_factory.mktemp("hearth"))
    server.start()
    yield server
    try:
        server.stop()
    except subprocess.TimeoutExpired:
        pass


@pytest.fixture
def own_hearth(tmp_path):
    """A server of this test's own (crash, restart and signal tests)."""
    server = Hearth(tmp_path / "hearth")
    server.start()
    yield server
    try:
        server.stop(signal.SIGKILL)
    except subprocess.TimeoutExpired:
        pass


@pytest.fixture(scope="session")
def s3(hearth):
    """S3 client of the default account, as a user gets it (auto addressing)."""
    return hearth.client("s3")


@pytest.fixture(scope="session")
def sts(hearth):
    return hearth.client("sts")


@pytest.fixture
def bucket(s3):
    """A fresh, empty bucket of the default account."""
    name = unique_name()
    s3.create_bucket(Bucket=name)
    return name
