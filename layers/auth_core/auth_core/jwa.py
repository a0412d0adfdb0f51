"""The JWS algorithms we support (RFC 7518, RFC 8037): one table, the one source of these facts.

Each :class:`Algorithm` says what a key for it is (``kty``, curve, RSA sizes), how it signs (hash,
padding) and what its signatures look like (length). Signing, verifying, JWK import and export,
key generation, discovery, settings and the template read it:

* :mod:`auth_core.algorithms` binds each entry to its ``cryptography`` primitives;
* :mod:`auth_core.jwk` checks a JWK's ``alg``, ``kty`` and ``crv`` against it;
* :mod:`auth_core.settings` accepts ``SIGNING_ALG`` from it (and the template's ``SigningAlg``
  ``AllowedValues`` are tested equal to it).

This module imports nothing (no ``cryptography``), so settings and discovery can read it on a
cold path. Adding an algorithm is one entry here, its curve or padding in
:mod:`auth_core.algorithms` if new, and its tests. HMAC (``HS*``) and ``none`` are absent on
purpose and must stay absent: a public key must never be usable as a shared secret (RFC 8725 §3.1).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ALGORITHMS",
    "CURVES",
    "ID_TOKEN_ALG",
    "MIN_RSA_BITS",
    "REGISTRY",
    "RSA_BITS_ALLOWED",
    "Algorithm",
    "Curve",
]

#: RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used".
MIN_RSA_BITS = 2048
#: RSA modulus sizes our key generation offers.
RSA_BITS_ALLOWED = (2048, 3072, 4096)


# Not a dataclass: on the authorizer's cold path, see docs/architecture.md.
class Curve(NamedTuple):
    """An elliptic curve as JOSE names it (RFC 7518 §6.2.1.1)."""

    crv: str
    #: octets of one coordinate (and of r and of s in a JWS signature, RFC 7518 §3.4)
    coordinate_octets: int
    #: the order n of the base point: ECDSA needs 1 ≤ r, s ≤ n − 1 (CVE-2022-21449)
    order: int


# Not a dataclass: on the authorizer's cold path, see docs/architecture.md.
class Algorithm(NamedTuple):
    """One JWS ``alg`` value and everything the service needs to know about it."""

    name: str
    #: the one JWK ``kty`` a key for this algorithm has
    kty: str
    #: the hash of the signature scheme (``None`` for EdDSA, which hashes internally)
    hash: str | None
    #: RSA only: "pkcs1v15" (RSASSA-PKCS1-v1_5) or "pss" (RSASSA-PSS, MGF1 with the same hash,
    #: salt as long as the hash, RFC 7518 §3.5)
    padding: str | None = None
    #: EC and OKP: the one curve (``crv``) a key must use
    crv: str | None = None
    #: exact signature length in octets; ``None`` for RSA (the modulus length of the key)
    signature_octets: int | None = None


CURVES: dict[str, Curve] = {
    "P-256": Curve("P-256", 32, 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
}

#: Every supported algorithm, in order of preference for documentation.
REGISTRY: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm("RS256", kty="RSA", hash="SHA256", padding="pkcs1v15"),
        Algorithm("PS256", kty="RSA", hash="SHA256", padding="pss"),
        Algorithm("ES256", kty="EC", hash="SHA256", crv="P-256", signature_octets=64),
        Algorithm("EdDSA", kty="OKP", hash=None, crv="Ed25519", signature_octets=64),
    )
}

#: The names of :data:`REGISTRY`, in order.
ALGORITHMS: tuple[str, ...] = tuple(REGISTRY)

#: The algorithm of every key that signs ID tokens, whatever ``SIGNING_ALG`` is: OpenID Connect
#: Discovery 1.0 §3 requires ``RS256`` among ``id_token_signing_alg_values_supported``, and
#: relying parties may support nothing else. When ``SIGNING_ALG`` is another algorithm the key
#: set keeps a second lineage of keys in this one (:mod:`auth_core.keyset`).
ID_TOKEN_ALG = "RS256"
assert ID_TOKEN_ALG in REGISTRY  # noqa: S101 - a typo here must fail at import, not at signing
