"""The retry-safe grace window: the rotated response, sealed so the table never holds a usable token.

When a refresh token is rotated, the successor response (access token + new refresh token) is
stored on the *parent* token's item so that a client retrying within the grace window (its first
response was lost) gets the byte-identical pair instead of a reuse alarm. Storing that response
in clear would put live tokens in the table; storing only hashes could not reproduce the bytes.

So the response is encrypted with Fernet (AES-128-CBC + HMAC-SHA256, authenticated) under a key
derived by HKDF-SHA256 (RFC 5869) from the parent refresh token **and a server-side secret**
(the ``grace_secret`` of the signing-key set, which lives in Secrets Manager, not in the
table). The table holds only SHA-256(parent): only a caller who presents the parent token *to
the service* can open the blob, and that caller is by definition the one allowed to retry. A
copy of the sessions table plus an old refresh token opens nothing; and since the blob lives on
the child and is removed when the child is used, there is never a chain to follow.

``origin`` binds a retry to where the first request came from: a keyed hash of the client id
and the source address, compared in constant time, so a thief replaying a stolen token from
elsewhere within the window is caught as reuse instead of being handed the victim's pair
(docs/threat-model.md T-REF-1).

HKDF is written out with :mod:`hmac` (it is two HMAC calls) and Fernet is ``cryptography``'s
high-level recipe, so this module stays outside the ``hazmat`` boundary. Fernet (with the AES
and padding modules under it) is imported on the first seal or open: only a refresh rotation
needs it, and every function that imports the token service -- ``/token``, ``/revoke``,
``/introspect`` -- would otherwise pay for it at cold start (issue 11).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

__all__ = ["hkdf_sha256", "open_response", "origin_matches", "origin_tag", "seal_response"]

_SALT = b"auth_core/refresh-grace/v1"


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 HKDF with SHA-256 (extract then expand)."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def _fernet(parent_token: str, token_hash: str, pepper: bytes) -> Fernet:
    from cryptography.fernet import Fernet  # noqa: PLC0415 - only a refresh rotation needs it

    key = hkdf_sha256(parent_token.encode("ascii") + pepper, salt=_SALT, info=token_hash.encode("ascii"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal_response(parent_token: str, token_hash: str, body: str, *, pepper: bytes = b"") -> str:
    """Encrypt ``body`` (the exact response text) for the holder of ``parent_token``."""
    return _fernet(parent_token, token_hash, pepper).encrypt(body.encode("utf-8")).decode("ascii")


def open_response(parent_token: str, token_hash: str, blob: str, *, pepper: bytes = b"") -> str | None:
    """The sealed response text, or ``None`` if ``blob`` does not open with this token."""
    from cryptography.fernet import InvalidToken  # noqa: PLC0415 - loaded with Fernet

    try:
        return _fernet(parent_token, token_hash, pepper).decrypt(blob.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None


def origin_tag(parent_token: str, client_id: str, source_ip: str | None) -> str:
    """Where a refresh came from, as a keyed hash (no address is stored in clear)."""
    message = f"{client_id}\n{source_ip or ''}".encode()
    return hmac.new(parent_token.encode("ascii"), message, hashlib.sha256).hexdigest()


def origin_matches(tag: str, parent_token: str, client_id: str, source_ip: str | None) -> bool:
    """Does a retry come from where the original request came from? (constant time)"""
    return hmac.compare_digest(tag, origin_tag(parent_token, client_id, source_ip))
