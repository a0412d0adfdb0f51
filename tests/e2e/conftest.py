"""The end-to-end fixture: a private local stack (own ports, own state dir) for the whole session.

It runs ``python -m local_stack serve`` as a subprocess exactly as ``make local`` does, on free ports
(never 3000, never the developer's running stack), with ``GET /me`` requiring the ``read`` scope,
the refresh grace window off (so reuse detection is observable without waiting) and a 1 s
revocation feed (so a test waits one second, not five, for a revocation to reach the authorizer).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ROUTE_SCOPES = {"GET /me": ["read"]}
STARTUP_TIMEOUT = 90.0
#: RevocationFeedInterval of the e2e stack, seconds.
FEED_INTERVAL = 1


@dataclass
class Stack:
    info: dict[str, Any]
    state_dir: Path
    log_path: Path

    @property
    def api(self) -> str:
        return str(self.info["api_url"])

    @property
    def basic(self) -> tuple[str, str]:
        return str(self.info["client_id"]), str(self.info["client_secret"])

    def wait_for_revocation(self) -> None:
        """Let every warm authorizer read its revocation feed again (the documented bound, with
        API Gateway's result cache aside)."""
        time.sleep(FEED_INTERVAL + 0.3)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, needle: str, count: int = 1, timeout: float = 10.0) -> str:
        """Function logs are pumped asynchronously: wait until ``needle`` appears ``count`` times."""
        deadline = time.monotonic() + timeout
        text = self.log_text()
        while text.count(needle) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            text = self.log_text()
        return text

    def login(self, scope: str = "openid read") -> dict[str, Any]:
        """A password-grant token pair for the demo user (plain HTTP, no client library)."""
        response = requests.post(
            self.api + "/token",
            data={
                "grant_type": "password",
                "username": self.info["username"],
                "password": self.info["password"],
                "scope": scope,
            },
            auth=self.basic,
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state_dir = tmp_path_factory.mktemp("local-stack")
    log_path = state_dir / "stack.log"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AWS_PROFILE", None)
    cmd = [
        sys.executable,
        "-m",
        "local_stack",
        "serve",
        "--port",
        "0",
        "--moto-port",
        "0",
        "--state-dir",
        str(state_dir),
        "--param",
        "RouteScopes=" + json.dumps(ROUTE_SCOPES),
        "--param",
        "RefreshGraceSeconds=0",
        "--param",
        f"RevocationFeedInterval={FEED_INTERVAL}",
    ]
    started = time.perf_counter()
    with log_path.open("w") as log, (state_dir / "banner.txt").open("w") as banner:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=banner, stderr=log)
    stack_file = state_dir / "stack.json"
    try:
        info = None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"local stack exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
            if stack_file.exists():
                candidate = json.loads(stack_file.read_text())
                if candidate.get("pid") == proc.pid:
                    info = candidate
                    break
            time.sleep(0.05)
        if info is None:
            pytest.fail(f"local stack not ready after {STARTUP_TIMEOUT} s:\n{log_path.read_text()[-4000:]}")
        print(
            f"\n[e2e] local stack up in {time.perf_counter() - started:.2f} s "
            f"(its own measure to first request: {info['startup_seconds']} s) at {info['api_url']}"
        )
        yield Stack(info=info, state_dir=state_dir, log_path=log_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local stack speaks plain HTTP on 127.0.0.1; OAuth libraries refuse that unless told."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
