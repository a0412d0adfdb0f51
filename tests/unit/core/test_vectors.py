"""Every vector of ``vectors/jws-vectors.json`` (a copy of our research data) at its layer.

Layers (see the file's ``description``): ``jws-signature`` = signature check with an
allow-list of exactly ``[alg]``; ``jws-parse`` = structural/header rules; ``key-selection`` =
kid handling; ``jwt-claims`` = signature valid, claims invalid.

Policy for algorithms we do not implement. Our verifier refuses HS256 entirely (access tokens
are asymmetric only; an HMAC code path is what the alg-confusion CVEs exploit), and ES512/PS384
too. For a vector that is *valid* with such an algorithm we assert both halves: an
independent check proves the vector (a raw HMAC over the signing input for HS256, joserfc
for ES512/PS384), and our verifier rejects it with ``UnsupportedAlgorithmError``.

HS256-signed *negative* vectors would all be rejected by that alg rule alone, so the rule each
one is about is also tested on a variant re-signed with our ES256 key over the same header
and payload bytes ("HS256" swapped for "ES256" in the header bytes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from auth_core._b64 import b64url_decode, b64url_encode
from auth_core.errors import (
    ForbiddenHeaderError,
    InvalidSignatureError,
    KeyFormatError,
    MalformedTokenError,
    TokenError,
    UnknownKeyError,
    UnsupportedAlgorithmError,
    WrongTokenTypeError,
)
from auth_core.jwk import JWKSet, load_verification_key
from auth_core.jws import parse_header, verify_signature

from .tokenkit import K_CUR, P0, verifier, with_kid

VECTORS = json.loads((Path(__file__).parent / "vectors" / "jws-vectors.json").read_text())["vectors"]
OURS = {"RS256", "PS256", "ES256", "EdDSA"}


def by_layer(layer: str, valid: bool | None = None) -> list:
    return [
        pytest.param(v, id=v["name"])
        for v in VECTORS
        if v["layer"] == layer and (valid is None or v["expected_valid"] is valid)
    ]


def vector_key(vector: dict):
    """The vector's public key bound to the vector's alg, or None if we cannot hold such a key."""
    if not (vector.get("jwk") or {}).get("public"):
        return None
    try:
        return load_verification_key({**vector["jwk"]["public"], "kid": "vector", "alg": vector["alg"]})
    except KeyFormatError:
        return None


def hmac_valid(token: str, secret_b64: str) -> bool:
    signing_input, _, sig = token.rpartition(".")
    mac = hmac.new(b64url_decode(secret_b64), signing_input.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(mac, b64url_decode(sig))


def resign_es256(header_bytes: bytes, payload_segment: str) -> str:
    """Same header bytes (alg swapped to ES256) and payload segment, signed by K_CUR."""
    header_segment = b64url_encode(header_bytes.replace(b'"HS256"', b'"ES256"'))
    signing_input = f"{header_segment}.{payload_segment}"
    return f"{signing_input}.{b64url_encode(K_CUR.sign(signing_input.encode()))}"


def test_the_copy_is_complete():
    assert len(VECTORS) == 88
    assert {v["layer"] for v in VECTORS} == {"jws-signature", "jws-parse", "key-selection", "jwt-claims"}


# ------------------------------------------------------------------------ jws-signature, valid
@pytest.mark.parametrize("vector", by_layer("jws-signature", valid=True))
def test_valid_signature_vectors(vector):
    token, alg = vector["token"], vector["alg"]
    if alg in OURS:
        key = vector_key(vector)
        assert key is not None
        header, payload = verify_signature(token, key)
        assert header["alg"] == alg
        if "payload" in vector:
            assert payload == vector["payload"].encode()
        # RFC tokens carry no kid and no at+jwt typ: never acceptable as access tokens.
        with pytest.raises(WrongTokenTypeError):
            verifier(keys=JWKSet.from_keys([key])).verify(token)
        return
    if alg == "HS256":
        assert hmac_valid(token, vector["jwk"]["private"]["k"])  # the vector is genuine...
    else:  # ES512 / PS384: proven by an independent implementation
        from joserfc import jws
        from joserfc.jwk import import_key

        jws.deserialize_compact(token, import_key(vector["jwk"]["public"]), algorithms=[alg])
    # ...and our verifier refuses the algorithm at every entry point.
    with pytest.raises(UnsupportedAlgorithmError):
        verify_signature(token, K_CUR.public_key())
    with pytest.raises(UnsupportedAlgorithmError):
        parse_header(token)
    with pytest.raises(KeyFormatError):  # nor can a key be bound to it
        load_verification_key({**vector["jwk"]["public"], "kid": "v", "alg": alg})


# ------------------------------------------------------------------------ jws-signature, invalid
_REASON_CLASS = {
    "bad signature": InvalidSignatureError,
    "not allowed": UnsupportedAlgorithmError,
    "not base64url": MalformedTokenError,
    "non-canonical base64url": MalformedTokenError,
}


@pytest.mark.parametrize("vector", by_layer("jws-signature", valid=False))
def test_invalid_signature_vectors(vector):
    token = vector["token"]
    key = vector_key(vector)
    with pytest.raises(TokenError) as info:
        verify_signature(token, key or K_CUR.public_key())
    reason = vector.get("reference_verifier_reason") or ""
    expected = next((cls for text, cls in _REASON_CLASS.items() if text in reason), MalformedTokenError)
    # Our order of checks: structure (an empty signature segment is malformed) comes first,
    # then the alg rule, which already stops every HS256 token.
    allowed = {expected}
    if token.endswith("."):
        allowed = {MalformedTokenError}
    elif '"HS256"' in _header_text(token):
        allowed.add(UnsupportedAlgorithmError)
    if key is not None:  # with a stand-in key only "rejected" is meaningful
        assert type(info.value) in allowed, type(info.value).__name__
    with pytest.raises(TokenError):
        verifier(keys=JWKSet.from_keys([with_kid_public(key or K_CUR.public_key())])).verify(token)


def _header_text(token: str) -> str:
    try:
        return b64url_decode(token.split(".")[0]).decode("utf-8", "replace")
    except ValueError:
        return ""


def with_kid_public(key):
    return load_verification_key({**key.to_jwk(), "kid": "vector"})


def test_key_bound_to_es384_cannot_exist():
    """es256-sig-on-es384-verifier: the scenario needs a P-256 key bound to another alg: refused."""
    vector = next(v for v in VECTORS if v["name"] == "es256-sig-on-es384-verifier")
    assert vector_key(vector) is None


def test_malleated_twin_and_original_both_verify():
    original = next(v for v in VECTORS if v["name"] == "rfc7515-A.3-ES256")
    twin = next(v for v in VECTORS if v["name"] == "es256-malleated-s-complement")
    key = vector_key(original)
    assert verify_signature(original["token"], key)[1] == verify_signature(twin["token"], key)[1]


# ------------------------------------------------------------------------ jws-parse
_PARSE_REASON_CLASS = {
    "crit": ForbiddenHeaderError,
    "forbidden header": ForbiddenHeaderError,
    "duplicate": MalformedTokenError,
    "not an object": MalformedTokenError,
    "NaN": MalformedTokenError,
    "bad JSON": MalformedTokenError,
    "BOM": MalformedTokenError,
    "segments": MalformedTokenError,
    "bad signature": MalformedTokenError,  # the detached-payload case: empty segment
}


@pytest.mark.parametrize("vector", by_layer("jws-parse"))
def test_parse_vectors(vector):
    assert vector["expected_valid"] is False
    token = vector["token"]
    with pytest.raises(TokenError):
        parse_header(token)
    with pytest.raises(TokenError):
        verify_signature(token, K_CUR.public_key())
    if "header_bytes_b64url" not in vector:
        with pytest.raises(MalformedTokenError):
            parse_header(token)
        return
    # The same header bytes under an algorithm we support: the header rule alone must reject.
    reason = vector["reference_verifier_reason"]
    expected = next(cls for text, cls in _PARSE_REASON_CLASS.items() if text in reason)
    variant = resign_es256(b64url_decode(vector["header_bytes_b64url"]), token.split(".")[1])
    with pytest.raises(expected):
        verify_signature(variant, K_CUR.public_key())


# ------------------------------------------------------------------------ key-selection
K1 = with_kid(K_CUR, "k1")


@pytest.mark.parametrize("vector", by_layer("key-selection"))
def test_key_selection_vectors(vector):
    """The set holds one key under kid ``k1``; the hostile kid must never select anything."""
    keys = JWKSet.from_keys([K1.public_key()])
    token = vector["token"]
    with pytest.raises(TokenError):
        verifier(keys=keys).verify(token)
    # Same kid, re-signed as a well-formed access token with the trusted key itself: the kid
    # lookup (exact, in memory) is the only thing that can reject it.
    kid = json.loads(b64url_decode(token.split(".")[0]))["kid"]
    header = {"alg": "ES256", "typ": "at+jwt", "kid": kid}
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(P0).encode())}"
    variant = f"{signing_input}.{b64url_encode(K1.sign(signing_input.encode()))}"
    expected = UnknownKeyError if kid and " " not in kid else MalformedTokenError
    with pytest.raises(expected):
        verifier(keys=keys).verify(variant)


# ------------------------------------------------------------------------ jwt-claims
@pytest.mark.parametrize("vector", by_layer("jwt-claims"))
def test_claims_vectors(vector):
    token = vector["token"]
    assert hmac_valid(token, vector["jwk"]["private"]["k"])  # the signature really is valid
    # HS256 is refused; a token over the 8 KiB cap is refused before that.
    with pytest.raises(MalformedTokenError if len(token) > 8192 else UnsupportedAlgorithmError):
        verifier().verify(token)
    # The exact payload bytes, signed by our trusted key under a valid access-token header.
    variant = resign_es256(b'{"alg":"ES256","typ":"at+jwt","kid":"k-cur"}', vector["payload_bytes_b64url"])
    assert variant.split(".")[1] == token.split(".")[1]
    with pytest.raises(MalformedTokenError):
        verifier().verify(variant)
