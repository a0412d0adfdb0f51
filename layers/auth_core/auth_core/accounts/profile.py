"""The user profile's rules: name fields and custom attributes, bounded.

Name fields (``name``, ``given_name``, ``family_name``): at most :data:`MAX_NAME` characters,
NFC, one line, no control characters. Custom attributes: only names listed in
``CUSTOM_ATTRIBUTES``, values at most :data:`MAX_VALUE` characters (same rules), at most
:data:`MAX_ATTRIBUTES` per user. Anything else is refused with ``InvalidRequestError``
(reason ``profile``), naming the field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from auth_core.errors import InvalidRequestError

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_NAME",
    "MAX_VALUE",
    "NAME_FIELDS",
    "check_attributes",
    "check_text",
    "profile_claims",
]

NAME_FIELDS = ("name", "given_name", "family_name")
MAX_NAME = 128
MAX_VALUE = 256
MAX_ATTRIBUTES = 20


def check_text(field: str, raw: object, limit: int = MAX_NAME) -> str:
    """``raw`` trimmed and NFC-normalised; refused when not one short line of text."""
    if not isinstance(raw, str):
        raise InvalidRequestError(f"{field} must be text", reason="profile")
    value = unicodedata.normalize("NFC", raw.strip())
    if len(value) > limit or any(unicodedata.category(c).startswith("C") for c in value):
        raise InvalidRequestError(f"{field}: at most {limit} characters, one line", reason="profile")
    return value


def check_attributes(given: Mapping[str, object], allowed: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The custom attributes ``given``, checked against the ``allowed`` names; sorted pairs
    (empty values dropped)."""
    names = set(allowed)
    if len(given) > MAX_ATTRIBUTES:
        raise InvalidRequestError(f"at most {MAX_ATTRIBUTES} custom attributes", reason="profile")
    found: dict[str, str] = {}
    for name, raw in given.items():
        if name not in names:
            raise InvalidRequestError(f"unknown attribute {name[:64]!r}", reason="profile")
        value = check_text(name, raw, MAX_VALUE)
        if value:
            found[name] = value
    return tuple(sorted(found.items()))


def profile_claims(user: Any, scope: Any) -> dict[str, Any]:
    """The standard claims (OpenID Connect Core §5.4) ``scope`` releases of ``user``'s profile:
    ``email`` -> ``email``, ``email_verified``; ``profile`` -> ``name``, ``given_name``,
    ``family_name`` and the custom attributes (as they are named in ``CUSTOM_ATTRIBUTES``).
    Unset values are left out."""
    found: dict[str, Any] = {}
    if "email" in scope and user.email:
        found["email"] = user.email
        found["email_verified"] = bool(user.email_verified)
    if "profile" in scope:
        for name in ("name", "given_name", "family_name"):
            if getattr(user, name):
                found[name] = getattr(user, name)
        for name, value in user.attributes:
            found.setdefault(name, value)
    return found
