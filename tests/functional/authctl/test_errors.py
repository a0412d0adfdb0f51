"""Every environment mistake answers one line and a non-zero exit code, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import boto3
import pytest
from botocore.exceptions import ClientError

from auth_core import aws
from authctl.cli import main
from tests.functional.authctl.conftest import write_stack_file

TABLES = ["--users-table", "users", "--sessions-table", "sessions", "--revocations-table", "revocations"]
COMMANDS = [
    pytest.param(["users", "enable", "alice", *TABLES], id="users-enable"),
    pytest.param(["users", "logout-all", "alice", *TABLES], id="users-logout-all"),
    pytest.param(["keys", "--signing-secret", "s", "list"], id="keys-list"),
]


def one_error(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("authctl: error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def bare_aws(monkeypatch, tmp_path):
    """No AWS configuration files, no instance or container credentials to fall back on."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("argv", COMMANDS)
def test_no_region(bare_aws, monkeypatch, capsys, argv):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert main(argv) == 2
    assert "no AWS region" in one_error(capsys.readouterr().err)


@pytest.mark.parametrize("argv", COMMANDS)
def test_no_credentials(bare_aws, monkeypatch, capsys, argv):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(argv) == 2
    assert "no AWS credentials" in one_error(capsys.readouterr().err)


def test_stale_stack_file(tmp_path, capsys):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])  # a pid that no longer runs
    gone.wait()
    stack_file = write_stack_file(tmp_path / "stack.json", "http://127.0.0.1:9", pid=gone.pid)
    assert main(["--stack", str(stack_file), "users", "enable", "alice"]) == 2
    line = one_error(capsys.readouterr().err)
    assert "stale" in line and str(gone.pid) in line and "auth-local serve" in line


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("argv", COMMANDS)
def test_local_stack_not_reachable(tmp_path, capsys, argv):
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    stack_file = write_stack_file(tmp_path / "stack.json", endpoint)
    stack_file.write_text(stack_file.read_text().replace('"pid"', '"written_by"'))  # no pid to check
    argv = argv[: argv.index("--users-table")] if "--users-table" in argv else argv  # names: the file's
    assert main(["--stack", str(stack_file), *argv]) == 1
    line = one_error(capsys.readouterr().err)
    assert f"cannot reach {endpoint}" in line and "auth-local serve" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["users", "enable", "", *TABLES],
        ["users", "disable", " ", *TABLES],
        ["clients", "disable", "", *TABLES],
        ["sessions", "revoke", "", *TABLES],
    ],
)
def test_empty_identifier(capsys, argv):
    assert main(argv) == 2
    assert "must not be empty" in one_error(capsys.readouterr().err)


class DeniedDynamo:
    """A DynamoDB client whose writes are denied by IAM."""

    def __init__(self, real) -> None:
        self._real = real

    def __getattr__(self, name):
        if name in {"update_item", "put_item", "transact_write_items"}:

            def deny(**_kw):
                error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
                raise ClientError(error, "UpdateItem")

            return deny
        return getattr(self._real, name)


def test_access_denied(stack, capsys):
    stack.add_user()
    aws.set_client("dynamodb", DeniedDynamo(boto3.client("dynamodb")))
    assert main(["users", "disable", "alice"]) == 2
    line = one_error(capsys.readouterr().err)
    assert "access denied" in line and "AccessDeniedException" in line
