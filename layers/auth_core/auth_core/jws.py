"""Compact JWS (RFC 7515): where tokens are **signed** and where their signature is **verified**.

Only the compact serialization with a base64url payload is supported; everything else is
refused before any cryptography runs. Checks follow this order (derived from RFC 7515 §5.2,
RFC 7519 §7.2, RFC 9068 §4; threats by id in docs/threat-model.md):

1. size cap (:data:`MAX_TOKEN_LENGTH`), ASCII, exactly three non-empty base64url segments;
2. header: canonical base64url, strict UTF-8, strict JSON object (no duplicates, NaN, BOM...);
3. header allow-list: ``alg`` one of ours (never ``none``, never HMAC), none of
   :data:`FORBIDDEN_HEADER_PARAMS`, ``typ`` the expected media type, ``kid`` a short string;
4. key lookup by ``kid`` in memory; the key's bound ``alg`` must equal the header's exactly;
5. signature: canonical base64url, exact length and shape, verified over the **received**
   ASCII bytes ``seg0.seg1`` (never re-encoded);
6. only then the payload is decoded (strict JSON object for :func:`verify_compact`).

Every rejection is a :class:`~auth_core.errors.TokenError` subclass. Low-level exceptions are
chained, never leaked. Header parameters we do not know are ignored (RFC 7515 §4), and the
header is never a source of identity (RFC 7519 §5.3).
"""

from __future__ import annotations

import re
from typing import Any

from auth_core._b64 import b64url_decode_unchecked, b64url_encode
from auth_core._json import dumps_compact, loads_object
from auth_core.algorithms import ALGORITHMS, SigningKey, VerificationKey
from auth_core.errors import (
    ForbiddenHeaderError,
    MalformedTokenError,
    UnsupportedAlgorithmError,
    WrongTokenTypeError,
)
from auth_core.jwk import KID_PATTERN, KeyProvider

__all__ = [
    "ACCESS_TOKEN_TYP",
    "FORBIDDEN_HEADER_PARAMS",
    "MAX_TOKEN_LENGTH",
    "encode_header",
    "normalize_typ",
    "parse_header",
    "sign_compact",
    "verify_claims",
    "verify_claims_and_kid",
    "verify_compact",
    "verify_signature",
]

#: Largest token accepted, in characters, checked before any decoding. Ours are < 1.5 KiB.
MAX_TOKEN_LENGTH = 8192
#: RFC 9068 §2.1 media type of JWT access tokens (``typ`` is compared after normalisation).
ACCESS_TOKEN_TYP = "application/at+jwt"
#: Header parameters that make us refuse a token (RFC 8725 §3.10, RFC 7515 §4.1.11, RFC 7797,
#: RFC 7516): key injection/fetching, critical extensions, unencoded or compressed payloads,
#: JWE markers and nesting.
FORBIDDEN_HEADER_PARAMS = frozenset(
    {"jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64", "zip", "enc", "cty"}
)

_SUPPORTED = frozenset(ALGORITHMS)
_COMPACT = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")


def normalize_typ(value: str) -> str:
    """RFC 7515 §4.1.9: media types compare case-insensitively; ``application/`` is implied."""
    value = value.lower()
    return value if "/" in value else "application/" + value


def encode_header(key: SigningKey, typ: str = "at+jwt") -> str:
    """The base64url protected header ``{"alg", "typ", "kid"}`` for ``key`` (cache it)."""
    return b64url_encode(dumps_compact({"alg": key.alg, "typ": typ, "kid": key.kid}))


def sign_compact(encoded_header: str, payload: bytes, key: SigningKey) -> str:
    """Sign ``payload`` under an already encoded header; return the compact JWS.

    :param encoded_header: from :func:`encode_header` with the same ``key``.
    """
    signing_input = f"{encoded_header}.{b64url_encode(payload)}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _split(token: object) -> re.Match[str]:
    """Step 1: size, alphabet and exactly three non-empty segments."""
    if type(token) is not str or len(token) > MAX_TOKEN_LENGTH:
        raise MalformedTokenError("token is not a compact JWS", reason="malformed_structure")
    match = _COMPACT.fullmatch(token)
    if match is None:
        raise MalformedTokenError("token is not a compact JWS", reason="malformed_structure")
    return match


def _decode_header(segment: str) -> dict[str, Any]:
    """Steps 2-3 (the parts that need no key): strict JSON object, alg, forbidden params."""
    try:
        header = loads_object(b64url_decode_unchecked(segment))
    except ValueError as exc:
        raise MalformedTokenError("malformed header", reason="malformed_header") from exc
    alg = header.get("alg")
    if type(alg) is not str or alg not in _SUPPORTED:
        raise UnsupportedAlgorithmError("algorithm not allowed")
    if not FORBIDDEN_HEADER_PARAMS.isdisjoint(header):
        raise ForbiddenHeaderError("forbidden header parameter")
    return header


def _verify_segment(match: re.Match[str], key: VerificationKey) -> None:
    """Step 5: decode the signature segment and verify it over the received bytes."""
    try:
        signature = b64url_decode_unchecked(match.group(3))
    except ValueError as exc:
        raise MalformedTokenError("malformed signature", reason="malformed_signature") from exc
    key.verify(signature, match.string[: match.end(2)].encode("ascii"))


def parse_header(token: str) -> dict[str, Any]:
    """Structural checks and the key-independent header checks; no signature check.

    For diagnostics and tests only: nothing in an unverified header may be trusted.

    :raises MalformedTokenError | UnsupportedAlgorithmError | ForbiddenHeaderError:
    """
    return _decode_header(_split(token).group(1))


def verify_signature(token: str, key: VerificationKey) -> tuple[dict[str, Any], bytes]:
    """Verify a compact JWS with one given key; return ``(header, payload bytes)``.

    The JWS layer alone: no ``typ``/``kid`` requirement and the payload need not be JSON
    (RFC test vectors). Access tokens use :func:`verify_compact`.

    :raises MalformedTokenError: structure, base64url, header JSON or payload encoding.
    :raises UnsupportedAlgorithmError: ``alg`` not ours or not the key's bound algorithm.
    :raises ForbiddenHeaderError: a parameter of :data:`FORBIDDEN_HEADER_PARAMS`.
    :raises InvalidSignatureError: the signature does not verify.
    """
    match = _split(token)
    header = _decode_header(match.group(1))
    if header["alg"] != key.alg:
        raise UnsupportedAlgorithmError("algorithm does not match the key")
    _verify_segment(match, key)
    try:
        payload = b64url_decode_unchecked(match.group(2))
    except ValueError as exc:
        raise MalformedTokenError("malformed payload", reason="malformed_payload") from exc
    return header, payload


# Headers repeat: every token signed by one key has the same header segment. A header that
# passed every check and led to a verified signature is remembered (segment, typ) -> header,
# so the next token skips its base64url + JSON + rule work. Parsing is a pure function of the
# segment, so this changes no outcome; only verified headers enter, so an attacker cannot
# fill it, and it is bounded anyway.
_VERIFIED_HEADERS: dict[tuple[str, str], dict[str, Any]] = {}
_VERIFIED_HEADERS_MAX = 64


def _verify(token: object, keys: KeyProvider, typ: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole of :func:`verify_compact`, returning the *shared* cached header (not a copy).

    One flat function on purpose: it runs once per first-sight token in the authorizer, and
    every Python call layer costs about as much as a dict lookup does.
    """
    # Step 1 (as _split does): size, alphabet, exactly three non-empty segments.
    if type(token) is not str or len(token) > MAX_TOKEN_LENGTH:
        raise MalformedTokenError("token is not a compact JWS", reason="malformed_structure")
    match = _COMPACT.fullmatch(token)
    if match is None:
        raise MalformedTokenError("token is not a compact JWS", reason="malformed_structure")
    header_segment, payload_segment, signature_segment = match.groups()
    cache_key = (header_segment, typ)
    header = _VERIFIED_HEADERS.get(cache_key)
    if header is None:
        header = _decode_header(header_segment)
        token_typ = header.get("typ")
        if type(token_typ) is not str or not token_typ.isascii() or normalize_typ(token_typ) != typ:
            raise WrongTokenTypeError("unexpected token type")
        kid = header.get("kid")
        if type(kid) is not str or KID_PATTERN.fullmatch(kid) is None:
            raise MalformedTokenError("missing or malformed kid", reason="bad_kid")
        fresh = True
    else:
        fresh = False
    key = keys.get_verification_key(header["kid"])
    if key.alg != header["alg"]:
        raise UnsupportedAlgorithmError("algorithm does not match the key")
    # Step 5 (as _verify_segment does), over the received bytes of "header.payload".
    try:
        signature = b64url_decode_unchecked(signature_segment)
    except ValueError as exc:
        raise MalformedTokenError("malformed signature", reason="malformed_signature") from exc
    key.verify(signature, token[: match.end(2)].encode("ascii"))
    if fresh:
        if len(_VERIFIED_HEADERS) >= _VERIFIED_HEADERS_MAX:
            _VERIFIED_HEADERS.clear()
        _VERIFIED_HEADERS[cache_key] = header
    try:
        claims = loads_object(b64url_decode_unchecked(payload_segment))
    except ValueError as exc:
        raise MalformedTokenError("malformed claims", reason="malformed_payload") from exc
    return header, claims


def verify_claims_and_kid(
    token: str, keys: KeyProvider, *, typ: str = ACCESS_TOKEN_TYP
) -> tuple[str, dict[str, Any]]:
    """:func:`verify_claims`, plus the ``kid`` of the key that verified the signature.

    :raises TokenError: the subclasses listed for :func:`verify_compact`.
    :raises KeyStoreError: from the key provider.
    """
    header, claims = _verify(token, keys, typ)
    return header["kid"], claims


def verify_compact(
    token: str, keys: KeyProvider, *, typ: str = ACCESS_TOKEN_TYP
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a compact JWS whose payload is a JSON object; return ``(header, claims)``.

    The claims are *only* signature-verified: validate them (``claims.py``) before use.

    :param keys: the key provider; its :class:`~auth_core.errors.KeyStoreError` propagates
        (an outage is a 5xx, not a 401).
    :param typ: the expected ``typ`` in normalised form (see :func:`normalize_typ`).
    :raises MalformedTokenError: structure, encoding, JSON, or a missing/ill-shaped ``kid``.
    :raises UnsupportedAlgorithmError: ``alg`` not ours or not the key's bound algorithm.
    :raises ForbiddenHeaderError: a parameter of :data:`FORBIDDEN_HEADER_PARAMS`.
    :raises WrongTokenTypeError: ``typ`` missing or not ``typ``.
    :raises UnknownKeyError: no trusted key has the ``kid``.
    :raises InvalidSignatureError: the signature does not verify.
    """
    header, claims = _verify(token, keys, typ)
    return dict(header), claims  # a copy: the cached header is shared by every token of its key


def verify_claims(token: str, keys: KeyProvider, *, typ: str = ACCESS_TOKEN_TYP) -> dict[str, Any]:
    """:func:`verify_compact` for callers that need only the claims (no header copy).

    Same checks, same order, same exceptions; the verifier's hot path.

    :raises TokenError: the subclasses listed for :func:`verify_compact`.
    :raises KeyStoreError: from the key provider (an outage, not the token's fault).
    """
    return _verify(token, keys, typ)[1]
