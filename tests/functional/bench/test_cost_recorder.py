"""The cost model's recorder counts DynamoDB request units as DynamoDB bills them.

``bench/cost_model.py`` wraps botocore's ``_make_api_call`` and derives each call's read and write
units from the items themselves. Here real calls go to moto on the template's sessions table (its
``BySubject`` index projects ``ALL``): each expected count is the pricing rule worked by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bench.cost_model import Recorder
from tests.tables import create_template_table

TABLE = "sessions"


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_template_table(client, "SessionsTable", TABLE)
        yield client


@pytest.fixture
def recorder(ddb: Any) -> Iterator[Recorder]:
    found = Recorder()
    with found.installed():
        yield found


def _item(pk: str, *, subject: str | None = None, size: int = 10) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": pk}, "data": {"S": "x" * size}}
    if subject is not None:
        item["subject"] = {"S": subject}
    return item


def test_a_put_outside_the_index_is_one_unit_per_kilobyte(ddb: Any, recorder: Recorder) -> None:
    ddb.put_item(TableName=TABLE, Item=_item("a"))
    assert (recorder.write_units, recorder.calls) == (1.0, ["dynamodb:PutItem"])
    recorder.reset()
    ddb.put_item(TableName=TABLE, Item=_item("b", size=1500))  # 1.5 KB: two units
    assert recorder.write_units == 2.0


def test_an_item_in_an_all_projection_index_pays_the_index_write_too(ddb: Any, recorder: Recorder) -> None:
    ddb.put_item(TableName=TABLE, Item=_item("a", subject="alice"))
    assert recorder.write_units == 2.0  # table + BySubject
    recorder.reset()
    ddb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET #d = :b",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":b": {"S": "changed"}},
    )
    assert recorder.write_units == 2.0  # ALL projection: the index copy changes as well
    recorder.reset()
    ddb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET subject = :s",
        ExpressionAttributeValues={":s": {"S": "bob"}},
    )
    assert recorder.write_units == 3.0  # a new index key: delete + put in the index


def test_transactions_pay_twice_per_item_condition_checks_included(ddb: Any, recorder: Recorder) -> None:
    ddb.put_item(TableName=TABLE, Item=_item("kept"))
    recorder.reset()
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _item("new")}},
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "kept"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )
    assert recorder.write_units == 4.0
    assert recorder.calls == ["dynamodb:TransactWriteItems"]


def test_reads_are_per_four_kilobytes_halved_when_eventually_consistent(ddb: Any, recorder: Recorder) -> None:
    ddb.put_item(TableName=TABLE, Item=_item("big", size=5000))
    recorder.reset()
    ddb.get_item(TableName=TABLE, Key={"pk": {"S": "big"}})
    assert recorder.read_units == 1.0  # 5 KB: two 4 KB units, halved
    ddb.get_item(TableName=TABLE, Key={"pk": {"S": "big"}}, ConsistentRead=True)
    assert recorder.read_units == 1.0 + 2.0
    ddb.get_item(TableName=TABLE, Key={"pk": {"S": "absent"}})
    assert recorder.read_units == 3.5  # a miss still costs the minimum
    assert recorder.write_units == 0.0


def test_the_feed_and_key_reloads_are_background_not_the_operations(ddb: Any, recorder: Recorder) -> None:
    ddb.query(
        TableName=TABLE,
        IndexName="BySubject",
        KeyConditionExpression="subject = :s",
        ExpressionAttributeValues={":s": {"S": "alice"}},
    )
    assert recorder.calls == ["dynamodb:Query"]
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="jwks", SecretString="{}")
    sm.get_secret_value(SecretId="jwks")
    assert recorder.calls == ["dynamodb:Query", "secretsmanager:CreateSecret"]
    assert recorder.background == ["secretsmanager:GetSecretValue"]
    assert recorder.secrets_calls == 1  # the CreateSecret
