"""RFC 7009 revocation and user-level revocation (docs/threat-model.md R-REV-1..6, R-STATE-2)."""

from __future__ import annotations

import pytest

from auth_core.errors import InvalidClientError, InvalidGrantError, InvalidRequestError
from auth_core.jwk import JWKSet
from auth_core.oauth.refresh import new_refresh_token
from auth_core.oauth.revocation import RevocationService
from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy
from tests.functional.oauth.conftest import AUD, BACKEND_SECRET, ISS
from tests.functional.oauth.helpers import body, form, password_request, refresh_request


@pytest.fixture
def seeded(stack):
    stack.add_user()
    stack.add_client()
    stack.add_client("other-spa")
    stack.add_client(
        "backend-svc", secret=BACKEND_SECRET, grants=("client_credentials", "password", "refresh_token")
    )
    return stack


@pytest.fixture
def revocation(seeded, service, clock, audit):
    verifier = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), JWKSet.from_dict(seeded.jwks), clock=clock)
    return RevocationService(
        clients=service.clients,
        sessions=service.sessions,
        revocations=service.revoker.revocations,
        revoker=service.revoker,
        verifier=verifier,
        audit=audit,
    )


@pytest.fixture
def pair(seeded, service, issuers):
    return body(service.token(password_request(), issuers))


def revoke(revocation, token, client_id="demo-spa", **extra):
    revocation.revoke(form({"token": token, "client_id": client_id, **extra}))


def jti_of(token):
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token", "foo"])
def test_r_rev_1_3_6_refresh_token_revokes_family_whatever_the_hint(
    seeded, service, issuers, revocation, pair, hint
):
    extra = {"token_type_hint": hint} if hint else {}
    revoke(revocation, pair["refresh_token"], **extra)
    with pytest.raises(InvalidGrantError):
        service.token(refresh_request(pair["refresh_token"]), issuers)
    # RFC 7009 §2.1: the access token of the same grant is deny-listed too
    assert service.revoker.revocations.facts(
        subject=service.users.get("alice").user_id, jti=jti_of(pair["access_token"])["jti"]
    ).jti_revoked


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_r_rev_5_access_token_jti_is_deny_listed_until_exp(seeded, service, revocation, pair, hint):
    extra = {"token_type_hint": hint} if hint else {}
    revoke(revocation, pair["access_token"], **extra)
    claims = jti_of(pair["access_token"])
    item = seeded.item("revocations", {"pk": {"S": f"jti#{claims['jti']}"}})
    assert int(item["expires_at"]["N"]) == claims["exp"]


def test_expired_access_token_needs_no_deny_entry(seeded, revocation, pair, clock):
    clock.advance(900 + 61)
    revoke(revocation, pair["access_token"])
    assert [i for i in seeded.scan("revocations") if i["pk"]["S"].startswith("jti#")] == []


@pytest.mark.parametrize("token", ["garbage", new_refresh_token(), "a.b.c", "x" * 5000, "' OR 1=1 --"])
def test_r_rev_2_unknown_tokens_are_accepted_silently(seeded, revocation, token, audit):
    revoke(revocation, token)  # no exception: the handler answers 200 {}
    assert seeded.scan("revocations") == []
    assert "RevokeUnknownToken" in audit.names()


def test_r_rev_2_already_revoked_is_fine(seeded, service, issuers, revocation, pair):
    revoke(revocation, pair["refresh_token"])
    sessions_after_first = seeded.scan("sessions")
    revoke(revocation, pair["refresh_token"])  # no error: RFC 7009 §2.2 answers 200 again
    assert seeded.scan("sessions") == sessions_after_first  # and changes nothing
    with pytest.raises(InvalidGrantError):
        service.token(refresh_request(pair["refresh_token"]), issuers)


def test_r_rev_4_other_client_cannot_revoke_and_learns_nothing(
    seeded, service, issuers, revocation, pair, audit
):
    revoke(revocation, pair["refresh_token"], client_id="other-spa")
    revoke(revocation, pair["access_token"], client_id="other-spa")
    assert audit.names().count("RevokeForeignToken") == 2
    assert seeded.scan("revocations") == []
    assert body(service.token(refresh_request(pair["refresh_token"]), issuers))["refresh_token"]


def test_confidential_client_must_authenticate_to_revoke(seeded, service, issuers, revocation):
    doc = body(
        service.token(password_request(client_id="backend-svc", client_secret=BACKEND_SECRET), issuers)
    )
    with pytest.raises(InvalidClientError):
        revoke(revocation, doc["refresh_token"], client_id="backend-svc", client_secret="")  # none sent
    revocation.revoke(form({"token": doc["refresh_token"]}, basic=("backend-svc", BACKEND_SECRET)))
    with pytest.raises(InvalidGrantError):
        service.token(
            refresh_request(doc["refresh_token"], client_id="backend-svc", client_secret=BACKEND_SECRET),
            issuers,
        )


def test_missing_token_is_invalid_request(seeded, revocation):
    with pytest.raises(InvalidRequestError):
        revocation.revoke(form({"client_id": "demo-spa"}))


def test_disable_user_revokes_families_and_sets_not_before(seeded, service, issuers, pair, clock):
    assert service.revoker.disable_user("alice") == 1
    assert (
        service.revoker.revocations.not_before(service.users.get("alice").user_id) == int(clock()) + 2
    )  # planned 2 s ahead
    with pytest.raises(InvalidGrantError):
        service.token(refresh_request(pair["refresh_token"]), issuers)


def test_logout_all_unknown_user(seeded, service):
    with pytest.raises(InvalidRequestError):
        service.revoker.logout_all("nobody")


def test_not_before_never_moves_backwards(seeded, service, clock):
    service.revoker.logout_all("alice")
    later = service.revoker.revocations.not_before(service.users.get("alice").user_id)
    service.revoker.revocations.set_user_cutoff(
        service.users.get("alice").user_id, (later - 100) * 1000, max_token_lifetime=3600
    )
    assert service.revoker.revocations.not_before(service.users.get("alice").user_id) == later
