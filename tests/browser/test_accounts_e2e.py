"""Self-service accounts end to end in headless Chromium through a private local stack: sign up
from a client's sign-in page, read the code in the local mailbox (``/local/mail``), verify, land
back in the authorization flow and sign in; sign out; forget the password, read the reset code,
choose a new one; the single sign-on session from before the reset is refused.

As in ``test_sign_in_e2e``: controls by label and role, waits for conditions, never a clock.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.pages import button, by_label, check_page, submit
from tests.browser.test_sign_in_e2e import authorize_url, landed, port
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SIGNUP_CLIENT = "browser-signup"
CALLBACK = "/signup/cb"
SCOPE = "openid profile"


@pytest.fixture(scope="module")
def signup_client(live_stack: Stack) -> Iterator[str]:
    """A first-party public client that lets people sign up, written as ``authctl clients create
    --allow-signup`` would."""
    from auth_core.grant_types import AUTHORIZATION_CODE, REFRESH_TOKEN
    from auth_core.stores.clients import Client, ClientStore

    ClientStore(live_stack.info["clients_table"], client=live_stack.dynamodb()).create(
        Client(
            client_id=SIGNUP_CLIENT,
            grant_types=(AUTHORIZATION_CODE, REFRESH_TOKEN),
            scopes=("openid", "profile"),
            redirect_uris=(f"http://127.0.0.1{CALLBACK}",),
            first_party=True,
            allow_signup=True,
        )
    )
    yield SIGNUP_CLIENT


def open_mail(browser: Any, stack: Stack, to: str, subject: str) -> tuple[str, Any]:
    """The newest message to ``to`` whose subject ends with ``subject``, on the mailbox page:
    its code, and its link (to follow as the recipient would)."""
    from selenium.webdriver.common.by import By

    browser.get(stack.api + "/local/mail")
    for article in browser.find_elements(By.TAG_NAME, "article"):
        heading = article.find_element(By.TAG_NAME, "h2").text
        if to in article.text and heading.endswith(subject):
            found = re.search(r"Your code:\s*(\d{8})", article.find_element(By.TAG_NAME, "pre").text)
            assert found, article.text
            [link] = article.find_elements(By.CSS_SELECTOR, "p > a")
            assert found.group(1) in str(link.get_attribute("href"))
            return found.group(1), link
    raise AssertionError(f"no {subject!r} mail to {to}")


def fill(browser: Any, **fields: str) -> None:
    for label, value in fields.items():
        control = by_label(browser, label.replace("_", " "))
        control.clear()
        control.send_keys(value)


def test_sign_up_verify_sign_in_then_reset_ends_the_old_session(
    live_browser: Any, live_stack: Stack, signup_client: str, client_site: str
) -> None:
    from selenium.webdriver.common.by import By

    browser, stack = live_browser, live_stack
    email = f"new-{secrets.token_hex(4)}@example.com"
    password, new_password = "a long enough passphrase 7", "another long passphrase 8"
    callback = f"http://127.0.0.1:{port(client_site)}{CALLBACK}"

    # the client's sign-in page links to sign-up, keeping the authorization request
    browser.get(authorize_url(stack, signup_client, callback, scope=SCOPE))
    assert browser.title.startswith("Sign in"), browser.title
    link = browser.find_element(By.LINK_TEXT, "Create an account")
    submit(browser, link)
    assert browser.title.startswith("Create an account"), browser.title
    check_page(browser, "e2e-sign-up")
    fill(browser, Email_address=email, Password=password)
    submit(browser, button(browser, "Create account"))
    assert browser.title.startswith("Confirm your email address"), browser.title

    # the mail's link opens the confirmation form filled in; only its button spends the code
    _code, link = open_mail(browser, stack, email, "verify your email address")
    submit(browser, link)
    assert browser.title.startswith("Confirm your email address"), browser.title
    check_page(browser, "e2e-verify")
    fill(browser, Password=password)  # the password chosen at sign-up, asked again
    submit(browser, button(browser, "Confirm"))
    assert browser.title.startswith("Email address confirmed"), browser.title

    # back into the authorization flow, then sign in with the new account
    submit(browser, browser.find_element(By.LINK_TEXT, "Continue to sign in"))
    assert browser.title.startswith("Sign in"), browser.title
    fill(browser, Username=email, Password=password)
    submit(browser, button(browser, "Sign in"))
    answer = landed(browser, client_site, CALLBACK)
    assert set(answer) == {"code", "state", "iss"}, answer

    # sign out (asked, no id_token_hint), then sign in again: the session the reset must end
    browser.get(stack.api + "/logout")
    submit(browser, button(browser, "Sign out"))
    assert browser.title.startswith("Signed out"), browser.title
    browser.get(authorize_url(stack, signup_client, callback, scope=SCOPE))
    assert browser.title.startswith("Sign in"), (browser.title, browser.current_url)
    fill(browser, Username=email, Password=password)
    submit(browser, button(browser, "Sign in"))
    assert set(landed(browser, client_site, CALLBACK)) == {"code", "state", "iss"}
    browser.get(authorize_url(stack, signup_client, callback, scope=SCOPE, prompt="none"))
    assert "code" in landed(browser, client_site, CALLBACK), "single sign-on is live"

    # forgot -> the code by mail -> a new password
    browser.get(stack.api + "/account/forgot")
    fill(browser, Email_address=email)
    submit(browser, button(browser, "Send code"))
    assert browser.title.startswith("Choose a new password"), browser.title
    code, _link = open_mail(browser, stack, email, "reset your password")
    browser.get(stack.api + "/account/reset")  # typing the code this time, not the link
    fill(browser, Email_address=email, Code=code, New_password=new_password)
    submit(browser, button(browser, "Change password"))
    assert browser.title.startswith("Password changed"), browser.page_source
    assert urlsplit(browser.current_url).path == "/account/reset"

    # the single sign-on session from before the reset is over; the new password signs in
    browser.get(authorize_url(stack, signup_client, callback, scope=SCOPE, prompt="none"))
    answer = landed(browser, client_site, CALLBACK)
    assert answer.get("error") == "login_required", answer
    browser.get(authorize_url(stack, signup_client, callback, scope=SCOPE))
    fill(browser, Username=email, Password=new_password)
    submit(browser, button(browser, "Sign in"))
    assert set(landed(browser, client_site, CALLBACK)) == {"code", "state", "iss"}
