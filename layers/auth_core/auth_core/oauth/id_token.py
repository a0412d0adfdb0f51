"""OpenID Connect ID tokens (Core §2, §3.1.3.6): signing, and reading an ``id_token_hint``.

An ID token tells the client who signed in; it is not an access token and must never pass as
one, so its header says ``typ: JWT`` (verifiers of access tokens demand ``at+jwt``, RFC 9068
§4) and its ``aud`` is the client, not the API. Claims: ``iss``, ``sub``, ``aud`` (the client
id), ``exp``, ``iat``, ``auth_time``, ``nonce`` (when the request had one), ``at_hash`` (the
left half of the hash of the access token issued with it, base64url: the hash of the JWS
algorithm, SHA-256 for ``RS256``/``PS256``/``ES256``, SHA-512 for ``EdDSA`` over Ed25519),
``sid`` (the single sign-on session, for logout) and ``amr``.

Signed by the existing JWS code (``auth_core.jws``) with the key the key provider hands out for
ID tokens (``get_id_token_key()``: RS256 whatever ``SIGNING_ALG`` is, as OpenID Connect
requires every provider to support) or, without that method, the access-token signing key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auth_core._b64 import b64url_encode
from auth_core._json import dumps_compact
from auth_core.errors import (
    ConfigurationError,
    InvalidAudienceError,
    InvalidIssuerError,
    MalformedTokenError,
)
from auth_core.jwk import KeyProvider
from auth_core.jws import encode_header, sign_compact, verify_compact
from auth_core.mfa.policy import acr_for

__all__ = [
    "ID_TOKEN_TYP",
    "IdTokenHint",
    "IssuedWithIdToken",
    "at_hash",
    "id_token_key",
    "read_hint",
    "sign_id_token",
]

#: the ``typ`` of ID tokens, normalised (RFC 7515 §4.1.9)
ID_TOKEN_TYP = "application/jwt"

#: claims :func:`sign_id_token` sets (or may set): extra claims never replace them
_ID_TOKEN_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "amr", "acr"}
)


def id_token_key(keys: Any) -> Any:
    """The key ID tokens are signed with: ``keys.get_id_token_key()`` when the provider has it."""
    getter = getattr(keys, "get_id_token_key", None)
    return getter() if callable(getter) else keys.get_signing_key()


def at_hash(access_token: str, alg: str) -> str:
    """OpenID Connect Core §3.1.3.6: base64url of the left half of the hash of the token's ASCII."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(access_token.encode("ascii")).digest()
    return b64url_encode(digest[: len(digest) // 2])


def sign_id_token(
    key: Any,
    *,
    issuer: str,
    subject: str,
    client_id: str,
    issued_at: int,
    expires_at: int,
    auth_time: int,
    access_token: str | None,
    nonce: str | None = None,
    session_id: str | None = None,
    amr: tuple[str, ...] = (),
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """A signed ID token (compact JWS, header ``{"alg", "typ": "JWT", "kid"}``).

    :param extra_claims: claims added last (the custom claims hook's, already checked); one
        that names a claim set here is refused.
    :raises ConfigurationError: an extra claim would override one set here.
    """
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "exp": expires_at,
        "iat": issued_at,
        "auth_time": auth_time,
    }
    if nonce:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["at_hash"] = at_hash(access_token, key.alg)
    if session_id:
        claims["sid"] = session_id
    if amr:
        claims["amr"] = list(amr)
        claims["acr"] = acr_for(amr)  # OpenID Connect Core §2: the level the methods reached
    if extra_claims:
        if not _ID_TOKEN_CLAIMS.isdisjoint(extra_claims):
            raise ConfigurationError("extra claims may not override ID token claims")
        claims.update(extra_claims)
    return sign_compact(encode_header(key, "JWT"), dumps_compact(claims), key)


@dataclass(frozen=True)
class IssuedWithIdToken:
    """An issued access token (``IssuedToken``'s fields) and the ID token that goes with it,
    for ``responses.token_body``."""

    issued: Any
    id_token: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.issued, name)


@dataclass(frozen=True)
class IdTokenHint:
    """What an ``id_token_hint`` says (signature and issuer checked; expiry deliberately not)."""

    subject: str
    client_id: str
    session_id: str | None


def read_hint(token: str, keys: KeyProvider, *, issuer: str) -> IdTokenHint:
    """Check an ``id_token_hint`` (OpenID Connect RP-Initiated Logout §2): signed by one of our
    published keys, issued by us. An expired hint is accepted: logging out with an old ID token
    is the common case, and the hint only names whose session to end.

    :raises TokenError: not an ID token of ours.
    :raises KeyStoreError: the public keys could not be loaded.
    """
    _header, claims = verify_compact(token, _id_token_keys(keys), typ=ID_TOKEN_TYP)
    if claims.get("iss") != issuer:
        raise InvalidIssuerError("iss", "not our ID token")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if len(audiences) != 1 or not isinstance(audiences[0], str) or not audiences[0]:
        raise InvalidAudienceError("aud", "an ID token names exactly one client")
    sub, sid = claims.get("sub"), claims.get("sid")
    if not isinstance(sub, str) or not sub:
        raise MalformedTokenError("no subject", reason="missing_sub")
    return IdTokenHint(sub, audiences[0], sid if isinstance(sid, str) and sid else None)


def _id_token_keys(keys: Any) -> Any:
    """The keys that verify ID tokens: the ID-token lineage and the main lineage's RS256 keys
    (``JWKSet.id_token_keys``). A provider's plain ``get_verification_key`` is the access-token
    lookup, which refuses ID-token lineage keys on purpose: with it, no hint signed under a
    non-RS256 deployment's ID-token key would ever verify."""
    jwks = keys.jwks() if callable(getattr(keys, "jwks", None)) else keys
    narrowed = getattr(jwks, "id_token_keys", None)
    return narrowed() if callable(narrowed) else keys
