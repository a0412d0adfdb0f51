"""The API Gateway Lambda authorizer: one engine for every event format API Gateway sends.

Why a subpackage: the authorizer runs on *every* request of the customer's API, so it imports
only what it needs (no Powertools; by default no boto3, AWS calls use the lean clients) and keeps
each concern small enough to review line by line:

* ``bearer.py`` -- RFC 6750 ``Authorization: Bearer`` grammar (strict, never query or cookie).
* ``events.py`` -- detects REST TOKEN / REST REQUEST / HTTP payload 1.0 / 2.0 and extracts the
  token, the route and the response style into one :class:`~.events.AuthorizerRequest`.
* ``routes.py`` -- execute-api ARNs (every partition) and the ``ROUTE_SCOPES`` route table.
* ``policy.py`` -- cache-safe IAM policies and simple responses.
* ``context.py`` -- the backend context: flattened, typed, size-bounded.
* ``cache.py`` -- LRU of already-verified tokens, entries dropped at ``exp``.
* revocation: :mod:`auth_core.revocation_feed` (shared with the token functions), asked by
  ``service.py`` for every verified token.
* ``telemetry.py`` -- one JSON log line per decision with an embedded EMF metric.
* ``service.py`` -- :class:`~.service.Authorizer`, which ties them together.

Nothing is imported here: the handler imports ``auth_core.authorizer.service``.
"""
