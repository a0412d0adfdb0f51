"""The protected route through the emulated HTTP API and the Lambda authorizer; refresh-token reuse;
the ``demo`` and ``invoke`` commands; log hygiene."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest
import requests

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e


def _me(stack, token: str | None, **headers: str) -> requests.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(stack.api + "/me", headers=headers, timeout=30)


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_protected_route_allows_a_valid_token_and_passes_the_authorizer_context(stack):
    token = stack.login()["access_token"]
    response = _me(stack, token)
    assert response.status_code == 200
    body = response.json()
    assert body["sub"] == stack.info["user_id"]  # the opaque user id, not the username
    assert set(body["scope"].split()) == {"openid", "read"}
    assert response.headers["apigw-requestid"]


def test_no_token_is_401_from_the_gateway(stack):
    response = _me(stack, None)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize("mangle", [_tamper, lambda t: t[:-4] + "AAAA", lambda t: "not.a.jwt"])
def test_tampered_or_garbage_token_is_refused(stack, mangle):
    response = _me(stack, mangle(stack.login()["access_token"]))
    # a bad token is a 401 (refresh and retry), never a 403; an HTTP API cannot add a header to it
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert "www-authenticate" not in {k.lower() for k in response.headers}
    assert "sub" not in response.text


def test_valid_token_without_the_route_scope_is_403(stack):
    # The stack runs with ROUTE_SCOPES {"GET /me": ["read"]}; this token has only "profile".
    token = stack.login(scope="profile")["access_token"]
    response = _me(stack, token)
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_refresh_token_reuse_revokes_the_whole_family(stack):
    first = stack.login()

    def refresh(refresh_token: str) -> requests.Response:
        return requests.post(
            stack.api + "/refresh",
            auth=stack.basic,
            timeout=30,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        )

    rotated = refresh(first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert rotated.headers["Cache-Control"] == "no-store"

    reuse = refresh(first["refresh_token"])  # replay of a rotated token: theft signal
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    legit = refresh(second["refresh_token"])  # the family is revoked, the newest token too
    assert legit.status_code == 400
    assert legit.json()["error"] == "invalid_grant"


def test_authorizer_results_are_cached_like_api_gateway(stack):
    """A token that passed stays accepted on that route for ReauthorizeEvery, even once revoked."""
    token = stack.login()["access_token"]
    assert _me(stack, token).status_code == 200
    revoked = requests.post(
        stack.api + "/revoke",
        auth=stack.basic,
        timeout=30,
        data={"token": token, "token_type_hint": "access_token"},
    )
    assert revoked.status_code == 200
    assert _me(stack, token).status_code == 200  # cached Allow (AuthorizerResultTtl=300)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local_stack", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_command_runs_green(stack):
    result = _run("demo", "--state-dir", str(stack.state_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo complete" in result.stdout
    assert stack.info["password"] not in result.stdout
    assert stack.info["client_secret"] not in result.stdout


def test_invoke_command_uses_the_running_stack_and_fills_placeholders(stack):
    result = _run(
        "invoke",
        "AuthorizerFunction",
        "events/authorizer_http_v2_allow.json",
        "--state-dir",
        str(stack.state_dir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    # the template's authorizer answers with IAM policies (a bad token is then a 401, not a 403)
    allow = answer["policyDocument"]["Statement"][0]
    assert (allow["Effect"], allow["Action"]) == ("Allow", "execute-api:Invoke")
    assert answer["context"]["sub"] == stack.info["user_id"]

    result = _run("invoke", "jwks", "events/jwks_jwks.json", "--state-dir", str(stack.state_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["keys"]


def test_no_credential_reaches_any_log(stack):
    """Passwords, client secrets and tokens never appear in the gateway's or the functions' logs."""
    pair = stack.login()
    rotated = requests.post(
        stack.api + "/refresh",
        auth=stack.basic,
        timeout=30,
        data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
    ).json()
    wrong = requests.post(
        stack.api + "/token",
        auth=stack.basic,
        timeout=30,
        data={
            "grant_type": "password",
            "username": stack.info["username"],
            "password": "wrong-password-e2e-canary",
        },
    )
    assert wrong.status_code == 400
    _me(stack, rotated["access_token"])
    text = stack.wait_for_log("GET /me ->", count=1)
    text = stack.wait_for_log("REPORT RequestId", count=text.count("START RequestId"))
    assert "POST /token -> 400" in text  # the log does record the failed login...
    for secret in (
        stack.info["password"],
        stack.info["client_secret"],
        "wrong-password-e2e-canary",
        pair["refresh_token"],
        rotated["refresh_token"],
        pair["access_token"],
        rotated["access_token"],
    ):
        assert secret not in text  # ...but never a credential


def test_rotate_secret_through_the_aws_api_runs_the_rotation_function(stack):
    """``authctl keys rotate`` calls Secrets Manager's RotateSecret on moto; the local stack routes it
    to the template's rotation function, as AWS would, and tokens keep working."""
    import boto3

    before = stack.login()["access_token"]
    rotations = stack.log_text().count("finishSecret ok")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "authctl.cli",
            "--stack",
            str(stack.state_dir / "stack.json"),
            "keys",
            "rotate",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    version = result.stdout.split("version ")[1].split()[0]
    assert (
        stack.wait_for_log("finishSecret ok", count=rotations + 1).count("finishSecret ok") == rotations + 1
    )
    sm = boto3.client(
        "secretsmanager",
        endpoint_url=stack.info["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stages = sm.describe_secret(SecretId=stack.info["signing_keys_secret_id"])["VersionIdsToStages"]
    assert "AWSCURRENT" in stages[version]
    assert _me(stack, before).status_code == 200
    assert _me(stack, stack.login()["access_token"]).status_code == 200
