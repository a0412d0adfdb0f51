"""An attacker's password flood from one address does not lock the owner out from another.

Real HTTP through the local stack, from two source addresses of the loopback range (127.0.0.2 the
attacker, 127.0.0.1 the owner): the emulated HTTP API passes each connection's address to the
token function as ``requestContext.http.sourceIp``, exactly as API Gateway does. Before per-address
throttling, five wrong passwords made the right one answer 429 for everyone, for 300 s.
"""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def _login(stack: Stack, source: str, username: str, password: str) -> tuple[int, dict[str, str]]:
    url = urlsplit(stack.api)
    conn = http.client.HTTPConnection(
        url.hostname or "127.0.0.1", url.port, timeout=30, source_address=(source, 0)
    )
    client_id, secret = stack.basic
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    body = urlencode(
        {"grant_type": "password", "username": username, "password": password, "scope": "openid"}
    )
    try:
        conn.request(
            "POST",
            "/token",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_a_flood_from_one_address_leaves_the_owner_free_to_log_in_from_another(stack: Stack) -> None:
    username, password = f"owner-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    created = subprocess.run(
        [
            *(sys.executable, "-m", "authctl.cli", "--stack", str(stack.state_dir / "stack.json")),
            *("users", "create", username, "--scopes", "openid"),
        ],
        cwd=ROOT,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    statuses = [_login(stack, "127.0.0.2", username, "not-the-password")[0] for _ in range(12)]
    assert statuses[:5] == [400] * 5  # five guesses are checked...
    assert set(statuses[5:]) == {429}  # ...then that address is slowed down
    status, body = _login(stack, "127.0.0.1", username, password)
    assert status == 200, body  # the owner, from elsewhere, is not locked out
