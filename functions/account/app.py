"""Self-service accounts: sign-up with email verification, forgotten / reset password, change
password (``/account/...``).

Thin: :class:`auth_core.accounts.endpoint.AccountEndpoint` turns requests into calls on
:class:`auth_core.accounts.service.AccountService`; the JSON API's errors are the OAuth JSON of
:mod:`auth_core.http`, the pages' are pages. ``POST /account/api/password`` checks its bearer
token as ``/userinfo`` does (public keys, then the revocation feed).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from auth_core.accounts.endpoint import PAGES, AccountEndpoint
from auth_core.hosted.branding import Branding
from auth_core.http import HttpFunction, Response
from auth_core.issuer import resolve_issuer
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.settings import Settings

if TYPE_CHECKING:
    from auth_core.accounts.service import AccountService

fn = HttpFunction.create(
    "account",
    post_only=[f"/account/api/{a}" for a in ("signup", "verify", "forgot", "reset", "password")],
)
app, logger, metrics = fn.app, fn.logger, fn.metrics

#: Builds the core (``None``: the real one). Tests set one, then ``service.cache_clear()``.
service_factory: Callable[[Settings], AccountService] | None = None


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def service() -> AccountService:
    if service_factory is not None:
        return service_factory(settings())
    # Imported here, as the other functions' factories do: the stores, the hasher and the mail
    # client are the first request's cost, not every cold start's import.
    from auth_core.accounts.service import AccountService  # noqa: PLC0415

    return AccountService.from_settings(settings(), audit=PowertoolsAudit(logger, metrics))


@functools.cache
def endpoint() -> AccountEndpoint:
    config = settings()
    return AccountEndpoint(service, Branding.from_settings(config), issuer=config.issuer, logger=logger)


@functools.cache
def bearer(issuer: str) -> Any:
    from auth_core.oauth.factories import userinfo_service  # noqa: PLC0415 - the password route only

    return userinfo_service(settings(), issuer, PowertoolsAudit(logger, metrics))


def _event() -> dict[str, Any]:
    return dict(app.current_event.raw_event)


def _api(action: str) -> Callable[[], Response]:
    return lambda: endpoint().api(action, _event())


for _action in ("signup", "verify", "forgot", "reset"):
    app.post(f"/account/api/{_action}")(_api(_action))


@app.post("/account/api/password")
def change_password() -> Response:
    from auth_core.oauth.userinfo import bearer_token  # noqa: PLC0415

    event = _event()
    headers = event.get("headers") or {}
    token = bearer_token({"headers": headers})  # the header only: the body carries the passwords
    claims = bearer(resolve_issuer(settings().issuer, event)).verified_claims(token)
    return endpoint().change_password(event, claims)


def _page(route: str) -> Callable[[], Response]:
    return lambda: endpoint().page(route, _event())


for _route in PAGES:
    app.route(_route, method=["GET", "POST"])(_page(_route))

lambda_handler = fn.handler()
