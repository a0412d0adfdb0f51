"""What a log line may show of a value: credentials by name never, records by their ``repr``.

One rule for every writer: the functions' Powertools loggers (:mod:`auth_core.observability`)
and the authorizer's own line writer (:mod:`auth_core.authorizer.telemetry`). It lives apart from
both because the authorizer's cold path must not import ``logging`` or Powertools for it: this
module needs nothing the interpreter has not loaded already.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "SENSITIVE_KEYS", "redact"]

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
    which leaves out what must not be logged; as a tuple a JSON encoder would write every field
    (the token itself)."""
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
