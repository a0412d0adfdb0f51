"""The revocations table (hash key ``pk``): what verifiers must refuse before a token's ``exp``.

Every item is also an entry of the **revocation feed**: it carries ``feed = "rev"`` and
``changed_ms`` (the writer's epoch milliseconds), the keys of the ``Feed`` global secondary
index. A verifier loads the whole feed once, then asks every few seconds for what changed since
(:mod:`auth_core.revocation_feed`); a first-sight token then costs no DynamoDB call at all.

==================  ==========================================================================
item                meaning
==================  ==========================================================================
``jti#<jti>``       one revoked access token; ``expires_at`` = its ``exp``.
``sid#<sid>``       a revoked session (refresh-token family): every access token whose ``sid``
                    names it; written in the transaction that marks the family revoked.
``sub#<subject>``   ``not_before`` N (epoch seconds): the subject's tokens with ``iat`` earlier
                    are revoked (log out everywhere, password reset, disable). The mirror of the
                    user's ``tokens_valid_after_ms``, so verifiers never read the users table.
``cli#<client_id>`` ``not_before`` N and ``disabled`` BOOL: a disabled client's tokens are all
                    refused; once re-enabled, those issued before ``not_before`` stay refused.
``kid#<kid>``       a revoked signing key: no token it signed is accepted, cached or not.
``all#``            ``not_before`` N and ``cutoff_ms`` N: every token issued earlier is refused,
                    and every refresh-token session created earlier is dead (whole-secret
                    compromise, ``authctl keys revoke --all``). Never expires.
==================  ==========================================================================

Cut-offs are kept in milliseconds where they are decided (``cutoff_ms``, the users' and
sessions' ``*_ms`` fields) and rounded **up** to whole seconds for ``not_before``, which is
compared with the integer ``iat`` as ``iat < not_before``: a token issued in the same second as
a cut-off, before or after it, is refused. The issuer never signs such a token in the first
place: it waits for the next second (:meth:`auth_core.oauth.grants.TokenService._issue`), so a
login that *follows* a reset is never refused by it.

``expires_at`` is the TTL attribute: by then every token the entry could refuse has expired on
its own, so the feed stays as small as the set of live revocations. "Leeway" in the expiry is
:data:`MAX_CLOCK_LEEWAY`, the largest ``CLOCK_LEEWAY`` a verifier may be configured with, not the
writer's own setting: an operator's ``authctl`` must not write an entry that expires while a
deployed verifier still accepts the token. For the same reason the cut-offs (``sub#``, ``cli#``)
and revoked keys (``kid#``) are kept for the longest lifetime any deployment may configure
(``LONGEST_ACCESS_TOKEN_LIFETIME``, 24 h), not the writer's ``MAX_ACCESS_TOKEN_LIFETIME``: they
are rare, operator-driven entries, and a feed that forgets one early would accept the tokens again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from auth_core.errors import StoreUnavailableError
from auth_core.settings import LONGEST_ACCESS_TOKEN_LIFETIME
from auth_core.stores._dynamo import (
    Item,
    TableStore,
    as_bool,
    as_int,
    as_opt_int,
    as_str,
    put_or_conflict,
    run,
    v_bool,
    v_int,
    v_str,
)
from auth_core.stores.interfaces import Check, Checked, Write

__all__ = [
    "FEED_INDEX",
    "MAX_CLOCK_LEEWAY",
    "RevocationEntry",
    "RevocationFacts",
    "RevocationStore",
    "ceil_seconds",
]

#: Upper bound of ``Settings.leeway`` (``CLOCK_LEEWAY``): how long past ``exp`` a verifier may
#: still accept a token.
MAX_CLOCK_LEEWAY = 300
#: The global secondary index every verifier polls (hash ``feed``, range ``changed_ms``).
FEED_INDEX = "Feed"
#: The one value of the index's hash key (a constant: revocations are rare writes).
FEED = "rev"
#: The one item of the global cut-off.
GLOBAL_PK = "all#"
#: Every kind of entry (the key prefixes); an item with another key is not an entry.
KINDS = frozenset({"jti", "sid", "sub", "cli", "kid", "all"})


def ceil_seconds(ms: int) -> int:
    """Milliseconds rounded up to whole seconds: the ``not_before`` of a cut-off at ``ms``."""
    return -(-int(ms) // 1000)


class RevocationFacts(NamedTuple):  # not a dataclass: on the authorizer's cold path, see docs/architecture.md
    """Everything the revocation rules need about one token; :meth:`reason` *is* the rules.

    Built by the feed (from memory) and by :meth:`RevocationStore.facts` (a consistent read),
    so the authorizer and introspection refuse exactly the same tokens.
    """

    jti_revoked: bool = False
    session_revoked: bool = False
    kid_revoked: bool = False
    client_disabled: bool = False
    #: the latest of the subject's, the client's and the global ``not_before`` (epoch seconds)
    not_before: int = 0

    def reason(self, issued_at: float) -> str | None:
        """``None`` if a token issued at ``issued_at`` stands, else why it is revoked."""
        if self.kid_revoked:
            return "revoked_key"
        if self.jti_revoked:
            return "revoked"
        if self.session_revoked:
            return "revoked_session"
        if self.client_disabled:
            return "revoked_client"
        if issued_at < self.not_before:
            return "revoked_subject"
        return None


class RevocationEntry(NamedTuple):  # not a dataclass: on the authorizer's cold path, see docs/architecture.md
    """One item of the revocations table, decoded: the one result type of every read of it (the
    feed's index query, introspection's consistent batch read, the point reads).

    ``kind`` is the key prefix (``jti``, ``sid``, ``sub``, ``cli``, ``kid``, ``all``), ``key``
    what follows the ``#``.
    """

    kind: str
    key: str
    changed_ms: int
    expires_at: int | None
    not_before: int = 0
    disabled: bool = False
    #: the cut-off in epoch ms (``sub``, ``cli``, ``all``; 0 for the other kinds)
    cutoff_ms: int = 0

    @property
    def pk(self) -> str:
        return f"{self.kind}#{self.key}"


class RevocationStore(TableStore):
    # ------------------------------------------------------------------ writes
    def _entry(self, pk: str, expires_at: int | None, **extra: dict[str, Any]) -> Item:
        now = self._clock()
        item: Item = {
            "pk": v_str(pk),
            "feed": v_str(FEED),
            "changed_ms": v_int(int(now * 1000)),
            "revoked_at": v_int(int(now)),
            **extra,
        }
        if expires_at is not None:
            item["expires_at"] = v_int(expires_at)
        return item

    def revoke_jti(self, jti: str, expires_at: int) -> None:
        """Deny-list one access token until its ``exp``.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        run(self.ddb, "put_item", TableName=self.table, Item=self._entry(f"jti#{jti}", expires_at))

    def jti_write(self, jti: str, expires_at: int) -> Write:
        """:meth:`revoke_jti` as a step of a session transaction."""
        return Write({"Put": {"TableName": self.table, "Item": self._entry(f"jti#{jti}", expires_at)}})

    def session_write(self, session_id: str, expires_at: int) -> Write:
        """Refuse every access token whose ``sid`` is ``session_id``, as a step of the transaction
        that revokes the session (:meth:`auth_core.stores.sessions.SessionStore.revoke_family`)."""
        return Write(self.session_put(session_id, expires_at))

    def session_put(self, session_id: str, expires_at: int) -> Item:
        """The ``TransactWriteItems`` ``Put`` of :meth:`session_write` (DynamoDB only).

        Unconditional: writing it twice is harmless, and it must never fail the transaction that
        revokes the session itself.
        """
        return {"Put": {"TableName": self.table, "Item": self._entry(f"sid#{session_id}", expires_at)}}

    def _cutoff(self, pk: str, at_ms: int, expires_at: int | None, *, disabled: bool | None = None) -> None:
        """Move ``pk``'s ``not_before`` forward to ``ceil(at_ms)`` (never back); set ``disabled``."""
        not_before = ceil_seconds(at_ms)
        names = {"#f": "feed"}
        sets = ["#f = :feed", "changed_ms = :ch", "revoked_at = :ra", "cutoff_ms = :ms", "not_before = :nb"]
        values: dict[str, Any] = {
            ":feed": v_str(FEED),
            ":ch": v_int(int(self._clock() * 1000)),
            ":ra": v_int(int(self._clock())),
            ":ms": v_int(at_ms),
            ":nb": v_int(not_before),
        }
        if disabled is not None:
            sets.append("disabled = :d")
            values[":d"] = v_bool(disabled)
        remove = ""
        if expires_at is None:
            remove = " REMOVE expires_at"
        else:
            sets.append("expires_at = :exp")
            values[":exp"] = v_int(expires_at)
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key={"pk": v_str(pk)},
            UpdateExpression="SET " + ", ".join(sets) + remove,
            ConditionExpression="attribute_not_exists(cutoff_ms) OR cutoff_ms <= :ms",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        if done is None and disabled is not None:
            # a later cut-off is already in place: still record the disabled flag
            run(
                self.ddb,
                "update_item",
                TableName=self.table,
                Key={"pk": v_str(pk)},
                UpdateExpression="SET disabled = :d, changed_ms = :ch" + remove,
                ExpressionAttributeValues={":d": v_bool(disabled), ":ch": values[":ch"]},
            )

    def set_user_cutoff(self, subject: str, at_ms: int, *, max_token_lifetime: int) -> None:
        """Revoke every access token of ``subject`` issued before ``at_ms`` (rounded up).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        self._cutoff(f"sub#{subject}", at_ms, cutoff_expiry(at_ms, max_token_lifetime))

    def set_client_state(
        self, client_id: str, at_ms: int, *, disabled: bool, max_token_lifetime: int
    ) -> None:
        """A client disabled (all its tokens refused, no expiry while disabled) or re-enabled
        (tokens issued before ``at_ms`` stay refused until they expire).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        until = None if disabled else cutoff_expiry(at_ms, max_token_lifetime)
        self._cutoff(f"cli#{client_id}", at_ms, until, disabled=disabled)

    def revoke_signing_keys(self, kids: Iterable[str], *, until: int) -> None:
        """Put revoked signing-key ids in the feed until ``until`` (epoch seconds: by then every
        token they could have signed has expired).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        for kid in sorted(set(kids)):
            run(self.ddb, "put_item", TableName=self.table, Item=self._entry(f"kid#{kid}", until))

    def set_global_cutoff(self, at_ms: int) -> None:
        """Refuse every token issued before ``at_ms`` and end every session created before it.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        self._cutoff(GLOBAL_PK, at_ms, None)

    def no_global_cutoff_since(self, session_created_ms: int) -> Check:
        """A session transaction's check: no global cut-off after the session began.

        Refresh transactions carry it, so ``keys revoke --all`` ends every session atomically
        with respect to each refresh (no family scan).
        """
        item = {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": {"pk": v_str(GLOBAL_PK)},
                "ConditionExpression": "attribute_not_exists(cutoff_ms) OR cutoff_ms <= :c",
                "ExpressionAttributeValues": {":c": v_int(session_created_ms)},
            }
        }
        return Check(Checked.GLOBAL_CUTOFF, item)

    # ------------------------------------------------------------------ reads
    def global_cutoff_ms(self) -> int:
        """The global cut-off in epoch ms (0 if none); strongly consistent."""
        found = self.entries([GLOBAL_PK]).get(GLOBAL_PK)
        return found.cutoff_ms if found is not None else 0

    def not_before(self, subject: str) -> int:
        """The subject's ``not_before`` (0 if none); strongly consistent."""
        pk = f"sub#{subject}"
        found = self.entries([pk]).get(pk)
        return found.not_before if found is not None else 0

    def entries(self, pks: Iterable[str]) -> dict[str, RevocationEntry]:
        """The entries with keys ``pks`` that exist, by key: one strongly consistent read
        (``GetItem`` for one key, else ``BatchGetItem``).

        :raises StoreUnavailableError: DynamoDB failed or kept keys unprocessed.
        """
        wanted = sorted(set(pks))
        if not wanted:
            return {}
        if len(wanted) == 1:
            key = {"pk": v_str(wanted[0])}
            item = run(self.ddb, "get_item", TableName=self.table, Key=key, ConsistentRead=True).get("Item")
            items = [item] if item else []
        else:
            items = self._batch_get(wanted)
        decoded = (_entry(item) for item in items)
        return {entry.pk: entry for entry in decoded if entry is not None}

    def _batch_get(self, pks: list[str]) -> list[Item]:
        request: dict[str, Any] = {
            self.table: {"Keys": [{"pk": v_str(pk)} for pk in pks], "ConsistentRead": True}
        }
        items: list[Item] = []
        for _attempt in range(3):
            response = run(self.ddb, "batch_get_item", RequestItems=request)
            items.extend(response.get("Responses", {}).get(self.table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
        raise StoreUnavailableError(reason="revocations_unprocessed")

    def facts(
        self,
        *,
        subject: str,
        jti: str | None = None,
        session_id: str | None = None,
        client_id: str | None = None,
        kid: str | None = None,
    ) -> RevocationFacts:
        """Every entry that bears on one token, in one strongly consistent ``BatchGetItem``.

        Consistent reads, unlike the feed: a client that revokes a token and then introspects it
        must see it inactive at once. An entry's existence is what counts (it is written to
        expire no earlier than the tokens it refuses).

        :raises StoreUnavailableError: DynamoDB failed or kept keys unprocessed.
        """
        keys = token_keys(subject=subject, jti=jti, session_id=session_id, client_id=client_id, kid=kid)
        return facts_of(keys, self.entries(keys.values()))

    def feed_since(self, since_ms: int, *, client: Any | None = None) -> Iterator[RevocationEntry]:
        """Every feed entry changed at or after ``since_ms`` (all pages of the ``Feed`` index).

        Eventually consistent (a GSI): :mod:`auth_core.revocation_feed` re-reads an overlap to
        cover the index's propagation delay. ``client`` overrides the store's client (the
        authorizer passes its boto3-free one).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        ddb = client if client is not None else self.ddb
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": FEED_INDEX,
            "KeyConditionExpression": "feed = :f AND changed_ms >= :w",
            "ExpressionAttributeValues": {":f": v_str(FEED), ":w": v_int(max(0, since_ms))},
        }
        while True:
            page = run(ddb, "query", **kwargs)
            for item in page.get("Items", []):
                entry = _entry(item)
                if entry is not None:
                    yield entry
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last


def token_keys(
    *,
    subject: str,
    jti: str | None = None,
    session_id: str | None = None,
    client_id: str | None = None,
    kid: str | None = None,
) -> dict[str, str]:
    """Kind -> key of every entry that bears on one token (the global cut-off included)."""
    return {
        "sub": f"sub#{subject}",
        "all": GLOBAL_PK,
        **({"jti": f"jti#{jti}"} if jti is not None else {}),
        **({"sid": f"sid#{session_id}"} if session_id is not None else {}),
        **({"cli": f"cli#{client_id}"} if client_id is not None else {}),
        **({"kid": f"kid#{kid}"} if kid is not None else {}),
    }


def facts_of(keys: Mapping[str, str], found: Mapping[str, RevocationEntry]) -> RevocationFacts:
    """The facts about one token from the entries ``found`` (by key) among its :func:`token_keys`.

    An entry's existence is what counts: it is written to expire no earlier than the tokens it
    refuses.
    """

    def nb(kind: str) -> int:
        entry = found.get(keys.get(kind, ""))
        return entry.not_before if entry is not None else 0

    client = found.get(keys.get("cli", ""))
    return RevocationFacts(
        jti_revoked=keys.get("jti") in found,
        session_revoked=keys.get("sid") in found,
        kid_revoked=keys.get("kid") in found,
        client_disabled=client is not None and client.disabled,
        not_before=max(nb("sub"), nb("cli"), nb("all")),
    )


def cutoff_expiry(at_ms: int, max_token_lifetime: int) -> int:
    """When a cut-off at ``at_ms`` may leave the feed: every token it refuses has expired by then,
    under the longest lifetime any deployment may configure and the largest leeway."""
    return ceil_seconds(at_ms) + max(max_token_lifetime, LONGEST_ACCESS_TOKEN_LIFETIME) + MAX_CLOCK_LEEWAY


def _entry(item: Item) -> RevocationEntry | None:
    """The one decoder of a revocations item (``None``: not an entry)."""
    kind, sep, key = as_str(item, "pk").partition("#")
    if not sep or kind not in KINDS:
        return None
    return RevocationEntry(
        kind=kind,
        key=key,
        changed_ms=as_int(item, "changed_ms"),
        expires_at=as_opt_int(item, "expires_at"),
        not_before=as_int(item, "not_before"),
        disabled=as_bool(item, "disabled"),
        cutoff_ms=as_int(item, "cutoff_ms"),
    )
