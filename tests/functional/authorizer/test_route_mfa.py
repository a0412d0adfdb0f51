"""``ROUTE_MFA``: routes that refuse (403) a token whose ``amr`` lacks ``otp``, in every event
format, alone or together with ``ROUTE_SCOPES``, from a cached policy as from a fresh one, and
with the decision line saying ``mfa_required``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auth_core.errors import ConfigurationError
from auth_core.settings import Settings
from tests.functional.authorizer.conftest import DROP, World, build_event, evaluate_policy, event_arn

ROUTE_MFA = ["POST /payments", "DELETE /orders/{id}"]  # the latter also needs "admin"
MFA_AMR = ["pwd", "otp", "mfa"]
#: (method, concrete path, route key, scopes needed, second factor needed)
ROUTES = [
    ("POST", "/payments", "POST /payments", set(), True),
    ("DELETE", "/orders/x1", "DELETE /orders/{id}", {"admin"}, True),
    ("GET", "/orders", "GET /orders", {"read"}, False),
    ("GET", "/me", "GET /me", set(), False),
]


@pytest.fixture
def mfa_world(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("ROUTE_MFA", json.dumps(ROUTE_MFA))
    return world


def _expected(scope: str, amr: Any, needed: set[str], mfa: bool) -> bool:
    has_otp = isinstance(amr, list) and "otp" in amr
    return needed <= set(scope.split()) and (has_otp or not mfa)


@pytest.mark.parametrize("fmt", ["rest_token", "rest_request", "http_v1", "http_v2_iam", "http_v2"])
@pytest.mark.parametrize("amr", [MFA_AMR, ["pwd"], DROP, "otp", ["otp"]])
@pytest.mark.parametrize("scope", ["read", "read admin"])
def test_mfa_routes_need_otp_in_amr_and_cached_policies_agree(
    mfa_world: World, monkeypatch: pytest.MonkeyPatch, fmt: str, amr: Any, scope: str
) -> None:
    if fmt == "http_v2_iam":
        monkeypatch.setenv("AUTHORIZER_RESPONSE_FORMAT", "iam")
    token = mfa_world.mint(scope=scope, amr=amr)
    first = build_event(fmt, *ROUTES[-1][:3], f"Bearer {token}")
    cached = mfa_world.invoke(first)
    for method, path, key, needed, mfa in ROUTES:
        event = build_event(fmt, method, path, key, f"Bearer {token}")
        fresh = mfa_world.outcome(event)
        allowed = _expected(scope, amr, needed, mfa)
        if fmt == "http_v2":
            assert fresh == ("allow" if allowed else "refused"), (key, amr, scope)
            continue
        assert fresh == ("allow" if allowed else "deny"), (key, amr, scope)
        assert evaluate_policy(cached, event_arn(event)) == fresh, (key, amr, scope)


def test_without_route_mfa_amr_changes_nothing(world: World) -> None:
    for amr in (MFA_AMR, ["pwd"], DROP):
        token = world.mint(scope="read", amr=amr)
        event = build_event("http_v2", "POST", "/payments", "POST /payments", f"Bearer {token}")
        assert world.outcome(event) == "allow"


def test_the_decision_line_says_mfa_required(mfa_world: World, decision_lines: Any) -> None:
    decision_lines()
    token = mfa_world.mint(scope="read", amr=["pwd"])
    mfa_world.outcome(build_event("http_v2", "POST", "/payments", "POST /payments", f"Bearer {token}"))
    scoped = mfa_world.mint(scope="read", amr=MFA_AMR, jti="another-jti-0000")
    mfa_world.outcome(
        build_event("http_v2", "DELETE", "/orders/x1", "DELETE /orders/{id}", f"Bearer {scoped}")
    )
    reasons = [line.get("reason") for line in decision_lines() if line.get("decision") == "Denied"]
    assert reasons == ["mfa_required", "insufficient_scope"]


@pytest.mark.parametrize("raw", ['{"POST /x": 1}', "POST /x", '[1, "GET /y"]'])
def test_route_mfa_must_be_a_json_list_of_route_keys(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="ROUTE_MFA"):
        Settings.from_env({"ROUTE_MFA": raw})


def test_a_malformed_route_key_is_a_configuration_error(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth_core.authorizer.routes import RouteTable

    with pytest.raises(ConfigurationError):
        RouteTable.from_mapping({}, ["POST payments"])
