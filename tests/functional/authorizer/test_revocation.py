"""Revocation lookups against DynamoDB (moto): jti deny list, subject ``not_before``, cache TTL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from auth_core.authorizer.revocation import RevocationChecker
from auth_core.errors import RevocationStoreError, RevokedTokenError

TABLE = "revocations"


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


class CountingClient:
    """Passes calls to the real (moto) client and counts BatchGetItem calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def batch_get_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.batch_get_item(**kwargs)


def test_unrevoked_token_passes_with_one_batch_get(ddb: Any) -> None:
    client = CountingClient(ddb)
    checker = RevocationChecker(TABLE, ttl=30, clock=lambda: 0.0, client=client)
    checker.check(jti="j1", subject="alice", issued_at=100)
    checker.check(jti="j1", subject="alice", issued_at=100)
    assert client.calls == 1


def test_revoked_jti_is_rejected(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "jti#j1"}, "expires_at": {"N": "2000"}})
    checker = RevocationChecker(TABLE, ttl=30, clock=lambda: 0.0, client=ddb)
    with pytest.raises(RevokedTokenError) as info:
        checker.check(jti="j1", subject="alice", issued_at=100)
    assert info.value.reason == "revoked"
    checker.check(jti="j2", subject="alice", issued_at=100)


def test_subject_not_before_revokes_older_tokens_only(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "sub#alice"}, "not_before": {"N": "500"}})
    checker = RevocationChecker(TABLE, ttl=0, clock=lambda: 0.0, client=ddb)
    with pytest.raises(RevokedTokenError) as info:
        checker.check(jti="j1", subject="alice", issued_at=499)
    assert info.value.reason == "revoked_subject"
    checker.check(jti="j1", subject="alice", issued_at=500)
    checker.check(jti="j1", subject="bob", issued_at=1)


def test_cache_ttl_is_respected(ddb: Any) -> None:
    now = [0.0]
    client = CountingClient(ddb)
    checker = RevocationChecker(TABLE, ttl=30, clock=lambda: now[0], client=client)
    checker.check(jti="j1", subject="alice", issued_at=100)
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "jti#j1"}})
    now[0] = 29.9
    checker.check(jti="j1", subject="alice", issued_at=100)  # still the cached "not revoked"
    assert client.calls == 1
    now[0] = 30.0
    with pytest.raises(RevokedTokenError):
        checker.check(jti="j1", subject="alice", issued_at=100)
    assert client.calls == 2


def test_ttl_zero_reads_every_time(ddb: Any) -> None:
    client = CountingClient(ddb)
    checker = RevocationChecker(TABLE, ttl=0, clock=lambda: 0.0, client=client)
    for _ in range(3):
        checker.check(jti="j1", subject="alice", issued_at=100)
    assert client.calls == 3


def test_missing_table_fails_closed_as_store_error(ddb: Any) -> None:
    checker = RevocationChecker("no-such-table", ttl=30, client=ddb)
    with pytest.raises(RevocationStoreError) as info:
        checker.check(jti="j1", subject="alice", issued_at=100)
    assert isinstance(info.value.__cause__, ClientError)


def test_unprocessed_keys_are_retried_once_then_fail_closed() -> None:
    class Throttled:
        calls = 0

        def batch_get_item(self, **kwargs: Any) -> Any:
            self.calls += 1
            return {"Responses": {}, "UnprocessedKeys": kwargs["RequestItems"]}

    client = Throttled()
    with pytest.raises(RevocationStoreError):
        RevocationChecker(TABLE, client=client).check(jti="j", subject="s", issued_at=1)
    assert client.calls == 2


def test_malformed_item_fails_closed() -> None:
    class Odd:
        def batch_get_item(self, **kwargs: Any) -> Any:
            return {"Responses": {TABLE: [{"pk": {"S": "sub#s"}, "not_before": {"N": "nope"}}]}}

    with pytest.raises(RevocationStoreError):
        RevocationChecker(TABLE, client=Odd()).check(jti="j", subject="s", issued_at=1)


def test_default_client_comes_from_auth_core_aws(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "jti#j9"}})
    with pytest.raises(RevokedTokenError):
        RevocationChecker(TABLE).check(jti="j9", subject="s", issued_at=1)
