"""``GET /me``: the example protected route. Echoes what the Lambda authorizer vouched for.

The context comes from ``requestContext.authorizer.lambda`` (HTTP API payload 2.0), which only
API Gateway can set; without it the route was reached without the authorizer, so the answer is
401 rather than an empty identity.
"""

from __future__ import annotations

from collections.abc import Mapping

from auth_core.errors import TokenError
from auth_core.http import NO_STORE, HttpFunction, Response, json_response

fn = HttpFunction.create("me")
app, logger = fn.app, fn.logger


@app.get("/me")
def me() -> Response:
    ctx = app.current_event.raw_event.get("requestContext") or {}
    authorizer = ctx.get("authorizer") if isinstance(ctx, Mapping) else None
    identity = authorizer.get("lambda") if isinstance(authorizer, Mapping) else None
    if not isinstance(identity, Mapping) or not identity.get("sub"):
        raise TokenError("no authorizer context", reason="no_authorizer_context")
    return json_response(200, dict(identity), NO_STORE)


lambda_handler = fn.handler()
