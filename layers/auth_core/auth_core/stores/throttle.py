"""Per-username login throttle, kept in the sessions table.

Item ``throttle#<sha256 hex of username>`` (the username itself is not stored: the table stays
free of login identifiers typed by attackers): ``failures`` N, ``expires_at`` N (now + lockout
window, pushed forward by every failure; also the TTL). While ``failures >= max_failures`` and
``expires_at`` is in the future the account is locked, and even a correct password is refused.
Unknown usernames are counted exactly like known ones, so lockout is no user-enumeration oracle.
The counter is incremented atomically (``ADD``), so parallel guesses cannot slip past it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from auth_core.errors import SlowDownError, TemporarilyUnavailableError
from auth_core.stores._dynamo import as_int, dynamodb, put_or_conflict, run, v_int, v_str

__all__ = ["LoginThrottle"]


class LoginThrottle:
    def __init__(
        self,
        table: str,
        *,
        max_failures: int,
        lockout_seconds: int,
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self._client = client
        self._clock = clock

    @staticmethod
    def _key(username: str) -> dict[str, Any]:
        digest = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()
        return {"pk": v_str(f"throttle#{digest}")}

    def check(self, username: str) -> int:
        """Current failure count (0 if none or expired).

        :raises SlowDownError: the account is locked; ``retry_after`` = seconds left.
        :raises TemporarilyUnavailableError: DynamoDB failed.
        """
        now = int(self._clock())
        item = run(
            self.ddb, "get_item", TableName=self.table, Key=self._key(username), ConsistentRead=True
        ).get("Item")
        if not item or as_int(item, "expires_at") <= now:
            return 0
        failures = as_int(item, "failures")
        if failures >= self.max_failures:
            raise SlowDownError(max(1, as_int(item, "expires_at") - now))
        return failures

    @property
    def ddb(self) -> Any:
        return dynamodb(self._client)

    def record_failure(self, username: str) -> int:
        """Count one failure atomically; returns the new count.

        :raises TemporarilyUnavailableError: DynamoDB failed.
        """
        for _attempt in range(3):
            now = int(self._clock())
            expires = v_int(now + self.lockout_seconds)
            bumped = put_or_conflict(
                self.ddb,
                "update_item",
                TableName=self.table,
                Key=self._key(username),
                UpdateExpression="ADD failures :one SET expires_at = :exp",
                ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                ExpressionAttributeValues={":one": v_int(1), ":exp": expires, ":now": v_int(now)},
                ReturnValues="UPDATED_NEW",
            )
            if bumped is not None:
                return as_int(bumped.get("Attributes") or {}, "failures", 1)
            # Missing or expired (DynamoDB deletes lazily): start a new window. The condition keeps
            # a window a concurrent failure has just started instead of resetting its count.
            started = put_or_conflict(
                self.ddb,
                "put_item",
                TableName=self.table,
                Item={**self._key(username), "failures": v_int(1), "expires_at": expires},
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": v_int(now)},
            )
            if started is not None:
                return 1
        raise TemporarilyUnavailableError(reason="throttle_contention")

    def reset(self, username: str) -> None:
        """Forget the failures after a successful login.

        :raises TemporarilyUnavailableError: DynamoDB failed.
        """
        run(self.ddb, "delete_item", TableName=self.table, Key=self._key(username))
