"""The user profile's rules: name fields and custom attributes, bounded.

Name fields (``name``, ``given_name``, ``family_name``): at most :data:`MAX_NAME` characters,
NFC, one line, no control characters. Custom attributes: only names listed in
``CUSTOM_ATTRIBUTES``, values at most :data:`MAX_VALUE` characters (same rules), at most
:data:`MAX_ATTRIBUTES` per user. Anything else is refused with ``InvalidRequestError``
(reason ``profile``), naming the field.

Custom attributes never take the name of a claim the service sets or that OpenID Connect defines
(:data:`RESERVED_ATTRIBUTE_NAMES`): ``CUSTOM_ATTRIBUTES`` refuses such names, and
:func:`profile_claims` skips them (a stored attribute from before the check), so an attribute can
never replace ``sub``, ``scope``, ``roles`` or the like in a token or in ``/userinfo``.

``ACCESS_TOKEN_PROFILE_CLAIMS`` (:func:`access_token_claims`) names the profile claims that also
go into access tokens, released by the granted scope exactly as for the ID token.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from auth_core.errors import InvalidRequestError

__all__ = [
    "CLAIM_NAMES",
    "MAX_ATTRIBUTES",
    "MAX_NAME",
    "MAX_VALUE",
    "NAME_FIELDS",
    "RESERVED_ATTRIBUTE_NAMES",
    "access_token_claims",
    "check_attributes",
    "check_settings",
    "check_text",
    "profile_claims",
]

NAME_FIELDS = ("name", "given_name", "family_name")
MAX_NAME = 128
MAX_VALUE = 256
MAX_ATTRIBUTES = 20
#: the standard claims :func:`profile_claims` may release (custom attributes besides)
CLAIM_NAMES = ("email", "email_verified", *NAME_FIELDS)

#: names no custom attribute may have: the claims this service sets or verifiers act on (the
#: claims hook's reserved set, ``sid`` and ``cnf`` included) and OpenID Connect Core §5.1's
#: standard claims
RESERVED_ATTRIBUTE_NAMES = frozenset(
    {
        "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "scp", "roles",
        "typ", "cnf", "sid", "auth_time", "acr", "amr", "azp", "nonce", "at_hash", "c_hash",
        "s_hash", "act", "may_act", "token_use", "token_type", "name", "given_name",
        "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture",
        "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale",
        "phone_number", "phone_number_verified", "address", "updated_at",
    }
)  # fmt: skip


def check_settings(custom_attributes: Iterable[str], access_token_claims: Iterable[str]) -> None:
    """``CUSTOM_ATTRIBUTES`` names no reserved claim; ``ACCESS_TOKEN_PROFILE_CLAIMS`` names only
    profile claims (standard ones, or custom attributes: those in ``CUSTOM_ATTRIBUTES`` when it
    is set -- the token functions may not be given it).

    :raises ConfigurationError: naming the setting and the offending name.
    """
    from auth_core.errors import ConfigurationError  # noqa: PLC0415

    attributes = tuple(custom_attributes)
    for name in attributes:
        if name in RESERVED_ATTRIBUTE_NAMES:
            raise ConfigurationError(f"CUSTOM_ATTRIBUTES: {name!r} is a reserved claim name")
    for name in access_token_claims:
        if name in CLAIM_NAMES:
            continue
        if name in RESERVED_ATTRIBUTE_NAMES or (attributes and name not in attributes):
            raise ConfigurationError(
                f"ACCESS_TOKEN_PROFILE_CLAIMS: {name[:64]!r} is not a profile claim "
                f"({', '.join(CLAIM_NAMES)} or a custom attribute)"
            )


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
            if name not in RESERVED_ATTRIBUTE_NAMES:
                found.setdefault(name, value)
    return found


def access_token_claims(user: Any, scope: Any, names: Iterable[str]) -> dict[str, Any]:
    """The profile claims of ``user`` an access token carries: those :func:`profile_claims`
    releases for ``scope``, kept to ``names`` (``ACCESS_TOKEN_PROFILE_CLAIMS``)."""
    wanted = set(names)
    return {k: v for k, v in profile_claims(user, scope).items() if k in wanted}
