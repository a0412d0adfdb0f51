"""Refresh-token families and refresh tokens in the sessions table (hash key ``pk``).

Two item kinds (the login throttle shares the table, see ``throttle.py``):

``fam#<family_id>`` -- one login session, the authority on whether it lives.
    ``subject`` (indexed by GSI ``BySubject`` so "log out everywhere" and ``sessions list`` find
    every family of a user), ``client_id``, ``scope`` L and ``roles`` L (fixed at login; a
    refresh can only narrow scope), ``created_at``, ``expires_at`` (= created_at + absolute max
    age; rotation never extends it; also the TTL), ``idle_timeout``, ``status``
    (``active``/``revoked``), ``current`` (SHA-256 of the one live refresh token),
    ``generation``, ``last_used_at``, ``at_jti``/``at_exp`` (the newest access token: its ``exp``
    bounds the session's revocation entry, and its jti is deny-listed on revocation for tokens
    minted before access tokens carried ``sid``), ``revoked_at``/``revoked_reason``. The family id
    is also the ``sid`` claim of every access token issued from the family.

``rt#<sha256 hex of the token>`` -- one refresh token, stored only as its hash.
    A copy of what a refresh needs (``family_id``, ``client_id``, ``owner``, ``scope``,
    ``roles``, ``family_created_at`` / ``created_ms``, ``expires_at`` = family expiry,
    ``idle_expires_at``, and the versions it was minted under: the user's ``sessions_version``
    and ``privileges_version``, the client's ``client_epoch``) so the happy path costs **one
    GetItem and one TransactWriteItems**, whose condition checks compare those versions with the
    user and client items as they are now. ``status`` is ``active`` or ``used``; a used token
    keeps ``child`` (hash of its successor) and ``used_at``.

    The retry-grace response lives on the **child** (``parent``, ``grace_blob``,
    ``grace_until``, ``grace_origin``): the response that created it, sealed under a key derived
    from the parent token and a server-side secret (``auth_core.oauth.grace``). The child's own
    rotation removes it, so at most one sealed response per family exists, the newest one, and
    none can be chained to the next: a dump of this table plus an old token yields nothing.
    The owner is stored as ``owner``, not ``subject``, so token items stay out of the
    ``BySubject`` index. A token of a browser sign-in also carries what its refreshed ID tokens
    repeat (``auth_time``, ``amr``, ``sso_sid``: OpenID Connect Core §12.2).

``code#<sha256 hex of the code>`` -- one authorization code (RFC 6749 §4.1), stored only as its
    hash, with what it is bound to (``client_id``, ``redirect_uri``, ``code_challenge``,
    ``nonce``, ``scope`` L, ``owner``/``username``, the user's ``sessions_version`` at sign-in,
    ``sso_sid``, ``auth_time``, ``amr`` L, ``jkt``: the ``dpop_jkt`` of the request, RFC 9449
    §10, absent when none), ``expires_at`` (also the TTL) and ``status``
    (``active``/``used``). Redeeming it is one transaction with the creation of its family
    (:meth:`SessionStore.redeem_code`): the code item becomes ``used`` and records what was
    issued from it (``issued_family``, ``issued_jti``, ``issued_exp``), so a second redemption
    finds exactly what to revoke (RFC 6749 §4.1.2).

Families of a browser sign-in carry ``sso_sid``, the single sign-on session they were issued
under, so ending that session (RP-initiated logout) ends them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auth_core.errors import StoreUnavailableError
from auth_core.stores._dynamo import (
    Item,
    as_int,
    as_str,
    as_strs,
    dynamodb,
    put_or_conflict,
    run,
    transact_or_reasons,
    v_int,
    v_str,
    v_strs,
)
from auth_core.stores.interfaces import (
    AlreadyEnded,
    Check,
    CheckFailed,
    Committed,
    CreateOutcome,
    FamilyEnded,
    LostRace,
    RedeemOutcome,
    RevokeOutcome,
    RotateOutcome,
    Write,
)

__all__ = ["AuthorizationCode", "CodeIssue", "Family", "RefreshRecord", "SessionStore"]

ACTIVE = "active"
USED = "used"
REVOKED = "revoked"


@dataclass(frozen=True)
class Family:
    family_id: str
    subject: str
    client_id: str
    scope: tuple[str, ...]
    roles: tuple[str, ...]
    created_at: int
    expires_at: int
    idle_timeout: int
    status: str = ACTIVE
    current: str = ""
    generation: int = 0
    last_used_at: int = 0
    at_jti: str = ""
    at_exp: int = 0
    revoked_at: int = 0
    revoked_reason: str = ""
    created_ms: int = 0
    #: the single sign-on session it was issued under (browser sign-in), else empty
    sso_session_id: str = ""

    @property
    def pk(self) -> str:
        return f"fam#{self.family_id}"


@dataclass(frozen=True)
class RefreshRecord:
    token_hash: str
    family_id: str
    client_id: str
    subject: str
    scope: tuple[str, ...]
    roles: tuple[str, ...]
    family_created_at: int
    expires_at: int
    issued_at: int
    idle_expires_at: int
    idle_timeout: int
    generation: int
    status: str = ACTIVE
    child: str = ""
    used_at: int = 0
    created_ms: int = 0
    sessions_version: int = 0
    privileges_version: int = 0
    client_epoch: int = 0
    parent: str = ""
    grace_until: int = 0
    grace_blob: str = ""
    grace_origin: str = ""
    #: the users-table key of the owner (its canonical username) for the refresh's user check;
    #: ``subject`` is the owner's opaque user id (records from before ids: both the username)
    username: str = ""
    #: browser sign-in only (what refreshed ID tokens repeat): when and how the user
    #: authenticated, and the single sign-on session
    auth_time: int = 0
    amr: tuple[str, ...] = ()
    sso_session_id: str = ""
    #: the RFC 7638 thumbprint of the DPoP key a public client's family is bound to (RFC 9449
    #: §5): every refresh must carry a proof by that key. Empty: not bound.
    jkt: str = ""

    @property
    def pk(self) -> str:
        return f"rt#{self.token_hash}"

    @property
    def user_key(self) -> str:
        return self.username or self.subject

    @property
    def session_created_ms(self) -> int:
        """When the session began, in ms (records from before ``created_ms``: its seconds)."""
        return self.created_ms or self.family_created_at * 1000


@dataclass(frozen=True)
class AuthorizationCode:
    """An authorization code as stored (only its hash), with everything it is bound to.

    :ivar issued_family: / :ivar issued_jti: / :ivar issued_exp: what its redemption issued (the
        refresh-token family, else the access token's jti and ``exp``): a second redemption
        revokes them.
    """

    code_hash: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: tuple[str, ...]
    subject: str
    username: str
    sessions_version: int
    sso_session_id: str
    auth_time: int
    expires_at: int
    created_at: int
    amr: tuple[str, ...] = ("pwd",)
    nonce: str = ""
    #: the DPoP key thumbprint the request bound the code to (``dpop_jkt``, RFC 9449 §10); ""
    dpop_jkt: str = ""
    status: str = ACTIVE
    used_at: int = 0
    issued_family: str = ""
    issued_jti: str = ""
    issued_exp: int = 0

    @property
    def pk(self) -> str:
        return f"code#{self.code_hash}"


@dataclass(frozen=True)
class CodeIssue:
    """What a redemption issued, recorded on the code in the redemption's own transaction."""

    family_id: str
    at_jti: str
    at_exp: int


def _outcome(
    reasons: list[str] | None,
    own: int,
    checks: list[Check],
    *,
    parent_at: int | None = None,
    family_at: int | None = None,
) -> RotateOutcome:
    """Map a transaction's cancellation codes (``own`` items of the store first, then
    ``checks``) to an outcome."""
    if reasons is None:
        return Committed()
    for check, code in zip(checks, reasons[own:], strict=False):
        if code == "ConditionalCheckFailed":
            return CheckFailed(check.what)
    if "TransactionConflict" in reasons or (
        parent_at is not None and reasons[parent_at] == "ConditionalCheckFailed"
    ):
        return LostRace()
    if family_at is not None and reasons[family_at] == "ConditionalCheckFailed":
        return FamilyEnded()
    return LostRace()


def _items(steps: list[Check] | list[Write]) -> list[Item]:
    """The DynamoDB items of steps made by the DynamoDB stores (another backend's: a bug)."""
    items = [step.payload for step in steps]
    if not all(isinstance(item, dict) for item in items):
        raise TypeError("a step of another store backend in a DynamoDB transaction")
    return items


class SessionStore:
    """Item I/O for families and refresh tokens; the rotation rules live in ``oauth.refresh``."""

    def __init__(self, table: str, *, client: Any | None = None) -> None:
        self.table = table
        self._client = client

    @property
    def ddb(self) -> Any:
        return dynamodb(self._client)

    # ------------------------------------------------------------------ reads
    def get_token(self, token_hash: str) -> RefreshRecord | None:
        """The refresh-token record for a hash (strongly consistent), or ``None``.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        response = run(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key={"pk": v_str(f"rt#{token_hash}")},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _record(item) if item and as_str(item, "kind") == "rt" else None

    def get_family(self, family_id: str) -> Family | None:
        """The family (strongly consistent), or ``None``.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        response = run(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key={"pk": v_str(f"fam#{family_id}")},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _family(item) if item and as_str(item, "kind") == "fam" else None

    def families_of_sso(self, subject: str, sso_session_id: str) -> list[Family]:
        """The families of ``subject`` issued under one single sign-on session (eventually consistent).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        return [f for f in self.families_of(subject) if f.sso_session_id == sso_session_id]

    def families_of(self, subject: str) -> list[Family]:
        """Every family of ``subject`` (all pages of the ``BySubject`` index; eventually consistent).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        found: list[Family] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "BySubject",
            "KeyConditionExpression": "subject = :s AND begins_with(pk, :f)",
            "ExpressionAttributeValues": {":s": v_str(subject), ":f": v_str("fam#")},
        }
        while True:
            page = run(self.ddb, "query", **kwargs)
            found.extend(_family(i) for i in page.get("Items", []) if as_str(i, "kind") == "fam")
            last = page.get("LastEvaluatedKey")
            if not last:
                return found
            kwargs["ExclusiveStartKey"] = last

    # ------------------------------------------------------------------ writes
    def create(self, family: Family, token: RefreshRecord, *, checks: list[Check]) -> CreateOutcome:
        """Write a new family with its first refresh token, atomically with ``checks`` (the user
        and client checks: a reset or disable that committed first fails the login).

        :returns: :class:`Committed`, or :class:`CheckFailed` naming the first check that failed.
        :raises StoreUnavailableError: DynamoDB failed (a collision of 128/256-bit random
            ids is treated as a failure too, never as an overwrite).
        """
        reasons = transact_or_reasons(self.ddb, [*self._new_family(family, token), *_items(checks)])
        outcome = _outcome(reasons, 2, checks)
        if isinstance(outcome, Committed | CheckFailed):
            return outcome
        raise StoreUnavailableError(reason="session_create_conflict")

    def _new_family(self, family: Family, token: RefreshRecord) -> list[Item]:
        return [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _family_item(family),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _record_item(token),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]

    # ------------------------------------------------------------------ authorization codes
    def put_code(self, code: AuthorizationCode) -> None:
        """Store a new code (a collision of 256-bit random values is a failure, never an overwrite).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        done = put_or_conflict(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item=_code_item(code),
            ConditionExpression="attribute_not_exists(pk)",
        )
        if done is None:
            raise StoreUnavailableError(reason="code_collision")

    def get_code(self, code_hash: str) -> AuthorizationCode | None:
        """The code for a hash (strongly consistent), or ``None``.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        response = run(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key={"pk": v_str(f"code#{code_hash}")},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _code(item) if item and as_str(item, "kind") == "code" else None

    def redeem_code(
        self,
        code: AuthorizationCode,
        issued: CodeIssue,
        *,
        now: int,
        family: tuple[Family, RefreshRecord] | None,
        checks: list[Check],
    ) -> RedeemOutcome:
        """The one write of a code redemption: the code ``active`` (and unexpired) → ``used``,
        recording ``issued``; the new family with its first refresh token (when there is one);
        ``checks`` (the user and the client as read) -- all in one ``TransactWriteItems``.

        :returns: :class:`Committed`; :class:`CheckFailed` (the first failed check);
            :class:`LostRace` (the code was redeemed, or expired, first: nothing was written).
        :raises StoreUnavailableError: DynamoDB failed otherwise (or a random id collided).
        """
        update: Item = {
            "Update": {
                "TableName": self.table,
                "Key": {"pk": v_str(code.pk)},
                "UpdateExpression": "SET #st = :used, used_at = :now, issued_family = :fam, "
                "issued_jti = :jti, issued_exp = :exp",
                "ConditionExpression": "attribute_exists(pk) AND #st = :active AND expires_at > :now",
                "ExpressionAttributeNames": {"#st": "status"},
                "ExpressionAttributeValues": {
                    ":used": v_str(USED),
                    ":active": v_str(ACTIVE),
                    ":now": v_int(now),
                    ":fam": v_str(issued.family_id),
                    ":jti": v_str(issued.at_jti),
                    ":exp": v_int(issued.at_exp),
                },
            }
        }
        own = [update, *(self._new_family(*family) if family is not None else [])]
        reasons = transact_or_reasons(self.ddb, [*own, *_items(checks)])
        if reasons is None:
            return Committed()
        for check, code_ in zip(checks, reasons[len(own) :], strict=False):
            if code_ == "ConditionalCheckFailed":
                return CheckFailed(check.what)
        if reasons[0] != "None" or "TransactionConflict" in reasons:
            return LostRace()
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
        """The one write of a refresh: parent active→used (its own sealed grace response
        removed), child put (carrying the new one), family ``current`` moved parent→child, plus
        ``checks`` (user, client and global cut-off), all in one ``TransactWriteItems``.

        :returns: :class:`Committed`; :class:`CheckFailed` (the first failed check);
            :class:`LostRace` (the parent is no longer ``active``, or another transaction
            touched these items at the same moment); :class:`FamilyEnded` (revoked, expired,
            or moved on to another token).
        :raises StoreUnavailableError: DynamoDB failed otherwise.
        """
        items: list[Item] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": v_str(parent.pk)},
                    "UpdateExpression": "SET #st = :used, child = :child, used_at = :now "
                    "REMOVE grace_blob, grace_origin",
                    "ConditionExpression": "#st = :active",
                    "ExpressionAttributeNames": {"#st": "status"},
                    "ExpressionAttributeValues": {
                        ":used": v_str(USED),
                        ":active": v_str(ACTIVE),
                        ":child": v_str(child.token_hash),
                        ":now": v_int(now),
                    },
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _record_item(child),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": v_str(f"fam#{parent.family_id}")},
                    "UpdateExpression": "SET #cur = :child, generation = :gen, last_used_at = :now, "
                    "at_jti = :jti, at_exp = :atexp",
                    "ConditionExpression": "#st = :active AND #cur = :parent AND expires_at > :now",
                    "ExpressionAttributeNames": {"#st": "status", "#cur": "current"},
                    "ExpressionAttributeValues": {
                        ":active": v_str(ACTIVE),
                        ":child": v_str(child.token_hash),
                        ":parent": v_str(parent.token_hash),
                        ":gen": v_int(child.generation),
                        ":now": v_int(now),
                        ":jti": v_str(at_jti),
                        ":atexp": v_int(at_exp),
                    },
                }
            },
            *_items(checks),
        ]
        return _outcome(transact_or_reasons(self.ddb, items), 3, checks, parent_at=0, family_at=2)

    def drop_grace(self, token_hash: str) -> None:
        """Remove a sealed grace response whose window has closed (best effort, idempotent)."""
        run(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key={"pk": v_str(f"rt#{token_hash}")},
            UpdateExpression="REMOVE grace_blob, grace_origin",
        )

    def revoke_family(self, family_id: str, *, now: int, reason: str, writes: list[Write]) -> RevokeOutcome:
        """Mark a family revoked, and apply ``writes`` (the revocations-table entries that refuse
        its access tokens) in the same ``TransactWriteItems``: a session is never revoked without
        its access tokens, even if the caller dies half-way.

        :returns: :class:`Committed` if this call revoked the family; :class:`AlreadyEnded` when
            it was already revoked or does not exist; :class:`LostRace` when a refresh touched it
            at that very moment.
        :raises StoreUnavailableError: DynamoDB failed otherwise.
        """
        update: Item = {
            "Update": {
                "TableName": self.table,
                "Key": {"pk": v_str(f"fam#{family_id}")},
                "UpdateExpression": "SET #st = :revoked, revoked_at = :now, revoked_reason = :why",
                "ConditionExpression": "attribute_exists(pk) AND #st = :active",
                "ExpressionAttributeNames": {"#st": "status"},
                "ExpressionAttributeValues": {
                    ":revoked": v_str(REVOKED),
                    ":active": v_str(ACTIVE),
                    ":now": v_int(now),
                    ":why": v_str(reason),
                },
            }
        }
        reasons = transact_or_reasons(self.ddb, [update, *_items(writes)])
        if reasons is None:
            return Committed()
        if reasons[0] == "ConditionalCheckFailed":
            return AlreadyEnded()
        return LostRace()


# ---------------------------------------------------------------------- codecs
def _family_item(f: Family) -> Item:
    return {
        "pk": v_str(f.pk),
        "kind": v_str("fam"),
        "family_id": v_str(f.family_id),
        "subject": v_str(f.subject),
        "client_id": v_str(f.client_id),
        "scope": v_strs(f.scope),
        "roles": v_strs(f.roles),
        "created_at": v_int(f.created_at),
        "expires_at": v_int(f.expires_at),
        "idle_timeout": v_int(f.idle_timeout),
        "status": v_str(f.status),
        "current": v_str(f.current),
        "generation": v_int(f.generation),
        "last_used_at": v_int(f.last_used_at),
        "at_jti": v_str(f.at_jti),
        "at_exp": v_int(f.at_exp),
        "created_ms": v_int(f.created_ms),
        **({"sso_sid": v_str(f.sso_session_id)} if f.sso_session_id else {}),
    }


def _family(item: Item) -> Family:
    return Family(
        family_id=as_str(item, "family_id"),
        subject=as_str(item, "subject"),
        client_id=as_str(item, "client_id"),
        scope=as_strs(item, "scope"),
        roles=as_strs(item, "roles"),
        created_at=as_int(item, "created_at"),
        expires_at=as_int(item, "expires_at"),
        idle_timeout=as_int(item, "idle_timeout"),
        status=as_str(item, "status"),
        current=as_str(item, "current"),
        generation=as_int(item, "generation"),
        last_used_at=as_int(item, "last_used_at"),
        at_jti=as_str(item, "at_jti"),
        at_exp=as_int(item, "at_exp"),
        revoked_at=as_int(item, "revoked_at"),
        revoked_reason=as_str(item, "revoked_reason"),
        created_ms=as_int(item, "created_ms"),
        sso_session_id=as_str(item, "sso_sid"),
    )


def _record_item(r: RefreshRecord) -> Item:
    item: Item = {
        "pk": v_str(r.pk),
        "kind": v_str("rt"),
        "family_id": v_str(r.family_id),
        "client_id": v_str(r.client_id),
        "owner": v_str(r.subject),
        "scope": v_strs(r.scope),
        "roles": v_strs(r.roles),
        "family_created_at": v_int(r.family_created_at),
        "expires_at": v_int(r.expires_at),
        "issued_at": v_int(r.issued_at),
        "idle_expires_at": v_int(r.idle_expires_at),
        "idle_timeout": v_int(r.idle_timeout),
        "generation": v_int(r.generation),
        "status": v_str(r.status),
        "created_ms": v_int(r.created_ms),
        "sessions_version": v_int(r.sessions_version),
        "privileges_version": v_int(r.privileges_version),
        "client_epoch": v_int(r.client_epoch),
    }
    if r.username:
        item["username"] = v_str(r.username)
    if r.parent:
        item["parent"] = v_str(r.parent)
    if r.auth_time:
        item["auth_time"] = v_int(r.auth_time)
        item["amr"] = v_strs(r.amr)
        item["sso_sid"] = v_str(r.sso_session_id)
    if r.jkt:
        item["jkt"] = v_str(r.jkt)
    if r.grace_blob:
        item["grace_blob"] = v_str(r.grace_blob)
        item["grace_until"] = v_int(r.grace_until)
        item["grace_origin"] = v_str(r.grace_origin)
    return item


def _record(item: Item) -> RefreshRecord:
    return RefreshRecord(
        token_hash=as_str(item, "pk").removeprefix("rt#"),
        family_id=as_str(item, "family_id"),
        client_id=as_str(item, "client_id"),
        subject=as_str(item, "owner"),
        scope=as_strs(item, "scope"),
        roles=as_strs(item, "roles"),
        family_created_at=as_int(item, "family_created_at"),
        expires_at=as_int(item, "expires_at"),
        issued_at=as_int(item, "issued_at"),
        idle_expires_at=as_int(item, "idle_expires_at"),
        idle_timeout=as_int(item, "idle_timeout"),
        generation=as_int(item, "generation"),
        status=as_str(item, "status"),
        child=as_str(item, "child"),
        used_at=as_int(item, "used_at"),
        created_ms=as_int(item, "created_ms"),
        sessions_version=as_int(item, "sessions_version"),
        privileges_version=as_int(item, "privileges_version"),
        client_epoch=as_int(item, "client_epoch"),
        parent=as_str(item, "parent"),
        grace_until=as_int(item, "grace_until"),
        grace_blob=as_str(item, "grace_blob"),
        grace_origin=as_str(item, "grace_origin"),
        username=as_str(item, "username"),
        auth_time=as_int(item, "auth_time"),
        amr=as_strs(item, "amr"),
        sso_session_id=as_str(item, "sso_sid"),
        jkt=as_str(item, "jkt"),
    )


def _code_item(c: AuthorizationCode) -> Item:
    return {
        "pk": v_str(c.pk),
        "kind": v_str("code"),
        "client_id": v_str(c.client_id),
        "redirect_uri": v_str(c.redirect_uri),
        "code_challenge": v_str(c.code_challenge),
        "nonce": v_str(c.nonce),
        "scope": v_strs(c.scope),
        "owner": v_str(c.subject),
        "username": v_str(c.username),
        "sessions_version": v_int(c.sessions_version),
        "sso_sid": v_str(c.sso_session_id),
        "auth_time": v_int(c.auth_time),
        "amr": v_strs(c.amr),
        "expires_at": v_int(c.expires_at),
        "created_at": v_int(c.created_at),
        "status": v_str(c.status),
        **({"jkt": v_str(c.dpop_jkt)} if c.dpop_jkt else {}),
    }


def _code(item: Item) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=as_str(item, "pk").removeprefix("code#"),
        client_id=as_str(item, "client_id"),
        redirect_uri=as_str(item, "redirect_uri"),
        code_challenge=as_str(item, "code_challenge"),
        nonce=as_str(item, "nonce"),
        dpop_jkt=as_str(item, "jkt"),
        scope=as_strs(item, "scope"),
        subject=as_str(item, "owner"),
        username=as_str(item, "username"),
        sessions_version=as_int(item, "sessions_version"),
        sso_session_id=as_str(item, "sso_sid"),
        auth_time=as_int(item, "auth_time"),
        amr=as_strs(item, "amr"),
        expires_at=as_int(item, "expires_at"),
        created_at=as_int(item, "created_at"),
        status=as_str(item, "status"),
        used_at=as_int(item, "used_at"),
        issued_family=as_str(item, "issued_family"),
        issued_jti=as_str(item, "issued_jti"),
        issued_exp=as_int(item, "issued_exp"),
    )
