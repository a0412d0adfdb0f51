"""The token endpoint's grants (RFC 6749 §4.3, §4.4, §6): :class:`TokenService`.

``/token`` and ``/refresh`` both end here; ``grant_type=refresh_token`` at either runs the very
same :class:`~auth_core.oauth.refresh.RefreshRotator`. Signing is injected: ``keys`` is any
signing-key provider (``get_signing_key()``), ``issuers`` maps an access-token lifetime to an
issuer object (``AccessTokenIssuer(issuer, audience, ttl)`` in production, a fake in tests).

Password grant, in order: client authentication → grant allowed for the client → throttle check
(locked accounts are refused before any hashing, even with the right password) → user lookup →
Argon2id verification (a dummy verification for unknown users: same cost) → enabled → scope →
sign → new refresh family. Failures count towards the per-username throttle.

Every access token issued from a refresh family (at login and at each refresh) carries
``sid`` = the family id, so revoking the family refuses all of its access tokens at once
(:mod:`auth_core.oauth.revocation`); client-credentials tokens belong to no session and carry
none. The family id is 128 random bits and a lookup key only: knowing it grants nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from auth_core.errors import (
    InvalidGrantError,
    InvalidRequestError,
    SlowDownError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from auth_core.oauth.audit import Audit, NullAudit
from auth_core.oauth.client_auth import authenticate_client
from auth_core.oauth.refresh import RefreshRotator, hash_refresh_token, new_refresh_token
from auth_core.oauth.request import OAuthRequest
from auth_core.oauth.responses import token_body
from auth_core.oauth.revocation import SessionRevoker
from auth_core.oauth.scope import resolve_scope
from auth_core.passwords import PasswordHasher
from auth_core.settings import Settings
from auth_core.stores.clients import Client, ClientStore
from auth_core.stores.revocations import RevocationStore
from auth_core.stores.sessions import Family, RefreshRecord, SessionStore
from auth_core.stores.throttle import LoginThrottle
from auth_core.stores.users import User, UserStore

__all__ = ["Issuer", "IssuerFactory", "SigningKeyProvider", "TokenPolicy", "TokenResult", "TokenService"]

MAX_USERNAME = 128


class SigningKeyProvider(Protocol):
    def get_signing_key(self) -> Any: ...


class Issuer(Protocol):
    def issue(
        self,
        key: Any,
        *,
        subject: str,
        client_id: str,
        scope: Any,
        roles: Any = (),
        extra_claims: Any = None,
        session_id: str | None = None,
    ) -> Any: ...


#: access-token lifetime (seconds) -> issuer
IssuerFactory = Callable[[int], Issuer]


@dataclass(frozen=True)
class TokenPolicy:
    """The lifetimes and limits the grants apply (from :class:`Settings`)."""

    access_token_ttl: int = 900
    refresh_max_age: int = 30 * 24 * 3600
    refresh_idle_timeout: int = 7 * 24 * 3600
    refresh_grace_seconds: int = 10
    scopes_supported: tuple[str, ...] = ("openid", "profile", "read", "write")

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenPolicy:
        return cls(
            access_token_ttl=settings.access_token_ttl,
            refresh_max_age=settings.refresh_max_age,
            refresh_idle_timeout=settings.refresh_idle_timeout,
            refresh_grace_seconds=settings.refresh_grace_seconds,
            scopes_supported=settings.scopes_supported,
        )


@dataclass(frozen=True)
class TokenResult:
    """The exact response body (text), the grant that produced it, and whether it is a grace replay."""

    body: str
    grant_type: str
    replayed: bool = False


class TokenService:
    def __init__(
        self,
        *,
        users: UserStore,
        clients: ClientStore,
        sessions: SessionStore,
        revocations: RevocationStore,
        throttle: LoginThrottle,
        keys: SigningKeyProvider,
        policy: TokenPolicy,
        hasher: PasswordHasher | None = None,
        max_token_lifetime: int = 3600,
        audit: Audit | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.users = users
        self.clients = clients
        self.sessions = sessions
        self.throttle = throttle
        self.keys = keys
        self.policy = policy
        self.hasher = hasher or PasswordHasher()
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
        self.rotator = RefreshRotator(
            sessions=sessions,
            users=users,
            clients=clients,
            revoke_family=self.revoker.revoke_family,
            grace_seconds=policy.refresh_grace_seconds,
            audit=self.audit,
            clock=clock,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        keys: SigningKeyProvider,
        audit: Audit | None = None,
        dynamodb: Any | None = None,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
    ) -> TokenService:
        """Wire the stores from ``USERS_TABLE``, ``CLIENTS_TABLE``, ``SESSIONS_TABLE``, ``REVOCATIONS_TABLE``.

        :raises ConfigurationError: a table name is not set.
        """
        sessions_table = settings.require("sessions_table")
        return cls(
            users=UserStore(settings.require("users_table"), client=dynamodb, clock=clock),
            clients=ClientStore(settings.require("clients_table"), client=dynamodb, wall_clock=clock),
            sessions=SessionStore(sessions_table, client=dynamodb),
            revocations=RevocationStore(settings.require("revocations_table"), client=dynamodb, clock=clock),
            throttle=LoginThrottle(
                sessions_table,
                max_failures=settings.login_max_failures,
                lockout_seconds=settings.login_lockout_seconds,
                client=dynamodb,
                clock=clock,
            ),
            keys=keys,
            policy=TokenPolicy.from_settings(settings),
            hasher=hasher,
            max_token_lifetime=settings.max_access_token_lifetime,
            audit=audit,
            clock=clock,
        )

    # ------------------------------------------------------------------ endpoints
    def token(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """``POST /token``: dispatch on ``grant_type``.

        :raises OAuthError: the RFC 6749 §5.2 error for the request.
        :raises KeyStoreError: no signing key could be obtained (503).
        """
        grant_type = request.get("grant_type")
        if grant_type is None:
            raise InvalidRequestError("missing parameter: grant_type", reason="missing_grant_type")
        if grant_type == "password":
            return self.password(request, issuers)
        if grant_type == "client_credentials":
            return self.client_credentials(request, issuers)
        if grant_type == "refresh_token":
            return self.refresh(request, issuers)
        raise UnsupportedGrantTypeError(reason="unsupported_grant_type")

    def refresh_endpoint(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """``POST /refresh``: only ``grant_type=refresh_token``.

        :raises OAuthError: the RFC 6749 §5.2 error for the request.
        """
        grant_type = request.get("grant_type")
        if grant_type is None:
            raise InvalidRequestError("missing parameter: grant_type", reason="missing_grant_type")
        if grant_type != "refresh_token":
            raise UnsupportedGrantTypeError(reason="unsupported_grant_type")
        return self.refresh(request, issuers)

    # ------------------------------------------------------------------ grants
    def password(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """Resource owner password credentials (RFC 6749 §4.3), for first-party clients.

        :raises OAuthError: as per RFC 6749 §5.2; :class:`SlowDownError` (429) when locked out.
        """
        client = authenticate_client(request.client, self.clients)
        if "password" not in client.grant_types:
            raise UnauthorizedClientError(reason="grant_not_allowed")
        username = request.require("username")
        password = request.require("password")
        if len(username) > MAX_USERNAME:
            raise InvalidGrantError(reason="username_format")
        try:
            failures = self.throttle.check(username)
        except SlowDownError:
            self.audit.record("LoginThrottled", client_id=client.client_id)
            raise
        user = self._authenticate_user(username, password, client)
        if failures:
            self.throttle.reset(username)
        if self.hasher.needs_rehash(user.password_hash):
            self.users.set_password_hash(username, self.hasher.hash(password), expected=user.password_hash)
        allowed = [
            s
            for s in user.scopes
            if s in self.policy.scopes_supported and (not client.scopes or s in client.scopes)
        ]
        scope = resolve_scope(request.get("scope"), allowed)
        # A session exists only with a refresh token; its id is the access token's ``sid``.
        family_id = secrets.token_hex(16) if "refresh_token" in client.grant_types else None
        issued = self._issue(
            client,
            subject=user.username,
            scope=scope,
            roles=user.roles,
            issuers=issuers,
            session_id=family_id,
        )
        refresh_token = None
        if family_id is not None:
            refresh_token = self._new_family(family_id, client, user, scope, issued)
        self.audit.record("LoginSucceeded", client_id=client.client_id)
        return TokenResult(token_body(issued, refresh_token), "password")

    def client_credentials(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """Client credentials (RFC 6749 §4.4): confidential clients only; no refresh token (§4.4.3).

        :raises OAuthError: as per RFC 6749 §5.2.
        """
        client = authenticate_client(request.client, self.clients)
        if not client.confidential or "client_credentials" not in client.grant_types:
            raise UnauthorizedClientError(reason="grant_not_allowed")
        allowed = [s for s in client.scopes if s in self.policy.scopes_supported]
        scope = resolve_scope(request.get("scope"), allowed)
        issued = self._issue(client, subject=client.client_id, scope=scope, roles=(), issuers=issuers)
        self.audit.record("ClientCredentialsIssued", client_id=client.client_id)
        return TokenResult(token_body(issued), "client_credentials")

    def refresh(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """Refresh (RFC 6749 §6) with rotation: see :mod:`auth_core.oauth.refresh`.

        :raises OAuthError: as per RFC 6749 §5.2.
        """
        client = authenticate_client(request.client, self.clients)
        token = request.require("refresh_token")

        def mint(record: RefreshRecord, authed: Client, scope: tuple[str, ...]) -> Any:
            return self._issue(
                authed,
                subject=record.subject,
                scope=scope,
                roles=record.roles,
                issuers=issuers,
                session_id=record.family_id,
            )

        result = self.rotator.rotate(token, client, request.get("scope"), mint)
        return TokenResult(result.body, "refresh_token", replayed=result.replayed)

    # ------------------------------------------------------------------ helpers
    def _authenticate_user(self, username: str, password: str, client: Client) -> User:
        user = self.users.get(username)
        try:
            if user is None:
                self.hasher.verify_dummy(password)
            else:
                self.hasher.verify(password, user.password_hash)
        except InvalidGrantError as exc:
            self.throttle.record_failure(username)
            self.audit.record("LoginFailed", client_id=client.client_id, reason=exc.reason)
            raise
        assert user is not None  # noqa: S101 - verify_dummy always raises
        if not user.enabled:
            self.audit.record("LoginFailed", client_id=client.client_id, reason="user_disabled")
            raise InvalidGrantError(reason="user_disabled")
        return user

    def _issue(
        self,
        client: Client,
        *,
        subject: str,
        scope: tuple[str, ...],
        roles: tuple[str, ...],
        issuers: IssuerFactory,
        session_id: str | None = None,
    ) -> Any:
        ttl = client.access_token_ttl or self.policy.access_token_ttl
        key = self.keys.get_signing_key()
        return issuers(ttl).issue(
            key,
            subject=subject,
            client_id=client.client_id,
            scope=scope,
            roles=roles,
            session_id=session_id,
        )

    def _new_family(
        self, family_id: str, client: Client, user: User, scope: tuple[str, ...], issued: Any
    ) -> str:
        now = int(self._clock())
        max_age = client.refresh_max_age or self.policy.refresh_max_age
        idle = client.refresh_idle_timeout or self.policy.refresh_idle_timeout
        token = new_refresh_token()
        token_hash = hash_refresh_token(token)
        family = Family(
            family_id=family_id,
            subject=user.username,
            client_id=client.client_id,
            scope=scope,
            roles=user.roles,
            created_at=now,
            expires_at=now + max_age,
            idle_timeout=idle,
            current=token_hash,
            generation=1,
            last_used_at=now,
            at_jti=issued.jti,
            at_exp=int(issued.expires_at),
        )
        record = RefreshRecord(
            token_hash=token_hash,
            family_id=family.family_id,
            client_id=client.client_id,
            subject=user.username,
            scope=scope,
            roles=user.roles,
            family_created_at=now,
            expires_at=family.expires_at,
            issued_at=now,
            idle_expires_at=min(now + idle, family.expires_at),
            idle_timeout=idle,
            generation=1,
        )
        self.sessions.create(family, record)
        return token
