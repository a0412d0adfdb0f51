"""RFC 9449 §4.3: every check of a DPoP proof as a refusal, with proofs made by an independent
library (joserfc) as well as by hand where a library will not make a malformed one."""

from __future__ import annotations

import hashlib
import json

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from auth_core._b64 import b64url_encode
from auth_core.dpop import (
    DPoPVerifier,
    MemoryReplayCache,
    NonceIssuer,
    access_token_hash,
    normalize_htu,
)
from auth_core.errors import InvalidDPoPProofError, UseDPoPNonceError
from auth_core.jwk import generate_signing_key, jwk_thumbprint
from auth_core.jws import sign_compact

NOW = 1_800_000_000
URL = "https://auth.example.com/token"

_KEYS = {
    "ES256": ECKey.generate_key("P-256"),
    "EdDSA": OKPKey.generate_key("Ed25519"),
    "RS256": RSAKey.generate_key(2048),
    "PS256": RSAKey.generate_key(2048),
}


def clock() -> float:
    return float(NOW)


def verifier(**kwargs: object) -> DPoPVerifier:
    return DPoPVerifier(clock=clock, **kwargs)  # type: ignore[arg-type]


def claims(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"jti": "j-1", "htm": "POST", "htu": URL, "iat": NOW}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def proof(alg: str = "ES256", header: dict[str, object] | None = None, **over: object) -> str:
    key = _KEYS[alg]
    head: dict[str, object] = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False)}
    head.update(header or {})
    return jwt.encode({k: v for k, v in head.items() if v is not None}, claims(**over), key, algorithms=[alg])


_OWN = generate_signing_key("ES256")


def raw_proof(header: dict[str, object], body: dict[str, object] | None = None) -> str:
    """Signed by hand, for headers a library refuses to produce."""
    head = {"typ": "dpop+jwt", "alg": "ES256", "jwk": _OWN.to_public_jwk(), **header}
    encoded = b64url_encode(json.dumps({k: v for k, v in head.items() if v is not None}).encode())
    return sign_compact(encoded, json.dumps(body or claims()).encode(), _OWN)


def reason(token: object, **kwargs: object) -> str:
    kwargs.setdefault("method", "POST")
    kwargs.setdefault("url", URL)
    with pytest.raises(InvalidDPoPProofError) as caught:
        verifier().verify(token, **kwargs)  # type: ignore[arg-type]
    return caught.value.reason


@pytest.mark.parametrize("alg", sorted(_KEYS))
def test_a_proof_from_an_independent_library_verifies_and_names_its_key(alg: str) -> None:
    checked = verifier().verify(proof(alg), method="POST", url=URL)
    assert checked.jkt == jwk_thumbprint(_KEYS[alg].as_dict(private=False))
    assert checked.jti == "j-1"
    assert checked.expires_at == NOW + 60 + 5


def test_the_thumbprint_is_rfc_7638s_example() -> None:
    # RFC 7638 §3.1's RSA key and thumbprint.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
        "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr"
        "3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_a_bearer_access_token_is_not_a_proof() -> None:
    assert reason(proof(header={"typ": "at+jwt"})) == "dpop_typ"
    assert reason(proof(header={"typ": None})) == "dpop_typ"


def test_symmetric_and_none_algorithms_are_refused() -> None:
    head = b64url_encode(
        json.dumps({"typ": "dpop+jwt", "alg": "none", "jwk": _KEYS["ES256"].as_dict(private=False)}).encode()
    )
    body = b64url_encode(json.dumps(claims()).encode())
    assert reason(f"{head}.{body}.AAAA") == "dpop_alg"
    head = b64url_encode(
        json.dumps({"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": "AAAA"}}).encode()
    )
    assert reason(f"{head}.{body}.AAAA") == "dpop_alg"


def test_an_algorithm_the_deployment_does_not_accept_is_refused() -> None:
    with pytest.raises(InvalidDPoPProofError) as caught:
        DPoPVerifier(algorithms=["ES256"], clock=clock).verify(proof("RS256"), method="POST", url=URL)
    assert caught.value.reason == "dpop_alg"


def test_the_alg_must_fit_the_key_type() -> None:
    # An RSA key under ES256, an EC key under RS256: the key is built for one algorithm only.
    signed = proof("RS256")
    header = json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": _KEYS["RS256"].as_dict(private=False)})
    forged = b64url_encode(header.encode()) + signed[signed.index(".") :]
    assert reason(forged) == "dpop_jwk"


def test_a_private_key_in_the_header_is_refused() -> None:
    assert reason(proof(header={"jwk": _KEYS["ES256"].as_dict(private=True)})) == "dpop_jwk"


def test_a_missing_or_malformed_jwk_is_refused() -> None:
    assert raw_proof({}).count(".") == 2 and verifier().verify(raw_proof({}), method="POST", url=URL)
    assert reason(raw_proof({"jwk": None})) == "dpop_jwk"
    assert reason(raw_proof({"jwk": "key"})) == "dpop_jwk"
    assert reason(raw_proof({"jwk": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}})) == "dpop_jwk"


@pytest.mark.parametrize("member", ["kid", "jku", "x5u", "x5c", "crit", "b64"])
def test_header_members_that_point_at_other_keys_are_refused(member: str) -> None:
    value: object = (
        ["x"] if member in ("x5c", "crit") else ("https://evil.example/k" if member != "b64" else False)
    )
    assert reason(raw_proof({member: value})) == "dpop_header"


def test_a_signature_by_another_key_is_refused() -> None:
    mine = proof("ES256")
    other = ECKey.generate_key("P-256")
    theirs = jwt.encode(
        {"typ": "dpop+jwt", "alg": "ES256", "jwk": _KEYS["ES256"].as_dict(private=False)}, claims(), other
    )
    assert reason(mine.rsplit(".", 1)[0] + "." + theirs.rsplit(".", 1)[1]) == "dpop_signature"


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "x" * 5000, 42, None, "!!.??.**"])
def test_malformed_proofs_are_refused(token: object) -> None:
    assert reason(token) == "dpop_malformed"


def test_htm_must_be_the_request_method() -> None:
    assert reason(proof(htm="GET")) == "dpop_htm"
    assert reason(proof(htm="post")) == "dpop_htm"
    assert reason(proof(htm=None)) == "dpop_htm"


@pytest.mark.parametrize(
    "htu",
    [
        "https://auth.example.com/token/",
        "https://auth.example.com/tokens",
        "http://auth.example.com/token",
        "https://auth.example.com:8443/token",
        "https://evil.example.com/token",
        "https://auth.example.com.evil.example/token",
        "https://user@auth.example.com/token",
        "https://auth.example.com/%74oken/..",
        "/token",
        "",
    ],
)
def test_htu_must_be_the_request_url(htu: str) -> None:
    assert reason(proof(htu=htu)) == "dpop_htu"


@pytest.mark.parametrize(
    "htu",
    [
        "https://auth.example.com/token",
        "HTTPS://AUTH.EXAMPLE.COM/token",
        "https://auth.example.com:443/token",
        "https://auth.example.com/token?x=1",
        "https://auth.example.com/token#frag",
        "https://auth.example.com/%74oken",
        "https://auth.example.com/a/../token",
    ],
)
def test_htu_is_compared_after_rfc_3986_normalisation_without_query_or_fragment(htu: str) -> None:
    assert verifier().verify(proof(htu=htu), method="POST", url=URL).jti == "j-1"


def test_normalisation_keeps_reserved_percent_encodings() -> None:
    assert normalize_htu("https://h/a%2fb") == "https://h/a%2Fb"
    assert normalize_htu("https://h/a%2fb") != normalize_htu("https://h/a/b")
    assert normalize_htu("http://[::1]:80/x") == "http://[::1]/x"


@pytest.mark.parametrize(
    ("iat", "ok"), [(NOW, True), (NOW + 5, True), (NOW + 6, False), (NOW - 65, True), (NOW - 66, False)]
)
def test_iat_must_be_within_the_window_and_its_leeway(iat: int, ok: bool) -> None:
    token = proof(iat=iat)
    if ok:
        verifier().verify(token, method="POST", url=URL)
    else:
        assert reason(token) == "dpop_iat"


def test_iat_must_be_an_integer() -> None:
    assert reason(proof(iat=str(NOW))) == "dpop_iat"
    assert reason(proof(iat=None)) == "dpop_iat"


def test_jti_is_required_and_bounded() -> None:
    assert reason(proof(jti=None)) == "dpop_jti"
    assert reason(proof(jti="")) == "dpop_jti"
    assert reason(proof(jti="x" * 257)) == "dpop_jti"


def test_ath_must_be_the_hash_of_the_presented_token() -> None:
    token = "eyJ.access.token"
    expected = b64url_encode(hashlib.sha256(token.encode()).digest())
    assert access_token_hash(token) == expected
    verifier().verify(proof(ath=expected), method="POST", url=URL, access_token=token)
    assert reason(proof(ath=expected), access_token="another.token.here") == "dpop_ath"
    assert reason(proof(), access_token=token) == "dpop_ath"


def test_the_replay_cache_accepts_a_proof_once_until_it_expires() -> None:
    now = [NOW]
    cache = MemoryReplayCache(capacity=2, clock=lambda: now[0])
    checked = verifier().verify(proof(), method="POST", url=URL)
    assert cache.first_use(checked.replay_key(), checked.expires_at)
    assert not cache.first_use(checked.replay_key(), checked.expires_at)
    now[0] = checked.expires_at + 1
    assert cache.first_use(checked.replay_key(), now[0] + 60)


def test_the_same_jti_under_two_keys_is_two_proofs() -> None:
    one = verifier().verify(proof("ES256"), method="POST", url=URL)
    two = verifier().verify(proof("EdDSA"), method="POST", url=URL)
    assert one.jti == two.jti and one.replay_key() != two.replay_key()


def test_a_required_nonce_must_be_the_servers() -> None:
    nonces = NonceIssuer(b"k" * 32, window_seconds=300, clock=clock)
    strict = DPoPVerifier(clock=clock, nonces=nonces)
    with pytest.raises(UseDPoPNonceError) as caught:
        strict.verify(proof(), method="POST", url=URL, require_nonce=True)
    assert caught.value.nonce == nonces.current()
    with pytest.raises(UseDPoPNonceError):
        strict.verify(proof(nonce="0.forged"), method="POST", url=URL, require_nonce=True)
    strict.verify(proof(nonce=nonces.current()), method="POST", url=URL, require_nonce=True)


def test_a_nonce_lasts_its_window_and_the_next_only() -> None:
    now = [NOW]
    nonces = NonceIssuer(b"k" * 32, window_seconds=300, clock=lambda: now[0])
    issued = nonces.current()
    now[0] += 300
    assert nonces.is_valid(issued)
    now[0] += 300
    assert not nonces.is_valid(issued)
    assert not NonceIssuer(b"j" * 32, clock=lambda: now[0]).is_valid(nonces.current())


def test_a_remembered_header_still_needs_a_valid_signature_every_time() -> None:
    checker = verifier()
    good = proof()
    checker.verify(good, method="POST", url=URL)  # its header is remembered now
    head, _body, signature = good.split(".")
    forged_body = b64url_encode(json.dumps(claims(jti="other")).encode())
    with pytest.raises(InvalidDPoPProofError) as caught:
        checker.verify(f"{head}.{forged_body}.{signature}", method="POST", url=URL)
    assert caught.value.reason == "dpop_signature"
    # and a header that failed is never remembered: the same segment fails the same way again
    bad_head = b64url_encode(json.dumps({"typ": "dpop+jwt", "alg": "none", "jwk": {}}).encode())
    for _ in range(2):
        with pytest.raises(InvalidDPoPProofError) as caught:
            checker.verify(f"{bad_head}.{forged_body}.{signature}", method="POST", url=URL)
        assert caught.value.reason == "dpop_alg"


# ---------------------------------------------------------------- from the attacker's review


def test_a_jwk_of_the_wrong_shape_is_a_refusal_not_a_crash() -> None:
    for jwk in ({"kty": ["EC"]}, {"kty": {"a": 1}}, {"kty": "EC", "crv": ["P-256"], "x": 1, "y": None}):
        assert reason(raw_proof({"jwk": jwk})) == "dpop_jwk"


def test_non_ascii_ath_and_nonce_are_refusals_not_crashes() -> None:
    assert reason(proof(ath="é" * 43), access_token="tok") == "dpop_ath"
    nonces = NonceIssuer(b"k" * 32, clock=clock)
    with pytest.raises(UseDPoPNonceError):
        DPoPVerifier(clock=clock, nonces=nonces).verify(
            proof(nonce="é"), method="POST", url=URL, require_nonce=True
        )


def test_an_rsa_proof_key_must_use_the_usual_exponent() -> None:
    # a huge public exponent makes every verification cost milliseconds: refused before any
    jwk = dict(_KEYS["RS256"].as_dict(private=False))
    jwk["e"] = b64url_encode((2**3071 + 1).to_bytes(384, "big"))
    assert reason(raw_proof({"alg": "RS256", "jwk": jwk})) == "dpop_jwk"


def test_cheap_checks_come_before_the_signature() -> None:
    head, body, _signature = proof().split(".")
    garbage = b64url_encode(b"\x00" * 64)
    assert reason(f"{head}.{body}.{garbage}", method="GET") == "dpop_htm"
    with pytest.raises(InvalidDPoPProofError) as caught:
        verifier().verify(f"{head}.{body}.{garbage}", method="POST", url=URL, expected_jkt="another-key")
    assert caught.value.reason == "dpop_key_mismatch"
