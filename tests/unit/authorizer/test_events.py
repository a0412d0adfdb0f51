"""Format detection and identity-header extraction for the four authorizer event formats."""

from __future__ import annotations

import copy

import pytest

from auth_core.authorizer.events import EventFormat, detect_format, parse_event
from auth_core.errors import TokenError
from tests.conftest import load_event


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("authorizer_rest_token_allow.json", EventFormat.REST_TOKEN),
        ("authorizer_rest_request_allow.json", EventFormat.REST_REQUEST),
        ("authorizer_http_v1_allow.json", EventFormat.HTTP_V1),
        ("authorizer_http_v2_allow.json", EventFormat.HTTP_V2),
    ],
)
def test_detect_format_of_sample_events(name: str, fmt: EventFormat) -> None:
    event = load_event(name)
    assert detect_format(event) is fmt
    request = parse_event(event, fmt, "authorization")
    assert request.credentials == "Bearer {{access_token}}"


@pytest.mark.parametrize(
    "event",
    [None, [], "x", {}, {"type": "TOKEN", "version": "2.0"}, {"version": "2.0"}, {"type": "WEBSOCKET"}],
)
def test_detect_format_rejects_unknown(event: object) -> None:
    with pytest.raises(TokenError) as info:
        detect_format(event)
    assert info.value.reason == "malformed_event"


def test_v2_route_key_and_domain() -> None:
    request = parse_event(load_event("authorizer_http_v2_deny.json"), EventFormat.HTTP_V2, "authorization")
    assert request.route_key == "DELETE /orders/{id}"
    assert request.arn.request == "DELETE/orders/42"
    assert request.domain_name == "abcdef1234.execute-api.us-east-1.amazonaws.com"


def test_rest_request_route_key_from_resource() -> None:
    request = parse_event(
        load_event("authorizer_rest_request_deny.json"), EventFormat.REST_REQUEST, "authorization"
    )
    assert request.route_key == "DELETE /orders/{id}"


def test_header_name_is_case_insensitive_and_configurable() -> None:  # T-HTTP-12
    event = load_event("authorizer_rest_request_allow.json")
    event["headers"] = {"X-Api-Token": "Bearer abc"}
    event["multiValueHeaders"] = None
    assert parse_event(event, EventFormat.REST_REQUEST, "x-api-token").credentials == "Bearer abc"
    assert parse_event(event, EventFormat.REST_REQUEST, "authorization").credentials is None


@pytest.mark.parametrize(
    ("headers", "multi"),
    [
        ({"Authorization": "Bearer a", "authorization": "Bearer b"}, None),  # T-HTTP-10
        ({"Authorization": "Bearer a"}, {"Authorization": ["Bearer a", "Bearer b"]}),
        ({"Authorization": "Bearer b"}, {"Authorization": ["Bearer a", "Bearer b"]}),  # reversed
        ({"Authorization": "Bearer a"}, {"authorization": ["Bearer b"]}),
        ({"authorization": "Bearer a,Bearer b"}, None),  # payload 2.0 joins repeats with commas
        ({"Authorization": "Bearer a"}, {"Authorization": "Bearer a"}),  # not a list
    ],
)
def test_repeated_identity_header_is_refused(headers: dict, multi: dict | None) -> None:
    event = load_event("authorizer_rest_request_allow.json")
    event["headers"], event["multiValueHeaders"] = headers, multi
    with pytest.raises(TokenError) as info:
        parse_event(event, EventFormat.REST_REQUEST, "authorization")
    assert info.value.reason == "duplicate_header"


def test_token_is_never_read_from_query_or_cookie() -> None:  # T-HTTP-11
    event = load_event("authorizer_http_v1_unauthorized.json")
    request = parse_event(event, EventFormat.HTTP_V1, "authorization")
    assert request.credentials is None
    v2 = load_event("authorizer_http_v2_allow.json")
    del v2["headers"]["authorization"]
    v2["cookies"] = ["access_token=x"]
    v2["queryStringParameters"] = {"access_token": "x"}
    assert parse_event(v2, EventFormat.HTTP_V2, "authorization").credentials is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update(headers=["Authorization"]),
        lambda e: e.update(multiValueHeaders="x"),
        lambda e: e.update(methodArn=None),
        lambda e: e.pop("methodArn"),
        lambda e: e.update(requestContext="x", methodArn="arn:aws:nope"),
    ],
)
def test_malformed_request_events(mutate) -> None:
    event = copy.deepcopy(load_event("authorizer_rest_request_allow.json"))
    mutate(event)
    with pytest.raises(TokenError) as info:
        parse_event(event, EventFormat.REST_REQUEST, "authorization")
    assert info.value.reason == "malformed_event"


_KEYS = [
    "authorization",
    "Authorization",
    "AUTHORIZATION",
    "x-authorization",
    "authorization-x",
    "authorizatio",
    "\u212aey",  # KELVIN SIGN lower-cases to ASCII "k"
    "key",
    "\u0130d",  # lower-cases to two characters
    "id",
    "authorization\nauthorization",
    "",
    7,
    None,
]


@pytest.mark.parametrize("name", ["authorization", "key", "id", "x-api-token", "\u0130d"])
def test_header_lookup_shortcut_matches_the_plain_scan(name: str) -> None:
    """``_values`` (joined-keys shortcut) answers exactly like a scan of every key."""
    import itertools
    import random

    from auth_core.authorizer.events import _values

    rng = random.Random(7)
    samples = [list(c) for n in range(4) for c in itertools.combinations(_KEYS, n)]
    samples += [rng.sample(_KEYS, rng.randint(1, len(_KEYS))) for _ in range(300)]
    for keys in samples:
        mapping = {k: f"v{i}" for i, k in enumerate(keys)}
        expected = [v for k, v in mapping.items() if isinstance(k, str) and k.lower() == name]
        assert _values(mapping, name) == expected, (keys, name)
