"""Revocation: families (refresh-token sessions), access tokens (RFC 7009), whole users.

:class:`SessionRevoker` holds the three server-side moves every other path reuses:

* :meth:`~SessionRevoker.revoke_family` -- mark a family revoked (its refresh tokens all die,
  because every rotation is conditional on the family being ``active``) and, in the same
  transaction, write ``sid#<family id>`` to the revocations table: every access token issued
  from the family carries that ``sid``, so the authorizer refuses all of them, not only the
  newest (RFC 7009 §2.1: revoking a refresh token SHOULD revoke the access tokens of the same
  grant). Every path that ends a session comes here: ``/revoke`` of a refresh token, reuse
  detection, a token presented by another client, a disabled user found at refresh, ``authctl
  sessions revoke``, log-out-everywhere and disabling a user;
* :meth:`~SessionRevoker.logout_all` -- "log out everywhere": one write to the user item bumps
  its ``sessions_version`` and moves ``tokens_valid_after_ms`` (so no login in flight and no
  refresh of an older session can commit any more), then the ``sub#`` cut-off the verifiers
  read through the revocation feed, then every family of the user is revoked;
* :meth:`~SessionRevoker.set_password` and :meth:`~SessionRevoker.disable_user` -- the same, with
  the new password hash or ``enabled = false`` in that same first write;
  :meth:`~SessionRevoker.delete_user` disables that way, then deletes the item;
* :func:`set_client_enabled` -- a client disabled: the ``cli#`` feed entry
  refuses all its access tokens and new grants; its sessions die at their next refresh (the
  client's ``version`` moved on). Re-enabled: tokens issued before stay refused.

:class:`RevocationService` is the ``/revoke`` endpoint (RFC 7009): it answers 200 for every
well-formed request from an authenticated client -- unknown, garbage, expired, already revoked
or another client's token alike -- so the endpoint is no oracle. Revoking an *access* token
deny-lists that token's jti only: RFC 7009 §2.1 lets the server also revoke the grant (MAY), but
an access token is shown to every resource server it is sent to, and for a public client it is
the only credential ``/revoke`` sees -- a leaked copy must not be enough to end the user's
session. The session ends with its refresh token (and then all its access tokens die).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from auth_core.errors import ExpiredTokenError, InvalidRequestError, TemporarilyUnavailableError, TokenError
from auth_core.oauth.audit import Audit, NullAudit
from auth_core.oauth.client_auth import authenticate_client
from auth_core.oauth.refresh import hash_refresh_token, looks_like_refresh_token
from auth_core.oauth.request import OAuthRequest
from auth_core.stores.clients import Client
from auth_core.stores.interfaces import AlreadyEnded, Clients, Committed, Revocations, Sessions, Users, Write
from auth_core.stores.revocations import MAX_CLOCK_LEEWAY
from auth_core.stores.sessions import ACTIVE, Family

__all__ = ["AccessTokenVerifierLike", "RevocationService", "SessionRevoker", "set_client_enabled"]

#: Read-then-transact rounds before a family that keeps being refreshed concurrently gives a 503.
_REVOKE_ATTEMPTS = 3
#: How far ahead of the user write a user's cut-off is planned, ms (see ``_end_sessions``): one
#: second for the write, one for the writer's clock (authctl corrects it to AWS's, to ~1 s).
CUTOFF_MARGIN_MS = 2000


class AccessTokenVerifierLike(Protocol):
    """``AccessTokenVerifier.verify``: returns claims with ``client_id``, ``jti``, ``expires_at``."""

    def verify(self, token: str) -> Any: ...


class SessionRevoker:
    def __init__(
        self,
        *,
        sessions: Sessions,
        revocations: Revocations,
        users: Users,
        max_token_lifetime: int,
        audit: Audit | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.revocations = revocations
        self.users = users
        self.max_token_lifetime = max_token_lifetime
        self.audit: Audit = audit or NullAudit()
        self._clock = clock

    def revoke_family(self, family_id: str, *, reason: str) -> bool:
        """Revoke one family and every access token issued from it (idempotent).

        Two store calls: a consistent read of the family (its client for the audit record,
        its newest access token), then one transaction: family ``active`` → ``revoked`` plus the
        ``sid#`` entry (and the newest token's ``jti#`` entry, for tokens minted before access
        tokens carried ``sid``). A refresh racing the transaction either committed first (its
        token carries the ``sid``, so it is refused too) or fails its own family check.

        :returns: ``True`` if this call revoked it; ``False`` if it was already revoked or does
            not exist (nothing is written then).
        :raises TemporarilyUnavailableError: a store failed, or concurrent refreshes kept
            conflicting with the transaction.
        """
        now = int(self._clock())
        for _attempt in range(_REVOKE_ATTEMPTS):
            family = self.sessions.get_family(family_id)
            if family is None or family.status != ACTIVE:
                return False
            outcome = self.sessions.revoke_family(
                family_id, now=now, reason=reason, writes=self._deny_writes(family, now)
            )
            if isinstance(outcome, Committed):
                self.audit.record(
                    "FamilyRevoked", family_id=family_id, client_id=family.client_id, reason=reason
                )
                return True
            if isinstance(outcome, AlreadyEnded):
                return False  # revoked by someone else between our read and our write
        raise TemporarilyUnavailableError(reason="revoke_conflict")

    def _deny_writes(self, family: Family, now: int) -> list[Write]:
        # Every token of the family was issued by now, so a verifier stops accepting it by
        # now + max lifetime + leeway. The newest token's exp is a second bound that does not
        # depend on *this* process's MAX_ACCESS_TOKEN_LIFETIME (authctl may run with defaults);
        # the leeway is the largest any verifier may be configured with.
        until = max(now + self.max_token_lifetime, family.at_exp) + MAX_CLOCK_LEEWAY
        writes = [self.revocations.session_write(family.family_id, until)]
        if family.at_jti and family.at_exp > now:
            writes.append(self.revocations.jti_write(family.at_jti, family.at_exp))
        return writes

    def revoke_all_families(self, subject: str, *, reason: str) -> int:
        """Revoke every active family of ``subject`` (a user id); returns how many this call revoked."""
        return sum(
            self.revoke_family(f.family_id, reason=reason)
            for f in self.sessions.families_of(subject)
            if f.status == ACTIVE
        )

    def logout_all(self, username: str) -> int:
        """Log ``username`` out everywhere. Returns the number of families revoked.

        :raises InvalidRequestError: no such user.
        :raises TemporarilyUnavailableError: a store failed.
        """
        count = self._end_sessions(username, reason="logout_all")
        self.audit.record("UserLoggedOutEverywhere", families=count)
        return count

    def set_password(
        self, username: str, password_hash: str, *, expect_sessions_version: int | None = None
    ) -> int:
        """Store a new password hash and end every session and access token of ``username``
        (with ``expect_sessions_version``: only if the user still has it, see
        ``UserStore.end_sessions``).

        :raises InvalidRequestError: no such user (or not that version any more).
        :raises TemporarilyUnavailableError: a store failed.
        """
        count = self._end_sessions(
            username,
            reason="password_changed",
            password_hash=password_hash,
            expect_sessions_version=expect_sessions_version,
        )
        self.audit.record("PasswordChanged", families=count)
        return count

    def disable_user(self, username: str) -> int:
        """Disable ``username`` and end all their sessions and access tokens.

        :raises InvalidRequestError: no such user.
        :raises TemporarilyUnavailableError: a store failed.
        """
        count = self._end_sessions(username, reason="user_disabled", disable=True)
        self.audit.record("UserDisabled", families=count)
        return count

    def delete_user(self, username: str, *, delete: Callable[..., bool] | None = None) -> int:
        """Delete ``username``: first exactly what :meth:`disable_user` does (the user item
        disabled with a new ``sessions_version``, the ``sub#`` cut-off published, every family
        revoked), then the item, on the condition that it is still that disabled user. Its
        ``user_id`` is never given again (128 random bits), so tokens and consents naming it stay
        dead even if a user of the same name is created later.

        :param delete: what deletes the item (``(username, user_id=...) -> bool``; default
            ``UserStore.delete``): ``AccountStore.delete_user`` also releases the user's verified
            address in the same transaction.

        :raises InvalidRequestError: no such user, or it was re-enabled or replaced meanwhile
            (nothing deleted; its sessions are ended all the same).
        :raises TemporarilyUnavailableError: a store failed.
        """
        user = self.users.get(username)
        if user is None:
            raise InvalidRequestError("no such user", reason="user_unknown")
        count = self._end_sessions(username, reason="user_deleted", disable=True)
        if not (delete or self.users.delete)(username, user_id=user.user_id):
            raise InvalidRequestError(
                "the user changed while it was being deleted (re-enabled or replaced): not deleted; "
                "its sessions were ended",
                reason="user_changed",
            )
        self.audit.record("UserDeleted", families=count)
        return count

    def _end_sessions(
        self,
        username: str,
        *,
        reason: str,
        disable: bool = False,
        password_hash: str | None = None,
        expect_sessions_version: int | None = None,
    ) -> int:
        """Order matters: the user item first (every later login or refresh that read the old
        ``sessions_version`` fails its write, even for a family the index has not shown yet),
        then the verifiers' cut-off, then the families themselves (their ``sid#`` entries).

        The cut-off must not be earlier than the moment the user write *commits*: a login that
        read the user before it re-checks the user after signing (its session transaction, or a
        read), so whatever it signed before the commit has an ``iat`` before the cut-off, and
        whatever it would sign after fails the re-check. The write cannot know its commit time,
        so the cut-off is planned :data:`CUTOFF_MARGIN_MS` ahead and moved later if the write
        took longer than that. (Logins that read the *new* user wait for the cut-off's second.)
        """
        planned = int(self._clock() * 1000) + CUTOFF_MARGIN_MS
        user = self.users.end_sessions(
            username,
            planned,
            disable=disable,
            password_hash=password_hash,
            expect_sessions_version=expect_sessions_version,
        )
        if user is None:
            raise InvalidRequestError("no such user", reason="user_unknown")
        cutoff = user.tokens_valid_after_ms
        committed = int(self._clock() * 1000)
        if committed > cutoff:  # the write outlasted the margin: the cut-off follows it
            self.users.move_cutoff(username, committed)
            cutoff = committed
        # Tokens and sessions name the user by its opaque id; a user created before ids existed
        # may still have sessions minted under its old subject (the username): end those too.
        count = 0
        for subject in dict.fromkeys(s for s in (user.subject, user.legacy_subject) if s):
            self.revocations.set_user_cutoff(subject, cutoff, max_token_lifetime=self.max_token_lifetime)
            count += self.revoke_all_families(subject, reason=reason)
        return count


def set_client_enabled(
    clients: Clients,
    revocations: Revocations,
    client_id: str,
    enabled: bool,
    *,
    max_token_lifetime: int,
    clock: Callable[[], float] = time.time,
) -> None:
    """Disable a client (all its access tokens and grants refused within the feed's bound, its
    sessions ended at their next refresh, whose transaction checks the client's ``version``) or
    enable it again (tokens issued before stay refused).

    :raises InvalidRequestError: no such client.
    :raises TemporarilyUnavailableError: a store failed.
    """
    at_ms = int(clock() * 1000)
    if not enabled:
        # the feed entry first: from here on the client's tokens are refused everywhere
        revocations.set_client_state(client_id, at_ms, disabled=True, max_token_lifetime=max_token_lifetime)
    if not clients.set_enabled(client_id, enabled):
        raise InvalidRequestError("no such client", reason="client_unknown")
    if enabled:
        revocations.set_client_state(client_id, at_ms, disabled=False, max_token_lifetime=max_token_lifetime)


class RevocationService:
    """RFC 7009 token revocation.

    :param verifier: verifies access tokens (signature and claims); ``None`` disables access-token
        revocation (refresh tokens are still revoked).
    """

    def __init__(
        self,
        *,
        clients: Clients,
        sessions: Sessions,
        revocations: Revocations,
        revoker: SessionRevoker,
        verifier: AccessTokenVerifierLike | None,
        audit: Audit | None = None,
    ) -> None:
        self.clients = clients
        self.sessions = sessions
        self.revocations = revocations
        self.revoker = revoker
        self.verifier = verifier
        self.audit: Audit = audit or NullAudit()

    def revoke(self, request: OAuthRequest) -> None:
        """Revoke ``token`` if it belongs to the authenticated client; silently do nothing otherwise.

        ``token_type_hint`` only decides which kind is tried first (RFC 7009 §2.1: the server
        MUST extend its search to the other kind); unknown hint values are ignored.

        :raises InvalidClientError: client authentication failed.
        :raises InvalidRequestError: no ``token`` parameter.
        :raises TemporarilyUnavailableError: a store failed.
        :raises KeyStoreError: the public keys could not be loaded to check an access token.
        """
        client = authenticate_client(request.client, self.clients, fresh=True)
        token = request.require("token")
        attempts = [self._refresh_token, self._access_token]
        if request.get("token_type_hint") == "access_token":
            attempts.reverse()
        for attempt in attempts:
            if attempt(token, client):
                return
        self.audit.record("RevokeUnknownToken", client_id=client.client_id)

    def _refresh_token(self, token: str, client: Client) -> bool:
        if not looks_like_refresh_token(token):
            return False
        record = self.sessions.get_token(hash_refresh_token(token))
        if record is None:
            return False
        if record.client_id != client.client_id:  # RFC 7009 §2.1: not this client's token
            self.audit.record("RevokeForeignToken", client_id=client.client_id)
            return True
        self.revoker.revoke_family(record.family_id, reason="revoked_by_client")
        return True

    def _access_token(self, token: str, client: Client) -> bool:
        if self.verifier is None or token.count(".") != 2:
            return False
        try:
            claims = self.verifier.verify(token)
        except ExpiredTokenError:
            return True  # expired on its own: nothing to deny
        except TokenError:
            return False
        if claims.client_id != client.client_id:
            self.audit.record("RevokeForeignToken", client_id=client.client_id)
            return True
        self.revocations.revoke_jti(claims.jti, int(claims.expires_at))
        self.audit.record("AccessTokenRevoked", client_id=client.client_id, jti=claims.jti)
        return True
