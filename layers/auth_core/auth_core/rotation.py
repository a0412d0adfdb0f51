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

3. **Retired keys keep only their public half.** Nothing signs with a retired key, so the
   rotation that retires it drops its private material (and strips it from any older retired
   record still holding it): a leak of the secret then exposes only ``active`` and ``next``.

Emergency revocation (:func:`revoke_kids`, :func:`revoke_all`) removes keys at once and
remembers their kids in the key set's ``revoked`` list (until every token they may have signed
has expired), so every later operation re-asserts them. Revoking the ``active`` key also
replaces ``next``: its private half sat in the same secret (docs/threat-model.md T-KEY-10).

Everything here is deterministic given ``now``, ``generate`` and ``random_bytes``; Secrets
Manager is handled by :mod:`auth_core.secrets_rotation`.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from auth_core.errors import KeyStoreError
from auth_core.jwk import SigningKey, generate_signing_key
from auth_core.keyset import GRACE_SECRET_BYTES, KeyRecord, KeySet
from auth_core.settings import LONGEST_ACCESS_TOKEN_LIFETIME, Settings
from auth_core.stores.revocations import MAX_CLOCK_LEEWAY

__all__ = [
    "KeyGenerator",
    "RandomBytes",
    "RotationPolicy",
    "revoke_all",
    "revoke_kid",
    "revoke_kids",
    "revoked_until",
    "rotate",
    "victims_of",
]

#: ``generate(alg) -> SigningKey``; injectable so tests can count or pre-generate keys.
KeyGenerator = Callable[[str], SigningKey]
#: ``random_bytes(n) -> bytes``; the grace secret's source.
RandomBytes = Callable[[int], bytes]

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


def revoked_until(now: int, policy: RotationPolicy) -> int:
    """Until when a kid revoked at ``now`` must stay refused (the revocation feed's ``until``):
    by then every token it may have signed has expired at every verifier.

    ``now + lifetime + MAX_CLOCK_LEEWAY`` (the largest leeway any verifier may use), plus one
    key cache TTL for a signer that still signed with the cached key meanwhile. The lifetime is
    the longest any deployment may configure unless the policy's is longer: the operator's
    ``authctl`` cannot be trusted to know the deployment's ``MAX_ACCESS_TOKEN_LIFETIME``.
    """
    lifetime = max(policy.max_token_lifetime, LONGEST_ACCESS_TOKEN_LIFETIME)
    return now + lifetime + MAX_CLOCK_LEEWAY + policy.cache_ttl


def _new_record(generate: KeyGenerator, alg: str, status: str, now: int) -> KeyRecord:
    return KeyRecord(
        key=generate(alg),
        status=status,
        created_at=now,
        activated_at=now if status == ACTIVE else None,
        retired_at=None,
    )


def _housekeeping(keyset: KeySet, now: int, random_bytes: RandomBytes) -> KeySet:
    """Forget revoked kids past their ``until``; create the grace secret when missing."""
    revoked = {kid: until for kid, until in keyset.revoked.items() if until >= now}
    grace = keyset.grace_secret if keyset.grace_secret is not None else random_bytes(GRACE_SECRET_BYTES)
    return KeySet(keyset.records, revoked=revoked, grace_secret=grace, based_on=keyset.based_on)


def _retire(record: KeyRecord, now: int) -> KeyRecord:
    return dataclasses.replace(record, status=RETIRED, retired_at=now).public_only()


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
    random_bytes: RandomBytes = secrets.token_bytes,
) -> KeySet:
    """One scheduled rotation step.

    * drop retired keys past their retention; keep only the public half of retired keys;
    * forget revoked kids past their ``until``; create the grace secret when missing;
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
    keyset = _housekeeping(keyset, now, random_bytes)
    records = [
        r.public_only() if r.status == RETIRED else r for r in keyset.records if not _expired(r, now, policy)
    ]
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
            out.append(_retire(record, now))
        elif record is upcoming:
            out.append(dataclasses.replace(record, status=ACTIVE, activated_at=now))
        else:
            out.append(record)
    out.append(_new_record(generate, alg, NEXT, now))
    return keyset.with_records(out)


def victims_of(keyset: KeySet, kids: Iterable[str]) -> frozenset[str]:
    """The kids a revocation of ``kids`` removes from ``keyset``: ``kids`` themselves, plus every
    key whose private half sat in the secret alongside a revoked one's and still exists:

    * revoking the ``active`` key also revokes ``next``;
    * revoking a ``retired`` key (its private half was dropped when it retired) also revokes the
      keys created before it retired that still hold private material: typically the ``active``
      key that was its ``next`` (this is also what a revocation of the active key amounts to
      when a rotation promoted ``next`` just before it ran), and then ``next`` by the rule above.

    Revoking ``next`` alone revokes only it (a leak of the whole secret is :func:`revoke_all`).
    """
    out = set(kids)
    for kid in list(out):
        victim = keyset.get(kid)
        if victim is None or victim.status != RETIRED or victim.retired_at is None:
            continue
        out |= {r.kid for r in keyset.records if r.has_private and r.created_at < victim.retired_at}
    active, upcoming = keyset.active, keyset.next
    if active is not None and active.kid in out and upcoming is not None:
        out.add(upcoming.kid)
    return frozenset(out)


def revoke_kids(
    keyset: KeySet,
    kids: Iterable[str],
    *,
    alg: str,
    now: int,
    policy: RotationPolicy,
    generate: KeyGenerator = generate_signing_key,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> KeySet:
    """Emergency removal of ``kids`` (compromised keys), and of :func:`victims_of` them.

    Every removed kid joins ``revoked`` until :func:`revoked_until`. If the ``active`` key is
    removed, signing moves to a *freshly generated* key and a fresh ``next`` replaces the old
    one; if only ``next`` is removed, a fresh ``next`` replaces it; removing a retired key
    creates nothing. Kids already revoked (they keep their ``until``), or not in the set, are
    only remembered: running the same revocation again changes nothing, which is what makes a
    half-done revocation repairable by re-running it.

    :raises KeyStoreError: ``kids`` is empty.
    """
    wanted = frozenset(kids)
    if not wanted:
        raise KeyStoreError("nothing to revoke", reason="kid_not_found")
    keyset = _housekeeping(keyset, now, random_bytes)
    victims = victims_of(keyset, wanted)
    until = revoked_until(now, policy)
    revoked = dict(keyset.revoked)
    for kid in victims:
        revoked.setdefault(kid, until)  # an already revoked kid keeps its until: re-runs change nothing
    records = [r for r in keyset.records if r.kid not in victims]
    active_gone = keyset.active is not None and keyset.active.kid in victims
    next_gone = keyset.next is not None and keyset.next.kid in victims
    if active_gone:
        records.append(_new_record(generate, alg, ACTIVE, now))
    if next_gone or (active_gone and keyset.next is None):
        records.append(_new_record(generate, alg, NEXT, now))
    return keyset.evolve(records=records, revoked=revoked)


def revoke_kid(
    keyset: KeySet,
    kid: str,
    *,
    alg: str,
    now: int,
    policy: RotationPolicy | None = None,
    generate: KeyGenerator = generate_signing_key,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> KeySet:
    """:func:`revoke_kids` of one kid that must be in the set (or already revoked).

    :raises KeyStoreError: no key with this ``kid`` in the set, and not revoked either.
    """
    if keyset.get(kid) is None and not keyset.is_revoked(kid):
        raise KeyStoreError("no key with this kid in the signing key set", reason="kid_not_found")
    return revoke_kids(
        keyset,
        [kid],
        alg=alg,
        now=now,
        policy=policy or _DEFAULT_POLICY,
        generate=generate,
        random_bytes=random_bytes,
    )


def revoke_all(
    keyset: KeySet,
    *,
    alg: str,
    now: int,
    policy: RotationPolicy,
    generate: KeyGenerator = generate_signing_key,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> KeySet:
    """Whole-secret compromise: every key is revoked and replaced by a fresh ``active`` and
    ``next``, and the grace secret is regenerated. Idempotent only in effect (each call makes
    new keys)."""
    until = revoked_until(now, policy)
    revoked = {kid: u for kid, u in keyset.revoked.items() if u >= now}
    for record in keyset.records:
        revoked[record.kid] = max(until, revoked.get(record.kid, 0))
    return KeySet(
        (_new_record(generate, alg, ACTIVE, now), _new_record(generate, alg, NEXT, now)),
        revoked=revoked,
        grace_secret=random_bytes(GRACE_SECRET_BYTES),
        based_on=keyset.based_on,
    )


_DEFAULT_POLICY = RotationPolicy(
    cache_ttl=Settings.key_cache_ttl,
    max_token_lifetime=Settings.max_access_token_lifetime,
    leeway=Settings.leeway,
)
