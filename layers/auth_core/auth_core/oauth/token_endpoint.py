"""The token endpoint as an HTTP function: ``POST /token`` and ``POST /refresh`` share this module.

Both run one :class:`~auth_core.oauth.grants.TokenService` operation on a strictly parsed request
(:func:`~auth_core.oauth.factories.run_token_operation`) and send the body it built, byte for byte,
with ``no-store``; errors map in one place (:func:`auth_core.http.register_error_handlers`).
They differ only in the route, the operation (``token``: every grant; ``refresh_endpoint``:
``grant_type=refresh_token`` only), the Lambda function's name and -- in ``template.yaml`` -- the
IAM role: ``/refresh`` never logs a user in, so its role has no ``UpdateItem`` on users and no
``DeleteItem`` on sessions (the login throttle).

A function is three lines::

    endpoint = TokenEndpoint.create("issue_token", "/token", "token", "token issued")
    app, logger, metrics, settings, service = endpoint.parts()
    lambda_handler = endpoint.fn.handler()
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from auth_core.http import HttpFunction, Response, token_response
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.oauth.factories import run_token_operation, token_service
from auth_core.settings import Settings

if TYPE_CHECKING:  # the grants are imported by the first request (``token_service``), not here
    from auth_core.oauth.grants import TokenService

__all__ = ["TokenEndpoint"]


@dataclass(frozen=True)
class TokenEndpoint:
    """One token route on an :class:`HttpFunction`, with its settings and service built once per
    execution environment (``settings`` and ``service`` are ``functools.cache``d; tests clear them)."""

    fn: HttpFunction
    settings: Callable[[], Settings]
    service: Callable[[], TokenService]

    @classmethod
    def create(
        cls, name: str, path: str, operation: Literal["token", "refresh_endpoint"], log_message: str
    ) -> TokenEndpoint:
        """The function ``name`` answering ``POST path`` with ``TokenService.<operation>``."""
        fn = HttpFunction.create(name, post_only=[path])

        @functools.cache
        def settings() -> Settings:
            return Settings.from_env()

        @functools.cache
        def service() -> TokenService:
            return token_service(settings(), PowertoolsAudit(fn.logger, fn.metrics))

        @fn.app.post(path)
        def handle() -> Response:
            result = run_token_operation(
                getattr(service(), operation), settings(), fn.app.current_event.raw_event
            )
            fn.logger.info(log_message, extra={"grant_type": result.grant_type, "replayed": result.replayed})
            return token_response(result.body)

        return cls(fn, settings, service)

    def parts(self) -> tuple[Any, Any, Any, Callable[[], Settings], Callable[[], TokenService]]:
        """``app, logger, metrics, settings, service``: what a function module exposes."""
        return self.fn.app, self.fn.logger, self.fn.metrics, self.settings, self.service
