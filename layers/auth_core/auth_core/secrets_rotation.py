"""The Secrets Manager rotation protocol for the signing-key secret (four steps).

Secrets Manager calls the rotation function four times with the same ``ClientRequestToken``
(the id of the new secret version). Every step is safe to retry and to receive out of order:

``createSecret``
    Compute the rotated key set from ``AWSCURRENT`` (:func:`auth_core.rotation.rotate`) and
    store it as the token's version, staged ``AWSPENDING``. If that version already holds a
    value, do nothing (a retry must not generate different keys).
``setSecret``
    Publish the pending set's public JWKS to the public secret. The pending public set is a
    superset of every key current signers may use (their active key is retired, not dropped,
    in the pending set), so publishing before ``finishSecret`` is safe. Same content as the
    published JWKS => no new version.
``testSecret``
    Sign a probe access token with the pending active key and verify it with the ordinary
    verifier against the JWKS *read back* from the public secret.
``finishSecret``
    Refuse unless the published JWKS equals the pending public set, then move ``AWSCURRENT``
    to the token's version and remove its ``AWSPENDING`` label (an ``AWSPENDING`` left on the
    current version blocks the next ``RotateSecret`` in moto).

Every step first checks that rotation is enabled, that the token is a version of the secret
and that it is staged ``AWSPENDING``; a token already ``AWSCURRENT`` makes ``finishSecret`` a
no-op and the other steps a refusal. A refusal raises :class:`RotationError`, which fails the
invocation: Secrets Manager retries, nothing has been half-written (each step makes at most one
write, and the public write happens before anything can sign with a new key).

Logs carry step, version ids, kids and statuses; never key material.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from auth_core import aws
from auth_core.claims import ClaimsPolicy
from auth_core.errors import KeyFormatError, KeyStoreError, RotationError, TokenError
from auth_core.jwk import JWKSet
from auth_core.keyset import KeySet
from auth_core.rotation import KeyGenerator, RotationPolicy, revoke_kid, rotate
from auth_core.settings import Settings
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier

__all__ = ["STEPS", "KeyRotator"]

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")

#: probe tokens are never accepted anywhere else: a private issuer and audience.
PROBE_ISSUER = "https://rotation-probe.invalid"
PROBE_AUDIENCE = "urn:serverless-jwt-auth:rotation-probe"

_log = logging.getLogger(__name__)


def _canonical(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _keyset_or_bootstrap(text: str) -> KeySet:
    """A key set, where a placeholder (empty string, ``{}``, no ``keys``) counts as empty: the
    template may create the secret with a placeholder, and the first rotation bootstraps it."""
    if not text.strip():
        return KeySet.empty()
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise KeyFormatError("the signing key set is not JSON") from exc
    if isinstance(doc, dict) and not doc.get("keys"):
        return KeySet.empty()
    return KeySet.from_dict(doc)


@dataclass(frozen=True)
class _Version:
    """What ``describe_secret`` says about the token's version."""

    stages: tuple[str, ...] | None  # None: not a version of the secret
    current_version: str | None


class KeyRotator:
    """Runs the rotation steps for the signing-key secret and writes the public JWKS secret.

    :param public_secret_id: the public JWKS secret (written by ``setSecret`` only).
    :param alg: algorithm of newly created keys.
    :param policy: timing rules (:class:`RotationPolicy`).
    :param signing_secret_id: if set, the only secret this rotator accepts (name or ARN).
    :param client: a Secrets Manager client; default the lazy shared one.
    :param clock: wall clock, epoch seconds (key dates and the probe token).
    :param generate: key generator (tests inject a fast or counting one).
    :param logger: where step outcomes are logged (never key material).
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
    ) -> None:
        if not public_secret_id:
            raise RotationError("PUBLIC_JWKS_SECRET_ID is not set", reason="configuration")
        self.public_secret_id = public_secret_id
        self.alg = alg
        self.policy = policy
        self.signing_secret_id = signing_secret_id
        self._client = client
        self._clock = clock
        self._generate = generate
        self._log = logger or _log

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> KeyRotator:
        """A rotator configured from ``PUBLIC_JWKS_SECRET_ID``, ``SIGNING_ALG``, the key timings,
        and ``SIGNING_KEYS_SECRET_ID`` as the only accepted secret.

        :raises ConfigurationError: ``PUBLIC_JWKS_SECRET_ID`` is not set.
        """
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

        :raises RotationError: unknown step, refused token, or a failed check.
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
        """Publish the pending set's public JWKS (no new version when unchanged)."""
        if self._check(secret_id, token, "setSecret", direct=direct) is None:
            return
        pending = self._read_pending(secret_id, token)
        wanted = pending.public_jwks()
        published = self._read_public_doc()
        if published is not None and _canonical(published) == _canonical(wanted):
            self._log.info("public JWKS already up to date", extra={"step": "setSecret"})
            return
        self._sm().put_secret_value(
            SecretId=self.public_secret_id,
            ClientRequestToken=str(uuid.uuid5(uuid.NAMESPACE_URL, f"jwks-publish:{token}")),
            SecretString=_canonical(wanted),
        )
        self._log.info(
            "public JWKS published",
            extra={"step": "setSecret", "kids": sorted(k["kid"] for k in wanted["keys"])},
        )

    def test_secret(self, secret_id: str, token: str, *, direct: bool = False) -> None:
        """Sign a probe token with the pending active key; verify it against the published JWKS.

        :raises RotationError: the probe does not verify (not published yet, wrong key...).
        """
        if self._check(secret_id, token, "testSecret", direct=direct) is None:
            return
        pending = self._read_pending(secret_id, token, placeholder_ok=True)
        if not pending.records:
            # ``RotateSecret(RotateImmediately=false)`` only tests the configuration, on a copy of
            # AWSCURRENT; before the first rotation that is the empty placeholder: nothing to sign
            self._log.info("empty key set: nothing to probe", extra={"step": "testSecret"})
            return
        published_doc = self._read_public_doc()
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
        """Make the token's version ``AWSCURRENT`` and drop its ``AWSPENDING`` label."""
        version = self._check(secret_id, token, "finishSecret", direct=direct)
        sm = self._sm()
        if version is None:
            self._drop_pending_label(secret_id, token)
            return
        pending = self._read_pending(secret_id, token)
        published = self._read_public_doc()
        if published is None or _canonical(published) != _canonical(pending.public_jwks()):
            raise RotationError("the published JWKS does not match the pending key set: run setSecret")
        sm.update_secret_version_stage(
            SecretId=secret_id,
            VersionStage=CURRENT,
            MoveToVersionId=token,
            **({"RemoveFromVersionId": version.current_version} if version.current_version else {}),
        )
        self._drop_pending_label(secret_id, token)
        self._log.info("rotation finished", extra={"step": "finishSecret", "version": token})

    # ------------------------------------------------------------------ emergency revocation
    def revoke(self, secret_id: str, kid: str) -> KeySet:
        """Remove ``kid`` from both secrets now (new ``AWSCURRENT`` versions of each).

        The public JWKS is written first, so the fresh signing key is published before any
        signer can pick it up. A failure between the two writes is repaired by running the
        command again. Returns the new private key set (for listing; never print its keys).

        :raises KeyStoreError: ``kid`` is not in the set, or a secret cannot be read/written.
        """
        current = self._read_keyset(secret_id, CURRENT)
        revoked = revoke_kid(current, kid, alg=self.alg, now=int(self._clock()), **self._gen_kwargs())
        sm = self._sm()
        sm.put_secret_value(SecretId=self.public_secret_id, SecretString=_canonical(revoked.public_jwks()))
        # the signing secret: stage explicitly (AWSPENDING, then move AWSCURRENT), exactly like
        # finishSecret; this also aborts a rotation in progress, whose steps then refuse to run
        token = str(uuid.uuid4())
        sm.put_secret_value(
            SecretId=secret_id,
            ClientRequestToken=token,
            SecretString=revoked.to_json(),
            VersionStages=[PENDING],
        )
        versions = sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages") or {}
        replaced = next((v for v, stages in versions.items() if CURRENT in stages and v != token), None)
        sm.update_secret_version_stage(
            SecretId=secret_id,
            VersionStage=CURRENT,
            MoveToVersionId=token,
            **({"RemoveFromVersionId": replaced} if replaced else {}),
        )
        self._drop_pending_label(secret_id, token)
        self._log.warning("key revoked", extra={"kid": kid})
        return revoked

    # ------------------------------------------------------------------ internals
    def _create(self, secret_id: str, token: str, *, direct: bool) -> None:
        version = self._check(secret_id, token, "createSecret", direct=direct)
        if version is None:
            return
        if version.stages is not None and self._pending_exists(secret_id, token):
            self._log.info("pending version already exists", extra={"step": "createSecret"})
            return
        current = self._read_keyset(secret_id, CURRENT, missing_ok=True)
        published_doc = self._read_public_doc()
        published = frozenset(k.get("kid") for k in (published_doc or {}).get("keys", []))
        rotated = rotate(
            current,
            alg=self.alg,
            now=int(self._clock()),
            policy=self.policy,
            published=published,
            **self._gen_kwargs(),
        )
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

    def _gen_kwargs(self) -> dict[str, Any]:
        return {"generate": self._generate} if self._generate is not None else {}

    def _sm(self) -> Any:
        return self._client if self._client is not None else aws.client("secretsmanager")

    def _check(self, secret_id: str, token: str, step: str, *, direct: bool = False) -> _Version | None:
        """Validate the request; ``None`` means "already done, nothing to do" (finishSecret).

        ``direct`` (operator runs without ``RotateSecret``): rotation need not be enabled, and
        ``createSecret`` may create the token's version itself.
        """
        meta = self._sm().describe_secret(SecretId=secret_id)
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
            raise KeyStoreError("could not read the pending version") from exc
        return _keyset_or_bootstrap(text) if placeholder_ok else KeySet.from_json(text)

    def _read_keyset(self, secret_id: str, stage: str, *, missing_ok: bool = False) -> KeySet:
        try:
            text = self._sm().get_secret_value(SecretId=secret_id, VersionStage=stage)["SecretString"]
        except Exception as exc:
            if missing_ok and _error_code(exc) == "ResourceNotFoundException":
                return KeySet.empty()
            raise KeyStoreError(f"could not read the signing key set ({stage})") from exc
        if missing_ok:
            return _keyset_or_bootstrap(text)
        return KeySet.from_json(text)

    def _read_public_doc(self) -> dict[str, Any] | None:
        """The published JWKS document (validated), or ``None`` when the secret has no value."""
        try:
            text = self._sm().get_secret_value(SecretId=self.public_secret_id, VersionStage=CURRENT)[
                "SecretString"
            ]
        except Exception as exc:
            if _error_code(exc) == "ResourceNotFoundException":
                return None
            raise KeyStoreError("could not read the public JWKS secret") from exc
        return JWKSet.from_json(text).to_dict()

    def _drop_pending_label(self, secret_id: str, token: str) -> None:
        meta = self._sm().describe_secret(SecretId=secret_id)
        if PENDING in (meta.get("VersionIdsToStages") or {}).get(token, []):
            self._sm().update_secret_version_stage(
                SecretId=secret_id, VersionStage=PENDING, RemoveFromVersionId=token
            )
