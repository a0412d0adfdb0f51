"""RFC 7662 introspection through the local HTTP API, with Authlib as the resource server's client.

The demo client is confidential (Basic credentials in ``stack.json``), so it may introspect its
own tokens; the route is public at the gateway (``Auth: NONE``) and protected by client
authentication in the function.
"""

from __future__ import annotations

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession

pytestmark = pytest.mark.e2e


def test_introspection_reflects_login_and_revocation(stack, insecure_transport):
    discovery = requests.get(stack.api + "/.well-known/openid-configuration", timeout=30).json()
    endpoint = discovery["introspection_endpoint"]
    assert endpoint == stack.api + "/introspect"
    assert "none" not in discovery["introspection_endpoint_auth_methods_supported"]

    client_id, client_secret = stack.basic
    client = AuthlibSession(
        client_id,
        client_secret,
        token_endpoint_auth_method="client_secret_basic",
        revocation_endpoint_auth_method="client_secret_basic",
    )
    pair = stack.login()

    response = client.introspect_token(endpoint, token=pair["access_token"], token_type_hint="access_token")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    active = response.json()
    assert active["active"] is True
    assert "username" not in active  # an access token's sub is opaque; the username is not in it
    assert (active["sub"], active["client_id"]) == (
        stack.info["user_id"],
        client_id,
    )
    assert active["token_type"] == "Bearer" and active["iss"] == stack.info["issuer"]
    assert set(active["scope"].split()) == {"openid", "read"}
    assert pair["access_token"] not in response.text

    # a wrong hint is only a hint (RFC 7662 §2.1)
    refresh = client.introspect_token(endpoint, token=pair["refresh_token"], token_type_hint="access_token")
    assert refresh.json()["active"] is True and refresh.json()["token_type"] == "refresh_token"

    # revoking the refresh token ends the session: both tokens are inactive at once
    assert client.revoke_token(stack.api + "/revoke", token=pair["refresh_token"]).status_code == 200
    for token in (pair["access_token"], pair["refresh_token"], "not-a-token-we-issued"):
        inactive = client.introspect_token(endpoint, token=token)
        assert (inactive.status_code, inactive.json()) == (200, {"active": False})

    # no client authentication, or a wrong secret: 401 invalid_client
    anonymous = requests.post(endpoint, data={"token": pair["access_token"]}, timeout=30)
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")
    wrong = requests.post(endpoint, data={"token": "x"}, auth=(client_id, "wrong-secret"), timeout=30)
    assert wrong.status_code == 401
