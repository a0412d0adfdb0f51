"""Is a verified access token revoked? Its jti, its session (``sid``), its subject's ``not_before``.

All three facts live in ``REVOCATIONS_TABLE`` (written by ``/revoke``, by session revocation and
by user-level revocation): ``pk = "jti#<jti>"`` marks one revoked token, ``pk = "sid#<sid>"`` a
revoked session (every token whose ``sid`` claim names it), ``pk = "sub#<subject>"`` carries
``not_before`` (tokens of that subject issued earlier are revoked). One ``BatchGetItem`` reads
them (two keys, three when the token has a ``sid``), and the answer is cached per
(jti, subject, sid) for ``REVOCATION_CACHE_TTL`` seconds, so a busy token costs one DynamoDB
read per TTL per execution environment.

Lookups are keyed by jti, sid and subject -- claims that were verified -- never by token bytes: an
ECDSA signature can be re-encoded into a second valid token for the same claims, and a deny list
keyed by token hash would miss that twin (security catalog T-JTI-2 / T-SIG-9).

If DynamoDB fails we fail closed *and loud*: :class:`~auth_core.errors.RevocationStoreError`
propagates to a 500, never an Allow, and never a 401 that would look like a bad token.
Revocation latency seen by an API caller is at most the API Gateway authorizer result TTL plus
``REVOCATION_CACHE_TTL`` (README: "Revocation latency").
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

from auth_core import aws
from auth_core.errors import RevocationStoreError, RevokedTokenError

__all__ = ["RevocationChecker", "RevocationState"]


class RevocationState(NamedTuple):
    jti_revoked: bool
    not_before: float | None
    session_revoked: bool = False


class RevocationChecker:
    """Reads and caches revocation facts.

    :param table: the revocations table name.
    :param ttl: seconds a lookup result is reused (0: every call reads DynamoDB).
    :param clock: monotonic seconds (injectable for tests).
    :param client: a DynamoDB client; default the boto3-free ``auth_core.aws_json.DynamoDB`` in
        Lambda (else ``auth_core.aws.client("dynamodb")``), created on the first
        lookup (so nothing is imported until a verified token needs checking).
    """

    def __init__(
        self,
        table: str,
        *,
        ttl: int = 30,
        clock: Callable[[], float] = time.monotonic,
        client: Any | None = None,
        max_entries: int = 10_000,
    ) -> None:
        self.table = table
        self.ttl = ttl
        self._clock = clock
        self._client = client
        self._max_entries = max_entries
        self._cache: OrderedDict[tuple[str, str, str | None], tuple[RevocationState, float]] = OrderedDict()

    def check(self, *, jti: str, subject: str, issued_at: float, session_id: str | None = None) -> None:
        """Raise if the token is revoked.

        :param session_id: the token's verified ``sid`` claim, if it has one.
        :raises RevokedTokenError: reason ``revoked`` (jti deny-listed), ``revoked_session`` (its
            session was revoked) or ``revoked_subject`` (issued before the subject's ``not_before``).
        :raises RevocationStoreError: the table could not be read.
        """
        state = self.lookup(jti, subject, session_id)
        if state.jti_revoked:
            raise RevokedTokenError("token revoked", reason="revoked")
        if state.session_revoked:
            raise RevokedTokenError("token's session revoked", reason="revoked_session")
        if state.not_before is not None and issued_at < state.not_before:
            raise RevokedTokenError("token predates the subject's revocation", reason="revoked_subject")

    def lookup(self, jti: str, subject: str, session_id: str | None = None) -> RevocationState:
        """The (cached) revocation facts for ``jti``, ``subject`` and ``session_id``.

        :raises RevocationStoreError: the table could not be read.
        """
        key = (jti, subject, session_id)
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and now - cached[1] < self.ttl:
            return cached[0]
        state = self._fetch(jti, subject, session_id)
        if self.ttl > 0:
            self._cache[key] = (state, now)
            self._cache.move_to_end(key)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return state

    def clear(self) -> None:
        self._cache.clear()

    def _client_and_errors(self) -> tuple[Any, tuple[type[Exception], ...]]:
        """The DynamoDB client, and the exceptions that mean "this call failed".

        Default: the boto3-free client (:mod:`auth_core.aws_json`) when
        :func:`auth_core.aws.lean_preferred` (env credentials in Lambda, no injected client) --
        botocore's import is ~250 ms of cold start; else boto3, whose exception classes are then
        imported with it.
        """
        from auth_core import aws_json  # noqa: PLC0415 - only when a verified token needs a lookup

        if self._client is None and aws.lean_preferred("dynamodb"):
            self._client = aws_json.DynamoDB()
        client = self._client if self._client is not None else aws.client("dynamodb")
        if isinstance(client, aws_json.DynamoDB):
            return client, aws_json.DynamoDB.errors
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - loaded with boto3

        return client, (BotoCoreError, ClientError)

    def _fetch(self, jti: str, subject: str, session_id: str | None) -> RevocationState:
        jti_pk, sub_pk = f"jti#{jti}", f"sub#{subject}"
        sid_pk = None if session_id is None else f"sid#{session_id}"
        keys = [{"pk": {"S": jti_pk}}, {"pk": {"S": sub_pk}}]
        if sid_pk is not None:
            keys.append({"pk": {"S": sid_pk}})
        request: dict[str, Any] = {self.table: {"Keys": keys, "ProjectionExpression": "pk, not_before"}}
        items: list[dict[str, Any]] = []
        client, errors = self._client_and_errors()

        try:
            for _attempt in range(2):
                response = client.batch_get_item(RequestItems=request)
                items.extend(response.get("Responses", {}).get(self.table, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        except errors as exc:
            raise RevocationStoreError("revocation table unavailable") from exc
        if request:
            raise RevocationStoreError("revocation lookup throttled")
        jti_revoked, not_before, session_revoked = False, None, False
        try:
            for item in items:
                pk = item["pk"]["S"]
                if pk == jti_pk:
                    jti_revoked = True
                elif pk == sid_pk:
                    session_revoked = True
                elif pk == sub_pk and "not_before" in item:
                    not_before = float(item["not_before"]["N"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RevocationStoreError("malformed revocation item") from exc
        return RevocationState(jti_revoked, not_before, session_revoked)
