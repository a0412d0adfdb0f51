"""The authorizer refuses tokens of a revoked session (``sid#<sid>`` in the revocations table).

One ``BatchGetItem`` per lookup whatever the token carries: two keys without ``sid``, three with.
"""

from __future__ import annotations

from typing import Any

import pytest

from auth_core.authorizer.revocation import RevocationChecker
from auth_core.errors import RevokedTokenError
from tests.functional.authorizer.conftest import DROP, NOW, TABLE, World, build_event


class Recording:
    """Passes BatchGetItem to moto and keeps the keys asked for."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[list[str]] = []

    def batch_get_item(self, **kwargs: Any) -> Any:
        self.requests.append([k["pk"]["S"] for k in kwargs["RequestItems"][TABLE]["Keys"]])
        return self.inner.batch_get_item(**kwargs)


def revoke_session(world: World, sid: str) -> None:
    world.ddb.put_item(
        TableName=TABLE, Item={"pk": {"S": f"sid#{sid}"}, "expires_at": {"N": str(NOW + 3900)}}
    )


def test_one_batch_get_with_the_session_key_only_when_the_token_has_one(world: World) -> None:
    client = Recording(world.ddb)
    checker = RevocationChecker(TABLE, ttl=0, client=client)
    checker.check(jti="j1", subject="alice", issued_at=NOW, session_id="s1")
    checker.check(jti="j2", subject="svc", issued_at=NOW)
    assert client.requests == [["jti#j1", "sub#alice", "sid#s1"], ["jti#j2", "sub#svc"]]


def test_revoked_session_refuses_its_tokens_only(world: World) -> None:
    revoke_session(world, "s-dead")
    checker = RevocationChecker(TABLE, ttl=0, client=world.ddb)
    with pytest.raises(RevokedTokenError) as info:
        checker.check(jti="j1", subject="alice", issued_at=NOW, session_id="s-dead")
    assert info.value.reason == "revoked_session"
    checker.check(jti="j2", subject="alice", issued_at=NOW, session_id="s-live")
    checker.check(jti="j3", subject="alice", issued_at=NOW)
    assert checker.lookup("j1", "alice", "s-dead").session_revoked is True
    assert checker.lookup("j1", "alice").session_revoked is False


def test_a_subject_or_jti_equal_to_a_revoked_sid_is_not_confused_with_it(world: World) -> None:
    revoke_session(world, "x")
    checker = RevocationChecker(TABLE, ttl=0, client=world.ddb)
    checker.check(jti="x", subject="x", issued_at=NOW, session_id="y")


def test_cached_per_jti_subject_and_session(world: World) -> None:
    client = Recording(world.ddb)
    now = [0.0]
    checker = RevocationChecker(TABLE, ttl=30, clock=lambda: now[0], client=client)
    checker.check(jti="j1", subject="alice", issued_at=NOW, session_id="s1")
    checker.check(jti="j1", subject="alice", issued_at=NOW, session_id="s1")
    assert len(client.requests) == 1
    revoke_session(world, "s1")
    now[0] = 29.9
    checker.check(jti="j1", subject="alice", issued_at=NOW, session_id="s1")  # cached "live"
    now[0] = 30.0
    with pytest.raises(RevokedTokenError):
        checker.check(jti="j1", subject="alice", issued_at=NOW, session_id="s1")
    assert len(client.requests) == 2


@pytest.mark.parametrize("fmt", ["rest_token", "http_v2"])
def test_handler_refuses_every_token_of_a_revoked_session(world: World, decision_lines, fmt: str) -> None:
    def event(**claims: Any) -> dict[str, Any]:
        return build_event(fmt, "GET", "/orders", "GET /orders", f"Bearer {world.mint(**claims)}")

    refused = "unauthorized" if fmt == "rest_token" else "refused"
    first, second = event(jti="j-a", sid="fam-1"), event(jti="j-b", sid="fam-1")
    sibling, sessionless = event(jti="j-c", sid="fam-2"), event(jti="j-d", sid=DROP)
    revoke_session(world, "fam-1")
    assert [world.outcome(e) for e in (first, second)] == [refused, refused]
    assert world.outcome(sibling) == "allow"
    assert world.outcome(sessionless) == "allow"
    reasons = [line["reason"] for line in decision_lines() if line.get("decision") == "Unauthorized"]
    assert reasons == ["revoked_session", "revoked_session"]


def test_a_malformed_sid_is_a_bad_token(world: World, decision_lines) -> None:
    e = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint(sid='')}")
    assert world.outcome(e) == "unauthorized"
    assert decision_lines()[-1]["reason"] == "invalid_claim"
