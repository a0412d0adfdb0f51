"""The hosted sign-in pages: ``/authorize``, ``/authorize/mfa`` (and ``/authorize/mfa/setup``),
``/authorize/consent``, ``/logout`` and ``/par``.

Thin: :class:`auth_core.hosted.endpoint.HostedEndpoint` turns requests into calls on the protocol
core (``auth_core.oauth.authorize.AuthorizationService``) and its answers into pages, redirects
and cookies; errors on the pages' routes become error pages there, ``/par``'s become the OAuth
JSON of :mod:`auth_core.http`.

The core is built on the first request that needs it, from :data:`service_factory` when a test
or the browser harness sets one, else from ``AuthorizationService.from_settings``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from auth_core.hosted.branding import Branding
from auth_core.hosted.endpoint import AUTHORIZE, CONSENT, LOGOUT, MFA, HostedEndpoint
from auth_core.hosted.mfa_setup import ROUTE as MFA_SETUP
from auth_core.http import HttpFunction, Response
from auth_core.oauth.audit import Audit, PowertoolsAudit
from auth_core.oauth.authorization import AuthorizationProtocol
from auth_core.settings import Settings

fn = HttpFunction.create("authorize", post_only=["/par"])
app, logger, metrics = fn.app, fn.logger, fn.metrics

#: Builds the protocol core (``None``: the real one). Tests set a fake, then ``service.cache_clear()``.
service_factory: Callable[[Settings, Audit], AuthorizationProtocol] | None = None


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def service() -> AuthorizationProtocol:
    audit = PowertoolsAudit(logger, metrics)
    if service_factory is not None:
        return service_factory(settings(), audit)
    from auth_core.oauth.authorize import AuthorizationService  # noqa: PLC0415 - first request only

    return AuthorizationService.from_settings(settings(), audit=audit)


@functools.cache
def hosted() -> HostedEndpoint:
    config = settings()
    return HostedEndpoint(service, Branding.from_settings(config), issuer=config.issuer, logger=logger)


def _event() -> dict[str, Any]:
    return dict(app.current_event.raw_event)


@app.get(AUTHORIZE)
def authorize() -> Response:
    return hosted().authorize(_event())


@app.post(AUTHORIZE)
def sign_in() -> Response:
    return hosted().sign_in(_event())


@app.post(MFA)
def second_factor() -> Response:
    return hosted().second_factor(_event())


@app.route(MFA_SETUP, method=["GET", "POST"])
def mfa_setup() -> Response:
    return hosted().mfa_setup(_event())


@app.post(CONSENT)
def consent() -> Response:
    return hosted().consent(_event())


@app.route(LOGOUT, method=["GET", "POST"])
def logout() -> Response:
    return hosted().logout(_event())


@app.post("/par")
def par() -> Response:
    return hosted().par(_event())


def _not_allowed(allowed: tuple[str, ...]) -> Callable[[], Response]:
    return lambda: hosted().method_not_allowed(", ".join(allowed))


# the pages' other methods: a 405 page with Allow (/par's is the JSON one of post_only)
for _path, _allowed in (
    (AUTHORIZE, ("GET", "POST")),
    (CONSENT, ("POST",)),
    (MFA, ("POST",)),
    (MFA_SETUP, ("GET", "POST")),
    (LOGOUT, ("GET", "POST")),
):
    _others = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m not in _allowed]
    app.route(_path, method=_others)(_not_allowed(_allowed))

lambda_handler = fn.handler()
