"""The authorization endpoint's vocabulary: what the hosted pages ask the protocol core.

Browser sign-in (RFC 6749 §4.1 with PKCE, RFC 7636; OpenID Connect Core §3.1) is split in two:

- the **protocol core** (:class:`AuthorizationProtocol`, implemented by
  ``auth_core.oauth.authorize.AuthorizationService``) validates authorization requests, keeps
  the single sign-on session, checks passwords (with the token endpoint's throttle), records
  consent, issues authorization codes, answers pushed authorization requests (RFC 9126) and
  ends sessions (RP-initiated logout). It never sees HTML, cookies' attributes or HTTP.
- the **hosted pages** (``auth_core.hosted`` and ``functions/authorize``) turn HTTP into calls
  on it and its answers into pages, redirects and cookies; they never see a table or a rule of
  the protocol.

This module holds only the types both sides share, so either side can be read (and tested
with a fake of the other) on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from auth_core.errors import AuthError

if TYPE_CHECKING:  # annotations only: /authorize's cold import does not load the clients store
    from auth_core.oauth.request import OAuthRequest
    from auth_core.stores.clients import Client

__all__ = [
    "AuthorizationProtocol",
    "AuthorizationRequest",
    "AuthorizationResponse",
    "LogoutResult",
    "MfaChallenge",
    "MfaExpiredError",
    "NoRedirectError",
    "RedirectError",
    "SecondFactorFailedError",
    "SignInFailedError",
    "SignedIn",
    "SsoSession",
]

ResponseMode = Literal["query", "form_post"]


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request (its client and redirect URI are known to be good).

    :ivar form_fields: what a page's form must send back to continue this request: the original
        parameters, or ``client_id`` and ``request_uri`` alone for a pushed request.
    """

    client: Client
    redirect_uri: str
    scope: tuple[str, ...]
    code_challenge: str
    state: str | None = None
    nonce: str | None = None
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    login_hint: str | None = None
    #: ``acr_values`` (OpenID Connect Core §3.1.2.1), in order
    acr_values: tuple[str, ...] = ()
    response_mode: ResponseMode = "query"
    request_uri: str | None = None
    #: ``dpop_jkt`` (RFC 9449 §10): the thumbprint of the DPoP key the code must be redeemed with
    dpop_jkt: str | None = None
    form_fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthorizationResponse:
    """Where to send the browser: ``redirect_uri`` with ``params`` (``code``, ``state``, ``iss``;
    or ``error``, ``error_description``, ``state``, ``iss``), in ``response_mode``."""

    redirect_uri: str
    params: Mapping[str, str]
    response_mode: ResponseMode = "query"

    def location(self) -> str:
        """The ``Location`` of a ``query``-mode redirect (RFC 6749 §4.1.2: parameters added to
        the redirect URI's own query, which is kept)."""
        from urllib.parse import urlencode  # noqa: PLC0415 - only redirects need it

        separator = "&" if "?" in self.redirect_uri else "?"
        return self.redirect_uri + separator + urlencode(dict(self.params))


@dataclass(frozen=True)
class SsoSession:
    """A live single sign-on session (the browser's login-session cookie points to it).

    :ivar session_id: the OpenID Connect ``sid`` of ID tokens issued under it (not the cookie).
    :ivar auth_time: when the user last entered a password (epoch seconds).
    :ivar amr: how (``("pwd",)``; later ``"otp"``).
    """

    session_id: str
    subject: str
    username: str
    auth_time: int
    amr: tuple[str, ...] = ("pwd",)


@dataclass(frozen=True)
class SignedIn:
    """A successful sign-in: the new session and the cookie value that names it (secret: it is a
    bearer credential for the session; only its hash is stored)."""

    session: SsoSession
    cookie_value: str


@dataclass(frozen=True)
class MfaChallenge:
    """The password was right and a second factor is due: the page to show next.

    :ivar ticket: names the pending sign-in (secret: 256 random bits, only its hash is stored;
        bound to the browser and the authorization request, single use, short-lived).
    :ivar mode: ``verify`` (a code from the user's app or a recovery code) or ``enrol``.
    :ivar secret: / :ivar uri: / :ivar recovery_codes: for ``enrol`` only: what the user
        copies into an authenticator app and keeps.
    """

    ticket: str
    mode: str
    username: str
    secret: str = ""
    uri: str = ""
    recovery_codes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"MfaChallenge(mode={self.mode!r})"


class SecondFactorFailedError(AuthError):
    """A wrong, replayed or malformed code (one generic answer); the ticket stays usable while it
    has attempts left."""

    reason = "second_factor_failed"


class MfaExpiredError(AuthError):
    """The pending sign-in is unknown, expired, used, out of attempts, or belongs to another
    browser or request: start again at the password."""

    reason = "mfa_expired"


@dataclass(frozen=True)
class LogoutResult:
    """Where the browser goes after ``/logout``: ``redirect_to`` (a registered post-logout
    redirect URI, with ``state``) or ``None`` for the hosted signed-out page."""

    redirect_to: str | None = None


class NoRedirectError(AuthError):
    """An authorization request that must not be answered by a redirect (RFC 6749 §4.1.2.1):
    unknown or disabled client, missing/unregistered ``redirect_uri``, an unusable
    ``request_uri``. The hosted error page says so; the browser stays on our origin."""

    reason = "no_redirect"


class RedirectError(AuthError):
    """An authorization request refused with a redirect to the client (RFC 6749 §4.1.2.1,
    OpenID Connect Core §3.1.2.6): ``response`` carries ``error``, ``state`` and ``iss``."""

    reason = "redirect_error"

    def __init__(self, response: AuthorizationResponse, reason: str | None = None) -> None:
        super().__init__(response.params.get("error", "invalid_request"), reason=reason)
        self.response = response


class SignInFailedError(AuthError):
    """Wrong username or password, unknown or disabled user: one generic answer (no user
    enumeration). ``reason`` says which, for the log line and metric only."""

    reason = "sign_in_failed"


class AuthorizationProtocol(Protocol):
    """What the hosted pages call. Every method that changes state is atomic and re-checks what
    it depends on (the user, the client, the session) in its own transaction."""

    def parse(self, params: Mapping[str, str]) -> AuthorizationRequest:
        """Validate an authorization request (from the query, a form, or by ``request_uri``).

        :raises NoRedirectError: it cannot be answered safely by a redirect.
        :raises RedirectError: any other refusal (``invalid_request``, ``unsupported_response_type``,
            ``invalid_scope``, ``unauthorized_client``, ``access_denied`` ...).
        """
        ...

    def current_session(self, cookie_value: str | None) -> SsoSession | None:
        """The live SSO session the cookie names, or ``None`` (none, expired, idle, ended, or its
        user was disabled, reset or logged out everywhere since)."""
        ...

    def needs_login(
        self, request: AuthorizationRequest, session: SsoSession | None, *, reauthenticated: bool = False
    ) -> bool:
        """The user must enter a password now: no session, ``prompt=login`` (or ``max_age=0``)
        unless ``reauthenticated``, or ``max_age`` exceeded by the session's ``auth_time``.
        (With ``prompt=none`` the caller answers ``login_required`` instead.)

        ``reauthenticated``: the session was signed in for this very request (the sign-in form it
        showed, or a consent page shown right after that sign-in): that sign-in is the one
        ``prompt=login`` asked for. Every page re-checks, so ``max_age`` holds at the code."""
        ...

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
        """Check the password (the token endpoint's throttle applies) and start an SSO session,
        or, when a second factor is due, a pending sign-in bound to ``browser`` (the browser's
        CSRF secret) and the request (:class:`MfaChallenge`; no session exists yet).
        ``replacing``: the browser's current session cookie, if any: that SSO session ends (one
        browser, one session: a switch of user, or a re-authentication, leaves no other one live
        behind the new cookie). Its refresh-token families are not revoked: that is logout's.

        :raises SignInFailedError: generic failure.
        :raises SlowDownError: too many failures (the throttle).
        """
        ...

    def challenge(self, request: AuthorizationRequest, ticket: str, browser: str | None) -> MfaChallenge:
        """The pending sign-in's page again (after a wrong code).

        :raises MfaExpiredError: the ticket is not usable by this browser for this request.
        """
        ...

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
        """Check a TOTP or recovery code for the pending sign-in (or confirm an enrolment) and,
        in one transaction, use up the ticket and the code and start the SSO session.

        :raises SecondFactorFailedError: a wrong or replayed code.
        :raises MfaExpiredError: the ticket is not usable (see :meth:`challenge`).
        :raises SlowDownError: too many attempts (the login throttle).
        """
        ...

    def needs_consent(self, request: AuthorizationRequest, session: SsoSession) -> bool:
        """A third-party client asks for scopes this user has not granted it yet."""
        ...

    def grant_consent(self, request: AuthorizationRequest, session: SsoSession) -> None:
        """Remember that the user granted ``request.scope`` to ``request.client``."""
        ...

    def issue_code(self, request: AuthorizationRequest, session: SsoSession) -> AuthorizationResponse:
        """A new authorization code for the request, as the response to send the browser."""
        ...

    def refuse(
        self, request: AuthorizationRequest, error: str, description: str | None = None
    ) -> AuthorizationResponse:
        """An error response for a valid request (``access_denied`` when consent is refused,
        ``login_required`` / ``consent_required`` for ``prompt=none``)."""
        ...

    def push(self, request: OAuthRequest) -> dict[str, object]:
        """``POST /par`` (RFC 9126): authenticate the client, validate, store; the 201 body
        (``request_uri``, ``expires_in``).

        :raises OAuthError: as RFC 9126 §2.3 says.
        """
        ...

    def hint_matches_session(self, cookie_value: str | None, id_token_hint: str | None) -> bool:
        """The ``id_token_hint`` is one of our ID tokens (expired or not) issued under the live
        SSO session the cookie names: its ``sid`` is that session's (or, without ``sid``, its
        ``sub`` is that session's user). Only then may a logout act without asking (OpenID
        Connect RP-Initiated Logout 1.0 §2); anything else is ``False``.

        :raises KeyStoreError: the public keys could not be loaded.
        """
        ...

    def end_session(
        self,
        cookie_value: str | None,
        *,
        id_token_hint: str | None,
        client_id: str | None,
        post_logout_redirect_uri: str | None,
        state: str | None,
    ) -> LogoutResult:
        """RP-initiated logout: end the SSO session (and the refresh-token families issued under
        it); redirect only to a post-logout URI registered for the client the hint names.

        :raises NoRedirectError: a post-logout redirect URI that is not registered.
        """
        ...
