"""Password hashing: Argon2id (RFC 9106) in PHC string format.

This module and ``algorithms.py`` are the only importers of ``cryptography.hazmat`` in the
service: ``algorithms.py`` for signing keys, this one for the Argon2id KDF. Nothing else touches
hazardous primitives.

Why these choices:

* **Argon2id, OWASP parameters** (m = 19 MiB, t = 2, p = 1, 16-byte salt, 32-byte hash): memory-
  hard, so a stolen users table is expensive to brute-force on GPUs. On a 256 MB Lambda one hash
  costs tens of milliseconds; that is the point.
* **PHC strings** (``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>``) carry their parameters, so
  they can be raised later: :meth:`PasswordHasher.needs_rehash` tells the login path to store a
  fresh hash after a successful verification.
* **Equal work for unknown users**: :meth:`PasswordHasher.verify_dummy` runs one verification
  against a fixed hash with the current parameters, so "no such user" and "wrong password" cost
  the same time and a timing probe cannot enumerate accounts.
* **Unicode-normalised passwords** (NIST SP 800-63B §3.1.1.2: a verifier SHOULD apply NFKC or
  NFKD before hashing): ``é`` typed precomposed or as ``e`` plus a combining accent, or a
  full-width ``Ａ`` from an East Asian keyboard, is the same password. Hashes of the NFKC form
  carry the prefix ``nfkc:`` before the PHC string. A hash without it is from before
  normalisation, made over the password exactly as typed: it is verified that way (so nobody is
  locked out), :meth:`PasswordHasher.needs_rehash` says so, and the login path stores the
  normalised hash after the next successful sign-in. Every verification is still exactly one
  Argon2id run, whichever form the stored hash has, so the migration adds no timing signal.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auth_core.errors import InvalidGrantError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

__all__ = ["MAX_PASSWORD_LENGTH", "NORMALIZED", "PasswordHasher", "normalize_password"]

#: Prefix of hashes made over the NFKC form of the password (see the module docstring).
NORMALIZED = "nfkc:"

#: Longer inputs are refused before hashing (Argon2 would accept them; a 1 MB password is a DoS).
MAX_PASSWORD_LENGTH = 1024

_PHC = re.compile(
    r"\$argon2id\$v=19\$m=(?P<m>[0-9]{1,8}),t=(?P<t>[0-9]{1,3}),p=(?P<p>[0-9]{1,3})"
    r"\$(?P<salt>[A-Za-z0-9+/]{11,88})\$(?P<hash>[A-Za-z0-9+/]{22,128})"
)


@dataclass(frozen=True)
class PasswordHasher:
    """Hash and verify passwords with fixed Argon2id parameters.

    :param memory_cost: KiB of memory per hash (OWASP minimum for t=2: 19456).
    :param iterations: passes over memory.
    :param lanes: degree of parallelism.
    """

    memory_cost: int = 19456
    iterations: int = 2
    lanes: int = 1
    salt_length: int = 16
    hash_length: int = 32

    def _kdf(self, salt: bytes) -> Argon2id:
        # cryptography's KDF is imported by the first hash, not at import: /refresh, /revoke and a
        # client_credentials /token never hash a password (the import is ~10 ms of a cold start).
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: PLC0415

        return Argon2id(
            salt=salt,
            length=self.hash_length,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_cost,
        )

    @property
    def parameters(self) -> str:
        """The PHC parameter string, e.g. ``m=19456,t=2,p=1`` (for reports and logs)."""
        return f"m={self.memory_cost},t={self.iterations},p={self.lanes}"

    def hash(self, password: str) -> str:
        """A new PHC-encoded Argon2id hash of ``password`` with a fresh random salt.

        :raises InvalidGrantError: the password is empty or longer than :data:`MAX_PASSWORD_LENGTH`.
        """
        material = _encode(password, normalized=True)
        return NORMALIZED + self._kdf(secrets.token_bytes(self.salt_length)).derive_phc_encoded(material)

    def verify(self, password: str, encoded: str) -> None:
        """Check ``password`` against a stored PHC hash (constant-time inside the KDF).

        :raises InvalidGrantError: wrong password, or a stored hash that is not Argon2id PHC
            (a corrupt record must never let anyone in).
        """
        normalized = encoded.startswith(NORMALIZED)
        phc = encoded[len(NORMALIZED) :] if normalized else encoded  # else: from before NFKC
        material = _encode(password, normalized=normalized)
        if not _PHC.fullmatch(phc):
            raise InvalidGrantError(reason="bad_password_hash")
        from cryptography.exceptions import InvalidKey  # noqa: PLC0415 - see _kdf
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: PLC0415

        try:
            Argon2id.verify_phc_encoded(material, phc)
        except (InvalidKey, ValueError) as exc:
            raise InvalidGrantError(reason="bad_password") from exc

    def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification and fail: the path for unknown users.

        :raises InvalidGrantError: always.
        """
        with contextlib.suppress(InvalidGrantError):
            self.verify(password, self._dummy_hash())
        raise InvalidGrantError(reason="unknown_user")

    def needs_rehash(self, encoded: str) -> bool:
        """True when ``encoded`` was made with other parameters than this hasher's, or over the
        password as typed rather than its NFKC form."""
        if not encoded.startswith(NORMALIZED):
            return True
        match = _PHC.fullmatch(encoded[len(NORMALIZED) :])
        if match is None:
            return True
        return (int(match["m"]), int(match["t"]), int(match["p"])) != (
            self.memory_cost,
            self.iterations,
            self.lanes,
        )

    def _dummy_hash(self) -> str:
        found = _DUMMY.get(self)
        if found is None:
            found = self.hash(secrets.token_urlsafe(16))
            _DUMMY[self] = found
        return found


_DUMMY: dict[PasswordHasher, str] = {}


def normalize_password(password: str) -> str:
    """The form of ``password`` that is hashed: Unicode NFKC (SP 800-63B §3.1.1.2)."""
    return unicodedata.normalize("NFKC", password)


def _encode(password: str, *, normalized: bool) -> bytes:
    """The bytes Argon2id sees. The length limit applies to the password as typed, before NFKC
    (which may lengthen it by a bounded factor), so the cost of normalising is bounded too."""
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidGrantError(reason="bad_password_format")
    try:
        return (normalize_password(password) if normalized else password).encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise InvalidGrantError(reason="bad_password_format") from exc
