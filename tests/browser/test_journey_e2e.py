"""One user's whole journey in headless Chromium through a private local stack, each step on
the state the one before left: sign up from a client's sign-in page, read the code in the local
mailbox, verify, sign in; open the self-service page ``/authorize/mfa/setup`` and turn on
two-step verification (under the default ``optional`` policy); sign out; sign in with a code
from the app; sign out; sign in with a recovery code; forget the password, reset it from the
mailed code; the single sign-on session from before the reset is refused, and the new password
(with a code) signs in.

As in ``test_sign_in_e2e``: controls by label and role, waits for conditions, never a clock
(a TOTP code is computed for the step it is typed in, as an authenticator app would).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.pages import button, by_label, check_page, submit
from tests.browser.test_accounts_e2e import fill, open_mail
from tests.browser.test_mfa_e2e import code, sign_out
from tests.browser.test_sign_in_e2e import authorize_url, landed, port
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CLIENT = "browser-journey"
CALLBACK = "/journey/cb"
SCOPE = "openid profile"
SETUP = "/authorize/mfa/setup"


@pytest.fixture(scope="module")
def journey_client(live_stack: Stack) -> Iterator[str]:
    """A first-party client that lets people sign up; its MFA policy is the default (optional)."""
    from auth_core.grant_types import AUTHORIZATION_CODE
    from auth_core.stores.clients import Client, ClientStore

    ClientStore(live_stack.info["clients_table"], client=live_stack.dynamodb()).create(
        Client(
            client_id=CLIENT,
            grant_types=(AUTHORIZATION_CODE,),
            scopes=("openid", "profile"),
            redirect_uris=(f"http://127.0.0.1{CALLBACK}",),
            first_party=True,
            allow_signup=True,
        )
    )
    yield CLIENT


def test_sign_up_to_mfa_to_reset_in_one_journey(
    live_browser: Any, live_stack: Stack, journey_client: str, client_site: str
) -> None:
    from selenium.webdriver.common.by import By

    browser, stack = live_browser, live_stack
    email = f"journey-{secrets.token_hex(4)}@example.com"
    password, new_password = "a long enough passphrase 9", "another long passphrase 10"
    callback = f"http://127.0.0.1:{port(client_site)}{CALLBACK}"
    start = authorize_url(stack, journey_client, callback, scope=SCOPE)

    def password_step(secret_word: str) -> None:
        assert browser.title.startswith("Sign in"), (browser.title, browser.current_url)
        fill(browser, Username=email, Password=secret_word)
        submit(browser, button(browser, "Sign in"))

    def code_step(value: str) -> None:
        assert browser.title.startswith("Two-step verification"), browser.title
        by_label(browser, "Code").send_keys(value)
        submit(browser, button(browser, "Verify"))
        assert set(landed(browser, client_site, CALLBACK)) == {"code", "state", "iss"}

    # 1. sign up from the client's sign-in page; the code arrives in the mailbox
    browser.get(start)
    submit(browser, browser.find_element(By.LINK_TEXT, "Create an account"))
    assert browser.title.startswith("Create an account"), browser.title
    fill(browser, Email_address=email, Password=password)
    submit(browser, button(browser, "Create account"))
    assert browser.title.startswith("Confirm your email address"), browser.title
    _code, link = open_mail(browser, stack, email, "verify your email address")
    submit(browser, link)
    fill(browser, Password=password)
    submit(browser, button(browser, "Confirm"))
    assert browser.title.startswith("Email address confirmed"), browser.title

    # 2. sign in: the policy is optional and nothing is enrolled, so the password is enough
    submit(browser, browser.find_element(By.LINK_TEXT, "Continue to sign in"))
    password_step(password)
    assert set(landed(browser, client_site, CALLBACK)) == {"code", "state", "iss"}

    # 3. the self-service page: QR code, secret, recovery codes; a wrong code, then the right one
    browser.get(stack.api + SETUP)
    assert browser.title.startswith("Set up two-step verification"), browser.title
    assert browser.find_element(By.CSS_SELECTOR, ".qr svg").is_displayed()
    secret = browser.find_element(By.ID, "totp-secret").text
    recovery = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    assert len(secret) == 32 and len(recovery) == 10
    check_page(browser, "e2e-mfa-setup")
    by_label(browser, "Code from your app").send_keys("000000" if code(secret) != "000000" else "111111")
    submit(browser, button(browser, "Turn on"))
    assert "not valid" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert browser.find_element(By.ID, "totp-secret").text == secret  # the same pending setup
    by_label(browser, "Code from your app").send_keys(code(secret))
    submit(browser, button(browser, "Turn on"))
    assert browser.title.startswith("Two-step verification is on"), browser.title
    browser.get(stack.api + SETUP)
    assert "10 recovery codes left" in browser.find_element(By.ID, "mfa-status").text
    check_page(browser, "e2e-mfa-status")
    sign_out(browser, stack)

    # 4. the password, then a code from the app (the next step's: this step's code is spent)
    browser.get(start)
    password_step(password)
    code_step(code(secret, steps_ahead=1))
    sign_out(browser, stack)

    # 5. the password, then a recovery code
    browser.get(start)
    password_step(password)
    code_step(recovery[0])
    browser.get(authorize_url(stack, journey_client, callback, scope=SCOPE, prompt="none"))
    assert "code" in landed(browser, client_site, CALLBACK), "single sign-on is live"

    # 6. forgot -> the code by mail -> a new password
    browser.get(stack.api + "/account/forgot")
    fill(browser, Email_address=email)
    submit(browser, button(browser, "Send code"))
    assert browser.title.startswith("Choose a new password"), browser.title
    reset_code, _link = open_mail(browser, stack, email, "reset your password")
    browser.get(stack.api + "/account/reset")
    fill(browser, Email_address=email, Code=reset_code, New_password=new_password)
    submit(browser, button(browser, "Change password"))
    assert browser.title.startswith("Password changed"), browser.title

    # 7. the session from before the reset is refused; the self-service page wants a sign-in
    browser.get(authorize_url(stack, journey_client, callback, scope=SCOPE, prompt="none"))
    answer = landed(browser, client_site, CALLBACK)
    assert answer.get("error") == "login_required", answer
    browser.get(stack.api + SETUP)
    assert browser.title.startswith("Sign-in required"), browser.title
    # the old password no longer works; the new one does, with the second factor still on
    browser.get(start)
    password_step(password)
    assert "Incorrect username or password" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    password_step(new_password)
    code_step(recovery[1])
