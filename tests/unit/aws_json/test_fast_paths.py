"""The authorizer's first-sight fast paths accept and produce exactly what the plain code did.

Speed work must not change a decision: each fast path is compared with a straightforward
reference implementation over generated inputs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from auth_core.authorizer.bearer import parse_bearer
from auth_core.authorizer.context import CONTEXT_BUDGET, build_context
from auth_core.authorizer.telemetry import quote, quote_value
from auth_core.claims import AccessTokenClaims
from auth_core.errors import TokenError

_REFERENCE_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)", re.ASCII)
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*", re.ASCII)
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="


def _reference_bearer(value: object) -> str:
    """RFC 6750 §2.1 as the original implementation read it: one regex over the trimmed value."""
    if not isinstance(value, str) or not value.strip(" \t"):
        return "error:missing_token"
    if len(value) > 8192:
        return "error:bad_bearer"
    match = _REFERENCE_BEARER.fullmatch(value.strip(" \t"))
    return match.group(1) if match else "error:bad_bearer"


def _ours(value: object, known: frozenset[str] = frozenset()) -> str:
    try:
        return parse_bearer(value, known=known)
    except TokenError as exc:
        return f"error:{exc.reason}"


schemes = st.sampled_from(
    ["Bearer", "bearer", "BEARER", "BeArEr", "Basic", "Bearer\t", "Bearerx", "Beare", "ᴮearer"]
)
tokens = st.text(alphabet=_B64 + " \t,é\u212a\x00", max_size=40)
spaces = st.text(alphabet=" \t", max_size=3)


@settings(max_examples=400, deadline=None)
@given(
    lead=spaces, scheme=schemes, sep=st.sampled_from(["", " ", "  ", "\t", " \t"]), token=tokens, trail=spaces
)
def test_bearer_fast_path_is_the_reference_language(
    lead: str, scheme: str, sep: str, token: str, trail: str
) -> None:
    value = f"{lead}{scheme}{sep}{token}{trail}"
    expected = _reference_bearer(value)
    assert _ours(value) == expected
    # With the candidate "known" (the verified-token cache, which only ever holds tokens that
    # passed the grammar), the answer is the same.
    known = frozenset(t for t in (value.strip(" \t")[7:].lstrip(" "), token) if _B64TOKEN.fullmatch(t))
    assert _ours(value, known) == expected


@given(st.text())
def test_bearer_any_text(value: str) -> None:
    assert _ours(value) == _reference_bearer(value)


def _reference_context(
    claims: Any, extra: tuple[str, ...], json_values: bool
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The original algorithm: collect, then keep claims in order while the JSON fits."""
    from auth_core.authorizer.context import flatten_value

    context: dict[str, Any] = {
        "sub": claims.subject,
        "client_id": claims.client_id,
        "scope": " ".join(claims.scope),
        "jti": claims.jti,
    }
    candidates: dict[str, Any] = {}
    for name in extra:
        if name in context or name in candidates or name not in claims.raw:
            continue
        value = claims.raw[name] if json_values else flatten_value(claims.raw[name])
        if value is not None:
            candidates[name] = value
    merged = {**context, **candidates}
    if len(json.dumps(merged, separators=(",", ":"))) <= CONTEXT_BUDGET:
        return merged, ()
    used = len(json.dumps(context, separators=(",", ":")))
    dropped: list[str] = []
    for name, value in candidates.items():
        cost = len(json.dumps(name)) + len(json.dumps(value, separators=(",", ":"))) + 2
        if used + cost > CONTEXT_BUDGET:
            dropped.append(name)
            continue
        context[name] = value
        used += cost
    return context, tuple(dropped)


claim_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=1500),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(
    raw=st.dictionaries(
        st.sampled_from(["roles", "org", "groups", "sub", "tenant", "x"]), claim_values, max_size=5
    ),
    extra=st.lists(st.sampled_from(["roles", "org", "groups", "sub", "tenant", "missing"]), max_size=5),
    json_values=st.booleans(),
    sub=st.text(min_size=1, max_size=300),
)
def test_context_fast_path_matches_reference(
    raw: dict[str, Any], extra: list[str], json_values: bool, sub: str
) -> None:
    claims = AccessTokenClaims(
        subject=sub,
        client_id="web",
        scope=("read", "write"),
        jti="j1",
        issued_at=1,
        expires_at=2,
        issuer="https://i",
        audience=("a",),
        raw=raw,
    )
    ours = build_context(claims, tuple(extra), json_values=json_values)
    reference = _reference_context(claims, tuple(extra), json_values)
    # Same kept claims, same order, same dropped names.
    assert list(ours[0].items()) == list(reference[0].items())
    assert ours[1] == reference[1]
    assert len(json.dumps(ours[0], separators=(",", ":"))) <= CONTEXT_BUDGET


@given(st.text())
def test_quote_value_is_json_and_escapes_everything(value: str) -> None:
    encoded = quote_value(value)
    assert json.loads(encoded) == value
    assert encoded == quote(value) == json.dumps(value)
    assert "\n" not in encoded and encoded.isascii()
