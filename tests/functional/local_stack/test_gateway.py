"""The emulated HTTP API: events, responses, routing, Lambda authorizers and their cache.

No processes and no sockets: the gateway's invoker is a fake that records events and answers
what each test programs.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from local_stack.apigw import Gateway, HttpRequest, InvocationError, lambda_response_to_http
from tests.functional.local_stack.helpers import make_model


class FakeInvoker:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, Any] = {}

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        self.calls.append((function, event))
        answer = self.answers.get(function, {"statusCode": 200, "body": "ok"})
        if isinstance(answer, Exception):
            raise answer
        return answer(event) if callable(answer) else answer

    def events(self, function: str) -> list[dict[str, Any]]:
        return [e for f, e in self.calls if f == function]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(tmp_path):
    model = make_model(tmp_path, params={"Ttl": "300"})
    invoker = FakeInvoker()
    clock = Clock()
    gateway = Gateway(model, invoker, domain_name="127.0.0.1:3999", clock=clock)
    return gateway, invoker, clock


def get(gateway: Gateway, target: str, headers: dict[str, str] | None = None):
    return gateway.handle(HttpRequest("GET", target, tuple((headers or {}).items())))


ALLOW = {"isAuthorized": True, "context": {"sub": "alice", "scope": "read"}}


# ------------------------------------------------------------------ request events
def test_backend_event_is_payload_2_0(setup):
    gateway, invoker, _ = setup
    request = HttpRequest(
        "GET",
        "/public?a=1&a=2&b=&c=x%20y",
        (
            ("Host", "127.0.0.1:3999"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "s=1; t=2"),
            ("User-Agent", "pytest"),
        ),
        source_ip="127.0.0.9",
    )
    response = gateway.handle(request)
    assert response.status == 200
    (event,) = invoker.events("Backend")
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /public"
    assert event["rawPath"] == "/public"
    assert event["rawQueryString"] == "a=1&a=2&b=&c=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "", "c": "x y"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one,two"
    assert all(k == k.lower() for k in event["headers"])
    assert event["headers"]["x-forwarded-for"] == "127.0.0.9"
    ctx = event["requestContext"]
    assert ctx["domainName"] == "127.0.0.1:3999"
    assert ctx["stage"] == "$default"
    assert ctx["routeKey"] == "GET /public"
    assert ctx["accountId"] == "123456789012"
    assert len(ctx["apiId"]) == 10
    assert ctx["http"] == {
        "method": "GET",
        "path": "/public",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.9",
        "userAgent": "pytest",
    }
    assert isinstance(ctx["timeEpoch"], int) and ctx["requestId"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event and "pathParameters" not in event
    assert "authorizer" not in ctx


@pytest.mark.parametrize(
    ("content_type", "encoded"),
    [
        ("application/x-www-form-urlencoded", True),  # as on AWS: form posts arrive base64-encoded
        ("application/octet-stream", True),
        (None, True),
        ("application/json", False),
        ("text/plain; charset=utf-8", False),
    ],
)
def test_body_encoding_follows_the_content_type(setup, content_type, encoded):
    gateway, invoker, _ = setup
    headers = (("Content-Type", content_type),) if content_type else ()
    gateway.handle(HttpRequest("POST", "/form", headers, b"grant_type=password&x=%C3%A9"))
    (event,) = invoker.events("Backend")
    assert event["isBase64Encoded"] is encoded
    body = base64.b64decode(event["body"]) if encoded else event["body"].encode()
    assert body == b"grant_type=password&x=%C3%A9"


def test_path_parameters_and_route_priority(setup):
    gateway, invoker, _ = setup
    invoker.answers["AuthFn"] = ALLOW
    assert get(gateway, "/items/special").status == 200  # exact route, no authorizer
    assert invoker.events("AuthFn") == []
    assert get(gateway, "/items/a%2Fb", {"Authorization": "Bearer t"}).status == 200
    event = invoker.events("Backend")[-1]
    assert event["routeKey"] == "GET /items/{id}"
    assert event["pathParameters"] == {"id": "a/b"}


def test_unknown_route_and_wrong_method_are_404(setup):
    gateway, invoker, _ = setup
    for method, target in (("GET", "/nope"), ("DELETE", "/public")):
        response = gateway.handle(HttpRequest(method, target))
        assert response.status == 404
        assert response.json() == {"message": "Not Found"}
    assert invoker.calls == []


def test_function_error_is_a_gateway_500(setup):
    gateway, invoker, _ = setup
    invoker.answers["Backend"] = InvocationError("ValueError", "boom")
    response = get(gateway, "/public")
    assert response.status == 500
    assert response.json() == {"message": "Internal Server Error"}


# ------------------------------------------------------------------ responses
def test_structured_response_conversion():
    response = lambda_response_to_http(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-One": "1"},
            "multiValueHeaders": {"X-Many": ["a", "b"]},
            "cookies": ["a=1; HttpOnly", "b=2"],
            "body": '{"ok":true}',
        }
    )
    assert response.status == 201
    assert response.json() == {"ok": True}
    assert ("X-Many", "a") in response.headers and ("X-Many", "b") in response.headers
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1; HttpOnly", "b=2"]
    assert response.header("x-one") == "1"


def test_base64_and_empty_bodies():
    raw = bytes(range(256))
    response = lambda_response_to_http(
        {"statusCode": 200, "body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
    )
    assert response.body == raw
    assert lambda_response_to_http({"statusCode": 204}).body == b""


@pytest.mark.parametrize("result", [{"message": "hi"}, "hello", [1, 2], None])
def test_payload_2_shortcut(result):
    response = lambda_response_to_http(result)
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert json.loads(response.body) == result


@pytest.mark.parametrize("status", ["abc", None, True, 1.5])
def test_invalid_status_code_is_rejected(status):
    with pytest.raises(ValueError):
        lambda_response_to_http({"statusCode": status})


# ------------------------------------------------------------------ authorizers
def test_missing_identity_source_is_401_without_invoking_the_authorizer(setup):
    gateway, invoker, _ = setup
    for headers in ({}, {"Authorization": ""}):
        response = get(gateway, "/items/1", headers)
        assert response.status == 401
        assert response.json() == {"message": "Unauthorized"}
    assert invoker.calls == []


def test_authorizer_event_and_context_passed_to_the_backend(setup):
    gateway, invoker, _ = setup
    invoker.answers["AuthFn"] = ALLOW
    response = get(gateway, "/items/7?q=1", {"Authorization": "Bearer tok"})
    assert response.status == 200
    (auth_event,) = invoker.events("AuthFn")
    assert auth_event["type"] == "REQUEST"
    assert auth_event["version"] == "2.0"
    assert auth_event["identitySource"] == ["Bearer tok", "GET /items/{id}"]
    assert auth_event["routeKey"] == "GET /items/{id}"
    assert auth_event["routeArn"].startswith("arn:aws:execute-api:us-east-1:123456789012:")
    assert auth_event["routeArn"].endswith("/$default/GET/items/{id}")
    assert auth_event["headers"]["authorization"] == "Bearer tok"
    assert auth_event["queryStringParameters"] == {"q": "1"}
    assert auth_event["pathParameters"] == {"id": "7"}
    (backend_event,) = invoker.events("Backend")
    assert backend_event["requestContext"]["authorizer"] == {"lambda": ALLOW["context"]}


def test_simple_response_false_is_403(setup):
    gateway, invoker, _ = setup
    invoker.answers["AuthFn"] = {"isAuthorized": False}
    response = get(gateway, "/items/1", {"Authorization": "Bearer t"})
    assert response.status == 403
    assert response.json() == {"message": "Forbidden"}
    assert invoker.events("Backend") == []


def test_authorizer_raising_unauthorized_is_401_and_other_errors_500(setup):
    gateway, invoker, _ = setup
    invoker.answers["AuthFn"] = InvocationError("Exception", "Unauthorized")
    assert get(gateway, "/items/1", {"Authorization": "Bearer a"}).status == 401
    invoker.answers["AuthFn"] = InvocationError("KeyStoreUnavailableError", "down")
    response = get(gateway, "/items/1", {"Authorization": "Bearer b"})
    assert response.status == 500
    assert response.json() == {"message": "Internal Server Error"}
    invoker.answers["AuthFn"] = {"isAuthorized": "yes"}  # malformed simple response
    assert get(gateway, "/items/1", {"Authorization": "Bearer c"}).status == 500
    assert invoker.events("Backend") == []


def test_authorizer_results_are_cached_per_identity_for_the_ttl(setup):
    gateway, invoker, clock = setup
    invoker.answers["AuthFn"] = ALLOW
    headers = {"Authorization": "Bearer same"}
    assert get(gateway, "/items/1", headers).status == 200
    invoker.answers["AuthFn"] = {"isAuthorized": False}  # e.g. the token was revoked meanwhile
    clock.now += 299
    assert get(gateway, "/items/2", headers).status == 200  # cached Allow, like API Gateway
    assert len(invoker.events("AuthFn")) == 1
    assert get(gateway, "/items/1", {"Authorization": "Bearer other"}).status == 403  # new identity
    assert len(invoker.events("AuthFn")) == 2
    clock.now += 2  # past the TTL of the first entry
    assert get(gateway, "/items/1", headers).status == 403
    assert len(invoker.events("AuthFn")) == 3


def test_unauthorized_is_not_cached(setup):
    gateway, invoker, _ = setup
    invoker.answers["AuthFn"] = InvocationError("Exception", "Unauthorized")
    headers = {"Authorization": "Bearer x"}
    assert get(gateway, "/items/1", headers).status == 401
    invoker.answers["AuthFn"] = ALLOW
    assert get(gateway, "/items/1", headers).status == 200
    assert len(invoker.events("AuthFn")) == 2


def test_zero_ttl_disables_caching(tmp_path):
    model = make_model(tmp_path, params={"Ttl": "0"})
    invoker = FakeInvoker()
    invoker.answers["AuthFn"] = ALLOW
    gateway = Gateway(model, invoker, domain_name="127.0.0.1:1", clock=Clock())
    for _ in range(3):
        assert get(gateway, "/items/1", {"Authorization": "Bearer t"}).status == 200
    assert len(invoker.events("AuthFn")) == 3


def test_iam_policy_responses(setup):
    gateway, invoker, _ = setup

    def policy(effect: str, resource: str) -> dict[str, Any]:
        return {
            "principalId": "alice",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": [resource]}],
            },
            "context": {"sub": "alice"},
        }

    headers = {"X-Api-Key": "k1"}
    invoker.answers["AuthFn"] = policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:*/$default/*")
    assert gateway.handle(HttpRequest("PUT", "/files/a/b", tuple(headers.items()))).status == 200
    assert invoker.events("Backend")[-1]["requestContext"]["authorizer"]["lambda"] == {
        "sub": "alice",
        "principalId": "alice",
    }
    invoker.answers["AuthFn"] = policy("Deny", "*")
    assert gateway.handle(HttpRequest("GET", "/files/x", (("X-Api-Key", "k2"),))).status == 403
    invoker.answers["AuthFn"] = policy(
        "Allow", "arn:aws:execute-api:us-east-1:123456789012:*/$default/GET/other"
    )
    assert gateway.handle(HttpRequest("GET", "/files/x", (("X-Api-Key", "k3"),))).status == 403
    invoker.answers["AuthFn"] = {"policyDocument": {}}  # no principalId: malformed
    assert gateway.handle(HttpRequest("GET", "/files/x", (("X-Api-Key", "k4"),))).status == 500


# ------------------------------------------------------------------ CORS
CORS = """    Properties:
      CorsConfiguration:
        AllowOrigins: [https://app.example]
        AllowMethods: [GET, POST]
        AllowHeaders: [authorization]
        MaxAge: 600
"""


def test_cors_preflight_and_response_headers(tmp_path):
    from tests.functional.local_stack.helpers import TEMPLATE

    text = TEMPLATE.replace(
        "    Type: AWS::Serverless::HttpApi\n    Properties:\n", "    Type: AWS::Serverless::HttpApi\n" + CORS
    )
    invoker = FakeInvoker()
    invoker.answers["Backend"] = {
        "statusCode": 200,
        "headers": {"Access-Control-Allow-Origin": "*"},
        "body": "x",
    }
    gateway = Gateway(make_model(tmp_path, text), invoker, domain_name="127.0.0.1:1", clock=Clock())
    preflight = gateway.handle(
        HttpRequest(
            "OPTIONS", "/me", (("Origin", "https://app.example"), ("Access-Control-Request-Method", "GET"))
        )
    )
    assert preflight.status == 204
    assert preflight.header("access-control-allow-origin") == "https://app.example"
    assert preflight.header("access-control-allow-methods") == "GET,POST"
    assert preflight.header("access-control-max-age") == "600"
    assert invoker.calls == []  # API Gateway answers preflights itself, before any authorizer
    ok = get(gateway, "/public", {"Origin": "https://app.example"})
    assert [v for k, v in ok.headers if k.lower() == "access-control-allow-origin"] == ["https://app.example"]
    other = get(gateway, "/public", {"Origin": "https://evil.example"})
    assert other.header("access-control-allow-origin") is None  # integrations' CORS headers are ignored


def _policy(effect: str, resource: str) -> dict[str, Any]:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
    return {"principalId": "alice", "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}


def test_iam_authorizer_answers_as_api_gateway_does(setup):
    """IAM-policy answers (the project template's choice): an ``Unauthorized`` failure is 401, a
    Deny 403, a cached policy is evaluated against each route; HTTP APIs have no gateway
    responses, so neither refusal carries a ``WWW-Authenticate`` header."""
    gateway, invoker, _ = setup
    invoker.answers["AuthFn"] = InvocationError("Exception", "Unauthorized")
    response = get(gateway, "/files/a", {"X-Api-Key": "bad"})
    assert (response.status, response.json()) == (401, {"message": "Unauthorized"})
    assert response.header("www-authenticate") is None
    invoker.answers["AuthFn"] = _policy("Deny", "arn:aws:execute-api:*")
    response = get(gateway, "/files/a", {"X-Api-Key": "scopeless"})
    assert (response.status, response.json()) == (403, {"message": "Forbidden"})
    assert response.header("www-authenticate") is None
    invoker.answers["AuthFn"] = _policy("Allow", "arn:aws:execute-api:*")
    assert get(gateway, "/files/a", {"X-Api-Key": "good"}).status == 200
    (backend_event,) = invoker.events("Backend")
    assert backend_event["requestContext"]["authorizer"]["lambda"]["principalId"] == "alice"
