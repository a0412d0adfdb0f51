"""The hosted routes' logic: HTTP in, calls on the protocol core, pages / redirects / cookies out.

``functions/authorize/app.py`` only wires routes to :class:`HostedEndpoint`. Every HTML route runs
inside :meth:`HostedEndpoint._guard`, the one place errors become pages: the browser sees a
readable page (never a trace, never JSON), the log line says why, and nothing logged carries a
password, a cookie, a code or a CSRF token (only reasons, client ids and error codes).

=============================  ======  ==============================================
raised                          status  answer
=============================  ======  ==============================================
``NoRedirectError``             400     error page (the client or redirect is not trusted)
``RedirectError``               302     the error to the client (or the form_post page)
``OAuthError`` < 500            400     error page (a malformed request or form)
``OAuthError`` >= 500,          503     error page, ``Retry-After``
``KeyStoreError``
anything else                   500     error page (the trace goes to the log only)
=============================  ======  ==============================================

``POST /par`` is an API for clients, not a page: its errors are the JSON of
:mod:`auth_core.http`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from auth_core.errors import InvalidRequestError, KeyStoreError, OAuthError, SlowDownError
from auth_core.hosted import csrf
from auth_core.hosted.branding import Branding
from auth_core.hosted.cookies import CookieJar
from auth_core.hosted.pages import (
    FAILED,
    RESERVED_FIELDS,
    THROTTLED,
    WRONG_CODE,
    consent_page,
    error_page,
    logout_confirm_page,
    mfa_page,
    redirect,
    request_fields,
    respond,
    sign_in_page,
    signed_out_page,
    still_signed_in_page,
)
from auth_core.http import NO_STORE, UNAVAILABLE_RETRY_AFTER, HttpEvent, Response, json_response
from auth_core.issuer import resolve_issuer
from auth_core.oauth.authorization import (
    AuthorizationProtocol,
    AuthorizationRequest,
    MfaChallenge,
    MfaExpiredError,
    NoRedirectError,
    RedirectError,
    SecondFactorFailedError,
    SignedIn,
    SignInFailedError,
    SsoSession,
)
from auth_core.oauth.request import OAuthRequest, parse_query, parse_request

__all__ = ["AUTHORIZE", "CONSENT", "LOGOUT", "MFA", "HostedEndpoint"]

AUTHORIZE = "/authorize"
CONSENT = "/authorize/consent"
LOGOUT = "/logout"
MFA = "/authorize/mfa"

NO_REDIRECT = "The application's sign-in request cannot be accepted"
MALFORMED = "The request was malformed."
CSRF_FAILED = "This form has expired or was not sent from this site."
UNAVAILABLE = "The service is temporarily unavailable. Try again in a moment."
BROKEN = "Something went wrong on our side. Try again later."
MFA_EXPIRED = "Your sign-in took too long or was interrupted. Sign in again."

_BASE = re.compile(r"(/[A-Za-z0-9_.-]+)?")
#: what a logout request may carry (and its confirmation form sends back)
_LOGOUT_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")


class _CsrfMismatchError(Exception):
    """A posted form's CSRF token is missing or does not fit."""


@dataclass
class _Visit:
    """One request: its event, the cookies' scheme, the API's base path and the cookies to set."""

    event: Mapping[str, Any]
    jar: CookieJar
    base: str
    #: the issuer this request is answered as (``ISSUER``, or derived from the request's domain)
    issuer: str = ""
    set_cookies: list[str] = field(default_factory=list)
    #: the session cookie this response sets (a sign-in), which the browser will send from now on
    new_session: str | None = None

    @classmethod
    def of(cls, event: Mapping[str, Any], issuer: str, route: str) -> _Visit:
        raw_path = event.get("rawPath")
        base = ""
        if isinstance(raw_path, str) and raw_path.endswith(route):
            prefix = raw_path[: -len(route)]
            base = prefix if _BASE.fullmatch(prefix) else ""  # a named stage: /prod/authorize
        return cls(event, CookieJar.for_issuer(issuer, HttpEvent(event).headers), base, issuer)

    def session_cookie(self) -> str | None:
        return self.jar.read(self.event, self.jar.session_name)

    def session_binding(self) -> str:
        """What a consent or logout form's CSRF token is bound to: the SSO session cookie the
        browser holds (an HMAC input only, never written out), or the one this response sets."""
        return self.new_session or self.session_cookie() or ""

    def csrf_cookie(self) -> str | None:
        return self.jar.read(self.event, self.jar.csrf_name)

    def csrf_secret(self) -> str:
        """The browser's CSRF secret, or a new one (set with this response)."""
        secret = self.csrf_cookie()
        if secret is None:
            secret = csrf.new_secret()
            self.set_cookies.append(self.jar.set(self.jar.csrf_name, secret))
        return secret


class HostedEndpoint:
    """The hosted routes. ``service`` is called on first use, inside the error guard: a core
    that cannot be built (configuration, an outage) is an error page too."""

    def __init__(
        self,
        service: Callable[[], AuthorizationProtocol],
        branding: Branding,
        *,
        issuer: str,
        logger: Any,
    ) -> None:
        self._service = service
        self.branding = branding
        self._issuer = issuer
        self._logger = logger

    # ----------------------------------------------------------------------- routes
    def authorize(self, event: Mapping[str, Any]) -> Response:
        """``GET /authorize``: validate; then sign in, consent, or straight back with a code."""
        return self._guard(event, AUTHORIZE, self._authorize)

    def sign_in(self, event: Mapping[str, Any]) -> Response:
        """``POST /authorize``: the sign-in form."""
        return self._guard(event, AUTHORIZE, self._sign_in)

    def second_factor(self, event: Mapping[str, Any]) -> Response:
        """``POST /authorize/mfa``: the code of the second step (or of an enrolment)."""
        return self._guard(event, MFA, self._second_factor)

    def mfa_setup(self, event: Mapping[str, Any]) -> Response:
        """``GET``/``POST /authorize/mfa/setup``: a signed-in user's own two-step verification
        (enrol TOTP, replace recovery codes); see :mod:`auth_core.hosted.mfa_setup`."""
        from auth_core.hosted.mfa_setup import ROUTE, setup_flow  # noqa: PLC0415 - that page only

        return self._guard(event, ROUTE, lambda visit: setup_flow(self, visit))

    def consent(self, event: Mapping[str, Any]) -> Response:
        """``POST /authorize/consent``: Allow or Deny."""
        return self._guard(event, CONSENT, self._consent)

    def logout(self, event: Mapping[str, Any]) -> Response:
        """``GET`` / ``POST /logout`` (OpenID Connect RP-Initiated Logout 1.0)."""
        return self._guard(event, LOGOUT, self._logout)

    def par(self, event: Mapping[str, Any]) -> Response:
        """``POST /par`` (RFC 9126): 201 with ``request_uri``; errors are the JSON of auth_core.http."""
        body = self._core(resolve_issuer(self._issuer, event)).push(parse_request(event))
        return json_response(201, body, NO_STORE)

    def method_not_allowed(self, allow: str) -> Response:
        return error_page(
            self.branding, "This address does not accept that method.", status=405, headers={"Allow": allow}
        )

    def _core(self, issuer: str) -> AuthorizationProtocol:
        """The protocol core answering as ``issuer``: every ``iss`` it writes (authorization
        responses, RFC 9207; ID-token hints it checks) is the one this request's domain gives
        when ``ISSUER`` is not set, as for every other function (``auth_core.issuer``)."""
        service = self._service()
        for_issuer = getattr(service, "for_issuer", None)
        return for_issuer(issuer) if callable(for_issuer) else service

    # ----------------------------------------------------------------------- flows
    def _authorize(self, visit: _Visit) -> Response:
        service = self._core(visit.issuer)
        request = service.parse(parse_query(visit.event))
        session = service.current_session(visit.session_cookie())
        return self._proceed(visit, request, session, reauthenticated=False)

    def _sign_in(self, visit: _Visit) -> Response:
        form, request = self._posted(visit, csrf.SIGN_IN)
        service = self._core(visit.issuer)
        username, password = form.get("username"), form.get("password")
        if not username or not password:
            return self._sign_in_form(visit, request, username=username, message=FAILED)
        try:
            signed = service.sign_in(
                request,
                username,
                password,
                form.source_ip,
                replacing=visit.session_cookie(),
                browser=visit.csrf_cookie(),
            )
        except SignInFailedError as exc:
            self._logger.info("sign-in failed", extra={"reason": exc.reason, "client_id": _client(request)})
            return self._sign_in_form(visit, request, username=username, message=FAILED)
        except SlowDownError as exc:
            self._logger.info(
                "sign-in throttled", extra={"reason": exc.reason, "client_id": _client(request)}
            )
            return self._sign_in_form(
                visit,
                request,
                username=username,
                message=THROTTLED,
                status=429,
                headers={"Retry-After": str(exc.retry_after)},
            )
        if isinstance(signed, MfaChallenge):  # no session yet: the second step first
            return self._mfa_form(visit, request, signed)
        return self._signed_in(visit, request, signed)

    def _signed_in(self, visit: _Visit, request: AuthorizationRequest, signed: SignedIn) -> Response:
        visit.set_cookies.append(visit.jar.set(visit.jar.session_name, signed.cookie_value))
        visit.new_session = signed.cookie_value
        return self._proceed(visit, request, signed.session, reauthenticated=True)

    def _second_factor(self, visit: _Visit) -> Response:
        """The second step's form: its CSRF token is bound to the ticket, the ticket (server
        side) to this browser and this request. A wrong code shows the page again (while the
        ticket has attempts left); an unusable ticket goes back to the password."""
        form = parse_request(visit.event)
        ticket = form.get("mfa_ticket") or ""
        fields = request_params(form)
        if not csrf.verify(visit.csrf_cookie(), form.get(csrf.FIELD), csrf.MFA, fields, session=ticket):
            raise _CsrfMismatchError
        service = self._core(visit.issuer)
        request = service.parse(fields)
        browser = visit.csrf_cookie()
        try:
            signed = service.second_factor(
                request,
                ticket,
                form.get("code") or "",
                form.source_ip,
                browser=browser,
                replacing=visit.session_cookie(),
            )
        except MfaExpiredError as exc:
            self._logger.info(
                "second factor expired", extra={"reason": exc.reason, "client_id": _client(request)}
            )
            return self._sign_in_form(visit, request, message=MFA_EXPIRED)
        except (SecondFactorFailedError, SlowDownError) as exc:
            throttled = isinstance(exc, SlowDownError)
            self._logger.info(
                "second factor throttled" if throttled else "second factor failed",
                extra={"reason": exc.reason, "client_id": _client(request)},
            )
            try:  # the same page again, while the pending sign-in lasts
                challenge = service.challenge(request, ticket, browser)
            except MfaExpiredError:
                return self._sign_in_form(visit, request, message=MFA_EXPIRED)
            if not isinstance(exc, SlowDownError):
                return self._mfa_form(visit, request, challenge, message=WRONG_CODE)
            return self._mfa_form(
                visit,
                request,
                challenge,
                message=THROTTLED,
                status=429,
                headers={"Retry-After": str(exc.retry_after)},
            )
        return self._signed_in(visit, request, signed)

    def _mfa_form(
        self,
        visit: _Visit,
        request: AuthorizationRequest,
        challenge: MfaChallenge,
        *,
        message: str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        token = csrf.form_token(
            visit.csrf_secret(), csrf.MFA, request_fields(request), session=challenge.ticket
        )
        return mfa_page(
            self.branding,
            request,
            challenge,
            action=visit.base + MFA,
            csrf_token=token,
            message=message,
            status=status,
            cookies=visit.set_cookies,
            headers=headers,
        )

    def _consent(self, visit: _Visit) -> Response:
        """Allow or Deny, by the session the consent page was shown to (its token says which).

        Nothing the page was shown after is taken for granted: the session must still be live
        and still meet ``max_age`` (a consent page left open), else the sign-in form. Its
        ``prompt=login`` was met by the sign-in the page followed (a consent page is never shown
        for such a request without one, and this token fits no other page). Allow records
        consent only when it is still needed (never for a first-party client), then issues the
        code.
        """
        form, request = self._posted(visit, csrf.CONSENT, session=visit.session_binding())
        service = self._core(visit.issuer)
        session = service.current_session(visit.session_cookie())
        if session is None or service.needs_login(request, session, reauthenticated=True):
            return self._sign_in_form(visit, request)  # ended, expired, or too old meanwhile
        choice = form.get("action")
        if choice == "allow":
            if service.needs_consent(request, session):
                service.grant_consent(request, session)
            return respond(self.branding, service.issue_code(request, session), cookies=visit.set_cookies)
        if choice == "deny":
            self._logger.info("consent denied", extra={"client_id": _client(request)})
            return respond(self.branding, service.refuse(request, "access_denied"), cookies=visit.set_cookies)
        raise InvalidRequestError("unknown consent action", reason="consent_action")

    def _logout(self, visit: _Visit) -> Response:
        """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2). At once only when the
        ``id_token_hint`` names the browser's own session (or there is no session to end);
        otherwise -- no hint, another user's, someone else's page -- the user is asked, and only
        the confirmation form's "Sign out" (its CSRF token: purpose ``logout``, this session)
        ends it. Where the browser goes after is still decided by :meth:`end_session`."""
        posted = HttpEvent(visit.event).http_method != "GET"
        raw = _optional_form(visit.event) if posted else parse_query(visit.event)
        params = {k: v for k, v in raw.items() if k in _LOGOUT_PARAMS and isinstance(v, str)}
        service = self._core(visit.issuer)
        cookie = visit.session_cookie()
        if posted and csrf.FIELD in raw:  # the confirmation form's answer
            if not csrf.verify(
                visit.csrf_cookie(), raw.get(csrf.FIELD), csrf.LOGOUT, params, session=visit.session_binding()
            ):
                raise _CsrfMismatchError
            if raw.get("action") != "logout":
                return still_signed_in_page(self.branding)
        elif service.current_session(cookie) is not None and not service.hint_matches_session(
            cookie, params.get("id_token_hint")
        ):
            token = csrf.form_token(visit.csrf_secret(), csrf.LOGOUT, params, session=visit.session_binding())
            return logout_confirm_page(
                self.branding, params, action=visit.base + LOGOUT, csrf_token=token, cookies=visit.set_cookies
            )
        return self._end_session(visit, params)

    def _end_session(self, visit: _Visit, params: Mapping[str, str]) -> Response:
        result = self._core(visit.issuer).end_session(
            visit.session_cookie(),
            id_token_hint=params.get("id_token_hint"),
            client_id=params.get("client_id"),
            post_logout_redirect_uri=params.get("post_logout_redirect_uri"),
            state=params.get("state"),
        )
        cleared = [visit.jar.clear(visit.jar.session_name)]
        if result.redirect_to:
            return redirect(result.redirect_to, cleared)
        return signed_out_page(self.branding, cookies=cleared)

    def _proceed(
        self,
        visit: _Visit,
        request: AuthorizationRequest,
        session: SsoSession | None,
        *,
        reauthenticated: bool,
    ) -> Response:
        """After the request is valid: a page for what is missing (or ``login_required`` /
        ``consent_required`` under ``prompt=none``, OpenID Connect Core §3.1.2.1), else a code.
        ``reauthenticated``: ``session`` was just signed in for this request (it meets
        ``prompt=login``); ``max_age`` is checked either way."""
        service = self._core(visit.issuer)
        silent = "none" in request.prompt
        if session is None or service.needs_login(request, session, reauthenticated=reauthenticated):
            if silent:
                return respond(self.branding, service.refuse(request, "login_required"))
            return self._sign_in_form(visit, request)
        if service.needs_consent(request, session):
            if silent:
                return respond(self.branding, service.refuse(request, "consent_required"))
            return consent_page(
                self.branding,
                request,
                action=visit.base + CONSENT,
                csrf_token=csrf.form_token(
                    visit.csrf_secret(),
                    csrf.CONSENT,
                    request_fields(request),
                    session=visit.session_binding(),
                ),
                username=session.username,
                cookies=visit.set_cookies,
            )
        return respond(self.branding, service.issue_code(request, session), cookies=visit.set_cookies)

    # ----------------------------------------------------------------------- helpers
    def _sign_in_form(
        self,
        visit: _Visit,
        request: AuthorizationRequest,
        *,
        username: str | None = None,
        message: str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        token = csrf.form_token(visit.csrf_secret(), csrf.SIGN_IN, request_fields(request))
        return sign_in_page(
            self.branding,
            request,
            action=visit.base + AUTHORIZE,
            csrf_token=token,
            username=username,
            message=message,
            status=status,
            cookies=visit.set_cookies,
            headers=headers,
        )

    def _posted(
        self, visit: _Visit, purpose: str, *, session: str = ""
    ) -> tuple[OAuthRequest, AuthorizationRequest]:
        """The posted form of a ``purpose`` page and the authorization request it continues.

        :raises _CsrfMismatchError: its CSRF token does not fit (nothing else is looked at then: no
            parse, no sign-in attempt): another page's token, another session's, or none.
        """
        form = parse_request(visit.event)
        fields = request_params(form)
        if not csrf.verify(visit.csrf_cookie(), form.get(csrf.FIELD), purpose, fields, session=session):
            raise _CsrfMismatchError
        return form, self._core(visit.issuer).parse(fields)

    def _guard(self, event: Mapping[str, Any], route: str, flow: Callable[[_Visit], Response]) -> Response:
        """Run ``flow``; every error becomes a page (see the module table)."""
        visit: _Visit | None = None
        try:
            visit = _Visit.of(event, resolve_issuer(self._issuer, event), route)
            return flow(visit)
        except _CsrfMismatchError:
            self._logger.info("form refused", extra={"reason": "csrf"})
            cookies = visit.set_cookies if visit is not None else []
            return error_page(self.branding, CSRF_FAILED, status=400, cookies=cookies)
        except NoRedirectError as exc:
            self._logger.info("authorization request refused", extra={"reason": exc.reason})
            return error_page(self.branding, _no_redirect_message(exc), status=400)
        except RedirectError as exc:
            self._logger.info(
                "authorization request refused",
                extra={"reason": exc.reason, "error_code": exc.response.params.get("error")},
            )
            cookies = visit.set_cookies if visit is not None else []
            return respond(self.branding, exc.response, cookies=cookies)
        except (OAuthError, KeyStoreError) as exc:
            status = exc.status if isinstance(exc, OAuthError) else 503
            if status < 500:
                self._logger.info("request refused", extra={"reason": exc.reason})
                return error_page(self.branding, MALFORMED, status=400)
            self._logger.error("dependency unavailable", extra={"reason": exc.reason})
            return error_page(
                self.branding, UNAVAILABLE, status=503, headers={"Retry-After": UNAVAILABLE_RETRY_AFTER}
            )
        except Exception as exc:
            self._logger.exception(
                "unhandled error", extra={"reason": getattr(exc, "reason", type(exc).__name__)}
            )
            return error_page(self.branding, BROKEN, status=500, title="Something went wrong")


def request_params(form: OAuthRequest) -> dict[str, str]:
    """The authorization request's parameters in a posted form: all but the pages' own fields."""
    return {k: v for k, v in form.params.items() if k not in RESERVED_FIELDS}


def _no_redirect_message(exc: NoRedirectError) -> str:
    detail = str(exc)
    if not detail or detail == type(exc).__name__:
        return f"{NO_REDIRECT}."
    return f"{NO_REDIRECT}: {detail}."


def _optional_form(event: Mapping[str, Any]) -> dict[str, str]:
    """``POST /logout`` may come with no body at all."""
    if not event.get("body"):
        return {}
    return dict(parse_request(event).params)


def _client(request: AuthorizationRequest) -> str:
    return request.client.client_id
