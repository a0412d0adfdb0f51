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

# The rule itself lives in a module the authorizer's line writer imports too (no ``logging``).
from auth_core.redaction import REDACTED, SENSITIVE_KEYS, redact

__all__ = ["SENSITIVE_KEYS", "RedactingFilter", "get_logger", "get_metrics", "redact"]


#: A log record's own attributes (``args``, ``exc_info``...): the formatter needs them as they are.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Scrub sensitive ``extra=`` fields of a record before any handler formats it: a field named
    like a credential, and inside any mapping, list, tuple or record, at any depth."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.__dict__
        for key in list(fields):
            value = fields[key]
            if key.lower() in SENSITIVE_KEYS:
                fields[key] = REDACTED
            elif isinstance(value, Mapping) or (
                # a record's own tuples (``args``, ``exc_info``) must stay tuples for the formatter
                key not in _RECORD_ATTRIBUTES and isinstance(value, list | tuple)
            ):
                fields[key] = redact(value)  # a record (a NamedTuple) becomes its repr
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
