"""Which deployment ``authctl`` writes to: ``--stack`` wins over the shell, a stack file mixed with
exported names is refused, ``--stack-name`` reads the deployed functions' configuration, the
settings are the deployment's, and every write is announced first."""

from __future__ import annotations

import os
from typing import Any

import pytest

from auth_core import aws
from auth_core.stores.clients import Client, ClientStore
from auth_core.stores.users import UserStore
from authctl.cli import main
from tests.functional.authctl.conftest import TABLE_ENV, server_client, write_stack_file


def _errors(err: str) -> list[str]:
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("authctl: error:")]


def test_stack_file_wins_over_every_aws_variable(local_stack, monkeypatch, capsys):
    endpoint, stack_file = local_stack
    ddb = server_client(endpoint, "dynamodb")
    elsewhere = "http://127.0.0.1:9"  # e.g. a shell still set up for another stack or account
    monkeypatch.setenv("AWS_ENDPOINT_URL", elsewhere)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", elsewhere)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_PROFILE", "production-admin")
    assert (
        main(
            ["--stack", str(stack_file), "clients", "create", "web", "--grants", "password", "--confidential"]
        )
        == 0
    )
    assert "Item" in ddb.get_item(TableName="clients", Key={"client_id": {"S": "web"}})
    err = capsys.readouterr().err
    assert f"authctl: writing to {endpoint} (region us-east-1, local stack {stack_file})" in err
    # the run changed nothing for the shell (or for the next command in this process)
    assert os.environ["AWS_ENDPOINT_URL"] == elsewhere and os.environ["AWS_PROFILE"] == "production-admin"


def test_stack_file_mixed_with_exported_table_names_is_refused(local_stack, monkeypatch, capsys):
    _endpoint, stack_file = local_stack
    monkeypatch.setenv("USERS_TABLE", "prod-users")
    monkeypatch.setenv("CLIENTS_TABLE", "prod-clients")
    assert main(["--stack", str(stack_file), "clients", "disable", "web"]) == 2
    [line] = _errors(capsys.readouterr().err)
    assert "USERS_TABLE, CLIENTS_TABLE" in line
    assert "unset USERS_TABLE CLIENTS_TABLE" in line and "--stack" in line


def test_settings_come_from_the_deployment_not_the_shell(local_stack, monkeypatch, capsys):
    endpoint, stack_file = local_stack
    # the operator's shell holds settings that are not the deployment's (here: not even valid)
    monkeypatch.setenv("MAX_ACCESS_TOKEN_LIFETIME", "not-a-number")
    monkeypatch.setenv("KEY_CACHE_TTL", "0")
    ClientStore("clients", client=server_client(endpoint, "dynamodb")).create(
        Client(client_id="web", grant_types=("password",))
    )
    write_stack_file(
        stack_file, endpoint, functions={"IssueTokenFunction": {"MAX_ACCESS_TOKEN_LIFETIME": "900"}}
    )
    assert main(["--stack", str(stack_file), "clients", "disable", "web"]) == 0
    err = capsys.readouterr().err
    assert "assuming the default settings" not in err
    stored = ClientStore("clients", client=server_client(endpoint, "dynamodb")).get("web")
    assert stored is not None and stored.enabled is False


def test_writes_are_announced_and_assumed_settings_said(stack, capsys):
    stack.add_user()
    assert main(["users", "disable", "alice"]) == 0
    err = capsys.readouterr().err
    banner = (
        "authctl: writing to https://dynamodb.us-east-1.amazonaws.com "
        "(region us-east-1, account 123456789012)"
    )
    assert banner in err
    assert "assuming the default settings (MAX_ACCESS_TOKEN_LIFETIME=3600" in err
    assert main(["sessions", "list", "alice"]) == 0  # reads only: no banner
    assert "writing to" not in capsys.readouterr().err


class FakeCloudFormation:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:  # noqa: N803
        self.asked.append((StackName, LogicalResourceId))
        return {"StackResourceDetail": {"PhysicalResourceId": f"{StackName}-{LogicalResourceId}-X1"}}


class FakeLambda:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.asked: list[str] = []

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803
        self.asked.append(FunctionName)
        return {"FunctionName": FunctionName, "Environment": {"Variables": self.env}}


@pytest.fixture
def deployed(stack, monkeypatch):
    for name in TABLE_ENV:
        monkeypatch.delenv(name)
    cfn = FakeCloudFormation()
    fn = FakeLambda(
        {name: name.split("_")[0].lower() for name in TABLE_ENV} | {"MAX_ACCESS_TOKEN_LIFETIME": "900"}
    )
    aws.set_client("cloudformation", cfn)
    aws.set_client("lambda", fn)
    return cfn, fn


def test_stack_name_reads_names_and_settings_from_the_deployed_function(deployed, stack, capsys):
    cfn, fn = deployed
    stack.add_user()
    assert main(["--stack-name", "prod", "users", "disable", "alice"]) == 0
    assert cfn.asked == [("prod", "IssueTokenFunction")]
    assert fn.asked == ["prod-IssueTokenFunction-X1"]
    assert UserStore("users").get("alice").enabled is False
    assert "assuming the default settings" not in capsys.readouterr().err


def test_stack_name_mixed_with_exported_names_is_refused(deployed, stack, monkeypatch, capsys):
    monkeypatch.setenv("SESSIONS_TABLE", "other-sessions")
    assert main(["--stack-name", "prod", "users", "disable", "alice"]) == 2
    [line] = _errors(capsys.readouterr().err)
    assert "SESSIONS_TABLE" in line and "--stack-name" in line


def test_two_deployments_at_once_is_refused(deployed, tmp_path, capsys):
    stack_file = write_stack_file(tmp_path / "stack.json", None)
    assert main(["--stack", str(stack_file), "--stack-name", "prod", "users", "enable", "alice"]) == 2
    [line] = _errors(capsys.readouterr().err)
    assert "--stack and --stack-name" in line
