"""The README's REST API snippet really adds ``WWW-Authenticate`` to the authorizer's 401/403.

HTTP APIs have no gateway responses, so ``template.yaml`` cannot add the header; the README
shows the REST API configuration instead. This expands that snippet with the SAM transform and
checks the gateway responses it produces.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.unit.template.cfn import ROOT

pytest.importorskip("samtranslator", reason="aws-sam-translator is in requirements-dev.txt")

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

_FUNCTION = (
    "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
    "      Runtime: python3.13\n      Handler: app.lambda_handler\n      CodeUri: s3://artifacts/fn\n"
    "      Events:\n        Get:\n          Type: Api\n"
    "          Properties: {RestApiId: !Ref Api, Path: /me, Method: get}\n"
)


def test_readme_rest_snippet_sets_www_authenticate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"```yaml\n(  GatewayResponses:.*?)```", readme, re.DOTALL)
    assert found, "the README's REST gateway-responses snippet is gone"
    snippet = "\n".join(f"    {line}" for line in found[1].splitlines())
    template = (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Api:\n    Type: AWS::Serverless::Api\n"
        f"    Properties:\n      StageName: prod\n{snippet}\n{_FUNCTION}"
    )

    class NoManagedPolicies:
        def load(self) -> dict[str, Any]:
            return {}

    body = transform(yaml_parse(template), {}, NoManagedPolicies())["Resources"]["Api"]["Properties"]["Body"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    header = "gatewayresponse.header.WWW-Authenticate"
    assert responses["UNAUTHORIZED"]["statusCode"] == "401"
    assert responses["UNAUTHORIZED"]["responseParameters"][header] == "'Bearer error=\"invalid_token\"'"
    assert responses["ACCESS_DENIED"]["statusCode"] == "403"
    assert responses["ACCESS_DENIED"]["responseParameters"][header] == "'Bearer error=\"insufficient_scope\"'"
