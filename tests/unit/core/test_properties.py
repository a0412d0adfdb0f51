"""Property tests: whatever the input, the verifier returns claims only for a genuine token
and otherwise raises a TokenError, never anything else (no ValueError, KeyError, TypeError,
RecursionError, UnicodeError, OverflowError...)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from auth_core._b64 import b64url_decode, b64url_encode
from auth_core._json import loads_object
from auth_core.errors import TokenError

from .tokenkit import K_CUR, K_ED, K_RSA, claims, header, sign, verifier

GENUINE = {
    "ES256": sign(),
    "EdDSA": sign(header(alg="EdDSA", kid="k-ed"), key=K_ED),
    "RS256": sign(header(alg="RS256", kid="k-rsa"), key=K_RSA),
}
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(token: object) -> object:
    """'accepted' claims or the TokenError class; anything else propagates and fails the test."""
    try:
        return verifier().verify(token)  # type: ignore[arg-type]
    except TokenError as exc:
        return type(exc)


@PROFILE
@given(st.text(max_size=400))
@example("")
@example("..")
@example("a.b.c")
@example("\x00.\x00.\x00")
def test_any_string_is_rejected_cleanly(text):
    assert isinstance(outcome(text), type)


@PROFILE
@given(st.lists(st.text(alphabet=B64_ALPHABET, max_size=60), min_size=1, max_size=5))
def test_any_base64url_shaped_string_is_rejected_cleanly(segments):
    assert isinstance(outcome(".".join(segments)), type)


mutation = st.tuples(
    st.sampled_from(sorted(GENUINE)),
    st.integers(min_value=0),
    st.sampled_from(["replace", "delete", "insert", "swap"]),
    st.characters(codec="utf-8") | st.sampled_from(B64_ALPHABET + ".=+/ \n"),
)


@PROFILE
@given(mutation)
def test_character_mutations_of_a_genuine_token_are_rejected(params):
    alg, position, kind, char = params
    token = GENUINE[alg]
    i = position % len(token)
    if kind == "replace":
        mutated = token[:i] + char + token[i + 1 :]
    elif kind == "delete":
        mutated = token[:i] + token[i + 1 :]
    elif kind == "insert":
        mutated = token[:i] + char + token[i:]
    else:
        j = (i + 1) % len(token)
        chars = list(token)
        chars[i], chars[j] = chars[j], chars[i]
        mutated = "".join(chars)
    result = outcome(mutated)
    if mutated == token:
        assert not isinstance(result, type)
    else:
        assert isinstance(result, type), "a modified token was accepted"


@PROFILE
@given(st.sampled_from(sorted(GENUINE)), st.integers(0, 2), st.integers(min_value=0), st.integers(0, 7))
def test_bit_flips_in_decoded_segments_are_rejected(alg, segment, position, bit):
    """Flip one bit of the decoded header, payload or signature and re-encode canonically."""
    parts = GENUINE[alg].split(".")
    raw = bytearray(b64url_decode(parts[segment]))
    raw[position % len(raw)] ^= 1 << bit
    parts[segment] = b64url_encode(bytes(raw))
    assert isinstance(outcome(".".join(parts)), type)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
CLAIM_NAMES = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "roles"]


@PROFILE
@given(st.dictionaries(st.sampled_from(CLAIM_NAMES), json_values, max_size=6))
def test_signed_claims_of_any_json_type_never_crash(overrides):
    """Genuinely signed by the trusted key, but claims of arbitrary JSON types."""
    token = sign(payload=claims(**overrides))
    result = outcome(token)
    if not isinstance(result, type):  # accepted: then the claims really are well-formed
        raw = result.raw
        assert type(raw["sub"]) is str and raw["sub"] and raw["iss"] == claims()["iss"]


HEADER_NAMES = ["alg", "typ", "kid", "crit", "jwk", "x", "cty"]


@PROFILE
@given(st.dictionaries(st.sampled_from(HEADER_NAMES), json_values, max_size=4))
def test_signed_headers_of_any_json_type_never_crash(overrides):
    result = outcome(sign(header(**overrides)))
    if not isinstance(result, type):
        assert header(**overrides)["alg"] == "ES256"


@PROFILE
@given(st.binary(max_size=200))
def test_signed_arbitrary_payload_bytes_never_crash(payload):
    assert isinstance(outcome(sign(payload=payload)), type)


@PROFILE
@given(st.binary(max_size=200))
def test_strict_json_raises_only_value_error(data):
    try:
        obj = loads_object(data)
    except ValueError:
        return
    assert type(obj) is dict
    assert json.loads(data.decode("utf-8")) == obj


def test_genuine_tokens_are_accepted():
    for token in GENUINE.values():
        assert verifier().verify(token).subject == "user-123"
    assert K_CUR.kid == "k-cur"
