"""The custom claims hook: deployment code that adds claims to tokens as they are issued
(the counterpart of Cognito's pre-token-generation trigger).

``CLAIMS_HOOK = "package.module:function"`` names a Python callable importable by the token
functions -- a module of this layer or of a second layer added to them. Empty: no hook, and
nothing here is imported or called. The reference is resolved once per execution environment,
at the first token issue; a reference that does not name a callable is a
:class:`~auth_core.errors.ConfigurationError` (a 500 and one log line), never a token without
the claims the deployment asked for.

The hook is called once per token, with a :class:`ClaimsHookInput` (frozen; the token kind says
whether the claims go into an access token or an ID token), and returns a mapping of claims::

    def add_claims(request: ClaimsHookInput) -> dict[str, object]:
        if request.token_kind == "access":
            return {"tenant": tenant_of(request.subject)}
        return {}

What it returns is checked before anything is signed (:func:`check_claims`): a mapping with
claim-name keys (:data:`CLAIM_NAME`), values that are strings, finite numbers, booleans, lists
of those or flat objects of those, at most :data:`MAX_HOOK_CLAIMS_BYTES` as compact JSON, and no
name in :data:`RESERVED_CLAIMS` -- the claims the service sets or that verifiers decide on.

Any failure refuses the request; no token is issued without the hook's claims or with claims
that were not checked:

* the hook raised, returned something else than such a mapping, or named a reserved claim:
  :class:`~auth_core.errors.ClaimsHookError`, ``500 server_error``. The same request would fail
  the same way again, so no ``Retry-After``.
* the hook took longer than ``CLAIMS_HOOK_BUDGET_MS``: :class:`~auth_core.errors.ClaimsHookTimeoutError`,
  ``503 temporarily_unavailable`` with ``Retry-After`` (a slow dependency of the hook may recover).

RFC 6749 §5.2 has no error code for a server-side failure at the token endpoint; both codes are
the ones §4.1.2.1 defines for it and the OAuth error registry lists, and clients already handle
them from the key store's and the tables' outages.

Each refusal is an audit event ``ClaimsHookFailed`` (a log line and a metric) with the client
id, the token kind, the grant type and a reason -- never the hook's output, its exception's
message, nor any token material.

**The time budget is checked after the call.** A Python callable cannot be pre-empted safely in
the Lambda runtime (no thread can be killed, a signal could land inside a DynamoDB transaction
of ours), so an overrunning hook runs to its end and its result is then thrown away; the
function's timeout is what bounds a hook that never returns. A hook that calls out over the
network should set its own timeouts below the budget.
"""

from __future__ import annotations

import importlib
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from auth_core._json import dumps_compact
from auth_core.claims import REGISTERED_CLAIMS
from auth_core.errors import ClaimsHookError, ClaimsHookTimeoutError, ConfigurationError
from auth_core.settings import ENV_VARS

if TYPE_CHECKING:
    from auth_core.oauth.audit import Audit
    from auth_core.settings import Settings

__all__ = [
    "CLAIM_NAME",
    "MAX_HOOK_CLAIMS_BYTES",
    "RESERVED_CLAIMS",
    "ClaimsHook",
    "ClaimsHookInput",
    "TokenKind",
    "check_claims",
    "resolve_reference",
]

TokenKind = Literal["access", "id"]

#: Claims a hook may never set, in either kind of token: the registered JWT claims (RFC 7519
#: §4.1), what RFC 9068 and OpenID Connect Core §2 give a meaning verifiers act on (``client_id``,
#: ``scope``, ``auth_time``, ``acr``, ``amr``, ``azp``, ``nonce``, ``at_hash``, ``c_hash``,
#: ``s_hash``), the session id (``sid``: revocation acts on it), proof-of-possession (``cnf``,
#: RFC 7800), delegation (``act``, ``may_act``, RFC 8693), the token-type markers others use
#: (``typ``, ``token_use``, ``token_type``), ``scp`` (a scope claim some verifiers read), and
#: ``roles``, which this service owns: the authorizer and resource servers authorise on it and
#: only ``authctl users`` changes it.
RESERVED_CLAIMS = REGISTERED_CLAIMS | frozenset(
    {
        "auth_time",
        "acr",
        "amr",
        "azp",
        "nonce",
        "at_hash",
        "c_hash",
        "s_hash",
        "act",
        "may_act",
        "token_use",
        "token_type",
        "scp",
        "roles",
    }
)

#: A claim name a hook may use: a letter, then letters, digits and ``_ . : / -`` (so a
#: collision-resistant URI name such as ``https://example.com/tenant`` works), at most 128.
CLAIM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:/-]{0,127}")

#: Most bytes the hook's claims may add to a token, as compact JSON: tokens travel in headers
#: (API Gateway's request headers are bounded at 10 KiB in total).
MAX_HOOK_CLAIMS_BYTES = 2048

_MAX_SAFE_INT = 2**53


@dataclass(frozen=True, slots=True)
class ClaimsHookInput:
    """What a hook is told about the token being issued (frozen; tuples, not lists).

    :ivar token_kind: ``"access"`` or ``"id"`` (one call per token; an ID token is issued with
        an access token, so a code redemption with ``openid`` calls the hook twice).
    :ivar grant_type: the grant (``password``, ``client_credentials``, ``authorization_code``,
        ``refresh_token``).
    :ivar client_id: the client the token is issued to.
    :ivar subject: the token's ``sub`` (the client id itself for ``client_credentials``).
    :ivar scope: the granted scopes.
    :ivar roles: the user's roles (empty for ``client_credentials``).
    """

    token_kind: TokenKind
    grant_type: str
    client_id: str
    subject: str
    scope: tuple[str, ...]
    roles: tuple[str, ...]


HookFunction = Callable[[ClaimsHookInput], Mapping[str, Any]]


def resolve_reference(reference: str) -> HookFunction:
    """Import ``"package.module:function"`` and return the callable.

    :raises ConfigurationError: not of that form, the module does not import, or the attribute
        is missing or not callable (the message names the setting and the reference only).
    """
    name = ENV_VARS["claims_hook"]
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigurationError(f"{name} must be 'package.module:function'")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except Exception as exc:  # an import error, a missing attribute, a module that raises
        raise ConfigurationError(f"{name} {reference!r} cannot be loaded ({type(exc).__name__})") from exc
    if not callable(target):
        raise ConfigurationError(f"{name} {reference!r} is not callable")
    return target


def _value_ok(value: object, *, nested: bool) -> bool:
    if isinstance(value, bool | str):
        return True
    if isinstance(value, int):
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    if isinstance(value, float):
        return math.isfinite(value)
    if nested:
        return False
    if isinstance(value, list | tuple):
        return all(_value_ok(item, nested=True) for item in value)
    if isinstance(value, Mapping):
        return all(
            isinstance(key, str) and CLAIM_NAME.fullmatch(key) is not None and _value_ok(item, nested=True)
            for key, item in value.items()
        )
    return False


def check_claims(claims: object) -> dict[str, Any]:
    """The hook's result as a plain ``dict``, if it may go into a token.

    :raises ClaimsHookError: not a mapping, a bad or reserved name, a value that is not a string,
        a finite number, a boolean, or a list or flat object of those, or too large. ``reason``
        says which (``claims_hook_bad_result``, ``claims_hook_reserved_claim``,
        ``claims_hook_too_large``).
    """
    if not isinstance(claims, Mapping):
        raise ClaimsHookError(reason="claims_hook_bad_result")
    out: dict[str, Any] = {}
    for name, value in claims.items():
        if not isinstance(name, str) or CLAIM_NAME.fullmatch(name) is None:
            raise ClaimsHookError(reason="claims_hook_bad_result")
        if name in RESERVED_CLAIMS:
            raise ClaimsHookError(reason="claims_hook_reserved_claim")
        if not _value_ok(value, nested=False):
            raise ClaimsHookError(reason="claims_hook_bad_result")
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
        out[name] = value
    if out:
        try:
            size = len(dumps_compact(out))
        except (TypeError, ValueError) as exc:  # a lone surrogate in a string
            raise ClaimsHookError(reason="claims_hook_bad_result") from exc
        if size > MAX_HOOK_CLAIMS_BYTES:
            raise ClaimsHookError(reason="claims_hook_too_large")
    return out


class ClaimsHook:
    """Calls the configured hook and checks what it returns (see the module docstring).

    :param reference: ``"package.module:function"``; empty: no hook (:meth:`claims` returns ``{}``).
    :param budget_ms: the time the hook may take, milliseconds (checked after the call).
    :param audit: where ``ClaimsHookFailed`` goes.
    :param clock: monotonic seconds, injectable for tests.
    :param resolve: reference -> callable (tests inject functions without a module).
    """

    __slots__ = ("_audit", "_budget", "_clock", "_function", "_reference", "_resolve", "_unresolvable")

    def __init__(
        self,
        reference: str = "",
        *,
        budget_ms: int = 200,
        audit: Audit | None = None,
        clock: Callable[[], float] = time.monotonic,
        resolve: Callable[[str], HookFunction] = resolve_reference,
    ) -> None:
        self._reference = reference.strip()
        self._budget = budget_ms / 1000
        self._audit = audit
        self._clock = clock
        self._resolve = resolve
        self._function: HookFunction | None = None
        self._unresolvable: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, audit: Audit | None = None) -> ClaimsHook:
        """From ``CLAIMS_HOOK`` and ``CLAIMS_HOOK_BUDGET_MS``."""
        return cls(settings.claims_hook, budget_ms=settings.claims_hook_budget_ms, audit=audit)

    @property
    def enabled(self) -> bool:
        """A hook is configured."""
        return bool(self._reference)

    def _callable(self) -> HookFunction:
        """The hook, resolved at the first call and kept; a failed resolution is kept too (the
        import is not retried on every request of a broken deployment).

        :raises ConfigurationError: the reference names no callable.
        """
        if self._function is not None:
            return self._function
        if self._unresolvable is None:
            try:
                self._function = self._resolve(self._reference)
                return self._function
            except ConfigurationError as exc:
                self._unresolvable = str(exc)
                raise
        raise ConfigurationError(self._unresolvable)

    def claims(self, request: ClaimsHookInput) -> dict[str, Any]:
        """The checked claims to add to the token ``request`` describes (``{}`` without a hook).

        :raises ConfigurationError: the reference names no callable.
        :raises ClaimsHookError: the hook raised, or returned claims :func:`check_claims` refuses.
        :raises ClaimsHookTimeoutError: the hook took longer than the budget.
        """
        if not self._reference:
            return {}
        function = self._callable()
        started = self._clock()
        try:
            result = function(request)
        except Exception as exc:
            self._failed(request, "claims_hook_raised")
            # chained for the exception's type in the log line; its message is never logged
            raise ClaimsHookError(reason="claims_hook_raised") from exc
        elapsed = self._clock() - started
        if elapsed > self._budget:
            self._failed(request, "claims_hook_timeout", elapsed_ms=round(elapsed * 1000))
            raise ClaimsHookTimeoutError(reason="claims_hook_timeout")
        try:
            return check_claims(result)
        except ClaimsHookError as exc:
            self._failed(request, exc.reason)
            raise

    def _failed(self, request: ClaimsHookInput, reason: str, **fields: Any) -> None:
        if self._audit is not None:
            self._audit.record(
                "ClaimsHookFailed",
                client_id=request.client_id,
                token_kind=request.token_kind,
                grant_type=request.grant_type,
                reason=reason,
                **fields,
            )
