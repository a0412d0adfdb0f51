"""The example single-page app at ``/demo/``: served by the local stack only, never deployed.

A static page, one script and one stylesheet (``local_stack/demo_app/``) that sign a user in
the way a browser app should: the authorization code flow with PKCE (S256, Web Crypto),
``state`` and ``iss`` checked, the code exchanged at ``/token`` by the public client ``demo-spa``
(seeded by the stack), the ID token's claims shown, ``GET /me`` called, the refresh token
rotated, and RP-initiated logout. The stylesheet lets the page reflow at 320 px.

DPoP (RFC 9449): when the stack's API takes DPoP (``AuthorizerDpop`` not ``off``), the page binds
its tokens to a non-extractable P-256 key (Web Crypto, kept in IndexedDB for the sign-in round
trip), names it in the authorization request (``dpop_jkt``) and signs a proof for every call to
``/token`` and ``/me``. ``/demo/config.json`` tells it which: the only thing the page cannot know.

It is served from the API's own origin (``http://127.0.0.1:<port>/demo/``), so the calls to
``/token`` and ``/me`` are same-origin and need no CORS. It is not an API Gateway route: the
template does not deploy it, so it sits beside the gateway emulation, not inside it.

Headers: a ``Content-Security-Policy`` without ``unsafe-inline`` (the page has no inline script or
style; everything it loads and calls is ``'self'``), ``frame-ancestors 'none'``,
``Referrer-Policy: no-referrer`` (the page's URL carries the code for a moment),
``Cache-Control: no-store``, ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from local_stack.apigw import HttpRequest, HttpResponse

__all__ = ["DEMO_CLIENT_ID", "DEMO_PATH", "DEMO_REDIRECT_URI", "FILES", "demo_response"]

DEMO_PATH = "/demo/"
#: the seeded public client the page signs in with
DEMO_CLIENT_ID = "demo-spa"
#: registered for ``demo-spa``: a loopback redirect, so any port of the local stack matches
DEMO_REDIRECT_URI = "http://127.0.0.1/demo/"
ROOT = Path(__file__).resolve().parent / "demo_app"
#: path below ``/demo/`` -> (file, content type)
FILES = {
    "": ("index.html", "text/html; charset=utf-8"),
    "index.html": ("index.html", "text/html; charset=utf-8"),
    "app.js": ("app.js", "text/javascript; charset=utf-8"),
    "app.css": ("app.css", "text/css; charset=utf-8"),
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    ("content-security-policy", CSP),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
]


#: the page's settings, at ``/demo/config.json``
CONFIG = "config.json"


def demo_response(request: HttpRequest, config: Mapping[str, str] | None = None) -> HttpResponse | None:
    """The demo's answer to ``request``, or ``None`` when it is not for ``/demo``.

    :param config: what ``/demo/config.json`` answers (``api_dpop``: the API's ``AuthorizerDpop``).
    """
    path = request.target.partition("?")[0]
    if path == DEMO_PATH + CONFIG and request.method.upper() in ("GET", "HEAD"):
        body = json.dumps(dict(config or {"api_dpop": "off"})).encode()
        return HttpResponse(200, [("content-type", "application/json"), *HEADERS], body)
    if path == DEMO_PATH.rstrip("/"):
        return HttpResponse(301, [("location", DEMO_PATH), ("cache-control", "no-store")])
    if not path.startswith(DEMO_PATH):
        return None
    found = FILES.get(path.removeprefix(DEMO_PATH))
    if found is None:
        return HttpResponse(404, [("content-type", "text/plain; charset=utf-8"), *HEADERS], b"not found\n")
    if request.method.upper() not in ("GET", "HEAD"):
        return HttpResponse(405, [("allow", "GET, HEAD"), *HEADERS])
    name, content_type = found
    return HttpResponse(200, [("content-type", content_type), *HEADERS], (ROOT / name).read_bytes())
