"""The current invocation's deadline: answer before Lambda kills the function.

Why: Lambda stops a function at its timeout without a word -- no response of ours, no log
line, no metric; API Gateway then answers a bare 500/503 of its own. An AWS client that waits on
a hung dependency (timeouts x retries) can easily outlive a 5-10 s function timeout. So each
invocation records *when it must have answered*: Lambda's remaining time minus a safety
:data:`MARGIN` to build the error response and flush logs and metrics. Both AWS clients consult
it before every attempt (``auth_core.aws_json`` directly, boto3 through the hooks in
``auth_core.aws``): the remaining budget caps socket timeouts and stops retries, so a hung call
fails in time and goes through the ordinary error mapping (503 + ``Retry-After`` for the HTTP
functions, a refusal for the authorizer). The remaining time is read from the Lambda context
when a client asks, so an invocation that makes no AWS call pays nothing for it.

No deadline is set outside a Lambda invocation (the CLI, the local tools): then nothing is
capped. The current scope lives in a :class:`~contextvars.ContextVar`, so concurrent invocations in
one process (threaded tests) do not see each other's. Stdlib only and tiny on purpose: the
authorizer imports it on its cold-start path.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

__all__ = ["MARGIN", "Exceeded", "remaining", "scope"]

#: Seconds kept back from Lambda's remaining time: enough to map the error, log and flush.
MARGIN = 0.5

#: The current invocation's :class:`scope` (its Lambda context and margin); ``None``: no deadline.
_current: ContextVar[scope | None] = ContextVar("auth_core_deadline", default=None)


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
    """Within the block, the deadline is the remaining time of ``context`` minus ``margin``.

    Entering records the scope and nothing else: the remaining time is read from the context
    only when a client asks (:func:`remaining`), before an AWS call. An invocation that makes
    no AWS call (the authorizer's warm path) pays for no clock read or context call. Lambda's
    ``get_remaining_time_in_millis`` counts down from the invocation's own deadline, so reading
    it late gives the same deadline as reading it on entry.

    A context without ``get_remaining_time_in_millis`` (a test passing ``None``, the CLI) means
    no deadline. The previous scope is restored on exit, so nothing leaks past the invocation.
    (A small class rather than ``@contextmanager``: it wraps every authorizer call, and a
    generator-based manager costs ~2 µs there.)
    """

    __slots__ = ("_context", "_margin", "_token")

    def __init__(self, context: object, *, margin: float = MARGIN) -> None:
        self._context = context
        self._margin = margin
        self._token: Token[scope | None] | None = None

    def __enter__(self) -> None:
        self._token = _current.set(self)

    def __exit__(self, *_exc: object) -> None:
        if self._token is not None:
            _current.reset(self._token)

    def remaining(self) -> float | None:
        """Seconds left in this scope (0.0 when spent), or ``None`` when its context has no
        remaining time."""
        seconds = _remaining_seconds(self._context)
        if seconds is None:
            return None
        return max(0.0, seconds - self._margin)


def remaining() -> float | None:
    """Seconds left before the current deadline (0.0 when spent), or ``None`` when there is none."""
    current = _current.get()
    return None if current is None else current.remaining()
