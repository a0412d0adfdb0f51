"""DPoP end to end (RFC 9449) through a local stack with ``AuthorizerDpop=optional`` and server
nonces on: the example client (``examples/dpop_client.py``) gets a bound token, takes the nonce,
and calls ``GET /me`` through the gateway's authorizer and ``GET /userinfo``; the same token
without its key is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from examples.dpop_client import DPoPClient
from tests.e2e.conftest import Stack, start

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dpop_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from start(
        tmp_path_factory.mktemp("dpop-stack"), AuthorizerDpop="optional", DpopNonceRequired="true"
    )


def tokens(stack: Stack, client: DPoPClient) -> dict[str, Any]:
    data = {"grant_type": "password", "username": stack.info["username"], "password": stack.info["password"]}
    return client.token(stack.api + "/token", {**data, "scope": "openid read"}, auth=stack.basic)


def test_a_bound_token_works_with_its_key_and_only_with_it(dpop_stack: Stack) -> None:
    client = DPoPClient()
    answer = tokens(dpop_stack, client)  # the first try gets use_dpop_nonce, the client retries
    assert answer["token_type"] == "DPoP"
    me = client.get(dpop_stack.api + "/me", answer["access_token"])
    assert me.status_code == 200, me.text
    stolen = answer["access_token"]
    as_bearer = requests.get(
        dpop_stack.api + "/me", headers={"Authorization": f"Bearer {stolen}"}, timeout=30
    )
    assert as_bearer.status_code == 401
    thief = DPoPClient()  # a proof by another key
    assert thief.get(dpop_stack.api + "/me", stolen).status_code == 401


def test_a_replayed_request_is_refused(dpop_stack: Stack) -> None:
    client = DPoPClient()
    token = tokens(dpop_stack, client)["access_token"]
    url = dpop_stack.api + "/me"
    headers = {"Authorization": f"DPoP {token}", "DPoP": client.proof("GET", url, token)}
    assert requests.get(url, headers=headers, timeout=30).status_code == 200
    assert requests.get(url, headers=headers, timeout=30).status_code == 401


def test_bearer_tokens_still_work_when_dpop_is_optional(dpop_stack: Stack) -> None:
    plain = dpop_stack.login()
    assert plain["token_type"] == "Bearer"
    me = requests.get(
        dpop_stack.api + "/me", headers={"Authorization": f"Bearer {plain['access_token']}"}, timeout=30
    )
    assert me.status_code == 200


def test_userinfo_takes_a_bound_token_with_its_proof_and_refuses_a_thief(dpop_stack: Stack) -> None:
    client = DPoPClient()
    token = tokens(dpop_stack, client)["access_token"]
    answer = client.get(dpop_stack.api + "/userinfo", token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["sub"]
    thief = DPoPClient().get(dpop_stack.api + "/userinfo", token)
    assert thief.status_code == 401
    assert thief.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof", algs="')
    as_bearer = requests.get(
        dpop_stack.api + "/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert as_bearer.status_code == 401
    assert as_bearer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token", DPoP algs="')
