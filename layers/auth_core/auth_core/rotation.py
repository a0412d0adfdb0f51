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

4. **Two lineages, one life cycle.** When ``alg`` (``SIGNING_ALG``) is not RS256, or a main
   ``active``/``next`` key is not (an algorithm change in progress), the set also keeps the
   RS256 ID-token lineage (:mod:`auth_core.keyset`), and every operation applies the same
   steps to it: it is rotated with the main lineage, under the same rules 1-3 (its retired
   keys are kept for the same retention: an ID token lives at most ``max_token_lifetime``,
   which the ID-token issuer must not exceed). Only its bootstrap differs: it gets ``active``
   and ``next`` at once only together with a fresh main lineage (nothing signed yet) or in
   :func:`revoke_all`; added to a set already in use (an old document, or a change away from
   RS256), it gets a ``next`` first, promoted by a later rotation. While no ID-token key is
   active, a main ``active`` key in RS256 signs ID tokens; a ``next`` with nothing to take
   over from is promoted at once (as rule 1's exception for the main lineage). When the main
   lineage is RS256 throughout and ``alg`` is RS256, the ID-token lineage winds down: its
   ``active`` retires (published until its tokens expired), its ``next`` (which never signed)
   is dropped.

Emergency revocation (:func:`revoke_kids`, :func:`revoke_all`) removes keys at once and
remembers their kids in the key set's ``revoked`` list (until every token they may have signed
has expired), so every later operation re-asserts them. Revoking an ``active`` key also
replaces every other key holding private material, of both lineages: their private halves sat
in the same secret (docs/threat-model.md T-KEY-10).

Everything here is deterministic given ``now``, ``generate`` and ``random_bytes``; Secrets
Manager is handled by :mod:`auth_core.secrets_rotation`.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from auth_core.errors import KeyStoreError
from auth_core.jwa import ID_TOKEN_ALG
from auth_core.jwk import SigningKey, generate_signing_key
from auth_core.keyset import GRACE_SECRET_BYTES, ID_TOKEN, MAIN, KeyRecord, KeySet
from auth_core.settings import LONGEST_ACCESS_TOKEN_LIFETIME, Settings
from auth_core.stores.revocations import MAX_CLOCK_LEEWAY

__all__ = [
    "KeyGenerator",
    "RandomBytes",
    "RotationPolicy",
    "needs_id_token_lineage",
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
    :ivar max_token_lifetime: the longest access-token lifetime verifiers accept; also the
        bound of an ID token's lifetime (the retention of both lineages' retired keys).
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


def needs_id_token_lineage(alg: str, main: Iterable[KeyRecord]) -> bool:
    """Whether the set must keep an ID-token lineage: ``alg`` is not RS256, or a main key that
    signs now or will sign (``active``, ``next``) is not."""
    if alg != ID_TOKEN_ALG:
        return True
    return any(r.key.alg != ID_TOKEN_ALG for r in main if r.status in (ACTIVE, NEXT))


def _new_record(generate: KeyGenerator, alg: str, status: str, now: int, lineage: str = MAIN) -> KeyRecord:
    return KeyRecord(
        key=generate(alg),
        status=status,
        created_at=now,
        activated_at=now if status == ACTIVE else None,
        retired_at=None,
        lineage=lineage,
    )


def _housekeeping(keyset: KeySet, now: int, random_bytes: RandomBytes) -> KeySet:
    """Forget revoked kids past their ``until``; create the grace secret when missing."""
    revoked = {kid: until for kid, until in keyset.revoked.items() if until >= now}
    grace = keyset.grace_secret if keyset.grace_secret is not None else random_bytes(GRACE_SECRET_BYTES)
    return KeySet(keyset.records, revoked=revoked, grace_secret=grace, based_on=keyset.based_on)


def _retire(record: KeyRecord, now: int) -> KeyRecord:
    return record._replace(status=RETIRED, retired_at=now).public_only()


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


def _step(
    records: list[KeyRecord],
    *,
    lineage: str,
    alg: str,
    now: int,
    policy: RotationPolicy,
    generate: KeyGenerator,
    published: Collection[str] | None,
    bootstrap: bool,
    at_once: bool,
) -> list[KeyRecord]:
    """One rotation step of one lineage's ``records`` (already past housekeeping).

    :param bootstrap: an empty lineage gets ``active`` and ``next`` at once (else ``next`` only).
    :param at_once: a ``next`` without an ``active`` is promoted at once (nothing else signs
        what this lineage signs), else only when :func:`_promotable`.
    """
    active = next((r for r in records if r.status == ACTIVE), None)
    upcoming = next((r for r in records if r.status == NEXT), None)
    if active is None and upcoming is None:
        statuses = (ACTIVE, NEXT) if bootstrap else (NEXT,)
        return [*records, *(_new_record(generate, alg, status, now, lineage) for status in statuses)]
    if active is None and upcoming is not None:
        if not (at_once or _promotable(upcoming, now, policy, published)):
            return records
        promoted = upcoming._replace(status=ACTIVE, activated_at=now)
        rest = [r for r in records if r is not upcoming]
        return [*rest, promoted, _new_record(generate, alg, NEXT, now, lineage)]
    if upcoming is None:
        return [*records, _new_record(generate, alg, NEXT, now, lineage)]
    if not _promotable(upcoming, now, policy, published):
        return records
    out: list[KeyRecord] = []
    for record in records:
        if record is active:
            out.append(_retire(record, now))
        elif record is upcoming:
            out.append(record._replace(status=ACTIVE, activated_at=now))
        else:
            out.append(record)
    out.append(_new_record(generate, alg, NEXT, now, lineage))
    return out


def _wind_down(records: Iterable[KeyRecord], now: int) -> list[KeyRecord]:
    """The ID-token lineage once the main lineage serves ID tokens (RS256 throughout): its
    ``active`` retires (kept public until its tokens expired), its ``next`` never signed and
    is dropped."""
    return [_retire(r, now) if r.status == ACTIVE else r for r in records if r.status != NEXT]


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
    * then, per lineage (main in ``alg``, then ID-token in RS256 when
      :func:`needs_id_token_lineage`, see the module docstring):

      * empty: create ``active`` and ``next`` (ID-token lineage: ``next`` only, unless the
        main lineage is being created too);
      * a ``next`` old enough (and in ``published`` when given): retire ``active``, promote
        ``next``, create a new ``next``;
      * otherwise: keep ``active``, keep (or create) ``next``;

    * an ID-token lineage no longer needed winds down (``active`` retired, ``next`` dropped).

    :param alg: algorithm of newly created main keys (an algorithm change takes effect one
        rotation later, when the new ``next`` is promoted).
    :param now: epoch seconds.
    :param published: kids in the public JWKS right now, if known.
    :raises KeyFormatError: the resulting set would be invalid (never for a valid input).
    """
    fresh = keyset.active is None and keyset.next is None
    keyset = _housekeeping(keyset, now, random_bytes)
    records = [
        r.public_only() if r.status == RETIRED else r for r in keyset.records if not _expired(r, now, policy)
    ]
    step = functools.partial(_step, now=now, policy=policy, generate=generate, published=published)
    main = step(
        [r for r in records if r.lineage == MAIN], lineage=MAIN, alg=alg, bootstrap=True, at_once=True
    )
    id_tokens = [r for r in records if r.lineage == ID_TOKEN]
    if needs_id_token_lineage(alg, main):
        main_active = next(r for r in main if r.status == ACTIVE)  # _step always leaves one
        id_tokens = step(
            id_tokens,
            lineage=ID_TOKEN,
            alg=ID_TOKEN_ALG,
            bootstrap=fresh,
            at_once=main_active.key.alg != ID_TOKEN_ALG,
        )
    else:
        id_tokens = _wind_down(id_tokens, now)
    return keyset.with_records((*main, *id_tokens))


def victims_of(keyset: KeySet, kids: Iterable[str]) -> frozenset[str]:
    """The kids a revocation of ``kids`` removes from ``keyset``: ``kids`` themselves, plus every
    key whose private half sat in the secret alongside a revoked one's and still exists:

    * revoking an ``active`` key (of either lineage) also revokes every other key that holds
      private material: ``next``, and the other lineage's ``active`` and ``next``;
    * revoking a ``retired`` key (its private half was dropped when it retired) also revokes the
      keys created before it retired that still hold private material: typically the ``active``
      key that was its ``next`` (this is also what a revocation of the active key amounts to
      when a rotation promoted ``next`` just before it ran), and then the rest by the rule above.

    Revoking a ``next`` alone revokes only it (a leak of the whole secret is :func:`revoke_all`).
    """
    out = set(kids)
    for kid in list(out):
        victim = keyset.get(kid)
        if victim is None or victim.status != RETIRED or victim.retired_at is None:
            continue
        out |= {r.kid for r in keyset.records if r.has_private and r.created_at < victim.retired_at}
    if any(r.status == ACTIVE and r.kid in out for r in keyset.records):
        out |= {r.kid for r in keyset.records if r.has_private}
    return frozenset(out)


def _replace(
    records: list[KeyRecord],
    before: KeySet,
    victims: frozenset[str],
    *,
    lineage: str,
    alg: str,
    now: int,
    generate: KeyGenerator,
) -> list[KeyRecord]:
    """Fresh keys for what a revocation removed from ``lineage``: a fresh ``active`` when its
    active went (signing moves at once), a fresh ``next`` when its next went (or it had none)."""
    active, upcoming = before.active_of(lineage), before.next_of(lineage)
    active_gone = active is not None and active.kid in victims
    next_gone = upcoming is not None and upcoming.kid in victims
    if active_gone:
        records.append(_new_record(generate, alg, ACTIVE, now, lineage))
    if next_gone or (active_gone and upcoming is None):
        records.append(_new_record(generate, alg, NEXT, now, lineage))
    return records


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

    Every removed kid joins ``revoked`` until :func:`revoked_until`. Per lineage: if its
    ``active`` key is removed, signing moves to a *freshly generated* key and a fresh ``next``
    replaces the old one; if only ``next`` is removed, a fresh ``next`` replaces it; removing a
    retired key creates nothing. The ID-token lineage is replaced only while
    :func:`needs_id_token_lineage` (else the main lineage signs ID tokens). Kids already revoked
    (they keep their ``until``), or not in the set, are only remembered: running the same
    revocation again changes nothing, which is what makes a half-done revocation repairable by
    re-running it.

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
    kept = [r for r in keyset.records if r.kid not in victims]
    replace = functools.partial(_replace, before=keyset, victims=victims, now=now, generate=generate)
    main = replace([r for r in kept if r.lineage == MAIN], lineage=MAIN, alg=alg)
    id_tokens = [r for r in kept if r.lineage == ID_TOKEN]
    if needs_id_token_lineage(alg, main):
        id_tokens = replace(id_tokens, lineage=ID_TOKEN, alg=ID_TOKEN_ALG)
    return keyset.evolve(records=(*main, *id_tokens), revoked=revoked)


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
    """Whole-secret compromise: every key (both lineages) is revoked and replaced by a fresh
    ``active`` and ``next`` (and a fresh ID-token ``active`` and ``next`` when ``alg`` is not
    RS256), and the grace secret is regenerated. Idempotent only in effect (each call makes
    new keys)."""
    until = revoked_until(now, policy)
    revoked = {kid: u for kid, u in keyset.revoked.items() if u >= now}
    for record in keyset.records:
        revoked[record.kid] = max(until, revoked.get(record.kid, 0))
    main = (_new_record(generate, alg, ACTIVE, now), _new_record(generate, alg, NEXT, now))
    id_tokens = (
        (
            _new_record(generate, ID_TOKEN_ALG, ACTIVE, now, ID_TOKEN),
            _new_record(generate, ID_TOKEN_ALG, NEXT, now, ID_TOKEN),
        )
        if needs_id_token_lineage(alg, main)
        else ()
    )
    return KeySet(
        (*main, *id_tokens),
        revoked=revoked,
        grace_secret=random_bytes(GRACE_SECRET_BYTES),
        based_on=keyset.based_on,
    )


_DEFAULT_POLICY = RotationPolicy(
    cache_ttl=Settings._field_defaults["key_cache_ttl"],
    max_token_lifetime=Settings._field_defaults["max_access_token_lifetime"],
    leeway=Settings._field_defaults["leeway"],
)
