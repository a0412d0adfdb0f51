"""Deferring the bearer character scan (``compact_jws_only``) changes no verdict and no reason.

The production authorizer (``Authorizer.from_settings``) skips RFC 6750's ``b64token`` scan for
tokens the verifier accepts and runs it only for tokens it rejects. Here every answer and every
logged reason is compared with an authorizer that scans first, as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.authorizer import app
from tests.functional.authorizer.conftest import NOW, World, build_event


def _answer(world: World, event: dict[str, Any], read: Callable[[], str]) -> tuple[str, str]:
    outcome = world.outcome(event)
    lines = [json.loads(x) for x in read().splitlines() if x.startswith("{")]
    return outcome, lines[-1]["reason"]


def _compare(world: World, capsys: pytest.CaptureFixture[str], credentials: str, fmt: str) -> None:
    event = build_event(fmt, "GET", "/orders", "GET /orders", credentials)

    def read() -> str:
        return capsys.readouterr().out

    deferred = app._authorizer()
    assert deferred._scan_bearer is False  # the production wiring defers
    deferred.cache.clear()
    got = _answer(world, json.loads(json.dumps(event)), read)
    deferred._scan_bearer = True  # the scan-first behaviour, for reference
    deferred.cache.clear()
    try:
        expected = _answer(world, json.loads(json.dumps(event)), read)
    finally:
        deferred._scan_bearer = False
    assert got == expected, credentials


def _cases(world: World) -> list[str]:
    token = world.mint()
    expired = world.mint(exp=NOW - 100, iat=NOW - 200)
    head, payload, sig = token.split(".")
    return [
        f"Bearer {token}",
        f"bearer   {token}",
        f"Bearer {expired}",
        f"Bearer {token}=",  # b64token, not compact JWS
        f"Bearer {token}~",
        f"Bearer {token}!",  # neither
        f"Bearer {head}.{payload}",
        f"Bearer {head}.{payload}.{sig}.x",
        f"Bearer {head}+.{payload}.{sig}",
        f"Bearer {head}.{payload}/.{sig}",
        f"Bearer {head}.{payload}.{sig[:-1]}",
        f"Bearer {head}..{sig}",
        f"Bearer {token[:40]}é{token[41:]}",
        f"Bearer {token}\t",
        f"Bearer\t{token}",
        f"Bearer {token} {token}",
        "Bearer =abc",
        "Bearer a=b",
        "Bearer ~~~",
        "Bearer a.b.c",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "",
    ]


@pytest.mark.parametrize("fmt", ["rest_token", "http_v2", "rest_request"])
def test_deferred_scan_same_verdicts_and_reasons(
    world: World, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    for credentials in _cases(world):
        _compare(world, capsys, credentials, fmt)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.text(alphabet="AZaz09-._~+/=!é ,;\t", max_size=12),
    where=st.integers(0, 700),
    mode=st.sampled_from(["insert", "replace", "append", "alone"]),
)
def test_deferred_scan_agrees_on_mutated_tokens(
    world: World, capsys: pytest.CaptureFixture[str], junk: str, where: int, mode: str
) -> None:
    token = world.mint()
    where = min(where, len(token))
    mutated = {
        "insert": token[:where] + junk + token[where:],
        "replace": token[:where] + junk + token[where + len(junk) :],
        "append": token + junk,
        "alone": junk,
    }[mode]
    _compare(world, capsys, f"Bearer {mutated}", "rest_token")
