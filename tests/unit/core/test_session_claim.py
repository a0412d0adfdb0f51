"""The ``sid`` claim: issued as a named parameter, validated on verification, never an extra claim."""

from __future__ import annotations

import pytest

from auth_core.errors import ConfigurationError, InvalidClaimError
from auth_core.jwk import JWKSet
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy

from .tokenkit import AUD, DROP, ISS, K_CUR, NOW, claims, sign, verifier


def test_issued_session_id_round_trips_as_sid(signing_keys):
    key = signing_keys["ES256"]
    issuer = AccessTokenIssuer(ISS, AUD, ttl=300, clock=lambda: NOW)
    issued = issuer.issue(key, subject="alice", client_id="web", scope=["read"], session_id="fam-1")
    jwks = JWKSet.from_dict({"keys": [key.to_public_jwk()]})
    verified = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), jwks, lambda: NOW).verify(issued.token)
    assert verified.session_id == "fam-1"
    assert verified.raw["sid"] == "fam-1"


def test_no_session_id_means_no_sid_claim(signing_keys):
    key = signing_keys["ES256"]
    issued = AccessTokenIssuer(ISS, AUD, ttl=300, clock=lambda: NOW).issue(
        key, subject="svc", client_id="svc", scope=["read"]
    )
    jwks = JWKSet.from_dict({"keys": [key.to_public_jwk()]})
    verified = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), jwks, lambda: NOW).verify(issued.token)
    assert verified.session_id is None
    assert "sid" not in verified.raw


@pytest.mark.parametrize("bad", ["", "x" * 129, 7])
def test_issuer_refuses_an_unusable_session_id(signing_keys, bad):
    issuer = AccessTokenIssuer(ISS, AUD, ttl=300, clock=lambda: NOW)
    with pytest.raises(ConfigurationError):
        issuer.issue(signing_keys["ES256"], subject="a", client_id="c", scope=[], session_id=bad)


def test_sid_cannot_be_smuggled_in_as_an_extra_claim(signing_keys):
    issuer = AccessTokenIssuer(ISS, AUD, ttl=300, clock=lambda: NOW)
    with pytest.raises(ConfigurationError):
        issuer.issue(signing_keys["ES256"], subject="a", client_id="c", scope=[], extra_claims={"sid": "x"})


@pytest.mark.parametrize("sid", ["s", "x" * 128, "ünï-çødé"])
def test_verifier_accepts_a_non_empty_sid_up_to_128_characters(sid):
    assert verifier().verify(sign(payload=claims(sid=sid))).session_id == sid


@pytest.mark.parametrize("sid", ["", "x" * 129, None, 12, ["a"], {"id": "a"}, True])
def test_verifier_refuses_a_malformed_sid(sid):
    with pytest.raises(InvalidClaimError) as info:
        verifier().verify(sign(payload=claims(sid=sid), key=K_CUR))
    assert info.value.claim == "sid"


def test_sid_is_optional():
    assert verifier().verify(sign(payload=claims(sid=DROP))).session_id is None
