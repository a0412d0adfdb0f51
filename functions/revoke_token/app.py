"""``POST /revoke`` (RFC 7009): revoke a refresh token (its whole family) or an access token (jti).

Thin: parse strictly, authenticate the client, revoke (:class:`~auth_core.oauth.revocation.
RevocationService`). Every well-formed request from an authenticated client gets the same
``200 {}`` -- unknown, expired or another client's token included -- so the endpoint is no oracle.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from auth_core.http import (
    NO_STORE,
    NOT_POST,
    json_response,
    method_not_allowed,
    register_error_handlers,
    resolve_issuer,
)
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.oauth.factories import revocation_service
from auth_core.oauth.request import parse_request
from auth_core.oauth.revocation import RevocationService
from auth_core.observability import get_logger, get_metrics
from auth_core.settings import Settings

logger = get_logger("revoke_token")
metrics = get_metrics(service="revoke_token")
app = APIGatewayHttpResolver()
register_error_handlers(app, logger, metrics)


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def service(issuer: str) -> RevocationService:
    return revocation_service(settings(), issuer, PowertoolsAudit(logger, metrics))


@app.post("/revoke")
def revoke() -> Response:
    event = app.current_event.raw_event
    service(resolve_issuer(settings().issuer, event)).revoke(parse_request(event))
    return json_response(200, {}, NO_STORE)


@app.route("/revoke", method=NOT_POST)
def not_post() -> Response:
    return method_not_allowed()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
