"""The revocation feed (moto): what it refuses, what it costs, and how it fails (closed).

Every entry is written by the real :class:`RevocationStore`; the feed reads the table's ``Feed``
index as the template declares it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auth_core.errors import RevocationStoreError, RevokedTokenError
from auth_core.revocation_feed import RevocationFeed
from auth_core.stores.revocations import RevocationStore
from tests.tables import create_template_table

TABLE = "revocations"
NOW = 1_800_000_000


class Clocks:
    def __init__(self) -> None:
        self.wall = float(NOW)
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


class Counting:
    """Passes calls to moto and counts them per operation (the feed must not read per token)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}
        self.fail = False

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if self.fail:
                from botocore.exceptions import EndpointConnectionError

                raise EndpointConnectionError(endpoint_url="http://dynamodb.invalid")
            return getattr(self.inner, name)(**kwargs)

        return call


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        if TABLE in client.list_tables()["TableNames"]:  # the module's authorizer world shares moto
            client.delete_table(TableName=TABLE)
        create_template_table(client, "RevocationsTable", TABLE)
        yield client


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def store(ddb: Any, clocks: Clocks) -> RevocationStore:
    return RevocationStore(TABLE, client=ddb, clock=lambda: clocks.wall)


@pytest.fixture
def counting(ddb: Any) -> Counting:
    return Counting(ddb)


@pytest.fixture
def feed(counting: Counting, clocks: Clocks) -> RevocationFeed:
    return RevocationFeed(
        RevocationStore(TABLE, client=counting),
        interval=5,
        max_staleness=30,
        clock=lambda: clocks.mono,
        wall=lambda: clocks.wall,
    )


def check(feed: RevocationFeed, **over: Any) -> str | None:
    token = {
        "jti": "j1",
        "subject": "alice",
        "issued_at": NOW,
        "session_id": "s1",
        "client_id": "web",
        "kid": "k1",
    }
    token.update(over)
    try:
        feed.check(**token)
    except RevokedTokenError as exc:
        return exc.reason
    return None


# ------------------------------------------------------------------ cost: no read per token
def test_first_sight_tokens_cost_no_dynamodb_call(
    feed: RevocationFeed, counting: Counting, clocks: Clocks
) -> None:
    for i in range(1000):
        assert check(feed, jti=f"j{i}", subject=f"user{i}", session_id=f"s{i}") is None
    assert counting.calls == {"query": 1}  # one load, then dictionary lookups only
    clocks.advance(5)
    assert check(feed) is None
    assert counting.calls == {"query": 2}  # one incremental read per interval, whatever the traffic


# ------------------------------------------------------------------ every kind of entry
def test_each_rule_refuses_within_one_interval(
    feed: RevocationFeed, store: RevocationStore, clocks: Clocks
) -> None:
    assert check(feed) is None
    store.revoke_jti("j1", NOW + 300)
    clocks.advance(4.9)
    assert check(feed) is None  # within the interval: the bound is REVOCATION_FEED_INTERVAL
    clocks.advance(0.1)
    assert check(feed) == "revoked"
    assert check(feed, jti="j2") is None

    store.revoke_signing_keys(["k1"], until=NOW + 4000)
    ddb_session = store.session_put("s2", NOW + 4000)
    store.ddb.transact_write_items(TransactItems=[ddb_session])
    store.set_user_cutoff("bob", int(clocks.wall * 1000) + 1, max_token_lifetime=900)  # 1 ms into a second
    store.set_client_state("svc", int(clocks.wall * 1000), disabled=True, max_token_lifetime=900)
    clocks.advance(5)
    assert check(feed, jti="j2") == "revoked_key"
    assert check(feed, jti="j2", kid="k2", session_id="s2") == "revoked_session"
    # the cut-off is rounded up: a token issued in the cut-off's second, before or after it, is refused
    assert check(feed, jti="j2", kid="k2", subject="bob", issued_at=int(clocks.wall) - 5) == "revoked_subject"
    assert check(feed, jti="j2", kid="k2", subject="bob", issued_at=NOW + 5) == "revoked_subject"
    assert check(feed, jti="j2", kid="k2", subject="bob", issued_at=NOW + 6) is None
    # a disabled client's tokens are all refused, even ones issued later (stale caches)
    assert check(feed, jti="j2", kid="k2", client_id="svc", issued_at=NOW + 100) == "revoked_client"
    store.set_client_state("svc", int(clocks.wall * 1000), disabled=False, max_token_lifetime=900)
    clocks.advance(5)
    assert check(feed, jti="j2", kid="k2", client_id="svc", issued_at=NOW + 5) == "revoked_subject"
    assert check(feed, jti="j2", kid="k2", client_id="svc", issued_at=NOW + 11) is None
    store.set_global_cutoff(int(clocks.wall * 1000))
    clocks.advance(5)
    assert check(feed, jti="j2", kid="k2", issued_at=NOW + 10) == "revoked_subject"
    assert check(feed, jti="j2", kid="k2", issued_at=NOW + 16) is None


def test_a_cut_off_never_moves_backwards(
    store: RevocationStore, feed: RevocationFeed, clocks: Clocks
) -> None:
    store.set_user_cutoff("alice", (NOW + 50) * 1000, max_token_lifetime=900)
    store.set_user_cutoff("alice", NOW * 1000, max_token_lifetime=900)
    assert check(feed, issued_at=NOW + 49) == "revoked_subject"


def test_entries_expire_with_their_tokens(
    feed: RevocationFeed, store: RevocationStore, clocks: Clocks
) -> None:
    store.revoke_jti("j1", NOW + 60)
    assert check(feed) == "revoked"
    clocks.advance(3601)  # a full reload drops what has expired (moto's TTL sweep is lazy)
    assert check(feed) is None


def test_incremental_reads_ask_only_for_recent_changes(
    counting: Counting, feed: RevocationFeed, clocks: Clocks
) -> None:
    seen: list[int] = []
    original = counting.inner.query

    def spy(**kwargs: Any) -> Any:
        seen.append(int(kwargs["ExpressionAttributeValues"][":w"]["N"]))
        return original(**kwargs)

    counting.inner.query = spy
    check(feed)
    clocks.advance(5)
    check(feed)
    assert seen[0] == 0  # the first read loads everything
    assert seen[1] == NOW * 1000 - 30_000  # then only what changed since (with a 30 s overlap)


# ------------------------------------------------------------------ failing closed
def test_first_read_failing_refuses_every_token(counting: Counting, feed: RevocationFeed) -> None:
    """docs/threat-model.md T-REV-1."""
    counting.fail = True
    with pytest.raises(RevocationStoreError):
        check(feed)


def test_a_failing_feed_is_served_until_max_staleness_then_refuses(
    counting: Counting, feed: RevocationFeed, clocks: Clocks
) -> None:
    """docs/threat-model.md T-REV-1."""
    assert check(feed) is None
    counting.fail = True
    clocks.advance(29)
    assert check(feed) is None  # the last good view, 29 s old
    clocks.advance(2)
    with pytest.raises(RevocationStoreError):  # 31 s: fail closed, never allow
        check(feed)
    counting.fail = False
    clocks.advance(5)
    assert check(feed) is None  # recovers by itself


def test_a_missing_table_fails_closed(ddb: Any, clocks: Clocks) -> None:
    """docs/threat-model.md T-REV-1."""
    feed = RevocationFeed(RevocationStore("no-such-table", client=ddb), clock=lambda: clocks.mono)
    with pytest.raises(RevocationStoreError):
        check(feed)


# ------------------------------------------------------------------ through the authorizer
def test_a_cached_token_of_a_revoked_key_is_refused_within_the_feed_interval(world, decision_lines) -> None:
    """docs/threat-model.md T-KEY-10.

    The verified-token cache used to serve a token until its own exp, whatever happened to its key.
    """
    from tests.functional.authorizer.conftest import build_event

    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint(jti='j-key')}")
    assert world.outcome(event) == "allow"
    assert world.outcome(event) == "allow"  # now served from the verified-token cache
    world.revocations.revoke_signing_keys([world.key.kid], until=NOW + 4000)
    world.feed_due()
    assert world.outcome(event) == "unauthorized"
    assert decision_lines()[-1]["reason"] == "revoked_key"


def test_a_cached_token_whose_key_left_the_jwks_is_verified_afresh(world, decision_lines) -> None:
    import json as _json

    from auth_core.jwk import JWKSet, generate_signing_key
    from tests.functional.authorizer.conftest import JWKS_SECRET, build_event

    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint(jti='j-gone')}")
    assert world.outcome(event) == "allow"
    other = generate_signing_key("ES256")
    world.sm.put_secret_value(
        SecretId=JWKS_SECRET, SecretString=_json.dumps(JWKSet.from_keys([other.public_key()]).to_dict())
    )
    world.mono[0] += 301  # the key cache's TTL: the published set is read again
    assert world.outcome(event) == "unauthorized"
    assert decision_lines()[-1]["reason"] == "unknown_kid"


def test_operator_cut_offs_outlive_any_deployments_tokens(store: RevocationStore, ddb: Any) -> None:
    """authctl cannot know the deployed MAX_ACCESS_TOKEN_LIFETIME (review finding: an entry
    written with the shell's 3600 s default expired while 24 h tokens were still valid)."""
    store.set_user_cutoff("alice", NOW * 1000, max_token_lifetime=3600)
    store.set_client_state("svc", NOW * 1000, disabled=False, max_token_lifetime=3600)
    for pk in ("sub#alice", "cli#svc"):
        item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": pk}})["Item"]
        assert int(item["expires_at"]["N"]) >= NOW + 86400 + 300


def test_re_disabling_a_client_removes_the_expiry(store: RevocationStore, ddb: Any, clocks: Clocks) -> None:
    store.set_client_state("svc", (NOW + 100) * 1000, disabled=False, max_token_lifetime=900)
    store.set_client_state("svc", NOW * 1000, disabled=True, max_token_lifetime=900)  # an older clock
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "cli#svc"}})["Item"]
    assert item["disabled"] == {"BOOL": True}
    assert "expires_at" not in item  # a disabled client's entry never expires
