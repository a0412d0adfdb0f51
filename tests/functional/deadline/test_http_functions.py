"""A hung dependency gives *our* 503 with ``Retry-After`` before Lambda's timeout, not a kill.

``functions/issue_token/app.py`` runs end to end through its ``lambda_handler`` with a Lambda
context that has 3 s left. What is not hung is moto's server on 127.0.0.1 (tables, a
confidential client, the signing keys); the hung part is DynamoDB or Secrets Manager, through
boto3 or through the boto3-free client. Before the deadline existed, boto3 waited 5 s per
attempt over several attempts and the lean client 5 s: Lambda would have killed the function.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from auth_core import aws_json
from auth_core.jwk import generate_signing_key
from auth_core.keyset import KeyRecord, KeySet
from auth_core.stores.clients import hash_client_secret
from tests.functional.deadline.conftest import Hung, RunningOutContext
from tests.functional.oauth.conftest import AUD, BACKEND_SECRET, ISS, NOW, TABLES, create_tables
from tests.functional.oauth.helpers import sample_event

pytestmark = [
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
    pytest.mark.slow,  # hung endpoints, waited for: skipped by make test-fast
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """Tables, a client_credentials client and signing keys on a moto server."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    kw: dict[str, Any] = {
        "region_name": "us-east-1",
        "endpoint_url": url,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    ddb = boto3.client("dynamodb", **kw)
    create_tables(ddb)
    ddb.put_item(
        TableName="clients",
        Item={
            "client_id": {"S": "backend-svc"},
            "secret_hash": {"S": hash_client_secret(BACKEND_SECRET)},
            "grant_types": {"L": [{"S": "client_credentials"}]},
            "scopes": {"L": [{"S": "read"}]},
            "enabled": {"BOOL": True},
        },
    )
    key = generate_signing_key("ES256")
    keyset = KeySet([KeyRecord(key=key, status="active", created_at=NOW - 100, activated_at=NOW - 100)])
    sm = boto3.client("secretsmanager", **kw)
    sm.create_secret(Name="jwt/signing-keys", SecretString=keyset.to_json())
    sm.create_secret(Name="jwt/public-jwks", SecretString=json.dumps(keyset.public_jwks()))
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def issue(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import functions.issue_token.app as issue

    for name, value in {
        "ISSUER": ISS,
        "AUDIENCE": AUD,
        "SIGNING_KEYS_SECRET_ID": "jwt/signing-keys",
        "PUBLIC_JWKS_SECRET_ID": "jwt/public-jwks",
        **{setting.upper(): table for setting, (table, _key) in TABLES.items()},
    }.items():
        monkeypatch.setenv(name, value)
    issue.settings.cache_clear()
    issue.service.cache_clear()
    aws_json.reset_clients()
    yield issue
    issue.settings.cache_clear()
    issue.service.cache_clear()
    aws_json.reset_clients()


def _endpoints(monkeypatch: pytest.MonkeyPatch, *, dynamodb: str, secrets: str) -> None:
    # botocore's variable names, and the plain one the lean client also reads
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", secrets)


def _assert_our_503(response: dict[str, Any], context: RunningOutContext, hung: Hung) -> None:
    if hung.kind == "silent":
        assert hung.accepted, "the hung server saw no connection"
    assert response["statusCode"] == 503, response
    headers = response["headers"]
    assert int(headers["Retry-After"]) > 0
    assert headers["Cache-Control"] == "no-store"
    assert json.loads(response["body"]) == {"error": "temporarily_unavailable"}
    assert "Traceback" not in response["body"]


def _cc_event() -> dict[str, Any]:
    return sample_event(
        "issue_token_client_credentials.json", client_id="backend-svc", client_secret=BACKEND_SECRET
    )


def _assert_logged_and_counted(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], metric: str
) -> None:
    assert any(r.levelno == logging.ERROR for r in caplog.records), "no ERROR line"
    assert f'"{metric}":[1.0]' in capsys.readouterr().out, "no metric"


def test_hung_dynamodb_gives_503_before_the_timeout(
    issue: Any,
    hung: Hung,
    moto_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The client lookup (boto3) hangs: TemporarilyUnavailableError, mapped in http.py."""
    _endpoints(monkeypatch, dynamodb=hung.url, secrets=moto_url)
    context = RunningOutContext()
    response = issue.lambda_handler(_cc_event(), context)
    _assert_our_503(response, context, hung)
    _assert_logged_and_counted(caplog, capsys, "TemporarilyUnavailable")


@pytest.mark.parametrize("strategy", ["sdk", "lean"])
def test_hung_secrets_manager_gives_503_before_the_timeout(
    issue: Any,
    hung: Hung,
    moto_url: str,
    strategy: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The client is authenticated on moto, then the signing keys (boto3 or lean) hang."""
    _endpoints(monkeypatch, dynamodb=moto_url, secrets=hung.url)
    monkeypatch.setenv("KEY_FETCH_STRATEGY", strategy)
    context = RunningOutContext()
    response = issue.lambda_handler(_cc_event(), context)
    _assert_our_503(response, context, hung)
    _assert_logged_and_counted(caplog, capsys, "KeyStoreUnavailable")


def test_with_time_to_spare_the_same_call_succeeds(
    issue: Any, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline only bites when time runs out: a healthy run under the same 3 s is a 200."""
    _endpoints(monkeypatch, dynamodb=moto_url, secrets=moto_url)
    monkeypatch.setenv("KEY_FETCH_STRATEGY", "lean")
    response = issue.lambda_handler(_cc_event(), RunningOutContext())
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["token_type"] == "Bearer"
