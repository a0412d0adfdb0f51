"""``aws_json.DynamoDB.query`` against moto's server: boto3's low-level wire shapes, one page per
call, paging by ``ExclusiveStartKey`` -- the revocation feed's read (``Feed`` index, "what
changed since?")."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from auth_core import aws_json
from auth_core.aws_json import AwsJsonClient, AwsJsonError, AwsServiceError, DynamoDB

TABLE = "feed-revocations"
FEED = {
    "TableName": TABLE,
    "IndexName": "Feed",
    "KeyConditionExpression": "feed = :f AND changed_ms >= :w",
    "ProjectionExpression": "pk, changed_ms, not_before",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto() -> Iterator[tuple[str, Any]]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    ddb = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "feed", "AttributeType": "S"},
            {"AttributeName": "changed_ms", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "Feed",
                "KeySchema": [
                    {"AttributeName": "feed", "KeyType": "HASH"},
                    {"AttributeName": "changed_ms", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(10):
        item = {"pk": {"S": f"jti#{i}"}, "feed": {"S": "all"}, "changed_ms": {"N": str(1000 + i)}}
        ddb.put_item(TableName=TABLE, Item=item)
    ddb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "sub#bob"},
            "feed": {"S": "all"},
            "changed_ms": {"N": "1005"},
            "not_before": {"N": "7"},
        },
    )
    ddb.put_item(
        TableName=TABLE, Item={"pk": {"S": "jti#other"}, "feed": {"S": "x"}, "changed_ms": {"N": "2000"}}
    )
    try:
        yield endpoint, ddb
    finally:
        server.stop()


def _values(since: int) -> dict[str, Any]:
    return {":f": {"S": "all"}, ":w": {"N": str(since)}}


def test_query_reads_the_feed_index_like_boto3(moto: tuple[str, Any]) -> None:
    endpoint, boto = moto
    lean = DynamoDB(AwsJsonClient("dynamodb", endpoint=endpoint))
    answer = lean.query(**FEED, ExpressionAttributeValues=_values(1004))
    expected = boto.query(**FEED, ExpressionAttributeValues=_values(1004))
    assert answer["Items"] == expected["Items"]
    assert answer["Count"] == expected["Count"] == 7
    assert {"pk": {"S": "sub#bob"}, "changed_ms": {"N": "1005"}, "not_before": {"N": "7"}} in answer["Items"]
    assert "LastEvaluatedKey" not in answer
    changed = [int(item["changed_ms"]["N"]) for item in answer["Items"]]
    assert changed == sorted(changed) and min(changed) >= 1004


def test_query_pages_with_exclusive_start_key(moto: tuple[str, Any]) -> None:
    endpoint, _boto = moto
    lean = DynamoDB(AwsJsonClient("dynamodb", endpoint=endpoint))
    seen: list[str] = []
    start: dict[str, Any] | None = None
    pages = 0
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = lean.query(**FEED, ExpressionAttributeValues=_values(1000), Limit=4, **extra)
        pages += 1
        seen += [item["pk"]["S"] for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"pk", "feed", "changed_ms"}
    assert pages >= 3
    assert sorted(seen) == sorted([f"jti#{i}" for i in range(10)] + ["sub#bob"])


def test_query_errors_are_the_clients_errors(moto: tuple[str, Any]) -> None:
    endpoint, _boto = moto
    lean = DynamoDB(AwsJsonClient("dynamodb", endpoint=endpoint, sleep=lambda _s: None))
    with pytest.raises(AwsServiceError) as info:
        lean.query(**{**FEED, "TableName": "no-such-table"}, ExpressionAttributeValues=_values(0))
    assert info.value.code == "ResourceNotFoundException"
    assert isinstance(info.value, DynamoDB.errors)
    assert DynamoDB.errors == (AwsJsonError,)


def test_default_client_comes_from_the_environment(
    moto: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, _boto = moto
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    aws_json.reset_clients()
    try:
        answer = DynamoDB().query(**FEED, ExpressionAttributeValues=_values(1009))
        assert [item["pk"]["S"] for item in answer["Items"]] == ["jti#9"]
    finally:
        aws_json.reset_clients()
