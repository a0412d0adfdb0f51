"""The boto3-free client over real HTTP on 127.0.0.1: moto's server, and a tiny scripted server.

moto does not check signatures (``tests/unit/aws_json/test_sigv4.py`` is the signature proof);
these tests prove the wire format, keep-alive reuse, error mapping, bounded retries and
timeouts, and that the key store and the revocation checker pick the lean client by default in
a Lambda-like environment without importing botocore for it.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest
from moto.server import ThreadedMotoServer

from auth_core import aws, aws_json
from auth_core.aws_json import AwsJsonClient, AwsServiceError, AwsTransportError
from auth_core.errors import KeyStoreUnavailableError, RevocationStoreError, RevokedTokenError
from auth_core.keystore import PublicKeyStore, fetch_from_settings, lean_fetch
from auth_core.revocation_feed import feed_from_settings
from auth_core.settings import Settings
from auth_core.stores.revocations import RevocationStore
from tests.tables import create_template_table

ROOT = Path(__file__).resolve().parents[3]
TABLE = "lean-revocations"
SECRET = "lean/public-jwks"
JWKS = '{"keys": []}'
#: a user cut-off that is still live (entries expire with the tokens they refuse)
ALICE_CUTOFF = int(time.time())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    kw: dict[str, Any] = {
        "region_name": "us-east-1",
        "endpoint_url": endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    sm = boto3.client("secretsmanager", **kw)
    sm.create_secret(Name=SECRET, SecretString=JWKS)
    sm.put_secret_value(SecretId=SECRET, SecretString='{"keys": [], "v": 2}', VersionStages=["AWSPENDING"])
    ddb = boto3.client("dynamodb", **kw)
    create_template_table(ddb, "RevocationsTable", TABLE)
    store = RevocationStore(TABLE, client=ddb)
    store.revoke_jti("gone", 9_999_999_999)
    store.set_user_cutoff("alice", ALICE_CUTOFF * 1000, max_token_lifetime=900)
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> Iterator[str]:
    """What Lambda sets (credentials, region, function name), pointed at the moto server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "authorizer")
    aws_json.reset_clients()
    yield moto_endpoint
    aws_json.reset_clients()


# ------------------------------------------------------------------ against moto's server
def test_get_secret_value_with_version_stage(lambda_env: str) -> None:
    client = AwsJsonClient("secretsmanager", endpoint=lambda_env)
    current = client.call("GetSecretValue", {"SecretId": SECRET, "VersionStage": "AWSCURRENT"})
    pending = client.call("GetSecretValue", {"SecretId": SECRET, "VersionStage": "AWSPENDING"})
    assert current["SecretString"] == JWKS
    assert json.loads(pending["SecretString"])["v"] == 2
    assert "AWSPENDING" in pending["VersionStages"]


def test_batch_get_item_two_keys(lambda_env: str) -> None:
    client = AwsJsonClient("dynamodb", endpoint=lambda_env)
    answer = client.call(
        "BatchGetItem",
        {
            "RequestItems": {
                TABLE: {
                    "Keys": [{"pk": {"S": "jti#gone"}}, {"pk": {"S": "sub#alice"}}],
                    "ProjectionExpression": "pk, not_before",
                }
            }
        },
    )
    items = {item["pk"]["S"]: item for item in answer["Responses"][TABLE]}
    assert set(items) == {"jti#gone", "sub#alice"}
    assert items["sub#alice"]["not_before"] == {"N": str(ALICE_CUTOFF)}
    assert answer.get("UnprocessedKeys") == {}


def test_the_dpop_replay_record_is_written_once_through_the_lean_client(lambda_env: str) -> None:
    # The authorizer's one write: a failed condition must read as "seen", not as an outage.
    from auth_core.stores.dpop import DPoPReplayStore

    store = DPoPReplayStore(TABLE, client=aws_json.DynamoDB(), clock=lambda: 1_800_000_000)
    assert store.first_use("lean-proof", 1_800_000_065) is True
    assert store.first_use("lean-proof", 1_800_000_065) is False


def test_resource_not_found_is_typed_and_not_retried(lambda_env: str) -> None:
    client = AwsJsonClient("secretsmanager", endpoint=lambda_env, sleep=lambda _s: None)
    with pytest.raises(AwsServiceError) as info:
        client.call("GetSecretValue", {"SecretId": "no/such/secret"})
    assert info.value.code == "ResourceNotFoundException" and 400 <= info.value.status < 500
    assert client.last_attempts == 1
    assert "no/such/secret" not in str(info.value)


def test_key_store_maps_errors(lambda_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert lean_fetch(SECRET, "AWSCURRENT") == JWKS
    with pytest.raises(KeyStoreUnavailableError) as info:
        lean_fetch("no/such/secret", "AWSCURRENT")
    assert "ResourceNotFoundException" in str(info.value)
    assert isinstance(info.value.__cause__, AwsServiceError)


def test_auto_strategy_picks_the_lean_client_in_lambda(
    lambda_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert fetch_from_settings(Settings()) is lean_fetch
    assert fetch_from_settings(Settings(key_fetch_strategy="lean")) is lean_fetch
    store = PublicKeyStore.from_settings(Settings(public_jwks_secret_id=SECRET))
    assert store.jwks().kids == frozenset()
    # An injected boto3 client wins; no env credentials -> boto3 too.
    aws.set_client("secretsmanager", object())
    assert fetch_from_settings(Settings()).__name__ == "sdk_fetch"
    aws.set_client("secretsmanager", None)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert fetch_from_settings(Settings()).__name__ == "sdk_fetch"


def test_revocation_feed_uses_the_lean_client_by_default(lambda_env: str) -> None:
    feed = feed_from_settings(Settings(revocations_table=TABLE), lean=True)
    with pytest.raises(RevokedTokenError) as revoked:
        feed.check(jti="gone", subject="bob", issued_at=2000)
    assert revoked.value.reason == "revoked"
    with pytest.raises(RevokedTokenError) as before:
        feed.check(jti="fine", subject="alice", issued_at=ALICE_CUTOFF - 1)
    assert before.value.reason == "revoked_subject"
    feed.check(jti="fine", subject="alice", issued_at=ALICE_CUTOFF)
    assert isinstance(feed._client, aws_json.DynamoDB)


def test_revocation_feed_maps_lean_errors(lambda_env: str) -> None:
    with pytest.raises(RevocationStoreError) as info:
        feed_from_settings(Settings(revocations_table="no-such-table"), lean=True).check(
            jti="j", subject="s", issued_at=1
        )
    cause = info.value.__cause__
    assert isinstance(cause.__cause__ if cause is not None else None, AwsServiceError)
    assert cause.__cause__.code == "ResourceNotFoundException"  # type: ignore[union-attr]


def test_lean_path_does_not_import_botocore(lambda_env: str) -> None:
    """In a fresh interpreter: keys and a revocation lookup, and botocore never loaded."""
    code = (
        "import sys\n"
        "from auth_core.keystore import lean_fetch\n"
        "from auth_core.revocation_feed import feed_from_settings\n"
        "from auth_core.settings import Settings\n"
        f"assert lean_fetch({SECRET!r}, 'AWSCURRENT')\n"
        f"feed = feed_from_settings(Settings(revocations_table={TABLE!r}), lean=True)\n"
        "feed.check(jti='j', subject='s', issued_at=1)\n"
        "assert 'botocore' not in sys.modules, 'botocore imported'\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT / 'layers' / 'auth_core'}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "authorizer",
        "AWS_ENDPOINT_URL": lambda_env,
    }
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


# ------------------------------------------------------------------ a scripted local server
class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers POSTs from a script of (status, body, delay) and records what it received."""

    protocol_version = "HTTP/1.1"
    script: ClassVar[list[tuple[int, dict[str, Any] | None, float]]] = []
    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        status, body, delay = type(self).script.pop(0) if type(self).script else (200, {}, 0.0)
        if delay:
            time.sleep(delay)
        data = json.dumps(body).encode() if body is not None else b"<html>oops</html>"
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def scripted() -> Iterator[tuple[str, type[_Scripted]]]:
    class Handler(_Scripted):
        script: ClassVar[list[tuple[int, dict[str, Any] | None, float]]] = []
        seen: ClassVar[list[dict[str, str]]] = []

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Handler
    finally:
        server.shutdown()
        server.server_close()


THROTTLED = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow down"}


def test_throttling_then_success_is_retried(scripted: tuple[str, type[_Scripted]]) -> None:
    endpoint, handler = scripted
    handler.script = [(400, THROTTLED, 0.0), (200, {"Responses": {}}, 0.0)]
    sleeps: list[float] = []
    client = AwsJsonClient("dynamodb", region="eu-west-1", endpoint=endpoint, sleep=sleeps.append)
    assert client.call("BatchGetItem", {"RequestItems": {}}) == {"Responses": {}}
    assert client.last_attempts == 2 and len(sleeps) == 1 and 0 <= sleeps[0] < 0.1
    first = handler.seen[0]
    assert first["x-amz-target"] == "DynamoDB_20120810.BatchGetItem"
    assert first["content-type"] == "application/x-amz-json-1.0"
    assert first["authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/eu-west-1/dynamodb/aws4_request" in first["authorization"]
    assert first["x-amz-security-token"] == "testing"


def test_retries_are_bounded(scripted: tuple[str, type[_Scripted]]) -> None:
    endpoint, handler = scripted
    handler.script = [(500, {"__type": "InternalServerError"}, 0.0)] * 5
    client = AwsJsonClient("dynamodb", endpoint=endpoint, sleep=lambda _s: None)
    with pytest.raises(AwsServiceError) as info:
        client.call("GetItem", {})
    assert info.value.code == "InternalServerError" and info.value.retryable
    assert client.last_attempts == 3 and len(handler.seen) == 3


def test_non_json_error_uses_the_error_type_header(scripted: tuple[str, type[_Scripted]]) -> None:
    endpoint, handler = scripted
    handler.script = [(503, None, 0.0)] * 3
    client = AwsJsonClient("secretsmanager", endpoint=endpoint, sleep=lambda _s: None)
    with pytest.raises(AwsServiceError) as info:
        client.call("GetSecretValue", {"SecretId": "x"})
    assert info.value.status == 503 and info.value.code == "UnknownError"


def test_read_timeout_is_not_retried(scripted: tuple[str, type[_Scripted]]) -> None:
    endpoint, handler = scripted
    handler.script = [(200, {}, 1.0)]
    client = AwsJsonClient("dynamodb", endpoint=endpoint, read_timeout=0.2, sleep=lambda _s: None)
    with pytest.raises(AwsTransportError) as info:
        client.call("GetItem", {})
    assert "timed out" in str(info.value) and client.last_attempts == 1


def test_connection_refused_is_retried_then_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()  # nothing listens there
    client = AwsJsonClient("dynamodb", endpoint=f"http://127.0.0.1:{port}", sleep=lambda _s: None)
    with pytest.raises(AwsTransportError):
        client.call("GetItem", {})
    assert client.last_attempts == 3


def test_connection_is_kept_alive(scripted: tuple[str, type[_Scripted]]) -> None:
    # (moto's werkzeug server closes every connection, so keep-alive is proven here.)
    endpoint, _handler = scripted
    client = AwsJsonClient("dynamodb", endpoint=endpoint)
    client.call("GetItem", {})
    first = client._conn.sock if client._conn else None
    client.call("GetItem", {})
    assert first is not None and client._conn is not None and client._conn.sock is first


def test_stale_keep_alive_socket_is_replaced(scripted: tuple[str, type[_Scripted]]) -> None:
    endpoint, _handler = scripted
    client = AwsJsonClient("dynamodb", endpoint=endpoint, sleep=lambda _s: None)
    client.call("GetItem", {})
    assert client._conn is not None and client._conn.sock is not None
    client._conn.sock.close()  # what an idle timeout on the far side looks like, roughly
    assert client.call("GetItem", {}) == {}


def test_missing_credentials_fail_without_a_request(
    scripted: tuple[str, type[_Scripted]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, handler = scripted
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    client = AwsJsonClient("dynamodb", endpoint=endpoint)
    with pytest.raises(AwsTransportError):
        client.call("GetItem", {})
    assert handler.seen == []


def test_public_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert (
        aws_json.resolve_endpoint("dynamodb", "eu-west-1").url == "https://dynamodb.eu-west-1.amazonaws.com"
    )
    assert (
        aws_json.resolve_endpoint("secretsmanager", "cn-north-1").url
        == "https://secretsmanager.cn-north-1.amazonaws.com.cn"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1/")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2")
    assert aws_json.resolve_endpoint("dynamodb", "eu-west-1").url == "http://127.0.0.1:2"
    assert aws_json.resolve_endpoint("secretsmanager", "eu-west-1").url == "http://127.0.0.1:1"


def test_https_verifies_the_server_certificate(tmp_path: Path) -> None:
    """A self-signed server on 127.0.0.1 is refused: TLS verification is on, never skipped."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        client = AwsJsonClient("dynamodb", endpoint=f"https://127.0.0.1:{port}", sleep=lambda _s: None)
        with pytest.raises(AwsTransportError) as info:
            client.call("GetItem", {})
        assert isinstance(info.value.__cause__, ssl.SSLError)
        assert client.last_attempts == 1
    finally:
        server.shutdown()
        server.server_close()
