"""The boto3-free client goes where botocore goes (issue 12).

For a table of regions in every partition x ``AWS_USE_FIPS_ENDPOINT`` x
``AWS_USE_DUALSTACK_ENDPOINT`` x endpoint variables (and DynamoDB's account endpoints), both
clients make the same request under the same environment and the test compares what would go
on the wire: scheme, host, port and the region in the SigV4 credential scope. botocore's request
is caught in its ``before-send`` event (after endpoint resolution and signing); the lean
client's in a fake ``http.client`` connection. Nothing connects anywhere. When botocore refuses
the settings, the lean client must refuse them too (:class:`EndpointError`), not guess.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import botocore
import botocore.session
import pytest

from auth_core import aws_json

DATA = Path(botocore.__file__).parent / "data"
CLEARED = (
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_SECRETSMANAGER",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ACCOUNT_ID",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AUTH_ALLOW_INSECURE_ENDPOINT_HOSTS",
)
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
#: The call each service makes in the table (boto3 method names; DynamoDB's also the lean ones).
OPERATIONS = {"secretsmanager": "get_secret_value", "dynamodb": "get_item"}
KEY = {"pk": {"S": "k"}}

# --------------------------------------------------------------------------- the table
#: Every partition (its first region, a second one where the rule sets special-case regions,
#: its global pseudo region), a region no partition matches, and botocore's pseudo regions.
REGIONS = (
    "us-east-1",
    "eu-west-1",
    "aws-global",
    "cn-north-1",
    "cn-northwest-1",
    "aws-cn-global",
    "us-gov-west-1",
    "us-gov-east-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
    "us-isof-south-1",
    "us-isof-east-1",
    "eusc-de-east-1",
    "xx-unknown-1",
    "ap-nowhere-9",
    "cn-south-5",
    "us-gov-south-4",
    "us-iso-south-9",
    "eu-isoe-north-7",
    "us-isof-west-9",
    "aws-iso-e-global",
    "aws-iso-f-global",
    "fips-us-gov-west-1",
    "us-east-1-fips",
    "local",
    "bad.region",
    "-us-east-1",
)
FLAGS = ({}, {"AWS_USE_FIPS_ENDPOINT": "true"}, {"AWS_USE_DUALSTACK_ENDPOINT": "true"})
BOTH = {"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "true"}
OVERRIDES: tuple[dict[str, str], ...] = (
    {"AWS_ENDPOINT_URL": "https://gateway.example.com:8443/"},
    {"AWS_ENDPOINT_URL": "https://gateway.example.com", "AWS_USE_FIPS_ENDPOINT": "true"},
    {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_USE_DUALSTACK_ENDPOINT": "true"},
    {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:4566",
    },
    {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:4567/"},
    {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:4566",
        "AWS_ENDPOINT_URL_SECRETSMANAGER": "http://[::1]:9",
    },
    {"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_DYNAMODB": "", "AWS_ENDPOINT_URL_SECRETS_MANAGER": ""},
    {"AWS_ENDPOINT_URL": "https://gateway.example.com", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE"},
    {"AWS_ENDPOINT_URL_DYNAMODB": "https://dynamodb.us-east-1.api.aws"},
    {"AWS_USE_FIPS_ENDPOINT": "TRUE"},
    {"AWS_ACCOUNT_ID_ENDPOINT_MODE": "sometimes"},
    {"AWS_USE_FIPS_ENDPOINT": "1"},
    {"AWS_USE_FIPS_ENDPOINT": "false", "AWS_USE_DUALSTACK_ENDPOINT": "yes"},
)
ACCOUNTS: tuple[dict[str, str], ...] = (
    {"AWS_ACCOUNT_ID": "111122223333"},
    {"AWS_ACCOUNT_ID": "111122223333", "AWS_USE_DUALSTACK_ENDPOINT": "true"},
    {"AWS_ACCOUNT_ID": "111122223333", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    {"AWS_ACCOUNT_ID": "111122223333", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "REQUIRED"},
    {"AWS_ACCOUNT_ID_ENDPOINT_MODE": "required"},
    {"AWS_ACCOUNT_ID_ENDPOINT_MODE": "required", "AWS_USE_FIPS_ENDPOINT": "true"},
    {"AWS_ACCOUNT_ID_ENDPOINT_MODE": "sometimes"},
    {"AWS_ACCOUNT_ID_ENDPOINT_MODE": ""},
    {"AWS_ACCOUNT_ID": "not.an.account"},
)
TABLE = "revocations"
ARN = "arn:aws:dynamodb:us-east-1:444455556666:table/revocations"
GOV_ARN = "arn:aws-us-gov:dynamodb:us-gov-west-1:444455556666:table/revocations"


def cases() -> Iterator[Any]:
    services = tuple(OPERATIONS)
    for service, region, flags in itertools.product(services, REGIONS, (*FLAGS, BOTH)):
        yield pytest.param(service, region, flags, TABLE, id=f"{service}-{region}-{_name(flags)}")
    overridden = ("us-east-1", "us-gov-west-1", "cn-north-1", "eu-isoe-west-1")
    for service, region, env in itertools.product(services, overridden, OVERRIDES):
        yield pytest.param(service, region, env, TABLE, id=f"{service}-{region}-{_name(env)}")
    for region, env in itertools.product(("us-east-1", "us-gov-west-1", "eu-isoe-west-1", "local"), ACCOUNTS):
        yield pytest.param("dynamodb", region, env, TABLE, id=f"dynamodb-{region}-{_name(env)}")
    for region, table, env in itertools.product(
        ("us-east-1", "eu-west-1", "us-gov-west-1"),
        (ARN, GOV_ARN, "arn:aws:dynamodb:us-east-1:bad.account:table/t", "arn:aws:s3:us-east-1:4:t"),
        ({}, {"AWS_ACCOUNT_ID": "111122223333"}, {"AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}, BOTH),
    ):
        yield pytest.param("dynamodb", region, env, table, id=f"dynamodb-{region}-{table}-{_name(env)}")


def _name(env: dict[str, str]) -> str:
    short = {"AWS_USE_FIPS_ENDPOINT": "fips", "AWS_USE_DUALSTACK_ENDPOINT": "dualstack"}
    return ",".join(f"{short.get(k, k.removeprefix('AWS_'))}={v}" for k, v in env.items()) or "default"


# --------------------------------------------------------------------------- both clients
class _SentError(Exception):
    """Stops botocore after it signed the request."""


class _Response:
    status = 200
    will_close = False

    def __init__(self, body: bytes) -> None:
        self._body = body

    def read(self) -> bytes:
        return self._body

    def getheader(self, _name: str) -> None:
        return None


class _Connection:
    """Stands in for ``http.client.HTTP(S)Connection``: records the request, answers a canned 200."""

    scheme = "http"
    seen: ClassVar[list[tuple[str, str, int, dict[str, str]]]] = []

    def __init__(self, host: str, port: int, **_kwargs: Any) -> None:
        self.host, self.port, self.sock = host, port, None

    def connect(self) -> None:
        self.sock = self

    def settimeout(self, _timeout: float) -> None:
        pass

    def request(self, _method: str, _path: str, body: bytes, headers: dict[str, str]) -> None:
        _Connection.seen.append((self.scheme, self.host, self.port, headers))

    def getresponse(self) -> _Response:
        return _Response(b'{"SecretString": "x", "Item": {}, "Items": [], "Responses": {}}')

    def close(self) -> None:
        self.sock = None


class _TlsConnection(_Connection):
    scheme = "https"


@pytest.fixture(scope="module")
def session() -> botocore.session.Session:
    """One botocore session (its loader caches the service models) for every case."""
    return botocore.session.get_session()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setattr(http.client, "HTTPConnection", _Connection)
    monkeypatch.setattr(http.client, "HTTPSConnection", _TlsConnection)
    monkeypatch.setattr(ssl, "create_default_context", lambda: None)  # no CA bundle to load
    _Connection.seen = []
    aws_json.reset_clients()
    yield
    aws_json.reset_clients()


Wire = tuple[str, str, int, str]  # scheme, host, port, signing region


def _wire(scheme: str, host: str, port: int | None, authorization: str, service: str) -> Wire:
    scope = SCOPE.search(authorization)
    assert scope is not None and scope.group(2) == service
    return scheme, host.lower(), port or (443 if scheme == "https" else 80), scope.group(1)


def params(operation: str, table: str) -> dict[str, Any]:
    """The parameters of ``operation`` (a boto3 method name) on ``table``."""
    return {
        "get_secret_value": {"SecretId": "s"},
        "get_item": {"TableName": table, "Key": KEY},
        "query": {
            "TableName": table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": KEY["pk"]},
        },
        "batch_get_item": {"RequestItems": {table: {"Keys": [KEY]}}},
    }[operation]


def botocore_request(
    session: botocore.session.Session, service: str, region: str, table: str, operation: str = ""
) -> Wire | str:
    """Where botocore sends the call (default: the service's in :data:`OPERATIONS`), or ``"refused"``."""
    operation = operation or OPERATIONS[service]
    sent: list[Wire] = []

    def capture(request: Any, **_kwargs: Any) -> None:
        url = urlsplit(request.url)
        authorization = request.headers["Authorization"].decode()
        sent.append(_wire(url.scheme, url.hostname or "", url.port, authorization, service))
        raise _SentError

    if os.environ.get("AWS_ACCOUNT_ID"):
        # A session caches its credentials, and botocore reads the account id with them.
        loader = session.get_component("data_loader")
        session = botocore.session.get_session()
        session.register_component("data_loader", loader)
    try:
        client = session.create_client(service, region_name=region)
        client.meta.events.register("before-send", capture)
        getattr(client, operation)(**params(operation, table))
    except _SentError:
        return sent[0]
    except (botocore.exceptions.BotoCoreError, ValueError):
        return "refused"
    raise AssertionError("botocore sent nothing")


def lean_request(
    service: str, region: str, table: str, monkeypatch: pytest.MonkeyPatch, operation: str = ""
) -> Wire | str:
    """Where the boto3-free client sends the same call, or ``"refused"``."""
    operation = operation or OPERATIONS[service]
    monkeypatch.setenv("AWS_REGION", region)
    try:
        if service == "dynamodb":
            getattr(aws_json.DynamoDB(), operation)(**params(operation, table))
        else:
            aws_json.client(service).call("GetSecretValue", params(operation, table))
    except aws_json.EndpointError:
        return "refused"
    scheme, host, port, headers = _Connection.seen[-1]
    assert headers["Host"] == (host if port in {80, 443} else f"{host}:{port}")
    return _wire(scheme, host, port, headers["Authorization"], service)


@pytest.mark.parametrize(("service", "region", "env", "table"), list(cases()))
def test_lean_client_goes_where_botocore_goes(
    session: botocore.session.Session,
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    region: str,
    env: dict[str, str],
    table: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    expected = botocore_request(session, service, region, table)
    assert lean_request(service, region, table, monkeypatch) == expected


@pytest.mark.parametrize("operation", ["query", "batch_get_item"])
@pytest.mark.parametrize("table", [ARN, GOV_ARN, TABLE])
@pytest.mark.parametrize("env", [{}, {"AWS_ACCOUNT_ID": "111122223333"}], ids=_name)
def test_table_arns_route_every_operation_like_botocore(
    session: botocore.session.Session,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    table: str,
    env: dict[str, str],
) -> None:
    """``Query`` reads ``TableName``, ``BatchGetItem`` the first ``RequestItems`` key."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    expected = botocore_request(session, "dynamodb", "us-east-1", table, operation)
    assert lean_request("dynamodb", "us-east-1", table, monkeypatch, operation) == expected


def test_the_table_covers_every_partition_and_setting() -> None:
    """At least one region of each partition botocore knows, and every refusal and variant."""
    from auth_core import _endpoints

    partitions = {_endpoints.partition_of(r).name for r in REGIONS}
    assert partitions == {p["id"] for p in _partitions_json()}
    assert len(list(cases())) >= 40


# --------------------------------------------------------------------------- the copied data
def _partitions_json() -> list[dict[str, Any]]:
    doc: dict[str, Any] = json.loads((DATA / "partitions.json").read_text())
    partitions: list[dict[str, Any]] = doc["partitions"]
    return partitions


def test_partitions_are_botocores() -> None:
    """:data:`_endpoints.PARTITIONS` is botocore's ``partitions.json``, in its order."""
    from auth_core import _endpoints

    expected = [
        _endpoints.Partition(
            p["id"],
            p["regionRegex"],
            frozenset(r for r in p["regions"] if not re.match(p["regionRegex"], r)),
            p["outputs"]["dnsSuffix"],
            p["outputs"]["dualStackDnsSuffix"],
            p["outputs"]["supportsFIPS"],
            p["outputs"]["supportsDualStack"],
        )
        for p in _partitions_json()
    ]
    assert list(_endpoints.PARTITIONS) == expected


@pytest.mark.slow
@pytest.mark.parametrize("region", sorted({r for p in _partitions_json() for r in p["regions"]}))
def test_every_listed_region_and_its_variants(
    session: botocore.session.Session, monkeypatch: pytest.MonkeyPatch, region: str
) -> None:
    """Every region botocore lists, with and without FIPS and dual-stack, for both services
    (~400 botocore clients: a guard against region-specific data in a future botocore)."""
    for service, env in itertools.product(OPERATIONS, (*FLAGS, BOTH)):
        for name in ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        aws_json.reset_clients()
        expected = botocore_request(session, service, region, TABLE)
        assert lean_request(service, region, TABLE, monkeypatch) == expected, (service, env)


# --------------------------------------------------------------------------- what it does not read
@pytest.mark.parametrize(
    "config",
    [
        "[default]\nuse_fips_endpoint = true\n",
        "[profile other]\nregion = us-gov-west-1\nuse_dualstack_endpoint=true\n",
        "[default]\nendpoint_url = https://proxy.example.com\n",
        "[default]\nservices = local\n[services local]\nsecretsmanager =\n  endpoint_url = http://127.0.0.1:1\n",
        "[default]\nAccount_Id_Endpoint_Mode = disabled\n",
    ],
)
def test_steps_aside_to_boto3_when_the_config_file_moves_endpoints(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, config: str
) -> None:
    """The lean client reads the environment, not ``~/.aws/config``: a config file that sets an
    endpoint setting (in any profile) leaves the call to botocore, which reads it."""
    from auth_core import aws

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "authorizer")
    path = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    assert aws.lean_preferred("secretsmanager")  # no file
    path.write_text("[default]\nregion = us-east-1\n# use_fips_endpoint = true\n")
    assert aws.lean_preferred("secretsmanager")  # nothing about endpoints
    path.write_text(config)
    assert not aws.lean_preferred("secretsmanager")
    assert not aws.lean_preferred("dynamodb")
