"""Our SigV4 against botocore's ``SigV4Auth``: byte-identical ``Authorization`` headers.

This is the correctness proof of ``auth_core._sigv4`` (moto does not check signatures): a matrix
of both services, with and without a session token, several regions and dates, bodies with
unicode, hosts with and without ports.
"""

from __future__ import annotations

import datetime
import itertools
import json
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from auth_core._sigv4 import Credentials, SigV4Signer, amz_date

SERVICES = {
    "secretsmanager": ("secretsmanager.GetSecretValue", "application/x-amz-json-1.1"),
    "dynamodb": ("DynamoDB_20120810.BatchGetItem", "application/x-amz-json-1.0"),
}
REGIONS = ("us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1")
DATES = (
    datetime.datetime(2026, 11, 29, 1, 2, 3),
    datetime.datetime(2024, 2, 29, 23, 59, 59),
    datetime.datetime(2030, 1, 1, 0, 0, 0),
)
BODIES = (
    {"SecretId": "prod/public-jwks", "VersionStage": "AWSCURRENT"},
    {"RequestItems": {"t": {"Keys": [{"pk": {"S": "jti#é—🔑"}}, {"pk": {"S": "sub#ユーザー"}}]}}},
    {},
)
TOKENS = (None, "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token/with=special+chars")
HOSTS = ("{service}.{region}.amazonaws.com", "127.0.0.1:4566", "localhost:8000")


def _botocore_authorization(
    service: str,
    region: str,
    when: datetime.datetime,
    host: str,
    headers: dict[str, str],
    body: bytes,
    creds: Credentials,
) -> tuple[str, dict[str, str]]:
    scheme = "https" if host.endswith("amazonaws.com") else "http"
    request = AWSRequest(method="POST", url=f"{scheme}://{host}/", data=body, headers=dict(headers))
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(BotoCredentials(creds.access_key, creds.secret_key, creds.token), service, region).add_auth(
            request
        )
    return request.headers["Authorization"], dict(request.headers.items())


@pytest.mark.parametrize(
    ("service", "region", "when", "body", "token", "host"),
    list(itertools.product(SERVICES, REGIONS, DATES, BODIES, TOKENS, HOSTS)),
)
def test_authorization_matches_botocore(
    service: str, region: str, when: datetime.datetime, body: dict, token: str | None, host: str
) -> None:
    target, content_type = SERVICES[service]
    host = host.format(service=service, region=region)
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Host": host, "Content-Type": content_type, "X-Amz-Target": target}

    ours = SigV4Signer(service, region).sign(
        "POST", "/", headers, raw, creds, when.strftime("%Y%m%dT%H%M%SZ")
    )
    theirs, boto_headers = _botocore_authorization(service, region, when, host, headers, raw, creds)

    assert ours["Authorization"] == theirs
    assert ours["X-Amz-Date"] == boto_headers["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == boto_headers.get("X-Amz-Security-Token")


@settings(max_examples=60, deadline=None)
@given(
    secret=st.text(min_size=1, max_size=60).filter(lambda s: "\x00" not in s),
    body=st.text(max_size=200),
    padded=st.text(alphabet=" \t", max_size=3),
)
def test_authorization_matches_botocore_property(secret: str, body: str, padded: str) -> None:
    """Any secret, any unicode body, header values with stray whitespace (SigV4 Trimall)."""
    when = datetime.datetime(2026, 11, 29, 1, 2, 3)
    creds = Credentials("AKID", secret, "tok")
    headers = {
        "Host": "dynamodb.us-east-1.amazonaws.com",
        "Content-Type": f"{padded}application/x-amz-json-1.0{padded}",
        "X-Amz-Target": f"DynamoDB_20120810.GetItem{padded}  x",
    }
    raw = body.encode("utf-8")
    ours = SigV4Signer("dynamodb", "us-east-1").sign("POST", "/", headers, raw, creds, "20261129T010203Z")
    theirs, _ = _botocore_authorization("dynamodb", "us-east-1", when, headers["Host"], headers, raw, creds)
    assert ours["Authorization"] == theirs


def test_signing_key_is_cached_per_date_and_secret() -> None:
    signer = SigV4Signer("dynamodb", "us-east-1")
    first = signer.signing_key("s1", "20261129")
    assert signer.signing_key("s1", "20261129") is first
    assert signer.signing_key("s1", "20261130") != first
    assert signer.signing_key("s2", "20261130") != signer.signing_key("s1", "20261130")


def test_signature_depends_on_body_and_secret() -> None:
    headers = {"Host": "h", "Content-Type": "c", "X-Amz-Target": "t"}
    sign = SigV4Signer("dynamodb", "us-east-1").sign
    base = sign("POST", "/", headers, b"{}", Credentials("a", "s"), "20261129T010203Z")["Authorization"]
    assert (
        sign("POST", "/", headers, b"{ }", Credentials("a", "s"), "20261129T010203Z")["Authorization"] != base
    )
    assert (
        sign("POST", "/", headers, b"{}", Credentials("a", "t"), "20261129T010203Z")["Authorization"] != base
    )


def test_credentials_repr_hides_secrets() -> None:
    text = repr(Credentials("AKID", "very-secret", "session-token"))
    assert "very-secret" not in text and "session-token" not in text and "AKID" in text


def test_amz_date() -> None:
    assert amz_date(0) == "19700101T000000Z"
    moment = datetime.datetime(2026, 11, 18, 11, 6, 40, tzinfo=datetime.UTC)
    assert amz_date(moment.timestamp() + 0.9) == "20261118T110640Z"
