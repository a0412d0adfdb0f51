"""GET /me echoes the authorizer context (payload 2.0) and never caches it."""

from __future__ import annotations

import json

from functions.me import app
from tests.conftest import load_event


def test_me_returns_the_authorizer_context(lambda_context) -> None:
    response = app.lambda_handler(load_event("me_authorized.json"), lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    assert response["headers"]["Content-Type"] == "application/json"
    assert (
        json.loads(response["body"])
        == load_event("me_authorized.json")["requestContext"]["authorizer"]["lambda"]
    )


def test_me_without_authorizer_context_is_401(lambda_context) -> None:
    response = app.lambda_handler(load_event("me_unauthorized.json"), lambda_context)
    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {"error": "invalid_token"}
    assert response["headers"]["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_me_with_empty_or_odd_context_is_401(lambda_context) -> None:
    for value in ({}, {"sub": ""}, "alice", None):
        event = load_event("me_authorized.json")
        event["requestContext"]["authorizer"]["lambda"] = value
        assert app.lambda_handler(event, lambda_context)["statusCode"] == 401
