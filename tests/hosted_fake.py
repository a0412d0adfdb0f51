"""A fake of the protocol core (``AuthorizationProtocol``) and payload 2.0 events, for the hosted
pages' tests: unit tests of every route and the browser harness run the real handler over it.

It keeps the contract's shape, not its rules: a known client and an exactly registered redirect
URI parse, anything else is a ``NoRedirectError``; a missing ``response_type=code`` or
``code_challenge`` redirects an error; one user signs in; consent is remembered per user and
client; every call is recorded by name (never with a password).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from auth_core.errors import InvalidClientError, SlowDownError
from auth_core.oauth.authorization import (
    AuthorizationRequest,
    AuthorizationResponse,
    LogoutResult,
    MfaChallenge,
    MfaExpiredError,
    NoRedirectError,
    RedirectError,
    SecondFactorFailedError,
    SignedIn,
    SignInFailedError,
    SsoSession,
)
from auth_core.oauth.request import OAuthRequest
from auth_core.stores.clients import Client

ISSUER = "https://auth.example.test"
USERNAME, PASSWORD = "alice", "correct horse battery staple"
APP = Client(
    client_id="spa",
    redirect_uris=("https://app.example.com/callback",),
    post_logout_redirect_uris=("https://app.example.com/bye",),
    scopes=("openid", "profile"),
    first_party=True,
)
THIRD = Client(
    client_id="third-party",
    redirect_uris=("https://other.example.net/cb",),
    scopes=("openid", "profile", "read"),
)


class FakeAuthorization:
    """In memory; ``throttled`` makes every sign-in a ``SlowDownError``."""

    def __init__(self, *clients: Client, issuer: str = ISSUER) -> None:
        self.clients = {c.client_id: c for c in (clients or (APP, THIRD))}
        self.issuer = issuer
        self.users = {USERNAME: PASSWORD}
        self.sessions: dict[str, SsoSession] = {}
        self.consents: set[tuple[str, str]] = set()
        self.codes: list[str] = []
        self.calls: list[str] = []
        self.throttled = False
        #: users with a second factor: username -> the one code the fake accepts
        self.mfa_codes: dict[str, str] = {}
        self.tickets: dict[str, tuple[str, str]] = {}
        self.broken: Exception | None = None

    def _error(self, redirect_uri: str, mode: Any, state: str | None, error: str) -> RedirectError:
        params = {"error": error, **({"state": state} if state else {}), "iss": self.issuer}
        return RedirectError(AuthorizationResponse(redirect_uri, params, mode), reason=error)

    def parse(self, params: Mapping[str, str]) -> AuthorizationRequest:
        self.calls.append("parse")
        if self.broken is not None:
            raise self.broken
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            raise NoRedirectError("unknown client", reason="unknown_client")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise NoRedirectError("the redirect_uri is not registered", reason="redirect_uri")
        mode = "form_post" if params.get("response_mode") == "form_post" else "query"
        state = params.get("state")
        if params.get("response_type") != "code":
            raise self._error(redirect_uri, mode, state, "unsupported_response_type")
        if not params.get("code_challenge"):
            raise self._error(redirect_uri, mode, state, "invalid_request")
        return AuthorizationRequest(
            client=client,
            redirect_uri=redirect_uri,
            scope=tuple(params.get("scope", "").split()),
            code_challenge=params["code_challenge"],
            state=state,
            nonce=params.get("nonce"),
            prompt=frozenset(params.get("prompt", "").split()),
            login_hint=params.get("login_hint"),
            response_mode=mode,
            form_fields=dict(params),
        )

    def current_session(self, cookie_value: str | None) -> SsoSession | None:
        self.calls.append("current_session")
        return self.sessions.get(cookie_value) if cookie_value else None

    def needs_login(
        self, request: AuthorizationRequest, session: SsoSession | None, *, reauthenticated: bool = False
    ) -> bool:
        return session is None or ("login" in request.prompt and not reauthenticated)

    def sign_in(
        self,
        request: AuthorizationRequest,
        username: str,
        password: str,
        source_ip: str | None,
        *,
        replacing: str | None = None,
        browser: str | None = None,
    ) -> SignedIn | MfaChallenge:
        self.calls.append("sign_in")
        if self.throttled:
            raise SlowDownError(30)
        if self.users.get(username) != password:
            raise SignInFailedError(reason="wrong_password" if username in self.users else "unknown_user")
        if username in self.mfa_codes:  # a second step, bound to the browser (no session yet)
            ticket = secrets.token_urlsafe(32)
            self.tickets[ticket] = (username, browser or "")
            return MfaChallenge(ticket, "verify", username)
        return self._signed_in(username, replacing)

    def challenge(self, request: AuthorizationRequest, ticket: str, browser: str | None) -> MfaChallenge:
        found = self.tickets.get(ticket)
        if found is None or found[1] != browser:
            raise MfaExpiredError(reason="mfa_ticket_unusable")
        return MfaChallenge(ticket, "verify", found[0])

    def second_factor(
        self,
        request: AuthorizationRequest,
        ticket: str,
        code: str,
        source_ip: str | None,
        *,
        browser: str | None,
        replacing: str | None = None,
    ) -> SignedIn:
        self.calls.append("second_factor")
        username = self.challenge(request, ticket, browser).username
        if self.throttled:
            raise SlowDownError(30)
        if code != self.mfa_codes[username]:
            raise SecondFactorFailedError(reason="wrong_code")
        del self.tickets[ticket]
        return self._signed_in(username, replacing, amr=("pwd", "otp", "mfa"))

    def _signed_in(self, username: str, replacing: str | None, amr: tuple[str, ...] = ("pwd",)) -> SignedIn:
        if replacing:
            self.sessions.pop(replacing, None)
        cookie = secrets.token_urlsafe(32)
        session = SsoSession(
            session_id=secrets.token_urlsafe(8),
            subject=f"sub-{username}",
            username=username,
            auth_time=1,
            amr=amr,
        )
        self.sessions[cookie] = session
        return SignedIn(session, cookie)

    def needs_consent(self, request: AuthorizationRequest, session: SsoSession) -> bool:
        return (
            not request.client.first_party
            and (session.subject, request.client.client_id) not in self.consents
        )

    def grant_consent(self, request: AuthorizationRequest, session: SsoSession) -> None:
        self.calls.append("grant_consent")
        self.consents.add((session.subject, request.client.client_id))

    def issue_code(self, request: AuthorizationRequest, session: SsoSession) -> AuthorizationResponse:
        self.calls.append("issue_code")
        code = secrets.token_urlsafe(32)
        self.codes.append(code)
        params = {"code": code, **({"state": request.state} if request.state else {}), "iss": self.issuer}
        return AuthorizationResponse(request.redirect_uri, params, request.response_mode)

    def refuse(
        self, request: AuthorizationRequest, error: str, description: str | None = None
    ) -> AuthorizationResponse:
        self.calls.append(f"refuse:{error}")
        return self._error(request.redirect_uri, request.response_mode, request.state, error).response

    def push(self, request: OAuthRequest) -> dict[str, object]:
        self.calls.append("push")
        if request.client.client_id not in self.clients:
            raise InvalidClientError(reason="unknown_client")
        return {"request_uri": "urn:ietf:params:oauth:request_uri:fake", "expires_in": 60}

    def hint_matches_session(self, cookie_value: str | None, id_token_hint: str | None) -> bool:
        """The fake's ID token of a session is :func:`id_token_of` it."""
        self.calls.append("hint_matches_session")
        session = self.sessions.get(cookie_value) if cookie_value else None
        return session is not None and id_token_hint == id_token_of(session)

    def end_session(
        self,
        cookie_value: str | None,
        *,
        id_token_hint: str | None,
        client_id: str | None,
        post_logout_redirect_uri: str | None,
        state: str | None,
    ) -> LogoutResult:
        self.calls.append("end_session")
        if post_logout_redirect_uri is not None:
            client = self.clients.get(client_id or "")
            if client is None or post_logout_redirect_uri not in client.post_logout_redirect_uris:
                raise NoRedirectError("the post_logout_redirect_uri is not registered", reason="logout_uri")
        if cookie_value:
            self.sessions.pop(cookie_value, None)
        if post_logout_redirect_uri is None:
            return LogoutResult()
        suffix = "?" + urlencode({"state": state}) if state else ""
        return LogoutResult(post_logout_redirect_uri + suffix)


def id_token_of(session: SsoSession) -> str:
    """What the fake takes for an ID token issued under ``session`` (an ``id_token_hint``)."""
    return f"id-token-of-{session.session_id}"


def authorize_query(client: Client = APP, **extra: str) -> str:
    """A valid authorization request's query string for ``client``."""
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "scope": "openid profile",
        "state": "st-1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **extra,
    }
    return urlencode(params)


def http_event(
    method: str,
    path: str,
    *,
    query: str = "",
    body: str | None = None,
    cookies: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
    base64_body: bool = False,
    domain: str = "auth.example.test",
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event as API Gateway sends it."""
    all_headers = {"host": domain, "user-agent": "test", **(headers or {})}
    if body is not None:
        all_headers.setdefault("content-type", "application/x-www-form-urlencoded")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "domainName": domain,
            "stage": "$default",
            "requestId": "req-1",
            "http": {"method": method, "path": path, "sourceIp": "203.0.113.9"},
        },
        "isBase64Encoded": base64_body,
    }
    if cookies:
        event["cookies"] = cookies
    if body is not None:
        event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    return event
