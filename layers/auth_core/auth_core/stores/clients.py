"""The OAuth clients table (hash key ``client_id``) and client-secret hashing.

Item: ``client_id`` S, ``secret_hash`` S (``sha256:<hex>``; absent for public clients),
``grant_types`` L and ``scopes`` L (what the client may use: nothing unless listed),
``default_scopes`` L (granted when a token request names no scope: none unless set), ``enabled``
BOOL, optional lifetime overrides ``access_token_ttl`` / ``refresh_max_age`` /
``refresh_idle_timeout`` N, ``created_at`` N, and ``introspect_any`` BOOL (optional, confidential
clients only: may introspect tokens issued to other clients at ``/introspect``; see
``auth_core.oauth.introspection``). For browser sign-in (the authorization code grant):
``redirect_uris`` L and ``post_logout_redirect_uris`` L (checked at registration by
``auth_core.redirect_uris``; matched exactly at ``/authorize`` and ``/logout``), ``first_party``
BOOL (the deployment's own app: no consent page) and ``require_par`` BOOL (authorization
requests only through ``POST /par``, RFC 9126), ``dpop_bound_access_tokens`` BOOL (every token
request carries a DPoP proof, RFC 9449 §5.2). After ``authctl clients rotate-secret``:
``previous_secret_hash`` S and ``previous_secret_valid_until`` N (epoch seconds), the secret
replaced, still accepted until then and never after (:meth:`Client.secret_matches`).

Why SHA-256 and not Argon2id for client secrets: we generate them (``secrets.token_urlsafe(32)``,
256 bits), so there is nothing to brute-force and a slow KDF would only add ~35 ms to every
``client_credentials`` call. Passwords are chosen by humans; secrets are not. The comparison is
constant-time (``hmac.compare_digest``).

Client records change rarely and are read on every request, so :class:`ClientStore` caches them
per container for ``cache_ttl`` seconds. Every change bumps the item's ``version`` N, and every
session write re-checks it on the item itself (:meth:`ClientStore.unchanged`): a refresh through a
cached copy of a client that has since been disabled or narrowed fails its transaction and
re-reads. Disabling a client is also published in the revocation feed (``cli#``), which ends
its access tokens and its new grants within the feed's bound (``oauth.revocation``).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from auth_core.errors import AlreadyExistsError
from auth_core.grant_types import GRANT_TYPES  # re-exported (local_stack seeds with it)
from auth_core.stores._dynamo import (
    as_bool,
    as_int,
    as_opt_int,
    as_str,
    as_strs,
    dynamodb,
    put_or_conflict,
    run,
    v_bool,
    v_int,
    v_str,
    v_strs,
)
from auth_core.stores.interfaces import Check, Checked

__all__ = ["EDITABLE", "GRANT_TYPES", "Client", "ClientStore", "hash_client_secret"]

#: compared against when there is no previous secret, so every check costs two comparisons
_NO_SECRET = "sha256:" + "-" * 64


def hash_client_secret(secret: str) -> str:
    """``sha256:<hex>`` of a client secret (see the module docstring for why not a slow KDF)."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Client:
    client_id: str
    secret_hash: str | None = None
    grant_types: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    enabled: bool = True
    access_token_ttl: int | None = None
    refresh_max_age: int | None = None
    refresh_idle_timeout: int | None = None
    introspect_any: bool = False
    #: granted when a token request names no scope (a subset of ``scopes``; none unless set)
    default_scopes: tuple[str, ...] = ()
    #: bumped by every change; session writes check it (see the module docstring)
    version: int = 0
    #: bumped by every disable: a session minted under an older epoch is over, even if the
    #: client has been enabled again since
    sessions_epoch: int = 0
    #: where ``/authorize`` may send codes (``auth_core.redirect_uris``)
    redirect_uris: tuple[str, ...] = ()
    #: where ``/logout`` may send the browser afterwards
    post_logout_redirect_uris: tuple[str, ...] = ()
    #: the deployment's own app: signs in without a consent page
    first_party: bool = False
    #: authorization requests only by reference from ``POST /par`` (RFC 9126 §5)
    require_par: bool = False
    #: people may create their own accounts from this client's sign-in page (``/account/signup``)
    allow_signup: bool = False
    #: the secret a rotation replaced, accepted while ``now < previous_secret_valid_until``
    previous_secret_hash: str | None = None
    previous_secret_valid_until: int = 0
    #: every token request must carry a DPoP proof; tokens are always key-bound (RFC 9449 §5.2
    #: ``dpop_bound_access_tokens``). Without it a proof is optional: sent, it binds the tokens.
    dpop_bound_access_tokens: bool = False
    #: second factor for this client's sign-ins: ``off``/``optional``/``required`` (auth_core.mfa.policy)
    mfa: str = "optional"

    @property
    def confidential(self) -> bool:
        return bool(self.secret_hash)

    def secret_matches(self, secret: str, *, now: float | None = None) -> bool:
        """Constant-time comparison of ``secret`` with the stored hash, or with the previous
        one while its overlap lasts (``now`` before ``previous_secret_valid_until``; not at it).
        Both comparisons always run, so the answer takes as long whichever matched, if any.
        Public clients: False."""
        if not self.secret_hash:
            return False
        digest = hash_client_secret(secret)
        current = hmac.compare_digest(digest, self.secret_hash)
        previous = hmac.compare_digest(digest, self.previous_secret_hash or _NO_SECRET)
        lasting = (time.time() if now is None else now) < self.previous_secret_valid_until
        return current | (previous & lasting)


#: what ``ClientStore.update`` may change (never the id, the secret, the state or the versions)
EDITABLE = (
    "grant_types",
    "scopes",
    "default_scopes",
    "redirect_uris",
    "post_logout_redirect_uris",
    "first_party",
    "require_par",
    "dpop_bound_access_tokens",
    "allow_signup",
    "introspect_any",
    "access_token_ttl",
    "refresh_max_age",
    "refresh_idle_timeout",
    "mfa",
)
assert set(EDITABLE) <= {f.name for f in fields(Client)}  # noqa: S101 - an import-time invariant


class ClientStore:
    """Read (cached) and change OAuth clients."""

    def __init__(
        self,
        table: str,
        *,
        client: Any | None = None,
        cache_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self._client = client
        self._ttl = cache_ttl
        self._clock = clock
        self._wall = wall_clock
        self._cache: dict[str, tuple[float, Client | None]] = {}
        self._lock = threading.Lock()

    @property
    def ddb(self) -> Any:
        return dynamodb(self._client)

    def get(self, client_id: str) -> Client | None:
        """The client (cached for ``cache_ttl`` seconds), or ``None``.

        Only clients that exist are cached: a miss is read again every time, so a client created
        just after a lookup of its id works at once. Unknown ids are attacker-chosen, so they
        never enter the cache (it holds real clients only, at most 1024, oldest evicted first);
        the cost is one ``GetItem`` per lookup of an unknown id, which is what the first lookup
        of any id always cost.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        now = self._clock()
        hit = self._cache.get(client_id)
        if hit is not None and hit[1] is not None and now - hit[0] < self._ttl:
            return hit[1]
        response = run(self.ddb, "get_item", TableName=self.table, Key={"client_id": v_str(client_id)})
        item = response.get("Item")
        found = _decode(item) if item else None
        with self._lock:
            self._cache.pop(client_id, None)
            if found is not None:
                while len(self._cache) >= 1024:  # bounded; only real clients get here
                    self._cache.pop(next(iter(self._cache)))
                self._cache[client_id] = (now, found)
        return found

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    def create(self, client: Client) -> None:
        """Insert a client (callers check its grant types first: ``grant_types.check_client_grants``;
        the token endpoint re-checks them on every request, for items written otherwise).

        :raises AlreadyExistsError: the client id is taken.
        """
        item: dict[str, Any] = {
            "client_id": v_str(client.client_id),
            "grant_types": v_strs(client.grant_types),
            "scopes": v_strs(client.scopes),
            "default_scopes": v_strs(client.default_scopes),
            "enabled": v_bool(client.enabled),
            "created_at": v_int(int(self._wall())),
        }
        if client.secret_hash:
            item["secret_hash"] = v_str(client.secret_hash)
        for name in ("access_token_ttl", "refresh_max_age", "refresh_idle_timeout"):
            value = getattr(client, name)
            if value is not None:
                item[name] = v_int(value)
        if client.introspect_any:
            item["introspect_any"] = v_bool(True)
        for name in ("redirect_uris", "post_logout_redirect_uris"):
            if getattr(client, name):
                item[name] = v_strs(getattr(client, name))
        for name in ("first_party", "require_par", "dpop_bound_access_tokens", "allow_signup"):
            if getattr(client, name):
                item[name] = v_bool(True)
        if client.mfa != "optional":
            item["mfa"] = v_str(client.mfa)
        done = put_or_conflict(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item=item,
            ConditionExpression="attribute_not_exists(client_id)",
        )
        if done is None:
            raise AlreadyExistsError("client exists", reason="client_exists")

    def set_enabled(self, client_id: str, enabled: bool) -> bool:
        """Enable or disable (and bump ``version``); ``False`` when the client does not exist."""
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key={"client_id": v_str(client_id)},
            UpdateExpression="SET enabled = :e, version = if_not_exists(version, :zero) + :one, "
            "sessions_epoch = if_not_exists(sessions_epoch, :zero) + :bump",
            ConditionExpression="attribute_exists(client_id)",
            ExpressionAttributeValues={
                ":e": v_bool(enabled),
                ":zero": v_int(0),
                ":one": v_int(1),
                ":bump": v_int(0 if enabled else 1),
            },
        )
        self.invalidate()
        return done is not None

    def page(self, limit: int, after: str | None = None) -> tuple[list[Client], str | None]:
        """Up to ``limit`` clients after the id ``after`` (a scan page; operator tooling only),
        and the id to continue after, or ``None`` at the end.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True, "Limit": limit}
        if after:
            kwargs["ExclusiveStartKey"] = {"client_id": v_str(after)}
        found = run(self.ddb, "scan", **kwargs)
        last = found.get("LastEvaluatedKey")
        items = [_decode(item) for item in found.get("Items", [])]
        return items, (as_str(last, "client_id") or None) if last else None

    def update(self, client: Client) -> bool:
        """Store ``client``'s :data:`EDITABLE` fields, only if the item still has the ``version``
        ``client`` was read with; bumps it, so cached copies and session transactions that read
        the old one re-read (see the module docstring). ``False``: gone or changed meanwhile.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        sets = ["version = if_not_exists(version, :zero) + :one"]
        removes: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {":zero": v_int(0), ":one": v_int(1), ":v": v_int(client.version)}
        for i, name in enumerate(EDITABLE):
            value = getattr(client, name)
            names[f"#f{i}"] = name
            if value is None:
                removes.append(f"#f{i}")
                continue
            if isinstance(value, bool):
                values[f":f{i}"] = v_bool(value)
            elif isinstance(value, int):
                values[f":f{i}"] = v_int(value)
            elif isinstance(value, str):
                values[f":f{i}"] = v_str(value)
            else:
                values[f":f{i}"] = v_strs(value)
            sets.append(f"#f{i} = :f{i}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key={"client_id": v_str(client.client_id)},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(client_id) AND "
            + _number_is("version", ":v", client.version),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        self.invalidate()
        return done is not None

    def rotate_secret(self, client: Client, new_hash: str, *, previous_valid_until: int) -> bool:
        """Make ``new_hash`` the secret; the one ``client`` was read with stays valid until
        ``previous_valid_until`` (epoch seconds; a rotation inside an overlap drops the older
        one). Conditional on the item's ``version`` being ``client``'s; bumps it.
        ``False``: gone, changed meanwhile, or public.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        if not client.secret_hash:
            return False
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key={"client_id": v_str(client.client_id)},
            UpdateExpression="SET secret_hash = :new, previous_secret_hash = :old, "
            "previous_secret_valid_until = :until, version = if_not_exists(version, :zero) + :one",
            ConditionExpression="attribute_exists(client_id) AND secret_hash = :old AND "
            + _number_is("version", ":v", client.version),
            ExpressionAttributeValues={
                ":new": v_str(new_hash),
                ":old": v_str(client.secret_hash),
                ":until": v_int(previous_valid_until),
                ":zero": v_int(0),
                ":one": v_int(1),
                ":v": v_int(client.version),
            },
        )
        self.invalidate()
        return done is not None

    def delete(self, client_id: str) -> bool:
        """Delete a client that is disabled (``set_client_enabled`` first: its tokens are then
        refused through the revocation feed and its sessions cannot refresh). ``False``: gone,
        or enabled again meanwhile.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        done = put_or_conflict(
            self.ddb,
            "delete_item",
            TableName=self.table,
            Key={"client_id": v_str(client_id)},
            ConditionExpression="attribute_exists(client_id) AND enabled = :f",
            ExpressionAttributeValues={":f": v_bool(False)},
        )
        self.invalidate()
        return done is not None

    def get_fresh(self, client_id: str) -> Client | None:
        """The client read now (strongly consistent), bypassing and refreshing the cache."""
        response = run(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key={"client_id": v_str(client_id)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        found = _decode(item) if item else None
        with self._lock:
            self._cache[client_id] = (self._clock(), found)
        return found

    def unchanged(self, client: Client, *, epoch: int) -> Check:
        """A session transaction's check: ``client`` still exists, is enabled, has the
        ``version`` it was read with and the ``sessions_epoch`` the session began under."""
        item = {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": {"client_id": v_str(client.client_id)},
                "ConditionExpression": "enabled = :t AND "
                + _number_is("version", ":v", client.version)
                + " AND "
                + _number_is("sessions_epoch", ":e", epoch),
                "ExpressionAttributeValues": {
                    ":t": v_bool(True),
                    ":v": v_int(client.version),
                    ":e": v_int(epoch),
                },
            }
        }
        return Check(Checked.CLIENT, item)


def _number_is(name: str, placeholder: str, value: int) -> str:
    """``name = placeholder``, an absent attribute counting as 0 (items from before the field)."""
    if value == 0:
        return f"(attribute_not_exists({name}) OR {name} = {placeholder})"
    return f"{name} = {placeholder}"


def _decode(item: dict[str, Any]) -> Client:
    return Client(
        client_id=as_str(item, "client_id"),
        secret_hash=as_str(item, "secret_hash") or None,
        grant_types=as_strs(item, "grant_types"),
        scopes=as_strs(item, "scopes"),
        enabled=as_bool(item, "enabled"),
        access_token_ttl=as_opt_int(item, "access_token_ttl"),
        refresh_max_age=as_opt_int(item, "refresh_max_age"),
        refresh_idle_timeout=as_opt_int(item, "refresh_idle_timeout"),
        introspect_any=as_bool(item, "introspect_any"),
        version=as_int(item, "version"),
        sessions_epoch=as_int(item, "sessions_epoch"),
        default_scopes=as_strs(item, "default_scopes"),
        redirect_uris=as_strs(item, "redirect_uris"),
        post_logout_redirect_uris=as_strs(item, "post_logout_redirect_uris"),
        first_party=as_bool(item, "first_party"),
        require_par=as_bool(item, "require_par"),
        dpop_bound_access_tokens=as_bool(item, "dpop_bound_access_tokens"),
        allow_signup=as_bool(item, "allow_signup"),
        previous_secret_hash=as_str(item, "previous_secret_hash") or None,
        previous_secret_valid_until=as_int(item, "previous_secret_valid_until"),
        mfa=as_str(item, "mfa") or "optional",
    )
