"""``POST /token`` (RFC 6749): password, client_credentials and refresh_token grants.

Thin: the endpoint is :class:`auth_core.oauth.token_endpoint.TokenEndpoint` (shared with
``/refresh``): parse strictly, run :meth:`~auth_core.oauth.grants.TokenService.token`, send the
body it built with ``no-store``. Errors are mapped in one place (:mod:`auth_core.http`).
"""

from __future__ import annotations

from auth_core.oauth.token_endpoint import TokenEndpoint

endpoint = TokenEndpoint.create("issue_token", "/token", "token", "token issued")
app, logger, metrics, settings, service = endpoint.parts()
lambda_handler = endpoint.fn.handler()
