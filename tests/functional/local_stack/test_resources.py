"""Template resources on moto, and secret rotation driven like Secrets Manager's RotateSecret."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from local_stack.resources import (
    ROTATION_STEPS,
    create_secret,
    create_table,
    generate_secret_string,
    rotate_secret,
)
from tests.functional.local_stack.helpers import make_model


@pytest.fixture
def aws():
    with mock_aws():
        yield boto3.client("dynamodb"), boto3.client("secretsmanager")


def test_tables_are_created_with_keys_gsi_ttl_and_pitr(tmp_path, aws):
    ddb, _ = aws
    table = make_model(tmp_path).tables["Table"]
    create_table(ddb, table)
    desc = ddb.describe_table(TableName=table.name)["Table"]
    assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert desc["GlobalSecondaryIndexes"][0]["IndexName"] == "BySubject"
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = ddb.describe_continuous_backups(TableName=table.name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_secrets_get_their_initial_or_generated_value(tmp_path, aws):
    _, sm = aws
    model = make_model(tmp_path)
    arn = create_secret(sm, model.secrets["Secret"])
    assert arn.startswith("arn:aws:secretsmanager:")
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == '{"keys":[]}'
    generated = json.loads(
        sm.get_secret_value(SecretId=create_secret(sm, model.secrets["Generated"]))["SecretString"]
    )
    assert generated["user"] == "admin"
    assert len(generated["password"]) == 20 and generated["password"].isalnum()


def test_generate_secret_string_without_template():
    value = generate_secret_string({"PasswordLength": 12, "ExcludeCharacters": "abc"})
    assert len(value) == 12 and not set(value) & set("abc")


def test_rotation_runs_the_four_steps_like_secrets_manager(tmp_path, aws):
    _, sm = aws
    model = make_model(tmp_path)
    arn = create_secret(sm, model.secrets["Secret"])
    model.resolver.refs["Secret"] = arn
    seen: list[dict] = []

    def rotation_function(function: str, event: dict) -> None:
        """A minimal rotation function, written like AWS's template (checks the pending version)."""
        assert function == "AuthFn"
        seen.append(event)
        step, sid, token = event["Step"], event["SecretId"], event["ClientRequestToken"]
        meta = sm.describe_secret(SecretId=sid)
        assert meta["RotationEnabled"] is True
        assert (
            "AWSPENDING" in meta["VersionIdsToStages"][token]
            or "AWSCURRENT" in meta["VersionIdsToStages"][token]
        )
        if step == "createSecret":
            with pytest.raises(
                sm.exceptions.ResourceNotFoundException
            ):  # the pending version has no value yet
                sm.get_secret_value(SecretId=sid, VersionId=token, VersionStage="AWSPENDING")
            sm.put_secret_value(
                SecretId=sid,
                ClientRequestToken=token,
                SecretString='{"keys":["new"]}',
                VersionStages=["AWSPENDING"],
            )
        elif step == "finishSecret":
            current = next(v for v, s in meta["VersionIdsToStages"].items() if "AWSCURRENT" in s)
            sm.update_secret_version_stage(
                SecretId=sid, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
            )

    (rotation,) = model.rotations
    token = rotate_secret(model, rotation, rotation_function)
    assert [e["Step"] for e in seen] == list(ROTATION_STEPS)
    assert {e["ClientRequestToken"] for e in seen} == {token}
    assert {e["SecretId"] for e in seen} == {arn}
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == '{"keys":["new"]}'
    stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert stages[token] == ["AWSCURRENT"]
    assert ["AWSPREVIOUS"] in stages.values()
    # a second rotation can start (moto refuses while AWSPENDING shares the current version)
    token2 = rotate_secret(model, rotation, rotation_function)
    assert token2 != token


def test_rotation_hook_sends_moto_rotate_secret_to_the_rotation_function(tmp_path, aws):
    from local_stack.resources import RotationHook

    _, sm = aws
    model = make_model(tmp_path)
    arn = create_secret(sm, model.secrets["Secret"])
    model.resolver.refs["Secret"] = arn
    other = create_secret(sm, model.secrets["Generated"])
    calls: list[dict] = []
    logs: list[str] = []
    hook = RotationHook(model, lambda function, event: calls.append(event), logs.append)
    hook.install()
    try:
        response = sm.rotate_secret(SecretId=arn)
        assert [c["Step"] for c in calls] == list(ROTATION_STEPS)
        assert response["VersionId"] == calls[0]["ClientRequestToken"]
        calls.clear()
        sm.rotate_secret(SecretId=arn, RotateImmediately=False)  # a configuration test only
        assert [c["Step"] for c in calls] == ["testSecret"]
        token = calls[0]["ClientRequestToken"]
        assert token not in sm.describe_secret(SecretId=arn)["VersionIdsToStages"]  # removed again
        calls.clear()
        sm.rotate_secret(SecretId=other)  # no schedule in the template: moto's own behaviour
        assert calls == []
    finally:
        hook.uninstall()
    calls.clear()
    sm.rotate_secret(SecretId=arn)
    assert calls == []  # uninstalled


def test_rotation_hook_failure_is_logged_not_raised(tmp_path, aws):
    from local_stack.apigw import InvocationError
    from local_stack.resources import RotationHook

    _, sm = aws
    model = make_model(tmp_path)
    arn = create_secret(sm, model.secrets["Secret"])
    model.resolver.refs["Secret"] = arn
    logs: list[str] = []

    def failing(function: str, event: dict) -> None:
        raise InvocationError("RotationError", "refused")

    hook = RotationHook(model, failing, logs.append)
    hook.install()
    try:
        sm.rotate_secret(SecretId=arn)  # asynchronous on AWS: the caller sees success
    finally:
        hook.uninstall()
    assert any("failed" in line and "refused" in line for line in logs)
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == '{"keys":[]}'  # current unchanged


def test_moving_awscurrent_changes_what_get_secret_value_returns(tmp_path, aws):
    from local_stack.resources import RotationHook

    _, sm = aws
    model = make_model(tmp_path)
    arn = create_secret(sm, model.secrets["Secret"])
    old = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    (old_id,) = old
    sm.put_secret_value(
        SecretId=arn, ClientRequestToken="v2" * 16, SecretString="two", VersionStages=["AWSPENDING"]
    )
    hook = RotationHook(model, lambda function, event: None, lambda _line: None)
    hook.install()
    try:
        sm.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId="v2" * 16, RemoveFromVersionId=old_id
        )
    finally:
        hook.uninstall()
    assert (
        sm.get_secret_value(SecretId=arn)["SecretString"] == "two"
    )  # moto alone would still say the old value
