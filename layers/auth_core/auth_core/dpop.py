"""DPoP proofs (RFC 9449): the checks of §4.3, one function, shared by ``/token`` and the authorizer.

A DPoP proof is a JWT the client signs with its own key for one HTTP request. Unlike an access
token, its header *must* carry the public key (``jwk``): the key is the client's, not ours, and
what makes it trustworthy is that every later request is signed by the same key, whose RFC 7638
thumbprint (``jkt``) the issued token carries as ``cnf.jkt``.

What :meth:`DPoPVerifier.verify` checks, in §4.3's order (each a refusal test in
``tests/unit/test_dpop.py``):

1. one compact JWS of at most :data:`MAX_PROOF_LENGTH` characters, strict JSON header and payload;
2. ``typ`` is ``dpop+jwt``;
3. ``alg`` is asymmetric and one we verify (the registry, :data:`auth_core.jwa.ALGORITHMS`;
   never ``none``, never HMAC) *and* the one the key type calls for: the algorithm is still
   bound to the key when it is built (:func:`auth_core.algorithms.public_key_from_members`);
4. ``jwk`` is a public key (a private member, a weak RSA modulus or a point off the curve is
   refused by the same loader as our own keys);
5. the signature verifies with that key;
6. ``htm`` is the request's method and ``htu`` its URL, compared after RFC 3986 §6.2.2-6.2.3
   normalisation, without query and fragment (:func:`normalize_htu`);
7. ``iat`` within ``[now - max_age - leeway, now + leeway]``;
8. ``jti`` present (at most 256 characters); its *uniqueness* is the caller's replay cache
   (:class:`ReplayCache`), keyed by :meth:`DPoPProof.replay_key` until :attr:`DPoPProof.expires_at`;
9. ``nonce`` equals the server's when the caller requires one (:class:`NonceIssuer`);
10. ``ath`` is the base64url SHA-256 of the access token presented with the proof, when one is.

Header parameters that point at keys elsewhere (``jku``, ``x5u``, ``x5c``, ``kid``...) are
refused: the proof's key is the ``jwk`` member and nothing else. Errors are
:class:`auth_core.errors.InvalidDPoPProofError` (``invalid_dpop_proof``) with a ``reason`` for
logs, and :class:`auth_core.errors.UseDPoPNonceError` when a fresh nonce is needed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from auth_core._b64 import b64url_decode_unchecked, b64url_encode
from auth_core._json import loads_object
from auth_core.algorithms import VerificationKey, public_key_from_members
from auth_core.errors import AuthError, InvalidDPoPProofError, UseDPoPNonceError
from auth_core.jwa import ALGORITHMS
from auth_core.jwk import jwk_thumbprint

__all__ = [
    "DPOP_TYP",
    "DPoPProof",
    "DPoPVerifier",
    "MemoryReplayCache",
    "NonceIssuer",
    "ReplayCache",
    "access_token_hash",
    "normalize_htu",
]

DPOP_TYP = "dpop+jwt"
#: a proof carries one public key and a handful of claims; RSA-4096 keys fit well under this
MAX_PROOF_LENGTH = 4096
MAX_JTI_LENGTH = 256
#: the only header members a proof may have (RFC 9449 §4.2); anything naming another key source
#: or changing how the JWS is processed is refused
_HEADER_MEMBERS = frozenset({"typ", "alg", "jwk"})
_COMPACT = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")
_METHOD = re.compile(r"[A-Z]{1,16}")
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: RFC 3986 §2.3 unreserved characters: percent-encodings of these are decoded (§6.2.2.2)
_UNRESERVED = "-._~"
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
#: the only RSA public exponent a proof key may have (65537, base64url)
RSA_EXPONENT = "AQAB"
#: verified proof headers remembered per verifier (one per client key in use)
_KNOWN_KEYS_MAX = 256


@dataclass(frozen=True)
class DPoPProof:
    """A proof that passed every check but replay (the caller's cache decides that).

    :ivar jkt: the RFC 7638 thumbprint of the proof's key: what ``cnf.jkt`` binds a token to.
    """

    jkt: str
    jti: str
    iat: int
    htm: str
    htu: str
    #: when the proof stops being acceptable: the last moment its ``jti`` must be remembered
    expires_at: int

    def replay_key(self) -> str:
        """The replay cache's key: the ``jti`` is unique per key, not globally (§11.1)."""
        return hashlib.sha256(f"{self.jkt}.{self.jti}".encode()).hexdigest()


class ReplayCache(Protocol):
    """Remembers proofs until they expire; says whether one is seen for the first time."""

    def first_use(self, key: str, expires_at: int) -> bool:
        """``True`` the first time ``key`` is offered before ``expires_at``; ``False`` after.

        :raises StoreUnavailableError: the cache could not answer (the caller refuses: fail closed).
        """
        ...


class MemoryReplayCache:
    """A bounded per-process replay cache: one Lambda instance's memory of recent proofs.

    Alone it cannot stop a proof replayed to *another* instance; the authorizer puts it in front
    of the shared DynamoDB check (``auth_core.stores.dpop``) so that a replay to the same
    instance costs no network call. When full, the entry that expires first is dropped, which is
    safe only because the shared check behind it still remembers (or the proof has expired).
    """

    def __init__(self, capacity: int = 4096, *, clock: Callable[[], float] = time.time) -> None:
        self._capacity = capacity
        self._clock = clock
        self._seen: OrderedDict[str, int] = OrderedDict()

    def first_use(self, key: str, expires_at: int) -> bool:
        now = int(self._clock())
        seen = self._seen.get(key)
        if seen is not None and seen >= now:
            return False
        self._seen[key] = expires_at
        self._seen.move_to_end(key)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True


def access_token_hash(access_token: str) -> str:
    """``ath`` (§4.2): base64url(SHA-256(ASCII of the token))."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


@functools.lru_cache(maxsize=512)
def normalize_htu(url: str) -> str:
    """The URL a proof's ``htu`` is compared as (§4.3 step 9, RFC 3986 §6.2.2-6.2.3).

    Scheme and host lower-cased, the scheme's default port dropped, an empty path made ``/``,
    percent-encodings of unreserved characters decoded and the others' hex upper-cased, ``.``
    and ``..`` segments removed; query and fragment dropped. Only ``http`` and ``https`` URLs
    with a host are accepted.

    :raises ValueError: not an absolute http(s) URL.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError("htu is not a URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        raise ValueError("htu is not an absolute http(s) URL")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = _remove_dot_segments(_normalize_percent(parts.path)) or "/"
    return urlunsplit((scheme, host, path, "", ""))


def _normalize_percent(path: str) -> str:
    """Decode percent-encoded unreserved characters (§6.2.2.2), upper-case the others' hex (§6.2.2.1)."""
    return _PERCENT.sub(_percent_form, path) if "%" in path else path


def _percent_form(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char.isascii() and (char.isalnum() or char in _UNRESERVED) else match.group(0).upper()


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = "/" if path.endswith(("/.", "/..")) else ""
    return "/" + "/".join(output) + trailing


class NonceIssuer:
    """Server-provided nonces (§8, §9) without state: ``window.HMAC(key, window)``.

    A nonce is valid in the window it was issued in and the next one, so a client that got one
    just before the window turned still succeeds. Forging one needs the key. ``window_seconds``
    bounds how long a proof made with one nonce can be pre-computed by a thief holding the
    private key for a moment, which is what nonces are for.
    """

    def __init__(
        self, key: bytes, *, window_seconds: int = 300, clock: Callable[[], float] = time.time
    ) -> None:
        if len(key) < 32:
            raise ValueError("the nonce key must have at least 256 bits")
        self._key = key
        self._window = window_seconds
        self._clock = clock

    def _for(self, window: int) -> str:
        mac = hmac.new(self._key, f"dpop-nonce.{window}".encode(), hashlib.sha256).digest()[:18]
        return f"{window:x}.{b64url_encode(mac)}"

    def current(self) -> str:
        """The nonce to send in ``DPoP-Nonce`` now."""
        return self._for(int(self._clock()) // self._window)

    def is_valid(self, nonce: str) -> bool:
        if not nonce.isascii():  # compare_digest takes ASCII strings only; ours are
            return False
        window = int(self._clock()) // self._window
        return any(hmac.compare_digest(nonce, self._for(w)) for w in (window, window - 1))


class DPoPVerifier:
    """Checks proofs (module docstring). Stateless but for the clock; replay is the caller's.

    :param algorithms: the ``alg`` values accepted (``dpop_signing_alg_values_supported``); a
        subset of the registry's, all asymmetric.
    :param max_age: how old a proof's ``iat`` may be, in seconds.
    :param leeway: clock skew allowed both ways, in seconds.
    """

    def __init__(
        self,
        *,
        algorithms: Iterable[str] = ALGORITHMS,
        max_age: int = 60,
        leeway: int = 5,
        clock: Callable[[], float] = time.time,
        nonces: NonceIssuer | None = None,
    ) -> None:
        self.algorithms = tuple(algorithms)
        unknown = set(self.algorithms) - set(ALGORITHMS)
        if unknown or not self.algorithms:
            raise ValueError(f"DPoP algorithms must be among {', '.join(ALGORITHMS)}")
        self.max_age = max_age
        self.leeway = leeway
        self.nonces = nonces
        self.clock = clock
        #: verified header segment -> (key, thumbprint): see :meth:`verify`
        self._keys: dict[str, tuple[VerificationKey, str]] = {}

    def verify(
        self,
        proof: object,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        require_nonce: bool = False,
        expected_jkt: str | None = None,
    ) -> DPoPProof:
        """Check ``proof`` for a ``method`` request to ``url``; with ``access_token`` also ``ath``.

        The cheap checks (claims, the key's thumbprint against ``expected_jkt``) come before the
        signature, so a proof that cannot pass costs no public-key operation.

        :param url: the request's URL as the client addressed it (scheme, host, path).
        :param require_nonce: a server nonce must be present and valid (needs ``nonces``).
        :param expected_jkt: the thumbprint the proof's key must have (a bound token's ``cnf.jkt``):
            ``dpop_key_mismatch`` otherwise.
        :raises InvalidDPoPProofError: any check failed (``reason`` says which).
        :raises UseDPoPNonceError: the nonce is required and missing, stale or wrong.
        """
        segment, claims, signing_input, signature = _parse(proof)
        # A client signs every proof with one key, so its header segment repeats: a header that
        # passed every check and led to a verified signature is remembered with its key (the
        # header's checks and the key are a pure function of the segment; only verified ones
        # enter, and the table is bounded).
        known = self._keys.get(segment)
        key, jkt = known if known is not None else self._header_key(segment)
        checked = self._check_claims(claims, jkt, method, url, access_token, require_nonce)
        if expected_jkt is not None and not hmac.compare_digest(jkt, expected_jkt):
            raise InvalidDPoPProofError(reason="dpop_key_mismatch")
        try:
            key.verify(signature, signing_input)
        except AuthError as exc:
            raise InvalidDPoPProofError(reason="dpop_signature") from exc
        if known is None:
            if len(self._keys) >= _KNOWN_KEYS_MAX:
                self._keys.clear()
            self._keys[segment] = (key, jkt)
        return checked

    def _header_key(self, segment: str) -> tuple[VerificationKey, str]:
        """The header's checks (typ, alg, members) and its key with the key's thumbprint."""
        try:
            header = loads_object(b64url_decode_unchecked(segment))
        except ValueError as exc:
            raise InvalidDPoPProofError(reason="dpop_malformed") from exc
        if not _HEADER_MEMBERS.issuperset(header):
            raise InvalidDPoPProofError(reason="dpop_header")
        if header.get("typ") != DPOP_TYP:
            raise InvalidDPoPProofError(reason="dpop_typ")
        alg = header.get("alg")
        if type(alg) is not str or alg not in self.algorithms:
            raise InvalidDPoPProofError(reason="dpop_alg")
        return _proof_key(alg, header.get("jwk"))

    def _check_claims(
        self,
        claims: Mapping[str, Any],
        jkt: str,
        method: str,
        url: str,
        access_token: str | None,
        require_nonce: bool,
    ) -> DPoPProof:
        jti = claims.get("jti")
        if type(jti) is not str or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise InvalidDPoPProofError(reason="dpop_jti")
        htm = claims.get("htm")
        if type(htm) is not str or _METHOD.fullmatch(htm) is None or htm != method.upper():
            raise InvalidDPoPProofError(reason="dpop_htm")
        htu = claims.get("htu")
        try:
            matches = type(htu) is str and normalize_htu(htu) == normalize_htu(url)
        except ValueError:
            matches = False
        if not matches:
            raise InvalidDPoPProofError(reason="dpop_htu")
        iat = claims.get("iat")
        if type(iat) is not int:
            raise InvalidDPoPProofError(reason="dpop_iat")
        now = int(self.clock())
        if iat > now + self.leeway or iat < now - self.max_age - self.leeway:
            raise InvalidDPoPProofError(reason="dpop_iat")
        if access_token is not None:
            ath = claims.get("ath")
            if (
                type(ath) is not str
                or not ath.isascii()  # compare_digest takes ASCII strings only
                or not hmac.compare_digest(ath, access_token_hash(access_token))
            ):
                raise InvalidDPoPProofError(reason="dpop_ath")
        if require_nonce:
            nonce = claims.get("nonce")
            if self.nonces is None or type(nonce) is not str or not self.nonces.is_valid(nonce):
                raise UseDPoPNonceError(self.nonces.current() if self.nonces else "")
        return DPoPProof(
            jkt=jkt,
            jti=jti,
            iat=iat,
            htm=htm,
            htu=htu,  # type: ignore[arg-type]  # checked above
            expires_at=iat + self.max_age + self.leeway,
        )


def _parse(proof: object) -> tuple[str, dict[str, Any], bytes, bytes]:
    """(header segment, claims, signing input, signature): the header is decoded by the caller."""
    if type(proof) is not str or len(proof) > MAX_PROOF_LENGTH:
        raise InvalidDPoPProofError(reason="dpop_malformed")
    match = _COMPACT.fullmatch(proof)
    if match is None:
        raise InvalidDPoPProofError(reason="dpop_malformed")
    try:
        claims = loads_object(b64url_decode_unchecked(match.group(2)))
        signature = b64url_decode_unchecked(match.group(3))
    except ValueError as exc:
        raise InvalidDPoPProofError(reason="dpop_malformed") from exc
    return match.group(1), claims, proof[: match.end(2)].encode("ascii"), signature


def _proof_key(alg: str, jwk: object) -> tuple[VerificationKey, str]:
    """The proof's public key bound to ``alg``, and its thumbprint."""
    if not isinstance(jwk, dict):
        raise InvalidDPoPProofError(reason="dpop_jwk")
    # RSA: the exponent every client uses, nothing larger (a huge e makes each verify cost
    # milliseconds: a denial of service through an unauthenticated header)
    if jwk.get("kty") == "RSA" and jwk.get("e") != RSA_EXPONENT:
        raise InvalidDPoPProofError(reason="dpop_jwk")
    try:
        jkt = jwk_thumbprint(jwk)
        return public_key_from_members(alg, jkt, jwk), jkt
    except (AuthError, TypeError, ValueError) as exc:
        raise InvalidDPoPProofError(reason="dpop_jwk") from exc
