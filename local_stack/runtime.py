"""Lambda execution environments without Docker: one worker process per concurrent invocation.

Why processes and not in-process calls: every function reads its settings once per execution
environment (a cached factory) and keeps warm caches (keys, clients); two functions sharing one
interpreter would share ``os.environ``, ``sys.modules`` (both have an ``app`` module) and those
caches, and a test could pass locally for a reason that cannot happen on AWS. A worker process per
environment gives each function its own environment variables and namespace, real cold and warm
starts, and concurrency like Lambda's: a second concurrent request to a busy function starts a
second environment.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from local_stack.apigw import InvocationError
from local_stack.sam import FunctionSpec

__all__ = ["FunctionPool", "Runtime", "Worker", "lambda_environment"]

WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
#: environment variables of the parent that a worker may inherit (the rest is Lambda's or the template's)
_INHERITED = ("PATH", "HOME", "SYSTEMROOT", "TMPDIR", "LD_LIBRARY_PATH")

LogSink = Callable[[str], None]


def lambda_environment(
    spec: FunctionSpec, variables: Mapping[str, str], *, region: str, endpoint_url: str | None
) -> dict[str, str]:
    """The environment of ``spec``'s execution environment, as Lambda would set it, pointed at moto.

    Credentials are fake and ``AWS_ENDPOINT_URL`` sends every boto3 client to the local moto
    server, so nothing can reach real AWS from a local function.
    """
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env.update(
        {
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    env.update({k: str(v) for k, v in variables.items()})
    # Last, so that the template cannot point a local function anywhere but moto (it declares
    # AWS_ENDPOINT_URL="" for `sam local invoke --env-vars`).
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }
    )
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


class Worker:
    """One execution environment (a subprocess running :mod:`local_stack._worker`)."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: Mapping[str, str],
        *,
        region: str,
        account_id: str,
        log: LogSink,
        start_timeout: float = 60.0,
    ) -> None:
        self.spec = spec
        self.invocations = 0
        log_stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        config = {
            "code_dir": str(spec.code_dir),
            "layer_dirs": [str(p) for p in spec.layer_dirs],
            "handler": spec.handler,
            "function_name": spec.name,
            "function_arn": f"arn:aws:lambda:{region}:{account_id}:function:{spec.name}",
            "memory": spec.memory,
            "log_stream": log_stream,
        }
        started = time.perf_counter()
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-u", str(WORKER_SCRIPT), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=str(spec.code_dir),
            text=True,
            encoding="utf-8",
            # Own session: Ctrl-C in the terminal reaches the stack, which ends its workers in order.
            # A worker whose parent dies sees EOF on stdin and exits by itself.
            start_new_session=True,
        )
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        assert self._proc.stdout is not None and self._proc.stderr is not None  # noqa: S101 - Popen(PIPE)
        threading.Thread(target=self._read_replies, args=(self._proc.stdout,), daemon=True).start()
        threading.Thread(target=self._pump_log, args=(self._proc.stderr, log), daemon=True).start()
        ready = self._next(start_timeout)
        if ready is None or not ready.get("ready"):
            self.close()
            error = ready or {"errorType": "Runtime.ExitError", "errorMessage": "worker exited during init"}
            raise InvocationError(str(error.get("errorType")), str(error.get("errorMessage")))
        self.init_ms = float(ready.get("init_ms", 0.0))
        self.start_ms = (time.perf_counter() - started) * 1000

    def _read_replies(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                self._replies.put(json.loads(line))
            except ValueError:
                continue
        self._replies.put(None)

    def _pump_log(self, stream: IO[str], log: LogSink) -> None:
        prefix = f"[{self.spec.logical_id}] "
        for line in stream:
            log(prefix + line.rstrip("\n"))

    def _next(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self._replies.get(timeout=timeout)
        except queue.Empty:
            return {
                "ok": False,
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {timeout:.2f} seconds",
            }

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def invoke(self, event: Mapping[str, Any], timeout: float, request_id: str | None = None) -> Any:
        """Run the handler once; its result, or :class:`InvocationError` (handler error, timeout, crash)."""
        call_id = uuid.uuid4().hex
        message = {"id": call_id, "event": event, "timeout_ms": int(timeout * 1000), "request_id": request_id}
        assert self._proc.stdin is not None  # noqa: S101 - Popen(PIPE)
        try:
            self._proc.stdin.write(json.dumps(message) + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise InvocationError("Runtime.ExitError", "execution environment is gone") from exc
        self.invocations += 1
        reply = self._next(timeout)
        if reply is None:
            raise InvocationError("Runtime.ExitError", "execution environment exited")
        if reply.get("errorType") == "Sandbox.Timedout":
            self.kill()
            raise InvocationError("Sandbox.Timedout", str(reply["errorMessage"]))
        if reply.get("id") != call_id:
            self.kill()
            raise InvocationError("Runtime.ProtocolError", "out-of-order reply")
        if not reply.get("ok"):
            raise InvocationError(str(reply.get("errorType")), str(reply.get("errorMessage")))
        return reply.get("result")

    def kill(self) -> None:
        """End the environment at once (a timed-out handler is still running)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def shutdown(self) -> None:
        """Ask the environment to end (EOF on its input ends the worker's loop); returns at once."""
        if self._proc.poll() is None and self._proc.stdin:
            try:
                self._proc.stdin.close()
            except OSError:
                self.kill()

    def close(self) -> None:
        """End the environment gracefully, killing it if it does not exit within 2 s."""
        self.shutdown()
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class FunctionPool:
    """The execution environments of one function: reuse an idle one, start another when all are busy."""

    spec: FunctionSpec
    env: Mapping[str, str]
    region: str
    account_id: str
    log: LogSink
    max_concurrency: int = 8
    _idle: list[Worker] = field(default_factory=list)
    _all: list[Worker] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.Semaphore = field(init=False)
    cold_starts: int = 0

    def __post_init__(self) -> None:
        self._slots = threading.Semaphore(self.max_concurrency)

    def _acquire(self) -> Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
        worker = Worker(self.spec, self.env, region=self.region, account_id=self.account_id, log=self.log)
        with self._lock:
            self._all.append(worker)
            self.cold_starts += 1
        return worker

    def invoke(self, event: Mapping[str, Any]) -> Any:
        with self._slots:
            worker = self._acquire()
            try:
                return worker.invoke(event, float(self.spec.timeout))
            finally:
                if worker.alive:
                    with self._lock:
                        self._idle.append(worker)

    def warm(self) -> None:
        """Start one environment ahead of the first request (if none exists yet)."""
        with self._lock:
            if self._all:
                return
        worker = self._acquire()
        with self._lock:
            self._idle.append(worker)

    def close(self) -> None:
        with self._lock:
            workers, self._all, self._idle = list(self._all), [], []
        for worker in workers:
            worker.shutdown()  # all of them at once, then wait
        for worker in workers:
            worker.close()


@dataclass
class Runtime:
    """All functions' pools; :meth:`invoke` is the gateway's :data:`~local_stack.apigw.Invoker`."""

    pools: dict[str, FunctionPool] = field(default_factory=dict)

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self.pools[function].invoke(event)

    def warm(self, functions: list[str] | None = None) -> None:
        threads = [
            threading.Thread(target=self._warm_one, args=(name,), daemon=True)
            for name in (functions if functions is not None else list(self.pools))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _warm_one(self, name: str) -> None:
        try:
            self.pools[name].warm()
        except InvocationError as exc:
            self.pools[name].log(f"[{name}] could not start: {exc}")

    def close(self) -> None:
        threads = [threading.Thread(target=pool.close, daemon=True) for pool in self.pools.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
