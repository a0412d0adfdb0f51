"""The token endpoint's grants (RFC 6749 §4.3, §4.4, §6): :class:`TokenService`.

``/token`` and ``/refresh`` both end here; ``grant_type=refresh_token`` at either runs the very
same :class:`~auth_core.oauth.refresh.RefreshRotator`. Signing is injected: ``keys`` is any
signing-key provider (``get_signing_key()``), ``issuers`` maps an access-token lifetime to an
issuer object (``AccessTokenIssuer(issuer, audience, ttl)`` in production, a fake in tests).

Password grant, in order: client authentication → grant allowed for the client → throttle check
(locked accounts are refused before any hashing, even with the right password) → user lookup →
Argon2id verification (a dummy verification for unknown users: same cost) → enabled → scope →
sign → new refresh family, in one transaction that re-checks the user's ``sessions_version``
and the client's ``version`` as they were read: a password reset, log-out-everywhere or
disable that commits while the login is in flight makes the login fail (and one that commits
after it ends the new session, whose tokens then predate the cut-off). Failures count towards
the per-username throttle.

No token is signed with an ``iat`` before a cut-off that applies to it (the user's, the
client's, the global one): cut-offs are rounded up to whole seconds and compared as
``iat < not_before``, so an issuer that is inside the cut-off's second waits for the next one
(at most a second, and only right after a cut-off) instead of signing a token verifiers refuse.

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
from typing import TYPE_CHECKING, Any, Protocol

from auth_core.errors import (
    InvalidClientError,
    InvalidDPoPProofError,
    InvalidGrantError,
    InvalidRequestError,
    TemporarilyUnavailableError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from auth_core.grant_types import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, GRANTS, PASSWORD, REFRESH_TOKEN
from auth_core.mfa.policy import acr_for
from auth_core.oauth import pkce
from auth_core.oauth.audit import Audit, NullAudit
from auth_core.oauth.client_auth import authenticate_client
from auth_core.oauth.login import authenticate_user
from auth_core.oauth.refresh import (
    RefreshRotator,
    hash_refresh_token,
    looks_like_refresh_token,
    new_refresh_token,
    same_key,
)
from auth_core.oauth.request import DPOP_HEADER, OAuthRequest
from auth_core.oauth.responses import token_body
from auth_core.oauth.revocation import SessionRevoker
from auth_core.oauth.scope import resolve_scope
from auth_core.passwords import PasswordHasher
from auth_core.settings import Settings
from auth_core.stores.clients import Client, ClientStore
from auth_core.stores.interfaces import (
    Checked,
    CheckFailed,
    Clients,
    LostRace,
    Revocations,
    Sessions,
    SsoSessions,
    Throttle,
    Users,
)
from auth_core.stores.revocations import RevocationStore
from auth_core.stores.sessions import (
    ACTIVE,
    AuthorizationCode,
    CodeIssue,
    Family,
    RefreshRecord,
    SessionStore,
)
from auth_core.stores.signin import SsoSessionStore
from auth_core.stores.throttle import LoginThrottle, ThrottleLimits
from auth_core.stores.users import User, UserStore

if TYPE_CHECKING:
    from auth_core.algorithms import SigningKey
    from auth_core.oauth.claims_hook import ClaimsHook, TokenKind
    from auth_core.oauth.id_token import IssuedWithIdToken
    from auth_core.oauth.sender_constraint import DPoPGate

__all__ = [
    "Issuer",
    "IssuerFactory",
    "SigningKeyProvider",
    "TokenPolicy",
    "TokenResult",
    "TokenService",
    "stores_from_settings",
]


#: Longest wait for a cut-off's second to pass before signing: a cut-off is planned up to 2 s
#: ahead of its write (``oauth.revocation.CUTOFF_MARGIN_MS``) and rounded up to a whole second.
#: Beyond it (clock skew), sign anyway: verifiers then refuse the token -- fail closed.
_MAX_CUTOFF_WAIT = 3.0


class SigningKeyProvider(Protocol):
    def get_signing_key(self) -> Any: ...


class CutoffFeed(Protocol):
    """What the token endpoint asks the revocation feed (``revocation_feed.RevocationFeed``)."""

    def client_disabled(self, client_id: str) -> bool: ...
    def not_before(self, *, subject: str | None = None, client_id: str | None = None) -> int: ...


class Issuer(Protocol):
    @property
    def issuer(self) -> str: ...

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
        confirmation: str | None = None,
    ) -> Any: ...


#: the token routes, as DPoP proofs name them (``htu`` = the issuer + the route)
TOKEN_PATH = "/token"
REFRESH_PATH = "/refresh"

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
    #: ACCESS_TOKEN_PROFILE_CLAIMS: the profile claims access tokens carry (by scope)
    access_token_profile_claims: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenPolicy:
        return cls(
            access_token_ttl=settings.access_token_ttl,
            refresh_max_age=settings.refresh_max_age,
            refresh_idle_timeout=settings.refresh_idle_timeout,
            refresh_grace_seconds=settings.refresh_grace_seconds,
            scopes_supported=settings.scopes_supported,
            access_token_profile_claims=settings.access_token_profile_claims,
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
        users: Users,
        clients: Clients,
        sessions: Sessions,
        revocations: Revocations,
        throttle: Throttle,
        keys: SigningKeyProvider,
        policy: TokenPolicy,
        hasher: PasswordHasher | None = None,
        max_token_lifetime: int = 3600,
        audit: Audit | None = None,
        clock: Callable[[], float] = time.time,
        feed: CutoffFeed | None = None,
        sleep: Callable[[float], None] = time.sleep,
        sso: SsoSessions | None = None,
        claims_hook: ClaimsHook | None = None,
        dpop: DPoPGate | None = None,
    ) -> None:
        self.users = users
        #: DPoP proofs (RFC 9449); None: DPoP headers are ignored (unit tests of other grants)
        self.dpop = dpop
        #: the custom claims hook (``CLAIMS_HOOK``); None: none configured
        self.claims_hook = claims_hook if claims_hook is not None and claims_hook.enabled else None
        #: single sign-on sessions: a code is redeemed only while its session has not ended
        self.sso = sso
        self.feed = feed
        self._sleep = sleep
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
        # The retry-grace pepper: the key set's server-side secret (a dump of the sessions table
        # alone opens no sealed response). A store offers it as a method, a bare KeySet as a value.
        grace_secret = getattr(keys, "grace_secret", None)
        if not callable(grace_secret):
            fixed = grace_secret if isinstance(grace_secret, bytes) else None
            grace_secret = lambda: fixed  # noqa: E731
        self.rotator = RefreshRotator(
            sessions=sessions,
            users=users,
            clients=clients,
            revocations=revocations,
            revoke_family=self.revoker.revoke_family,
            grace_seconds=policy.refresh_grace_seconds,
            pepper=grace_secret,
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
        feed: CutoffFeed | None = None,
    ) -> TokenService:
        """Wire the stores from ``USERS_TABLE``, ``CLIENTS_TABLE``, ``SESSIONS_TABLE``, ``REVOCATIONS_TABLE``.

        :raises ConfigurationError: a table name is not set.
        """
        hook = None
        if settings.claims_hook:  # the hook's module is imported only where one is configured
            from auth_core.oauth.claims_hook import ClaimsHook  # noqa: PLC0415

            hook = ClaimsHook.from_settings(settings, audit)
        return cls(
            **stores_from_settings(settings, dynamodb=dynamodb, clock=clock),
            dpop=dpop_gate(settings, keys, dynamodb=dynamodb, clock=clock),
            claims_hook=hook,
            sso=SsoSessionStore(settings.require("sessions_table"), client=dynamodb, clock=clock),
            keys=keys,
            policy=TokenPolicy.from_settings(settings),
            hasher=hasher,
            max_token_lifetime=settings.max_access_token_lifetime,
            audit=audit,
            clock=clock,
            feed=feed,
        )

    # ------------------------------------------------------------------ endpoints
    def token(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """``POST /token``: dispatch on ``grant_type`` through the registry (``auth_core.grant_types``).

        :raises OAuthError: the RFC 6749 §5.2 error for the request.
        :raises KeyStoreError: no signing key could be obtained (503).
        """
        grant_type = request.get("grant_type")
        if grant_type is None:
            raise InvalidRequestError("missing parameter: grant_type", reason="missing_grant_type")
        grant = GRANTS.get(grant_type)
        if grant is None:
            raise UnsupportedGrantTypeError(reason="unsupported_grant_type")
        handler: Callable[[OAuthRequest, IssuerFactory], TokenResult] = getattr(self, grant.handler)
        request, issuers = self._sender_constrained(request, issuers, TOKEN_PATH)
        return handler(request, issuers)

    def refresh_endpoint(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """``POST /refresh``: only ``grant_type=refresh_token``.

        :raises OAuthError: the RFC 6749 §5.2 error for the request.
        """
        grant_type = request.get("grant_type")
        if grant_type is None:
            raise InvalidRequestError("missing parameter: grant_type", reason="missing_grant_type")
        if grant_type != REFRESH_TOKEN:
            raise UnsupportedGrantTypeError(reason="unsupported_grant_type")
        request, issuers = self._sender_constrained(request, issuers, REFRESH_PATH)
        return self.refresh(request, issuers)

    # ------------------------------------------------------------------ grants
    def password(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """Resource owner password credentials (RFC 6749 §4.3), for first-party clients.

        :raises OAuthError: as per RFC 6749 §5.2; :class:`SlowDownError` (429) when locked out.
        """
        client = self._client(request)
        _require_grant(client, PASSWORD)
        password = request.require("password")
        user = self.authenticate_user(
            request.require("username"), password, client.client_id, request.source_ip
        )
        # least privilege: what the user, the client and the deployment all allow; without a
        # requested scope, only the client's default scopes
        allowed = [s for s in user.scopes if s in self.policy.scopes_supported and s in client.scopes]
        scope = resolve_scope(request.get("scope"), allowed, client.default_scopes)
        # A session exists only with a refresh token; its id is the access token's ``sid``.
        issues_refresh = GRANTS[PASSWORD].issues_refresh_token and REFRESH_TOKEN in client.grant_types
        family_id = secrets.token_hex(16) if issues_refresh else None
        issued = self._issue(
            client,
            subject=user.subject,
            scope=scope,
            roles=user.roles,
            issuers=issuers,
            grant_type=PASSWORD,
            session_id=family_id,
            not_before=user.not_before,
            user=user,
        )
        refresh_token = None
        if family_id is not None:
            # the session transaction re-checks the user after signing
            refresh_token = self._new_family(family_id, client, user, scope, issued)
        else:
            self._recheck_user(user, client)
        self.audit.record("LoginSucceeded", client_id=client.client_id)
        return TokenResult(token_body(issued, refresh_token), PASSWORD)

    def authorization_code(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """Authorization code with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6; OpenID Connect Core
        §3.1.3): the code is redeemed once, by the client it was issued to, with the redirect URI
        it was bound to and the verifier of its challenge.

        The redemption is one transaction with the creation of the refresh-token family (and the
        user and client checks): of two redemptions of one code exactly one commits. The other
        -- or any later one -- revokes what the first issued (RFC 6749 §4.1.2): the family, and
        with it every access token carrying its ``sid``; without a family, the access token's
        jti. ``openid`` in the scope adds an ID token.

        :raises OAuthError: as per RFC 6749 §5.2 (every problem with the code is ``invalid_grant``).
        """
        client = self._client(request)
        _require_grant(client, AUTHORIZATION_CODE)
        presented = request.require("code")
        redirect_uri = request.require("redirect_uri")
        verifier = request.require("code_verifier")
        if not looks_like_refresh_token(presented):  # codes have the refresh tokens' form
            raise InvalidGrantError(reason="code_malformed")
        code = self.sessions.get_code(hash_refresh_token(presented))
        if code is None:
            raise InvalidGrantError(reason="code_unknown")
        if code.client_id != client.client_id:
            self.audit.record("AuthorizationCodeClientMismatch", client_id=client.client_id)
            raise InvalidGrantError(reason="code_client_mismatch")
        if code.status != ACTIVE:
            self._code_reused(code)
            raise InvalidGrantError(reason="code_reuse")
        now = int(self._clock())
        if now >= code.expires_at:
            raise InvalidGrantError(reason="code_expired")
        if redirect_uri != code.redirect_uri:  # RFC 6749 §4.1.3: identical, not merely matching
            raise InvalidGrantError(reason="redirect_uri_mismatch")
        if not pkce.verify(verifier, code.code_challenge):
            raise InvalidGrantError(reason="pkce_mismatch")
        if code.dpop_jkt and not same_key(request.dpop_jkt, code.dpop_jkt):
            # RFC 9449 §10: the request named the key (dpop_jkt); only a proof by it redeems the
            # code (refused before it is spent: the client may retry with the right key)
            raise InvalidDPoPProofError(
                "the DPoP key is not the one the request named", reason="dpop_jkt_mismatch"
            )
        user = self.users.get(code.username)
        if user is None or not user.enabled or user.sessions_version != code.sessions_version:
            raise InvalidGrantError(reason="user_changed")  # logged out everywhere, reset, disabled
        # least privilege: what the user and the client allow now, within what was consented to
        scope = tuple(
            s
            for s in code.scope
            if s in user.scopes and s in client.scopes and s in self.policy.scopes_supported
        )
        issues_refresh = (
            GRANTS[AUTHORIZATION_CODE].issues_refresh_token and REFRESH_TOKEN in client.grant_types
        )
        family_id = secrets.token_hex(16) if issues_refresh else None
        # The ID-token key before the code is spent: a key set without an active ID-token key
        # (a rotation still in progress) is a 503 the client can retry with the same code, not
        # a redeemed code whose retry looks like reuse and revokes the family.
        signing_key = _id_token_key(self.keys) if "openid" in scope else None
        # The ID token's hook claims too: a failing hook refuses the request while the code can
        # still be retried, not after it is spent.
        id_claims = (
            self._hook_claims("id", AUTHORIZATION_CODE, client, user.subject, scope, user.roles)
            if signing_key is not None
            else None
        )
        if signing_key is not None:  # OpenID Connect Core §5.4: the profile the scope releases
            from auth_core.accounts.profile import profile_claims  # noqa: PLC0415

            id_claims = {**profile_claims(user, scope), **(id_claims or {})} or None
        issued = self._issue(
            client,
            subject=user.subject,
            scope=scope,
            roles=user.roles,
            issuers=issuers,
            grant_type=AUTHORIZATION_CODE,
            session_id=family_id,
            not_before=user.not_before,
            amr=code.amr,
            user=user,
        )
        refresh_token = None
        family = None
        if family_id is not None:
            # RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key
            jkt = request.dpop_jkt if not client.confidential else None
            fam, record, refresh_token = self._family_records(
                family_id, client, user, scope, issued, code=code, jkt=jkt or ""
            )
            family = (fam, record)
        outcome = self.sessions.redeem_code(
            code,
            CodeIssue(family_id or "", issued.jti, int(issued.expires_at)),
            now=now,
            family=family,
            checks=[
                self.users.unchanged(user.username, sessions_version=code.sessions_version),
                self.clients.unchanged(client, epoch=client.sessions_epoch),
                # a logout (RP-initiated) since the code was issued: no session may start from it
                *([self.sso.not_ended(code.sso_session_id)] if self.sso and code.sso_session_id else []),
            ],
        )
        if outcome == CheckFailed(Checked.SSO_SESSION):
            raise InvalidGrantError(reason="sso_session_ended")
        if isinstance(outcome, LostRace):  # redeemed (or expired) since our read
            latest = self.sessions.get_code(code.code_hash)
            if latest is not None and latest.status != ACTIVE:
                self._code_reused(latest)
                raise InvalidGrantError(reason="code_reuse")
            raise InvalidGrantError(reason="code_expired")
        self._session_checks_passed(outcome, client)
        if signing_key is not None:
            issued = self._with_id_token(
                issued,
                client,
                issuers,
                subject=user.subject,
                auth_time=code.auth_time,
                nonce=code.nonce or None,
                session_id=code.sso_session_id or None,
                amr=code.amr,
                key=signing_key,
                extra_claims=id_claims,
            )
        self.audit.record("AuthorizationCodeRedeemed", client_id=client.client_id)
        return TokenResult(token_body(issued, refresh_token), AUTHORIZATION_CODE)

    def client_credentials(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """Client credentials (RFC 6749 §4.4): confidential clients only; no refresh token (§4.4.3).

        :raises OAuthError: as per RFC 6749 §5.2.
        """
        client = self._client(request)
        _require_grant(client, CLIENT_CREDENTIALS)
        allowed = [s for s in client.scopes if s in self.policy.scopes_supported]
        scope = resolve_scope(request.get("scope"), allowed, client.default_scopes)
        issued = self._issue(
            client,
            subject=client.client_id,
            scope=scope,
            roles=(),
            issuers=issuers,
            grant_type=CLIENT_CREDENTIALS,
        )
        self.audit.record("ClientCredentialsIssued", client_id=client.client_id)
        return TokenResult(token_body(issued), CLIENT_CREDENTIALS)

    def refresh(self, request: OAuthRequest, issuers: IssuerFactory) -> TokenResult:
        """Refresh (RFC 6749 §6) with rotation: see :mod:`auth_core.oauth.refresh`.

        :raises OAuthError: as per RFC 6749 §5.2.
        """
        client = self._client(request)
        token = request.require("refresh_token")

        def mint(record: RefreshRecord, authed: Client, scope: tuple[str, ...]) -> Any:
            # the profile as it is now (one read, only when a token will carry some of it); the
            # rotation's transaction still decides whether the user may refresh at all
            user = self._profile_owner(record, scope)
            issued = self._issue(
                authed,
                subject=record.subject,
                scope=scope,
                roles=record.roles,
                issuers=issuers,
                grant_type=REFRESH_TOKEN,
                session_id=record.family_id,
                amr=record.amr,
                user=user,
            )
            if "openid" not in scope or not record.auth_time:
                return issued
            # before the rotation commits (mint runs first): a failing hook spends nothing
            id_claims = self._hook_claims("id", REFRESH_TOKEN, authed, record.subject, scope, record.roles)
            if user is not None:  # OpenID Connect Core §5.4, as in the code redemption's ID token
                from auth_core.accounts.profile import profile_claims  # noqa: PLC0415

                id_claims = {**profile_claims(user, scope), **(id_claims or {})} or None
            # OpenID Connect Core §12.2: a new ID token, with the original auth_time (no nonce)
            return self._with_id_token(
                issued,
                authed,
                issuers,
                subject=record.subject,
                auth_time=record.auth_time,
                nonce=None,
                session_id=record.sso_session_id or None,
                amr=record.amr,
                extra_claims=id_claims,
            )

        result = self.rotator.rotate(
            token, client, request.get("scope"), mint, source_ip=request.source_ip, key=request.dpop_jkt
        )
        return TokenResult(result.body, REFRESH_TOKEN, replayed=result.replayed)

    # ------------------------------------------------------------------ helpers
    def _client(self, request: OAuthRequest) -> Client:
        """Authenticate the client; one the revocation feed says is disabled is refused at once
        (the client cache may still hold it as enabled).

        :raises InvalidClientError: authentication failed or the client is disabled.
        """
        client = authenticate_client(request.client, self.clients, now=self._clock())
        if self.feed is not None and self.feed.client_disabled(client.client_id):
            raise InvalidClientError(reason="client_disabled")
        if client.dpop_bound_access_tokens and request.dpop_jkt is None:
            raise InvalidDPoPProofError("a DPoP proof is required for this client", reason="dpop_required")
        if self.dpop is not None:
            self.dpop.record(request)  # the proof is spent once the client is known
        return client

    def _sender_constrained(
        self, request: OAuthRequest, issuers: IssuerFactory, path: str
    ) -> tuple[OAuthRequest, IssuerFactory]:
        """The request with its DPoP proof checked (``dpop_jkt``), and issuers that bind what
        they sign to the proof's key (``oauth.sender_constraint``)."""
        if self.dpop is None or DPOP_HEADER not in request.headers:
            return request, issuers  # a bearer request: nothing to check, nothing to bind
        from auth_core.oauth.sender_constraint import bind_issuers  # noqa: PLC0415

        url = issuers(self.policy.access_token_ttl).issuer + path
        request = self.dpop.check(request, url)
        return request, bind_issuers(issuers, request.dpop_jkt)

    def _recheck_user(self, user: User, client: Client) -> None:
        """After signing, the user must still be as read: a reset that committed meanwhile fails
        the login; one that commits later cuts off a token signed before it (see
        ``SessionRevoker._end_sessions``).

        :raises InvalidGrantError: the user changed since the password was checked.
        """
        now = self.users.get(user.username)
        if now is None or not now.enabled or now.sessions_version != user.sessions_version:
            self.audit.record("LoginFailed", client_id=client.client_id, reason="user_changed")
            raise InvalidGrantError(reason="user_changed")

    def authenticate_user(self, username: str, password: str, client_id: str, source_ip: str | None) -> User:
        """The password check shared with the sign-in page (``oauth.login.authenticate_user``).

        :raises InvalidGrantError: any failure (generic); :class:`SlowDownError` when throttled.
        """
        return authenticate_user(
            username,
            password,
            users=self.users,
            throttle=self.throttle,
            hasher=self.hasher,
            audit=self.audit,
            client_id=client_id,
            source_ip=source_ip,
        )

    def _issue(
        self,
        client: Client,
        *,
        subject: str,
        scope: tuple[str, ...],
        roles: tuple[str, ...],
        issuers: IssuerFactory,
        grant_type: str,
        session_id: str | None = None,
        not_before: int = 0,
        amr: tuple[str, ...] = (),
        user: User | None = None,
    ) -> Any:
        # the hook first: it may refuse the request, and it is not timed against a cut-off wait
        extra_claims = self._hook_claims("access", grant_type, client, subject, scope, roles)
        if user is not None and self.policy.access_token_profile_claims:
            from auth_core.accounts.profile import access_token_claims  # noqa: PLC0415

            # ACCESS_TOKEN_PROFILE_CLAIMS, by scope; the hook's claims win, as in the ID token
            profile = access_token_claims(user, scope, self.policy.access_token_profile_claims)
            extra_claims = {**profile, **(extra_claims or {})} or None
        if amr:  # a browser sign-in's: how the user authenticated (the hook may not set these)
            extra_claims = {**(extra_claims or {}), "amr": list(amr), "acr": acr_for(amr)}
        ttl = client.access_token_ttl or self.policy.access_token_ttl
        if self.feed is not None:
            not_before = max(not_before, self.feed.not_before(subject=subject, client_id=client.client_id))
        wait = not_before - self._clock()
        if wait > 0:
            self._sleep(min(wait, _MAX_CUTOFF_WAIT))
        key = self.keys.get_signing_key()
        return issuers(ttl).issue(
            key,
            subject=subject,
            client_id=client.client_id,
            scope=scope,
            roles=roles,
            extra_claims=extra_claims,
            session_id=session_id,
        )

    def _profile_owner(self, record: RefreshRecord, scope: tuple[str, ...]) -> User | None:
        """The refreshing user, read only when a new token will carry profile claims: an ID
        token (scope ``openid`` of a browser sign-in) or an access token
        (``ACCESS_TOKEN_PROFILE_CLAIMS``), with scope ``email`` or ``profile``. ``None`` also when
        the user is gone (the rotation's user check then refuses the refresh).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        if "email" not in scope and "profile" not in scope:
            return None
        id_token = "openid" in scope and bool(record.auth_time)
        if not id_token and not self.policy.access_token_profile_claims:
            return None
        user = self.users.get(record.user_key)
        return user if user is not None and record.subject in (user.subject, user.legacy_subject) else None

    def _hook_claims(
        self,
        kind: TokenKind,
        grant_type: str,
        client: Client,
        subject: str,
        scope: tuple[str, ...],
        roles: tuple[str, ...],
    ) -> dict[str, Any] | None:
        """The custom claims hook's checked claims for one token (None: no hook configured).

        :raises ConfigurationError: ``CLAIMS_HOOK`` names no callable (500).
        :raises ClaimsHookError: the hook failed or returned claims that may not be issued (500).
        :raises ClaimsHookTimeoutError: the hook overran its budget (503).
        """
        if self.claims_hook is None:
            return None
        from auth_core.oauth.claims_hook import ClaimsHookInput  # noqa: PLC0415

        request = ClaimsHookInput(kind, grant_type, client.client_id, subject, tuple(scope), tuple(roles))
        return self.claims_hook.claims(request) or None

    def _with_id_token(
        self,
        issued: Any,
        client: Client,
        issuers: IssuerFactory,
        *,
        subject: str,
        auth_time: int,
        nonce: str | None,
        session_id: str | None,
        amr: tuple[str, ...],
        key: SigningKey | None = None,
        extra_claims: dict[str, Any] | None = None,
    ) -> IssuedWithIdToken:
        """``issued`` with an ID token for ``client`` (lifetime: the access token's), signed by
        ``key`` (fetched beforehand by a caller that must not fail after a commit) or else the
        key set's ID-token key."""
        from auth_core.oauth.id_token import IssuedWithIdToken, sign_id_token  # noqa: PLC0415

        ttl = client.access_token_ttl or self.policy.access_token_ttl
        id_token = sign_id_token(
            key if key is not None else _id_token_key(self.keys),
            issuer=issuers(ttl).issuer,
            subject=subject,
            client_id=client.client_id,
            issued_at=int(issued.issued_at),
            expires_at=int(issued.issued_at) + ttl,
            auth_time=auth_time,
            access_token=issued.token,
            nonce=nonce,
            session_id=session_id,
            amr=amr,
            extra_claims=extra_claims,
        )
        return IssuedWithIdToken(issued, id_token)

    def _code_reused(self, code: AuthorizationCode) -> None:
        """A redeemed code presented again: revoke what its redemption issued (RFC 6749 §4.1.2)."""
        self.audit.record("AuthorizationCodeReuse", client_id=code.client_id)
        if code.issued_family:
            self.revoker.revoke_family(code.issued_family, reason="code_reuse")
        elif code.issued_jti and code.issued_exp > int(self._clock()):
            self.revoker.revocations.revoke_jti(code.issued_jti, code.issued_exp)

    def _session_checks_passed(self, outcome: Any, client: Client) -> None:
        """Map a session transaction's failed user or client check to the grant's error.

        :raises InvalidGrantError: the user changed (reset, logout-all, disable) meanwhile.
        :raises InvalidClientError: the client was disabled meanwhile.
        :raises TemporarilyUnavailableError: the client changed otherwise (retry).
        """
        if outcome == CheckFailed(Checked.USER):
            # a reset, log-out-everywhere or disable committed while this login was in flight
            # (docs/threat-model.md T-ACC-1)
            self.audit.record("LoginFailed", client_id=client.client_id, reason="user_changed")
            raise InvalidGrantError(reason="user_changed")
        if outcome == CheckFailed(Checked.CLIENT):
            fresh = self.clients.get_fresh(client.client_id)  # also refreshes the cached copy
            if fresh is None or not fresh.enabled:
                raise InvalidClientError(reason="client_disabled")
            raise TemporarilyUnavailableError(reason="client_changed")  # changed meanwhile: retry

    def _new_family(
        self, family_id: str, client: Client, user: User, scope: tuple[str, ...], issued: Any
    ) -> str:
        family, record, token = self._family_records(family_id, client, user, scope, issued)
        outcome = self.sessions.create(
            family,
            record,
            checks=[
                self.users.unchanged(user.username, sessions_version=user.sessions_version),
                self.clients.unchanged(client, epoch=client.sessions_epoch),
            ],
        )
        self._session_checks_passed(outcome, client)
        return token

    def _family_records(
        self,
        family_id: str,
        client: Client,
        user: User,
        scope: tuple[str, ...],
        issued: Any,
        *,
        code: AuthorizationCode | None = None,
        jkt: str = "",
    ) -> tuple[Family, RefreshRecord, str]:
        """A new family and its first refresh token (records, and the token itself); ``code``:
        the browser sign-in it comes from (its SSO session, and what refreshed ID tokens repeat)."""
        now_ms = int(self._clock() * 1000)
        now = now_ms // 1000
        max_age = client.refresh_max_age or self.policy.refresh_max_age
        idle = client.refresh_idle_timeout or self.policy.refresh_idle_timeout
        token = new_refresh_token()
        token_hash = hash_refresh_token(token)
        family = Family(
            family_id=family_id,
            subject=user.subject,
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
            created_ms=now_ms,
            sso_session_id=code.sso_session_id if code is not None else "",
        )
        record = RefreshRecord(
            token_hash=token_hash,
            family_id=family.family_id,
            client_id=client.client_id,
            subject=user.subject,
            scope=scope,
            roles=user.roles,
            family_created_at=now,
            expires_at=family.expires_at,
            issued_at=now,
            idle_expires_at=min(now + idle, family.expires_at),
            idle_timeout=idle,
            generation=1,
            created_ms=now_ms,
            username=user.username,
            sessions_version=user.sessions_version,
            privileges_version=user.privileges_version,
            client_epoch=client.sessions_epoch,
            auth_time=code.auth_time if code is not None else 0,
            amr=code.amr if code is not None else (),
            sso_session_id=code.sso_session_id if code is not None else "",
            jkt=jkt,
        )
        return family, record, token


def stores_from_settings(
    settings: Settings, *, dynamodb: Any | None = None, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """The DynamoDB stores every login path uses (``users``, ``clients``, ``sessions``,
    ``revocations``, ``throttle``), from ``USERS_TABLE``, ``CLIENTS_TABLE``, ``SESSIONS_TABLE``
    and ``REVOCATIONS_TABLE``: the token endpoint and the sign-in pages share one wiring, so
    they share one throttle.

    :raises ConfigurationError: a table name is not set.
    """
    sessions_table = settings.require("sessions_table")
    return {
        "users": UserStore(settings.require("users_table"), client=dynamodb, clock=clock),
        "clients": ClientStore(settings.require("clients_table"), client=dynamodb, wall_clock=clock),
        "sessions": SessionStore(sessions_table, client=dynamodb),
        "revocations": RevocationStore(settings.require("revocations_table"), client=dynamodb, clock=clock),
        "throttle": LoginThrottle(
            sessions_table,
            limits=ThrottleLimits(
                per_address=settings.login_max_failures,
                window=settings.login_lockout_seconds,
            ),
            client=dynamodb,
            clock=clock,
        ),
    }


def dpop_gate(
    settings: Settings,
    keys: SigningKeyProvider | None,
    *,
    dynamodb: Any | None,
    clock: Callable[[], float],
) -> DPoPGate:
    """A DPoP step for a request to this server: proofs by ``DPOP_SIGNING_ALGS`` keys, their
    ``jti`` remembered in the sessions table; nonces (when required) from the key set's secret.

    :param keys: the token endpoint's signing keys (its nonces); ``None`` for ``/par``, which
        asks for no nonce (RFC 9449 §10.1: its proof only names the key; the token endpoint
        asks for nonces when configured).
    """
    from auth_core.dpop import DPoPVerifier  # noqa: PLC0415 - DPoP requests only
    from auth_core.oauth.sender_constraint import DPoPGate  # noqa: PLC0415
    from auth_core.stores.dpop import DPoPReplayStore  # noqa: PLC0415

    verifier = DPoPVerifier(
        algorithms=settings.dpop_signing_algs, max_age=settings.dpop_proof_max_age, clock=clock
    )
    replays = DPoPReplayStore(settings.require("sessions_table"), client=dynamodb, clock=clock)
    if keys is None:
        return DPoPGate(verifier, replays)

    def nonce_secret() -> bytes | None:
        secret = getattr(keys, "grace_secret", None)
        value = secret() if callable(secret) else secret
        return value if isinstance(value, bytes) else None

    return DPoPGate(verifier, replays, require_nonce=settings.dpop_nonce_required, nonce_secret=nonce_secret)


def _require_grant(client: Client, name: str) -> None:
    """The client may use grant ``name``: registered for it, and confidential if the grant says so.

    :raises UnauthorizedClientError: it may not.
    """
    if name not in client.grant_types or (GRANTS[name].confidential_only and not client.confidential):
        raise UnauthorizedClientError(reason="grant_not_allowed")


def _id_token_key(keys: SigningKeyProvider) -> SigningKey:
    """The key set's ID-token key. ``auth_core.oauth.id_token`` (and the JOSE code under it) is
    imported only when an ID token is made: ``/token``'s cold start stays the machine clients'."""
    from auth_core.oauth.id_token import id_token_key  # noqa: PLC0415

    return id_token_key(keys)
