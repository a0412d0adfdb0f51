"""Two regions in one moto world: the primary (us-east-1) and a secondary (eu-west-1), each
function wired from its settings exactly as in that region's Lambda (AWS_REGION set, clients
created there), as the template's multi-region modes deploy them (docs/operations.md, "More
than one region").

What moto does and what the test does instead:

* **Secrets Manager replicas are real in moto**: ``CreateSecret(AddReplicaRegions=...)`` makes
  the replica in the other region's backend, with the primary's ARN in that region, and every
  write to the primary is visible there at once (moto shares the versions: no replication lag).
  A replica refuses writes (``OperationNotPermittedOnReplica``), as in AWS.
* **DynamoDB global tables are not**: moto 5.2.5 has no replicas at all. Each region gets its own
  table under the global table's name, and :func:`replicate` copies the primary's items into the
  secondary's, standing for the replication AWS does asynchronously (typically within a second).
  Between a write and :func:`replicate` is exactly the window of replication lag.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from auth_core import aws
from auth_core._b64 import b64url_decode
from auth_core.authorizer.service import Authorizer
from auth_core.errors import RotationError
from auth_core.keystore import SigningKeyStore
from auth_core.secrets_rotation import KeyRotator
from auth_core.settings import Settings
from auth_core.stores.revocations import RevocationStore
from auth_core.tokens import AccessTokenIssuer
from tests.functional.authorizer.conftest import build_event, evaluate_policy
from tests.keypool import pooled_key
from tests.tables import create_template_table

PRIMARY, SECONDARY = "us-east-1", "eu-west-1"
ISSUER, AUDIENCE = "https://auth.example.com", "api"
REVOCATIONS = "auth-revocations"  # GlobalTablesPrefix "auth": the same name in every region
ROUTE = "arn:aws:execute-api:{region}:123456789012:abcdef1234/$default/GET/me"


@dataclass
class TwoRegions:
    monkeypatch: pytest.MonkeyPatch
    signing_arn: str
    public_arn: str
    mono: list[float]
    #: seconds added to the wall clock of the rotations (the next key is promoted only once it
    #: has been published longer than any verifier caches the JWKS)
    later: float = 0.0

    def enter(self, region: str) -> None:
        """Run what follows as a function deployed in ``region`` (Lambda sets AWS_REGION)."""
        self.monkeypatch.setenv("AWS_REGION", region)
        self.monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        aws.reset_clients()

    def settings(self, region: str) -> Settings:
        """The settings of a function in ``region``: the secret ids are the *primary's* ARNs
        (what an operator copies from the primary stack's outputs); the settings turn them into
        the replica's in ``region``."""
        self.enter(region)
        return Settings.from_env(
            {
                "AWS_REGION": region,
                "ISSUER": ISSUER,
                "AUDIENCE": AUDIENCE,
                "SIGNING_ALG": "ES256",
                "SIGNING_KEYS_SECRET_ID": self.signing_arn,
                "PUBLIC_JWKS_SECRET_ID": self.public_arn,
                "REVOCATIONS_TABLE": REVOCATIONS,
                "REVOCATION_FEED_INTERVAL": "5",
                "AUTHORIZER_RESPONSE_FORMAT": "iam",
            }
        )

    def rotate(self, region: str) -> None:
        """A scheduled rotation in ``region``, a day after the previous one."""
        settings = self.settings(region)
        self.later += 86400
        rotator = KeyRotator.from_settings(
            settings, generate=pooled_key, clock=lambda: time.time() + self.later
        )
        rotator.rotate_direct(settings.signing_keys_secret_id)

    def sign(self, region: str) -> tuple[str, str]:
        """A token signed by /token in ``region`` (a fresh key store: a cold start); its kid."""
        store = SigningKeyStore.from_settings(self.settings(region))
        key = store.get_signing_key()
        return AccessTokenIssuer(ISSUER, AUDIENCE, 900).issue(
            key, subject="alice", client_id="web", scope=["read"]
        ).token, key.kid

    def authorizer(self, region: str) -> Authorizer:
        """The authorizer of ``region``, with a monotonic clock the test moves."""
        return Authorizer.from_settings(self.settings(region), monotonic=lambda: self.mono[0])

    def decide(self, authorizer: Authorizer, region: str, token: str) -> str:
        self.enter(region)
        event = build_event("http_v2_iam", "GET", "/me", "GET /me", f"Bearer {token}")
        event["routeArn"] = ROUTE.format(region=region)
        try:
            response = authorizer(event)
        except Exception as exc:
            if exc.args == ("Unauthorized",):
                return "unauthorized"
            raise
        return evaluate_policy(response, event["routeArn"])

    def revocations(self, region: str) -> RevocationStore:
        self.enter(region)
        return RevocationStore(REVOCATIONS, client=boto3.client("dynamodb", region_name=region))


def replicate(source: str = PRIMARY, target: str = SECONDARY, table: str = REVOCATIONS) -> int:
    """What a DynamoDB global table does asynchronously (moto cannot): every item of ``source``'s
    replica written into ``target``'s. Returns the number of items copied."""
    src = boto3.client("dynamodb", region_name=source)
    dst = boto3.client("dynamodb", region_name=target)
    items = src.scan(TableName=table, ConsistentRead=True)["Items"]
    for item in items:
        dst.put_item(TableName=table, Item=item)
    return len(items)


@pytest.fixture
def regions(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwoRegions]:
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name=PRIMARY)
        # As the primary stack creates them (template.yaml, ReplicaRegions): replicated, no Name of ours.
        replicas = [{"Region": SECONDARY}]
        signing = sm.create_secret(
            Name="SigningKeysSecret-AbCdEf",
            SecretString='{"version":1,"keys":[]}',
            AddReplicaRegions=replicas,
        )["ARN"]
        public = sm.create_secret(
            Name="PublicJwksSecret-GhIjKl", SecretString='{"keys":[]}', AddReplicaRegions=replicas
        )["ARN"]
        for region in (PRIMARY, SECONDARY):  # the global table's replica in each region
            create_template_table(
                boto3.client("dynamodb", region_name=region), "RevocationsTable", REVOCATIONS
            )
        env = TwoRegions(monkeypatch, signing, public, [1000.0])
        env.rotate(PRIMARY)  # the first rotation creates the keys (RotateImmediatelyOnUpdate)
        yield env
    aws.reset_clients()


def test_functions_in_the_secondary_read_the_replicas_in_their_own_region(regions: TwoRegions) -> None:
    settings = regions.settings(SECONDARY)
    assert settings.signing_keys_secret_id == regions.signing_arn.replace(PRIMARY, SECONDARY)
    assert settings.public_jwks_secret_id == regions.public_arn.replace(PRIMARY, SECONDARY)
    described = boto3.client("secretsmanager", region_name=SECONDARY).describe_secret(
        SecretId=settings.signing_keys_secret_id
    )
    assert described["PrimaryRegion"] == PRIMARY  # a replica, read where the function runs


def test_a_token_signed_in_one_region_is_accepted_in_the_other(regions: TwoRegions) -> None:
    token_a, kid_a = regions.sign(PRIMARY)
    token_b, kid_b = regions.sign(SECONDARY)  # the secondary's /token signs with the replica
    assert kid_a == kid_b  # the same active key everywhere
    assert regions.decide(regions.authorizer(SECONDARY), SECONDARY, token_a) == "allow"
    assert regions.decide(regions.authorizer(PRIMARY), PRIMARY, token_b) == "allow"


def test_after_a_rotation_in_the_primary_the_secondary_verifies_new_and_old_tokens(
    regions: TwoRegions,
) -> None:
    authorizer_b = regions.authorizer(SECONDARY)
    old, old_kid = regions.sign(PRIMARY)
    assert regions.decide(authorizer_b, SECONDARY, old) == "allow"  # B has cached the public keys now
    regions.rotate(PRIMARY)
    new, new_kid = regions.sign(PRIMARY)
    assert new_kid != old_kid
    # Publish-before-sign: the new active key was published as "next" before the rotation, so
    # B's cached JWKS already holds it; the old key stays published while its tokens live.
    assert regions.decide(authorizer_b, SECONDARY, new) == "allow"
    assert regions.decide(authorizer_b, SECONDARY, old) == "allow"
    # and the secondary's signers move to the new key with the replica
    assert regions.sign(SECONDARY)[1] == new_kid


def test_a_replica_refuses_rotation_and_key_revocation_with_a_clear_error(regions: TwoRegions) -> None:
    settings = regions.settings(SECONDARY)
    rotator = KeyRotator.from_settings(settings, generate=pooled_key)
    with pytest.raises(
        RotationError, match=f"replica: rotate or revoke keys in its primary region {PRIMARY}"
    ) as caught:
        rotator.rotate_direct(settings.signing_keys_secret_id)
    assert caught.value.reason == "replica"
    kid = regions.sign(SECONDARY)[1]
    with pytest.raises(RotationError, match="replica"):
        rotator.revoke(settings.signing_keys_secret_id, kid)
    with pytest.raises(RotationError, match="replica"):
        rotator.revoke_all(settings.signing_keys_secret_id)
    # nothing changed: the primary still signs with the same key, which the secondary accepts
    token, same = regions.sign(PRIMARY)
    assert same == kid
    assert regions.decide(regions.authorizer(SECONDARY), SECONDARY, token) == "allow"


def test_a_revocation_in_the_primary_reaches_the_secondary_after_replication_and_one_interval(
    regions: TwoRegions,
) -> None:
    """The bound: replication lag + REVOCATION_FEED_INTERVAL (+ AuthorizerResultTtl, which API
    Gateway adds in front of any authorizer). Before replication the secondary cannot know."""
    token, _kid = regions.sign(PRIMARY)
    authorizer_b = regions.authorizer(SECONDARY)
    authorizer_a = regions.authorizer(PRIMARY)
    assert regions.decide(authorizer_b, SECONDARY, token) == "allow"
    assert regions.decide(authorizer_a, PRIMARY, token) == "allow"

    jti = regions_jti(token)
    regions.revocations(PRIMARY).revoke_jti(jti, int(time.time()) + 900)  # /revoke in the primary
    regions.mono[0] += 5  # one feed interval
    assert regions.decide(authorizer_a, PRIMARY, token) == "unauthorized"
    # not replicated yet: the secondary's feed reads its own replica, which does not have it
    assert regions.decide(authorizer_b, SECONDARY, token) == "allow"

    assert replicate() >= 1  # the global table's replication (simulated)
    # the secondary's next feed read is at most one interval away
    assert regions.decide(authorizer_b, SECONDARY, token) == "allow"
    regions.mono[0] += 5
    assert regions.decide(authorizer_b, SECONDARY, token) == "unauthorized"


def test_a_revocation_in_the_secondary_reaches_the_primary_the_same_way(regions: TwoRegions) -> None:
    """Global tables replicate every way: a user who signs out in eu-west-1 is out in us-east-1."""
    token, _kid = regions.sign(SECONDARY)
    authorizer_a = regions.authorizer(PRIMARY)
    assert regions.decide(authorizer_a, PRIMARY, token) == "allow"
    regions.revocations(SECONDARY).revoke_jti(regions_jti(token), int(time.time()) + 900)
    regions.mono[0] += 5
    assert regions.decide(authorizer_a, PRIMARY, token) == "allow"  # lag
    replicate(SECONDARY, PRIMARY)
    regions.mono[0] += 5
    assert regions.decide(authorizer_a, PRIMARY, token) == "unauthorized"


def regions_jti(token: str) -> str:
    """The token's ``jti`` (what /revoke deny-lists)."""
    return str(json.loads(b64url_decode(token.split(".")[1]))["jti"])
