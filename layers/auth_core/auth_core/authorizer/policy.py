"""Authorizer responses: cache-safe IAM policies and HTTP API simple responses.

API Gateway caches an authorizer's answer per identity source (the token) and reuses it for
*every* route of the API until the TTL ends. A policy that allows only the route being called
therefore turns the next call to another route into a 403 -- the most reported Lambda
authorizer bug. Our policy depends on the token and the API stage only, never on the route
being called:

* ``Allow`` the whole stage (``arn:...:api/stage/*``) plus, for readability, each scoped route the
  token may call;
* ``Deny`` every scoped route (``ROUTE_SCOPES``) whose scopes the token lacks. An explicit Deny
  beats the Allow, so API Gateway answers 403 there, from a cached or a fresh policy alike.

Simple responses (HTTP API payload 2.0) carry no policy, so the cached ``isAuthorized`` applies
to every route; when any route needs a scope, ``$context.routeKey`` must be an identity source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auth_core.authorizer.routes import ExecuteApiArn, RouteTable

__all__ = ["iam_response", "policy_document", "policy_statements", "simple_response"]

_INVOKE = "execute-api:Invoke"


def policy_statements(
    arn: ExecuteApiArn, routes: RouteTable, granted: frozenset[str]
) -> list[dict[str, Any]]:
    """The statements for a token with ``granted`` scopes on ``arn``'s stage (route-independent)."""
    base = arn.base
    allow = [f"{base}/*"] + [f"{base}/{r.resource}" for r in routes.permitted(granted)]
    statements: list[dict[str, Any]] = [
        {"Action": _INVOKE, "Effect": "Allow", "Resource": list(dict.fromkeys(allow))}
    ]
    deny = [f"{base}/{r.resource}" for r in routes.forbidden(granted)]
    if deny:
        statements.append({"Action": _INVOKE, "Effect": "Deny", "Resource": list(dict.fromkeys(deny))})
    return statements


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``policyDocument`` for ``statements`` (built once per stage and scope set)."""
    return {"Version": "2012-10-17", "Statement": statements}


def iam_response(
    principal_id: str, document: Mapping[str, Any] | list[dict[str, Any]], context: Mapping[str, Any]
) -> dict[str, Any]:
    """An IAM-policy authorizer response (REST, HTTP payload 1.0, HTTP 2.0 with ``iam``).

    :param document: a prebuilt :func:`policy_document` (the hot path shares it between
        responses: the runtime only serialises it), or the statements list.
    :param context: becomes the response's ``context`` as it is, not copied: the engine's
        prebuilt answers share it with the verified-token cache, and nothing mutates either.
    """
    if isinstance(document, list):
        document = policy_document(document)
    return {"principalId": principal_id, "policyDocument": document, "context": context}


def simple_response(authorized: bool, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An HTTP API payload 2.0 simple response; a refusal carries no context (no reason leaks).

    ``context`` is used as it is, not copied (see :func:`iam_response`).
    """
    if not authorized:
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": {} if context is None else context}
