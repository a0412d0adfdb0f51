"""Each AWS client against a hung endpoint under a deadline: it fails in time, with the error its
callers already map, and it stops retrying when the budget cannot afford another attempt."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ReadTimeoutError

from auth_core import aws, deadline
from auth_core.aws_json import AwsDeadlineError, AwsJsonClient, AwsServiceError, AwsTransportError, DynamoDB
from tests.functional.deadline.conftest import REMAINING, Hung, RunningOutContext

pytestmark = pytest.mark.slow  # hung endpoints, waited for: skipped by make test-fast

BUDGET = REMAINING - deadline.MARGIN


# ------------------------------------------------------------------ the boto3-free client
def test_lean_client_fails_by_the_deadline(hung: Hung) -> None:
    client = AwsJsonClient("dynamodb", endpoint=hung.url, sleep=lambda _s: None)
    context = RunningOutContext()
    with deadline.scope(context), pytest.raises(AwsTransportError) as info:
        DynamoDB(client).batch_get_item(RequestItems={})
    assert client.last_attempts == 1
    if hung.kind == "silent":
        # the read was cut at the deadline, not at the 5 s read timeout
        assert isinstance(info.value, AwsDeadlineError) and isinstance(info.value, deadline.Exceeded)


def test_lean_client_without_deadline_keeps_its_own_timeouts(silent: Hung) -> None:
    client = AwsJsonClient("dynamodb", endpoint=silent.url, read_timeout=0.3)
    with pytest.raises(AwsTransportError) as info:
        client.call("GetItem", {})
    assert not isinstance(info.value, AwsDeadlineError)  # its own read timeout, no deadline


class _SlowErrors(http.server.BaseHTTPRequestHandler):
    """A 500 after ``delay`` seconds, every time: retryable, but slow."""

    protocol_version = "HTTP/1.1"
    delay = 0.9

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(self.delay)
        body = b'{"__type": "InternalServerError"}'
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def slow_errors() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowErrors)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_lean_client_retries_never_outlive_the_budget(slow_errors: str) -> None:
    """2 s of budget, 0.9 s per failing attempt: 3 attempts would take 2.7 s. Retries go on only
    while the budget lasts; the last one is cut at the deadline."""
    client = AwsJsonClient("dynamodb", endpoint=slow_errors, backoff_base=0.001)
    context = RunningOutContext(2.5)
    with deadline.scope(context), pytest.raises((AwsServiceError, AwsDeadlineError)):
        client.call("GetItem", {})


# ------------------------------------------------------------------ boto3
@pytest.fixture
def boto_ddb(hung: Hung, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ENDPOINT_URL", hung.url)
    return aws.client("dynamodb")


def test_boto_client_fails_by_the_deadline_without_a_late_retry(boto_ddb: Any, hung: Hung) -> None:
    context = RunningOutContext()
    with deadline.scope(context), pytest.raises(BotoCoreError) as info:
        boto_ddb.get_item(TableName="t", Key={"pk": {"S": "x"}})
    if hung.kind == "silent":
        # one attempt, its read capped at budget - connect timeout (not botocore's 5 s); then
        # no retry, because the longest backoff plus another attempt would not fit
        assert isinstance(info.value, ReadTimeoutError)
        assert len(hung.accepted) == 1


def test_boto_client_with_a_long_budget_retries_within_it(
    monkeypatch: pytest.MonkeyPatch, silent: Hung
) -> None:
    """With room to spare, botocore still retries (read timeout shortened to 0.5 s to keep the
    test fast); retries stop once the longest backoff plus another attempt would not fit."""
    monkeypatch.setattr(aws, "READ_TIMEOUT", 0.5)
    monkeypatch.setenv("AWS_ENDPOINT_URL", silent.url)
    ddb = aws.client("dynamodb")
    context = RunningOutContext(4.0)  # 3.5 s budget
    with deadline.scope(context), pytest.raises(BotoCoreError):
        ddb.get_item(TableName="t", Key={"pk": {"S": "x"}})
    assert 2 <= len(silent.accepted) <= aws.MAX_ATTEMPTS
