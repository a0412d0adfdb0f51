"""The issuer URL (``iss``): configured, or derived from the API's own domain.

Deriving it from API Gateway's ``requestContext.domainName`` (set by API Gateway, not by the
client) lets a fresh ``sam deploy`` work without a circular template reference; production
deployments set ``ISSUER`` to their custom domain. A module of its own, with no imports but the
errors: the authorizer needs this and nothing else of the HTTP functions' plumbing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auth_core.errors import ConfigurationError

__all__ = ["issuer_for_domain", "resolve_issuer"]


def issuer_for_domain(domain: object) -> str:
    """``https://{domain}`` (``http`` for a local stack on 127.0.0.1 or localhost).

    :raises ConfigurationError: no usable domain name.
    """
    if not isinstance(domain, str) or not domain or "/" in domain:
        raise ConfigurationError("ISSUER is not set and the request has no domain name")
    scheme = "http" if domain.startswith(("127.0.0.1", "localhost")) else "https"
    return f"{scheme}://{domain}"


def resolve_issuer(configured: str, event: Mapping[str, Any]) -> str:
    """The issuer URL: the configured one, else the one of the request's domain.

    :raises ConfigurationError: neither is there.
    """
    if configured:
        return configured
    ctx = event.get("requestContext") or {}
    return issuer_for_domain(ctx.get("domainName") if isinstance(ctx, Mapping) else None)
