"""CSRF form tokens and the cookies' names and attributes."""

from __future__ import annotations

import pytest

from auth_core.hosted import csrf
from auth_core.hosted.cookies import CookieJar, request_cookies

SECRET = csrf.new_secret()
FIELDS = {"client_id": "spa", "state": "s", "scope": "openid"}


def test_the_token_is_bound_to_the_secret_and_every_field() -> None:
    token = csrf.form_token(SECRET, csrf.SIGN_IN, FIELDS)
    assert csrf.verify(SECRET, token, csrf.SIGN_IN, dict(reversed(list(FIELDS.items()))))  # any order
    assert not csrf.verify(csrf.new_secret(), token, csrf.SIGN_IN, FIELDS)
    assert not csrf.verify(SECRET, token, csrf.SIGN_IN, {**FIELDS, "state": "t"})
    assert not csrf.verify(SECRET, token, csrf.SIGN_IN, {**FIELDS, "prompt": "none"})
    assert not csrf.verify(SECRET, token, csrf.SIGN_IN, {k: v for k, v in FIELDS.items() if k != "scope"})


def test_the_token_is_bound_to_its_pages_purpose_and_session() -> None:
    """A sign-in page's token is no consent's (nor a logout's); a consent page's token fits only
    the session it was shown to."""
    sign_in = csrf.form_token(SECRET, csrf.SIGN_IN, FIELDS)
    assert not csrf.verify(SECRET, sign_in, csrf.CONSENT, FIELDS)
    assert not csrf.verify(SECRET, sign_in, csrf.LOGOUT, FIELDS)
    consent = csrf.form_token(SECRET, csrf.CONSENT, FIELDS, session="cookie-a")
    assert csrf.verify(SECRET, consent, csrf.CONSENT, FIELDS, session="cookie-a")
    assert not csrf.verify(SECRET, consent, csrf.CONSENT, FIELDS, session="cookie-b")
    assert not csrf.verify(SECRET, consent, csrf.CONSENT, FIELDS)
    assert not csrf.verify(SECRET, consent, csrf.SIGN_IN, FIELDS, session="cookie-a")


@pytest.mark.parametrize(("secret", "token"), [(None, "x"), (SECRET, None), ("", ""), (SECRET, "é")])
def test_missing_or_odd_values_do_not_verify(secret: str | None, token: str | None) -> None:
    assert not csrf.verify(secret, token, csrf.SIGN_IN, FIELDS)


def test_no_two_field_sets_encode_alike() -> None:
    assert csrf.canonical({"a": "b&c=d"}) != csrf.canonical({"a": "b", "c": "d"})
    assert csrf.canonical({"a=b": ""}) != csrf.canonical({"a": "=b"})
    assert csrf.canonical({}, "sign_in", "x") != csrf.canonical({}, "sign_inx", "")


def test_https_cookies_are_host_prefixed_and_secure() -> None:
    jar = CookieJar.for_issuer("https://auth.example.com")
    assert (jar.session_name, jar.csrf_name) == ("__Host-session", "__Host-csrf")
    assert (
        jar.set(jar.session_name, SECRET)
        == f"__Host-session={SECRET}; Path=/; HttpOnly; SameSite=Lax; Secure"
    )
    assert jar.clear(jar.csrf_name) == "__Host-csrf=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0"


def test_plain_http_cookies_are_bare_and_not_secure() -> None:
    jar = CookieJar.for_issuer("http://127.0.0.1:3000")
    assert (jar.session_name, jar.csrf_name) == ("session", "csrf")
    assert "Secure" not in jar.set("csrf", SECRET)


def test_a_forwarded_https_only_makes_them_stricter() -> None:
    assert CookieJar.for_issuer("http://127.0.0.1:3000", {"x-forwarded-proto": "https"}).secure
    assert CookieJar.for_issuer("https://auth.example.com", {"x-forwarded-proto": "http"}).secure


def test_cookie_values_outside_the_alphabet_are_refused() -> None:
    jar = CookieJar(secure=True)
    with pytest.raises(ValueError, match="alphabet"):
        jar.set("__Host-csrf", "x; Domain=evil.example")


def test_reading_request_cookies() -> None:
    event = {"cookies": ["__Host-csrf=" + SECRET, "other=1", "dup=a", "dup=b", "junk"]}
    assert request_cookies(event) == {"__Host-csrf": SECRET, "other": "1"}
    jar = CookieJar(secure=True)
    assert jar.read(event, "__Host-csrf") == SECRET
    assert jar.read({"cookies": ["__Host-csrf=short"]}, "__Host-csrf") is None
    assert jar.read({"headers": {"Cookie": f"a=1; __Host-csrf={SECRET}"}}, "__Host-csrf") == SECRET
