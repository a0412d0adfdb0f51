"""Scope arithmetic (RFC 6749 §3.3): space-delimited, case-sensitive, order-insensitive sets."""

from __future__ import annotations

import re
from collections.abc import Iterable

from auth_core.errors import InvalidScopeError

__all__ = ["format_scope", "resolve_scope"]

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}")


def resolve_scope(
    requested: str | None, allowed: Iterable[str], default: Iterable[str] | None = None
) -> tuple[str, ...]:
    """The granted scope: ``requested`` if it is a subset of ``allowed``.

    Without ``scope`` in the request: ``default`` (restricted to ``allowed``) when given -- a
    client's configured default scopes, none unless set: least privilege -- else everything
    ``allowed`` (a refresh: the session's scope, RFC 6749 §6). The result keeps ``allowed``'s
    order (stable tokens and responses).

    :raises InvalidScopeError: malformed, or asks for something not allowed.
    """
    allowed_t = tuple(dict.fromkeys(allowed))
    if requested is None:
        if default is None:
            return allowed_t
        wanted_default = set(default)
        return tuple(s for s in allowed_t if s in wanted_default)
    wanted = requested.split(" ")
    if not all(_TOKEN.fullmatch(s) for s in wanted):
        raise InvalidScopeError(reason="scope_format")
    if not set(wanted) <= set(allowed_t):
        raise InvalidScopeError(reason="scope_not_allowed")
    return tuple(s for s in allowed_t if s in set(wanted))


def format_scope(scope: Iterable[str]) -> str:
    return " ".join(scope)
