"""The revocation feed: every verifier's and signer's in-memory view of what is revoked.

Why a feed and not a read per token: a per-token ``BatchGetItem`` puts DynamoDB on the path of
every first-sight token, and caching its answer for N seconds makes N the revocation bound for
*busy* tokens, which is exactly the token an attacker is using. Here each warm execution
environment holds the whole set of live revocations (small: every entry expires with the
longest access-token lifetime, see :mod:`auth_core.stores.revocations`) and asks the table's
``Feed`` index "what changed since?" at most every ``interval`` seconds. So:

* a first-sight token costs no DynamoDB call, only dictionary lookups;
* **the bound on revocation is** ``interval`` (``REVOCATION_FEED_INTERVAL``, default 5 s) plus
  the index's propagation delay (typically well under a second) plus API Gateway's authorizer
  result TTL; it is the same for a token used once or a thousand times;
* reads per second are independent of traffic: one ``Query`` per warm environment per interval,
  returning only what changed (a whole reload every ``full_reload`` seconds, default an hour,
  drops expired entries and bounds what a missed change could cost);
* a feed that cannot be read for ``max_staleness`` seconds fails closed: every check raises
  :class:`~auth_core.errors.RevocationStoreError` (the authorizer answers 500, never Allow; the
  token functions 503) until a read succeeds again (docs/threat-model.md T-REV-1).

Incremental reads re-read an ``overlap`` before the previous read's start, to cover the GSI's
propagation delay and skew between writers' clocks (``changed_ms`` is the writer's clock).
In more than one region (global tables) a replicated entry keeps the writing region's
``changed_ms``, so an entry that arrives later than the overlap (``REVOCATION_FEED_OVERLAP``,
default 30 s, 300 s from the template in more than one region) is missed until the next full
reload: across regions the bound is replication lag + ``interval`` while the lag stays under the
overlap, and the next full reload beyond it. A replication stall does not make the feed stale
(the local table stays readable): the template alarms on the table's ``ReplicationLatency``.

The rules themselves live in :class:`~auth_core.stores.revocations.RevocationFacts`, shared
with introspection's consistent read, so both refuse exactly the same tokens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from auth_core.errors import AuthError, RevocationStoreError, RevokedTokenError
from auth_core.settings import Settings
from auth_core.stores.revocations import RevocationEntry, RevocationFacts

__all__ = [
    "EVENT_FEED_FAILED",
    "EVENT_FEED_RELOADED",
    "EVENT_FEED_STALE",
    "FeedSource",
    "RevocationFeed",
    "feed_from_settings",
]

EVENT_FEED_RELOADED = "RevocationFeedReloaded"
EVENT_FEED_FAILED = "RevocationFeedReadFailed"
EVENT_FEED_STALE = "RevocationFeedStale"


class FeedSource(Protocol):
    """Where entries come from: :meth:`RevocationStore.feed_since`."""

    def feed_since(self, since_ms: int, *, client: Any | None = None) -> Any: ...


class _View:
    """One consistent snapshot of live revocations (replaced whole on a full reload)."""

    __slots__ = ("clients", "global_not_before", "jtis", "kids", "sessions", "subjects")

    def __init__(self) -> None:
        self.jtis: set[str] = set()
        self.sessions: set[str] = set()
        self.kids: set[str] = set()
        self.subjects: dict[str, int] = {}
        self.clients: dict[str, tuple[int, bool]] = {}
        self.global_not_before = 0

    def __len__(self) -> int:
        return len(self.jtis) + len(self.sessions) + len(self.kids) + len(self.subjects) + len(self.clients)

    def apply(self, entry: RevocationEntry, now: float) -> None:
        live = entry.expires_at is None or entry.expires_at > now
        kind, key = entry.kind, entry.key
        if kind == "jti":
            _toggle(self.jtis, key, live)
        elif kind == "sid":
            _toggle(self.sessions, key, live)
        elif kind == "kid":
            _toggle(self.kids, key, live)
        elif kind == "sub":
            if live:
                self.subjects[key] = entry.not_before
            else:
                self.subjects.pop(key, None)
        elif kind == "cli":
            if live or entry.disabled:
                self.clients[key] = (entry.not_before, entry.disabled)
            else:
                self.clients.pop(key, None)
        elif kind == "all":
            self.global_not_before = max(self.global_not_before, entry.not_before)


def _toggle(found: set[str], key: str, live: bool) -> None:
    if live:
        found.add(key)
    else:
        found.discard(key)


class RevocationFeed:
    """A polled, in-memory view of the revocations table. Build one per execution environment.

    :param source: the revocations store (its ``feed_since``).
    :param client: DynamoDB client handed to ``source`` (the authorizer's boto3-free one);
        ``None``: the store's own.
    :param interval: seconds between reads of what changed.
    :param max_staleness: seconds without a successful read after which every check fails.
    :param overlap_ms: how far before the previous read's start the next read begins.
    :param full_reload: seconds between whole reloads.
    :param clock: monotonic seconds (intervals); ``wall``: epoch seconds (entry expiry).
    :param on_event: counter hook (metrics): ``EVENT_*`` names.
    """

    def __init__(
        self,
        source: FeedSource,
        *,
        client: Any | None = None,
        interval: float = 5,
        max_staleness: float = 30,
        overlap_ms: int = 30_000,
        full_reload: float = 3600,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self._source = source
        self._client = client
        self.interval = interval
        self.max_staleness = max_staleness
        self._overlap_ms = overlap_ms
        self._full_reload = full_reload
        self._clock = clock
        self._wall = wall
        self._on_event = on_event or (lambda _name: None)
        self._lock = threading.Lock()
        self._view: _View | None = None
        self._last_ok: float | None = None
        self._last_attempt: float | None = None
        self._last_full: float | None = None
        self._next_since_ms = 0

    # ------------------------------------------------------------------ the checks
    def current(self) -> _View:
        """The view, read or refreshed first when due.

        :raises RevocationStoreError: the feed has not been readable for ``max_staleness``.
        """
        now = self._clock()
        last = self._last_attempt
        if last is None or now - last >= self.interval:
            self._refresh(now)
        view = self._view
        if view is None or self._last_ok is None or now - self._last_ok > self.max_staleness:
            self._on_event(EVENT_FEED_STALE)
            raise RevocationStoreError("revocation feed unavailable or stale")
        return view

    def facts(
        self,
        *,
        subject: str,
        jti: str | None = None,
        session_id: str | None = None,
        client_id: str | None = None,
        kid: str | None = None,
    ) -> RevocationFacts:
        """What the feed says about one token (the same facts a consistent read would give).

        :raises RevocationStoreError: the feed is stale (fail closed).
        """
        view = self.current()
        client = view.clients.get(client_id) if client_id is not None else None
        return RevocationFacts(
            jti_revoked=jti is not None and jti in view.jtis,
            session_revoked=session_id is not None and session_id in view.sessions,
            kid_revoked=kid is not None and kid in view.kids,
            client_disabled=client is not None and client[1],
            not_before=max(
                view.subjects.get(subject, 0),
                client[0] if client is not None else 0,
                view.global_not_before,
            ),
        )

    def check(
        self,
        *,
        jti: str,
        subject: str,
        issued_at: float,
        session_id: str | None = None,
        client_id: str | None = None,
        kid: str | None = None,
    ) -> None:
        """Raise if the token is revoked.

        :raises RevokedTokenError: with the rule's reason (``revoked``, ``revoked_session``,
            ``revoked_subject``, ``revoked_client``, ``revoked_key``).
        :raises RevocationStoreError: the feed is stale (fail closed).
        """
        view = self.current()
        # The hot path: no entry of any kind concerns this token (every set and map is looked up
        # once, no object is built). Anything that might concern it goes to the rules.
        if (
            jti not in view.jtis
            and session_id not in view.sessions
            and kid not in view.kids
            and client_id not in view.clients
            and issued_at >= view.subjects.get(subject, 0)
            and issued_at >= view.global_not_before
        ):
            return
        reason = self.facts(
            subject=subject, jti=jti, session_id=session_id, client_id=client_id, kid=kid
        ).reason(issued_at)
        if reason is not None:
            raise RevokedTokenError("token revoked", reason=reason)

    def kid_revoked(self, kid: str) -> bool:
        """Is signing key ``kid`` revoked? (Signers ask before signing.)

        :raises RevocationStoreError: the feed is stale (fail closed).
        """
        return kid in self.current().kids

    def not_before(self, *, subject: str | None = None, client_id: str | None = None) -> int:
        """The latest cut-off that applies to a token for ``subject`` through ``client_id``:
        an issuer must not sign one with an ``iat`` earlier than this.

        :raises RevocationStoreError: the feed is stale (fail closed).
        """
        return self.facts(subject=subject or "", client_id=client_id).not_before

    def client_disabled(self, client_id: str) -> bool:
        """Has ``client_id`` been disabled? (Token functions ask before any grant.)

        :raises RevocationStoreError: the feed is stale (fail closed).
        """
        found = self.current().clients.get(client_id)
        return found is not None and found[1]

    @property
    def size(self) -> int:
        """Live entries held (0 before the first read): what a reload costs, for metrics."""
        return len(self._view) if self._view is not None else 0

    def clear(self) -> None:
        """Forget everything (SnapStart restore, tests): the next check reloads."""
        with self._lock:
            self._view = None
            self._last_ok = self._last_attempt = self._last_full = None
            self._next_since_ms = 0

    # ------------------------------------------------------------------ reading
    def _refresh(self, now: float) -> None:
        with self._lock:
            last = self._last_attempt
            if last is not None and now - last < self.interval:
                return  # another thread refreshed while we waited
            self._last_attempt = now
            full = self._view is None or self._last_full is None or now - self._last_full >= self._full_reload
            started_ms = int(self._wall() * 1000)
            since = 0 if full else self._next_since_ms
            wall = self._wall()
            # A reload streams into a new view (pages are applied as they arrive, never held as a
            # list) that replaces the old one whole; an increment -- what changed in the last
            # interval and overlap, small -- is read completely, then applied. Either way a read
            # that fails half-way changes nothing.
            try:
                if full:
                    view = _View()
                    for entry in self._source.feed_since(since, client=self._client):
                        view.apply(entry, wall)
                else:
                    changes = list(self._source.feed_since(since, client=self._client))
            except (AuthError, OSError) as exc:
                self._on_event(EVENT_FEED_FAILED)
                if self._view is None:
                    raise RevocationStoreError("revocation feed unavailable") from exc
                return  # keep serving the last view until it is too stale (checked by caller)
            if full:
                self._view = view
            else:
                assert self._view is not None  # noqa: S101 - an increment follows a reload
                for entry in changes:
                    self._view.apply(entry, wall)
            self._last_ok = now
            if full:
                self._last_full = now
                self._on_event(EVENT_FEED_RELOADED)
            self._next_since_ms = max(0, started_ms - self._overlap_ms)


def feed_from_settings(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
    on_event: Callable[[str], None] | None = None,
    lean: bool = False,
) -> RevocationFeed:
    """The feed over ``REVOCATIONS_TABLE`` with ``REVOCATION_FEED_*`` timings.

    :param lean: read through the boto3-free client when :func:`auth_core.aws.lean_preferred`
        (the authorizer: botocore's import would cost it ~250 ms of cold start).
    :raises ConfigurationError: ``REVOCATIONS_TABLE`` is not set.
    """
    from auth_core import aws  # noqa: PLC0415 - light, but only wiring needs it
    from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415

    client: Any | None = None
    if lean and aws.lean_preferred("dynamodb"):
        from auth_core import aws_json  # noqa: PLC0415 - http.client only when lean

        client = aws_json.DynamoDB()
    return RevocationFeed(
        RevocationStore(settings.require("revocations_table"), clock=wall),
        client=client,
        interval=settings.revocation_feed_interval,
        max_staleness=settings.revocation_feed_max_staleness,
        overlap_ms=settings.revocation_feed_overlap * 1000,
        clock=clock,
        wall=wall,
        on_event=on_event,
    )
