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
from auth_core.redaction import REDACTED, SENSITIVE_KEYS, is_record, redact

__all__ = ["SENSITIVE_KEYS", "RedactingFilter", "get_logger", "get_metrics", "redact"]


class RedactingFilter(logging.Filter):
    """Scrub sensitive ``extra=`` fields of a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(record.__dict__):
            if key.lower() in SENSITIVE_KEYS:
                record.__dict__[key] = REDACTED
            elif isinstance(record.__dict__[key], Mapping) or is_record(record.__dict__[key]):
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
