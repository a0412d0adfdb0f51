"""One contract, two backends: the DynamoDB stores (moto) and the memory stores give the same
typed outcomes for the same session transactions, and write nothing when one fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auth_core.errors import (
    AlreadyExistsError,
    InvalidRequestError,
    StoreUnavailableError,
    TemporarilyUnavailableError,
)
from auth_core.stores.clients import Client, ClientStore
from auth_core.stores.interfaces import (
    AlreadyEnded,
    Checked,
    CheckFailed,
    Committed,
    FamilyEnded,
    LostRace,
)
from auth_core.stores.memory import MemoryBackend
from auth_core.stores.revocations import RevocationStore
from auth_core.stores.sessions import ACTIVE, REVOKED, USED, Family, RefreshRecord, SessionStore
from auth_core.stores.users import User, UserStore
from tests.tables import create_template_table

NOW = 1_800_000_000


@dataclass
class Backend:
    users: Any
    clients: Any
    sessions: Any
    revocations: Any


@pytest.fixture(params=["dynamodb", "memory"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    clock = lambda: float(NOW)  # noqa: E731
    if request.param == "memory":
        memory = MemoryBackend(clock=clock)
        yield Backend(memory.users, memory.clients, memory.sessions, memory.revocations)
        return
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        for logical, name in [
            ("UsersTable", "users"),
            ("ClientsTable", "clients"),
            ("SessionsTable", "sessions"),
            ("RevocationsTable", "revocations"),
        ]:
            create_template_table(ddb, logical, name)
        yield Backend(
            UserStore("users", client=ddb, clock=clock),
            ClientStore("clients", client=ddb, wall_clock=clock),
            SessionStore("sessions", client=ddb),
            RevocationStore("revocations", client=ddb, clock=clock),
        )


def _session(b: Backend) -> tuple[User, Client, Family, RefreshRecord]:
    user = b.users.create(User("alice", "hash", scopes=("read",)))
    client = Client("spa", grant_types=("password", "refresh_token"), scopes=("read",))
    b.clients.create(client)
    client = b.clients.get_fresh("spa")
    family = Family(
        "f1", user.subject, "spa", ("read",), (), NOW, NOW + 3600, 600, current="a" * 64, generation=1
    )
    token = RefreshRecord(
        "a" * 64, "f1", "spa", user.subject, ("read",), (), NOW, NOW + 3600, NOW, NOW + 600, 600, 1,
        username="alice", created_ms=NOW * 1000,
    )  # fmt: skip
    checks = [b.users.unchanged("alice", sessions_version=0), b.clients.unchanged(client, epoch=0)]
    assert b.sessions.create(family, token, checks=checks) == Committed()
    return user, client, family, token


def _checks(b: Backend, client: Client, token: RefreshRecord) -> list[Any]:
    return [
        b.users.unchanged("alice", sessions_version=0, privileges_version=0),
        b.clients.unchanged(client, epoch=0),
        b.revocations.no_global_cutoff_since(token.session_created_ms),
    ]


def _rotate(b: Backend, parent: RefreshRecord, checks: list[Any], child_hash: str = "b" * 64) -> Any:
    child = replace(parent, token_hash=child_hash, generation=parent.generation + 1, parent=parent.token_hash)
    return b.sessions.rotate(parent, child, now=NOW, at_jti="j2", at_exp=NOW + 900, checks=checks)


def test_create_then_read_back(backend: Backend) -> None:
    _user, _client, family, token = _session(backend)
    assert backend.sessions.get_token(token.token_hash) == token
    assert backend.sessions.get_family("f1") == family
    assert [f.family_id for f in backend.sessions.families_of(family.subject)] in (["f1"], [])  # GSI lag


def test_rotate_commits_once_then_the_parent_has_lost_the_race(backend: Backend) -> None:
    _user, client, _family, token = _session(backend)
    assert _rotate(backend, token, _checks(backend, client, token)) == Committed()
    parent = backend.sessions.get_token(token.token_hash)
    assert parent.status == USED and parent.child == "b" * 64
    family = backend.sessions.get_family("f1")
    assert (family.current, family.generation, family.at_jti) == ("b" * 64, 2, "j2")
    assert _rotate(backend, token, _checks(backend, client, token), "c" * 64) == LostRace()
    assert backend.sessions.get_token("c" * 64) is None


@pytest.mark.parametrize("change", ["user", "privileges", "client", "global"])
def test_a_failed_check_names_itself_and_writes_nothing(backend: Backend, change: str) -> None:
    _user, client, _family, token = _session(backend)
    if change == "user":
        backend.users.end_sessions("alice", NOW * 1000)
    elif change == "privileges":
        backend.users.set_privileges("alice", scopes=(), roles=())
    elif change == "client":
        backend.clients.set_enabled("spa", False)
    else:
        backend.revocations.set_global_cutoff(NOW * 1000 + 1)
    expected = {
        "user": Checked.USER,
        "privileges": Checked.USER,
        "client": Checked.CLIENT,
        "global": Checked.GLOBAL_CUTOFF,
    }[change]
    assert _rotate(backend, token, _checks(backend, client, token)) == CheckFailed(expected)
    assert backend.sessions.get_token(token.token_hash).status == ACTIVE
    assert backend.sessions.get_token("b" * 64) is None
    assert backend.sessions.get_family("f1").current == token.token_hash


def test_revoke_family_with_its_deny_entries_then_already_ended(backend: Backend) -> None:
    user, client, _family, token = _session(backend)
    writes = [
        backend.revocations.session_write("f1", NOW + 4000),
        backend.revocations.jti_write("j1", NOW + 900),
    ]
    assert backend.sessions.revoke_family("f1", now=NOW, reason="test", writes=writes) == Committed()
    family = backend.sessions.get_family("f1")
    assert (family.status, family.revoked_reason) == (REVOKED, "test")
    facts = backend.revocations.facts(subject=user.subject, jti="j1", session_id="f1")
    assert facts.session_revoked and facts.jti_revoked
    assert backend.sessions.revoke_family("f1", now=NOW, reason="again", writes=[]) == AlreadyEnded()
    assert backend.sessions.revoke_family("nope", now=NOW, reason="x", writes=[]) == AlreadyEnded()
    assert _rotate(backend, token, _checks(backend, client, token)) == FamilyEnded()


def test_cut_offs_only_move_forward(backend: Backend) -> None:
    backend.revocations.set_user_cutoff("u1", NOW * 1000 + 5000, max_token_lifetime=900)
    backend.revocations.set_user_cutoff("u1", NOW * 1000, max_token_lifetime=900)
    assert backend.revocations.not_before("u1") == NOW + 5
    backend.revocations.set_global_cutoff(NOW * 1000)
    assert backend.revocations.global_cutoff_ms() == NOW * 1000
    backend.revocations.set_client_state("c1", NOW * 1000 + 9000, disabled=True, max_token_lifetime=900)
    backend.revocations.set_client_state("c1", NOW * 1000, disabled=False, max_token_lifetime=900)
    facts = backend.revocations.facts(subject="u1", client_id="c1")
    assert not facts.client_disabled and facts.not_before == NOW + 9


def test_the_stores_raise_their_own_errors(backend: Backend) -> None:
    _session(backend)
    with pytest.raises(AlreadyExistsError) as user:
        backend.users.create(User("alice", "other"))
    with pytest.raises(AlreadyExistsError) as client:
        backend.clients.create(Client("spa"))
    assert (user.value.reason, client.value.reason) == ("user_exists", "client_exists")
    assert isinstance(user.value, InvalidRequestError)  # still a 400 / authctl usage error


def test_a_failing_table_is_a_store_error_and_still_a_503() -> None:
    from botocore.exceptions import ClientError

    class Throttled:
        def get_item(self, **_kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetItem")

    with pytest.raises(StoreUnavailableError) as info:
        SessionStore("sessions", client=Throttled()).get_token("a" * 64)
    assert isinstance(info.value, TemporarilyUnavailableError) and info.value.status == 503
    assert isinstance(info.value.__cause__, ClientError)


def test_a_browser_client_reads_back_as_registered(backend: Backend) -> None:
    client = Client(
        "web",
        grant_types=("authorization_code", "refresh_token"),
        scopes=("openid",),
        redirect_uris=("https://app.example.com/cb", "http://127.0.0.1/cb"),
        post_logout_redirect_uris=("https://app.example.com/bye",),
        first_party=True,
        require_par=True,
    )
    backend.clients.create(client)
    found = backend.clients.get("web")
    assert found is not None
    assert found.redirect_uris == client.redirect_uris
    assert found.post_logout_redirect_uris == client.post_logout_redirect_uris
    assert (found.first_party, found.require_par, found.confidential) == (True, True, False)
    backend.clients.create(Client("plain"))
    plain = backend.clients.get("plain")
    assert plain is not None
    assert (plain.redirect_uris, plain.first_party, plain.require_par) == ((), False, False)
