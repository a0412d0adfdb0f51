"""More than one region: a function reads the key secrets' replicas in its own region
(auth_core/regions.py, through Settings), and tells a replica from its primary."""

from __future__ import annotations

import pytest

from auth_core.regions import arn_region, replica_primary_region, secret_id_in_region
from auth_core.settings import Settings

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:SigningKeysSecret-AbC123-x1Y2z3"


@pytest.mark.parametrize(
    ("secret_id", "region", "expected"),
    [
        (ARN, "eu-west-1", ARN.replace("us-east-1", "eu-west-1")),
        (ARN, "us-east-1", ARN),  # already this region's
        (ARN, "", ARN),  # no region known: nothing to rewrite to
        (ARN, None, ARN),
        ("serverless-jwt-auth/signing-keys", "eu-west-1", "serverless-jwt-auth/signing-keys"),  # a name
        (
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:k-AbCdEf",
            "cn-northwest-1",
            "arn:aws-cn:secretsmanager:cn-northwest-1:123456789012:secret:k-AbCdEf",
        ),
        # not a Secrets Manager secret ARN: left alone (and then refused where it is used)
        (
            "arn:aws:kms:us-east-1:123456789012:key/abc",
            "eu-west-1",
            "arn:aws:kms:us-east-1:123456789012:key/abc",
        ),
        ("", "eu-west-1", ""),
    ],
)
def test_secret_id_in_region(secret_id: str, region: str | None, expected: str) -> None:
    assert secret_id_in_region(secret_id, region) == expected


def test_settings_read_both_key_secrets_in_the_functions_region() -> None:
    public = ARN.replace("SigningKeys", "PublicJwks")
    env = {"SIGNING_KEYS_SECRET_ID": ARN, "PUBLIC_JWKS_SECRET_ID": public, "AWS_REGION": "ap-southeast-2"}
    settings = Settings.from_env(env)
    assert settings.signing_keys_secret_id == ARN.replace("us-east-1", "ap-southeast-2")
    assert settings.public_jwks_secret_id == public.replace("us-east-1", "ap-southeast-2")
    # AWS_DEFAULT_REGION when AWS_REGION is absent (a CLI); in the secret's own region: unchanged
    assert Settings.from_env(
        {"SIGNING_KEYS_SECRET_ID": ARN, "AWS_DEFAULT_REGION": "eu-west-1"}
    ).signing_keys_secret_id == (ARN.replace("us-east-1", "eu-west-1"))
    assert (
        Settings.from_env({"SIGNING_KEYS_SECRET_ID": ARN, "AWS_REGION": "us-east-1"}).signing_keys_secret_id
        == ARN
    )


def test_a_replica_is_told_from_its_primary_by_describe_secret() -> None:
    replica = {"ARN": ARN.replace("us-east-1", "eu-west-1"), "PrimaryRegion": "us-east-1"}
    assert replica_primary_region(replica) == "us-east-1"
    # the primary of a replicated secret (Secrets Manager lists ReplicationStatus, no PrimaryRegion
    # or its own region), and a secret that is not replicated
    assert replica_primary_region({"ARN": ARN, "PrimaryRegion": "us-east-1"}) is None
    assert replica_primary_region({"ARN": ARN, "ReplicationStatus": [{"Region": "eu-west-1"}]}) is None
    assert replica_primary_region({"ARN": ARN}) is None
    assert arn_region(ARN) == "us-east-1" and arn_region("not-an-arn") == ""
