"""The hosted pages' two cookies: the SSO session and the CSRF secret.

Both are ``HttpOnly`` (no script of ours reads them), ``SameSite=Lax`` (sent on the top-level
navigation from a client's site to ``/authorize``, which single sign-on needs, but not on a
cross-site ``POST``), ``Path=/`` and, on https, ``Secure`` with the ``__Host-`` prefix (the
browser then refuses the cookie unless it is Secure, host-only and ``Path=/``: a sibling
subdomain cannot plant or shadow it). Plain http (the local stack on 127.0.0.1) cannot carry a
``__Host-`` cookie, so there the names are bare.

Neither has ``Max-Age``: they end with the browser session; the SSO session's absolute and idle
limits are the server's to keep, whatever a browser keeps.

HTTP API payload 2.0 puts request cookies in ``event["cookies"]`` (``"name=value"`` strings) and
takes the response's ``Set-Cookie`` values as the response's ``cookies`` list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CookieJar", "request_cookies"]

#: what a cookie value of ours looks like (``secrets.token_urlsafe``); anything else is ignored
VALUE = re.compile(r"[A-Za-z0-9_-]{16,256}")


@dataclass(frozen=True)
class CookieJar:
    """The cookies' names and attributes for one scheme."""

    secure: bool

    @classmethod
    def for_issuer(cls, issuer: str, headers: Mapping[str, str] | None = None) -> CookieJar:
        """https when the issuer is (API Gateway answers on https only) or when the proxy in
        front says so (``X-Forwarded-Proto``); a header can only make the cookies stricter."""
        forwarded = (headers or {}).get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return cls(secure=issuer.startswith("https://") or forwarded == "https")

    @property
    def session_name(self) -> str:
        return "__Host-session" if self.secure else "session"

    @property
    def csrf_name(self) -> str:
        return "__Host-csrf" if self.secure else "csrf"

    def _attributes(self) -> str:
        return "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")

    def set(self, name: str, value: str) -> str:
        """A ``Set-Cookie`` value (``value`` must match :data:`VALUE`: nothing to quote)."""
        if not VALUE.fullmatch(value):
            raise ValueError("cookie value outside the token alphabet")
        return f"{name}={value}{self._attributes()}"

    def clear(self, name: str) -> str:
        """A ``Set-Cookie`` value that deletes the cookie (same name, path and attributes)."""
        return f"{name}={self._attributes()}; Max-Age=0"

    def read(self, event: Mapping[str, Any], name: str) -> str | None:
        """The value of cookie ``name`` in the request, if it has exactly one well-formed one."""
        found = request_cookies(event).get(name)
        return found if found is not None and VALUE.fullmatch(found) else None


def request_cookies(event: Mapping[str, Any]) -> dict[str, str]:
    """The request's cookies (payload 2.0 ``cookies``, else a ``Cookie`` header). A name sent
    twice (a cookie tossed in by a sibling domain next to ours) counts as absent: which one
    the browser meant cannot be told."""
    raw = event.get("cookies")
    items: list[str] = []
    if isinstance(raw, list):
        items = [c for c in raw if isinstance(c, str)]
    else:
        headers = event.get("headers")
        if isinstance(headers, Mapping):
            header = next((v for k, v in headers.items() if str(k).lower() == "cookie"), None)
            if isinstance(header, str):
                items = header.split(";")
    found: dict[str, str] = {}
    repeated: set[str] = set()
    for item in items:
        name, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if name in found:
            repeated.add(name)
        found[name] = value.strip()
    return {k: v for k, v in found.items() if k not in repeated}
