"""Secrets Manager rotation function for the signing-key secret.

Thin: validates the event shape and hands the step to
:class:`auth_core.secrets_rotation.KeyRotator` (the four-step protocol, idempotent per
``ClientRequestToken``). Any refusal raises, which fails the invocation so that Secrets Manager
records the failure and retries; no key material is ever logged. A rotation overtaken by an
emergency revocation (``authctl keys revoke``) is abandoned by its next step (``RotationError``,
reason ``stale_rotation``) and the next scheduled rotation starts over. When ``REVOCATIONS_TABLE``
is set (with ``dynamodb:PutItem`` on it), every rotation also re-asserts the revoked kids in the
revocation feed, completing a half-done revocation.
"""

from __future__ import annotations

import functools
from typing import Any

from auth_core.errors import RotationError
from auth_core.observability import get_logger
from auth_core.secrets_rotation import KeyRotator
from auth_core.settings import Settings

logger = get_logger("rotate_keys")


@functools.cache
def rotator() -> KeyRotator:
    return KeyRotator.from_settings(Settings.from_env(), logger=logger)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    fields = [event.get(name) for name in ("Step", "SecretId", "ClientRequestToken")]
    if not all(isinstance(value, str) and value for value in fields):
        raise RotationError("not a Secrets Manager rotation event")
    step, secret_id, token = fields
    logger.info("rotation step", extra={"step": step, "version": token})
    rotator().handle(str(step), str(secret_id), str(token))
