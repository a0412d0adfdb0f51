# ruff: noqa: F811 - the memory backend's fixtures, imported for pytest
"""Refresh rotation across regions (global tables): a token used in two regions within the
replication lag forks its family; replication keeps the last writer per item. The next use of
the losing branch must be judged reuse (the family revoked, ``RefreshTokenReuse`` recorded),
while a token that simply arrived before its family item (per-item replication) is lag, not
reuse. Regions are simulated on the memory backend: each "region" is a copy of its items, and
replication merges copies item by item, the later write winning."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from auth_core.errors import InvalidGrantError, TemporarilyUnavailableError
from auth_core.oauth.refresh import hash_refresh_token
from auth_core.stores.sessions import ACTIVE, REVOKED
from tests.unit.oauth.test_memory_backend import (  # noqa: F401 - fixtures
    audit,
    backend,
    clock,
    family_of,
    login,
    refresh,
    service,
)


def _snapshot(backend: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return copy.deepcopy(backend.db.tokens), copy.deepcopy(backend.db.families)


def _restore(backend: Any, snap: tuple[dict[str, Any], dict[str, Any]]) -> None:
    backend.db.tokens, backend.db.families = copy.deepcopy(snap[0]), copy.deepcopy(snap[1])


def _fork(service, backend, clock) -> tuple[str, str]:
    """rt1 rotated in region A (the victim), then 0.5 s later in region B (a thief), before
    either saw the other's write; then replication, B's items (written later) winning."""
    rt1 = login(service, clock)["refresh_token"]
    before = _snapshot(backend)
    victim = refresh(service, clock, rt1)["refresh_token"]  # region A
    in_a = _snapshot(backend)
    _restore(backend, before)
    clock.now += 0.5
    thief = refresh(service, clock, rt1)["refresh_token"]  # region B
    in_b = _snapshot(backend)
    backend.db.tokens = {**in_a[0], **in_b[0]}
    backend.db.families = {**in_a[1], **in_b[1]}
    return victim, thief


def test_the_losing_branch_of_a_cross_region_fork_is_reuse_and_ends_the_family(
    service, backend, clock, audit
):
    victim, thief = _fork(service, backend, clock)
    family_id = family_of(backend, thief)
    clock.now += 60
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, clock, victim)
    assert info.value.reason == "refresh_reuse"
    family = backend.sessions.get_family(family_id)
    assert family is not None and family.status == REVOKED
    assert family.revoked_reason == "reuse_fork"
    reuse = [fields for name, fields in audit.events if name == "RefreshTokenReuse"]
    assert reuse and reuse[-1]["forked"] is True
    # the winning branch dies with it
    with pytest.raises(InvalidGrantError):
        refresh(service, clock, thief)


def test_a_fork_whose_losing_branch_rotated_further_is_still_reuse(service, backend, clock):
    """The victim refreshed twice in A (generation 3) before B's later write won the family
    item (generation 2): a higher generation than the family's is not proof of lag."""
    rt1 = login(service, clock)["refresh_token"]
    before = _snapshot(backend)
    victim = refresh(service, clock, rt1)["refresh_token"]
    victim = refresh(service, clock, victim)["refresh_token"]
    in_a = _snapshot(backend)
    _restore(backend, before)
    clock.now += 0.5
    thief = refresh(service, clock, rt1)["refresh_token"]
    in_b = _snapshot(backend)
    backend.db.tokens = {**in_a[0], **in_b[0]}
    backend.db.families = {**in_a[1], **in_b[1]}
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, clock, victim)
    assert info.value.reason == "refresh_reuse"
    assert backend.sessions.get_family(family_of(backend, thief)).status == REVOKED


def test_a_token_that_arrives_before_its_family_item_is_lag_not_reuse(service, backend, clock, audit):
    """Per-item replication: region B has the child token (and its spent parent) but still the
    family item from before the rotation. That is a 503 to retry, nothing is revoked; once
    the family item arrives the token refreshes normally."""
    rt1 = login(service, clock)["refresh_token"]
    old_family = _snapshot(backend)[1]
    rt2 = refresh(service, clock, rt1)["refresh_token"]  # region A
    rt3 = refresh(service, clock, rt2)["refresh_token"]  # region A again: two generations ahead
    in_a = _snapshot(backend)
    backend.db.families = copy.deepcopy(old_family)  # region B: the tokens arrived, fam# not yet
    with pytest.raises(TemporarilyUnavailableError) as info:
        refresh(service, clock, rt3)
    assert info.value.reason == "rotation_replicating"
    family = backend.sessions.get_family(family_of(backend, rt3))
    assert family is not None and family.status == ACTIVE
    assert "RefreshTokenReuse" not in audit.names()
    backend.db.families = in_a[1]  # the family item arrives
    assert refresh(service, clock, rt3)["refresh_token"]


def test_a_missing_ancestor_is_lag_too(service, backend, clock):
    rt1 = login(service, clock)["refresh_token"]
    old_family = _snapshot(backend)[1]
    rt2 = refresh(service, clock, rt1)["refresh_token"]
    rt3 = refresh(service, clock, rt2)["refresh_token"]
    backend.db.families = copy.deepcopy(old_family)
    del backend.db.tokens[hash_refresh_token(rt2)]  # rt2's item has not replicated yet
    with pytest.raises(TemporarilyUnavailableError):
        refresh(service, clock, rt3)
    assert backend.sessions.get_family(family_of(backend, rt3)).status == ACTIVE


def test_the_retry_grace_window_is_untouched(service, clock, audit):
    """One region: a retry of the parent within the window still gets the identical response
    (the parent is ``used``: the fork rule never sees it)."""
    rt1 = login(service, clock)["refresh_token"]
    first = refresh(service, clock, rt1)
    clock.now += 1
    assert refresh(service, clock, rt1) == first
    assert "RefreshGraceReplay" in audit.names() and "RefreshTokenReuse" not in audit.names()
    assert refresh(service, clock, first["refresh_token"])["refresh_token"]


def test_a_revoked_family_still_answers_family_inactive(service, backend, clock):
    rt1 = login(service, clock)["refresh_token"]
    family_id = family_of(backend, rt1)
    backend.db.families[family_id] = copy.replace(backend.db.families[family_id], status=REVOKED)
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, clock, rt1)
    assert info.value.reason == "family_inactive"
