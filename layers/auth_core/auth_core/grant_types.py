"""The grant types this server implements: the one registry everything else reads.

The token endpoint's dispatch (:meth:`auth_core.oauth.grants.TokenService.token`), discovery's
``grant_types_supported``, client registration (:func:`check_client_grants`, used by
``authctl clients create`` and :meth:`auth_core.stores.clients.ClientStore.create`) and the
CLI's ``--grants`` choices all come from :data:`GRANTS`. Adding a grant is one entry here (its
``handler`` is the ``TokenService`` method that runs it) plus that method and its tests.

Kept free of imports beyond the errors so the stores, discovery and the CLI can read it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from auth_core.errors import InvalidRequestError

__all__ = [
    "AUTHORIZATION_CODE",
    "CLIENT_CREDENTIALS",
    "GRANTS",
    "GRANT_TYPES",
    "PASSWORD",
    "REFRESH_TOKEN",
    "GrantType",
    "check_client_grants",
]

AUTHORIZATION_CODE = "authorization_code"
PASSWORD = "password"
CLIENT_CREDENTIALS = "client_credentials"
REFRESH_TOKEN = "refresh_token"


@dataclass(frozen=True)
class GrantType:
    """One grant type.

    :ivar name: the ``grant_type`` value (RFC 6749).
    :ivar handler: the ``TokenService`` method that runs it, ``(request, issuers) -> TokenResult``.
    :ivar confidential_only: only a client with a secret may use it. Public clients (browser and
        mobile apps, which cannot keep a secret) may use only the authorization code grant with
        PKCE and refresh (RFC 9700 §2.1, §2.4): ``client_credentials`` needs a secret (RFC 6749
        §4.4) and the password grant, kept for confidential first-party clients that have it
        enabled, must not hand a public client the user's password (RFC 9700 §2.4).
    :ivar issues_refresh_token: its response may carry a refresh token (when the client may
        also use ``refresh_token``); never for ``client_credentials`` (RFC 6749 §4.4.3).
    """

    name: str
    handler: str
    confidential_only: bool = False
    issues_refresh_token: bool = False


_ALL = (
    GrantType(AUTHORIZATION_CODE, handler="authorization_code", issues_refresh_token=True),
    GrantType(PASSWORD, handler="password", confidential_only=True, issues_refresh_token=True),
    GrantType(CLIENT_CREDENTIALS, handler="client_credentials", confidential_only=True),
    GrantType(REFRESH_TOKEN, handler="refresh", issues_refresh_token=True),
)

#: name -> grant type, in the order discovery advertises them
GRANTS: Mapping[str, GrantType] = MappingProxyType({g.name: g for g in _ALL})
#: every grant type name, in registry order
GRANT_TYPES: tuple[str, ...] = tuple(GRANTS)


def check_client_grants(
    grants: Iterable[str], *, confidential: bool, redirect_uris: Iterable[str] | None = None
) -> tuple[str, ...]:
    """The grant types a client is registered with, checked against the registry.

    ``redirect_uris`` (when given) are the client's registered redirect URIs: the authorization
    code grant needs at least one.

    :returns: ``grants`` without duplicates, in the order given.
    :raises InvalidRequestError: an unknown name, a confidential-only grant for a public client,
        or the authorization code grant without a redirect URI.
    """
    chosen = tuple(dict.fromkeys(grants))
    unknown = [g for g in chosen if g not in GRANTS]
    if unknown:
        raise InvalidRequestError(
            f"unknown grant types: {', '.join(unknown)} (known: {', '.join(GRANT_TYPES)})"
        )
    for name in chosen:
        if GRANTS[name].confidential_only and not confidential:
            raise InvalidRequestError(f"{name} is for confidential clients only (with a secret)")
    if redirect_uris is not None and AUTHORIZATION_CODE in chosen and not tuple(redirect_uris):
        raise InvalidRequestError("authorization_code needs at least one redirect URI")
    return chosen
