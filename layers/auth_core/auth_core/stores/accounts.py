"""Self-service accounts' items in the sessions table (hash key ``pk``), and the one transaction
that makes a verified email unique.

``signup#<email key>`` -- one pending sign-up: the user to create (``username``, ``email``,
    ``password_hash``, ``name`` / ``given_name`` / ``family_name``, ``attrs`` M, ``scopes`` L),
    ``client_id``,
    ``code_hash`` (SHA-256 of the code: the code itself is never stored), ``attempts`` N,
    ``expires_at`` (also the TTL). No user exists until the code is given back
    (:meth:`AccountStore.complete_signup`): an unverified address holds no account and blocks
    nobody. A new sign-up for the address replaces the item (a new code; the old one is void).

``reset#<email key>`` -- one pending password reset: ``username``, ``user_id``,
    ``sessions_version`` (the user's when the code was issued: the reset is written only while
    the user still has it), ``code_hash``, ``attempts``, ``expires_at`` (TTL).

``email#<email key>`` -- the claim on a *verified* address: ``owner`` (the user id) and
    ``username``. Written only in a transaction with the user item (``email`` /
    ``email_verified``), on the condition that no one else holds it: two users can never both
    have one verified address, whatever the interleaving. No TTL.

The email key is :func:`auth_core.emails.email_key` (a hash: no address in a key). A code is
spent by one conditional write that counts the attempt (``attempts < max`` and unexpired) and
then, if it matched, by a write conditional on that count and hash: a code is used at most once,
and no more than ``max`` guesses are ever compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from auth_core.emails import email_key
from auth_core.errors import AlreadyExistsError
from auth_core.stores._dynamo import (
    Item,
    TableStore,
    as_int,
    as_str,
    put_or_conflict,
    run,
    transact_or_reasons,
    v_bool,
    v_int,
    v_str,
    v_strs,
)
from auth_core.stores.users import User, UserStore

__all__ = ["RESET", "SIGNUP", "AccountStore", "EmailClaim", "PendingCode"]

SIGNUP = "signup"
RESET = "reset"
_PROFILE = ("username", "email", "password_hash", "name", "given_name", "family_name")


@dataclass(frozen=True)
class PendingCode:
    """A code waiting to be given back: what it was issued for, and how often it was tried."""

    purpose: str
    email_key: str
    code_hash: str
    expires_at: int
    attempts: int = 0
    client_id: str = ""
    #: sign-up: the user to create (no ``user_id`` yet); reset: the user it resets
    user: User = field(default_factory=lambda: User(username="", password_hash=""))
    #: reset: the user's ``sessions_version`` when the code was issued
    sessions_version: int = 0


@dataclass(frozen=True)
class EmailClaim:
    owner: str
    username: str


class AccountStore(TableStore):
    """The items above; ``users`` is the users table's store (the same transactions)."""

    def __init__(self, table: str, users: UserStore, **kwargs: Any) -> None:
        super().__init__(table, **kwargs)
        self.users = users

    # ------------------------------------------------------------------ codes
    def put_code(self, code: PendingCode) -> None:
        """Store ``code``, replacing any earlier one for the same purpose and address."""
        item: Item = {
            **_key(code.purpose, code.email_key),
            "kind": v_str(code.purpose),
            "code_hash": v_str(code.code_hash),
            "attempts": v_int(0),
            "expires_at": v_int(code.expires_at),
            "sessions_version": v_int(code.sessions_version),
        }
        if code.client_id:
            item["client_id"] = v_str(code.client_id)
        if code.user.user_id:
            item["user_id"] = v_str(code.user.user_id)
        for name in _PROFILE:
            if getattr(code.user, name):
                item[name] = v_str(getattr(code.user, name))
        if code.user.attributes:
            item["attrs"] = {"M": {k: v_str(v) for k, v in code.user.attributes}}
        if code.user.scopes:
            item["scopes"] = v_strs(code.user.scopes)
        run(self.ddb, "put_item", TableName=self.table, Item=item)

    def spend_attempt(
        self, purpose: str, email_key: str, *, now: int, max_attempts: int
    ) -> PendingCode | None:
        """Count one attempt at the code for ``email_key``: the code as it is now, or ``None``
        when there is none, it expired, or its attempts are used up (nothing is counted then)."""
        done = put_or_conflict(
            self.ddb,
            "update_item",
            TableName=self.table,
            Key=_key(purpose, email_key),
            UpdateExpression="ADD attempts :one",
            ConditionExpression="attribute_exists(pk) AND expires_at > :now AND attempts < :max",
            ExpressionAttributeValues={":one": v_int(1), ":now": v_int(now), ":max": v_int(max_attempts)},
            ReturnValues="ALL_NEW",
        )
        return _code(purpose, email_key, done["Attributes"]) if done is not None else None

    def consume(self, code: PendingCode) -> bool:
        """Delete the code, only if it is still the one ``code`` was read as (same hash, no
        attempt since): ``False`` when another request used or replaced it meanwhile."""
        done = put_or_conflict(
            self.ddb,
            "delete_item",
            TableName=self.table,
            Key=_key(code.purpose, code.email_key),
            **_unchanged(code),
        )
        return done is not None

    def complete_signup(self, code: PendingCode) -> User | None:
        """One transaction: the code consumed (unchanged since read), the user created (the
        username free) and its verified email claimed (no one holds it).

        :returns: the user created; ``None`` when the code was used or replaced meanwhile.
        :raises AlreadyExistsError: the username or the address was taken meanwhile (reason
            ``user_exists`` / ``email_taken``); nothing was written.
        """
        user_item = self.users.new_item(replace(code.user, email_verified=True, enabled=True))
        user = _decode_user(user_item)
        items: list[Item] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": _key(code.purpose, code.email_key),
                    **_unchanged(code),
                }
            },
            {
                "Put": {
                    "TableName": self.users.table,
                    "Item": user_item,
                    "ConditionExpression": "attribute_not_exists(username)",
                }
            },
            self._claim_put(code.email_key, user),
        ]
        reasons = transact_or_reasons(self.ddb, items)
        if reasons is None:
            return user
        if reasons[1] == "ConditionalCheckFailed":
            raise AlreadyExistsError("user exists", reason="user_exists")
        if reasons[2] == "ConditionalCheckFailed":
            raise AlreadyExistsError("email taken", reason="email_taken")
        return None  # the code was used or replaced meanwhile (or a concurrent transaction)

    # ------------------------------------------------------------------ verified emails
    def owner_of(self, email_key: str) -> EmailClaim | None:
        """Who holds the verified address, or ``None`` (strongly consistent)."""
        item = run(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key={"pk": v_str(f"email#{email_key}")},
            ConsistentRead=True,
        ).get("Item")
        return EmailClaim(as_str(item, "owner"), as_str(item, "username")) if item else None

    def set_email(
        self, user: User, email: str, email_key: str, *, verified: bool, old_key: str | None
    ) -> None:
        """Give ``user`` (as read) the address ``email``, verified or not, in one transaction:
        a verified one is claimed (no one else may hold it), the user's previous claim
        (``old_key``) released when it changes, and the user item updated only while it is still
        the user read (same ``user_id``).

        :raises AlreadyExistsError: another user holds the verified address (``email_taken``),
            or the user changed meanwhile (``user_changed``).
        """
        update: Item = {
            "Update": {
                "TableName": self.users.table,
                "Key": self.users.key(user.username),
                "UpdateExpression": "SET email = :e, email_verified = :v, updated_at = :now",
                "ConditionExpression": "user_id = :id",
                "ExpressionAttributeValues": {
                    ":e": v_str(email),
                    ":v": v_bool(verified),
                    ":id": v_str(user.user_id),
                    ":now": v_int(int(self._clock())),
                },
            }
        }
        items: list[Item] = [update]
        if verified:
            items.append(self._claim_put(email_key, user, own_ok=True))
        if old_key and (old_key != email_key or not verified):
            items.append(self._release(old_key, user.user_id))
        reasons = transact_or_reasons(self.ddb, items)
        if reasons is None:
            return
        if reasons[0] == "ConditionalCheckFailed":
            raise AlreadyExistsError("the user changed meanwhile", reason="user_changed")
        raise AlreadyExistsError("another user has this verified email address", reason="email_taken")

    def delete_user(self, username: str, *, user_id: str) -> bool:
        """Delete the user (``UserStore.delete``'s conditions: still that user, disabled) and, in
        the same transaction, release its claim on its verified address, so the address can be
        used again. The user item must still have the address read here (a concurrent change of
        address moves the claim): otherwise nothing is deleted. ``False`` when the user is gone
        or changed meanwhile.

        :raises StoreUnavailableError: DynamoDB failed.
        """
        user = self.users.get(username)
        if user is None or user.user_id != user_id:
            return False
        delete = self.users.delete_spec(username, user_id=user_id)
        items: list[Item] = [{"Delete": delete}]
        if user.email and user_id:
            key = email_key(user.email)
            claim = self.owner_of(key) if user.email_verified else None
            # the address as read, verified or not: what the claim (or its absence) was read for
            delete["ConditionExpression"] += " AND email = :email AND email_verified = :verified"
            delete["ExpressionAttributeValues"] = {
                **delete["ExpressionAttributeValues"],
                ":email": v_str(user.email),
                ":verified": v_bool(user.email_verified),
            }
            if claim is not None and claim.owner == user_id:
                items.append(self._release(key, user_id))
        elif user_id:
            delete["ConditionExpression"] += " AND attribute_not_exists(email)"
        return transact_or_reasons(self.ddb, items) is None

    def release(self, email_key: str, owner: str) -> bool:
        """Drop ``owner``'s claim on the address (a deleted user); ``False`` if not theirs."""
        done = put_or_conflict(
            self.ddb, "delete_item", TableName=self.table, **self._release(email_key, owner)["Delete"]
        )
        return done is not None

    def _claim_put(self, email_key: str, user: User, *, own_ok: bool = False) -> Item:
        condition = "attribute_not_exists(pk)" + (" OR #o = :owner" if own_ok else "")
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                "pk": v_str(f"email#{email_key}"),
                "kind": v_str("email"),
                "owner": v_str(user.user_id),
                "username": v_str(user.username),
            },
            "ConditionExpression": condition,
        }
        if own_ok:
            put["ExpressionAttributeNames"] = {"#o": "owner"}
            put["ExpressionAttributeValues"] = {":owner": v_str(user.user_id)}
        return {"Put": put}

    def _release(self, email_key: str, owner: str) -> Item:
        return {
            "Delete": {
                "TableName": self.table,
                "Key": {"pk": v_str(f"email#{email_key}")},
                "ConditionExpression": "#o = :owner",
                "ExpressionAttributeNames": {"#o": "owner"},
                "ExpressionAttributeValues": {":owner": v_str(owner)},
            }
        }


def _key(purpose: str, email_key: str) -> Item:
    return {"pk": v_str(f"{purpose}#{email_key}")}


def _unchanged(code: PendingCode) -> dict[str, Any]:
    return {
        "ConditionExpression": "code_hash = :h AND attempts = :a",
        "ExpressionAttributeValues": {":h": v_str(code.code_hash), ":a": v_int(code.attempts)},
    }


def _code(purpose: str, email_key: str, item: Item) -> PendingCode:
    return PendingCode(
        purpose=purpose,
        email_key=email_key,
        code_hash=as_str(item, "code_hash"),
        expires_at=as_int(item, "expires_at"),
        attempts=as_int(item, "attempts"),
        client_id=as_str(item, "client_id"),
        user=_decode_user(item),
        sessions_version=as_int(item, "sessions_version"),
    )


def _decode_user(item: Item) -> User:
    from auth_core.stores.users import _decode  # noqa: PLC0415 - the users table's one decoder

    return _decode({k: v for k, v in item.items() if k != "sessions_version"})
