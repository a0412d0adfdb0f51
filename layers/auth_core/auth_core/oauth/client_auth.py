"""Client authentication for the token and revocation endpoints (RFC 6749 §2.3, §3.2.1).

Confidential clients (a stored secret hash) must authenticate on every request, with
``client_secret_basic`` or ``client_secret_post``; public clients identify themselves with
``client_id`` alone and may present no secret. Every failure is the same ``invalid_client``
(401): unknown id, wrong secret, disabled client, or a secret sent for a public client.

A client id is bounded before it reaches any store: at most :data:`MAX_CLIENT_ID_LENGTH`
characters of RFC 6749 ``VSCHAR`` (printable ASCII, Appendix A.1). Anything else is the same
``invalid_client`` without a DynamoDB call: real DynamoDB refuses partition keys over 2,048
bytes with a ``ValidationException`` (a 5xx for an unauthenticated caller), moto does not.
"""

from __future__ import annotations

import re

from auth_core.errors import InvalidClientError
from auth_core.oauth.request import ClientCredentials
from auth_core.stores.clients import Client, hash_client_secret
from auth_core.stores.interfaces import Clients

__all__ = ["MAX_CLIENT_ID_LENGTH", "authenticate_client", "is_valid_client_id"]

#: Longest client id ever looked up (far below DynamoDB's 2,048-byte key limit).
MAX_CLIENT_ID_LENGTH = 128
#: RFC 6749 Appendix A.1: ``client-id = *VSCHAR``, ``VSCHAR = %x20-7E``.
_CLIENT_ID = re.compile(rf"[\x20-\x7e]{{1,{MAX_CLIENT_ID_LENGTH}}}", re.ASCII)


def is_valid_client_id(client_id: str) -> bool:
    """Could ``client_id`` name a client? (1..128 printable ASCII characters.)"""
    return len(client_id) <= MAX_CLIENT_ID_LENGTH and _CLIENT_ID.fullmatch(client_id) is not None


#: Compared against when the client id is unknown, so that path costs one hash like the others.
_UNKNOWN = Client(client_id="", secret_hash=hash_client_secret("unknown-client"))


def authenticate_client(
    credentials: ClientCredentials, clients: Clients, *, fresh: bool = False, now: float | None = None
) -> Client:
    """The authenticated, enabled client. A confidential client's secret is its current one, or
    the one a rotation replaced while that one's overlap lasts (``now``, default the time now:
    :meth:`~auth_core.stores.clients.Client.secret_matches`).

    :raises InvalidClientError: authentication failed (one reason code per cause, for logs only).
    :raises TemporarilyUnavailableError: the clients table failed.
    """
    if not credentials.client_id:
        raise InvalidClientError(reason="client_missing")
    if not is_valid_client_id(credentials.client_id):
        _UNKNOWN.secret_matches(credentials.client_secret or "")  # same cost as an unknown id
        raise InvalidClientError(reason="client_id_invalid")
    # ``fresh``: read the item now, not the container's cache (a client disabled a moment ago is
    # refused at once by endpoints that do not read the revocation feed: /revoke, /introspect)
    client = clients.get_fresh(credentials.client_id) if fresh else clients.get(credentials.client_id)
    if client is None:
        _UNKNOWN.secret_matches(credentials.client_secret or "")
        raise InvalidClientError(reason="client_unknown")
    if client.confidential:
        if credentials.client_secret is None or not client.secret_matches(credentials.client_secret, now=now):
            raise InvalidClientError(reason="client_secret")
    elif credentials.client_secret is not None:
        raise InvalidClientError(reason="public_client_secret")
    if not client.enabled:
        raise InvalidClientError(reason="client_disabled")
    return client
