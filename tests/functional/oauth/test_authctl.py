"""``authctl users|clients|sessions`` against moto tables."""

from __future__ import annotations

import io
import json

import pytest

from auth_core.errors import InvalidGrantError
from auth_core.passwords import PasswordHasher
from auth_core.stores.clients import ClientStore
from auth_core.stores.users import UserStore
from authctl.cli import main
from tests.functional.oauth.helpers import body, password_request, refresh_request


@pytest.fixture
def cli(stack, monkeypatch, capsys):
    def run(*argv: str, stdin: str = "") -> tuple[int, dict]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out = capsys.readouterr().out
        return code, (json.loads(out) if out.strip() else {})

    return run


def test_users_create_reads_password_from_stdin(cli):
    code, out = cli(
        "users", "create", "carol", "--scopes", "read", "--roles", "admin", stdin="s3cure-passw0rd\n"
    )
    assert code == 0
    user = UserStore("users").get("carol")
    assert (user.scopes, user.roles, user.enabled) == (("read",), ("admin",), True)
    PasswordHasher().verify("s3cure-passw0rd", user.password_hash)
    assert "s3cure" not in json.dumps(out)


def test_users_create_refuses_short_password_and_duplicates(cli, capsys):
    assert cli("users", "create", "dave", stdin="short\n")[0] == 2
    assert cli("users", "create", "dave", stdin="long-enough-pw\n")[0] == 0
    assert cli("users", "create", "dave", stdin="long-enough-pw\n")[0] == 2


def test_clients_create_prints_secret_once_and_stores_hash(cli, stack):
    code, out = cli(
        "clients", "create", "svc", "--confidential", "--grants", "client_credentials", "--scopes", "read"
    )
    assert code == 0
    secret = out["client_secret"]
    client = ClientStore("clients").get("svc")
    assert client.secret_matches(secret)
    assert secret not in json.dumps(stack.scan("clients"))
    assert cli("clients", "create", "pub", "--grants", "client_credentials")[0] == 2  # needs --confidential


def test_disable_logout_and_sessions(cli, stack, service, issuers, clock):
    stack.add_user()
    stack.add_client()
    first = body(service.token(password_request(), issuers))
    second = body(service.token(password_request(), issuers))
    code, out = cli("sessions", "list", "alice")
    assert code == 0 and len(out["sessions"]) == 2
    family = out["sessions"][0]["family_id"]
    assert cli("sessions", "revoke", family)[1]["revoked"] is True
    assert cli("sessions", "revoke", family)[1]["revoked"] is False
    statuses = sorted(s["status"] for s in cli("sessions", "list", "alice")[1]["sessions"])
    assert statuses == ["active", "revoked"]
    assert cli("users", "logout-all", "alice")[1]["families_revoked"] == 1
    for pair in (first, second):
        with pytest.raises(InvalidGrantError):
            service.token(refresh_request(pair["refresh_token"]), issuers)
    assert cli("users", "disable", "alice")[0] == 0
    assert UserStore("users").get("alice").enabled is False
    assert cli("users", "enable", "alice")[0] == 0
    assert cli("users", "logout-all", "nobody")[0] == 2


def test_set_password_ends_sessions(cli, stack, service, issuers):
    stack.add_user()
    stack.add_client()
    pair = body(service.token(password_request(), issuers))
    code, out = cli("users", "set-password", "alice", stdin="brand-new-password\n")
    assert (code, out["families_revoked"]) == (0, 1)
    with pytest.raises(InvalidGrantError):
        service.token(refresh_request(pair["refresh_token"]), issuers)
    PasswordHasher().verify("brand-new-password", UserStore("users").get("alice").password_hash)


def test_table_names_from_stack_file(cli, tmp_path, monkeypatch):
    for var in ("USERS_TABLE", "CLIENTS_TABLE", "SESSIONS_TABLE", "REVOCATIONS_TABLE"):
        monkeypatch.delenv(var)
    assert cli("clients", "create", "x")[0] == 2  # no table name anywhere
    stack_file = tmp_path / "stack.json"
    stack_file.write_text(json.dumps({"clients_table": "clients", "region": "us-east-1"}))
    assert (
        cli("--stack", str(stack_file), "clients", "create", "x", "--grants", "password", "--confidential")[0]
        == 0
    )
    # disabling writes the revocation feed too (the client's tokens are refused everywhere)
    assert cli("clients", "disable", "x", "--clients-table", "clients")[0] == 2
    assert (
        cli("clients", "disable", "x", "--clients-table", "clients", "--revocations-table", "revocations")[0]
        == 0
    )
    assert ClientStore("clients").get("x").enabled is False


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_interactive_password_prompt_says_the_rules_first_and_asks_twice(stack, monkeypatch, capsys):
    typed = iter(["Tr0ub4dor&3-staple", "Tr0ub4dor&3-staple", "horse-battery-1", "horse-battery-2"])
    prompts: list[str] = []

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("getpass.getpass", getpass)
    assert main(["users", "create", "erin"]) == 0
    err = capsys.readouterr().err
    assert "Use 8 to 64 characters" in err and "common password" in err
    assert prompts == ["Password: ", "Password (again): "]
    assert main(["users", "create", "frank"]) == 2  # the two entries differ
    assert "passwords do not match" in capsys.readouterr().err
    assert UserStore("users").get("frank") is None
