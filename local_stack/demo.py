"""``auth-local demo``: the token life cycle against the running local stack, one step per request.

login (password grant) → ``GET /me`` → refresh (rotation) → revoke the refresh token (its family)
→ the old refresh token is refused → revoke the access token (jti deny list) → ``GET /me`` refused.

API Gateway caches an authorizer's answer for ``ReauthorizeEvery`` seconds, keyed by the identity
sources (here the ``Authorization`` header and the route). A token that already passed stays
accepted on that route until the entry expires, revoked or not; the local stack does the same. So
the demo revokes the *refreshed* access token, which has not been used yet, and shows the cached
case last.

Standard library only, so it also works outside the project's virtualenv.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local_stack.stack import read_stack_file

__all__ = ["DemoError", "run_demo"]


class DemoError(Exception):
    """A step answered something other than what the service promises."""


def _short(token: str) -> str:
    return f"{token[:12]}…({len(token)} chars)" if len(token) > 16 else "***"


class _Client:
    def __init__(self, info: Mapping[str, Any]) -> None:
        self.api = str(info["api_url"])
        creds = f"{info['client_id']}:{info['client_secret']}".encode()
        self.basic = "Basic " + base64.b64encode(creds).decode()
        self.client_id = str(info["client_id"])

    def call(
        self,
        method: str,
        path: str,
        *,
        form: Mapping[str, str] | None = None,
        bearer: str | None = None,
        shown: str = "",
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Authorization"] = self.basic
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        auth = f"  (Basic {self.client_id}:***)" if form is not None else ""
        print(f"→ {method} {path} {shown}{auth}")
        request = urllib.request.Request(self.api + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local stack
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return status, body


def _show(status: int, body: Any, keys: tuple[str, ...] = ()) -> None:
    if isinstance(body, Mapping):
        shown = {}
        for key, value in body.items():
            if keys and key not in keys:
                continue
            shown[key] = _short(value) if key.endswith("_token") and isinstance(value, str) else value
        print(f"← {status} {json.dumps(shown, ensure_ascii=False)}")
    else:
        print(f"← {status} {body!r}")


def _expect(step: str, status: int, allowed: tuple[int, ...]) -> None:
    if status not in allowed:
        raise DemoError(f"{step}: expected HTTP {' or '.join(map(str, allowed))}, got {status}")


def _walk(client: _Client, info: Mapping[str, Any]) -> None:
    token_keys = ("token_type", "expires_in", "scope", "access_token", "refresh_token")
    print("1. Log in: password grant (RFC 6749 §4.3) with the demo user and client")
    status, body = client.call(
        "POST",
        "/token",
        form={
            "grant_type": "password",
            "username": str(info["username"]),
            "password": str(info["password"]),
            "scope": "openid read",
        },
        shown=f"grant_type=password username={info['username']} password=*** scope='openid read'",
    )
    _show(status, body, token_keys)
    _expect("login", status, (200,))
    access1, refresh1 = body["access_token"], body["refresh_token"]

    print("\n2. Call the protected route with the access token (the Lambda authorizer verifies it)")
    status, body = client.call("GET", "/me", bearer=access1, shown="Authorization: Bearer " + _short(access1))
    _show(status, body)
    _expect("GET /me", status, (200,))

    print("\n3. Refresh: the refresh token is rotated (the old one becomes single-use history)")
    status, body = client.call(
        "POST",
        "/refresh",
        form={"grant_type": "refresh_token", "refresh_token": refresh1},
        shown="grant_type=refresh_token refresh_token=" + _short(refresh1),
    )
    _show(status, body, token_keys)
    _expect("refresh", status, (200,))
    access2, refresh2 = body["access_token"], body["refresh_token"]

    print("\n4. Revoke the new refresh token (RFC 7009): its whole family is revoked")
    status, body = client.call(
        "POST",
        "/revoke",
        form={"token": refresh2, "token_type_hint": "refresh_token"},
        shown="token=" + _short(refresh2) + " token_type_hint=refresh_token",
    )
    _show(status, body)
    _expect("revoke refresh token", status, (200,))

    print("\n5. The revoked refresh token no longer works")
    status, body = client.call(
        "POST",
        "/refresh",
        form={"grant_type": "refresh_token", "refresh_token": refresh2},
        shown="grant_type=refresh_token refresh_token=" + _short(refresh2),
    )
    _show(status, body)
    _expect("refresh with a revoked token", status, (400, 401))

    print("\n6. Revoke the refreshed access token (its jti goes on the deny list)")
    status, body = client.call(
        "POST",
        "/revoke",
        form={"token": access2, "token_type_hint": "access_token"},
        shown="token=" + _short(access2) + " token_type_hint=access_token",
    )
    _show(status, body)
    _expect("revoke access token", status, (200,))

    interval = float((info.get("params") or {}).get("RevocationFeedInterval", 5))
    print(
        "\n7. The revoked access token is refused by the authorizer once its revocation feed was read"
        f"\n   again (RevocationFeedInterval = {interval:g} s; API Gateway would cache an earlier answer"
        "\n   for AuthorizerResultTtl, so the demo asks once, after the interval)"
    )
    time.sleep(interval + 0.5)
    status, body = client.call("GET", "/me", bearer=access2, shown="Authorization: Bearer " + _short(access2))
    _show(status, body)
    _expect("GET /me with a revoked token", status, (401, 403))

    print(
        "\n8. Caveat: the first access token passed the authorizer in step 2, and API Gateway caches that"
        "\n   answer (ReauthorizeEvery). Revoked now, it is still accepted on /me until the entry expires:"
    )
    client.call(
        "POST",
        "/revoke",
        form={"token": access1, "token_type_hint": "access_token"},
        shown="token=" + _short(access1),
    )
    status, body = client.call("GET", "/me", bearer=access1, shown="Authorization: Bearer " + _short(access1))
    _show(status, body)
    if status == 200:
        print("   (cached Allow: keep AuthorizerResultTtl short, or 0, where revocation must bite at once)")
    else:
        print("   (refused at once: authorizer caching is off, AuthorizerResultTtl=0)")


def run_demo(state_dir: Path) -> int:
    """Run the walk-through against the stack whose ``stack.json`` is in ``state_dir``; 0 when every
    step answered as the service promises."""
    info = read_stack_file(state_dir / "stack.json")
    if info is None:
        print(
            f"auth-local demo: no running local stack ({state_dir / 'stack.json'}); "
            "start one with `make local`",
            file=sys.stderr,
        )
        return 2
    if "username" not in info:
        print("auth-local demo: the running stack has no demo user", file=sys.stderr)
        return 2
    print(f"Demo against {info['api_url']} (issuer {info['issuer']})\n")
    try:
        _walk(_Client(info), info)
    except DemoError as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    print("\nDemo complete: every step answered as expected.")
    return 0
