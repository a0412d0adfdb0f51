"""Token response bodies (RFC 6749 §5.1), built once as text.

The body is produced as a string, not a dict, because the grace window must be able to replay
it byte for byte: what is sealed is exactly what was sent.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["token_body"]


def token_body(issued: Any, refresh_token: str | None = None) -> str:
    """``{access_token, token_type, expires_in[, refresh_token], scope}`` as compact JSON.

    :param issued: an ``IssuedToken`` (``token``, ``expires_in``, ``scope``).
    """
    body: dict[str, Any] = {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": int(issued.expires_in),
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    body["scope"] = " ".join(issued.scope)
    return json.dumps(body, separators=(",", ":"))
