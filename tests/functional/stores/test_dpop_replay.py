"""The shared DPoP replay cache (moto, the template's sessions table): a proof is accepted once,
across instances, until it expires. Two racing writes are DynamoDB's conditional put: one wins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auth_core.dpop import MemoryReplayCache
from auth_core.stores.dpop import DPoPReplayStore
from tests.tables import create_template_table

TABLE = "sessions"
NOW = 1_800_000_000


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_template_table(client, "SessionsTable", TABLE)
        yield client


def test_a_proof_is_accepted_once_by_every_instance(ddb: Any) -> None:
    one = DPoPReplayStore(TABLE, client=ddb, clock=lambda: NOW)
    two = DPoPReplayStore(TABLE, client=ddb, clock=lambda: NOW)
    assert one.first_use("k1", NOW + 65)
    assert not two.first_use("k1", NOW + 65)
    assert not one.first_use("k1", NOW + 65)
    assert two.first_use("k2", NOW + 65)
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "dpop#k1"}})["Item"]
    assert item == {"pk": {"S": "dpop#k1"}, "expires_at": {"N": str(NOW + 65)}}


def test_an_expired_record_the_sweeper_has_not_deleted_does_not_block(ddb: Any) -> None:
    now = [NOW]
    store = DPoPReplayStore(TABLE, client=ddb, clock=lambda: now[0])
    assert store.first_use("k1", NOW + 65)
    now[0] = NOW + 66
    assert store.first_use("k1", NOW + 131)
    assert not store.first_use("k1", NOW + 131)


def test_the_per_instance_cache_forgets_the_oldest_first() -> None:
    cache = MemoryReplayCache(capacity=2, clock=lambda: NOW)
    assert cache.first_use("a", NOW + 10)
    assert cache.first_use("b", NOW + 10)
    assert cache.first_use("c", NOW + 10)  # "a" is dropped: the shared store still knows it
    assert not cache.first_use("b", NOW + 10)
    assert cache.first_use("a", NOW + 10)
