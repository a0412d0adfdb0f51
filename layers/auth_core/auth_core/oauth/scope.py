"""Scope arithmetic (RFC 6749 §3.3): space-delimited, case-sensitive, order-insensitive sets."""

from __future__ import annotations

import re
from collections.abc import Iterable

from auth_core.errors import InvalidScopeError

__all__ = ["format_scope", "resolve_scope"]

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}")


def resolve_scope(requested: str | None, allowed: Iterable[str]) -> tuple[str, ...]:
    """The granted scope: ``requested`` if it is a subset of ``allowed``, else the allowed set.

    The result keeps ``allowed``'s order (stable tokens and responses).

    :raises InvalidScopeError: malformed, or asks for something not allowed.
    """
    allowed_t = tuple(dict.fromkeys(allowed))
    if requested is None:
        return allowed_t
    wanted = requested.split(" ")
    if not all(_TOKEN.fullmatch(s) for s in wanted):
        raise InvalidScopeError(reason="scope_format")
    if not set(wanted) <= set(allowed_t):
        raise InvalidScopeError(reason="scope_not_allowed")
    return tuple(s for s in allowed_t if s in set(wanted))


def format_scope(scope: Iterable[str]) -> str:
    return " ".join(scope)
