"""The three Lambda handlers end to end under moto, fed the sample events in events/.

Covers the HTTP surface (R-HTTP-*, hostile bodies: never a 500), the response headers, PyJWT
interop (I-3) and the log-redaction guarantee: a full login → refresh → grace retry → revoke run
never writes a password, token, hash or secret to the logs or the EMF metrics output.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re

import jwt
import pytest

from auth_core.oauth.refresh import hash_refresh_token
from auth_core.passwords import PasswordHasher
from tests.functional.oauth.conftest import AUD, BACKEND_SECRET, ISS, PASSWORD
from tests.functional.oauth.helpers import PUBLIC_CLIENT, PUBLIC_CLIENT_SETTINGS, http_event, sample_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def apps(stack):
    import functions.issue_token.app as issue
    import functions.refresh_token.app as refresh
    import functions.revoke_token.app as revoke

    for module in (issue, refresh, revoke):
        module.settings.cache_clear()
        module.service.cache_clear()
    stack.add_user(hasher=PasswordHasher())  # the production parameters
    stack.add_client()
    stack.add_client("other-spa")
    stack.add_client(PUBLIC_CLIENT, **PUBLIC_CLIENT_SETTINGS)  # a browser app: no secret
    stack.add_client("backend-svc", secret=BACKEND_SECRET, grants=("client_credentials",), scopes=("read",))
    yield issue, refresh, revoke
    for module in (issue, refresh, revoke):
        module.settings.cache_clear()
        module.service.cache_clear()


def call(module, event, lambda_context):
    response = module.lambda_handler(event, lambda_context)
    assert response["statusCode"] < 500, response
    return response


def doc(response):
    return json.loads(response["body"])


def cc_event():
    return sample_event(
        "issue_token_client_credentials.json", client_id="backend-svc", client_secret=BACKEND_SECRET
    )


# ---------------------------------------------------------------- the sample events
@pytest.mark.parametrize("name", ["issue_token_password.json", "issue_token_password_json.json"])
def test_password_events(apps, lambda_context, name):
    issue, _, _ = apps
    response = call(issue, sample_event(name), lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    assert response["headers"]["Pragma"] == "no-cache"
    body = doc(response)
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"]


def test_client_credentials_event(apps, lambda_context):
    issue, _, _ = apps
    response = call(issue, cc_event(), lambda_context)
    assert response["statusCode"] == 200
    assert "refresh_token" not in doc(response)


def test_i3_access_token_verifies_with_pyjwt_against_public_jwks(apps, stack, lambda_context):
    issue, _, _ = apps
    token = doc(call(issue, sample_event("issue_token_password.json"), lambda_context))["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    jwk = next(k for k in stack.jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        token,
        jwt.PyJWK(jwk).key,
        algorithms=[jwk["alg"]],
        audience=AUD,
        issuer=ISS,
        options={"require": ["exp", "iat", "sub", "jti", "client_id"]},
    )
    assert claims["sub"].startswith("u_")  # the user's opaque id, not the username
    assert claims["scope"] == "read"


def test_refresh_and_grace_retry_through_handlers(apps, lambda_context):
    issue, refresh, _ = apps
    rt = doc(call(issue, sample_event("issue_token_password.json"), lambda_context))["refresh_token"]
    event = sample_event("refresh_token_rotate.json", refresh_token=rt)
    first = call(refresh, event, lambda_context)
    again = call(refresh, copy.deepcopy(event), lambda_context)
    assert first["statusCode"] == again["statusCode"] == 200
    assert again["body"] == first["body"]  # byte-identical
    assert first["headers"]["Cache-Control"] == "no-store"


def test_token_endpoint_runs_the_same_refresh_operation(apps, lambda_context):
    issue, _, _ = apps
    rt = doc(call(issue, sample_event("issue_token_password.json"), lambda_context))["refresh_token"]
    event = http_event(
        "/token", {"grant_type": "refresh_token", "refresh_token": rt, "client_id": "demo-spa"}
    )
    assert doc(call(issue, event, lambda_context))["refresh_token"] != rt


def test_revoke_events(apps, stack, lambda_context):
    issue, refresh, revoke = apps
    pair = doc(call(issue, sample_event("issue_token_password.json"), lambda_context))
    at = call(
        revoke, sample_event("revoke_token_access.json", access_token=pair["access_token"]), lambda_context
    )
    assert (at["statusCode"], doc(at)) == (200, {})
    rt = call(
        revoke, sample_event("revoke_token_refresh.json", refresh_token=pair["refresh_token"]), lambda_context
    )
    assert (rt["statusCode"], doc(rt)) == (200, {})
    garbage = call(
        revoke, sample_event("revoke_token_refresh.json", refresh_token="nonsense"), lambda_context
    )
    assert (garbage["statusCode"], garbage["body"]) == (200, rt["body"])
    again = call(
        refresh,
        sample_event("refresh_token_rotate.json", refresh_token=pair["refresh_token"]),
        lambda_context,
    )
    assert (again["statusCode"], doc(again)["error"]) == (400, "invalid_grant")


# ---------------------------------------------------------------- error mapping
def test_i2_signing_key_unavailable_is_503_and_no_token(apps, stack, lambda_context):
    import boto3

    issue, _, _ = apps
    boto3.client("secretsmanager").delete_secret(SecretId="jwt/signing-keys", ForceDeleteWithoutRecovery=True)
    response = issue.lambda_handler(sample_event("issue_token_password.json"), lambda_context)
    assert response["statusCode"] == 503
    assert doc(response) == {"error": "temporarily_unavailable"}
    assert [i for i in stack.scan("sessions") if i["pk"]["S"].startswith("fam#")] == []


def test_invalid_client_is_401_with_www_authenticate(apps, lambda_context):
    issue, _, _ = apps
    event = http_event("/token", {"grant_type": "client_credentials"}, basic=("backend-svc", "wrong"))
    response = call(issue, event, lambda_context)
    assert response["statusCode"] == 401
    assert doc(response)["error"] == "invalid_client"
    assert response["headers"]["WWW-Authenticate"].startswith("Basic")


def test_lockout_is_429_with_retry_after_and_invalid_grant_body(apps, lambda_context):
    issue, _, _ = apps
    bad = http_event(
        "/token", {"grant_type": "password", "username": "alice", "password": "no", "client_id": "demo-spa"}
    )
    for _ in range(5):
        assert call(issue, copy.deepcopy(bad), lambda_context)["statusCode"] == 400
    locked = call(issue, sample_event("issue_token_password.json"), lambda_context)
    assert locked["statusCode"] == 429
    assert int(locked["headers"]["Retry-After"]) > 0
    assert doc(locked)["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"method": "GET", "content_type": None}, 405, "invalid_request"),
        ({"method": "PUT"}, 405, "invalid_request"),
        ({"query": "refresh_token=abc"}, 400, "invalid_request"),  # R-HTTP-1 (query)
        ({"body": "grant_type=password&grant_type=password"}, 400, "invalid_request"),  # R-HTTP-1
        ({"body": "grant_type=refresh_token&refresh_token=a&refresh_token=b"}, 400, "invalid_request"),
        ({"body": "grant_type=refresh_Token&client_id=demo-spa"}, 400, "unsupported_grant_type"),  # R-HTTP-2
        ({"body": f"client_id={PUBLIC_CLIENT}"}, 400, "invalid_request"),
        ({"body": "grant_type=password", "content_type": "text/plain"}, 400, "invalid_request"),  # R-HTTP-3
        ({"body": "grant_type=password", "content_type": None}, 400, "invalid_request"),
        ({"body": "grant_type=pass%00word"}, 400, "invalid_request"),
        ({"body": "grant_type=password&username=%ff%fe"}, 400, "invalid_request"),
        ({"body": "a" * (1024 * 1024)}, 400, "invalid_request"),
        ({"body": "===&&&="}, 400, "invalid_request"),
        (
            {
                "body": "",
            },
            400,
            "invalid_request",
        ),
        (
            {
                "body": "%%%",
            },
            400,
            "invalid_request",
        ),
        ({"body": "{not json", "content_type": "application/json"}, 400, "invalid_request"),
        ({"body": "[" * 100_00 + "]" * 100_00, "content_type": "application/json"}, 400, "invalid_request"),
        (
            {"body": '{"grant_type":"password","grant_type":"x"}', "content_type": "application/json"},
            400,
            "invalid_request",
        ),
        ({"body": '{"grant_type":["password"]}', "content_type": "application/json"}, 400, "invalid_request"),
        ({"body": '{"grant_type":NaN}', "content_type": "application/json"}, 400, "invalid_request"),
        ({"body": '"just a string"', "content_type": "application/json"}, 400, "invalid_request"),
        ({"body": '{"grant_type":"\\ud800"}', "content_type": "application/json"}, 400, "invalid_request"),
        ({"body": "not base64!!", "b64": True}, 400, "invalid_request"),
        ({"body": "grant_type=password", "headers": {"authorization": "Bearer abc"}}, 400, "invalid_request"),
        (
            {"body": "grant_type=client_credentials", "headers": {"authorization": "Basic !!!"}},
            400,
            "invalid_request",
        ),
        (
            {
                "body": "grant_type=client_credentials",
                "headers": {"authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
            },
            400,
            "invalid_request",
        ),
    ],
)
def test_hostile_requests_never_500(apps, lambda_context, kwargs, status, error):
    issue, refresh, revoke = apps
    for module, path in ((issue, "/token"), (refresh, "/refresh"), (revoke, "/revoke")):
        event = http_event(path, **kwargs)
        response = call(module, event, lambda_context)
        if module is revoke and kwargs.get("body", "").startswith("grant_type=refresh_Token"):
            continue  # /revoke has no grant_type: its own tests cover it
        if module is not issue and error == "unsupported_grant_type":
            continue
        assert response["statusCode"] == status, (path, kwargs)
        assert doc(response)["error"] == error
        assert "Traceback" not in response["body"]


def test_base64_encoded_body(apps, lambda_context):
    issue, _, _ = apps
    event = http_event(
        "/token",
        {"grant_type": "password", "username": "alice", "password": PASSWORD, "client_id": "demo-spa"},
        b64=True,
    )
    assert doc(call(issue, event, lambda_context))["token_type"] == "Bearer"


def test_non_utf8_base64_body_is_invalid_request(apps, lambda_context):
    issue, _, _ = apps
    event = http_event("/token", body=base64.b64encode(b"grant_type=\xff\xfe").decode())
    event["isBase64Encoded"] = True
    assert call(issue, event, lambda_context)["statusCode"] == 400


# ---------------------------------------------------------------- observability
def test_full_run_logs_no_secret(apps, stack, lambda_context, capsys):
    issue, refresh, revoke = apps
    buffers = []
    streams = []
    for module in (issue, refresh, revoke):
        handler = module.logger.registered_handler
        buf = io.StringIO()
        streams.append((handler, handler.setStream(buf)))
        buffers.append(buf)
    try:
        pair = doc(call(issue, sample_event("issue_token_password.json"), lambda_context))
        bad = http_event(
            "/token",
            {
                "grant_type": "password",
                "username": "alice",
                "password": "hunter2-WRONG",
                "client_id": "demo-spa",
            },
        )
        call(issue, bad, lambda_context)
        cc = doc(call(issue, cc_event(), lambda_context))
        event = sample_event("refresh_token_rotate.json", refresh_token=pair["refresh_token"])
        child = doc(call(refresh, event, lambda_context))
        call(refresh, copy.deepcopy(event), lambda_context)  # grace replay
        call(
            revoke,
            sample_event("revoke_token_refresh.json", refresh_token=child["refresh_token"]),
            lambda_context,
        )
        call(
            revoke,
            sample_event("revoke_token_access.json", access_token=child["access_token"]),
            lambda_context,
        )
    finally:
        for handler, original in streams:
            handler.setStream(original)
    logs = "".join(b.getvalue() for b in buffers) + capsys.readouterr().out
    assert '"correlation_id":"req-password"' in logs.replace(" ", "")
    assert "LoginSucceeded" in logs and "LoginFailed" in logs and "RefreshGraceReplay" in logs
    assert "FamilyRevoked" in logs
    secrets_ = [
        PASSWORD,
        "correct+horse",
        "hunter2-WRONG",
        BACKEND_SECRET,
        pair["access_token"],
        pair["refresh_token"],
        child["access_token"],
        child["refresh_token"],
        cc["access_token"],
        hash_refresh_token(pair["refresh_token"]),
        hash_refresh_token(child["refresh_token"]),
        stack.keyset.records[0].key.to_private_jwk()["d"],
    ]
    for token in (pair["access_token"], child["access_token"], cc["access_token"]):
        secrets_.extend(token.split("."))
    for item in stack.scan("users"):
        secrets_.append(item["password_hash"]["S"])
        secrets_.extend(item["password_hash"]["S"].split("$")[-2:])
    for item in stack.scan("clients"):
        if "secret_hash" in item:
            secrets_.append(item["secret_hash"]["S"].split(":")[1])
    leaked = [s[:12] for s in secrets_ if s and s in logs]
    assert leaked == []
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", logs)
