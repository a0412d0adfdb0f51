"""``bench/bench_cold.py`` measures the authorizer on the route it allows, and notices a refusal.

An IAM-format answer always has a ``principalId``: a token that lacks the route's scope gets the
*same* policy shape, whose Deny covers the route (``auth_core/authorizer/service.py``). The bench
judges the answer as API Gateway does, for the sample event's ``routeArn``, and measures the
scoped path (``ROUTE_SCOPES`` names the sample's route) with a token that holds the scope.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest

from auth_core.authorizer.policy import iam_response, policy_statements, simple_response
from auth_core.authorizer.routes import ExecuteApiArn, RouteTable
from bench import bench_cold
from tests.conftest import load_event

EVENT = load_event(bench_cold.FUNCTIONS["authorizer"])
ARN = ExecuteApiArn.parse(EVENT["routeArn"])
#: The bench's authorizer routes, as its child process gets them.
ROUTES = RouteTable.from_mapping(json.loads(bench_cold.AUTHORIZER_ENV["ROUTE_SCOPES"]))
#: The scopes of the token the bench mints for the authorizer (a password grant, this event).
TOKEN_SCOPES = frozenset(parse_qs(load_event("issue_token_password.json")["body"])["scope"][0].split())


def _answer(granted: frozenset[str]) -> dict[str, Any]:
    """The authorizer's IAM answer for a token with ``granted`` scopes (the layer's own builders)."""
    return iam_response("alice", policy_statements(ARN, ROUTES, granted), {"sub": "alice"})


def test_the_sample_route_is_scoped_and_the_measured_token_holds_its_scopes() -> None:
    needed = ROUTES.required_scopes(ARN.request, EVENT["routeKey"])
    assert needed, "the sample route needs no scope: the bench would measure the unscoped path"
    assert needed <= TOKEN_SCOPES
    assert ROUTES.forbidden(TOKEN_SCOPES), "no Deny statement: not the shape of a scoped deployment"
    assert bench_cold.authorizer_status(_answer(TOKEN_SCOPES), EVENT) == 200


def test_a_policy_denying_the_route_is_a_403_though_it_has_a_principal() -> None:
    answer = _answer(frozenset())  # scope missing: Allow the stage, Deny the sample's route
    assert "principalId" in answer
    assert bench_cold.authorizer_status(answer, EVENT) == 403


@pytest.mark.parametrize(
    "statements",
    [
        [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [f"{ARN.base}/POST/orders"]}],
        [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [f"{ARN.base}/*"]},
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [f"{ARN.base}/GET/*"]},
        ],
        [],
    ],
    ids=["allow-another-route-only", "wildcard-deny-beats-stage-allow", "no-statement"],
)
def test_a_policy_that_does_not_allow_the_route_is_a_403(statements: list[dict[str, Any]]) -> None:
    assert bench_cold.authorizer_status(iam_response("alice", statements, {}), EVENT) == 403


def test_simple_answers_are_judged_by_is_authorized() -> None:
    assert bench_cold.authorizer_status(simple_response(True, {"sub": "alice"}), EVENT) == 200
    assert bench_cold.authorizer_status(simple_response(False), EVENT) == 403
