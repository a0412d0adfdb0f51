"""Key operations on the two key secrets: the four-step rotation protocol and emergency revocation.

**Compare-and-swap.** Every key operation takes effect only on the secret versions it read.
A new value is written as a new version under a private staging label (:data:`KEYOP_STAGE` for
the public secret and for revocations; ``AWSPENDING`` for rotations), then ``AWSCURRENT`` is
moved to it with ``UpdateSecretVersionStage(MoveToVersionId=new, RemoveFromVersionId=read)``,
which Secrets Manager refuses (``InvalidParameterException``) when ``read`` no longer holds
``AWSCURRENT``. A lost swap is re-read and redone (at most :data:`MAX_ATTEMPTS` times) or
refused with a clear error. Every signing-set document records the version it was computed
from (``based_on``).

**Rotation** (Secrets Manager calls the rotation function four times with the same
``ClientRequestToken``, the id of the new version; every step is safe to retry and to receive
out of order):

``createSecret``
    Compute the rotated key set from ``AWSCURRENT`` (:func:`auth_core.rotation.rotate`) and
    store it as the token's version, staged ``AWSPENDING``, with ``based_on`` = the version it
    read. If that version already holds a value, do nothing (a retry must not generate
    different keys). Also re-asserts the revoked kids in the revocation feed (when configured).
``setSecret``
    Publish the pending set's public JWKS, minus every kid the current set has revoked; public
    keys the pending set does not know (another operation's fresh keys) are kept, keys it
    dropped on purpose (expired retired keys) are removed. Compare-and-swap on the public
    secret. Same content => no new version.
``testSecret``
    Sign a probe access token with the pending active key and verify it with the ordinary
    verifier against the JWKS *read back* from the public secret.
``finishSecret``
    Refuse unless the pending set is published, then swap ``AWSCURRENT`` from the version the
    pending set was based on to the token's version, and remove its ``AWSPENDING`` label.

``setSecret``, ``testSecret`` and ``finishSecret`` refuse a **stale** rotation: one whose
``based_on`` is no longer ``AWSCURRENT`` (a revocation or another rotation won meanwhile). They
remove its ``AWSPENDING`` label and raise :class:`RotationError`: Secrets Manager's retries are
then refused too, and the next rotation starts over from the new ``AWSCURRENT``.

Every step first checks that rotation is enabled, that the token is a version of the secret
and that it is staged ``AWSPENDING``; a token already ``AWSCURRENT`` makes ``finishSecret`` a
no-op and the other steps a refusal.

**Revocation** (:meth:`KeyRotator.revoke`, :meth:`KeyRotator.revoke_all`), in this order, so
that no intermediate state refuses a valid token or republishes a revoked key:

1. publish the current public set (minus kids revoked *earlier*) plus the new keys (CAS; always
   a new version, which also fences off a concurrent ``setSecret`` that read the old one);
2. swap the signing set (CAS on the version read; this voids any rotation in progress);
3. write the revoked kids to the revocation feed (and, for ``--all``, the global cut-off);
4. publish the final public set: without any revoked kid (CAS).

A revocation that fails half-way leaves a state that refuses no valid token, and is repaired by
running it again or by the next key operation (which re-asserts every remembered revoked kid).

Logs carry step, version ids, kids and statuses; never key material, never the grace secret.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from auth_core import aws
from auth_core.claims import ClaimsPolicy
from auth_core.errors import (
    AuthError,
    ConfigurationError,
    KeyFormatError,
    KeyStoreError,
    RotationError,
    TokenError,
)
from auth_core.jwk import JWKSet
from auth_core.keyset import KeySet
from auth_core.keystore import CURRENT, PENDING
from auth_core.regions import replica_primary_region
from auth_core.rotation import (
    KeyGenerator,
    RotationPolicy,
    revoke_all,
    revoke_kids,
    revoked_until,
    rotate,
    victims_of,
)
from auth_core.settings import Settings
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier

__all__ = ["KEYOP_STAGE", "MAX_ATTEMPTS", "STEPS", "KeyRotator", "RevocationOutcome", "SecretsManagerError"]

#: The private staging label of versions written by revocations and public-JWKS writes, between
#: their ``PutSecretValue`` and the swap of ``AWSCURRENT`` (never ``AWSPENDING``, which belongs
#: to a rotation in progress).
KEYOP_STAGE = "KEYOP"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
#: How often a key operation re-reads and redoes after losing a compare-and-swap.
MAX_ATTEMPTS = 5

#: probe tokens are never accepted anywhere else: a private issuer and audience.
PROBE_ISSUER = "https://rotation-probe.invalid"
PROBE_AUDIENCE = "urn:serverless-jwt-auth:rotation-probe"

_log = logging.getLogger(__name__)

JwkDoc = dict[str, Any]


def _canonical(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


class SecretsManagerError(KeyStoreError):
    """A Secrets Manager call failed: the core's own type for every botocore error of the
    rotation (a wrong secret name, a missing permission, throttling...). The botocore error is
    chained (``__cause__``); ``code`` is its error code (``ResourceNotFoundException``...)."""

    reason = "secrets_manager"

    def __init__(self, operation: str, code: str) -> None:
        reason = "secret_not_found" if code == "ResourceNotFoundException" else None
        super().__init__(f"Secrets Manager {operation} failed ({code or 'error'})", reason=reason)
        self.code = code


class _SecretsManager:
    """A Secrets Manager client whose calls raise :class:`SecretsManagerError`, never a raw
    botocore (or lean-client) error. Every other attribute passes through."""

    def __init__(self, client: Any) -> None:
        self._client = client
        own = getattr(type(client), "errors", None)
        if isinstance(own, tuple):  # the boto3-free client names its own failures
            self._failures: tuple[type[BaseException], ...] = own
        else:
            from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto is lazy

            self._failures = (ClientError, BotoCoreError)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except AuthError:
                raise
            except self._failures as exc:
                raise SecretsManagerError(name, _error_code(exc)) from exc

        return call


def _error_code(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return code
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _refuse_replica(meta: Mapping[str, Any]) -> None:
    """A replica secret (another region's copy) cannot be written: every key operation runs
    where the secret is primary, and Secrets Manager replicates the result."""
    primary = replica_primary_region(meta)
    if primary is not None:
        raise RotationError(
            f"this secret is a replica: rotate or revoke keys in its primary region {primary}",
            reason="replica",
        )


def _keyset_or_bootstrap(text: str) -> KeySet:
    """A key set, where a placeholder (empty string, ``{}``, no ``keys``) counts as empty: the
    template may create the secret with a placeholder, and the first rotation bootstraps it."""
    if not text.strip():
        return KeySet.empty()
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise KeyFormatError("the signing key set is not JSON") from exc
    if isinstance(doc, dict) and not doc.get("keys") and not doc.get("revoked"):
        return KeySet.empty()
    return KeySet.from_dict(doc)


def _merge(
    base: Iterable[JwkDoc], add: Iterable[JwkDoc], *, drop: Iterable[str] = ()
) -> dict[str, list[JwkDoc]]:
    """``{"keys": ...}``: ``add`` first (in order), then the keys of ``base`` not in ``add``,
    without any kid in ``drop``."""
    dropped = set(drop)
    out: list[JwkDoc] = []
    seen: set[str] = set()
    for jwk in (*add, *base):
        kid = str(jwk.get("kid"))
        if kid in dropped or kid in seen:
            continue
        seen.add(kid)
        out.append(jwk)
    return {"keys": out}


@dataclass(frozen=True)
class _Version:
    """What ``describe_secret`` says about the token's version."""

    stages: tuple[str, ...] | None  # None: not a version of the secret
    current_version: str | None


@dataclass(frozen=True)
class RevocationOutcome:
    """What a revocation did.

    :ivar keyset: the signing set now current (never print its keys or grace secret).
    :ivar kids: the kids this revocation removed (the requested ones and those revoked with
        them), sorted.
    :ivar until: until when they stay in the revocation feed (epoch seconds).
    :ivar cutoff_ms: the global cut-off written by ``revoke --all`` (epoch ms), else ``None``.
    """

    keyset: KeySet
    kids: tuple[str, ...]
    until: int
    cutoff_ms: int | None = None


class KeyRotator:
    """Runs the rotation steps for the signing-key secret and writes the public JWKS secret.

    :param public_secret_id: the public JWKS secret.
    :param alg: algorithm of newly created keys.
    :param policy: timing rules (:class:`RotationPolicy`).
    :param signing_secret_id: if set, the only secret this rotator accepts (name or ARN).
    :param client: a Secrets Manager client; default the lazy shared one.
    :param clock: wall clock, epoch seconds (key dates and the probe token).
    :param generate: key generator (tests inject a fast or counting one).
    :param logger: where step outcomes are logged (never key material).
    :param revocations: the revocation feed's store (``RevocationStore``); required by the
        revocations, used by rotations (when set) to re-assert remembered revoked kids.
    """

    def __init__(
        self,
        *,
        public_secret_id: str,
        alg: str,
        policy: RotationPolicy,
        signing_secret_id: str = "",
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
        generate: KeyGenerator | None = None,
        logger: Any | None = None,
        revocations: Any | None = None,
    ) -> None:
        if not public_secret_id:
            raise RotationError("PUBLIC_JWKS_SECRET_ID is not set", reason="configuration")
        self.public_secret_id = public_secret_id
        self.alg = alg
        self.policy = policy
        self.signing_secret_id = signing_secret_id
        self.revocations = revocations
        self._client = client
        self._clock = clock
        self._generate = generate
        self._log = logger or _log

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> KeyRotator:
        """A rotator configured from ``PUBLIC_JWKS_SECRET_ID``, ``SIGNING_ALG``, the key timings,
        ``SIGNING_KEYS_SECRET_ID`` as the only accepted secret, and ``REVOCATIONS_TABLE`` (when
        set) as the revocation feed.

        :raises ConfigurationError: ``PUBLIC_JWKS_SECRET_ID`` is not set.
        """
        if "revocations" not in kwargs and settings.revocations_table:
            from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415 - only when configured

            kwargs["revocations"] = RevocationStore(
                settings.revocations_table, clock=kwargs.get("clock", time.time)
            )
        return cls(
            public_secret_id=settings.require("public_jwks_secret_id"),
            alg=settings.signing_alg,
            policy=RotationPolicy.from_settings(settings),
            signing_secret_id=settings.signing_keys_secret_id,
            **kwargs,
        )

    # ------------------------------------------------------------------ entry points
    def handle(self, step: str, secret_id: str, token: str) -> None:
        """Run one step of a Secrets Manager rotation.

        :raises RotationError: unknown step, refused token, stale rotation, or a failed check.
        :raises KeyStoreError: a secret could not be read or is malformed.
        """
        steps: dict[str, Callable[[str, str], None]] = {
            "createSecret": self.create_secret,
            "setSecret": self.set_secret,
            "testSecret": self.test_secret,
            "finishSecret": self.finish_secret,
        }
        run = steps.get(step)
        if run is None:
            raise RotationError("unknown rotation step")
        run(secret_id, token)

    def rotate_direct(self, secret_id: str, token: str | None = None) -> str:
        """Run the four steps in process, without ``RotateSecret`` (operator tool, local stack).

        The token's version is created by ``createSecret`` itself, and rotation need not be
        enabled on the secret. Returns the new version id.

        :raises RotationError: a step refused (nothing half-written; re-run is safe).
        """
        token = token or str(uuid.uuid4())
        self._create(secret_id, token, direct=True)
        self.set_secret(secret_id, token, direct=True)
        self.test_secret(secret_id, token, direct=True)
        self.finish_secret(secret_id, token, direct=True)
        return token

    # ------------------------------------------------------------------ the four steps
    def create_secret(self, secret_id: str, token: str) -> None:
        """Store the rotated key set as the token's ``AWSPENDING`` version (once)."""
        self._create(secret_id, token, direct=False)

    def set_secret(self, secret_id: str, token: str, *, direct: bool = False) -> None:
        """Publish the pending set's public JWKS (no new version when unchanged).

        :raises RotationError: stale rotation, or the public secret kept changing.
        """
        if self._check(secret_id, token, "setSecret", direct=direct) is None:
            return
        pending = self._read_pending(secret_id, token)
        for _attempt in range(MAX_ATTEMPTS):
            # public first: a swap of the signing set after this read also moved the public
            # secret (revocation step 1), so our compare-and-swap below would fail
            published, public_version = self._read_public()
            current, current_version = self._read_signing(secret_id)
            self._refuse_if_stale(secret_id, token, pending, current, current_version, "setSecret")
            known = {r.kid for r in current.records} | {r.kid for r in pending.records}
            foreign = [k for k in (published or {}).get("keys", []) if k.get("kid") not in known]
            wanted = _merge(foreign, pending.public_jwks()["keys"], drop=[*current.revoked, *pending.revoked])
            if published is not None and _canonical(published) == _canonical(wanted):
                self._log.info("public JWKS already up to date", extra={"step": "setSecret"})
                return
            if self._swap(self.public_secret_id, public_version, _canonical(wanted)) is not None:
                self._log.info(
                    "public JWKS published",
                    extra={"step": "setSecret", "kids": sorted(str(k["kid"]) for k in wanted["keys"])},
                )
                return
        raise RotationError("the public JWKS kept changing during setSecret: retry later", reason="conflict")

    def test_secret(self, secret_id: str, token: str, *, direct: bool = False) -> None:
        """Sign a probe token with the pending active key; verify it against the published JWKS.

        :raises RotationError: stale rotation, or the probe does not verify (not published
            yet, wrong key...).
        """
        if self._check(secret_id, token, "testSecret", direct=direct) is None:
            return
        pending = self._read_pending(secret_id, token, placeholder_ok=True)
        if not pending.records:
            # ``RotateSecret(RotateImmediately=false)`` only tests the configuration, on a copy of
            # AWSCURRENT; before the first rotation that is the empty placeholder: nothing to sign
            self._log.info("empty key set: nothing to probe", extra={"step": "testSecret"})
            return
        current, current_version = self._read_signing(secret_id)
        self._refuse_if_stale(secret_id, token, pending, current, current_version, "testSecret")
        published_doc, _version = self._read_public()
        if published_doc is None:
            raise RotationError("the public JWKS secret has no value yet: run setSecret first")
        published = JWKSet.from_dict(published_doc)
        missing = {k["kid"] for k in pending.public_jwks()["keys"]} - set(published.kids)
        if missing:
            raise RotationError("the pending key set is not fully published: run setSecret first")
        clock = self._clock
        probe_kid = pending.get_signing_key().kid
        issuer = AccessTokenIssuer(PROBE_ISSUER, PROBE_AUDIENCE, 60, clock=clock)
        probe = issuer.issue(
            pending.get_signing_key(), subject="rotation-probe", client_id="rotation-probe", scope=("probe",)
        )
        verifier = AccessTokenVerifier(ClaimsPolicy(PROBE_ISSUER, PROBE_AUDIENCE), published, clock=clock)
        try:
            verifier.verify(probe.token)
        except TokenError as exc:
            raise RotationError(f"probe token refused by the published JWKS ({exc.reason})") from exc
        self._log.info("probe token verified", extra={"step": "testSecret", "kid": probe_kid})

    def finish_secret(self, secret_id: str, token: str, *, direct: bool = False) -> None:
        """Swap ``AWSCURRENT`` from the version the pending set was based on to the token's
        version; drop its ``AWSPENDING`` label.

        :raises RotationError: stale rotation (``AWSCURRENT`` moved since ``createSecret``), or
            the pending set is not published.
        """
        version = self._check(secret_id, token, "finishSecret", direct=direct)
        if version is None:
            self._drop_label(secret_id, token, PENDING)
            return
        pending = self._read_pending(secret_id, token)
        current, current_version = self._read_signing(secret_id)
        self._refuse_if_stale(secret_id, token, pending, current, current_version, "finishSecret")
        published, _version = self._read_public()
        published_keys = {_canonical(k) for k in (published or {}).get("keys", [])}
        published_kids = {k.get("kid") for k in (published or {}).get("keys", [])}
        if published is None or any(
            _canonical(k) not in published_keys for k in pending.public_jwks()["keys"]
        ):
            raise RotationError("the published JWKS does not match the pending key set: run setSecret")
        if published_kids & (set(pending.revoked) | set(current.revoked)):
            raise RotationError("the published JWKS holds a revoked kid: run setSecret")
        if not self._move_current(secret_id, token, current_version):
            self._abandon(secret_id, token, "finishSecret")
        self._drop_label(secret_id, token, PENDING)
        self._log.info("rotation finished", extra={"step": "finishSecret", "version": token})

    # ------------------------------------------------------------------ emergency revocation
    def revoke(self, secret_id: str, kid: str) -> RevocationOutcome:
        """Revoke one signing key now (see the module docstring for the order of the writes).

        ``kid`` leaves the signing set and the public JWKS and enters the revocation feed; if it
        was ``active``, signing moves to a fresh key and ``next`` is replaced (and revoked) too.
        Running it again for a kid already revoked repairs a half-done revocation.

        :raises KeyStoreError: ``kid`` is unknown (neither in the set, nor revoked, nor
            published), or a secret cannot be read.
        :raises RotationError: the secrets kept changing (lost every compare-and-swap).
        :raises ConfigurationError: no revocation feed is configured.
        :raises TemporarilyUnavailableError: the revocation feed could not be written.
        """
        return self._revoke(secret_id, frozenset({kid}), everything=False)

    def revoke_all(self, secret_id: str) -> RevocationOutcome:
        """Whole-secret compromise: replace every private key (fresh ``active`` and ``next``),
        remove every old kid from the public JWKS at once, put them all in the revocation feed,
        regenerate the grace secret, and end every session (the feed's global cut-off).

        :raises RotationError: the secrets kept changing (lost every compare-and-swap).
        :raises ConfigurationError: no revocation feed is configured.
        :raises TemporarilyUnavailableError: the revocation feed could not be written.
        """
        return self._revoke(secret_id, frozenset(), everything=True)

    def _revoke(self, secret_id: str, kids: frozenset[str], *, everything: bool) -> RevocationOutcome:
        if self.revocations is None:
            raise ConfigurationError("revoking a key needs the revocation feed: set REVOCATIONS_TABLE")
        _refuse_replica(self._sm().describe_secret(SecretId=secret_id))
        wanted = set(kids)
        orphans: set[str] = set()  # fresh kids of attempts whose swap was refused: never signed anything
        for attempt in range(MAX_ATTEMPTS):
            published, public_version = self._read_public()
            current, current_version = self._read_signing(secret_id)
            now = int(self._clock())
            published_keys: list[JwkDoc] = list((published or {}).get("keys", []))
            if everything:
                wanted |= {r.kid for r in current.records}
                target = revoke_all(current, alg=self.alg, now=now, policy=self.policy, **self._gen_kwargs())
                # kids of an earlier attempt's read that this read no longer has: revoked as well
                revoked = dict(target.revoked)
                for kid in wanted:
                    revoked.setdefault(kid, revoked_until(now, self.policy))
                target = target.evolve(revoked=revoked)
            else:
                known = {r.kid for r in current.records} | set(current.revoked)
                known |= {str(k.get("kid")) for k in published_keys}
                if not wanted & known:
                    raise KeyStoreError("no key with this kid in the signing key set", reason="kid_not_found")
                wanted |= victims_of(current, wanted)
                target = revoke_kids(
                    current, wanted, alg=self.alg, now=now, policy=self.policy, **self._gen_kwargs()
                )
            target = target.evolve(based_on=current_version) if current_version else target
            fresh = [r.public_jwk() for r in target.records if current.get(r.kid) is None]
            # (1) the current public keys (minus kids revoked earlier) plus the new ones; always a
            # new version: it fences off a concurrent setSecret that read the previous one
            step1 = _merge(published_keys, fresh, drop=[*current.revoked, *orphans])
            public_version = self._swap(self.public_secret_id, public_version, _canonical(step1))
            if public_version is None:
                continue
            # (2) the signing set, only on the version read
            if not target.same_content(current):
                new_version = self._swap(secret_id, current_version, target.to_json())
                if new_version is None:
                    orphans |= {str(k["kid"]) for k in fresh}
                    self._log.info("signing key set changed meanwhile: redo", extra={"attempt": attempt})
                    continue
                self._abort_stale_rotations(secret_id, new_version)
            # (3) the feed: every remembered revoked kid (re-asserted), and the global cut-off
            cutoff_ms = self._write_feed(target, everything=everything)
            # (4) the final public set: no revoked kid, none of our orphans
            final = _merge(step1["keys"], target.public_jwks()["keys"], drop=[*target.revoked, *orphans])
            if (
                _canonical(final) != _canonical(step1)
                and self._swap(self.public_secret_id, public_version, _canonical(final)) is None
            ):
                self._log.info("public JWKS changed meanwhile: redo", extra={"attempt": attempt})
                continue
            removed = tuple(sorted(wanted & set(target.revoked)))
            self._log.warning(
                "signing keys revoked",
                extra={
                    "kids": list(removed),
                    "active": target.active.kid if target.active else None,
                    "next": target.next.kid if target.next else None,
                    "all": everything,
                },
            )
            until = max((target.revoked[k] for k in removed), default=now)
            return RevocationOutcome(keyset=target, kids=removed, until=until, cutoff_ms=cutoff_ms)
        raise RotationError(
            f"the key secrets kept changing (another key operation?): gave up after {MAX_ATTEMPTS} attempts; "
            "re-run the command",
            reason="conflict",
        )

    def _write_feed(self, target: KeySet, *, everything: bool) -> int | None:
        """Re-assert every remembered revoked kid in the feed; the global cut-off for ``--all``."""
        assert self.revocations is not None  # noqa: S101 - checked by the caller (for mypy)
        by_until: dict[int, list[str]] = {}
        for kid, until in target.revoked.items():
            by_until.setdefault(until, []).append(kid)
        for until, kids in sorted(by_until.items()):
            self.revocations.revoke_signing_keys(kids, until=until)
        if not everything:
            return None
        cutoff_ms = int(self._clock() * 1000)
        self.revocations.set_global_cutoff(cutoff_ms)
        return cutoff_ms

    # ------------------------------------------------------------------ internals
    def _create(self, secret_id: str, token: str, *, direct: bool) -> None:
        version = self._check(secret_id, token, "createSecret", direct=direct)
        if version is None:
            return
        if version.stages is not None and self._pending_exists(secret_id, token):
            self._log.info("pending version already exists", extra={"step": "createSecret"})
            return
        current, current_version = self._read_signing(secret_id, missing_ok=True)
        self._reassert_feed(current)
        published_doc, _version = self._read_public()
        published = frozenset(k.get("kid") for k in (published_doc or {}).get("keys", []))
        rotated = rotate(
            current,
            alg=self.alg,
            now=int(self._clock()),
            policy=self.policy,
            published=published,
            **self._gen_kwargs(),
        )
        if current_version:
            rotated = rotated.evolve(based_on=current_version)
        self._sm().put_secret_value(
            SecretId=secret_id,
            ClientRequestToken=token,
            SecretString=rotated.to_json(),
            VersionStages=[PENDING],
        )
        self._log.info(
            "pending key set created",
            extra={"step": "createSecret", "keys": [(r.key.kid, r.status) for r in rotated.records]},
        )

    def _reassert_feed(self, current: KeySet) -> None:
        """Best effort: a rotation must not fail because the feed is unreachable (the revoked
        kids are out of both secrets either way; the feed only speeds their refusal up)."""
        if self.revocations is None or not current.revoked:
            return
        try:
            self._write_feed(current, everything=False)
        except AuthError as exc:
            self._log.warning("could not re-assert revoked kids in the feed", extra={"reason": exc.reason})

    def _refuse_if_stale(
        self,
        secret_id: str,
        token: str,
        pending: KeySet,
        current: KeySet,
        current_version: str | None,
        step: str,
    ) -> None:
        """Abandon the rotation when ``AWSCURRENT`` moved since ``createSecret``."""
        if pending.based_on is None or pending.based_on == current_version:
            return
        if pending.same_content(current):  # RotateImmediately=false: a copy of AWSCURRENT
            return
        self._abandon(secret_id, token, step)

    def _abandon(self, secret_id: str, token: str, step: str) -> None:
        self._drop_label(secret_id, token, PENDING, unless_current=True)
        self._log.warning("stale rotation abandoned", extra={"step": step, "version": token})
        raise RotationError(
            "the signing key set changed since createSecret (a revocation or another rotation): "
            "this rotation is abandoned; the next one starts over",
            reason="stale_rotation",
        )

    def _abort_stale_rotations(self, secret_id: str, current_version: str) -> None:
        """After a revocation's swap: drop ``AWSPENDING`` from a pending rotation computed from an
        older set (its steps would refuse anyway; this lets the next rotation start at once)."""
        try:
            versions = self._sm().describe_secret(SecretId=secret_id).get("VersionIdsToStages") or {}
            for version_id, stages in versions.items():
                if PENDING not in stages or CURRENT in stages or version_id == current_version:
                    continue
                try:
                    text = self._sm().get_secret_value(SecretId=secret_id, VersionId=version_id)[
                        "SecretString"
                    ]
                except Exception:  # noqa: BLE001, S112 - a valueless pending version: createSecret has not run
                    continue
                based_on = _keyset_or_bootstrap(text).based_on
                if based_on != current_version:
                    self._drop_label(secret_id, version_id, PENDING, unless_current=True)
                    self._log.info("pending rotation voided by a revocation", extra={"version": version_id})
        except Exception as exc:  # noqa: BLE001 - best effort: the rotation's own steps refuse anyway
            self._log.info("could not void a pending rotation", extra={"error": type(exc).__name__})

    def _swap(self, secret_id: str, expected: str | None, text: str) -> str | None:
        """Write ``text`` as a new version and move ``AWSCURRENT`` to it from ``expected``.

        Returns the new version id, or ``None`` when ``expected`` no longer holds ``AWSCURRENT``
        (the write then never becomes current).
        """
        sm = self._sm()
        new_version = str(uuid.uuid4())
        sm.put_secret_value(
            SecretId=secret_id, ClientRequestToken=new_version, SecretString=text, VersionStages=[KEYOP_STAGE]
        )
        moved = self._move_current(secret_id, new_version, expected)
        self._drop_label(secret_id, new_version, KEYOP_STAGE)
        return new_version if moved else None

    def _move_current(self, secret_id: str, new_version: str, expected: str | None) -> bool:
        """The compare-and-swap: ``False`` when ``expected`` no longer holds ``AWSCURRENT``."""
        try:
            self._sm().update_secret_version_stage(
                SecretId=secret_id,
                VersionStage=CURRENT,
                MoveToVersionId=new_version,
                **({"RemoveFromVersionId": expected} if expected else {}),
            )
        except Exception as exc:
            if _error_code(exc) in {"InvalidParameterException", "InvalidRequestException"}:
                return False
            raise
        return True

    def _gen_kwargs(self) -> dict[str, Any]:
        return {"generate": self._generate} if self._generate is not None else {}

    def _sm(self) -> Any:
        return _SecretsManager(self._client if self._client is not None else aws.client("secretsmanager"))

    def _check(self, secret_id: str, token: str, step: str, *, direct: bool = False) -> _Version | None:
        """Validate the request; ``None`` means "already done, nothing to do" (finishSecret).

        ``direct`` (operator runs without ``RotateSecret``): rotation need not be enabled, and
        ``createSecret`` may create the token's version itself.
        """
        meta = self._sm().describe_secret(SecretId=secret_id)
        _refuse_replica(meta)
        names = (secret_id, meta.get("ARN"), meta.get("Name"))
        if self.signing_secret_id and self.signing_secret_id not in names:
            raise RotationError("this function rotates another secret")
        if not direct and not meta.get("RotationEnabled"):
            raise RotationError("rotation is not enabled on the secret")
        versions: Mapping[str, list[str]] = meta.get("VersionIdsToStages") or {}
        current_version = next((v for v, s in versions.items() if CURRENT in s), None)
        stages = versions.get(token)
        if stages is None:
            if step == "createSecret" and direct:
                return _Version(None, current_version)
            raise RotationError("the token is not a version of the secret")
        if CURRENT in stages:
            if step == "finishSecret":
                return None
            raise RotationError("the token's version is already AWSCURRENT")
        if PENDING not in stages:
            raise RotationError("the token's version is not staged AWSPENDING")
        return _Version(tuple(stages), current_version)

    def _pending_exists(self, secret_id: str, token: str) -> bool:
        try:
            self._sm().get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)
        except Exception as exc:
            if _error_code(exc) == "ResourceNotFoundException":
                return False
            if _error_code(exc) == "InvalidRequestException":  # its AWSPENDING label was just removed
                raise RotationError("the token's version is no longer staged AWSPENDING") from exc
            raise KeyStoreError("could not read the pending version") from exc
        return True

    def _read_pending(self, secret_id: str, token: str, *, placeholder_ok: bool = False) -> KeySet:
        try:
            text = self._sm().get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)[
                "SecretString"
            ]
        except Exception as exc:
            if _error_code(exc) == "ResourceNotFoundException":
                raise RotationError("the pending version has no value: run createSecret first") from exc
            if _error_code(exc) == "InvalidRequestException":  # its AWSPENDING label was just removed
                raise RotationError("the token's version is no longer staged AWSPENDING") from exc
            raise KeyStoreError("could not read the pending version") from exc
        return _keyset_or_bootstrap(text) if placeholder_ok else KeySet.from_json(text)

    def _read_signing(self, secret_id: str, *, missing_ok: bool = True) -> tuple[KeySet, str | None]:
        """``AWSCURRENT`` of the signing secret and its version id (a placeholder is empty)."""
        try:
            answer = self._sm().get_secret_value(SecretId=secret_id, VersionStage=CURRENT)
        except Exception as exc:
            if missing_ok and _error_code(exc) == "ResourceNotFoundException":
                return KeySet.empty(), None
            raise KeyStoreError("could not read the signing key set (AWSCURRENT)") from exc
        return _keyset_or_bootstrap(answer.get("SecretString") or ""), answer.get("VersionId")

    def _read_public(self) -> tuple[dict[str, Any] | None, str | None]:
        """The published JWKS document (validated) and its version; ``(None, None)`` when the
        secret has no value."""
        try:
            answer = self._sm().get_secret_value(SecretId=self.public_secret_id, VersionStage=CURRENT)
        except Exception as exc:
            if _error_code(exc) == "ResourceNotFoundException":
                return None, None
            raise KeyStoreError("could not read the public JWKS secret") from exc
        return JWKSet.from_json(answer["SecretString"]).to_dict(), answer.get("VersionId")

    def _drop_label(
        self, secret_id: str, version_id: str, label: str, *, unless_current: bool = False
    ) -> None:
        meta = self._sm().describe_secret(SecretId=secret_id)
        stages = (meta.get("VersionIdsToStages") or {}).get(version_id, [])
        if label not in stages or (unless_current and CURRENT in stages):
            return
        try:
            self._sm().update_secret_version_stage(
                SecretId=secret_id, VersionStage=label, RemoveFromVersionId=version_id
            )
        except Exception as exc:
            # a concurrent key operation moved the label meanwhile (labels are per secret): fine
            if _error_code(exc) not in {"InvalidParameterException", "InvalidRequestException"}:
                raise
