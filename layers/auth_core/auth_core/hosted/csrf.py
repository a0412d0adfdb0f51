"""Form tokens against cross-site request forgery, bound to the authorization request.

Double submit, signed: the browser holds a random secret in the CSRF cookie (``HttpOnly``,
``SameSite=Lax``, ``__Host-`` on https: another site can neither read nor set it); each form
carries ``base64url(HMAC-SHA256(key=secret, msg=canonical(form_fields)))``. A forged ``POST``
lacks the secret, so it cannot compute the token; a token lifted from one request's page does not
fit another request's fields, so an attacker's own authorization request cannot be slipped under
a victim's form. Nothing is stored on the server.

Each token also names its page's **purpose** (:data:`SIGN_IN`, :data:`CONSENT`, :data:`LOGOUT`)
and, for the pages shown to a signed-in browser, the SSO session (``sid``) it was shown for:
a sign-in page's token cannot be posted as a consent's Allow (which would skip the password a
``prompt=login`` or ``max_age`` asked for), and a consent or logout confirmation shown for one
session cannot act on another.

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

__all__ = ["CONSENT", "FIELD", "LOGOUT", "MFA", "SIGN_IN", "form_token", "new_secret", "verify"]

#: the form field that carries the token
FIELD = "csrf_token"
#: the pages' purposes
SIGN_IN, CONSENT, LOGOUT = "sign_in", "consent", "logout"
#: the second factor's page (its token is bound to the pending sign-in's ticket)
MFA = "mfa"


def new_secret() -> str:
    """A fresh cookie value: 256 random bits."""
    return secrets.token_urlsafe(32)


def canonical(fields: Mapping[str, str], purpose: str = "", session: str = "") -> bytes:
    """One byte string per purpose, session and set of fields, whatever the fields' order: a
    JSON list of the purpose, the session and the sorted pairs (no separator inside a value can
    make two inputs encode alike)."""
    document = [purpose, session, sorted(fields.items())]
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def form_token(secret: str, purpose: str, fields: Mapping[str, str], *, session: str = "") -> str:
    """The token a ``purpose`` page puts in its form for ``fields`` (the request's
    ``form_fields``), shown to the SSO session ``session`` (its ``sid``; empty: none)."""
    mac = hmac.new(secret.encode("utf-8"), canonical(fields, purpose, session), hashlib.sha256).digest()
    return b64url_encode(mac)


def verify(
    secret: str | None, token: str | None, purpose: str, fields: Mapping[str, str], *, session: str = ""
) -> bool:
    """The posted ``token`` is the one a ``purpose`` page for ``fields`` and ``session`` got
    under the cookie's ``secret`` (constant time); anything missing is a mismatch."""
    if not secret or not token:
        return False
    expected = form_token(secret, purpose, fields, session=session)
    return hmac.compare_digest(expected.encode("ascii"), token.encode("utf-8"))
