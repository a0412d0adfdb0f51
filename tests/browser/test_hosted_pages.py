"""The hosted pages in headless Chromium: found by label and role, signed in through, checked
with axe-core, at desktop and 320 px widths (screenshots in .local/screenshots/)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from auth_core.stores.clients import Client
from tests.browser.conftest import AXE, SCREENSHOTS, Stack
from tests.hosted_fake import PASSWORD, USERNAME, authorize_query

pytestmark = pytest.mark.browser

DESKTOP = (1280, 900)
NARROW = 320


def authorize_url(stack: Stack, client: Client, **extra: str) -> str:
    query = authorize_query(client, scope="openid profile read", state="browser-state", **extra)
    return f"{stack.base}/authorize?{query}"


def by_label(browser: Any, text: str) -> Any:
    """The control a ``<label>`` with exactly ``text`` names (as a screen reader user finds it)."""
    from selenium.webdriver.common.by import By

    label = browser.find_element(By.XPATH, f"//label[normalize-space()='{text}']")
    control = browser.find_element(By.ID, label.get_attribute("for"))
    assert control.accessible_name == text
    return control


def button(browser: Any, name: str) -> Any:
    """The control whose computed role is ``button`` and accessible name ``name``."""
    from selenium.webdriver.common.by import By

    found = [
        b
        for b in browser.find_elements(By.CSS_SELECTOR, "button, [role=button]")
        if b.accessible_name == name
    ]
    assert len(found) == 1, f"no single button named {name!r}"
    assert found[0].aria_role == "button"
    return found[0]


def submit(browser: Any, control: Any) -> None:
    """Click ``control`` and wait until its page is gone (a click does not wait for the
    navigation a form submission starts; a loaded machine shows that). A condition, not a clock:
    the bound only ends a hung run."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    control.click()
    WebDriverWait(browser, 60).until(expected_conditions.staleness_of(control))
    WebDriverWait(browser, 60).until(lambda b: b.execute_script("return document.readyState") == "complete")


def narrow(browser: Any) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": NARROW, "height": 640, "deviceScaleFactor": 1, "mobile": True},
    )


def desktop(browser: Any) -> None:
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.set_window_size(*DESKTOP)


def no_horizontal_scroll(browser: Any) -> None:
    widths = browser.execute_script(
        "const e = document.documentElement; return [e.scrollWidth, e.clientWidth, window.innerWidth]"
    )
    assert widths[1] == NARROW, widths
    assert widths[0] <= widths[1], f"horizontal scroll at {NARROW} px: {widths}"


def axe_violations(browser: Any) -> list[str]:
    """Serious and critical axe-core violations on the current page."""
    assert AXE.is_file(), f"{AXE} missing: run make browser-deps (npm ci --prefix tests/browser)"
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations), e => done(String(e)));"
    )
    assert isinstance(result, list), result
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result
        if v.get("impact") in ("serious", "critical")
    ]


def check_page(browser: Any, name: str) -> None:
    """axe at desktop and 320 px, no horizontal scroll at 320 px, a screenshot at each width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desktop(browser)
    assert axe_violations(browser) == []
    browser.save_screenshot(str(SCREENSHOTS / f"{name}-desktop.png"))
    narrow(browser)
    no_horizontal_scroll(browser)
    assert axe_violations(browser) == []
    browser.save_screenshot(str(SCREENSHOTS / f"{name}-320.png"))
    desktop(browser)


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
