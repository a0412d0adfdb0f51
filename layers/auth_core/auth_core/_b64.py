"""Strict, canonical base64url (RFC 7515 §2, RFC 4648 §5 and §3.5).

Python's :func:`base64.urlsafe_b64decode` is lenient in every way an attacker likes: it accepts
``+`` and ``/``, padding, excess padding, and non-zero unused trailing bits, so several strings
decode to the same bytes. A JWS verifier must accept exactly one spelling per byte string,
otherwise caches, deny lists or logs keyed on token text are bypassed (docs/threat-model.md T-B64-1..6).

The check is split so the verifier's hot path can do the alphabet test once with a precompiled
regex over the whole token and then only the cheap per-segment checks here.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["B64URL_SEGMENT", "b64url_decode", "b64url_decode_unchecked", "b64url_encode"]

#: one non-empty base64url segment: the alphabet only, no padding, no whitespace.
B64URL_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")

# A segment of length 4k+2 carries 4 unused low bits in its last character, 4k+3 carries 2.
# Canonical encoders set them to zero, so the last character must be one of these (indexed by
# ``len % 4``; the test is ``one character in str``, which measured steadier than a frozenset).
_CANONICAL_LAST = ("", "", "AQgw", "AEIMQUYcgkosw048")


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode_unchecked(segment: str) -> bytes:
    """Decode a segment whose alphabet was already checked (:data:`B64URL_SEGMENT`).

    Still enforces the length and canonical-trailing-bits rules, which the alphabet regex
    cannot express.

    :raises ValueError: length ≡ 1 (mod 4) or non-zero unused bits.
    """
    rem = len(segment) & 3
    if rem and (rem == 1 or segment[-1] not in _CANONICAL_LAST[rem]):
        raise ValueError("non-canonical base64url")
    # Non-strict mode ignores the surplus "=" we always append (cheaper than computing the
    # exact padding); it would also skip foreign characters, which the caller excluded.
    return binascii.a2b_base64(segment.replace("-", "+").replace("_", "/") + "==")


def b64url_decode(segment: str) -> bytes:
    """Strictly decode one base64url segment (any length, including empty).

    :raises ValueError: characters outside the base64url alphabet, padding, whitespace, an
        impossible length or non-canonical trailing bits.
    """
    if not isinstance(segment, str):
        raise ValueError("base64url value must be a string")
    if not segment:
        return b""
    if B64URL_SEGMENT.fullmatch(segment) is None:
        raise ValueError("invalid base64url alphabet")
    return b64url_decode_unchecked(segment)
