"""``POST /refresh`` (RFC 6749 §6): ``grant_type=refresh_token`` only, with rotation.

The very same core operation as ``POST /token`` with ``grant_type=refresh_token``
(:meth:`~auth_core.oauth.grants.TokenService.refresh`). Thin: parse strictly, rotate, send the
body the core built (byte-identical on a grace-window retry) with ``no-store``.
Errors are mapped in one place (:func:`auth_core.http.register_error_handlers`).
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from auth_core.http import (
    NOT_POST,
    method_not_allowed,
    register_error_handlers,
    resolve_issuer,
    token_response,
)
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.oauth.factories import issuer_factory, token_service
from auth_core.oauth.grants import TokenService
from auth_core.oauth.request import parse_request
from auth_core.observability import get_logger, get_metrics
from auth_core.settings import Settings

logger = get_logger("refresh_token")
metrics = get_metrics(service="refresh_token")
app = APIGatewayHttpResolver()
register_error_handlers(app, logger, metrics)


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def service() -> TokenService:
    return token_service(settings(), PowertoolsAudit(logger, metrics))


@app.post("/refresh")
def refresh() -> Response:
    event = app.current_event.raw_event
    issuers = issuer_factory(settings(), resolve_issuer(settings().issuer, event))
    result = service().refresh_endpoint(parse_request(event), issuers)
    logger.info("token refreshed", extra={"grant_type": result.grant_type, "replayed": result.replayed})
    return token_response(result.body)


@app.route("/refresh", method=NOT_POST)
def not_post() -> Response:
    return method_not_allowed()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
