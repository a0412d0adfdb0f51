"""The grants of TokenService over moto tables: password, client_credentials, refresh rotation."""

from __future__ import annotations

import pytest

from auth_core.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    SlowDownError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from auth_core.jwk import JWKSet
from auth_core.oauth.refresh import hash_refresh_token
from auth_core.passwords import PasswordHasher
from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy
from tests.functional.oauth.conftest import AUD, BACKEND_SECRET, ISS
from tests.functional.oauth.helpers import body, form, password_request, poke_user

#: the caller address of the sample events (events/issue_token_password.json)
SOURCE = "203.0.113.10"


@pytest.fixture
def seeded(stack):
    stack.add_user()
    stack.add_client()
    stack.add_client(
        "backend-svc", secret=BACKEND_SECRET, grants=("client_credentials",), scopes=("read", "write")
    )
    return stack


def verify(stack, token, clock):
    return AccessTokenVerifier(ClaimsPolicy(ISS, AUD), JWKSet.from_dict(stack.jwks), clock=clock).verify(
        token
    )


def login(service, issuers, **extra):
    return body(service.token(password_request(**extra), issuers))


# ---------------------------------------------------------------- password grant
def test_password_grant_issues_bearer_pair_with_allowed_scope(seeded, service, issuers, audit):
    result = service.token(password_request(), issuers)
    doc = body(result)
    assert list(doc) == ["access_token", "token_type", "expires_in", "refresh_token", "scope"]
    assert doc["token_type"] == "Bearer"
    assert doc["expires_in"] == 900
    assert doc["scope"] == "openid read write"
    assert len(doc["refresh_token"]) == 43
    assert "LoginSucceeded" in audit.names()


def test_password_grant_narrows_scope(seeded, service, issuers):
    assert login(service, issuers, scope="read")["scope"] == "read"


@pytest.mark.parametrize("scope", ["admin", "read admin", "read  write", 're"ad', "READ"])
def test_password_grant_rejects_scope_outside_allowed(seeded, service, issuers, scope):
    with pytest.raises(InvalidScopeError):
        service.token(password_request(scope=scope), issuers)


def test_password_grant_wrong_password_is_invalid_grant_and_counted(seeded, service, issuers, audit):
    with pytest.raises(InvalidGrantError) as info:
        service.token(password_request(password="wrong"), issuers)
    assert info.value.reason == "bad_password"
    assert "LoginFailed" in audit.names()
    assert service.throttle.address_attempts("alice", SOURCE) == 1


def test_unknown_user_is_the_same_invalid_grant(seeded, service, issuers):
    with pytest.raises(InvalidGrantError) as info:
        service.token(password_request(username="mallory"), issuers)
    assert info.value.error_code == "invalid_grant"
    assert service.throttle.address_attempts("mallory", SOURCE) == 1


def test_disabled_user_is_refused_after_password_check(seeded, service, issuers):
    poke_user(seeded.ddb, "alice", enabled=False)
    with pytest.raises(InvalidGrantError) as info:
        service.token(password_request(), issuers)
    assert info.value.reason == "user_disabled"


def test_lockout_refuses_even_the_right_password_then_expires(seeded, service, issuers, clock, audit):
    for _ in range(5):
        with pytest.raises(InvalidGrantError):
            service.token(password_request(password="nope"), issuers)
    with pytest.raises(SlowDownError) as info:
        service.token(password_request(), issuers)
    assert 1 <= info.value.retry_after <= 300
    assert info.value.status == 429
    assert "LoginThrottled" in audit.names()
    clock.advance(301)
    assert login(service, issuers)["token_type"] == "Bearer"
    assert service.throttle.address_attempts("alice", SOURCE) == 0  # reset after success


def test_lockout_applies_to_unknown_usernames_too(seeded, service, issuers):
    for _ in range(5):
        with pytest.raises(InvalidGrantError):
            service.token(password_request(username="ghost"), issuers)
    with pytest.raises(SlowDownError):
        service.token(password_request(username="ghost"), issuers)


def test_throttle_item_does_not_store_the_username(seeded, service, issuers):
    with pytest.raises(InvalidGrantError):
        service.token(password_request(password="nope"), issuers)
    items = [i for i in seeded.scan("sessions") if i["pk"]["S"].startswith("throttle#")]
    assert len(items) == 2  # the per-username bucket and the (username, address) counter
    assert "alice" not in str(items) and SOURCE not in str(items)


def test_old_hash_parameters_are_upgraded_on_login(stack, service, issuers):
    stack.add_user("bob", hasher=PasswordHasher(memory_cost=512, iterations=1))
    stack.add_client()
    login(service, issuers, username="bob")
    stored = service.users.get("bob").password_hash
    assert not service.hasher.needs_rehash(stored)
    service.hasher.verify("correct horse battery staple", stored)


class _AsTypedHasher(PasswordHasher):
    """Hashes as this service did before NFKC normalisation: the password's bytes as typed."""

    def hash(self, password: str) -> str:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        kdf = Argon2id(salt=b"0123456789abcdef", length=32, iterations=1, lanes=1, memory_cost=256)
        return kdf.derive_phc_encoded(password.encode("utf-8"))


def test_a_hash_from_before_normalisation_is_upgraded_at_the_next_login(stack, service, issuers):
    """SP 800-63B §3.1.1.2: after one login with the form stored, any equivalent Unicode form works."""
    decomposed, precomposed = "pa\u0308sswo\u0308rd horse", "p\u00e4ssw\u00f6rd horse"
    stack.add_user("bob", decomposed, hasher=_AsTypedHasher())
    stack.add_client()
    with pytest.raises(InvalidGrantError):  # the old hash knows only the form typed when it was set
        login(service, issuers, username="bob", password=precomposed)
    login(service, issuers, username="bob", password=decomposed)
    stored = service.users.get("bob").password_hash
    assert not service.hasher.needs_rehash(stored)
    assert "access_token" in login(service, issuers, username="bob", password=precomposed)


def test_client_without_password_grant_is_unauthorized_client(seeded, service, issuers):
    seeded.add_client("m2m-only", grants=("refresh_token",))
    with pytest.raises(UnauthorizedClientError):
        service.token(password_request(client_id="m2m-only"), issuers)


def test_password_grant_without_refresh_grant_gets_no_refresh_token(seeded, service, issuers):
    seeded.add_client("no-refresh", grants=("password",))
    assert "refresh_token" not in login(service, issuers, client_id="no-refresh")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"username": "alice", "password": "x", "client_id": "demo-spa"}, InvalidRequestError),
        ({"grant_type": "implicit", "client_id": "demo-spa"}, UnsupportedGrantTypeError),
        ({"grant_type": "Password", "client_id": "demo-spa"}, UnsupportedGrantTypeError),
        ({"grant_type": "password", "password": "x", "client_id": "demo-spa"}, InvalidRequestError),
        ({"grant_type": "password", "username": "alice", "client_id": "demo-spa"}, InvalidRequestError),
        ({"grant_type": "password", "username": "alice", "password": "x"}, InvalidClientError),
        (
            {"grant_type": "password", "username": "a", "password": "x", "client_id": "nope"},
            InvalidClientError,
        ),
        (
            {"grant_type": "password", "username": "a" * 200, "password": "x", "client_id": "demo-spa"},
            InvalidGrantError,
        ),
        (
            {"grant_type": "password", "username": "alice", "password": "x" * 1025, "client_id": "demo-spa"},
            InvalidGrantError,
        ),
    ],
)
def test_malformed_token_requests(seeded, service, issuers, params, error):
    with pytest.raises(error):
        service.token(form(params), issuers)


def test_disabled_client_is_invalid_client(seeded, service, issuers):
    seeded.add_client("old-app", enabled=False)
    with pytest.raises(InvalidClientError):
        service.token(password_request(client_id="old-app"), issuers)


def test_public_client_presenting_a_secret_is_invalid_client(seeded, service, issuers):
    with pytest.raises(InvalidClientError):
        service.token(password_request(client_secret="guess"), issuers)


# ---------------------------------------------------------------- client credentials
def test_client_credentials_basic(seeded, service, issuers, clock):
    req = form({"grant_type": "client_credentials", "scope": "read"}, basic=("backend-svc", BACKEND_SECRET))
    doc = body(service.token(req, issuers))
    assert "refresh_token" not in doc
    assert doc["scope"] == "read"
    claims = verify(seeded, doc["access_token"], clock)
    assert claims.subject == "backend-svc"
    assert claims.client_id == "backend-svc"


def test_client_credentials_post(seeded, service, issuers):
    req = form(
        {"grant_type": "client_credentials", "client_id": "backend-svc", "client_secret": BACKEND_SECRET}
    )
    assert body(service.token(req, issuers))["scope"] == "read write"


def test_client_credentials_basic_is_form_urlencoded(seeded, service, issuers):
    secret = "p@ss word+/:%é"
    seeded.add_client("svc:odd id", secret=secret, grants=("client_credentials",), scopes=("read",))
    req = form({"grant_type": "client_credentials"}, basic=("svc:odd id", secret))
    assert body(service.token(req, issuers))["scope"] == "read"


@pytest.mark.parametrize("secret", ["wrong", BACKEND_SECRET[:-1], BACKEND_SECRET + "x", ""])
def test_client_credentials_wrong_secret(seeded, service, issuers, secret):
    # "" sends no secret at all (the helpers would otherwise add the client's own)
    params = {"grant_type": "client_credentials", "client_id": "backend-svc", "client_secret": secret}
    with pytest.raises(InvalidClientError) as info:
        service.token(form(params), issuers)
    assert info.value.status == 401


def test_client_credentials_both_methods_is_invalid_request(seeded, service, issuers):
    with pytest.raises(InvalidRequestError):
        form(
            {"grant_type": "client_credentials", "client_secret": BACKEND_SECRET},
            basic=("backend-svc", BACKEND_SECRET),
        )


def test_client_credentials_refused_for_public_client(seeded, service, issuers):
    seeded.add_client("public-cc", grants=("client_credentials",))
    with pytest.raises(UnauthorizedClientError):
        service.token(form({"grant_type": "client_credentials", "client_id": "public-cc"}), issuers)


# ---------------------------------------------------------------- issued token (I-1)
def test_issued_access_token_claims(seeded, service, issuers, clock):
    doc = login(service, issuers)
    claims = verify(seeded, doc["access_token"], clock)
    assert claims.subject == seeded.user_id("alice")  # opaque and immutable, not the username
    assert claims.subject.startswith("u_")
    assert claims.client_id == "demo-spa"
    assert claims.scope == ("openid", "read", "write")
    assert claims.roles == ("user",)
    assert claims.expires_at - claims.issued_at == 900
    assert claims.issuer == ISS
    assert verify(seeded, login(service, issuers)["access_token"], clock).jti != claims.jti


def test_client_access_token_ttl_override(seeded, service, issuers):
    seeded.add_client("short", access_token_ttl=120)
    assert login(service, issuers, client_id="short")["expires_in"] == 120


def test_refresh_token_is_stored_only_as_hash(seeded, service, issuers):
    doc = login(service, issuers)
    dump = str(seeded.scan("sessions"))
    assert doc["refresh_token"] not in dump
    assert doc["access_token"] not in dump
    assert f"rt#{hash_refresh_token(doc['refresh_token'])}" in dump


def test_throttle_window_restarts_after_expiry_even_if_item_lingers(seeded, service, clock):
    throttle = service.throttle
    for _ in range(3):
        throttle.take("zoe", SOURCE)
    assert throttle.address_attempts("zoe", SOURCE) == 3
    clock.advance(throttle.limits.window)  # expired, but DynamoDB (and moto) may still return the item
    assert throttle.address_attempts("zoe", SOURCE) == 0
    throttle.take("zoe", SOURCE)
    assert throttle.address_attempts("zoe", SOURCE) == 1
