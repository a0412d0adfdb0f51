"""The private key-set document kept in the signing-keys secret, and its public projection.

Format (``version`` 1; timestamps are epoch seconds)::

    {"version": 1,
     "keys": [{<private JWK incl. kid, alg, use: "sig">,
               "status": "next" | "active" | "retired",
               "created_at": 1700000000, "activated_at": 1700000000 | null,
               "retired_at": null | 1700086400}]}

Lifecycle: a key is created as ``next`` (published in the public JWKS so verifiers know it
before it signs anything), becomes ``active`` (the one key the issuer signs with), then
``retired`` (still published until tokens it signed have expired, then dropped). Invariants
checked on every load and every change: unique ``kid``, at most one ``active``, at most one
``next``, known statuses, private key material present and consistent.

The public-JWKS secret holds exactly :meth:`KeySet.public_jwks` as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from auth_core._json import loads_object
from auth_core.errors import KeyFormatError, KeyStoreError
from auth_core.jwk import SigningKey, load_signing_key

__all__ = ["KEYSET_VERSION", "STATUSES", "KeyRecord", "KeySet"]

KEYSET_VERSION = 1
#: Key statuses, in lifecycle order.
STATUSES = ("next", "active", "retired")
_META = ("status", "created_at", "activated_at", "retired_at")


def _timestamp(entry: Mapping[str, Any], name: str, *, required: bool) -> int | None:
    value = entry.get(name)
    if value is None:
        if required:
            raise KeyFormatError(f"key record: {name} is required")
        return None
    if type(value) is not int or value < 0:  # bool is not a timestamp
        raise KeyFormatError(f"key record: {name} must be a non-negative integer")
    return value


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One signing key and where it is in its lifecycle."""

    key: SigningKey
    status: str
    created_at: int
    activated_at: int | None = None
    retired_at: int | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise KeyFormatError("key record: unknown status")

    @property
    def kid(self) -> str:
        """The key id of :attr:`key`."""
        return self.key.kid

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> KeyRecord:
        """Load one stored record (private JWK members plus lifecycle members).

        :raises KeyFormatError: missing or invalid lifecycle members, or an invalid private JWK.
        """
        if not isinstance(entry, Mapping):
            raise KeyFormatError("key record must be a JSON object")
        status = entry.get("status")
        if status not in STATUSES:
            raise KeyFormatError("key record: status must be next, active or retired")
        if "d" not in entry:
            raise KeyFormatError("key record: private key material is required")
        jwk = {name: value for name, value in entry.items() if name not in _META}
        return cls(
            key=load_signing_key(jwk),
            status=status,
            created_at=_timestamp(entry, "created_at", required=True),  # type: ignore[arg-type]
            activated_at=_timestamp(entry, "activated_at", required=False),
            retired_at=_timestamp(entry, "retired_at", required=False),
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form: private JWK plus lifecycle members. Secret."""
        return {
            **self.key.to_private_jwk(),
            "status": self.status,
            "created_at": self.created_at,
            "activated_at": self.activated_at,
            "retired_at": self.retired_at,
        }

    def with_status(self, status: str, at: int) -> KeyRecord:
        """A copy moved to ``status`` at time ``at`` (sets ``activated_at``/``retired_at``).

        :raises KeyFormatError: unknown status.
        """
        if status == "active":
            return replace(self, status=status, activated_at=at, retired_at=None)
        if status == "retired":
            return replace(self, status=status, retired_at=at)
        return replace(self, status=status)

    def __repr__(self) -> str:
        return f"KeyRecord(kid={self.kid!r}, alg={self.key.alg!r}, status={self.status!r})"


class KeySet:
    """An immutable, validated sequence of :class:`KeyRecord`. Implements ``get_signing_key()``."""

    __slots__ = ("_active", "_next", "records")

    def __init__(self, records: Iterable[KeyRecord] = ()) -> None:
        """:raises KeyFormatError: duplicate kid, more than one active or more than one next."""
        self.records: tuple[KeyRecord, ...] = tuple(records)
        seen: set[str] = set()
        active: list[KeyRecord] = []
        upcoming: list[KeyRecord] = []
        for record in self.records:
            if not isinstance(record, KeyRecord):
                raise KeyFormatError("key set entries must be KeyRecord")
            if record.kid in seen:
                raise KeyFormatError("duplicate kid in key set")
            seen.add(record.kid)
            if record.status == "active":
                active.append(record)
            elif record.status == "next":
                upcoming.append(record)
        if len(active) > 1:
            raise KeyFormatError("more than one active key")
        if len(upcoming) > 1:
            raise KeyFormatError("more than one next key")
        self._active = active[0] if active else None
        self._next = upcoming[0] if upcoming else None

    @classmethod
    def empty(cls) -> KeySet:
        """A key set with no keys (the state before the first rotation)."""
        return cls(())

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> KeySet:
        """Load the stored document.

        :raises KeyFormatError: wrong version or shape, or any invalid record or invariant.
        """
        if not isinstance(doc, Mapping):
            raise KeyFormatError("key set must be a JSON object")
        if doc.get("version") != KEYSET_VERSION or type(doc.get("version")) is not int:
            raise KeyFormatError("unsupported key set version")
        entries = doc.get("keys")
        if not isinstance(entries, list):
            raise KeyFormatError("key set must have a 'keys' array")
        return cls(KeyRecord.from_dict(entry) for entry in entries)

    @classmethod
    def from_json(cls, text: str | bytes) -> KeySet:
        """Parse the stored JSON text (strict JSON) and load it.

        :raises KeyFormatError: invalid JSON or any reason of :meth:`from_dict`.
        """
        try:
            doc = loads_object(text.encode("utf-8") if isinstance(text, str) else text)
        except ValueError as exc:
            raise KeyFormatError("key set is not a valid JSON object") from exc
        return cls.from_dict(doc)

    def to_dict(self) -> dict[str, Any]:
        """The stored document. Contains private keys."""
        return {"version": KEYSET_VERSION, "keys": [record.to_dict() for record in self.records]}

    def to_json(self) -> str:
        """The stored document as compact JSON text. Contains private keys."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @property
    def active(self) -> KeyRecord | None:
        """The key the issuer signs with, if any."""
        return self._active

    @property
    def next(self) -> KeyRecord | None:
        """The pre-published key that becomes active at the next rotation, if any."""
        return self._next

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        """``{"keys": [public JWK of every record]}``: the content of the public-JWKS secret."""
        return {"keys": [record.key.to_public_jwk() for record in self.records]}

    def with_records(self, records: Iterable[KeyRecord]) -> KeySet:
        """A new key set holding ``records`` (validated like any other).

        :raises KeyFormatError: the new records break an invariant.
        """
        return KeySet(records)

    def get_signing_key(self) -> SigningKey:
        """The active key.

        :raises KeyStoreError: no key is active.
        """
        if self._active is None:
            raise KeyStoreError("no active signing key", reason="no_active_key")
        return self._active.key

    def get(self, kid: str) -> KeyRecord | None:
        """The record whose key has ``kid``, if any."""
        for record in self.records:
            if record.kid == kid:
                return record
        return None

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"KeySet({list(self.records)!r})"
