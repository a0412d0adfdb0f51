"""One table of algorithms (issue 12): everything that knows an algorithm reads auth_core.jwa.

The test of "one table" is that a new entry is all it takes: an ES384 entry (P-384, SHA-384,
96-octet signatures) added to the registry in the test signs, exports, imports and verifies
through the ordinary code paths, and its out-of-range signatures are refused like ES256's. On
the old code ES256 was wired to P-256 in every function, so this failed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from auth_core import algorithms, jwa, jwk, settings
from auth_core.errors import InvalidSignatureError, KeyFormatError
from auth_core.jwk import generate_signing_key, jwk_thumbprint, load_signing_key, load_verification_key

P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
)


def test_every_fact_about_algorithms_comes_from_the_registry() -> None:
    assert algorithms.ALGORITHMS == jwa.ALGORITHMS == tuple(jwa.REGISTRY)
    assert settings.SIGNING_ALGORITHMS == jwa.ALGORITHMS
    assert {name: spec.kty for name, spec in jwa.REGISTRY.items()} == algorithms.KTY_FOR_ALG
    assert "none" not in jwa.REGISTRY and not any(name.startswith("HS") for name in jwa.REGISTRY)


@pytest.mark.parametrize("alg", jwa.ALGORITHMS)
def test_each_entry_round_trips_through_jwk_and_verifies(alg: str) -> None:
    spec = jwa.REGISTRY[alg]
    key = generate_signing_key(alg)
    private = load_signing_key(key.to_private_jwk())
    public = load_verification_key(key.to_public_jwk())
    assert public.to_jwk()["kty"] == spec.kty and public.kid == jwk_thumbprint(public.to_jwk())
    if spec.crv is not None:
        assert public.to_jwk()["crv"] == spec.crv
    signature = private.sign(b"input")
    if spec.signature_octets is not None:
        assert len(signature) == spec.signature_octets
    public.verify(signature, b"input")


@pytest.fixture
def es384(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An ES384 entry, added the way a contributor would: registry, curve, primitives."""
    entry = jwa.Algorithm("ES384", kty="EC", hash="SHA384", crv="P-384", signature_octets=96)
    monkeypatch.setitem(jwa.REGISTRY, "ES384", entry)
    monkeypatch.setitem(jwa.CURVES, "P-384", jwa.Curve("P-384", 48, P384_ORDER))
    monkeypatch.setitem(algorithms.KTY_FOR_ALG, "ES384", "EC")
    monkeypatch.setitem(algorithms._HASHES, "SHA384", hashes.SHA384)
    monkeypatch.setitem(algorithms._EC_CURVES, "P-384", ec.SECP384R1)
    monkeypatch.setattr(jwk, "ALGORITHMS", (*jwa.ALGORITHMS, "ES384"))
    yield "ES384"


def test_a_new_entry_is_all_a_new_algorithm_takes(es384: str) -> None:
    key = generate_signing_key(es384)
    exported = key.to_public_jwk()
    assert exported["crv"] == "P-384" and len(exported["x"]) == 64  # 48 octets, base64url
    public = load_verification_key(exported)
    private = load_signing_key(key.to_private_jwk())
    signature = private.sign(b"input")
    assert len(signature) == 96
    public.verify(signature, b"input")

    # the range and length checks follow the curve, not P-256's numbers
    for bad in (b"\0" * 96, P384_ORDER.to_bytes(48, "big") + signature[48:], signature[:64]):
        with pytest.raises(InvalidSignatureError):
            public.verify(bad, b"input")
    # a P-256 key cannot pose as ES384, nor a P-384 key as ES256
    with pytest.raises(KeyFormatError):
        load_verification_key({**generate_signing_key("ES256").to_public_jwk(), "alg": "ES384"})
    with pytest.raises(KeyFormatError):
        load_verification_key({**exported, "alg": "ES256"})
