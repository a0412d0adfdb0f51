"""Browser sign-in's own items in the sessions table (hash key ``pk``).

``sso#<sha256 hex of the cookie>`` -- one single sign-on session. The cookie value (256 random
    bits) is a bearer credential for the session, so only its hash is a key. ``sid`` (the
    OpenID Connect session id, random, not derived from the cookie), ``owner`` (the user id) and
    ``username``, ``sessions_version`` (the user's, at sign-in: a later log-out-everywhere,
    password reset or disable bumps it and so ends this session), ``auth_time``, ``amr`` L,
    ``created_at``, ``expires_at`` (absolute limit; also the TTL), ``idle_timeout``,
    ``last_seen_at`` (moved by :meth:`SsoSessionStore.touch`), ``status``
    (``active``/``ended``). The owner is ``owner``, not ``subject``: these items stay out of the
    ``BySubject`` index.

``ssoend#<sid>`` -- written in the transaction that ends a session, for as long as a code
    issued under it could live (``ENDED_MARKER_TTL``): a code redemption checks, in its own
    transaction, that there is none (:meth:`SsoSessionStore.not_ended`), so a code issued just
    before a logout cannot start a session after it.

``par#<sha256 hex of the request_uri>`` -- one pushed authorization request (RFC 9126):
    ``client_id``, ``params`` M (the validated parameters), ``expires_at`` (also the TTL),
    ``status`` (``active``/``used``: one-time use, consumed when a code is issued).

``consent#<subject>#<client_id>`` -- the scopes a user granted a third-party client:
    ``scope`` L, ``updated_at``. No TTL: consent lasts until withdrawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auth_core.errors import StoreUnavailableError
from auth_core.stores._dynamo import (
    Item,
    TableStore,
    as_int,
    as_str,
    as_strs,
    put_or_conflict,
    run,
    transact_or_reasons,
    v_int,
    v_str,
    v_strs,
)
from auth_core.stores.interfaces import Check, Checked, Write

__all__ = [
    "Consent",
    "ConsentStore",
    "PushedRequest",
    "PushedRequestStore",
    "SsoRecord",
    "SsoSessionStore",
]

#: how long the "this SSO session ended" marker lives: longer than any authorization code
ENDED_MARKER_TTL = 3600

ACTIVE = "active"
ENDED = "ended"
USED = "used"


@dataclass(frozen=True)
class SsoRecord:
    """A single sign-on session as stored.

    :ivar expires_at: absolute end (sign-in + maximum age); ``touch`` never moves it.
    :ivar last_seen_at: last use; idle once ``last_seen_at + idle_timeout`` has passed.
    """

    session_id: str
    subject: str
    username: str
    sessions_version: int
    auth_time: int
    created_at: int
    expires_at: int
    idle_timeout: int
    last_seen_at: int
    amr: tuple[str, ...] = ("pwd",)
    status: str = ACTIVE

    def live(self, now: int) -> bool:
        """Active, within its absolute limit and not idle."""
        return self.status == ACTIVE and now < self.expires_at and now < self.last_seen_at + self.idle_timeout


@dataclass(frozen=True)
class PushedRequest:
    """A pushed authorization request: its validated parameters, bound to ``client_id``."""

    request_hash: str
    client_id: str
    params: Mapping[str, str]
    expires_at: int
    status: str = ACTIVE

    def usable(self, now: int) -> bool:
        return self.status == ACTIVE and now < self.expires_at


@dataclass(frozen=True)
class Consent:
    subject: str
    client_id: str
    scope: tuple[str, ...] = field(default=())
    updated_at: int = 0


# ---------------------------------------------------------------------- SSO sessions
class SsoSessionStore(TableStore):
    """Single sign-on sessions; the rules (limits, the user re-check) live in ``oauth.authorize``."""

    def create(self, cookie_hash: str, record: SsoRecord) -> None:
        """:raises StoreUnavailableError: DynamoDB failed (or 256 random bits collided)."""
        done = put_or_conflict(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item=_sso_item(cookie_hash, record),
            ConditionExpression="attribute_not_exists(pk)",
        )
        if done is None:
            raise StoreUnavailableError(reason="sso_collision")

    def create_write(self, cookie_hash: str, record: SsoRecord) -> Write:
        """:meth:`create` as part of another store's transaction (a second factor's)."""
        put = {
            "TableName": self.table,
            "Item": _sso_item(cookie_hash, record),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        return Write({"Put": put})

    def get(self, cookie_hash: str) -> SsoRecord | None:
        """The session (strongly consistent: an ended session must stay ended), or ``None``."""
        item = run(
            self.ddb, "get_item", TableName=self.table, Key=_key(f"sso#{cookie_hash}"), ConsistentRead=True
        ).get("Item")
        return _sso(item) if item and as_str(item, "kind") == "sso" else None

    def touch(self, cookie_hash: str, *, now: int) -> bool:
        """Move ``last_seen_at`` to ``now`` if the session is still active and unexpired."""
        return _if_active(self, f"sso#{cookie_hash}", "SET last_seen_at = :now", now, unexpired=True)

    def touch_check(self, cookie_hash: str, *, now: int) -> Check:
        """:meth:`touch` as part of another store's transaction: the change it belongs to (a
        self-service MFA enrolment) commits only while this session is still active and unexpired."""
        update = {
            "TableName": self.table,
            "Key": _key(f"sso#{cookie_hash}"),
            "UpdateExpression": "SET last_seen_at = :now",
            "ConditionExpression": "#st = :active AND expires_at > :now",
            "ExpressionAttributeNames": {"#st": "status"},
            "ExpressionAttributeValues": {":now": v_int(now), ":active": v_str(ACTIVE)},
        }
        return Check(Checked.SSO_SESSION, {"Update": update})

    def end(self, cookie_hash: str, *, now: int, session_id: str) -> bool:
        """Mark the session ended, and write its ``ssoend#`` marker in the same transaction;
        ``False`` if it was not active (or does not exist)."""
        reasons = transact_or_reasons(
            self.ddb,
            [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _key(f"sso#{cookie_hash}"),
                        "UpdateExpression": "SET #st = :to, ended_at = :now",
                        "ConditionExpression": "#st = :active",
                        "ExpressionAttributeNames": {"#st": "status"},
                        "ExpressionAttributeValues": {
                            ":now": v_int(now),
                            ":active": v_str(ACTIVE),
                            ":to": v_str(ENDED),
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            "pk": v_str(f"ssoend#{session_id}"),
                            "kind": v_str("ssoend"),
                            "expires_at": v_int(now + ENDED_MARKER_TTL),
                        },
                    }
                },
            ],
        )
        return reasons is None

    def not_ended(self, session_id: str) -> Check:
        """A code redemption's check: the SSO session it was issued under has not been ended."""
        item = {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": _key(f"ssoend#{session_id}"),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        return Check(Checked.SSO_SESSION, item)


# ---------------------------------------------------------------------- pushed requests
class PushedRequestStore(TableStore):
    def put(self, request: PushedRequest) -> None:
        """:raises StoreUnavailableError: DynamoDB failed (or random values collided)."""
        item: Item = {
            "pk": v_str(f"par#{request.request_hash}"),
            "kind": v_str("par"),
            "client_id": v_str(request.client_id),
            "params": {"M": {k: v_str(v) for k, v in request.params.items()}},
            "expires_at": v_int(request.expires_at),
            "status": v_str(request.status),
        }
        done = put_or_conflict(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
        )
        if done is None:
            raise StoreUnavailableError(reason="par_collision")

    def get(self, request_hash: str) -> PushedRequest | None:
        item = run(
            self.ddb, "get_item", TableName=self.table, Key=_key(f"par#{request_hash}"), ConsistentRead=True
        ).get("Item")
        if not item or as_str(item, "kind") != "par":
            return None
        params = (item.get("params") or {}).get("M") or {}
        return PushedRequest(
            request_hash=request_hash,
            client_id=as_str(item, "client_id"),
            params={k: as_str(params, k) for k in params},
            expires_at=as_int(item, "expires_at"),
            status=as_str(item, "status"),
        )

    def consume(self, request_hash: str, *, now: int) -> bool:
        """Use the request up (one code per pushed request); ``False`` if used, expired or unknown."""
        return _if_active(
            self, f"par#{request_hash}", "SET #st = :to, used_at = :now", now, unexpired=True, to=USED
        )


# ---------------------------------------------------------------------- consents
class ConsentStore(TableStore):
    def get(self, subject: str, client_id: str) -> Consent | None:
        item = run(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key=_key(f"consent#{subject}#{client_id}"),
            ConsistentRead=True,
        ).get("Item")
        if not item or as_str(item, "kind") != "consent":
            return None
        return Consent(subject, client_id, as_strs(item, "scope"), as_int(item, "updated_at"))

    def grant(self, subject: str, client_id: str, scope: tuple[str, ...], *, now: int) -> None:
        """Add ``scope`` to what ``subject`` granted ``client_id`` (a union: consent only grows
        here; a concurrent grant may lose its addition, and the user is then asked again)."""
        before = self.get(subject, client_id)
        merged = tuple(dict.fromkeys([*(before.scope if before else ()), *scope]))
        run(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item={
                "pk": v_str(f"consent#{subject}#{client_id}"),
                "kind": v_str("consent"),
                "scope": v_strs(merged),
                "updated_at": v_int(now),
            },
        )


# ---------------------------------------------------------------------- helpers
def _key(pk: str) -> dict[str, Any]:
    return {"pk": v_str(pk)}


def _if_active(
    store: TableStore, pk: str, update: str, now: int, *, unexpired: bool = False, to: str | None = None
) -> bool:
    """One conditional ``UpdateItem`` on an ``active`` item (and, with ``unexpired``, one whose
    ``expires_at`` is still ahead): ``update`` may use ``:now``, ``#st`` and ``:to``."""
    values: Item = {":now": v_int(now), ":active": v_str(ACTIVE)}
    if to is not None:
        values[":to"] = v_str(to)
    done = put_or_conflict(
        store.ddb,
        "update_item",
        TableName=store.table,
        Key=_key(pk),
        UpdateExpression=update,
        ConditionExpression="#st = :active" + (" AND expires_at > :now" if unexpired else ""),
        ExpressionAttributeNames={"#st": "status"},
        ExpressionAttributeValues=values,
    )
    return done is not None


def _sso_item(cookie_hash: str, r: SsoRecord) -> Item:
    return {
        "pk": v_str(f"sso#{cookie_hash}"),
        "kind": v_str("sso"),
        "sid": v_str(r.session_id),
        "owner": v_str(r.subject),
        "username": v_str(r.username),
        "sessions_version": v_int(r.sessions_version),
        "auth_time": v_int(r.auth_time),
        "amr": v_strs(r.amr),
        "created_at": v_int(r.created_at),
        "expires_at": v_int(r.expires_at),
        "idle_timeout": v_int(r.idle_timeout),
        "last_seen_at": v_int(r.last_seen_at),
        "status": v_str(r.status),
    }


def _sso(item: Item) -> SsoRecord:
    return SsoRecord(
        session_id=as_str(item, "sid"),
        subject=as_str(item, "owner"),
        username=as_str(item, "username"),
        sessions_version=as_int(item, "sessions_version"),
        auth_time=as_int(item, "auth_time"),
        amr=as_strs(item, "amr"),
        created_at=as_int(item, "created_at"),
        expires_at=as_int(item, "expires_at"),
        idle_timeout=as_int(item, "idle_timeout"),
        last_seen_at=as_int(item, "last_seen_at"),
        status=as_str(item, "status"),
    )
