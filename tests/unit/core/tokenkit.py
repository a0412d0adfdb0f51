"""Test helpers: sign *raw bytes* (never a re-serialised dict) so byte-level cases exist.

Keys and constants follow docs/threat-model.md §5 (NOW=1700000000, LEEWAY=60, MAX_AT_TTL=900).
"""

from __future__ import annotations

import json
from typing import Any

from auth_core._b64 import b64url_encode
from auth_core.jwk import JWKSet, SigningKey, generate_signing_key, load_signing_key
from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy

NOW = 1_700_000_000
LEEWAY = 60
MAX_AT_TTL = 900
ISS = "https://auth.example.com"
AUD = "https://api.example.com"
CLIENT = "client-abc"
DROP = object()  # marker: remove this member


def with_kid(key: SigningKey, kid: str) -> SigningKey:
    return load_signing_key({**key.to_private_jwk(), "kid": kid})


K_CUR = with_kid(generate_signing_key("ES256"), "k-cur")
K_PREV = with_kid(generate_signing_key("ES256"), "k-prev")
K_RSA = with_kid(generate_signing_key("RS256"), "k-rsa")
K_PSS = with_kid(generate_signing_key("PS256"), "k-pss")
K_ED = with_kid(generate_signing_key("EdDSA"), "k-ed")
#: keys the verifier does NOT trust
K_OLD = with_kid(generate_signing_key("ES256"), "k-old")
K_ATTACKER = generate_signing_key("ES256")

TRUSTED = JWKSet.from_keys(k.public_key() for k in (K_CUR, K_PREV, K_RSA, K_PSS, K_ED))

H0: dict[str, Any] = {"alg": "ES256", "typ": "at+jwt", "kid": "k-cur"}
P0: dict[str, Any] = {
    "iss": ISS,
    "sub": "user-123",
    "aud": AUD,
    "client_id": CLIENT,
    "iat": NOW,
    "exp": NOW + 300,
    "jti": "6f1c0c9e-6d8a-4b0e-9b1e-2f8a0d6c1a11",
    "scope": "read",
}


def verifier(now: float = NOW, keys: Any = TRUSTED) -> AccessTokenVerifier:
    policy = ClaimsPolicy(ISS, AUD, leeway=LEEWAY, max_lifetime=MAX_AT_TTL)
    return AccessTokenVerifier(policy, keys, lambda: now)


def changed(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(base)
    for name, value in changes.items():
        if value is DROP:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def header(**changes: Any) -> dict[str, Any]:
    return changed(H0, **changes)


def claims(**changes: Any) -> dict[str, Any]:
    return changed(P0, **changes)


def encode(part: Any) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        return part.encode("utf-8")
    return json.dumps(part, separators=(",", ":")).encode("utf-8")


def sign(
    hdr: Any = None, payload: Any = None, key: SigningKey | None = None, sig: bytes | None = None
) -> str:
    """``b64u(hdr).b64u(payload).b64u(sig)`` over the exact bytes given (dicts: compact JSON)."""
    h = b64url_encode(encode(H0 if hdr is None else hdr))
    p = b64url_encode(encode(P0 if payload is None else payload))
    signing_input = f"{h}.{p}"
    signature = (key or K_CUR).sign(signing_input.encode("ascii")) if sig is None else sig
    return f"{signing_input}.{b64url_encode(signature)}"


def hs256(hdr: Any, payload: Any, secret: bytes) -> str:
    import hashlib
    import hmac

    signing_input = f"{b64url_encode(encode(hdr))}.{b64url_encode(encode(payload))}"
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url_encode(mac)}"


def with_signature(token: str, sig: bytes) -> str:
    return token.rpartition(".")[0] + "." + b64url_encode(sig)


def signature_of(token: str) -> bytes:
    from auth_core._b64 import b64url_decode

    return b64url_decode(token.rpartition(".")[2])
