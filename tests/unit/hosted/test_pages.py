"""Rendering: hostile values stay text, every page has the same accessible skeleton and the same
security headers, and the CSP's hashes are the hashes of what the page holds."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from auth_core.hosted import pages
from auth_core.hosted.branding import Branding, contrast_ratio
from auth_core.http import Response
from auth_core.oauth.authorization import (
    AuthorizationRequest,
    AuthorizationResponse,
    MfaChallenge,
    NoRedirectError,
)
from auth_core.settings import Settings
from auth_core.stores.clients import Client
from tests.unit.hosted.conftest import Page

HOSTILE = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>&amp;"
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "p", "strong", "form", "input",
    "label", "button", "ul", "li", "code", "div", "img",
}  # fmt: skip
BRANDING = Branding.from_settings(Settings(brand_logo_url="https://cdn.example.com/logo.png"))


def hostile_request(**extra: Any) -> AuthorizationRequest:
    client = Client(client_id=f"client{HOSTILE}", redirect_uris=("https://app.example.com/cb",))
    return AuthorizationRequest(
        client=client,
        redirect_uri="https://app.example.com/cb",
        scope=("openid", f"scope{HOSTILE}"),
        code_challenge="c",
        state=f"state{HOSTILE}",
        login_hint=f"hint{HOSTILE}",
        form_fields={"client_id": f"client{HOSTILE}", "state": f"state{HOSTILE}", f"x{HOSTILE}": HOSTILE},
        **extra,
    )


def every_page() -> dict[str, Response]:
    request = hostile_request()
    response = AuthorizationResponse(
        "https://app.example.com/cb", {"code": f"c{HOSTILE}", "state": f"s{HOSTILE}"}, "form_post"
    )
    return {
        "sign_in": pages.sign_in_page(
            BRANDING, request, action="/authorize", csrf_token=f"t{HOSTILE}", message=pages.FAILED
        ),
        "consent": pages.consent_page(
            BRANDING, request, action="/authorize/consent", csrf_token="t", username=f"user{HOSTILE}"
        ),
        "error": pages.error_page(BRANDING, f"{NoRedirectError(f'bad {HOSTILE}')}"),
        "signed_out": pages.signed_out_page(BRANDING),
        "form_post": pages.form_post_page(BRANDING, response),
        "mfa_verify": pages.mfa_page(
            BRANDING,
            request,
            MfaChallenge(f"ticket{HOSTILE}", "verify", f"user{HOSTILE}"),
            action="/authorize/mfa",
            csrf_token="t",
            message=pages.WRONG_CODE,
        ),
        "mfa_enrol": pages.mfa_page(
            BRANDING,
            request,
            MfaChallenge(
                "ticket",
                "enrol",
                f"user{HOSTILE}",
                "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                f"otpauth://totp/x:{HOSTILE}?secret=JBSWY3DPEHPK3PXP",
                tuple(f"code-{i}{HOSTILE}" for i in range(10)),
            ),
            action="/authorize/mfa",
            csrf_token="t",
        ),
    }


PAGES = every_page()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_hostile_values_stay_text(name: str) -> None:
    body = PAGES[name].body
    assert (
        "<script>alert" not in body
        and "<img src=x" not in body
        and "onerror=alert" not in body.replace("onerror=alert(2)&gt;", "")
    )
    page = Page(body)
    tags = {tag for tag, _ in page.tags}
    allowed = ALLOWED_TAGS | ({"script"} if name == "form_post" else set())
    allowed |= {"svg", "g", "path"} if name == "mfa_enrol" else set()  # the QR code, drawn here
    assert tags <= allowed, tags - allowed
    # the values come back intact once the browser decodes them
    if name in ("sign_in", "consent", "mfa_verify", "mfa_enrol"):
        assert page.fields()[f"x{HOSTILE}"] == HOSTILE and page.fields()["state"] == f"state{HOSTILE}"
        assert f"client{HOSTILE}" in page.words()
    if name == "form_post":
        assert page.fields() == {"code": f"c{HOSTILE}", "state": f"s{HOSTILE}"}
        assert page.scripts == [pages.FORM_POST_SCRIPT]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_accessible_skeleton(name: str) -> None:
    page = Page(PAGES[name].body)
    assert page.all("html")[0]["lang"] == "en"
    assert len(page.all("title")) == 1 and len(page.all("h1")) == 1
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in page.all("meta")
    ids = {a["id"] for a in page.all("input") if "id" in a}
    assert {a["for"] for a in page.all("label")} == ids  # every visible input has its label
    assert all(a["alt"] for a in page.all("img"))


def test_sign_in_form_fields() -> None:
    page = Page(PAGES["sign_in"].body)
    inputs = {a["name"]: a for a in page.all("input")}
    assert inputs["username"]["autocomplete"] == "username"
    assert inputs["username"]["value"] == f"hint{HOSTILE}"  # login_hint pre-fills
    assert (
        inputs["password"]["autocomplete"] == "current-password" and inputs["password"]["type"] == "password"
    )
    assert "value" not in inputs["password"]
    assert [b.get("type") for b in page.all("button")] == ["submit"]
    assert pages.FAILED in page.words()


def test_request_fields_never_shadow_the_forms_own() -> None:
    request = hostile_request()
    sneaky = AuthorizationRequest(
        **{**request.__dict__, "form_fields": {"username": "x", "password": "y", "csrf_token": "z", "a": "b"}}
    )
    page = Page(pages.sign_in_page(BRANDING, sneaky, action="/authorize", csrf_token="real").body)
    names = [a["name"] for a in page.all("input")]
    assert sorted(names) == ["a", "csrf_token", "password", "username"]
    assert page.fields()["csrf_token"] == "real"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_security_headers_and_csp(name: str) -> None:
    response = PAGES[name]
    h = response.headers
    assert h["Content-Type"] == "text/html; charset=utf-8"
    assert (h["X-Frame-Options"], h["Referrer-Policy"], h["Cache-Control"], h["X-Content-Type-Options"]) == (
        "DENY",
        "no-referrer",
        "no-store",
        "nosniff",
    )
    csp = dict(d.split(" ", 1) for d in h["Content-Security-Policy"].split("; "))
    assert (
        csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'"
    )
    assert "unsafe-inline" not in h["Content-Security-Policy"]
    [style] = Page(response.body).styles
    assert csp["style-src"] == _hash(style)
    assert csp["img-src"] == "'self' https://cdn.example.com"
    if name in ("sign_in", "consent", "form_post", "mfa_verify", "mfa_enrol"):
        assert csp["form-action"] == "'self' https://app.example.com"
    else:
        assert csp["form-action"] == "'self'"
    if name == "form_post":
        assert csp["script-src"] == _hash(pages.FORM_POST_SCRIPT)
    else:
        assert "script-src" not in csp


def test_redirects_carry_the_headers_too() -> None:
    response = pages.redirect("https://app.example.com/cb?code=x", ["a=b; Path=/"])
    assert response.status_code == 302 and response.headers["Location"] == "https://app.example.com/cb?code=x"
    assert (
        response.headers["Cache-Control"] == "no-store"
        and response.headers["Referrer-Policy"] == "no-referrer"
    )
    assert response.to_payload()["cookies"] == ["a=b; Path=/"]


@pytest.mark.parametrize(
    ("uri", "source"),
    [
        ("https://App.example.com:8443/cb?x=1", "https://app.example.com:8443"),
        ("http://127.0.0.1:51234/cb", "http://127.0.0.1:51234"),
        ("http://[::1]:8080/cb", "http://[::1]:8080"),
        ("com.example.app:/oauth", "com.example.app:"),
        ("https://user:pw@app.example.com/", "https://app.example.com"),
        ("https://app.example.com;script-src */", None),
        ("no-scheme", None),
    ],
)
def test_csp_source_of_a_redirect_uri(uri: str, source: str | None) -> None:
    assert pages.csp_source(uri) == source


def _hash(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


# --------------------------------------------------------------------------- branding
def test_branding_in_the_page() -> None:
    branding = Branding.from_settings(
        Settings(brand_name=f"Acme{HOSTILE}", brand_primary_color="#a01010", brand_background_color="#102030")
    )
    body = pages.signed_out_page(branding).body
    assert "background:#102030" in body and "background:#a01010" in body
    assert f"Signed out - Acme{HOSTILE}" in " ".join(Page(body).text)
    assert "<script>alert" not in body


def test_branding_rechecks_values_built_in_code() -> None:
    branding = Branding.from_settings(
        Settings(brand_primary_color="red;}body{display:none", brand_logo_url="javascript:alert(1)")
    )
    assert "red;" not in branding.css and branding.logo_url == "" and branding.logo_origin == ""


@pytest.mark.parametrize("primary", ["#1f5fbf", "#ffeb3b", "#000000", "#ffffff", "#777777"])
def test_button_and_link_colours_keep_contrast(primary: str) -> None:
    css = Branding.from_settings(Settings(brand_primary_color=primary)).css
    on_primary = css.split(".primary{background:")[1].split(";color:")[1].split("}")[0]
    assert contrast_ratio(on_primary, primary) >= 4.5
    link = css.split("a{color:")[1].split("}")[0]
    assert contrast_ratio(link, "#ffffff") >= 4.5


def test_the_second_factor_pages() -> None:
    verify = Page(PAGES["mfa_verify"].body)
    inputs = {a["name"]: a for a in verify.all("input")}
    assert inputs["code"]["autocomplete"] == "one-time-code" and "value" not in inputs["code"]
    assert inputs["mfa_ticket"]["type"] == "hidden" and verify.fields()["mfa_ticket"] == f"ticket{HOSTILE}"
    assert pages.WRONG_CODE in verify.words()
    assert "svg" not in {tag for tag, _ in verify.tags}  # segno is only for the enrolment page
    enrol = PAGES["mfa_enrol"].body
    assert "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in Page(enrol).words()
    assert all(f"code-{i}" in enrol for i in range(10))
    assert "<svg " in enrol and "style=" not in enrol.split("<svg", 1)[1].split("</svg>", 1)[0]
