"""Checking a user's password: the one path both the password grant and the sign-in page take.

In order: the canonical username (RFC 8265; one identity per person) → the throttle (a guess
that is not counted is never checked: locked accounts are refused before any hashing, even
with the right password) → lookup → Argon2id verification (a dummy verification for unknown
users: same cost, no enumeration) → enabled → the throttle's success → a user id for users
from before ids → a rehash when the hasher's parameters moved on. Every failure is an
``invalid_grant`` whose ``reason`` (for logs and metrics only) says which.
"""

from __future__ import annotations

from auth_core.errors import InvalidGrantError, InvalidRequestError, SlowDownError
from auth_core.oauth.audit import Audit
from auth_core.passwords import PasswordHasher
from auth_core.stores.interfaces import Throttle, Users
from auth_core.stores.users import User
from auth_core.usernames import canonical_username

__all__ = ["authenticate_user"]


def authenticate_user(
    raw_username: str,
    password: str,
    *,
    users: Users,
    throttle: Throttle,
    hasher: PasswordHasher,
    audit: Audit,
    client_id: str,
    source_ip: str | None,
    settle: bool = True,
) -> User:
    """The user whose password this is.

    ``settle=False``: the throttle is not told of the success (a second factor is still to
    come: wrong codes keep counting against the same attempts; the caller settles).

    :raises InvalidGrantError: malformed username, unknown or disabled user, wrong password.
    :raises SlowDownError: too many attempts (the throttle; nothing was hashed).
    """
    try:  # one identity per person: the canonical form (RFC 8265) is what is looked up
        username = canonical_username(raw_username)
    except InvalidRequestError as exc:
        if exc.reason != "username_format":
            raise
        raise InvalidGrantError(reason="username_format") from None
    try:  # before any hashing: a guess that is not counted is never checked
        throttle.take(username, source_ip)
    except SlowDownError:
        audit.record("LoginThrottled", client_id=client_id)
        raise
    user = users.get(username)
    try:
        if user is None:
            hasher.verify_dummy(password)
        else:
            hasher.verify(password, user.password_hash)
    except InvalidGrantError as exc:
        audit.record("LoginFailed", client_id=client_id, reason=exc.reason)
        raise
    assert user is not None  # noqa: S101 - verify_dummy always raises
    if not user.enabled:
        audit.record("LoginFailed", client_id=client_id, reason="user_disabled")
        raise InvalidGrantError(reason="user_disabled")
    if settle:
        throttle.succeeded(username, source_ip)
    user = users.ensure_user_id(user)
    if hasher.needs_rehash(user.password_hash):
        users.set_password_hash(username, hasher.hash(password), expected=user.password_hash)
    return user
