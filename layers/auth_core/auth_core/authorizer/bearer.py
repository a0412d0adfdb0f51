"""RFC 6750 §2.1 bearer credentials, parsed strictly.

``credentials = "Bearer" 1*SP b64token`` and ``b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" /
"~" / "+" / "/" ) *"="``. The scheme is case-insensitive (RFC 9110 §11.1); surrounding optional
whitespace is trimmed as HTTP parsers do (RFC 9110 §5.5), but a TAB between scheme and token, a
second token, a comma (two header values joined by a proxy), or any non-ASCII byte is rejected.
Why so strict: whatever we pass on is fed to the JWS parser, and a lenient split (``.split()``)
would make ``Bearer a b`` or ``Bearer a,Bearer b`` ambiguous (docs/threat-model.md T-HTTP-3..13).
"""

from __future__ import annotations

import re
from collections.abc import Container

from auth_core.errors import TokenError

__all__ = ["MAX_CREDENTIALS_LENGTH", "check_b64token", "parse_bearer"]

#: Longer header values are rejected before any regex runs (our tokens are < 2 KiB).
MAX_CREDENTIALS_LENGTH = 8192

_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)", re.ASCII)
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*", re.ASCII)
_OWS = " \t"


def parse_bearer(value: object, *, known: Container[str] = (), scan: bool = True) -> str:
    """Return the token of a ``Bearer`` credentials string.

    :param value: the raw header value (anything: events are untrusted).
    :param known: tokens that already passed this grammar (the verified-token cache): for
        those, the per-character ``b64token`` scan is skipped; the scheme and separator are
        still checked, so the accepted language is exactly the same.
    :param scan: ``False`` defers the ``b64token`` scan to the caller, who must run
        :func:`check_b64token` before acting on any rejection of the token. Only for tokens
        that go straight to a verifier whose accepted language is inside ``b64token`` (compact
        JWS: a token it accepts needs no scan; one it rejects gets the scan, so the
        ``bad_bearer`` verdict is the same as without deferral).
    :raises TokenError: ``missing_token`` when empty or not a string, ``bad_bearer`` otherwise.
    """
    if not isinstance(value, str):
        raise TokenError("no bearer credentials", reason="missing_token")
    credentials = value.strip(_OWS)
    if not credentials:
        raise TokenError("no bearer credentials", reason="missing_token")
    if len(value) > MAX_CREDENTIALS_LENGTH:
        raise TokenError("credentials too long", reason="bad_bearer")
    scheme = credentials[:6]
    if credentials[6:7] == " " and scheme.isascii() and scheme.lower() == "bearer":
        # Same language as _BEARER: ASCII "bearer" (any case), 1*SP, then b64token.
        candidate = credentials[7:].lstrip(" ")
        if not scan or candidate in known or _B64TOKEN.fullmatch(candidate) is not None:
            # ``candidate`` itself, not a regex group copy: its hash is already computed for
            # the cache lookups that follow.
            return candidate
        raise TokenError("not Bearer credentials", reason="bad_bearer")
    match = _BEARER.fullmatch(credentials)
    if match is None:
        raise TokenError("not Bearer credentials", reason="bad_bearer")
    return match.group(1)


def check_b64token(token: str) -> None:
    """The deferred half of :func:`parse_bearer` (``scan=False``): the ``b64token`` grammar.

    :raises TokenError: ``bad_bearer`` when ``token`` is not an RFC 6750 ``b64token``.
    """
    if _B64TOKEN.fullmatch(token) is None:
        raise TokenError("not Bearer credentials", reason="bad_bearer")
