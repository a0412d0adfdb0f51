"""Usernames: one identity per person (RFC 8265, PRECIS ``UsernameCaseMapped``).

See docs/threat-model.md T-ACC-3 (username confusables).

``alice``, ``Alice`` and fullwidth ``ａｌｉｃｅ`` are the same person; ``alice `` (a trailing space), a
control character or a zero-width joiner are not usernames at all. Every username is enforced
with the ``UsernameCaseMapped`` profile (width mapping, case folding, NFC, the IdentifierClass
repertoire: letters, digits and ASCII punctuation, no spaces, no controls, no compatibility
characters) by the ``precis-i18n`` library, before it is stored, looked up or throttled on, so the
users table holds each person once, under their canonical name.

A username is what a person types; it is **not** the token ``sub``. Each user also has an opaque,
immutable, never-reused ``user_id`` (:func:`new_user_id`), which is what access tokens, sessions and
revocation entries name: a rename changes nothing there, and no username can collide with a client
id in ``sub``.
"""

from __future__ import annotations

import secrets

from auth_core.errors import InvalidRequestError

__all__ = ["MAX_USERNAME_BYTES", "USER_ID_PREFIX", "canonical_username", "new_user_id"]

#: Longest username accepted, in UTF-8 bytes of its canonical form (DynamoDB keys may be 2048).
MAX_USERNAME_BYTES = 128
#: Every user id starts with this; client ids may not (``authctl clients create`` refuses it).
USER_ID_PREFIX = "u_"


def canonical_username(raw: str) -> str:
    """The canonical form of ``raw`` under PRECIS ``UsernameCaseMapped``.

    :raises InvalidRequestError: ``raw`` is not a valid username (reason ``username_format``),
        with a message a person can act on.
    """
    if not isinstance(raw, str) or not raw:
        raise InvalidRequestError("a username is required", reason="username_format")
    if len(raw) > MAX_USERNAME_BYTES * 2:  # before any Unicode work: bounded input
        raise InvalidRequestError(
            f"usernames are at most {MAX_USERNAME_BYTES} bytes", reason="username_format"
        )
    import precis_i18n  # noqa: PLC0415 - ~10 ms of import, only where usernames are handled

    try:
        canonical = precis_i18n.get_profile("UsernameCaseMapped").enforce(raw)
    except UnicodeError as exc:
        raise InvalidRequestError(
            "a username may contain letters, digits and punctuation, but no spaces, control or "
            "invisible characters",
            reason="username_format",
        ) from exc
    if not isinstance(canonical, str) or len(canonical.encode("utf-8")) > MAX_USERNAME_BYTES:
        raise InvalidRequestError(
            f"usernames are at most {MAX_USERNAME_BYTES} bytes", reason="username_format"
        )
    return canonical


def new_user_id() -> str:
    """A fresh opaque user id: ``u_`` and 128 random bits (base64url), never reused."""
    return USER_ID_PREFIX + secrets.token_urlsafe(16)
