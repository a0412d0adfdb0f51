"""TOTP against RFC 6238's test vectors (SHA-1, truncated to 6 digits), the window, the secret and
URI formats; recovery codes' format and keyed hash; the policy's "stricter wins"."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from auth_core.mfa import policy, recovery, totp

#: RFC 6238 Appendix B, the SHA-1 key "12345678901234567890"; codes are the 8-digit ones' last 6
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode().rstrip("=")
VECTORS = [(59, "287082"), (1111111109, "081804"), (1111111111, "050471"), (1234567890, "005924"),
           (2000000000, "279037"), (20000000000, "353130")]  # fmt: skip


@pytest.mark.parametrize(("at", "code"), VECTORS)
def test_rfc_6238_vectors(at: int, code: str) -> None:
    assert totp.code_at(RFC_SECRET, at // 30) == code
    assert totp.matching_step(RFC_SECRET, code, at) == at // 30


def test_one_step_either_side_and_no_further() -> None:
    now = 1_800_000_015
    step = now // 30
    for delta, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = totp.code_at(RFC_SECRET, step + delta)
        assert (totp.matching_step(RFC_SECRET, code, now) == step + delta) is accepted, delta


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12a456", "１２３４５６", "123 45"])
def test_malformed_codes_match_nothing(bad: str) -> None:
    assert totp.matching_step(RFC_SECRET, bad, 59) is None


def test_secrets_are_160_bits_and_the_uri_is_what_apps_read() -> None:
    secret = totp.new_secret()
    assert len(totp.decode_secret(secret)) == 20 and secret != totp.new_secret()
    uri = totp.otpauth_uri(secret, issuer="Acme Sign in", account="alice@example.com")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert parts.path == "/Acme%20Sign%20in:alice@example.com"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "secret": secret,
        "issuer": "Acme Sign in",
        "algorithm": "SHA1",
        "digits": "6",
        "period": "30",
    }


def test_recovery_codes() -> None:
    codes = recovery.new_codes()
    assert len(codes) == 10 == len(set(codes))
    assert all(recovery.looks_like_recovery_code(c) for c in codes)
    code = codes[0]
    assert recovery.hash_code("u_1", code) == recovery.hash_code("u_1", code.upper().replace("-", " "))
    assert recovery.hash_code("u_1", code) != recovery.hash_code("u_2", code)  # keyed per user
    assert not recovery.looks_like_recovery_code("123456")


@pytest.mark.parametrize(
    ("user", "client", "acr", "expected"),
    [
        ("", "optional", (), "optional"),
        ("off", "off", (), "off"),
        ("off", "optional", (), "optional"),
        ("required", "off", (), "required"),
        ("optional", "required", (), "required"),
        ("bogus", "off", (), "optional"),
        ("off", "off", ("aal2",), "required"),
    ],
)
def test_the_stricter_policy_wins(user: str, client: str, acr: tuple[str, ...], expected: str) -> None:
    assert policy.effective(user, client, acr) == expected


def test_acr_follows_amr() -> None:
    assert policy.acr_for(("pwd",)) == "aal1"
    assert policy.acr_for(("pwd", "otp", "mfa")) == "aal2"
