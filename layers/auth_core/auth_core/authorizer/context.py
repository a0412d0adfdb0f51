"""The authorizer context handed to the backend: typed, flattened, bounded.

REST APIs and IAM-policy responses accept only string, number and boolean context values; a
nested list or object makes API Gateway fail the request with ``AuthorizerConfigurationException``
(a 500 the caller cannot explain). So for those, lists of scalars become space-joined strings
(the ``scope`` convention) and anything else becomes compact JSON text. HTTP API payload 2.0
simple responses accept JSON values and get them as they are.

The context is bounded (:data:`CONTEXT_BUDGET` bytes of JSON) because it travels with every
request and is cached with the policy: the four core fields are always present, configured
claims are added in order while they fit, and the rest are dropped (and named in the log).
Only verified claims go in; never a header field (``kid``, ``typ``) and never the token.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

__all__ = ["CONTEXT_BUDGET", "ContextClaims", "build_context", "flatten_value"]

#: Upper bound of the JSON-encoded context, bytes.
CONTEXT_BUDGET = 4096

_COMPACT = (",", ":")
#: ASCII-escaping encoder: its output length is an upper bound of the UTF-8 size, so budget
#: checks stay conservative without encoding to bytes. Built once (``json.dumps`` with
#: ``separators`` builds a new encoder per call).
_ENCODE = json.JSONEncoder(separators=_COMPACT).encode


class ContextClaims(Protocol):
    """The verified-claims fields the context is made of (``AccessTokenClaims`` has them)."""

    @property
    def subject(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def scope(self) -> tuple[str, ...]: ...
    @property
    def jti(self) -> str: ...
    @property
    def raw(self) -> Mapping[str, Any]: ...


# Tuples, not ``str | int`` unions: a union in ``isinstance`` is built anew on every call
# (~0.3 µs each), and these run on every first-sight token.
_SCALARS = (str, bool, int, float)
_NUMBERS = (bool, int, float)
_JOINABLE = (str, int, float)
_SEQUENCES = (list, tuple)


def flatten_value(value: object) -> str | int | float | bool | None:
    """A claim value as a REST-safe context value (``None``: leave the claim out)."""
    if value is None:
        return None
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, _SEQUENCES):
        try:
            return " ".join(value)  # the common case (roles, groups): strings only
        except TypeError:
            pass
        if all(isinstance(v, _JOINABLE) and not isinstance(v, bool) for v in value):
            return " ".join(str(v) for v in value)
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False, sort_keys=True)


def _bound(key: str, value: object) -> int:
    """Upper bound of ``"key":value,`` encoded: every string character escaped (6 bytes),
    numbers as ``repr``; -1 when the value is not a scalar (then encode to know)."""
    if isinstance(value, str):
        return 6 * (len(key) + len(value)) + 6
    if value is None or isinstance(value, _NUMBERS):
        return 6 * len(key) + len(repr(value)) + 6
    return -1


def _fits_without_encoding(items: dict[str, Any], budget: int) -> bool:
    """A cheap upper bound of the encoded size of ``items`` is within ``budget``."""
    total = 2
    for key, value in items.items():
        cost = _bound(key, value)
        if cost < 0:
            return False
        total += cost
    return total <= budget


def _size(key: str, value: object) -> int:
    # Cost of ``"key":value,`` in the encoded context (upper bound, see _ENCODE).
    return len(_ENCODE(key)) + len(_ENCODE(value)) + 2


def build_context(
    claims: ContextClaims,
    extra: Iterable[str],
    *,
    json_values: bool,
    budget: int = CONTEXT_BUDGET,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Build the context and return it with the names of claims left out for size.

    :param extra: claim names to copy (``CONTEXT_CLAIMS``), in priority order.
    :param json_values: keep JSON values as they are (HTTP API 2.0 simple responses only).
    """
    sub, client_id, scope, jti = claims.subject, claims.client_id, " ".join(claims.scope), claims.jti
    context: dict[str, Any] = {"sub": sub, "client_id": client_id, "scope": scope, "jti": jti}
    # The cheap upper bound of _fits_without_encoding, kept while collecting (-1: must encode).
    # The four keys are 20 characters.
    bound = 2 + 6 * (20 + len(sub) + len(client_id) + len(scope) + len(jti)) + 4 * 6
    raw = claims.raw
    candidates: dict[str, Any] = {}
    for name in extra:
        if name in context or name in candidates or name not in raw:
            continue
        value = raw[name] if json_values else flatten_value(raw[name])
        if value is not None:
            candidates[name] = value
            if bound >= 0:
                cost = _bound(name, value)
                bound = -1 if cost < 0 else bound + cost
    if 0 <= bound <= budget:
        # The common case, no encode at all: everything fits.
        context.update(candidates)
        return context, ()
    merged = {**context, **candidates}
    if _fits_without_encoding(merged, budget) or len(_ENCODE(merged)) <= budget:
        # The common case, at most one encode: everything fits.
        return merged, ()
    used = len(_ENCODE(context))
    dropped: list[str] = []
    for name, value in candidates.items():
        cost = _size(name, value)
        if used + cost > budget:
            dropped.append(name)
            continue
        context[name] = value
        used += cost
    return context, tuple(dropped)
