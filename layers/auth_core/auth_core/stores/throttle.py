"""Login throttling that protects an account without handing out lock-outs (sessions table).

See docs/threat-model.md T-ACC-2.

Two limits, both taken **before** a password is hashed, each one conditional write (a guess
that loses the race is refused, so no interleaving lets more guesses through than the limits):

``throttle#<h(user)>#<epoch>#<h(user, address)>`` -- per username *and* source address
    ``attempts`` N within a window of ``window`` seconds (``expires_at`` N, also the TTL). At most
    ``per_address`` attempts per window: an attacker flooding from one address is stopped there,
    and the victim logging in from another address is not affected by it. A successful login
    deletes the item (the counter counts attempts, not failures, so that concurrent guesses
    cannot all pass a check-then-count race).

``throttle#<h(user)>`` -- per username, whatever the address: a token bucket (GCRA) that lets
    ``user_burst`` attempts through at once and then one every ``3600 / user_rate`` seconds, so a
    distributed guesser gets at most ``user_burst + user_rate`` guesses an hour. Beyond that
    every attempt must wait for its slot (``Retry-After``): the account slows down, it is never
    locked. The item also holds the ``epoch`` that names the per-address counters, so
    :meth:`LoginThrottle.unlock` (``authctl users unlock``, a password change, an enable) voids all of
    them at once without knowing the addresses.

Usernames and addresses are stored only as SHA-256 hashes (the table stays free of login
identifiers typed by attackers). Unknown usernames are throttled exactly like known ones, so the
throttle is no enumeration oracle. Numbers (defaults): 5 attempts per address per 5 minutes; 20 at
once then 100 an hour per username.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auth_core.errors import SlowDownError, StoreUnavailableError
from auth_core.stores._dynamo import as_int, dynamodb, put_or_conflict, run, v_int, v_str

__all__ = ["LoginThrottle", "ThrottleLimits"]

_CAS_ATTEMPTS = 5


def _h(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ThrottleLimits:
    """:ivar per_address: attempts per (username, address) per ``window`` seconds.
    :ivar user_rate: sustained attempts per username per hour, across all addresses.
    :ivar user_burst: attempts per username allowed at once before the rate applies."""

    per_address: int = 5
    window: int = 300
    user_rate: int = 100
    user_burst: int = 20

    @property
    def interval_ms(self) -> int:
        """The per-username slot: one attempt every this many milliseconds once the burst is spent."""
        return max(1, 3_600_000 // self.user_rate)


class LoginThrottle:
    def __init__(
        self,
        table: str,
        *,
        limits: ThrottleLimits | None = None,
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self.limits = limits or ThrottleLimits()
        self._client = client
        self._clock = clock

    @property
    def ddb(self) -> Any:
        return dynamodb(self._client)

    # ------------------------------------------------------------------ the login path
    def take(self, username: str, source: str | None) -> None:
        """Spend one attempt for ``username`` from ``source`` (the caller's address, if known),
        before any hashing.

        :raises SlowDownError: a limit is reached; ``retry_after`` = seconds until the next try.
        :raises StoreUnavailableError: DynamoDB failed, or contention persisted.
        """
        epoch, tat = self._user_state(username)
        self._take_address(username, source, epoch)
        self._take_user(username, epoch, tat)

    def succeeded(self, username: str, source: str | None) -> None:
        """A login succeeded: forget this address's attempts and give the attempt back to the
        per-username bucket (it limits guesses, not the owner's own logins: a script or a test
        that logs in a hundred times an hour is not slowed down by it).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        epoch, tat = self._user_state(username)
        run(self.ddb, "delete_item", TableName=self.table, Key=self._address_key(username, source, epoch))
        if tat:
            put_or_conflict(  # best effort: a concurrent attempt that moved tat keeps its own slot
                self.ddb,
                "update_item",
                TableName=self.table,
                Key=self._user_key(username),
                UpdateExpression="SET tat = :new",
                ConditionExpression="tat = :old",
                ExpressionAttributeValues={
                    ":new": v_int(max(0, tat - self.limits.interval_ms)),
                    ":old": v_int(tat),
                },
            )

    def unlock(self, username: str) -> None:
        """Clear every throttle of ``username``: a new epoch voids all per-address counters, and
        the bucket is full again.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        run(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key=self._user_key(username),
            UpdateExpression="SET epoch = if_not_exists(epoch, :zero) + :one, tat = :zero",
            ExpressionAttributeValues={":zero": v_int(0), ":one": v_int(1)},
        )

    def address_attempts(self, username: str, source: str | None) -> int:
        """Attempts counted for (``username``, ``source``) in the current window (tests, tooling)."""
        epoch, _tat = self._user_state(username)
        item = run(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key=self._address_key(username, source, epoch),
            ConsistentRead=True,
        ).get("Item")
        if not item or as_int(item, "expires_at") <= int(self._clock()):
            return 0
        return as_int(item, "attempts")

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _user_key(username: str) -> dict[str, Any]:
        return {"pk": v_str(f"throttle#{_h(username)}")}

    @staticmethod
    def _address_key(username: str, source: str | None, epoch: int) -> dict[str, Any]:
        return {"pk": v_str(f"throttle#{_h(username)}#{epoch}#{_h(username, source or '-')}")}

    def _user_state(self, username: str) -> tuple[int, int]:
        item = run(
            self.ddb, "get_item", TableName=self.table, Key=self._user_key(username), ConsistentRead=True
        ).get("Item")
        return (as_int(item, "epoch"), as_int(item, "tat")) if item else (0, 0)

    def _take_address(self, username: str, source: str | None, epoch: int) -> None:
        limits = self.limits
        for _attempt in range(_CAS_ATTEMPTS):
            now = int(self._clock())
            key = self._address_key(username, source, epoch)
            counted = put_or_conflict(  # within a live window and under the limit: count it
                self.ddb,
                "update_item",
                TableName=self.table,
                Key=key,
                UpdateExpression="ADD attempts :one",
                ConditionExpression="expires_at > :now AND attempts < :max",
                ExpressionAttributeValues={
                    ":one": v_int(1),
                    ":now": v_int(now),
                    ":max": v_int(limits.per_address),
                },
            )
            if counted is not None:
                return
            started = put_or_conflict(  # no live window (missing or expired): start one
                self.ddb,
                "put_item",
                TableName=self.table,
                Item={**key, "attempts": v_int(1), "expires_at": v_int(now + limits.window)},
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": v_int(now)},
            )
            if started is not None:
                return
            # A live window exists, so the first write failed on the limit -- unless the window
            # expired or was started between the two writes: read it and decide.
            item = run(self.ddb, "get_item", TableName=self.table, Key=key, ConsistentRead=True).get("Item")
            if item and as_int(item, "expires_at") > now and as_int(item, "attempts") >= limits.per_address:
                raise SlowDownError(max(1, as_int(item, "expires_at") - now), reason="throttled_address")
        raise StoreUnavailableError(reason="throttle_contention")

    def _take_user(self, username: str, epoch: int, tat: int) -> None:
        """GCRA: the bucket's "theoretical arrival time" ``tat`` moves one interval per attempt;
        an attempt is allowed while ``tat`` is at most ``burst`` intervals ahead of now."""
        limits = self.limits
        interval = limits.interval_ms
        tolerance = interval * (limits.user_burst - 1)
        for _attempt in range(_CAS_ATTEMPTS):
            now = int(self._clock() * 1000)
            start = max(tat, now)
            if start - now > tolerance:
                raise SlowDownError(max(1, -(-(start - now - tolerance) // 1000)), reason="throttled_user")
            moved = put_or_conflict(  # compare-and-swap on the tat this decision was made from
                self.ddb,
                "update_item",
                TableName=self.table,
                Key=self._user_key(username),
                UpdateExpression="SET tat = :new, epoch = if_not_exists(epoch, :zero), expires_at = :exp",
                ConditionExpression="attribute_not_exists(tat) OR tat = :old",
                ExpressionAttributeValues={
                    ":new": v_int(start + interval),
                    ":old": v_int(tat),
                    ":zero": v_int(0),
                    ":exp": v_int((start + interval) // 1000 + 86400),
                },
            )
            if moved is not None:
                return
            _epoch, tat = self._user_state(username)  # another attempt moved it: recompute
        raise StoreUnavailableError(reason="throttle_contention")
