"""DPoP proofs already seen (RFC 9449 §11.1): ``dpop#<replay key>`` items in the sessions table.

One item per accepted proof, written by a conditional ``PutItem`` that fails when the item is
there: of two requests carrying one proof, whichever instance writes second is refused, across
every Lambda instance and function (``/token`` and the authorizer share the table). The key is
:meth:`auth_core.dpop.DPoPProof.replay_key`, a SHA-256 over the key thumbprint and the ``jti``,
so neither a client's key nor its ``jti`` is stored. ``expires_at`` (the TTL attribute) is when
the proof stops being acceptable anyway (``iat`` + window): after it, the ``iat`` check refuses
the proof, so an item the TTL sweeper has not yet deleted is never needed, but a lingering one
is ignored by the condition too.
"""

from __future__ import annotations

from auth_core.stores._dynamo import TableStore, put_or_conflict, v_int, v_str

__all__ = ["DPOP_PREFIX", "DPoPReplayStore"]

DPOP_PREFIX = "dpop#"


class DPoPReplayStore(TableStore):
    """:class:`auth_core.dpop.ReplayCache` over DynamoDB (one conditional write per proof)."""

    def first_use(self, key: str, expires_at: int) -> bool:
        """Record the proof; ``False`` when it was recorded before and has not expired.

        :raises StoreUnavailableError: DynamoDB failed (the caller refuses the proof).
        """
        done = put_or_conflict(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item={"pk": v_str(DPOP_PREFIX + key), "expires_at": v_int(expires_at)},
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
            ExpressionAttributeValues={":now": v_int(int(self._clock()))},
        )
        return done is not None
