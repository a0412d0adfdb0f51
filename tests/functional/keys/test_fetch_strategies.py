"""Fetch strategies: boto3 (moto) and the Parameters and Secrets Lambda Extension (a local fake)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auth_core import aws
from auth_core.errors import KeyFormatError, KeyStoreUnavailableError
from auth_core.keystore import ExtensionFetch, PublicKeyStore, sdk_fetch


class FakeExtension:
    """Answers like the extension: GET /secretsmanager/get?secretId=&versionStage= with the token header."""

    def __init__(self, secrets: dict[tuple[str, str], str]) -> None:
        self.secrets = secrets
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                owner.requests.append(
                    {
                        "path": url.path,
                        "query": query,
                        "token": self.headers.get("X-Aws-Parameters-Secrets-Token"),
                    }
                )
                key = (query.get("secretId", ""), query.get("versionStage", "AWSCURRENT"))
                if self.headers.get("X-Aws-Parameters-Secrets-Token") != "session-token":
                    self._answer(401, b"unauthorized")
                elif url.path != "/secretsmanager/get" or key not in owner.secrets:
                    self._answer(400, b'{"message":"not found"}')
                else:
                    self._answer(
                        200, json.dumps({"Name": key[0], "SecretString": owner.secrets[key]}).encode()
                    )

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def __enter__(self) -> FakeExtension:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def extension() -> Iterator[FakeExtension]:
    with FakeExtension({("jwks", "AWSCURRENT"): '{"keys":[]}', ("jwks", "AWSPREVIOUS"): "old"}) as ext:
        yield ext


def test_extension_fetch_sends_stage_and_session_token(extension):
    fetch = ExtensionFetch(extension.port, host="127.0.0.1", session_token=lambda: "session-token")
    assert fetch("jwks", "AWSCURRENT") == '{"keys":[]}'
    assert fetch("jwks", "AWSPREVIOUS") == "old"
    assert extension.requests[1]["query"] == {"secretId": "jwks", "versionStage": "AWSPREVIOUS"}


def test_extension_fetch_reads_the_lambda_session_token(extension, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    assert ExtensionFetch(extension.port, host="127.0.0.1")("jwks", "AWSCURRENT") == '{"keys":[]}'


def test_extension_errors_are_unavailable(extension):
    with pytest.raises(KeyStoreUnavailableError, match="HTTP 401"):
        ExtensionFetch(extension.port, host="127.0.0.1", session_token=lambda: "wrong")("jwks", "AWSCURRENT")
    with pytest.raises(KeyStoreUnavailableError, match="HTTP 400"):
        ExtensionFetch(extension.port, host="127.0.0.1", session_token=lambda: "session-token")(
            "nope", "AWSCURRENT"
        )


def test_extension_unreachable_is_unavailable():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    with pytest.raises(KeyStoreUnavailableError, match="unreachable"):
        ExtensionFetch(port, host="127.0.0.1", timeout=0.5)("jwks", "AWSCURRENT")


def test_extension_garbage_answer_is_key_format_error():
    with FakeExtension({}) as ext:
        ext.secrets[("s", "AWSCURRENT")] = "x"
        fetch = ExtensionFetch(ext.port, host="127.0.0.1", session_token=lambda: "session-token")
        assert fetch("s", "AWSCURRENT") == "x"
    # an answer without SecretString
    with FakeExtension({}) as ext:
        original = ext.server.RequestHandlerClass.do_GET

        def no_string(self: Any) -> None:
            self._answer(200, b'{"Name":"s"}')

        ext.server.RequestHandlerClass.do_GET = no_string  # type: ignore[method-assign]
        try:
            with pytest.raises(KeyFormatError):
                ExtensionFetch(ext.port, host="127.0.0.1", session_token=lambda: "t")("s", "AWSCURRENT")
        finally:
            ext.server.RequestHandlerClass.do_GET = original  # type: ignore[method-assign]


def test_public_key_store_over_the_extension(extension):
    fetch = ExtensionFetch(extension.port, host="127.0.0.1", session_token=lambda: "session-token")
    store = PublicKeyStore("jwks", fetch=fetch)
    assert store.jwks().kids == frozenset()
    store.jwks()
    assert len(extension.requests) == 1  # cached


def test_sdk_fetch_reads_the_requested_stage():
    with mock_aws():
        sm = boto3.client("secretsmanager")
        sm.create_secret(Name="s", SecretString="v1")
        sm.put_secret_value(SecretId="s", SecretString="v2")
        assert sdk_fetch("s", "AWSCURRENT") == "v2"
        assert sdk_fetch("s", "AWSPREVIOUS") == "v1"
        with pytest.raises(KeyStoreUnavailableError, match="ResourceNotFoundException"):
            sdk_fetch("missing", "AWSCURRENT")


def test_sdk_fetch_throttling_and_binary_secrets():
    client = boto3.client("secretsmanager", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_secret_value", service_error_code="ThrottlingException", http_status_code=400
    )
    stubber.add_response("get_secret_value", {"Name": "s", "SecretBinary": b"\x00"})
    aws.set_client("secretsmanager", client)
    with stubber:
        with pytest.raises(KeyStoreUnavailableError, match="ThrottlingException") as info:
            sdk_fetch("s", "AWSCURRENT")
        assert info.value.__cause__ is not None
        with pytest.raises(KeyFormatError):
            sdk_fetch("s", "AWSCURRENT")
