"""``POST /refresh`` (RFC 6749 §6): ``grant_type=refresh_token`` only, with rotation.

The very same endpoint as ``POST /token`` (:class:`auth_core.oauth.token_endpoint.TokenEndpoint`)
restricted to :meth:`~auth_core.oauth.grants.TokenService.refresh_endpoint`: the body is
byte-identical on a grace-window retry, sent with ``no-store``. A function of its own for least
privilege: its role cannot update users nor delete sessions items (``template.yaml``).
"""

from __future__ import annotations

from auth_core.oauth.token_endpoint import TokenEndpoint

endpoint = TokenEndpoint.create("refresh_token", "/refresh", "refresh_endpoint", "token refreshed")
app, logger, metrics, settings, service = endpoint.parts()
lambda_handler = endpoint.fn.handler()
