"""A key of the ID-token lineage never verifies an access token: ``/introspect`` says inactive
and ``/revoke`` deny-lists nothing for a token it signed, even one shaped exactly like an access
token (``typ: at+jwt``, our ``iss`` and ``aud``, a live session). docs/threat-model.md T-KEY-11."""

from __future__ import annotations

import jwt
import pytest

from auth_core._json import dumps_compact
from auth_core.jwk import JWKSet
from auth_core.jws import encode_header, sign_compact
from auth_core.keyset import ID_TOKEN, KeyRecord
from auth_core.oauth.introspection import INACTIVE, IntrospectionService
from auth_core.oauth.revocation import RevocationService
from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy
from tests.functional.oauth.conftest import AUD, ISS, NOW
from tests.functional.oauth.helpers import body, form, password_request
from tests.keypool import pooled_key

WEB_SECRET = "web-app-secret-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture
def seeded(stack):
    stack.add_user()
    stack.add_client()  # demo-spa: public
    stack.add_client("web-app", secret=WEB_SECRET, grants=("password", "refresh_token"))
    return stack


@pytest.fixture
def id_record():
    """An RS256 key of the ID-token lineage, beside the stack's ES256 signing key."""
    return KeyRecord(pooled_key("RS256"), "active", NOW - 100, NOW - 100, lineage=ID_TOKEN)


@pytest.fixture
def published(seeded, id_record):
    """The public JWKS as the rotation writes it: both lineages, the ID-token key marked."""
    main = [r for r in seeded.keyset.records if r.lineage != ID_TOKEN]
    keyset = seeded.keyset.with_records([*main, id_record])
    return JWKSet.from_dict(keyset.public_jwks())


@pytest.fixture
def verifier(published, clock):
    return AccessTokenVerifier(ClaimsPolicy(ISS, AUD), published, clock=clock)


@pytest.fixture
def pair(seeded, service, issuers):
    return body(service.token(password_request(client_id="web-app", client_secret=WEB_SECRET), issuers))


def _resigned(token: str, record: KeyRecord) -> str:
    """``token``'s exact claims under an ``at+jwt`` header, signed by ``record``'s key."""
    claims = jwt.decode(token, options={"verify_signature": False})
    key = record.key
    return sign_compact(encode_header(key, "at+jwt"), dumps_compact(claims), key)  # type: ignore[arg-type]


def test_introspection_says_inactive(seeded, service, verifier, pair, id_record, audit, clock):
    introspection = IntrospectionService(
        clients=service.clients,
        sessions=service.sessions,
        revocations=service.revoker.revocations,
        users=service.users,
        verifier=verifier,
        audit=audit,
        clock=clock,
    )

    def ask(token):
        return introspection.introspect(form({"token": token}, basic=("web-app", WEB_SECRET)))

    assert ask(pair["access_token"])["active"] is True  # the genuine token, same verifier
    forged = _resigned(pair["access_token"], id_record)
    assert forged != pair["access_token"]
    assert ask(forged) == INACTIVE
    assert ask(forged) == INACTIVE  # and no refetch or cache turns it active later


def test_revocation_deny_lists_nothing(seeded, service, verifier, pair, id_record, audit):
    revocation = RevocationService(
        clients=service.clients,
        sessions=service.sessions,
        revocations=service.revoker.revocations,
        revoker=service.revoker,
        verifier=verifier,
        audit=audit,
    )
    forged = _resigned(pair["access_token"], id_record)
    claims = jwt.decode(forged, options={"verify_signature": False})
    revocation.revoke(form({"token": forged}, basic=("web-app", WEB_SECRET)))
    # RFC 7009 answers 200 either way; but the token was not an access token to us: no entry
    assert seeded.item("revocations", {"pk": {"S": f"jti#{claims['jti']}"}}) is None
    # the genuine token with the same jti, verified by the main key, is deny-listed as usual
    revocation.revoke(form({"token": pair["access_token"]}, basic=("web-app", WEB_SECRET)))
    assert seeded.item("revocations", {"pk": {"S": f"jti#{claims['jti']}"}}) is not None
