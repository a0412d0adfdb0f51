"""``POST /refresh`` (RFC 6749 §6): ``grant_type=refresh_token`` only, with rotation.

The very same core operation as ``POST /token`` with ``grant_type=refresh_token``
(:meth:`~auth_core.oauth.grants.TokenService.refresh`). Thin: parse strictly, rotate, send the
body the core built (byte-identical on a grace-window retry) with ``no-store``.
Errors are mapped in one place (:func:`auth_core.http.register_error_handlers`).
"""

from __future__ import annotations

import functools

from auth_core.http import HttpFunction, Response, token_response
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.oauth.factories import run_token_operation, token_service
from auth_core.oauth.grants import TokenService
from auth_core.settings import Settings

fn = HttpFunction.create("refresh_token", post_only=["/refresh"])
app, logger, metrics = fn.app, fn.logger, fn.metrics


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def service() -> TokenService:
    return token_service(settings(), PowertoolsAudit(logger, metrics))


@app.post("/refresh")
def refresh() -> Response:
    result = run_token_operation(service().refresh_endpoint, settings(), app.current_event.raw_event)
    logger.info("token refreshed", extra={"grant_type": result.grant_type, "replayed": result.replayed})
    return token_response(result.body)


lambda_handler = fn.handler()
