"""The authorizer refuses a token signed by an ID-token lineage key, however exactly it is shaped
like an access token (``typ: at+jwt``, right ``iss``/``aud``/scope): that key is published for
relying parties, but the access-token key lookup never returns it. docs/threat-model.md T-KEY-11."""

from __future__ import annotations

import json

import pytest

from auth_core.jwk import JWKSet, SigningKey
from tests.functional.authorizer.conftest import JWKS_SECRET, with_token
from tests.keypool import pooled_key

EVENT = "authorizer_rest_token_allow.json"


@pytest.fixture
def id_key(world) -> SigningKey:
    """Publish an RS256 ID-token lineage key beside the world's signing key."""
    key = pooled_key("RS256")
    jwks = JWKSet.from_keys([world.key.public_key()], id_token_keys=[key.public_key()]).to_dict()
    assert jwks["keys"][1]["lineage"] == "id_token"
    world.sm.put_secret_value(SecretId=JWKS_SECRET, SecretString=json.dumps(jwks))
    return key


def test_a_token_signed_by_an_id_token_key_is_unauthorized(world, id_key):
    payload = json.dumps(world.claims()).encode()
    assert world.outcome(with_token(EVENT, world.mint_bytes(payload))) == "allow"  # the same claims
    forged = world.mint_bytes(payload, key=id_key)  # header {"alg": "RS256", "typ": "at+jwt", kid}
    assert world.outcome(with_token(EVENT, forged)) == "unauthorized"
    world.feed_due()
    assert world.outcome(with_token(EVENT, forged)) == "unauthorized"  # no refetch makes it valid


def test_the_same_rs256_key_in_the_main_lineage_would_verify(world):
    """Control: what refuses it is the lineage, not the algorithm or the key type."""
    key = pooled_key("RS256")
    jwks = JWKSet.from_keys([world.key.public_key(), key.public_key()]).to_dict()
    world.sm.put_secret_value(SecretId=JWKS_SECRET, SecretString=json.dumps(jwks))
    token = world.mint_bytes(json.dumps(world.claims()).encode(), key=key)
    assert world.outcome(with_token(EVENT, token)) == "allow"
