"""JSON Web Keys (RFC 7517) and key ids (RFC 7638 thumbprints).

Loading is strict on purpose: a key set that is merely "probably fine" is a key set an
attacker may have shaped. Every JWK must name its ``kid`` and its one ``alg``; ``use``, when
present, must be ``sig``; ``key_ops``, when present, must allow the operation; the ``kty`` and
curve must be the ones the ``alg`` requires; weak RSA keys and symmetric (``oct``) keys are
refused. Failures raise :class:`~auth_core.errors.KeyFormatError` (a 5xx: our data is broken,
the caller is not at fault).

Two small protocols connect keys to their users:

* key provider (verifiers): ``get_verification_key(kid) -> VerificationKey`` raising
  :class:`~auth_core.errors.UnknownKeyError`; :class:`JWKSet` implements it, and so does the
  cached ``keystore.PublicKeyStore``.
* signing key provider (issuers): ``get_signing_key() -> SigningKey``; implemented by
  ``keyset.KeySet`` and ``keystore.SigningKeyStore``.

**Lineages.** A published JWK may carry the member ``"lineage": "id_token"``
(:data:`LINEAGE_MEMBER`, :data:`ID_TOKEN_LINEAGE`): the key belongs to the ID-token lineage
(``keyset`` module docstring) and signs only ID tokens. :class:`JWKSet` keeps such keys apart:
they are published (``kids``, ``in``, ``to_dict``) but :meth:`JWKSet.get_verification_key`, the
access-token verifiers' lookup, never returns one, so a token they signed is an unknown ``kid``
to every access-token verifier however it is shaped. Relying parties ignore the member
(RFC 7517 §4: members not understood MUST be ignored). Any other ``lineage`` value is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from auth_core._b64 import b64url_encode
from auth_core._json import loads_object
from auth_core.algorithms import (
    ALGORITHMS,
    SigningKey,
    VerificationKey,
    generate_key,
    private_key_from_members,
    public_key_from_members,
)
from auth_core.errors import KeyFormatError, UnknownKeyError
from auth_core.jwa import ID_TOKEN_ALG

__all__ = [
    "ID_TOKEN_LINEAGE",
    "KID_PATTERN",
    "LINEAGE_MEMBER",
    "JWKSet",
    "KeyProvider",
    "SigningKey",
    "SigningKeyProvider",
    "VerificationKey",
    "generate_signing_key",
    "id_token_jwk",
    "is_id_token_jwk",
    "jwk_thumbprint",
    "load_signing_key",
    "load_verification_key",
]

#: Shape of an acceptable ``kid``: 1-128 printable ASCII characters, no spaces. Enforced both
#: when keys are loaded and when a token names a kid, so every loaded key stays reachable and a
#: hostile kid never reaches a key provider.
KID_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")

#: The JWK member (ours, not registered; relying parties ignore it) naming a key's lineage, and
#: its one value: absent means the main lineage (access tokens, and ID tokens too when it is
#: RS256). Stored key records carry the same member (``keyset``).
LINEAGE_MEMBER = "lineage"
ID_TOKEN_LINEAGE = "id_token"

# RFC 7638 §3.2: the required members of each key type, in lexicographic order.
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


class KeyProvider(Protocol):
    """Anything that maps a ``kid`` to a trusted verification key."""

    def get_verification_key(self, kid: str) -> VerificationKey:
        """:raises UnknownKeyError: no trusted key has this kid."""
        ...


class SigningKeyProvider(Protocol):
    """Anything that hands out the currently active signing key."""

    def get_signing_key(self) -> SigningKey:
        """:raises KeyStoreError: no active key is available."""
        ...


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): our key id.

    Only the required public members take part, so a key's public and private JWKs share the
    thumbprint.

    :raises KeyFormatError: unknown ``kty`` or a required member missing or not a string.
    """
    kty = jwk.get("kty")
    names = _THUMBPRINT_MEMBERS.get(kty) if type(kty) is str else None
    if names is None:
        raise KeyFormatError("thumbprint: unsupported kty")
    members = {}
    for name in names:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise KeyFormatError(f"thumbprint: member {name!r} missing")
        members[name] = value
    import hashlib  # noqa: PLC0415 - only key generation needs it; keep it off the verifier's import

    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def _header_fields(jwk: Mapping[str, Any], operation: str) -> tuple[str, str]:
    """Check the JWK parameters common to all key types; return ``(kid, alg)``."""
    if not isinstance(jwk, Mapping):
        raise KeyFormatError("JWK must be a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or KID_PATTERN.fullmatch(kid) is None:
        raise KeyFormatError("JWK kid must be 1-128 printable ASCII characters")
    alg = jwk.get("alg")
    if alg not in ALGORITHMS:
        raise KeyFormatError(f"JWK {kid}: alg must be one of {', '.join(ALGORITHMS)}")
    use = jwk.get("use", "sig")
    if use != "sig":
        raise KeyFormatError(f"JWK {kid}: use must be 'sig'")
    if "key_ops" in jwk:
        ops = jwk["key_ops"]
        if not isinstance(ops, list) or operation not in ops:
            raise KeyFormatError(f"JWK {kid}: key_ops does not allow {operation!r}")
    return kid, alg


def load_verification_key(jwk: Mapping[str, Any]) -> VerificationKey:
    """Load a public JWK (``kid`` and ``alg`` required) as a verification key.

    :raises KeyFormatError: see the module docstring; also when private members are present.
    """
    kid, alg = _header_fields(jwk, "verify")
    return public_key_from_members(alg, kid, jwk)


def load_signing_key(jwk: Mapping[str, Any]) -> SigningKey:
    """Load a private JWK (``kid`` and ``alg`` required) as a signing key.

    :raises KeyFormatError: see the module docstring; also when private members are missing
        or do not match the public ones.
    """
    kid, alg = _header_fields(jwk, "sign")
    return private_key_from_members(alg, kid, jwk)


def generate_signing_key(alg: str, *, rsa_bits: int = 2048) -> SigningKey:
    """Generate a key for ``alg`` whose ``kid`` is its RFC 7638 thumbprint.

    RS256/PS256: RSA-2048 (3072 or 4096 via ``rsa_bits``), e = 65537; ES256: P-256;
    EdDSA: Ed25519.

    :raises KeyFormatError: unsupported ``alg`` or RSA size.
    """
    return generate_key(alg, jwk_thumbprint, rsa_bits=rsa_bits)


class JWKSet:
    """An immutable set of published verification keys, by ``kid``. Implements the key
    provider of **access-token** verifiers.

    Keys of the ID-token lineage (see the module docstring) are held apart: published (they are
    in :attr:`kids`, ``in`` and :meth:`to_dict`) but never returned by
    :meth:`get_verification_key`. :meth:`id_token_keys` is the provider for ID tokens.

    Lookup is an exact dictionary match: a ``kid`` is never a path, a query or a URL.
    """

    __slots__ = ("_id_token_keys", "_keys")

    def __init__(
        self,
        keys: Mapping[str, VerificationKey] | None = None,
        *,
        id_token_keys: Mapping[str, VerificationKey] | None = None,
    ) -> None:
        """:param keys: the main lineage (verifies access tokens).
        :param id_token_keys: the ID-token lineage (verifies ID tokens only; ``ID_TOKEN_ALG``).

        :raises KeyFormatError: a kid in both, or an ID-token key of another algorithm.
        """
        self._keys: dict[str, VerificationKey] = dict(keys or {})
        self._id_token_keys: dict[str, VerificationKey] = dict(id_token_keys or {})
        if not self._keys.keys().isdisjoint(self._id_token_keys):
            raise KeyFormatError("duplicate kid in key set")
        if any(key.alg != ID_TOKEN_ALG for key in self._id_token_keys.values()):
            raise KeyFormatError(f"an ID-token lineage key must be {ID_TOKEN_ALG}")

    @classmethod
    def from_keys(
        cls, keys: Iterable[VerificationKey], *, id_token_keys: Iterable[VerificationKey] = ()
    ) -> JWKSet:
        """Build a set from key objects (``id_token_keys``: the ID-token lineage).

        :raises KeyFormatError: two keys share a ``kid``, or an ID-token key is not RS256.
        """
        tables: tuple[dict[str, VerificationKey], dict[str, VerificationKey]] = ({}, {})
        for table, group in zip(tables, (keys, id_token_keys), strict=True):
            for key in group:
                if key.kid in tables[0] or key.kid in tables[1]:
                    raise KeyFormatError("duplicate kid in key set")
                table[key.kid] = key
        return cls(tables[0], id_token_keys=tables[1])

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> JWKSet:
        """Load ``{"keys": [<public JWK>, ...]}``.

        :raises KeyFormatError: not a JWKS document, any invalid JWK, an unknown ``lineage``,
            or a duplicate ``kid``.
        """
        if not isinstance(doc, Mapping) or not isinstance(doc.get("keys"), list):
            raise KeyFormatError("JWKS must be an object with a 'keys' array")
        main: list[VerificationKey] = []
        id_tokens: list[VerificationKey] = []
        for jwk in doc["keys"]:
            key = load_verification_key(jwk)
            (id_tokens if is_id_token_jwk(jwk) else main).append(key)
        return cls.from_keys(main, id_token_keys=id_tokens)

    @classmethod
    def from_json(cls, text: str | bytes) -> JWKSet:
        """Parse and load a JWKS JSON document (strict JSON: no duplicates, no NaN).

        :raises KeyFormatError: invalid JSON or any reason of :meth:`from_dict`.
        """
        try:
            doc = loads_object(text.encode("utf-8") if isinstance(text, str) else text)
        except ValueError as exc:
            raise KeyFormatError("JWKS is not a valid JSON object") from exc
        return cls.from_dict(doc)

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        """``{"keys": [public JWK, ...]}`` in insertion order, the main lineage first; ID-token
        keys carry their ``lineage`` member."""
        return {
            "keys": [
                *(key.to_jwk() for key in self._keys.values()),
                *(id_token_jwk(key) for key in self._id_token_keys.values()),
            ]
        }

    def get_verification_key(self, kid: str) -> VerificationKey:
        """The main-lineage key with ``kid``: what may verify an access token.

        :raises UnknownKeyError: no key of the main lineage has ``kid`` (an ID-token key is
            unknown here, on purpose).
        """
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKeyError("unknown kid") from None

    def id_token_keys(self) -> JWKSet:
        """The keys that may verify an ID token, as a plain key provider: the ID-token lineage
        plus the main lineage's ``ID_TOKEN_ALG`` keys (they sign ID tokens when the main
        algorithm is RS256)."""
        rs256 = {kid: key for kid, key in self._keys.items() if key.alg == ID_TOKEN_ALG}
        return JWKSet({**rs256, **self._id_token_keys})

    @property
    def kids(self) -> frozenset[str]:
        """Every published key id (both lineages)."""
        return frozenset(self._keys) | frozenset(self._id_token_keys)

    @property
    def id_token_kids(self) -> frozenset[str]:
        """The key ids of the ID-token lineage."""
        return frozenset(self._id_token_keys)

    def __len__(self) -> int:
        return len(self._keys) + len(self._id_token_keys)

    def __iter__(self) -> Iterator[VerificationKey]:
        """Every published key (both lineages)."""
        yield from self._keys.values()
        yield from self._id_token_keys.values()

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys or kid in self._id_token_keys

    def __repr__(self) -> str:
        return f"JWKSet(kids={sorted(self._keys)!r}, id_token_kids={sorted(self._id_token_keys)!r})"


def is_id_token_jwk(jwk: Mapping[str, Any]) -> bool:
    """Whether a (public or stored) JWK belongs to the ID-token lineage.

    :raises KeyFormatError: a ``lineage`` member with any other value (fail closed: a key of an
        unknown lineage must not verify access tokens as if it were main).
    """
    if LINEAGE_MEMBER not in jwk:
        return False
    if jwk[LINEAGE_MEMBER] != ID_TOKEN_LINEAGE:
        raise KeyFormatError(f"JWK: {LINEAGE_MEMBER} must be {ID_TOKEN_LINEAGE!r} when present")
    return True


def id_token_jwk(key: VerificationKey) -> dict[str, str]:
    """The public JWK of an ID-token lineage key: with its ``lineage`` member."""
    return {**key.to_jwk(), LINEAGE_MEMBER: ID_TOKEN_LINEAGE}
