"""The boto3-free client fails closed: only HTTP 200 with a JSON object of the operation's shape
is an answer. Each odd answer below used to come back as a success (``{}``), which the
authorizer's revocation lookup read as "not revoked"; each must now raise.

A scripted HTTP server on 127.0.0.1 plays the odd answers; ``lean_fetch`` shows the mapping the
key store applies on top.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from auth_core import aws_json
from auth_core.aws_json import AwsJsonClient, AwsServiceError, DynamoDB, MalformedResponseError
from auth_core.errors import KeyStoreUnavailableError
from auth_core.keystore import lean_fetch

Answer = tuple[int, dict[str, str], bytes]


class _Fixed(http.server.BaseHTTPRequestHandler):
    """Answers every POST with ``answer`` (status, extra headers, raw body) and counts them."""

    protocol_version = "HTTP/1.1"
    answer: ClassVar[Answer] = (200, {}, b"{}")
    hits: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).hits.append(self.headers.get("X-Amz-Target", ""))
        status, headers, body = type(self).answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status not in {204, 304}:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status not in {204, 304}:
            self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[str, type[_Fixed]]]:
    class Handler(_Fixed):
        answer: ClassVar[Answer] = (200, {}, b"{}")
        hits: ClassVar[list[str]] = []

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server(_server: tuple[str, type[_Fixed]]) -> tuple[str, type[_Fixed]]:
    _server[1].answer = (200, {}, b"{}")
    _server[1].hits.clear()
    return _server


JSON = {"Content-Type": "application/x-amz-json-1.0"}
BATCH = {"RequestItems": {"revocations": {"Keys": [{"pk": {"S": "jti#x"}}]}}}
SECRET = {"SecretId": "jwt/public-jwks", "VersionStage": "AWSCURRENT"}

ODD_STATUS: list[Answer] = [
    (204, {}, b""),
    (301, {"Location": "http://127.0.0.1:1/"}, b""),
    (302, {"Location": "https://example.com/"}, b'{"Responses": {"revocations": []}}'),
    (304, {}, b""),
    (202, JSON, b'{"Responses": {"revocations": []}}'),
    (206, JSON, b'{"Responses": {"revocations": []}}'),
]
ODD_BODY: list[Answer] = [
    (200, JSON, b""),
    (200, JSON, b"[]"),
    (200, JSON, b"null"),
    (200, JSON, b'"ok"'),
    (200, JSON, b"<html>captive portal</html>"),
]


@pytest.mark.parametrize("answer", ODD_STATUS + ODD_BODY, ids=lambda a: f"{a[0]}-{a[2][:12]!r}")
def test_batch_get_item_refuses_anything_but_a_well_formed_200(
    server: tuple[str, type[_Fixed]], answer: Answer
) -> None:
    endpoint, handler = server
    handler.answer = answer
    client = AwsJsonClient("dynamodb", endpoint=endpoint, sleep=lambda _s: None)
    with pytest.raises(MalformedResponseError) as info:
        DynamoDB(client).batch_get_item(**BATCH)
    assert isinstance(info.value, DynamoDB.errors)
    assert not info.value.retryable and client.last_attempts == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"UnprocessedKeys": {}}',
        b'{"Responses": []}',
        b'{"Responses": null}',
        b'{"Responses": {"revocations": {}}}',
        b'{"Responses": {"revocations": []}, "UnprocessedKeys": []}',
    ],
)
def test_batch_get_item_needs_a_responses_object(server: tuple[str, type[_Fixed]], body: bytes) -> None:
    endpoint, handler = server
    handler.answer = (200, JSON, body)
    with pytest.raises(MalformedResponseError):
        DynamoDB(AwsJsonClient("dynamodb", endpoint=endpoint)).batch_get_item(**BATCH)


@pytest.mark.parametrize(
    "body", [b"{}", b'{"Items": {}}', b'{"Items": null}', b'{"Items": [], "LastEvaluatedKey": "k"}']
)
def test_query_needs_an_items_list(server: tuple[str, type[_Fixed]], body: bytes) -> None:
    endpoint, handler = server
    handler.answer = (200, JSON, body)
    with pytest.raises(MalformedResponseError):
        DynamoDB(AwsJsonClient("dynamodb", endpoint=endpoint)).query(TableName="t")


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"SecretString": null}', b'{"SecretString": 5}', b'{"SecretBinary": ["x"]}', b'{"Name": "x"}'],
)
def test_get_secret_value_needs_a_secret(server: tuple[str, type[_Fixed]], body: bytes) -> None:
    endpoint, handler = server
    handler.answer = (200, JSON, body)
    with pytest.raises(MalformedResponseError):
        AwsJsonClient("secretsmanager", endpoint=endpoint).call("GetSecretValue", SECRET)


@pytest.mark.parametrize("answer", ODD_STATUS + ODD_BODY, ids=lambda a: f"{a[0]}-{a[2][:12]!r}")
def test_key_store_maps_odd_answers_to_unavailable(
    server: tuple[str, type[_Fixed]], answer: Answer, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, handler = server
    handler.answer = answer
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    aws_json.reset_clients()
    try:
        with pytest.raises(KeyStoreUnavailableError) as info:
            lean_fetch("jwt/public-jwks", "AWSCURRENT")
        assert isinstance(info.value.__cause__, MalformedResponseError)
    finally:
        aws_json.reset_clients()


def test_well_formed_answers_still_pass(server: tuple[str, type[_Fixed]]) -> None:
    endpoint, handler = server
    client = AwsJsonClient("dynamodb", endpoint=endpoint)
    handler.answer = (200, JSON, b'{"Responses": {"revocations": []}, "UnprocessedKeys": {}}')
    assert DynamoDB(client).batch_get_item(**BATCH)["Responses"] == {"revocations": []}
    handler.answer = (200, JSON, b'{"Items": [], "Count": 0}')
    assert DynamoDB(client).query(TableName="t")["Items"] == []
    handler.answer = (200, JSON, b"{}")  # GetItem of a missing item is an empty object
    assert DynamoDB(client).get_item(TableName="t", Key={}) == {}
    sm = AwsJsonClient("secretsmanager", endpoint=endpoint)
    handler.answer = (200, JSON, b'{"SecretBinary": "AAEC"}')
    assert sm.call("GetSecretValue", SECRET)["SecretBinary"] == "AAEC"


def test_errors_stay_service_errors(server: tuple[str, type[_Fixed]]) -> None:
    """4xx/5xx keep their typed mapping (code, status, retry) -- only non-errors got stricter."""
    endpoint, handler = server
    handler.answer = (400, JSON, b'{"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"}')
    with pytest.raises(AwsServiceError) as info:
        DynamoDB(AwsJsonClient("dynamodb", endpoint=endpoint)).query(TableName="t")
    assert info.value.code == "ResourceNotFoundException"


def test_messages_carry_no_body(server: tuple[str, type[_Fixed]]) -> None:
    endpoint, handler = server
    handler.answer = (200, JSON, b'{"SecretString": 7, "Name": "hunter2-secret-value"}')
    with pytest.raises(MalformedResponseError) as info:
        AwsJsonClient("secretsmanager", endpoint=endpoint).call("GetSecretValue", SECRET)
    assert "hunter2" not in str(info.value) and "7" not in str(info.value)
