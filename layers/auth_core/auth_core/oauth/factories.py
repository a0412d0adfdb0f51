"""Production wiring of the OAuth services from :class:`Settings` (used by the handlers).

Kept out of the handlers so ``/token`` and ``/refresh`` build the identical service, and out of
``grants.py`` so the core's tests never need Secrets Manager: here, and only here, the signing
key store, the access-token issuer and the verifier are bound to the real implementations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from auth_core.issuer import resolve_issuer
from auth_core.oauth.audit import Audit
from auth_core.oauth.request import OAuthRequest, parse_request
from auth_core.settings import Settings

# Each factory imports the stores and services it builds: they load on a function's first
# request, with its keys and boto3, and a function's cold import carries only its HTTP plumbing.
if TYPE_CHECKING:
    from auth_core.authorizer.dpop import DPoPCheck
    from auth_core.oauth.grants import Issuer, IssuerFactory, TokenResult, TokenService
    from auth_core.oauth.introspection import IntrospectionService
    from auth_core.oauth.revocation import RevocationService
    from auth_core.oauth.userinfo import UserinfoService

__all__ = [
    "introspection_service",
    "issuer_factory",
    "revocation_service",
    "run_token_operation",
    "token_service",
    "userinfo_service",
]


def _events(audit: Audit | None) -> Callable[[str], None] | None:
    """Where key-store and revocation-feed events go: the function's audit sink (a log line and
    a metric each), in every function that loads keys."""
    return audit.record if audit is not None else None


def token_service(settings: Settings, audit: Audit | None = None) -> TokenService:
    """A :class:`TokenService` signing with the ``SIGNING_KEYS_SECRET_ID`` key set.

    :raises ConfigurationError: a required setting is missing.
    """
    from auth_core.keystore import SigningKeyStore  # noqa: PLC0415 - only signers load private keys
    from auth_core.oauth.grants import TokenService  # noqa: PLC0415 - not /revoke's nor /introspect's
    from auth_core.revocation_feed import feed_from_settings  # noqa: PLC0415

    # The same feed the authorizer reads: a disabled client, a cut-off or a revoked signing key
    # reaches the signers within REVOCATION_FEED_INTERVAL, not after the key cache's TTL.
    on_event = _events(audit)
    feed = feed_from_settings(settings, on_event=on_event)
    keys = SigningKeyStore.from_settings(settings, is_revoked=feed.kid_revoked, on_event=on_event)
    return TokenService.from_settings(settings, keys=keys, audit=audit, feed=feed)


def issuer_factory(settings: Settings, issuer_url: str) -> IssuerFactory:
    """Access-token lifetime -> ``AccessTokenIssuer`` for ``issuer_url`` (one instance per lifetime)."""
    from auth_core.tokens import AccessTokenIssuer  # noqa: PLC0415 - keep import cost off cold paths

    made: dict[int, Issuer] = {}

    def issuer(ttl: int) -> Issuer:
        found = made.get(ttl)
        if found is None:
            found = made[ttl] = AccessTokenIssuer(issuer_url, settings.audience, ttl)
        return found

    return issuer


def revocation_service(settings: Settings, issuer_url: str, audit: Audit | None = None) -> RevocationService:
    """The RFC 7009 service: access tokens checked against ``PUBLIC_JWKS_SECRET_ID``.

    :raises ConfigurationError: a required setting is missing.
    """
    from auth_core.keystore import PublicKeyStore  # noqa: PLC0415
    from auth_core.oauth.revocation import RevocationService, SessionRevoker  # noqa: PLC0415
    from auth_core.stores.clients import ClientStore  # noqa: PLC0415
    from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415
    from auth_core.stores.sessions import SessionStore  # noqa: PLC0415
    from auth_core.stores.users import UserStore  # noqa: PLC0415
    from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy  # noqa: PLC0415

    verifier: Any = AccessTokenVerifier(
        ClaimsPolicy.from_settings(settings, issuer_url),
        PublicKeyStore.from_settings(settings, on_event=_events(audit)),
    )
    sessions = SessionStore(settings.require("sessions_table"))
    revocations = RevocationStore(settings.require("revocations_table"))
    revoker = SessionRevoker(
        sessions=sessions,
        revocations=revocations,
        users=UserStore(settings.require("users_table")),
        max_token_lifetime=settings.max_access_token_lifetime,
        audit=audit,
    )
    return RevocationService(
        clients=ClientStore(settings.require("clients_table")),
        sessions=sessions,
        revocations=revocations,
        revoker=revoker,
        verifier=verifier,
        audit=audit,
    )


def run_token_operation(
    operation: Callable[[OAuthRequest, IssuerFactory], TokenResult],
    settings: Settings,
    event: Mapping[str, Any],
) -> TokenResult:
    """Parse an API Gateway event strictly and run ``POST /token`` or ``POST /refresh`` on it.

    The one request path both token functions share: the issuer URL is resolved per request
    (configured, else the API's domain) and the operation builds the exact response body.

    :raises OAuthError: the RFC 6749 §5.2 error for the request.
    """
    issuers = issuer_factory(settings, resolve_issuer(settings.issuer, event))
    return operation(parse_request(event), issuers)


def introspection_service(
    settings: Settings, issuer_url: str, audit: Audit | None = None
) -> IntrospectionService:
    """The RFC 7662 service (``POST /introspect``): access tokens checked against
    ``PUBLIC_JWKS_SECRET_ID`` exactly as ``/revoke`` checks them; read-only table access.

    :raises ConfigurationError: a required setting is missing.
    """
    from auth_core.keystore import PublicKeyStore  # noqa: PLC0415
    from auth_core.oauth.introspection import IntrospectionService  # noqa: PLC0415 - only /introspect
    from auth_core.stores.clients import ClientStore  # noqa: PLC0415
    from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415
    from auth_core.stores.sessions import SessionStore  # noqa: PLC0415
    from auth_core.stores.users import UserStore  # noqa: PLC0415
    from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy  # noqa: PLC0415

    verifier = AccessTokenVerifier(
        ClaimsPolicy.from_settings(settings, issuer_url),
        PublicKeyStore.from_settings(settings, on_event=_events(audit)),
    )
    return IntrospectionService(
        clients=ClientStore(settings.require("clients_table")),
        sessions=SessionStore(settings.require("sessions_table")),
        revocations=RevocationStore(settings.require("revocations_table")),
        users=UserStore(settings.require("users_table")),
        verifier=verifier,
        audit=audit,
    )


def userinfo_service(settings: Settings, issuer_url: str, audit: Audit | None = None) -> UserinfoService:
    """The OpenID Connect UserInfo service (``GET``/``POST /userinfo``): access tokens checked as
    the authorizer checks them (``PUBLIC_JWKS_SECRET_ID``, then the revocation feed over
    ``REVOCATIONS_TABLE``); usernames from ``USERS_TABLE``; DPoP proofs by ``DPOP_SIGNING_ALGS``
    keys, their replay records in ``SESSIONS_TABLE`` (without it, ``DPoP`` requests are refused).

    :raises ConfigurationError: a required setting is missing.
    """
    from auth_core.keystore import PublicKeyStore  # noqa: PLC0415
    from auth_core.oauth.userinfo import UserinfoService  # noqa: PLC0415 - only /userinfo
    from auth_core.revocation_feed import feed_from_settings  # noqa: PLC0415
    from auth_core.stores.users import UserStore  # noqa: PLC0415
    from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy  # noqa: PLC0415

    on_event = _events(audit)
    feed = feed_from_settings(settings, on_event=on_event) if settings.revocation_check else None
    verifier = AccessTokenVerifier(
        ClaimsPolicy.from_settings(settings, issuer_url),
        PublicKeyStore.from_settings(settings, on_event=on_event),  # the feed refuses revoked kids
    )
    return UserinfoService(
        verifier=verifier,
        revocation=feed,
        users=UserStore(settings.require("users_table")),
        audit=audit,
        dpop=_resource_dpop(settings),
    )


def _resource_dpop(settings: Settings) -> DPoPCheck:
    """``/userinfo``'s DPoP check (``auth_core.oauth.dpop_resource``): the authorizer's, with
    this function's own memory of proofs and the shared records in ``SESSIONS_TABLE``."""
    from auth_core.authorizer.dpop import dpop_check_from_settings  # noqa: PLC0415

    return dpop_check_from_settings(settings)
