"""RFC 7662 token introspection: is this access or refresh token active *right now*, and whose is it?

Cognito has no introspection endpoint. Resource servers that cannot verify our JWTs themselves,
or that need a revocation-aware answer (an access token's signature stays valid after its session
ends; a refresh token is opaque), ask ``POST /introspect``.

Who may ask (RFC 7662 §2.1 requires the endpoint to be protected, §4 warns against token
scanning):

* only a **confidential** client that authenticates (``client_secret_basic`` or
  ``client_secret_post``, the same code as ``/token``); a public client, or none, gets
  ``401 invalid_client`` -- anyone holding a public client id could otherwise probe tokens;
* a client sees the tokens **issued to itself** (``client_id`` of the token equals the caller);
* a client registered with ``introspect_any`` (``authctl clients create <id> --confidential
  --introspect-any``: a resource server) sees every client's tokens;
* every other token -- another client's, unknown, malformed, expired, revoked -- is answered with
  exactly ``{"active": false}`` (§2.2): the response never says *why*, so the endpoint is no
  oracle for token validity or ownership. The reason goes to the audit log only.

What "active" means:

* **access token**: signature and claims verify (:class:`~auth_core.tokens.AccessTokenVerifier`
  over the published JWKS, issuer as ``/revoke`` resolves it), ``exp`` is in the future (no
  leeway: the answer is about *now*), and the revocations table -- read with one strongly
  consistent ``BatchGetItem`` -- refuses it by none of the rules the authorizer applies through
  the revocation feed (its jti, session, user, client, signing key, the global cut-off:
  :meth:`~auth_core.stores.revocations.RevocationFacts.reason`);
* **refresh token**: what a refresh would find: its ``rt#<sha256>`` item exists and is
  ``active`` (not rotated), it is the family's live token, the family is ``active`` and within
  its absolute lifetime, the token within its idle timeout, the owning client still enabled, the
  user still enabled with the ``sessions_version`` the session was minted under (no password
  change, log-out-everywhere or disable since), and no global cut-off since the session began.

Everything is read-only and strongly consistent: an introspection right after a revocation never
reports the revoked token as active. The response never contains the token itself or its hash.
``token_type_hint`` only orders the search (§2.1: the server must extend it to other types);
access tokens (three dot-separated parts) and refresh tokens (43 base64url characters) cannot be
confused, so a wrong hint costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from auth_core.errors import InvalidClientError, TokenError
from auth_core.oauth.audit import Audit, NullAudit
from auth_core.oauth.client_auth import authenticate_client
from auth_core.oauth.refresh import hash_refresh_token, looks_like_refresh_token
from auth_core.oauth.request import OAuthRequest
from auth_core.stores.clients import Client
from auth_core.stores.interfaces import Clients, Revocations, Sessions, Users
from auth_core.stores.sessions import ACTIVE

__all__ = ["INACTIVE", "AccessTokenVerifierLike", "IntrospectionService"]

#: The one answer for every token that is not active *for this caller* (RFC 7662 §2.2).
INACTIVE: dict[str, Any] = {"active": False}


class AccessTokenVerifierLike(Protocol):
    """``AccessTokenVerifier.verify``: ``AccessTokenClaims`` or a ``TokenError``."""

    def verify(self, token: str) -> Any: ...


class _Inactive(Exception):  # noqa: N818 - control flow inside this module, never escapes it
    """The token is of the kind tried, and not active; ``reason`` is for the audit log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IntrospectionService:
    """RFC 7662 introspection over the clients, sessions and revocations tables.

    :param verifier: verifies access tokens (signature, issuer, audience, lifetime).
    :param clock: epoch seconds, injectable for tests.
    """

    def __init__(
        self,
        *,
        clients: Clients,
        sessions: Sessions,
        revocations: Revocations,
        users: Users,
        verifier: AccessTokenVerifierLike,
        audit: Audit | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.users = users
        self.clients = clients
        self.sessions = sessions
        self.revocations = revocations
        self.verifier = verifier
        self.audit: Audit = audit or NullAudit()
        self._clock = clock

    def introspect(self, request: OAuthRequest) -> dict[str, Any]:
        """The RFC 7662 §2.2 response body for ``request``'s ``token``.

        :returns: ``{"active": false}`` (:data:`INACTIVE`) for every token that is not active or
            not visible to the caller; else the token's metadata with ``"active": true``.
        :raises InvalidClientError: the caller did not authenticate as a confidential client.
        :raises InvalidRequestError: no ``token`` parameter.
        :raises TemporarilyUnavailableError: a store failed.
        :raises KeyStoreError: the public keys could not be loaded to check an access token.
        """
        client = authenticate_client(request.client, self.clients, fresh=True, now=self._clock())
        if not client.confidential:
            raise InvalidClientError(reason="introspection_public_client")
        token = request.require("token")
        attempts = [("access_token", self._access_token), ("refresh_token", self._refresh_token)]
        if request.get("token_type_hint") == "refresh_token":
            attempts.reverse()
        kind, reason = "unknown", "unrecognised"
        for name, attempt in attempts:
            try:
                found = attempt(token, client)
            except _Inactive as inactive:
                kind, reason = name, inactive.reason
                break
            if found is not None:
                self.audit.record("TokenIntrospected", client_id=client.client_id, kind=name, active=True)
                return found
        self.audit.record(
            "TokenIntrospected", client_id=client.client_id, kind=kind, active=False, reason=reason
        )
        return dict(INACTIVE)

    # ------------------------------------------------------------------ access tokens
    def _access_token(self, token: str, client: Client) -> dict[str, Any] | None:
        if token.count(".") != 2:
            return None
        try:
            claims = self.verifier.verify(token)
        except TokenError as exc:
            raise _Inactive(exc.reason) from None
        self._require_visible(client, claims.client_id)
        now = int(self._clock())
        if claims.expires_at <= now:  # the verifier's leeway is for verifiers, not for "active now"
            raise _Inactive("expired")
        # The authorizer's rules (RevocationFacts.reason), over a consistent read instead of the feed.
        revoked = self.revocations.facts(
            subject=claims.subject,
            jti=claims.jti,
            session_id=claims.session_id,
            client_id=claims.client_id,
            kid=claims.key_id,
        ).reason(claims.issued_at)
        if revoked is not None:
            raise _Inactive(revoked)
        raw = claims.raw
        body: dict[str, Any] = {
            "active": True,
            "scope": " ".join(claims.scope),
            "client_id": claims.client_id,
            "token_type": "Bearer",
            "exp": claims.expires_at,
            "iat": claims.issued_at,
            "sub": claims.subject,
            "aud": raw["aud"],
            "iss": claims.issuer,
            "jti": claims.jti,
        }
        # No "username" for access tokens: their sub is the user's opaque id (the username is not
        # in the token, and may change); a refresh token's answer has it.
        if claims.session_id is not None:
            body["sid"] = claims.session_id
        if claims.roles:
            body["roles"] = list(claims.roles)
        cnf = raw.get("cnf")
        if isinstance(cnf, dict) and isinstance(cnf.get("jkt"), str):
            # RFC 9449 §6.2: the key the token is bound to; the resource server checks the proof
            body["cnf"] = {"jkt": cnf["jkt"]}
            body["token_type"] = "DPoP"
        return body

    # ------------------------------------------------------------------ refresh tokens
    def _refresh_token(self, token: str, client: Client) -> dict[str, Any] | None:
        if not looks_like_refresh_token(token):
            return None
        record = self.sessions.get_token(hash_refresh_token(token))
        if record is None:
            raise _Inactive("refresh_unknown")
        self._require_visible(client, record.client_id)
        now = int(self._clock())
        if record.status != ACTIVE:
            raise _Inactive("refresh_rotated")
        if now >= record.expires_at:
            raise _Inactive("session_expired")
        if now >= record.idle_expires_at:
            raise _Inactive("session_idle")
        family = self.sessions.get_family(record.family_id)
        if family is None or family.status != ACTIVE:
            raise _Inactive("family_revoked")
        if family.current != record.token_hash:
            raise _Inactive("refresh_rotated")
        if now >= family.expires_at:
            raise _Inactive("session_expired")
        # The owning client as a refresh would find it: enabled, and not disabled (even if enabled
        # again) since the session began. Read fresh: the cache may predate a disable.
        owner = self.clients.get_fresh(record.client_id)
        if owner is None or not owner.enabled or owner.sessions_epoch != record.client_epoch:
            raise _Inactive("client_disabled")
        # What the refresh transaction's guards check: the user as the session knew them, and
        # no global cut-off since the session began.
        user = self.users.get(record.user_key)
        if user is None or not user.enabled or user.sessions_version != record.sessions_version:
            raise _Inactive("user_logged_out")
        if self.revocations.global_cutoff_ms() > record.session_created_ms:
            raise _Inactive("session_cut_off")
        return {
            "active": True,
            "scope": " ".join(record.scope),
            "client_id": record.client_id,
            "token_type": "refresh_token",
            "exp": min(record.expires_at, record.idle_expires_at),
            "iat": record.issued_at,
            "sub": record.subject,
            "username": record.user_key,  # refresh tokens come from the password grant only
        }

    # ------------------------------------------------------------------ shared checks
    @staticmethod
    def _require_visible(client: Client, owner: str) -> None:
        if owner != client.client_id and not client.introspect_any:
            raise _Inactive("foreign_client")
