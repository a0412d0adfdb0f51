"""OpenID Connect UserInfo (Core §5.3): who the bearer of an access token is, for a relying party.

Not behind the Lambda authorizer: a relying-party library reads the RFC 6750 §3 answer
(``WWW-Authenticate: Bearer error="invalid_token"``), which an HTTP API authorizer cannot send.
So the token is checked here exactly as the authorizer checks it:

* :class:`~auth_core.tokens.AccessTokenVerifier` over the published JWKS (signature, ``iss``,
  ``aud``, lifetime), then the revocation feed (its jti, session, user, client, signing key, the
  global cut-off), so a revoked token is refused within ``REVOCATION_FEED_INTERVAL``;
* the token must carry scope ``openid`` (§5.3.1), else ``403 insufficient_scope``;
* it must be about an end-user: a ``client_credentials`` token (``sub`` = its client) is refused.

Where the token may be (RFC 6750 §2): the ``Authorization: Bearer`` header, or, for ``POST``, an
``access_token`` form parameter (§2.2). A DPoP-bound token (RFC 9449 §7) comes as
``Authorization: DPoP <token>`` with its ``DPoP`` proof, checked by
:func:`~auth_core.oauth.dpop_resource.check_presentation`; the same token as ``Bearer`` is refused.
Never the query string (§2.3 is a MAY we decline: URLs end
up in logs and browser history); a token there is ``400 invalid_request``, as is a token sent two
ways at once (§2: "MUST NOT use more than one method"). Every token failure, a missing token
included, is the same ``401 invalid_token`` without details.

Claims by scope (§5.4): ``sub`` always (the opaque user id, as in the ID token); with ``email``,
``email`` and ``email_verified``; with ``profile``, ``name`` / ``given_name`` / ``family_name``,
the custom attributes (``accounts.profile.profile_claims``) and ``preferred_username`` (the canonical
username, looked up by ``sub``: the users table's keys-only ``ByUserId`` index,
:meth:`~auth_core.stores.users.UserStore.username_for_subject`). A user the lookup cannot find
is a token for nobody: ``401 invalid_token``. Answers are never cached.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from auth_core.accounts.profile import profile_claims
from auth_core.authorizer.bearer import parse_bearer
from auth_core.authorizer.dpop import DPoPCheck, bound_key, dpop_token, is_dpop_scheme
from auth_core.errors import (
    AccessDeniedError,
    InvalidRequestError,
    RevocationStoreError,
    TemporarilyUnavailableError,
    TokenError,
)
from auth_core.oauth.audit import Audit, NullAudit
from auth_core.oauth.dpop_resource import DPoPPresentation, check_presentation

__all__ = [
    "RevocationCheck",
    "UserDirectory",
    "UserinfoService",
    "bearer_token",
    "is_dpop_request",
    "presented_token",
]

#: Largest accepted form body (a token is < 8 KiB).
MAX_BODY = 16 * 1024


class RevocationCheck(Protocol):
    """``RevocationFeed.check``: raises ``RevokedTokenError`` or ``RevocationStoreError``."""

    def check(
        self,
        *,
        jti: str,
        subject: str,
        issued_at: float,
        session_id: str | None = None,
        client_id: str | None = None,
        kid: str | None = None,
    ) -> None: ...


class UserDirectory(Protocol):
    """``UserStore.username_for_subject``."""

    def username_for_subject(self, subject: str) -> str | None: ...


class AccessTokenVerifierLike(Protocol):
    def verify(self, token: str) -> Any: ...


@dataclass(frozen=True)
class _Form:
    access_token: str | None


def bearer_token(event: Mapping[str, Any]) -> str:
    """The access token of a ``GET``/``POST /userinfo`` event (payload 2.0), from the one place
    RFC 6750 lets it be.

    :raises TokenError: no token, or a malformed ``Authorization`` header (401 ``invalid_token``).
    :raises InvalidRequestError: a token in the query, in two places, or a malformed form body.
    """
    return presented_token(event, allow_dpop=False)[0]


def presented_token(event: Mapping[str, Any], *, allow_dpop: bool = True) -> tuple[str, bool]:
    """The access token of a ``GET``/``POST /userinfo`` event and whether it came in the ``DPoP``
    scheme (RFC 9449 §7.1; only in the ``Authorization`` header); else as :func:`bearer_token`.

    :raises TokenError: no token, or a malformed ``Authorization`` header (401 ``invalid_token``).
    :raises InvalidRequestError: a token in the query, in two places, or a malformed form body.
    """
    headers = event.get("headers") or {}
    header = headers.get("authorization") if isinstance(headers, Mapping) else None
    query = event.get("queryStringParameters") or {}
    if isinstance(query, Mapping) and "access_token" in query:
        raise InvalidRequestError("the access token may not be sent in the URL", reason="token_in_query")
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "GET")).upper()
    form = _form(event, headers) if method == "POST" else _Form(None)
    if header is not None and form.access_token is not None:
        raise InvalidRequestError("the access token was sent two ways", reason="token_twice")
    if form.access_token is not None:
        return form.access_token, False
    if header is None or not str(header).strip():
        raise TokenError("no access token", reason="missing_token")
    token = dpop_token(header) if allow_dpop else None
    return (token, True) if token is not None else (parse_bearer(header), False)


def is_dpop_request(event: Mapping[str, Any]) -> bool:
    """The request uses the ``DPoP`` scheme (its errors get a ``DPoP`` challenge, §7.1)."""
    headers = event.get("headers") or {}
    return isinstance(headers, Mapping) and is_dpop_scheme(headers.get("authorization"))


def _form(event: Mapping[str, Any], headers: Any) -> _Form:
    raw = event.get("body")
    if raw is None or raw == "":
        return _Form(None)
    content_type = str(headers.get("content-type", "")).split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise InvalidRequestError("unsupported content type", reason="content_type")
    if not isinstance(raw, str) or len(raw) > MAX_BODY * 2:
        raise InvalidRequestError("body too large", reason="body_size")
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
        text = data.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestError("malformed form body", reason="form") from exc
    tokens = [value for name, value in pairs if name == "access_token"]
    if len(tokens) > 1:
        raise InvalidRequestError("access_token repeated", reason="repeated_parameter")
    if tokens and not tokens[0]:
        raise InvalidRequestError("empty access_token", reason="empty_parameter")
    return _Form(tokens[0] if tokens else None)


class UserinfoService:
    """The UserInfo answer for one access token (see the module docstring).

    :param verifier: verifies access tokens (the public JWKS, the issuer as resolved per request).
    :param revocation: the revocation feed (``None`` only where ``REVOCATION_CHECK=false``).
    :param users: finds a subject's username.
    """

    def __init__(
        self,
        *,
        verifier: AccessTokenVerifierLike,
        revocation: RevocationCheck | None,
        users: UserDirectory,
        audit: Audit | None = None,
        dpop: DPoPCheck | None = None,
    ) -> None:
        self.verifier = verifier
        self.revocation = revocation
        self.users = users
        #: checks ``DPoP``-scheme requests; ``None``: they are refused (``invalid_token``)
        self.dpop = dpop
        self.audit: Audit = audit or NullAudit()

    def verified_claims(self, token: str, dpop: DPoPPresentation | None = None) -> Any:
        """The claims of a valid, unrevoked access token (also the account API's bearer check).

        :param dpop: the request used the ``DPoP`` scheme: its proof (``None``: ``Bearer``).
        :raises TokenError: not valid, or revoked (401).
        :raises InvalidDPoPProofError: a ``DPoP`` request whose proof fails (401).
        :raises TemporarilyUnavailableError: the revocation feed failed (503).
        :raises KeyStoreError: the public keys could not be loaded (503).
        """
        claims = self.verifier.verify(token)
        if dpop is None:
            if "cnf" in claims.raw:
                # a DPoP-bound token (RFC 9449 §7.2) sent as a bearer token: without its proof
                # it is what a thief would send
                raise TokenError("DPoP-bound token sent as bearer", reason="dpop_bound_as_bearer")
        elif self.dpop is None:
            raise TokenError("DPoP is not accepted here", reason="dpop_unavailable")
        else:
            check_presentation(self.dpop, dpop, token, bound_key(claims.raw))
        if self.revocation is not None:
            try:
                self.revocation.check(
                    jti=claims.jti,
                    subject=claims.subject,
                    issued_at=claims.issued_at,
                    session_id=claims.session_id,
                    client_id=claims.client_id,
                    kid=claims.key_id,
                )
            except RevocationStoreError as exc:  # fail closed, and say it is ours (503, not 500)
                raise TemporarilyUnavailableError(reason=exc.reason) from exc
        return claims

    def userinfo(self, token: str, dpop: DPoPPresentation | None = None) -> dict[str, Any]:
        """The claims of the end-user ``token`` was issued for.

        :param dpop: the request used the ``DPoP`` scheme: its proof (``None``: ``Bearer``).
        :raises TokenError: the token is not valid, revoked, or not about a user (401).
        :raises InvalidDPoPProofError: a ``DPoP`` request whose proof fails (401).
        :raises AccessDeniedError: no scope ``openid`` (403 ``insufficient_scope``).
        :raises TemporarilyUnavailableError: the revocation feed or the users table failed (503).
        :raises KeyStoreError: the public keys could not be loaded (503).
        """
        claims = self.verified_claims(token, dpop)
        if "openid" not in claims.scope:
            raise AccessDeniedError("scope openid required", reason="insufficient_scope")
        if claims.subject == claims.client_id:
            raise TokenError("a client's own token names no end-user", reason="not_a_user_token")
        body: dict[str, Any] = {"sub": claims.subject}
        if "profile" in claims.scope or "email" in claims.scope:
            username = self.users.username_for_subject(claims.subject)
            if username is None:
                raise TokenError("no such user", reason="user_unknown")
            if "profile" in claims.scope:
                body["preferred_username"] = username
            getter = getattr(self.users, "get", None)
            user = getter(username) if callable(getter) else None
            if user is not None:
                body.update(profile_claims(user, claims.scope))
        self.audit.record("UserinfoServed", client_id=claims.client_id, scope=" ".join(claims.scope))
        return body
