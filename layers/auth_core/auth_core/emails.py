"""Email addresses of users: one normal form, one comparison key.

Normal form (:func:`normalize_email`): surrounding whitespace trimmed, Unicode NFC, the domain
lower-cased (domains are case-insensitive, RFC 5321 §2.4), the local part kept as typed (it is
the mail server's to interpret; ``Alice@example.com`` gets its mail as ``Alice``). No NFKC: a
fullwidth or ligature form is a different mailbox to a mail server, so it is not silently
rewritten here. Refused (``InvalidRequestError``, reason ``email_format``): no ``@``, an empty
part, whitespace or control characters, more than 254 characters (RFC 5321), a local part over
64, a domain without a dot.

Comparison (:func:`email_key`): the whole address case-folded, then SHA-256: two addresses that
differ only in case are the same address for uniqueness (``Alice@x`` and ``alice@x`` cannot be
held by two users), and the key names no address (the sessions table's ``email#`` / ``signup#``
/ ``reset#`` items hold only this hash in their keys).
"""

from __future__ import annotations

import hashlib
import unicodedata

from auth_core.errors import InvalidRequestError

__all__ = ["MAX_EMAIL", "email_key", "normalize_email"]

MAX_EMAIL = 254


def normalize_email(raw: object) -> str:
    """``raw`` in the normal form of the module docstring.

    :raises InvalidRequestError: not an email address (reason ``email_format``).
    """
    if not isinstance(raw, str) or len(raw) > MAX_EMAIL * 2:
        raise InvalidRequestError("enter a valid email address", reason="email_format")
    value = unicodedata.normalize("NFC", raw.strip())
    local, at, domain = value.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or "@" in local
        or len(value) > MAX_EMAIL
        or len(local) > 64
        or "." not in domain.strip(".")
        or any(c.isspace() or unicodedata.category(c).startswith("C") for c in value)
    ):
        raise InvalidRequestError("enter a valid email address", reason="email_format")
    return f"{local}@{domain.lower()}"


def email_key(email: str) -> str:
    """The comparison key of a normalised address: SHA-256 hex of its case-folded form."""
    return hashlib.sha256(email.casefold().encode("utf-8")).hexdigest()
