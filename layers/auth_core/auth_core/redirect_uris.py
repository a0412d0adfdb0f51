"""Redirect URIs: what a client may register, and whether a presented one is registered.

The authorization endpoint sends codes to a client's redirect URI, so a URI that matches more
than it should is an open redirect that leaks codes (RFC 9700 §4.1). The rules:

**Registration** (:func:`check_redirect_uri`, used by ``authctl clients create`` and the
clients store): an absolute URI without a fragment (RFC 6749 §3.1.2) and without user
information, no longer than :data:`MAX_LENGTH`, in one of three forms (RFC 8252 §7):

- ``https://host/path`` -- web applications;
- ``http://127.0.0.1/path`` or ``http://[::1]/path`` -- native apps' loopback redirects (RFC 8252
  §7.3; ``localhost`` is refused, §8.3: it can resolve elsewhere);
- ``com.example.app:/path`` -- a private-use scheme (RFC 8252 §7.1): a reverse domain name, so
  the scheme contains a period. Registering one is the per-client opt-in.

Plain ``http`` to any other host is refused, as are schemes such as ``javascript`` or ``data``
(no period, not ``https``).

**Matching** (:func:`redirect_uri_matches`): simple string comparison with the registered URI
(RFC 9700 §4.1.3: no prefix, no wildcard, no normalisation), with one exception: a loopback
redirect may differ in its port alone (RFC 8252 §7.3; native apps bind an ephemeral port).
The presented URI is then rebuilt from the registered one with the presented port and compared
as a string, so a look-alike (``http://127.0.0.1.evil.example/``, ``http://127.0.0.1@evil/``,
a different path, case or encoding) never matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from auth_core.errors import InvalidRequestError

__all__ = ["MAX_LENGTH", "check_redirect_uri", "check_redirect_uris", "is_loopback", "redirect_uri_matches"]

#: Longest redirect URI accepted at registration (and compared at all).
MAX_LENGTH = 2000

_LOOPBACK_HOSTS = ("127.0.0.1", "[::1]")
#: ``http://<loopback>[:port]<rest>``: the host literal, the optional port, and the rest
_LOOPBACK = re.compile(r"http://(127\.0\.0\.1|\[::1\])(?::([0-9]{1,5}))?([/?].*)?", re.DOTALL)
#: RFC 3986 scheme syntax, with at least one period (a reverse domain name, RFC 8252 §7.1)
_PRIVATE_SCHEME = re.compile(r"[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _refuse(uri: str, why: str) -> InvalidRequestError:
    shown = uri if len(uri) <= 80 else uri[:77] + "..."
    return InvalidRequestError(f"redirect URI {shown!r} refused: {why}", reason="redirect_uri")


def is_loopback(uri: str) -> bool:
    """``uri`` is an ``http`` loopback redirect (``127.0.0.1`` or ``[::1]``, any port)."""
    return _LOOPBACK.fullmatch(uri) is not None


def check_redirect_uri(uri: str) -> str:
    """``uri`` if a client may register it (see the module docstring), unchanged.

    :raises InvalidRequestError: it may not (``reason="redirect_uri"``), saying why.
    """
    if not uri or len(uri) > MAX_LENGTH:
        raise _refuse(uri, f"empty or longer than {MAX_LENGTH} characters")
    if _CONTROL.search(uri):
        raise _refuse(uri, "contains spaces or control characters")
    if "#" in uri:
        raise _refuse(uri, "a redirect URI has no fragment (RFC 6749 §3.1.2)")
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise _refuse(uri, "not a URI") from None
    scheme = parts.scheme  # urlsplit lower-cases it: compare with the URI as written
    if not scheme or not uri.startswith(scheme + ":"):
        raise _refuse(uri, "an absolute URI with a lower-case scheme is required")
    if "@" in parts.netloc:
        raise _refuse(uri, "user information is not allowed")
    if scheme == "https":
        if not parts.hostname:
            raise _refuse(uri, "https needs a host")
        return uri
    if scheme == "http":
        if parts.netloc.split(":")[0] == "localhost" or parts.hostname == "localhost":
            raise _refuse(uri, "use http://127.0.0.1 or http://[::1], not localhost (RFC 8252 §8.3)")
        if not is_loopback(uri):
            raise _refuse(uri, "plain http is allowed only for loopback redirects (RFC 8252 §7.3)")
        return uri
    if _PRIVATE_SCHEME.fullmatch(scheme):
        return uri
    raise _refuse(uri, "use https, a loopback http URI, or a private-use scheme such as com.example.app:/cb")


def check_redirect_uris(uris: Iterable[str]) -> tuple[str, ...]:
    """Every URI checked (:func:`check_redirect_uri`), duplicates removed, order kept."""
    return tuple(dict.fromkeys(check_redirect_uri(u) for u in uris))


def redirect_uri_matches(registered: Iterable[str], presented: str) -> bool:
    """``presented`` is one of ``registered``: exactly, or a loopback one with another port."""
    if not presented or len(presented) > MAX_LENGTH:
        return False
    found = False
    loopback = _LOOPBACK.fullmatch(presented)
    for uri in registered:
        if uri == presented:
            found = True
        elif loopback is not None:
            mine = _LOOPBACK.fullmatch(uri)
            if mine is None:
                continue
            port = loopback.group(2)
            if port is not None and not 0 < int(port) < 65536:
                continue
            rebuilt = f"http://{mine.group(1)}" + (f":{port}" if port else "") + (mine.group(3) or "")
            if rebuilt == presented and mine.group(1) in _LOOPBACK_HOSTS:
                found = True
    return found
