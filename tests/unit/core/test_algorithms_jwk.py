"""Keys: one algorithm per key, strict JWK import/export, RFC 7638 kids, JWKSet."""

from __future__ import annotations

import json

import pytest

from auth_core._b64 import b64url_decode, b64url_encode
from auth_core.errors import InvalidSignatureError, KeyFormatError, UnknownKeyError
from auth_core.jwk import (
    JWKSet,
    generate_signing_key,
    jwk_thumbprint,
    load_signing_key,
    load_verification_key,
)

from .conftest import ALGS

MESSAGE = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0"

# RFC 7638 §3.1 example key and its published thumbprint.
RFC7638_KEY = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
    "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q"
    "vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZ"
    "u0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
# RFC 8037 A.1 / A.3: Ed25519 key and its thumbprint.
RFC8037_PRIVATE = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_thumbprint_matches_rfc7638_example():
    assert jwk_thumbprint(RFC7638_KEY) == RFC7638_THUMBPRINT


def test_thumbprint_matches_rfc8037_example_and_ignores_private_members():
    assert jwk_thumbprint(RFC8037_PRIVATE) == RFC8037_THUMBPRINT
    public = {k: v for k, v in RFC8037_PRIVATE.items() if k != "d"}
    assert jwk_thumbprint(public) == RFC8037_THUMBPRINT


@pytest.mark.parametrize("alg", ALGS)
def test_generated_key_signs_and_its_public_key_verifies(alg, signing_keys):
    key = signing_keys[alg]
    assert key.alg == alg
    assert key.kid == jwk_thumbprint(key.to_public_jwk())
    public = key.public_key()
    assert (public.kid, public.alg) == (key.kid, alg)
    signature = key.sign(MESSAGE)
    public.verify(signature, MESSAGE)  # raises on failure
    with pytest.raises(InvalidSignatureError):
        public.verify(signature, MESSAGE + b"x")


@pytest.mark.parametrize("alg", ALGS)
def test_verify_rejects_a_signature_by_another_key_of_the_same_alg(alg, signing_keys, other_signing_keys):
    signature = other_signing_keys[alg].sign(MESSAGE)
    with pytest.raises(InvalidSignatureError):
        signing_keys[alg].public_key().verify(signature, MESSAGE)


@pytest.mark.parametrize("alg", ALGS)
def test_signature_lengths_are_exact(alg, signing_keys):
    key = signing_keys[alg]
    signature = key.sign(MESSAGE)
    assert len(signature) == {"RS256": 256, "PS256": 256, "ES256": 64, "EdDSA": 64}[alg]
    public = key.public_key()
    for bad in (b"", signature[:-1], signature + b"\x00", b"\x00" + signature, signature * 2):
        with pytest.raises(InvalidSignatureError):
            public.verify(bad, MESSAGE)


def test_es256_psychic_and_out_of_range_signatures_are_rejected(signing_keys):
    public = signing_keys["ES256"].public_key()
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    good = signing_keys["ES256"].sign(MESSAGE)
    r, s = int.from_bytes(good[:32], "big"), int.from_bytes(good[32:], "big")
    public.verify(good, MESSAGE)
    # the malleated twin (r, n - s) is mathematically valid: ECDSA is malleable (T-SIG-9)
    public.verify(r.to_bytes(32, "big") + (n - s).to_bytes(32, "big"), MESSAGE)
    for rr, ss in ((0, 0), (0, s), (r, 0), (n, n), (r, n), (n, s)):
        with pytest.raises(InvalidSignatureError):
            public.verify(rr.to_bytes(32, "big") + ss.to_bytes(32, "big"), MESSAGE)


def test_pss_uses_a_32_byte_salt(signing_keys):
    """RFC 7518 §3.5: PS256 salt length == 32. A salt-0 signature must not verify."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateNumbers, RSAPublicNumbers

    jwk = signing_keys["PS256"].to_private_jwk()
    names = ("n", "e", "d", "p", "q", "dp", "dq", "qi")
    num = {k: int.from_bytes(b64url_decode(jwk[k]), "big") for k in names}
    priv: rsa.RSAPrivateKey = RSAPrivateNumbers(
        num["p"], num["q"], num["d"], num["dp"], num["dq"], num["qi"], RSAPublicNumbers(num["e"], num["n"])
    ).private_key()
    public = signing_keys["PS256"].public_key()
    for salt, ok in ((32, True), (0, False), (64, False)):
        sig = priv.sign(MESSAGE, padding.PSS(padding.MGF1(hashes.SHA256()), salt), hashes.SHA256())
        if ok:
            public.verify(sig, MESSAGE)
        else:
            with pytest.raises(InvalidSignatureError):
                public.verify(sig, MESSAGE)


@pytest.mark.parametrize("alg", ALGS)
def test_private_and_public_jwk_round_trip(alg, signing_keys):
    key = signing_keys[alg]
    private = key.to_private_jwk()
    public = key.to_public_jwk()
    assert public["use"] == "sig" and public["alg"] == alg and public["kid"] == key.kid
    assert "d" in private and "d" not in public
    reloaded = load_signing_key(json.loads(json.dumps(private)))
    assert reloaded.to_private_jwk() == private
    reloaded.public_key().verify(key.sign(MESSAGE), MESSAGE)
    load_verification_key(public).verify(reloaded.sign(MESSAGE), MESSAGE)


def test_repr_never_shows_key_material(signing_keys):
    for key in signing_keys.values():
        text = repr(key) + repr(key.public_key())
        assert key.kid in text
        assert key.to_private_jwk()["d"] not in text


@pytest.mark.parametrize("alg", ALGS)
def test_alg_kty_mismatch_is_refused(alg, signing_keys):
    other = {"RS256": "ES256", "PS256": "EdDSA", "ES256": "RS256", "EdDSA": "ES256"}[alg]
    with pytest.raises(KeyFormatError):
        load_verification_key({**signing_keys[alg].to_public_jwk(), "alg": other})
    with pytest.raises(KeyFormatError):
        load_signing_key({**signing_keys[alg].to_private_jwk(), "alg": other})


def _public(key_alg, signing_keys, **changes):
    jwk = {**signing_keys[key_alg].to_public_jwk(), **changes}
    return {k: v for k, v in jwk.items() if v is not None}


@pytest.mark.parametrize(
    "changes",
    [
        {"kid": None},
        {"kid": ""},
        {"kid": 123},
        {"kid": "x" * 129},
        {"kid": "has space"},
        {"kid": "nul\x00"},
        {"alg": None},
        {"alg": "HS256"},
        {"alg": "none"},
        {"alg": "rs256"},
        {"alg": "ES384"},
        {"use": "enc"},
        {"key_ops": ["encrypt"]},
        {"key_ops": "verify"},
        {"kty": "oct"},
        {"d": "AAAA"},
    ],
    ids=repr,
)
def test_public_jwk_strictness(changes, signing_keys):
    with pytest.raises(KeyFormatError):
        load_verification_key(_public("RS256", signing_keys, **changes))


def test_key_ops_with_verify_is_accepted(signing_keys):
    key = load_verification_key(_public("ES256", signing_keys, key_ops=["verify"]))
    assert key.alg == "ES256"


def test_weak_rsa_keys_are_refused():
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    n = small.public_key().public_numbers().n
    jwk = {"kty": "RSA", "n": b64url_encode(n.to_bytes(128, "big")), "e": "AQAB", "kid": "k", "alg": "RS256"}
    with pytest.raises(KeyFormatError):
        load_verification_key(jwk)
    big = {**RFC7638_KEY}
    for e in (b"\x01", b"\x01\x00\x00"):  # e = 1, even e
        with pytest.raises(KeyFormatError):
            load_verification_key({**big, "e": b64url_encode(e)})


@pytest.mark.parametrize(
    "changes",
    [
        {"crv": "P-384"},
        {"crv": None},
        {"x": "AAAA"},  # too short
        {"y": None},
        {"x": b64url_encode(b"\x00" * 31 + b"\x01")},  # not on the curve
        {"x": "not base64!"},
    ],
    ids=repr,
)
def test_ec_jwk_strictness(changes, signing_keys):
    with pytest.raises(KeyFormatError):
        load_verification_key(_public("ES256", signing_keys, **changes))


@pytest.mark.parametrize("changes", [{"crv": "Ed448"}, {"crv": "X25519"}, {"x": "AAAA"}], ids=repr)
def test_okp_jwk_strictness(changes, signing_keys):
    with pytest.raises(KeyFormatError):
        load_verification_key(_public("EdDSA", signing_keys, **changes))


@pytest.mark.parametrize("alg", ALGS)
def test_private_jwk_must_be_complete_and_consistent(alg, signing_keys, other_signing_keys):
    private = signing_keys[alg].to_private_jwk()
    with pytest.raises(KeyFormatError):
        load_signing_key({k: v for k, v in private.items() if k != "d"})
    mixed = {**private, "d": other_signing_keys[alg].to_private_jwk()["d"]}
    with pytest.raises(KeyFormatError):
        load_signing_key(mixed)


def test_rsa_3072_is_allowed_and_odd_sizes_are_not():
    key = generate_signing_key("PS256", rsa_bits=3072)
    assert len(key.sign(MESSAGE)) == 384
    with pytest.raises(KeyFormatError):
        generate_signing_key("RS256", rsa_bits=1024)
    with pytest.raises(KeyFormatError):
        generate_signing_key("HS256")


def test_jwkset_lookup_and_round_trip(signing_keys):
    doc = {"keys": [k.to_public_jwk() for k in signing_keys.values()]}
    jwks = JWKSet.from_dict(doc)
    assert jwks.kids == frozenset(k.kid for k in signing_keys.values())
    assert JWKSet.from_json(json.dumps(doc)).to_dict() == doc == jwks.to_dict()
    for key in signing_keys.values():
        assert jwks.get_verification_key(key.kid).alg == key.alg
    with pytest.raises(UnknownKeyError):
        jwks.get_verification_key("nope")


def test_jwkset_strictness(signing_keys):
    jwk = signing_keys["ES256"].to_public_jwk()
    for bad in ({"keys": [jwk, jwk]}, {"keys": {}}, {}, [], {"keys": [{"kty": "oct", "k": "AAAA"}]}):
        with pytest.raises(KeyFormatError):
            JWKSet.from_dict(bad)  # type: ignore[arg-type]
    for text in ('{"keys":[],"keys":[]}', '{"keys": NaN}', "[]", "\ufeff{}", "{"):
        with pytest.raises(KeyFormatError):
            JWKSet.from_json(text)


def test_large_jwks_documents_load(signing_keys):
    """Many keys mean many braces: the nesting guard must count depth, not brackets."""
    from auth_core.jwk import load_verification_key as load

    base = signing_keys["EdDSA"].to_public_jwk()
    keys = [{**base, "kid": f"k{i}"} for i in range(60)]
    jwks = JWKSet.from_json(json.dumps({"keys": keys}))
    assert len(jwks) == 60 and load(keys[59]).kid == "k59"
