"""The invocation deadline: its arithmetic, its scope, and how each AWS client reads it.

No network: the boto3 hooks are called as botocore calls them, the boto3-free client's budget
is read directly. The end-to-end proof (hung servers, real handlers) is in
``tests/functional/deadline/``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from auth_core import aws, aws_json, deadline


class Context:
    """A Lambda context whose remaining time runs down from ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - time.monotonic()) * 1000))


class Request:
    """What botocore's ``before-send`` hands a hook: a prepared request with a context dict."""

    def __init__(self) -> None:
        self.context: dict[str, Any] = {}


# ------------------------------------------------------------------ arithmetic and scope
def test_no_deadline_outside_an_invocation() -> None:
    assert deadline.remaining() is None


def test_remaining_is_lambda_time_minus_the_margin() -> None:
    with deadline.scope(Context(3.0)):
        left = deadline.remaining()
        assert left is not None and 3.0 - deadline.MARGIN - 0.05 < left <= 3.0 - deadline.MARGIN
    with deadline.scope(Context(3.0), margin=1.0):
        left = deadline.remaining()
        assert left is not None and 1.9 < left <= 2.0


def test_remaining_runs_down_and_never_goes_negative() -> None:
    with deadline.scope(Context(0.7)):
        first = deadline.remaining()
        time.sleep(0.1)
        second = deadline.remaining()
        assert first is not None and second is not None and second <= first - 0.09
        time.sleep(0.2)
        assert deadline.remaining() == 0.0
    with deadline.scope(Context(0.1)):  # less than the margin: spent from the start
        assert deadline.remaining() == 0.0


@pytest.mark.parametrize(
    "context", [None, object(), type("C", (), {"get_remaining_time_in_millis": "3000"})()]
)
def test_a_context_without_remaining_time_means_no_deadline(context: object) -> None:
    with deadline.scope(context):
        assert deadline.remaining() is None


@pytest.mark.parametrize("value", [True, "3000", None, [3000]])
def test_a_non_numeric_remaining_time_means_no_deadline(value: object) -> None:
    class Odd:
        def get_remaining_time_in_millis(self) -> object:
            return value

    with deadline.scope(Odd()):
        assert deadline.remaining() is None


def test_scope_restores_the_previous_deadline_even_on_error() -> None:
    with pytest.raises(RuntimeError), deadline.scope(Context(3.0)):
        with deadline.scope(Context(60.0)):
            inner = deadline.remaining()
            assert inner is not None and inner > 50
        outer = deadline.remaining()
        assert outer is not None and outer < 3
        raise RuntimeError("boom")
    assert deadline.remaining() is None


def test_a_wall_clock_step_during_the_invocation_cannot_stretch_the_deadline() -> None:
    """Lambda's context computes the remaining time from the wall clock (``time.time()``): it is
    read once, at entry, and counted down on the monotonic clock from there. A clock stepped back
    3 s after entry (the context then says 6 s) must not give a hung call more time."""

    class SteppedBack:
        readings = iter([3000, 6000, 6000, 6000])

        def get_remaining_time_in_millis(self) -> int:
            return next(self.readings)

    with deadline.scope(SteppedBack()):
        first = deadline.remaining()
        second = deadline.remaining()
    assert first is not None and first <= 2.5
    assert second is not None and second <= first


def test_threads_do_not_see_each_others_deadline() -> None:
    seen: list[float | None] = []
    with deadline.scope(Context(3.0)):
        thread = threading.Thread(target=lambda: seen.append(deadline.remaining()))
        thread.start()
        thread.join()
    assert seen == [None]


# ------------------------------------------------------------------ the boto3-free client
def test_lean_client_budget_caps_timeouts_and_refuses_when_spent() -> None:
    client = aws_json.AwsJsonClient("dynamodb", endpoint="http://127.0.0.1:9")
    assert client._budget(5.0) == 5.0  # no deadline: the configured timeout
    with deadline.scope(Context(2.0)):
        capped = client._budget(5.0)
        assert 1.4 < capped <= 1.5
        assert client._budget(0.2) == 0.2
    with deadline.scope(Context(0.5)), pytest.raises(aws_json.AwsDeadlineError) as info:
        client._budget(5.0)
    assert isinstance(info.value, deadline.Exceeded) and not info.value.retryable
    assert isinstance(info.value, aws_json.DynamoDB.errors)


def test_lean_client_makes_no_request_when_the_budget_is_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_socket(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr("socket.create_connection", no_socket)
    client = aws_json.AwsJsonClient("dynamodb", endpoint="http://127.0.0.1:9")
    with deadline.scope(Context(0.5)), pytest.raises(aws_json.AwsDeadlineError):
        client.call("GetItem", {})
    assert client.last_attempts == 1


# ------------------------------------------------------------------ the boto3 hooks
def test_boto_hook_caps_the_read_timeout_to_what_is_left() -> None:
    request = Request()
    aws._before_send(request=request, event_name="before-send.dynamodb.GetItem")
    assert request.context == {}  # no deadline: botocore's configured timeouts
    with deadline.scope(Context(3.0)):
        aws._before_send(request=request, event_name="before-send.dynamodb.GetItem")
    # 3 s - 0.5 s margin - the connect timeout it must reserve
    assert 1.4 < request.context["read_timeout"] <= 2.5 - aws.CONNECT_TIMEOUT
    with deadline.scope(Context(60.0)):
        aws._before_send(request=request, event_name="before-send.dynamodb.GetItem")
    assert request.context["read_timeout"] == aws.READ_TIMEOUT


def test_boto_hook_refuses_an_attempt_that_cannot_finish_in_time() -> None:
    from botocore.exceptions import BotoCoreError

    with deadline.scope(Context(1.4)), pytest.raises(BotoCoreError) as info:
        aws._before_send(request=Request(), event_name="before-send.secrets-manager.GetSecretValue")
    assert isinstance(info.value, deadline.Exceeded)
    assert "GetSecretValue" in str(info.value)


def test_boto_retry_hook_stops_retries_the_budget_cannot_afford() -> None:
    assert aws._needs_retry(attempts=1) is None  # no deadline: botocore decides
    with deadline.scope(Context(30.0)):
        assert aws._needs_retry(attempts=1) is None
        assert aws._needs_retry(attempts=1, caught_exception=aws.deadline_error()(operation="x")) is False
    with deadline.scope(Context(2.5)):  # 2 s left < 1 s longest backoff + 1 s connect + a read
        assert aws._needs_retry(attempts=1) is False
    with deadline.scope(Context(5.0)):  # 4.5 s left
        assert aws._needs_retry(attempts=1) is None  # 1 s + 1 s + a read fit
        assert aws._needs_retry(attempts=2) is None  # 2 s + 1 s + a read fit
        assert aws._needs_retry(attempts=3) is False  # 4 s + 1 s + a read do not


def test_boto_clients_carry_the_hooks_and_bounded_config() -> None:
    ddb = aws.client("dynamodb")
    config = ddb.meta.config
    assert (config.connect_timeout, config.read_timeout) == (aws.CONNECT_TIMEOUT, aws.READ_TIMEOUT)
    assert config.retries == {"mode": "standard", "total_max_attempts": aws.MAX_ATTEMPTS}
    with deadline.scope(Context(0.5)), pytest.raises(deadline.Exceeded):
        ddb.get_item(TableName="t", Key={"pk": {"S": "x"}})  # refused before any connection
