"""The local mailbox at ``/local/mail``: the email moto's SES captured, so sign-up and reset can
be tried without an email account. Served by the local stack only, never deployed.

moto runs in this process (:class:`local_stack.moto_backend.MotoServer`), and SES v2 ``SendEmail``
lands in its SES backend's ``sent_messages`` (moto keeps the HTML part when there is one). The
page lists them newest first: recipient, sender, subject, the body as text (tags removed, then
escaped) and its ``http(s)`` links as links. :meth:`Mailbox.watch` prints one console line per
new message (``mail to a***@example.com: <subject>``). The sender identity must be verified for
moto to accept a message: :func:`verify_sender` does it at start.

Headers as the demo page's: a ``Content-Security-Policy`` with no script at all, ``no-store``.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from auth_core.mail import mask
from local_stack import demo_site
from local_stack.apigw import HttpRequest, HttpResponse

__all__ = ["MAIL_PATH", "Mailbox", "verify_sender"]

MAIL_PATH = "/local/mail"
#: no script at all; the one inline stylesheet is the page's own
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    ("content-security-policy", CSP),
    *(h for h in demo_site.HEADERS if h[0] != "content-security-policy"),
]
_TAG = re.compile(r"<[^>]*>")
_HREF = re.compile(r'href="([^"]*)"')


def verify_sender(sesv2: Any, sender: str) -> str | None:
    """Verify ``sender``'s address (``Name <a@b>`` or ``a@b``) in moto; the address, or ``None``."""
    address = parseaddr(sender)[1]
    if "@" not in address:
        return None
    sesv2.create_email_identity(EmailIdentity=address)
    return address


class Mailbox:
    """Reads moto's SES backend for one account and region."""

    def __init__(self, account_id: str, region: str, log: Callable[[str], None]) -> None:
        self.account_id, self.region, self.log = account_id, region, log
        self._seen = 0
        self._stop = threading.Event()

    def messages(self) -> list[Any]:
        from moto.ses.models import ses_backends  # noqa: PLC0415 - moto is in-process, imported late

        return list(ses_backends[self.account_id][self.region].sent_messages)

    def announce(self) -> None:
        """One console line per message not announced yet."""
        found = self.messages()
        for message in found[self._seen :]:
            for to in (getattr(message, "destinations", None) or {}).get("ToAddresses", []):
                self.log(f"mail to {mask(to)}: {getattr(message, 'subject', '')}")
        self._seen = len(found)

    def watch(self, every: float = 0.5) -> None:
        """Announce new messages from a daemon thread until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.announce()
                except Exception as exc:  # noqa: BLE001 - keep watching
                    self.log(f"mail: {exc}")

        threading.Thread(target=loop, daemon=True, name="mailbox").start()

    def stop(self) -> None:
        self._stop.set()

    def response(self, request: HttpRequest) -> HttpResponse | None:
        """The page for ``GET /local/mail``; ``None`` for any other path."""
        if request.target.partition("?")[0].rstrip("/") != MAIL_PATH:
            return None
        if request.method.upper() not in ("GET", "HEAD"):
            return HttpResponse(405, [("allow", "GET, HEAD"), *HEADERS])
        page = render(self.messages())
        return HttpResponse(200, [("content-type", "text/html; charset=utf-8"), *HEADERS], page.encode())


def render(messages: list[Any]) -> str:
    """The mailbox page: every value escaped; only ``http(s)`` links become links."""
    e = html.escape
    items = []
    for m in reversed(messages):
        body = str(getattr(m, "body", ""))
        text = html.unescape(_TAG.sub(" ", body))
        text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
        links = [html.unescape(u) for u in _HREF.findall(body)]
        links = [u for u in links if u.lower().startswith(("https://", "http://"))]
        to = ", ".join((getattr(m, "destinations", None) or {}).get("ToAddresses", []))
        items.append(
            f"<article><h2>{e(str(getattr(m, 'subject', '')))}</h2>"
            f"<p>to {e(to)} from {e(str(getattr(m, 'source', '')))}</p>"
            f"<pre>{e(text)}</pre>"
            + "".join(f'<p><a href="{e(u)}">{e(u)}</a></p>' for u in links)
            + "</article>"
        )
    listing = "\n".join(items) or "<p>No mail yet.</p>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local mailbox</title>'
        "<style>body{font-family:sans-serif;max-width:50em;margin:auto;padding:1em}"
        "article{border-top:1px solid #ccc}pre{white-space:pre-wrap}</style></head>"
        f"<body><h1>Local mailbox ({len(messages)})</h1>{listing}</body></html>"
    )
