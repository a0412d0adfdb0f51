"""Logging and metrics for every function: Powertools Logger and Metrics, with redaction.

Secrets, tokens and hashes never reach logs. Handlers do not log events (no
``POWERTOOLS_LOGGER_LOG_EVENT``); on top of that, :class:`RedactingFilter` scrubs any record
field whose *name* says it holds a credential, at any depth, before it is formatted.
Powertools is imported on first use, so a function that never logs pays nothing for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

__all__ = ["SENSITIVE_KEYS", "RedactingFilter", "get_logger", "get_metrics", "redact"]

#: lower-cased field names whose values are never logged.
SENSITIVE_KEYS = frozenset(
    {
        "password",
        "new_password",
        "client_secret",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "authorization",
        "authorizationtoken",
        "cookie",
        "password_hash",
        "secret_hash",
        "token_hash",
        "private_key",
        "d",
        "p",
        "q",
        "dp",
        "dq",
        "qi",
        "k",
        "body",
        "secretstring",
    }
)
REDACTED = "***"


def _is_record(value: object) -> bool:
    """A ``NamedTuple`` record (``IssuedToken``, ``AccessTokenClaims``...): shown by its ``repr``,
    which leaves out what must not be logged; as a tuple the JSON formatter would write every
    field (the token itself)."""
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def redact(value: Any, _depth: int = 0) -> Any:
    """Return ``value`` with every sensitive mapping entry replaced by ``***`` (recursive);
    a record becomes its ``repr``."""
    if _depth > 8:
        return REDACTED
    if _is_record(value):
        return repr(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if str(k).lower() in SENSITIVE_KEYS else redact(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, _depth + 1) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Scrub sensitive ``extra=`` fields of a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(record.__dict__):
            if key.lower() in SENSITIVE_KEYS:
                record.__dict__[key] = REDACTED
            elif isinstance(record.__dict__[key], Mapping) or _is_record(record.__dict__[key]):
                record.__dict__[key] = redact(record.__dict__[key])
        return True


_loggers: dict[str, Any] = {}
_metrics: dict[str, Any] = {}


def get_logger(service: str) -> Any:
    """A Powertools ``Logger`` for ``service`` with :class:`RedactingFilter` installed (cached)."""
    found = _loggers.get(service)
    if found is None:
        from aws_lambda_powertools import Logger  # noqa: PLC0415 - lazy: cold start

        found = Logger(service=service)
        found.addFilter(RedactingFilter())
        _loggers[service] = found
    return found


def get_metrics(namespace: str = "ServerlessJwtAuth", service: str = "auth") -> Any:
    """A Powertools ``Metrics`` (EMF) for ``service`` (cached)."""
    key = f"{namespace}/{service}"
    found = _metrics.get(key)
    if found is None:
        from aws_lambda_powertools import Metrics  # noqa: PLC0415 - lazy: cold start

        found = Metrics(namespace=namespace, service=service)
        _metrics[key] = found
    return found
