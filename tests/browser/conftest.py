"""A real browser on the hosted pages: headless Debian Chromium driven by Selenium.

Two tiny HTTP servers on 127.0.0.1: the **hosted function** (the real ``lambda_handler`` over the
fake core, each request turned into an HTTP API payload 2.0 event as API Gateway would send it)
and a **client** on another port whose callback page the browser lands on. Both are in-process
threads; no network beyond the loopback interface.

The end-to-end browser tests (``test_sign_in_e2e.py``) use the real thing instead: a private local
stack (``live_stack``: ``tests.e2e.conftest.start``, the same subprocess the e2e tests run) and the
same browser.

Chromium and chromedriver are Debian's (``make browser-deps`` installs them); the tests skip,
saying so, only when they are not on this machine. axe-core comes from npm, pinned in
``tests/browser/package.json``.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from auth_core.stores.clients import Client
from tests.conftest import FakeLambdaContext
from tests.e2e.conftest import Stack as LiveStack
from tests.e2e.conftest import start as start_stack
from tests.hosted_fake import FakeAuthorization, http_event

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / ".local" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

#: Flags that work on a closed network: no sandbox (root in a container), no GPU, nothing that
#: phones home (QUIC, component updates, sync, background networking).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class _Quiet(BaseHTTPRequestHandler):
    """GET and POST both to :meth:`_answer`; no access log on the test's output."""

    def _answer(self) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _ClientCallback(_Quiet):
    """The relying party: shows where the browser landed (the code is in the URL)."""

    def _answer(self) -> None:
        body = b'<!DOCTYPE html><html lang="en"><title>Client</title><h1>Client callback</h1></html>'
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _hosted_handler(lambda_handler: Any) -> type[BaseHTTPRequestHandler]:
    class Hosted(_Quiet):
        """Each request as a payload 2.0 event to the real handler; its answer back as HTTP."""

        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else None
            headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "cookie"}
            cookies = [c.strip() for c in (self.headers.get("Cookie") or "").split(";") if c.strip()]
            event = http_event(
                self.command,
                parts.path,
                query=parts.query,
                body=body,
                cookies=cookies or None,
                headers=headers,
                domain=self.headers.get("Host", "127.0.0.1"),
            )
            answer = lambda_handler(event, FakeLambdaContext())
            data = answer.get("body", "").encode("utf-8")
            self.send_response(answer["statusCode"])
            for name, value in answer.get("headers", {}).items():
                self.send_header(name, value)
            for cookie in answer.get("cookies", []):
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Hosted


@dataclass
class Stack:  # the fake one; the local stack's is tests.e2e.conftest.Stack
    """The hosted pages' base URL, the client's, and the fake core behind the pages."""

    base: str
    client_base: str
    fake: FakeAuthorization
    first_party: Client
    third_party: Client


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    import functions.authorize.app as hosted_app

    client_server, client_base = _serve(_ClientCallback)
    first = Client(client_id="spa", redirect_uris=(f"{client_base}/callback",), first_party=True)
    third = Client(client_id="partner-app", redirect_uris=(f"{client_base}/cb",))
    fake = FakeAuthorization(first, third, issuer="http://127.0.0.1")
    saved = hosted_app.service_factory
    hosted_app.service_factory = lambda _settings, _audit: fake
    for factory in (hosted_app.settings, hosted_app.service, hosted_app.hosted):
        factory.cache_clear()
    server, base = _serve(_hosted_handler(hosted_app.lambda_handler))
    fake.issuer = base
    try:
        yield Stack(base, client_base, fake, first, third)
    finally:
        server.shutdown()
        client_server.shutdown()
        hosted_app.service_factory = saved
        for factory in (hosted_app.settings, hosted_app.service, hosted_app.hosted):
            factory.cache_clear()


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Chromium or chromedriver is not installed (make browser-deps installs Debian's)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1280,900")
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield browser
    finally:
        browser.quit()


def _fresh(driver: Any) -> Any:
    """The shared browser with no cookies (so no sign-on session) and a desktop viewport."""
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return driver


@pytest.fixture
def browser(driver: Any, stack: Stack) -> Iterator[Any]:
    """The shared browser, fresh at the start of each test, on the fake core with no sessions."""
    stack.fake.sessions.clear()
    stack.fake.consents.clear()
    yield _fresh(driver)


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """A private local stack for the browser session (the e2e fixture's, not a copy of it)."""
    yield from start_stack(tmp_path_factory.mktemp("browser-local-stack"))


@pytest.fixture(scope="session")
def client_site() -> Iterator[str]:
    """A relying party's page on its own loopback port (any path answers): where a redirect the
    demo app would consume lands and stays readable."""
    server, base = _serve(_ClientCallback)
    try:
        yield base
    finally:
        server.shutdown()


@pytest.fixture
def live_browser(driver: Any, live_stack: LiveStack) -> Iterator[Any]:
    """The shared browser, fresh at the start of each test, for the local stack."""
    yield _fresh(driver)
