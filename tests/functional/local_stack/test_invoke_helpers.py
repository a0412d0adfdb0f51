"""``auth-local invoke`` helpers: event placeholders and the local domain."""

from __future__ import annotations

import json

import pytest

from local_stack.apigw import InvocationError
from local_stack.invoke import fill_placeholders, local_domain


def test_placeholders_are_filled_json_safely_and_tokens_minted_lazily():
    minted: list[int] = []

    def mint() -> dict[str, str]:
        minted.append(1)
        return {"access_token": 'tok"with\\quotes'}

    text = '{"h": "Bearer {{access_token}}", "u": "{{ username }}"}'
    event = json.loads(fill_placeholders(text, {"username": "demo"}, mint=mint))
    assert event == {"h": 'Bearer tok"with\\quotes', "u": "demo"}
    assert minted == [1]
    assert fill_placeholders('{"a": 1}', {}, mint=mint) == '{"a": 1}'
    assert minted == [1]  # no token placeholder: nothing minted


def test_unknown_placeholder_is_an_error():
    with pytest.raises(InvocationError, match="nope"):
        fill_placeholders('"{{nope}}"', {})


def test_local_domain_rewrites_api_gateway_events_only():
    event = {
        "headers": {"Host": "abc.execute-api.us-east-1.amazonaws.com"},
        "requestContext": {"domainName": "abc.execute-api.us-east-1.amazonaws.com", "domainPrefix": "abc"},
    }
    local_domain(event, "127.0.0.1:3000")
    assert event["requestContext"]["domainName"] == "127.0.0.1:3000"
    assert event["headers"]["Host"] == "127.0.0.1:3000"
    rotation = {"Step": "createSecret"}
    assert local_domain(dict(rotation), "127.0.0.1:3000") == rotation
