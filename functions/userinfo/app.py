"""``GET /userinfo`` and ``POST /userinfo``: OpenID Connect UserInfo (Core §5.3, RFC 6750, RFC 9449).

Thin: the token comes from where RFC 6750 lets it be, or as ``Authorization: DPoP`` with its
proof (:func:`~auth_core.oauth.userinfo.presented_token`), then
:class:`~auth_core.oauth.userinfo.UserinfoService` verifies it as the authorizer would (public
keys, revocation feed, the DPoP proof for a bound token), requires scope ``openid`` and answers
the claims its scopes allow. Errors are RFC 6750's: 401 with
``WWW-Authenticate: Bearer error="invalid_token"`` (no details), 403 ``insufficient_scope``, 400
``invalid_request`` (with its challenge); a ``DPoP``-scheme request gets the same in the ``DPoP``
scheme, and 401 ``invalid_dpop_proof`` for a failed proof (RFC 9449 §7.1). A request without
credentials gets ``Bearer, DPoP algs="..."`` (no error code, RFC 6750 §3.1) and a DPoP-bound token
sent as ``Bearer`` gets ``Bearer error="invalid_token", DPoP algs="..."``: both schemes offered.
Never cached (``no-store``).
"""

from __future__ import annotations

import functools

from auth_core.errors import AccessDeniedError, InvalidDPoPProofError, InvalidRequestError, TokenError
from auth_core.http import NO_STORE, HttpFunction, Response, json_response
from auth_core.issuer import resolve_issuer
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.oauth.dpop_resource import DPoPPresentation, challenge
from auth_core.oauth.factories import userinfo_service
from auth_core.oauth.userinfo import UserinfoService, is_dpop_request, presented_token
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
    token, dpop = presented_token(event)
    issuer = resolve_issuer(settings().issuer, event)
    proof = None
    if dpop:  # RFC 9449 §7: htu is the public URL, as at /token
        method = str(event["requestContext"]["http"]["method"]).upper()
        proof = DPoPPresentation(app.current_event.headers.get("dpop"), method, issuer + "/userinfo")
    body = service(issuer).userinfo(token, proof)
    return json_response(200, body, NO_STORE)


#: refusals answered with both challenges (RFC 9449 §7.1): no credentials at all (then neither
#: names an error, RFC 6750 §3.1), and a DPoP-bound token sent as ``Bearer`` (the client is told
#: the scheme that works)
_BOTH_SCHEMES = {"missing_token": "", "dpop_bound_as_bearer": "invalid_token"}


def _refused(status: int, error: str, reason: str) -> Response:
    """An RFC 6750 §3 answer, in the scheme the request used (RFC 9449 §7.1 for ``DPoP``)."""
    logger.info("request refused", extra={"error_code": error, "reason": reason})
    algs = settings().dpop_signing_algs
    if is_dpop_request(app.current_event.raw_event):
        value = challenge("DPoP", error, algs)
    elif reason in _BOTH_SCHEMES:
        value = f"{challenge('Bearer', _BOTH_SCHEMES[reason])}, {challenge('DPoP', '', algs)}"
    else:
        value = challenge("Bearer", error)
    return json_response(status, {"error": error}, {**NO_STORE, "WWW-Authenticate": value})


@app.exception_handler(InvalidRequestError)
def _invalid_request(exc: InvalidRequestError) -> Response:
    """RFC 6750 §3.1: ``invalid_request`` is 400 with the challenge naming it."""
    return _refused(400, "invalid_request", exc.reason)


@app.exception_handler(TokenError)
def _invalid_token(exc: TokenError) -> Response:
    from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

    metrics.add_metric(name="TokenRejected", unit=MetricUnit.Count, value=1)
    return _refused(401, "invalid_token", exc.reason)


@app.exception_handler(AccessDeniedError)
def _insufficient_scope(exc: AccessDeniedError) -> Response:
    return _refused(403, "insufficient_scope", exc.reason)


@app.exception_handler(InvalidDPoPProofError)
def _invalid_proof(exc: InvalidDPoPProofError) -> Response:
    """RFC 9449 §7.1: a resource server answers a failed proof with 401, not the token endpoint's 400."""
    return _refused(401, "invalid_dpop_proof", exc.reason)


lambda_handler = fn.handler()
