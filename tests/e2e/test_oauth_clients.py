"""Real OAuth 2.0 and JOSE client libraries against the local stack, over real HTTP.

requests-oauthlib (password grant with automatic refresh, client credentials), Authlib (password
grant, refresh, RFC 7009 revocation) and PyJWT's ``PyJWKClient`` (discovery → JWKS → verify).
"""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient, InvalidGrantError, LegacyApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

pytestmark = pytest.mark.e2e


def test_discovery_and_jwks_verify_an_issued_token_with_pyjwt(stack):
    discovery = requests.get(stack.api + "/.well-known/openid-configuration", timeout=30).json()
    assert discovery["issuer"] == stack.info["issuer"]
    assert discovery["token_endpoint"] == stack.api + "/token"
    jwks = requests.get(discovery["jwks_uri"], timeout=30).json()
    algorithms = sorted({key["alg"] for key in jwks["keys"]})
    assert jwks["keys"] and all("d" not in key for key in jwks["keys"])  # public keys only

    token = stack.login()["access_token"]
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token, signing_key.key, algorithms=algorithms, audience="api", issuer=discovery["issuer"]
    )
    assert claims["sub"] == stack.info["user_id"]
    assert claims["client_id"] == stack.info["client_id"]
    assert set(claims["scope"].split()) == {"openid", "read"}
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, signing_key.key, algorithms=algorithms, audience="another-api")


def test_requests_oauthlib_password_grant_with_automatic_refresh(stack, insecure_transport):
    client_id, client_secret = stack.basic
    saved: list[dict] = []
    # requests-oauthlib sends the scope it finds on the oauthlib client, not the session's.
    session = OAuth2Session(
        client=LegacyApplicationClient(client_id=client_id, scope=["openid", "read"]),
        auto_refresh_url=stack.api + "/refresh",
        token_updater=saved.append,
    )
    token = session.fetch_token(
        token_url=stack.api + "/token",
        username=stack.info["username"],
        password=stack.info["password"],
        auth=HTTPBasicAuth(client_id, client_secret),
    )
    assert token["token_type"].lower() == "bearer" and token["refresh_token"]
    me = session.get(stack.api + "/me", client_id=client_id, client_secret=client_secret)
    assert me.status_code == 200
    assert me.json()["sub"] == stack.info["user_id"]

    # The client believes the access token expired: the next call refreshes it first (Basic auth).
    session.token = {**session.token, "expires_at": time.time() - 10, "expires_in": -10}
    me = session.get(stack.api + "/me", client_id=client_id, client_secret=client_secret)
    assert me.status_code == 200
    assert len(saved) == 1
    refreshed = saved[0]
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]  # rotated

    # Revoke the refresh token (RFC 7009); refreshing with it is then refused.
    revoked = session.post(
        stack.api + "/revoke",
        withhold_token=True,
        auth=HTTPBasicAuth(client_id, client_secret),
        data={"token": refreshed["refresh_token"], "token_type_hint": "refresh_token"},
    )
    assert revoked.status_code == 200
    with pytest.raises(InvalidGrantError):
        session.refresh_token(
            stack.api + "/refresh",
            refresh_token=refreshed["refresh_token"],
            auth=HTTPBasicAuth(client_id, client_secret),
        )


def test_requests_oauthlib_client_credentials_with_basic_auth(stack, insecure_transport):
    client_id, client_secret = stack.basic
    session = OAuth2Session(client=BackendApplicationClient(client_id=client_id, scope=["read"]))
    token = session.fetch_token(token_url=stack.api + "/token", auth=HTTPBasicAuth(client_id, client_secret))
    assert "refresh_token" not in token  # RFC 6749 §4.4.3: no refresh token for client credentials
    assert token["scope"] in ("read", ["read"])
    me = session.get(stack.api + "/me")
    assert me.status_code == 200
    assert me.json()["client_id"] == client_id

    wrong = requests.post(
        stack.api + "/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, "not-the-secret"),
        timeout=30,
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert "Basic" in wrong.headers["WWW-Authenticate"]


def test_authlib_password_grant_refresh_and_revocation(stack, insecure_transport):
    client_id, client_secret = stack.basic
    client = AuthlibSession(
        client_id,
        client_secret,
        scope="openid read",
        token_endpoint_auth_method="client_secret_basic",
        revocation_endpoint_auth_method="client_secret_basic",
    )
    token = client.fetch_token(
        stack.api + "/token",
        grant_type="password",
        username=stack.info["username"],
        password=stack.info["password"],
    )
    assert client.get(stack.api + "/me").status_code == 200

    new = client.refresh_token(stack.api + "/refresh", refresh_token=token["refresh_token"])
    assert new["access_token"] != token["access_token"]

    # Revoke the new access token before it is ever used: the authorizer refuses it once its
    # revocation feed has been read again (REVOCATION_FEED_INTERVAL).
    response = client.revoke_token(
        stack.api + "/revoke", token=new["access_token"], token_type_hint="access_token"
    )
    assert response.status_code == 200
    stack.wait_for_revocation()
    refused = requests.get(
        stack.api + "/me", headers={"Authorization": f"Bearer {new['access_token']}"}, timeout=30
    )
    assert refused.status_code in (401, 403)
    assert refused.json()["message"] in ("Unauthorized", "Forbidden")

    # RFC 7009 §2.2: an unknown or already revoked token is still a 200.
    again = client.revoke_token(stack.api + "/revoke", token="not-a-token-we-issued")
    assert again.status_code == 200
