"""Refresh rotation forked across regions, on the DynamoDB stores (moto): the same token
rotated in two regions within the replication lag, then replication keeping the last writer
per item (docs/threat-model.md O-REG-3). Moto has no global tables: each "region" is the
sessions table's items at a moment, and replication is a merge of them by ``pk``."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from auth_core import aws
from auth_core.errors import InvalidGrantError, StoreUnavailableError, TemporarilyUnavailableError
from auth_core.oauth.refresh import hash_refresh_token
from tests.functional.oauth.helpers import body, password_request
from tests.functional.oauth.test_refresh import assert_family_revoked, family_of, refresh


def _items(stack) -> dict[str, dict[str, Any]]:
    return {i["pk"]["S"]: i for i in stack.scan("sessions")}


def _become(stack, items: dict[str, dict[str, Any]]) -> None:
    """The table holds exactly ``items`` (another region's view)."""
    for pk in _items(stack):
        stack.ddb.delete_item(TableName="sessions", Key={"pk": {"S": pk}})
    for item in items.values():
        stack.ddb.put_item(TableName="sessions", Item=item)


@pytest.fixture
def seeded(stack):
    stack.add_user()
    stack.add_client()
    return stack


def test_the_losing_branch_of_a_fork_revokes_the_family(seeded, service, issuers, clock, audit):
    rt1 = body(service.token(password_request(), issuers))["refresh_token"]
    before = _items(seeded)
    victim = body(refresh(service, issuers, rt1))["refresh_token"]  # region A
    in_a = _items(seeded)
    _become(seeded, before)
    clock.advance(1)
    thief = body(refresh(service, issuers, rt1))["refresh_token"]  # region B, later
    in_b = _items(seeded)
    _become(seeded, {**in_a, **in_b})  # replication: B wrote rt1 and fam# last
    clock.advance(60)
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, victim)
    assert info.value.reason == "refresh_reuse"
    assert "RefreshTokenReuse" in audit.names()
    assert_family_revoked(seeded, thief)
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, thief)


def test_a_token_ahead_of_its_family_item_is_retried_not_revoked(seeded, service, issuers, clock, audit):
    rt1 = body(service.token(password_request(), issuers))["refresh_token"]
    family_pk = f"fam#{family_of(seeded, rt1)['family_id']['S']}"
    old_family = _items(seeded)[family_pk]
    clock.advance(1)
    rt2 = body(refresh(service, issuers, rt1))["refresh_token"]
    now = _items(seeded)
    _become(seeded, {**now, family_pk: old_family})  # the token replicated, fam# not yet
    with pytest.raises(TemporarilyUnavailableError):
        refresh(service, issuers, rt2)
    assert "RefreshTokenReuse" not in audit.names()
    assert family_of(seeded, rt2)["status"]["S"] == "active"
    _become(seeded, now)  # fam# arrives
    assert body(refresh(service, issuers, rt2))["refresh_token"]
    assert seeded.item("sessions", {"pk": {"S": f"rt#{hash_refresh_token(rt2)}"}})["status"]["S"] == "used"


# ----------------------------------------------------------------------------- one region
# A cancellation reason that is not a failed condition (throttling on the family item: the only
# item of the rotation in the BySubject index, so index back-pressure can hit it alone) says
# nothing about the session. Read as "family ended", and with a concurrent refresh of the same
# token committing meanwhile (a client's retry, another tab), it once revoked a live family as a
# fork in a single region.
def _cancelled(items: list[dict[str, Any]], family_code: str) -> ClientError:
    reasons = [{"Code": "None"}, {"Code": "None"}, {"Code": family_code, "Message": "throttled"}]
    reasons += [{"Code": "None"}] * (len(items) - 3)
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": reasons,
        },
        "TransactWriteItems",
    )


def _is_rotation(items: list[dict[str, Any]]) -> bool:
    first = items[0].get("Update", {}).get("Key", {}).get("pk", {}).get("S", "") if items else ""
    return len(items) >= 3 and first.startswith("rt#")


@pytest.mark.parametrize("code", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_a_throttled_rotation_racing_a_retry_never_revokes_a_live_family(
    seeded, service, issuers, clock, audit, monkeypatch, code
):
    rt1 = body(service.token(password_request(), issuers))["refresh_token"]
    ddb = aws.client("dynamodb")
    real_transact, real_get = ddb.transact_write_items, ddb.get_item
    state = {"throttle": True, "race": False}
    winner: list[dict[str, Any]] = []

    def transact(**kw: Any) -> Any:
        if state["throttle"] and _is_rotation(kw["TransactItems"]):
            state["throttle"], state["race"] = False, True
            raise _cancelled(kw["TransactItems"], code)  # request B: its family item throttled
        return real_transact(**kw)

    def get_item(**kw: Any) -> Any:
        if state["race"] and kw["Key"]["pk"]["S"].startswith("fam#"):
            state["race"] = False
            winner.append(body(refresh(service, issuers, rt1)))  # request A commits meanwhile
        return real_get(**kw)

    monkeypatch.setattr(ddb, "transact_write_items", transact)
    monkeypatch.setattr(ddb, "get_item", get_item)
    clock.advance(5)
    try:
        answer: Any = body(refresh(service, issuers, rt1))  # request B
    except (InvalidGrantError, TemporarilyUnavailableError) as exc:
        answer = exc.reason
    assert "RefreshTokenReuse" not in audit.names()
    assert family_of(seeded, rt1)["status"]["S"] == "active"
    # B is a 503 to retry, or (having lost the race) the grace window's answer: A's very pair.
    assert answer == "store_unavailable" or (winner and answer == winner[0])


def test_a_throttled_rotation_is_a_503_not_a_verdict_on_the_session(
    seeded, service, issuers, audit, monkeypatch
):
    rt1 = body(service.token(password_request(), issuers))["refresh_token"]
    ddb = aws.client("dynamodb")
    real_transact = ddb.transact_write_items

    def transact(**kw: Any) -> Any:
        if _is_rotation(kw["TransactItems"]):
            raise _cancelled(kw["TransactItems"], "ThrottlingError")
        return real_transact(**kw)

    monkeypatch.setattr(ddb, "transact_write_items", transact)
    with pytest.raises(StoreUnavailableError):
        refresh(service, issuers, rt1)
    assert "RefreshTokenReuse" not in audit.names()
    assert family_of(seeded, rt1)["status"]["S"] == "active"
