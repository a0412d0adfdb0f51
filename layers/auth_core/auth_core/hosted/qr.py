"""The enrolment page's QR code as inline SVG, drawn on the server (segno, pure Python).

Imported only by the enrolment page: no other page, and no other function, pays for segno.
The SVG carries no script and no ``style`` attribute (the pages' CSP allows neither); its
modules are one ``path`` with presentation attributes, which CSP does not govern.
"""

from __future__ import annotations

import segno

__all__ = ["qr_svg"]


def qr_svg(data: str) -> str:
    """``data`` as an ``<svg>`` element (error correction M, 4 px modules, a quiet zone)."""
    code = segno.make(data, error="m", micro=False)
    svg = str(code.svg_inline(scale=4, dark="#000", light="#fff"))  # no <title>: the page has one
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1)
