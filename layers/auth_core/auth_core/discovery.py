"""The public documents: the JWKS and the OpenID Provider / OAuth AS metadata.

These are what other verifiers (API Gateway's HTTP API JWT authorizer, aws-jwt-verify,
PyJWT's ``PyJWKClient``) read to trust our tokens, so they are built from the *published*
JWKS only and the ``issuer`` must equal the tokens' ``iss`` byte for byte.

We are an OAuth 2.0 authorization server with a token endpoint only (password,
client_credentials and refresh_token grants); there is no authorization endpoint yet. The
OpenID-required fields are present (``response_types_supported``, ``subject_types_supported``,
``id_token_signing_alg_values_supported``) because several consumers refuse a document without
them; ``response_types_supported: ["token"]`` is the truthful minimum and no
``authorization_endpoint`` is advertised.

``id_token_signing_alg_values_supported`` is ``["RS256"]`` whatever ``SIGNING_ALG`` is: OpenID
Connect Discovery 1.0 §3 requires RS256 there, and ID tokens are always signed in it (by the
RS256 main key, or by the ID-token lineage the key set keeps otherwise: ``auth_core.keyset``).
The access tokens' algorithm has no field in this document; the JWKS says it per key.

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
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
#: RFC 7662 §2.1: introspection is for authenticated confidential clients only (no "none").
INTROSPECTION_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
#: claims our access tokens may carry (RFC 9068 plus ``roles``).
CLAIMS_SUPPORTED = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "roles", "sid")


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


def openid_configuration(issuer: str, *, scopes: Iterable[str]) -> dict[str, Any]:
    """OpenID Provider metadata (also valid RFC 8414 authorization-server metadata).

    :param issuer: the exact ``iss`` of our tokens (no trailing slash).
    :param scopes: ``SCOPES_SUPPORTED``.
    """
    base = issuer.rstrip("/")
    return {
        "issuer": base,
        "jwks_uri": base + JWKS_PATH,
        "token_endpoint": base + "/token",
        "revocation_endpoint": base + "/revoke",
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ID_TOKEN_ALG],
        "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "introspection_endpoint": base + "/introspect",
        "introspection_endpoint_auth_methods_supported": list(INTROSPECTION_AUTH_METHODS),
        "scopes_supported": list(scopes),
        "claims_supported": list(CLAIMS_SUPPORTED),
    }
