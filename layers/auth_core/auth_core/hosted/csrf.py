"""Form tokens against cross-site request forgery, bound to the authorization request.

Double submit, signed: the browser holds a random secret in the CSRF cookie (``HttpOnly``,
``SameSite=Lax``, ``__Host-`` on https: another site can neither read nor set it); each form
carries ``base64url(HMAC-SHA256(key=secret, msg=canonical(form_fields)))``. A forged ``POST``
lacks the secret, so it cannot compute the token; a token lifted from one request's page does not
fit another request's fields, so an attacker's own authorization request cannot be slipped under
a victim's form. Nothing is stored on the server.

The check runs before anything else on a ``POST``: a missing or wrong token is an error page,
never a sign-in attempt (which would count against the user's login throttle).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping

from auth_core._b64 import b64url_encode

__all__ = ["FIELD", "form_token", "new_secret", "verify"]

#: the form field that carries the token
FIELD = "csrf_token"


def new_secret() -> str:
    """A fresh cookie value: 256 random bits."""
    return secrets.token_urlsafe(32)


def canonical(fields: Mapping[str, str]) -> bytes:
    """One byte string per set of fields, whatever their order: a sorted JSON list of pairs (no
    separator inside a value can make two sets encode alike)."""
    return json.dumps(sorted(fields.items()), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def form_token(secret: str, fields: Mapping[str, str]) -> str:
    """The token a page puts in its form for ``fields`` (the request's ``form_fields``)."""
    mac = hmac.new(secret.encode("utf-8"), canonical(fields), hashlib.sha256).digest()
    return b64url_encode(mac)


def verify(secret: str | None, token: str | None, fields: Mapping[str, str]) -> bool:
    """The posted ``token`` is the one for ``fields`` under the cookie's ``secret`` (constant
    time); anything missing is a mismatch."""
    if not secret or not token:
        return False
    return hmac.compare_digest(form_token(secret, fields).encode("ascii"), token.encode("utf-8"))
