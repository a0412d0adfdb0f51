"""AWS Signature Version 4 for the lean JSON-protocol client (``hashlib``/``hmac`` only).

Why our own signer: botocore's ``SigV4Auth`` is only reachable by importing botocore, which is
the ~250 ms we keep out of the authorizer's cold start (see :mod:`auth_core.aws_json`). The
algorithm is small and fully specified; ``tests/unit/aws_json/test_sigv4.py`` proves this code
produces byte-identical ``Authorization`` headers to botocore's for a matrix of requests.

Scope: what ``POST /`` JSON-protocol calls need -- a path without dot segments, no query string,
a body hashed in full. Header values are trimmed and inner runs of whitespace collapsed
(SigV4 "Trimall"); names are lower-cased and sorted. The derived signing key is cached per
(secret, date, region, service): it changes once a day, and deriving it is four HMACs.

Secrets never leave this module except inside the HMAC: no logging, no ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import NamedTuple
from urllib.parse import quote

__all__ = ["ALGORITHM", "Credentials", "SigV4Signer", "amz_date"]

ALGORITHM = "AWS4-HMAC-SHA256"


class Credentials(NamedTuple):
    """An access key pair and optional session token (Lambda always sets all three)."""

    access_key: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:  # never print the secret
        token = "***" if self.token else None
        return f"Credentials(access_key={self.access_key!r}, secret_key=***, token={token})"


def amz_date(epoch: float) -> str:
    """``YYYYMMDDTHHMMSSZ`` (the ``x-amz-date`` format) for ``epoch`` seconds, UTC."""
    import time  # noqa: PLC0415 - tiny, already loaded; keeps the module's surface minimal

    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(int(epoch)))


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


class SigV4Signer:
    """Signs requests for one (service, region).

    :param service: the signing name (``secretsmanager``, ``dynamodb``).
    :param region: the region of the endpoint (``us-east-1``...).
    """

    __slots__ = ("_key_cache", "region", "service")

    def __init__(self, service: str, region: str) -> None:
        self.service = service
        self.region = region
        self._key_cache: tuple[str, str, bytes] | None = None

    def signing_key(self, secret_key: str, date: str) -> bytes:
        """The derived key for ``date`` (``YYYYMMDD``), cached until the date or secret changes."""
        cached = self._key_cache
        if cached is not None and cached[1] == date and hmac.compare_digest(cached[0], secret_key):
            return cached[2]
        k_date = _hmac(f"AWS4{secret_key}".encode(), date)
        k_region = _hmac(k_date, self.region)
        k_service = _hmac(k_region, self.service)
        key = _hmac(k_service, "aws4_request")
        self._key_cache = (secret_key, date, key)
        return key

    def sign(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        credentials: Credentials,
        timestamp: str,
    ) -> dict[str, str]:
        """Return ``headers`` plus ``X-Amz-Date``, ``X-Amz-Security-Token`` and ``Authorization``.

        :param headers: every header that will be sent and signed, ``Host`` included.
        :param timestamp: ``x-amz-date`` value (see :func:`amz_date`).
        """
        signed = {
            k: v
            for k, v in headers.items()
            if k.lower() not in {"x-amz-date", "x-amz-security-token", "authorization"}
        }
        signed["X-Amz-Date"] = timestamp
        if credentials.token:
            signed["X-Amz-Security-Token"] = credentials.token
        canonical = {name.lower(): " ".join(value.split()) for name, value in signed.items()}
        names = sorted(canonical)
        signed_headers = ";".join(names)
        canonical_request = "\n".join(
            (
                method.upper(),
                quote(path or "/", safe="/~"),
                "",
                "".join(f"{n}:{canonical[n]}\n" for n in names),
                signed_headers,
                hashlib.sha256(body).hexdigest(),
            )
        )
        date = timestamp[:8]
        scope = f"{date}/{self.region}/{self.service}/aws4_request"
        string_to_sign = "\n".join(
            (ALGORITHM, timestamp, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())
        )
        signature = hmac.new(
            self.signing_key(credentials.secret_key, date), string_to_sign.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        signed["Authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        )
        return signed
