"""The hosted pages in headless Chromium: found by label and role, signed in through, checked
with axe-core, at desktop and 320 px widths (screenshots in .local/screenshots/)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from auth_core.stores.clients import Client
from tests.browser.conftest import Stack
from tests.browser.pages import axe_violations, button, by_label, check_page, submit
from tests.hosted_fake import PASSWORD, USERNAME, authorize_query

pytestmark = pytest.mark.browser


def authorize_url(stack: Stack, client: Client, **extra: str) -> str:
    query = authorize_query(client, scope="openid profile read", state="browser-state", **extra)
    return f"{stack.base}/authorize?{query}"


def landed(browser: Any, stack: Stack, path: str) -> dict[str, list[str]]:
    parts = urlsplit(browser.current_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{stack.client_base}{path}", browser.current_url
    return parse_qs(parts.query)


def sign_in(browser: Any, password: str = PASSWORD) -> None:
    by_label(browser, "Username").clear()
    by_label(browser, "Username").send_keys(USERNAME)
    by_label(browser, "Password").send_keys(password)
    submit(browser, button(browser, "Sign in"))


def test_sign_in_page_is_accessible_and_signs_in(browser: Any, stack: Stack) -> None:
    browser.get(authorize_url(stack, stack.first_party))
    assert browser.title.startswith("Sign in")
    assert by_label(browser, "Username").get_attribute("autocomplete") == "username"
    assert by_label(browser, "Password").get_attribute("autocomplete") == "current-password"
    check_page(browser, "sign-in")
    sign_in(browser)
    params = landed(browser, stack, "/callback")
    assert params["code"] == [stack.fake.codes[-1]] and params["state"] == ["browser-state"]
    assert params["iss"] == [stack.fake.issuer]


def test_single_sign_on_needs_no_second_password(browser: Any, stack: Stack) -> None:
    browser.get(authorize_url(stack, stack.first_party))
    sign_in(browser)
    landed(browser, stack, "/callback")
    sign_ins = stack.fake.calls.count("sign_in")
    browser.get(authorize_url(stack, stack.first_party))
    assert landed(browser, stack, "/callback")["code"] == [stack.fake.codes[-1]]
    assert stack.fake.calls.count("sign_in") == sign_ins


def test_a_wrong_password_is_said_accessibly(browser: Any, stack: Stack) -> None:
    from selenium.webdriver.common.by import By

    browser.get(authorize_url(stack, stack.first_party))
    sign_in(browser, password="wrong")
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert alert.text == "Incorrect username or password."
    assert by_label(browser, "Username").get_attribute("value") == USERNAME
    assert axe_violations(browser) == []


def test_consent_page_is_accessible_and_allows(browser: Any, stack: Stack) -> None:
    browser.get(authorize_url(stack, stack.third_party))
    sign_in(browser)
    assert browser.title.startswith("Allow access?")
    assert "partner-app" in browser.page_source
    check_page(browser, "consent")
    submit(browser, button(browser, "Allow"))
    assert landed(browser, stack, "/cb")["code"] == [stack.fake.codes[-1]]


def test_consent_deny_goes_back_with_access_denied(browser: Any, stack: Stack) -> None:
    browser.get(authorize_url(stack, stack.third_party))
    sign_in(browser)
    submit(browser, button(browser, "Deny"))
    assert landed(browser, stack, "/cb")["error"] == ["access_denied"]


def test_error_and_signed_out_pages_are_accessible(browser: Any, stack: Stack) -> None:
    browser.get(authorize_url(stack, stack.first_party, redirect_uri="https://evil.example/cb"))
    assert "cannot continue" in browser.title
    check_page(browser, "error")
    browser.get(f"{stack.base}/logout")
    assert browser.title.startswith("Signed out")
    check_page(browser, "signed-out")


def test_logout_without_a_hint_asks_first_and_the_confirmation_is_accessible(
    browser: Any, stack: Stack
) -> None:
    """RP-Initiated Logout §2: no id_token_hint for this session, so the user is asked."""
    browser.get(authorize_url(stack, stack.first_party, prompt="login"))  # whatever came before
    sign_in(browser)
    browser.get(f"{stack.base}/logout")
    assert browser.title.startswith("Sign out?")
    check_page(browser, "logout-confirm")
    submit(browser, button(browser, "Sign out"))
    assert browser.title.startswith("Signed out")


def test_form_post_mode_posts_to_the_client(browser: Any, stack: Stack) -> None:
    browser.get(authorize_url(stack, stack.first_party, response_mode="form_post"))
    sign_in(browser)
    # the hashed inline script submits the form: the client's page, reached by POST
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(browser, 60).until(lambda b: urlsplit(b.current_url).path == "/callback")
    assert "Client callback" in browser.page_source
