"""The mailer: templates (escaping, refused links and header injection) and the SES v2
``SendEmail`` request it makes (shape, signing, error mapping) against a scripted loopback server."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest

from auth_core import aws_json
from auth_core.errors import MailDeliveryError
from auth_core.mail import (
    SEND_EMAIL_PATH,
    Mailer,
    Message,
    default_transport,
    mask,
    password_changed_email,
    reset_email,
    verification_email,
)
from auth_core.settings import Settings

LINK = "https://auth.example.com/verify?code=1&x=<y>"


def test_templates_escape_every_value_in_html() -> None:
    msg = verification_email("a@example.com", brand="<b>Acme</b>", code="12<34", link=LINK, minutes=15)
    assert "<b>Acme</b>" not in msg.html and "&lt;b&gt;Acme&lt;/b&gt;" in msg.html
    assert "12&lt;34" in msg.html
    assert 'href="https://auth.example.com/verify?code=1&amp;x=&lt;y&gt;"' in msg.html
    assert "12<34" in msg.text and LINK in msg.text  # the text part is text
    assert msg.subject == "<b>Acme</b>: verify your email address"


def test_reset_and_changed_notices() -> None:
    reset = reset_email("a@example.com", brand="Acme", code="778899", link=LINK, minutes=10)
    assert "778899" in reset.text and "10 minutes" in reset.text and "reset" in reset.subject
    changed = password_changed_email("a@example.com", brand="Acme")
    assert "changed" in changed.subject
    assert "http" not in changed.text and "href" not in changed.html  # no link, no secret


@pytest.mark.parametrize("link", ["javascript:alert(1)", "http://evil.example/", "data:text/html,x", ""])
def test_links_must_be_https(link: str) -> None:
    with pytest.raises(ValueError, match="link"):
        verification_email("a@example.com", brand="Acme", code="1", link=link, minutes=5)


def test_loopback_http_links_are_for_the_local_stack() -> None:
    msg = reset_email("a@example.com", brand="Acme", code="1", link="http://127.0.0.1:3000/r", minutes=5)
    assert "http://127.0.0.1:3000/r" in msg.text


@pytest.mark.parametrize(
    ("to", "brand"),
    [("a@example.com\r\nBcc: x@evil.example", "Acme"), ("a@example.com", "Acme\nBcc: x"), ("nobody", "A")],
)
def test_no_header_injection_and_one_address(to: str, brand: str) -> None:
    with pytest.raises(ValueError):
        password_changed_email(to, brand=brand)


def test_mask_hides_the_local_part() -> None:
    assert mask("alice@example.com") == "a***@example.com"
    assert mask("nonsense") == "***"


def test_request_shape_and_configuration_set() -> None:
    sent: list[Mapping[str, Any]] = []

    def transport(request: Mapping[str, Any]) -> Mapping[str, Any]:
        sent.append(request)
        return {"MessageId": "m-1"}

    msg = password_changed_email("a@example.com", brand="Acme")
    settings = Settings(mail_from="Acme <no-reply@example.com>", mail_configuration_set="auth")
    assert Mailer.from_settings(settings, transport=transport).send(msg) == "m-1"
    assert sent == [
        {
            "FromEmailAddress": "Acme <no-reply@example.com>",
            "Destination": {"ToAddresses": ["a@example.com"]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": msg.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": msg.text, "Charset": "UTF-8"},
                        "Html": {"Data": msg.html, "Charset": "UTF-8"},
                    },
                }
            },
            "ConfigurationSetName": "auth",
        }
    ]
    assert "ConfigurationSetName" not in Mailer("no-reply@example.com").request(msg)


def test_no_sender_no_mail() -> None:
    with pytest.raises(MailDeliveryError) as info:
        Mailer("", transport=lambda _r: {"MessageId": "x"}).send(password_changed_email("a@b.c", brand="A"))
    assert info.value.reason == "mail_not_configured"


def test_a_message_with_a_newline_in_the_subject_is_refused_before_sending() -> None:
    with pytest.raises(ValueError):
        Mailer("n@example.com", transport=lambda _r: {"MessageId": "x"}).send(
            Message("a@example.com", "hi\r\nBcc: x@evil.example", "t", "h")
        )


# ----------------------------------------------------------------------------- over the wire
class _Scripted(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answer: ClassVar[tuple[int, dict[str, str], bytes]] = (200, {}, b'{"MessageId":"m-42"}')
    seen: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).seen.append((self.path, dict(self.headers), body))
        status, headers, data = type(self).answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Scripted]]:
    class Handler(_Scripted):
        seen: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
        "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_ENDPOINT_URL_SESV2": f"http://127.0.0.1:{server.server_port}",
        "AWS_CONFIG_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(name, value)
    aws_json.reset_clients()
    try:
        yield Handler
    finally:
        aws_json.reset_clients()
        server.shutdown()
        server.server_close()


def test_the_lean_client_posts_a_signed_send_email(ses: type[_Scripted]) -> None:
    msg = verification_email("a@example.com", brand="Acme", code="123456", link=LINK, minutes=15)
    assert Mailer("no-reply@example.com").send(msg) == "m-42"
    [(path, headers, body)] = ses.seen
    assert path == SEND_EMAIL_PATH
    assert headers["Content-Type"] == "application/json"
    assert "X-Amz-Target" not in headers
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/ses/aws4_request" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "token"
    assert json.loads(body) == Mailer("no-reply@example.com").request(msg)


@pytest.mark.parametrize(
    ("status", "kind", "reason"),
    [
        (400, "MessageRejected", "mail_rejected"),
        (400, "NotFoundException", "mail_rejected"),
        (429, "TooManyRequestsException", "mail_unavailable"),
        (500, "InternalFailure", "mail_unavailable"),
    ],
)
def test_errors_are_mapped_without_addresses_or_codes(
    ses: type[_Scripted], monkeypatch: pytest.MonkeyPatch, status: int, kind: str, reason: str
) -> None:
    monkeypatch.setattr(
        ses, "answer", (status, {"x-amzn-ErrorType": f"{kind}:http://x"}, b'{"message":"no"}')
    )
    monkeypatch.setattr("time.sleep", lambda _s: None)
    with pytest.raises(MailDeliveryError) as info:
        Mailer("no-reply@example.com").send(password_changed_email("alice@example.com", brand="Acme"))
    assert info.value.reason == reason
    assert info.value.status == 503
    for text in (str(info.value), info.value.description):
        assert "alice" not in text and "no-reply" not in text and kind not in text


def test_a_partition_without_a_written_out_endpoint_falls_back_to_boto3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("AWS_REGION", "us-gov-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SESV2"):
        monkeypatch.delenv(name, raising=False)
    aws_json.reset_clients()
    assert default_transport().__name__ == "_boto_send"
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert default_transport().__name__ == "lean"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_the_written_out_endpoint_is_botocores(region: str) -> None:
    boto3 = pytest.importorskip("boto3")
    client = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b").client(
        "sesv2", region_name=region
    )
    assert aws_json.resolve_endpoint("sesv2", region, env={}).url == client.meta.endpoint_url
