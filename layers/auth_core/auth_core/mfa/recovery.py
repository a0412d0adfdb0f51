"""Recovery codes: ten single-use look-up secrets (NIST SP 800-63B §5.1.2), shown once at enrolment.

Each code is 12 base32 characters (60 random bits), shown as ``xxxx-xxxx-xxxx``; typing is
forgiving (case, spaces and dashes are ignored). Only a keyed hash is stored:
HMAC-SHA-256 keyed by the user's id. A fast hash is enough here (unlike passwords): 60 random
bits cannot be guessed offline from a leaked hash in any useful time (2^60 HMACs per code and
user), and online guessing goes through the login throttle. The key (the user id) makes every
user's hashes distinct, so no table precomputed for one user fits another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["COUNT", "hash_code", "looks_like_recovery_code", "new_codes", "normalize"]

COUNT = 10
_CHARS = 12
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def new_codes(count: int = COUNT) -> list[str]:
    """``count`` fresh codes, formatted for display."""
    out = []
    for _ in range(count):
        raw = base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:_CHARS].lower()
        out.append(f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}")
    return out


def normalize(code: str) -> str:
    """The code as hashed: upper case, no spaces or dashes."""
    return code.replace("-", "").replace(" ", "").strip().upper()


def looks_like_recovery_code(code: str) -> bool:
    text = normalize(code)
    return len(text) == _CHARS and set(text) <= _ALPHABET


def hash_code(subject: str, code: str) -> str:
    """HMAC-SHA-256(key = the user's id, the normalized code), hex."""
    return hmac.new(subject.encode("utf-8"), normalize(code).encode("ascii"), hashlib.sha256).hexdigest()
