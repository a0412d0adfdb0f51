"""Email through Amazon SES v2 ``SendEmail``: the service's three messages and one mailer.

Nothing sends mail yet; sign-up (verify your email) and forgotten-password (reset) will call
:meth:`Mailer.send` with a message built here.

Templates (:func:`verification_email`, :func:`reset_email`, :func:`password_changed_email`):
plain text plus a simple HTML part; every interpolated value is HTML-escaped in the HTML part,
a link must be ``https://`` (or ``http://`` to loopback, the local stack) and is refused
otherwise (no ``javascript:``), and the subject and address are single lines (no header
injection). The "password changed" notice carries no secret and no link that acts.

Transport, per the measured cold-start cost (this machine, CPython 3.12): the functions that
will send mail (sign-up, reset) already write DynamoDB through boto3, so boto3 is loaded there;
building one more boto3 client (``sesv2``) costs ~20 ms, the lean client (:mod:`auth_core.aws_json`,
SigV4 service ``ses``, ``POST /v2/email/outbound-emails``) ~0 ms on top of what is loaded. So
:meth:`Mailer.send` uses the lean client where :func:`auth_core.aws.lean_preferred` says so (a
Lambda, or the local stack's moto) and its endpoint is written out (the ``aws`` partition, or an
``AWS_ENDPOINT_URL[_SESV2]`` override); boto3 otherwise (FIPS, dual-stack, other partitions,
profiles, injected clients). Both answer to the invocation's deadline.

Errors: :class:`auth_core.errors.MailDeliveryError` (a 503 for the caller), ``reason``
``mail_rejected`` when SES refused the message or the sender (HTTP 4xx other than throttling:
an unverified identity, the sandbox, a suppressed address), ``mail_unavailable`` otherwise, and
``mail_not_configured`` without ``MAIL_FROM``. Neither the message nor the reason names an
address or SES's error code; log addresses only through :func:`mask`.

Import cost (``python -X importtime``, bytecode cached, this machine): ~3 ms for the module
itself; it imports only ``typing`` and :mod:`auth_core.errors`, which every function loads
already (``html`` is not imported: its entity table was ~2 ms more for an escape of five
characters). :mod:`auth_core.aws_json` or boto3 load on the first send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from auth_core.errors import MailDeliveryError

__all__ = [
    "SEND_EMAIL_PATH",
    "Mailer",
    "Message",
    "account_exists_email",
    "mask",
    "no_account_email",
    "password_changed_email",
    "reset_email",
    "verification_email",
]

#: SES v2 ``SendEmail``: a REST-JSON operation.
SEND_EMAIL_PATH = "/v2/email/outbound-emails"
#: RFC 5321: 254 octets in a forward path (320 is the sum of the parts' limits).
MAX_ADDRESS = 254

#: A transport takes the ``SendEmail`` request (wire JSON == boto3's parameters) and returns
#: its answer (``MessageId``).
Transport = Callable[[Mapping[str, Any]], Mapping[str, Any]]


class Message(NamedTuple):
    """One email: a single recipient, a one-line subject, text and HTML bodies."""

    to: str
    subject: str
    text: str
    html: str


def _escape(text: str) -> str:
    """``html.escape(text, quote=True)`` without importing ``html`` (and its entity table)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


def _line(value: str, what: str) -> str:
    if not value or any(c in value for c in "\r\n\0"):
        raise ValueError(f"{what} must be one non-empty line")
    return value


def _address(value: str) -> str:
    _line(value, "address")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or len(value) > MAX_ADDRESS or any(c.isspace() for c in value):
        raise ValueError("not an email address")
    return value


def _link(url: str) -> str:
    """``url`` if it is ``https://`` (or ``http://`` to loopback); refused otherwise."""
    _line(url, "link")
    lowered = url.lower()
    if lowered.startswith("https://"):
        return url
    if lowered.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        return url
    raise ValueError("links in email must be https://")


def mask(address: str) -> str:
    """``alice@example.com`` -> ``a***@example.com``: what a log line or console may show."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family:sans-serif;line-height:1.5;color:#1b1b1b">
<h1 style="font-size:1.25em">{title}</h1>
{body}
<p style="color:#555;font-size:.9em">{footer}</p>
</body></html>
"""


def _html(title: str, paragraphs: list[str], footer: str) -> str:
    """The HTML part; ``paragraphs`` are already escaped fragments."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return _HTML.format(title=_escape(title), body=body, footer=_escape(footer))


def _code_email(
    to: str, brand: str, code: str, link: str, minutes: int, words: tuple[str, str, str]
) -> Message:
    subject, intro, ignore = words[0], words[1].format(brand=brand), words[2]
    _address(to)
    _line(brand, "brand")
    _line(code, "code")
    _link(link)
    e = _escape
    text = (
        f"{intro}\n\nYour code: {code}\n\nOr open this link:\n{link}\n\n"
        f"The code and the link expire in {minutes} minutes and work once.\n\n{ignore}\n"
    )
    body = _html(
        subject,
        [
            e(intro),
            f'Your code: <strong style="font-size:1.4em;letter-spacing:.1em">{e(code)}</strong>',
            f'Or <a href="{e(link)}">open this link</a>.',
            f"The code and the link expire in {minutes} minutes and work once.",
        ],
        ignore,
    )
    return Message(to, _line(f"{brand}: {subject}", "subject"), text, body)


#: (subject, introduction, what to do when it was not you); ``{brand}`` is filled in.
_VERIFY = (
    "verify your email address",
    "Someone signed up to {brand} with this email address. If it was you, confirm it.",
    "If you did not sign up, ignore this email: nothing happens without the code.",
)
_RESET = (
    "reset your password",
    "Someone asked to reset the password of your {brand} account.",
    "If you did not ask, ignore this email: your password stays as it is.",
)


def verification_email(to: str, *, brand: str, code: str, link: str, minutes: int) -> Message:
    """ "Verify your email": a single-use code and a link that carries it."""
    return _code_email(to, brand, code, link, minutes, _VERIFY)


def reset_email(to: str, *, brand: str, code: str, link: str, minutes: int) -> Message:
    """ "Reset your password": a single-use code and a link that carries it."""
    return _code_email(to, brand, code, link, minutes, _RESET)


def password_changed_email(to: str, *, brand: str) -> Message:
    """ "Your password was changed": a notice, no secret and no link that acts."""
    _address(to)
    _line(brand, "brand")
    subject = "your password was changed"
    intro = f"The password of your {brand} account was just changed, and every session was signed out."
    advice = "If this was not you, reset your password now and contact your administrator."
    text = f"{intro}\n\n{advice}\n"
    body = _html(subject, [_escape(intro), _escape(advice)], "This is an automatic notice.")
    return Message(to, _line(f"{brand}: {subject}", "subject"), text, body)


def _notice(to: str, brand: str, subject: str, paragraphs: list[str], link: str = "") -> Message:
    """A notice without a code: text, and a link to a page when given."""
    _address(to)
    _line(brand, "brand")
    if link:
        _link(link)
    text = "\n\n".join(paragraphs) + (f"\n\n{link}\n" if link else "\n")
    html_parts = [_escape(p) for p in paragraphs]
    if link:
        html_parts.append(f'<a href="{_escape(link)}">{_escape(link)}</a>')
    body = _html(subject, html_parts, "This is an automatic notice.")
    return Message(to, _line(f"{brand}: {subject}", "subject"), text, body)


def account_exists_email(to: str, *, brand: str, link: str) -> Message:
    """ "Someone tried to sign up with this address": sent instead of a code when the address
    already has an account, so the sign-up answer reveals nothing (no secret; the link is the
    forgotten-password page)."""
    return _notice(
        to,
        brand,
        "sign-up attempt",
        [
            f"Someone tried to create a {brand} account with this email address, which already has one.",
            "If it was you, sign in instead, or reset your password if you forgot it:",
        ],
        link,
    )


def no_account_email(to: str, *, brand: str) -> Message:
    """ "Someone asked to reset a password for this address, which has no account": sent instead
    of a code, so the forgotten-password answer reveals nothing."""
    return _notice(
        to,
        brand,
        "password reset request",
        [
            f"Someone asked to reset the password of the {brand} account with this email address,"
            " but no account uses it (or its address was never confirmed).",
            "If you did not ask, ignore this email.",
        ],
    )


class Mailer:
    """Sends :class:`Message` s from one sender identity through SES v2 ``SendEmail``.

    :param sender: the verified identity (``MAIL_FROM``); empty: every send is refused
        (``mail_not_configured``).
    :param configuration_set: ``MAIL_CONFIGURATION_SET``, named on every message when set.
    :param transport: tests inject one; default :func:`default_transport` at each send.
    """

    def __init__(
        self, sender: str, configuration_set: str = "", *, transport: Transport | None = None
    ) -> None:
        self.sender = sender
        self.configuration_set = configuration_set
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: Any, *, transport: Transport | None = None) -> Mailer:
        """From :class:`auth_core.settings.Settings` (``mail_from``, ``mail_configuration_set``)."""
        return cls(settings.mail_from, settings.mail_configuration_set, transport=transport)

    def request(self, message: Message) -> dict[str, Any]:
        """The ``SendEmail`` request for ``message`` (wire JSON, also boto3's parameters)."""
        _address(message.to)

        def part(data: str) -> dict[str, str]:
            return {"Data": data, "Charset": "UTF-8"}

        request: dict[str, Any] = {
            "FromEmailAddress": _line(self.sender, "sender"),
            "Destination": {"ToAddresses": [message.to]},
            "Content": {
                "Simple": {
                    "Subject": part(_line(message.subject, "subject")),
                    "Body": {"Text": part(message.text), "Html": part(message.html)},
                }
            },
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        return request

    def send(self, message: Message) -> str:
        """Hand ``message`` to SES; its ``MessageId``.

        :raises MailDeliveryError: not configured, refused, or SES unreachable (see the module).
        :raises ValueError: a malformed message (a bug in the caller, not a delivery failure).
        """
        if not self.sender:
            raise MailDeliveryError("MAIL_FROM is not set", reason="mail_not_configured")
        request = self.request(message)
        transport = self._transport or default_transport()
        answer = transport(request)
        message_id = answer.get("MessageId")
        if not isinstance(message_id, str):
            raise MailDeliveryError("SES answered without a MessageId", reason="mail_unavailable")
        return message_id


def default_transport() -> Transport:
    """The lean client where :func:`auth_core.aws.lean_preferred` and an endpoint is known, else
    boto3 (see the module docstring). Errors are mapped to :class:`MailDeliveryError`."""
    from auth_core import aws, aws_json  # noqa: PLC0415 - on the first send only (cold start)

    if aws.lean_preferred("sesv2"):
        try:
            client = aws_json.client("sesv2")
        except aws_json.EndpointError:
            client = None  # a partition or variant written out only in botocore: boto3 sends
        if client is not None:
            found = client

            def lean(request: Mapping[str, Any]) -> Mapping[str, Any]:
                try:
                    return found.rest("SendEmail", SEND_EMAIL_PATH, request)
                except aws_json.AwsServiceError as exc:
                    raise _mapped(exc.status, exc.retryable) from exc
                except aws_json.AwsJsonError as exc:
                    raise MailDeliveryError("SES unreachable", reason="mail_unavailable") from exc

            return lean
    return _boto_send


def _mapped(status: int, retryable: bool) -> MailDeliveryError:
    if 400 <= status < 500 and not retryable:
        return MailDeliveryError("SES refused the message", reason="mail_rejected")
    return MailDeliveryError("SES unavailable", reason="mail_unavailable")


def _boto_send(request: Mapping[str, Any]) -> Mapping[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto3 is lazy

    from auth_core import aws  # noqa: PLC0415

    try:
        answer: Mapping[str, Any] = aws.client("sesv2").send_email(**request)
    except ClientError as exc:
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500)
        code = str(exc.response.get("Error", {}).get("Code", ""))
        from auth_core.aws_json import THROTTLING_CODES  # noqa: PLC0415

        raise _mapped(status, code in THROTTLING_CODES) from exc
    except BotoCoreError as exc:
        raise MailDeliveryError("SES unreachable", reason="mail_unavailable") from exc
    return answer
