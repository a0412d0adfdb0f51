"""Strict OAuth request parsing (no AWS): bodies, duplicates, Basic credentials."""

from __future__ import annotations

import base64
import json

import pytest

from auth_core.errors import InvalidRequestError
from auth_core.oauth.request import MAX_BODY, parse_request


def event(body=None, *, content_type="application/x-www-form-urlencoded", headers=None, b64=False, query=""):
    hdrs = {"content-type": content_type} if content_type else {}
    hdrs.update(headers or {})
    ev = {"headers": hdrs, "rawQueryString": query, "isBase64Encoded": b64}
    if body is not None:
        ev["body"] = body
    return ev


def basic(client_id: str, secret: str) -> dict[str, str]:
    from urllib.parse import quote_plus

    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"authorization": "Basic " + base64.b64encode(raw).decode()}


def test_form_body():
    req = parse_request(event("grant_type=password&username=al%20ice&password=p%2Bw+x&client_id=c"))
    assert dict(req.params) == {
        "grant_type": "password",
        "username": "al ice",
        "password": "p+w x",
        "client_id": "c",
    }
    assert (req.client.client_id, req.client.client_secret, req.client.method) == ("c", None, "none")


def test_content_type_parameters_and_case_are_accepted():
    req = parse_request(
        event("grant_type=x", content_type="Application/X-WWW-Form-Urlencoded; charset=UTF-8")
    )
    assert req.get("grant_type") == "x"


def test_json_body():
    req = parse_request(
        event(json.dumps({"grant_type": "password", "client_id": "c"}), content_type="application/json")
    )
    assert req.get("grant_type") == "password"


def test_base64_body():
    req = parse_request(event(base64.b64encode(b"grant_type=client_credentials").decode(), b64=True))
    assert req.get("grant_type") == "client_credentials"


def test_empty_values_count_as_absent():
    req = parse_request(event("grant_type=password&scope="))
    assert req.get("scope") is None
    with pytest.raises(InvalidRequestError):
        req.require("scope")


@pytest.mark.parametrize(
    "body",
    [
        "grant_type=a&grant_type=b",
        "grant_type=a&grant_type=a",
        "scope=&scope=read",
        "a=%00",
        "a=b%0Ac",
        "a=%ff",
        "a=%C3%28",
        "=x",
        "a",
        "&&",
        "x" * (MAX_BODY + 1),
        "&".join(f"k{i}=v" for i in range(40)),
        "k=" + "v" * 9000,
    ],
)
def test_form_rejections(body):
    with pytest.raises(InvalidRequestError):
        parse_request(event(body))


@pytest.mark.parametrize(
    "body",
    [
        '{"a":"1","a":"2"}',
        '{"a":1}',
        '{"a":null}',
        '{"a":{"b":"c"}}',
        '{"a":NaN}',
        '["a"]',
        '"a"',
        "{",
        '{"a":"\\ud800"}',
        '{"a":"b\\u0000"}',
        "[" * 50_000,
    ],
)
def test_json_rejections(body):
    with pytest.raises(InvalidRequestError):
        parse_request(event(body, content_type="application/json"))


@pytest.mark.parametrize(
    "ev",
    [
        event(None),
        event(""),
        event("a=b", content_type=None),
        event("a=b", content_type="text/plain"),
        event("a=b", content_type="multipart/form-data"),
        event("a=b", query="a=b"),
        event("!!notbase64", b64=True),
        event(base64.b64encode(b"a=\xff").decode(), b64=True),
        event(base64.b64encode(b"a=" + b"x" * (MAX_BODY + 1)).decode(), b64=True),
    ],
)
def test_envelope_rejections(ev):
    with pytest.raises(InvalidRequestError):
        parse_request(ev)


def test_basic_credentials_are_form_urlencoded():
    req = parse_request(event("grant_type=client_credentials", headers=basic("my client:1", "s+c r/e:t%")))
    assert (req.client.client_id, req.client.client_secret, req.client.method) == (
        "my client:1",
        "s+c r/e:t%",
        "basic",
    )


def test_basic_scheme_is_case_insensitive():
    hdrs = basic("c", "s")
    hdrs["authorization"] = hdrs["authorization"].replace("Basic", "bAsIc")
    assert parse_request(event("a=b", headers=hdrs)).client.method == "basic"


def test_body_secret_is_client_secret_post():
    req = parse_request(event("client_id=c&client_secret=s"))
    assert (req.client.client_id, req.client.client_secret, req.client.method) == ("c", "s", "post")


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("client_secret=s", basic("c", "s")),  # two methods
        ("client_id=other", basic("c", "s")),  # mismatched ids
        ("a=b", {"authorization": "Bearer x"}),
        ("a=b", {"authorization": "Basic"}),
        ("a=b", {"authorization": "Basic ###"}),
        ("a=b", {"authorization": "Basic " + base64.b64encode(b"nocolon").decode()}),
        ("a=b", {"authorization": "Basic " + base64.b64encode(b":secret").decode()}),
        ("a=b", {"authorization": "Basic " + base64.b64encode(b"\xff:x").decode()}),
        ("a=b", {"authorization": "Basic " + base64.b64encode(b"c%ff:x").decode()}),
        ("a=b", {"authorization": "Basic " + base64.b64encode(b"c:x\x00").decode()}),
    ],
)
def test_basic_rejections(body, headers):
    with pytest.raises(InvalidRequestError):
        parse_request(event(body, headers=headers))


def test_same_client_id_in_body_and_basic_is_allowed():
    assert parse_request(event("client_id=c", headers=basic("c", "s"))).client.client_id == "c"
