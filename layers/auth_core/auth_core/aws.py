"""Lazy, injectable boto3 clients.

``boto3`` costs ~300 ms to import, so it is imported on the first call that needs a client,
never at module level. Clients are cached per (service, region, endpoint) for the life of the
execution environment. Tests and the local stack inject their own with :func:`set_client` or
point every client at moto with the standard ``AWS_ENDPOINT_URL`` variable (boto3 reads it).

Every client we build answers to the invocation's deadline (:mod:`auth_core.deadline`) through
two botocore event hooks, so a hung DynamoDB or Secrets Manager fails in time and becomes the
caller's usual 503 instead of Lambda killing the function:

* ``before-send`` (before every attempt): refuses to start an attempt that could not finish in
  the remaining budget, raising :func:`deadline_error` -- a ``BotoCoreError``, so every caller
  that already maps botocore's errors maps this one too -- and caps the attempt's read timeout
  to what is left (botocore honours a ``read_timeout`` in the request context);
* ``needs-retry`` (after every attempt): stops retrying when the longest backoff plus another
  attempt would not fit.

botocore cannot cap the connect timeout per request, so it is short (:data:`CONNECT_TIMEOUT`)
and reserved in full before each attempt. Without a deadline (the CLI) nothing is capped.
Injected clients (tests, tools) are used as they are.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from auth_core import _endpoints, deadline

__all__ = [
    "CONNECT_TIMEOUT",
    "MAX_ATTEMPTS",
    "READ_TIMEOUT",
    "client",
    "deadline_error",
    "endpoint_variables",
    "injected",
    "lean_preferred",
    "reset_clients",
    "set_client",
]

#: Seconds to open a connection. In-region AWS endpoints connect in milliseconds.
CONNECT_TIMEOUT = 1.0
#: Seconds to wait for an answer, when the deadline leaves that much.
READ_TIMEOUT = 5.0
#: Attempts per call, first included (``total_max_attempts``: botocore's ``max_attempts`` in a
#: ``retries`` dict counts retries only, so ``3`` there meant 4 attempts).
MAX_ATTEMPTS = 3
#: Least read budget worth starting an attempt with.
MIN_READ = 0.05
#: The longest ``standard``-mode backoff before attempt ``n + 1`` is ``min(1 s * 2**(n-1), 20 s)``
#: (throttling errors; 25-50 ms scale otherwise).
_MAX_BACKOFF = 20.0


#: The service-specific endpoint variables, most specific first (botocore's
#: ``AWS_ENDPOINT_URL_<SERVICE ID>``, then the deprecated ``AWS_ENDPOINT_URL_SECRETSMANAGER``).
endpoint_variables = _endpoints.endpoint_variables


_lock = threading.Lock()
_clients: dict[tuple[str, str | None, str | None], Any] = {}
_overrides: dict[str, Any] = {}


def client(service: str, *, region: str | None = None) -> Any:
    """Return a cached boto3 client for ``service`` (or the injected override).

    Retries use botocore's ``standard`` mode with few attempts: a Lambda behind API Gateway has
    a short budget, and callers hold a cache to fall back on. Timeouts and retries answer to
    the invocation's deadline (see the module docstring).
    """
    override = _overrides.get(service)
    if override is not None:
        return override
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    key = (service, region, endpoint)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            import boto3  # noqa: PLC0415 - deliberately lazy (cold start)
            from botocore.config import Config  # noqa: PLC0415

            config = Config(
                retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
            )
            found = boto3.session.Session().client(service, region_name=region, config=config)
            # botocore calls the handlers of the most specific event name first, then first-
            # registered first: so these run before its retry handler (on needs-retry.<service>)
            # and before moto's in-process stub (on before-send).
            name = found.meta.service_model.service_id.hyphenize()
            events = found.meta.events
            events.register_first(f"before-send.{name}", _before_send, unique_id="auth-core-deadline-send")
            events.register_first(f"needs-retry.{name}", _needs_retry, unique_id="auth-core-deadline-retry")
            _clients[key] = found
    return found


@functools.cache
def deadline_error() -> type[Exception]:
    """The exception the hooks raise: a ``BotoCoreError`` (callers already map those to 503 /
    ``KeyStoreUnavailableError``) that is also a :class:`auth_core.deadline.Exceeded`.
    Built on first use because botocore is imported lazily."""
    from botocore.exceptions import BotoCoreError  # noqa: PLC0415 - loaded with boto3

    class BotoDeadlineError(BotoCoreError, deadline.Exceeded):
        fmt = "{operation}: the invocation's time budget is spent"

    return BotoDeadlineError


def _before_send(request: Any, event_name: str = "", **_kwargs: Any) -> None:
    """botocore ``before-send``: no attempt that cannot finish in time; cap its read timeout."""
    left = deadline.remaining()
    if left is None:
        return
    read_budget = left - CONNECT_TIMEOUT
    if read_budget < MIN_READ:
        error: Any = deadline_error()  # a BotoCoreError: its fields are keyword arguments
        raise error(operation=event_name.rpartition(".")[2] or "AWS call")
    context = getattr(request, "context", None)
    if isinstance(context, dict):
        # botocore's URLLib3Session reads this per request (the pool keeps the connect timeout).
        context["read_timeout"] = min(READ_TIMEOUT, read_budget)


def _needs_retry(attempts: int = 1, caught_exception: object = None, **_kwargs: Any) -> bool | None:
    """botocore ``needs-retry``: ``False`` (no retry) when the deadline cannot afford the longest
    backoff plus one more attempt; ``None`` lets the ``standard`` retry handler decide."""
    if isinstance(caught_exception, deadline.Exceeded):
        return False
    left = deadline.remaining()
    if left is None:
        return None
    longest_backoff = min(2.0 ** (attempts - 1), _MAX_BACKOFF)
    return False if left < longest_backoff + CONNECT_TIMEOUT + MIN_READ else None


def set_client(service: str, value: Any | None) -> None:
    """Inject a client for ``service`` (``None`` removes the override)."""
    if value is None:
        _overrides.pop(service, None)
    else:
        _overrides[service] = value


def reset_clients() -> None:
    """Forget every cached and injected client (tests, or after a moto server restart)."""
    with _lock:
        _clients.clear()
        _overrides.clear()


def injected(service: str) -> bool:
    """Was a client injected for ``service``? The boto3-free paths (``auth_core.aws_json``)
    then step aside, so tests and tools that inject a moto-backed client keep getting it."""
    return service in _overrides


def lean_preferred(service: str) -> bool:
    """Should the boto3-free client (``auth_core.aws_json``) serve ``service`` by default?

    Yes when the credentials are in the environment (Lambda always puts them there), we run
    in a Lambda runtime (``AWS_LAMBDA_FUNCTION_NAME``) or against an explicit endpoint
    (``AWS_ENDPOINT_URL``: the local stack, a moto server), no boto3 client was injected, and
    the shared config file sets no endpoint setting (``use_fips_endpoint``, ``endpoint_url``...:
    the lean client reads the environment's only, :mod:`auth_core._endpoints`). Elsewhere -- a
    developer shell with a profile, in-process ``moto.mock_aws`` tests -- boto3 keeps serving,
    because only botocore knows profiles, SSO, config files and in-process mocks.
    """
    env = os.environ
    if service in _overrides or not (env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY")):
        return False
    wanted = bool(
        env.get("AWS_LAMBDA_FUNCTION_NAME")
        or env.get("AWS_ENDPOINT_URL")
        or any(env.get(name) for name in endpoint_variables(service))
    )
    return wanted and not _endpoints.config_file_sets_endpoints(env)
