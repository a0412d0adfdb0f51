"""``POST /revoke`` (RFC 7009): revoke a refresh token (its whole family) or an access token (jti).

Thin: parse strictly, authenticate the client, revoke (:class:`~auth_core.oauth.revocation.
RevocationService`). Every well-formed request from an authenticated client gets the same
``200 {}`` -- unknown, expired or another client's token included -- so the endpoint is no oracle.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from auth_core.http import NO_STORE, HttpFunction, Response, json_response
from auth_core.issuer import resolve_issuer
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.oauth.factories import revocation_service
from auth_core.oauth.request import parse_request
from auth_core.settings import Settings

if TYPE_CHECKING:  # built by the first request (``revocation_service``), not imported here
    from auth_core.oauth.revocation import RevocationService

fn = HttpFunction.create("revoke_token", post_only=["/revoke"])
app, logger, metrics = fn.app, fn.logger, fn.metrics


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


lambda_handler = fn.handler()
