"""The authorizer refuses before its own timeout when a dependency hangs -- never an Allow.

``functions/authorizer/app.py`` runs through its ``lambda_handler`` with 3 s left, as in Lambda
(credentials in the environment, ``AWS_LAMBDA_FUNCTION_NAME`` set): its AWS calls go through the
boto3-free client. Its outage path is an exception (API Gateway answers 500) with an ERROR
decision line; before the deadline existed the lean client waited 5 s -- the whole timeout.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from auth_core import aws_json
from auth_core.errors import AuthError, TokenError
from auth_core.jwk import JWKSet, SigningKey, generate_signing_key
from auth_core.jws import encode_header, sign_compact
from functions.authorizer import app
from tests.conftest import load_event
from tests.functional.deadline.conftest import Hung, RunningOutContext
from tests.functional.deadline.test_http_functions import _free_port

pytestmark = pytest.mark.slow  # hung endpoints, waited for: skipped by make test-fast

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
JWKS_SECRET = "jwt-auth/public-jwks"
KEY = generate_signing_key("ES256")


def _token(key: SigningKey = KEY) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": AUDIENCE,
        "client_id": "web-app",
        "iat": now,
        "exp": now + 300,
        "jti": "5e7d3c1a-0000-4000-8000-000000000001",
        "scope": "read",
    }
    return sign_compact(encode_header(key), json.dumps(claims).encode(), key)


def _event() -> dict[str, Any]:
    text = json.dumps(load_event("authorizer_rest_token_allow.json"))
    return json.loads(text.replace("{{access_token}}", _token()))


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """The public JWKS on a moto server (for the case where only DynamoDB hangs)."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    sm = boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    sm.create_secret(
        Name=JWKS_SECRET, SecretString=json.dumps(JWKSet.from_keys([KEY.public_key()]).to_dict())
    )
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,
        "PUBLIC_JWKS_SECRET_ID": JWKS_SECRET,
        "REVOCATIONS_TABLE": "revocations",
        "AWS_LAMBDA_FUNCTION_NAME": "authorizer",
    }.items():
        monkeypatch.setenv(name, value)
    app._authorizer.cache_clear()
    aws_json.reset_clients()
    yield
    app._authorizer.cache_clear()
    aws_json.reset_clients()


def _assert_refused_in_time(context: RunningOutContext, capsys: pytest.CaptureFixture[str]) -> AuthError:
    with pytest.raises(Exception) as info:  # any exception: the outage path
        app.lambda_handler(_event(), context)
    # how long it took is a figure for bench/, not an assertion: the outcome is what is checked
    exc = info.value
    # not a 401 ("Unauthorized") and not a TokenError: an outage, loud
    assert not (type(exc) is Exception and exc.args == ("Unauthorized",))
    assert isinstance(exc, AuthError) and not isinstance(exc, TokenError)
    line = capsys.readouterr().out
    assert '"AuthorizerError"' in line  # the ERROR decision line and its metric
    return exc


def test_everything_hung_refuses_before_the_timeout(
    lambda_env: None, hung: Hung, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", hung.url)
    _assert_refused_in_time(RunningOutContext(), capsys)
    if hung.kind == "silent":
        assert hung.accepted


def test_hung_revocation_table_refuses_before_the_timeout(
    lambda_env: None,
    silent: Hung,
    moto_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Keys load from moto; the revocation read hangs: refused (never Allow) in time."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", silent.url)
    _assert_refused_in_time(RunningOutContext(), capsys)
    assert silent.accepted


def test_healthy_dependencies_still_allow(
    lambda_env: None, moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Control: with keys on moto and no revocation check, the same event is allowed in time."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("REVOCATION_CHECK", "false")
    context = RunningOutContext()
    response = app.lambda_handler(_event(), context)
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
