"""Discovery documents, ETags and cache headers (auth_core.discovery)."""

from __future__ import annotations

import pytest

from auth_core.discovery import (
    cache_control,
    canonical_json,
    etag_for,
    etag_matches,
    openid_configuration,
)
from auth_core.grant_types import GRANT_TYPES
from auth_core.jwa import ALGORITHMS
from auth_core.settings import SIGNING_ALGORITHMS, Settings


def test_openid_configuration_fields():
    doc = openid_configuration("https://auth.example.com", scopes=("openid", "read"))
    assert doc["issuer"] == "https://auth.example.com"
    assert doc["jwks_uri"] == "https://auth.example.com/.well-known/jwks.json"
    assert doc["token_endpoint"] == "https://auth.example.com/token"
    assert doc["revocation_endpoint"] == "https://auth.example.com/revoke"
    assert doc["grant_types_supported"] == list(GRANT_TYPES)
    assert doc["response_types_supported"] == ["code"]
    assert doc["response_modes_supported"] == ["query", "form_post"]
    assert doc["code_challenge_methods_supported"] == ["S256"]  # never "plain" (RFC 9700 §2.1.1)
    assert doc["authorization_response_iss_parameter_supported"] is True  # RFC 9207
    assert doc["require_pushed_authorization_requests"] is False  # required per client, not for all
    assert doc["prompt_values_supported"] == ["none", "login"]
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    methods = ["client_secret_basic", "client_secret_post", "none"]
    assert doc["token_endpoint_auth_methods_supported"] == methods
    assert doc["revocation_endpoint_auth_methods_supported"] == doc["token_endpoint_auth_methods_supported"]
    assert doc["introspection_endpoint"] == "https://auth.example.com/introspect"
    introspection_methods = doc["introspection_endpoint_auth_methods_supported"]
    assert introspection_methods == ["client_secret_basic", "client_secret_post"]  # no "none"
    assert doc["scopes_supported"] == ["openid", "read"]
    assert {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"} <= set(doc["claims_supported"])
    for name, path in {
        "authorization_endpoint": "/authorize",
        "userinfo_endpoint": "/userinfo",
        "end_session_endpoint": "/logout",
        "pushed_authorization_request_endpoint": "/par",
    }.items():
        assert doc[name] == "https://auth.example.com" + path
    assert {"auth_time", "nonce", "at_hash", "amr", "preferred_username"} <= set(doc["claims_supported"])


@pytest.mark.parametrize("alg", SIGNING_ALGORITHMS)
def test_strict_openid_and_rfc8414_validators_accept_the_document(alg):
    """Authlib's validators (OpenID Connect Discovery 1.0 with RP-initiated logout, RFC 8414, RFC
    9207) accept the document whatever SIGNING_ALG is: RS256 is always listed for ID tokens."""
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
    from authlib.oauth2.rfc9207 import AuthorizationServerMetadata as IssParameterMetadata
    from authlib.oidc import rpinitiated
    from authlib.oidc.discovery import OpenIDProviderMetadata

    settings = Settings(signing_alg=alg)
    doc = openid_configuration("https://auth.example.com", scopes=("openid", "profile"))
    assert settings.signing_alg == alg
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    OpenIDProviderMetadata(doc).validate(
        metadata_classes=[rpinitiated.OpenIDProviderMetadata, IssParameterMetadata]
    )
    AuthorizationServerMetadata(doc).validate()


def test_issuer_trailing_slash_is_not_doubled():
    doc = openid_configuration("https://a.example/", scopes=())
    assert (
        doc["issuer"] == "https://a.example" and doc["jwks_uri"] == "https://a.example/.well-known/jwks.json"
    )


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_id_tokens_are_rs256_whatever_the_signing_algorithm(alg, monkeypatch):
    """OpenID Connect Discovery 1.0 §3: RS256 MUST be among the ID-token algorithms; the key set
    keeps an RS256 ID-token lineage whenever SIGNING_ALG is another one (auth_core.keyset)."""
    settings = Settings(signing_alg=alg)
    doc = openid_configuration("https://auth.example.com", scopes=settings.scopes_supported)
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]


def test_canonical_json_is_order_independent():
    expected = '{"a":[1,2],"b":1}'
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1}) == expected


def test_etag_is_strong_and_content_addressed():
    tag = etag_for("abc")
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert tag == etag_for("abc") != etag_for("abd")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ('"x"', False),
        ("{tag}", True),
        ("W/{tag}", True),
        ('"x", {tag}', True),
        ("*", True),
    ],
)
def test_etag_matches(header, expected):
    tag = etag_for("body")
    value = header.format(tag=tag) if header else header
    assert etag_matches(value, tag) is expected


@pytest.mark.parametrize(("ttl", "expected"), [(300, 300), (60, 60), (3600, 300), (0, 0)])
def test_cache_control_never_exceeds_key_cache_ttl(ttl, expected):
    assert cache_control(ttl) == f"public, max-age={expected}"
