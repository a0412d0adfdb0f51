"""Fixtures for the key tests: moto with in-process Lambda, the two key secrets, the revocations
table (the revocation feed), a rotator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auth_core.rotation import RotationPolicy
from auth_core.secrets_rotation import KeyRotator
from auth_core.stores.revocations import RevocationStore
from tests.functional.keys.rotation_harness import (
    MOTO_CONFIG,
    PUBLIC_SECRET,
    SIGNING_SECRET,
    KeySecrets,
    create_key_secrets,
    create_rotation_lambda,
)
from tests.keypool import pooled_key
from tests.tables import create_template_table
from tests.unit.keys.fakes import ManualClock

POLICY = RotationPolicy(cache_ttl=300, max_token_lifetime=3600, leeway=60)
REVOCATIONS_TABLE = "jwt-revocations"


@dataclass
class KeysEnv:
    sm: Any
    secrets: KeySecrets
    lambda_arn: str
    clock: ManualClock
    ddb: Any = None

    def feed(self, client: Any | None = None) -> RevocationStore:
        """The revocations table's store (``client``: e.g. a failing wrapper of :attr:`ddb`)."""
        return RevocationStore(REVOCATIONS_TABLE, client=client or self.ddb, clock=self.clock)

    def rotator(self, client: Any | None = None, **kw: Any) -> KeyRotator:
        options: dict[str, Any] = {
            "public_secret_id": PUBLIC_SECRET,
            "alg": "ES256",
            "policy": POLICY,
            "signing_secret_id": SIGNING_SECRET,
            "clock": self.clock,
            "client": client,
            "revocations": self.feed(),
            "generate": pooled_key,  # ES256 sets also make RS256 ID-token keys: from the pool
            **kw,
        }
        return KeyRotator(**options)


@pytest.fixture
def keys_env() -> Iterator[KeysEnv]:
    with mock_aws(config=MOTO_CONFIG):
        sm = boto3.client("secretsmanager")
        secrets = create_key_secrets(sm)
        ddb = boto3.client("dynamodb")
        create_template_table(ddb, "RevocationsTable", REVOCATIONS_TABLE)
        yield KeysEnv(sm, secrets, create_rotation_lambda(), ManualClock(1_700_000_000.0), ddb)
