"""Second-factor items: a user's enrolment (users table) and pending sign-ins (sessions table).

Users table, on the user's own item (so deleting the user deletes them):

``mfa`` S             the user's policy (``off``/``optional``/``required``; absent: optional)
``mfa_totp_secret`` S the TOTP secret, base32 (encrypted at rest by DynamoDB; see the threat model)
``mfa_totp_step`` N   the last time step a code was accepted for: only later steps are accepted
``mfa_recovery`` M    hash of each unused recovery code -> 1; a use removes its entry

Every use is one conditional write inside the sign-in's transaction
(:meth:`MfaStore.use_step`, :meth:`MfaStore.use_recovery_code`, :meth:`MfaStore.enrol`): two
concurrent submissions of one code cannot both pass, because the second one's condition
(``mfa_totp_step < :step``, ``attribute_exists(mfa_recovery.#h)``) is false once the first commits.

Sessions table: ``mfa#<sha256 hex of the ticket>`` -- a sign-in whose password was right and
which waits for its second factor: ``username``, ``owner`` (user id), ``sessions_version``,
``client_id``, ``request`` (hash of the authorization request's fields), ``browser`` (hash of the
browser's CSRF secret), ``mode`` (``verify``/``enrol``), for ``enrol`` the new secret and
recovery codes (cleared when the ticket is used), ``attempts``, ``expires_at`` (also the TTL),
``status`` (``active``/``used``). Single use: completing it is a condition of the transaction
that creates the SSO session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auth_core.errors import StoreUnavailableError
from auth_core.stores._dynamo import (
    Item,
    TableStore,
    as_int,
    as_str,
    as_strs,
    put_or_conflict,
    run,
    transact_or_reasons,
    v_bool,
    v_int,
    v_str,
    v_strs,
)
from auth_core.stores.interfaces import Check, Checked, CheckFailed, Committed, LostRace, Write

__all__ = ["MfaState", "MfaStore", "PendingMfa", "PendingMfaStore"]

ACTIVE, USED = "active", "used"
VERIFY, ENROL = "verify", "enrol"
_FIELDS = "mfa, mfa_totp_secret, mfa_totp_step, mfa_recovery"


@dataclass(frozen=True)
class MfaState:
    """A user's second-factor state (``secret`` is only for verification: never shown or logged)."""

    policy: str = ""
    secret: str = ""
    last_step: int = 0
    recovery_left: int = 0
    recovery_hashes: frozenset[str] = frozenset()

    @property
    def enrolled(self) -> bool:
        return bool(self.secret)

    def __repr__(self) -> str:  # never the secret
        return (
            f"MfaState(policy={self.policy!r}, enrolled={self.enrolled}, recovery_left={self.recovery_left})"
        )


class MfaStore(TableStore):
    """The MFA attributes of users' items (the users table, keyed by the canonical username)."""

    @staticmethod
    def key(username: str) -> dict[str, Any]:
        return {"username": v_str(username)}

    def get(self, username: str) -> MfaState:
        """The user's state (strongly consistent); an unknown user reads as not enrolled."""
        item = run(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key=self.key(username),
            ConsistentRead=True,
            ProjectionExpression=_FIELDS,
        ).get("Item")
        if not item:
            return MfaState()
        recovery = (item.get("mfa_recovery") or {}).get("M") or {}
        return MfaState(
            policy=as_str(item, "mfa"),
            secret=as_str(item, "mfa_totp_secret"),
            last_step=as_int(item, "mfa_totp_step"),
            recovery_left=len(recovery),
            recovery_hashes=frozenset(recovery),
        )

    def set_policy(self, username: str, policy: str) -> bool:
        """``False`` if there is no such user."""
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key=self.key(username),
            UpdateExpression="SET mfa = :p",
            ConditionExpression="attribute_exists(username)",
            ExpressionAttributeValues={":p": v_str(policy)},
        )
        return done is not None

    def reset(self, username: str) -> bool:
        """Remove the TOTP secret and every recovery code; ``False`` if there is no such user."""
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key=self.key(username),
            UpdateExpression="REMOVE mfa_totp_secret, mfa_totp_step, mfa_recovery",
            ConditionExpression="attribute_exists(username)",
        )
        return done is not None

    # ------------------------------------------------------------------ the transaction's parts
    def use_step(self, username: str, step: int, *, sessions_version: int) -> Check:
        """Accept a TOTP code of ``step``: only if it is later than every step used before (and
        the user is still enabled with the ``sessions_version`` read at the password)."""
        return self._update(
            username,
            "SET mfa_totp_step = :step",
            "attribute_exists(mfa_totp_secret) AND "
            "(attribute_not_exists(mfa_totp_step) OR mfa_totp_step < :step)",
            {":step": v_int(step)},
            sessions_version,
        )

    def use_recovery_code(self, username: str, code_hash: str, *, sessions_version: int) -> Check:
        """Spend one recovery code: only if it is still there."""
        return self._update(
            username,
            "REMOVE mfa_recovery.#h",
            "attribute_exists(mfa_recovery.#h)",
            {},
            sessions_version,
            names={"#h": code_hash},
        )

    def enrol(
        self, username: str, secret: str, step: int, recovery_hashes: list[str], *, sessions_version: int
    ) -> Check:
        """Store a confirmed enrolment (its confirming code's ``step`` counts as used): only if
        the user has none yet."""
        return self._update(
            username,
            "SET mfa_totp_secret = :secret, mfa_totp_step = :step, mfa_recovery = :codes",
            "attribute_not_exists(mfa_totp_secret)",
            {
                ":secret": v_str(secret),
                ":step": v_int(step),
                ":codes": {"M": {h: {"N": "1"} for h in recovery_hashes}},
            },
            sessions_version,
        )

    def replace_recovery_codes(
        self, username: str, step: int, recovery_hashes: list[str], *, sessions_version: int
    ) -> Check:
        """New recovery codes for an enrolled user, confirmed by a TOTP code of ``step`` (which
        counts as used, as at a sign-in): the old codes are gone in the same write."""
        return self._update(
            username,
            "SET mfa_totp_step = :step, mfa_recovery = :codes",
            "attribute_exists(mfa_totp_secret) AND "
            "(attribute_not_exists(mfa_totp_step) OR mfa_totp_step < :step)",
            {":step": v_int(step), ":codes": {"M": {h: {"N": "1"} for h in recovery_hashes}}},
            sessions_version,
        )

    def commit(self, factor: Check, session: Check) -> Committed | CheckFailed | LostRace:
        """One transaction of an MFA change outside sign-in and the SSO session it is made under
        (:meth:`auth_core.stores.signin.SsoSessionStore.touch_check`)."""
        reasons = transact_or_reasons(self.ddb, [factor.payload, session.payload])
        if reasons is None:
            return Committed()
        if reasons[0] == "ConditionalCheckFailed":
            return CheckFailed(factor.what)
        if reasons[1] == "ConditionalCheckFailed":
            return CheckFailed(session.what)
        return LostRace()

    def _update(
        self,
        username: str,
        update: str,
        condition: str,
        values: Item,
        sessions_version: int,
        names: dict[str, str] | None = None,
    ) -> Check:
        version = (
            "(attribute_not_exists(sessions_version) OR sessions_version = :sv)"
            if sessions_version == 0
            else "sessions_version = :sv"
        )
        body: Item = {
            "TableName": self.table,
            "Key": self.key(username),
            "UpdateExpression": update,
            "ConditionExpression": f"{condition} AND enabled = :t AND {version}",
            "ExpressionAttributeValues": {**values, ":t": v_bool(True), ":sv": v_int(sessions_version)},
        }
        if names:
            body["ExpressionAttributeNames"] = names
        return Check(Checked.MFA, {"Update": body})


@dataclass(frozen=True)
class PendingMfa:
    """A sign-in waiting for its second factor (see the module docstring)."""

    ticket_hash: str
    username: str
    subject: str
    sessions_version: int
    client_id: str
    request_hash: str
    browser_hash: str
    mode: str
    expires_at: int
    attempts: int = 0
    status: str = ACTIVE
    enrol_secret: str = ""
    enrol_codes: tuple[str, ...] = ()

    def usable(self, now: int, max_attempts: int) -> bool:
        return self.status == ACTIVE and now < self.expires_at and self.attempts < max_attempts

    def __repr__(self) -> str:  # never the enrolment secret or codes
        return f"PendingMfa(mode={self.mode!r}, client_id={self.client_id!r}, attempts={self.attempts})"


class PendingMfaStore(TableStore):
    """``mfa#`` items of the sessions table."""

    def put(self, pending: PendingMfa) -> None:
        """:raises StoreUnavailableError: DynamoDB failed (or 256 random bits collided)."""
        item: Item = {
            "pk": v_str(f"mfa#{pending.ticket_hash}"),
            "kind": v_str("mfa"),
            "username": v_str(pending.username),
            "owner": v_str(pending.subject),
            "sessions_version": v_int(pending.sessions_version),
            "client_id": v_str(pending.client_id),
            "request": v_str(pending.request_hash),
            "browser": v_str(pending.browser_hash),
            "mode": v_str(pending.mode),
            "expires_at": v_int(pending.expires_at),
            "attempts": v_int(pending.attempts),
            "status": v_str(pending.status),
        }
        if pending.enrol_secret:
            item["enrol_secret"] = v_str(pending.enrol_secret)
            item["enrol_codes"] = v_strs(pending.enrol_codes)
        done = put_or_conflict(
            self.ddb,
            "put_item",
            TableName=self.table,
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
        )
        if done is None:
            raise StoreUnavailableError(reason="mfa_collision")

    def get(self, ticket_hash: str) -> PendingMfa | None:
        item = run(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key={"pk": v_str(f"mfa#{ticket_hash}")},
            ConsistentRead=True,
        ).get("Item")
        if not item or as_str(item, "kind") != "mfa":
            return None
        return PendingMfa(
            ticket_hash=ticket_hash,
            username=as_str(item, "username"),
            subject=as_str(item, "owner"),
            sessions_version=as_int(item, "sessions_version"),
            client_id=as_str(item, "client_id"),
            request_hash=as_str(item, "request"),
            browser_hash=as_str(item, "browser"),
            mode=as_str(item, "mode"),
            expires_at=as_int(item, "expires_at"),
            attempts=as_int(item, "attempts"),
            status=as_str(item, "status"),
            enrol_secret=as_str(item, "enrol_secret"),
            enrol_codes=as_strs(item, "enrol_codes"),
        )

    def fail(self, ticket_hash: str, *, now: int, max_attempts: int) -> bool:
        """Count a wrong code; ``False`` when the ticket is (now) unusable: it was already, or
        this was its last attempt."""
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key={"pk": v_str(f"mfa#{ticket_hash}")},
            UpdateExpression="SET attempts = attempts + :one",
            ConditionExpression="#st = :active AND expires_at > :now AND attempts < :max",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={
                ":one": v_int(1),
                ":active": v_str(ACTIVE),
                ":now": v_int(now),
                ":max": v_int(max_attempts),
            },
            ReturnValues="UPDATED_NEW",
        )
        return done is not None and as_int(done.get("Attributes") or {}, "attempts") < max_attempts

    def complete(
        self, ticket_hash: str, *, now: int, max_attempts: int, factor: Check, session: Write | Check
    ) -> Committed | CheckFailed | LostRace:
        """One transaction: the ticket is used up (only if still active, unexpired, not out of
        attempts), ``factor`` (the code's conditional write) and ``session`` (the new SSO
        session) are written. ``LostRace``: the ticket was used, expired or failed meanwhile;
        ``CheckFailed(MFA)``: the code was used meanwhile (or the user changed). ``session`` is a new
        SSO session (a sign-in) or the check of the live one (a self-service enrolment)."""
        items = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": v_str(f"mfa#{ticket_hash}")},
                    "UpdateExpression": "SET #st = :used, used_at = :now REMOVE enrol_secret, enrol_codes",
                    "ConditionExpression": "#st = :active AND expires_at > :now AND attempts < :max",
                    "ExpressionAttributeNames": {"#st": "status"},
                    "ExpressionAttributeValues": {
                        ":used": v_str(USED),
                        ":active": v_str(ACTIVE),
                        ":now": v_int(now),
                        ":max": v_int(max_attempts),
                    },
                }
            },
            factor.payload,
            session.payload,
        ]
        reasons = transact_or_reasons(self.ddb, items)
        if reasons is None:
            return Committed()
        if reasons[0] == "ConditionalCheckFailed":
            return LostRace()
        if reasons[1] == "ConditionalCheckFailed":
            return CheckFailed(factor.what)
        return LostRace()  # a TransactionConflict: the caller re-reads
