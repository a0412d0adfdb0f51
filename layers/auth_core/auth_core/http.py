"""HTTP glue for the API functions: errors mapped to responses in exactly one place.

Every HTTP function builds a Powertools ``APIGatewayHttpResolver`` and calls
:func:`register_error_handlers` on it; no handler has its own try/except ladder.

=============================  ======  ===============================================
raised                          status  body
=============================  ======  ===============================================
``OAuthError`` subclasses       .status ``{"error": code}`` (+ ``WWW-Authenticate`` on 401)
``SlowDownError``               429     ``{"error": "invalid_grant"}`` + ``Retry-After``
``TemporarilyUnavailableError`` 503     ``{"error": "temporarily_unavailable"}`` + ``Retry-After``
``TokenError``                  401     ``{"error": "invalid_token"}`` + ``WWW-Authenticate``
``AccessDeniedError``           403     ``{"error": "insufficient_scope"}``
``KeyStoreError``               503     ``{"error": "temporarily_unavailable"}``
anything else                   500     ``{"error": "server_error"}`` (stack trace to the log only)
=============================  ======  ===============================================

The body never says *why* a token or credential failed; the log line does (``reason``).

Outages reach this table in time: :class:`HttpFunction` sets the invocation's deadline
(:mod:`auth_core.deadline`) from the Lambda context, and the AWS clients fail a hung call before
it, so the 503 is ours -- with ``Retry-After``, a log line and a metric -- and not Lambda's kill.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from auth_core import deadline
from auth_core.errors import (
    AccessDeniedError,
    AuthError,
    KeyStoreError,
    OAuthError,
    SlowDownError,
    TokenError,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, Response

__all__ = [
    "NOT_POST",
    "NO_STORE",
    "HttpFunction",
    "Response",
    "error_body",
    "json_response",
    "method_not_allowed",
    "register_error_handlers",
    "resolve_issuer",
    "token_response",
]

_EVENT_HANDLER = "aws_lambda_powertools.event_handler"


def _api_gateway() -> ModuleType:
    """Powertools' ``event_handler.api_gateway`` (``APIGatewayHttpResolver``, ``Response``) alone.

    Importing any ``event_handler`` submodule first runs the package's ``__init__``, which imports
    every resolver (AppSync, AppSync Events, Bedrock agents, VPC Lattice, ALB, function URLs...):
    ~40 ms of every HTTP function's cold start for classes they never use. So the package object
    is registered without running its ``__init__``. A name looked up on it is a submodule
    (``from aws_lambda_powertools.event_handler import content_types``, as Powertools itself does),
    or else one the ``__init__`` defines (``... import AppSyncResolver`` anywhere): the first such
    lookup runs that ``__init__`` then, so every other import keeps working unchanged.
    """
    module = sys.modules.get(f"{_EVENT_HANDLER}.api_gateway")
    if module is not None:
        return module
    if _EVENT_HANDLER not in sys.modules:
        import importlib  # noqa: PLC0415 - only on the first call
        import importlib.util  # noqa: PLC0415

        spec = importlib.util.find_spec(_EVENT_HANDLER)
        if spec is None or spec.loader is None:
            raise ImportError(_EVENT_HANDLER)
        package = importlib.util.module_from_spec(spec)  # __path__ set, __init__ not run
        loader = spec.loader

        def complete(name: str) -> Any:
            try:
                return importlib.import_module(f"{_EVENT_HANDLER}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{_EVENT_HANDLER}.{name}":
                    raise
            del package.__dict__["__getattr__"]
            loader.exec_module(package)  # the real __init__, now (submodules already loaded stay)
            return getattr(package, name)

        package.__getattr__ = complete  # type: ignore[method-assign]  # PEP 562
        sys.modules[_EVENT_HANDLER] = package
        setattr(sys.modules["aws_lambda_powertools"], "event_handler", package)  # noqa: B010
    import aws_lambda_powertools.event_handler.api_gateway as api_gateway  # noqa: PLC0415

    return api_gateway


def __getattr__(name: str) -> Any:
    # ``from auth_core.http import Response`` in the HTTP functions, without making this module
    # (which the authorizer imports for ``resolve_issuer``) import Powertools itself.
    if name in {"Response", "APIGatewayHttpResolver"}:
        return getattr(_api_gateway(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: RFC 6749 §5.1: token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

#: ``Retry-After`` seconds on a 503: dependency outages and throttling are usually brief.
UNAVAILABLE_RETRY_AFTER = "5"


def json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    """A JSON ``Response`` with compact encoding."""
    return _api_gateway().Response(
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


def register_error_handlers(app: APIGatewayHttpResolver, logger: Any, metrics: Any | None = None) -> None:
    """Install the one error mapping on ``app`` (see the module table)."""

    def _count(name: str) -> None:
        if metrics is not None:
            from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

            metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)

    @app.exception_handler(OAuthError)
    def _oauth(exc: OAuthError) -> Response:
        headers = dict(NO_STORE)
        if exc.status >= 500:
            # Ours, not the caller's (TemporarilyUnavailableError): loud, counted, retry later.
            cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else None
            logger.error(
                "dependency unavailable",
                extra={"error_code": exc.error_code, "reason": exc.reason, "cause": cause},
            )
            _count("TemporarilyUnavailable")
            headers["Retry-After"] = UNAVAILABLE_RETRY_AFTER
        else:
            logger.info("request refused", extra={"error_code": exc.error_code, "reason": exc.reason})
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="token", error="invalid_client"'
        if isinstance(exc, SlowDownError):
            headers["Retry-After"] = str(exc.retry_after)
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


def resolve_issuer(configured: str, event: Mapping[str, Any]) -> str:
    """The issuer URL: the configured one, else ``https://{domainName}`` of the request.

    Deriving it from API Gateway's ``requestContext.domainName`` (set by API Gateway, not by the
    client) lets a fresh ``sam deploy`` work without a circular template reference; production
    deployments set ``ISSUER`` to their custom domain.
    """
    if configured:
        return configured
    ctx = event.get("requestContext") or {}
    domain = ctx.get("domainName") if isinstance(ctx, Mapping) else None
    if not isinstance(domain, str) or not domain or "/" in domain:
        from auth_core.errors import ConfigurationError  # noqa: PLC0415

        raise ConfigurationError("ISSUER is not set and the request has no domain name")
    scheme = "http" if domain.startswith(("127.0.0.1", "localhost")) else "https"
    return f"{scheme}://{domain}"


# --------------------------------------------------------------------------- OAuth endpoints
#: methods answered with 405 on POST-only OAuth routes (RFC 6749 §3.2: the token endpoint is POST).
NOT_POST = ["GET", "PUT", "PATCH", "DELETE"]


def token_response(body: str) -> Response:
    """200 with an already-serialised token body (sent byte for byte) and ``no-store``."""
    return _api_gateway().Response(
        status_code=200, content_type="application/json", body=body, headers=dict(NO_STORE)
    )


def method_not_allowed() -> Response:
    """405 ``invalid_request`` with ``Allow: POST``."""
    return json_response(405, {"error": "invalid_request"}, {**NO_STORE, "Allow": "POST"})


# --------------------------------------------------------------------------- function plumbing
@dataclass(frozen=True)
class HttpFunction:
    """The plumbing every HTTP function shares, built once per execution environment.

    A Powertools resolver with the one error mapping, a redacting Logger and EMF Metrics named
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

    app: APIGatewayHttpResolver
    logger: Any
    metrics: Any

    @classmethod
    def create(cls, service: str, *, post_only: Iterable[str] = ()) -> HttpFunction:
        """Build the resolver, Logger and Metrics for ``service`` and register the error mapping."""
        from auth_core.observability import get_logger, get_metrics  # noqa: PLC0415

        fn = cls(_api_gateway().APIGatewayHttpResolver(), get_logger(service), get_metrics(service=service))
        register_error_handlers(fn.app, fn.logger, fn.metrics)
        for path in post_only:
            fn.app.route(path, method=NOT_POST)(method_not_allowed)
        return fn

    def handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        """The Lambda entry point: correlation id from the request, metrics flushed after, and
        the invocation's deadline set from ``context`` while the request is resolved."""
        from aws_lambda_powertools.logging import correlation_paths  # noqa: PLC0415

        app = self.app

        @self.logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
        @self.metrics.log_metrics
        def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            with deadline.scope(context):
                return app.resolve(event, context)

        return lambda_handler
