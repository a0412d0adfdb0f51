"""Creating the template's resources on moto, and rotating secrets the way Secrets Manager does.

Tables and secrets are made from their template properties (keys, GSIs, TTL, PITR, initial
``SecretString``/``GenerateSecretString``). Keys are *not* written here: they are bootstrapped by
the template's own rotation function, driven through the four-step protocol exactly as Secrets
Manager drives it (see :func:`rotate_secret`), so the local stack exercises the code that creates
keys in production.
"""

from __future__ import annotations

import json
import secrets
import string
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from auth_core.keystore import CURRENT, PENDING
from auth_core.secrets_rotation import STEPS
from local_stack.cfn import StackIdentity
from local_stack.sam import AppModel, RotationSpec, SecretSpec, TableSpec

__all__ = [
    "ROTATION_STEPS",
    "RotationHook",
    "begin_rotation",
    "create_secret",
    "create_table",
    "end_rotation",
    "generate_secret_string",
    "pending_rotation",
    "rotate_secret",
]

#: The four steps, in order: the rotation function's own list (``auth_core.secrets_rotation.STEPS``).
ROTATION_STEPS = STEPS


def create_table(ddb: Any, spec: TableSpec) -> None:
    """Create ``spec`` on ``ddb`` (a boto3 DynamoDB client) with its TTL and PITR settings."""
    ddb.create_table(**spec.create_args)
    if spec.ttl_attribute:
        ddb.update_time_to_live(
            TableName=spec.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )
    if spec.pitr:
        ddb.update_continuous_backups(
            TableName=spec.name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def generate_secret_string(generate: Mapping[str, Any]) -> str:
    """What CloudFormation's ``GenerateSecretString`` makes: a random password, or a JSON template
    with the password under ``GenerateStringKey``."""
    alphabet = string.ascii_letters + string.digits
    if str(generate.get("ExcludePunctuation", "false")).lower() != "true":
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    excluded = str(generate.get("ExcludeCharacters", ""))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    length = int(generate.get("PasswordLength", 32))
    password = "".join(secrets.choice(alphabet) for _ in range(length))
    template = generate.get("SecretStringTemplate")
    key = generate.get("GenerateStringKey")
    if template and key:
        doc = json.loads(str(template))
        doc[str(key)] = password
        return json.dumps(doc)
    return password


def create_secret(sm: Any, spec: SecretSpec) -> str:
    """Create ``spec`` on ``sm`` (a boto3 Secrets Manager client); returns its ARN (its ``Ref``)."""
    value = spec.secret_string
    if value is None and spec.generate is not None:
        value = generate_secret_string(spec.generate)
    kwargs: dict[str, Any] = {"Name": spec.name, "Description": spec.description}
    if value is not None:
        kwargs["SecretString"] = value if isinstance(value, str) else json.dumps(value)
    return str(sm.create_secret(**kwargs)["ARN"])


def _secret(identity: StackIdentity, secret_id: str) -> Any:
    from moto.secretsmanager.models import secretsmanager_backends  # noqa: PLC0415 - only with a local moto

    return secretsmanager_backends[identity.account_id][identity.region].secrets[secret_id]


def _begin_rotation(
    identity: StackIdentity,
    secret_id: str,
    token: str,
    lambda_arn: str,
    rules: Mapping[str, Any],
    *,
    copy_current: bool = False,
) -> None:
    """What ``RotateSecret`` does before calling the function: rotation enabled, and a new version
    labelled ``AWSPENDING`` -- with no value yet, or a copy of the current one for a configuration
    test (``RotateImmediately=false``). moto has no public API for that step, so its backend is
    updated directly (the moto server runs in this process)."""
    secret = _secret(identity, secret_id)
    secret.remove_version_stages_from_old_versions([PENDING])
    version: dict[str, Any] = {
        "createdate": int(time.time()),
        "version_id": token,
        "version_stages": [PENDING],
    }
    if copy_current:
        current = next(v for v in secret.versions.values() if CURRENT in v["version_stages"])
        version.update({k: current[k] for k in ("secret_string", "secret_binary") if k in current})
    secret.versions[token] = version
    secret.rotation_lambda_arn = lambda_arn
    days = rules.get("AutomaticallyAfterDays")
    if days:
        secret.auto_rotate_after_days = int(days)
    secret.rotation_enabled = True
    secret.rotation_requested = True


def _end_rotation(identity: StackIdentity, secret_id: str, token: str) -> None:
    """Finish like Secrets Manager, correcting two moto 5.2.5 quirks so later callers see AWS behaviour.

    * ``GetSecretValue`` without a stage must return ``AWSCURRENT``; moto keeps returning the
      version that was current before ``UpdateSecretVersionStage`` moved the label.
    * AWS accepts ``AWSPENDING`` left on the new current version; moto then refuses the next
      ``RotateSecret`` ("previous rotation is still in progress"), so the label is dropped.
    """
    secret = _secret(identity, secret_id)
    version = secret.versions.get(token) or {}
    stages = version.get("version_stages", [])
    if CURRENT in stages and PENDING in stages:
        stages.remove(PENDING)
    for version_id, version in secret.versions.items():
        if CURRENT in version.get("version_stages", []):
            secret.default_version_id = version_id
    secret.last_rotation_date = int(time.time())


def begin_rotation(
    model: AppModel, rotation: RotationSpec, *, token: str | None = None, copy_current: bool = False
) -> str:
    """Stage a new version of ``rotation.secret`` ``AWSPENDING`` (no value), as ``RotateSecret``
    does before it calls the function; returns its id (``ClientRequestToken``), fresh unless given."""
    identity = model.resolver.identity
    function = model.functions[rotation.function]
    lambda_arn = f"arn:aws:lambda:{identity.region}:{identity.account_id}:function:{function.name}"
    token = token or str(uuid.uuid4())
    secret_arn = model.resolver.refs[rotation.secret]
    _begin_rotation(identity, secret_arn, token, lambda_arn, rotation.rules, copy_current=copy_current)
    return token


def pending_rotation(model: AppModel, rotation: RotationSpec) -> str | None:
    """The version of ``rotation.secret`` staged ``AWSPENDING`` (and not ``AWSCURRENT``): the
    rotation in progress, if any."""
    secret = _secret(model.resolver.identity, model.resolver.refs[rotation.secret])
    for version_id, version in secret.versions.items():
        stages = version.get("version_stages", [])
        if PENDING in stages and CURRENT not in stages:
            return str(version_id)
    return None


def end_rotation(model: AppModel, rotation: RotationSpec, token: str) -> None:
    """After a successful ``finishSecret``: what :func:`rotate_secret` does after its last step."""
    _end_rotation(model.resolver.identity, model.resolver.refs[rotation.secret], token)


def rotate_secret(
    model: AppModel,
    rotation: RotationSpec,
    invoke: Callable[[str, dict[str, Any]], Any],
    *,
    token: str | None = None,
    immediately: bool = True,
    log: Callable[[str], None] = lambda _msg: None,
) -> str:
    """Rotate ``rotation.secret`` with its rotation function, as Secrets Manager's ``RotateSecret``:
    a ``ClientRequestToken`` (fresh unless given), then ``createSecret``, ``setSecret``,
    ``testSecret``, ``finishSecret`` -- only ``testSecret`` when not ``immediately`` -- each an
    invocation of the function with ``{"Step", "SecretId", "ClientRequestToken"}``. Returns the token
    (the new version id).

    :raises local_stack.apigw.InvocationError: a step failed (the rotation stays pending, as on AWS).
    """
    identity = model.resolver.identity
    secret_arn = model.resolver.refs[rotation.secret]
    token = begin_rotation(model, rotation, token=token, copy_current=not immediately)
    try:
        for step in ROTATION_STEPS if immediately else ("testSecret",):
            started = time.perf_counter()
            invoke(rotation.function, {"Step": step, "SecretId": secret_arn, "ClientRequestToken": token})
            log(f"rotation {rotation.secret} {step} ok ({(time.perf_counter() - started) * 1000:.0f} ms)")
    finally:
        if not immediately:  # the configuration test's version is removed again, as on AWS
            _secret(identity, secret_arn).versions.pop(token, None)
    if immediately:
        _end_rotation(identity, secret_arn, token)
    return token


class RotationHook:
    """Routes moto's ``RotateSecret`` to the template's rotation function (moto runs in this process).

    Without it, ``aws secretsmanager rotate-secret`` or ``authctl keys rotate`` against the local
    stack would hit moto's own Lambda emulation, which cannot run our functions and leaves the
    secret with an empty current version. With it, such a call behaves as on AWS: the rotation
    function runs the four steps (synchronously here; AWS runs them asynchronously, and like AWS a
    failed step leaves the rotation pending and is only visible in the function's log).
    Secrets without a rotation schedule in the template keep moto's behaviour.

    It also makes ``UpdateSecretVersionStage`` of ``AWSCURRENT`` change what ``GetSecretValue``
    without a stage returns, as on AWS (moto 5.2.5 keeps returning the old version), so that
    ``authctl keys rotate --direct`` and any other client see the rotated value.
    """

    def __init__(
        self, model: AppModel, invoke: Callable[[str, dict[str, Any]], Any], log: Callable[[str], None]
    ) -> None:
        self.model = model
        self.invoke = invoke
        self.log = log
        self._original: Any = None

    def install(self) -> None:
        from moto.secretsmanager.models import SecretsManagerBackend  # noqa: PLC0415 - local moto only

        if self._original is not None:
            return
        original = SecretsManagerBackend.rotate_secret
        hook = self

        def hooked_rotate_secret(
            backend: Any,
            secret_id: str,
            client_request_token: str | None = None,
            rotation_lambda_arn: str | None = None,
            rotation_rules: dict[str, Any] | None = None,
            rotate_immediately: bool = True,
        ) -> str:
            secret = backend.secrets.get(secret_id)
            rotation = hook.rotation_for(secret.arn) if secret is not None else None
            if rotation is None:
                return original(
                    backend,
                    secret_id,
                    client_request_token,
                    rotation_lambda_arn,
                    rotation_rules,
                    rotate_immediately,
                )
            token = client_request_token or str(uuid.uuid4())
            try:
                rotate_secret(
                    hook.model,
                    rotation,
                    hook.invoke,
                    token=token,
                    immediately=rotate_immediately,
                    log=hook.log,
                )
            except Exception as exc:  # noqa: BLE001 - asynchronous on AWS: the caller never sees it
                hook.log(f"rotation of {rotation.secret} failed: {exc}")
            return str(secret.to_short_dict(version_id=token))

        original_stage = SecretsManagerBackend.update_secret_version_stage

        def update_secret_version_stage(
            backend: Any,
            secret_id: str,
            version_stage: str,
            remove_from_version_id: str,
            move_to_version_id: str,
        ) -> tuple[str, str]:
            # moto 5.2.5 moves the label but keeps serving the old version to GetSecretValue
            # calls without a stage; AWS serves whatever carries AWSCURRENT.
            result = original_stage(
                backend, secret_id, version_stage, remove_from_version_id, move_to_version_id
            )
            if version_stage == CURRENT and move_to_version_id:
                backend.secrets[secret_id].default_version_id = move_to_version_id
            return result

        SecretsManagerBackend.rotate_secret = hooked_rotate_secret  # type: ignore[method-assign,assignment]
        SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage  # type: ignore[method-assign,assignment]
        self._original = (original, original_stage)

    def rotation_for(self, secret_arn: str) -> RotationSpec | None:
        for rotation in self.model.rotations:
            if self.model.resolver.refs.get(rotation.secret) == secret_arn:
                return rotation
        return None

    def uninstall(self) -> None:
        if self._original is not None:
            from moto.secretsmanager.models import SecretsManagerBackend  # noqa: PLC0415

            rotate, stage = self._original
            SecretsManagerBackend.rotate_secret = rotate  # type: ignore[method-assign]
            SecretsManagerBackend.update_secret_version_stage = stage  # type: ignore[method-assign]
            self._original = None
