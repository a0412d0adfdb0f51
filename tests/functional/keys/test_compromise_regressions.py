"""The key-compromise findings, as regression tests that observe only the two secrets.

They use no API introduced by the fix, so they ran (and failed) against the code before it:

1. revoking the active key kept ``next`` (equally exposed), and retired keys kept private halves;
2. (the signer side is in ``tests/unit/keys/test_keystore_revocation.py``);
3. a revocation racing a rotation, or failing half-way, left the active key unpublished (every
   new token refused) or the revoked key published again.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from auth_core.errors import AuthError
from auth_core.jwk import JWKSet
from auth_core.keyset import ID_TOKEN, KeySet
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy
from tests.functional.keys.conftest import POLICY, KeysEnv
from tests.functional.keys.rotation_harness import PUBLIC_SECRET, SIGNING_SECRET, start_rotation

pytestmark = pytest.mark.slow  # every interleaving of key operations: skipped by make test-fast

ISSUER = "https://issuer.example"


def _current(env: KeysEnv) -> KeySet:
    return KeySet.from_json(
        env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )


def _public(env: KeysEnv) -> dict[str, Any]:
    return json.loads(
        env.sm.get_secret_value(SecretId=PUBLIC_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )


def _verifier(env: KeysEnv) -> AccessTokenVerifier:
    return AccessTokenVerifier(ClaimsPolicy(ISSUER, "api"), JWKSet.from_dict(_public(env)), clock=env.clock)


def _issue(env: KeysEnv, key: Any) -> str:
    return (
        AccessTokenIssuer(ISSUER, "api", 900, clock=env.clock)
        .issue(key, subject="u", client_id="c", scope=["r"])
        .token
    )


def _assert_sound(env: KeysEnv, revoked: set[str]) -> None:
    current = _current(env)
    published = {k["kid"] for k in _public(env)["keys"]}
    assert current.active is not None and current.active.kid in published, "new tokens would be refused"
    assert not revoked & published, "a revoked key is published"
    assert not revoked & {r.kid for r in current.records}, "a revoked key is still in the signing set"
    assert _verifier(env).verify(_issue(env, current.get_signing_key())).subject == "u"


class Interleave:
    def __init__(self, real: Any, *, at: int = 0, hook: Any = None, fail_at: int = 0) -> None:
        self._real, self.at, self.hook, self.fail_at, self.n = real, at, hook, fail_at, 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._real, name)

        def call(**kwargs: Any) -> Any:
            self.n += 1
            if self.n == self.at:
                self.hook()
            if self.n == self.fail_at:
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, name)
            return method(**kwargs)

        return call


def _bootstrap(env: KeysEnv) -> KeySet:
    env.rotator().rotate_direct(SIGNING_SECRET)
    env.clock.advance(POLICY.cache_ttl)
    return _current(env)


def test_finding_1_revoking_the_active_key_also_revokes_next(keys_env):
    before = _bootstrap(keys_env)
    forged = _issue(keys_env, before.next.key)  # the attacker holds the whole secret's content
    keys_env.rotator().revoke(SIGNING_SECRET, before.active.kid)
    _assert_sound(keys_env, {before.active.kid, before.next.kid})
    with pytest.raises(AuthError):
        _verifier(keys_env).verify(forged)
    # ... and the next scheduled rotation does not make it the signing key
    keys_env.clock.advance(POLICY.cache_ttl)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    assert _current(keys_env).active.kid != before.next.kid


def test_finding_1_retired_keys_keep_no_private_half(keys_env):
    before = _bootstrap(keys_env)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    doc = json.loads(
        keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )
    retired = [k for k in doc["keys"] if k["status"] == "retired"]
    # both lineages' retired keys (ES256 main, RS256 ID-token)
    assert [k["kid"] for k in retired] == [before.active.kid, before.active_of(ID_TOKEN).kid]
    assert all(not {"d", "p", "q"} & set(key) for key in retired)
    assert _public(keys_env) == _current(keys_env).public_jwks()


@pytest.mark.parametrize("at", range(1, 27))
def test_finding_3_revoke_interleaved_with_a_rotation(keys_env, at):
    before = _bootstrap(keys_env)
    token = start_rotation(keys_env.sm, SIGNING_SECRET, keys_env.lambda_arn)
    revoker = keys_env.rotator()
    ran: list[bool] = []

    def revoke() -> None:
        revoker.revoke(SIGNING_SECRET, before.active.kid)
        ran.append(True)

    rotator = keys_env.rotator(client=Interleave(keys_env.sm, at=at, hook=revoke))
    with contextlib.suppress(AuthError):
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            rotator.handle(step, SIGNING_SECRET, token)
    if not ran:
        pytest.skip("the rotation makes fewer calls")
    _assert_sound(keys_env, {before.active.kid})


@pytest.mark.parametrize("fail_at", range(1, 17))
def test_finding_3_revoke_failing_half_way_refuses_no_valid_token(keys_env, fail_at):
    before = _bootstrap(keys_env)
    client = Interleave(keys_env.sm, fail_at=fail_at)
    with contextlib.suppress(AuthError, ClientError):
        keys_env.rotator(client=client).revoke(SIGNING_SECRET, before.active.kid)
    if client.n < fail_at:
        pytest.skip("the revocation makes fewer calls")
    current = _current(keys_env)
    assert current.active.kid in {k["kid"] for k in _public(keys_env)["keys"]}, "new tokens would be refused"
    keys_env.rotator().revoke(SIGNING_SECRET, before.active.kid)  # re-running completes it
    _assert_sound(keys_env, {before.active.kid})
