"""Fixtures for the OAuth endpoints: moto tables and secrets, seeded users and clients, a fake clock.

``stack`` builds, inside ``mock_aws``, the four tables exactly as template.yaml declares them
(sessions with the ``BySubject`` GSI), the signing-key secret and the public JWKS secret, and sets
the environment the handlers read. ``service`` is the core :class:`TokenService` over those
tables with an injected clock, a recording audit sink and a cheap Argon2id (tests that measure or
rely on the production parameters use the default hasher explicitly).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from auth_core.jwk import generate_signing_key
from auth_core.keyset import ID_TOKEN, ID_TOKEN_ALG, KeyRecord, KeySet
from auth_core.oauth.audit import RecordingAudit
from auth_core.oauth.grants import TokenService
from auth_core.passwords import PasswordHasher
from auth_core.settings import Settings
from auth_core.stores.clients import Client, ClientStore, hash_client_secret
from auth_core.stores.users import User, UserStore
from auth_core.tokens import AccessTokenIssuer
from tests.tables import create_template_table

ISS = "https://auth.example.com"
AUD = "https://api.example.com"
NOW = 1_800_000_000
PASSWORD = "correct horse battery staple"
BACKEND_SECRET = "s3cr3t-backend-svc-0123456789abcdefghijklmnop"
FAST_HASHER = PasswordHasher(memory_cost=1024, iterations=1)

TABLES = {
    "users_table": ("users", "username"),
    "clients_table": ("clients", "client_id"),
    "sessions_table": ("sessions", "pk"),
    "revocations_table": ("revocations", "pk"),
}


class FakeClock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


#: logical id in template.yaml -> physical name in these tests
LOGICAL = {
    "users_table": "UsersTable",
    "clients_table": "ClientsTable",
    "sessions_table": "SessionsTable",
    "revocations_table": "RevocationsTable",
}


def create_tables(ddb: Any) -> None:
    """The four tables exactly as ``template.yaml`` declares them (keys, GSIs, TTL)."""
    for setting, (table, _key) in TABLES.items():
        create_template_table(ddb, LOGICAL[setting], table)


@dataclass
class Stack:
    ddb: Any
    keyset: KeySet
    hasher: PasswordHasher = FAST_HASHER
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def jwks(self) -> dict[str, Any]:
        return self.keyset.public_jwks()

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "issuer": ISS,
            "audience": AUD,
            "signing_keys_secret_id": "jwt/signing-keys",
            "public_jwks_secret_id": "jwt/public-jwks",
            **{name: table for name, (table, _key) in TABLES.items()},
        }
        values.update(overrides)
        return Settings(**values)

    def add_user(
        self,
        username: str = "alice",
        password: str = PASSWORD,
        *,
        scopes: tuple[str, ...] = ("openid", "read", "write"),
        roles: tuple[str, ...] = ("user",),
        enabled: bool = True,
        hasher: PasswordHasher | None = None,
    ) -> User:
        user = User(
            username=username,
            password_hash=(hasher or self.hasher).hash(password),
            roles=roles,
            scopes=scopes,
            enabled=enabled,
        )
        return UserStore("users").create(user)

    def user_id(self, username: str = "alice") -> str:
        """The opaque ``sub`` of ``username``."""
        found = UserStore("users").get(username)
        assert found is not None
        return found.user_id

    def add_client(
        self,
        client_id: str = "demo-spa",
        *,
        secret: str | None = None,
        grants: tuple[str, ...] = ("password", "refresh_token"),
        scopes: tuple[str, ...] = ("openid", "read", "write"),
        enabled: bool = True,
        **overrides: Any,
    ) -> Client:
        # These tests' clients grant their whole scope list when a request names none; the
        # least-privilege default (no default scopes) has tests of its own.
        overrides.setdefault("default_scopes", scopes)
        from tests.functional.oauth.helpers import CLIENT_SECRETS, client_secret_for

        if secret is None and "password" in grants:
            # the password grant is for confidential clients only (RFC 9700 §2.4): a client that
            # has it gets a secret, which the request helpers send
            secret = client_secret_for(client_id)
        if secret:
            CLIENT_SECRETS[client_id] = secret
        else:
            CLIENT_SECRETS.pop(client_id, None)
        client = Client(
            client_id=client_id,
            secret_hash=hash_client_secret(secret) if secret else None,
            grant_types=grants,
            scopes=scopes,
            enabled=enabled,
            **overrides,
        )
        ClientStore("clients").create(client)
        return client

    def item(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def scan(self, table: str) -> list[dict[str, Any]]:
        return self.ddb.scan(TableName=table)["Items"]


def rotated_keyset(*, id_token_key: bool = True) -> KeySet:
    """An ES256 key set as rotation leaves it (``auth_core.rotation``): the main lineage's active
    ES256 key and, since ES256 cannot sign ID tokens (OpenID Connect wants RS256), an active key
    of the RS256 ID-token lineage. ``id_token_key=False``: the moment an old ES256-only document
    is in before its first rotation promotes the ID-token key (nothing can sign ID tokens)."""
    records = [
        KeyRecord(
            key=generate_signing_key("ES256"), status="active", created_at=NOW - 100, activated_at=NOW - 100
        )
    ]
    if id_token_key:
        records.append(
            KeyRecord(
                key=generate_signing_key(ID_TOKEN_ALG),
                status="active",
                created_at=NOW - 100,
                activated_at=NOW - 100,
                lineage=ID_TOKEN,
            )
        )
    # grace_secret: as every rotated key set has (it peppers the retry cache)
    return KeySet(records, grace_secret=os.urandom(32))


#: where the code flow's clients (:func:`browser`) are redirected
CODE_FLOW_CB = "https://app.example.com/cb"


def make_stack() -> Stack:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_tables(ddb)
    keyset = rotated_keyset()
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="jwt/signing-keys", SecretString=keyset.to_json())
    sm.create_secret(Name="jwt/public-jwks", SecretString=json.dumps(keyset.public_jwks()))
    return Stack(ddb=ddb, keyset=keyset)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with mock_aws():
        built = make_stack()
        for name, value in {
            "ISSUER": ISS,
            "AUDIENCE": AUD,
            "SIGNING_KEYS_SECRET_ID": "jwt/signing-keys",
            "PUBLIC_JWKS_SECRET_ID": "jwt/public-jwks",
            "KEY_FETCH_STRATEGY": "sdk",
            **{env: table for env, (table, _key) in {k.upper(): v for k, v in TABLES.items()}.items()},
        }.items():
            monkeypatch.setenv(name, value)
        yield built


@pytest.fixture
def browser(stack: Stack) -> Stack:
    """Alice, a first-party browser app ``web`` and a third-party ``app3`` (the code flow's
    clients), redirecting to :data:`CODE_FLOW_CB`."""
    stack.add_user()
    stack.add_client(
        "web",
        grants=("authorization_code", "refresh_token"),
        scopes=("openid", "read"),
        redirect_uris=(CODE_FLOW_CB,),
        post_logout_redirect_uris=("https://app.example.com/bye",),
        first_party=True,
    )
    stack.add_client(
        "app3", grants=("authorization_code",), scopes=("openid", "read"), redirect_uris=(CODE_FLOW_CB,)
    )
    return stack


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit()


@pytest.fixture
def service(stack: Stack, clock: FakeClock, audit: RecordingAudit) -> TokenService:
    return TokenService.from_settings(
        stack.settings(), keys=stack.keyset, audit=audit, hasher=FAST_HASHER, clock=clock
    )


@pytest.fixture
def issuers(clock: FakeClock) -> Any:
    return lambda ttl: AccessTokenIssuer(ISS, AUD, ttl, clock=clock)


# ---------------------------------------------------------------- a moto server for races
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def atomic_call_action(self):  # one DynamoDB request at a time, as the real service behaves
        with lock:
            return original(self)

    DynamoHandler.call_action = atomic_call_action
    port = _free_port()
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.stop()
        DynamoHandler.call_action = original
