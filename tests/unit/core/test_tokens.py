"""Issuing access tokens and verifying them end to end (RFC 9068 shape)."""

from __future__ import annotations

import json

import pytest

from auth_core._b64 import b64url_decode
from auth_core.errors import ConfigurationError, InvalidScopeError, UnknownKeyError
from auth_core.jwk import JWKSet
from auth_core.jws import encode_header, normalize_typ, parse_header, sign_compact
from auth_core.keyset import KeyRecord, KeySet
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy

from .conftest import ALGS
from .tokenkit import AUD, ISS, NOW

CLOCK = lambda: NOW + 0.75  # noqa: E731 - a fixed clock with a fraction, to check truncation


def parts(token: str) -> tuple[dict, dict]:
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


@pytest.fixture
def issuer() -> AccessTokenIssuer:
    return AccessTokenIssuer(ISS, AUD, ttl=300, clock=CLOCK)


@pytest.mark.parametrize("alg", ALGS)
def test_issued_token_shape_and_round_trip(alg, signing_keys, issuer):
    key = signing_keys[alg]
    issued = issuer.issue(
        key, subject="alice", client_id="web", scope=["read", "write", "read"], roles=["admin"],
        extra_claims={"tenant": "t-1"},
    )
    header, claims = parts(issued.token)
    assert header == {"alg": alg, "typ": "at+jwt", "kid": key.kid}
    assert list(claims) == ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "roles", "tenant"]
    assert claims["iss"] == ISS and claims["aud"] == AUD and claims["sub"] == "alice"
    assert claims["iat"] == NOW and claims["exp"] == NOW + 300
    assert claims["scope"] == "read write" and claims["roles"] == ["admin"] and claims["client_id"] == "web"
    assert issued.jti == claims["jti"] and len(issued.jti) >= 22
    assert (issued.issued_at, issued.expires_at, issued.expires_in) == (NOW, NOW + 300, 300)
    assert issued.scope == ("read", "write")

    jwks = JWKSet.from_dict({"keys": [key.to_public_jwk()]})
    verified = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), jwks, CLOCK).verify(issued.token)
    assert verified.subject == "alice" and verified.client_id == "web"
    assert verified.scope == ("read", "write") and verified.roles == ("admin",)
    assert verified.jti == issued.jti and verified.audience == (AUD,) and verified.issuer == ISS
    assert (verified.issued_at, verified.expires_at) == (NOW, NOW + 300)
    assert verified.raw["tenant"] == "t-1"
    with pytest.raises(TypeError):
        verified.raw["sub"] = "mallory"  # type: ignore[index]


def test_jtis_are_unique(signing_keys, issuer):
    key = signing_keys["EdDSA"]
    jtis = {issuer.issue(key, subject="a", client_id="c", scope=[]).jti for _ in range(500)}
    assert len(jtis) == 500


def test_no_roles_claim_when_none_given(signing_keys, issuer):
    _, claims = parts(issuer.issue(signing_keys["ES256"], subject="a", client_id="c", scope="read").token)
    assert "roles" not in claims and claims["scope"] == "read"


def test_header_is_encoded_once_per_key(signing_keys, issuer, monkeypatch):
    import auth_core.tokens as tokens_module

    calls = []
    real = tokens_module.encode_header
    def counting(key, typ):
        calls.append(key.kid)
        return real(key, typ)

    monkeypatch.setattr(tokens_module, "encode_header", counting)
    for _ in range(3):
        for alg in ("ES256", "EdDSA"):
            issuer.issue(signing_keys[alg], subject="a", client_id="c", scope=[])
    assert calls == [signing_keys["ES256"].kid, signing_keys["EdDSA"].kid]


@pytest.mark.parametrize("name", ["sub", "iss", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "roles"])  # noqa: E501
def test_extra_claims_cannot_override_registered_ones(name, signing_keys, issuer):
    with pytest.raises(ConfigurationError):
        issuer.issue(signing_keys["ES256"], subject="a", client_id="c", scope=[], extra_claims={name: "x"})


@pytest.mark.parametrize("extra", [{"x": float("nan")}, {"x": object()}, {"x": "\ud800"}])
def test_unrepresentable_extra_claims_are_configuration_errors(extra, signing_keys, issuer):
    with pytest.raises(ConfigurationError):
        issuer.issue(signing_keys["ES256"], subject="a", client_id="c", scope=[], extra_claims=extra)


@pytest.mark.parametrize("scope", [["re ad"], ['"quoted"'], ["back\\slash"], ["tab\t"], ["é"], [1]])
def test_scope_values_follow_rfc6749_grammar(scope, signing_keys, issuer):
    with pytest.raises(InvalidScopeError):
        issuer.issue(signing_keys["ES256"], subject="a", client_id="c", scope=scope)


@pytest.mark.parametrize(
    "kwargs", [{"subject": ""}, {"client_id": ""}, {"subject": None}, {"roles": [""]}, {"roles": [1]}]
)
def test_invalid_identity_arguments(kwargs, signing_keys, issuer):
    args = {"subject": "a", "client_id": "c", "scope": [], **kwargs}
    with pytest.raises(ConfigurationError):
        issuer.issue(signing_keys["ES256"], **args)


@pytest.mark.parametrize("args", [("", AUD, 300), (ISS, "", 300), (ISS, AUD, 0), (ISS, AUD, 1.5)])
def test_issuer_configuration_is_checked(args):
    with pytest.raises(ConfigurationError):
        AccessTokenIssuer(*args)


def test_issued_token_repr_hides_the_token(signing_keys, issuer):
    issued = issuer.issue(signing_keys["ES256"], subject="a", client_id="c", scope=[])
    assert issued.token not in repr(issued) and issued.token.split(".")[2] not in repr(issued)


def test_rotation_old_tokens_verify_until_the_key_leaves_the_set(signing_keys, other_signing_keys, issuer):
    old, new = signing_keys["ES256"], other_signing_keys["ES256"]
    before = KeySet([KeyRecord(old, "active", 1, 1), KeyRecord(new, "next", 2)])
    after = KeySet([KeyRecord(old, "retired", 1, 1, 3), KeyRecord(new, "active", 2, 3)])
    dropped = KeySet([KeyRecord(new, "active", 2, 3)])
    token = issuer.issue(before.get_signing_key(), subject="a", client_id="c", scope=[]).token
    token2 = issuer.issue(after.get_signing_key(), subject="a", client_id="c", scope=[]).token
    for keyset in (before, after):
        v = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), JWKSet.from_dict(keyset.public_jwks()), CLOCK)
        assert v.verify(token).subject == "a"
        assert v.verify(token2).subject == "a"  # "next" keys are pre-published
    v = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), JWKSet.from_dict(dropped.public_jwks()), CLOCK)
    with pytest.raises(UnknownKeyError):
        v.verify(token)


def test_jws_helpers(signing_keys):
    key = signing_keys["EdDSA"]
    token = sign_compact(encode_header(key, "at+jwt"), b'{"a":1}', key)
    assert parse_header(token) == {"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid}
    assert normalize_typ("AT+JWT") == normalize_typ("application/at+jwt") == "application/at+jwt"
