"""The ``/demo/`` single-page app: served by the local stack only, with the right content types
and a Content-Security-Policy it can live with (no inline script or style, everything ``'self'``).

Its behaviour in a browser (sign in with PKCE, /me, refresh, sign out) is for the browser tests;
here: what is served, how, and what the page is allowed to do.
"""

from __future__ import annotations

import http.client
import re

import pytest

from local_stack.apigw import HttpRequest
from local_stack.demo_site import CSP, DEMO_REDIRECT_URI, ROOT, demo_response


def get(target: str, method: str = "GET"):
    response = demo_response(HttpRequest(method, target))
    assert response is not None
    return response


@pytest.mark.parametrize(
    ("target", "content_type"),
    [
        ("/demo/", "text/html; charset=utf-8"),
        ("/demo/?code=abc&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A3000", "text/html; charset=utf-8"),
        ("/demo/index.html", "text/html; charset=utf-8"),
        ("/demo/app.js", "text/javascript; charset=utf-8"),
        ("/demo/app.css", "text/css; charset=utf-8"),
    ],
)
def test_files_are_served_with_their_content_types_and_security_headers(target, content_type):
    response = get(target)
    assert response.status == 200
    assert response.header("content-type") == content_type
    assert response.header("x-content-type-options") == "nosniff"
    assert response.header("referrer-policy") == "no-referrer"  # the URL carries a code for a moment
    assert response.header("cache-control") == "no-store"
    csp = response.header("content-security-policy")
    assert csp == CSP and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp


def test_everything_else_is_not_the_demos():
    assert demo_response(HttpRequest("GET", "/token")) is None
    assert demo_response(HttpRequest("GET", "/demonstration")) is None
    assert get("/demo").status == 301 and get("/demo").header("location") == "/demo/"
    assert get("/demo/../template.yaml").status == 404  # a fixed list of files, no file system paths
    assert get("/demo/secret.txt").status == 404
    assert get("/demo/", "POST").status == 405


def test_the_page_needs_no_inline_code_and_loads_nothing_external():
    html = (ROOT / "index.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.DOTALL | re.IGNORECASE)
    assert scripts == [""]  # one script element, with a src, no body
    assert '<script src="app.js" defer></script>' in html
    assert '<link rel="stylesheet" href="app.css">' in html  # a file: the CSP allows no inline style
    assert "<style" not in html.lower() and " style=" not in html.lower()
    assert not re.search(r"\son[a-z]+=", html, re.IGNORECASE)  # no inline event handlers
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from elsewhere


def test_the_script_does_pkce_s256_and_keeps_tokens_out_of_local_storage():
    js = (ROOT / "app.js").read_text()
    assert "localStorage" not in js
    assert "sessionStorage" in js  # the verifier, state and nonce, for the round trip only
    assert 'code_challenge_method: "S256"' in js and 'crypto.subtle.digest("SHA-256"' in js
    assert "crypto.getRandomValues" in js and "Math.random" not in js
    for checked in (
        'params.get("state") !== pending.state',
        'params.get("iss") !== config.issuer',
        "claims.nonce !== pending.nonce",
    ):
        assert checked in js
    for step in (
        'grant_type: "authorization_code"',
        'grant_type: "refresh_token"',
        "/me`",
        "id_token_hint",
        "post_logout_redirect_uri",
    ):
        assert step in js
    assert "eval(" not in js and "innerHTML" not in js  # output goes in as text


def test_the_script_binds_tokens_to_a_non_extractable_key_when_the_api_takes_dpop():
    js = (ROOT / "app.js").read_text()
    generate = 'crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])'
    assert generate in js  # extractable: false
    assert "indexedDB" in js and "dpop_jkt" in js and '"use_dpop_nonce"' in js
    assert 'fetch("config.json")' in js


def test_the_config_says_whether_the_api_takes_dpop():
    import json

    assert json.loads(get("/demo/config.json").body) == {"api_dpop": "off"}
    answer = demo_response(HttpRequest("GET", "/demo/config.json"), {"api_dpop": "optional"})
    assert answer is not None and json.loads(answer.body) == {"api_dpop": "optional"}
    assert answer.header("content-security-policy") == CSP


def test_the_registered_redirect_is_the_loopback_page():
    from auth_core.redirect_uris import check_redirect_uri, redirect_uri_matches

    assert check_redirect_uri(DEMO_REDIRECT_URI) == DEMO_REDIRECT_URI
    assert redirect_uri_matches([DEMO_REDIRECT_URI], "http://127.0.0.1:3000/demo/")  # any port
    assert not redirect_uri_matches([DEMO_REDIRECT_URI], "http://localhost:3000/demo/")


def test_served_beside_the_gateway_over_a_socket(served):
    server, invoker = served
    server.static = demo_response
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/demo/app.js")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/javascript; charset=utf-8"
    assert response.read() == (ROOT / "app.js").read_bytes()
    conn.request("GET", "/public")  # everything else still goes through the gateway
    assert conn.getresponse().read() == b"ok"
    conn.close()
    assert [f for f, _ in invoker.calls] == ["Backend"]
