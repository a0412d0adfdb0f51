"""AWS X-Ray tracing of a handler, only when ``TRACING`` is on (template parameter TracingEnabled).

Off (the default) the tracer is never imported and the handler runs unwrapped: the first
invocation resolves the setting once, and every later one costs a list lookup and a call, no
tracing work (the authorizer's warm path included). On, the handler is wrapped by Powertools'
``Tracer.capture_lambda_handler`` (boto3/botocore calls become subsegments, a cold-start
annotation), with ``capture_response=False``: a response holds tokens, and trace metadata is
readable by anyone with X-Ray read access, so no response body ever reaches a trace.

The import cost of the tracer (``aws_xray_sdk``) is measured by ``bench/bench_cold.py
--tracing`` and stated in docs/operations.md ("Tracing").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auth_core.errors import ConfigurationError

__all__ = ["traced"]

Handler = Callable[[Any, Any], Any]


def traced(handler: Handler, service: str, enabled: Callable[[], bool] | None = None) -> Handler:
    """``handler`` as a Lambda entry point that traces it when tracing is enabled.

    :param service: the tracer's service name (the function's metrics ``service``).
    :param enabled: whether to trace, asked once, at the first invocation (default: the
        ``tracing`` setting; an invalid environment counts as off here, and the handler then
        reports it through its own error mapping).
    """
    resolved: list[Handler] = []

    def entry(event: Any, context: Any) -> Any:
        if not resolved:
            resolved.append(_resolve(handler, service, enabled or _tracing_setting))
        return resolved[0](event, context)

    entry.__wrapped__ = handler  # type: ignore[attr-defined]
    return entry


def _tracing_setting() -> bool:
    from auth_core.settings import Settings  # noqa: PLC0415 - read at the first invocation, never at import

    try:
        return Settings.from_env().tracing
    except ConfigurationError:
        return False


def _resolve(handler: Handler, service: str, enabled: Callable[[], bool]) -> Handler:
    if not enabled():
        return handler
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - lazy: only when tracing is on

    tracer = Tracer(service=service)
    wrapped: Handler = tracer.capture_lambda_handler(handler, capture_response=False)
    return wrapped
