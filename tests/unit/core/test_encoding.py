"""Strict base64url and strict JSON: the two parsers every token byte goes through."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auth_core._b64 import b64url_decode, b64url_encode
from auth_core._json import MAX_DEPTH, dumps_compact, loads_object


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=100))
def test_base64url_round_trip(data):
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ \n.", max_size=24))  # noqa: E501
def test_base64url_decoding_is_canonical(text):
    """Exactly one accepted spelling per byte string: decode succeeds only if re-encoding gives it back."""
    try:
        data = b64url_decode(text)
    except ValueError:
        return
    assert b64url_encode(data) == text


@pytest.mark.parametrize(
    "text",
    # "YWJ": 'J' has one of its two unused low bits set; "YR": 'R' sets unused bits too.
    ["a", "YR", "YWJ", "YWI=", "YWI==", "Y W", "YW\n", "+/8", "YQ==", "AAAAB", "é", "YWJj="],
)
def test_base64url_rejects(text):
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_base64url_accepts_canonical_short_forms():
    assert b64url_decode("") == b""
    assert b64url_decode("YQ") == b"a"
    assert b64url_decode("YWI") == b"ab"
    assert b64url_decode("-_8") == b"\xfb\xff"


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":NaN}', b'{"a":Infinity}', b'{"a":-Infinity}', b'{"a":1e309}', b'{"a":-1e400}',
        b'{"a":1,"a":1}', b'{"o":{"b":1,"b":2}}', b'{"a":[{"x":1,"x":1}]}',
        b"\xef\xbb\xbf{}", b" {}", b"{}x", b"{}{}", b"[]", b'"s"', b"1", b"null", b"",
        '{"a":1}'.encode("utf-16"), '{"a":1}'.encode("utf-32"), b'{"a":"\xff"}', b'{"a":"\xed\xa0\x80"}',
        b'{"a":"\\ud800"}', b'{"a":"\\uDFFF"}', b'{"\\ud83d":1}', b'{"a":"x\x1fy"}', b"{'a':1}",
        b'{"a":' + b"9" * 4301 + b"}",
        b'{"a":' + b"[" * (MAX_DEPTH) + b"]" * (MAX_DEPTH) + b"}",
        b'{"a":' + b"{" * 5000,
    ],
)
def test_strict_json_rejects(data):
    with pytest.raises(ValueError):
        loads_object(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b'{"a":1.5,"b":-0.0,"c":[true,false,null],"d":"\\ud83d\\ude00"}',
            {"a": 1.5, "b": -0.0, "c": [True, False, None], "d": "\U0001f600"},
        ),
        (b'{"a":' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}", None),
        (b'{"s":"' + b"[" * 50 + b"{" * 40 + b'"}', None),  # brackets inside strings do not nest
        (b'{"s":"\\\\ud800"}', {"s": "\\ud800"}),
        ('{"é":"ü"}'.encode(), {"é": "ü"}),
        (b'{ "a" : 1 }', {"a": 1}),
        (b'{"a":1}\n ', {"a": 1}),  # RFC 8259 allows trailing whitespace; a leading "{" is required
    ],
)
def test_strict_json_accepts(data, expected):
    obj = loads_object(data)
    assert obj == (json.loads(data) if expected is None else expected)


def test_dumps_compact_is_utf8_and_refuses_nan():
    assert dumps_compact({"a": "é", "b": [1]}) == '{"a":"é","b":[1]}'.encode()
    with pytest.raises(ValueError):
        dumps_compact({"a": float("nan")})
