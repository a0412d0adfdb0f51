"""Who is signed in on this browser, for the account pages that act for a signed-in user (the
hosted change-password page): the single sign-on session the sign-in pages set (its cookie).

Read-only, with the checks of ``oauth.authorize.AuthorizationService.current_session``: the
session is active, within its absolute and idle limits; its user exists, is enabled, is still
the same subject, and has not ended its sessions since (``sessions_version``: log-out-everywhere,
a reset, a disable); no global cut-off (``authctl keys revoke --all``) since it began. It neither
touches (extends) nor ends the session: a page of this function never changes access but
through ``AccountService``.
"""

from __future__ import annotations

from typing import Any

from auth_core.stores.users import User

__all__ = ["signed_in_user"]


def signed_in_user(
    cookie_value: str | None, *, sso: Any, users: Any, revocations: Any, now: int
) -> User | None:
    """The user the session cookie ``cookie_value`` is signed in as, or ``None``.

    :raises StoreUnavailableError: DynamoDB failed.
    """
    from auth_core.oauth.refresh import hash_refresh_token, looks_like_refresh_token  # noqa: PLC0415

    if not cookie_value or not looks_like_refresh_token(cookie_value):
        return None
    record = sso.get(hash_refresh_token(cookie_value))
    if record is None or not record.live(now):
        return None
    user: User | None = users.get(record.username)
    if (
        user is None
        or not user.enabled
        or user.subject != record.subject
        or user.sessions_version != record.sessions_version
        or revocations.global_cutoff_ms() > record.created_at * 1000
    ):
        return None
    return user
