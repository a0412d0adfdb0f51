"""Sign-in end to end in headless Chromium through a private local stack: the demo single-page
app (sign in, claims, ``GET /me``, refresh with rotation, sign out), single sign-on across two
clients with a third party's consent page, ``prompt=none``, and the error pages.

Everything is found as a person finds it (labels, roles and accessible names); waits are for
conditions, never for a clock. Screenshots of the real sign-in and consent pages go to
``.local/screenshots/e2e-*.png``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.browser.pages import button, by_label, check_page, submit
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

#: a third-party public client registered by this module (consent page, loopback redirect)
PARTNER = "browser-partner"
PARTNER_PATH = "/partner/cb"
#: generous bound for a page or a fetch on a loaded machine; it only ends a hung run
WAIT = 60


def wait_for(browser: Any, condition: Any) -> Any:
    from selenium.webdriver.support.wait import WebDriverWait

    return WebDriverWait(browser, WAIT).until(condition)


def text_of(browser: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.ID, element_id).text)


def status(browser: Any) -> Any:
    """The demo's live status line (its ``role=status`` element)."""
    from selenium.webdriver.common.by import By

    [found] = browser.find_elements(By.CSS_SELECTOR, "[role=status]")
    return found


def wait_for_status(browser: Any, expected: str) -> None:
    wait_for(browser, lambda b: status(b).text not in ("", "Loading…"))
    assert status(browser).text == expected, status(browser).text


def demo_log(browser: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [item.text for item in browser.find_elements(By.CSS_SELECTOR, "#log li")]


def sign_in(browser: Any, stack: Stack) -> None:
    """On the hosted sign-in page: the demo user's credentials, by label; "Sign in" by role."""
    assert browser.title.startswith("Sign in"), browser.title
    by_label(browser, "Username").clear()
    by_label(browser, "Username").send_keys(stack.info["username"])
    by_label(browser, "Password").send_keys(stack.info["password"])
    submit(browser, button(browser, "Sign in"))


def authorize_url(stack: Stack, client_id: str, redirect_uri: str, **extra: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile read",
        "state": "e2e-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{stack.api}/authorize?{urlencode(query)}"


def landed(browser: Any, base: str, path: str) -> dict[str, str]:
    """The authorization response's parameters on the relying party's page at ``base + path``."""
    wait_for(browser, lambda b: urlsplit(b.current_url).path == path)
    parts = urlsplit(browser.current_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == base + path, browser.current_url
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def demo_sign_in(browser: Any, stack: Stack) -> None:
    browser.get(stack.api + "/demo/")
    wait_for_status(browser, "Signed out.")
    submit(browser, button(browser, "Sign in"))
    sign_in(browser, stack)
    wait_for_status(browser, "Signed in.")


@pytest.fixture(scope="module")
def partner(live_stack: Stack) -> Iterator[str]:
    """``browser-partner``: public, NOT first party, redirect ``http://127.0.0.1/partner/cb``
    (loopback: any port), written into the stack's DynamoDB as ``authctl`` would."""
    from auth_core.grant_types import AUTHORIZATION_CODE, REFRESH_TOKEN
    from auth_core.stores.clients import Client, ClientStore

    ClientStore(live_stack.info["clients_table"], client=live_stack.dynamodb()).create(
        Client(
            client_id=PARTNER,
            grant_types=(AUTHORIZATION_CODE, REFRESH_TOKEN),
            scopes=("openid", "profile", "read"),
            redirect_uris=(f"http://127.0.0.1{PARTNER_PATH}",),
            first_party=False,
        )
    )
    yield PARTNER


def test_the_demo_app_signs_in_calls_me_refreshes_and_signs_out(
    live_browser: Any, live_stack: Stack, client_site: str
) -> None:
    browser, stack = live_browser, live_stack
    browser.get(stack.api + "/demo/")
    wait_for_status(browser, "Signed out.")
    submit(browser, button(browser, "Sign in"))
    assert urlsplit(browser.current_url).path == "/authorize"
    check_page(browser, "e2e-sign-in")
    sign_in(browser, stack)

    wait_for_status(browser, "Signed in.")
    assert urlsplit(browser.current_url).query == "", "the code must not stay in the address bar"
    assert f'"sub": "{stack.info["user_id"]}"' in text_of(browser, "claims")
    check_page(browser, "e2e-demo-signed-in")

    button(browser, "Call GET /me").click()
    wait_for(browser, lambda b: text_of(b, "me") != "(not called)")
    assert text_of(browser, "me").startswith("200"), text_of(browser, "me")
    assert stack.info["user_id"] in text_of(browser, "me")

    for _ in range(2):  # the second refresh uses the rotated token (reuse of the old one would fail)
        count = len(demo_log(browser))
        button(browser, "Refresh (rotate)").click()
        wait_for(browser, lambda b, n=count: len(demo_log(b)) > n)
        assert demo_log(browser)[-1] == "refreshed: new access token; refresh token rotated"
        assert status(browser).text == "Signed in."

    submit(browser, button(browser, "Sign out"))
    wait_for(browser, lambda b: urlsplit(b.current_url).path == "/demo/")
    wait_for_status(browser, "Signed out.")
    assert demo_log(browser)[-1].startswith("signed out")

    # the sign-on session is over: demo-spa asking without a page (its redirect on another
    # loopback port, where the response stays readable) hears login_required
    elsewhere = f"http://127.0.0.1:{port(client_site)}/demo/"
    browser.get(authorize_url(stack, "demo-spa", elsewhere, prompt="none"))
    answer = landed(browser, client_site, "/demo/")
    assert answer == {"error": "login_required", "state": "e2e-state", "iss": stack.info["issuer"]}


def port(base: str) -> int:
    return int(urlsplit(base).port or 0)


def partner_redirect(client_site: str) -> str:
    return f"http://127.0.0.1:{port(client_site)}{PARTNER_PATH}"


def no_password_field(browser: Any) -> bool:
    from selenium.webdriver.common.by import By

    return not browser.find_elements(By.CSS_SELECTOR, "input[type=password]")


def test_a_second_client_needs_no_password_but_asks_consent(
    live_browser: Any, live_stack: Stack, partner: str, client_site: str
) -> None:
    browser, stack = live_browser, live_stack
    demo_sign_in(browser, stack)
    issuer = stack.info["issuer"]

    # signed in, but this third party has no consent yet: prompt=none cannot ask for it
    browser.get(authorize_url(stack, partner, partner_redirect(client_site), prompt="none"))
    answer = landed(browser, client_site, PARTNER_PATH)
    assert answer == {"error": "consent_required", "state": "e2e-state", "iss": issuer}

    browser.get(authorize_url(stack, partner, partner_redirect(client_site)))
    assert browser.title.startswith("Allow access?"), browser.title
    assert no_password_field(browser), "single sign-on: no second password prompt"
    assert partner in browser.page_source
    check_page(browser, "e2e-consent")
    submit(browser, button(browser, "Deny"))
    answer = landed(browser, client_site, PARTNER_PATH)
    assert answer == {"error": "access_denied", "state": "e2e-state", "iss": issuer}

    browser.get(authorize_url(stack, partner, partner_redirect(client_site)))
    assert browser.title.startswith("Allow access?"), "a denial is not remembered as consent"
    submit(browser, button(browser, "Allow"))
    answer = landed(browser, client_site, PARTNER_PATH)
    assert set(answer) == {"code", "state", "iss"} and answer["state"] == "e2e-state"
    assert answer["iss"] == issuer

    # consent given and the session alive: now prompt=none answers with a code
    browser.get(authorize_url(stack, partner, partner_redirect(client_site), prompt="none"))
    assert set(landed(browser, client_site, PARTNER_PATH)) == {"code", "state", "iss"}


@pytest.mark.parametrize(
    ("case", "client_id", "redirect_uri"),
    [
        pytest.param(case, client_id, uri, id=case)
        for case, client_id, uri in (
            ("unregistered-redirect", "demo-spa", "https://evil.example/demo/"),
            ("look-alike-redirect", "demo-spa", "http://127.0.0.1.evil.example/demo/"),
            ("unknown-client", "no-such-client", "http://127.0.0.1/demo/"),
        )
    ],
)
def test_a_request_that_cannot_be_redirected_shows_the_error_page(
    live_browser: Any, live_stack: Stack, case: str, client_id: str, redirect_uri: str
) -> None:
    from selenium.webdriver.common.by import By

    browser, stack = live_browser, live_stack
    browser.get(authorize_url(stack, client_id, redirect_uri))
    parts = urlsplit(browser.current_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == stack.api + "/authorize", "no redirect"
    assert browser.title.startswith("Sign-in cannot continue"), browser.title
    heading = browser.find_element(By.TAG_NAME, "h1")
    assert heading.is_displayed() and heading.text == "Sign-in cannot continue"
    explanation = browser.find_element(By.CSS_SELECTOR, "main p")
    assert explanation.is_displayed() and len(explanation.text) > 20, explanation.text
    assert "evil.example" not in " ".join(
        a.get_attribute("href") or "" for a in browser.find_elements(By.TAG_NAME, "a")
    )
    check_page(browser, f"e2e-error-{case}")
