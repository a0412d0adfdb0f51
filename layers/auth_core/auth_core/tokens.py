"""Access tokens (RFC 9068): the issue and verify recipes the functions call.

* :class:`AccessTokenIssuer` builds the claims set and signs it with a key handed in by the
  caller (normally ``SigningKeyStore.get_signing_key()``): header
  ``{"alg", "typ": "at+jwt", "kid"}``; claims ``iss, sub, aud, exp, iat, jti, client_id, scope``
  plus ``roles``, ``sid`` (the session a token belongs to) and extra claims. The encoded header
  is cached per key.
* :class:`AccessTokenVerifier` runs :func:`auth_core.jws.verify_claims` (the checks of
  :func:`~auth_core.jws.verify_compact`: structure, header, key by ``kid``, signature; without
  the header copy) and then :func:`auth_core.claims.validate_access_token_claims`.
  It raises only :class:`~auth_core.errors.TokenError` subclasses for a bad token; a key-store
  outage surfaces as :class:`~auth_core.errors.KeyStoreError` (5xx), never as a 401.

Build one of each per execution environment (outside the handler) so the caches survive warm
invocations.

Example::

    issuer = AccessTokenIssuer("https://auth.example.com", "api", ttl=900)
    issued = issuer.issue(keys.get_signing_key(), subject="alice", client_id="web", scope=["read"])
    verifier = AccessTokenVerifier(ClaimsPolicy("https://auth.example.com", "api"), public_keys)
    claims = verifier.verify(issued.token)
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from auth_core._b64 import b64url_encode
from auth_core._json import dumps_compact
from auth_core.claims import (
    MAX_SESSION_ID,
    REGISTERED_CLAIMS,
    AccessTokenClaims,
    ClaimsPolicy,
    validate_access_token_claims,
)
from auth_core.errors import ConfigurationError, InvalidScopeError
from auth_core.jwk import KeyProvider, SigningKey
from auth_core.jws import ACCESS_TOKEN_TYP, encode_header, sign_compact, verify_claims_and_kid

__all__ = [
    "AccessTokenClaims",
    "AccessTokenIssuer",
    "AccessTokenVerifier",
    "ClaimsPolicy",
    "IssuedToken",
]

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_HEADER_CACHE_SIZE = 8


# Not a dataclass: on the authorizer's cold path, see docs/architecture.md.
class IssuedToken(NamedTuple):
    """A freshly signed access token and the facts a token response needs."""

    token: str
    jti: str
    issued_at: int
    expires_at: int
    expires_in: int
    scope: tuple[str, ...]
    #: ``Bearer``, or ``DPoP`` for a token bound to a key by ``cnf.jkt`` (RFC 9449 §5)
    token_type: str = "Bearer"

    def __repr__(self) -> str:  # never print the token itself
        return f"IssuedToken(jti={self.jti!r}, expires_at={self.expires_at}, scope={self.scope!r})"


def _scopes(scope: Iterable[str]) -> tuple[str, ...]:
    if isinstance(scope, str):
        scope = scope.split(" ")
    out: dict[str, None] = {}
    for item in scope:
        if not item:
            continue
        if type(item) is not str or _SCOPE_TOKEN.fullmatch(item) is None:
            raise InvalidScopeError("invalid scope value")
        out[item] = None
    return tuple(out)


class AccessTokenIssuer:
    """Signs RFC 9068 access tokens.

    :param issuer: ``iss`` of every token (exact string verifiers compare against).
    :param audience: ``aud`` of every token.
    :param ttl: lifetime in seconds (``exp - iat``).
    :param clock: epoch-seconds clock, injectable for tests.
    """

    __slots__ = ("_audience", "_clock", "_headers", "_issuer", "_ttl")

    def __init__(self, issuer: str, audience: str, ttl: int, clock: Callable[[], float] = time.time) -> None:
        if not issuer or not audience:
            raise ConfigurationError("issuer and audience are required to issue tokens")
        if type(ttl) is not int or ttl <= 0:
            raise ConfigurationError("access token ttl must be a positive integer")
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._clock = clock
        self._headers: dict[tuple[str, str], str] = {}

    @property
    def issuer(self) -> str:
        """The ``iss`` it signs (ID tokens issued with its tokens carry the same)."""
        return self._issuer

    def _header(self, key: SigningKey) -> str:
        cache_key = (key.kid, key.alg)
        header = self._headers.get(cache_key)
        if header is None:
            if len(self._headers) >= _HEADER_CACHE_SIZE:
                self._headers.clear()
            header = self._headers[cache_key] = encode_header(key, "at+jwt")
        return header

    def issue(
        self,
        key: SigningKey,
        *,
        subject: str,
        client_id: str,
        scope: Iterable[str],
        roles: Iterable[str] = (),
        extra_claims: Mapping[str, Any] | None = None,
        session_id: str | None = None,
        confirmation: str | None = None,
    ) -> IssuedToken:
        """Sign a new access token for ``subject`` acting through ``client_id``.

        :param scope: granted scopes (deduplicated, order kept); a string is split on spaces.
        :param roles: added as a ``roles`` array when non-empty.
        :param extra_claims: additional public claims; may not name a registered claim.
        :param session_id: the ``sid`` claim: the session (refresh-token family) the token is
            issued from, so revoking the session can refuse every token of it. A named parameter,
            not an extra claim, because verifiers act on it.
        :param confirmation: the RFC 7638 thumbprint of the client's DPoP key: the token carries
            ``cnf.jkt`` and is usable only with proofs signed by that key (RFC 9449 §6.1).
        :raises InvalidScopeError: a scope value outside the RFC 6749 §3.3 grammar.
        :raises ConfigurationError: empty subject/client id, an extra claim that overrides a
            registered one, an empty or overlong session id, or a value JSON cannot represent.
        """
        if type(subject) is not str or not subject or type(client_id) is not str or not client_id:
            raise ConfigurationError("subject and client_id must be non-empty strings")
        scopes = _scopes(scope)
        issued_at = int(self._clock())
        expires_at = issued_at + self._ttl
        jti = b64url_encode(os.urandom(16))  # 128 random bits (what secrets.token_urlsafe does)
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": subject,
            "aud": self._audience,
            "exp": expires_at,
            "iat": issued_at,
            "jti": jti,
            "client_id": client_id,
            "scope": " ".join(scopes),
        }
        role_list = list(roles)
        if role_list:
            if not all(type(role) is str and role for role in role_list):
                raise ConfigurationError("roles must be non-empty strings")
            claims["roles"] = role_list
        if session_id is not None:
            if type(session_id) is not str or not 0 < len(session_id) <= MAX_SESSION_ID:
                raise ConfigurationError("session_id must be a non-empty string of at most 128 characters")
            claims["sid"] = session_id
        if confirmation is not None:
            claims["cnf"] = {"jkt": confirmation}
        if extra_claims:
            if not REGISTERED_CLAIMS.isdisjoint(extra_claims):
                raise ConfigurationError("extra claims may not override registered claims")
            claims.update(extra_claims)
        try:
            payload = dumps_compact(claims)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError("claims are not representable as JSON") from exc
        token = sign_compact(self._header(key), payload, key)
        token_type = "Bearer" if confirmation is None else "DPoP"
        return IssuedToken(token, jti, issued_at, expires_at, self._ttl, scopes, token_type)


class AccessTokenVerifier:
    """Verifies access tokens against a key provider and a :class:`ClaimsPolicy`.

    :param policy: issuer, audience, leeway and maximum lifetime.
    :param keys: key provider (``get_verification_key(kid)``), e.g. ``PublicKeyStore`` or
        :class:`~auth_core.jwk.JWKSet`.
    :param clock: epoch-seconds clock, injectable for tests.
    """

    __slots__ = ("_clock", "_keys", "_policy")

    def __init__(
        self, policy: ClaimsPolicy, keys: KeyProvider, clock: Callable[[], float] = time.time
    ) -> None:
        self._policy = policy
        self._keys = keys
        self._clock = clock

    @property
    def policy(self) -> ClaimsPolicy:
        """The claims policy in force."""
        return self._policy

    def verify(self, token: str) -> AccessTokenClaims:
        """Verify ``token`` completely; return its claims.

        :raises TokenError: the specific subclass for the first failed check (see
            :mod:`auth_core.jws` and :mod:`auth_core.claims`).
        :raises KeyStoreError: the key provider failed (not the token's fault).
        """
        kid, claims = verify_claims_and_kid(token, self._keys, typ=ACCESS_TOKEN_TYP)
        return validate_access_token_claims(claims, self._policy, self._clock(), kid)
