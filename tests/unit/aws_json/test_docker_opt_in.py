"""``sam local invoke --env-vars events/env.json`` (issue 11): the functions run in Docker and
reach the developer's moto at ``http://host.docker.internal:<port>``, which is not loopback.

The boto3-free client sends a signed request (with the session token) in clear only to
loopback, or to a host the developer lists in ``AUTH_ALLOW_INSECURE_ENDPOINT_HOSTS`` -- and
never in a real Lambda, where that list is refused. Nothing here connects anywhere.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from auth_core import aws, aws_json
from auth_core.aws_json import INSECURE_HOSTS_VARIABLE, AwsJsonClient, EndpointError
from tests.conftest import ROOT
from tests.unit.template.cfn import load
from tests.unit.template.test_template import environment

ENV_JSON = json.loads((ROOT / "events" / "env.json").read_text())
TEMPLATE = load()
FUNCTIONS = {
    lid: res.get("Properties") or {}
    for lid, res in TEMPLATE["Resources"].items()
    if res["Type"] == "AWS::Serverless::Function"
}


pytestmark = pytest.mark.usefixtures("no_sockets")


@pytest.fixture(autouse=True)
def _outside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_SAM_LOCAL", "AWS_LAMBDA_FUNCTION_NAME", INSECURE_HOSTS_VARIABLE, "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)


def sam_local(monkeypatch: pytest.MonkeyPatch, function: str, *, real_lambda: bool = False) -> None:
    """The environment ``sam local invoke FUNCTION --env-vars events/env.json`` gives the function:
    the template's variables (Globals merged), env.json's ``Parameters`` then its own section,
    SAM's runtime variables. ``real_lambda``: the same variables in a deployed function."""
    overrides = {**ENV_JSON["Parameters"], **ENV_JSON.get(function, {})}
    for name, value in environment(TEMPLATE, FUNCTIONS[function]).items():
        value = overrides.get(name, value)
        if isinstance(value, str):  # an unresolved !Ref matters to no AWS client
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function)
    if not real_lambda:
        monkeypatch.setenv("AWS_SAM_LOCAL", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")


def test_env_json_placeholders_resolve() -> None:
    """env.json's endpoint is plain http to the Docker host, which its opt-in lists, and both
    are variables the template declares (SAM local drops any other)."""
    params = ENV_JSON["Parameters"]
    url = urlsplit(params["AWS_ENDPOINT_URL"])
    assert url.scheme == "http" and url.hostname == "host.docker.internal" and url.port
    assert params[INSECURE_HOSTS_VARIABLE] == "host.docker.internal"
    declared = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert declared[INSECURE_HOSTS_VARIABLE] == ""
    for lid, props in FUNCTIONS.items():
        own = (props.get("Environment") or {}).get("Variables") or {}
        assert INSECURE_HOSTS_VARIABLE not in own, f"{lid} must not set the opt-in in AWS"


@pytest.mark.parametrize("function", ["AuthorizerFunction", "IssueTokenFunction", "JwksFunction"])
def test_sam_local_functions_reach_moto_on_the_docker_host(
    monkeypatch: pytest.MonkeyPatch, function: str
) -> None:
    sam_local(monkeypatch, function)
    assert aws.lean_preferred("secretsmanager")  # the lean client is the one that serves
    for service in ("secretsmanager", "dynamodb"):
        client = aws_json.client(service)
        assert (client._hostname, client._port, client._https) == ("host.docker.internal", 5000, False)


def test_without_the_opt_in_the_docker_host_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    sam_local(monkeypatch, "AuthorizerFunction")
    monkeypatch.delenv(INSECURE_HOSTS_VARIABLE)
    with pytest.raises(EndpointError, match=rf"'host\.docker\.internal'.*{INSECURE_HOSTS_VARIABLE}"):
        aws_json.client("secretsmanager")


def test_the_opt_in_is_refused_in_a_real_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deployed with env.json's values by mistake: still no signed request in clear."""
    sam_local(monkeypatch, "AuthorizerFunction", real_lambda=True)
    with pytest.raises(EndpointError, match="refused in Lambda"):
        aws_json.client("secretsmanager")
    monkeypatch.setenv("AWS_SAM_LOCAL", "1")  # only SAM's own "true" counts
    with pytest.raises(EndpointError, match="refused in Lambda"):
        aws_json.client("dynamodb")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://example.com:5000",
        "http://host.docker.internal.example.com:5000",
        "http://docker.internal:5000",
        "http://10.0.0.1:5000",
        "http://169.254.169.254",
    ],
)
def test_the_opt_in_allows_only_the_hosts_it_lists(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    sam_local(monkeypatch, "AuthorizerFunction")
    with pytest.raises(EndpointError, match="only to loopback"):
        AwsJsonClient("dynamodb", endpoint=endpoint)


def test_a_list_of_hosts_case_and_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(INSECURE_HOSTS_VARIABLE, " Host.Docker.Internal , 172.17.0.1,")
    AwsJsonClient("dynamodb", endpoint="http://HOST.docker.internal:5000")
    AwsJsonClient("dynamodb", endpoint="http://172.17.0.1:5000")
    AwsJsonClient("dynamodb", endpoint="http://127.0.0.1:5000")  # loopback needs no opt-in
    with pytest.raises(EndpointError):
        AwsJsonClient("dynamodb", endpoint="http://172.17.0.2:5000")
