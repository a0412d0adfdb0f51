"""The authorization endpoint's protocol core: :class:`AuthorizationService`.

It implements :class:`~auth_core.oauth.authorization.AuthorizationProtocol` (read that module
first): the hosted pages turn HTTP into calls on it. Rules, in the order :meth:`parse` applies
them (RFC 6749 §4.1, RFC 7636, RFC 9700 §2.1, RFC 9126, RFC 9207, OpenID Connect Core §3.1.2):

1. ``request_uri`` (a pushed request): it must name an unused, unexpired pushed request of the
   ``client_id`` given; its stored parameters are the request (nothing else in the query is
   read). Anything wrong with it cannot be redirected: :class:`NoRedirectError`.
2. The client: known and enabled, else :class:`NoRedirectError`. A client with ``require_par``
   refuses requests not made by ``request_uri``.
3. ``redirect_uri``: present and one of the client's (exact; a loopback one with any port,
   RFC 8252 §7.3), and the registered URI is checked again (:func:`check_redirect_uri`) before
   it is ever redirected to; else :class:`NoRedirectError` -- never an open redirect.
4. From here on every refusal is a :class:`RedirectError` to that URI, with ``state`` and
   ``iss`` (RFC 9207): a parameter given twice, ``response_type`` other than ``code``
   (``unsupported_response_type``), a client without the authorization code grant
   (``unauthorized_client``), PKCE missing or not ``S256`` or malformed (RFC 7636 §4.4.1:
   required for every client), ``scope`` not allowed (least privilege: user ∩ client ∩
   supported, the user's part applied at :meth:`issue_code`), ``prompt`` (``none`` alone,
   ``login``, ``consent``), ``max_age``, ``response_mode`` (``query``, ``form_post``),
   ``dpop_jkt`` (RFC 9449 §10: an RFC 7638 SHA-256 thumbprint, 43 base64url characters; the
   code is stored with it and redeemed only with a proof by that key).

The single sign-on session: :meth:`sign_in` checks the password through the very function the
password grant uses (``oauth.login.authenticate_user``: the same throttle, counted before
hashing; the dummy verification for unknown users) and stores a session under the hash of a
random 256-bit cookie value. :meth:`current_session` refuses sessions that are ended, past
their absolute or idle limit, or whose user was disabled, reset or logged out everywhere since
(the user's ``sessions_version``) or is behind a cut-off.

Codes are 256 random bits, stored hashed for ``AUTHORIZATION_CODE_TTL`` (≤ 60 s), bound to the
client, the redirect URI, the PKCE challenge, the nonce, the scope, the user and the SSO
session; the token endpoint redeems them (``TokenService.authorization_code``).
"""

from __future__ import annotations

import functools
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auth_core.errors import (
    InvalidDPoPProofError,
    InvalidGrantError,
    InvalidRequestError,
    OAuthError,
    TokenError,
    UnauthorizedClientError,
)
from auth_core.grant_types import AUTHORIZATION_CODE
from auth_core.mfa.policy import ACR_MFA
from auth_core.oauth import pkce
from auth_core.oauth.audit import Audit, NullAudit
from auth_core.oauth.authorization import (
    AuthorizationRequest,
    AuthorizationResponse,
    LogoutResult,
    MfaChallenge,
    MfaExpiredError,
    NoRedirectError,
    RedirectError,
    ResponseMode,
    SignedIn,
    SignInFailedError,
    SsoSession,
)
from auth_core.oauth.client_auth import authenticate_client, is_valid_client_id
from auth_core.oauth.grants import dpop_gate, stores_from_settings
from auth_core.oauth.id_token import read_hint
from auth_core.oauth.login import authenticate_user
from auth_core.oauth.refresh import hash_refresh_token, looks_like_refresh_token, new_refresh_token
from auth_core.oauth.request import DPOP_HEADER, OAuthRequest
from auth_core.oauth.revocation import SessionRevoker
from auth_core.oauth.scope import resolve_scope
from auth_core.oauth.second_factor import SecondFactor
from auth_core.passwords import PasswordHasher
from auth_core.redirect_uris import check_redirect_uri, redirect_uri_matches
from auth_core.settings import Settings

if TYPE_CHECKING:
    from auth_core.oauth.mfa_setup import MfaSetup
    from auth_core.oauth.sender_constraint import DPoPGate

from auth_core.stores.interfaces import (
    Clients,
    Consents,
    PushedRequests,
    Revocations,
    Sessions,
    SsoSessions,
    Throttle,
    Users,
)
from auth_core.stores.sessions import AuthorizationCode
from auth_core.stores.signin import (
    ConsentStore,
    PushedRequest,
    PushedRequestStore,
    SsoRecord,
    SsoSessionStore,
)

__all__ = ["REQUEST_URI_PREFIX", "AuthorizationService"]

#: RFC 9126 §2.2: the ``request_uri`` of a pushed request is this plus 256 random bits
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
_PROMPTS = frozenset({"none", "login", "consent"})
_RESPONSE_MODES: dict[str, ResponseMode] = {"query": "query", "form_post": "form_post"}
#: the parameters a request may carry (anything else is ignored, RFC 6749 §3.1)
_KNOWN = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "response_mode",
    "acr_values",
    "dpop_jkt",
)
_MAX_VALUE = 2048
#: RFC 9449 §10: ``dpop_jkt`` is a base64url SHA-256 JWK thumbprint (RFC 7638)
_JKT = re.compile(r"[A-Za-z0-9_-]{43}")


class AuthorizationService:
    """The protocol core of ``/authorize``, ``/logout`` and ``/par`` (see the module docstring).

    :param issuer: our ``iss`` (authorization responses carry it, RFC 9207; ``id_token_hint``
        must name it). Empty: the hosted function derives it per request and uses
        :meth:`for_issuer`.
    :param public_keys: verification keys (``get_verification_key(kid)``) for ``id_token_hint``.
    """

    def __init__(
        self,
        *,
        users: Users,
        clients: Clients,
        sessions: Sessions,
        revocations: Revocations,
        throttle: Throttle,
        sso: SsoSessions,
        pushed: PushedRequests,
        consents: Consents,
        issuer: str = "",
        public_keys: Any = None,
        hasher: PasswordHasher | None = None,
        scopes_supported: tuple[str, ...] = ("openid", "profile", "read", "write"),
        sso_max_age: int = 43200,
        sso_idle_timeout: int = 3600,
        code_ttl: int = 60,
        par_ttl: int = 60,
        max_token_lifetime: int = 3600,
        audit: Audit | None = None,
        clock: Callable[[], float] = time.time,
        second_factor: SecondFactor | None = None,
        dpop: Callable[[], DPoPGate] | None = None,
    ) -> None:
        #: builds (once, on the first ``DPoP`` proof sent to ``/par``, RFC 9449 §10.1) the check of
        #: such proofs; ``None``: they are refused
        self._dpop = functools.cache(dpop) if dpop is not None else None
        #: TOTP and recovery codes (``None``: password-only sign-in, as before MFA existed)
        self.mfa = second_factor
        self.users = users
        self.clients = clients
        self.sessions = sessions
        self.revocations = revocations
        self.throttle = throttle
        self.sso = sso
        self.pushed = pushed
        self.consents = consents
        self.issuer = issuer
        self.public_keys = public_keys
        self.hasher = hasher or PasswordHasher()
        self.scopes_supported = scopes_supported
        self.sso_max_age = sso_max_age
        self.sso_idle_timeout = sso_idle_timeout
        self.code_ttl = min(code_ttl, 60)
        self.par_ttl = par_ttl
        self.audit: Audit = audit or NullAudit()
        self._clock = clock
        self.revoker = SessionRevoker(
            sessions=sessions,
            revocations=revocations,
            users=users,
            max_token_lifetime=max_token_lifetime,
            audit=self.audit,
            clock=clock,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        audit: Audit | None = None,
        dynamodb: Any | None = None,
        clock: Callable[[], float] = time.time,
        public_keys: Any = None,
        hasher: PasswordHasher | None = None,
    ) -> AuthorizationService:
        """Wire the stores from ``USERS_TABLE``, ``CLIENTS_TABLE``, ``SESSIONS_TABLE``,
        ``REVOCATIONS_TABLE`` and the public keys from ``PUBLIC_JWKS_SECRET_ID`` (when set).

        :raises ConfigurationError: a table name is not set.
        """
        sessions_table = settings.require("sessions_table")
        if public_keys is None and settings.public_jwks_secret_id:
            from auth_core.keystore import PublicKeyStore  # noqa: PLC0415 - only logout needs it

            public_keys = PublicKeyStore.from_settings(settings)
        stores = stores_from_settings(settings, dynamodb=dynamodb, clock=clock)
        sso = SsoSessionStore(sessions_table, client=dynamodb, clock=clock)
        audit = audit or NullAudit()
        from auth_core.stores.mfa import MfaStore, PendingMfaStore  # noqa: PLC0415 - same

        second = SecondFactor(
            mfa=MfaStore(settings.require("users_table"), client=dynamodb, clock=clock),
            pending=PendingMfaStore(sessions_table, client=dynamodb, clock=clock),
            throttle=stores["throttle"],
            sso=sso,
            audit=audit,
            issuer_name=settings.brand_name,
            clock=clock,
        )
        return cls(
            **stores,
            second_factor=second,
            sso=sso,
            pushed=PushedRequestStore(sessions_table, client=dynamodb, clock=clock),
            consents=ConsentStore(sessions_table, client=dynamodb, clock=clock),
            issuer=settings.issuer,
            public_keys=public_keys,
            hasher=hasher,
            scopes_supported=settings.scopes_supported,
            sso_max_age=settings.sso_session_max_age,
            sso_idle_timeout=settings.sso_session_idle_timeout,
            code_ttl=settings.authorization_code_ttl,
            par_ttl=settings.par_request_ttl,
            max_token_lifetime=settings.max_access_token_lifetime,
            audit=audit,
            clock=clock,
            dpop=lambda: dpop_gate(settings, None, dynamodb=dynamodb, clock=clock),  # no nonces at /par
        )

    @property
    def mfa_setup(self) -> MfaSetup | None:
        """The self-service two-step verification page's core (``None`` without MFA)."""
        if self.mfa is None:
            return None
        from auth_core.oauth.mfa_setup import MfaSetup  # noqa: PLC0415 - that page only

        return MfaSetup(self.mfa)

    def for_issuer(self, issuer: str) -> AuthorizationService:
        """The same service answering as ``issuer`` (derived per request when ``ISSUER`` is not
        set); the stores are shared."""
        if issuer == self.issuer:
            return self
        clone = object.__new__(AuthorizationService)
        clone.__dict__.update(self.__dict__)
        clone.issuer = issuer
        return clone

    # ------------------------------------------------------------------ requests
    def parse(self, params: Mapping[str, Any]) -> AuthorizationRequest:
        """See :meth:`AuthorizationProtocol.parse`. A value that is a list or tuple means the
        parameter was given that many times (the caller may pass the query's pairs that way):
        anything but exactly once is ``invalid_request`` (RFC 6749 §3.1)."""
        request_uri = _one(params, "request_uri")
        if request_uri is not None:
            return self._by_reference(request_uri, _one(params, "client_id"))
        return self._validate(params, by_reference=None)

    def _by_reference(self, request_uri: str, client_id: str | None) -> AuthorizationRequest:
        if client_id is None or not request_uri.startswith(REQUEST_URI_PREFIX):
            raise NoRedirectError(reason="request_uri_invalid")
        handle = request_uri.removeprefix(REQUEST_URI_PREFIX)
        if not looks_like_refresh_token(handle):
            raise NoRedirectError(reason="request_uri_invalid")
        pushed = self.pushed.get(hash_refresh_token(handle))
        now = int(self._clock())
        if pushed is None or not pushed.usable(now) or pushed.client_id != client_id:
            raise NoRedirectError(reason="request_uri_unusable")
        return self._validate(pushed.params, by_reference=request_uri)

    def _validate(self, params: Mapping[str, Any], *, by_reference: str | None) -> AuthorizationRequest:
        client_id = _one(params, "client_id")
        if not client_id or not is_valid_client_id(client_id):
            raise NoRedirectError(reason="client_missing")
        client = self.clients.get(client_id)
        if client is None or not client.enabled:
            raise NoRedirectError(reason="client_unknown")
        redirect_uri = _one(params, "redirect_uri")
        if redirect_uri is None or not redirect_uri_matches(client.redirect_uris, redirect_uri):
            raise NoRedirectError(reason="redirect_uri_unregistered")
        try:  # the registered form must itself be a safe target (a record from before the rules)
            check_redirect_uri(_registered(client.redirect_uris, redirect_uri))
        except InvalidRequestError:
            raise NoRedirectError(reason="redirect_uri_unsafe") from None
        state = _one(params, "state")
        mode = _RESPONSE_MODES.get(_one(params, "response_mode") or "query")

        def refuse(error: str, reason: str) -> RedirectError:
            response = self._response(redirect_uri, {"error": error}, state, mode or "query")
            return RedirectError(response, reason=reason)

        duplicated = [name for name in (*_KNOWN, "request_uri") if _count(params, name) > 1]
        if duplicated:
            raise refuse("invalid_request", "duplicate_parameter")
        if mode is None:
            raise refuse("invalid_request", "response_mode_unsupported")
        if client.require_par and by_reference is None:
            raise refuse("invalid_request", "par_required")
        if _one(params, "response_type") != "code":
            raise refuse("unsupported_response_type", "response_type_unsupported")
        if AUTHORIZATION_CODE not in client.grant_types:
            raise refuse("unauthorized_client", "grant_not_allowed")
        challenge = _one(params, "code_challenge")
        if challenge is None:
            raise refuse("invalid_request", "pkce_missing")
        if _one(params, "code_challenge_method") != pkce.S256:  # RFC 9700 §2.1.1: never plain
            raise refuse("invalid_request", "pkce_method")
        if not pkce.is_valid_challenge(challenge):
            raise refuse("invalid_request", "pkce_challenge_format")
        if any(len(v) > _MAX_VALUE for v in (_one(params, n) or "" for n in _KNOWN)):
            raise refuse("invalid_request", "parameter_too_long")
        allowed = [s for s in client.scopes if s in self.scopes_supported]
        try:
            scope = resolve_scope(_one(params, "scope"), allowed, client.default_scopes)
        except OAuthError:
            raise refuse("invalid_scope", "scope_not_allowed") from None
        prompt = frozenset((_one(params, "prompt") or "").split())
        if not prompt <= _PROMPTS or ("none" in prompt and len(prompt) > 1):
            raise refuse("invalid_request", "prompt_invalid")
        max_age = _one(params, "max_age")
        if max_age is not None and not (max_age.isascii() and max_age.isdigit() and len(max_age) <= 9):
            raise refuse("invalid_request", "max_age_invalid")
        dpop_jkt = _one(params, "dpop_jkt")
        if dpop_jkt is not None and _JKT.fullmatch(dpop_jkt) is None:
            raise refuse("invalid_request", "dpop_jkt_invalid")
        form_fields = (
            {"client_id": client.client_id, "request_uri": by_reference}
            if by_reference is not None
            else {name: value for name in _KNOWN if (value := _one(params, name)) is not None}
        )
        return AuthorizationRequest(
            client=client,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=challenge,
            state=state,
            nonce=_one(params, "nonce"),
            prompt=prompt,
            max_age=int(max_age) if max_age is not None else None,
            login_hint=_one(params, "login_hint"),
            acr_values=tuple((_one(params, "acr_values") or "").split()),
            response_mode=mode,
            request_uri=by_reference,
            dpop_jkt=dpop_jkt,
            form_fields=form_fields,
        )

    def _response(
        self, redirect_uri: str, params: Mapping[str, str], state: str | None, mode: ResponseMode
    ) -> AuthorizationResponse:
        out = dict(params)
        if state is not None:
            out["state"] = state
        out["iss"] = self.issuer  # RFC 9207 §2: in every response, errors too
        return AuthorizationResponse(redirect_uri, out, mode)

    def refuse(
        self, request: AuthorizationRequest, error: str, description: str | None = None
    ) -> AuthorizationResponse:
        params = {"error": error, **({"error_description": description} if description else {})}
        return self._response(request.redirect_uri, params, request.state, request.response_mode)

    # ------------------------------------------------------------------ the SSO session
    def current_session(self, cookie_value: str | None) -> SsoSession | None:
        if not cookie_value or not looks_like_refresh_token(cookie_value):
            return None
        cookie_hash = hash_refresh_token(cookie_value)
        record = self.sso.get(cookie_hash)
        now = int(self._clock())
        if record is None or not record.live(now):
            return None
        user = self.users.get(record.username)
        if (
            user is None
            or not user.enabled
            or user.subject != record.subject
            # logout-all, a password reset and disable bump it in the same write as the cut-off
            or user.sessions_version != record.sessions_version
            or self.revocations.global_cutoff_ms() > record.created_at * 1000  # keys revoke --all
        ):
            self.sso.end(cookie_hash, now=now, session_id=record.session_id)
            return None
        self.sso.touch(cookie_hash, now=now)
        return _session(record)

    def needs_login(
        self, request: AuthorizationRequest, session: SsoSession | None, *, reauthenticated: bool = False
    ) -> bool:
        """See :meth:`AuthorizationProtocol.needs_login`. ``max_age=0`` is ``prompt=login``
        (OpenID Connect Core §3.1.2.1): met by the sign-in of this request, not by a clock."""
        if session is None:
            return True
        if "otp" not in session.amr and (request.client.mfa == "required" or ACR_MFA in request.acr_values):
            # a step-up: this client or request wants a second factor this session lacks (even
            # one signed in for this request: such a sign-in always passes a second factor)
            return True
        if "login" in request.prompt or request.max_age == 0:
            return not reauthenticated
        return request.max_age is not None and int(self._clock()) - session.auth_time > request.max_age

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
        """See :meth:`AuthorizationProtocol.sign_in` (``replacing`` ends only after the password
        is right -- or, with a second factor, after that: a failed attempt changes nothing).

        :raises SignInFailedError: generic failure; :raises SlowDownError: the throttle."""
        try:
            user = authenticate_user(
                username,
                password,
                users=self.users,
                throttle=self.throttle,
                hasher=self.hasher,
                audit=self.audit,
                client_id=request.client.client_id,
                source_ip=source_ip,
                settle=self.mfa is None,
            )
        except InvalidGrantError as exc:
            raise SignInFailedError(reason=exc.reason) from None
        if self.mfa is not None:
            mode = self.mfa.mode_for(user, request)
            if mode is not None:  # no session yet: the second factor's page comes first
                return self.mfa.start(user, request, mode, browser)
            self.throttle.succeeded(user.username, source_ip)
        self._end_replaced(replacing)
        cookie, record = self._new_sso(user.subject, user.username, user.sessions_version, ("pwd",))
        self.sso.create(hash_refresh_token(cookie), record)
        self.audit.record("SignInSucceeded", client_id=request.client.client_id)
        return SignedIn(_session(record), cookie)

    def _end_replaced(self, replacing: str | None) -> None:
        if replacing and looks_like_refresh_token(replacing):
            old_hash = hash_refresh_token(replacing)
            old = self.sso.get(old_hash)
            if old is not None:
                self.sso.end(old_hash, now=int(self._clock()), session_id=old.session_id)

    def _new_sso(
        self, subject: str, username: str, sessions_version: int, amr: tuple[str, ...]
    ) -> tuple[str, SsoRecord]:
        """A new session's cookie value (256 random bits; only its hash is stored) and record."""
        now = int(self._clock())
        record = SsoRecord(
            session_id=secrets.token_hex(16),
            subject=subject,
            username=username,
            sessions_version=sessions_version,
            auth_time=now,
            created_at=now,
            expires_at=now + self.sso_max_age,
            idle_timeout=self.sso_idle_timeout,
            last_seen_at=now,
            amr=amr,
        )
        return new_refresh_token(), record

    # ------------------------------------------------------------------ the second factor
    def challenge(self, request: AuthorizationRequest, ticket: str, browser: str | None) -> MfaChallenge:
        """See :meth:`AuthorizationProtocol.challenge`."""
        if self.mfa is None:
            raise MfaExpiredError(reason="mfa_not_configured")
        return self.mfa.challenge(request, ticket, browser)

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
        """See :meth:`AuthorizationProtocol.second_factor`: the SSO session is created in the
        transaction that spends the code and the ticket."""
        if self.mfa is None:
            raise MfaExpiredError(reason="mfa_not_configured")
        made: dict[str, Any] = {}

        def session(pending: Any, amr: tuple[str, ...]) -> tuple[str, SsoRecord]:
            cookie, record = self._new_sso(pending.subject, pending.username, pending.sessions_version, amr)
            made["cookie"], made["record"] = cookie, record
            return hash_refresh_token(cookie), record

        self.mfa.complete(request, ticket, code, source_ip, browser=browser, session=session)
        self._end_replaced(replacing)
        self.audit.record("SignInSucceeded", client_id=request.client.client_id)
        return SignedIn(_session(made["record"]), made["cookie"])

    # ------------------------------------------------------------------ consent
    def needs_consent(self, request: AuthorizationRequest, session: SsoSession) -> bool:
        if request.client.first_party:  # the deployment's own app: nothing to ask
            return False
        if "consent" in request.prompt:
            return True
        granted = self.consents.get(session.subject, request.client.client_id)
        return granted is None or not set(request.scope) <= set(granted.scope)

    def grant_consent(self, request: AuthorizationRequest, session: SsoSession) -> None:
        self.consents.grant(session.subject, request.client.client_id, request.scope, now=int(self._clock()))
        self.audit.record("ConsentGranted", client_id=request.client.client_id)

    # ------------------------------------------------------------------ codes
    def issue_code(self, request: AuthorizationRequest, session: SsoSession) -> AuthorizationResponse:
        """A code bound to the request and the session (the pushed request is used up first).

        :raises NoRedirectError: the pushed request was used or expired meanwhile.
        :raises RedirectError: ``access_denied``: the user was disabled or logged out meanwhile.
        """
        now = int(self._clock())
        if request.request_uri is not None:
            handle = request.request_uri.removeprefix(REQUEST_URI_PREFIX)
            if not self.pushed.consume(hash_refresh_token(handle), now=now):
                raise NoRedirectError(reason="request_uri_unusable")
        user = self.users.get(session.username)
        # a session of ours knows the user's version at sign-in (another's: the current one)
        version = session.sessions_version if isinstance(session, _LiveSession) else None
        if (
            user is None
            or not user.enabled
            or user.subject != session.subject
            or (version is not None and user.sessions_version != version)
        ):
            raise RedirectError(self.refuse(request, "access_denied"), reason="user_inactive")
        # least privilege: the user's own scopes too (the client's were applied by parse)
        scope = tuple(s for s in request.scope if s in user.scopes)
        code = new_refresh_token()
        self.sessions.put_code(
            AuthorizationCode(
                code_hash=hash_refresh_token(code),
                client_id=request.client.client_id,
                redirect_uri=request.redirect_uri,
                code_challenge=request.code_challenge,
                nonce=request.nonce or "",
                dpop_jkt=request.dpop_jkt or "",
                scope=scope,
                subject=user.subject,
                username=user.username,
                sessions_version=user.sessions_version,
                sso_session_id=session.session_id,
                auth_time=session.auth_time,
                amr=session.amr,
                expires_at=now + self.code_ttl,
                created_at=now,
            )
        )
        self.audit.record("AuthorizationCodeIssued", client_id=request.client.client_id)
        return self._response(request.redirect_uri, {"code": code}, request.state, request.response_mode)

    # ------------------------------------------------------------------ PAR
    def push(self, request: OAuthRequest) -> dict[str, object]:
        """``POST /par`` (RFC 9126 §2): authenticate the client, validate the request as
        ``/authorize`` would, store it. Errors are token-endpoint style (§2.3).

        :raises OAuthError: ``invalid_client``, ``invalid_request`` and the validation's codes.
        """
        gate = None
        if DPOP_HEADER in request.headers:  # RFC 9449 §10.1: the code is bound to the proof's key
            if self._dpop is None:
                raise InvalidDPoPProofError(reason="dpop_unavailable")
            gate = self._dpop()
            request = gate.check(request, self.issuer + "/par")
        client = authenticate_client(request.client, self.clients, now=self._clock())
        if gate is not None:
            gate.record(request)  # spent once the client is known, as at /token
        params = dict(request.params)
        params.pop("client_secret", None)
        if request.dpop_jkt is not None:
            named = params.get("dpop_jkt")
            if named is not None and named != request.dpop_jkt:  # §10.1: both, then the same key
                raise InvalidDPoPProofError("dpop_jkt is not the proof's key", reason="dpop_jkt_mismatch")
            params["dpop_jkt"] = request.dpop_jkt
        if "request_uri" in params:  # RFC 9126 §2.1: not inside a pushed request
            raise InvalidRequestError("request_uri is not allowed here", reason="par_request_uri")
        if params.get("client_id", client.client_id) != client.client_id:
            raise InvalidRequestError("client_id mismatch", reason="par_client_mismatch")
        params["client_id"] = client.client_id
        try:
            self._validate(params, by_reference="pushed")
        except NoRedirectError as exc:
            raise InvalidRequestError("invalid redirect_uri", reason=exc.reason) from None
        except RedirectError as exc:
            error = exc.response.params.get("error", "invalid_request")
            if error == "unauthorized_client":
                raise UnauthorizedClientError(reason=exc.reason) from None
            raise InvalidRequestError(error, reason=exc.reason) from None
        handle = new_refresh_token()
        now = int(self._clock())
        kept = {k: v for k, v in params.items() if k in _KNOWN}
        self.pushed.put(PushedRequest(hash_refresh_token(handle), client.client_id, kept, now + self.par_ttl))
        self.audit.record("AuthorizationRequestPushed", client_id=client.client_id)
        return {"request_uri": REQUEST_URI_PREFIX + handle, "expires_in": self.par_ttl}

    # ------------------------------------------------------------------ logout
    def end_session(
        self,
        cookie_value: str | None,
        *,
        id_token_hint: str | None,
        client_id: str | None,
        post_logout_redirect_uri: str | None,
        state: str | None,
    ) -> LogoutResult:
        """See :meth:`AuthorizationProtocol.end_session`.

        :raises NoRedirectError: a post-logout redirect URI that is not registered for the
            client (or without a hint or ``client_id`` to name the client).
        """
        hint = None
        if id_token_hint:
            try:
                hint = read_hint(id_token_hint, self.public_keys, issuer=self.issuer)
            except TokenError:
                hint = None  # not ours: it names nobody, and nothing is redirected
        target_client = hint.client_id if hint is not None else client_id
        if hint is not None and client_id is not None and client_id != hint.client_id:
            raise NoRedirectError(reason="logout_client_mismatch")
        redirect_to = None
        if post_logout_redirect_uri is not None:
            client = self.clients.get(target_client) if target_client else None
            if (
                hint is None
                or client is None
                # the rule of /authorize (exact, or a loopback one on another port, RFC 8252
                # §7.3): an app on an ephemeral loopback port signs out where it signed in
                or not redirect_uri_matches(client.post_logout_redirect_uris, post_logout_redirect_uri)
            ):
                raise NoRedirectError(reason="post_logout_redirect_unregistered")
            try:
                check_redirect_uri(post_logout_redirect_uri)
            except InvalidRequestError:
                raise NoRedirectError(reason="post_logout_redirect_unsafe") from None
            redirect_to = AuthorizationResponse(
                post_logout_redirect_uri, {"state": state} if state is not None else {}
            ).location()
        self._end(cookie_value)
        return LogoutResult(redirect_to)

    def hint_matches_session(self, cookie_value: str | None, id_token_hint: str | None) -> bool:
        """See :meth:`AuthorizationProtocol.hint_matches_session`."""
        if not id_token_hint:
            return False
        session = self.current_session(cookie_value)
        if session is None:
            return False
        try:
            hint = read_hint(id_token_hint, self.public_keys, issuer=self.issuer)
        except TokenError:
            return False
        if hint.subject != session.subject:
            return False
        return hint.session_id is None or hint.session_id == session.session_id

    def _end(self, cookie_value: str | None) -> None:
        """End the SSO session the cookie names and every refresh-token family issued under it."""
        if not cookie_value or not looks_like_refresh_token(cookie_value):
            return
        cookie_hash = hash_refresh_token(cookie_value)
        record = self.sso.get(cookie_hash)
        if record is None:
            return
        self.sso.end(cookie_hash, now=int(self._clock()), session_id=record.session_id)
        ended = sum(
            self.revoker.revoke_family(family.family_id, reason="logout")
            for family in self.sessions.families_of_sso(record.subject, record.session_id)
        )
        self.audit.record("SignedOut", families=ended)


# ---------------------------------------------------------------------- helpers
def _count(params: Mapping[str, Any], name: str) -> int:
    value = params.get(name)
    if value is None:
        return 0
    return len(value) if isinstance(value, list | tuple) else 1


def _one(params: Mapping[str, Any], name: str) -> str | None:
    """The parameter's value (the first, when given more than once: the caller refuses those)."""
    value = params.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or not isinstance(value, str) or value == "":
        return None  # RFC 6749 §3.1: a parameter sent without a value is treated as omitted
    return value


def _registered(registered: tuple[str, ...], presented: str) -> str:
    """The registered URI that ``presented`` matched (a loopback one may differ by its port)."""
    return (
        presented
        if presented in registered
        else next((uri for uri in registered if redirect_uri_matches((uri,), presented)), presented)
    )


@dataclass(frozen=True)
class _LiveSession(SsoSession):
    """The :class:`SsoSession` this service hands out, plus the user's ``sessions_version`` at
    sign-in: a code issued under it is bound to that version, so a logout-all, reset or disable
    that lands between :meth:`AuthorizationService.current_session` and
    :meth:`~AuthorizationService.issue_code` still makes the code useless."""

    sessions_version: int = 0


def _session(record: SsoRecord) -> SsoSession:
    return _LiveSession(
        sessions_version=record.sessions_version,
        session_id=record.session_id,
        subject=record.subject,
        username=record.username,
        auth_time=record.auth_time,
        amr=record.amr,
    )
