"""The one exception hierarchy of the service.

Three families that must never be confused, because they map to opposite outcomes:

* :class:`TokenError` -- "this credential is not acceptable". The authorizer turns it into
  401 ``Unauthorized``; resource endpoints answer 401 ``invalid_token``. The caller never
  learns *why*: :attr:`AuthError.reason` is a stable machine-readable code that goes to the
  log line and the metric only.
* :class:`OAuthError` -- a refused OAuth 2.0 request at ``/token``, ``/refresh`` or ``/revoke``
  (RFC 6749 §5.2, RFC 7009). Carries the RFC ``error`` code and the HTTP status to answer with.
* :class:`ConfigurationError` and :class:`KeyStoreError` -- *our* problem, not the caller's:
  a missing setting, Secrets Manager unreachable, a malformed key set. These must never be
  disguised as a 401 (that would hide outages from alarms) nor as an Allow.

Low-level exceptions (``ValueError``, ``binascii.Error``, ``RecursionError``, botocore's
``ClientError`` ...) are always chained with ``raise ... from exc`` and never escape the core.
Messages never contain token bytes, secrets or key material.
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "AlreadyExistsError",
    "AuthError",
    "ClaimError",
    "ClaimsHookError",
    "ClaimsHookTimeoutError",
    "ConfigurationError",
    "ExpiredTokenError",
    "ForbiddenHeaderError",
    "InvalidAudienceError",
    "InvalidClaimError",
    "InvalidClientError",
    "InvalidDPoPProofError",
    "InvalidGrantError",
    "InvalidIssuerError",
    "InvalidRequestError",
    "InvalidScopeError",
    "InvalidSignatureError",
    "KeyFormatError",
    "KeyStoreError",
    "KeyStoreUnavailableError",
    "MailDeliveryError",
    "MalformedTokenError",
    "MissingClaimError",
    "NotYetValidError",
    "OAuthError",
    "RevocationStoreError",
    "RevokedTokenError",
    "RotationError",
    "ServerError",
    "SlowDownError",
    "StoreUnavailableError",
    "TemporarilyUnavailableError",
    "TokenError",
    "UnauthorizedClientError",
    "UnknownKeyError",
    "UnsupportedAlgorithmError",
    "UnsupportedGrantTypeError",
    "UnsupportedTokenTypeError",
    "UseDPoPNonceError",
    "WrongTokenTypeError",
]


class AuthError(Exception):
    """Base of every error raised on purpose by ``auth_core``. Never raised directly.

    :ivar error_code: the public, standard error code (RFC 6749/6750 vocabulary).
    :ivar reason: a stable machine-readable code for logs and metrics; never sent to a caller.
    """

    error_code: str = "server_error"
    reason: str = "error"

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        if reason is not None:
            self.reason = reason


# --------------------------------------------------------------------------- ours, not theirs
class ConfigurationError(AuthError):
    """A setting is missing or invalid. Raised at start-up; maps to a 500 and an alarm."""

    reason = "configuration"


class KeyStoreError(AuthError):
    """Signing or verification keys could not be obtained. Maps to 500/503, never to 401."""

    error_code = "temporarily_unavailable"
    reason = "key_store"


class KeyStoreUnavailableError(KeyStoreError):
    """Secrets Manager failed or throttled and no usable cached key set is left."""

    reason = "key_store_unavailable"


class KeyFormatError(KeyStoreError):
    """A key set was fetched but is not a valid key set (bad JWK, duplicate kid, weak key...)."""

    reason = "key_format"


class RotationError(KeyStoreError):
    """A key-rotation step was refused or failed its checks (wrong stage, step out of order,
    probe token not verifiable). Fails the rotation Lambda so Secrets Manager retries it; the
    secrets are left as they were."""

    reason = "rotation"


class RevocationStoreError(AuthError):
    """The revocation deny list could not be read (DynamoDB failed or throttled).

    The authorizer fails closed *and loud*: this maps to a 500 from API Gateway and an ERROR log
    with a metric, never to an Allow and never to a 401 that would hide the outage from alarms.
    """

    reason = "revocation_store_unavailable"


# --------------------------------------------------------------------------- token rejection
class TokenError(AuthError):
    """The presented token is not acceptable. The one class callers catch for "reject"."""

    error_code = "invalid_token"
    reason = "invalid_token"


class MalformedTokenError(TokenError):
    """Not a strict compact JWS: size, segments, base64url, UTF-8, JSON, object shape."""

    reason = "malformed"


class UnsupportedAlgorithmError(TokenError):
    """``alg`` missing, ``none``, not allowed, or not the algorithm bound to the key."""

    reason = "alg_not_allowed"


class ForbiddenHeaderError(TokenError):
    """A header parameter we refuse: ``crit``, ``jwk``, ``jku``, ``x5u``, ``x5c``, ``b64``, ``zip``..."""

    reason = "forbidden_header"


class UnknownKeyError(TokenError):
    """No trusted key has this ``kid`` (after at most one rate-limited refresh)."""

    reason = "unknown_kid"


class InvalidSignatureError(TokenError):
    """The signature does not verify with the key bound to ``kid``."""

    reason = "bad_signature"


class WrongTokenTypeError(TokenError):
    """``typ`` is not the expected one: a refresh, ID or other token used as an access token."""

    reason = "wrong_typ"


class RevokedTokenError(TokenError):
    """The token's ``jti`` is deny-listed, or it predates the user's ``tokens_valid_after``."""

    reason = "revoked"


class ClaimError(TokenError):
    """A claim failed validation *after* the signature verified. Carries the claim name."""

    reason = "invalid_claim"

    def __init__(self, claim: str, message: str = "", *, reason: str | None = None) -> None:
        super().__init__(message or f"invalid claim {claim!r}", reason=reason)
        self.claim = claim


class MissingClaimError(ClaimError):
    reason = "missing_claim"


class InvalidClaimError(ClaimError):
    """Wrong JSON type or shape (e.g. ``exp`` a string or a bool, ``sub`` empty)."""

    reason = "invalid_claim"


class ExpiredTokenError(ClaimError):
    reason = "expired"


class NotYetValidError(ClaimError):
    """``nbf`` in the future, or ``iat`` further in the future than the leeway allows."""

    reason = "not_yet_valid"


class InvalidIssuerError(ClaimError):
    reason = "bad_issuer"


class InvalidAudienceError(ClaimError):
    reason = "bad_audience"


# --------------------------------------------------------------------------- authorization
class AccessDeniedError(AuthError):
    """A valid token without the scope a route requires: 403 (explicit Deny), not 401."""

    error_code = "insufficient_scope"
    reason = "insufficient_scope"


# --------------------------------------------------------------------------- OAuth endpoints
class OAuthError(AuthError):
    """A refused OAuth 2.0 request (RFC 6749 §5.2, RFC 7009 §2.2.1).

    :ivar status: the HTTP status to answer with.
    :ivar description: optional ``error_description``; generic on purpose, never an oracle.
    """

    status: int = 400
    error_code = "invalid_request"

    def __init__(self, description: str = "", *, reason: str | None = None) -> None:
        super().__init__(description or self.error_code, reason=reason)
        self.description = description


class InvalidRequestError(OAuthError):
    error_code = "invalid_request"
    reason = "invalid_request"


class InvalidClientError(OAuthError):
    """Client authentication failed: 401 with ``WWW-Authenticate`` (RFC 6749 §5.2)."""

    status = 401
    error_code = "invalid_client"
    reason = "invalid_client"


class InvalidGrantError(OAuthError):
    error_code = "invalid_grant"
    reason = "invalid_grant"


class UnauthorizedClientError(OAuthError):
    error_code = "unauthorized_client"
    reason = "unauthorized_client"


class UnsupportedGrantTypeError(OAuthError):
    error_code = "unsupported_grant_type"
    reason = "unsupported_grant_type"


class InvalidScopeError(OAuthError):
    error_code = "invalid_scope"
    reason = "invalid_scope"


class UnsupportedTokenTypeError(OAuthError):
    error_code = "unsupported_token_type"
    reason = "unsupported_token_type"


class SlowDownError(OAuthError):
    """Too many failed logins for one account: 429 with ``Retry-After``; body is ``invalid_grant``
    so that a throttled account is indistinguishable from a wrong password."""

    status = 429
    error_code = "invalid_grant"
    reason = "throttled"

    def __init__(self, retry_after: int, description: str = "", *, reason: str | None = None) -> None:
        super().__init__(description, reason=reason)
        self.retry_after = retry_after


class TemporarilyUnavailableError(OAuthError):
    """A dependency (key store, table) failed: 503, retryable."""

    status = 503
    error_code = "temporarily_unavailable"
    reason = "unavailable"


class ServerError(OAuthError):
    """Our own failure, known to repeat on a retry: 500 ``server_error`` (RFC 6749 §4.1.2.1's
    code; §5.2 has none for the server's side), no ``Retry-After``."""

    status = 500
    error_code = "server_error"
    reason = "server_error"


class ClaimsHookError(ServerError):
    """The custom claims hook (``auth_core.oauth.claims_hook``) raised or returned claims that
    may not go into a token: the request is refused, nothing is issued."""

    reason = "claims_hook"


class ClaimsHookTimeoutError(TemporarilyUnavailableError):
    """The custom claims hook took longer than ``CLAIMS_HOOK_BUDGET_MS``: 503, retryable."""

    reason = "claims_hook_timeout"


# --------------------------------------------------------------------------- the stores' own
class StoreUnavailableError(TemporarilyUnavailableError):
    """A store (``auth_core.stores``) failed -- throttling, network, the service -- or stayed
    contended: 503, retryable. The cause is chained; its ``reason`` says which."""

    reason = "store_unavailable"


class AlreadyExistsError(InvalidRequestError):
    """A store refused to create an item whose key is taken (a user, a client)."""

    reason = "already_exists"


# --------------------------------------------------------------------------- email
class MailDeliveryError(TemporarilyUnavailableError):
    """An email could not be handed to Amazon SES: 503, retryable by the caller. ``reason`` says
    why (``mail_unavailable``: throttling, network, the service, the deadline;
    ``mail_rejected``: SES refused this message or sender -- unverified identity, sandbox,
    suppressed address; ``mail_not_configured``). The message names neither the addresses nor
    SES's code (the chained cause carries the code, never a body)."""

    reason = "mail_unavailable"


# --------------------------------------------------------------------------- DPoP (RFC 9449)
class InvalidDPoPProofError(OAuthError):
    """A DPoP proof failed a check of RFC 9449 §4.3 (``auth_core.dpop``): ``invalid_dpop_proof``,
    400 at the token endpoint (§5); a resource server answers 401 with ``WWW-Authenticate: DPoP``
    (§7.1). ``reason`` says which check (``dpop_htu``, ``dpop_ath``, ``dpop_replay``...)."""

    error_code = "invalid_dpop_proof"
    reason = "invalid_dpop_proof"


class UseDPoPNonceError(OAuthError):
    """The server requires a nonce in the proof (RFC 9449 §8-9): ``use_dpop_nonce``, with the
    nonce to use in the ``DPoP-Nonce`` response header."""

    error_code = "use_dpop_nonce"
    reason = "use_dpop_nonce"

    def __init__(self, nonce: str, description: str = "", *, reason: str | None = None) -> None:
        super().__init__(description or "a DPoP nonce is required", reason=reason)
        self.nonce = nonce
