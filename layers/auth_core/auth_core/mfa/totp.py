"""TOTP (RFC 6238) as authenticator apps expect it: HMAC-SHA-1, 6 digits, 30-second steps.

Secrets are 160 random bits (RFC 4226 §4 recommends 160), shown to the user base32-encoded
(without padding) and in an ``otpauth://totp/`` URI (the de-facto Key Uri Format of Google
Authenticator, which every app reads from a QR code).

:func:`matching_step` accepts a code from the current step or one step either side (RFC 6238
§5.2: one step of network delay and clock drift), and returns *which* step matched: the caller
accepts it only if it is later than the last step this user ever used (a conditional write),
so a code -- a time step -- works once (replay protection, RFC 6238 §5.2).
"""

from __future__ import annotations

import base64
import hmac
import secrets
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

__all__ = ["DIGITS", "STEP", "WINDOW", "decode_secret", "matching_step", "new_secret", "otpauth_uri"]

DIGITS = 6
STEP = 30
#: steps accepted either side of the current one
WINDOW = 1
SECRET_BYTES = 20  # 160 bits


def new_secret() -> str:
    """A fresh secret, base32 without padding (what the user types if the QR code cannot be read)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def decode_secret(secret: str) -> bytes:
    """The key bytes of a base32 secret (padding optional, case-insensitive)."""
    text = secret.strip().upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _totp(secret: str) -> TOTP:
    # RFC 6238 HMAC-SHA-1: what authenticator apps implement; HMAC-SHA-1 is not broken (RFC 6151)
    return TOTP(decode_secret(secret), DIGITS, SHA1(), STEP, enforce_key_length=False)  # noqa: S303


def code_at(secret: str, step: int) -> str:
    """The code of ``step`` (tests and the browser test compute codes the same way)."""
    return _totp(secret).generate(step * STEP).decode("ascii")


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The step (``floor(time / 30)``) within ±:data:`WINDOW` of ``now`` whose code is ``code``,
    or ``None``. Every candidate is compared in constant time, and all are computed."""
    candidate = code.strip().replace(" ", "")
    if len(candidate) != DIGITS or not candidate.isascii() or not candidate.isdigit():
        return None
    totp = _totp(secret)
    current = int(now) // STEP
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        expected = totp.generate(step * STEP)
        if hmac.compare_digest(expected, candidate.encode("ascii")) and found is None:
            found = step
    return found


def otpauth_uri(secret: str, *, issuer: str, account: str) -> str:
    """``otpauth://totp/{issuer}:{account}?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30``."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP}
    )
    return f"otpauth://totp/{label}?{query}"
