"""DPoP at the API (RFC 9449 §7): ``Authorization: DPoP <token>`` plus a ``DPoP`` proof header.

What the authorizer checks for a request in the ``DPoP`` scheme (``AUTHORIZER_DPOP`` not ``off``),
after the token itself verified as any token does (signature, claims, the verified-token cache):

1. the credentials are ``DPoP`` 1*SP ``b64token`` (the bearer grammar, another scheme name);
2. the token is bound: its ``cnf.jkt`` is a string (a bearer token may not be sent as ``DPoP``);
3. exactly one ``DPoP`` header, a proof that passes every check of :mod:`auth_core.dpop` for the
   request as API Gateway received it -- ``htm`` its method, ``htu`` ``https://`` + its domain +
   its raw path (``http://`` for a local stack on 127.0.0.1), or, with ``AUTHORIZER_PUBLIC_URL``
   (a custom domain with a base path), that URL + the raw path (less the base path when the
   request came through that URL's own domain and its raw path carries it) -- with ``ath`` the
   hash of this token, signed by the key whose thumbprint is the token's ``cnf.jkt``;
4. the proof is new: first this instance's memory (a replay to the same instance costs no
   network call), then the shared record in the sessions table (a conditional ``PutItem``: a
   replay to another instance is refused too). Every DPoP request costs that one write; bearer
   requests cost nothing more.

And for every token in the ``Bearer`` scheme: one carrying ``cnf`` is refused (§7.2: a bound
token presented as a bearer token is the stolen-token case DPoP exists for), and with
``AUTHORIZER_DPOP=required`` every bearer token is.

A DPoP request's answer is never kept for the repeated-token shortcut, and API Gateway's own
result cache must be off where DPoP is accepted (the template sets ``ReauthorizeEvery: 0``): a
cached Allow would answer the next request without looking at its proof.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

from auth_core.authorizer.events import AuthorizerRequest, EventFormat, single_header
from auth_core.errors import ConfigurationError, InvalidDPoPProofError, TokenError
from auth_core.issuer import issuer_for_domain

if TYPE_CHECKING:  # the engine stays crypto-free at import; from_settings builds the check
    from auth_core.dpop import DPoPVerifier, MemoryReplayCache, ReplayCache
    from auth_core.settings import Settings

__all__ = ["DPoPCheck", "bound_key", "dpop_check_from_settings", "dpop_token", "is_dpop_scheme"]

#: ``DPoP`` scheme (case-insensitive, RFC 9110 §11.1), 1*SP, then an RFC 6750 ``b64token``
_DPOP = re.compile(r"[Dd][Pp][Oo][Pp] +([A-Za-z0-9\-._~+/]+=*)", re.ASCII)
_OWS = " \t"
_UNBOUND = ""


def is_dpop_scheme(credentials: object) -> TypeGuard[str]:
    """``credentials`` (an ``Authorization`` value) use the ``DPoP`` scheme, well formed or not."""
    return type(credentials) is str and credentials.lstrip(_OWS)[:5].lower() == "dpop "


def dpop_token(credentials: object) -> str | None:
    """The token of ``DPoP <token>`` credentials; ``None`` when the scheme is another one.

    :raises TokenError: ``bad_dpop`` when the scheme is ``DPoP`` but the rest is not a token.
    """
    if not is_dpop_scheme(credentials):
        return None
    match = _DPOP.fullmatch(credentials.strip(_OWS))
    if match is None:
        raise TokenError("not DPoP credentials", reason="bad_dpop")
    return match.group(1)


def bound_key(claims: Mapping[str, Any]) -> str | None:
    """The ``cnf.jkt`` a token is bound to; ``None`` when it has no ``cnf``; ``""`` when its
    ``cnf`` is not one we can check (then no request may use it)."""
    cnf = claims.get("cnf")
    if cnf is None:
        return None
    jkt = cnf.get("jkt") if type(cnf) is dict else None
    return jkt if type(jkt) is str and jkt and jkt.isascii() else _UNBOUND


class DPoPCheck:
    """Checks a ``DPoP`` request's proof against its token (module docstring)."""

    def __init__(
        self,
        verifier: DPoPVerifier,
        *,
        shared: ReplayCache | None,
        local: MemoryReplayCache,
        public_url: str = "",
    ) -> None:
        self.verifier = verifier
        self.shared = shared
        self.local = local
        #: ``AUTHORIZER_PUBLIC_URL`` (no trailing slash), or "" for the request's own domain
        self.public_url = public_url
        self._base_path = ""
        self._public_host = ""
        if public_url:
            from urllib.parse import urlsplit  # noqa: PLC0415 - custom domains only

            parts = urlsplit(public_url)
            self._base_path = parts.path
            self._public_host = parts.netloc.lower()

    def check(
        self, event: Mapping[str, Any], request: AuthorizerRequest, token: str, jkt: str | None
    ) -> None:
        """Refuse unless ``event`` carries a new proof by key ``jkt`` for this request and token.

        :raises TokenError: any check failed (a 401; ``reason`` says which).
        :raises StoreUnavailableError: the shared replay record could not be written (a 500).
        """
        if not jkt:
            raise TokenError("a DPoP request needs a DPoP-bound token", reason="dpop_token_not_bound")
        if request.format is EventFormat.REST_TOKEN or self.shared is None:
            raise TokenError("DPoP is not available for this event", reason="dpop_unavailable")
        method, url = _target(event, request)
        if self.public_url:  # a custom domain with a base path: what the client addressed
            url = self._public_target(url, request.domain_name)
        try:
            self.spend(single_header(event, "dpop"), method=method, url=url, token=token, jkt=jkt)
        except InvalidDPoPProofError as exc:
            raise TokenError("DPoP proof refused", reason=exc.reason) from None
        except TokenError as exc:  # two DPoP headers
            raise TokenError("DPoP proof refused", reason="dpop_" + exc.reason) from None

    def _public_target(self, url: str, domain: str | None) -> str:
        """``url`` (the request's own origin and raw path) as addressed at ``AUTHORIZER_PUBLIC_URL``.

        Through the public URL's own domain the raw path may or may not carry the mapping's base
        path (it is dropped when there); through any other domain (execute-api, or a proxy in
        front of it) the raw path is the route's path and is kept whole. So two routes never share
        one ``htu``: ``/orders`` and ``/v1/orders`` on execute-api are ``<public>/orders`` and
        ``<public>/v1/orders``.
        """
        path = url[url.index("/", url.index("//") + 2) :]
        through_public_domain = (domain or "").lower() == self._public_host
        if through_public_domain and self._base_path and path.startswith(self._base_path + "/"):
            path = path[len(self._base_path) :]  # the mapping's path is already in rawPath
        return self.public_url + path

    def spend(self, proof: object, *, method: str, url: str, token: str, jkt: str) -> None:
        """Check ``proof`` (the ``DPoP`` header) for ``method url`` with ``token`` by key
        ``jkt``, then record it as used: this instance's memory first, then the shared record.
        Also ``/userinfo``'s check (:mod:`auth_core.oauth.dpop_resource`).

        :raises InvalidDPoPProofError: missing, failing a check, or used before (``dpop_replay``).
        :raises StoreUnavailableError: the shared replay record could not be written.
        """
        if self.shared is None:
            raise InvalidDPoPProofError(reason="dpop_unavailable")
        if proof is None:
            raise InvalidDPoPProofError(reason="dpop_missing")
        checked = self.verifier.verify(proof, method=method, url=url, access_token=token, expected_jkt=jkt)
        key = checked.replay_key()
        if not self.local.first_use(key, checked.expires_at) or not self.shared.first_use(
            key, checked.expires_at
        ):
            raise InvalidDPoPProofError(reason="dpop_replay")


def _target(event: Mapping[str, Any], request: AuthorizerRequest) -> tuple[str, str]:
    """The request's method and URL as the client addressed it (what ``htm``/``htu`` name)."""
    ctx = event.get("requestContext")
    ctx = ctx if isinstance(ctx, Mapping) else {}
    if request.format is EventFormat.HTTP_V2:
        http = ctx.get("http")
        method = http.get("method") if isinstance(http, Mapping) else None
        path = event.get("rawPath")
    else:  # REST REQUEST and payload 1.0: the path as received, with the stage
        method = event.get("httpMethod")
        path = ctx.get("path")
    if not (type(method) is str and type(path) is str and path.startswith("/") and request.domain_name):
        raise TokenError("event has no request target", reason="malformed_event")
    try:
        origin = issuer_for_domain(request.domain_name)  # https (http for a local stack)
    except ConfigurationError:
        raise TokenError("event has no request target", reason="malformed_event") from None
    return method, origin + path


def dpop_check_from_settings(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    client: Any | None = None,
    public_url: str = "",
) -> DPoPCheck:
    """A resource server's DPoP check (the authorizer's, ``/userinfo``'s): ``DPOP_SIGNING_ALGS``
    proofs, replay records in this instance's memory and in ``SESSIONS_TABLE`` (when set).

    :param client: the DynamoDB client of the replay records (``None``: boto3).
    :param public_url: ``AUTHORIZER_PUBLIC_URL``, or "" for the request's own domain.
    """
    from auth_core.dpop import DPoPVerifier, MemoryReplayCache  # noqa: PLC0415 - DPoP deployments only
    from auth_core.stores.dpop import DPoPReplayStore  # noqa: PLC0415

    verifier = DPoPVerifier(
        algorithms=settings.dpop_signing_algs, max_age=settings.dpop_proof_max_age, clock=clock
    )
    shared = (
        DPoPReplayStore(settings.sessions_table, client=client, clock=clock)
        if settings.sessions_table
        else None
    )
    return DPoPCheck(verifier, shared=shared, local=MemoryReplayCache(clock=clock), public_url=public_url)
