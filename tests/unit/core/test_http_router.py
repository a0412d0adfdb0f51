"""``auth_core.http.Router``: the routing the HTTP functions use instead of Powertools' resolver.

Written against ``HttpFunction.create(...).app`` so that they describe behaviour, not the class:
the same answers as Powertools' ``APIGatewayHttpResolver`` gave (payload 2.0 shape, named-stage
prefix, errors by nearest class), and a malformed event is a 404, not a traceback.
"""

from __future__ import annotations

from typing import Any

import pytest

from auth_core.errors import InvalidRequestError, OAuthError
from auth_core.http import HttpFunction, Response, json_response


def _event(
    method: str = "POST", path: str = "/thing", stage: str = "$default", **extra: Any
) -> dict[str, Any]:
    return {"rawPath": path, "requestContext": {"http": {"method": method}, "stage": stage}, **extra}


@pytest.fixture
def fn() -> HttpFunction:
    fn = HttpFunction.create("router-test", post_only=["/thing"])

    @fn.app.post("/thing")
    def thing() -> Response:
        return json_response(200, {"seen": fn.app.current_event.headers.get("x-probe", "")})

    @fn.app.get("/fail")
    def fail() -> Response:
        raise InvalidRequestError("bad", reason="probe")

    @fn.app.get("/crash")
    def crash() -> Response:
        raise RuntimeError("boom")

    return fn


def test_payload_is_http_api_v2_shape(fn: HttpFunction) -> None:
    out = fn.app.resolve(_event(headers={"X-Probe": "yes"}), None)
    assert out == {
        "statusCode": 200,
        "body": '{"seen":"yes"}',
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "cookies": [],
    }


def test_named_stage_prefix_is_stripped(fn: HttpFunction) -> None:
    assert fn.app.resolve(_event(path="/prod/thing", stage="prod"), None)["statusCode"] == 200


def test_post_only_route_answers_405_and_unknown_path_404(fn: HttpFunction) -> None:
    refused = fn.app.resolve(_event(method="GET"), None)
    assert refused["statusCode"] == 405 and refused["headers"]["Allow"] == "POST"
    assert fn.app.resolve(_event(path="/other"), None)["statusCode"] == 404


def test_errors_go_to_the_nearest_handler(fn: HttpFunction) -> None:
    assert isinstance(InvalidRequestError("x"), OAuthError)
    out = fn.app.resolve(_event(method="GET", path="/fail"), None)
    assert (out["statusCode"], out["body"]) == (400, '{"error":"invalid_request","error_description":"bad"}')
    crashed = fn.app.resolve(_event(method="GET", path="/crash"), None)
    assert (crashed["statusCode"], crashed["body"]) == (500, '{"error":"server_error"}')


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"rawPath": "/thing"},
        {"rawPath": "/thing", "requestContext": "x"},
        {"rawPath": "/thing", "requestContext": {"http": None}},
        {"rawPath": 7, "requestContext": {"http": {"method": 7}}, "headers": ["x"]},
    ],
)
def test_malformed_event_is_a_404_not_a_traceback(fn: HttpFunction, event: dict[str, Any]) -> None:
    out = fn.app.resolve(event, None)
    assert (out["statusCode"], out["body"]) == (404, '{"error":"not_found"}')
