"""Redirect-URI registration and matching (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §4.1.3)."""

from __future__ import annotations

import pytest

from auth_core.errors import InvalidRequestError
from auth_core.redirect_uris import check_redirect_uri, check_redirect_uris, redirect_uri_matches

ALLOWED = [
    "https://app.example.com/callback",
    "https://app.example.com/cb?tenant=a",
    "http://127.0.0.1/callback",
    "http://127.0.0.1:8400/callback",
    "http://[::1]/callback",
    "com.example.app:/oauth2redirect",
    "com.example.app:/cb",
]

REFUSED = [
    "",
    "/relative/callback",
    "app.example.com/callback",
    "https://app.example.com/cb#frag",
    "https://user@app.example.com/cb",
    "https://app.example.com/c b",
    "https://app.example.com/cb\n",
    "http://app.example.com/callback",
    "http://localhost/callback",
    "http://localhost:3000/callback",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "myapp:/callback",  # a private-use scheme must be a reverse domain name
    "HTTPS://app.example.com/cb",
    "https:///cb",
    "https://" + "a" * 2000 + ".example/",
]


@pytest.mark.parametrize("uri", ALLOWED)
def test_registration_accepts(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize("uri", REFUSED)
def test_registration_refuses(uri: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_redirect_uri(uri)
    assert caught.value.reason == "redirect_uri"


def test_registration_removes_duplicates_in_order() -> None:
    uris = ["https://a.example/cb", "https://b.example/cb", "https://a.example/cb"]
    assert check_redirect_uris(uris) == ("https://a.example/cb", "https://b.example/cb")


@pytest.mark.parametrize("uri", ALLOWED)
def test_a_registered_uri_matches_itself(uri: str) -> None:
    assert redirect_uri_matches([uri], uri)


@pytest.mark.parametrize(
    "presented",
    [
        "http://127.0.0.1:51234/callback",
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1:65535/callback",
        "http://127.0.0.1/callback",
    ],
)
def test_loopback_matches_on_any_port(presented: str) -> None:
    assert redirect_uri_matches(["http://127.0.0.1/callback"], presented)
    assert redirect_uri_matches(["http://127.0.0.1:8400/callback"], presented)


LOOK_ALIKES = [
    "https://app.example.com/callback/",
    "https://app.example.com/callback?x=1",
    "https://app.example.com/callback#x",
    "https://app.example.com/Callback",
    "https://APP.example.com/callback",
    "https://app.example.com:443/callback",
    "https://app.example.com/callback/../callback",
    "https://app.example.com/%63allback",
    "https://app.example.com.evil.example/callback",
    "https://app.example.com@evil.example/callback",
    "https://evil.example/https://app.example.com/callback",
    "http://app.example.com/callback",
    "http://127.0.0.1.evil.example/callback",
    "http://127.0.0.1@evil.example/callback",
    "http://127.0.0.1:0/callback",
    "http://127.0.0.1:65536/callback",
    "http://127.0.0.1:99999/callback",
    "http://127.0.0.1:80:80/callback",
    "http://127.0.0.1:8400/callback/../evil",
    "http://127.0.0.1:8400/other",
    "http://[::1]:8400/callback",  # another loopback host than the one registered
    "http://localhost:8400/callback",
    "https://127.0.0.1:8400/callback",
    "com.example.app:/callback",
    "com.example.evil:/oauth2redirect",
    "",
]


@pytest.mark.parametrize("presented", LOOK_ALIKES)
def test_look_alikes_never_match(presented: str) -> None:
    registered = [
        "https://app.example.com/callback",
        "http://127.0.0.1/callback",
        "com.example.app:/oauth2redirect",
    ]
    assert not redirect_uri_matches(registered, presented)


def test_a_port_on_a_non_loopback_uri_must_match_exactly() -> None:
    assert not redirect_uri_matches(["https://app.example.com:8443/cb"], "https://app.example.com:9443/cb")
