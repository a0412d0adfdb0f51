"""``GET``/``POST /userinfo`` (OpenID Connect Core §5.3, RFC 6750) end to end under moto.

Tokens are minted by ``functions/issue_token`` (the password grant) and presented to
``functions/userinfo``, which verifies them against the published JWKS and the revocation feed.
The feed is read when a service is built: tests that revoke build a fresh one (cache cleared)
instead of waiting for ``REVOCATION_FEED_INTERVAL``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from auth_core.stores.revocations import RevocationStore
from auth_core.stores.users import UserStore
from tests.functional.oauth.conftest import PASSWORD
from tests.functional.oauth.helpers import http_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

SECRET = "userinfo-test-secret-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture
def apps(stack):
    import functions.issue_token.app as issue
    import functions.userinfo.app as userinfo

    stack.add_user("alice", scopes=("openid", "profile", "read"))
    stack.add_client(
        "web-app", secret=SECRET, grants=("password", "refresh_token"), scopes=("openid", "profile", "read")
    )
    for module in (issue, userinfo):
        module.settings.cache_clear()
        module.service.cache_clear()
    yield issue, userinfo
    for module in (issue, userinfo):
        module.settings.cache_clear()
        module.service.cache_clear()


def token(issue: Any, lambda_context: Any, scope: str) -> str:
    params = {"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": scope}
    response = issue.lambda_handler(http_event("/token", params, basic=("web-app", SECRET)), lambda_context)
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])["access_token"]


def get(userinfo: Any, lambda_context: Any, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("method", "GET")
    kwargs.setdefault("content_type", None)
    response = userinfo.lambda_handler(http_event("/userinfo", **kwargs), lambda_context)
    assert response["statusCode"] < 500, response
    return response


def bearer(access_token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {access_token}"}


def test_get_with_openid_profile_answers_sub_and_username(stack, apps, lambda_context):
    issue, userinfo = apps
    response = get(userinfo, lambda_context, headers=bearer(token(issue, lambda_context, "openid profile")))
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"sub": stack.user_id("alice"), "preferred_username": "alice"}
    assert response["headers"]["Cache-Control"] == "no-store"


def test_openid_without_profile_answers_sub_only(stack, apps, lambda_context):
    issue, userinfo = apps
    response = get(userinfo, lambda_context, headers=bearer(token(issue, lambda_context, "openid")))
    assert json.loads(response["body"]) == {"sub": stack.user_id("alice")}


def test_post_with_the_token_in_the_form_body(stack, apps, lambda_context):
    issue, userinfo = apps
    at = token(issue, lambda_context, "openid profile")
    for b64 in (False, True):  # form posts reach Lambda base64-encoded through API Gateway
        response = get(
            userinfo,
            lambda_context,
            method="POST",
            params={"access_token": at},
            content_type="application/x-www-form-urlencoded",
            b64=b64,
        )
        assert response["statusCode"] == 200, response
        assert json.loads(response["body"])["preferred_username"] == "alice"
    header = get(userinfo, lambda_context, method="POST", headers=bearer(at))  # POST, header, no body
    assert header["statusCode"] == 200


def test_without_openid_scope_is_403_insufficient_scope(apps, lambda_context):
    issue, userinfo = apps
    response = get(userinfo, lambda_context, headers=bearer(token(issue, lambda_context, "read")))
    assert response["statusCode"] == 403
    assert response["headers"]["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'
    assert json.loads(response["body"]) == {"error": "insufficient_scope"}


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Bearer"},
        {"authorization": "Basic dXNlcjpwYXNz"},
        bearer("not.a.jwt"),
        bearer("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    ],
)
def test_bad_or_missing_tokens_are_401_without_details(apps, lambda_context, headers):
    _, userinfo = apps
    response = get(userinfo, lambda_context, headers=headers)
    assert response["statusCode"] == 401
    assert response["headers"]["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert json.loads(response["body"]) == {"error": "invalid_token"}


def test_a_tampered_token_is_401(apps, lambda_context):
    issue, userinfo = apps
    header, payload, signature = token(issue, lambda_context, "openid").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "u_someoneelse"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = get(userinfo, lambda_context, headers=bearer(f"{header}.{forged}.{signature}"))
    assert response["statusCode"] == 401


def test_a_revoked_token_is_refused(stack, apps, lambda_context):
    issue, userinfo = apps
    at = token(issue, lambda_context, "openid profile")
    assert get(userinfo, lambda_context, headers=bearer(at))["statusCode"] == 200
    payload = at.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    RevocationStore("revocations").revoke_jti(claims["jti"], claims["exp"])
    userinfo.service.cache_clear()  # a fresh feed: no waiting for REVOCATION_FEED_INTERVAL
    response = get(userinfo, lambda_context, headers=bearer(at))
    assert response["statusCode"] == 401
    assert response["headers"]["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_client_credentials_token_names_no_user(stack, apps, lambda_context):
    issue, userinfo = apps
    stack.add_client("robot", secret=SECRET, grants=("client_credentials",), scopes=("openid", "read"))
    params = {"grant_type": "client_credentials", "scope": "openid"}
    minted = issue.lambda_handler(http_event("/token", params, basic=("robot", SECRET)), lambda_context)
    at = json.loads(minted["body"])["access_token"]
    assert get(userinfo, lambda_context, headers=bearer(at))["statusCode"] == 401


@pytest.mark.parametrize(
    "kwargs",
    [
        {"query": "access_token=abc", "headers": {}},  # never in the URL (RFC 6750 §2.3 declined)
        {
            "method": "POST",
            "params": {"access_token": "abc"},
            "headers": {"authorization": "Bearer abc"},
            "content_type": "application/x-www-form-urlencoded",
        },  # two methods at once (§2)
        {
            "method": "POST",
            "body": "access_token=a&access_token=b",
            "content_type": "application/x-www-form-urlencoded",
        },
        {"method": "POST", "body": '{"access_token": "abc"}', "content_type": "application/json"},
    ],
)
def test_misplaced_tokens_are_400_invalid_request(apps, lambda_context, kwargs):
    _, userinfo = apps
    if "query" in kwargs:
        event = http_event("/userinfo", method="GET", content_type=None, query=kwargs["query"])
        event["queryStringParameters"] = {"access_token": "abc"}
        response = userinfo.lambda_handler(event, lambda_context)
    else:
        response = get(userinfo, lambda_context, **kwargs)
    assert response["statusCode"] == 400, response
    assert json.loads(response["body"]) == {"error": "invalid_request"}
    assert response["headers"]["WWW-Authenticate"] == 'Bearer error="invalid_request"'


# ---------------------------------------------------------------- sub -> username
def test_username_for_subject(stack):
    users = UserStore("users")
    alice = stack.add_user("alice")
    assert users.username_for_subject(alice.user_id) == "alice"
    assert users.username_for_subject("u_nobody") is None
    # a user with an id does not answer to its username as a subject (a client could be named so)
    assert users.username_for_subject("alice") is None
    # a legacy user (no id): its subject is its username; after migration, both subjects work
    stack.ddb.put_item(
        TableName="users",
        Item={"username": {"S": "bob"}, "password_hash": {"S": "x"}, "enabled": {"BOOL": True}},
    )
    assert users.username_for_subject("bob") == "bob"
    bob = users.get("bob")
    assert bob is not None
    migrated = users.ensure_user_id(bob)
    assert users.username_for_subject(migrated.user_id) == "bob"
    assert users.username_for_subject("bob") == "bob"


def test_a_dpop_bound_token_sent_as_a_bearer_token_is_401(stack, apps, lambda_context):
    # RFC 9449 §7.2: without its proof, a key-bound token is what a thief would hold.
    import time

    from tests.dpop_client import DPoPKey

    issue, userinfo = apps
    key = DPoPKey()
    params = {"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": "openid profile"}
    event = http_event("/token", params, basic=("web-app", SECRET))
    event["headers"]["dpop"] = key.proof("POST", "https://auth.example.com/token", iat=int(time.time()))
    answer = json.loads(issue.lambda_handler(event, lambda_context)["body"])
    assert answer["token_type"] == "DPoP"
    for where in ({"headers": bearer(answer["access_token"])},):
        response = get(userinfo, lambda_context, **where)
        assert response["statusCode"] == 401
        www = response["headers"]["WWW-Authenticate"]
        assert www.startswith('Bearer error="invalid_token", DPoP algs="'), www  # §7.1: both schemes
