"""``/userinfo`` with DPoP-bound tokens (RFC 9449 §7) over moto: ``functions/issue_token`` binds a
token to a joserfc key (tests/dpop_client), ``functions/userinfo`` takes it as
``Authorization: DPoP`` with a fresh proof, and refuses every way the proof or scheme can be wrong
with a 401 ``DPoP`` challenge (§7.1)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.dpop_client import DPoPKey
from tests.functional.oauth import test_userinfo
from tests.functional.oauth.conftest import ISS, PASSWORD
from tests.functional.oauth.helpers import http_event
from tests.functional.oauth.test_userinfo import SECRET, get

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

USERINFO = ISS + "/userinfo"
ALGS = 'algs="ES256 EdDSA RS256 PS256"'

apps = test_userinfo.apps  # the token and userinfo functions, alice and the web-app client


def bound_token(issue: Any, lambda_context: Any, key: DPoPKey, scope: str = "openid profile") -> str:
    params = {"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": scope}
    proof = key.proof("POST", ISS + "/token", iat=int(time.time()))
    event = http_event("/token", params, basic=("web-app", SECRET), headers={"dpop": proof})
    response = issue.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 200, response
    answer = json.loads(response["body"])
    assert answer["token_type"] == "DPoP"
    return str(answer["access_token"])


def dpop_headers(key: DPoPKey, token: str, method: str = "GET", url: str = USERINFO, **kw: Any) -> dict:
    kw.setdefault("iat", int(time.time()))
    return {"authorization": f"DPoP {token}", "dpop": key.proof(method, url, access_token=token, **kw)}


def refused(response: dict[str, Any], error: str) -> None:
    assert response["statusCode"] == 401, response
    assert json.loads(response["body"]) == {"error": error}
    assert response["headers"]["WWW-Authenticate"] == f'DPoP error="{error}", {ALGS}'


def test_a_bound_token_with_its_proof_gets_the_claims(stack, apps, lambda_context):
    issue, userinfo = apps
    key = DPoPKey()
    token = bound_token(issue, lambda_context, key)
    response = get(userinfo, lambda_context, headers=dpop_headers(key, token))
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == {"sub": stack.user_id("alice"), "preferred_username": "alice"}
    post = get(userinfo, lambda_context, method="POST", headers=dpop_headers(key, token, "POST"))
    assert post["statusCode"] == 200, post


def test_a_bound_token_as_bearer_is_refused_with_both_challenges(apps, lambda_context):
    """§7.2: the stolen-token case is refused; §7.1: the answer also offers ``DPoP`` (and its
    algorithms), so a client that picked the wrong scheme learns which one works."""
    issue, userinfo = apps
    token = bound_token(issue, lambda_context, DPoPKey())
    response = get(userinfo, lambda_context, headers={"authorization": f"Bearer {token}"})
    assert response["statusCode"] == 401
    assert response["headers"]["WWW-Authenticate"] == f'Bearer error="invalid_token", DPoP {ALGS}'


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_request_without_credentials_is_offered_both_schemes_without_an_error(apps, lambda_context, method):
    """RFC 9449 §7.1: a resource that takes DPoP says so (with ``algs``) to a request without
    credentials; RFC 6750 §3.1: such a challenge names no error code."""
    _, userinfo = apps
    response = get(userinfo, lambda_context, method=method, headers={})
    assert response["statusCode"] == 401
    assert response["headers"]["WWW-Authenticate"] == f"Bearer, DPoP {ALGS}"


def test_a_bearer_token_in_the_dpop_scheme_is_invalid_token(apps, lambda_context):
    issue, userinfo = apps
    token = test_userinfo.token(issue, lambda_context, "openid")
    response = get(userinfo, lambda_context, headers=dpop_headers(DPoPKey(), token))
    refused(response, "invalid_token")


@pytest.mark.parametrize("another_instance", [False, True])
def test_a_proof_is_spent_once(apps, lambda_context, another_instance):
    """Replayed to the same instance (its memory) or to another (the shared record in the
    sessions table)."""
    issue, userinfo = apps
    key = DPoPKey()
    token = bound_token(issue, lambda_context, key)
    headers = dpop_headers(key, token)
    assert get(userinfo, lambda_context, headers=headers)["statusCode"] == 200
    if another_instance:
        userinfo.service.cache_clear()  # a new instance: an empty memory
    refused(get(userinfo, lambda_context, headers=headers), "invalid_dpop_proof")


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "another_key",
        "wrong_method",
        "wrong_url",
        "no_ath",
        "another_token_ath",
        "too_old",
        "from_the_future",
        "garbage",
        "two_proofs",
    ],
)
def test_every_bad_proof_is_invalid_dpop_proof(apps, lambda_context, case):
    issue, userinfo = apps
    key = DPoPKey()
    token = bound_token(issue, lambda_context, key)
    now = int(time.time())
    headers = dpop_headers(key, token)
    if case == "missing":
        del headers["dpop"]
    elif case == "another_key":  # the thief's own key: the thumbprint is not cnf.jkt
        headers = dpop_headers(DPoPKey(), token)
    elif case == "wrong_method":
        headers = dpop_headers(key, token, "POST")
    elif case == "wrong_url":
        headers = dpop_headers(key, token, url=ISS + "/me")
    elif case == "no_ath":
        headers["dpop"] = key.proof("GET", USERINFO, iat=now)
    elif case == "another_token_ath":
        headers["dpop"] = key.proof("GET", USERINFO, iat=now, access_token=token + "x")
    elif case == "too_old":
        headers = dpop_headers(key, token, iat=now - 120)
    elif case == "from_the_future":
        headers = dpop_headers(key, token, iat=now + 60)
    elif case == "garbage":
        headers["dpop"] = "not-a-proof"
    elif case == "two_proofs":  # API Gateway joins repeated headers with a comma
        headers["dpop"] = headers["dpop"] + "," + key.proof("GET", USERINFO, iat=now, access_token=token)
    refused(get(userinfo, lambda_context, headers=headers), "invalid_dpop_proof")


def test_a_dpop_request_without_scope_openid_is_insufficient_scope_in_the_dpop_scheme(apps, lambda_context):
    issue, userinfo = apps
    key = DPoPKey()
    token = bound_token(issue, lambda_context, key, scope="read")
    response = get(userinfo, lambda_context, headers=dpop_headers(key, token))
    assert response["statusCode"] == 403
    assert response["headers"]["WWW-Authenticate"] == f'DPoP error="insufficient_scope", {ALGS}'


def test_malformed_dpop_credentials_are_invalid_token(apps, lambda_context):
    _, userinfo = apps
    refused(get(userinfo, lambda_context, headers={"authorization": "DPoP a b"}), "invalid_token")


def test_without_a_sessions_table_dpop_requests_are_refused(apps, lambda_context, monkeypatch):
    issue, userinfo = apps
    key = DPoPKey()
    token = bound_token(issue, lambda_context, key)
    monkeypatch.delenv("SESSIONS_TABLE")
    userinfo.settings.cache_clear()
    userinfo.service.cache_clear()
    refused(get(userinfo, lambda_context, headers=dpop_headers(key, token)), "invalid_dpop_proof")
