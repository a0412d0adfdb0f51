"""RFC 6750 bearer grammar (docs/threat-model.md T-HTTP-1..13)."""

from __future__ import annotations

import pytest

from auth_core.authorizer.bearer import MAX_CREDENTIALS_LENGTH, parse_bearer
from auth_core.errors import TokenError

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"


@pytest.mark.parametrize(
    "value",
    [
        f"Bearer {JWT}",  # T-HTTP-1
        f"bearer {JWT}",  # T-HTTP-2
        f"BEARER {JWT}",
        f"BeArEr {JWT}",
        f"Bearer  {JWT}",  # T-HTTP-3: 1*SP
        f"  Bearer {JWT}  ",  # T-HTTP-9: surrounding OWS trimmed
        f"\tBearer {JWT}\t",
    ],
)
def test_parse_bearer_accepts_rfc6750_credentials(value: str) -> None:
    assert parse_bearer(value) == JWT


def test_parse_bearer_keeps_b64token_padding_and_symbols() -> None:
    assert parse_bearer("Bearer a-b.c_d~e+f/g==") == "a-b.c_d~e+f/g=="


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing_token"),
        ("", "missing_token"),
        ("   ", "missing_token"),
        (123, "missing_token"),
        (["Bearer x"], "missing_token"),
        ("Bearer", "bad_bearer"),  # T-HTTP-6
        ("Bearer ", "bad_bearer"),
        (f"Bearer\t{JWT}", "bad_bearer"),  # T-HTTP-4
        (JWT, "bad_bearer"),  # T-HTTP-5
        (f"Bearer {JWT} {JWT}", "bad_bearer"),  # T-HTTP-7
        (f"Bearer {JWT},Bearer {JWT}", "bad_bearer"),
        (f"Bearer {JWT};", "bad_bearer"),
        ("Basic dXNlcjpwYXNz", "bad_bearer"),  # T-HTTP-8
        (f"DPoP {JWT}", "bad_bearer"),
        (f"Token {JWT}", "bad_bearer"),
        (f"Bearer {JWT}é", "bad_bearer"),  # T-HTTP-13
        ("Bearer ｅｙＪ", "bad_bearer"),
        (f"Bearer {JWT}\n", "bad_bearer"),
        (f"Bearer ={JWT}", "bad_bearer"),  # "=" only as trailing padding
        (f"Bearer {JWT}=a", "bad_bearer"),
        ("Bearer " + "a" * MAX_CREDENTIALS_LENGTH, "bad_bearer"),
        (f"Bearerx {JWT}", "bad_bearer"),
    ],
)
def test_parse_bearer_rejects(value: object, reason: str) -> None:
    with pytest.raises(TokenError) as info:
        parse_bearer(value)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    "value",
    [
        f"Bearer {JWT}",
        f"bearer  {JWT}",
        f"Bearer\t{JWT}",
        JWT,
        f"Bearer {JWT} x",
        f"Basic {JWT}",
        f"Bearer,{JWT}",
    ],
)
def test_known_token_shortcut_accepts_exactly_the_same_language(value: str) -> None:
    def outcome(**kw: object) -> str:
        try:
            return parse_bearer(value, **kw)  # type: ignore[arg-type]
        except TokenError as exc:
            return f"error:{exc.reason}"

    assert outcome(known={JWT}) == outcome()
