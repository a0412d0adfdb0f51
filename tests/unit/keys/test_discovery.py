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


def test_openid_configuration_fields():
    doc = openid_configuration(
        "https://auth.example.com", signing_algs=["RS256", "ES256", "RS256"], scopes=("openid", "read")
    )
    assert doc["issuer"] == "https://auth.example.com"
    assert doc["jwks_uri"] == "https://auth.example.com/.well-known/jwks.json"
    assert doc["token_endpoint"] == "https://auth.example.com/token"
    assert doc["revocation_endpoint"] == "https://auth.example.com/revoke"
    assert doc["grant_types_supported"] == [
        "authorization_code",
        "password",
        "client_credentials",
        "refresh_token",
    ]
    assert doc["response_types_supported"] == ["token"]
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
    methods = ["client_secret_basic", "client_secret_post", "none"]
    assert doc["token_endpoint_auth_methods_supported"] == methods
    assert doc["revocation_endpoint_auth_methods_supported"] == doc["token_endpoint_auth_methods_supported"]
    assert doc["introspection_endpoint"] == "https://auth.example.com/introspect"
    introspection_methods = doc["introspection_endpoint_auth_methods_supported"]
    assert introspection_methods == ["client_secret_basic", "client_secret_post"]  # no "none"
    assert doc["scopes_supported"] == ["openid", "read"]
    assert {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"} <= set(doc["claims_supported"])
    assert "authorization_endpoint" not in doc


def test_issuer_trailing_slash_is_not_doubled():
    doc = openid_configuration("https://a.example/", signing_algs=["RS256"], scopes=())
    assert (
        doc["issuer"] == "https://a.example" and doc["jwks_uri"] == "https://a.example/.well-known/jwks.json"
    )


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
