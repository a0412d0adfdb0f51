"""Token response bodies (RFC 6749 §5.1), built once as text.

The body is produced as a string, not a dict, because the grace window must be able to replay
it byte for byte: what is sealed is exactly what was sent.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["token_body"]


def token_body(issued: Any, refresh_token: str | None = None) -> str:
    """``{access_token, token_type, expires_in[, refresh_token], scope[, id_token]}`` as compact JSON.

    :param issued: an ``IssuedToken`` (``token``, ``expires_in``, ``scope``), or one with an
        ``id_token`` (``oauth.id_token.IssuedWithIdToken``: OpenID Connect Core §3.1.3.3).
    """
    body: dict[str, Any] = {
        "access_token": issued.token,
        "token_type": getattr(issued, "token_type", "Bearer"),
        "expires_in": int(issued.expires_in),
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    body["scope"] = " ".join(issued.scope)
    id_token = getattr(issued, "id_token", None)
    if isinstance(id_token, str):
        body["id_token"] = id_token
    return json.dumps(body, separators=(",", ":"))
