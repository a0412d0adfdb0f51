"""functions/rotate_keys: the real handler driven by moto's rotate_secret (payload = SM event)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from auth_core.errors import KeyStoreError, RotationError
from auth_core.keyset import KeySet
from tests.conftest import load_event
from tests.functional.keys.rotation_harness import (
    PUBLIC_SECRET,
    SIGNING_SECRET,
    route_rotation_invokes,
    stages,
)


@pytest.fixture
def rotate_app(keys_env, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("SIGNING_KEYS_SECRET_ID", SIGNING_SECRET)
    monkeypatch.setenv("PUBLIC_JWKS_SECRET_ID", PUBLIC_SECRET)
    monkeypatch.setenv("SIGNING_ALG", "ES256")
    import functions.rotate_keys.app as app

    app.rotator.cache_clear()
    yield app
    app.rotator.cache_clear()


def test_rotate_secret_bootstraps_through_the_handler(rotate_app, keys_env, lambda_context):
    log = io.StringIO()
    previous_stream = rotate_app.logger.registered_handler.setStream(log)
    with route_rotation_invokes(lambda event: rotate_app.lambda_handler(event, lambda_context)) as received:
        keys_env.sm.rotate_secret(
            SecretId=SIGNING_SECRET,
            RotationLambdaARN=keys_env.lambda_arn,
            RotationRules={"AutomaticallyAfterDays": 30},
        )
    assert [e["Step"] for e in received] == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    current_text = keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")[
        "SecretString"
    ]
    current = KeySet.from_json(current_text)
    assert current.active is not None and current.next is not None and current.active.key.alg == "ES256"
    public = keys_env.sm.get_secret_value(SecretId=PUBLIC_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    assert json.loads(public) == current.public_jwks()
    assert not any("AWSPENDING" in s for s in stages(keys_env.sm, SIGNING_SECRET).values())
    # second rotation right away: the next key is too young to sign, so the active key stays
    with route_rotation_invokes(lambda event: rotate_app.lambda_handler(event, lambda_context)):
        # moto forgets the function unless it is passed again (AWS remembers it)
        keys_env.sm.rotate_secret(SecretId=SIGNING_SECRET, RotationLambdaARN=keys_env.lambda_arn)
    again = KeySet.from_json(
        keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )
    assert again.active.kid == current.active.kid
    # no key material in what the handler logged
    rotate_app.logger.registered_handler.setStream(previous_stream)
    logged = log.getvalue()
    assert "pending key set created" in logged and "public JWKS published" in logged
    private_parts = {r.key.to_private_jwk()["d"] for r in again.records}
    assert not any(part in logged for part in private_parts)


@pytest.mark.parametrize(
    "event",
    [{}, {"Step": "createSecret"}, {"Step": "createSecret", "SecretId": "", "ClientRequestToken": "t"}],
)
def test_not_a_rotation_event(rotate_app, lambda_context, event):
    with pytest.raises(RotationError):
        rotate_app.lambda_handler(event, lambda_context)


def test_sample_event_for_another_secret_is_refused(rotate_app, lambda_context):
    with pytest.raises(KeyStoreError) as info:  # the core's own type, never a raw botocore error
        rotate_app.lambda_handler(load_event("rotate_keys_create_secret.json"), lambda_context)
    assert info.value.reason in {"secret_not_found", "rotation"}
