"""functions/jwks: JWKS and discovery documents through the handler (payload 2.0 events)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

from auth_core.keyset import KeySet
from auth_core.tokens import AccessTokenIssuer
from tests.conftest import load_event
from tests.functional.keys.rotation_harness import PUBLIC_SECRET, SIGNING_SECRET

DOMAIN_ISSUER = "https://abcdef1234.execute-api.us-east-1.amazonaws.com"


@pytest.fixture
def jwks_app(keys_env, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("PUBLIC_JWKS_SECRET_ID", PUBLIC_SECRET)
    monkeypatch.setenv("KEY_CACHE_TTL", "120")
    monkeypatch.setenv("SCOPES_SUPPORTED", "openid read write")
    monkeypatch.delenv("ISSUER", raising=False)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    import functions.jwks.app as app

    app.settings.cache_clear()
    app.key_store.cache_clear()
    yield app
    app.settings.cache_clear()
    app.key_store.cache_clear()


def _call(app: Any, name: str, context: Any, **headers: str) -> dict[str, Any]:
    event = load_event(name)
    event["headers"].update(headers)
    return app.lambda_handler(event, context)


def _published(keys_env) -> dict[str, Any]:
    return json.loads(
        keys_env.sm.get_secret_value(SecretId=PUBLIC_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )


def test_jwks_document_with_cache_headers(jwks_app, keys_env, lambda_context):
    response = _call(jwks_app, "jwks_jwks.json", lambda_context)
    assert response["statusCode"] == 200
    headers = response["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "public, max-age=120"
    assert headers["ETag"].startswith('"')
    body = json.loads(response["body"])
    assert body == _published(keys_env)
    assert len(body["keys"]) == 2 and all("d" not in key for key in body["keys"])


def test_if_none_match_gets_304_without_body(jwks_app, lambda_context):
    etag = _call(jwks_app, "jwks_jwks.json", lambda_context)["headers"]["ETag"]
    response = _call(jwks_app, "jwks_jwks.json", lambda_context, **{"if-none-match": etag})
    assert response["statusCode"] == 304
    assert not response.get("body")
    assert response["headers"]["ETag"] == etag
    stale = _call(jwks_app, "jwks_jwks_if_none_match.json", lambda_context)
    assert stale["statusCode"] == 200


def test_etag_changes_when_the_keys_change(jwks_app, keys_env, lambda_context):
    before = _call(jwks_app, "jwks_jwks.json", lambda_context)["headers"]["ETag"]
    keys_env.clock.advance(300)
    keys_env.rotator().rotate_direct(SIGNING_SECRET)
    jwks_app.key_store.cache_clear()  # as after KEY_CACHE_TTL
    after = _call(jwks_app, "jwks_jwks.json", lambda_context, **{"if-none-match": before})
    assert after["statusCode"] == 200 and after["headers"]["ETag"] != before


def test_openid_configuration(jwks_app, lambda_context):
    response = _call(jwks_app, "jwks_openid_configuration.json", lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "public, max-age=120"
    doc = json.loads(response["body"])
    assert doc["issuer"] == DOMAIN_ISSUER
    assert doc["jwks_uri"] == DOMAIN_ISSUER + "/.well-known/jwks.json"
    assert doc["token_endpoint"] == DOMAIN_ISSUER + "/token"
    assert doc["revocation_endpoint"] == DOMAIN_ISSUER + "/revoke"
    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert doc["scopes_supported"] == ["openid", "read", "write"]
    assert doc["grant_types_supported"] == [
        "authorization_code",
        "password",
        "client_credentials",
        "refresh_token",
    ]
    assert doc["response_types_supported"] == ["token"]
    assert doc["subject_types_supported"] == ["public"]


def test_configured_issuer_wins(jwks_app, monkeypatch, lambda_context):
    monkeypatch.setenv("ISSUER", "https://auth.example.com/")
    jwks_app.settings.cache_clear()
    doc = json.loads(_call(jwks_app, "jwks_openid_configuration.json", lambda_context)["body"])
    assert doc["issuer"] == "https://auth.example.com"


def test_unknown_path_is_404(jwks_app, lambda_context):
    response = _call(jwks_app, "jwks_unknown_path.json", lambda_context)
    assert response["statusCode"] == 404


def test_key_store_down_is_503(jwks_app, monkeypatch, lambda_context):
    monkeypatch.setenv("PUBLIC_JWKS_SECRET_ID", "no-such-secret")
    jwks_app.settings.cache_clear()
    jwks_app.key_store.cache_clear()
    response = _call(jwks_app, "jwks_jwks.json", lambda_context)
    assert response["statusCode"] == 503
    assert json.loads(response["body"]) == {"error": "temporarily_unavailable"}


def test_pyjwt_pyjwkset_and_pyjwkclient_verify_our_tokens(jwks_app, keys_env, lambda_context):
    """Interop: PyJWT reads the handler's JWKS (as a dict, and over HTTP with PyJWKClient)."""
    body = _call(jwks_app, "jwks_jwks.json", lambda_context)["body"]
    secret = keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")
    keyset = KeySet.from_json(secret["SecretString"])
    issued = AccessTokenIssuer(DOMAIN_ISSUER, "api", 300).issue(
        keyset.get_signing_key(), subject="alice", client_id="web", scope=["read"]
    )
    pyjwk = jwt.PyJWKSet.from_dict(json.loads(body))[keyset.active.kid]
    claims = jwt.decode(issued.token, pyjwk.key, algorithms=["ES256"], audience="api", issuer=DOMAIN_ISSUER)
    assert claims["sub"] == "alice"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            payload = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        client = jwt.PyJWKClient(f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json")
        key = client.get_signing_key_from_jwt(issued.token)
        claims = jwt.decode(issued.token, key.key, algorithms=["ES256"], audience="api", issuer=DOMAIN_ISSUER)
        assert claims["client_id"] == "web"
    finally:
        server.shutdown()
        server.server_close()
