"""Key compromise: revocation vs rotation races, half-done revocations, ``revoke --all`` (moto).

Interleavings are forced deterministically, at the granularity of Secrets Manager calls: a wrapper
around the moto client runs the *other* operation just before the k-th call of the first one, for
every k. After every single call (of either operation) an observer checks that no state refuses a
valid token (the current active kid is published) and that no revoked kid, once unpublished, is
ever published again. After each scenario: the revoked kids are neither in the signing set nor in
the published JWKS, they are in the revocation feed, the active kid is published, and a freshly
issued token verifies.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from auth_core.errors import AuthError, RotationError
from auth_core.jwk import JWKSet
from auth_core.keyset import ID_TOKEN, KeySet
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy
from tests.functional.keys.conftest import POLICY, REVOCATIONS_TABLE, KeysEnv
from tests.functional.keys.rotation_harness import (
    PUBLIC_SECRET,
    SIGNING_SECRET,
    route_rotation_invokes,
    stages,
    start_rotation,
)

pytestmark = pytest.mark.slow  # every interleaving of key operations: skipped by make test-fast

ISSUER = "https://issuer.example"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


# --------------------------------------------------------------------------- observation
def _current(env: KeysEnv) -> KeySet:
    text = env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    return KeySet.from_json(text)


def _public(env: KeysEnv) -> dict[str, Any]:
    return json.loads(
        env.sm.get_secret_value(SecretId=PUBLIC_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )


def _public_kids(env: KeysEnv) -> set[str]:
    return {k["kid"] for k in _public(env)["keys"]}


def _feed_kids(env: KeysEnv) -> set[str]:
    items = env.ddb.scan(TableName=REVOCATIONS_TABLE)["Items"]
    return {i["pk"]["S"].removeprefix("kid#") for i in items if i["pk"]["S"].startswith("kid#")}


class Observer:
    """Checks the invariants of every intermediate state."""

    def __init__(self, env: KeysEnv) -> None:
        self.env = env
        self.unpublished_revoked: set[str] = set()
        self.states = 0

    def __call__(self) -> None:
        current = _current(self.env)
        published = _public_kids(self.env)
        self.states += 1
        if current.active is not None:
            assert current.active.kid in published, (
                "a valid token (signed by the active key) would be refused"
            )
        republished = self.unpublished_revoked & published
        assert not republished, f"revoked kid published again: {republished}"
        self.unpublished_revoked |= set(current.revoked) - published


class Interleave:
    """A Secrets Manager client that runs ``hook()`` just before its ``at``-th call (1-based),
    and the observer after every call. ``fail_at``: make that call raise (throttled) instead."""

    def __init__(
        self,
        real: Any,
        *,
        at: int = 0,
        hook: Callable[[], None] | None = None,
        fail_at: int = 0,
        observer: Observer | None = None,
    ) -> None:
        self._real = real
        self.at = at
        self.hook = hook
        self.fail_at = fail_at
        self.observer = observer
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._real, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(f"{name}({kwargs.get('SecretId', '')})")
            n = len(self.calls)
            if n == self.at and self.hook is not None:
                self.hook()
            if n == self.fail_at:
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name
                )
            try:
                return method(**kwargs)
            finally:
                if self.observer is not None:
                    self.observer()

        return call


class ObservedDynamo:
    """The DynamoDB client of the feed: observes after every call, can fail the n-th ``put_item``."""

    def __init__(self, real: Any, observer: Observer, *, fail_put: int = 0) -> None:
        self._real = real
        self.observer = observer
        self.fail_put = fail_put
        self.puts = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._real, name)

        def call(**kwargs: Any) -> Any:
            if name in {"put_item", "update_item"}:
                self.puts += 1
                if self.puts == self.fail_put:
                    raise ClientError(
                        {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, name
                    )
            try:
                return method(**kwargs)
            finally:
                self.observer()

        return call


def _assert_revoked(env: KeysEnv, kids: set[str]) -> KeySet:
    current = _current(env)
    published = _public_kids(env)
    assert not kids & {r.kid for r in current.records}, "a revoked kid is still in the signing set"
    assert not kids & published, "a revoked kid is still published"
    assert kids <= set(current.revoked)
    assert kids <= _feed_kids(env)
    assert current.active is not None and current.active.kid in published
    _assert_fresh_token_verifies(env, current)
    return current


def _assert_fresh_token_verifies(env: KeysEnv, current: KeySet) -> None:
    issuer = AccessTokenIssuer(ISSUER, "api", 900, clock=env.clock)
    token = issuer.issue(current.get_signing_key(), subject="u", client_id="c", scope=["read"])
    verifier = AccessTokenVerifier(
        ClaimsPolicy(ISSUER, "api"), JWKSet.from_dict(_public(env)), clock=env.clock
    )
    assert verifier.verify(token.token).subject == "u"


def _bootstrap(env: KeysEnv) -> KeySet:
    env.rotator().rotate_direct(SIGNING_SECRET)
    env.clock.advance(POLICY.cache_ttl)  # the next key is now promotable
    return _current(env)


def _rotate_via_secrets_manager(env: KeysEnv, rotator: Any) -> None:
    def handler(event: dict[str, Any]) -> None:
        rotator.handle(event["Step"], event["SecretId"], event["ClientRequestToken"])

    with route_rotation_invokes(handler):
        env.sm.rotate_secret(
            SecretId=SIGNING_SECRET,
            RotationLambdaARN=env.lambda_arn,
            RotationRules={"AutomaticallyAfterDays": 30},
        )


# --------------------------------------------------------------------------- interleavings
def _rotation_steps(env: KeysEnv, client: Any, token: str) -> None:
    rotator = env.rotator(client=client)
    for step in STEPS:
        rotator.handle(step, SIGNING_SECRET, token)


#: a little more than the calls of one uninterrupted operation (test_call_counts_fit_the_ranges)
MAX_ROTATION_CALLS = 26
MAX_REVOKE_CALLS = 17  # (+1: the DescribeSecret that refuses a replica)


@pytest.mark.parametrize("at", range(1, MAX_ROTATION_CALLS + 1))
def test_revoke_at_any_point_of_a_rotation(keys_env, at):
    """Covers "revoke between createSecret and finishSecret" and "between setSecret and testSecret"
    (and every other call boundary of the four steps)."""
    before = _bootstrap(keys_env)
    observer = Observer(keys_env)
    victims = {before.active.kid, before.next.kid}
    token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
    revoke = keys_env.rotator(client=Interleave(keys_env.sm, observer=observer))
    outcome: list[Any] = []
    client = Interleave(
        keys_env.sm,
        at=at,
        hook=lambda: outcome.append(revoke.revoke(SIGNING_SECRET, before.active.kid)),
        observer=observer,
    )
    with contextlib.suppress(RotationError):  # a rotation overtaken by the revocation is abandoned
        _rotation_steps(keys_env, client, token)
    if not outcome:
        if at <= len(client.calls):
            pytest.fail("the revocation did not run")
        pytest.skip(f"the rotation makes only {len(client.calls)} calls")
    current = _assert_revoked(keys_env, victims)
    # the next scheduled rotation starts over, and keeps the revoked kids out
    keys_env.clock.advance(POLICY.cache_ttl)
    _rotate_via_secrets_manager(keys_env, keys_env.rotator(client=Interleave(keys_env.sm, observer=observer)))
    after = _assert_revoked(keys_env, victims)
    assert after.active.kid in {current.active.kid, current.next.kid}
    assert not any("AWSPENDING" in s for s in stages(keys_env.sm, SIGNING_SECRET).values())


@pytest.mark.parametrize("at", range(1, MAX_REVOKE_CALLS + 1))
def test_rotation_at_any_point_of_a_revoke(keys_env, at):
    """Covers "rotation between revoke's writes": a whole rotation runs before the k-th call."""
    before = _bootstrap(keys_env)
    observer = Observer(keys_env)
    ran: list[bool] = []

    def rotation() -> None:
        keys_env.rotator(client=Interleave(keys_env.sm, observer=observer)).rotate_direct(SIGNING_SECRET)
        ran.append(True)

    client = Interleave(keys_env.sm, at=at, hook=rotation, observer=observer)
    outcome = keys_env.rotator(client=client).revoke(SIGNING_SECRET, before.active.kid)
    if not ran:
        pytest.skip(f"the revocation makes only {len(client.calls)} calls")
    # whatever the rotation promoted from the compromised secret is revoked as well
    assert {before.active.kid, before.next.kid} <= set(outcome.kids)
    _assert_revoked(keys_env, set(outcome.kids))
    assert outcome.keyset.same_content(_current(keys_env))  # a later rotation could not promote a fresh next


def test_call_counts_fit_the_ranges(keys_env):
    before = _bootstrap(keys_env)
    token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
    counter = Interleave(keys_env.sm)
    _rotation_steps(keys_env, counter, token)
    assert len(counter.calls) < MAX_ROTATION_CALLS
    counter = Interleave(keys_env.sm)
    keys_env.rotator(client=counter).revoke(SIGNING_SECRET, _current(keys_env).active.kid)
    assert len(counter.calls) < MAX_REVOKE_CALLS
    assert before.active is not None


def test_two_revocations_interleaved(keys_env):
    before = _bootstrap(keys_env)
    observer = Observer(keys_env)
    other = keys_env.rotator(client=Interleave(keys_env.sm, observer=observer))
    first = keys_env.rotator(
        client=Interleave(
            keys_env.sm, at=8, hook=lambda: other.revoke(SIGNING_SECRET, before.next.kid), observer=observer
        )
    )
    first.revoke(SIGNING_SECRET, before.active.kid)
    _assert_revoked(keys_env, {before.active.kid, before.next.kid})


# --------------------------------------------------------------------------- half-done revocations
@pytest.mark.parametrize("repair", ["rerun", "rotation", "revoke-other"])
@pytest.mark.parametrize("fail_at", range(1, MAX_REVOKE_CALLS + 1))
def test_failed_revoke_is_repaired_by_the_next_operation(keys_env, fail_at, repair):
    before = _bootstrap(keys_env)
    observer = Observer(keys_env)
    victim = before.active.kid
    client = Interleave(keys_env.sm, fail_at=fail_at, observer=observer)
    rotator = keys_env.rotator(client=client)
    try:
        rotator.revoke(SIGNING_SECRET, victim)
    except (ClientError, AuthError):
        pass
    else:
        pytest.skip(f"the revocation makes only {len(client.calls)} calls")
    swapped = _current(keys_env).is_revoked(victim)
    # nothing refuses a valid token meanwhile (the observer checked every state); then repair:
    plain = keys_env.rotator(client=Interleave(keys_env.sm, observer=observer))
    if repair == "rerun" or not swapped:
        plain.revoke(SIGNING_SECRET, victim)
    elif repair == "rotation":
        keys_env.clock.advance(POLICY.cache_ttl)
        _rotate_via_secrets_manager(keys_env, plain)
    else:
        plain.revoke(SIGNING_SECRET, _current(keys_env).next.kid)
    _assert_revoked(keys_env, {victim, before.next.kid})


@pytest.mark.parametrize("fail_put", [1, 2])
def test_feed_write_failure_then_rerun(keys_env, fail_put):
    before = _bootstrap(keys_env)
    observer = Observer(keys_env)
    feed = keys_env.feed(ObservedDynamo(keys_env.ddb, observer, fail_put=fail_put))
    rotator = keys_env.rotator(client=Interleave(keys_env.sm, observer=observer), revocations=feed)
    with pytest.raises(AuthError):
        rotator.revoke(SIGNING_SECRET, before.active.kid)
    assert _current(keys_env).is_revoked(before.active.kid)  # the signing set moved first
    assert before.active.kid in _public_kids(keys_env)  # ... still published: step 4 never ran
    keys_env.rotator().revoke(SIGNING_SECRET, before.active.kid)
    _assert_revoked(keys_env, {before.active.kid, before.next.kid})


def test_feed_write_failure_repaired_by_rotation(keys_env):
    before = _bootstrap(keys_env)
    observer = Observer(keys_env)
    feed = keys_env.feed(ObservedDynamo(keys_env.ddb, observer, fail_put=1))
    with pytest.raises(AuthError):
        keys_env.rotator(revocations=feed).revoke(SIGNING_SECRET, before.active.kid)
    assert not _feed_kids(keys_env)
    keys_env.clock.advance(POLICY.cache_ttl)
    _rotate_via_secrets_manager(keys_env, keys_env.rotator(client=Interleave(keys_env.sm, observer=observer)))
    _assert_revoked(keys_env, {before.active.kid, before.next.kid})


# --------------------------------------------------------------------------- what a revocation does
def test_revoke_active_replaces_next_and_writes_the_feed(keys_env):
    """docs/threat-model.md T-KEY-10."""
    before = _bootstrap(keys_env)
    issuer = AccessTokenIssuer(ISSUER, "api", 900, clock=keys_env.clock)
    forged = issuer.issue(before.next.key, subject="attacker", client_id="c", scope=["read"])  # type: ignore[arg-type]
    outcome = keys_env.rotator().revoke(SIGNING_SECRET, before.active.kid)
    # every private half sat in the same secret: next and the ID-token lineage's keys go too
    assert set(outcome.kids) == {r.kid for r in before.records if r.has_private}
    assert before.active_of(ID_TOKEN).kid in outcome.kids
    # the longest lifetime any deployment may set (authctl cannot know the deployed one)
    assert outcome.until == int(keys_env.clock()) + 86400 + 300 + POLICY.cache_ttl
    after = _assert_revoked(keys_env, set(outcome.kids))
    assert after.grace_secret == before.grace_secret is not None
    verifier = AccessTokenVerifier(
        ClaimsPolicy(ISSUER, "api"), JWKSet.from_dict(_public(keys_env)), clock=keys_env.clock
    )
    with pytest.raises(Exception) as info:
        verifier.verify(forged.token)
    assert type(info.value).__name__ == "UnknownKeyError"
    items = keys_env.ddb.scan(TableName=REVOCATIONS_TABLE)["Items"]
    assert {int(i["expires_at"]["N"]) for i in items} == {outcome.until}


def test_revoke_all(keys_env):
    """docs/threat-model.md T-KEY-10."""
    _bootstrap(keys_env)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)  # active, next and a retired key
    before = _current(keys_env)
    assert any(r.status == "retired" for r in before.records)
    outcome = keys_env.rotator().revoke_all(SIGNING_SECRET)
    old = {r.kid for r in before.records}
    assert set(outcome.kids) == old
    after = _assert_revoked(keys_env, old)
    assert {r.status for r in after.records} == {"active", "next"}
    assert _public_kids(keys_env) == {r.kid for r in after.records}
    assert after.grace_secret is not None and after.grace_secret != before.grace_secret
    item = keys_env.ddb.get_item(TableName=REVOCATIONS_TABLE, Key={"pk": {"S": "all#"}})["Item"]
    assert int(item["cutoff_ms"]["N"]) == outcome.cutoff_ms == int(keys_env.clock() * 1000)


def test_revoke_retired_and_next(keys_env):
    first = _bootstrap(keys_env)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    keys_env.clock.advance(POLICY.cache_ttl)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    before = _current(keys_env)
    assert before.get(first.active.kid).status == before.get(first.next.kid).status == "retired"
    # the older retired key never shared the secret with a private key that still exists
    outcome = keys_env.rotator().revoke(SIGNING_SECRET, first.active.kid)
    assert outcome.kids == (first.active.kid,)
    after = _assert_revoked(keys_env, {first.active.kid})
    assert (after.active.kid, after.next.kid) == (before.active.kid, before.next.kid)
    # next alone: only it is replaced
    outcome = keys_env.rotator().revoke(SIGNING_SECRET, before.next.kid)
    assert outcome.kids == (before.next.kid,)
    after = _assert_revoked(keys_env, {first.active.kid, before.next.kid})
    assert after.active.kid == before.active.kid and after.next.kid != before.next.kid
    # the key retired last shared the secret with today's active key (its next): both go
    outcome = keys_env.rotator().revoke(SIGNING_SECRET, first.next.kid)
    assert {first.next.kid, before.active.kid, after.next.kid} <= set(outcome.kids)
    # ... and today's active key shared it with every private key (both lineages)
    assert {first.next.kid} | {r.kid for r in after.records if r.has_private} == set(outcome.kids)
    final = _assert_revoked(keys_env, set(outcome.kids))
    assert final.active.kid not in outcome.kids


def test_revoked_kid_is_remembered_until_its_tokens_expired(keys_env):
    before = _bootstrap(keys_env)
    outcome = keys_env.rotator().revoke(SIGNING_SECRET, before.active.kid)
    keys_env.clock.advance(POLICY.cache_ttl)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    assert set(outcome.kids) <= set(_current(keys_env).revoked)
    keys_env.clock.now = outcome.until + 1
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    assert not set(outcome.kids) & set(_current(keys_env).revoked)
    assert not set(outcome.kids) & _public_kids(keys_env)


def test_retired_keys_lose_their_private_half_and_the_public_jwks_is_unchanged(keys_env):
    """docs/threat-model.md T-KEY-10."""
    before = _bootstrap(keys_env)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    after = _current(keys_env)
    retired = after.get(before.active.kid)
    assert retired.status == "retired" and not retired.has_private
    doc = json.loads(
        keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )
    assert "d" not in next(k for k in doc["keys"] if k["kid"] == retired.kid)
    assert _public(keys_env) == after.public_jwks()
    assert {k["kid"] for k in _public(keys_env)["keys"]} == {
        before.active.kid,
        before.next.kid,
        after.next.kid,
        before.active_of(ID_TOKEN).kid,
        before.next_of(ID_TOKEN).kid,
        after.next_of(ID_TOKEN).kid,
    }
    assert not after.get(before.active_of(ID_TOKEN).kid).has_private


def test_legacy_private_retired_keys_are_stripped_by_the_next_rotation(keys_env):
    before = _bootstrap(keys_env)
    legacy = before.with_records(
        [
            before.active.with_status("retired", int(keys_env.clock())),
            before.next.with_status("active", int(keys_env.clock())),
        ]
    ).to_dict()
    legacy.pop("grace_secret", None)
    assert "d" in legacy["keys"][0]
    keys_env.rotator()._swap(
        SIGNING_SECRET,
        keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["VersionId"],
        json.dumps(legacy),
    )
    loaded = _current(keys_env)
    assert loaded.get(before.active.kid).has_private and loaded.grace_secret is None
    keys_env.clock.advance(POLICY.cache_ttl)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    after = _current(keys_env)
    assert not after.get(before.active.kid).has_private
    assert after.grace_secret is not None  # created when missing


def test_grace_secret_created_and_carried_over(keys_env):
    before = _bootstrap(keys_env)
    assert before.grace_secret is not None and len(before.grace_secret) == 32
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    assert _current(keys_env).grace_secret == before.grace_secret
    assert before.grace_secret.hex() not in json.dumps(_public(keys_env))


def test_stale_rotation_is_abandoned_and_the_next_starts_over(keys_env):
    before = _bootstrap(keys_env)
    token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
    rotator = keys_env.rotator()
    rotator.create_secret(SIGNING_SECRET, token)
    rotator.set_secret(SIGNING_SECRET, token)
    rotator.test_secret(SIGNING_SECRET, token)
    keys_env.rotator().revoke(SIGNING_SECRET, before.next.kid)
    with pytest.raises(RotationError):
        rotator.finish_secret(SIGNING_SECRET, token)
    assert "AWSCURRENT" not in stages(keys_env.sm, SIGNING_SECRET)[token]
    _assert_revoked(keys_env, {before.next.kid})
    _rotate_via_secrets_manager(keys_env, rotator)
    _assert_revoked(keys_env, {before.next.kid})
