"""Refresh tokens: minting, one-time rotation, reuse detection and the retry-safe grace window.

Policy (RFC 9700 §4.14.2, RFC 6749 §6), as implemented by :class:`RefreshRotator`:

* A refresh token is ``secrets.token_urlsafe(32)`` (256 random bits), stored only as SHA-256.
* Every use rotates: the presented token becomes ``used`` and exactly one child is created, in
  one ``TransactWriteItems`` that also moves the family's ``current`` pointer from parent to child
  and re-checks the user (enabled, ``tokens_valid_after``) and the client (enabled) on their own
  items. Two concurrent refreshes cannot both win: the loser's transaction fails its condition.
* The same token presented again within ``grace_seconds`` of its rotation, while its child is
  still the family's live token, gets the **byte-identical** response of the first call (the
  response is sealed under a key derived from the parent token: ``grace.py``). That makes a
  lost response or a client retry harmless.
* Any other use of a rotated token -- after the window, or of an older ancestor, or once the
  child has itself been used -- is reuse: the whole family is revoked, with every access token
  issued from it (their ``sid`` claim names the family), and ``RefreshTokenReuse`` is recorded.
* A token presented by another client than the one it was issued to: ``invalid_grant`` and the
  family is revoked (the token has leaked).
* Absolute lifetime from family creation (rotation never extends it) and idle timeout per token.
* Scope may only narrow; the child keeps the family's original scope.

Happy path: **2 DynamoDB calls** (consistent GetItem of the token item, one TransactWriteItems).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from auth_core.errors import InvalidGrantError, TemporarilyUnavailableError, UnauthorizedClientError
from auth_core.oauth.audit import Audit, NullAudit
from auth_core.oauth.grace import open_response, seal_response
from auth_core.oauth.responses import token_body
from auth_core.oauth.scope import resolve_scope
from auth_core.stores.clients import Client, ClientStore
from auth_core.stores.sessions import ACTIVE, USED, RefreshRecord, SessionStore
from auth_core.stores.users import UserStore

__all__ = [
    "RefreshRotator",
    "RotationResult",
    "hash_refresh_token",
    "looks_like_refresh_token",
    "new_refresh_token",
]

_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")

#: Issues an access token for (record, client, granted scope); returns an ``IssuedToken``.
AccessTokenMinter = Callable[[RefreshRecord, Client, tuple[str, ...]], Any]


def new_refresh_token() -> str:
    """A fresh opaque refresh token: 256 random bits, base64url (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """SHA-256 hex: the only form in which a refresh token is stored or looked up."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def looks_like_refresh_token(token: str) -> bool:
    """Shape check before any lookup: JWTs, garbage and injection strings never reach DynamoDB."""
    return bool(_FORMAT.fullmatch(token))


@dataclass(frozen=True)
class RotationResult:
    body: str
    replayed: bool = False


class RefreshRotator:
    def __init__(
        self,
        *,
        sessions: SessionStore,
        users: UserStore,
        clients: ClientStore,
        revoke_family: Callable[..., bool],
        grace_seconds: int,
        audit: Audit | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.users = users
        self.clients = clients
        self._revoke_family = revoke_family
        self.grace_seconds = grace_seconds
        self.audit: Audit = audit or NullAudit()
        self._clock = clock

    def rotate(
        self, token: str, client: Client, requested_scope: str | None, mint: AccessTokenMinter
    ) -> RotationResult:
        """Exchange ``token`` for a new access token and refresh token.

        :raises InvalidGrantError: unknown, expired, idle, reused, revoked, or another client's token.
        :raises InvalidScopeError: ``scope`` asks for more than the family holds.
        :raises UnauthorizedClientError: the client may not use the refresh_token grant.
        :raises TemporarilyUnavailableError: DynamoDB failed, or a transaction conflict persisted.
        """
        if "refresh_token" not in client.grant_types:
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
        if record.status == USED:
            return self._replay(record, token, client)
        if record.status != ACTIVE:
            raise InvalidGrantError(reason="refresh_inactive")
        now = int(self._clock())
        if now >= record.expires_at:
            raise InvalidGrantError(reason="session_expired")
        if now >= record.idle_expires_at:
            raise InvalidGrantError(reason="session_idle")
        granted = resolve_scope(requested_scope, record.scope)

        child_token = new_refresh_token()
        child = replace(
            record,
            token_hash=hash_refresh_token(child_token),
            issued_at=now,
            idle_expires_at=min(now + record.idle_timeout, record.expires_at),
            generation=record.generation + 1,
            status=ACTIVE,
            child="",
            used_at=0,
            grace_until=0,
            grace_blob="",
        )
        issued = mint(record, client, granted)
        body = token_body(issued, child_token)
        reasons = self.sessions.rotate(
            record,
            child,
            now=now,
            grace_until=now + self.grace_seconds,
            grace_blob=seal_response(token, token_hash, body) if self.grace_seconds else "",
            at_jti=issued.jti,
            at_exp=int(issued.expires_at),
            checks=[
                self.users.condition_check(record.subject, record.family_created_at),
                self.clients.condition_check(client.client_id),
            ],
        )
        if reasons is None:
            self.audit.record(
                "RefreshSucceeded",
                family_id=record.family_id,
                client_id=client.client_id,
                generation=child.generation,
            )
            return RotationResult(body)
        return self._cancelled(reasons, record, token, client)

    # ------------------------------------------------------------------ failure paths
    def _cancelled(
        self, reasons: list[str], record: RefreshRecord, token: str, client: Client
    ) -> RotationResult:
        parent, _child, family, user, client_check = (reasons + ["None"] * 5)[:5]
        if user == "ConditionalCheckFailed":
            self._revoke_family(record.family_id, reason="user_inactive")
            raise InvalidGrantError(reason="user_inactive")
        if client_check == "ConditionalCheckFailed":
            raise InvalidGrantError(reason="client_disabled")
        if parent != "None" or "TransactionConflict" in reasons:
            # Lost a race for this token: read what the winner wrote.
            latest = self.sessions.get_token(record.token_hash)
            if latest is not None and latest.status == USED:
                return self._replay(latest, token, client)
            if latest is not None and latest.status == ACTIVE and family == "None":
                raise TemporarilyUnavailableError(reason="rotation_conflict")
            raise InvalidGrantError(reason="refresh_inactive")
        if family == "ConditionalCheckFailed":
            raise InvalidGrantError(reason="family_inactive")
        raise TemporarilyUnavailableError(reason="rotation_failed")

    def _replay(self, record: RefreshRecord, token: str, client: Client) -> RotationResult:
        now = int(self._clock())
        if record.grace_blob and now < record.grace_until:
            family = self.sessions.get_family(record.family_id)
            if (
                family is not None
                and family.status == ACTIVE
                and family.current == record.child
                and now < family.expires_at
            ):
                body = open_response(token, record.token_hash, record.grace_blob)
                if body is not None:
                    self.audit.record(
                        "RefreshGraceReplay", family_id=record.family_id, client_id=client.client_id
                    )
                    return RotationResult(body, replayed=True)
        self.audit.record(
            "RefreshTokenReuse",
            family_id=record.family_id,
            client_id=client.client_id,
            generation=record.generation,
        )
        self._revoke_family(record.family_id, reason="reuse")
        raise InvalidGrantError(reason="refresh_reuse")
