"""Lambda authorizer for the protected routes: REST TOKEN/REQUEST and HTTP API 1.0/2.0 events.

Thin on purpose: the engine (``auth_core.authorizer.service``) detects the event format, verifies
the bearer token against the public JWKS, checks revocation and route scopes, and shapes the
answer. Raises exactly ``Exception("Unauthorized")`` for a 401; outages propagate (a 500).
Powertools is not imported here: it would add ~120 ms to every cold start of the function that
sits in front of every request (see ``auth_core/authorizer/telemetry.py``).

The invocation's deadline (``auth_core.deadline``) is set from the Lambda context, so a hung key
store or revocation table fails (an exception: API Gateway's 500, never an Allow) with our ERROR
line and metric, before Lambda's timeout would kill the function silently.
"""

from __future__ import annotations

import functools
from typing import Any

from auth_core import deadline
from auth_core.authorizer.service import Authorizer
from auth_core.authorizer.snapstart import after_restore, before_snapshot, prime
from auth_core.settings import Settings
from auth_core.tracing import traced


@functools.cache
def _authorizer() -> Authorizer:
    return Authorizer.from_settings(Settings.from_env())


def _forget_caches() -> None:
    # After a SnapStart restore, cached keys, tokens and revocation answers may be stale.
    if _authorizer.cache_info().currsize:
        _authorizer().clear_caches()


def _prime() -> None:
    # Before a SnapStart snapshot: the first request after a restore finds the engine built and
    # its code run once (on a throwaway key, see ``auth_core/authorizer/snapstart.py``).
    prime(_authorizer())


before_snapshot(_prime)
after_restore(_forget_caches)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with deadline.scope(context):
        return _authorizer()(event, context)


# X-Ray only when TRACING is on: decided at the first invocation from the engine's settings; off,
# every invocation calls _handle directly (auth_core/tracing.py), no tracer imported.
lambda_handler = traced(_handle, "authorizer", lambda: _authorizer().settings.tracing)
