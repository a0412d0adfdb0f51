"""Revoking a refresh token over HTTP ends its session: every access token of it is refused at /me.

The stack caches authorizer answers (AuthorizerResultTtl=300) and the authorizer caches revocation
lookups per token, so the session's tokens are presented to /me only *after* the revocation: no
cached Allow can hide the result. Tokens of another session and of client credentials, also
presented for the first time afterwards, must still pass.
"""

from __future__ import annotations

import jwt
import pytest
import requests

pytestmark = pytest.mark.e2e


def _post(stack, path: str, **form: str) -> requests.Response:
    return requests.post(stack.api + path, data=form, auth=stack.basic, timeout=30)


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _me(stack, token: str) -> requests.Response:
    return requests.get(stack.api + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_revoking_the_refresh_token_refuses_every_access_token_of_the_session(stack):
    first = stack.login()
    rotated = _post(stack, "/refresh", grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    sibling = stack.login()  # the same user's other session
    machine = _post(stack, "/token", grant_type="client_credentials", scope="read")
    assert machine.status_code == 200, machine.text
    sids = [_claims(d["access_token"]).get("sid") for d in (first, second, sibling, machine.json())]
    assert sids[0] == sids[1] and sids[2] not in (None, sids[0]) and sids[3] is None

    revoked = _post(stack, "/revoke", token=second["refresh_token"], token_type_hint="refresh_token")
    assert revoked.status_code == 200
    stack.wait_for_revocation()

    for token in (first["access_token"], second["access_token"]):
        refused = _me(stack, token)
        assert refused.status_code in (401, 403), refused.text
        assert "sub" not in refused.text
    assert _me(stack, sibling["access_token"]).status_code == 200
    assert _me(stack, machine.json()["access_token"]).status_code == 200
    again = _post(stack, "/refresh", grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
