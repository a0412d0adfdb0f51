"""Refresh-token rotation: docs/threat-model.md §8 (R-ROT, R-RACE-3/4, R-STATE, R-CONF, R-FMT)."""

from __future__ import annotations

import json

import pytest

from auth_core.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidScopeError,
    TemporarilyUnavailableError,
)
from auth_core.oauth.refresh import hash_refresh_token, new_refresh_token
from tests.functional.oauth.conftest import BACKEND_SECRET
from tests.functional.oauth.helpers import body, password_request, poke_user, refresh_request


@pytest.fixture
def seeded(stack):
    stack.add_user()
    stack.add_client()
    stack.add_client("other-spa")
    stack.add_client(
        "backend-svc", secret=BACKEND_SECRET, grants=("client_credentials", "refresh_token", "password")
    )
    return stack


@pytest.fixture
def pair(seeded, service, issuers):
    return body(service.token(password_request(), issuers))


def refresh(service, issuers, token, **extra):
    return service.token(refresh_request(token, **extra), issuers)


def family_of(stack, token):
    item = stack.item("sessions", {"pk": {"S": f"rt#{hash_refresh_token(token)}"}})
    return stack.item("sessions", {"pk": {"S": f"fam#{item['family_id']['S']}"}})


def live_tokens(stack):
    return [
        i for i in stack.scan("sessions") if i["pk"]["S"].startswith("rt#") and i["status"]["S"] == "active"
    ]


def assert_family_revoked(stack, token):
    assert family_of(stack, token)["status"]["S"] == "revoked"


# ---------------------------------------------------------------- R-ROT
def test_r_rot_1_rotation_returns_new_pair_same_family(seeded, service, issuers, pair, audit, clock):
    clock.advance(30)
    doc = body(refresh(service, issuers, pair["refresh_token"]))
    assert doc["refresh_token"] != pair["refresh_token"]
    assert doc["access_token"] != pair["access_token"]
    assert doc["scope"] == "openid read write"
    assert family_of(seeded, doc["refresh_token"]) == family_of(seeded, pair["refresh_token"])
    parent = seeded.item("sessions", {"pk": {"S": f"rt#{hash_refresh_token(pair['refresh_token'])}"}})
    assert parent["status"]["S"] == "used"
    assert len(live_tokens(seeded)) == 1
    assert "RefreshSucceeded" in audit.names()


@pytest.mark.parametrize("grace", [0, 10])
def test_r_rot_2_replay_after_window_revokes_family(seeded, stack, clock, issuers, audit, grace):
    from auth_core.oauth.grants import TokenService
    from tests.functional.oauth.conftest import FAST_HASHER

    service = TokenService.from_settings(
        stack.settings(refresh_grace_seconds=grace),
        keys=stack.keyset,
        audit=audit,
        hasher=FAST_HASHER,
        clock=clock,
    )
    rt1 = body(service.token(password_request(), issuers))["refresh_token"]
    rt2 = body(refresh(service, issuers, rt1))["refresh_token"]
    clock.advance(grace + 1)
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, rt1)
    assert info.value.reason == "refresh_reuse"
    assert "RefreshTokenReuse" in audit.names()
    assert "FamilyRevoked" in audit.names()
    with pytest.raises(InvalidGrantError):  # the live child dies with its family
        refresh(service, issuers, rt2)
    assert_family_revoked(stack, rt2)


def test_reuse_deny_lists_the_newest_access_token(seeded, service, issuers, pair, clock):
    doc = body(refresh(service, issuers, pair["refresh_token"]))
    clock.advance(60)
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, pair["refresh_token"])
    from jwt import decode

    from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy  # noqa: F401

    jti = decode(doc["access_token"], options={"verify_signature": False})["jti"]
    assert service.revoker.revocations.facts(subject=service.users.get("alice").user_id, jti=jti).jti_revoked


def test_r_rot_3_older_ancestor_within_its_window_is_reuse(seeded, service, issuers, pair, clock, audit):
    rt1 = pair["refresh_token"]
    rt2 = body(refresh(service, issuers, rt1))["refresh_token"]
    clock.advance(2)
    rt3 = body(refresh(service, issuers, rt2))["refresh_token"]
    clock.advance(2)  # rt1 is still inside its own 10 s window, but rt2 is no longer live
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, rt1)
    assert "RefreshTokenReuse" in audit.names()
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, rt3)


def test_r_rot_4_revoked_family_token_is_invalid_grant(seeded, service, issuers, pair):
    item = seeded.item("sessions", {"pk": {"S": f"rt#{hash_refresh_token(pair['refresh_token'])}"}})
    service.revoker.revoke_family(item["family_id"]["S"], reason="test")
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, pair["refresh_token"])
    assert info.value.reason == "family_inactive"


# ---------------------------------------------------------------- R-RACE-3: retry-safe grace
def test_r_race_3_retry_within_window_is_byte_identical(seeded, service, issuers, pair, clock, audit):
    first = refresh(service, issuers, pair["refresh_token"])
    clock.advance(9)
    again = refresh(service, issuers, pair["refresh_token"])
    assert again.body == first.body
    assert again.replayed and not first.replayed
    assert "RefreshGraceReplay" in audit.names()
    assert "RefreshTokenReuse" not in audit.names()
    # the replayed child is the live one: it still rotates normally
    doc = body(refresh(service, issuers, body(again)["refresh_token"]))
    assert doc["refresh_token"]
    assert len(live_tokens(seeded)) == 1


def test_grace_window_edge_is_exclusive(seeded, service, issuers, pair, clock):
    refresh(service, issuers, pair["refresh_token"])
    clock.advance(10)
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, pair["refresh_token"])


def test_grace_blob_is_not_the_response_in_clear(seeded, service, issuers, pair):
    """docs/threat-model.md T-REF-1."""
    doc = body(refresh(service, issuers, pair["refresh_token"]))
    dump = json.dumps(seeded.scan("sessions"))
    assert doc["refresh_token"] not in dump
    assert doc["access_token"] not in dump
    assert doc["access_token"].split(".")[1] not in dump


def test_grace_replay_refused_once_child_was_used(seeded, service, issuers, pair, clock, audit):
    rt2 = body(refresh(service, issuers, pair["refresh_token"]))["refresh_token"]
    refresh(service, issuers, rt2)
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, pair["refresh_token"])
    assert "RefreshTokenReuse" in audit.names()


# ---------------------------------------------------------------- R-RACE-4: injected conflict
def test_r_race_4_transaction_conflict_leaves_no_partial_state(seeded, service, issuers, pair, monkeypatch):
    from auth_core.stores import sessions as sessions_module

    with monkeypatch.context() as patch, pytest.raises(TemporarilyUnavailableError):
        patch.setattr(
            sessions_module, "transact_or_reasons", lambda ddb, items: ["TransactionConflict"] + ["None"] * 4
        )
        refresh(service, issuers, pair["refresh_token"])
    parent = seeded.item("sessions", {"pk": {"S": f"rt#{hash_refresh_token(pair['refresh_token'])}"}})
    assert parent["status"]["S"] == "active"
    assert len(live_tokens(seeded)) == 1
    assert body(refresh(service, issuers, pair["refresh_token"]))["refresh_token"]


# ---------------------------------------------------------------- R-STATE
def test_r_state_1_disabled_user_cannot_refresh_and_family_dies(seeded, service, issuers, pair):
    poke_user(seeded.ddb, "alice", enabled=False)  # directly on the item: no version, no cut-off
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, pair["refresh_token"])
    assert info.value.reason == "user_inactive"
    assert_family_revoked(seeded, pair["refresh_token"])


def test_r_state_1_deleted_user_cannot_refresh(seeded, service, issuers, pair):
    seeded.ddb.delete_item(TableName="users", Key={"username": {"S": "alice"}})
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, pair["refresh_token"])


def test_r_state_2_logout_all_kills_every_family(seeded, service, issuers, clock):
    a = body(service.token(password_request(), issuers))["refresh_token"]
    b = body(service.token(password_request(), issuers))["refresh_token"]
    clock.advance(5)
    assert service.revoker.logout_all("alice") == 2
    for token in (a, b):
        with pytest.raises(InvalidGrantError):
            refresh(service, issuers, token)
    assert (
        service.revoker.revocations.not_before(service.users.get("alice").user_id) == int(clock()) + 2
    )  # planned 2 s ahead
    clock.advance(2)
    fresh = body(service.token(password_request(), issuers))["refresh_token"]  # new logins work
    assert body(refresh(service, issuers, fresh))["refresh_token"]


def test_sessions_version_alone_kills_older_families(seeded, service, issuers, pair, clock):
    clock.advance(5)
    poke_user(seeded.ddb, "alice", sessions_version=1)  # no family revocation, no cut-off at all
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, pair["refresh_token"])
    assert info.value.reason == "user_inactive"


def test_r_state_3_other_client_gets_invalid_grant_and_family_revoked(seeded, service, issuers, pair, audit):
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, pair["refresh_token"], client_id="other-spa")
    assert "RefreshClientMismatch" in audit.names()
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, pair["refresh_token"])


def test_r_state_4_confidential_client_must_authenticate(seeded, service, issuers):
    doc = body(
        service.token(password_request(client_id="backend-svc", client_secret=BACKEND_SECRET), issuers)
    )
    with pytest.raises(InvalidClientError):
        refresh(service, issuers, doc["refresh_token"], client_id="backend-svc", client_secret="")
    with pytest.raises(InvalidClientError):
        refresh(service, issuers, doc["refresh_token"], client_id="backend-svc", client_secret="wrong")
    ok = refresh(
        service, issuers, doc["refresh_token"], client_id="backend-svc", client_secret=BACKEND_SECRET
    )
    assert body(ok)["refresh_token"]


def test_r_state_5_scope_narrows_but_family_keeps_original(seeded, service, issuers, pair):
    narrow = body(refresh(service, issuers, pair["refresh_token"], scope="read"))
    assert narrow["scope"] == "read"
    wide = body(refresh(service, issuers, narrow["refresh_token"]))
    assert wide["scope"] == "openid read write"
    with pytest.raises(InvalidScopeError):
        refresh(service, issuers, wide["refresh_token"], scope="read admin")


def test_r_state_6_absolute_lifetime_is_never_extended(seeded, service, issuers, pair, clock):
    token = pair["refresh_token"]
    max_age = service.policy.refresh_max_age
    step = max_age // 6
    for _ in range(5):
        clock.advance(step)
        token = body(refresh(service, issuers, token))["refresh_token"]
    clock.advance(max_age - 5 * step)
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, token)
    assert info.value.reason == "session_expired"


def test_r_state_6_idle_timeout(seeded, service, issuers, pair, clock):
    clock.advance(service.policy.refresh_idle_timeout)
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, pair["refresh_token"])
    assert info.value.reason == "session_idle"


def test_client_lifetime_overrides_apply_to_the_family(seeded, service, issuers, clock):
    seeded.add_client("kiosk", refresh_max_age=3600, refresh_idle_timeout=600)
    token = body(service.token(password_request(client_id="kiosk"), issuers))["refresh_token"]
    clock.advance(599)
    token = body(refresh(service, issuers, token, client_id="kiosk"))["refresh_token"]
    clock.advance(600)
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, token, client_id="kiosk")


def test_r_state_7_disabled_client(seeded, service, issuers, pair):
    seeded.ddb.update_item(
        TableName="clients",
        Key={"client_id": {"S": "demo-spa"}},
        UpdateExpression="SET enabled = :f",
        ExpressionAttributeValues={":f": {"BOOL": False}},
    )
    # the client cache still says enabled: the transaction's own check refuses it
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, pair["refresh_token"])
    assert info.value.reason == "client_disabled"
    service.clients.invalidate()
    with pytest.raises(InvalidClientError):
        refresh(service, issuers, pair["refresh_token"])


# ---------------------------------------------------------------- R-CONF, R-FMT
@pytest.mark.parametrize(
    "token",
    [
        "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",  # R-CONF-1 / R-CONF-3 shaped
        "x" * 42,
        "x" * 44,
        "' OR '1'='1",
        '{"$ne":null}',
        "#{:a} = :b",
        "a" * 4096,
    ],
)
def test_r_conf_r_fmt_garbage_is_invalid_grant_without_lookup(seeded, service, issuers, token, monkeypatch):
    calls = []
    monkeypatch.setattr(service.sessions, "get_token", lambda h: calls.append(h))
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, token)
    assert calls == []


def test_r_conf_1_access_token_as_refresh_token(seeded, service, issuers, pair):
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, pair["access_token"])


def test_unknown_well_formed_token_is_invalid_grant(seeded, service, issuers):
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, new_refresh_token())
    assert info.value.reason == "refresh_unknown"


def test_r_fmt_2_refresh_tokens_are_unique_and_long():
    tokens = {new_refresh_token() for _ in range(10_000)}
    assert len(tokens) == 10_000
    assert all(len(t) == 43 for t in tokens)


def test_refresh_grant_not_allowed_for_client(seeded, service, issuers, pair):
    seeded.add_client("pw-only", grants=("password",))
    from auth_core.errors import UnauthorizedClientError

    with pytest.raises(UnauthorizedClientError):
        refresh(service, issuers, pair["refresh_token"], client_id="pw-only")


def test_refresh_endpoint_only_accepts_refresh_grant(seeded, service, issuers):
    from auth_core.errors import UnsupportedGrantTypeError

    with pytest.raises(UnsupportedGrantTypeError):
        service.refresh_endpoint(password_request(), issuers)


# ---------------------------------------------------------------- cost
def test_refresh_happy_path_costs_two_dynamodb_calls(seeded, service, issuers, pair):
    from auth_core import aws

    calls: list[str] = []
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    refresh(service, issuers, pair["refresh_token"])
    assert calls == ["GetItem", "TransactWriteItems"]
