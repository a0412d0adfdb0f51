"""One reader of the revocations table (moto): the feed's query and the consistent reads decode
every item the same way, into one type, and the rules give the same answer over both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auth_core.revocation_feed import RevocationFeed
from auth_core.stores.revocations import RevocationEntry, RevocationStore
from tests.tables import create_template_table

TABLE = "revocations"
NOW = 1_800_000_000


@pytest.fixture
def store() -> Iterator[RevocationStore]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_template_table(ddb, "RevocationsTable", TABLE)
        yield RevocationStore(TABLE, client=ddb, clock=lambda: NOW)


def _every_kind(store: RevocationStore) -> None:
    store.revoke_jti("j1", NOW + 300)
    store.revoke_signing_keys(["k1"], until=NOW + 4000)
    store.set_user_cutoff("u1", NOW * 1000 + 1, max_token_lifetime=900)
    store.set_client_state("c1", NOW * 1000, disabled=True, max_token_lifetime=900)
    store.set_global_cutoff((NOW - 10) * 1000)


def test_point_reads_and_the_feed_return_the_same_entries(store: RevocationStore) -> None:
    _every_kind(store)
    fed = {entry.pk: entry for entry in store.feed_since(0)}
    assert set(fed) == {"jti#j1", "kid#k1", "sub#u1", "cli#c1", "all#"}
    read = store.entries([*fed, "jti#absent"])
    assert read == fed
    assert all(type(entry) is RevocationEntry for entry in read.values())
    assert store.entries(["all#"]) == {"all#": fed["all#"]}  # one key: a GetItem, same decoding
    assert store.global_cutoff_ms() == fed["all#"].cutoff_ms == (NOW - 10) * 1000
    assert store.not_before("u1") == fed["sub#u1"].not_before == NOW + 1
    assert store.entries([]) == {}


@pytest.mark.parametrize(
    "token",
    [
        {"subject": "u1", "issued_at": NOW},
        {"subject": "u1", "issued_at": NOW + 1},
        {"subject": "u2", "jti": "j1", "issued_at": NOW},
        {"subject": "u2", "kid": "k1", "issued_at": NOW},
        {"subject": "u2", "client_id": "c1", "issued_at": NOW + 50},
        {"subject": "u2", "client_id": "c2", "session_id": "s9", "issued_at": NOW - 20},
        {"subject": "u2", "client_id": "c2", "session_id": "s9", "issued_at": NOW},
    ],
)
def test_the_feed_and_the_consistent_read_give_the_same_facts(
    store: RevocationStore, token: dict[str, Any]
) -> None:
    _every_kind(store)
    feed = RevocationFeed(store, clock=lambda: 0.0, wall=lambda: float(NOW))
    issued_at = token.pop("issued_at")
    assert feed.facts(**token) == store.facts(**token)
    assert feed.facts(**token).reason(issued_at) == store.facts(**token).reason(issued_at)
