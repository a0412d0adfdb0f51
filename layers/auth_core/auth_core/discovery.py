"""The public documents: the JWKS and the OpenID Provider / OAuth AS metadata.

These are what other verifiers (API Gateway's HTTP API JWT authorizer, aws-jwt-verify,
PyJWT's ``PyJWKClient``) read to trust our tokens, so they are built from the *published*
JWKS only and the ``issuer`` must equal the tokens' ``iss`` byte for byte.

One document serves both OpenID Connect Discovery 1.0 (``/.well-known/openid-configuration``)
and RFC 8414 (``/.well-known/oauth-authorization-server``): RFC 8414 §3 lets it carry the OpenID
fields, and two documents could only drift apart. (RFC 8414 puts an issuer's path *after* the
well-known segment; with a path-less issuer, the default, both URLs are at the API's root.)

What it promises, and where each promise is kept: the authorization code flow only
(``response_types_supported ["code"]``, PKCE ``S256`` only: RFC 9700 §2.1.1), answered by query
or ``form_post`` with the ``iss`` parameter (RFC 9207); pushed authorization requests (RFC 9126),
required per client, not globally; ID tokens signed with RS256 whatever ``SIGNING_ALG`` is
(OpenID Connect Discovery 1.0 §3 requires RS256 there; the RS256 main key signs them, or the
ID-token lineage the key set keeps otherwise: ``auth_core.keyset``), so RS256 is the only value;
RP-initiated logout at ``end_session_endpoint``; UserInfo; the grant types of :mod:`auth_core.grant_types`.

Caching: both documents are served with ``Cache-Control: public, max-age=N`` where
``N <= KEY_CACHE_TTL`` (a CDN or client must not keep a removed key longer than our own
verifiers do) and a strong ``ETag`` over the exact body, so a conditional request with
``If-None-Match`` costs a 304 and no body.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from auth_core.grant_types import GRANT_TYPES
from auth_core.jwa import ID_TOKEN_ALG

__all__ = [
    "AUTHORIZATION_SERVER_METADATA_PATH",
    "CLAIMS_SUPPORTED",
    "GRANT_TYPES",
    "JWKS_PATH",
    "OPENID_CONFIGURATION_PATH",
    "cache_control",
    "canonical_json",
    "etag_for",
    "etag_matches",
    "openid_configuration",
]

JWKS_PATH = "/.well-known/jwks.json"
OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration"
#: RFC 8414 §3: the same document, for OAuth clients that do not speak OpenID Connect
AUTHORIZATION_SERVER_METADATA_PATH = "/.well-known/oauth-authorization-server"
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
#: RFC 7662 §2.1: introspection is for authenticated confidential clients only (no "none").
INTROSPECTION_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
#: claims our tokens and UserInfo may carry: access tokens (RFC 9068 plus ``roles``), ID tokens
#: (OpenID Connect Core §2) and ``/userinfo`` (``preferred_username`` with scope ``profile``).
CLAIMS_SUPPORTED = (
    "iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "roles", "sid",
    "auth_time", "nonce", "at_hash", "amr", "acr", "preferred_username",
)  # fmt: skip
#: ``acr`` values (``auth_core.mfa.policy``): password only, password and a second factor
ACR_VALUES = ("aal1", "aal2")
#: OpenID Connect Core §3.1.2.1 ``prompt`` values the authorization endpoint honours.
PROMPT_VALUES = ("none", "login")
#: RFC 7636: ``plain`` is refused (RFC 9700 §2.1.1).
CODE_CHALLENGE_METHODS = ("S256",)


def canonical_json(doc: Mapping[str, Any]) -> str:
    """Compact, key-sorted JSON: identical documents give identical bytes (and ETags)."""
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def etag_for(body: str) -> str:
    """A strong ETag: the quoted base64url SHA-256 of the body (first 128 bits)."""
    digest = hashlib.sha256(body.encode()).digest()[:16]
    return '"' + base64.urlsafe_b64encode(digest).rstrip(b"=").decode() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against a list of entity tags, or ``*``."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == wanted:
            return True
    return False


def cache_control(key_cache_ttl: int, max_age: int = 300) -> str:
    """``public, max-age=min(max_age, KEY_CACHE_TTL)``."""
    return f"public, max-age={max(0, min(max_age, key_cache_ttl))}"


def openid_configuration(
    issuer: str, *, scopes: Iterable[str], dpop_algs: Iterable[str] = ()
) -> dict[str, Any]:
    """OpenID Provider metadata (also valid RFC 8414 authorization-server metadata).

    :param issuer: the exact ``iss`` of our tokens (no trailing slash).
    :param scopes: ``SCOPES_SUPPORTED``.
    :param dpop_algs: ``DPOP_SIGNING_ALGS`` (RFC 9449 §5.1); none: not advertised.
    """
    base = issuer.rstrip("/")
    doc: dict[str, Any] = {
        "issuer": base,
        "jwks_uri": base + JWKS_PATH,
        "authorization_endpoint": base + "/authorize",
        "token_endpoint": base + "/token",
        "userinfo_endpoint": base + "/userinfo",
        "end_session_endpoint": base + "/logout",
        "pushed_authorization_request_endpoint": base + "/par",
        "require_pushed_authorization_requests": False,
        "revocation_endpoint": base + "/revoke",
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "code_challenge_methods_supported": list(CODE_CHALLENGE_METHODS),
        "authorization_response_iss_parameter_supported": True,
        "prompt_values_supported": list(PROMPT_VALUES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ID_TOKEN_ALG],
        "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "introspection_endpoint": base + "/introspect",
        "introspection_endpoint_auth_methods_supported": list(INTROSPECTION_AUTH_METHODS),
        "scopes_supported": list(scopes),
        "claims_supported": list(CLAIMS_SUPPORTED),
        "acr_values_supported": list(ACR_VALUES),
    }
    if dpop_algs:
        doc["dpop_signing_alg_values_supported"] = list(dpop_algs)
    return doc
