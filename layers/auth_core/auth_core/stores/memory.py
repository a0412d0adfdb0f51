"""The store interfaces in memory: the second backend, which runs the OAuth logic's unit tests.

Production and the functional tests use DynamoDB; this backend exists to prove the seam
(``auth_core.stores.interfaces``): the OAuth code runs unchanged over it, so it cannot depend
on anything DynamoDB-specific. It lives in the package, not under ``tests/``, so that mypy
checks it against the same Protocols as the DynamoDB stores; nothing in production imports it.

Semantics are the DynamoDB stores': every read is strongly consistent, every conditional write
and every session transaction is all-or-nothing under one lock (the checks and the store's own
conditions are evaluated, then either everything is applied or nothing is), and outcomes are
mapped with the same precedence (a failed caller check first, then a lost race, then an ended
family). Items are the domain records themselves; there is no attribute name anywhere.

Usage::

    backend = MemoryBackend(clock=clock)
    service = TokenService(**backend.stores(), keys=..., policy=..., clock=clock)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from auth_core.errors import (
    AlreadyExistsError,
    SlowDownError,
    StoreUnavailableError,
)
from auth_core.stores.clients import EDITABLE, Client
from auth_core.stores.interfaces import (
    AlreadyEnded,
    Check,
    Checked,
    CheckFailed,
    Clients,
    Committed,
    Consents,
    CreateOutcome,
    FamilyEnded,
    LostRace,
    PushedRequests,
    RedeemOutcome,
    Revocations,
    RevokeOutcome,
    RotateOutcome,
    Sessions,
    SsoSessions,
    Throttle,
    Users,
    Write,
)
from auth_core.stores.revocations import (
    GLOBAL_PK,
    RevocationEntry,
    RevocationFacts,
    ceil_seconds,
    cutoff_expiry,
    facts_of,
    token_keys,
)
from auth_core.stores.sessions import (
    ACTIVE,
    REVOKED,
    USED,
    AuthorizationCode,
    CodeIssue,
    Family,
    RefreshRecord,
)
from auth_core.stores.signin import ENDED, Consent, PushedRequest, SsoRecord
from auth_core.stores.throttle import ThrottleLimits
from auth_core.stores.users import User
from auth_core.usernames import new_user_id

__all__ = [
    "MemoryBackend",
    "MemoryClients",
    "MemoryConsents",
    "MemoryDatabase",
    "MemoryPushedRequests",
    "MemoryRevocations",
    "MemorySessions",
    "MemorySsoSessions",
    "MemoryThrottle",
    "MemoryUsers",
]


@dataclass
class MemoryDatabase:
    """Every table's items, by their domain key, and the one lock all reads and writes take."""

    users: dict[str, User] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    families: dict[str, Family] = field(default_factory=dict)
    tokens: dict[str, RefreshRecord] = field(default_factory=dict)
    revocations: dict[str, RevocationEntry] = field(default_factory=dict)
    attempts: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    sso: dict[str, SsoRecord] = field(default_factory=dict)
    sso_ended: set[str] = field(default_factory=set)
    pushed: dict[str, PushedRequest] = field(default_factory=dict)
    consents: dict[tuple[str, str], Consent] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def transact(
        self,
        checks: list[Check],
        own: list[tuple[Callable[[], bool], RotateOutcome | RevokeOutcome]],
        apply: Callable[[], None],
        writes: Iterable[Write] = (),
    ) -> RotateOutcome | RevokeOutcome:
        """All or nothing: the first failed caller check, else the failure of the first own
        condition that does not hold, else everything applied and :class:`Committed`."""
        with self.lock:
            for check in checks:
                if not _predicate(check)():
                    return CheckFailed(check.what)
            for holds, failure in own:
                if not holds():
                    return failure
            apply()
            for write in writes:
                _action(write)()
            return Committed()


def _predicate(check: Check) -> Callable[[], bool]:
    if not callable(check.payload):
        raise TypeError("a check of another store backend in a memory transaction")
    predicate: Callable[[], bool] = check.payload
    return predicate


def _action(write: Write) -> Callable[[], None]:
    if not callable(write.payload):
        raise TypeError("a write of another store backend in a memory transaction")
    action: Callable[[], None] = write.payload
    return action


class _MemoryStore:
    def __init__(self, db: MemoryDatabase, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock


# ---------------------------------------------------------------------- users
class MemoryUsers(_MemoryStore):
    def get(self, username: str) -> User | None:
        with self.db.lock:
            return self.db.users.get(username)

    def create(self, user: User) -> User:
        """:raises AlreadyExistsError: the username is taken."""
        with self.db.lock:
            if user.username in self.db.users:
                raise AlreadyExistsError("user exists", reason="user_exists")
            stored = replace(
                user, user_id=user.user_id or new_user_id(), created_at=user.created_at or int(self._clock())
            )
            self.db.users[user.username] = stored
            return stored

    def ensure_user_id(self, user: User) -> User:
        if user.user_id:
            return user
        with self.db.lock:
            current = self.db.users.get(user.username)
            if current is None:
                return user
            if not current.user_id:
                current = replace(current, user_id=new_user_id(), legacy_subject=current.username)
                self.db.users[user.username] = current
            return current

    def _change(self, username: str, when: Callable[[User], bool], **changes: Any) -> bool:
        with self.db.lock:
            current = self.db.users.get(username)
            if current is None or not when(current):
                return False
            self.db.users[username] = replace(current, **changes)
            return True

    def set_password_hash(self, username: str, new_hash: str, *, expected: str) -> bool:
        return self._change(username, lambda u: u.password_hash == expected, password_hash=new_hash)

    def replace_password_hash(self, username: str, new_hash: str) -> bool:
        return self._change(username, lambda _u: True, password_hash=new_hash)

    def enable(self, username: str) -> bool:
        return self._change(username, lambda _u: True, enabled=True)

    def end_sessions(
        self,
        username: str,
        at_ms: int,
        *,
        disable: bool = False,
        password_hash: str | None = None,
        expect_sessions_version: int | None = None,
    ) -> User | None:
        with self.db.lock:
            current = self.db.users.get(username)
            if current is None:
                return None
            if expect_sessions_version is not None and current.sessions_version != expect_sessions_version:
                return None
            changed = replace(
                current,
                sessions_version=current.sessions_version + 1,
                tokens_valid_after_ms=max(at_ms, current.tokens_valid_after_ms),
                enabled=current.enabled and not disable,
                password_hash=current.password_hash if password_hash is None else password_hash,
            )
            self.db.users[username] = changed
            return changed

    def page(self, limit: int, after: str | None = None) -> tuple[list[User], str | None]:
        with self.db.lock:
            names = sorted(n for n in self.db.users if after is None or n > after)
            chosen = names[:limit]
            more = len(names) > limit
            return [self.db.users[n] for n in chosen], (chosen[-1] if more and chosen else None)

    def delete(self, username: str, *, user_id: str) -> bool:
        with self.db.lock:
            current = self.db.users.get(username)
            if current is None or current.enabled or current.user_id != user_id:
                return False
            del self.db.users[username]
            return True

    def move_cutoff(self, username: str, at_ms: int) -> bool:
        return self._change(username, lambda u: u.tokens_valid_after_ms < at_ms, tokens_valid_after_ms=at_ms)

    def set_privileges(self, username: str, *, scopes: Iterable[str], roles: Iterable[str]) -> bool:
        with self.db.lock:
            current = self.db.users.get(username)
            if current is None:
                return False
            return self._change(
                username,
                lambda _u: True,
                scopes=tuple(scopes),
                roles=tuple(roles),
                privileges_version=current.privileges_version + 1,
            )

    def unchanged(
        self, username: str, *, sessions_version: int, privileges_version: int | None = None
    ) -> Check:
        def holds() -> bool:
            user = self.db.users.get(username)
            return (
                user is not None
                and user.enabled
                and user.sessions_version == sessions_version
                and (privileges_version is None or user.privileges_version == privileges_version)
            )

        return Check(Checked.USER, holds)


# ---------------------------------------------------------------------- clients
class MemoryClients(_MemoryStore):
    def get(self, client_id: str) -> Client | None:
        with self.db.lock:
            return self.db.clients.get(client_id)

    get_fresh = get  # nothing is cached in memory

    def create(self, client: Client) -> None:
        """:raises AlreadyExistsError: the client id is taken."""
        with self.db.lock:
            if client.client_id in self.db.clients:
                raise AlreadyExistsError("client exists", reason="client_exists")
            self.db.clients[client.client_id] = client

    def set_enabled(self, client_id: str, enabled: bool) -> bool:
        with self.db.lock:
            current = self.db.clients.get(client_id)
            if current is None:
                return False
            self.db.clients[client_id] = replace(
                current,
                enabled=enabled,
                version=current.version + 1,
                sessions_epoch=current.sessions_epoch + (0 if enabled else 1),
            )
            return True

    def page(self, limit: int, after: str | None = None) -> tuple[list[Client], str | None]:
        with self.db.lock:
            ids = sorted(i for i in self.db.clients if after is None or i > after)
            chosen = ids[:limit]
            return [self.db.clients[i] for i in chosen], (chosen[-1] if len(ids) > limit and chosen else None)

    def update(self, client: Client) -> bool:
        with self.db.lock:
            current = self.db.clients.get(client.client_id)
            if current is None or current.version != client.version:
                return False
            changes = {name: getattr(client, name) for name in EDITABLE}
            self.db.clients[client.client_id] = replace(current, **changes, version=current.version + 1)
            return True

    def rotate_secret(self, client: Client, new_hash: str, *, previous_valid_until: int) -> bool:
        with self.db.lock:
            current = self.db.clients.get(client.client_id)
            if (
                current is None
                or not client.secret_hash
                or current.version != client.version
                or current.secret_hash != client.secret_hash
            ):
                return False
            self.db.clients[client.client_id] = replace(
                current,
                secret_hash=new_hash,
                previous_secret_hash=client.secret_hash,
                previous_secret_valid_until=previous_valid_until,
                version=current.version + 1,
            )
            return True

    def delete(self, client_id: str) -> bool:
        with self.db.lock:
            current = self.db.clients.get(client_id)
            if current is None or current.enabled:
                return False
            del self.db.clients[client_id]
            return True

    def unchanged(self, client: Client, *, epoch: int) -> Check:
        def holds() -> bool:
            now = self.db.clients.get(client.client_id)
            return (
                now is not None
                and now.enabled
                and now.version == client.version
                and now.sessions_epoch == epoch
            )

        return Check(Checked.CLIENT, holds)


# ---------------------------------------------------------------------- sessions
class MemorySessions(_MemoryStore):
    def get_token(self, token_hash: str) -> RefreshRecord | None:
        with self.db.lock:
            return self.db.tokens.get(token_hash)

    def get_family(self, family_id: str) -> Family | None:
        with self.db.lock:
            return self.db.families.get(family_id)

    def families_of(self, subject: str) -> list[Family]:
        with self.db.lock:
            return [f for f in self.db.families.values() if f.subject == subject]

    def create(self, family: Family, token: RefreshRecord, *, checks: list[Check]) -> CreateOutcome:
        def apply() -> None:
            self.db.families[family.family_id] = family
            self.db.tokens[token.token_hash] = token

        new: list[tuple[Callable[[], bool], RotateOutcome | RevokeOutcome]] = [
            (lambda: family.family_id not in self.db.families, LostRace()),
            (lambda: token.token_hash not in self.db.tokens, LostRace()),
        ]
        outcome = self.db.transact(checks, new, apply)
        if isinstance(outcome, Committed | CheckFailed):
            return outcome
        raise StoreUnavailableError(reason="session_create_conflict")

    def rotate(
        self,
        parent: RefreshRecord,
        child: RefreshRecord,
        *,
        now: int,
        at_jti: str,
        at_exp: int,
        checks: list[Check],
    ) -> RotateOutcome:
        db = self.db

        def parent_active() -> bool:
            found = db.tokens.get(parent.token_hash)
            return found is not None and found.status == ACTIVE

        def family_current() -> bool:
            family = db.families.get(parent.family_id)
            return (
                family is not None
                and family.status == ACTIVE
                and family.current == parent.token_hash
                and family.expires_at > now
            )

        def apply() -> None:
            db.tokens[parent.token_hash] = replace(
                db.tokens[parent.token_hash],
                status=USED,
                child=child.token_hash,
                used_at=now,
                grace_blob="",
                grace_origin="",
            )
            db.tokens[child.token_hash] = child
            db.families[parent.family_id] = replace(
                db.families[parent.family_id],
                current=child.token_hash,
                generation=child.generation,
                last_used_at=now,
                at_jti=at_jti,
                at_exp=at_exp,
            )

        own: list[tuple[Callable[[], bool], RotateOutcome | RevokeOutcome]] = [
            (parent_active, LostRace()),
            (lambda: child.token_hash not in db.tokens, LostRace()),
            (family_current, FamilyEnded()),
        ]
        outcome = db.transact(checks, own, apply)
        assert not isinstance(outcome, AlreadyEnded)  # noqa: S101 - not among the failures given
        return outcome

    def families_of_sso(self, subject: str, sso_session_id: str) -> list[Family]:
        return [f for f in self.families_of(subject) if f.sso_session_id == sso_session_id]

    def put_code(self, code: AuthorizationCode) -> None:
        with self.db.lock:
            if code.code_hash in self.db.codes:
                raise StoreUnavailableError(reason="code_collision")
            self.db.codes[code.code_hash] = code

    def get_code(self, code_hash: str) -> AuthorizationCode | None:
        with self.db.lock:
            return self.db.codes.get(code_hash)

    def redeem_code(
        self,
        code: AuthorizationCode,
        issued: CodeIssue,
        *,
        now: int,
        family: tuple[Family, RefreshRecord] | None,
        checks: list[Check],
    ) -> RedeemOutcome:
        db = self.db

        def usable() -> bool:
            found = db.codes.get(code.code_hash)
            return found is not None and found.status == ACTIVE and found.expires_at > now

        def apply() -> None:
            db.codes[code.code_hash] = replace(
                db.codes[code.code_hash],
                status=USED,
                used_at=now,
                issued_family=issued.family_id,
                issued_jti=issued.at_jti,
                issued_exp=issued.at_exp,
            )
            if family is not None:
                db.families[family[0].family_id] = family[0]
                db.tokens[family[1].token_hash] = family[1]

        own: list[tuple[Callable[[], bool], RotateOutcome | RevokeOutcome]] = [(usable, LostRace())]
        if family is not None:
            fam, token = family
            own.append((lambda: fam.family_id not in db.families, FamilyEnded()))
            own.append((lambda: token.token_hash not in db.tokens, FamilyEnded()))
        outcome = db.transact(checks, own, apply)
        if isinstance(outcome, Committed | CheckFailed | LostRace):
            return outcome
        raise StoreUnavailableError(reason="session_create_conflict")

    def drop_grace(self, token_hash: str) -> None:
        with self.db.lock:
            found = self.db.tokens.get(token_hash)
            if found is not None:
                self.db.tokens[token_hash] = replace(found, grace_blob="", grace_origin="")

    def revoke_family(self, family_id: str, *, now: int, reason: str, writes: list[Write]) -> RevokeOutcome:
        db = self.db

        def active() -> bool:
            family = db.families.get(family_id)
            return family is not None and family.status == ACTIVE

        def apply() -> None:
            db.families[family_id] = replace(
                db.families[family_id], status=REVOKED, revoked_at=now, revoked_reason=reason
            )

        outcome = db.transact([], [(active, AlreadyEnded())], apply, writes)
        assert not isinstance(outcome, CheckFailed | FamilyEnded)  # noqa: S101 - no checks given
        return outcome


# ---------------------------------------------------------------------- revocations
class MemoryRevocations(_MemoryStore):
    def _put(self, kind: str, key: str, expires_at: int | None) -> None:
        entry = RevocationEntry(kind, key, changed_ms=int(self._clock() * 1000), expires_at=expires_at)
        with self.db.lock:
            self.db.revocations[entry.pk] = entry

    def revoke_jti(self, jti: str, expires_at: int) -> None:
        self._put("jti", jti, expires_at)

    def jti_write(self, jti: str, expires_at: int) -> Write:
        return Write(lambda: self._put("jti", jti, expires_at))

    def session_write(self, session_id: str, expires_at: int) -> Write:
        return Write(lambda: self._put("sid", session_id, expires_at))

    def revoke_signing_keys(self, kids: Iterable[str], *, until: int) -> None:
        for kid in sorted(set(kids)):
            self._put("kid", kid, until)

    def _cutoff(self, pk: str, at_ms: int, expires_at: int | None, *, disabled: bool | None = None) -> None:
        """As the DynamoDB store's: the cut-off only moves forward; ``disabled`` is always recorded."""
        kind, _, key = pk.partition("#")
        changed_ms = int(self._clock() * 1000)
        with self.db.lock:
            current = self.db.revocations.get(pk)
            if current is None or current.cutoff_ms <= at_ms:
                self.db.revocations[pk] = RevocationEntry(
                    kind,
                    key,
                    changed_ms=changed_ms,
                    expires_at=expires_at,
                    not_before=ceil_seconds(at_ms),
                    disabled=bool(disabled) if disabled is not None else bool(current and current.disabled),
                    cutoff_ms=at_ms,
                )
            elif disabled is not None:
                kept = current.expires_at if expires_at is not None else None
                self.db.revocations[pk] = current._replace(
                    disabled=disabled, changed_ms=changed_ms, expires_at=kept
                )

    def set_user_cutoff(self, subject: str, at_ms: int, *, max_token_lifetime: int) -> None:
        self._cutoff(f"sub#{subject}", at_ms, cutoff_expiry(at_ms, max_token_lifetime))

    def set_client_state(
        self, client_id: str, at_ms: int, *, disabled: bool, max_token_lifetime: int
    ) -> None:
        until = None if disabled else cutoff_expiry(at_ms, max_token_lifetime)
        self._cutoff(f"cli#{client_id}", at_ms, until, disabled=disabled)

    def set_global_cutoff(self, at_ms: int) -> None:
        self._cutoff(GLOBAL_PK, at_ms, None)

    def no_global_cutoff_since(self, session_created_ms: int) -> Check:
        return Check(Checked.GLOBAL_CUTOFF, lambda: self.global_cutoff_ms() <= session_created_ms)

    def global_cutoff_ms(self) -> int:
        with self.db.lock:
            found = self.db.revocations.get(GLOBAL_PK)
            return found.cutoff_ms if found is not None else 0

    def not_before(self, subject: str) -> int:
        with self.db.lock:
            found = self.db.revocations.get(f"sub#{subject}")
            return found.not_before if found is not None else 0

    def facts(
        self,
        *,
        subject: str,
        jti: str | None = None,
        session_id: str | None = None,
        client_id: str | None = None,
        kid: str | None = None,
    ) -> RevocationFacts:
        keys = token_keys(subject=subject, jti=jti, session_id=session_id, client_id=client_id, kid=kid)
        with self.db.lock:
            found = {pk: self.db.revocations[pk] for pk in keys.values() if pk in self.db.revocations}
        return facts_of(keys, found)

    def feed_since(self, since_ms: int, *, client: Any | None = None) -> Iterator[RevocationEntry]:
        """The revocation feed's source (``client`` is ignored: there is no DynamoDB client)."""
        with self.db.lock:
            changed = [e for e in self.db.revocations.values() if e.changed_ms >= since_ms]
        return iter(changed)


# ---------------------------------------------------------------------- login throttle
class MemoryThrottle(_MemoryStore):
    """The per-(username, address) limit of ``throttle.LoginThrottle`` (attempts per window),
    without its per-username bucket."""

    def __init__(
        self,
        db: MemoryDatabase,
        *,
        limits: ThrottleLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(db, clock=clock)
        self.limits = limits or ThrottleLimits()

    def take(self, username: str, source: str | None) -> None:
        """:raises SlowDownError: ``per_address`` attempts within ``window`` seconds."""
        now = self._clock()
        with self.db.lock:
            recent = [
                t for t in self.db.attempts.get((username, source or ""), []) if now - t < self.limits.window
            ]
            if len(recent) >= self.limits.per_address:
                raise SlowDownError(max(1, int(recent[0] + self.limits.window - now)))
            self.db.attempts[(username, source or "")] = [*recent, now]

    def succeeded(self, username: str, source: str | None) -> None:
        with self.db.lock:
            self.db.attempts.pop((username, source or ""), None)


# ---------------------------------------------------------------------- browser sign-in
class MemorySsoSessions(_MemoryStore):
    def create(self, cookie_hash: str, record: SsoRecord) -> None:
        with self.db.lock:
            if cookie_hash in self.db.sso:
                raise StoreUnavailableError(reason="sso_collision")
            self.db.sso[cookie_hash] = record

    def get(self, cookie_hash: str) -> SsoRecord | None:
        with self.db.lock:
            return self.db.sso.get(cookie_hash)

    def touch(self, cookie_hash: str, *, now: int) -> bool:
        with self.db.lock:
            found = self.db.sso.get(cookie_hash)
            if found is None or found.status != ACTIVE or found.expires_at <= now:
                return False
            self.db.sso[cookie_hash] = replace(found, last_seen_at=now)
            return True

    def end(self, cookie_hash: str, *, now: int, session_id: str) -> bool:
        with self.db.lock:
            found = self.db.sso.get(cookie_hash)
            if found is None or found.status != ACTIVE:
                return False
            self.db.sso[cookie_hash] = replace(found, status=ENDED)
            self.db.sso_ended.add(session_id)
            return True

    def not_ended(self, session_id: str) -> Check:
        return Check(Checked.SSO_SESSION, lambda: session_id not in self.db.sso_ended)


class MemoryPushedRequests(_MemoryStore):
    def put(self, request: PushedRequest) -> None:
        with self.db.lock:
            if request.request_hash in self.db.pushed:
                raise StoreUnavailableError(reason="par_collision")
            self.db.pushed[request.request_hash] = replace(request, params=dict(request.params))

    def get(self, request_hash: str) -> PushedRequest | None:
        with self.db.lock:
            return self.db.pushed.get(request_hash)

    def consume(self, request_hash: str, *, now: int) -> bool:
        with self.db.lock:
            found = self.db.pushed.get(request_hash)
            if found is None or not found.usable(now):
                return False
            self.db.pushed[request_hash] = replace(found, status=USED)
            return True


class MemoryConsents(_MemoryStore):
    def get(self, subject: str, client_id: str) -> Consent | None:
        with self.db.lock:
            return self.db.consents.get((subject, client_id))

    def grant(self, subject: str, client_id: str, scope: tuple[str, ...], *, now: int) -> None:
        with self.db.lock:
            before = self.db.consents.get((subject, client_id))
            merged = tuple(dict.fromkeys([*(before.scope if before else ()), *scope]))
            self.db.consents[(subject, client_id)] = Consent(subject, client_id, merged, now)


# ---------------------------------------------------------------------- the backend
class MemoryBackend:
    """One in-memory database and every store over it, on one clock."""

    def __init__(
        self, *, clock: Callable[[], float] = time.time, limits: ThrottleLimits | None = None
    ) -> None:
        self.db = MemoryDatabase()
        self.users = MemoryUsers(self.db, clock=clock)
        self.clients = MemoryClients(self.db, clock=clock)
        self.sessions = MemorySessions(self.db, clock=clock)
        self.revocations = MemoryRevocations(self.db, clock=clock)
        self.throttle = MemoryThrottle(self.db, limits=limits, clock=clock)
        self.sso = MemorySsoSessions(self.db, clock=clock)
        self.pushed = MemoryPushedRequests(self.db, clock=clock)
        self.consents = MemoryConsents(self.db, clock=clock)

    def stores(self) -> dict[str, Any]:
        """The keyword arguments ``TokenService`` takes for its stores."""
        return {
            "users": self.users,
            "clients": self.clients,
            "sessions": self.sessions,
            "revocations": self.revocations,
            "throttle": self.throttle,
        }

    def signin_stores(self) -> dict[str, Any]:
        """The keyword arguments ``AuthorizationService`` takes for its own stores."""
        return {"sso": self.sso, "pushed": self.pushed, "consents": self.consents}


# mypy proves the seam: the memory stores satisfy the same Protocols as the DynamoDB ones.
def _conforms(
    backend: MemoryBackend,
) -> tuple[Users, Clients, Sessions, Revocations, Throttle, SsoSessions, PushedRequests, Consents]:
    return (
        backend.users,
        backend.clients,
        backend.sessions,
        backend.revocations,
        backend.throttle,
        backend.sso,
        backend.pushed,
        backend.consents,
    )
