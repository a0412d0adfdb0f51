"""The users table (hash key ``username``, always the canonical form: ``auth_core.usernames``).

Item: ``username`` S, ``user_id`` S (the opaque, immutable, never-reused id that tokens carry as
``sub``: sessions and revocations are keyed by it, so a username can change and can never equal a
client id), ``password_hash`` S (Argon2id PHC), ``roles`` L, ``scopes`` L, ``enabled`` BOOL,
``created_at`` / ``updated_at`` N, and the two versions every session write re-checks:

``sessions_version`` N
    bumped, in the same write, by everything that ends a user's sessions (password change,
    log out everywhere, disable). A login or refresh is one transaction that also checks this
    number is still the one it read, so a reset that commits first makes the login fail, and a
    login that commits first is ended by the reset (its session carries the old number).
``privileges_version`` N
    bumped with every change of ``roles`` or ``scopes``; a refresh whose session was minted
    under an older number re-derives roles and scope from the user as they are now.
``tokens_valid_after_ms`` N
    epoch milliseconds of the last cut-off; access tokens issued before it are refused (through
    the revocations table's ``sub#`` mirror), and an issuer signs nothing for this user with an
    earlier ``iat``. Older items have ``tokens_valid_after`` in seconds, still read.

The keys-only GSI ``ByUserId`` (hash ``user_id``) maps a token's ``sub`` back to its username
(:meth:`UserStore.username_for_subject`, for ``/userinfo``). Keys only, so it is written only when
an item gets its ``user_id`` (creation, the one-time migration), never by logins or password
changes; users from before ``user_id`` are not in it until they get one.

Profile (sign-up, ``authctl users update``; see ``auth_core.accounts``): ``email`` S (normal form:
``auth_core.emails``), ``email_verified`` BOOL, ``name`` / ``given_name`` / ``family_name`` S and
``attrs`` M of S (custom attributes, names from ``CUSTOM_ATTRIBUTES``). A *verified* email is also
claimed by an ``email#`` item in the sessions table (``auth_core.stores.accounts``), written in the
same transaction, so no two users hold one verified address.

Absent numbers read as 0, so items written before these fields existed keep working. A user
created before ``user_id`` existed gets one at its next login (:meth:`UserStore.ensure_user_id`),
remembering its old subject (the username) in ``legacy_subject`` so that ending its sessions also
ends those minted under the old subject (``oauth.revocation``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from auth_core.errors import AlreadyExistsError, StoreUnavailableError
from auth_core.stores._dynamo import (
    TableStore,
    as_bool,
    as_int,
    as_opt_int,
    as_str,
    as_strs,
    put_or_conflict,
    run,
    v_bool,
    v_int,
    v_str,
    v_strs,
)
from auth_core.stores.interfaces import Check, Checked
from auth_core.usernames import USER_ID_PREFIX, new_user_id

__all__ = ["BY_USER_ID", "User", "UserStore"]

#: the users table's index by ``user_id`` (template.yaml)
BY_USER_ID = "ByUserId"


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    enabled: bool = True
    tokens_valid_after_ms: int = 0
    created_at: int = 0
    sessions_version: int = 0
    privileges_version: int = 0
    #: the token ``sub``: opaque and immutable (empty only for users created before it existed)
    user_id: str = ""
    #: the subject sessions were minted under before this user got a ``user_id`` (the username)
    legacy_subject: str = ""
    #: the profile (see the module docstring); empty when not set
    email: str = ""
    email_verified: bool = False
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    #: custom attributes as sorted (name, value) pairs
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def subject(self) -> str:
        """What tokens, sessions and revocations call this user."""
        return self.user_id or self.username

    @property
    def not_before(self) -> int:
        """The cut-off in whole seconds, rounded up: no token of this user may have an earlier ``iat``."""
        return -(-self.tokens_valid_after_ms // 1000)


class UserStore(TableStore):
    """Read and change users. Writes are conditional on the item existing (or not)."""

    def key(self, username: str) -> dict[str, Any]:
        return {"username": v_str(username)}

    def get(self, username: str) -> User | None:
        """The user, or ``None`` (strongly consistent: a disable must take effect at once).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        item = run(self.ddb, "get_item", TableName=self.table, Key=self.key(username), ConsistentRead=True)
        found = item.get("Item")
        return _decode(found) if found else None

    def username_for_subject(self, subject: str) -> str | None:
        """The username of the user whose tokens carry ``sub`` = ``subject``, or ``None``.

        A user id (``u_...``) is one ``Query`` on the keys-only ``ByUserId`` index (eventually
        consistent: an id is written once, with the item, and never changes). Any other subject, or
        an id the index does not know, is tried as a legacy one, the username itself (users from
        before ids, or migrated since: ``legacy_subject``): one ``GetItem``.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        if subject.startswith(USER_ID_PREFIX):
            found = run(
                self.ddb,
                "query",
                TableName=self.table,
                IndexName=BY_USER_ID,
                KeyConditionExpression="user_id = :id",
                ExpressionAttributeValues={":id": v_str(subject)},
                Limit=1,
            )
            items = found.get("Items") or []
            if items:
                return as_str(items[0], "username") or None
        user = self.get(subject)
        # A user with an id answers to a username subject only for sessions minted before the id.
        if user is None or (user.user_id and user.legacy_subject != subject):
            return None
        return user.username

    def create(self, user: User) -> User:
        """Insert a new user (a fresh ``user_id`` unless one is given); returns it as stored.

        :raises AlreadyExistsError: the username is taken.
        """
        item = self.new_item(user)
        done = put_or_conflict(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item=item,
            ConditionExpression="attribute_not_exists(username)",
        )
        if done is None:
            raise AlreadyExistsError("user exists", reason="user_exists")
        return _decode(item)

    def new_item(self, user: User) -> dict[str, Any]:
        """The item :meth:`create` writes for ``user`` (a fresh ``user_id`` unless one is given);
        ``auth_core.stores.accounts`` puts it inside its sign-up transaction."""
        now = int(self._clock())
        user_id = user.user_id or new_user_id()
        item = {
            "username": v_str(user.username),
            "user_id": v_str(user_id),
            "password_hash": v_str(user.password_hash),
            "roles": v_strs(user.roles),
            "scopes": v_strs(user.scopes),
            "enabled": v_bool(user.enabled),
            "tokens_valid_after_ms": v_int(user.tokens_valid_after_ms),
            "sessions_version": v_int(user.sessions_version),
            "privileges_version": v_int(user.privileges_version),
            "created_at": v_int(user.created_at or now),
            "updated_at": v_int(now),
        }
        item.update(_profile_values(user))
        return item

    def set_profile(self, username: str, user: User) -> bool:
        """Store ``user``'s name fields and custom attributes (empty ones are removed); the email
        is never touched here (only ``AccountStore.set_email`` changes it, with its claim).
        ``False`` when the user does not exist."""
        values = _profile_values(replace(user, email=""))
        expression = "SET " + ", ".join([*(f"#{n} = :{n}" for n in values), "updated_at = :now"])
        removed = [n for n in _PROFILE if n not in values]
        if removed:
            expression += " REMOVE " + ", ".join(f"#{n}" for n in removed)
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key=self.key(username),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(username)",
            ExpressionAttributeNames={f"#{n}": n for n in _PROFILE},
            ExpressionAttributeValues={
                **{f":{k}": v for k, v in values.items()},
                ":now": v_int(int(self._clock())),
            },
        )
        return done is not None

    def ensure_user_id(self, user: User) -> User:
        """``user`` with a ``user_id``, assigning one (once, conditionally) to a user created
        before ids existed; its old subject is kept in ``legacy_subject``.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        if user.user_id:
            return user
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key=self.key(user.username),
            UpdateExpression="SET user_id = :id, legacy_subject = :old",
            ConditionExpression="attribute_exists(username) AND attribute_not_exists(user_id)",
            ExpressionAttributeValues={":id": v_str(new_user_id()), ":old": v_str(user.username)},
            ReturnValues="ALL_NEW",
        )
        if done is not None:
            return _decode(done["Attributes"])
        fresh = self.get(user.username)  # assigned concurrently (or the user is gone)
        return fresh if fresh is not None else user

    def all_users(self) -> Iterator[User]:
        """Every user (a scan; operator tooling only)."""
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = run(self.ddb, "scan", **kwargs)
            for item in page.get("Items", []):
                yield _decode(item)
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def page(self, limit: int, after: str | None = None) -> tuple[list[User], str | None]:
        """Up to ``limit`` users after the username ``after`` (a scan page; operator tooling
        only), and the username to continue after, or ``None`` at the end.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True, "Limit": limit}
        if after:
            kwargs["ExclusiveStartKey"] = self.key(after)
        found = run(self.ddb, "scan", **kwargs)
        last = found.get("LastEvaluatedKey")
        return [_decode(item) for item in found.get("Items", [])], (
            as_str(last, "username") or None
        ) if last else None

    def delete(self, username: str, *, user_id: str) -> bool:
        """Delete the user, only if it is still the one with ``user_id`` and is disabled (its
        sessions were ended first: :meth:`SessionRevoker.delete_user`). The id is never reused:
        ids are 128 random bits (:func:`auth_core.usernames.new_user_id`), so a new user of the
        same name is another subject. ``False`` when the user is gone, or changed meanwhile.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        done = put_or_conflict(self.ddb, "delete_item", **self.delete_spec(username, user_id=user_id))
        return done is not None

    def delete_spec(self, username: str, *, user_id: str) -> dict[str, Any]:
        """The conditional delete :meth:`delete` makes, as a transaction's ``Delete``
        (``AccountStore.delete_user`` releases the verified address in the same transaction)."""
        condition = "attribute_exists(username) AND enabled = :f AND "
        values: dict[str, Any] = {":f": v_bool(False)}
        if user_id:
            condition += "user_id = :id"
            values[":id"] = v_str(user_id)
        else:
            condition += "attribute_not_exists(user_id)"
        return {
            "TableName": self.table,
            "Key": self.key(username),
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }

    def _update(self, username: str, expression: str, values: dict[str, Any], condition: str = "") -> bool:
        cond = "attribute_exists(username)" + (f" AND {condition}" if condition else "")
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key=self.key(username),
            UpdateExpression=expression + ", updated_at = :now",
            ConditionExpression=cond,
            ExpressionAttributeValues={**values, ":now": v_int(int(self._clock()))},
        )
        return done is not None

    def enable(self, username: str) -> bool:
        """Enable the user; ``False`` when the user does not exist. (Disabling ends sessions:
        :meth:`end_sessions`.)"""
        return self._update(username, "SET enabled = :e", {":e": v_bool(True)})

    def set_password_hash(self, username: str, new_hash: str, *, expected: str) -> bool:
        """Rehash on login: store ``new_hash`` only if the stored hash is still ``expected`` (a
        password change that happened meanwhile wins). Sessions are untouched: same password."""
        return self._update(
            username,
            "SET password_hash = :h",
            {":h": v_str(new_hash), ":old": v_str(expected)},
            "password_hash = :old",
        )

    def replace_password_hash(self, username: str, new_hash: str) -> bool:
        """Store a new hash *without* ending sessions (``authctl users set-password
        --keep-sessions``); ``False`` when the user does not exist."""
        return self._update(username, "SET password_hash = :h", {":h": v_str(new_hash)})

    def end_sessions(
        self,
        username: str,
        at_ms: int,
        *,
        disable: bool = False,
        password_hash: str | None = None,
        expect_sessions_version: int | None = None,
    ) -> User | None:
        """One write that ends every session and access token of ``username`` issued before
        ``at_ms``: ``sessions_version`` + 1 and ``tokens_valid_after_ms`` moved forward (never
        back); optionally ``enabled = false`` and a new password hash in the same write.

        ``expect_sessions_version``: write only while the user still has this
        ``sessions_version`` (a password reset, conditional on the state its code was issued
        against: a reset, password change or log-out-everywhere since voids the code).

        :returns: the user as written, or ``None`` when the user does not exist (or, with
            ``expect_sessions_version``, no longer has that version).
        :raises StoreUnavailableError: DynamoDB failed.
        """
        sets = [
            "sessions_version = if_not_exists(sessions_version, :zero) + :one",
            "tokens_valid_after_ms = :at",
            "updated_at = :now",
        ]
        values: dict[str, Any] = {
            ":zero": v_int(0),
            ":one": v_int(1),
            ":at": v_int(at_ms),
            ":now": v_int(int(self._clock())),
        }
        if disable:
            sets.append("enabled = :f")
            values[":f"] = v_bool(False)
        if password_hash is not None:
            sets.append("password_hash = :h")
            values[":h"] = v_str(password_hash)
        for _attempt in range(3):
            current = self.get(username)
            if current is None:
                return None
            if expect_sessions_version is not None and current.sessions_version != expect_sessions_version:
                return None
            values[":at"] = v_int(max(at_ms, current.tokens_valid_after_ms))
            values[":sv"] = v_int(current.sessions_version)
            done = put_or_conflict(
                self.ddb,
                "update_item",
                TableName=self.table,
                Key=self.key(username),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_exists(username) AND "
                + _version_is("sessions_version", ":sv", current.sessions_version),
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
            if done is not None:
                return _decode(done["Attributes"])
        raise StoreUnavailableError(reason="user_update_conflict")

    def move_cutoff(self, username: str, at_ms: int) -> bool:
        """Move ``tokens_valid_after_ms`` forward to ``at_ms`` (never back); ``False`` when the
        user does not exist or a later cut-off is already in place."""
        return self._update(
            username,
            "SET tokens_valid_after_ms = :t",
            {":t": v_int(at_ms)},
            "(attribute_not_exists(tokens_valid_after_ms) OR tokens_valid_after_ms < :t)",
        )

    def set_privileges(self, username: str, *, scopes: Iterable[str], roles: Iterable[str]) -> bool:
        """Replace the user's allowed scopes and roles and bump ``privileges_version``: every
        session re-derives its roles and narrows its scope at its next refresh.

        :returns: ``False`` when the user does not exist.
        """
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key=self.key(username),
            UpdateExpression="SET scopes = :s, #r = :r, updated_at = :now, "
            "privileges_version = if_not_exists(privileges_version, :zero) + :one",
            ConditionExpression="attribute_exists(username)",
            ExpressionAttributeNames={"#r": "roles"},
            ExpressionAttributeValues={
                ":s": v_strs(scopes),
                ":r": v_strs(roles),
                ":now": v_int(int(self._clock())),
                ":zero": v_int(0),
                ":one": v_int(1),
            },
        )
        return done is not None

    def unchanged(
        self, username: str, *, sessions_version: int, privileges_version: int | None = None
    ) -> Check:
        """A session transaction's check: the user still exists, is enabled and has the
        ``sessions_version`` it was read with (and, when given, the same ``privileges_version``).
        Every write that creates or extends a session carries one."""
        condition = "enabled = :t AND " + _version_is("sessions_version", ":sv", sessions_version)
        values: dict[str, Any] = {":t": v_bool(True), ":sv": v_int(sessions_version)}
        if privileges_version is not None:
            condition += " AND " + _version_is("privileges_version", ":pv", privileges_version)
            values[":pv"] = v_int(privileges_version)
        item = {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": self.key(username),
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
            }
        }
        return Check(Checked.USER, item)


def _version_is(name: str, placeholder: str, value: int) -> str:
    """``name = placeholder``, where an absent attribute counts as 0 (items from before versions).

    DynamoDB cannot compare a placeholder with a constant, so the expected value decides the
    expression: only 0 admits the attribute's absence.
    """
    if value == 0:
        return f"(attribute_not_exists({name}) OR {name} = {placeholder})"
    return f"{name} = {placeholder}"


#: the profile's attributes ``set_profile`` writes (and removes when a user no longer has them)
_PROFILE = ("name", "given_name", "family_name", "attrs")


def _profile_values(user: User) -> dict[str, Any]:
    """The profile attributes ``user`` has set (empty ones are not written)."""
    values: dict[str, Any] = {}
    for name in ("email", "name", "given_name", "family_name"):
        if getattr(user, name):
            values[name] = v_str(getattr(user, name))
    if user.email:
        values["email_verified"] = v_bool(user.email_verified)
    if user.attributes:
        values["attrs"] = {"M": {k: v_str(v) for k, v in user.attributes}}
    return values


def _decode(found: dict[str, Any]) -> User:
    after_ms = as_opt_int(found, "tokens_valid_after_ms")
    if after_ms is None:
        after_ms = as_int(found, "tokens_valid_after") * 1000
    return User(
        username=as_str(found, "username"),
        password_hash=as_str(found, "password_hash"),
        roles=as_strs(found, "roles"),
        scopes=as_strs(found, "scopes"),
        enabled=as_bool(found, "enabled"),
        tokens_valid_after_ms=after_ms,
        created_at=as_int(found, "created_at"),
        sessions_version=as_int(found, "sessions_version"),
        privileges_version=as_int(found, "privileges_version"),
        user_id=as_str(found, "user_id"),
        legacy_subject=as_str(found, "legacy_subject"),
        email=as_str(found, "email"),
        email_verified=as_bool(found, "email_verified"),
        name=as_str(found, "name"),
        given_name=as_str(found, "given_name"),
        family_name=as_str(found, "family_name"),
        attributes=tuple(
            sorted((k, v.get("S", "")) for k, v in (found.get("attrs") or {}).get("M", {}).items())
        ),
    )
