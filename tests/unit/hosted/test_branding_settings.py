"""BRAND_* settings: the values reach the pages' CSS, an HTML attribute and the CSP header, so
only strict forms get through (colours fall back to the default; a bad logo URL fails fast)."""

from __future__ import annotations

import pytest

from auth_core.errors import ConfigurationError
from auth_core.settings import Settings


def test_defaults() -> None:
    s = Settings.from_env({})
    assert (s.brand_name, s.brand_logo_url) == ("Sign in", "")
    assert (s.brand_primary_color, s.brand_background_color) == ("#1f5fbf", "#f5f6f8")


def test_values_are_read() -> None:
    s = Settings.from_env(
        {
            "BRAND_NAME": "Acme",
            "BRAND_LOGO_URL": "https://cdn.example.com/logo.png",
            "BRAND_PRIMARY_COLOR": "#A01010",
            "BRAND_BACKGROUND_COLOR": "#ffffff",
        }
    )
    assert s.brand_name == "Acme"
    assert s.brand_logo_url == "https://cdn.example.com/logo.png"
    assert (s.brand_primary_color, s.brand_background_color) == ("#a01010", "#ffffff")


@pytest.mark.parametrize(
    "color", ["red", "#fff", "#12345g", "#1234567", "#123456;background:url(x)", "rgb(0,0,0)", " #12"]
)
def test_anything_but_rrggbb_is_the_default(color: str) -> None:
    s = Settings.from_env({"BRAND_PRIMARY_COLOR": color, "BRAND_BACKGROUND_COLOR": color})
    assert (s.brand_primary_color, s.brand_background_color) == ("#1f5fbf", "#f5f6f8")


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example.com/logo.png",
        "javascript:alert(1)",
        "//cdn.example.com/logo.png",
        "https:///logo.png",
        'https://cdn.example.com/"onerror="x',
        "https://cdn.example.com/a b.png",
        "https://cdn.example.com/x;script-src *",
        "https://cdn.example.com/x'",
    ],
)
def test_logo_url_must_be_a_plain_https_url(url: str) -> None:
    with pytest.raises(ConfigurationError, match="BRAND_LOGO_URL"):
        Settings.from_env({"BRAND_LOGO_URL": url})
