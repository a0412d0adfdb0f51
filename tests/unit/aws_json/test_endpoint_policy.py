"""Plain ``http://`` only to loopback: the signed request carries the session token.

Refusal happens when the client is built, before any socket: these tests make every socket
path raise, so a refusal that came too late would fail them. Nothing here connects anywhere.
"""

from __future__ import annotations

import pytest

from auth_core import aws_json
from auth_core.aws_json import AwsJsonClient, EndpointError
from auth_core.errors import KeyStoreUnavailableError
from auth_core.keystore import lean_fetch

pytestmark = pytest.mark.usefixtures("no_sockets")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:5000",
        "http://127.0.0.1",
        "http://127.1.2.3:4566/",
        "http://localhost:4566",
        "http://LOCALHOST:4566",
        "http://[::1]:5000",
        "https://dynamodb.eu-west-1.amazonaws.com",
        "https://10.0.0.1",
        "https://example.com:8443/",
    ],
)
def test_allowed_endpoints(endpoint: str) -> None:
    AwsJsonClient("dynamodb", endpoint=endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.0.0.1",
        "http://10.0.0.1:5000",
        "http://example.com",
        "http://169.254.169.254",
        "http://0.0.0.0:5000",
        "http://127.0.0.1.example.com",
        "http://localhost.example.com",
        "http://127.0.0.099",
        "http://127.0.0.1e",
        "http://2130706433",
        "http://[::ffff:127.0.0.1]",
        "http://[fe80::1]",
        "ftp://127.0.0.1",
        "dynamodb.eu-west-1.amazonaws.com",
    ],
)
def test_refused_endpoints(endpoint: str) -> None:
    with pytest.raises(EndpointError) as info:
        AwsJsonClient("dynamodb", endpoint=endpoint)
    assert isinstance(info.value, aws_json.AwsJsonError) and isinstance(info.value, ValueError)
    assert not info.value.retryable


def test_refusal_message_is_clear() -> None:
    with pytest.raises(EndpointError, match=r"only to loopback .*'example\.com'.*https://"):
        AwsJsonClient("secretsmanager", endpoint="http://example.com:80")


def test_refused_from_the_environment_through_every_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """``AWS_ENDPOINT_URL`` pointing at a remote host in clear: every caller fails closed."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://10.0.0.1:4566")
    with pytest.raises(EndpointError):
        aws_json.client("dynamodb")
    with pytest.raises(aws_json.DynamoDB.errors):
        aws_json.DynamoDB().query(TableName="t", KeyConditionExpression="pk = :p")
    with pytest.raises(aws_json.DynamoDB.errors):
        aws_json.DynamoDB().batch_get_item(RequestItems={})
    with pytest.raises(KeyStoreUnavailableError) as info:
        lean_fetch("jwt/public-jwks", "AWSCURRENT")
    assert isinstance(info.value.__cause__, EndpointError)


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SECRETSMANAGER"])
def test_service_specific_variable_is_checked_too(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv(variable, "http://example.com")
    aws_json.client("dynamodb")
    with pytest.raises(EndpointError):
        aws_json.client("secretsmanager")


def test_botocore_service_variable_names_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore reads ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` (service id "Secrets Manager"): the
    lean client must go where boto3 goes, not to the public endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:4566/")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4567")
    assert aws_json.resolve_endpoint("secretsmanager", "us-east-1").url == "http://127.0.0.1:4566"
    assert aws_json.resolve_endpoint("dynamodb", "us-east-1").url == "http://127.0.0.1:4567"
