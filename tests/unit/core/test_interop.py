"""Interop: our tokens verify with PyJWT and joserfc, theirs verify here, our JWKS loads there."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest
from joserfc import jwk as jose_jwk
from joserfc import jwt as jose_jwt
from joserfc.jwt import JWTClaimsRegistry

from auth_core.jwk import JWKSet, load_signing_key
from auth_core.keyset import KeyRecord, KeySet
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy

from .conftest import ALGS
from .tokenkit import AUD, ISS

pytestmark = pytest.mark.filterwarnings("ignore:.*EdDSA.*:DeprecationWarning", "ignore::UserWarning")


def claims_for(now: int) -> dict:
    return {
        "iss": ISS, "sub": "alice", "aud": AUD, "exp": now + 300, "iat": now,
        "jti": f"jti-{now}", "client_id": "web", "scope": "read write",
    }


@pytest.fixture(scope="module")
def jwks_doc(signing_keys) -> dict:
    return KeySet(
        [KeyRecord(k, "active" if alg == "ES256" else "next" if alg == "EdDSA" else "retired", 1)
         for alg, k in signing_keys.items()]
    ).public_jwks()


def our_verifier(signing_keys) -> AccessTokenVerifier:
    keys = JWKSet.from_keys(k.public_key() for k in signing_keys.values())
    return AccessTokenVerifier(ClaimsPolicy(ISS, AUD), keys)


@pytest.mark.parametrize("alg", ALGS)
def test_our_tokens_verify_with_pyjwt(alg, signing_keys):
    key = signing_keys[alg]
    issued = AccessTokenIssuer(ISS, AUD, 300).issue(key, subject="alice", client_id="web", scope=["read"])
    assert pyjwt.get_unverified_header(issued.token) == {"alg": alg, "typ": "at+jwt", "kid": key.kid}
    public = pyjwt.PyJWK(key.to_public_jwk())
    claims = pyjwt.decode(issued.token, public, algorithms=[alg], audience=AUD, issuer=ISS)
    assert claims["sub"] == "alice" and claims["jti"] == issued.jti


@pytest.mark.parametrize("alg", ALGS)
def test_our_tokens_verify_with_joserfc(alg, signing_keys):
    key = signing_keys[alg]
    issued = AccessTokenIssuer(ISS, AUD, 300).issue(key, subject="alice", client_id="web", scope=["read"])
    token = jose_jwt.decode(issued.token, jose_jwk.import_key(key.to_public_jwk()), algorithms=[alg])
    JWTClaimsRegistry(iss={"essential": True, "value": ISS}, aud={"essential": True, "value": AUD}).validate(
        token.claims
    )
    assert token.header["typ"] == "at+jwt" and token.header["kid"] == key.kid
    assert token.claims["sub"] == "alice"


@pytest.mark.parametrize("alg", ALGS)
def test_pyjwt_tokens_verify_here(alg, signing_keys):
    key = signing_keys[alg]
    now = int(time.time())
    private = pyjwt.PyJWK(key.to_private_jwk()).key
    token = pyjwt.encode(claims_for(now), private, algorithm=alg, headers={"kid": key.kid, "typ": "at+jwt"})
    verified = our_verifier(signing_keys).verify(token)
    assert verified.subject == "alice" and verified.scope == ("read", "write")


@pytest.mark.parametrize("alg", ALGS)
def test_joserfc_tokens_verify_here(alg, signing_keys):
    key = signing_keys[alg]
    now = int(time.time())
    private = jose_jwk.import_key(key.to_private_jwk())
    header = {"alg": alg, "typ": "at+jwt", "kid": key.kid}
    token = jose_jwt.encode(header, claims_for(now), private, algorithms=[alg])
    verified = our_verifier(signing_keys).verify(token)
    assert verified.subject == "alice" and verified.client_id == "web"


def test_our_jwks_loads_in_pyjwt_and_joserfc(jwks_doc, signing_keys):
    pyjwt_set = pyjwt.PyJWKSet.from_dict(jwks_doc)
    assert {k.key_id for k in pyjwt_set.keys} == {k.kid for k in signing_keys.values()}
    jose_set = jose_jwk.KeySet.import_key_set(jwks_doc)
    assert {k.kid for k in jose_set.keys} == {k.kid for k in signing_keys.values()}
    for alg, key in signing_keys.items():
        issued = AccessTokenIssuer(ISS, AUD, 300).issue(key, subject="a", client_id="c", scope=[])
        assert pyjwt.decode(issued.token, pyjwt_set[key.kid], algorithms=[alg], audience=AUD)["sub"] == "a"
        assert jose_jwt.decode(issued.token, jose_set, algorithms=[alg]).claims["sub"] == "a"


@pytest.mark.parametrize("alg", ALGS)
def test_thumbprints_agree_with_joserfc(alg, signing_keys):
    key = signing_keys[alg]
    assert jose_jwk.import_key(key.to_public_jwk()).thumbprint() == key.kid


@pytest.mark.parametrize("alg", ALGS)
def test_joserfc_generated_private_keys_load_here(alg):
    kty, crv_or_size = {"RS256": ("RSA", 2048), "PS256": ("RSA", 2048), "ES256": ("EC", "P-256"),
                        "EdDSA": ("OKP", "Ed25519")}[alg]
    generated = jose_jwk.generate_key(kty, crv_or_size, private=True)
    doc = {**generated.as_dict(private=True), "kid": "jose-1", "alg": alg}
    key = load_signing_key(doc)
    header = {"alg": alg, "typ": "at+jwt", "kid": "jose-1"}
    token = jose_jwt.encode(header, claims_for(int(time.time())), generated, algorithms=[alg])
    keys = JWKSet.from_keys([key.public_key()])
    assert AccessTokenVerifier(ClaimsPolicy(ISS, AUD), keys).verify(token).subject == "alice"
