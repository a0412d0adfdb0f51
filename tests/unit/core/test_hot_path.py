"""The verifier's lean first-sight path behaves exactly like the straightforward code it replaced.

Each shortcut of the hot path (C scanner called directly, one ``tuple.__new__`` call instead of
the ``AccessTokenClaims`` constructor, claims-only JWS entry point, the key store's kept
reference to its AWSCURRENT cache) is checked here against the reference it stands in for.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auth_core import jws
from auth_core._json import (
    _check_depth,
    _check_strings,
    _finite_float,
    _reject_constant,
    _unique_object,
    loads_object,
)
from auth_core.claims import AccessTokenClaims, ClaimsPolicy, validate_access_token_claims
from auth_core.errors import InvalidClaimError, UnknownKeyError
from auth_core.jwk import JWKSet, generate_signing_key
from auth_core.keystore import PublicKeyStore
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier

ISS, AUD = "https://auth.example.com", "https://api.example.com"

# --------------------------------------------------------------------------- strict JSON
_REFERENCE_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object,
    parse_constant=_reject_constant,
    parse_float=_finite_float,
    strict=True,
)


def _reference_loads(data: bytes) -> dict[str, Any]:
    """``loads_object`` as it was before the hot-path work: ``JSONDecoder.decode``."""
    text = data.decode("utf-8")
    if text[:1] != "{":
        raise ValueError("not an object")
    if text.count("[") + text.count("{") > 32:
        _check_depth(text)
    try:
        obj = _REFERENCE_DECODER.decode(text)
    except RecursionError as exc:
        raise ValueError("deep") from exc
    if "\\u" in text:
        _check_strings(obj)
    return obj


def _outcome(func: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", func(data)
    except ValueError:
        return "ValueError", None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
# JSON whitespace, characters Python's str.strip() would take but JSON does not, and junk.
suffixes = st.text(alphabet=' \t\n\r\x0b\x0c\xa0\u2028x}{,]1"', max_size=4)


@settings(max_examples=400, deadline=None)
@given(
    obj=st.dictionaries(st.text(max_size=6), json_values, max_size=5), suffix=suffixes, cut=st.integers(0, 6)
)
def test_loads_object_matches_the_decode_based_reference(obj: dict[str, Any], suffix: str, cut: int) -> None:
    text = json.dumps(obj, separators=(",", ":") if cut % 2 else (", ", ": "))
    for candidate in (text + suffix, text[: len(text) - cut] + suffix):
        data = candidate.encode("utf-8", "surrogatepass")
        assert _outcome(loads_object, data) == _outcome(_reference_loads, data)


@pytest.mark.parametrize(
    "data",
    [b"{", b'{"a":', b'{"a":}', b'{"a":1,}', b'{"a":1} x', b'{"a":1}\x0c', b'{"a":1}\xc2\xa0', b'{"a":[1,]}'],
)
def test_loads_object_turns_scanner_stops_into_value_errors(data: bytes) -> None:
    # The C scanner raises StopIteration for "no value here": it must surface as a ValueError.
    with pytest.raises(ValueError):
        loads_object(data)
    with pytest.raises(ValueError):
        _reference_loads(data)


# --------------------------------------------------------------------------- claims object
SIGNED = {
    "sub": "alice",
    "client_id": "web",
    "scope": "read write",
    "jti": "j-1",
    "iat": 100,
    "exp": 200,
    "iss": ISS,
    "aud": [AUD],
    "roles": ["reader"],
    "sid": "fam-1",
}
FIELDS = {
    "subject": "alice",
    "client_id": "web",
    "scope": ("read", "write"),
    "jti": "j-1",
    "issued_at": 100,
    "expires_at": 200,
    "issuer": ISS,
    "audience": (AUD,),
    "roles": ("reader",),
    "raw": MappingProxyType(SIGNED),
    "session_id": "fam-1",
    "key_id": "kid-1",
}


def test_fast_claims_object_is_the_constructors_record() -> None:
    fast = validate_access_token_claims(SIGNED, ClaimsPolicy(ISS, AUD), 150, key_id="kid-1")
    slow = AccessTokenClaims(**FIELDS)  # by name: a field out of order in the fast build fails here
    assert type(fast) is AccessTokenClaims
    assert fast == slow
    assert AccessTokenClaims._fields == tuple(FIELDS)
    assert not hasattr(fast, "__dict__")  # no per-instance dict, like the constructor's records
    # the repr the frozen dataclass printed: every field but ``raw``
    assert (
        repr(fast)
        == repr(slow)
        == (
            "AccessTokenClaims(subject='alice', client_id='web', scope=('read', 'write'), jti='j-1', "
            f"issued_at=100, expires_at=200, issuer={ISS!r}, audience=({AUD!r},), roles=('reader',), "
            "session_id='fam-1', key_id='kid-1')"
        )
    )
    with pytest.raises(AttributeError):
        fast.subject = "mallory"  # type: ignore[misc]
    assert fast._replace(subject="bob").subject == "bob"
    assert AccessTokenClaims("s", "c", (), "j", 1, 2, ISS, (AUD,)).raw == {}


def _claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "iss": ISS,
        "sub": "alice",
        "aud": AUD,
        "exp": 1_000_900,
        "iat": 1_000_000,
        "jti": "j",
        "client_id": "web",
        "scope": "read write",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("scope", "expected"),
    [("read write", ("read", "write")), ("", ()), ("  read  write ", ("read", "write")), ("a", ("a",))],
)
def test_scope_split_drops_empty_items_only(scope: str, expected: tuple[str, ...]) -> None:
    claims = validate_access_token_claims(_claims(scope=scope), ClaimsPolicy(ISS, AUD), 1_000_100)
    assert claims.scope == expected


@pytest.mark.parametrize("roles", [None, "reader", ["reader", 1], [["x"]], {"a": 1}, ["a", None]])
def test_roles_must_be_an_array_of_strings_even_when_null(roles: Any) -> None:
    claims = _claims()
    claims["roles"] = roles  # present, even as null
    with pytest.raises(InvalidClaimError):
        validate_access_token_claims(claims, ClaimsPolicy(ISS, AUD), 1_000_100)


def test_absent_roles_and_empty_roles() -> None:
    policy = ClaimsPolicy(ISS, AUD)
    assert validate_access_token_claims(_claims(), policy, 1_000_100).roles == ()
    assert validate_access_token_claims({**_claims(), "roles": []}, policy, 1_000_100).roles == ()
    claims = validate_access_token_claims({**_claims(), "aud": [AUD, "x"]}, policy, 1_000_100)
    assert claims.audience == (AUD, "x")


# --------------------------------------------------------------------------- JWS entry points
@pytest.fixture(scope="module")
def signed() -> tuple[str, JWKSet]:
    key = generate_signing_key("ES256")
    token = AccessTokenIssuer(ISS, AUD, 900).issue(key, subject="alice", client_id="web", scope="read").token
    return token, JWKSet.from_keys([key.public_key()])


def test_verify_claims_equals_verify_compact(signed: tuple[str, JWKSet]) -> None:
    token, keys = signed
    header, claims = jws.verify_compact(token, keys)
    assert jws.verify_claims(token, keys) == claims
    assert header["alg"] == "ES256"


def test_verify_compact_hands_out_a_copy_of_the_cached_header(signed: tuple[str, JWKSet]) -> None:
    token, keys = signed
    header, _ = jws.verify_compact(token, keys)
    header["alg"] = "none"
    header["kid"] = "other"
    again, _ = jws.verify_compact(token, keys)
    assert again["alg"] == "ES256"
    assert again["kid"] != "other"
    assert AccessTokenVerifier(ClaimsPolicy(ISS, AUD), keys).verify(token).subject == "alice"


# --------------------------------------------------------------------------- key store
def test_public_key_store_hot_path_survives_clear(signed: tuple[str, JWKSet]) -> None:
    """The store keeps its AWSCURRENT cache object; clear() must still force a refetch."""
    _, keys = signed
    text = json.dumps(keys.to_dict())
    calls: list[str] = []

    def fetch(secret_id: str, stage: str) -> str:
        calls.append(stage)
        return text

    store = PublicKeyStore("s", fetch=fetch, refresh_min_interval=0)
    kid = next(iter(keys.kids))
    assert store.get_verification_key(kid).kid == kid
    assert store.get_verification_key(kid).kid == kid
    assert calls == ["AWSCURRENT"]
    store.clear()
    assert store.get_verification_key(kid).kid == kid
    assert calls == ["AWSCURRENT", "AWSCURRENT"]
    assert store.jwks().kids == keys.kids
    with pytest.raises(UnknownKeyError):
        store.get_verification_key("nope")
    assert calls == ["AWSCURRENT"] * 3  # one rate-limited refetch for the unknown kid


# --------------------------------------------------------------------------- HTTP functions' imports
def test_http_functions_import_no_powertools_event_handler() -> None:
    """Issue 11: the HTTP functions route with ``auth_core.http.Router``, not Powertools'
    ``event_handler`` (+36 ms CPU of cold import, see ``bench/bench_cold.py``): none of its
    modules is loaded, even after a request; Logger and Metrics stay Powertools'. The package is
    left untouched, so any of its names still imports normally."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from auth_core.http import HttpFunction, Response, Router, json_response\n"
        "fn = HttpFunction.create('probe')\n"
        "fn.app.get('/x')(lambda: json_response(200, {}))\n"
        "assert Response(status_code=200, body='x').status_code == 200\n"
        "event = {'rawPath': '/x', 'requestContext': {'http': {'method': 'GET'}, 'stage': '$default'}}\n"
        "assert fn.app.resolve(event, None)['statusCode'] == 200\n"
        "eh = 'aws_lambda_powertools.event_handler'\n"
        "assert not any(m == eh or m.startswith(eh + '.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith(eh))\n"
        "assert 'aws_lambda_powertools.logging.logger' in sys.modules\n"
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, AppSyncResolver\n"
        "from aws_lambda_powertools.event_handler import content_types\n"
        "assert type(fn.app) is Router and AppSyncResolver.__name__ == 'AppSyncResolver'\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
