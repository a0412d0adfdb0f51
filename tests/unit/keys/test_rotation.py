"""Pure key life cycle: next -> active -> retired -> dropped (auth_core.rotation)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auth_core.errors import KeyStoreError
from auth_core.jwk import SigningKey
from auth_core.keyset import ID_TOKEN, MAIN, KeySet
from auth_core.rotation import (
    RotationPolicy,
    revoke_all,
    revoke_kid,
    revoke_kids,
    revoked_until,
    rotate,
    victims_of,
)
from auth_core.settings import Settings
from tests.keypool import pooled_key

POLICY = RotationPolicy(cache_ttl=300, max_token_lifetime=3600, leeway=60)
T0 = 1_700_000_000


class CountingGenerator:
    """Keys of the requested alg (RSA from the test pool), counted."""

    def __init__(self) -> None:
        self.algs: list[str] = []

    def __call__(self, alg: str) -> SigningKey:
        self.algs.append(alg)
        return pooled_key(alg)


def _rot(keyset: KeySet, now: int, gen: CountingGenerator, alg: str = "EdDSA", **kw: object) -> KeySet:
    return rotate(keyset, alg=alg, now=now, policy=POLICY, generate=gen, **kw)  # type: ignore[arg-type]


def _status(keyset: KeySet) -> dict[str, str]:
    return {r.kid: r.status for r in keyset.records}


def _private_kids(keyset: KeySet) -> set[str]:
    return {r.kid for r in keyset.records if r.has_private}


@pytest.fixture
def gen() -> CountingGenerator:
    return CountingGenerator()


def test_policy_from_settings():
    policy = RotationPolicy.from_settings(
        Settings(key_cache_ttl=120, max_access_token_lifetime=900, leeway=30)
    )
    assert policy == RotationPolicy(cache_ttl=120, max_token_lifetime=900, leeway=30)
    assert policy.retention == 900 + 30 + 120


def test_first_rotation_bootstraps_active_and_next(gen):
    out = _rot(KeySet.empty(), T0, gen)
    assert out.active is not None and out.next is not None
    assert out.active.created_at == out.active.activated_at == T0
    assert out.next.created_at == T0 and out.next.activated_at is None
    assert [r.lineage for r in out.records] == [MAIN, MAIN, ID_TOKEN, ID_TOKEN]
    # EdDSA is not RS256: a fresh set gets its ID-token lineage, active and next, at once too
    assert gen.algs == ["EdDSA", "EdDSA", "RS256", "RS256"]
    assert out.active_of(ID_TOKEN).activated_at == T0 and out.next_of(ID_TOKEN) is not None


def test_promotes_a_published_next_after_one_cache_ttl(gen):
    first = _rot(KeySet.empty(), T0, gen)
    out = _rot(first, T0 + POLICY.cache_ttl, gen)
    assert out.active.kid == first.next.kid
    assert out.active.activated_at == T0 + POLICY.cache_ttl
    old = out.get(first.active.kid)
    assert old.status == "retired" and old.retired_at == T0 + POLICY.cache_ttl
    assert out.next.kid not in _status(first)
    assert out.next.created_at == T0 + POLICY.cache_ttl


def test_refuses_to_promote_a_next_younger_than_the_ttl(gen):
    first = _rot(KeySet.empty(), T0, gen)
    out = _rot(first, T0 + POLICY.cache_ttl - 1, gen)
    assert _status(out) == _status(first)
    assert len(gen.algs) == 4  # nothing generated


def test_refuses_to_promote_a_next_missing_from_the_published_jwks(gen):
    first = _rot(KeySet.empty(), T0, gen)
    out = _rot(first, T0 + 10_000, gen, published=frozenset({first.active.kid}))
    assert out.active.kid == first.active.kid and out.next.kid == first.next.kid
    promoted = _rot(first, T0 + 10_000, gen, published=frozenset({first.active.kid, first.next.kid}))
    assert promoted.active.kid == first.next.kid


def test_creates_next_when_missing_and_keeps_active(gen):
    first = _rot(KeySet.empty(), T0, gen)
    only_active = first.with_records([first.active])
    out = _rot(only_active, T0 + 10_000, gen)
    assert out.active.kid == first.active.kid
    assert out.next is not None and out.next.created_at == T0 + 10_000


def test_next_without_active_is_promoted_at_once(gen):
    first = _rot(KeySet.empty(), T0, gen)
    only_next = first.with_records([first.next])
    out = _rot(only_next, T0 + 1, gen)
    assert out.active.kid == first.next.kid and out.next is not None


def test_retired_key_dropped_only_after_retention(gen):
    first = _rot(KeySet.empty(), T0, gen)
    t1 = T0 + POLICY.cache_ttl
    second = _rot(first, t1, gen)
    retired = first.active.kid
    # the next rotations happen at the exact boundary and one second after it
    at_boundary = _rot(second, t1 + POLICY.retention, gen)
    assert at_boundary.get(retired) is not None
    after = _rot(second, t1 + POLICY.retention + 1, gen)
    assert after.get(retired) is None


def test_algorithm_change_applies_to_new_keys(gen):
    first = _rot(KeySet.empty(), T0, gen, alg="EdDSA")
    out = _rot(first, T0 + 1000, gen, alg="ES256")
    assert out.active.key.alg == "EdDSA"  # the published next, promoted unchanged
    assert out.next.key.alg == "ES256"


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_default_generator_every_algorithm(alg):
    out = rotate(KeySet.empty(), alg=alg, now=T0, policy=POLICY)
    assert {r.key.alg for r in out.lineage(MAIN)} == {alg}
    assert {r.key.alg for r in out.lineage(ID_TOKEN)} == ({"RS256"} if alg != "RS256" else set())


def test_five_rotations_keep_every_invariant(gen):
    keyset = KeySet.empty()
    now = T0
    ever_active: dict[str, int] = {}  # kid -> retired_at (or None while active)
    for i in range(8):
        before = keyset
        keyset = KeySet.from_json(_rot(keyset, now, gen).to_json())  # survives a storage round trip
        assert keyset.active is not None and keyset.next is not None
        for lineage in (MAIN, ID_TOKEN):
            assert sum(r.status == "active" for r in keyset.lineage(lineage)) == 1
            if i > 0:
                # the new active was the previous next, published at least one cache TTL ago
                assert keyset.active_of(lineage).kid == before.next_of(lineage).kid
                assert now - keyset.active_of(lineage).created_at >= POLICY.cache_ttl
        for record in keyset.records:
            if record.status == "retired":
                ever_active[record.kid] = record.retired_at
        for kid, retired_at in ever_active.items():
            if keyset.get(kid) is None:
                assert retired_at + POLICY.retention < now
        assert keyset.public_jwks()["keys"] == [r.public_jwk() for r in keyset.records]
        assert keyset.active_of(ID_TOKEN) is not None and keyset.next_of(ID_TOKEN) is not None
        now += 1800  # every 30 minutes: retention (3960 s) spans two rotations
    assert len(keyset.lineage(MAIN)) <= 5 and len(keyset.lineage(ID_TOKEN)) <= 5


def test_revoke_active_moves_signing_to_a_fresh_key(gen):
    first = _rot(KeySet.empty(), T0, gen)
    out = revoke_kid(first, first.active.kid, alg="ES256", now=T0 + 5, generate=gen)
    assert out.get(first.active.kid) is None
    assert out.active.kid not in (first.active.kid, first.next.kid)
    assert out.active.key.alg == "ES256" and out.active.activated_at == T0 + 5
    # the other private halves sat in the same secret: replaced (and revoked) too, both lineages
    assert out.next.kid not in (first.active.kid, first.next.kid) and out.next.key.alg == "ES256"
    assert out.get(first.next.kid) is None
    assert set(out.revoked) == _private_kids(first)
    assert out.active_of(ID_TOKEN).key.alg == "RS256" and out.next_of(ID_TOKEN) is not None
    assert not _private_kids(out) & _private_kids(first)


def test_revoke_next_and_retired(gen):
    first = _rot(KeySet.empty(), T0, gen)
    second = _rot(first, T0 + 1000, gen)
    out = revoke_kid(second, second.next.kid, alg="EdDSA", now=T0 + 1001, generate=gen)
    assert out.get(second.next.kid) is None and out.next is not None
    assert out.active.kid == second.active.kid
    assert out.active_of(ID_TOKEN).kid == second.active_of(ID_TOKEN).kid  # a next alone: only it
    out2 = revoke_kid(second, first.active.kid, alg="EdDSA", now=T0 + 1001, generate=gen)
    # the retired key shared the secret with the keys created before it retired, and those
    # with every private key: all replaced; only the ID-token lineage's retired key stays
    assert out2.get(first.active.kid) is None and set(out2.revoked) == {first.active.kid} | _private_kids(
        second
    )
    assert [r.status for r in out2.records if not r.has_private] == ["retired"]
    assert {(r.lineage, r.status) for r in out2.records if r.has_private} == {
        (MAIN, "active"),
        (MAIN, "next"),
        (ID_TOKEN, "active"),
        (ID_TOKEN, "next"),
    }


def test_revoke_unknown_kid(gen):
    with pytest.raises(KeyStoreError):
        revoke_kid(_rot(KeySet.empty(), T0, gen), "nope", alg="EdDSA", now=T0)


@settings(max_examples=40, deadline=None)
@given(gaps=st.lists(st.integers(min_value=0, max_value=8000), min_size=1, max_size=12))
def test_property_no_key_signs_before_it_was_public_for_a_ttl(gaps):
    """Whatever the schedule, an active key (after bootstrap) existed as published next >= TTL
    before activation, and no key that ever signed is dropped before its retention ran out."""
    gen = CountingGenerator()
    keyset = KeySet.empty()
    now = T0
    signed_until: dict[str, int] = {}  # kid -> last moment it was active
    previous_kids: set[str] = set()
    for gap in itertools.chain([0], gaps):
        now += gap
        keyset = _rot(keyset, now, gen, published=frozenset(previous_kids) if previous_kids else None)
        for lineage in (MAIN, ID_TOKEN):
            active = keyset.active_of(lineage)
            assert active is not None
            if active.activated_at != active.created_at:  # not the bootstrap key
                assert active.activated_at - active.created_at >= POLICY.cache_ttl
                assert active.kid in previous_kids
        for record in keyset.records:
            if record.status == "retired":
                signed_until[record.kid] = record.retired_at
        kids = {r.kid for r in keyset.records}
        for kid, until in signed_until.items():
            if kid not in kids:
                assert until + POLICY.retention < now
        previous_kids = kids


def test_retiring_a_key_drops_its_private_half(gen):
    first = _rot(KeySet.empty(), T0, gen)
    second = _rot(first, T0 + POLICY.cache_ttl, gen)
    retired = second.get(first.active.kid)
    assert retired.status == "retired" and not retired.has_private
    assert all(r.has_private for r in second.records if r.status != "retired")
    # the public JWKS is the same as if the private half were kept
    assert retired.public_key.to_jwk() == first.active.key.to_public_jwk()
    assert "d" not in KeySet.from_json(second.to_json()).to_dict()["keys"][0]


def test_rotation_strips_private_halves_of_old_retired_keys(gen):
    first = _rot(KeySet.empty(), T0, gen)
    legacy = first.with_records(
        [first.active.with_status("retired", T0 + 1), first.next.with_status("active", T0 + 1)]
    )
    assert legacy.get(first.active.kid).has_private
    out = _rot(legacy, T0 + 2, gen)
    assert not out.get(first.active.kid).has_private


def test_grace_secret_created_when_missing_then_carried(gen):
    first = _rot(KeySet.empty(), T0, gen, random_bytes=lambda n: b"\x01" * n)
    assert first.grace_secret == b"\x01" * 32
    second = _rot(first, T0 + 1000, gen, random_bytes=lambda n: b"\x02" * n)
    assert second.grace_secret == b"\x01" * 32


def test_revoked_entries_expire_with_rotation(gen):
    first = _rot(KeySet.empty(), T0, gen)
    out = revoke_kids(first, [first.active.kid], alg="EdDSA", now=T0, policy=POLICY, generate=gen)
    until = revoked_until(T0, POLICY)
    assert out.revoked == dict.fromkeys(_private_kids(first), until)
    assert _rot(out, until, gen).revoked == out.revoked
    assert _rot(out, until + 1, gen).revoked == {}


def test_revoke_is_idempotent_for_an_already_revoked_kid(gen):
    first = _rot(KeySet.empty(), T0, gen)
    once = revoke_kid(first, first.active.kid, alg="EdDSA", now=T0, policy=POLICY, generate=gen)
    twice = revoke_kid(once, first.active.kid, alg="EdDSA", now=T0 + 10, policy=POLICY, generate=gen)
    assert twice.same_content(once)


def test_victims_of_a_recently_retired_key_include_the_active_it_shared_the_secret_with(gen):
    first = _rot(KeySet.empty(), T0, gen)
    second = _rot(first, T0 + POLICY.cache_ttl, gen)  # first.active retired, first.next active
    assert victims_of(second, [first.active.kid]) == {first.active.kid} | _private_kids(second)
    third = _rot(second, T0 + 2 * POLICY.cache_ttl, gen)
    assert victims_of(third, [first.active.kid]) == {first.active.kid}
    assert victims_of(third, [third.next.kid]) == {third.next.kid}
    assert victims_of(third, [third.next_of(ID_TOKEN).kid]) == {third.next_of(ID_TOKEN).kid}
    # an ID-token active key sat in the secret with every other private key
    assert victims_of(third, [third.active_of(ID_TOKEN).kid]) == _private_kids(third)


def test_revoke_all_replaces_everything(gen):
    first = _rot(_rot(KeySet.empty(), T0, gen), T0 + 1000, gen, random_bytes=lambda n: b"\x01" * n)
    out = revoke_all(
        first, alg="ES256", now=T0 + 1001, policy=POLICY, generate=gen, random_bytes=lambda n: b"\x02" * n
    )
    assert [(r.lineage, r.status) for r in out.records] == [
        (MAIN, "active"),
        (MAIN, "next"),
        (ID_TOKEN, "active"),
        (ID_TOKEN, "next"),
    ]
    assert not {r.kid for r in first.records} & {r.kid for r in out.records}
    assert set(out.revoked) == {r.kid for r in first.records}
    assert out.grace_secret == b"\x02" * 32
    assert [r.key.alg for r in out.records] == ["ES256", "ES256", "RS256", "RS256"]
