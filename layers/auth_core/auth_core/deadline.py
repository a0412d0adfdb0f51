"""The current invocation's deadline: answer before Lambda kills the function.

Why: Lambda stops a function at its timeout without a word -- no response of ours, no log
line, no metric; API Gateway then answers a bare 500/503 of its own. An AWS client that waits on
a hung dependency (timeouts x retries) can easily outlive a 5-10 s function timeout. So each
invocation records *when it must have answered*: Lambda's remaining time minus a safety
:data:`MARGIN` to build the error response and flush logs and metrics. Both AWS clients consult
it before every attempt (``auth_core.aws_json`` directly, boto3 through the hooks in
``auth_core.aws``): the remaining budget caps socket timeouts and stops retries, so a hung call
fails in time and goes through the ordinary error mapping (503 + ``Retry-After`` for the HTTP
functions, a refusal for the authorizer).

No deadline is set outside a Lambda invocation (the CLI, the local tools): then nothing is
capped. The deadline lives in a :class:`~contextvars.ContextVar`, so concurrent invocations in
one process (threaded tests) do not see each other's. Stdlib only and tiny on purpose: the
authorizer imports it on its cold-start path.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

__all__ = ["MARGIN", "Exceeded", "remaining", "scope"]

#: Seconds kept back from Lambda's remaining time: enough to map the error, log and flush.
MARGIN = 0.5

#: ``time.monotonic()`` by which the current invocation must have answered; ``None``: no deadline.
_deadline: ContextVar[float | None] = ContextVar("auth_core_deadline", default=None)


class Exceeded(Exception):  # noqa: N818 - used as ``deadline.Exceeded``
    """Marker for "the invocation's time budget is spent". Never raised alone: each AWS client
    raises its own error class that also derives from this one (``aws_json.AwsDeadlineError``,
    the boto3 hook's ``BotoCoreError`` subclass), so callers keep catching what they catch."""


def _remaining_seconds(context: object) -> float | None:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(getter):
        return None
    millis = getter()
    if isinstance(millis, bool) or not isinstance(millis, int | float):
        return None
    return millis / 1000.0


class scope:  # noqa: N801 - used as ``with deadline.scope(context):``
    """Within the block, the deadline is ``now + remaining time - margin`` of ``context``.

    A context without ``get_remaining_time_in_millis`` (a test passing ``None``, the CLI) means
    no deadline. The previous value is restored on exit, so nothing leaks past the invocation.
    (A small class rather than ``@contextmanager``: it wraps every authorizer call, and a
    generator-based manager costs ~2 µs there.)
    """

    __slots__ = ("_context", "_margin", "_token")

    def __init__(self, context: object, *, margin: float = MARGIN) -> None:
        self._context = context
        self._margin = margin
        self._token: Token[float | None] | None = None

    def __enter__(self) -> None:
        seconds = _remaining_seconds(self._context)
        self._token = _deadline.set(None if seconds is None else time.monotonic() + seconds - self._margin)

    def __exit__(self, *_exc: object) -> None:
        if self._token is not None:
            _deadline.reset(self._token)


def remaining() -> float | None:
    """Seconds left before the current deadline (0.0 when spent), or ``None`` when there is none."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())
