"""HTTP glue for the API functions: routing, and errors mapped to responses in exactly one place.

Every HTTP function gets a :class:`Router` from :class:`HttpFunction` with
:func:`register_error_handlers` installed; no handler has its own try/except ladder.

=============================  ======  ===============================================
raised                          status  body
=============================  ======  ===============================================
``OAuthError`` subclasses       .status ``{"error": code}`` (+ ``WWW-Authenticate`` on 401)
``SlowDownError``               429     ``{"error": "invalid_grant"}`` + ``Retry-After``
``TemporarilyUnavailableError`` 503     ``{"error": "temporarily_unavailable"}`` + ``Retry-After``
``ServerError``                 500     ``{"error": "server_error"}`` (an error log line, no trace)
``TokenError``                  401     ``{"error": "invalid_token"}`` + ``WWW-Authenticate``
``AccessDeniedError``           403     ``{"error": "insufficient_scope"}``
``KeyStoreError``               503     ``{"error": "temporarily_unavailable"}``
anything else                   500     ``{"error": "server_error"}`` (stack trace to the log only)
=============================  ======  ===============================================

The body never says *why* a token or credential failed; the log line does (``reason``).

Outages reach this table in time: :class:`HttpFunction` sets the invocation's deadline
(:mod:`auth_core.deadline`) from the Lambda context, and the AWS clients fail a hung call before
it, so the 503 is ours -- with ``Retry-After``, a log line and a metric -- and not Lambda's kill.

Why not Powertools' event handler (issue 11, cold start): each function serves one to two fixed
paths, and ``event_handler.api_gateway`` cost +36 ms CPU of every HTTP function's cold import on
top of Logger and Metrics (its ``utilities.data_classes`` alone +17 ms; measured with
``bench/bench_cold.py``), for regex routing, OpenAPI, CORS and compression we do not use.
:class:`Router` keeps its interface (``@app.post``, ``app.current_event``, exception handlers,
``not_found``, the HTTP API payload 2.0 response) in a few lines. Logging (with the correlation
id) and EMF metrics stay Powertools'.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from auth_core import deadline
from auth_core.errors import (
    AccessDeniedError,
    AuthError,
    KeyStoreError,
    OAuthError,
    SlowDownError,
    TokenError,
    UseDPoPNonceError,
)

__all__ = [
    "NOT_POST",
    "NO_STORE",
    "HttpEvent",
    "HttpFunction",
    "Response",
    "Router",
    "error_body",
    "json_response",
    "method_not_allowed",
    "register_error_handlers",
    "token_response",
]


# --------------------------------------------------------------------------- routing
@dataclass
class Response:
    """An HTTP API (payload 2.0) response: ``Content-Type`` from ``content_type`` unless the
    headers set it."""

    status_code: int
    content_type: str | None = None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    #: ``Set-Cookie`` values (payload 2.0 takes them as a list: one header cannot carry several)
    cookies: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.headers = dict(self.headers)
        if self.content_type:
            self.headers.setdefault("Content-Type", self.content_type)

    def to_payload(self) -> dict[str, Any]:
        """The dict Lambda returns to API Gateway (what Powertools' resolver returned)."""
        return {
            "statusCode": self.status_code,
            "body": self.body,
            "isBase64Encoded": False,
            "headers": dict(self.headers),
            "cookies": list(self.cookies),
        }


class HttpEvent:
    """The request being handled: the raw event, and its method, path and headers read safely
    (a malformed event routes nowhere and gets the 404, never a traceback)."""

    def __init__(self, raw_event: Mapping[str, Any]) -> None:
        self.raw_event = raw_event
        ctx = raw_event.get("requestContext")
        ctx = ctx if isinstance(ctx, Mapping) else {}
        http = ctx.get("http")
        method = http.get("method") if isinstance(http, Mapping) else None
        self.http_method = method.upper() if isinstance(method, str) else ""
        path = raw_event.get("rawPath")
        path = path if isinstance(path, str) else ""
        stage = ctx.get("stage")
        if isinstance(stage, str) and stage != "$default" and path.startswith(f"/{stage}/"):
            path = path[len(stage) + 1 :]  # a named stage prefixes the path (as Powertools strips it)
        self.path = path
        headers = raw_event.get("headers")
        self.headers: dict[str, str] = (
            {str(k).lower(): v for k, v in headers.items()} if isinstance(headers, Mapping) else {}
        )


Handler = Callable[[], Response]


class Router:
    """Exact ``(method, path)`` routes and error handlers by exception class (most specific first).

    The subset of Powertools' ``APIGatewayHttpResolver`` interface the functions use:
    ``@app.get/post(path)``, ``app.route(path, method=[...])``, ``@app.exception_handler(cls)``,
    ``@app.not_found``, ``app.current_event`` and ``app.resolve(event, context)``.
    """

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Handler] = {}
        self._errors: dict[type[BaseException], Callable[[Any], Response]] = {}
        self._not_found: Callable[[Any], Response] | None = None
        self.current_event = HttpEvent({})

    def route(self, path: str, method: str | Iterable[str]) -> Callable[[Handler], Handler]:
        methods = [method] if isinstance(method, str) else list(method)

        def register(func: Handler) -> Handler:
            for name in methods:
                self._routes[(name.upper(), path)] = func
            return func

        return register

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, "GET")

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, "POST")

    def exception_handler(self, exc_class: type[BaseException]) -> Callable[[Any], Any]:
        def register(func: Callable[[Any], Response]) -> Callable[[Any], Response]:
            self._errors[exc_class] = func
            return func

        return register

    def not_found(self, func: Callable[[Any], Response]) -> Callable[[Any], Response]:
        self._not_found = func
        return func

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """Route ``event``; an exception goes to the handler of its nearest class."""
        self.current_event = HttpEvent(event)
        request = self.current_event
        try:
            handler = self._routes.get((request.http_method, request.path))
            if handler is not None:
                response = handler()
            elif self._not_found is not None:
                response = self._not_found(LookupError(f"{request.http_method} {request.path}"))
            else:
                response = Response(404, "application/json", '{"error":"not_found"}')
        except Exception as exc:
            on_error = next((self._errors[c] for c in type(exc).__mro__ if c in self._errors), None)
            if on_error is None:
                raise
            response = on_error(exc)
        return response.to_payload()


#: RFC 6749 §5.1: token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

#: ``Retry-After`` seconds on a 503: dependency outages and throttling are usually brief.
UNAVAILABLE_RETRY_AFTER = "5"


def json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    """A JSON ``Response`` with compact encoding."""
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":")),
        headers=dict(headers or {}),
    )


def error_body(exc: AuthError) -> dict[str, str]:
    """The public body of an error: the standard code and, for OAuth errors, a generic description."""
    body = {"error": exc.error_code}
    description = getattr(exc, "description", "")
    if description:
        body["error_description"] = description
    return body


def register_error_handlers(app: Router, logger: Any, metrics: Any | None = None) -> None:
    """Install the one error mapping on ``app`` (see the module table)."""

    def _count(name: str) -> None:
        if metrics is not None:
            from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

            metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)

    @app.exception_handler(OAuthError)
    def _oauth(exc: OAuthError) -> Response:
        headers = dict(NO_STORE)
        if exc.status >= 500:
            # Ours, not the caller's: loud and counted. A 503 (TemporarilyUnavailableError) says
            # retry later; a 500 (ServerError) would fail the same way again.
            cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else None
            unavailable = exc.status == 503
            logger.error(
                "dependency unavailable" if unavailable else "server error",
                extra={"error_code": exc.error_code, "reason": exc.reason, "cause": cause},
            )
            _count("TemporarilyUnavailable" if unavailable else "ServerError")
            if unavailable:
                headers["Retry-After"] = UNAVAILABLE_RETRY_AFTER
        else:
            logger.info("request refused", extra={"error_code": exc.error_code, "reason": exc.reason})
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="token", error="invalid_client"'
        if isinstance(exc, SlowDownError):
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, UseDPoPNonceError) and exc.nonce:
            headers["DPoP-Nonce"] = exc.nonce  # RFC 9449 §8
        return json_response(exc.status, error_body(exc), headers)

    @app.exception_handler(TokenError)
    def _token(exc: TokenError) -> Response:
        logger.info("token rejected", extra={"reason": exc.reason})
        _count("TokenRejected")
        headers = {**NO_STORE, "WWW-Authenticate": 'Bearer error="invalid_token"'}
        return json_response(401, {"error": "invalid_token"}, headers)

    @app.exception_handler(AccessDeniedError)
    def _denied(exc: AccessDeniedError) -> Response:
        logger.info("access denied", extra={"reason": exc.reason})
        headers = {**NO_STORE, "WWW-Authenticate": 'Bearer error="insufficient_scope"'}
        return json_response(403, {"error": "insufficient_scope"}, headers)

    @app.exception_handler(KeyStoreError)
    def _keystore(exc: KeyStoreError) -> Response:
        logger.exception("key store unavailable", extra={"reason": exc.reason})
        _count("KeyStoreUnavailable")
        return json_response(
            503, {"error": "temporarily_unavailable"}, {**NO_STORE, "Retry-After": UNAVAILABLE_RETRY_AFTER}
        )

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error", extra={"reason": getattr(exc, "reason", type(exc).__name__)})
        _count("ServerError")
        return json_response(500, {"error": "server_error"}, NO_STORE)

    @app.not_found
    def _not_found(_exc: Exception) -> Response:
        return json_response(404, {"error": "not_found"}, NO_STORE)


# --------------------------------------------------------------------------- OAuth endpoints
#: methods answered with 405 on POST-only OAuth routes (RFC 6749 §3.2: the token endpoint is POST).
NOT_POST = ["GET", "PUT", "PATCH", "DELETE"]


def token_response(body: str) -> Response:
    """200 with an already-serialised token body (sent byte for byte) and ``no-store``."""
    return Response(status_code=200, content_type="application/json", body=body, headers=dict(NO_STORE))


def method_not_allowed() -> Response:
    """405 ``invalid_request`` with ``Allow: POST``."""
    return json_response(405, {"error": "invalid_request"}, {**NO_STORE, "Allow": "POST"})


# --------------------------------------------------------------------------- function plumbing
@dataclass(frozen=True)
class HttpFunction:
    """The plumbing every HTTP function shares, built once per execution environment.

    A :class:`Router` with the one error mapping, a redacting Powertools Logger and EMF Metrics named
    after the function, 405 answers for non-POST methods on POST-only routes, and a
    ``lambda_handler`` that sets the correlation id (API Gateway request id) and flushes metrics.
    Handlers keep only their routes and their cached services.

    Example::

        fn = HttpFunction.create("issue_token", post_only=["/token"])
        app, logger, metrics = fn.app, fn.logger, fn.metrics

        @app.post("/token")
        def token() -> Response: ...

        lambda_handler = fn.handler()
    """

    app: Router
    logger: Any
    metrics: Any

    @classmethod
    def create(cls, service: str, *, post_only: Iterable[str] = ()) -> HttpFunction:
        """Build the resolver, Logger and Metrics for ``service`` and register the error mapping."""
        from auth_core.observability import get_logger, get_metrics  # noqa: PLC0415

        fn = cls(Router(), get_logger(service), get_metrics(service=service))
        register_error_handlers(fn.app, fn.logger, fn.metrics)
        for path in post_only:
            fn.app.route(path, method=NOT_POST)(method_not_allowed)
        return fn

    def handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        """The Lambda entry point: correlation id from the request, metrics flushed after, and
        the invocation's deadline set from ``context`` while the request is resolved; traced by
        X-Ray when the ``tracing`` setting is on."""
        from aws_lambda_powertools.logging import correlation_paths  # noqa: PLC0415

        from auth_core.tracing import traced  # noqa: PLC0415

        app = self.app

        @self.logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
        @self.metrics.log_metrics
        def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            with deadline.scope(context):
                return app.resolve(event, context)

        # X-Ray only when TRACING is on (auth_core/tracing.py); off, the handler above runs as is.
        return traced(lambda_handler, self.logger.service)
