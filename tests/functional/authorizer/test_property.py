"""Property: whatever API Gateway (or an attacker able to shape a request) sends, the authorizer
answers Allow, Deny (403) or Unauthorized (401 / simple ``false``) -- never another exception
(which would be a 500), and never Allow or Deny without the genuine token in the identity header."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_event
from tests.functional.authorizer.conftest import PLACEHOLDER, World

SAMPLES = [
    "authorizer_rest_token_allow.json",
    "authorizer_rest_request_allow.json",
    "authorizer_rest_request_deny.json",
    "authorizer_http_v1_allow.json",
    "authorizer_http_v2_allow.json",
    "authorizer_http_v2_deny.json",
    "authorizer_http_v2_govcloud_allow.json",
]
OUTCOMES = {"allow", "deny", "unauthorized", "refused"}
PROPERTY = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "type",
        "version",
        "methodArn",
        "routeArn",
        "routeKey",
        "authorizationToken",
        "headers",
        "multiValueHeaders",
        "requestContext",
        "httpMethod",
        "resource",
        "identitySource",
    ]
)


def _fill(name: str, token: str) -> dict[str, Any]:
    return json.loads(json.dumps(load_event(name)).replace(PLACEHOLDER, token))


def _classify(world: World, event: Any, token: str) -> str:
    outcome = world.outcome(event)
    assert outcome in OUTCOMES
    if outcome in {"allow", "deny"}:
        assert token in json.dumps(event, default=str), "allowed without the genuine token"
    return outcome


@PROPERTY
@given(event=json_like)
def test_arbitrary_values_as_events(world: World, event: Any) -> None:
    assert _classify(world, event, world.mint()) in {"unauthorized", "refused"}


@PROPERTY
@given(
    sample=st.sampled_from(SAMPLES), mutations=st.lists(st.tuples(keys, json_like | st.just(...)), max_size=3)
)
def test_mutated_sample_events(world: World, sample: str, mutations: list[tuple[str, Any]]) -> None:
    token = world.mint(scope="read")
    event = _fill(sample, token)
    for key, value in mutations:
        if value is ...:
            event.pop(key, None)
        else:
            event[key] = copy.deepcopy(value)
    _classify(world, event, token)


@PROPERTY
@given(
    sample=st.sampled_from(SAMPLES),
    value=st.one_of(
        st.text(max_size=80),
        st.from_regex(r"(?i)\s*bearer[ \t]{0,3}[A-Za-z0-9._~+/=, -]{0,60}\s*", fullmatch=True),
        json_like,
    ),
)
def test_arbitrary_identity_values(world: World, sample: str, value: Any) -> None:
    event = _fill(sample, "unused")
    if "authorizationToken" in event:
        event["authorizationToken"] = value
    else:
        event["headers"] = {k: v for k, v in event["headers"].items() if k.lower() != "authorization"}
        event["headers"]["authorization"] = value
        event.pop("multiValueHeaders", None)
    assert _classify(world, event, world.mint()) in {"unauthorized", "refused"}


@PROPERTY
@given(
    sample=st.sampled_from(SAMPLES),
    position=st.integers(min_value=0, max_value=10_000),
    char=st.sampled_from("AQgw_-.=x"),
)
def test_one_character_edits_of_a_genuine_token(world: World, sample: str, position: int, char: str) -> None:
    token = world.mint(scope="read")
    i = position % len(token)
    edited = token[:i] + char + token[i + 1 :]
    event = _fill(sample, edited)
    outcome = world.outcome(event)
    assert outcome in OUTCOMES
    if edited != token and outcome in {"allow", "deny"}:
        # A base64url edit in the last character's unused bits can decode to the same bytes
        # (RFC 7515 requires canonical encoding); anything else must be rejected.
        pytest.fail(f"edited token accepted at {i}")
