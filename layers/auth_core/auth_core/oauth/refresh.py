"""Refresh tokens: minting, one-time rotation, reuse detection and the retry-safe grace window.

Policy (RFC 9700 §4.14.2, RFC 6749 §6), as implemented by :class:`RefreshRotator`:

* A refresh token is ``secrets.token_urlsafe(32)`` (256 random bits), stored only as SHA-256.
* Every use rotates: the presented token becomes ``used`` and exactly one child is created, in
  one atomic conditional transaction of the sessions store that also moves the family's
  ``current`` pointer from parent to child and re-checks, on their own items, the user
  (enabled, the ``sessions_version`` and ``privileges_version`` the session was minted under),
  the client (enabled, its ``version``) and the global cut-off. Two concurrent refreshes
  cannot both win: the loser's transaction fails its condition. A password reset,
  log-out-everywhere or disable that commits before the refresh makes it fail; one that
  commits after it ends the new token too (cut-offs).
* **Privileges are re-derived**: when the user's or client's version moved on, the refresh reads
  them and issues the intersection of the session's scope with the user's and the client's
  *current* scopes, and the user's *current* roles (a disabled user or client ends the session).
  Scope never widens again within a session.
* The same token presented again within ``grace_seconds`` of its rotation, while its child is
  still the family's live token, **from the same client and source address**, gets the
  **byte-identical** response of the first call (sealed on the child under a key derived from
  the parent token and a server-side secret: ``grace.py``), recorded as a ``RefreshGraceReplay``
  security event. That makes a lost response or a client retry harmless. A replay from another
  address within the window is treated as theft: the family is revoked.
* Any other use of a rotated token -- after the window, or of an older ancestor, or once the
  child has itself been used -- is reuse: the whole family is revoked, with every access token
  issued from it (their ``sid`` claim names the family), and ``RefreshTokenReuse`` is recorded.
* More than one region (global tables): one token rotated in two regions within the
  replication lag forks the family (each region's transaction succeeds on its own copy). An
  ``active`` token that is not its live family's ``current`` can exist only after such a fork
  (in one region the rotation that moves ``current`` spends its parent in the same
  transaction), so its use is reuse: the family is revoked and ``RefreshTokenReuse`` recorded
  (``forked``). The exception is per-item replication lag: when the family's ``current`` is an
  ancestor of the token, the family item has not caught up yet and the answer is a 503
  (``rotation_replicating``) to retry, nothing revoked.
* A token presented by another client than the one it was issued to: ``invalid_grant`` and the
  family is revoked (the token has leaked).
* Absolute lifetime from family creation (rotation never extends it) and idle timeout per token.

Happy path: **2 store calls** (a consistent read of the token, one transaction; on DynamoDB a
GetItem and a TransactWriteItems).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from auth_core.errors import (
    InvalidDPoPProofError,
    InvalidGrantError,
    TemporarilyUnavailableError,
    UnauthorizedClientError,
)
from auth_core.grant_types import REFRESH_TOKEN
from auth_core.oauth.audit import Audit, NullAudit
from auth_core.oauth.grace import open_response, origin_matches, origin_tag, seal_response
from auth_core.oauth.responses import token_body
from auth_core.oauth.scope import resolve_scope
from auth_core.stores.clients import Client
from auth_core.stores.interfaces import (
    Checked,
    CheckFailed,
    Clients,
    Committed,
    LostRace,
    Revocations,
    Sessions,
    Users,
)
from auth_core.stores.sessions import ACTIVE, USED, RefreshRecord

__all__ = [
    "RefreshRotator",
    "RotationResult",
    "hash_refresh_token",
    "looks_like_refresh_token",
    "new_refresh_token",
    "same_key",
]

_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")


def new_refresh_token() -> str:
    """A fresh opaque refresh token: 256 random bits, base64url (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """SHA-256 hex: the only form in which a refresh token is stored or looked up."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def looks_like_refresh_token(token: str) -> bool:
    """Shape check before any lookup: JWTs, garbage and injection strings never reach DynamoDB."""
    return bool(_FORMAT.fullmatch(token))


def same_key(presented: str | None, bound: str) -> bool:
    """The proof's key thumbprint is ``bound``, the one a refresh token or code is bound to
    (constant time; no proof is no match)."""
    return presented is not None and hmac.compare_digest(presented, bound)


@dataclass(frozen=True)
class RotationResult:
    body: str
    replayed: bool = False


#: Issues an access token for (the child record: subject, roles, family; client; granted scope).
AccessTokenMinter = Callable[[RefreshRecord, Client, tuple[str, ...]], Any]
#: Rounds of "a version moved on: re-read and retry" before a 503.
_ATTEMPTS = 3
#: How many generations a family item may lag behind a token replicated from another region
#: before the gap is judged a fork rather than replication lag (module docstring, "regions").
_LAG_GENERATIONS = 8


class RefreshRotator:
    def __init__(
        self,
        *,
        sessions: Sessions,
        users: Users,
        clients: Clients,
        revocations: Revocations,
        revoke_family: Callable[..., bool],
        grace_seconds: int,
        pepper: Callable[[], bytes | None] = lambda: None,
        audit: Audit | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.users = users
        self.clients = clients
        self.revocations = revocations
        self._revoke_family = revoke_family
        self.grace_seconds = grace_seconds
        self._pepper = pepper
        self.audit: Audit = audit or NullAudit()
        self._clock = clock

    def rotate(
        self,
        token: str,
        client: Client,
        requested_scope: str | None,
        mint: AccessTokenMinter,
        *,
        source_ip: str | None = None,
        key: str | None = None,
    ) -> RotationResult:
        """Exchange ``token`` for a new access token and refresh token.

        :param key: the thumbprint of the DPoP key the request proved (None: no proof). A family
            bound to a key (RFC 9449 §5, public clients) is refused without it, before anything
            else, the retry-grace replay included.

        :raises InvalidGrantError: unknown, expired, idle, reused, revoked, or another client's
            token; the user or client was disabled or logged out since.
        :raises InvalidScopeError: ``scope`` asks for more than the session holds.
        :raises UnauthorizedClientError: the client may not use the refresh_token grant.
        :raises TemporarilyUnavailableError: a store failed, or a conflict persisted.
        """
        if REFRESH_TOKEN not in client.grant_types:
            raise UnauthorizedClientError(reason="grant_not_allowed")
        if not looks_like_refresh_token(token):
            raise InvalidGrantError(reason="refresh_malformed")
        token_hash = hash_refresh_token(token)
        record = self.sessions.get_token(token_hash)
        if record is None:
            raise InvalidGrantError(reason="refresh_unknown")
        if record.client_id != client.client_id:
            self.audit.record("RefreshClientMismatch", family_id=record.family_id, client_id=client.client_id)
            self._revoke_family(record.family_id, reason="client_mismatch")
            raise InvalidGrantError(reason="refresh_client_mismatch")
        if record.jkt and not same_key(key, record.jkt):
            self.audit.record("RefreshKeyMismatch", family_id=record.family_id, client_id=client.client_id)
            raise InvalidDPoPProofError(
                "the refresh token is bound to another key", reason="dpop_key_mismatch"
            )
        if record.status == USED:
            return self._replay(record, token, client, source_ip)
        if record.status != ACTIVE:
            raise InvalidGrantError(reason="refresh_inactive")
        now = int(self._clock())
        if now >= record.expires_at:
            raise InvalidGrantError(reason="session_expired")
        if now >= record.idle_expires_at:
            raise InvalidGrantError(reason="session_idle")

        scope, roles, privileges_version = record.scope, record.roles, record.privileges_version
        for _attempt in range(_ATTEMPTS):
            scope = _narrow(scope, client.scopes)
            granted = resolve_scope(requested_scope, scope)
            child_token = new_refresh_token()
            child = replace(
                record,
                token_hash=hash_refresh_token(child_token),
                scope=scope,
                roles=roles,
                issued_at=now,
                idle_expires_at=min(now + record.idle_timeout, record.expires_at),
                generation=record.generation + 1,
                status=ACTIVE,
                child="",
                used_at=0,
                privileges_version=privileges_version,
                client_epoch=record.client_epoch,
                parent=record.token_hash,
                grace_until=0,
                grace_blob="",
                grace_origin="",
            )
            issued = mint(child, client, granted)
            body = token_body(issued, child_token)
            pepper = self._pepper() if self.grace_seconds else None
            if pepper:  # no server-side secret yet (a key set from before it): no retry cache at all
                child = replace(
                    child,
                    grace_until=now + self.grace_seconds,
                    grace_blob=seal_response(token, token_hash, body, pepper=pepper),
                    grace_origin=origin_tag(token, client.client_id, source_ip),
                )
            outcome = self.sessions.rotate(
                record,
                child,
                now=now,
                at_jti=issued.jti,
                at_exp=int(issued.expires_at),
                checks=[
                    self.users.unchanged(
                        record.user_key,
                        sessions_version=record.sessions_version,
                        privileges_version=privileges_version,
                    ),
                    self.clients.unchanged(client, epoch=record.client_epoch),
                    self.revocations.no_global_cutoff_since(record.session_created_ms),
                ],
            )
            if isinstance(outcome, Committed):
                self.audit.record(
                    "RefreshSucceeded",
                    family_id=record.family_id,
                    client_id=client.client_id,
                    generation=child.generation,
                )
                return RotationResult(body)
            if outcome == CheckFailed(Checked.USER):
                user = self.users.get(record.user_key)
                if user is None or not user.enabled or user.sessions_version != record.sessions_version:
                    self._revoke_family(record.family_id, reason="user_inactive")
                    raise InvalidGrantError(reason="user_inactive")
                # only the roles or scopes changed: re-derive them and try again
                scope = _narrow(scope, user.scopes)
                roles, privileges_version = user.roles, user.privileges_version
                continue
            if outcome == CheckFailed(Checked.CLIENT):
                fresh = self.clients.get_fresh(client.client_id)
                if fresh is None or not fresh.enabled or fresh.sessions_epoch != record.client_epoch:
                    # disabled now, or disabled (and maybe enabled again) since the session began
                    self._revoke_family(record.family_id, reason="client_disabled")
                    raise InvalidGrantError(reason="client_disabled")
                client = fresh
                continue
            if outcome == CheckFailed(Checked.GLOBAL_CUTOFF):
                self._revoke_family(record.family_id, reason="global_cutoff")
                raise InvalidGrantError(reason="session_cut_off")
            if isinstance(outcome, LostRace):
                return self._lost_race(record, token, client, source_ip)
            return self._family_moved_on(record, token, client, source_ip)  # FamilyEnded
        raise TemporarilyUnavailableError(reason="rotation_conflict")

    # ------------------------------------------------------------------ failure paths
    def _family_moved_on(
        self, record: RefreshRecord, token: str, client: Client, source_ip: str | None
    ) -> RotationResult:
        """The rotation found the family ended, or its ``current`` on another token, while the
        presented token is still ``active``.

        In one region that cannot happen to a live family: the rotation that moves ``current``
        spends its parent in the same transaction. It happens across regions (global tables):
        the same token rotated in two regions within the replication lag, each region's
        transaction succeeding on its own copy, replication keeping the last writer per item.
        Two ``active`` siblings then exist and the family points at one of them: a fork, i.e.
        a stolen token was used. That is reuse (RFC 9700 §4.14.2): the family is revoked.

        Replication is per item, so a token rotated in another region may arrive before the
        family item that points at it: the family's ``current`` is then this token's ancestor.
        That is not reuse, only lag: the client is asked to retry (503), nothing is revoked.

        :raises InvalidGrantError: ``family_inactive`` (revoked or expired), ``refresh_reuse``
            (a fork: the family was revoked).
        :raises TemporarilyUnavailableError: the family item has not caught up with the token.
        :returns: the grace window's answer when the token was spent meanwhile (a lost race).
        """
        family = self.sessions.get_family(record.family_id)
        if family is None or family.status != ACTIVE or int(self._clock()) >= family.expires_at:
            raise InvalidGrantError(reason="family_inactive")
        # Judged on the token as it is *after* the family was read: a concurrent rotation of this
        # very token (a client's retry, another tab) that committed since our transaction is a
        # lost race, answered as one (the grace window), never a fork.
        latest = self.sessions.get_token(record.token_hash)
        if latest is None or latest.status != ACTIVE:
            return self._after_race(latest, token, client, source_ip)
        if family.current == record.token_hash or self._behind(record, family.current, family.generation):
            raise TemporarilyUnavailableError(reason="rotation_replicating")
        return self._reuse(record, client, forked=True)

    def _behind(self, record: RefreshRecord, current: str, generation: int) -> bool:
        """Is ``current`` (of ``generation``) an ancestor of ``record``? Walks ``parent`` links
        at most :data:`_LAG_GENERATIONS` steps; a longer distance is judged a fork (fail
        closed: a family revoked too eagerly costs a sign-in, a fork missed costs a session).

        :raises TemporarilyUnavailableError: an ancestor has not replicated here yet.
        """
        steps = record.generation - generation
        if steps <= 0 or steps > _LAG_GENERATIONS:
            return False
        ancestor: RefreshRecord | None = record
        for _step in range(steps):
            assert ancestor is not None  # noqa: S101 - checked below before the next step
            if not ancestor.parent:
                return False
            if ancestor.parent == current:
                return True
            ancestor = self.sessions.get_token(ancestor.parent)
            if ancestor is None:
                raise TemporarilyUnavailableError(reason="rotation_replicating")
        return False

    def _reuse(self, record: RefreshRecord, client: Client, *, forked: bool = False) -> NoReturn:
        """Record ``RefreshTokenReuse``, revoke the family (one conditional transaction) and
        refuse."""
        self.audit.record(
            "RefreshTokenReuse",
            family_id=record.family_id,
            client_id=client.client_id,
            generation=record.generation,
            **({"forked": True} if forked else {}),
        )
        self._revoke_family(record.family_id, reason="reuse_fork" if forked else "reuse")
        raise InvalidGrantError(reason="refresh_reuse")

    def _lost_race(
        self, record: RefreshRecord, token: str, client: Client, source_ip: str | None
    ) -> RotationResult:
        """Lost a race for this token: read what the winner wrote."""
        return self._after_race(self.sessions.get_token(record.token_hash), token, client, source_ip)

    def _after_race(
        self, latest: RefreshRecord | None, token: str, client: Client, source_ip: str | None
    ) -> RotationResult:
        """The presented token as read after a lost race (``None``: gone): spent by the winner
        (the grace window's answer, or reuse), still active (retry), or ended."""
        if latest is not None and latest.status == USED:
            return self._replay(latest, token, client, source_ip)
        if latest is not None and latest.status == ACTIVE:
            raise TemporarilyUnavailableError(reason="rotation_conflict")
        raise InvalidGrantError(reason="refresh_inactive")

    def _replay(
        self, record: RefreshRecord, token: str, client: Client, source_ip: str | None
    ) -> RotationResult:
        """``record`` (the presented token) was already rotated: a retry within the window, or reuse."""
        now = int(self._clock())
        child = self.sessions.get_token(record.child) if record.child else None
        if child is not None and child.grace_blob and child.parent == record.token_hash:
            if now >= child.grace_until:
                self.sessions.drop_grace(child.token_hash)  # the window closed: nothing to keep
            elif not origin_matches(child.grace_origin, token, client.client_id, source_ip):
                self.audit.record(
                    "RefreshGraceOriginMismatch", family_id=record.family_id, client_id=client.client_id
                )
                self._revoke_family(record.family_id, reason="grace_origin_mismatch")
                raise InvalidGrantError(reason="refresh_reuse")
            else:
                family = self.sessions.get_family(record.family_id)
                if (
                    family is not None
                    and family.status == ACTIVE
                    and family.current == child.token_hash
                    and now < family.expires_at
                ):
                    pepper = self._pepper()
                    body = (
                        open_response(token, record.token_hash, child.grace_blob, pepper=pepper)
                        if pepper
                        else None
                    )
                    if body is not None:
                        self.audit.record(
                            "RefreshGraceReplay", family_id=record.family_id, client_id=client.client_id
                        )
                        return RotationResult(body, replayed=True)
        return self._reuse(record, client)


def _narrow(scope: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """``scope`` restricted to ``allowed`` (an empty list allows nothing: least privilege)."""
    return tuple(s for s in scope if s in allowed)
