"""The HTTP listener moves bytes faithfully between a socket and the gateway."""

from __future__ import annotations

import base64
import http.client

import pytest


def _echo_body(event):
    return {
        "statusCode": 201,
        "headers": {"x-echo": "1"},
        "cookies": ["a=1", "b=2"],
        "body": event.get("body", ""),
    }


@pytest.mark.parametrize("chunked", [False, True])
def test_request_and_response_over_a_socket(served, chunked):
    server, invoker = served
    invoker.answers["Backend"] = _echo_body
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = b"grant_type=password&username=demo"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if chunked:
        conn.request("POST", "/form", body=iter([body[:10], body[10:]]), headers=headers, encode_chunked=True)
    else:
        conn.request("POST", "/form", body=body, headers=headers)
    response = conn.getresponse()
    assert response.status == 201
    assert response.getheader("x-echo") == "1"
    assert response.headers.get_all("set-cookie") == ["a=1", "b=2"]
    assert base64.b64decode(response.read()) == body  # form bodies reach the function base64-encoded
    (event,) = invoker.events("Backend")
    assert event["requestContext"]["domainName"] == f"127.0.0.1:{server.port}"
    conn.close()
