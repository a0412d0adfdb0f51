"""``authctl keys rotate`` says what happened (the promoted kid, or why nothing was promoted and
from when it can be), exits non-zero when the rotation failed, and uses the deployment's settings
(``SIGNING_ALG``, ``KEY_CACHE_TTL``), never the operator's shell."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from auth_core import aws
from auth_core.keyset import ID_TOKEN, MAIN, KeySet
from authctl.cli import main
from tests.functional.authctl.conftest import write_stack_file
from tests.functional.keys.rotation_harness import PUBLIC_SECRET, SIGNING_SECRET, route_rotation_invokes

IDS = ["--signing-secret", SIGNING_SECRET, "--jwks-secret", PUBLIC_SECRET]


@pytest.fixture(autouse=True)
def _operator_shell(monkeypatch):
    """The operator's shell holds settings that are not the deployment's."""
    for name in ("SIGNING_KEYS_SECRET_ID", "PUBLIC_JWKS_SECRET_ID", "REVOCATIONS_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNING_ALG", "ES256")
    monkeypatch.setenv("KEY_CACHE_TTL", "3600")


def _current(keys_env) -> KeySet:
    text = keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    return KeySet.from_json(text)


def test_direct_rotation_reports_and_follows_the_deployment(keys_env, capsys, tmp_path):
    stack = write_stack_file(
        tmp_path / "stack.json",
        None,
        functions={"RotateKeysFunction": {"SIGNING_ALG": "EdDSA", "KEY_CACHE_TTL": "4"}},
        signing_keys_secret_id=SIGNING_SECRET,
        public_jwks_secret_id=PUBLIC_SECRET,
    )
    argv = ["--stack", str(stack), "keys", "rotate", "--direct"]
    assert main(argv) == 0
    first = _current(keys_env)
    # the deployment's EdDSA, not the shell's ES256; ID tokens have their RS256 lineage beside it
    assert {r.key.alg for r in first.records if r.lineage == MAIN} == {"EdDSA"}
    assert {r.key.alg for r in first.records if r.lineage == ID_TOKEN} == {"RS256"}
    out = capsys.readouterr().out
    assert f"first keys: {first.active.kid} is active, {first.next.kid} is next" in out

    assert main(argv) == 0  # at once: the next key is younger than the deployment's KEY_CACHE_TTL
    out = capsys.readouterr().out
    assert "rotated" not in out.replace("rotated (direct)", "")
    assert f"nothing promoted: {first.active.kid} stays the active key" in out
    assert f"the next key {first.next.kid}" in out and "KEY_CACHE_TTL (4 s)" in out
    assert "can be promoted from" in out
    assert _current(keys_env).active.kid == first.active.kid

    time.sleep(4.2)  # the deployment's KEY_CACHE_TTL (the shell says 3600): 4 s, so that the
    # "at once" call above stays inside it even on a loaded machine
    assert main(argv) == 0
    out = capsys.readouterr().out
    after = _current(keys_env)
    assert after.active.kid == first.next.kid
    assert f"promoted: {first.next.kid} is now the active key ({first.active.kid} retired)" in out
    assert f"new next: {after.next.kid}" in out


class RotatingSecretsManager:
    """moto forgets the rotation function unless ``RotateSecret`` names it again (AWS remembers)."""

    def __init__(self, real: Any, lambda_arn: str) -> None:
        self._real = real
        self._arn = lambda_arn

    def rotate_secret(self, **kw: Any) -> Any:
        return self._real.rotate_secret(
            RotationLambdaARN=self._arn, RotationRules={"AutomaticallyAfterDays": 30}, **kw
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.fixture
def secrets_manager(keys_env):
    aws.set_client("secretsmanager", RotatingSecretsManager(keys_env.sm, keys_env.lambda_arn))
    return keys_env


def _handler(keys_env):
    rotator = keys_env.rotator(clock=time.time)
    return lambda event: rotator.handle(event["Step"], event["SecretId"], event["ClientRequestToken"])


def test_rotate_secret_reports_what_the_rotation_function_did(secrets_manager, capsys):
    keys_env = secrets_manager
    with route_rotation_invokes(_handler(keys_env)):
        assert main(["keys", *IDS, "rotate"]) == 0
        first = _current(keys_env)
        assert f"first keys: {first.active.kid} is active" in capsys.readouterr().out
        assert main(["keys", *IDS, "rotate"]) == 0
    captured = capsys.readouterr()
    assert f"nothing promoted: {first.active.kid} stays the active key" in captured.out
    # no deployment named: the default KEY_CACHE_TTL is assumed, and said; the shell's 3600 is not used
    assert "KEY_CACHE_TTL (300 s)" in captured.out
    assert "assuming the default settings" in captured.err and "KEY_CACHE_TTL=300" in captured.err


def test_rotate_secret_that_does_not_finish_is_a_failure(secrets_manager, capsys, monkeypatch):
    keys_env = secrets_manager
    monkeypatch.setattr("authctl.keys._sleep", lambda _s: None)
    before = keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    # the rotation function never completes the steps (it fails in AWS, or is too slow)
    assert main(["keys", *IDS, "rotate", "--wait", "0.2"]) == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("authctl: error:")]
    assert len(lines) == 1 and "had not finished" in lines[0] and "authctl keys list" in lines[0]
    assert "Traceback" not in captured.err
    after = keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    assert json.loads(after) == json.loads(before)


class ThrottledSecretsManager:
    def __init__(self, real: Any) -> None:
        self._real = real

    def put_secret_value(self, **_kw: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutSecretValue"
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.mark.parametrize(
    ("jwks", "throttled", "code"),
    [
        pytest.param("nope", False, 2, id="unknown-secret"),  # a wrong name: usage
        pytest.param(PUBLIC_SECRET, True, 1, id="throttled"),  # it ran and failed
    ],
)
def test_rotate_direct_failure_exits_non_zero(keys_env, capsys, jwks, throttled, code):
    if throttled:
        aws.set_client("secretsmanager", ThrottledSecretsManager(keys_env.sm))
    argv = ["keys", "--signing-secret", SIGNING_SECRET, "--jwks-secret", jwks, "rotate", "--direct"]
    assert main(argv) == code
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("authctl: error:")]
    assert len(lines) == 1 and "the rotation did not complete" in lines[0], captured.err
    assert "Traceback" not in captured.err and "rotated" not in captured.out
