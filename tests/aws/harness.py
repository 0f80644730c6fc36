"""The `hearth serve` process under test: start, stop, crash, restart, clients, log tail.

Nothing is built here: CI (`scripts/test`) builds the binary first, and `hearth_bin()` finds it
through `HEARTH_BIN`, else `target/debug/hearth` under the repository root.
"""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket
import subprocess
import time

import boto3
import requests
from botocore.config import Config

from awsutil import OTHER_ACCOUNT_ID, OTHER_CREDS, Creds

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_REGION = "us-east-1"

CONFIG_TOML = f"""\
[[accounts]]
id = "{OTHER_ACCOUNT_ID}"
name = "other"
[[accounts.keys]]
access_key_id = "{OTHER_CREDS.access_key_id}"
secret_access_key = "{OTHER_CREDS.secret_access_key}"
"""

EXPORT_RE = re.compile(r"^\s*export\s+(AWS_[A-Z0-9_]+)=(.*?)\s*$")

# Variables that would make boto3, the AWS CLI or requests talk to something else than the server
# under test, or sign with other credentials.
AWS_ENV_TO_CLEAR = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_STS", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_CA_BUNDLE",
    "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def hearth_bin() -> pathlib.Path:
    """The `hearth` binary under test: `$HEARTH_BIN`, else `target/debug/hearth`."""
    env = os.environ.get("HEARTH_BIN")
    path = pathlib.Path(env) if env else REPO_ROOT / "target" / "debug" / "hearth"
    if not path.is_file():
        raise RuntimeError(
            f"hearth binary not found at {path}: build it first (`cargo build -p hearth`) "
            "or set HEARTH_BIN"
        )
    return path


def models_dir() -> pathlib.Path:
    """The model cache the test servers use: `$HEARTH_TEST_MODELS_DIR`, else `target/test-models`."""
    env = os.environ.get("HEARTH_TEST_MODELS_DIR")
    return pathlib.Path(env) if env else REPO_ROOT / "target" / "test-models"


def fetch_models(*names: str) -> None:
    """Install models into the shared test cache with `hearth models fetch` (idempotent)."""
    env = dict(os.environ)
    env["HEARTH_MODELS_DIR"] = str(models_dir())
    subprocess.run([str(hearth_bin()), "models", "fetch", *names], env=env, check=True, timeout=1800)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_exports(text: str) -> dict[str, str]:
    """The `export AWS_...=value` lines of `text`, as a dict (quotes removed)."""
    out = {}
    for line in text.splitlines():
        m = EXPORT_RE.match(line)
        if m:
            value = m.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out[m.group(1)] = value
    return out


class Hearth:
    """One `hearth serve` process on 127.0.0.1, with its data directory and log file.

    The data directory, config file, port and log survive `restart()`, `kill9()` + `start()`,
    so persistence tests see the same server a user would after a crash.
    """

    def __init__(self, base_dir: pathlib.Path, port: int | None = None):
        self.base_dir = pathlib.Path(base_dir)
        self.data_dir = self.base_dir / "data"
        self.config_path = self.base_dir / "hearth.toml"
        self.log_path = self.base_dir / "hearth.log"
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.endpoint = f"http://{self.host}:{self.port}"
        self.proc: subprocess.Popen | None = None
        #: Export lines printed by the first start (the generated default key).
        self.exports: dict[str, str] = {}
        #: Default account's credentials, from the export lines.
        self.creds: Creds | None = None
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(CONFIG_TOML)

    # -- process control -------------------------------------------------------------------

    def command(self) -> list[str]:
        return [
            str(hearth_bin()), "serve",
            "--listen", f"{self.host}:{self.port}",
            "--data-dir", str(self.data_dir),
            "--config", str(self.config_path),
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until `GET /health` answers 200."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        env = dict(os.environ)
        # One model cache shared by every server the tests start (fetched once, see models_dir()).
        env.setdefault("HEARTH_MODELS_DIR", str(models_dir()))
        env.setdefault("RUST_LOG", "info")
        env.setdefault("RUST_BACKTRACE", "1")
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start: {' '.join(self.command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"hearth serve exited with {code} during startup\n{self.log_tail()}"
                )
            try:
                if requests.get(f"{self.endpoint}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"hearth serve not healthy after {timeout}s\n{self.log_tail()}")
            time.sleep(0.05)
        exports = parse_exports(self._log_since(offset))
        if exports:
            self.exports = exports
        if not self.exports:
            raise RuntimeError(
                "hearth serve printed no `export AWS_...` lines on its first start\n"
                + self.log_tail()
            )
        self.creds = Creds(self.exports["AWS_ACCESS_KEY_ID"], self.exports["AWS_SECRET_ACCESS_KEY"])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Send `sig` and wait for the exit; SIGKILL after `timeout`. Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill9(self) -> None:
        """Crash the server: SIGKILL, no chance to flush anything."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def restart(self) -> None:
        """Graceful stop, then start on the same data directory and port."""
        self.stop()
        self.start()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    # -- clients ---------------------------------------------------------------------------

    def account_creds(self, account: str = "default") -> Creds:
        if account == "default":
            assert self.creds is not None
            return self.creds
        if account == "other":
            return OTHER_CREDS
        raise ValueError(f"unknown account {account!r}")

    def client(
        self,
        service: str,
        account: str = "default",
        region: str = DEFAULT_REGION,
        addressing_style: str | None = None,
        endpoint_url: str | None = None,
        creds: Creds | None = None,
        **config_kwargs,
    ):
        """A boto3 client for `service` signed with `account`'s key (or `creds`), no retries."""
        if addressing_style is not None:
            config_kwargs["s3"] = {"addressing_style": addressing_style}
        config = Config(retries={"total_max_attempts": 1}, **config_kwargs)
        creds = creds or self.account_creds(account)
        return boto3.session.Session().client(
            service,
            endpoint_url=endpoint_url or self.endpoint,
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            region_name=region,
            config=config,
        )

    def env(self, account: str = "default") -> dict[str, str]:
        """Environment for an AWS CLI subprocess: the printed export lines, nothing else."""
        env = dict(os.environ)
        for name in AWS_ENV_TO_CLEAR:
            env.pop(name, None)
        env.update(self.exports)
        creds = self.account_creds(account)
        env["AWS_ACCESS_KEY_ID"] = creds.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = creds.secret_access_key
        missing = str(self.base_dir / "no-such-aws-config")
        env["AWS_CONFIG_FILE"] = missing
        env["AWS_SHARED_CREDENTIALS_FILE"] = missing
        env["AWS_PAGER"] = ""
        return env

    # -- logs ------------------------------------------------------------------------------

    def _log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_bytes()[-200_000:].decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])
