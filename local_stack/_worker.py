"""One Lambda execution environment: a long-lived process running one function's handler.

Started by :mod:`local_stack.runtime` as ``python -I -u _worker.py CONFIG_JSON`` with the function's
own environment variables (and nothing else of the parent's), so each function has its own
``os.environ``, module namespace and caches, is cold on its first call and warm afterwards -- like
a Lambda execution environment. Standard library only: ``sys.path`` is the function's code
directory and its layers, then site-packages, as on Lambda (``/var/task``, ``/opt/python``).

Protocol (JSON lines): the original stdout is reserved for it; fd 1 is pointed at stderr so that
``print`` and the handler's logs go to the log stream instead of corrupting the protocol.

* worker → ``{"ready": true, "init_ms": float}`` or ``{"ready": false, "errorType", "errorMessage"}``
* parent → ``{"id": str, "event": {...}, "timeout_ms": int}``
* worker → ``{"id": str, "ok": true, "result": ...}`` or ``{"id", "ok": false, "errorType", "errorMessage"}``
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid
from typing import Any


class LambdaContext:
    """The attributes and method of the Python runtime's context object."""

    def __init__(self, cfg: dict[str, Any], request_id: str, timeout_ms: int) -> None:
        self.function_name = cfg["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = cfg["function_arn"]
        self.memory_limit_in_mb = int(cfg["memory"])
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = cfg["log_stream"]
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def main() -> int:
    cfg = json.loads(sys.argv[1])
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)

    def send(message: dict[str, Any]) -> None:
        try:
            line = json.dumps(message, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            line = json.dumps(
                {
                    "id": message.get("id"),
                    "ok": False,
                    "errorType": "Runtime.MarshalError",
                    "errorMessage": f"Unable to marshal response: {exc}",
                }
            )
        proto.write(line + "\n")
        proto.flush()

    sys.path[:0] = [cfg["code_dir"], *cfg["layer_dirs"]]
    module_name, _, attr = cfg["handler"].rpartition(".")
    started = time.perf_counter()
    try:
        handler = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as Runtime.ImportModuleError
        traceback.print_exc()
        send({"ready": False, "errorType": "Runtime.ImportModuleError", "errorMessage": str(exc)})
        return 1
    init_ms = (time.perf_counter() - started) * 1000
    send({"ready": True, "init_ms": init_ms})
    first = True
    for line in sys.stdin:
        request = json.loads(line)
        request_id = request.get("request_id") or str(uuid.uuid4())
        context = LambdaContext(cfg, request_id, int(request["timeout_ms"]))
        sys.stderr.write(f"START RequestId: {request_id} Version: $LATEST\n")
        t0 = time.perf_counter()
        try:
            result = handler(request["event"], context)
            reply: dict[str, Any] = {"id": request["id"], "ok": True, "result": result}
        except Exception as exc:  # noqa: BLE001 - this is the runtime: every error is reported
            traceback.print_exc()
            reply = {"id": request["id"], "ok": False, **_error(exc)}
        duration = (time.perf_counter() - t0) * 1000
        send(reply)
        init = f"\tInit Duration: {init_ms:.2f} ms" if first else ""
        sys.stderr.write(
            f"END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {duration:.2f} ms"
            f"\tMemory Size: {cfg['memory']} MB{init}\n"
        )
        sys.stderr.flush()
        first = False
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
