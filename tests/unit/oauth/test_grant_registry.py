"""The grant-type registry (auth_core.grant_types) is what dispatch, discovery, clients and the CLI read."""

from __future__ import annotations

import pytest

from auth_core import grant_types
from auth_core.discovery import openid_configuration
from auth_core.errors import InvalidRequestError
from auth_core.grant_types import GRANT_TYPES, GRANTS, check_client_grants
from auth_core.oauth.grants import TokenService
from auth_core.stores.clients import GRANT_TYPES as CLIENT_GRANT_TYPES


def test_every_grant_has_a_token_service_handler():
    for grant in GRANTS.values():
        assert callable(getattr(TokenService, grant.handler, None)), grant.name


def test_discovery_and_the_stores_advertise_the_registry():
    doc = openid_configuration("https://auth.example.com", scopes=())
    assert doc["grant_types_supported"] == list(GRANTS) == list(GRANT_TYPES)
    assert CLIENT_GRANT_TYPES is GRANT_TYPES


def test_password_and_client_credentials_are_confidential_only():
    """Public clients may use only the authorization code grant and refresh (RFC 9700 §2.4)."""
    assert [g.name for g in GRANTS.values() if g.confidential_only] == ["password", "client_credentials"]
    assert [g.name for g in GRANTS.values() if not g.confidential_only] == [
        "authorization_code",
        "refresh_token",
    ]
    assert not GRANTS["client_credentials"].issues_refresh_token  # RFC 6749 §4.4.3
    assert GRANTS["authorization_code"].issues_refresh_token


def test_check_client_grants_keeps_order_and_drops_duplicates():
    assert check_client_grants(["refresh_token", "password", "password"], confidential=True) == (
        "refresh_token",
        "password",
    )


def test_a_public_client_may_use_the_code_grant_and_refresh():
    grants = ["authorization_code", "refresh_token"]
    assert check_client_grants(grants, confidential=False, redirect_uris=["https://app.example/cb"]) == (
        "authorization_code",
        "refresh_token",
    )


@pytest.mark.parametrize(
    ("grants", "confidential"),
    [
        (["implicit"], True),
        (["password", "token"], True),
        (["client_credentials"], False),
        (["password"], False),
        (["password", "refresh_token"], False),
    ],
)
def test_check_client_grants_refuses(grants, confidential):
    with pytest.raises(InvalidRequestError):
        check_client_grants(grants, confidential=confidential)


def test_the_code_grant_needs_a_redirect_uri():
    with pytest.raises(InvalidRequestError):
        check_client_grants(["authorization_code"], confidential=False, redirect_uris=[])


def test_a_new_registry_entry_is_dispatched(monkeypatch):
    """Adding a grant is one entry: the token endpoint dispatches to its handler."""
    extra = grant_types.GrantType("urn:example:test", handler="client_credentials", confidential_only=True)
    monkeypatch.setattr("auth_core.oauth.grants.GRANTS", {**GRANTS, extra.name: extra})
    called = []

    class Probe(TokenService):
        def __init__(self) -> None:  # no stores needed to dispatch
            self.dpop = None  # and no DPoP proof to check

        def client_credentials(self, request, issuers):
            called.append(request.get("grant_type"))
            return "ok"

    class Request:
        def get(self, name: str) -> str | None:
            return {"grant_type": extra.name}.get(name)

    assert Probe().token(Request(), issuers=None) == "ok"  # type: ignore[arg-type]
    assert called == [extra.name]
