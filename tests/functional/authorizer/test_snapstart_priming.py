"""SnapStart priming: before the snapshot, the first request's code runs once on a throwaway key
that no trusted key set ever holds; after the restore the caches are empty as before."""

from __future__ import annotations

import os
from typing import Any

import pytest

from auth_core.authorizer import snapstart
from auth_core.authorizer.snapstart import (
    PRIMING_JWK,
    PRIMING_NOW,
    PRIMING_TOKEN,
    prime,
    priming_events,
)
from functions.authorizer import app
from tests.functional.authorizer.conftest import NOW, World, build_event


def test_the_priming_token_is_valid_exactly_when_the_world_is() -> None:
    assert PRIMING_NOW == NOW  # so the refusal below is the key's, not the clock's


def test_priming_runs_every_format_and_leaves_no_trace(world: World, decision_lines: Any) -> None:
    app._prime()  # what the before-snapshot hook runs
    authorizer = app._authorizer()
    assert len(authorizer.cache) == 0  # the throwaway engine answered, not this one
    assert decision_lines() == []  # and wrote its lines nowhere
    assert PRIMING_JWK["kid"] not in authorizer.key_store._current.get()  # type: ignore[attr-defined]
    # A real token is allowed; the priming token, valid at this very time, is refused for its key.
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    assert world.outcome(event) == "allow"
    primed = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {PRIMING_TOKEN}")
    assert world.outcome(primed) == "unauthorized"
    assert [x["reason"] for x in decision_lines() if "decision" in x] == ["ok", "unknown_kid"]


def test_caches_are_emptied_after_a_restore_as_before(world: World) -> None:
    app._prime()
    token = world.mint(jti="j-primed")
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {token}")
    assert world.outcome(event) == "allow"
    world.revoke_jti("j-primed")
    app._forget_caches()  # the after-restore hook
    assert len(app._authorizer().cache) == 0
    assert world.outcome(event) == "unauthorized"


def test_priming_draws_no_randomness(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object) -> bytes:
        raise AssertionError("priming must not draw randomness (it would be shared by every restore)")

    monkeypatch.setattr(os, "urandom", refuse)
    app._prime()


def test_priming_fails_loudly_when_a_step_fails(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapstart, "PRIMING_TOKEN", PRIMING_TOKEN[:-2] + "AA")  # bad signature
    with pytest.raises(Exception, match="Unauthorized"):
        prime(app._authorizer())


def test_priming_events_cover_every_format() -> None:
    from auth_core.authorizer.events import EventFormat, detect_format

    assert {detect_format(e) for e in priming_events()} == set(EventFormat)
