"""What the OAuth layer may ask of the stores: typed operations, steps and outcomes.

The OAuth code (``auth_core.oauth``) programs against these Protocols, never against a table:
no attribute name, key format, condition expression or error code crosses this line. Two
backends implement them: DynamoDB (``users.py``, ``clients.py``, ``sessions.py``,
``revocations.py``, ``throttle.py``: production and the functional tests) and memory
(``memory.py``: the OAuth logic's unit tests), with the same all-or-nothing semantics.

A session write is one atomic, conditional transaction that re-checks what it depends on. The
OAuth code composes it from domain steps the stores make -- a :class:`Check` ("the user is as
read", "the client is as read", "no global cut-off since the session began") or a :class:`Write`
("refuse every access token of this session") -- and hands them to the sessions store, which
commits them together with its own items and reports a typed outcome. A step is opaque (its
``payload`` is the backend's own); only a store of the same backend can run it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from auth_core._frozen import Frozen

if TYPE_CHECKING:
    from auth_core.stores.clients import Client
    from auth_core.stores.revocations import RevocationFacts
    from auth_core.stores.sessions import AuthorizationCode, CodeIssue, Family, RefreshRecord
    from auth_core.stores.signin import Consent, PushedRequest, SsoRecord
    from auth_core.stores.users import User

__all__ = [
    "AlreadyEnded",
    "Check",
    "CheckFailed",
    "Checked",
    "Clients",
    "Committed",
    "Consents",
    "CreateOutcome",
    "FamilyEnded",
    "LostRace",
    "PushedRequests",
    "RedeemOutcome",
    "Revocations",
    "RevokeOutcome",
    "RotateOutcome",
    "Sessions",
    "SsoSessions",
    "Throttle",
    "Users",
    "Write",
]


class Checked(StrEnum):
    """What a :class:`Check` re-checks (so an outcome can say which one failed)."""

    USER = "user"
    CLIENT = "client"
    GLOBAL_CUTOFF = "global_cutoff"
    SSO_SESSION = "sso_session"
    MFA = "mfa"


class Check(NamedTuple):  # not a dataclass: on the authorizer's cold path, see docs/architecture.md
    """A condition on one item, made by a store, for a session transaction (opaque payload)."""

    what: Checked
    payload: Any


class Write(NamedTuple):  # not a dataclass: on the authorizer's cold path, see docs/architecture.md
    """An unconditional write made by a store, for a session transaction (opaque payload)."""

    payload: Any


# ---------------------------------------------------------------------- outcomes
# Not dataclasses (on the authorizer's cold path, see docs/architecture.md), and not tuples
# either: the field-less outcomes would all be ``()``, equal to each other and false.
class _Outcome(Frozen):
    __slots__ = ()
    #: did the transaction commit?
    ok = False


class Committed(_Outcome):
    """The transaction committed."""

    __slots__ = ()
    ok = True


class CheckFailed(_Outcome):
    """A caller's :class:`Check` failed (the first, in the order given): nothing was written."""

    __slots__ = ("what",)
    _fields = __match_args__ = ("what",)
    what: Checked

    def __init__(self, what: Checked) -> None:
        self._init(what)


class LostRace(_Outcome):
    """The presented token (or the family, for a revocation) was changed by another transaction
    first, or one touched the same items at that moment: nothing was written; re-read and decide."""

    __slots__ = ()


class FamilyEnded(_Outcome):
    """The family is revoked, expired, or has moved on to another token: nothing was written."""

    __slots__ = ()


class AlreadyEnded(_Outcome):
    """The family was already revoked, or does not exist: nothing was written."""

    __slots__ = ()


CreateOutcome = Committed | CheckFailed
RotateOutcome = Committed | CheckFailed | LostRace | FamilyEnded
RevokeOutcome = Committed | AlreadyEnded | LostRace
#: a code redemption: LostRace = the code was redeemed (or expired) first
RedeemOutcome = Committed | CheckFailed | LostRace


# ---------------------------------------------------------------------- the stores
class Users(Protocol):
    def get(self, username: str) -> User | None: ...
    def ensure_user_id(self, user: User) -> User: ...
    def set_password_hash(self, username: str, new_hash: str, *, expected: str) -> bool: ...
    def end_sessions(
        self,
        username: str,
        at_ms: int,
        *,
        disable: bool = False,
        password_hash: str | None = None,
        expect_sessions_version: int | None = None,
    ) -> User | None: ...
    def move_cutoff(self, username: str, at_ms: int) -> bool: ...
    def delete(self, username: str, *, user_id: str) -> bool: ...
    def unchanged(
        self, username: str, *, sessions_version: int, privileges_version: int | None = None
    ) -> Check: ...


class Clients(Protocol):
    def get(self, client_id: str) -> Client | None: ...
    def get_fresh(self, client_id: str) -> Client | None: ...
    def set_enabled(self, client_id: str, enabled: bool) -> bool: ...
    def unchanged(self, client: Client, *, epoch: int) -> Check: ...


class Sessions(Protocol):
    def get_token(self, token_hash: str) -> RefreshRecord | None: ...
    def get_family(self, family_id: str) -> Family | None: ...
    def families_of(self, subject: str) -> list[Family]: ...
    def create(self, family: Family, token: RefreshRecord, *, checks: list[Check]) -> CreateOutcome: ...
    def rotate(
        self,
        parent: RefreshRecord,
        child: RefreshRecord,
        *,
        now: int,
        at_jti: str,
        at_exp: int,
        checks: list[Check],
    ) -> RotateOutcome: ...
    def drop_grace(self, token_hash: str) -> None: ...
    def families_of_sso(self, subject: str, sso_session_id: str) -> list[Family]: ...
    def put_code(self, code: AuthorizationCode) -> None: ...
    def get_code(self, code_hash: str) -> AuthorizationCode | None: ...
    def redeem_code(
        self,
        code: AuthorizationCode,
        issued: CodeIssue,
        *,
        now: int,
        family: tuple[Family, RefreshRecord] | None,
        checks: list[Check],
    ) -> RedeemOutcome: ...
    def revoke_family(
        self, family_id: str, *, now: int, reason: str, writes: list[Write]
    ) -> RevokeOutcome: ...


class Revocations(Protocol):
    def revoke_jti(self, jti: str, expires_at: int) -> None: ...
    def jti_write(self, jti: str, expires_at: int) -> Write: ...
    def session_write(self, session_id: str, expires_at: int) -> Write: ...
    def set_user_cutoff(self, subject: str, at_ms: int, *, max_token_lifetime: int) -> None: ...
    def set_client_state(
        self, client_id: str, at_ms: int, *, disabled: bool, max_token_lifetime: int
    ) -> None: ...
    def set_global_cutoff(self, at_ms: int) -> None: ...
    def no_global_cutoff_since(self, session_created_ms: int) -> Check: ...
    def global_cutoff_ms(self) -> int: ...
    def not_before(self, subject: str) -> int: ...
    def facts(
        self,
        *,
        subject: str,
        jti: str | None = None,
        session_id: str | None = None,
        client_id: str | None = None,
        kid: str | None = None,
    ) -> RevocationFacts: ...


class Throttle(Protocol):
    def take(self, username: str, source: str | None) -> None: ...
    def succeeded(self, username: str, source: str | None) -> None: ...


class SsoSessions(Protocol):
    """Single sign-on sessions, by the hash of the browser's cookie (never the cookie itself)."""

    def create(self, cookie_hash: str, record: SsoRecord) -> None: ...
    def get(self, cookie_hash: str) -> SsoRecord | None: ...
    def touch(self, cookie_hash: str, *, now: int) -> bool: ...
    def end(self, cookie_hash: str, *, now: int, session_id: str) -> bool: ...
    def not_ended(self, session_id: str) -> Check: ...


class PushedRequests(Protocol):
    """Pushed authorization requests (RFC 9126), by the hash of their ``request_uri``."""

    def put(self, request: PushedRequest) -> None: ...
    def get(self, request_hash: str) -> PushedRequest | None: ...
    def consume(self, request_hash: str, *, now: int) -> bool: ...


class Consents(Protocol):
    """What each user granted each third-party client."""

    def get(self, subject: str, client_id: str) -> Consent | None: ...
    def grant(self, subject: str, client_id: str, scope: tuple[str, ...], *, now: int) -> None: ...
