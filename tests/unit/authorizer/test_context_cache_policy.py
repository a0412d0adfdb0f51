"""Context flattening and budget, the verified-token cache, and policy documents."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from auth_core.authorizer.cache import VerifiedTokenCache
from auth_core.authorizer.context import CONTEXT_BUDGET, build_context, flatten_value
from auth_core.authorizer.policy import iam_response, policy_statements, simple_response
from auth_core.authorizer.routes import ExecuteApiArn, RouteTable


@dataclass(frozen=True)
class FakeClaims:
    subject: str = "alice"
    client_id: str = "web"
    scope: tuple[str, ...] = ("read", "write")
    jti: str = "j-1"
    issued_at: int = 1000
    expires_at: int = 1900
    raw: dict[str, Any] = field(default_factory=dict)


@pytest.mark.parametrize(
    ("value", "flat"),
    [
        ("x", "x"),
        (3, 3),
        (1.5, 1.5),
        (True, True),
        (None, None),
        (["a", "b"], "a b"),
        ([1, 2], "1 2"),
        ([True], "[true]"),
        ({"b": 1, "a": [1, {"c": None}]}, '{"a":[1,{"c":null}],"b":1}'),
        ([{"x": 1}], '[{"x":1}]'),
    ],
)
def test_flatten_value_yields_rest_safe_types(value: object, flat: object) -> None:
    assert flatten_value(value) == flat


def test_context_core_fields_and_claims() -> None:
    claims = FakeClaims(raw={"roles": ["admin", "ops"], "org": {"id": 7}, "kid": "never-here"})
    ctx, dropped = build_context(claims, ("roles", "org", "missing"), json_values=False)
    assert ctx == {
        "sub": "alice",
        "client_id": "web",
        "scope": "read write",
        "jti": "j-1",
        "roles": "admin ops",
        "org": '{"id":7}',
    }
    assert dropped == ()
    assert all(isinstance(v, str | int | float | bool) for v in ctx.values())
    ctx2, _ = build_context(claims, ("roles", "org"), json_values=True)
    assert ctx2["roles"] == ["admin", "ops"]
    assert ctx2["org"] == {"id": 7}


def test_context_claims_cannot_override_core_fields() -> None:
    claims = FakeClaims(raw={"sub": "mallory", "scope": "admin"})
    ctx, _ = build_context(claims, ("sub", "scope"), json_values=False)
    assert ctx["sub"] == "alice"
    assert ctx["scope"] == "read write"


def test_context_is_bounded() -> None:
    claims = FakeClaims(raw={"small": "s", "big": "x" * CONTEXT_BUDGET, "after": "a"})
    ctx, dropped = build_context(claims, ("small", "big", "after"), json_values=False)
    assert dropped == ("big",)
    assert ctx["small"] == "s"
    assert ctx["after"] == "a"
    assert len(json.dumps(ctx, separators=(",", ":")).encode()) <= CONTEXT_BUDGET


@pytest.mark.parametrize(
    "big",
    [10**400, "é" * 2000, ["x" * 1500, "y" * 1500, "z" * 1500], {"k": "v" * 5000}, 1.5e300],
)
def test_context_budget_holds_for_any_value(big: object) -> None:
    claims = FakeClaims(raw={"big": big, "small": 1})
    for json_values in (False, True):
        ctx, dropped = build_context(claims, ("big", "small"), json_values=json_values)
        size = len(json.dumps(ctx, separators=(",", ":"), ensure_ascii=False).encode())
        assert size <= CONTEXT_BUDGET
        assert ctx["small"] == 1
        assert ("big" in ctx) != ("big" in dropped)


def test_cache_drops_entries_at_exp_not_later() -> None:
    now = [1000.0]
    cache: VerifiedTokenCache[str] = VerifiedTokenCache(10, clock=lambda: now[0])
    cache.put("t", "claims", 1100)
    assert cache.get("t") == "claims"
    now[0] = 1099.999
    assert cache.get("t") == "claims"
    now[0] = 1100
    assert cache.get("t") is None
    assert len(cache) == 0
    cache.put("expired", "c", 1100)
    assert len(cache) == 0


def test_cache_is_lru_bounded_and_can_be_off() -> None:
    cache: VerifiedTokenCache[int] = VerifiedTokenCache(2, clock=lambda: 0)
    cache.put("a", 1, 10)
    cache.put("b", 2, 10)
    assert cache.get("a") == 1  # a is now most recent
    cache.put("c", 3, 10)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    off: VerifiedTokenCache[int] = VerifiedTokenCache(0, clock=lambda: 0)
    off.put("a", 1, 10)
    assert off.get("a") is None


ROUTES = RouteTable.from_mapping({"GET /orders": ["read"], "DELETE /orders/{id}": ["admin"]})


def _policy(arn: str, routes: RouteTable, granted: frozenset[str]) -> dict:
    return iam_response(
        "alice", policy_statements(ExecuteApiArn.parse(arn), routes, granted), {"sub": "alice"}
    )


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_iam_policy_is_route_independent_and_keeps_partition(partition: str) -> None:
    region = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}[partition]
    base = f"arn:{partition}:execute-api:{region}:123456789012:api1/prod"
    a = _policy(f"{base}/GET/orders", ROUTES, frozenset({"read"}))
    b = _policy(f"{base}/POST/x/y", ROUTES, frozenset({"read"}))
    assert a == b
    assert a["principalId"] == "alice"
    assert a["context"] == {"sub": "alice"}
    allow, deny = a["policyDocument"]["Statement"]
    assert allow == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": [f"{base}/*", f"{base}/GET/orders"],
    }
    assert deny == {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [f"{base}/DELETE/orders/*"]}


def test_iam_policy_without_scoped_routes_allows_the_stage() -> None:
    doc = _policy("arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/x", RouteTable(), frozenset())
    assert doc["policyDocument"]["Statement"] == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": ["arn:aws:execute-api:us-east-1:123456789012:api1/prod/*"],
        }
    ]


def test_simple_response_never_leaks_context_on_refusal() -> None:
    assert simple_response(False, {"sub": "x"}) == {"isAuthorized": False}
    assert simple_response(True, {"sub": "x"}) == {"isAuthorized": True, "context": {"sub": "x"}}
