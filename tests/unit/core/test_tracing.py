"""X-Ray tracing (``auth_core/tracing.py``): off by default and then free, on by ``TRACING``.

The function runs as Lambda runs it -- a fresh interpreter, its directory and the layer on
``sys.path``, one invocation of ``lambda_handler`` -- and the modules it loaded are checked: with
tracing off the X-Ray SDK is never imported. The import cost of
turning it on is measured by ``bench/bench_cold.py --tracing`` (docs/operations.md, "Tracing").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from auth_core.errors import ConfigurationError
from auth_core.settings import Settings
from auth_core.tracing import traced

ROOT = Path(__file__).resolve().parents[3]
#: the X-Ray SDK: what the tracer costs (``aws_lambda_powertools.tracing`` itself is loaded by
#: ``from aws_lambda_powertools import Logger`` anyway, and imports the SDK only when it traces)
TRACER_MODULES = ("aws_xray_sdk",)
CONTEXT = (
    "types.SimpleNamespace(function_name='me', function_version='$LATEST', memory_limit_in_mb=128, "
    "invoked_function_arn='arn:aws:lambda:us-east-1:123456789012:function:me', aws_request_id='r1', "
    "get_remaining_time_in_millis=lambda: 3000)"
)


def _invoke_me(tracing: str | None) -> tuple[int, set[str]]:
    code = (
        "import json, sys, types\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / 'me')!r}, {str(ROOT / 'layers' / 'auth_core')!r}]\n"
        "import app\n"
        f"event = json.load(open({str(ROOT / 'events' / 'me_authorized.json')!r}))\n"
        f"response = app.lambda_handler(event, {CONTEXT})\n"
        "print(json.dumps([response['statusCode'], sorted(sys.modules)]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TRACING"}
    env.update(PYTHONPATH=os.pathsep.join(p for p in sys.path if p), POWERTOOLS_LOG_LEVEL="ERROR")
    env.update(AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR")  # no X-Ray daemon or trace header here
    if tracing is not None:
        env["TRACING"] = tracing
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    status, modules = json.loads(done.stdout.strip().splitlines()[-1])
    return status, set(modules)


def test_tracing_off_by_default_never_imports_the_tracer() -> None:
    status, modules = _invoke_me(None)
    assert status == 200
    assert not [m for m in modules if m.startswith(TRACER_MODULES)]


def test_tracing_on_wraps_the_handler_with_the_powertools_tracer() -> None:
    status, modules = _invoke_me("true")
    assert status == 200  # the traced handler answers as before
    assert "aws_xray_sdk.core" in modules


def test_the_setting_is_read_once_and_off_means_the_handler_itself() -> None:
    calls: list[Any] = []
    asked: list[bool] = []

    def handler(event: Any, context: Any) -> Any:
        calls.append(event)
        return {"ok": event}

    def off() -> bool:
        asked.append(False)
        return False

    entry = traced(handler, "svc", off)
    assert [entry(n, None) for n in range(3)] == [{"ok": 0}, {"ok": 1}, {"ok": 2}]
    assert calls == [0, 1, 2] and asked == [False]  # decided at the first invocation only


def test_the_tracing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env({}).tracing is False
    assert Settings.from_env({"TRACING": "true"}).tracing is True
    assert Settings.from_env({"TRACING": "false"}).tracing is False
    with pytest.raises(ConfigurationError, match="TRACING"):
        Settings.from_env({"TRACING": "sometimes"})
