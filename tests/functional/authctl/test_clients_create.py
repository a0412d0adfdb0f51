"""``authctl clients create`` for browser and mobile apps: redirect URIs, public clients, flags.

A client with a redirect URI gets the code flow (authorization_code + refresh_token) unless told
otherwise; the password grant is never a default (RFC 9700 §2.4) and never for a public client.
A refused URI is one line on stderr and exit 2, and nothing is written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from auth_core.stores.clients import ClientStore
from authctl.cli import main


def create(capsys: Any, *argv: str) -> tuple[int, dict[str, Any] | None, list[str]]:
    code = main(["clients", "create", *argv])
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("authctl: error:")]
    return code, (json.loads(out) if code == 0 else None), errors


def stored(client_id: str) -> Any:
    return ClientStore("clients", cache_ttl=0).get(client_id)


def test_a_browser_app_gets_the_code_flow_by_default(stack, capsys):
    code, doc, _ = create(
        capsys, "spa", "--public", "--redirect-uri", "https://app.example.com/cb",
        "--redirect-uri", "http://127.0.0.1/cb", "--post-logout-redirect-uri", "https://app.example.com/",
        "--first-party", "--scopes", "openid", "profile",
    )  # fmt: skip
    assert code == 0 and doc is not None
    assert doc["grants"] == ["authorization_code", "refresh_token"]
    assert doc["redirect_uris"] == ["https://app.example.com/cb", "http://127.0.0.1/cb"]
    assert doc["post_logout_redirect_uris"] == ["https://app.example.com/"]
    assert doc["first_party"] is True and "client_secret" not in doc and "require_par" not in doc
    client = stored("spa")
    assert client.grant_types == ("authorization_code", "refresh_token")
    assert client.redirect_uris == ("https://app.example.com/cb", "http://127.0.0.1/cb")
    assert client.post_logout_redirect_uris == ("https://app.example.com/",)
    assert (client.first_party, client.require_par, client.confidential) == (True, False, False)


def test_a_confidential_web_app_with_par(stack, capsys):
    code, doc, _ = create(
        capsys, "web", "--confidential", "--require-par", "--redirect-uri", "https://web.example.com/cb"
    )
    assert code == 0 and doc is not None
    assert doc["client_secret"] and doc["require_par"] is True
    client = stored("web")
    assert client.confidential and client.require_par and not client.first_party
    assert client.grant_types == ("authorization_code", "refresh_token")


def test_a_native_app_with_a_private_use_scheme(stack, capsys):
    code, doc, _ = create(capsys, "ios", "--redirect-uri", "com.example.app:/oauth2redirect")
    assert code == 0 and doc is not None
    assert stored("ios").redirect_uris == ("com.example.app:/oauth2redirect",)


def test_the_password_grant_only_when_named_and_only_with_a_secret(stack, capsys):
    code, doc, _ = create(
        capsys, "legacy", "--confidential", "--redirect-uri", "https://l.example.com/cb",
        "--grants", "authorization_code", "refresh_token", "password",
    )  # fmt: skip
    assert code == 0 and doc is not None and "password" in doc["grants"]
    code, _, errors = create(
        capsys, "pub", "--public", "--redirect-uri", "https://p.example.com/cb", "--grants", "password"
    )
    assert code == 2 and len(errors) == 1 and "confidential" in errors[0]
    assert stored("pub") is None


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--redirect-uri", "http://app.example.com/cb"], "loopback"),  # plain http off loopback
        (["--redirect-uri", "http://localhost:8080/cb"], "localhost"),
        (["--redirect-uri", "https://app.example.com/cb#frag"], "fragment"),
        (["--redirect-uri", "javascript:alert(1)"], "private-use"),
        (
            [
                "--redirect-uri",
                "https://ok.example.com/cb",
                "--post-logout-redirect-uri",
                "http://evil.example/",
            ],
            "loopback",
        ),
    ],
)
def test_a_bad_redirect_uri_is_one_line_and_exit_2(stack, capsys, argv, says):
    code, _, errors = create(capsys, "bad", *argv)
    assert code == 2
    assert len(errors) == 1 and says in errors[0]
    assert stored("bad") is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--public", "--confidential", "--redirect-uri", "https://a.example/cb"],  # argparse usage error
        ["--grants", "authorization_code"],  # the code flow needs a redirect URI
        ["--confidential", "--grants", "client_credentials", "--redirect-uri", "https://a.example/cb"],
        ["--confidential", "--grants", "client_credentials", "--first-party"],
        ["--confidential", "--grants", "client_credentials", "--require-par"],
        ["--public", "--grants", "client_credentials"],
        [],  # nothing to go on: --grants is required without a redirect URI
    ],
)
def test_inconsistent_flags_are_refused(stack, capsys, argv):
    with pytest.raises(SystemExit) if argv[:2] == ["--public", "--confidential"] else _nothing():
        code, _, errors = create(capsys, "odd", *argv)
        assert code == 2 and len(errors) == 1
    assert stored("odd") is None


class _nothing:  # noqa: N801 - a null context manager named for the test's reading
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False
