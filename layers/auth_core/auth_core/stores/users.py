"""The users table (hash key ``username``).

Item: ``username`` S, ``password_hash`` S (Argon2id PHC), ``roles`` L, ``scopes`` L, ``enabled``
BOOL, ``tokens_valid_after`` N (epoch seconds: sessions and access tokens older than this are
dead), ``created_at`` / ``updated_at`` N.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auth_core.errors import InvalidRequestError
from auth_core.stores._dynamo import (
    TableStore,
    as_bool,
    as_int,
    as_str,
    as_strs,
    put_or_conflict,
    run,
    v_bool,
    v_int,
    v_str,
    v_strs,
)

__all__ = ["User", "UserStore"]


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    enabled: bool = True
    tokens_valid_after: int = 0
    created_at: int = 0


class UserStore(TableStore):
    """Read and change users. Writes are conditional on the item existing (or not)."""

    def key(self, username: str) -> dict[str, Any]:
        return {"username": v_str(username)}

    def get(self, username: str) -> User | None:
        """The user, or ``None`` (strongly consistent: a disable must take effect at once).

        :raises TemporarilyUnavailableError: DynamoDB failed.
        """
        item = run(self.ddb, "get_item", TableName=self.table, Key=self.key(username), ConsistentRead=True)
        found = item.get("Item")
        if not found:
            return None
        return User(
            username=as_str(found, "username"),
            password_hash=as_str(found, "password_hash"),
            roles=as_strs(found, "roles"),
            scopes=as_strs(found, "scopes"),
            enabled=as_bool(found, "enabled"),
            tokens_valid_after=as_int(found, "tokens_valid_after"),
            created_at=as_int(found, "created_at"),
        )

    def create(self, user: User) -> None:
        """Insert a new user.

        :raises InvalidRequestError: the username is taken.
        """
        now = int(self._clock())
        item = {
            "username": v_str(user.username),
            "password_hash": v_str(user.password_hash),
            "roles": v_strs(user.roles),
            "scopes": v_strs(user.scopes),
            "enabled": v_bool(user.enabled),
            "tokens_valid_after": v_int(user.tokens_valid_after),
            "created_at": v_int(user.created_at or now),
            "updated_at": v_int(now),
        }
        done = put_or_conflict(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item=item,
            ConditionExpression="attribute_not_exists(username)",
        )
        if done is None:
            raise InvalidRequestError("user exists", reason="user_exists")

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

    def set_enabled(self, username: str, enabled: bool) -> bool:
        """Enable or disable; ``False`` when the user does not exist."""
        return self._update(username, "SET enabled = :e", {":e": v_bool(enabled)})

    def set_password_hash(self, username: str, new_hash: str, *, expected: str | None = None) -> bool:
        """Store a new hash; with ``expected``, only if the stored hash is still that one (rehash on
        login must not overwrite a password change that happened meanwhile)."""
        values: dict[str, Any] = {":h": v_str(new_hash)}
        condition = ""
        if expected is not None:
            values[":old"] = v_str(expected)
            condition = "password_hash = :old"
        return self._update(username, "SET password_hash = :h", values, condition)

    def set_scopes_roles(self, username: str, scopes: Iterable[str], roles: Iterable[str]) -> bool:
        """Replace the user's allowed scopes and roles; ``False`` when the user does not exist."""
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key=self.key(username),
            UpdateExpression="SET scopes = :s, #r = :r, updated_at = :now",
            ConditionExpression="attribute_exists(username)",
            ExpressionAttributeNames={"#r": "roles"},
            ExpressionAttributeValues={
                ":s": v_strs(scopes),
                ":r": v_strs(roles),
                ":now": v_int(int(self._clock())),
            },
        )
        return done is not None

    def bump_tokens_valid_after(self, username: str, at: int) -> bool:
        """Move ``tokens_valid_after`` forward to ``at`` (never backwards)."""
        return (
            self._update(
                username,
                "SET tokens_valid_after = :t",
                {":t": v_int(at)},
                "(attribute_not_exists(tokens_valid_after) OR tokens_valid_after < :t)",
            )
            or self.get(username) is not None
        )

    def condition_check(self, username: str, family_created_at: int) -> dict[str, Any]:
        """A ``TransactWriteItems`` ``ConditionCheck``: the user exists, is enabled and has not
        logged out everywhere since ``family_created_at``. Lets a refresh re-check the user inside
        its one write transaction instead of spending a read."""
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": self.key(username),
                "ConditionExpression": "enabled = :t AND (attribute_not_exists(tokens_valid_after) "
                "OR tokens_valid_after <= :c)",
                "ExpressionAttributeValues": {":t": v_bool(True), ":c": v_int(family_created_at)},
            }
        }
