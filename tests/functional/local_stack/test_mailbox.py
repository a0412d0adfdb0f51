"""The local mailbox: a message sent through the mailer (lean client, SES v2 over moto's server)
shows on ``/local/mail`` with its values escaped, and one masked console line announces it."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from auth_core import aws_json
from auth_core.mail import Mailer, verification_email
from local_stack.mailbox import CSP, MAIL_PATH, Mailbox, verify_sender


@pytest.fixture
def moto_ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(name, value)
    aws_json.reset_clients()
    try:
        yield endpoint
    finally:
        aws_json.reset_clients()
        server.stop()


def _get(port: int, target: str) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", target)
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_a_sent_message_shows_in_the_mailbox_and_on_the_console(moto_ses: str, served: Any) -> None:
    sesv2 = boto3.client("sesv2", endpoint_url=moto_ses, region_name="us-east-1")
    assert verify_sender(sesv2, "Acme <no-reply@example.com>") == "no-reply@example.com"
    lines: list[str] = []
    mailbox = Mailbox("123456789012", "us-east-1", lines.append)
    server, _invoker = served
    server.static = mailbox.response
    _, _, empty = _get(server.port, MAIL_PATH)
    assert "No mail yet." in empty

    message = verification_email(
        "alice@example.com",
        brand="<script>x</script>",
        code="424242",
        link="https://auth.example.com/verify?c=424242&n=1",
        minutes=15,
    )
    Mailer("no-reply@example.com").send(message)
    status, headers, page = _get(server.port, MAIL_PATH)
    assert status == 200
    assert headers["content-security-policy"] == CSP and "script-src" not in CSP
    assert headers["cache-control"] == "no-store"
    assert "424242" in page and "alice@example.com" in page
    assert '<a href="https://auth.example.com/verify?c=424242&amp;n=1">' in page
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page

    mailbox.announce()
    mailbox.announce()  # once per message
    assert lines == ["mail to a***@example.com: <script>x</script>: verify your email address"]


def test_other_paths_are_not_the_mailbox() -> None:
    from local_stack.apigw import HttpRequest

    mailbox = Mailbox("123456789012", "us-east-1", print)
    assert mailbox.response(HttpRequest("GET", "/local/mailx")) is None
