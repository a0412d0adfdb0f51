"""The account routes: HTTP in, :class:`~auth_core.accounts.service.AccountService` calls, JSON
or pages out. ``functions/account/app.py`` only wires routes here.

JSON API (``application/json`` or a form; string values; errors are the OAuth JSON of
:mod:`auth_core.http`):

=============================  ==========================================================  ======
route                          body                                                        answer
=============================  ==========================================================  ======
``POST /account/api/signup``   ``client_id``, ``email``, ``password``, optional ``name``,  202
                               ``given_name``, ``family_name``, ``attr.<name>``
``POST /account/api/verify``   ``email``, ``code``                                         200
``POST /account/api/forgot``   ``email``                                                   202
``POST /account/api/reset``    ``email``, ``code``, ``password``                           200
``POST /account/api/password`` ``Authorization: Bearer <access token>``,                   200
                               ``current_password``, ``new_password``
=============================  ==========================================================  ======

202 answers are the same whether the address has an account or not. Hosted pages (the sign-in
pages' branding, CSP, ``no-store`` and CSRF tokens with their own purposes): ``/account/signup``,
``/account/verify``, ``/account/forgot``, ``/account/reset`` (GET the form, POST it). The sign-up
page keeps the authorization request it came from (its query) and the verification mail's link
carries it, so the verified user lands back in the flow at ``/authorize``. ``/account/password``
changes the password of the user signed in on this browser (the sign-in pages' single sign-on
session cookie; without one, a page saying to sign in first): current and new password, then
every session ends, this browser's too (its session cookie is cleared).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from auth_core.errors import InvalidGrantError, InvalidRequestError, OAuthError, SlowDownError
from auth_core.hosted import csrf
from auth_core.hosted.account_pages import done_page, form_page
from auth_core.hosted.branding import Branding
from auth_core.hosted.cookies import CookieJar
from auth_core.hosted.pages import THROTTLED, error_page
from auth_core.http import NO_STORE, UNAVAILABLE_RETRY_AFTER, HttpEvent, Response, json_response
from auth_core.issuer import resolve_issuer
from auth_core.oauth.request import OAuthRequest, parse_query, parse_request

if TYPE_CHECKING:  # the service (stores, hasher, mail) is imported by the factory that builds it
    from auth_core.accounts.service import AccountService

__all__ = ["PAGES", "AccountEndpoint"]

SIGNUP, VERIFY, FORGOT, RESET = "/account/signup", "/account/verify", "/account/forgot", "/account/reset"
#: the change-password page, for the user signed in on this browser (the SSO session cookie)
PASSWORD = "/account/password"
PAGES = (SIGNUP, VERIFY, FORGOT, RESET, PASSWORD)
SIGN_IN_FIRST = "Sign in to an application of this site first, then come back to this page."
#: the fields each page's form carries back unchanged (what its CSRF token covers)
_CARRIED = ("client_id", "next")
#: the page's own fields: everything else in a sign-up page's query is the authorization request
_OWN = frozenset({"email", "code", "next", csrf.FIELD})
CHECK_MAIL = (
    "If the address can be used, a message is on its way to it. Follow it to continue; "
    "it expires in {minutes} minutes."
)


class AccountEndpoint:
    def __init__(
        self, service: Callable[[], AccountService], branding: Branding, *, issuer: str, logger: Any
    ) -> None:
        self._service = service
        self.branding = branding
        self._issuer = issuer
        self._logger = logger

    # ------------------------------------------------------------------ JSON API
    def api(self, action: str, event: Mapping[str, Any]) -> Response:
        request = parse_request(event)
        service = self._service()
        base = resolve_issuer(self._issuer, event)
        if action == "signup":
            service.sign_up(
                client_id=request.get("client_id") or "",
                email=request.require("email"),
                password=request.require("password"),
                profile=_profile(request),
                source_ip=request.source_ip,
                base_url=base,
            )
            return json_response(202, {"status": "check_your_email"}, NO_STORE)
        if action == "verify":
            user = service.verify(
                email=request.require("email"),
                code=request.require("code"),
                password=request.require("password"),
                source_ip=request.source_ip,
            )
            return json_response(200, {"status": "verified", "username": user.username}, NO_STORE)
        if action == "forgot":
            service.forgot(email=request.require("email"), source_ip=request.source_ip, base_url=base)
            return json_response(202, {"status": "check_your_email"}, NO_STORE)
        if action == "reset":
            service.reset(
                email=request.require("email"),
                code=request.require("code"),
                password=request.require("password"),
                source_ip=request.source_ip,
            )
            return json_response(200, {"status": "password_reset"}, NO_STORE)
        raise InvalidRequestError("unknown action", reason="route")

    def change_password(self, event: Mapping[str, Any], claims: Any) -> Response:
        """``POST /account/api/password`` for the bearer of a verified access token ``claims``."""
        request = parse_request(event)
        if claims.subject == claims.client_id:
            raise InvalidGrantError("a client's own token names no user", reason="not_a_user_token")
        ended = self._service().change_password(
            subject=claims.subject,
            client_id=claims.client_id,
            current=request.require("current_password"),
            new=request.require("new_password"),
            source_ip=request.source_ip,
        )
        return json_response(200, {"status": "password_changed", "sessions_ended": ended}, NO_STORE)

    # ------------------------------------------------------------------ pages
    def page(self, route: str, event: Mapping[str, Any]) -> Response:
        jar = CookieJar.for_issuer(resolve_issuer(self._issuer, event), HttpEvent(event).headers)
        cookies: list[str] = []
        secret = jar.read(event, jar.csrf_name)
        if secret is None:
            secret = csrf.new_secret()
            cookies.append(jar.set(jar.csrf_name, secret))
        try:
            if route == PASSWORD and self._service().signed_in(jar.read(event, jar.session_name)) is None:
                return self._not_signed_in(cookies)
            if HttpEvent(event).http_method == "GET":
                return self._form(route, parse_query(event), secret, cookies)
            form = parse_request(event)
            carried = {k: form.params.get(k, "") for k in _CARRIED}
            if not csrf.verify(
                jar.read(event, jar.csrf_name), form.get(csrf.FIELD), _purpose(route), carried
            ):
                self._logger.info("form refused", extra={"reason": "csrf"})
                return error_page(
                    self.branding, "This form has expired or was not sent from this site.", title="Try again"
                )
            if route == PASSWORD:
                return self._change_password(form, jar.read(event, jar.session_name), jar, secret, cookies)
            return self._post(route, form, event, secret, cookies)
        except SlowDownError as exc:
            return error_page(
                self.branding,
                THROTTLED,
                status=429,
                title="Too many attempts",
                headers={"Retry-After": str(exc.retry_after)},
                cookies=cookies,
            )
        except OAuthError as exc:
            if exc.status >= 500:
                self._logger.error("dependency unavailable", extra={"reason": exc.reason})
                return error_page(
                    self.branding,
                    "The service is temporarily unavailable. Try again in a moment.",
                    status=503,
                    headers={"Retry-After": UNAVAILABLE_RETRY_AFTER},
                    cookies=cookies,
                )
            self._logger.info("request refused", extra={"reason": exc.reason})
            return error_page(self.branding, "The request was malformed.", title="Try again", cookies=cookies)

    def _form(
        self,
        route: str,
        query: Mapping[str, str],
        secret: str,
        cookies: list[str],
        message: str | None = None,
        status: int = 200,
    ) -> Response:
        carried = {
            "client_id": query.get("client_id", ""),
            "next": query.get("next")
            or (urlencode({k: v for k, v in query.items() if k not in _OWN}) if route == SIGNUP else ""),
        }
        token = csrf.form_token(secret, _purpose(route), carried)
        values = {k: query.get(k, "") for k in ("email", "code")}
        return form_page(
            self.branding,
            route,
            carried=carried,
            values=values,
            csrf_token=token,
            message=message,
            status=status,
            cookies=cookies,
            minutes=self._service().code_ttl // 60 if route in (VERIFY, FORGOT, RESET) else 0,
        )

    def _not_signed_in(self, cookies: list[str]) -> Response:
        self._logger.info("form refused", extra={"reason": "not_signed_in"})
        return error_page(self.branding, SIGN_IN_FIRST, status=401, title="Not signed in", cookies=cookies)

    def _change_password(
        self, form: OAuthRequest, session_cookie: str | None, jar: CookieJar, secret: str, cookies: list[str]
    ) -> Response:
        """The change-password form of the signed-in user (checked again just before)."""
        service = self._service()
        user = service.signed_in(session_cookie)
        if user is None:  # signed out since the check (another tab, a reset)
            return self._not_signed_in(cookies)
        try:
            service.change_password(
                subject=user.subject,
                client_id="",
                current=form.require("current_password"),
                new=form.require("new_password"),
                source_ip=form.source_ip,
            )
        except InvalidGrantError as exc:  # the current password (the sign-in path's generic refusal)
            self._logger.info("form refused", extra={"reason": exc.reason})
            return self._form(PASSWORD, {}, secret, cookies, "The current password is not correct.", 400)
        except InvalidRequestError as exc:  # the new password's policy
            self._logger.info("form refused", extra={"reason": exc.reason})
            return self._form(PASSWORD, {}, secret, cookies, exc.description or "Check the form.", 400)
        return done_page(
            self.branding,
            "Password changed",
            "Your password was changed and every session was signed out. Sign in again with the new one.",
            "",
            [*cookies, jar.clear(jar.session_name)],
        )

    def _post(
        self, route: str, form: OAuthRequest, event: Mapping[str, Any], secret: str, cookies: list[str]
    ) -> Response:
        service = self._service()
        base = resolve_issuer(self._issuer, event)
        params = dict(form.params)
        minutes = service.code_ttl // 60
        try:
            if route == SIGNUP:
                service.sign_up(
                    client_id=params.get("client_id", ""),
                    email=form.require("email"),
                    password=form.require("password"),
                    profile=_profile(form),
                    source_ip=form.source_ip,
                    base_url=base,
                    continue_to=params.get("next", ""),
                )
                return self._form(
                    VERIFY, {**params, "code": ""}, secret, cookies, CHECK_MAIL.format(minutes=minutes)
                )
            if route == VERIFY:
                service.verify(
                    email=form.require("email"),
                    code=form.require("code"),
                    password=form.require("password"),
                    source_ip=form.source_ip,
                )
                target = "/authorize?" + params["next"] if params.get("next") else ""
                return done_page(
                    self.branding, "Email address confirmed", "Your account is ready.", target, cookies
                )
            if route == FORGOT:
                service.forgot(email=form.require("email"), source_ip=form.source_ip, base_url=base)
                return self._form(
                    RESET, {**params, "code": ""}, secret, cookies, CHECK_MAIL.format(minutes=minutes)
                )
            service.reset(
                email=form.require("email"),
                code=form.require("code"),
                password=form.require("password"),
                source_ip=form.source_ip,
            )
            return done_page(
                self.branding,
                "Password changed",
                "Your password was changed and every session was signed out. Sign in again with the new one.",
                "",
                cookies,
            )
        except InvalidGrantError as exc:
            self._logger.info("code refused", extra={"reason": exc.reason})
            return self._form(route, params, secret, cookies, exc.description or "The code was refused.", 400)
        except InvalidRequestError as exc:  # the policy's, the address's or a field's own words
            self._logger.info("form refused", extra={"reason": exc.reason})
            return self._form(route, params, secret, cookies, exc.description or "Check the form.", 400)


def _purpose(route: str) -> str:
    return "account" + route.replace("/", ":")


def _profile(request: OAuthRequest) -> dict[str, Any]:
    params = request.params
    found: dict[str, Any] = {k: params[k] for k in ("name", "given_name", "family_name") if params.get(k)}
    found["attributes"] = {k[5:]: v for k, v in params.items() if k.startswith("attr.") and v}
    return found
