"""The authorizer refuses tokens of a revoked session (``sid#<sid>`` in the revocation feed)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.authorizer.conftest import DROP, World, build_event


@pytest.mark.parametrize("fmt", ["rest_token", "http_v2"])
def test_handler_refuses_every_token_of_a_revoked_session(world: World, decision_lines, fmt: str) -> None:
    def event(**claims: Any) -> dict[str, Any]:
        return build_event(fmt, "GET", "/orders", "GET /orders", f"Bearer {world.mint(**claims)}")

    refused = "unauthorized" if fmt == "rest_token" else "refused"
    first, second = event(jti="j-a", sid="fam-1"), event(jti="j-b", sid="fam-1")
    sibling, sessionless = event(jti="j-c", sid="fam-2"), event(jti="j-d", sid=DROP)
    world.revoke_session("fam-1")
    assert [world.outcome(e) for e in (first, second)] == [refused, refused]
    assert world.outcome(sibling) == "allow"
    assert world.outcome(sessionless) == "allow"
    reasons = [line["reason"] for line in decision_lines() if line.get("decision") == "Unauthorized"]
    assert reasons == ["revoked_session", "revoked_session"]


def test_a_subject_or_jti_equal_to_a_revoked_sid_is_not_confused_with_it(world: World) -> None:
    world.revoke_session("x")
    token = world.mint(jti="x", sub="x", sid="y")
    assert (
        world.outcome(build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {token}"))
        == "allow"
    )


def test_a_malformed_sid_is_a_bad_token(world: World, decision_lines) -> None:
    e = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint(sid='')}")
    assert world.outcome(e) == "unauthorized"
    assert decision_lines()[-1]["reason"] == "invalid_claim"
