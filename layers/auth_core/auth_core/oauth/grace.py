"""The retry-safe grace window: the rotated response, sealed so the table never holds a usable token.

When a refresh token is rotated, the successor response (access token + new refresh token) is
stored on the *parent* token's item so that a client retrying within the grace window (its first
response was lost) gets the byte-identical pair instead of a reuse alarm. Storing that response
in clear would put live tokens in the table; storing only hashes could not reproduce the bytes.

So the response is encrypted with Fernet (AES-128-CBC + HMAC-SHA256, authenticated) under a key
derived by HKDF-SHA256 (RFC 5869) from the parent refresh token itself. The table holds only
SHA-256(parent), from which the key cannot be derived: only a caller who presents the parent
token can open the blob, and that caller is by definition the one allowed to retry.

HKDF is written out with :mod:`hmac` (it is two HMAC calls) and Fernet is ``cryptography``'s
high-level recipe, so this module stays outside the ``hazmat`` boundary.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["hkdf_sha256", "open_response", "seal_response"]

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


def _fernet(parent_token: str, token_hash: str) -> Fernet:
    key = hkdf_sha256(parent_token.encode("ascii"), salt=_SALT, info=token_hash.encode("ascii"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal_response(parent_token: str, token_hash: str, body: str) -> str:
    """Encrypt ``body`` (the exact response text) for the holder of ``parent_token``."""
    return _fernet(parent_token, token_hash).encrypt(body.encode("utf-8")).decode("ascii")


def open_response(parent_token: str, token_hash: str, blob: str) -> str | None:
    """The sealed response text, or ``None`` if ``blob`` does not open with this token."""
    try:
        return _fernet(parent_token, token_hash).decrypt(blob.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None
