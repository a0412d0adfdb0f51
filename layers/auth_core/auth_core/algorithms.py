"""Signature algorithms: the only module of the service that imports ``cryptography.hazmat``.

Each key object is bound to exactly one JWS algorithm when it is built (RFC 8725 §3.1): the
verifier asks the key chosen by ``kid`` to verify, so the token's ``alg`` can never pick the
primitive. There is no HMAC class at all, so a public key can never be used as an HMAC secret
(the RS256→HS256 confusion family, CVE-2016-10555 and successors).

The algorithms and their facts (``kty``, curve, hash, padding, signature length) are the one
table :data:`auth_core.jwa.REGISTRY`; this module binds each ``kty``, curve, hash and padding
named there to its primitives:

========  =========================================  ====================================
kty       key                                        signature
========  =========================================  ====================================
RSA       ≥ 2048 bits, odd e ≥ 3                      PKCS1-v1_5 or PSS (MGF1 same hash, salt =
                                                     hash length), len == |n|
EC        the entry's curve (P-256)                  raw r‖s, 2 × coordinate octets,
                                                     1 ≤ r, s ≤ n−1
OKP       Ed25519                                    64 octets (S < L checked by OpenSSL)
========  =========================================  ====================================

Padding, hash and ECDSA parameter objects are created once per key, not per call: the
authorizer verifies on every request and the floor is ~40 µs.

The JWK *members* of each key type (``n``/``e``, ``crv``/``x``/``y`` ...) are converted here
because it needs the hazmat number classes; the JWK *document* rules (``kid``, ``alg``, ``use``)
live in :mod:`auth_core.jwk`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from auth_core._b64 import b64url_decode, b64url_encode
from auth_core.errors import InvalidSignatureError, KeyFormatError
from auth_core.jwa import ALGORITHMS, CURVES, MIN_RSA_BITS, REGISTRY, RSA_BITS_ALLOWED, Algorithm, Curve

__all__ = [
    "ALGORITHMS",
    "KTY_FOR_ALG",
    "MIN_RSA_BITS",
    "SigningKey",
    "VerificationKey",
    "generate_key",
    "private_key_from_members",
    "public_key_from_members",
]

#: The one JWK ``kty`` each algorithm requires (from :data:`auth_core.jwa.REGISTRY`).
KTY_FOR_ALG = {name: spec.kty for name, spec in REGISTRY.items()}

#: The primitives behind the names the registry uses.
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"SHA256": hashes.SHA256}
_EC_CURVES: dict[str, type[ec.EllipticCurve]] = {"P-256": ec.SECP256R1}
_PUBLIC_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


# ================================================================================ base classes
class VerificationKey:
    """A public key bound to one JWS algorithm, identified by ``kid``.

    :ivar kid: the key id (an RFC 7638 thumbprint for keys we generate).
    :ivar alg: the one algorithm this key verifies; the token's ``alg`` must equal it.
    """

    __slots__ = ("alg", "kid")
    kty: ClassVar[str] = ""

    def __init__(self, kid: str, alg: str) -> None:
        self.kid = kid
        self.alg = alg

    def verify(self, signature: bytes, signing_input: bytes) -> None:
        """Check ``signature`` over ``signing_input``; return nothing on success.

        Raises rather than returning a bool so that a forgotten check cannot pass.

        :raises InvalidSignatureError: wrong length or shape, or the signature does not verify.
        """
        raise NotImplementedError

    def public_members(self) -> dict[str, str]:
        """The key-type members of the public JWK (``kty`` and the public numbers)."""
        raise NotImplementedError

    def to_jwk(self) -> dict[str, str]:
        """The public JWK: key members plus ``kid``, ``alg`` and ``use: "sig"``."""
        return {**self.public_members(), "kid": self.kid, "alg": self.alg, "use": "sig"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kid={self.kid!r}, alg={self.alg!r})"


class SigningKey:
    """A private key bound to one JWS algorithm. Never logged: ``repr`` shows only kid/alg.

    :ivar kid: the key id; equal to the kid of :meth:`public_key`.
    :ivar alg: the one algorithm this key signs with.
    """

    __slots__ = ("_public", "alg", "kid")

    def __init__(self, kid: str, alg: str, public: VerificationKey) -> None:
        self.kid = kid
        self.alg = alg
        self._public = public

    def sign(self, signing_input: bytes) -> bytes:
        """Return the JWS signature octets over ``signing_input``."""
        raise NotImplementedError

    def private_members(self) -> dict[str, str]:
        """The key-type members of the private JWK (public members plus private ones)."""
        raise NotImplementedError

    def public_key(self) -> VerificationKey:
        """The matching verification key (same ``kid`` and ``alg``)."""
        return self._public

    def to_public_jwk(self) -> dict[str, str]:
        """The public JWK (``kid``, ``alg``, ``use: "sig"``); safe to publish."""
        return self._public.to_jwk()

    def to_private_jwk(self) -> dict[str, str]:
        """The private JWK including ``kid``, ``alg`` and ``use``. Secret: store only encrypted."""
        return {**self.private_members(), "kid": self.kid, "alg": self.alg, "use": "sig"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kid={self.kid!r}, alg={self.alg!r})"


# ================================================================================ helpers
def _fail(exc: BaseException | None = None) -> InvalidSignatureError:
    err = InvalidSignatureError("signature verification failed")
    if exc is not None:
        err.__cause__ = exc
    return err


def _uint(value: int, length: int | None = None) -> str:
    """JWK integer encoding (RFC 7518 §6.3.1.1): big-endian, minimal or fixed length."""
    if length is None:
        length = max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(length, "big"))


def _member_bytes(members: Mapping[str, Any], name: str) -> bytes:
    try:
        raw = b64url_decode(members[name])
    except KeyError as exc:
        raise KeyFormatError(f"JWK member {name!r} is missing") from exc
    except ValueError as exc:
        raise KeyFormatError(f"JWK member {name!r} is not base64url") from exc
    if not raw:
        raise KeyFormatError(f"JWK member {name!r} is empty")
    return raw


def _member_int(members: Mapping[str, Any], name: str) -> int:
    return int.from_bytes(_member_bytes(members, name), "big")


def _hash(spec: Algorithm) -> hashes.HashAlgorithm:
    if spec.hash not in _HASHES:
        raise KeyFormatError(f"{spec.name}: no hash named {spec.hash!r}")
    return _HASHES[spec.hash]()


def _rsa_padding(spec: Algorithm) -> padding.AsymmetricPadding:
    if spec.padding == "pkcs1v15":
        return padding.PKCS1v15()
    if spec.padding == "pss":
        # RFC 7518 §3.5: MGF1 with the same hash; the salt size equals the hash output size.
        digest = _hash(spec)
        return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    raise KeyFormatError(f"{spec.name}: unknown RSA padding")


def _curve(spec: Algorithm) -> Curve:
    if spec.crv not in CURVES:
        raise KeyFormatError(f"{spec.name}: no curve named {spec.crv!r}")
    return CURVES[spec.crv]


# ================================================================================ RSA
class _RSAPublicKey(VerificationKey):
    __slots__ = ("_hash", "_key", "_padding", "_size")
    kty = "RSA"

    def __init__(self, kid: str, alg: str, key: rsa.RSAPublicKey) -> None:
        super().__init__(kid, alg)
        if key.key_size < MIN_RSA_BITS:
            raise KeyFormatError(f"RSA key of {key.key_size} bits is below {MIN_RSA_BITS}")
        exponent = key.public_numbers().e
        if exponent < 3 or exponent % 2 == 0:
            raise KeyFormatError("RSA public exponent must be odd and at least 3")
        spec = REGISTRY[alg]
        self._key = key
        self._size = (key.key_size + 7) // 8
        self._padding = _rsa_padding(spec)
        self._hash = _hash(spec)

    def verify(self, signature: bytes, signing_input: bytes) -> None:
        if len(signature) != self._size:  # RFC 7518 §3.3: exactly the modulus length
            raise _fail()
        try:
            self._key.verify(signature, signing_input, self._padding, self._hash)
        except InvalidSignature as exc:
            raise _fail(exc) from exc

    def public_members(self) -> dict[str, str]:
        numbers = self._key.public_numbers()
        return {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}


class _RSAPrivateKey(SigningKey):
    __slots__ = ("_hash", "_key", "_padding")

    def __init__(self, kid: str, alg: str, key: rsa.RSAPrivateKey) -> None:
        super().__init__(kid, alg, _RSAPublicKey(kid, alg, key.public_key()))
        spec = REGISTRY[alg]
        self._key = key
        self._padding = _rsa_padding(spec)
        self._hash = _hash(spec)

    def sign(self, signing_input: bytes) -> bytes:
        return self._key.sign(signing_input, self._padding, self._hash)

    def private_members(self) -> dict[str, str]:
        numbers = self._key.private_numbers()
        return {
            **self._public.public_members(),
            "d": _uint(numbers.d),
            "p": _uint(numbers.p),
            "q": _uint(numbers.q),
            "dp": _uint(numbers.dmp1),
            "dq": _uint(numbers.dmq1),
            "qi": _uint(numbers.iqmp),
        }


def _rsa_public_numbers(members: Mapping[str, Any]) -> rsa.RSAPublicNumbers:
    n = _member_int(members, "n")
    e = _member_int(members, "e")
    if n.bit_length() < MIN_RSA_BITS:
        raise KeyFormatError(f"RSA key of {n.bit_length()} bits is below {MIN_RSA_BITS}")
    return rsa.RSAPublicNumbers(e, n)


def _rsa_public(kid: str, alg: str, members: Mapping[str, Any]) -> VerificationKey:
    try:
        key = _rsa_public_numbers(members).public_key()
    except ValueError as exc:
        raise KeyFormatError("invalid RSA public key") from exc
    return _RSAPublicKey(kid, alg, key)


def _rsa_private(kid: str, alg: str, members: Mapping[str, Any]) -> SigningKey:
    if "oth" in members:
        raise KeyFormatError("multi-prime RSA keys are not supported")
    public = _rsa_public_numbers(members)
    numbers = rsa.RSAPrivateNumbers(
        p=_member_int(members, "p"),
        q=_member_int(members, "q"),
        d=_member_int(members, "d"),
        dmp1=_member_int(members, "dp"),
        dmq1=_member_int(members, "dq"),
        iqmp=_member_int(members, "qi"),
        public_numbers=public,
    )
    # OpenSSL's full check (primality tests included) costs ~50 ms per 2048-bit key, paid for
    # every key of the set on every cold start of a signer. Our keys come from our own secret,
    # generated by cryptography; what must never pass is an inconsistent CRT parameter (faulty
    # CRT signatures leak the private key: the Bellcore attack). The exact relations below and
    # a probe signature verified with the public half prove consistency in ~1 ms.
    if not _rsa_crt_consistent(numbers):
        raise KeyFormatError("inconsistent RSA private key")
    try:
        key = numbers.private_key(unsafe_skip_rsa_key_validation=True)
        key.public_key().verify(key.sign(_PROBE, _PKCS1, _SHA256), _PROBE, _PKCS1, _SHA256)
    except (ValueError, InvalidSignature) as exc:
        raise KeyFormatError("inconsistent RSA private key") from exc
    return _RSAPrivateKey(kid, alg, key)


def _rsa_crt_consistent(numbers: rsa.RSAPrivateNumbers) -> bool:
    """n = p·q, e·d ≡ 1 (mod lcm(p−1, q−1)), dp = d mod (p−1), dq = d mod (q−1), q·qi ≡ 1 (mod p)."""
    p, q, d = numbers.p, numbers.q, numbers.d
    e, n = numbers.public_numbers.e, numbers.public_numbers.n
    if min(p, q) < 3 or p == q or p * q != n or not 1 < d < n:
        return False
    lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    return (
        (e * d) % lam == 1
        and numbers.dmp1 == d % (p - 1)
        and numbers.dmq1 == d % (q - 1)
        and (q * numbers.iqmp) % p == 1
    )


_PROBE = b"auth_core RSA private key self-test"
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


# ================================================================================ ECDSA
class _ECPublicKey(VerificationKey):
    __slots__ = ("_curve", "_ecdsa", "_key")
    kty = "EC"

    def __init__(self, kid: str, alg: str, key: ec.EllipticCurvePublicKey) -> None:
        super().__init__(kid, alg)
        spec = REGISTRY[alg]
        curve = _curve(spec)
        if not isinstance(key.curve, _EC_CURVES[curve.crv]):
            raise KeyFormatError(f"{alg} requires a {curve.crv} key")
        self._key = key
        self._curve = curve
        self._ecdsa = ec.ECDSA(_hash(spec))

    def verify(self, signature: bytes, signing_input: bytes) -> None:
        # RFC 7518 §3.4: exactly R‖S, each the curve's coordinate length. Never hand token bytes
        # to the DER parser, and check the range explicitly (CVE-2022-21449 "psychic
        # signatures": r = s = 0).
        size, order = self._curve.coordinate_octets, self._curve.order
        if len(signature) != 2 * size:
            raise _fail()
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        if not (0 < r < order and 0 < s < order):
            raise _fail()
        try:
            self._key.verify(encode_dss_signature(r, s), signing_input, self._ecdsa)
        except InvalidSignature as exc:
            raise _fail(exc) from exc

    def public_members(self) -> dict[str, str]:
        numbers = self._key.public_numbers()
        size = self._curve.coordinate_octets
        return {"kty": "EC", "crv": self._curve.crv, "x": _uint(numbers.x, size), "y": _uint(numbers.y, size)}


class _ECPrivateKey(SigningKey):
    __slots__ = ("_ecdsa", "_key", "_size")

    def __init__(self, kid: str, alg: str, key: ec.EllipticCurvePrivateKey) -> None:
        super().__init__(kid, alg, _ECPublicKey(kid, alg, key.public_key()))
        spec = REGISTRY[alg]
        self._key = key
        self._size = _curve(spec).coordinate_octets
        self._ecdsa = ec.ECDSA(_hash(spec))

    def sign(self, signing_input: bytes) -> bytes:
        r, s = decode_dss_signature(self._key.sign(signing_input, self._ecdsa))
        return r.to_bytes(self._size, "big") + s.to_bytes(self._size, "big")

    def private_members(self) -> dict[str, str]:
        d = self._key.private_numbers().private_value
        return {**self._public.public_members(), "d": _uint(d, self._size)}


def _ec_coordinates(alg: str, members: Mapping[str, Any]) -> ec.EllipticCurvePublicNumbers:
    curve = _curve(REGISTRY[alg])
    if members.get("crv") != curve.crv:
        raise KeyFormatError(f"{alg} requires crv {curve.crv}")
    x, y = _member_bytes(members, "x"), _member_bytes(members, "y")
    size = curve.coordinate_octets
    if len(x) != size or len(y) != size:  # RFC 7518 §6.2.1.2: full coordinate length
        raise KeyFormatError(f"{curve.crv} coordinates must be {size} octets")
    return ec.EllipticCurvePublicNumbers(
        int.from_bytes(x, "big"), int.from_bytes(y, "big"), _EC_CURVES[curve.crv]()
    )


def _ec_public(kid: str, alg: str, members: Mapping[str, Any]) -> VerificationKey:
    try:
        key = _ec_coordinates(alg, members).public_key()  # rejects points not on the curve
    except ValueError as exc:
        raise KeyFormatError(f"invalid {REGISTRY[alg].crv} public key") from exc
    return _ECPublicKey(kid, alg, key)


def _ec_private(kid: str, alg: str, members: Mapping[str, Any]) -> SigningKey:
    public = _ec_coordinates(alg, members)
    curve = _curve(REGISTRY[alg])
    d = _member_bytes(members, "d")
    if len(d) != curve.coordinate_octets:
        raise KeyFormatError(f"{curve.crv} private scalar must be {curve.coordinate_octets} octets")
    try:
        key = ec.EllipticCurvePrivateNumbers(int.from_bytes(d, "big"), public).private_key()
    except ValueError as exc:  # d out of range or d·G ≠ (x, y)
        raise KeyFormatError(f"inconsistent {curve.crv} private key") from exc
    return _ECPrivateKey(kid, alg, key)


# ================================================================================ Ed25519
class _Ed25519PublicKey(VerificationKey):
    __slots__ = ("_key", "_verify")
    kty = "OKP"

    def __init__(self, kid: str, alg: str, key: ed25519.Ed25519PublicKey) -> None:
        super().__init__(kid, alg)
        self._key = key
        self._verify = key.verify

    def verify(self, signature: bytes, signing_input: bytes) -> None:
        if len(signature) != 64:
            raise _fail()
        try:
            self._verify(signature, signing_input)  # OpenSSL enforces S < L (RFC 8032 §5.1.7)
        except InvalidSignature as exc:
            raise _fail(exc) from exc

    def public_members(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self._key.public_bytes_raw())}


class _Ed25519PrivateKey(SigningKey):
    __slots__ = ("_key",)

    def __init__(self, kid: str, alg: str, key: ed25519.Ed25519PrivateKey) -> None:
        super().__init__(kid, alg, _Ed25519PublicKey(kid, alg, key.public_key()))
        self._key = key

    def sign(self, signing_input: bytes) -> bytes:
        return self._key.sign(signing_input)

    def private_members(self) -> dict[str, str]:
        return {**self._public.public_members(), "d": b64url_encode(self._key.private_bytes_raw())}


def _okp_check(alg: str, members: Mapping[str, Any]) -> bytes:
    if members.get("crv") != REGISTRY[alg].crv:
        raise KeyFormatError(f"{alg} keys must use crv {REGISTRY[alg].crv}")
    x = _member_bytes(members, "x")
    if len(x) != 32:
        raise KeyFormatError("Ed25519 public key must be 32 octets")
    return x


def _ed_public(kid: str, alg: str, members: Mapping[str, Any]) -> VerificationKey:
    try:
        key = ed25519.Ed25519PublicKey.from_public_bytes(_okp_check(alg, members))
    except ValueError as exc:
        raise KeyFormatError("invalid Ed25519 public key") from exc
    return _Ed25519PublicKey(kid, alg, key)


def _ed_private(kid: str, alg: str, members: Mapping[str, Any]) -> SigningKey:
    x = _okp_check(alg, members)
    d = _member_bytes(members, "d")
    try:
        key = ed25519.Ed25519PrivateKey.from_private_bytes(d)
    except ValueError as exc:
        raise KeyFormatError("invalid Ed25519 private key") from exc
    if key.public_key().public_bytes_raw() != x:
        raise KeyFormatError("Ed25519 private key does not match x")
    return _Ed25519PrivateKey(kid, alg, key)


# ================================================================================ factories
#: JWK members -> key, per ``kty`` (the registry says which ``kty`` each algorithm uses).
_PUBLIC_LOADERS: dict[str, Callable[[str, str, Mapping[str, Any]], VerificationKey]] = {
    "RSA": _rsa_public,
    "EC": _ec_public,
    "OKP": _ed_public,
}
_PRIVATE_LOADERS: dict[str, Callable[[str, str, Mapping[str, Any]], SigningKey]] = {
    "RSA": _rsa_private,
    "EC": _ec_private,
    "OKP": _ed_private,
}


def _check_alg_kty(alg: str, members: Mapping[str, Any]) -> None:
    if alg not in KTY_FOR_ALG:
        raise KeyFormatError(f"unsupported algorithm {alg!r}" if isinstance(alg, str) else "bad alg")
    if members.get("kty") != KTY_FOR_ALG[alg]:
        raise KeyFormatError(f"{alg} requires kty {KTY_FOR_ALG[alg]}")


def public_key_from_members(alg: str, kid: str, members: Mapping[str, Any]) -> VerificationKey:
    """Build a verification key from JWK key-type members, bound to ``alg``.

    :raises KeyFormatError: unsupported ``alg``, ``kty`` not the one ``alg`` requires, missing
        or malformed members, weak RSA (< 2048 bits, even or tiny ``e``), wrong curve, a point
        not on the curve, or private members present (a public JWK must not carry them).
    """
    _check_alg_kty(alg, members)
    if not _PUBLIC_PRIVATE_MEMBERS.isdisjoint(members):
        raise KeyFormatError("public JWK carries private key material")
    return _PUBLIC_LOADERS[KTY_FOR_ALG[alg]](kid, alg, members)


def private_key_from_members(alg: str, kid: str, members: Mapping[str, Any]) -> SigningKey:
    """Build a signing key from private JWK key-type members, bound to ``alg``.

    :raises KeyFormatError: as :func:`public_key_from_members`, plus missing or inconsistent
        private members.
    """
    _check_alg_kty(alg, members)
    return _PRIVATE_LOADERS[KTY_FOR_ALG[alg]](kid, alg, members)


def generate_key(
    alg: str, kid_for: Callable[[Mapping[str, str]], str], *, rsa_bits: int = 2048
) -> SigningKey:
    """Generate a fresh key for ``alg``; ``kid_for`` maps the public members to the key id.

    :param rsa_bits: RSA modulus size for RS256/PS256: 2048 (default), 3072 or 4096.
    :raises KeyFormatError: unsupported ``alg`` or RSA size.
    """
    spec = REGISTRY.get(alg) if isinstance(alg, str) else None
    if spec is None:
        raise KeyFormatError("unsupported algorithm")
    if spec.kty == "RSA":
        if rsa_bits not in RSA_BITS_ALLOWED:
            raise KeyFormatError(f"RSA key size must be one of {RSA_BITS_ALLOWED}")
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
        kid = kid_for(_RSAPublicKey("", alg, rsa_key.public_key()).public_members())
        return _RSAPrivateKey(kid, alg, rsa_key)
    if spec.kty == "EC":
        ec_key = ec.generate_private_key(_EC_CURVES[_curve(spec).crv]())
        kid = kid_for(_ECPublicKey("", alg, ec_key.public_key()).public_members())
        return _ECPrivateKey(kid, alg, ec_key)
    if spec.kty == "OKP":
        ed_key = ed25519.Ed25519PrivateKey.generate()
        kid = kid_for(_Ed25519PublicKey("", alg, ed_key.public_key()).public_members())
        return _Ed25519PrivateKey(kid, alg, ed_key)
    raise KeyFormatError("unsupported algorithm")
