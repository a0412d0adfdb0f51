"""Accounts done right: no lock-out of others, one identity per person, least privilege by default.

Each test reproduces a finding of the accounts review (issue "Accounts, clients and operators")
that held on the code before it.
"""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth_core.errors import InvalidGrantError, InvalidRequestError, SlowDownError
from auth_core.oauth.request import parse_request
from auth_core.stores.throttle import LoginThrottle, ThrottleLimits
from auth_core.usernames import canonical_username
from authctl.cli import main
from tests.functional.oauth.helpers import body, http_event, password_request


@pytest.fixture
def seeded(stack):
    stack.add_user()
    stack.add_client()
    return stack


def from_address(address: str, **params: str) -> Any:
    """A password-grant request as API Gateway would pass it from ``address``."""
    request = password_request(**params)
    event = http_event(params=dict(request.params))
    event["requestContext"]["http"]["sourceIp"] = address
    return parse_request(event)


# ---------------------------------------------------------------- 1. no lock-out of others
def test_a_flood_from_one_address_does_not_lock_the_owner_out_elsewhere(seeded, service, issuers) -> None:
    """docs/threat-model.md T-ACC-2.

    It used to: five wrong passwords made the right one answer 429 for everyone, for 300 s.
    """
    for _ in range(5):
        with pytest.raises(InvalidGrantError):
            service.token(from_address("198.51.100.66", password="guess-guess"), issuers)
    for _ in range(20):
        with pytest.raises(SlowDownError):  # the flood is stopped at its own address...
            service.token(from_address("198.51.100.66", password="guess-guess"), issuers)
    # ...and the owner, from their own address, logs in at once
    assert body(service.token(from_address("203.0.113.10"), issuers))["access_token"]


def test_a_distributed_guesser_is_slowed_not_handed_a_lockout(seeded, service, issuers, clock) -> None:
    """docs/threat-model.md T-ACC-2."""
    limits = service.throttle.limits
    allowed = 0
    for i in range(limits.user_burst + 10):  # one guess from each of many addresses
        try:
            service.token(from_address(f"10.0.{i // 250}.{i % 250}", password="guess-guess"), issuers)
        except InvalidGrantError:
            allowed += 1
        except SlowDownError as slow:
            assert 1 <= slow.retry_after <= limits.interval_ms / 1000 + 1
    assert allowed == limits.user_burst  # then one guess per slot: slowed, never locked
    with pytest.raises(SlowDownError):
        service.token(from_address("203.0.113.10"), issuers)
    clock.advance(limits.interval_ms / 1000)
    assert body(service.token(from_address("203.0.113.10"), issuers))["access_token"]


def test_unlock_and_a_new_password_clear_every_throttle(seeded, service, issuers, capsys) -> None:
    """docs/threat-model.md T-ACC-2."""
    for _ in range(5):
        with pytest.raises(InvalidGrantError):
            service.token(from_address("198.51.100.66", password="guess-guess"), issuers)
    with pytest.raises(SlowDownError):
        service.token(from_address("198.51.100.66"), issuers)
    assert main(["users", "unlock", "alice"]) == 0
    capsys.readouterr()
    assert body(service.token(from_address("198.51.100.66"), issuers))["access_token"]


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(guesses=st.integers(min_value=1, max_value=24), threads=st.integers(min_value=2, max_value=8))
def test_concurrent_guesses_never_hash_more_than_the_limit(remote_throttle, guesses, threads) -> None:
    """docs/threat-model.md T-ACC-2.

    Whatever the interleaving, a guess is hashed only after its attempt was counted, and the
    count is one conditional write: never more hashes than the limit (it used to be 8, 9, 17)."""
    throttle, username = remote_throttle()
    hashed = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def guess(n: int) -> None:
        barrier.wait()
        for _ in range(n):
            try:
                throttle.take(username, "198.51.100.66")
            except SlowDownError:
                continue
            with lock:
                hashed.append(1)  # where the password would be hashed

    workers = [threading.Thread(target=guess, args=(guesses,)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert len(hashed) <= throttle.limits.per_address
    assert len(hashed) == min(throttle.limits.per_address, guesses * threads)


@pytest.fixture
def remote_throttle(server):
    """A fresh username on the threaded moto server (its DynamoDB serialised like the real one)."""
    import boto3

    from tests.functional.oauth.conftest import create_tables

    ddb = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=server,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    if "sessions" not in ddb.list_tables()["TableNames"]:
        create_tables(ddb)
    counter = iter(range(1_000_000))

    def make() -> tuple[LoginThrottle, str]:
        return LoginThrottle("sessions", limits=ThrottleLimits(), client=ddb), f"victim-{next(counter)}"

    return make


# ---------------------------------------------------------------- 3. one identity per person
@pytest.mark.parametrize("typed", ["Alice", "ALICE", "ａｌｉｃｅ", "alice"])
def test_case_and_width_variants_are_the_same_person(seeded, service, issuers, typed) -> None:
    """docs/threat-model.md T-ACC-3."""
    token = body(service.token(password_request(username=typed), issuers))
    assert token["access_token"]
    with pytest.raises(InvalidRequestError):
        from auth_core.stores.users import User

        service.users.create(User(username=canonical_username(typed), password_hash="x"))


@pytest.mark.parametrize("bad", ["alice ", " alice", "al ice", "al\x00ice", "a\u200bb", "x" * 200, ""])
def test_malformed_usernames_are_refused_before_any_lookup(seeded, service, issuers, bad) -> None:
    """docs/threat-model.md T-ACC-3."""
    with pytest.raises(InvalidRequestError):
        canonical_username(bad)
    if bad:  # at the token endpoint: a 400 before any lookup (a control character never parses)
        with pytest.raises((InvalidGrantError, InvalidRequestError)) as info:
            service.token(password_request(username=bad), issuers)
        assert info.value.reason in {"username_format", "parameter_format"}


def test_the_sub_is_opaque_and_never_a_client_id(seeded, stack, service, issuers) -> None:
    """docs/threat-model.md T-ACC-3."""
    stack.add_user("backend-svc")  # a user named like a client id...
    stack.add_client("backend-svc", secret="s" * 43, grants=("client_credentials", "password"))
    user_token = body(service.token(password_request(username="backend-svc"), issuers))
    import jwt

    sub = jwt.decode(user_token["access_token"], options={"verify_signature": False})["sub"]
    assert sub != "backend-svc" and sub.startswith("u_")  # ...no longer shares the client's sub


def test_users_from_before_ids_get_one_at_login_and_keep_working(seeded, stack, service, issuers) -> None:
    stack.ddb.update_item(
        TableName="users",
        Key={"username": {"S": "alice"}},
        UpdateExpression="REMOVE user_id",
    )
    first = body(service.token(password_request(), issuers))
    user = service.users.get("alice")
    assert user.user_id.startswith("u_") and user.legacy_subject == "alice"
    import jwt

    assert jwt.decode(first["access_token"], options={"verify_signature": False})["sub"] == user.user_id


# ---------------------------------------------------------------- 4. least privilege by default
def cli(*argv: str, stdin: str = "") -> tuple[int, dict[str, Any] | None]:
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = old
    return code, None


def test_users_and_clients_get_nothing_unless_given(stack, capsys) -> None:
    assert cli("users", "create", "carol", stdin="a long unusual passphrase 7\n")[0] == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["scopes"], doc["roles"]) == ([], [])
    assert cli("clients", "create", "web")[0] == 2  # grants are required
    assert "--grants is required" in capsys.readouterr().err
    assert cli("clients", "create", "web", "--confidential", "--grants", "password")[0] == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["scopes"], doc["default_scopes"]) == ([], [])


@pytest.mark.parametrize(
    "argv",
    [
        ["users", "create", "dave", "--scopes", "admin"],
        ["clients", "create", "web", "--grants", "implicit"],
        ["clients", "create", "web", "--confidential", "--grants", "password", "--scopes", "admin"],
        ["clients", "create", "web", "--confidential", "--grants", "password", "--scopes", "read",
         "--default-scopes", "write"],
        ["clients", "create", "u_sneaky", "--confidential", "--grants", "password"],
        ["clients", "create", "web", "--grants", "password"],  # public: RFC 9700 §2.4
    ],
)
def test_unknown_scopes_and_grants_are_refused_at_creation(stack, capsys, argv) -> None:
    assert cli(*argv, stdin="a long unusual passphrase 7\n")[0] == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1  # one clear line


def test_a_request_without_scope_gets_the_clients_defaults_only(stack, service, issuers) -> None:
    stack.add_user(scopes=("openid", "read", "write"))
    stack.add_client("narrow", scopes=("openid", "read", "write"), default_scopes=("openid",))
    stack.add_client("bare", scopes=("openid", "read", "write"), default_scopes=())
    assert body(service.token(password_request(client_id="narrow"), issuers))["scope"] == "openid"
    assert body(service.token(password_request(client_id="bare"), issuers))["scope"] == ""
    asked = body(service.token(password_request(client_id="bare", scope="read write"), issuers))
    assert asked["scope"] == "read write"


# ---------------------------------------------------------------- 5. weak passwords
@pytest.mark.parametrize("weak", ["password", "12345678", "Password1", "carolcarol", "short"])
def test_weak_passwords_are_refused_by_authctl(stack, capsys, weak) -> None:
    assert cli("users", "create", "carol", stdin=weak + "\n")[0] == 2
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1  # one clear line
    assert f"'{weak}'" not in err and f'"{weak}"' not in err  # never echoed back


def test_the_owners_own_logins_do_not_spend_the_bucket(seeded, service, issuers) -> None:
    """The per-username bucket limits guesses: successful logins give their attempt back."""
    for _ in range(service.throttle.limits.user_burst * 2):
        assert body(service.token(from_address("203.0.113.10"), issuers))["access_token"]
