"""Run real Secrets Manager rotations under moto, in process.

moto's ``rotate_secret`` invokes the rotation Lambda four times (createSecret, setSecret,
testSecret, finishSecret) through ``LambdaSimpleBackend.invoke`` when Lambda runs with
``mock_aws(config={"lambda": {"use_docker": False}})``; by default that backend only echoes.
:func:`route_rotation_invokes` patches it to call a Python handler in process instead, so a
test (or the local stack) gets the genuine four-step protocol with our handler.

moto quirks this works around or documents (moto 5.2.5):

* ``rotate_secret`` without ``RotationLambdaARN`` *forgets* the function set by an earlier
  call and stamps an empty version AWSCURRENT: always pass the ARN again.
* ``update_secret_version_stage`` moves the labels but not moto's "default version", so
  ``get_secret_value`` *without* ``VersionStage`` may return the old value: always pass
  ``VersionStage="AWSCURRENT"`` (our key store does).
* after ``update_secret_version_stage`` moved AWSCURRENT, a plain ``put_secret_value`` adds a
  *second* version labelled AWSCURRENT and reads keep returning the first: our code moves
  AWSCURRENT on the signing secret only with ``update_secret_version_stage``.
* an AWSPENDING label left on the AWSCURRENT version makes the next ``rotate_secret`` fail
  with "Previous rotation request is still in progress": our ``finishSecret`` removes it.
* ``RotationEnabled`` becomes true only when ``RotationRules`` are given.

Usage::

    with mock_aws(config={"lambda": {"use_docker": False}}):
        sm = boto3.client("secretsmanager")
        secrets = create_key_secrets(sm)
        arn = create_rotation_lambda()
        with route_rotation_invokes(handler) as invocations:
            sm.rotate_secret(SecretId=secrets.signing_arn, RotationLambdaARN=arn,
                             RotationRules={"AutomaticallyAfterDays": 30})
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import boto3

#: ``mock_aws`` configuration that makes moto's Lambda backend the in-process "simple" one.
MOTO_CONFIG: dict[str, Any] = {"lambda": {"use_docker": False}}

SIGNING_SECRET = "serverless-jwt-auth/signing-keys"
PUBLIC_SECRET = "serverless-jwt-auth/public-jwks"


@dataclass(frozen=True)
class KeySecrets:
    signing_arn: str
    public_arn: str


def create_key_secrets(
    sm: Any, *, signing_name: str = SIGNING_SECRET, public_name: str = PUBLIC_SECRET
) -> KeySecrets:
    """The two secrets as the template creates them: an empty key set and an empty JWKS."""
    signing = sm.create_secret(Name=signing_name, SecretString='{"version":1,"keys":[]}')["ARN"]
    public = sm.create_secret(Name=public_name, SecretString='{"keys":[]}')["ARN"]
    return KeySecrets(signing, public)


def create_rotation_lambda(name: str = "rotate-keys") -> str:
    """A placeholder function (moto needs one to exist for ``RotationLambdaARN``); returns its ARN."""
    iam = boto3.client("iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
    return boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="app.lambda_handler",
        Code={"ZipFile": buf.getvalue()},
    )["FunctionArn"]


@contextmanager
def route_rotation_invokes(handler: Callable[[dict[str, Any]], Any]) -> Iterator[list[dict[str, Any]]]:
    """Patch moto's simple Lambda backend so every invoke calls ``handler(event)`` in process.

    Yields the list of events received (in order). An exception raised by the handler
    propagates out of ``rotate_secret``, as a failed rotation step would.
    """
    from moto.awslambda_simple.models import LambdaSimpleBackend

    received: list[dict[str, Any]] = []
    original = LambdaSimpleBackend.invoke

    def invoke(
        self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        event = json.loads(body)
        received.append(event)
        return json.dumps(handler(event)).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    try:
        yield received
    finally:
        LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]


def stages(sm: Any, secret_id: str) -> dict[str, list[str]]:
    """``VersionIdsToStages`` of a secret."""
    return sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})


class _PausedError(Exception):
    """Raised by the routed handler to stop moto's rotation before the first step runs."""


def start_rotation(sm: Any, secret_id: str, lambda_arn: str) -> str:
    """Leave the secret exactly as AWS does before it invokes ``createSecret``: rotation enabled
    and a new, *valueless* version staged ``AWSPENDING``. Returns its ``ClientRequestToken``, so a
    test can drive the four steps itself (retries, out-of-order calls)."""

    def pause(event: dict[str, Any]) -> None:
        raise _PausedError(event["ClientRequestToken"])

    with route_rotation_invokes(pause) as received, suppress(_PausedError):
        sm.rotate_secret(
            SecretId=secret_id, RotationLambdaARN=lambda_arn, RotationRules={"AutomaticallyAfterDays": 30}
        )
    return str(received[0]["ClientRequestToken"])
