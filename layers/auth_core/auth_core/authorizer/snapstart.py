"""Lambda SnapStart hooks, when the runtime offers them, and the priming they run.

With SnapStart (Python 3.12+), the initialised execution environment is snapshotted and later
restored, possibly many times and long after. Caches built before the snapshot (keys, verified
tokens, revocation answers) would then be restored stale, so the handler registers a hook that
empties them after each restore. ``snapshot_restore_py`` exists only in the Lambda runtime;
elsewhere registration is a no-op.

Before the snapshot, :func:`prime` runs the first request's code once, so a restored
environment's first request finds its modules imported and its code warm instead of paying for
it: the engine and its verifier are built, and a throwaway engine answers one event of each
format carrying :data:`PRIMING_TOKEN`. That token and its key are public constants, valid only
for the issuer ``https://priming.invalid`` and the audience ``priming`` at :data:`PRIMING_NOW`:
the key goes into a key set of the throwaway engine alone, never into a trusted one, and the
throwaway engine (its caches, its log lines) is dropped. Why a constant and not a key made at
snapshot time: priming must draw no randomness (an RNG state taken into a snapshot is the same in
every environment restored from it), and verifying a signature needs none. No network call is
made either: the key set and the revocation feed are fetched by the first request after the
restore, as before (their caches are emptied then anyway).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auth_core.authorizer.service import Authorizer

__all__ = ["PRIMING_NOW", "PRIMING_TOKEN", "after_restore", "before_snapshot", "prime"]

#: The public half of the throwaway priming key (its private half was discarded when made).
PRIMING_JWK: dict[str, str] = {
    "kty": "RSA",
    "n": (
        "sNMReKzl5xLWoh4vDTl6pD4K3X8Jf8FclGXdbLHpsczh0qPvaE5sxqT7ZKdi9w_MktEp56cqxBGq1SR1"
        "aymG9oB6uqgELSJZcMT_o8UOFYNdjDIvsUOH0CS3xUt_unaeGNi4cKePP-tV4GKfI1vwVMXPvau_auiA"
        "zdckvrcUZa6ieTj3HkqCwnxiUf5YP2R3bLvnGQZcmP1G9OAZQRj6ybGbdWLkSe2noicZYkqA64ZBv08z"
        "GRjJS83uTMPe8MBZIL8SleHS774uM_S2kYKC4B-KOjEm96Kqvc2DgBHG6zy4R5MLCf13VMm9cFCKqwwv"
        "-Bwbj_n8PriVz-4-WbPToQ"
    ),
    "e": "AQAB",
    "kid": "rdRfcvTz0n6gv6GoLI73EUAbMAd_4_RTQ1bT1z8xIO4",
    "alg": "RS256",
    "use": "sig",
}
#: An access token as ``AccessTokenIssuer`` makes them, signed by that key (``iat`` = PRIMING_NOW).
PRIMING_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6InJkUmZjdlR6MG42Z3Y2R29MSTczRVVBYk1B"
    "ZF80X1JUUTFiVDF6OHhJTzQifQ.eyJpc3MiOiJodHRwczovL3ByaW1pbmcuaW52YWxpZCIsInN1YiI6InBya"
    "W1pbmciLCJhdWQiOiJwcmltaW5nIiwiZXhwIjoxODAwMDAwMzAwLCJpYXQiOjE4MDAwMDAwMDAsImp0aSI6I"
    "lN2WXExUGV0Y1lkbm9zSTRtSFN5QWciLCJjbGllbnRfaWQiOiJwcmltaW5nIiwic2NvcGUiOiJwcmltaW5nI"
    "iwicm9sZXMiOlsicHJpbWluZyJdLCJzaWQiOiJwcmltaW5nIn0.XrwCt06-FyNJPTHSfWntK_1GylLcP6c31"
    "4GXp3JhSTjHbGBmc07d2EeIPOQp8blaS3A2eU8f__K6vmEub00b0ivBkYHD8jEhvFtnRheBFkV1uwWpVwCAP"
    "Csr7G8hKKa7WL6sCVYnrk7MIOYEQp3D3cBfl-4Edd7IV9hAayiZPec5Kxje7mrytV65fDX550BSrJffaJRNW"
    "DBdIuy29YWpQj1wBbB7bYz4cfCJfqtXPxxEihrFNzmOWjQbIkQgtSDwo-dRxG1KrBAE7oBmfdIJInzQAoDpD"
    "rxvRytLmXYe7Tau7w8OwyZSBua9Fr02BzUIrr0pUge33s-bv8QGrmYWHw"
)
PRIMING_ISSUER = "https://priming.invalid"
PRIMING_AUDIENCE = "priming"
#: The priming verifier's clock: :data:`PRIMING_TOKEN` is valid then (and expired today).
PRIMING_NOW = 1_800_000_000
_ARN = "arn:aws:execute-api:us-east-1:000000000000:priming/priming/GET/priming"
_DOMAIN = "priming.execute-api.us-east-1.amazonaws.com"


def _register(hook: str, callback: Callable[[], object]) -> bool:
    """``snapshot_restore_py.<hook>(callback)`` when the runtime offers that hook."""
    try:
        import snapshot_restore_py  # noqa: PLC0415 - Lambda runtime only
    except ImportError:
        return False
    register = getattr(snapshot_restore_py, hook, None)
    if register is None:
        return False
    register(callback)
    return True


def after_restore(callback: Callable[[], object]) -> bool:
    """Run ``callback`` after every SnapStart restore. Returns whether a hook was registered."""
    return _register("register_after_restore", callback)


def before_snapshot(callback: Callable[[], object]) -> bool:
    """Run ``callback`` once before the SnapStart snapshot. Returns whether a hook was registered."""
    return _register("register_before_snapshot", callback)


def priming_events(header: str = "authorization") -> list[dict[str, Any]]:
    """One event of each format API Gateway sends, carrying :data:`PRIMING_TOKEN`."""
    credentials = f"Bearer {PRIMING_TOKEN}"
    context = {"domainName": _DOMAIN, "requestId": "priming", "extendedRequestId": "priming"}
    rest = {
        "type": "REQUEST",
        "methodArn": _ARN,
        "resource": "/priming",
        "httpMethod": "GET",
        "headers": {header: credentials},
        "multiValueHeaders": {header: [credentials]},
        "requestContext": context,
    }
    return [
        {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": _ARN,
            "routeKey": "GET /priming",
            "headers": {header: credentials},
            "requestContext": {**context, "routeKey": "GET /priming"},
        },
        {**rest, "version": "1.0"},
        rest,
        {"type": "TOKEN", "authorizationToken": credentials, "methodArn": _ARN},
    ]


def prime(authorizer: Authorizer) -> None:
    """Run every step of a first request once, on nothing trusted (see the module docstring).

    ``authorizer`` (the production engine) only has its verifier built; the events go to a
    throwaway engine with the same settings whose only key is :data:`PRIMING_JWK`.
    (Only before a snapshot: once built, the throwaway engine costs more than it saves.)

    :raises Exception: whatever a step raises (including the throwaway engine's 401): a bug,
        which should fail the deployment rather than hide.
    """
    from auth_core.authorizer.service import Authorizer  # noqa: PLC0415 - priming only
    from auth_core.authorizer.telemetry import DecisionLog  # noqa: PLC0415 - same
    from auth_core.jwk import JWKSet  # noqa: PLC0415 - same
    from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy  # noqa: PLC0415 - same

    settings = authorizer.settings
    if settings.issuer:
        authorizer._verifier(settings.issuer)  # built now, not by the first request
    throwaway = JWKSet.from_dict({"keys": [PRIMING_JWK]})
    policy = ClaimsPolicy(PRIMING_ISSUER, PRIMING_AUDIENCE)  # the checks, not this API's values
    verifier = AccessTokenVerifier(policy, throwaway, clock=lambda: PRIMING_NOW)
    engine = Authorizer(
        settings,
        verifier_for=lambda _issuer: verifier,
        revocation=None,
        clock=lambda: PRIMING_NOW,
        log=DecisionLog("priming", stream=io.StringIO()),
        key_store=throwaway,
        compact_jws_only=True,
    )
    for event in priming_events(settings.identity_header):
        if event["type"] == "TOKEN" and not settings.issuer:
            continue  # a TOKEN authorizer needs ISSUER: a configuration error, not for priming
        engine(event)  # an answer: the whole path ran (a 401 here is a bug, and raises)
    # The key set and revocation feed fetches resolve a host name: the first one loads the IDNA
    # codec (with ``unicodedata``), a few ms. Loaded here, without any network call.
    _DOMAIN.encode("idna")
