"""The end-to-end fixture: a private local stack (own ports, own state dir) for the whole session.

It runs ``python -m local_stack serve`` as a subprocess exactly as ``make local`` does, on free ports
(never 3000, never the developer's running stack), with ``GET /me`` requiring the ``read`` scope,
the refresh grace window off (so reuse detection is observable without waiting) and a 1 s
revocation feed (so a test waits one second, not five, for a revocation to reach the authorizer).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from local_stack.process import StackStartError, running_stack

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

    def dynamodb(self) -> Any:
        """A boto3 DynamoDB client on the stack's moto (for a store: ``ClientStore(table, client=...)``)."""
        import boto3

        return boto3.client(
            "dynamodb",
            endpoint_url=self.info["aws_endpoint_url"],
            region_name=self.info["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

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


def start(state_dir: Path, **params: str) -> Iterator[Stack]:
    """A private stack for a fixture (the e2e defaults, ``params`` on top); fails the test cleanly."""
    defaults = {
        "RouteScopes": json.dumps(ROUTE_SCOPES),
        "RefreshGraceSeconds": "0",
        "RevocationFeedInterval": str(FEED_INTERVAL),
    }
    started = time.perf_counter()
    try:
        with running_stack(state_dir, {**defaults, **params}, startup_timeout=STARTUP_TIMEOUT) as (
            info,
            _proc,
        ):
            print(
                f"\n[e2e] local stack up in {time.perf_counter() - started:.2f} s "
                f"(its own measure to first request: {info['startup_seconds']} s) at {info['api_url']}"
            )
            yield Stack(info=info, state_dir=state_dir, log_path=state_dir / "stack.log")
    except StackStartError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from start(tmp_path_factory.mktemp("local-stack"))


@pytest.fixture
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local stack speaks plain HTTP on 127.0.0.1; OAuth libraries refuse that unless told."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
