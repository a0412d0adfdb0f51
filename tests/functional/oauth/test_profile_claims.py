"""The profile in tokens beyond the code redemption's ID token: the refresh's new ID token,
``ACCESS_TOKEN_PROFILE_CLAIMS`` (access tokens, and so the authorizer context), and custom
attributes that may never pass for a reserved claim."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import jwt
import pytest

from auth_core.accounts.profile import RESERVED_ATTRIBUTE_NAMES, profile_claims
from auth_core.emails import email_key
from auth_core.errors import ConfigurationError
from auth_core.oauth.grants import TokenService
from auth_core.settings import Settings
from auth_core.stores.accounts import AccountStore
from auth_core.stores.users import User, UserStore
from tests.conftest import load_event
from tests.functional.oauth.conftest import FAST_HASHER, PASSWORD, Stack
from tests.functional.oauth.helpers import PUBLIC_CLIENT, PUBLIC_CLIENT_SETTINGS, code_flow, refresh_request

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
SUPPORTED = ("openid", "profile", "email", "read")


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def alice(stack: Any, monkeypatch: pytest.MonkeyPatch) -> User:
    """``alice`` with a verified address, names and a custom attribute; the public client may
    ask for ``openid profile email read``."""
    monkeypatch.setattr(
        stack, "settings", lambda **o: Stack.settings(stack, **{"scopes_supported": SUPPORTED, **o})
    )
    user = stack.add_user(scopes=SUPPORTED)
    users = UserStore("users")
    users.set_profile(
        "alice", replace(user, name="Alice Liddell", given_name="Alice", attributes=(("department", "R&D"),))
    )
    AccountStore("sessions", users).set_email(
        user, "alice@example.com", email_key("alice@example.com"), verified=True, old_key=None
    )
    stack.add_client(PUBLIC_CLIENT, scopes=SUPPORTED, **PUBLIC_CLIENT_SETTINGS)
    return user


def _service(stack: Any, clock: Any, **settings: Any) -> TokenService:
    return TokenService.from_settings(
        stack.settings(**settings), keys=stack.keyset, hasher=FAST_HASHER, clock=clock
    )


def _refresh(service: TokenService, issuers: Any, refresh_token: str) -> dict[str, Any]:
    return json.loads(service.token(refresh_request(refresh_token, client_id=PUBLIC_CLIENT), issuers).body)


# ---------------------------------------------------------------------- the refresh's ID token
def test_the_refreshed_id_token_repeats_the_profile_as_it_is_now(stack, alice, clock, issuers):
    service = _service(stack, clock)
    tokens = code_flow(stack, service, issuers, clock)
    first = _claims(tokens["id_token"])
    assert (first["email"], first["given_name"], first["department"]) == ("alice@example.com", "Alice", "R&D")
    stored = UserStore("users").get("alice")
    assert stored is not None
    UserStore("users").set_profile("alice", replace(stored, given_name="Ally", attributes=()))
    clock.advance(60)
    refreshed = _claims(_refresh(service, issuers, tokens["refresh_token"])["id_token"])
    assert refreshed["sub"] == alice.user_id
    assert (refreshed["email"], refreshed["email_verified"]) == ("alice@example.com", True)
    assert (refreshed["name"], refreshed["given_name"]) == ("Alice Liddell", "Ally")  # the change shows
    assert "department" not in refreshed  # removed since


def test_the_refreshed_id_token_releases_only_what_the_narrowed_scope_allows(stack, alice, clock, issuers):
    service = _service(stack, clock)
    tokens = code_flow(stack, service, issuers, clock)
    clock.advance(60)
    body = json.loads(
        service.token(
            refresh_request(tokens["refresh_token"], client_id=PUBLIC_CLIENT, scope="openid email"), issuers
        ).body
    )
    refreshed = _claims(body["id_token"])
    assert refreshed["email"] == "alice@example.com"
    assert "name" not in refreshed and "given_name" not in refreshed and "department" not in refreshed


# ---------------------------------------------------------------------- ACCESS_TOKEN_PROFILE_CLAIMS
def test_access_tokens_carry_no_profile_by_default(stack, alice, clock, issuers):
    service = _service(stack, clock)
    tokens = code_flow(stack, service, issuers, clock)
    clock.advance(60)
    for token in (
        tokens["access_token"],
        _refresh(service, issuers, tokens["refresh_token"])["access_token"],
    ):
        claims = _claims(token)
        assert not {"email", "email_verified", "name", "given_name", "department"} & set(claims)


def test_access_tokens_carry_the_configured_profile_claims_by_scope(stack, alice, clock, issuers):
    service = _service(stack, clock, access_token_profile_claims=("email", "given_name", "department"))
    tokens = code_flow(stack, service, issuers, clock)
    access = _claims(tokens["access_token"])
    assert (access["email"], access["given_name"], access["department"]) == (
        "alice@example.com",
        "Alice",
        "R&D",
    )
    assert "email_verified" not in access and "name" not in access  # not listed
    assert (access["sub"], access["scope"]) == (alice.user_id, " ".join(SUPPORTED))  # untouched
    clock.advance(60)
    narrowed = json.loads(
        service.token(
            refresh_request(tokens["refresh_token"], client_id=PUBLIC_CLIENT, scope="openid email read"),
            issuers,
        ).body
    )
    refreshed = _claims(narrowed["access_token"])
    assert refreshed["email"] == "alice@example.com"
    assert "given_name" not in refreshed and "department" not in refreshed  # no scope profile now


def test_the_password_grant_carries_them_too(stack, alice, clock, issuers):
    from tests.functional.oauth.helpers import client_secret_for, form

    stack.add_client(
        "first-party", secret=client_secret_for("first-party"), grants=("password",), scopes=SUPPORTED
    )
    service = _service(stack, clock, access_token_profile_claims=("email", "email_verified"))
    request = form(
        {
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "scope": "email read",
        },
        basic=("first-party", client_secret_for("first-party")),
    )
    claims = _claims(json.loads(service.token(request, issuers).body)["access_token"])
    assert (claims["email"], claims["email_verified"]) == ("alice@example.com", True)


def test_the_authorizer_passes_them_on_through_context_claims(stack, alice, clock, issuers):
    from auth_core.authorizer.service import Authorizer

    service = _service(stack, clock, access_token_profile_claims=("email", "department"))
    token = code_flow(stack, service, issuers, clock)["access_token"]
    authorizer = Authorizer.from_settings(
        stack.settings(context_claims=("roles", "email", "department")), clock=clock
    )
    event = json.loads(
        json.dumps(load_event("authorizer_http_v2_allow.json")).replace("{{access_token}}", token)
    )
    answer = authorizer(event)
    context = answer["context"]
    assert (context["sub"], context["email"], context["department"]) == (
        alice.user_id,
        "alice@example.com",
        "R&D",
    )


# ---------------------------------------------------------------------- reserved names
@pytest.mark.parametrize("name", ["sub", "scope", "roles", "cnf", "sid", "email", "preferred_username"])
def test_custom_attributes_may_not_take_a_reserved_claim_name(name):
    with pytest.raises(ConfigurationError, match="CUSTOM_ATTRIBUTES"):
        Settings.from_env({"CUSTOM_ATTRIBUTES": f"department {name}"})


@pytest.mark.parametrize(
    ("value", "attributes"),
    [("sub", ""), ("roles", ""), ("scope", ""), ("team", "department"), ("a-b", ""), ("exp", "")],
)
def test_access_token_profile_claims_name_only_profile_claims(value, attributes):
    with pytest.raises(ConfigurationError, match="ACCESS_TOKEN_PROFILE_CLAIMS"):
        Settings.from_env({"ACCESS_TOKEN_PROFILE_CLAIMS": f"email {value}", "CUSTOM_ATTRIBUTES": attributes})


def test_access_token_profile_claims_accepts_the_profile():
    settings = Settings.from_env(
        {
            "ACCESS_TOKEN_PROFILE_CLAIMS": "email email_verified name department",
            "CUSTOM_ATTRIBUTES": "department",
        }
    )
    assert settings.access_token_profile_claims == ("email", "email_verified", "name", "department")
    assert Settings.from_env({}).access_token_profile_claims == ()


def test_a_stored_attribute_with_a_reserved_name_is_never_released():
    """An attribute written before the check (or straight into the table) named like a claim the
    service sets: ``/userinfo`` (which applies these claims after ``sub``), the ID token and the
    access token must not take it."""
    user = User(
        "alice", "h", attributes=(("department", "R&D"), *((n, "forged") for n in ("roles", "scope", "sub")))
    )
    released = profile_claims(user, ("openid", "profile"))
    assert released == {"department": "R&D"}
    assert {"roles", "scope", "sub"} <= RESERVED_ATTRIBUTE_NAMES
