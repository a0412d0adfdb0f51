"""The OAuth logic over the in-memory stores (auth_core.stores.memory): the same TokenService,
RefreshRotator and revocation code as production, with no DynamoDB anywhere. That they run
unchanged here proves the seam; DynamoDB stays the production and functional-test backend."""

from __future__ import annotations

import json
import os
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from auth_core.errors import InvalidGrantError, RevokedTokenError, UnauthorizedClientError
from auth_core.jwk import generate_signing_key
from auth_core.keyset import KeyRecord, KeySet
from auth_core.oauth.audit import RecordingAudit
from auth_core.oauth.grants import TokenPolicy, TokenService
from auth_core.oauth.refresh import hash_refresh_token
from auth_core.oauth.request import ClientCredentials, OAuthRequest
from auth_core.oauth.revocation import RevocationService, set_client_enabled
from auth_core.passwords import PasswordHasher
from auth_core.revocation_feed import RevocationFeed
from auth_core.stores.clients import Client, hash_client_secret
from auth_core.stores.interfaces import (
    AlreadyEnded,
    Checked,
    CheckFailed,
    Committed,
    FamilyEnded,
    LostRace,
)
from auth_core.stores.memory import MemoryBackend
from auth_core.stores.sessions import ACTIVE, REVOKED, USED
from auth_core.stores.users import User
from auth_core.tokens import AccessTokenIssuer

NOW = 1_800_000_000
PASSWORD = "correct horse battery staple"
SECRET = "s" * 43
#: the password grant is for confidential clients only (RFC 9700 §2.4): "spa" is a first-party
#: web app's backend, with a secret
SPA_SECRET = "p" * 43
HASHER = PasswordHasher(memory_cost=256, iterations=1)
IP = "203.0.113.5"


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend(clock: Clock) -> MemoryBackend:
    backend = MemoryBackend(clock=clock)
    backend.users.create(
        User("alice", HASHER.hash(PASSWORD), roles=("user",), scopes=("openid", "read", "write"))
    )
    backend.clients.create(
        Client(
            "spa",
            secret_hash=hash_client_secret(SPA_SECRET),
            grant_types=("password", "refresh_token"),
            scopes=("openid", "read", "write"),
            default_scopes=("openid", "read", "write"),
        )
    )
    backend.clients.create(
        Client(
            "svc",
            secret_hash=hash_client_secret(SECRET),
            grant_types=("client_credentials",),
            scopes=("read",),
            default_scopes=("read",),
        )
    )
    return backend


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit()


@pytest.fixture
def service(backend: MemoryBackend, clock: Clock, audit: RecordingAudit) -> TokenService:
    key = generate_signing_key("ES256")
    keys = KeySet(
        [KeyRecord(key=key, status="active", created_at=NOW - 100, activated_at=NOW - 100)],
        grace_secret=os.urandom(32),
    )
    return TokenService(
        **backend.stores(),
        keys=keys,
        policy=TokenPolicy(),
        hasher=HASHER,
        audit=audit,
        clock=clock,
        sleep=lambda _s: None,
    )


def issuers(clock: Clock) -> Any:
    return lambda ttl: AccessTokenIssuer(
        "https://auth.example.com", "https://api.example.com", ttl, clock=clock
    )


def request(client: str = "spa", secret: str | None = None, **params: str) -> OAuthRequest:
    if client == "spa" and secret is None:
        secret = SPA_SECRET
    credentials = ClientCredentials(client, secret, "post" if secret else "none")
    return OAuthRequest(params={"client_id": client, **params}, client=credentials, source_ip=IP)


def login(service: TokenService, clock: Clock) -> dict[str, Any]:
    result = service.token(
        request(grant_type="password", username="alice", password=PASSWORD), issuers(clock)
    )
    return json.loads(result.body)


def refresh(service: TokenService, clock: Clock, token: str) -> dict[str, Any]:
    return json.loads(
        service.token(request(grant_type="refresh_token", refresh_token=token), issuers(clock)).body
    )


def family_of(backend: MemoryBackend, token: str) -> str:
    record = backend.sessions.get_token(hash_refresh_token(token))
    assert record is not None
    return record.family_id


# ---------------------------------------------------------------- grants
def test_password_grant_creates_one_family_with_one_live_token(service, backend, clock):
    doc = login(service, clock)
    assert doc["token_type"] == "Bearer" and doc["refresh_token"]
    family = backend.sessions.get_family(family_of(backend, doc["refresh_token"]))
    assert family is not None and family.status == ACTIVE
    assert family.current == hash_refresh_token(doc["refresh_token"])


def test_client_credentials_grant_and_its_registry_rules(service, clock):
    doc = json.loads(
        service.token(request("svc", SECRET, grant_type="client_credentials"), issuers(clock)).body
    )
    assert doc["scope"] == "read" and "refresh_token" not in doc
    with pytest.raises(UnauthorizedClientError):
        service.token(request(grant_type="client_credentials"), issuers(clock))  # not "spa"'s grant


def test_wrong_password_is_invalid_grant(service, clock):
    with pytest.raises(InvalidGrantError):
        service.token(request(grant_type="password", username="alice", password="nope"), issuers(clock))


# ---------------------------------------------------------------- rotation and reuse
def test_refresh_rotates_and_the_parent_becomes_used(service, backend, clock):
    first = login(service, clock)
    clock.now += 60
    second = refresh(service, clock, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    parent = backend.sessions.get_token(hash_refresh_token(first["refresh_token"]))
    assert parent is not None and parent.status == USED
    assert parent.child == hash_refresh_token(second["refresh_token"])


def test_a_retry_within_the_grace_window_gets_the_identical_response(service, clock, audit):
    first = login(service, clock)
    a = service.token(
        request(grant_type="refresh_token", refresh_token=first["refresh_token"]), issuers(clock)
    )
    b = service.token(
        request(grant_type="refresh_token", refresh_token=first["refresh_token"]), issuers(clock)
    )
    assert b.body == a.body and b.replayed
    assert "RefreshGraceReplay" in audit.names()


def test_reuse_after_the_window_revokes_the_family_and_its_access_tokens(service, backend, clock, audit):
    first = login(service, clock)
    second = refresh(service, clock, first["refresh_token"])
    clock.now += 3600
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, clock, first["refresh_token"])
    assert info.value.reason == "refresh_reuse"
    family_id = family_of(backend, first["refresh_token"])
    family = backend.sessions.get_family(family_id)
    assert family is not None and family.status == REVOKED and family.revoked_reason == "reuse"
    user = backend.users.get("alice")
    assert user is not None
    assert backend.revocations.facts(subject=user.user_id, session_id=family_id).session_revoked
    with pytest.raises(InvalidGrantError):
        refresh(service, clock, second["refresh_token"])  # the child died with its family
    assert "RefreshTokenReuse" in audit.names()


def test_concurrent_refreshes_commit_exactly_one_child(service, backend, clock):
    first = login(service, clock)
    results: list[object] = [None] * 8
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = refresh(service, clock, first["refresh_token"])["refresh_token"]
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert {r for r in results if isinstance(r, str)} == {results[0]}  # grace: all the same child
    assert len(backend.db.tokens) == 2  # the parent and exactly one child: no fork


# ---------------------------------------------------------------- what a refresh re-checks
def test_a_password_change_between_read_and_write_fails_the_refresh(service, backend, clock):
    first = login(service, clock)
    rotate = backend.sessions.rotate

    def reset_then_rotate(*args: Any, **kwargs: Any) -> Any:
        service.revoker.set_password("alice", HASHER.hash("a new password, long enough"))
        return rotate(*args, **kwargs)

    backend.sessions.rotate = reset_then_rotate  # type: ignore[method-assign]
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, clock, first["refresh_token"])
    assert info.value.reason == "user_inactive"


def test_a_privilege_change_is_re_derived_at_refresh(service, backend, clock):
    first = login(service, clock)
    backend.users.set_privileges("alice", scopes=("openid",), roles=("reader",))
    doc = refresh(service, clock, first["refresh_token"])
    assert doc["scope"] == "openid"


def test_a_client_disabled_since_the_session_began_ends_it(service, backend, clock):
    first = login(service, clock)
    for enabled in (False, True):  # disabled, then enabled again: its sessions stay over
        set_client_enabled(
            backend.clients, backend.revocations, "spa", enabled, max_token_lifetime=3600, clock=clock
        )
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, clock, first["refresh_token"])
    assert info.value.reason == "client_disabled"
    family = backend.sessions.get_family(family_of(backend, first["refresh_token"]))
    assert family is not None and family.status == REVOKED


def test_a_global_cut_off_ends_every_session(service, backend, clock):
    first = login(service, clock)
    clock.now += 10
    backend.revocations.set_global_cutoff(int(clock.now * 1000))
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, clock, first["refresh_token"])
    assert info.value.reason == "session_cut_off"


def test_a_reset_during_login_fails_the_login(service, backend, clock):
    create = backend.sessions.create

    def reset_then_create(*args: Any, **kwargs: Any) -> Any:
        backend.users.end_sessions("alice", int(clock.now * 1000))
        return create(*args, **kwargs)

    backend.sessions.create = reset_then_create  # type: ignore[method-assign]
    with pytest.raises(InvalidGrantError) as info:
        login(service, clock)
    assert info.value.reason == "user_changed"
    assert backend.db.families == {}  # all or nothing


# ---------------------------------------------------------------- revocation (RFC 7009)
def revocation_service(
    service: TokenService, backend: MemoryBackend, verifier: Any = None
) -> RevocationService:
    return RevocationService(
        clients=backend.clients,
        sessions=backend.sessions,
        revocations=backend.revocations,
        revoker=service.revoker,
        verifier=verifier,
    )


def test_revoking_a_refresh_token_ends_its_family(service, backend, clock):
    first = login(service, clock)
    revocation_service(service, backend).revoke(request(token=first["refresh_token"]))
    family = backend.sessions.get_family(family_of(backend, first["refresh_token"]))
    assert family is not None and family.status == REVOKED and family.revoked_reason == "revoked_by_client"
    with pytest.raises(InvalidGrantError):
        refresh(service, clock, first["refresh_token"])


def test_revoking_an_access_token_deny_lists_its_jti(service, backend, clock):
    claims = SimpleNamespace(client_id="spa", jti="j-1", expires_at=NOW + 900)
    verifier = SimpleNamespace(verify=lambda _token: claims)
    revocation_service(service, backend, verifier).revoke(
        request(token="a.b.c", token_type_hint="access_token")
    )
    assert backend.revocations.facts(subject="anyone", jti="j-1").jti_revoked


def test_logout_all_revokes_every_family_and_cuts_off_the_user(service, backend, clock):
    tokens = [login(service, clock)["refresh_token"] for _ in range(3)]
    assert service.revoker.logout_all("alice") == 3
    user = backend.users.get("alice")
    assert user is not None and backend.revocations.not_before(user.user_id) > NOW
    for token in tokens:
        with pytest.raises(InvalidGrantError):
            refresh(service, clock, token)


# ---------------------------------------------------------------- the store transaction itself
def test_a_failed_check_writes_nothing_and_names_the_check(service, backend, clock):
    first = login(service, clock)
    parent = backend.sessions.get_token(hash_refresh_token(first["refresh_token"]))
    assert parent is not None
    child = parent.__class__(**{**parent.__dict__, "token_hash": "c" * 64, "generation": 2})
    before = (dict(backend.db.tokens), dict(backend.db.families))
    stale = backend.users.unchanged(parent.user_key, sessions_version=parent.sessions_version + 1)
    outcome = backend.sessions.rotate(parent, child, now=NOW, at_jti="j", at_exp=NOW + 900, checks=[stale])
    assert outcome == CheckFailed(Checked.USER)
    assert (backend.db.tokens, backend.db.families) == before
    ok = backend.sessions.rotate(parent, child, now=NOW, at_jti="j", at_exp=NOW + 900, checks=[])
    assert isinstance(ok, Committed) and ok.ok
    again = backend.sessions.rotate(parent, child, now=NOW, at_jti="j", at_exp=NOW + 900, checks=[])
    assert again == LostRace()


def test_rotation_of_an_ended_family_and_a_second_revocation(service, backend, clock):
    first = login(service, clock)
    parent = backend.sessions.get_token(hash_refresh_token(first["refresh_token"]))
    assert parent is not None
    assert isinstance(
        backend.sessions.revoke_family(parent.family_id, now=NOW, reason="t", writes=[]), Committed
    )
    assert backend.sessions.revoke_family(parent.family_id, now=NOW, reason="t", writes=[]) == AlreadyEnded()
    child = parent.__class__(**{**parent.__dict__, "token_hash": "d" * 64})
    assert backend.sessions.rotate(parent, child, now=NOW, at_jti="j", at_exp=0, checks=[]) == FamilyEnded()


def test_the_revocation_feed_reads_the_memory_store(service, backend, clock):
    first = login(service, clock)
    family_id = family_of(backend, first["refresh_token"])
    service.revoker.revoke_family(family_id, reason="test")
    feed = RevocationFeed(backend.revocations, wall=clock)
    with pytest.raises(RevokedTokenError) as info:
        feed.check(jti="j", subject="u", issued_at=NOW, session_id=family_id)
    assert info.value.reason == "revoked_session"
