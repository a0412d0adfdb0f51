"""Fixtures shared by every test tier.

Nothing here can reach real AWS: fake credentials and region are forced for every test, and
the core's lazily created clients are forgotten between tests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


@pytest.fixture(autouse=True)
def _fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "ServerlessJwtAuthTest",
        "POWERTOOLS_DEV": "false",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # Not the developer's ~/.aws/config: its endpoint settings would move boto3, and make the
    # lean client step aside (auth_core.aws.lean_preferred).
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    from auth_core import aws

    aws.reset_clients()
    yield
    aws.reset_clients()


def load_event(name: str) -> dict[str, Any]:
    """Load ``events/<name>`` (the same files ``sam local invoke -e`` uses)."""
    return json.loads((EVENTS / name).read_text())


class FakeLambdaContext:
    """Enough of ``LambdaContext`` for Powertools' ``inject_lambda_context``."""

    function_name = "test-function"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id = "11111111-2222-3333-4444-555555555555"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "2026/11/29/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
