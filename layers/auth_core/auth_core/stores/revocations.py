"""The revocations table (hash key ``pk``): what the authorizer must refuse before ``exp``.

``jti#<jti>`` -- one revoked access token; ``expires_at`` = the token's ``exp`` (TTL: once the
token has expired on its own the entry is useless).
``sub#<subject>`` -- ``not_before`` N: tokens of that subject with ``iat < not_before`` are revoked
(the mirror of the user's ``tokens_valid_after``, so the authorizer never reads the users table);
``expires_at`` = ``not_before`` + the longest access-token lifetime + leeway.
``sid#<session id>`` -- a revoked session (refresh-token family): every access token whose ``sid``
claim names it is revoked. Written in the same transaction that marks the family revoked;
``expires_at`` = revocation time + the longest access-token lifetime + leeway, by when every
access token of the session has expired on its own.

"Leeway" here is :data:`MAX_CLOCK_LEEWAY`, the largest ``CLOCK_LEEWAY`` a verifier may be
configured with, not the writer's own setting: an operator's ``authctl`` with default settings
must not write an entry that expires while a deployed authorizer still accepts the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auth_core.errors import TemporarilyUnavailableError
from auth_core.stores._dynamo import Item, TableStore, as_int, as_str, put_or_conflict, run, v_int, v_str

__all__ = ["MAX_CLOCK_LEEWAY", "RevocationFacts", "RevocationStore"]

#: Upper bound of ``Settings.leeway`` (``CLOCK_LEEWAY``): how long past ``exp`` a verifier may
#: still accept a token.
MAX_CLOCK_LEEWAY = 300


@dataclass(frozen=True)
class RevocationFacts:
    """What the revocations table says about one token: its jti, its session, its subject."""

    jti_revoked: bool = False
    session_revoked: bool = False
    not_before: int = 0


class RevocationStore(TableStore):
    def revoke_jti(self, jti: str, expires_at: int) -> None:
        """Deny-list one access token until its ``exp``.

        :raises TemporarilyUnavailableError: DynamoDB failed.
        """
        run(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item=self._deny_item(f"jti#{jti}", expires_at),
        )

    def jti_put(self, jti: str, expires_at: int) -> Item:
        """The ``TransactWriteItems`` element of :meth:`revoke_jti` (for a caller's transaction)."""
        return {"Put": {"TableName": self.table, "Item": self._deny_item(f"jti#{jti}", expires_at)}}

    def session_put(self, session_id: str, expires_at: int) -> Item:
        """A ``TransactWriteItems`` ``Put`` revoking every access token whose ``sid`` is ``session_id``.

        Unconditional: writing it twice is harmless, and it must never fail the transaction that
        revokes the session itself.
        """
        return {"Put": {"TableName": self.table, "Item": self._deny_item(f"sid#{session_id}", expires_at)}}

    def _deny_item(self, pk: str, expires_at: int) -> Item:
        return {"pk": v_str(pk), "expires_at": v_int(expires_at), "revoked_at": v_int(int(self._clock()))}

    def is_session_revoked(self, session_id: str) -> bool:
        """True while a deny entry for session ``session_id`` exists and has not expired."""
        key = {"pk": v_str(f"sid#{session_id}")}
        item = run(self.ddb, "get_item", TableName=self.table, Key=key).get("Item")
        return bool(item) and as_int(item, "expires_at") > int(self._clock())

    def is_jti_revoked(self, jti: str) -> bool:
        """True while a deny entry for ``jti`` exists and has not expired."""
        item = run(self.ddb, "get_item", TableName=self.table, Key={"pk": v_str(f"jti#{jti}")}).get("Item")
        return bool(item) and as_int(item, "expires_at") > int(self._clock())

    def set_not_before(self, subject: str, not_before: int, *, max_token_lifetime: int) -> None:
        """Revoke every access token of ``subject`` issued before ``not_before``.

        :raises TemporarilyUnavailableError: DynamoDB failed.
        """
        put_or_conflict(  # a failed condition means a later not_before is already in place
            self.ddb,
            "update_item",
            TableName=self.table,
            Key={"pk": v_str(f"sub#{subject}")},
            UpdateExpression="SET not_before = :nb, expires_at = :exp",
            ConditionExpression="attribute_not_exists(not_before) OR not_before < :nb",
            ExpressionAttributeValues={
                ":nb": v_int(not_before),
                ":exp": v_int(not_before + max_token_lifetime + MAX_CLOCK_LEEWAY),
            },
        )

    def not_before(self, subject: str) -> int:
        """The subject's ``not_before`` (0 if none)."""
        key = {"pk": v_str(f"sub#{subject}")}
        item = run(self.ddb, "get_item", TableName=self.table, Key=key).get("Item")
        return as_int(item or {}, "not_before")

    def facts(
        self, *, subject: str, jti: str | None = None, session_id: str | None = None
    ) -> RevocationFacts:
        """The ``jti#``, ``sid#`` and ``sub#`` entries, in one strongly consistent ``BatchGetItem``.

        Consistent reads, unlike the authorizer's cached eventually consistent lookup: a client
        that revokes a token and then introspects it must see it inactive. An entry's existence
        is what counts (as in the authorizer): it is written to expire no earlier than the token.

        :raises TemporarilyUnavailableError: DynamoDB failed or kept keys unprocessed.
        """
        wanted = {f"sub#{subject}"}
        if jti is not None:
            wanted.add(f"jti#{jti}")
        if session_id is not None:
            wanted.add(f"sid#{session_id}")
        request: dict[str, Any] = {
            self.table: {
                "Keys": [{"pk": v_str(pk)} for pk in sorted(wanted)],
                "ConsistentRead": True,
                "ProjectionExpression": "pk, not_before",
            }
        }
        items: list[dict[str, Any]] = []
        for _attempt in range(3):
            response = run(self.ddb, "batch_get_item", RequestItems=request)
            items.extend(response.get("Responses", {}).get(self.table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise TemporarilyUnavailableError(reason="revocations_unprocessed")
        found = {as_str(item, "pk"): item for item in items}
        sub = found.get(f"sub#{subject}")
        return RevocationFacts(
            jti_revoked=jti is not None and f"jti#{jti}" in found,
            session_revoked=session_id is not None and f"sid#{session_id}" in found,
            not_before=as_int(sub, "not_before") if sub is not None else 0,
        )
