"""Signing-key life cycle as pure functions: ``next`` -> ``active`` -> ``retired`` -> dropped.

Two timing rules make a rotation invisible to clients:

1. **Publish before use.** A key signs only after it has been in the public JWKS for at least
   one verifier cache TTL, so every verifier already holds it when the first token signed with
   it arrives. That is why a rotation *promotes* the ``next`` key published by the previous
   rotation instead of creating a fresh active key, and why it refuses to promote a ``next``
   younger than the TTL (then it only keeps or creates ``next`` and leaves ``active`` alone).
2. **Keep after use.** A retired key stays in the JWKS until every token it may have signed
   has expired everywhere: signers may use it for up to one cache TTL after it was retired,
   a token lives at most ``max_token_lifetime``, verifiers allow ``leeway``. It is dropped
   once ``retired_at + max_token_lifetime + leeway + cache_ttl < now``.

The first rotation of an empty key set creates ``active`` and ``next`` at once: nothing has
been signed yet, so there is nothing to protect (this is how a fresh deploy bootstraps through
``RotateImmediatelyOnUpdate``, with no custom resource).

Everything here is deterministic given ``now`` and ``generate``; Secrets Manager is handled by
:mod:`auth_core.secrets_rotation`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from dataclasses import dataclass

from auth_core.errors import KeyStoreError
from auth_core.jwk import SigningKey, generate_signing_key
from auth_core.keyset import KeyRecord, KeySet
from auth_core.settings import Settings

__all__ = ["KeyGenerator", "RotationPolicy", "revoke_kid", "rotate"]

#: ``generate(alg) -> SigningKey``; injectable so tests can count or pre-generate keys.
KeyGenerator = Callable[[str], SigningKey]

ACTIVE = "active"
NEXT = "next"
RETIRED = "retired"


@dataclass(frozen=True)
class RotationPolicy:
    """The timing inputs of a rotation, all in seconds.

    :ivar cache_ttl: the verifiers' (and signers') key cache TTL: minimum age of a ``next``
        before it may sign, and part of the retention of a retired key.
    :ivar max_token_lifetime: the longest access-token lifetime verifiers accept.
    :ivar leeway: verifier clock-skew tolerance.
    """

    cache_ttl: int
    max_token_lifetime: int
    leeway: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RotationPolicy:
        """``KEY_CACHE_TTL``, ``MAX_ACCESS_TOKEN_LIFETIME``, ``CLOCK_LEEWAY``."""
        return cls(
            cache_ttl=settings.key_cache_ttl,
            max_token_lifetime=settings.max_access_token_lifetime,
            leeway=settings.leeway,
        )

    @property
    def retention(self) -> int:
        """How long a retired key stays published after ``retired_at``."""
        return self.max_token_lifetime + self.leeway + self.cache_ttl


def _new_record(generate: KeyGenerator, alg: str, status: str, now: int) -> KeyRecord:
    return KeyRecord(
        key=generate(alg),
        status=status,
        created_at=now,
        activated_at=now if status == ACTIVE else None,
        retired_at=None,
    )


def _expired(record: KeyRecord, now: int, policy: RotationPolicy) -> bool:
    return (
        record.status == RETIRED
        and record.retired_at is not None
        and record.retired_at + policy.retention < now
    )


def _promotable(
    record: KeyRecord, now: int, policy: RotationPolicy, published: Collection[str] | None
) -> bool:
    """A ``next`` may sign once it has been public for one cache TTL (and, when the caller
    knows what is published right now, only if it is still there)."""
    if now - record.created_at < policy.cache_ttl:
        return False
    return published is None or record.key.kid in published


def rotate(
    keyset: KeySet,
    *,
    alg: str,
    now: int,
    policy: RotationPolicy,
    generate: KeyGenerator = generate_signing_key,
    published: Collection[str] | None = None,
) -> KeySet:
    """One scheduled rotation step.

    * drop retired keys past their retention;
    * empty set: create ``active`` and ``next``;
    * a ``next`` old enough (and in ``published`` when given): retire ``active``, promote
      ``next``, create a new ``next`` with ``alg``;
    * otherwise: keep ``active``, keep (or create) ``next``.

    :param alg: algorithm of newly created keys (an algorithm change takes effect one
        rotation later, when the new ``next`` is promoted).
    :param now: epoch seconds.
    :param published: kids in the public JWKS right now, if known.
    :raises KeyFormatError: the resulting set would be invalid (never for a valid input).
    """
    records = [r for r in keyset.records if not _expired(r, now, policy)]
    active = next((r for r in records if r.status == ACTIVE), None)
    upcoming = next((r for r in records if r.status == NEXT), None)

    if active is None and upcoming is None:
        return keyset.with_records(
            (*records, _new_record(generate, alg, ACTIVE, now), _new_record(generate, alg, NEXT, now))
        )
    if active is None and upcoming is not None:
        # nothing can sign today, so there is no token to protect: promote at once
        promoted = dataclasses.replace(upcoming, status=ACTIVE, activated_at=now)
        rest = [r for r in records if r is not upcoming]
        return keyset.with_records((*rest, promoted, _new_record(generate, alg, NEXT, now)))
    if upcoming is None:
        return keyset.with_records((*records, _new_record(generate, alg, NEXT, now)))
    assert active is not None  # noqa: S101 - narrowed by the branches above (for mypy)
    if not _promotable(upcoming, now, policy, published):
        return keyset.with_records(records)
    out: list[KeyRecord] = []
    for record in records:
        if record is active:
            out.append(dataclasses.replace(record, status=RETIRED, retired_at=now))
        elif record is upcoming:
            out.append(dataclasses.replace(record, status=ACTIVE, activated_at=now))
        else:
            out.append(record)
    out.append(_new_record(generate, alg, NEXT, now))
    return keyset.with_records(out)


def revoke_kid(
    keyset: KeySet,
    kid: str,
    *,
    alg: str,
    now: int,
    generate: KeyGenerator = generate_signing_key,
) -> KeySet:
    """Emergency removal of ``kid`` (a compromised key): it disappears from the set at once.

    If it was ``active``, signing moves to a *freshly generated* key (not the published
    ``next``, which lived in the same secret and may be compromised too); verifiers learn the
    new key through their unknown-``kid`` refresh. If it was ``next``, a new ``next`` is created.

    :raises KeyStoreError: no key with this ``kid`` in the set.
    """
    victim = next((r for r in keyset.records if r.key.kid == kid), None)
    if victim is None:
        raise KeyStoreError("no key with this kid in the signing key set", reason="kid_not_found")
    records = [r for r in keyset.records if r is not victim]
    if victim.status == ACTIVE:
        records.append(_new_record(generate, alg, ACTIVE, now))
    elif victim.status == NEXT:
        records.append(_new_record(generate, alg, NEXT, now))
    return keyset.with_records(records)
