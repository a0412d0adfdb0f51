"""``GET /userinfo`` and ``POST /userinfo``: OpenID Connect UserInfo (Core §5.3, RFC 6750).

Thin: the token comes from where RFC 6750 lets it be (:func:`~auth_core.oauth.userinfo.bearer_token`),
then :class:`~auth_core.oauth.userinfo.UserinfoService` verifies it as the authorizer would (public
keys, revocation feed), requires scope ``openid`` and answers the claims its scopes allow. Errors
are RFC 6750's: 401 with ``WWW-Authenticate: Bearer error="invalid_token"`` (no details; also when
no token was sent), 403 ``insufficient_scope``, 400 ``invalid_request`` (with its challenge).
Never cached (``no-store``).
"""

from __future__ import annotations

import functools

from auth_core.errors import InvalidRequestError
from auth_core.http import NO_STORE, HttpFunction, Response, json_response
from auth_core.issuer import resolve_issuer
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.oauth.factories import userinfo_service
from auth_core.oauth.userinfo import UserinfoService, bearer_token
from auth_core.settings import Settings

fn = HttpFunction.create("userinfo")
app, logger, metrics = fn.app, fn.logger, fn.metrics


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def service(issuer: str) -> UserinfoService:
    return userinfo_service(settings(), issuer, PowertoolsAudit(logger, metrics))


@app.route("/userinfo", method=["GET", "POST"])
def userinfo() -> Response:
    event = app.current_event.raw_event
    token = bearer_token(event)
    body = service(resolve_issuer(settings().issuer, event)).userinfo(token)
    return json_response(200, body, NO_STORE)


@app.exception_handler(InvalidRequestError)
def _invalid_request(exc: InvalidRequestError) -> Response:
    """RFC 6750 §3.1: ``invalid_request`` is 400 with the Bearer challenge naming it."""
    logger.info("request refused", extra={"reason": exc.reason})
    headers = {**NO_STORE, "WWW-Authenticate": 'Bearer error="invalid_request"'}
    return json_response(400, {"error": "invalid_request"}, headers)


lambda_handler = fn.handler()
