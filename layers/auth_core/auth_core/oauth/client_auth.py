"""Client authentication for the token and revocation endpoints (RFC 6749 §2.3, §3.2.1).

Confidential clients (a stored secret hash) must authenticate on every request, with
``client_secret_basic`` or ``client_secret_post``; public clients identify themselves with
``client_id`` alone and may present no secret. Every failure is the same ``invalid_client``
(401): unknown id, wrong secret, disabled client, or a secret sent for a public client.
"""

from __future__ import annotations

from auth_core.errors import InvalidClientError
from auth_core.oauth.request import ClientCredentials
from auth_core.stores.clients import Client, ClientStore, hash_client_secret

__all__ = ["authenticate_client"]

#: Compared against when the client id is unknown, so that path costs one hash like the others.
_UNKNOWN = Client(client_id="", secret_hash=hash_client_secret("unknown-client"))


def authenticate_client(
    credentials: ClientCredentials, clients: ClientStore, *, fresh: bool = False
) -> Client:
    """The authenticated, enabled client.

    :raises InvalidClientError: authentication failed (one reason code per cause, for logs only).
    :raises TemporarilyUnavailableError: the clients table failed.
    """
    if not credentials.client_id:
        raise InvalidClientError(reason="client_missing")
    # ``fresh``: read the item now, not the container's cache (a client disabled a moment ago is
    # refused at once by endpoints that do not read the revocation feed: /revoke, /introspect)
    client = clients.get_fresh(credentials.client_id) if fresh else clients.get(credentials.client_id)
    if client is None:
        _UNKNOWN.secret_matches(credentials.client_secret or "")
        raise InvalidClientError(reason="client_unknown")
    if client.confidential:
        if credentials.client_secret is None or not client.secret_matches(credentials.client_secret):
            raise InvalidClientError(reason="client_secret")
    elif credentials.client_secret is not None:
        raise InvalidClientError(reason="public_client_secret")
    if not client.enabled:
        raise InvalidClientError(reason="client_disabled")
    return client
