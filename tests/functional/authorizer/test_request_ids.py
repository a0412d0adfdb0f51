"""The decision line carries API Gateway's request ids, so it joins with the API's access log
(``$context.requestId``, REST's ``$context.extendedRequestId``) and the functions' lines
(``correlation_id``): for every format that has a request context, on every outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auth_core.authorizer.events import MAX_REQUEST_ID_LENGTH, api_request_ids
from tests.conftest import load_event
from tests.functional.authorizer.conftest import World, build_event, with_token

REST_EXTENDED = "Dd2xbFzYIAMFq1Q="


def _decision(decision_lines: Any) -> dict[str, Any]:
    lines = [x for x in decision_lines() if "decision" in x]
    assert len(lines) == 1
    return lines[0]


@pytest.mark.parametrize(
    ("name", "request_id", "extended"),
    [
        ("authorizer_http_v2_allow.json", "JKJaXmPLvHcESHA=", None),
        ("authorizer_http_v1_allow.json", "JKJaXmPLvHcESHA=", REST_EXTENDED),
        ("authorizer_rest_request_allow.json", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", REST_EXTENDED),
    ],
)
@pytest.mark.parametrize("valid", [True, False])
def test_decision_line_carries_the_api_gateway_request_ids(
    world: World, decision_lines: Any, name: str, request_id: str, extended: str | None, valid: bool
) -> None:
    token = world.mint() if valid else world.mint(aud="someone-else")
    event = with_token(name, token)
    if extended is not None:  # what API Gateway adds to REST and payload 1.0 request contexts
        event["requestContext"]["extendedRequestId"] = extended
    decision_lines()  # drop earlier output
    world.outcome(event)
    line = _decision(decision_lines)
    assert line["decision"] in ({"Allowed", "Denied"} if valid else {"Unauthorized"})
    assert line["correlation_id"] == request_id
    assert line.get("extended_request_id") == extended
    assert line["function_request_id"] == world.context.aws_request_id  # Lambda's own id stays


def test_ids_are_logged_when_the_event_itself_is_refused(world: World, decision_lines: Any) -> None:
    event = build_event("rest_request", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    event["headers"]["authorization"] = event["headers"]["Authorization"]  # T-HTTP-10
    event["multiValueHeaders"] = None
    decision_lines()
    assert world.outcome(event) == "unauthorized"
    line = _decision(decision_lines)
    assert line["reason"] == "duplicate_header"
    assert line["correlation_id"] == event["requestContext"]["requestId"]


def test_rest_token_events_have_no_request_ids(world: World, decision_lines: Any) -> None:
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    decision_lines()
    assert world.outcome(event) == "allow"
    line = _decision(decision_lines)
    assert "correlation_id" not in line and "extended_request_id" not in line


def test_a_forged_request_id_cannot_break_the_line(world: World, decision_lines: Any) -> None:
    event = with_token("authorizer_http_v2_allow.json", world.mint())
    event["requestContext"]["requestId"] = 'x"\n{"decision":"Allowed"}'
    decision_lines()
    assert world.outcome(event) == "allow"
    line = _decision(decision_lines)  # one parsed line: the value stayed inside its string
    assert line["correlation_id"] == event["requestContext"]["requestId"]
    raw = [x for x in decision_lines.raw.splitlines() if '"decision"' in x]
    assert len(raw) == 1 and json.loads(raw[0]) == line


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"requestId": "r1", "extendedRequestId": "e1"}, ("r1", "e1")),
        ({"requestId": "r1"}, ("r1", None)),
        ({"requestId": "", "extendedRequestId": 7}, (None, None)),
        ({"requestId": "r" * (MAX_REQUEST_ID_LENGTH + 1)}, (None, None)),
        ({"requestId": ["r1"]}, (None, None)),
        ("not an object", (None, None)),
        (None, (None, None)),
    ],
)
def test_api_request_ids_reads_only_short_strings(context: object, expected: tuple) -> None:
    event = load_event("authorizer_http_v2_allow.json")
    event["requestContext"] = context
    assert api_request_ids(event) == expected
