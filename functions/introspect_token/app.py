"""``POST /introspect`` (RFC 7662): is a token active, and what does it carry?

Thin: parse strictly, then :class:`~auth_core.oauth.introspection.IntrospectionService` decides
(confidential clients only; a client sees its own tokens, an ``introspect_any`` client every
token; everything else is ``{"active": false}``). Answers are never cached (``no-store``): they
change the moment a token is revoked.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from auth_core.http import NO_STORE, HttpFunction, Response, json_response
from auth_core.issuer import resolve_issuer
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.oauth.factories import introspection_service
from auth_core.oauth.request import parse_request
from auth_core.settings import Settings

if TYPE_CHECKING:  # built by the first request (``introspection_service``), not imported here
    from auth_core.oauth.introspection import IntrospectionService

fn = HttpFunction.create("introspect_token", post_only=["/introspect"])
app, logger, metrics = fn.app, fn.logger, fn.metrics


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def service(issuer: str) -> IntrospectionService:
    return introspection_service(settings(), issuer, PowertoolsAudit(logger, metrics))


@app.post("/introspect")
def introspect() -> Response:
    event = app.current_event.raw_event
    body = service(resolve_issuer(settings().issuer, event)).introspect(parse_request(event))
    return json_response(200, body, NO_STORE)


lambda_handler = fn.handler()
