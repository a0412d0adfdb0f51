"""The demo single-page app with DPoP (RFC 9449), in headless Chromium through a private local
stack with ``AuthorizerDpop=optional`` and server nonces on: the page makes a non-extractable
P-256 key with Web Crypto, names it in the authorization request (``dpop_jkt``), takes the token
endpoint's nonce, gets a DPoP-bound token (``token_type`` DPoP, ``cnf.jkt`` its key's thumbprint),
calls ``GET /me`` through the authorizer with a proof, refreshes with proofs, and deletes the key
at sign-out. The same access token taken out of the page is refused as a bearer token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.browser.conftest import _fresh
from tests.browser.test_sign_in_e2e import (
    button,
    demo_log,
    sign_in,
    submit,
    text_of,
    wait_for,
    wait_for_status,
)
from tests.e2e.conftest import Stack
from tests.e2e.conftest import start as start_stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

#: the page's key, read back from its IndexedDB: is the private half extractable, can it be
#: exported, and the public half's RFC 7638 thumbprint (computed here, in Python, below)
READ_KEY = """
const done = arguments[arguments.length - 1];
const opening = indexedDB.open("demo-spa", 1);
opening.onupgradeneeded = () => opening.result.createObjectStore("keys");
opening.onsuccess = () => {
  const request = opening.result.transaction("keys").objectStore("keys").get("dpop");
  request.onsuccess = async () => {
    const pair = request.result;
    if (!pair) { done(null); return; }
    let exported = true;
    try { await crypto.subtle.exportKey("jwk", pair.privateKey); } catch (e) { exported = false; }
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    done({ extractable: pair.privateKey.extractable, exported, jwk });
  };
};
"""


@pytest.fixture(scope="module")
def dpop_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from start_stack(
        tmp_path_factory.mktemp("browser-dpop-stack"), AuthorizerDpop="optional", DpopNonceRequired="true"
    )


@pytest.fixture
def dpop_browser(driver: Any, dpop_stack: Stack) -> Iterator[Any]:
    yield _fresh(driver)


def claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def thumbprint(jwk: dict[str, str]) -> str:
    from auth_core.jwk import jwk_thumbprint

    return jwk_thumbprint({k: jwk[k] for k in ("kty", "crv", "x", "y")})


def test_the_demo_app_gets_a_dpop_bound_token_and_calls_the_api_with_proofs(
    dpop_browser: Any, dpop_stack: Stack
) -> None:
    browser, stack = dpop_browser, dpop_stack
    browser.get(stack.api + "/demo/")
    wait_for_status(browser, "Signed out.")
    assert text_of(browser, "mode").startswith("DPoP-bound")
    submit(browser, button(browser, "Sign in"))
    assert urlsplit(browser.current_url).path == "/authorize"
    sign_in(browser, stack)
    wait_for_status(browser, "Signed in.")

    log = demo_log(browser)
    assert "the token endpoint asked for a DPoP nonce: retrying with it" in log, log
    assert log[-1].endswith("token type DPoP"), log
    key = browser.execute_async_script(READ_KEY)
    assert key is not None and key["extractable"] is False and key["exported"] is False
    token = browser.execute_script("return tokens.access_token")
    assert claims_of(token)["cnf"] == {"jkt": thumbprint(key["jwk"])}

    button(browser, "Call GET /me").click()
    wait_for(browser, lambda b: text_of(b, "me") != "(not called)")
    assert text_of(browser, "me").startswith("200"), text_of(browser, "me")
    assert stack.info["user_id"] in text_of(browser, "me")

    # the token taken out of the page, without the key: refused at the API
    stolen = requests.get(stack.api + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert stolen.status_code == 401

    count = len(demo_log(browser))
    button(browser, "Refresh (rotate)").click()
    wait_for(browser, lambda b: len(demo_log(b)) > count)
    assert demo_log(browser)[-1] == "refreshed: new access token; refresh token rotated"
    refreshed = browser.execute_script("return tokens.access_token")
    assert refreshed != token and claims_of(refreshed)["cnf"] == {"jkt": thumbprint(key["jwk"])}

    submit(browser, button(browser, "Sign out"))
    wait_for(browser, lambda b: urlsplit(b.current_url).path == "/demo/")
    wait_for_status(browser, "Signed out.")
    assert browser.execute_async_script(READ_KEY) is None, "the key is deleted at sign-out"
