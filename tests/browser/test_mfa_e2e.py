"""Two-step sign-in in headless Chromium through a private local stack: a client that requires
MFA enrols the user during sign-in (the secret read from the page, codes computed with
``cryptography``), then the user signs out, signs in with a TOTP code, signs out, and signs in
with a recovery code shown at enrolment. The pages are checked with axe-core and screenshotted
(``.local/screenshots/e2e-mfa-*.png``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.pages import button, by_label, check_page, submit
from tests.browser.test_sign_in_e2e import authorize_url, landed, port
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CLIENT = "browser-mfa"
PATH = "/mfa/cb"
USERNAME, PASSWORD = "mfa-browser-user", "a long passphrase for two steps"


@pytest.fixture(scope="module")
def mfa_client(live_stack: Stack) -> Iterator[str]:
    """A first-party client that requires a second factor, and a user without one yet."""
    from auth_core.grant_types import AUTHORIZATION_CODE
    from auth_core.passwords import PasswordHasher
    from auth_core.stores.clients import Client, ClientStore
    from auth_core.stores.users import User, UserStore

    ddb = live_stack.dynamodb()
    ClientStore(live_stack.info["clients_table"], client=ddb).create(
        Client(
            client_id=CLIENT,
            grant_types=(AUTHORIZATION_CODE,),
            scopes=("openid", "profile", "read"),
            redirect_uris=(f"http://127.0.0.1{PATH}",),
            first_party=True,
            mfa="required",
        )
    )
    UserStore(live_stack.info["users_table"], client=ddb).create(
        User(USERNAME, PasswordHasher().hash(PASSWORD), scopes=("openid", "profile", "read"))
    )
    yield CLIENT


def code(secret: str, steps_ahead: int = 0) -> str:
    """The TOTP code of now (+ steps), as an authenticator app computes it (RFC 6238)."""
    import base64

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303 - what apps implement
    return totp.generate(time.time() + 30 * steps_ahead).decode()


def password_step(browser: Any) -> None:
    assert browser.title.startswith("Sign in"), browser.title
    by_label(browser, "Username").clear()
    by_label(browser, "Username").send_keys(USERNAME)
    by_label(browser, "Password").send_keys(PASSWORD)
    submit(browser, button(browser, "Sign in"))


def sign_out(browser: Any, stack: Stack) -> None:
    browser.get(stack.api + "/logout")
    assert browser.title.startswith("Sign out?"), browser.title
    submit(browser, button(browser, "Sign out"))
    assert browser.title.startswith("Signed out"), browser.title


def test_enrol_then_totp_then_a_recovery_code(
    live_browser: Any, live_stack: Stack, mfa_client: str, client_site: str
) -> None:
    from selenium.webdriver.common.by import By

    browser, stack = live_browser, live_stack
    redirect = f"http://127.0.0.1:{port(client_site)}{PATH}"

    # 1. the password, then enrolment: QR code (inline SVG), the secret as text, recovery codes
    browser.get(authorize_url(stack, mfa_client, redirect))
    password_step(browser)
    assert browser.title.startswith("Set up two-step verification"), browser.title
    assert browser.find_element(By.CSS_SELECTOR, ".qr svg").is_displayed()
    secret = browser.find_element(By.ID, "totp-secret").text
    recovery = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    assert len(secret) == 32 and len(recovery) == 10
    check_page(browser, "e2e-mfa-enrol")
    by_label(browser, "Code from your app").send_keys("000000" if code(secret) != "000000" else "111111")
    submit(browser, button(browser, "Verify"))
    assert "not valid" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    by_label(browser, "Code from your app").send_keys(code(secret))
    submit(browser, button(browser, "Verify"))
    answer = landed(browser, client_site, PATH)
    assert set(answer) == {"code", "state", "iss"}
    sign_out(browser, stack)

    # 2. the password, then a code from the app (the next step's: this step's code is spent)
    browser.get(authorize_url(stack, mfa_client, redirect))
    password_step(browser)
    assert browser.title.startswith("Two-step verification"), browser.title
    assert not browser.find_elements(By.ID, "totp-secret")
    check_page(browser, "e2e-mfa-verify")
    by_label(browser, "Code").send_keys(code(secret, steps_ahead=1))
    submit(browser, button(browser, "Verify"))
    assert set(landed(browser, client_site, PATH)) == {"code", "state", "iss"}
    sign_out(browser, stack)

    # 3. the password, then a recovery code
    browser.get(authorize_url(stack, mfa_client, redirect))
    password_step(browser)
    by_label(browser, "Code").send_keys(recovery[0])
    submit(browser, button(browser, "Verify"))
    assert set(landed(browser, client_site, PATH)) == {"code", "state", "iss"}
    assert urlsplit(browser.current_url).path == PATH
