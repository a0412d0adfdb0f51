"""A local world for the authorizer: moto Secrets Manager (public JWKS) and DynamoDB
(revocations), a freshly generated RS256 key, and helpers that mint tokens from raw bytes and
classify what API Gateway would do with the authorizer's answer."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auth_core import aws
from auth_core.authorizer.service import Authorizer
from auth_core.jwk import JWKSet, SigningKey, generate_signing_key
from auth_core.jws import encode_header, sign_compact
from auth_core.settings import Settings
from auth_core.stores.revocations import RevocationStore
from functions.authorizer import app
from tests.conftest import FakeLambdaContext, load_event
from tests.tables import create_template_table

NOW = 1_800_000_000
ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
JWKS_SECRET = "jwt-auth/public-jwks"
TABLE = "revocations"
ROUTE_SCOPES = {
    "GET /orders": ["read"],
    "POST /orders": ["write"],
    "DELETE /orders/{id}": ["admin"],
}
PLACEHOLDER = "{{access_token}}"


@functools.cache
def _rsa_key() -> SigningKey:
    # One RSA key per test session: generating RSA-2048 costs ~50 ms.
    return generate_signing_key("RS256")


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in pattern.split("*")), re.DOTALL)


def evaluate_policy(response: dict[str, Any], arn: str) -> str:
    """What API Gateway does with an IAM policy for ``arn``: explicit Deny wins, then Allow."""
    statements = response["policyDocument"]["Statement"]
    effects = set()
    for st in statements:
        assert st["Action"] == "execute-api:Invoke"
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if any(_glob(r).fullmatch(arn) for r in resources):
            effects.add(st["Effect"])
    if "Deny" in effects:
        return "deny"
    return "allow" if "Allow" in effects else "deny"


def event_arn(event: dict[str, Any]) -> str:
    """The ARN API Gateway would evaluate the returned policy against."""
    return event["routeArn"] if event.get("version") == "2.0" else event["methodArn"]


@dataclass
class World:
    key: SigningKey
    ddb: Any
    sm: Any
    clock: list[float]
    mono: list[float]
    context: FakeLambdaContext = field(default_factory=FakeLambdaContext)

    def claims(self, **over: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "iss": ISSUER,
            "sub": "alice",
            "aud": AUDIENCE,
            "client_id": "web-app",
            "iat": NOW,
            "exp": NOW + 300,
            "jti": "6f1c0c9e-6d8a-4b0e-9b1e-2f8a0d6c1a11",
            "scope": "read",
            "roles": ["reader"],
        }
        base.update(over)
        return {k: v for k, v in base.items() if v is not DROP}

    def mint(self, **over: Any) -> str:
        return self.mint_bytes(json.dumps(self.claims(**over)).encode())

    def mint_bytes(self, payload: bytes, key: SigningKey | None = None) -> str:
        key = key or self.key
        return sign_compact(encode_header(key), payload, key)

    @property
    def revocations(self) -> RevocationStore:
        """The real writer of the revocation feed, on this world's table and clock."""
        return RevocationStore(TABLE, client=self.ddb, clock=lambda: self.clock[0])

    def revoke_jti(self, jti: str) -> None:
        self.revocations.revoke_jti(jti, NOW + 300)

    def revoke_subject(self, sub: str, not_before: int) -> None:
        self.revocations.set_user_cutoff(sub, not_before * 1000, max_token_lifetime=900)

    def revoke_session(self, sid: str) -> None:
        self.ddb.transact_write_items(TransactItems=[self.revocations.session_put(sid, NOW + 3900)])

    def feed_due(self) -> None:
        """Let the revocation feed's interval pass (the next request re-reads it)."""
        self.mono[0] += 5

    def invoke(self, event: Any) -> Any:
        return app.lambda_handler(event, self.context)

    def outcome(self, event: Any) -> str:
        """``allow`` / ``deny`` (403) / ``unauthorized`` (401) / ``refused`` (simple false)."""
        try:
            response = self.invoke(event)
        except Exception as exc:
            if type(exc) is Exception and exc.args == ("Unauthorized",):
                return "unauthorized"
            raise
        if "isAuthorized" in response:
            assert set(response) <= {"isAuthorized", "context"}
            return "allow" if response["isAuthorized"] is True else "refused"
        return evaluate_policy(response, event_arn(event))


DROP = object()


def with_token(name: str, token: str) -> dict[str, Any]:
    """A sample event with its placeholder replaced by ``token``."""
    text = json.dumps(load_event(name))
    return json.loads(text.replace(PLACEHOLDER, token.replace("\\", "\\\\").replace('"', '\\"')))


def build_event(
    fmt: str, method: str, path: str, route_key: str, authorization: str | None
) -> dict[str, Any]:
    """An event of format ``fmt`` for ``method path`` carrying ``authorization`` (or none)."""
    name = {
        "rest_token": "authorizer_rest_token_allow.json",
        "rest_request": "authorizer_rest_request_allow.json",
        "http_v1": "authorizer_http_v1_allow.json",
        "http_v2": "authorizer_http_v2_allow.json",
        "http_v2_iam": "authorizer_http_v2_allow.json",
    }[fmt]
    event = load_event(name)
    key = "routeArn" if fmt.startswith("http_v2") else "methodArn"
    stage = "prod" if fmt.startswith("rest") else "$default"
    event[key] = f"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/{stage}/{method}{path}"
    if fmt == "rest_token":
        event["authorizationToken"] = authorization
        return event
    header = "authorization" if fmt != "rest_request" else "Authorization"
    event["headers"].pop(header, None)
    if authorization is not None:
        event["headers"][header] = authorization
    if "multiValueHeaders" in event:
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    if fmt.startswith("http_v2"):
        event["routeKey"] = event["requestContext"]["routeKey"] = route_key
        event["rawPath"] = path
    else:
        event["httpMethod"] = method
        event["resource"] = route_key.partition(" ")[2]
        event["path"] = path
    return event


@pytest.fixture(scope="module")
def _aws() -> Iterator[tuple[Any, Any]]:
    """One moto world and one pair of boto3 clients per test module (client creation is slow)."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            mp.setenv(name, value)
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        mp.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            yield (
                boto3.client("secretsmanager", region_name="us-east-1"),
                boto3.client("dynamodb", region_name="us-east-1"),
            )


def _reset(sm: Any, ddb: Any, key: SigningKey) -> None:
    """Fresh secret and empty table (tests may have deleted or filled them)."""
    jwks = json.dumps(JWKSet.from_keys([key.public_key()]).to_dict())
    try:
        sm.put_secret_value(SecretId=JWKS_SECRET, SecretString=jwks)
    except sm.exceptions.ResourceNotFoundException:
        sm.create_secret(Name=JWKS_SECRET, SecretString=jwks)
    if TABLE in ddb.list_tables()["TableNames"]:
        for item in ddb.scan(TableName=TABLE, ProjectionExpression="pk")["Items"]:
            ddb.delete_item(TableName=TABLE, Key={"pk": item["pk"]})
    else:
        create_template_table(ddb, "RevocationsTable", TABLE)


@pytest.fixture
def world(_aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    sm, ddb = _aws
    key = _rsa_key()
    _reset(sm, ddb, key)
    aws.set_client("secretsmanager", sm)
    aws.set_client("dynamodb", ddb)
    env = {
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,
        "PUBLIC_JWKS_SECRET_ID": JWKS_SECRET,
        "REVOCATIONS_TABLE": TABLE,
        "ROUTE_SCOPES": json.dumps(ROUTE_SCOPES),
        "KEY_FETCH_STRATEGY": "sdk",
        "CLOCK_LEEWAY": "60",
        "ACCESS_TOKEN_TTL": "300",
        "MAX_ACCESS_TOKEN_LIFETIME": "900",
        "REVOCATION_FEED_INTERVAL": "5",
        "CONTEXT_CLAIMS": "roles",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clock, mono = [float(NOW)], [1000.0]

    @functools.cache
    def factory() -> Authorizer:
        return Authorizer.from_settings(
            Settings.from_env(), clock=lambda: clock[0], monotonic=lambda: mono[0]
        )

    monkeypatch.setattr(app, "_authorizer", factory)
    yield World(key, ddb, sm, clock, mono)


@pytest.fixture
def decision_lines(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """Parsed decision log lines written so far (and the raw text, for leak checks)."""

    def read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out
        read.raw += out  # type: ignore[attr-defined]
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    read.raw = ""  # type: ignore[attr-defined]
    return read
