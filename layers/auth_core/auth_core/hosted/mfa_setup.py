"""``GET``/``POST /authorize/mfa/setup``: a signed-in user's own two-step verification page.

The browser must hold a live SSO session (sign in through any client first); without one the
page is a 401 that says so. The core is :class:`auth_core.oauth.mfa_setup.MfaSetup`.

- ``GET``, not enrolled: the enrolment page (QR code, secret, ten recovery codes) with a form
  for the first code; ``GET``, enrolled: the status (recovery codes left) with a form that
  replaces the recovery codes against a fresh code from the app.
- ``POST``: the CSRF token comes first (purpose :data:`PURPOSE`, bound to the session cookie and
  to the pending enrolment's ticket): a form from another page, session or site is refused
  before anything is looked at. Then ``action=enrol`` or ``action=regenerate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auth_core.errors import SlowDownError
from auth_core.hosted import csrf
from auth_core.hosted.pages import (
    THROTTLED,
    WRONG_CODE,
    _alert,
    _page,
    enrolment_intro,
    error_page,
    esc,
    recovery_list,
)
from auth_core.http import HttpEvent, Response
from auth_core.oauth.authorization import (
    AuthorizationProtocol,
    MfaChallenge,
    MfaExpiredError,
    SecondFactorFailedError,
    SsoSession,
)
from auth_core.oauth.request import parse_request

if TYPE_CHECKING:
    from auth_core.hosted.endpoint import HostedEndpoint, _Visit
    from auth_core.oauth.mfa_setup import MfaSetup

__all__ = ["PURPOSE", "ROUTE", "setup_flow"]

ROUTE = "/authorize/mfa/setup"
#: the CSRF purpose of this page's forms (no other page's token fits them)
PURPOSE = "mfa_setup"
SIGN_IN_FIRST = "Sign in first, then open this page again to set up two-step verification."
EXPIRED = "That setup expired or was interrupted. Scan the new code below."
TITLE = "Two-step verification"


def setup_flow(endpoint: HostedEndpoint, visit: _Visit) -> Response:
    service = endpoint._core(visit.issuer)
    setup: MfaSetup | None = getattr(service, "mfa_setup", None)
    if setup is None:
        return error_page(endpoint.branding, "Two-step verification is not available.", status=404)
    posted = HttpEvent(visit.event).http_method == "POST"
    cookie = visit.session_cookie() or ""
    if posted:
        form = parse_request(visit.event)
        action, ticket = form.get("action") or "", form.get("mfa_ticket") or ""
        if not csrf.verify(
            visit.csrf_cookie(), form.get(csrf.FIELD), PURPOSE, _fields(action, ticket), session=cookie
        ):
            from auth_core.hosted.endpoint import _CsrfMismatchError  # noqa: PLC0415 - no cycle

            raise _CsrfMismatchError
    session = service.current_session(cookie or None)
    if session is None:
        return error_page(endpoint.branding, SIGN_IN_FIRST, status=401, title="Sign-in required")
    pages = _Pages(endpoint, visit, service, setup, session, cookie)
    if not posted:
        return pages.show()
    code, source_ip = form.get("code") or "", form.source_ip
    if action == "enrol":
        return pages.enrol(ticket, code, source_ip)
    if action == "regenerate":
        return pages.regenerate(code, source_ip)
    return error_page(endpoint.branding, "The request was malformed.", status=400)


def _fields(action: str, ticket: str) -> dict[str, str]:
    return {"action": action, "mfa_ticket": ticket}


class _Pages:
    def __init__(
        self,
        endpoint: HostedEndpoint,
        visit: _Visit,
        service: AuthorizationProtocol,
        setup: MfaSetup,
        session: SsoSession,
        cookie: str,
    ) -> None:
        self.service = service
        self.endpoint, self.visit, self.setup, self.session, self.cookie = (
            endpoint,
            visit,
            setup,
            session,
            cookie,
        )
        self.branding = endpoint.branding

    def show(
        self, message: str | None = None, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        state = self.setup.state(self.session)
        if not state.enrolled:
            challenge = self.setup.begin(self.session, self.cookie, self.visit.csrf_secret())
            return self._enrol_page(challenge, message, status, headers)
        body = (
            f"<h1>{TITLE}</h1>\n"
            f'<p id="mfa-status">Two-step verification is on for {esc(self.session.username)}. '
            f"{state.recovery_left} recovery codes left.</p>\n"
            f"{_alert(message)}"
            "<p>To replace your recovery codes (the old ones stop working), enter the current code "
            "from your authenticator app.</p>\n"
            f"{self._form('regenerate', '', 'Code from your app', 'New recovery codes')}"
        )
        return self._page(status, TITLE, body, headers)

    def enrol(self, ticket: str, code: str, source_ip: str | None) -> Response:
        browser = self.visit.csrf_cookie() or ""
        try:
            self.setup.confirm(self.session, self.cookie, ticket, code, source_ip, browser=browser)
        except MfaExpiredError as exc:
            self._log("mfa setup expired", exc.reason)
            if self.service.current_session(self.cookie) is None:  # signed out meanwhile
                return error_page(self.branding, SIGN_IN_FIRST, status=401, title="Sign-in required")
            return self.show(message=EXPIRED)
        except (SecondFactorFailedError, SlowDownError) as exc:
            self._log("mfa setup code refused", exc.reason)
            try:
                challenge = self.setup.challenge(self.session, self.cookie, ticket, browser)
            except MfaExpiredError:
                return self.show(message=EXPIRED)
            if isinstance(exc, SlowDownError):
                return self._enrol_page(challenge, THROTTLED, 429, {"Retry-After": str(exc.retry_after)})
            return self._enrol_page(challenge, WRONG_CODE, 400, None)
        body = (
            "<h1>Two-step verification is on</h1>\n"
            '<p id="mfa-status">From your next sign-in, you will be asked for a code from your '
            "authenticator app (or one of your recovery codes).</p>\n"
        )
        return self._page(200, "Two-step verification is on", body, None)

    def regenerate(self, code: str, source_ip: str | None) -> Response:
        try:
            codes = self.setup.regenerate(self.session, self.cookie, code, source_ip)
        except SlowDownError as exc:
            self._log("mfa setup code refused", exc.reason)
            return self.show(THROTTLED, 429, {"Retry-After": str(exc.retry_after)})
        except (SecondFactorFailedError, MfaExpiredError) as exc:
            self._log("mfa setup code refused", exc.reason)
            return self.show(WRONG_CODE, 400)
        body = (
            "<h1>New recovery codes</h1>\n"
            "<p>Your old recovery codes no longer work. Keep these somewhere safe; each works once, "
            "and they are not shown again.</p>\n"
            f"{recovery_list(codes)}"
        )
        return self._page(200, "New recovery codes", body, None)

    # ------------------------------------------------------------------ helpers
    def _enrol_page(
        self, challenge: MfaChallenge, message: str | None, status: int, headers: dict[str, str] | None
    ) -> Response:
        body = (
            f"{enrolment_intro(challenge)}"
            f"{_alert(message)}"
            f"{self._form('enrol', challenge.ticket, 'Code from your app', 'Turn on')}"
        )
        return self._page(status, "Set up two-step verification", body, headers)

    def _form(self, action: str, ticket: str, label: str, button: str) -> str:
        token = csrf.form_token(
            self.visit.csrf_secret(), PURPOSE, _fields(action, ticket), session=self.cookie
        )
        return (
            f'<form method="post" action="{esc(self.visit.base + ROUTE)}">\n'
            f'<input type="hidden" name="{csrf.FIELD}" value="{esc(token)}">\n'
            f'<input type="hidden" name="action" value="{esc(action)}">\n'
            f'<input type="hidden" name="mfa_ticket" value="{esc(ticket)}">\n'
            f'<label for="code">{esc(label)}</label>\n'
            '<input id="code" name="code" type="text" autocomplete="one-time-code" autocapitalize="none" '
            'spellcheck="false" required autofocus>\n'
            f'<button type="submit" class="primary">{esc(button)}</button>\n'
            "</form>\n"
        )

    def _page(self, status: int, title: str, body: str, headers: dict[str, str] | None) -> Response:
        return _page(self.branding, status, title, body, cookies=self.visit.set_cookies, headers=headers)

    def _log(self, message: str, reason: str) -> None:
        self.endpoint._logger.info(message, extra={"reason": reason})
