"""T-AWS-3: a policy API Gateway cached for one route must give every other protected route
exactly the answer a fresh evaluation would. Routes come from ``template.yaml`` (every HttpApi
event not opted out with ``Authorizer: NONE``) plus the scoped routes of ``ROUTE_SCOPES``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.functional.authorizer.conftest import (
    ROUTE_SCOPES,
    World,
    build_event,
    evaluate_policy,
    event_arn,
)

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags (``!Ref``, ``!Sub``...) as plain data."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)


def template_routes() -> list[tuple[str, str]]:
    """(METHOD, /path) of every authorizer-protected HttpApi route in template.yaml."""
    doc = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    routes = []
    for resource in (doc.get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            props = event.get("Properties") or {}
            if event.get("Type") != "HttpApi" or (props.get("Auth") or {}).get("Authorizer") == "NONE":
                continue
            routes.append((str(props.get("Method", "ANY")).upper(), props.get("Path", "/")))
    return routes


def _concrete(template: str) -> str:
    return re.sub(r"\{[^/}]+\}", "x1", template)


def _all_routes() -> list[tuple[str, str, str]]:
    """(method, concrete path, route key) for template routes, scoped routes, an unlisted route."""
    keys = {f"{m} {p}" for m, p in template_routes()} | set(ROUTE_SCOPES) | {"PUT /unlisted/{id}"}
    out = []
    for key in sorted(keys):
        method, _, path = key.partition(" ")
        out.append(("GET" if method == "ANY" else method, _concrete(path), key))
    return out


def test_template_declares_protected_routes() -> None:
    assert ("GET", "/me") in template_routes()


def test_template_caches_simple_responses_per_route() -> None:
    """Simple responses carry no policy: with scoped routes, the cache key must hold the route."""
    doc = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506
    for resource in doc["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::HttpApi":
            continue
        for authorizer in ((resource["Properties"].get("Auth") or {}).get("Authorizers") or {}).values():
            if authorizer.get("EnableSimpleResponses"):
                assert "routeKey" in (authorizer.get("Identity") or {}).get("Context", [])


@pytest.mark.parametrize("fmt", ["rest_token", "rest_request", "http_v1", "http_v2_iam"])
@pytest.mark.parametrize("scope", ["", "read", "read write", "admin", "read write admin"])
def test_cached_policy_agrees_with_fresh_evaluation_on_every_route(
    world: World, monkeypatch: pytest.MonkeyPatch, fmt: str, scope: str
) -> None:
    if fmt == "http_v2_iam":
        monkeypatch.setenv("AUTHORIZER_RESPONSE_FORMAT", "iam")
    token = world.mint(scope=scope)
    routes = _all_routes()
    assert len(routes) >= 4
    first = build_event(fmt, *routes[0], f"Bearer {token}")
    cached = world.invoke(first)
    for method, path, key in routes:
        event = build_event(fmt, method, path, key, f"Bearer {token}")
        fresh = world.outcome(event)
        assert evaluate_policy(cached, event_arn(event)) == fresh, (key, scope)
        needed = set(ROUTE_SCOPES.get(key, ()))
        assert fresh == ("allow" if needed <= set(scope.split()) else "deny"), (key, scope)


@pytest.mark.parametrize("scope", ["", "read", "admin"])
def test_simple_responses_decide_per_route_key(world: World, scope: str) -> None:
    token = world.mint(scope=scope)
    for method, path, key in _all_routes():
        event = build_event("http_v2", method, path, key, f"Bearer {token}")
        needed = set(ROUTE_SCOPES.get(key, ()))
        assert world.outcome(event) == ("allow" if needed <= set(scope.split()) else "refused"), key
