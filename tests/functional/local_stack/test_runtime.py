"""Execution environments: one worker process per environment, with its own env vars and warm state."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from local_stack.apigw import InvocationError
from local_stack.runtime import FunctionPool, Worker, lambda_environment
from local_stack.sam import FunctionSpec

APP = """
import os, sys, time
import helper_from_layer

CALLS = 0

def handler(event, context):
    global CALLS
    CALLS += 1
    print("this goes to the log, not to the protocol")
    if event.get("fail"):
        raise ValueError("bad input")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {
        "calls": CALLS,
        "pid": os.getpid(),
        "own": os.environ.get("OWN"),
        "leak": os.environ.get("PARENT_ONLY"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "name": context.function_name,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 3000,
        "layer": helper_from_layer.VALUE,
        "request_id": context.aws_request_id,
    }
"""


@pytest.fixture
def spec(tmp_path: Path) -> FunctionSpec:
    code = tmp_path / "fn"
    layer = tmp_path / "layer"
    code.mkdir()
    layer.mkdir()
    (code / "app.py").write_text(APP)
    (layer / "helper_from_layer.py").write_text("VALUE = 'from the layer'\n")
    return FunctionSpec(
        logical_id="Fn",
        name="stack-Fn",
        code_dir=code,
        handler="app.handler",
        runtime="python3.13",
        timeout=3,
        memory=128,
        environment={},
        layer_dirs=(layer,),
    )


def _env(spec: FunctionSpec, **variables: str) -> dict[str, str]:
    return lambda_environment(spec, variables, region="us-east-1", endpoint_url="http://127.0.0.1:9")


def _log_sink() -> tuple[list[str], object]:
    lines: list[str] = []
    return lines, lines.append


def test_worker_runs_the_handler_with_its_own_environment(spec, monkeypatch):
    monkeypatch.setenv("PARENT_ONLY", "must not leak")
    _lines, log = _log_sink()
    worker = Worker(
        spec,
        _env(spec, OWN="mine", AWS_ENDPOINT_URL=""),
        region="us-east-1",
        account_id="123456789012",
        log=log,
    )
    try:
        first = worker.invoke({}, 3.0)
        second = worker.invoke({}, 3.0)
    finally:
        worker.close()
    assert first["own"] == "mine"
    assert first["leak"] is None
    assert first["endpoint"] == "http://127.0.0.1:9"  # the template's "" cannot unpoint moto
    assert first["name"] == "stack-Fn"
    assert first["remaining_ok"] is True
    assert first["layer"] == "from the layer"
    assert first["pid"] != os.getpid()
    assert (first["calls"], second["calls"]) == (1, 2)  # warm: module state survives
    assert first["pid"] == second["pid"]


def test_handler_errors_and_prints(spec):
    lines, log = _log_sink()
    worker = Worker(spec, _env(spec), region="us-east-1", account_id="123456789012", log=log)
    try:
        with pytest.raises(InvocationError) as info:
            worker.invoke({"fail": True}, 3.0)
        assert (info.value.error_type, info.value.message) == ("ValueError", "bad input")
        assert worker.invoke({}, 3.0)["calls"] == 2  # the environment survives a handler error
    finally:
        worker.close()
    assert any("this goes to the log" in line for line in lines)
    assert any(line.startswith("[Fn] REPORT RequestId:") for line in lines)


def test_timeout_kills_the_environment(spec):
    worker = Worker(spec, _env(spec), region="us-east-1", account_id="123456789012", log=lambda _l: None)
    with pytest.raises(InvocationError) as info:
        worker.invoke({"sleep": 5}, 0.3)
    assert info.value.error_type == "Sandbox.Timedout"
    assert not worker.alive


def test_import_error_is_reported(spec):
    (spec.code_dir / "app.py").write_text("raise RuntimeError('broken at import')\n")
    with pytest.raises(InvocationError) as info:
        Worker(spec, _env(spec), region="us-east-1", account_id="123456789012", log=lambda _l: None)
    assert info.value.error_type == "Runtime.ImportModuleError"
    assert "broken at import" in info.value.message


def test_pool_reuses_idle_environments_and_scales_out_when_busy(spec):
    pool = FunctionPool(spec, _env(spec), "us-east-1", "123456789012", log=lambda _l: None)
    try:
        a = pool.invoke({})
        b = pool.invoke({})
        assert a["pid"] == b["pid"] and pool.cold_starts == 1
        results: list[dict] = []
        threads = [
            threading.Thread(target=lambda: results.append(pool.invoke({"sleep": 0.5}))) for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({r["pid"] for r in results}) == 2  # two concurrent calls, two environments
        assert pool.cold_starts == 2
    finally:
        pool.close()
