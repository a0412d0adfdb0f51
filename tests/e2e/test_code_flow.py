"""Browser sign-in through the local stack with real relying-party libraries, over real HTTP.

Authlib's OAuth 2.0 / OpenID Connect client and requests-oauthlib run the authorization code flow
with PKCE (S256) against the hosted pages: discovery, ``/authorize``, the sign-in form (filled as a
browser would: every field of the form as served, plus the username and password), the redirect
with ``code``, ``state`` and ``iss`` (RFC 9207), the code exchange, ID-token validation by the
library (signature from the JWKS, ``nonce``, ``at_hash``), ``/userinfo``, ``/me`` through the
authorizer, rotation, the single sign-on session (``prompt=none``) and code reuse.
"""

from __future__ import annotations

import secrets
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from requests_oauthlib import OAuth2Session

pytestmark = pytest.mark.e2e

REDIRECT = "http://127.0.0.1:8765/demo/"  # loopback: any port matches the registered one


class _Forms(HTMLParser):
    """Every ``<form>`` of a page: its action, method and named inputs and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {"action": found.get("action", ""), "method": found.get("method", "get"), "fields": {}}
            )
        elif tag in ("input", "button") and self.forms and found.get("name"):
            if tag == "button" and found.get("type", "submit") != "submit":
                return
            self.forms[-1]["fields"].setdefault(found["name"], found.get("value", ""))


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def spa(stack: Any) -> str:
    return str(stack.info["spa_client_id"])


def discovery(stack: Any) -> dict[str, Any]:
    response = requests.get(stack.api + "/.well-known/openid-configuration", timeout=30)
    assert response.status_code == 200
    return dict(response.json())


def sign_in(browser: requests.Session, stack: Any, authorize_url: str) -> str:
    """Open ``authorize_url``, fill the sign-in form as served, submit it; the ``Location`` the
    server sends the browser to (the client's redirect URI with the response)."""
    page = browser.get(authorize_url, allow_redirects=False, timeout=30)
    assert page.status_code == 200, page.text[:500]
    assert page.headers["Content-Type"].startswith("text/html")
    [form] = [f for f in forms_of(page.text) if "password" in f["fields"]]
    fields = dict(form["fields"], username=stack.info["username"], password=stack.info["password"])
    answer = browser.post(urljoin(page.url, form["action"]), data=fields, allow_redirects=False, timeout=30)
    assert answer.status_code in (302, 303), answer.text[:500]
    return str(answer.headers["Location"])


def response_params(location: str) -> dict[str, str]:
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_discovery_is_valid_openid_provider_metadata(stack):
    doc = discovery(stack)
    OpenIDProviderMetadata(doc).validate()
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert "RS256" in doc["id_token_signing_alg_values_supported"]


def test_authlib_runs_the_code_flow_and_validates_the_id_token(stack):
    doc = discovery(stack)
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    client = AuthlibSession(
        spa(stack), scope="openid profile read", redirect_uri=REDIRECT, code_challenge_method="S256"
    )
    url, state = client.create_authorization_url(
        doc["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    browser = requests.Session()
    location = sign_in(browser, stack, url)
    params = response_params(location)
    assert params["state"] == state
    assert params["iss"] == doc["issuer"]

    token = client.fetch_token(doc["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert token["token_type"].lower() == "bearer"
    assert token["refresh_token"]

    jwks = JsonWebKey.import_key_set(requests.get(doc["jwks_uri"], timeout=30).json())
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"value": doc["issuer"]}, "aud": {"value": spa(stack)}},
        claims_params={"nonce": nonce, "client_id": spa(stack), "access_token": token["access_token"]},
    )
    claims.validate()  # exp, iat, aud, nonce, at_hash, auth_time
    assert claims["sub"] == stack.info["user_id"]
    assert claims["at_hash"] and claims["sid"] and claims["auth_time"]

    me = requests.get(
        stack.api + "/me", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=30
    )
    assert me.status_code == 200, me.text
    info = requests.get(
        doc["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=30
    )
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["preferred_username"] == stack.info["username"]

    refreshed = client.refresh_token(doc["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]


def test_requests_oauthlib_runs_the_code_flow_with_pkce(stack, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the local stack is plain http on loopback
    doc = discovery(stack)
    client = OAuth2Session(spa(stack), redirect_uri=REDIRECT, scope=["openid", "read"], pkce="S256")
    url, state = client.authorization_url(doc["authorization_endpoint"])
    location = sign_in(requests.Session(), stack, url)
    assert response_params(location)["state"] == state
    token = client.fetch_token(doc["token_endpoint"], authorization_response=location, include_client_id=True)
    assert token["access_token"] and token["id_token"]


def _authorize_url(stack: Any, doc: dict[str, Any], **extra: str) -> tuple[str, str]:
    client = AuthlibSession(
        spa(stack), scope="openid read", redirect_uri=REDIRECT, code_challenge_method="S256"
    )
    verifier = secrets.token_urlsafe(48)
    url, _state = client.create_authorization_url(
        doc["authorization_endpoint"], code_verifier=verifier, **extra
    )
    return url, verifier


def test_the_sign_on_session_answers_prompt_none_without_a_page(stack):
    doc = discovery(stack)
    browser = requests.Session()
    url, _ = _authorize_url(stack, doc, prompt="none")
    refused = browser.get(url, allow_redirects=False, timeout=30)
    assert refused.status_code in (302, 303)
    assert response_params(refused.headers["Location"])["error"] == "login_required"
    assert response_params(refused.headers["Location"])["iss"] == doc["issuer"]

    url, _ = _authorize_url(stack, doc)
    sign_in(browser, stack, url)
    url, _ = _authorize_url(stack, doc, prompt="none")
    again = browser.get(url, allow_redirects=False, timeout=30)
    assert again.status_code in (302, 303), again.text[:300]
    assert "code" in response_params(again.headers["Location"])


def test_a_code_used_twice_is_refused_and_ends_what_the_first_use_issued(stack):
    doc = discovery(stack)
    url, verifier = _authorize_url(stack, doc)
    code = response_params(sign_in(requests.Session(), stack, url))["code"]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": spa(stack),
        "code_verifier": verifier,
    }
    first = requests.post(doc["token_endpoint"], data=exchange, timeout=30)
    assert first.status_code == 200, first.text
    second = requests.post(doc["token_endpoint"], data=exchange, timeout=30)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    refresh = requests.post(
        doc["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": first.json()["refresh_token"],
            "client_id": spa(stack),
        },
        timeout=30,
    )
    assert refresh.status_code == 400
    stack.wait_for_revocation()
    me = requests.get(
        stack.api + "/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"}, timeout=30
    )
    assert me.status_code in (401, 403)


def test_a_wrong_code_verifier_is_refused(stack):
    doc = discovery(stack)
    url, _verifier = _authorize_url(stack, doc)
    code = response_params(sign_in(requests.Session(), stack, url))["code"]
    answer = requests.post(
        doc["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": spa(stack),
            "code_verifier": secrets.token_urlsafe(48),
        },
        timeout=30,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_an_unregistered_redirect_uri_gets_a_page_not_a_redirect(stack):
    doc = discovery(stack)
    client = AuthlibSession(
        spa(stack), scope="openid", redirect_uri="https://evil.example/cb", code_challenge_method="S256"
    )
    url, _ = client.create_authorization_url(
        doc["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48)
    )
    answer = requests.get(url, allow_redirects=False, timeout=30)
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert answer.headers["Content-Type"].startswith("text/html")
