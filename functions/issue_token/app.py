"""``POST /token`` (RFC 6749): password, client_credentials and refresh_token grants.

Thin: parse the request strictly (:mod:`auth_core.oauth.request`), run the grant
(:class:`~auth_core.oauth.grants.TokenService`), send the body it built with ``no-store``.
Errors are mapped in one place (:func:`auth_core.http.register_error_handlers`).
"""

from __future__ import annotations

import functools

from auth_core.http import HttpFunction, Response, token_response
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.oauth.factories import run_token_operation, token_service
from auth_core.oauth.grants import TokenService
from auth_core.settings import Settings

fn = HttpFunction.create("issue_token", post_only=["/token"])
app, logger, metrics = fn.app, fn.logger, fn.metrics


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def service() -> TokenService:
    return token_service(settings(), PowertoolsAudit(logger, metrics))


@app.post("/token")
def token() -> Response:
    result = run_token_operation(service().token, settings(), app.current_event.raw_event)
    logger.info("token issued", extra={"grant_type": result.grant_type, "replayed": result.replayed})
    return token_response(result.body)


lambda_handler = fn.handler()
