"""What a browser sends and receives through the emulated HTTP API, over a real socket, exactly as
API Gateway (payload 2.0) passes it: cookies, form posts, redirects, HTML, repeated parameters.

The hosted sign-in pages depend on each of these: the SSO and CSRF cookies arrive as
``event["cookies"]`` and leave as one ``Set-Cookie`` each, the sign-in form arrives base64-encoded,
the answer is a 302 with ``Location`` (never followed by the gateway), pages are ``text/html``.
"""

from __future__ import annotations

import base64
import http.client
from typing import Any
from urllib.parse import parse_qs

from local_stack.apigw import HttpRequest
from local_stack.server import GatewayServer


def request(server: GatewayServer, method: str, target: str, body: bytes = b"", **headers: str) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest(method, target, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name.replace("_", "-"), value)
    if body:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body or None)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def test_sign_in_form_post_with_cookies_answered_by_a_redirect_that_sets_cookies(served):
    server, invoker = served
    invoker.answers["Backend"] = {
        "statusCode": 302,
        "headers": {"Location": "https://app.example.com/cb?code=abc&state=xyz", "Cache-Control": "no-store"},
        "cookies": [
            "__Host-session=s1; Path=/; Secure; HttpOnly; SameSite=Lax",
            "__Host-csrf=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
        ],
    }
    form = b"username=alice&password=p%C3%A4ss+word&csrf=t%2Bk%3D"
    response, data = request(
        server, "POST", "/form", form,
        Content_Type="application/x-www-form-urlencoded", Cookie="csrf=t+k=; session=old",
    )  # fmt: skip
    assert response.status == 302  # passed through, never followed
    assert response.getheader("Location") == "https://app.example.com/cb?code=abc&state=xyz"
    assert response.headers.get_all("Set-Cookie") == [
        "__Host-session=s1; Path=/; Secure; HttpOnly; SameSite=Lax",
        "__Host-csrf=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
    ]
    assert data == b""
    (event,) = invoker.events("Backend")
    assert event["cookies"] == ["csrf=t+k=", "session=old"]  # as sent: no decoding, no reordering
    assert "cookie" not in event["headers"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == form
    assert parse_qs(base64.b64decode(event["body"]).decode()) == {
        "username": ["alice"], "password": ["päss word"], "csrf": ["t+k="],
    }  # fmt: skip


def test_two_cookie_headers_become_one_list(served):
    server, invoker = served
    request(server, "GET", "/public", Cookie="a=1; b=2")
    gateway = server.gateway
    gateway.handle(HttpRequest("GET", "/public", (("Cookie", "a=1"), ("cookie", "b=2; c=3"))))
    assert [e["cookies"] for e in invoker.events("Backend")] == [["a=1", "b=2"], ["a=1", "b=2", "c=3"]]


def test_no_cookie_header_means_no_cookies_key(served):
    server, invoker = served
    request(server, "GET", "/public")
    (event,) = invoker.events("Backend")
    assert "cookies" not in event


def test_html_pages_and_their_headers_pass_through(served):
    server, invoker = served
    page = "<!doctype html><title>Sign in</title><p>Café</p>"
    invoker.answers["Backend"] = {
        "statusCode": 200,
        "headers": {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
            "Referrer-Policy": "no-referrer",
        },
        "body": page,
    }
    response, data = request(server, "GET", "/public")
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert response.getheader("Content-Security-Policy") == "default-src 'none'; frame-ancestors 'none'"
    assert response.getheader("Referrer-Policy") == "no-referrer"
    assert data.decode("utf-8") == page


def test_a_base64_response_body_is_decoded(served):
    server, invoker = served
    invoker.answers["Backend"] = {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "isBase64Encoded": True,
        "body": base64.b64encode(b"\x89PNG\r\n").decode(),
    }
    _, data = request(server, "GET", "/public")
    assert data == b"\x89PNG\r\n"


def test_repeated_query_parameters_as_api_gateway_gives_them(served):
    """``rawQueryString`` byte for byte; ``queryStringParameters`` decoded, repeats comma-joined
    (so a handler that must refuse a repeated ``redirect_uri`` reads ``rawQueryString``)."""
    server, invoker = served
    target = "/public?scope=openid+profile&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=1&state=2&x="
    request(server, "GET", target)
    (event,) = invoker.events("Backend")
    assert event["rawQueryString"] == target.partition("?")[2]
    assert event["queryStringParameters"] == {
        "scope": "openid profile",
        "redirect_uri": "https://a.example/cb",
        "state": "1,2",
        "x": "",
    }
