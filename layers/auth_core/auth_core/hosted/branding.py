"""The deployment's branding (``BRAND_*`` settings), checked again and turned into CSS once.

:class:`~auth_core.settings.Settings` already refuses unsafe values when it reads the
environment, but a ``Settings(...)`` built in code skips that; the pages put these values into
CSS, an attribute and a header, so :meth:`Branding.from_settings` re-checks them (defence in
depth, once per execution environment).

Colour contrast (WCAG 2.2 §1.4.3, 4.5:1 for text) cannot be left to whoever picks the colour:
the button's text is black or white, whichever contrasts more with the primary colour (one of
the two always reaches 4.58:1), and links fall back to the default colour when the primary one
is too light on the white card.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from auth_core.settings import Settings

__all__ = ["Branding", "contrast_ratio", "csp_hash"]

_COLOR = re.compile(r"#[0-9a-f]{6}")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f\"'<>\\;,`]")
_DEFAULT_PRIMARY = Settings._field_defaults["brand_primary_color"]
_DEFAULT_BACKGROUND = Settings._field_defaults["brand_background_color"]
_BLACK = "#000000"
_WHITE = "#ffffff"

_CSS = """\
*,*::before,*::after{box-sizing:border-box}
body{margin:0;background:%(background)s;color:#1a1a1a;font:100%%/1.5 system-ui,\
-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:.5rem;\
box-shadow:0 1px 4px rgba(0,0,0,.25)}
@media (max-width:30rem){main{margin:0;border-radius:0;box-shadow:none;min-height:100vh;padding:1rem}}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
p,li,code,strong{overflow-wrap:anywhere}
.logo{display:block;max-width:100%%;max-height:4rem;margin:0 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{display:block;width:100%%;padding:.625rem;font:inherit;color:inherit;background:#fff;\
border:1px solid #6b6b6b;border-radius:.25rem}
button{font:inherit;font-weight:600;padding:.625rem 1rem;border-radius:.25rem;cursor:pointer;\
border:2px solid %(primary)s}
.primary{background:%(primary)s;color:%(on_primary)s}
.secondary{background:#fff;color:%(link)s;border-color:%(link)s}
form>.primary{width:100%%;margin-top:1.5rem}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.5rem}
.actions button{flex:1 1 8rem}
a{color:%(link)s}
:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px;box-shadow:0 0 0 5px #fff}
.alert{margin:0 0 1rem;padding:.75rem;border-left:4px solid #b00020;background:#fdecee}
.scopes{padding-left:1.25rem}
.muted{color:#505050;font-size:.875rem}
"""


def _luminance(color: str) -> float:
    """WCAG 2.2 relative luminance of ``#rrggbb``."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _color(value: str, default: str) -> str:
    value = value.strip().lower()
    return value if _COLOR.fullmatch(value) else default


@dataclass(frozen=True)
class Branding:
    """What the pages show of the deployment, and the stylesheet made of it.

    :ivar css: the one ``<style>`` element's text; :ivar style_hash: its CSP source
        (``'sha256-...'``), so no ``unsafe-inline`` is needed.
    :ivar logo_origin: the logo's ``scheme://host[:port]`` for ``img-src`` (empty: no logo).
    """

    name: str
    logo_url: str
    logo_origin: str
    css: str
    style_hash: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Branding:
        primary = _color(settings.brand_primary_color, _DEFAULT_PRIMARY)
        background = _color(settings.brand_background_color, _DEFAULT_BACKGROUND)
        on_primary = max((_WHITE, _BLACK), key=lambda c: contrast_ratio(c, primary))
        link = primary if contrast_ratio(primary, _WHITE) >= 4.5 else _DEFAULT_PRIMARY
        css = _CSS % {"background": background, "primary": primary, "on_primary": on_primary, "link": link}
        logo_url, logo_origin = settings.brand_logo_url.strip(), ""
        parts = urlsplit(logo_url)
        if parts.scheme == "https" and parts.hostname and not _URL_UNSAFE.search(logo_url):
            logo_origin = f"https://{parts.netloc.rpartition('@')[2]}"
        else:
            logo_url = ""
        return cls(
            name=settings.brand_name.strip() or Settings._field_defaults["brand_name"],
            logo_url=logo_url,
            logo_origin=logo_origin,
            css=css,
            style_hash=csp_hash(css),
        )


def csp_hash(text: str) -> str:
    """The CSP hash source of an inline element's exact text (CSP Level 3 §2.3.1)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"  # standard base64, padded
