"""execute-api ARNs (all partitions) and the route table's IAM-wildcard semantics."""

from __future__ import annotations

import pytest

from auth_core.authorizer.routes import ExecuteApiArn, Route, RouteTable
from auth_core.errors import ConfigurationError, TokenError


@pytest.mark.parametrize(
    ("arn", "partition", "region"),
    [
        ("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders", "aws", "us-east-1"),
        ("arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/prod/GET/orders", "aws-cn", "cn-north-1"),
        (
            "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abc123/prod/GET/orders",
            "aws-us-gov",
            "us-gov-west-1",
        ),
    ],
)
def test_arn_keeps_partition_and_region(arn: str, partition: str, region: str) -> None:
    parsed = ExecuteApiArn.parse(arn)
    assert (parsed.partition, parsed.region, parsed.api_id, parsed.stage) == (
        partition,
        region,
        "abc123",
        "prod",
    )
    assert parsed.base == f"arn:{partition}:execute-api:{region}:123456789012:abc123/prod"
    assert parsed.request == "GET/orders"


def test_arn_root_path_and_default_stage() -> None:
    assert ExecuteApiArn.parse("arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/").request == "GET/"
    parsed = ExecuteApiArn.parse("arn:aws:execute-api:eu-west-1:123456789012:abc/$default/GET/a/b")
    assert (parsed.stage, parsed.path) == ("$default", "a/b")


def test_arn_with_stage_star_as_the_console_and_sample_events_send_it() -> None:
    """The console's "Test authorizer" and the AWS/Powertools REST TOKEN samples use stage ``*``."""
    parsed = ExecuteApiArn.parse("arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/")
    assert (parsed.stage, parsed.request) == ("*", "GET/")
    assert parsed.base == "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:execute-api:us-east-1:123456789012:abc/**/GET/x",
        "arn:aws:execute-api:us-east-1:123456789012:abc/*prod/GET/x",
        "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/x",
        "arn:aws:execute-api:us-east-1:123456789012:abc/*",
    ],
)
def test_arn_star_is_only_ever_a_whole_stage(arn: str) -> None:
    with pytest.raises(TokenError):
        ExecuteApiArn.parse(arn)


@pytest.mark.parametrize(
    "arn",
    [
        None,
        42,
        "",
        "arn:aws:lambda:us-east-1:123456789012:function:x",
        "arn:aws:execute-api:us-east-1:1234:abc/prod/GET/x",  # account
        "arn:aws:execute-api:us-east-1:123456789012:abc/prod",  # no method
        "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/a b",  # space
        "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/\u00e9",
        "arn:evil:execute-api:us-east-1:123456789012:abc/prod/GET/x",
        "arn:aws:execute-api:us-east-1:123456789012:a/b*/GET/x",
        "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/" + "a" * 1600,
    ],
)
def test_arn_rejects_malformed(arn: object) -> None:
    with pytest.raises(TokenError) as info:
        ExecuteApiArn.parse(arn)
    assert info.value.reason == "malformed_event"


@pytest.mark.parametrize(
    ("key", "resource"),
    [
        ("GET /orders", "GET/orders"),
        ("GET /orders/{id}", "GET/orders/*"),
        ("ANY /admin/{proxy+}", "*/admin/*"),
        ("post /files/{name}.txt", "POST/files/*.txt"),
        ("GET /", "GET/"),
        ("$default", "*/*"),
    ],
)
def test_route_resource_is_iam_pattern(key: str, resource: str) -> None:
    assert Route.parse(key, ["s"]).resource == resource


@pytest.mark.parametrize(
    "key", ["GET", "/orders", "FETCH /x", "GET orders", "GET /a*b", "GET /a?b", "GET /a b"]
)
def test_route_rejects_bad_keys(key: str) -> None:
    with pytest.raises(ConfigurationError):
        Route.parse(key, ["s"])


TABLE = RouteTable.from_mapping(
    {
        "GET /orders": ["read"],
        "POST /orders": ["write"],
        "DELETE /orders/{id}": ["admin"],
        "ANY /admin/{proxy+}": ["admin", "ops"],
        "GET /public": [],
    }
)


@pytest.mark.parametrize(
    ("request_", "route_key", "needed"),
    [
        ("GET/orders", None, {"read"}),
        ("POST/orders", None, {"write"}),
        ("PUT/orders", None, set()),
        ("DELETE/orders/42", None, {"admin"}),
        ("DELETE/orders/42/items", None, {"admin"}),  # IAM '*' spans '/': fail-closed
        ("GET/orders/42", None, set()),
        ("PATCH/admin/users/1", None, {"admin", "ops"}),
        ("GET/public", None, set()),
        ("GET/me", None, set()),
        ("GET/me", "GET /orders", {"read"}),  # route key adds, never removes
        ("DELETE/x", "DELETE /orders/{orderId}", {"admin"}),  # parameter names don't matter
        ("GET/x", "ANY /orders", {"read", "write"}),
        ("GET/x", "$default", set()),
    ],
)
def test_required_scopes_is_union_of_matching_routes(
    request_: str, route_key: str | None, needed: set
) -> None:
    assert TABLE.required_scopes(request_, route_key) == frozenset(needed)


def test_forbidden_and_permitted_partition_scoped_routes() -> None:
    granted = frozenset({"read", "admin"})
    assert {r.key for r in TABLE.permitted(granted)} == {"GET /orders", "DELETE /orders/{id}"}
    assert {r.key for r in TABLE.forbidden(granted)} == {"POST /orders", "ANY /admin/{proxy+}"}
