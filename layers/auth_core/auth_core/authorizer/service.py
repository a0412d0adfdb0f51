"""The authorizer engine: event in, API Gateway answer out, one decision line logged.

===================================  ==========================================  ======================
outcome                              REST, HTTP 1.0, HTTP 2.0 with ``iam``        HTTP 2.0 simple
===================================  ==========================================  ======================
valid token, route allowed           policy: Allow stage, Deny forbidden routes  ``isAuthorized: true``
valid token, scope missing (403)     the *same* policy; its Deny hits the route  ``isAuthorized: false``
bad/expired/revoked token (401)      ``raise Exception("Unauthorized")``          ``isAuthorized: false``
key store/revocation table down, bug exception propagates: a 500                 a 500
===================================  ==========================================  ======================

Why outages are 500s and not 401s: both fail closed (nothing is ever allowed), but a 401 tells
the client "your token is bad" and hides an outage from 5xx alarms; docs/threat-model.md T-AWS-4 allows
mapping everything to 401, we prefer being honest and loud (ERROR line + ``AuthorizerError``
metric). Only :class:`~auth_core.errors.TokenError` becomes a 401. A malformed *event* is a
``TokenError`` (``malformed_event``) by construction, so no event can produce a 500.

Order of work, cheapest first: format detection and bearer grammar (no crypto), the verified
token cache (an entry is served only while its key is still published), signature and claims
(the verifier), then revocation (the in-memory revocation feed: dictionary lookups, refreshed
by one DynamoDB query per ``REVOCATION_FEED_INTERVAL``, see :mod:`auth_core.revocation_feed`),
then route scopes -- revocation and scopes are evaluated on every request, cache hit or not.
(In the production wiring the bearer grammar's per-character scan waits for the verifier: a
token it accepts is compact JWS, hence a ``b64token``; a token it rejects is scanned then, so
``bad_bearer`` still wins. See ``compact_jws_only``.)

A repeated token (payload 2.0, fixed ``ISSUER``) on the route it was last answered for skips the
event parsing and the answer building: its cache entry holds the complete answer (response and
decision-line parts), served after the same expiry, key and revocation checks. See
:meth:`Authorizer._repeated` for when the full path runs instead (same verdict, only slower).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Container, Mapping
from typing import Any, Protocol, cast

from auth_core.authorizer.bearer import MAX_CREDENTIALS_LENGTH, check_b64token, parse_bearer
from auth_core.authorizer.cache import VerifiedTokenCache
from auth_core.authorizer.context import ContextClaims, build_context
from auth_core.authorizer.dpop import DPoPCheck, bound_key, dpop_check_from_settings, dpop_token
from auth_core.authorizer.events import (
    AuthorizerRequest,
    EventFormat,
    api_request_ids,
    detect_format,
    parse_event,
)
from auth_core.authorizer.policy import iam_response, policy_document, policy_statements, simple_response
from auth_core.authorizer.routes import MFA, RouteTable
from auth_core.authorizer.telemetry import DecisionLog, quote, quote_value
from auth_core.errors import ConfigurationError, TokenError
from auth_core.issuer import issuer_for_domain
from auth_core.revocation_feed import EVENT_FEED_RELOADED, RevocationFeed, feed_from_settings
from auth_core.settings import Settings

__all__ = ["Authorizer", "Claims", "Verifier"]

#: What a token whose ``amr`` has ``otp`` is granted besides its scopes (see ``routes.MFA``).
_MFA_GRANTED = frozenset({MFA})


def _second_factor(claims: Claims) -> bool:
    """The token's ``amr`` (a verified claim) names ``otp``: its sign-in had a second factor."""
    amr = claims.raw.get("amr")
    return type(amr) is list and "otp" in amr


#: Distinct issuers (derived from the API domain when ISSUER is unset) we keep a verifier for.
_MAX_ISSUERS = 8


class Claims(ContextClaims, Protocol):
    """What the engine reads from verified claims (``AccessTokenClaims`` provides it): the
    context fields plus the times and the session."""

    @property
    def issued_at(self) -> float: ...
    @property
    def expires_at(self) -> float: ...
    @property
    def session_id(self) -> str | None: ...
    @property
    def key_id(self) -> str | None: ...


class Verifier(Protocol):
    def verify(self, token: str) -> Claims: ...


#: A decision line's constants: the log's prepared kind of line (level, message, metric: the
#: decision; ``None`` below the log level: no line) and the members before and after
#: ``latency_us`` (see ``Authorizer._line``).
_Line = tuple[tuple[str, str] | None, str, str]


class _Verified:
    """A verified token's claims plus what is derived from them alone (computed once per token)."""

    __slots__ = (
        "answer",
        "claims",
        "context_iam",
        "context_simple",
        "granted",
        "jkt",
        "log_members",
        "policy",
    )

    def __init__(self, claims: Claims, mfa_routes: bool = False) -> None:
        self.claims = claims
        self.granted = frozenset(claims.scope)
        #: the DPoP key the token is bound to (``cnf.jkt``), else None (``authorizer.dpop``)
        self.jkt = bound_key(claims.raw)
        if mfa_routes and _second_factor(claims):  # only when ROUTE_MFA names routes
            self.granted = self.granted | _MFA_GRANTED
        # The context per response kind, built on first use. Two slots, not a dict keyed by
        # kind: one allocation less per first-sight token, and this object lives in the cache.
        self.context_iam: tuple[dict[str, Any], tuple[str, ...]] | None = None
        self.context_simple: tuple[dict[str, Any], tuple[str, ...]] | None = None
        #: (stage ARN prefix, policy document) of the stage this token was last answered for:
        #: a repeated token skips the shared policy table (a token is used with one stage).
        self.policy: tuple[str, dict[str, Any]] | None = None
        # Who, for the decision line: only ever from verified claims. (``quote_value``, not the
        # memoising ``quote``: per-token strings must not crowd out the line's constants.)
        self.log_members = (
            f',"sub":{quote_value(claims.subject)},"jti":{quote_value(claims.jti)},'
            f'"client_id":{quote_value(claims.client_id)}'
        )
        #: The complete answer for the HTTP payload 2.0 route this token was last answered for
        #: (see :meth:`Authorizer._repeated`); one per token, so bounded with the cache.
        self.answer: _Answer | None = None


class _Answer:
    """Everything a repeated token's answer is, prebuilt: what a cache hit returns and logs.

    Valid for one payload 2.0 ``routeArn`` and ``routeKey`` (the raw event strings it was built
    from): a scope decision and a policy depend on them and on the verified claims, nothing else.
    """

    __slots__ = ("allowed", "line", "response", "route_arn", "route_key", "who")

    def __init__(
        self,
        route_arn: object,
        route_key: object,
        response: dict[str, Any],
        allowed: bool,
        line: _Line,
        who: str,
    ) -> None:
        #: The event's raw ``routeArn`` and ``routeKey`` (only compared, never trusted).
        self.route_arn = route_arn
        self.route_key = route_key
        #: Shared by every hit: the runtime only serialises it.
        self.response = response
        self.allowed = allowed
        #: :meth:`Authorizer._line` parts of the decision line, and its members naming who.
        self.line = line
        self.who = who


#: Memoized policy statements per (stage ARN, granted scopes); bounded.
_MAX_POLICIES = 1024


def _id_members(request_id: str | None, extended_request_id: str | None) -> str:
    """API Gateway's ids of the request as decision-line members (JSON-escaped: untrusted).

    ``correlation_id`` is the field the HTTP functions' Powertools lines give the same id, so
    one query joins the authorizer, the function and the API's access log
    (``$context.requestId``); REST also has ``$context.extendedRequestId``.
    """
    members = f',"correlation_id":{quote_value(request_id)}' if request_id else ""
    if extended_request_id:
        members += f',"extended_request_id":{quote_value(extended_request_id)}'
    return members


def _dpop_check(settings: Settings, clock: Callable[[], float]) -> DPoPCheck:
    """``AUTHORIZER_DPOP``'s check, its replay records through the boto3-free client where it serves."""
    from auth_core import aws  # noqa: PLC0415

    client: Any | None = None
    if aws.lean_preferred("dynamodb"):
        from auth_core import aws_json  # noqa: PLC0415

        client = aws_json.DynamoDB()
    return dpop_check_from_settings(
        settings, clock=clock, client=client, public_url=settings.authorizer_public_url
    )


def _unauthorized() -> Exception:
    # API Gateway answers 401 only for an error whose message is exactly "Unauthorized".
    return Exception("Unauthorized")


class Authorizer:
    """Decides API Gateway authorizer events. Build one per execution environment.

    :param verifier_for: issuer -> verifier (signature and claims); called once per issuer.
    :param revocation: the revocation checker, or ``None`` when ``REVOCATION_CHECK=false``.
    :param clock: epoch seconds, shared with the verified-token cache.
    :param key_store: the key provider behind ``verifier_for``; its ``clear()`` (if any) runs
        in :meth:`clear_caches`.
    :param compact_jws_only: the verifiers accept nothing but compact JWS text (whose alphabet
        lies inside RFC 6750 ``b64token``) and reject anything else before any other work. Then,
        with a fixed ``ISSUER``, the bearer grammar's character scan runs only for tokens the
        verifier rejects: same verdicts and reasons, one pass over the token less.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        verifier_for: Callable[[str], Verifier],
        revocation: RevocationFeed | None,
        clock: Callable[[], float] = time.time,
        log: DecisionLog | None = None,
        key_store: object = None,
        compact_jws_only: bool = False,
        dpop: DPoPCheck | None = None,
    ) -> None:
        self.settings = settings
        #: DPoP requests (``AUTHORIZER_DPOP`` not ``off``), else None: the scheme is refused
        self.dpop = dpop
        self._dpop_required = dpop is not None and settings.authorizer_dpop == "required"
        self.key_store = key_store
        self.routes = RouteTable.from_mapping(settings.route_scopes, settings.route_mfa)
        self._mfa_routes = bool(settings.route_mfa)
        self.revocation = revocation
        self.log = log or DecisionLog("authorizer")
        self.cache: VerifiedTokenCache[_Verified] = VerifiedTokenCache(
            settings.verified_token_cache_size, clock
        )
        #: (stage ARN prefix, granted scopes) -> the policy document (route-independent, shared).
        self._statements: dict[tuple[str, frozenset[str]], dict[str, Any]] = {}
        # A cached token is served only while its key is still published (a key dropped from
        # the JWKS, or revoked, must not keep verifying through the cache).
        self._is_published: Callable[[str], bool] | None = getattr(key_store, "is_published", None)
        self._verifier_for = verifier_for
        self._verifiers: dict[str, Verifier] = {}
        self._simple_v2 = settings.authorizer_response_format == "simple"
        # Cached tokens skip the b64token character scan; only when cache keys are bare tokens.
        # The live key view: a C-level ``in``, no Python ``__contains__`` frame per request.
        self._known: Container[str] = self.cache.stored() if settings.issuer else ()
        self._header = settings.identity_header
        self._fixed_issuer = settings.issuer
        #: Whether :meth:`_repeated` may answer at all (its conditions on the settings).
        self._shortcut = bool(settings.issuer) and self._header.isascii()
        # Only with a fixed issuer: otherwise deriving it may fail first, and the bearer
        # grammar's verdict must keep coming before that one.
        self._scan_bearer = not (compact_jws_only and settings.issuer)
        #: (level, decision, format, reason) -> the decision line's constants (:meth:`_line`).
        self._lines: dict[tuple[str, str, str | None, str], _Line] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Authorizer:
        """The production wiring: public JWKS through ``PublicKeyStore``, DynamoDB revocations.

        :param clock: epoch seconds for claim checks and the verified-token cache (tests).
        :param monotonic: seconds for the key and revocation cache TTLs (tests).

        :raises ConfigurationError: a required setting is missing or invalid.
        """
        from auth_core.keystore import DEGRADED_EVENTS, PublicKeyStore  # noqa: PLC0415 - keeps the engine's tests crypto-free
        from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy  # noqa: PLC0415 - same

        log = DecisionLog("authorizer", level=settings.log_level)

        def key_event(name: str) -> None:
            # KeySetFetched, KeySetStaleServed, UnknownKidRefresh...: one EMF line each (rare events)
            log.emit("WARNING" if name in DEGRADED_EVENTS else "INFO", f"key store: {name}", name, None)

        keys = PublicKeyStore.from_settings(settings, clock=monotonic, on_event=key_event)

        def verifier_for(issuer: str) -> Verifier:
            return AccessTokenVerifier(ClaimsPolicy.from_settings(settings, issuer), keys, clock=clock)

        revocation = None
        if settings.revocation_check:

            def feed_event(name: str) -> None:
                # RevocationFeedReloaded / ReadFailed / Stale: one EMF line each (rare events)
                level = "INFO" if name == EVENT_FEED_RELOADED else "WARNING"
                log.emit(level, f"revocation feed: {name}", name, None)

            revocation = feed_from_settings(
                settings, clock=monotonic, wall=clock, lean=True, on_event=feed_event
            )
        return cls(
            settings,
            verifier_for=verifier_for,
            revocation=revocation,
            clock=clock,
            log=log,
            key_store=keys,
            compact_jws_only=True,  # AccessTokenVerifier: step 1 refuses anything but compact JWS
            dpop=_dpop_check(settings, clock) if settings.authorizer_dpop != "off" else None,
        )

    def clear_caches(self) -> None:
        """Forget verified tokens, revocation answers, keys and pooled AWS connections.

        Called after a SnapStart restore: caches aged by ``time.monotonic`` must not survive
        into a restored environment whose monotonic clock starts afresh.
        """
        self.cache.clear()
        self._statements.clear()
        if self.revocation is not None:
            self.revocation.clear()
        clear_keys = getattr(self.key_store, "clear", None)
        if callable(clear_keys):
            clear_keys()
        # Keep-alive sockets of the boto3-free client do not survive a snapshot either.
        lean = sys.modules.get("auth_core.aws_json")
        if lean is not None:
            lean.reset_clients()

    # ------------------------------------------------------------------ the decision
    def __call__(self, event: object, context: object = None) -> dict[str, Any]:
        """Answer one authorizer event (see the module table).

        :raises Exception: exactly ``Exception("Unauthorized")`` for a 401.
        :raises AuthError: ``KeyStoreError``, ``RevocationStoreError``, ``ConfigurationError``
            propagate (a 500), as does any unexpected error.
        """
        try:
            return self._decide(event, context)
        finally:
            # Every line of the environment's first invocation (its key fetch, its decision, an
            # outage) says ``cold_start: true``, as Powertools marks them; none after it.
            self.log.cold_start = False

    def _decide(self, event: object, context: object) -> dict[str, Any]:
        started = time.perf_counter()
        request_id = getattr(context, "aws_request_id", None)
        fmt: EventFormat | None = None
        ids = ""  # API Gateway's request ids, as decision-line members (from the first read on)
        try:
            fmt = detect_format(event)
            event = cast("Mapping[str, Any]", event)
            if fmt is not EventFormat.REST_TOKEN:  # a TOKEN event has no request context
                ids = _id_members(*api_request_ids(event))
            # A repeated token on a route it was answered for: its entry holds the answer.
            verified = self._repeated(event) if fmt is EventFormat.HTTP_V2 else None
            request = None
            keep = True  # whether the answer may serve this token's next request (_repeated)
            if verified is None:  # the full path: read the event, then the token (verified)
                request = parse_event(event, fmt, self._header)
                token = dpop_token(request.credentials) if self.dpop is not None else None
                if token is not None:  # RFC 9449 §7: the token, then its proof
                    verified = self._verified(token, request)
                    self.dpop.check(event, request, token, verified.jkt)  # type: ignore[union-attr]
                    keep = False  # each request has its own proof: never answered from memory
                else:
                    if self._dpop_required:
                        raise TokenError("DPoP required", reason="dpop_required")
                    token = parse_bearer(request.credentials, known=self._known, scan=self._scan_bearer)
                    verified = self._verified(token, request)
                    if verified.jkt is not None:  # a key-bound token without its proof: stolen?
                        raise TokenError("DPoP-bound token sent as bearer", reason="dpop_bound_as_bearer")
            if self.revocation is not None:  # on every request, cache hit or not
                claims = verified.claims
                self.revocation.check(
                    jti=claims.jti,
                    subject=claims.subject,
                    issued_at=claims.issued_at,
                    session_id=claims.session_id,
                    client_id=claims.client_id,
                    kid=claims.key_id,
                )
            answer = verified.answer if request is None else self._answer(event, request, verified, keep)
        except TokenError as exc:
            self._emit("INFO", "Unauthorized", request_id, started, fmt, exc.reason, ids)
            if fmt is EventFormat.HTTP_V2 and self._simple_v2:
                return simple_response(False)
            raise _unauthorized() from None
        except Exception as exc:
            reason = str(getattr(exc, "reason", "unexpected"))
            self._emit(
                "ERROR",
                "AuthorizerError",
                request_id,
                started,
                fmt,
                reason,
                f'{ids},"error":{quote(type(exc).__name__)}',
            )
            raise
        assert answer is not None  # noqa: S101 - _repeated returns only entries with an answer
        self._write(answer.line, request_id, started, ids, answer.who)
        return answer.response

    def _repeated(self, event: Mapping[str, Any]) -> _Verified | None:
        """The cached entry of a repeated token whose prebuilt answer fits this payload 2.0
        event, or ``None``: then the full path decides (the same verdict, only slower).

        Taken only where the full path would read the event exactly so: a fixed issuer (cache
        keys are bare tokens) and an ASCII header name (as ``events._values`` requires), a
        ``headers`` dict and no ``multiValueHeaders``, the identity header spelled
        ``Bearer <token>`` (one space; what the bearer grammar returns unchanged) and no other
        key of its name in any case (else ``duplicate_header``), and the very ``routeArn`` and
        ``routeKey`` strings the answer was built for. The entry stays subject to what any
        cached token is: its ``exp`` (the cache) and its key still being published; the caller
        then checks revocation, as for every request.
        """
        if not self._shortcut:
            return None
        headers = event.get("headers")
        if type(headers) is not dict or event.get("multiValueHeaders") is not None:
            return None
        credentials = headers.get(self._header)
        if (
            type(credentials) is not str
            or credentials[:7] != "Bearer "
            or len(credentials) > MAX_CREDENTIALS_LENGTH
        ):
            return None
        verified = self.cache.get(credentials[7:])  # None once the token's exp has come
        if verified is None:
            return None
        answer = verified.answer
        if (
            answer is None
            or event.get("routeArn") != answer.route_arn
            or event.get("routeKey") != answer.route_key
        ):
            return None
        try:
            if "\n".join(headers).lower().count(self._header) != 1:
                return None  # another spelling of the header name too: the full path refuses
        except TypeError:  # a header name that is not text
            return None
        if self._is_published is not None:
            kid = verified.claims.key_id
            if kid is None or not self._is_published(kid):
                return None  # the full path verifies afresh: the key's fate decides
        return verified

    def _verified(self, token: str, request: AuthorizerRequest) -> _Verified:
        """The verified entry of ``token``: from the cache, or verified here (the verifier)."""
        if self._fixed_issuer:
            issuer, cache_key = self._fixed_issuer, token
        else:
            issuer = self._issuer(request)
            cache_key = f"{issuer} {token}"
        verified = self.cache.get(cache_key)
        if verified is not None and self._is_published is not None:
            kid = verified.claims.key_id
            if kid is None or not self._is_published(kid):
                verified = None  # verify afresh: the key's fate decides (unknown kid -> 401)
        if verified is None:
            try:
                claims = self._verifier(issuer).verify(token)
            except TokenError:
                if not self._scan_bearer:
                    check_b64token(token)  # the deferred bearer scan: its verdict comes first
                raise
            verified = _Verified(claims, self._mfa_routes)
            self.cache.put(cache_key, verified, claims.expires_at)
        return verified

    def _issuer(self, request: AuthorizerRequest) -> str:
        if self.settings.issuer:
            return self.settings.issuer
        if request.format is EventFormat.REST_TOKEN:
            raise ConfigurationError("ISSUER must be set for a REST TOKEN authorizer")
        if request.domain_name is None:
            raise TokenError("event has no domain name", reason="malformed_event")
        return issuer_for_domain(request.domain_name)

    def _verifier(self, issuer: str) -> Verifier:
        found = self._verifiers.get(issuer)
        if found is None:
            if len(self._verifiers) >= _MAX_ISSUERS:
                self._verifiers.clear()
            found = self._verifiers[issuer] = self._verifier_for(issuer)
        return found

    def _answer(
        self, event: Mapping[str, Any], request: AuthorizerRequest, verified: _Verified, keep: bool = True
    ) -> _Answer:
        """Decide the request's route scopes and build the whole answer (response and log parts).

        A payload 2.0 answer is kept on the entry for the next request with the same token and
        route (:meth:`_repeated`), when its route key came from the event's own ``routeKey``
        (and ``keep``: a DPoP request's never is).
        """
        claims, granted = verified.claims, verified.granted
        # Fast path: no ROUTE_SCOPES at all, nothing to look up.
        allowed = (
            not self.routes.scoped
            or self.routes.required_scopes(request.arn.request, request.route_key) <= granted
        )
        simple = request.format is EventFormat.HTTP_V2 and self._simple_v2
        built = verified.context_simple if simple else verified.context_iam
        if built is None:
            built = build_context(claims, self.settings.context_claims, json_values=simple)
            if simple:
                verified.context_simple = built
            else:
                verified.context_iam = built
        context, dropped = built
        if simple:
            response = simple_response(allowed, context)
        else:
            base = request.arn.base
            last = verified.policy
            if last is not None and last[0] == base:
                document = last[1]
            else:
                document = self._document(request, granted)
                verified.policy = (base, document)
            response = iam_response(claims.subject, document, context)
        who = verified.log_members
        if dropped:
            who += f',"context_dropped":{quote(" ".join(dropped))}'
        decision, reason = ("Allowed", "ok") if allowed else ("Denied", self._denied_reason(request, granted))
        route_arn, route_key = event.get("routeArn"), event.get("routeKey")
        answer = _Answer(
            route_arn, route_key, response, allowed, self._line("INFO", decision, request.format, reason), who
        )
        if (
            keep
            and request.format is EventFormat.HTTP_V2
            and type(route_arn) is str
            and type(route_key) is str
            and route_key == request.route_key
        ):
            verified.answer = answer
        return answer

    def _denied_reason(self, request: AuthorizerRequest, granted: frozenset[str]) -> str:
        """``mfa_required`` when the route wants a second factor the token lacks (and every
        scope it has), else ``insufficient_scope``."""
        needed = self.routes.required_scopes(request.arn.request, request.route_key)
        if MFA in needed and MFA not in granted and needed - {MFA} <= granted:
            return "mfa_required"
        return "insufficient_scope"

    def _document(self, request: AuthorizerRequest, granted: frozenset[str]) -> dict[str, Any]:
        """The policy document for ``granted`` scopes on the request's stage (shared by tokens)."""
        key = (request.arn.base, granted)
        document = self._statements.get(key)
        if document is None:
            if len(self._statements) >= _MAX_POLICIES:
                self._statements.clear()
            document = self._statements[key] = policy_document(
                policy_statements(request.arn, self.routes, granted)
            )
        return document

    def _emit(
        self,
        level: str,
        decision: str,
        request_id: str | None,
        started: float,
        fmt: EventFormat | None,
        reason: str,
        extra: str = "",
    ) -> None:
        self._write(self._line(level, decision, fmt, reason), request_id, started, extra, "")

    def _line(self, level: str, decision: str, fmt: EventFormat | None, reason: str) -> _Line:
        """A decision line's constants (memoised: reasons are a closed set), see :data:`_Line`."""
        # The format's value, not the member: an enum member's hash is a Python-level call.
        key = (level, decision, fmt._value_ if fmt is not None else None, reason)
        line = self._lines.get(key)
        if line is None:
            line = (
                self.log.prepare(level, f"authorizer decision: {decision}", decision),
                f'"decision":{quote(decision)},"format":{quote(fmt.value) if fmt else "null"},"latency_us":',
                f',"reason":{quote(reason)}',
            )
            if len(self._lines) < 256:  # bounded anyway
                self._lines[key] = line
        return line

    def _write(self, line: _Line, request_id: str | None, started: float, ids: str, who: str) -> None:
        """The one decision line of a request: ``line`` from :meth:`_line`, ``ids``, ``who``
        (none below the log level: ``AWS_LAMBDA_LOG_LEVEL`` or ``POWERTOOLS_LOG_LEVEL``)."""
        if line[0] is None:
            return
        latency_us = int((time.perf_counter() - started) * 1e6)
        self.log.emit_prepared(line[0], request_id, f"{line[1]}{latency_us}{line[2]}{ids}{who}")
