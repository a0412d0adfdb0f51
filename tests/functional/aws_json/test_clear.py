"""``PublicKeyStore.clear`` / ``SigningKeyStore.clear`` and the SnapStart hook's reach."""

from __future__ import annotations

import json

from auth_core import aws_json
from auth_core.authorizer.service import Authorizer
from auth_core.jwk import JWKSet, generate_signing_key
from auth_core.keyset import KeyRecord, KeySet
from auth_core.keystore import PublicKeyStore, SigningKeyStore
from auth_core.settings import Settings


class CountingFetch:
    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0

    def __call__(self, secret_id: str, stage: str) -> str:
        self.calls += 1
        return self.text


def test_public_key_store_clear_forces_a_refetch() -> None:
    key = generate_signing_key("ES256")
    fetch = CountingFetch(json.dumps(JWKSet.from_keys([key.public_key()]).to_dict()))
    store = PublicKeyStore("s", fetch=fetch, clock=lambda: 0.0)
    store.get_verification_key(key.kid)
    store.jwks("AWSPREVIOUS")
    store.get_verification_key(key.kid)
    assert fetch.calls == 2  # one per stage
    store.clear()
    store.get_verification_key(key.kid)
    store.jwks("AWSPREVIOUS")
    assert fetch.calls == 4


def test_signing_key_store_clear_forces_a_refetch() -> None:
    key = generate_signing_key("ES256")
    keyset = KeySet.empty().with_records([KeyRecord(key, "active", 1, 1, None)])
    fetch = CountingFetch(keyset.to_json())
    store = SigningKeyStore("s", fetch=fetch, clock=lambda: 0.0)
    assert store.get_signing_key().kid == key.kid
    store.get_signing_key()
    store.clear()
    store.get_signing_key()
    assert fetch.calls == 2


def test_authorizer_clear_caches_clears_keys_and_lean_connections(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    client = aws_json.client("dynamodb")
    assert aws_json._clients
    cleared: list[str] = []

    class Keys:
        def clear(self) -> None:
            cleared.append("keys")

    authorizer = Authorizer(
        Settings(issuer="https://auth.example.com"),
        verifier_for=lambda _issuer: None,  # type: ignore[arg-type,return-value]
        revocation=None,
        key_store=Keys(),
    )
    authorizer.clear_caches()
    assert cleared == ["keys"]
    assert not aws_json._clients and client._conn is None
