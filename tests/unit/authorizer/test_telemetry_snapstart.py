"""The decision line format (EMF) and the SnapStart hook."""

from __future__ import annotations

import io
import json
import sys
import types

import pytest

from auth_core.authorizer.snapstart import after_restore, before_snapshot
from auth_core.authorizer.telemetry import DecisionLog


def test_decision_line_is_one_json_object_with_emf() -> None:
    stream = io.StringIO()
    log = DecisionLog("authorizer", namespace="NS", stream=stream, clock=lambda: 1_800_000_000.5)
    log.emit("INFO", "m1", "Unauthorized", "req-1", reason="expired")
    log.cold_start = False  # what the engine does when its first invocation ends
    log.emit("INFO", "m2", "Allowed", None, sub="a\nb")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["timestamp"] == "2027-01-15T08:00:00.500Z"
    assert (first["cold_start"], second["cold_start"]) == (True, False)
    assert first["function_request_id"] == "req-1"
    assert "function_request_id" not in second
    assert first["_aws"] == {
        "Timestamp": 1_800_000_000_500,
        "CloudWatchMetrics": [
            {
                "Namespace": "NS",
                "Dimensions": [["service"]],
                "Metrics": [{"Name": "Unauthorized", "Unit": "Count"}],
            }
        ],
    }
    assert first["Unauthorized"] == 1
    assert first["service"] == "authorizer"
    assert second["sub"] == "a\nb"


@pytest.mark.parametrize(
    ("clock", "stamp"),
    [
        (1_800_000_000.0, "2027-01-15T08:00:00.000Z"),
        (1_800_000_000.007, "2027-01-15T08:00:00.007Z"),
        (1_800_000_000.0999, "2027-01-15T08:00:00.099Z"),
        (1_800_000_001.9999, "2027-01-15T08:00:01.999Z"),
    ],
)
def test_timestamp_milliseconds_are_zero_padded_and_truncated(clock: float, stamp: str) -> None:
    """The preformatted milliseconds agree with the line's own ``Timestamp`` (EMF) member."""
    stream = io.StringIO()
    log = DecisionLog("authorizer", stream=stream, clock=lambda: clock)
    log.emit_prepared(log.prepare("INFO", "m", "Allowed"), None, '"k":1')
    line = json.loads(stream.getvalue())
    assert line["timestamp"] == stamp
    assert line["_aws"]["Timestamp"] == int(clock * 1000)
    assert line["k"] == 1


def test_namespace_defaults_to_powertools_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FromEnv")
    assert DecisionLog().namespace == "FromEnv"
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    assert DecisionLog().namespace == "ServerlessJwtAuth"


HOOKS = pytest.mark.parametrize(
    ("register", "name"),
    [(after_restore, "register_after_restore"), (before_snapshot, "register_before_snapshot")],
)


@HOOKS
def test_after_restore_is_a_no_op_outside_lambda(register, name: str) -> None:
    assert register(lambda: None) is False


@HOOKS
def test_after_restore_registers_when_the_runtime_offers_it(
    monkeypatch: pytest.MonkeyPatch, register, name: str
) -> None:
    registered = []
    module = types.ModuleType("snapshot_restore_py")
    setattr(module, name, registered.append)
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    hook = object()
    assert register(hook) is True
    assert registered == [hook]


@HOOKS
def test_a_runtime_without_the_hook_is_a_no_op(monkeypatch: pytest.MonkeyPatch, register, name: str) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", types.ModuleType("snapshot_restore_py"))
    assert register(lambda: None) is False
