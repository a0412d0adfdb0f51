"""The four-step Secrets Manager rotation protocol against moto (auth_core.secrets_rotation)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from auth_core.errors import KeyStoreError, RotationError
from auth_core.jwk import JWKSet
from auth_core.keyset import ID_TOKEN, MAIN, KeySet
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy
from tests.functional.keys.conftest import POLICY, KeysEnv
from tests.functional.keys.rotation_harness import (
    PUBLIC_SECRET,
    SIGNING_SECRET,
    route_rotation_invokes,
    stages,
    start_rotation,
)


def _current(env: KeysEnv) -> KeySet:
    text = env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    return KeySet.from_json(text)


def _pending(env: KeysEnv, token: str) -> KeySet:
    text = env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionId=token, VersionStage="AWSPENDING")
    return KeySet.from_json(text["SecretString"])


def _public(env: KeysEnv) -> dict[str, Any]:
    return json.loads(
        env.sm.get_secret_value(SecretId=PUBLIC_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )


def _versions(env: KeysEnv, secret: str) -> int:
    return len(env.sm.list_secret_version_ids(SecretId=secret, IncludeDeprecated=True)["Versions"])


def _rotate_via_secrets_manager(env: KeysEnv, rotator: Any) -> list[dict[str, Any]]:
    def handler(event: dict[str, Any]) -> None:
        rotator.handle(event["Step"], event["SecretId"], event["ClientRequestToken"])

    with route_rotation_invokes(handler) as received:
        env.sm.rotate_secret(
            SecretId=SIGNING_SECRET,
            RotationLambdaARN=env.lambda_arn,
            RotationRules={"AutomaticallyAfterDays": 30},
        )
    return received


def _assert_consistent(env: KeysEnv) -> KeySet:
    """Invariants after a finished rotation: AWSCURRENT has a value, public == public part of
    the private set, no AWSPENDING left behind."""
    current = _current(env)
    assert _public(env) == current.public_jwks()
    assert not any("AWSPENDING" in s for s in stages(env.sm, SIGNING_SECRET).values())
    return current


class TestSteps:
    def test_four_steps_in_order(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)

        rotator.create_secret(SIGNING_SECRET, token)
        pending = _pending(keys_env, token)
        assert pending.active is not None and pending.next is not None
        assert _public(keys_env) == {"keys": []}  # nothing published yet
        assert _current(keys_env).records == ()

        rotator.set_secret(SIGNING_SECRET, token)
        assert _public(keys_env) == pending.public_jwks()

        rotator.test_secret(SIGNING_SECRET, token)
        rotator.finish_secret(SIGNING_SECRET, token)
        assert stages(keys_env.sm, SIGNING_SECRET)[token] == ["AWSCURRENT"]
        assert _assert_consistent(keys_env).active.kid == pending.active.kid

    def test_create_secret_retry_keeps_the_first_keys(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        rotator.create_secret(SIGNING_SECRET, token)
        first = _pending(keys_env, token).to_json()
        keys_env.clock.advance(5)
        rotator.create_secret(SIGNING_SECRET, token)
        assert _pending(keys_env, token).to_json() == first

    def test_set_secret_retry_makes_no_new_version(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        rotator.create_secret(SIGNING_SECRET, token)
        rotator.set_secret(SIGNING_SECRET, token)
        versions = _versions(keys_env, PUBLIC_SECRET)
        rotator.set_secret(SIGNING_SECRET, token)
        rotator.set_secret(SIGNING_SECRET, token)
        assert _versions(keys_env, PUBLIC_SECRET) == versions

    def test_set_secret_before_create_secret_is_refused(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        with pytest.raises(RotationError, match="createSecret"):
            rotator.set_secret(SIGNING_SECRET, token)
        assert _public(keys_env) == {"keys": []}

    def test_test_secret_before_set_secret_is_refused(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        rotator.create_secret(SIGNING_SECRET, token)
        with pytest.raises(RotationError, match="setSecret"):
            rotator.test_secret(SIGNING_SECRET, token)

    def test_finish_secret_before_set_secret_is_refused(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        rotator.create_secret(SIGNING_SECRET, token)
        with pytest.raises(RotationError, match="setSecret"):
            rotator.finish_secret(SIGNING_SECRET, token)
        assert "AWSCURRENT" not in stages(keys_env.sm, SIGNING_SECRET)[token]

    def test_finish_secret_twice_is_a_no_op(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            rotator.handle(step, SIGNING_SECRET, token)
        before = stages(keys_env.sm, SIGNING_SECRET)
        rotator.finish_secret(SIGNING_SECRET, token)
        assert stages(keys_env.sm, SIGNING_SECRET) == before

    def test_steps_after_finish_are_refused_except_finish(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            rotator.handle(step, SIGNING_SECRET, token)
        for step in ("createSecret", "setSecret", "testSecret"):
            with pytest.raises(RotationError, match="already AWSCURRENT"):
                rotator.handle(step, SIGNING_SECRET, token)

    def test_token_that_is_not_a_version_is_refused(self, keys_env):
        rotator = keys_env.rotator()
        start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            with pytest.raises(RotationError, match="not a version"):
                rotator.handle(step, SIGNING_SECRET, str(uuid.uuid4()))

    def test_token_not_staged_awspending_is_refused(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            rotator.handle(step, SIGNING_SECRET, token)
        previous = next(v for v, s in stages(keys_env.sm, SIGNING_SECRET).items() if "AWSPREVIOUS" in s)
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            with pytest.raises(RotationError, match="not staged AWSPENDING"):
                rotator.handle(step, SIGNING_SECRET, previous)

    def test_rotation_not_enabled_is_refused(self, keys_env):
        rotator = keys_env.rotator()
        token = str(uuid.uuid4())
        keys_env.sm.put_secret_value(
            SecretId=SIGNING_SECRET,
            ClientRequestToken=token,
            SecretString='{"version":1,"keys":[]}',
            VersionStages=["AWSPENDING"],
        )
        with pytest.raises(RotationError, match="not enabled"):
            rotator.create_secret(SIGNING_SECRET, token)

    def test_other_secret_is_refused(self, keys_env):
        rotator = keys_env.rotator(signing_secret_id="some/other-secret")
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        with pytest.raises(RotationError, match="another secret"):
            rotator.create_secret(SIGNING_SECRET, token)

    def test_unknown_step(self, keys_env):
        with pytest.raises(RotationError, match="unknown"):
            keys_env.rotator().handle("dropTables", SIGNING_SECRET, "x")

    def test_secret_referenced_by_arn_is_accepted(self, keys_env):
        rotator = keys_env.rotator()
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        rotator.create_secret(keys_env.secrets.signing_arn, token)
        assert _pending(keys_env, token).active is not None


class TestWholeRotations:
    def test_rotate_secret_runs_all_four_steps(self, keys_env):
        received = _rotate_via_secrets_manager(keys_env, keys_env.rotator())
        assert [e["Step"] for e in received] == ["createSecret", "setSecret", "testSecret", "finishSecret"]
        current = _assert_consistent(keys_env)
        assert current.active is not None and current.next is not None

    def test_consecutive_rotations_keep_every_invariant(self, keys_env):
        rotator = keys_env.rotator()
        published_since: dict[str, float] = {}
        retired_at: dict[str, int] = {}
        signed_with: set[str] = set()
        previous: KeySet | None = None
        for i in range(7):
            _rotate_via_secrets_manager(keys_env, rotator)
            now = keys_env.clock()
            current = _assert_consistent(keys_env)
            assert sum(r.status == "active" for r in current.lineage(MAIN)) == 1
            assert sum(r.status == "active" for r in current.lineage(ID_TOKEN)) == 1
            assert current.next is not None and current.next_of(ID_TOKEN) is not None
            if previous is not None:
                assert current.active.kid == previous.next.kid  # the published next was promoted
                # ... and it had been public for at least one verifier cache TTL
                assert now - published_since[current.active.kid] >= POLICY.cache_ttl
            for record in current.records:
                published_since.setdefault(record.kid, now)
                if record.status == "retired":
                    retired_at[record.kid] = record.retired_at
            signed_with.add(current.active.kid)
            for kid in signed_with - {r.kid for r in current.records}:
                assert retired_at[kid] + POLICY.retention < now  # dropped only after its window
            previous = current
            keys_env.clock.advance(1800 if i % 2 else 2400)
        assert len(signed_with) == 7
        assert len(_current(keys_env).lineage(MAIN)) <= 5  # retired keys do get dropped
        assert len(_current(keys_env).lineage(ID_TOKEN)) <= 5

    def test_rotation_too_soon_keeps_the_active_key(self, keys_env):
        rotator = keys_env.rotator()
        _rotate_via_secrets_manager(keys_env, rotator)
        first = _current(keys_env)
        keys_env.clock.advance(POLICY.cache_ttl - 1)
        _rotate_via_secrets_manager(keys_env, rotator)
        second = _assert_consistent(keys_env)
        assert second.active.kid == first.active.kid and second.next.kid == first.next.kid

    def test_tokens_signed_before_a_rotation_still_verify_after_it(self, keys_env):
        rotator = keys_env.rotator()
        _rotate_via_secrets_manager(keys_env, rotator)
        issuer = AccessTokenIssuer("https://issuer.example", "api", 900, clock=keys_env.clock)
        old = issuer.issue(_current(keys_env).get_signing_key(), subject="u", client_id="c", scope=["read"])
        keys_env.clock.advance(600)
        _rotate_via_secrets_manager(keys_env, rotator)
        verifier = AccessTokenVerifier(
            ClaimsPolicy("https://issuer.example", "api"),
            JWKSet.from_dict(_public(keys_env)),
            clock=keys_env.clock,
        )
        assert verifier.verify(old.token).subject == "u"
        new = issuer.issue(_current(keys_env).get_signing_key(), subject="v", client_id="c", scope=["read"])
        assert verifier.verify(new.token).subject == "v"

    @pytest.mark.parametrize("bootstrapped", [False, True])
    def test_rotate_immediately_false_only_tests_the_configuration(self, keys_env, bootstrapped):
        rotator = keys_env.rotator()
        if bootstrapped:
            _rotate_via_secrets_manager(keys_env, rotator)
        before = _current(keys_env).to_json()

        def handler(event: dict[str, Any]) -> None:
            rotator.handle(event["Step"], event["SecretId"], event["ClientRequestToken"])

        with route_rotation_invokes(handler) as received:
            keys_env.sm.rotate_secret(
                SecretId=SIGNING_SECRET,
                RotationLambdaARN=keys_env.lambda_arn,
                RotationRules={"AutomaticallyAfterDays": 30},
                RotateImmediately=False,
            )
        assert [e["Step"] for e in received] == ["testSecret"]
        assert _current(keys_env).to_json() == before

    def test_rotate_direct_without_secrets_manager_rotation(self, keys_env):
        rotator = keys_env.rotator()
        token = rotator.rotate_direct(SIGNING_SECRET)
        assert stages(keys_env.sm, SIGNING_SECRET)[token] == ["AWSCURRENT"]
        first = _assert_consistent(keys_env)
        keys_env.clock.advance(POLICY.cache_ttl)
        rotator.rotate_direct(SIGNING_SECRET)
        assert _assert_consistent(keys_env).active.kid == first.next.kid


class FlakyClient:
    """Delegates to a real client; ``fail[(method, secret)] = n`` makes the next n calls raise."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.fail: dict[tuple[str, str], int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._real, name)

        def call(**kwargs: Any) -> Any:
            key = (name, kwargs.get("SecretId", ""))
            if self.fail.get(key, 0) > 0:
                self.fail[key] -= 1
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name
                )
            return method(**kwargs)

        return call


class TestFaults:
    @pytest.mark.parametrize(
        ("step", "method", "secret"),
        [
            ("createSecret", "put_secret_value", SIGNING_SECRET),
            ("createSecret", "get_secret_value", PUBLIC_SECRET),
            ("setSecret", "put_secret_value", PUBLIC_SECRET),
            ("testSecret", "get_secret_value", PUBLIC_SECRET),
            ("finishSecret", "update_secret_version_stage", SIGNING_SECRET),
        ],
    )
    def test_throttled_step_leaves_a_consistent_state_and_retries(self, keys_env, step, method, secret):
        _rotate_via_secrets_manager(keys_env, keys_env.rotator())  # a live key set to protect
        before = _assert_consistent(keys_env)
        keys_env.clock.advance(POLICY.cache_ttl)
        flaky = FlakyClient(keys_env.sm)
        rotator = keys_env.rotator(client=flaky)
        token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
        steps = ["createSecret", "setSecret", "testSecret", "finishSecret"]
        for name in steps[: steps.index(step)]:
            rotator.handle(name, SIGNING_SECRET, token)
        flaky.fail[(method, secret)] = 1
        # the core's own error type, never botocore's (the throttling error is chained)
        with pytest.raises(KeyStoreError) as info:
            rotator.handle(step, SIGNING_SECRET, token)
        assert not isinstance(info.value, ClientError)
        causes, cause = [], info.value.__cause__
        while cause is not None:
            causes.append(cause)
            cause = cause.__cause__
        assert any(isinstance(c, ClientError) for c in causes)
        # nothing half-written: signers still see the old set, and every key they may use is published
        assert _current(keys_env).to_json() == before.to_json()
        published = {k["kid"] for k in _public(keys_env)["keys"]}
        assert {r.kid for r in before.records if r.status != "next"} <= published
        # Secrets Manager retries the failed step, then goes on
        for name in steps[steps.index(step) :]:
            rotator.handle(name, SIGNING_SECRET, token)
        after = _assert_consistent(keys_env)
        assert after.active.kid == before.next.kid

    def test_moto_rotation_with_a_failing_step_can_be_rerun(self, keys_env):
        flaky = FlakyClient(keys_env.sm)
        flaky.fail[("put_secret_value", PUBLIC_SECRET)] = 1
        with pytest.raises(KeyStoreError):
            _rotate_via_secrets_manager(keys_env, keys_env.rotator(client=flaky))
        assert _current(keys_env).records == ()
        _rotate_via_secrets_manager(keys_env, keys_env.rotator(client=flaky))
        assert _assert_consistent(keys_env).active is not None


class TestOnlyCoreErrors:
    """Every error of the rotation function is the core's own type: a wrong secret name (or a
    missing permission) must not surface as a raw botocore ``ClientError``."""

    @pytest.mark.parametrize("step", ["createSecret", "setSecret", "testSecret", "finishSecret"])
    def test_unknown_secret_in_every_step(self, keys_env, step):
        with pytest.raises(KeyStoreError) as info:
            keys_env.rotator().handle(step, "no-such-secret", str(uuid.uuid4()))
        assert not isinstance(info.value, ClientError)
        assert info.value.reason in {"secret_not_found", "rotation"}

    def test_unknown_secret_direct_rotation(self, keys_env):
        with pytest.raises(KeyStoreError) as info:
            keys_env.rotator().rotate_direct("no-such-secret")
        assert not isinstance(info.value, ClientError)

    def test_wrong_public_secret_name(self, keys_env):
        _rotate_via_secrets_manager(keys_env, keys_env.rotator())
        rotator = keys_env.rotator()
        rotator.public_secret_id = "no-such-public-secret"
        with pytest.raises(KeyStoreError) as info:
            rotator.rotate_direct(SIGNING_SECRET)
        assert not isinstance(info.value, ClientError)

    @pytest.mark.parametrize(
        "method", ["describe_secret", "put_secret_value", "update_secret_version_stage", "get_secret_value"]
    )
    def test_every_secrets_manager_call_fails_as_a_core_error(self, keys_env, method):
        _rotate_via_secrets_manager(keys_env, keys_env.rotator())
        flaky = FlakyClient(keys_env.sm)
        flaky.fail[(method, SIGNING_SECRET)] = 99
        flaky.fail[(method, PUBLIC_SECRET)] = 99
        with pytest.raises(KeyStoreError) as info:
            keys_env.rotator(client=flaky).rotate_direct(SIGNING_SECRET)
        assert not isinstance(info.value, ClientError)


class TestRevoke:
    def test_revoke_active_removes_it_from_both_secrets(self, keys_env):
        rotator = keys_env.rotator()
        _rotate_via_secrets_manager(keys_env, rotator)
        before = _current(keys_env)
        issuer = AccessTokenIssuer("https://issuer.example", "api", 900, clock=keys_env.clock)
        stolen = issuer.issue(before.get_signing_key(), subject="u", client_id="c", scope=["read"])
        keys_env.clock.advance(5)
        revoked = rotator.revoke(SIGNING_SECRET, before.active.kid).keyset
        after = _assert_consistent(keys_env)
        assert after.to_json() == revoked.to_json()
        assert after.get(before.active.kid) is None
        assert after.active.kid not in (before.active.kid, before.next.kid)
        verifier = AccessTokenVerifier(
            ClaimsPolicy("https://issuer.example", "api"),
            JWKSet.from_dict(_public(keys_env)),
            clock=keys_env.clock,
        )
        with pytest.raises(Exception) as info:
            verifier.verify(stolen.token)
        assert type(info.value).__name__ == "UnknownKeyError"
        fresh = issuer.issue(after.get_signing_key(), subject="u", client_id="c", scope=["read"])
        assert verifier.verify(fresh.token).subject == "u"

    def test_revoke_unknown_kid_changes_nothing(self, keys_env):
        rotator = keys_env.rotator()
        _rotate_via_secrets_manager(keys_env, rotator)
        versions = (_versions(keys_env, SIGNING_SECRET), _versions(keys_env, PUBLIC_SECRET))
        with pytest.raises(KeyStoreError):
            rotator.revoke(SIGNING_SECRET, "no-such-kid")
        assert (_versions(keys_env, SIGNING_SECRET), _versions(keys_env, PUBLIC_SECRET)) == versions
