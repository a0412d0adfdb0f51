"""Run a private local stack as a subprocess: what the e2e tests and the benchmarks share.

``python -m local_stack serve`` on free ports with its own state directory, exactly as
``make local`` runs it; the block gets the stack's ``stack.json`` once *this* process wrote it
(its ``pid`` matches), and the stack is stopped (SIGTERM, then kill) when the block ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["StackStartError", "running_stack"]

ROOT = Path(__file__).resolve().parents[1]


class StackStartError(RuntimeError):
    """The stack exited or was not ready in time; the message ends with its log's tail."""


@contextmanager
def running_stack(
    state_dir: Path,
    params: Mapping[str, str] | None = None,
    *,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 90.0,
) -> Iterator[tuple[dict[str, Any], subprocess.Popen[bytes]]]:
    """Run a stack in ``state_dir`` (its log: ``stack.log``, its banner: ``banner.txt``) with the
    template ``params``; yields ``(stack.json, process)``.

    :raises StackStartError: the stack exited, or wrote no ``stack.json`` within ``startup_timeout``.
    """
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AWS_PROFILE", None)
    cmd = [sys.executable, "-m", "local_stack", "serve", "--port", "0", "--moto-port", "0"]
    cmd += ["--state-dir", str(state_dir), *extra_args]
    for name, value in (params or {}).items():
        cmd += ["--param", f"{name}={value}"]
    log_path = state_dir / "stack.log"
    with log_path.open("w") as log, (state_dir / "banner.txt").open("w") as banner:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=banner, stderr=log)
    try:
        yield _wait_ready(proc, state_dir, log_path, startup_timeout), proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(
    proc: subprocess.Popen[bytes], state_dir: Path, log_path: Path, timeout: float
) -> dict[str, Any]:
    stack_file = state_dir / "stack.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackStartError(
                f"local stack exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}"
            )
        if stack_file.exists():
            try:
                info = json.loads(stack_file.read_text())
            except ValueError:  # being written
                info = {}
            if info.get("pid") == proc.pid:
                return dict(info)
        time.sleep(0.05)
    raise StackStartError(f"local stack not ready after {timeout} s:\n{log_path.read_text()[-4000:]}")
