"""Proof Key for Code Exchange (RFC 7636), ``S256`` only.

``plain`` is refused (RFC 9700 §2.1.1: the challenge must not reveal the verifier, and every
client can compute SHA-256). Both halves are checked for shape before anything else: the
challenge at ``/authorize`` (43 base64url characters: exactly a SHA-256 digest, §4.2), the
verifier at ``/token`` (43-128 characters of the unreserved set, §4.1). The comparison at
``/token`` is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from auth_core._b64 import b64url_encode

__all__ = ["S256", "challenge_of", "is_valid_challenge", "is_valid_verifier", "verify"]

S256 = "S256"

#: RFC 7636 §4.1: ``code-verifier = 43*128unreserved``, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
#: RFC 7636 §4.2 with S256: BASE64URL(SHA256(...)) without padding is exactly 43 characters
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def is_valid_verifier(verifier: str) -> bool:
    return _VERIFIER.fullmatch(verifier) is not None


def is_valid_challenge(challenge: str) -> bool:
    return _CHALLENGE.fullmatch(challenge) is not None


def challenge_of(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` (RFC 7636 §4.2)."""
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def verify(verifier: str, challenge: str) -> bool:
    """Does ``verifier`` answer ``challenge`` (S256, RFC 7636 §4.6)? A malformed verifier never does."""
    if not is_valid_verifier(verifier) or not is_valid_challenge(challenge):
        return False
    return hmac.compare_digest(challenge_of(verifier), challenge)
