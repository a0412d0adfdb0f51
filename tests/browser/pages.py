"""What the browser tests do on a page, as a person would: find controls by label and role,
submit and wait for the next page, check it with axe-core at desktop and 320 px, and screenshot it.
Shared by the hosted-page tests (fake core) and the end-to-end ones (the local stack)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import AXE, SCREENSHOTS

DESKTOP = (1280, 900)
NARROW = 320


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
    from selenium.webdriver.support.wait import WebDriverWait

    control.click()
    WebDriverWait(browser, 60).until(lambda _b: _is_gone(control))
    WebDriverWait(browser, 60).until(lambda b: b.execute_script("return document.readyState") == "complete")


def _is_gone(control: Any) -> bool:
    """Whether ``control``'s document has been replaced. Selenium's ``staleness_of`` expects a
    ``StaleElementReferenceException``; Chromium sometimes answers for a node of a document that is
    going away with "Node with given id does not belong to the document" instead (seen on loaded
    machines, a flaky failure): both mean the page is gone."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        control.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


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
