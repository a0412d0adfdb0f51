"""Where keys are loaded: Secrets Manager behind a TTL cache with a bounded stale window.

Why not Powertools Parameters or a plain JWKS client:

* Powertools caches on the secret *name* alone, so ``AWSPREVIOUS`` read after ``AWSCURRENT``
  within ``max_age`` returns ``AWSCURRENT``. Here every cache is keyed by (secret id, stage).
* aws-jwt-verify's JWKS cache never expires, so a key removed from the JWKS keeps verifying
  until the process dies. Here a copy is used for ``ttl`` seconds, then refetched: a removed key
  stops verifying within ``ttl``.
* An unknown ``kid`` triggers at most one refetch per ``refresh_min_interval`` (every attempt,
  successful or not, counts), so a flood of junk ``kid`` values costs one Secrets Manager call
  per window, not one per token.
* A signer told (``is_revoked``, wired to the revocation feed) that its cached active key is
  revoked refetches at once, bypassing the TTL (still spaced by ``refresh_min_interval``), and
  answers 503 rather than sign with a revoked key.
* When Secrets Manager fails or throttles, the last good copy keeps being served for at most
  ``stale_max`` seconds past its TTL (refetch attempts are spaced by ``refresh_min_interval``);
  after that the store fails closed with :class:`KeyStoreUnavailableError` (a 5xx, never a 401).

How the text is fetched is a strategy, ``fetch(secret_id, stage) -> str``:
:func:`sdk_fetch` (boto3, through the lazy :func:`auth_core.aws.client`),
:class:`ExtensionFetch` (the AWS Parameters and Secrets Lambda Extension over localhost with
``urllib`` only) or :func:`lean_fetch` (``GetSecretValue`` signed by our own SigV4 over
``http.client``, :mod:`auth_core.aws_json`); the last two keep boto3's ~250-440 ms import out
of the authorizer's cold start.
:func:`fetch_from_settings` picks one from ``KEY_FETCH_STRATEGY``. Tests inject their own.

Every interesting moment is reported through ``on_event(name)`` (default: nothing), which the
handlers wire to a Powertools metric. Event names are the ``EVENT_*`` constants below. Key
material never reaches a log line or an exception message.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Generic, NamedTuple, Self, TypeVar

from auth_core import aws
from auth_core.errors import (
    ConfigurationError,
    KeyFormatError,
    KeyStoreError,
    KeyStoreUnavailableError,
    UnknownKeyError,
)
from auth_core.jwk import JWKSet, SigningKey, VerificationKey
from auth_core.keyset import KeySet
from auth_core.settings import Settings

__all__ = [
    "CURRENT",
    "EVENT_FETCH",
    "EVENT_FETCH_FAILED",
    "EVENT_REVOKED_KEY_REFRESH",
    "EVENT_REVOKED_KEY_REFUSED",
    "EVENT_REVOKED_KEY_SUPPRESSED",
    "EVENT_STALE_SERVED",
    "EVENT_UNKNOWN_KID_REFRESH",
    "EVENT_UNKNOWN_KID_SUPPRESSED",
    "CachedSecret",
    "EventSink",
    "ExtensionFetch",
    "PublicKeyStore",
    "SecretFetch",
    "SigningKeyStore",
    "fetch_from_settings",
    "lean_fetch",
    "sdk_fetch",
]

T = TypeVar("T")

#: ``fetch(secret_id, version_stage) -> SecretString``; raises :class:`KeyStoreError` on failure.
SecretFetch = Callable[[str, str], str]
#: ``on_event(name)``: a counter hook (metrics), called outside any hot loop.
EventSink = Callable[[str], None]

#: Secrets Manager's staging labels (the one place they are spelt): the version readers trust,
#: and the one a rotation in progress writes (read by auth_core.secrets_rotation and authctl).
CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"

EVENT_FETCH = "KeySetFetched"
EVENT_FETCH_FAILED = "KeySetFetchFailed"
EVENT_STALE_SERVED = "KeySetStaleServed"
EVENT_UNKNOWN_KID_REFRESH = "UnknownKidRefresh"
EVENT_UNKNOWN_KID_SUPPRESSED = "UnknownKidRefreshSuppressed"
EVENT_REVOKED_KEY_REFRESH = "RevokedSigningKeyRefresh"
EVENT_REVOKED_KEY_REFUSED = "RevokedSigningKeyRefused"
EVENT_REVOKED_KEY_SUPPRESSED = "RevokedSigningKeyRefreshSuppressed"
#: The events that say keys are being served degraded (a failed fetch, a stale copy, a refused
#: revoked key): WARNING where a sink has levels (the authorizer's log line).
DEGRADED_EVENTS = frozenset({EVENT_FETCH_FAILED, EVENT_STALE_SERVED, EVENT_REVOKED_KEY_REFUSED})

#: Minimum spacing of a signer's refetches while its cached active key is revoked, seconds.
REVOKED_KEY_REFRESH_INTERVAL = 1.0

#: Default port of the Parameters and Secrets Lambda Extension.
EXTENSION_DEFAULT_PORT = 2773


def _no_event(_name: str) -> None:
    """Default ``on_event``: count nothing."""


# --------------------------------------------------------------------------- fetch strategies
def sdk_fetch(secret_id: str, stage: str) -> str:
    """Read ``secret_id`` at ``stage`` with boto3 (``GetSecretValue``).

    :raises KeyStoreUnavailableError: the call failed (throttled, denied, not found, network).
    :raises KeyFormatError: the version holds no ``SecretString``.
    """
    sm = aws.client("secretsmanager")
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto is lazy

    try:
        response = sm.get_secret_value(SecretId=secret_id, VersionStage=stage)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        raise KeyStoreUnavailableError(f"GetSecretValue({stage}) failed: {code}") from exc
    except BotoCoreError as exc:
        raise KeyStoreUnavailableError(f"GetSecretValue({stage}) failed: {type(exc).__name__}") from exc
    value = response.get("SecretString")
    if not isinstance(value, str):
        raise KeyFormatError("the secret version holds no SecretString")
    return value


class ExtensionFetch:
    """Read secrets through the AWS Parameters and Secrets Lambda Extension (``urllib`` only).

    The extension answers ``GET /secretsmanager/get?secretId=..&versionStage=..`` on localhost
    with the ``GetSecretValue`` JSON, authenticated by the function's own session token. It has
    a cache of its own (``SECRETS_MANAGER_TTL``, default 300 s) that *adds* to ours: deploy it
    with ``PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED=false`` (we already cache in process), or
    count its TTL into ``KEY_CACHE_TTL`` when sizing the retired-key retention.
    """

    def __init__(
        self,
        port: int = EXTENSION_DEFAULT_PORT,
        *,
        host: str = "localhost",
        timeout: float = 2.0,
        session_token: Callable[[], str] | None = None,
    ) -> None:
        self._base = f"http://{host}:{int(port)}/secretsmanager/get"
        self._timeout = timeout
        self._session_token = session_token or (lambda: os.environ.get("AWS_SESSION_TOKEN", ""))

    def __call__(self, secret_id: str, stage: str) -> str:
        """Fetch one secret version.

        :raises KeyStoreUnavailableError: the extension is unreachable or answered an error.
        :raises KeyFormatError: the answer is not the expected JSON with a ``SecretString``.
        """
        import urllib.error  # noqa: PLC0415 - lazy: only this strategy needs urllib (cold start)
        import urllib.parse  # noqa: PLC0415 - same
        import urllib.request  # noqa: PLC0415 - same

        query = urllib.parse.urlencode({"secretId": secret_id, "versionStage": stage})
        request = urllib.request.Request(  # noqa: S310 - fixed http://host:port URL built here
            f"{self._base}?{query}",
            headers={"X-Aws-Parameters-Secrets-Token": self._session_token()},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise KeyStoreUnavailableError(f"secrets extension answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise KeyStoreUnavailableError("secrets extension unreachable") from exc
        try:
            value = json.loads(body)["SecretString"]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyFormatError("secrets extension answer has no SecretString") from exc
        if not isinstance(value, str):
            raise KeyFormatError("secrets extension answer has no SecretString")
        return value


def lean_fetch(secret_id: str, stage: str) -> str:
    """Read ``secret_id`` at ``stage`` with the boto3-free client (:mod:`auth_core.aws_json`).

    Same contract as :func:`sdk_fetch`; needs credentials in the environment (Lambda sets them).

    :raises KeyStoreUnavailableError: the call failed (throttled, denied, not found, network).
    :raises KeyFormatError: the version holds no ``SecretString``.
    """
    from auth_core import aws_json  # noqa: PLC0415 - http.client only for this strategy

    try:
        answer = aws_json.client("secretsmanager").call(
            "GetSecretValue", {"SecretId": secret_id, "VersionStage": stage}
        )
    except aws_json.AwsServiceError as exc:
        raise KeyStoreUnavailableError(f"GetSecretValue({stage}) failed: {exc.code}") from exc
    except aws_json.AwsJsonError as exc:
        raise KeyStoreUnavailableError(f"GetSecretValue({stage}) failed: {type(exc).__name__}") from exc
    value = answer.get("SecretString")
    if not isinstance(value, str):
        raise KeyFormatError("the secret version holds no SecretString")
    return value


def fetch_from_settings(settings: Settings) -> SecretFetch:
    """The fetch strategy selected by ``KEY_FETCH_STRATEGY``.

    ``auto``: the extension when ``PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`` is set; else the
    lean client when :func:`auth_core.aws.lean_preferred` (env credentials in a Lambda runtime or
    with ``AWS_ENDPOINT_URL``, no injected boto3 client); else boto3 (profiles, SSO, mocks).

    :raises ConfigurationError: unknown strategy.
    """
    strategy = settings.key_fetch_strategy
    if strategy == "auto":
        if settings.secrets_extension_port:
            strategy = "extension"
        elif aws.lean_preferred("secretsmanager"):
            strategy = "lean"
        else:
            strategy = "sdk"
    if strategy == "sdk":
        return sdk_fetch
    if strategy == "lean":
        return lean_fetch
    if strategy == "extension":
        return ExtensionFetch(settings.secrets_extension_port or EXTENSION_DEFAULT_PORT)
    raise ConfigurationError("KEY_FETCH_STRATEGY must be one of auto, sdk, lean, extension")


# --------------------------------------------------------------------------- the cache
# Not a dataclass: on the authorizer's cold path, see docs/architecture.md.
class _Copy(NamedTuple, Generic[T]):
    """One parsed copy of the secret and when it was fetched (``clock`` time)."""

    value: T
    fetched_at: float


class CachedSecret(Generic[T]):
    """One secret version stage, parsed, cached with TTL, rate-limited refresh and stale window.

    Reads of a fresh copy take no lock (the copy is one immutable object swapped atomically);
    refetches are serialised by a lock, so N threads that find the copy expired cause one call.

    :param parse: turns the secret text into ``T``; raises :class:`KeyFormatError` when malformed.
    :param ttl: a copy younger than this is used without any call.
    :param refresh_min_interval: minimum spacing of fetch attempts after the first (unknown-kid
        refreshes, and retries while the store fails).
    :param stale_max: how long past its TTL a copy may still be served while fetches fail.
    """

    def __init__(
        self,
        secret_id: str,
        stage: str,
        parse: Callable[[str], T],
        *,
        ttl: float = 300,
        refresh_min_interval: float = 10,
        stale_max: float = 3600,
        clock: Callable[[], float] = time.monotonic,
        fetch: SecretFetch | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        if not secret_id:
            raise ConfigurationError("a key store needs a secret id")
        if ttl <= 0 or refresh_min_interval < 0 or stale_max < 0:
            raise ConfigurationError("key cache ttl must be > 0; intervals must be >= 0")
        self.secret_id = secret_id
        self.stage = stage
        self._parse = parse
        self._ttl = ttl
        self._refresh_min_interval = refresh_min_interval
        self._stale_max = stale_max
        self._clock = clock
        self._fetch = fetch or sdk_fetch
        self._on_event = on_event or _no_event
        self._lock = threading.Lock()
        self._copy: _Copy[T] | None = None
        self._last_attempt: float | None = None
        self._last_failure: float | None = None

    def get(self) -> T:
        """The cached value, refetched when older than ``ttl``.

        :raises KeyStoreUnavailableError: the fetch failed and no copy within the stale window is left.
        :raises KeyFormatError: the secret is malformed and no copy within the stale window is left.
        """
        copy = self._copy
        if copy is not None and self._clock() - copy.fetched_at < self._ttl:
            return copy.value
        with self._lock:
            copy = self._copy
            now = self._clock()
            if copy is not None and now - copy.fetched_at < self._ttl:
                return copy.value  # another thread refreshed while we waited
            if copy is not None and self._failed_within(now):
                # a fetch just failed: serve the stale copy without hammering the store
                return self._serve_stale(copy, now, None)
            return self._refresh_locked(now)

    def refresh_if_allowed(
        self,
        *,
        refresh_event: str = EVENT_UNKNOWN_KID_REFRESH,
        suppressed_event: str = EVENT_UNKNOWN_KID_SUPPRESSED,
        min_interval: float | None = None,
    ) -> T | None:
        """Refetch now unless an attempt was made within ``min_interval`` (default
        ``refresh_min_interval``).

        Used on an unknown ``kid`` (and by a signer whose active key was revoked). Returns the
        fresh value, or ``None`` when rate-limited or when the fetch failed (the caller then
        decides with what it has).
        """
        with self._lock:
            now = self._clock()
            window = self._refresh_min_interval if min_interval is None else min_interval
            if self._attempted_within(now, window):
                self._on_event(suppressed_event)
                return None
            self._on_event(refresh_event)
            try:
                return self._fetch_locked(now)
            except KeyStoreError:
                return None

    def clear(self) -> None:
        """Forget the cached copy and the rate-limit state (tests, operator tooling)."""
        with self._lock:
            self._copy = None
            self._last_attempt = None
            self._last_failure = None

    # ------------------------------------------------------------------ internals (lock held)
    def _attempted_within(self, now: float, window: float) -> bool:
        return self._last_attempt is not None and now - self._last_attempt < window

    def _failed_within(self, now: float) -> bool:
        return self._last_failure is not None and now - self._last_failure < self._refresh_min_interval

    def _fetch_locked(self, now: float) -> T:
        self._last_attempt = now
        try:
            text = self._fetch(self.secret_id, self.stage)
            value = self._parse(text)
        except KeyStoreError:
            self._last_failure = now
            self._on_event(EVENT_FETCH_FAILED)
            raise
        except Exception as exc:  # an injected fetch/parse may raise anything: fail closed
            self._last_failure = now
            self._on_event(EVENT_FETCH_FAILED)
            raise KeyStoreUnavailableError(f"key set fetch failed: {type(exc).__name__}") from exc
        self._copy = _Copy(value, now)
        self._last_failure = None
        self._on_event(EVENT_FETCH)
        return value

    def _refresh_locked(self, now: float) -> T:
        try:
            return self._fetch_locked(now)
        except KeyStoreError as exc:
            if self._copy is None:
                raise
            return self._serve_stale(self._copy, now, exc)

    def _serve_stale(self, copy: _Copy[T], now: float, cause: KeyStoreError | None) -> T:
        if now - copy.fetched_at < self._ttl + self._stale_max:
            self._on_event(EVENT_STALE_SERVED)
            return copy.value
        message = "key store unavailable and the cached key set is past its stale window"
        if cause is None:
            raise KeyStoreUnavailableError(message)
        raise KeyStoreUnavailableError(message) from cause


def _parse_jwks(text: str) -> JWKSet:
    try:
        return JWKSet.from_json(text)
    except KeyStoreError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyFormatError("the public JWKS secret is not a valid JWK set") from exc


def _parse_keyset(text: str) -> KeySet:
    try:
        return KeySet.from_json(text)
    except KeyStoreError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyFormatError("the signing-keys secret is not a valid key set") from exc


class _StageCaches(Generic[T]):
    """One :class:`CachedSecret` per version stage of one secret, created on first use."""

    def __init__(self, factory: Callable[[str], CachedSecret[T]]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._caches: dict[str, CachedSecret[T]] = {}

    def clear(self) -> None:
        """Empty every stage's cache (the stage objects stay: callers may hold them)."""
        with self._lock:
            caches = list(self._caches.values())
        for cache in caches:
            cache.clear()

    def __call__(self, stage: str) -> CachedSecret[T]:
        found = self._caches.get(stage)
        if found is None:
            with self._lock:
                found = self._caches.get(stage)
                if found is None:
                    found = self._factory(stage)
                    self._caches[stage] = found
        return found


# --------------------------------------------------------------------------- the two stores
class _SecretStore(Generic[T]):
    """One secret, cached per version stage: what the two stores below share.

    Create one per execution environment (in a cached factory) so the cache survives warm
    invocations: a read within ``ttl`` makes no AWS call.
    """

    #: the :class:`Settings` field naming the secret (``from_settings``).
    _secret_setting: str
    #: turns the secret's text into its key set; raises ``KeyFormatError``.
    _parse: Callable[[str], T]

    def __init__(
        self,
        secret_id: str,
        *,
        ttl: float = 300,
        refresh_min_interval: float = 10,
        stale_max: float = 3600,
        clock: Callable[[], float] = time.monotonic,
        fetch: SecretFetch | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        self.secret_id = secret_id
        parse = type(self)._parse
        self._stages: _StageCaches[T] = _StageCaches(
            lambda stage: CachedSecret(
                secret_id,
                stage,
                parse,
                ttl=ttl,
                refresh_min_interval=refresh_min_interval,
                stale_max=stale_max,
                clock=clock,
                fetch=fetch,
                on_event=on_event,
            )
        )
        # Created now (validates the arguments before the first token) and kept: the hot path
        # skips the per-stage lookup. Safe because stage caches are never replaced, only cleared.
        self._current = self._stages(CURRENT)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        fetch: SecretFetch | None = None,
        on_event: EventSink | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Self:
        """The store over the secret named in settings, with the ``KEY_*`` cache settings.

        :raises ConfigurationError: the secret's variable is not set.
        """
        return cls(
            settings.require(cls._secret_setting),
            ttl=settings.key_cache_ttl,
            refresh_min_interval=settings.key_refresh_min_interval,
            stale_max=settings.key_stale_max,
            clock=clock,
            fetch=fetch or fetch_from_settings(settings),
            on_event=on_event,
        )

    def clear(self) -> None:
        """Forget every cached copy and the refresh rate-limit state.

        Used after a SnapStart restore (``authorizer/snapstart.py``): copies aged by
        ``time.monotonic`` must not survive into a restored environment.
        """
        self._stages.clear()


class PublicKeyStore(_SecretStore[JWKSet]):
    """Verification keys from the public-JWKS secret (``PUBLIC_JWKS_SECRET_ID``): the key
    provider protocol of verifiers."""

    _secret_setting = "public_jwks_secret_id"
    _parse = staticmethod(_parse_jwks)

    def jwks(self, stage: str = CURRENT) -> JWKSet:
        """The public key set at ``stage`` (cached).

        :raises KeyStoreUnavailableError: no usable copy (see :meth:`CachedSecret.get`).
        """
        return self._stages(stage).get()

    def get_verification_key(self, kid: str) -> VerificationKey:
        """The key for ``kid``; on a miss, one rate-limited refetch, then give up.

        :raises UnknownKeyError: no trusted key has this ``kid``, or it is a key of the ID-token
            lineage (:class:`~auth_core.jwk.JWKSet`: this is the access-token verifiers' lookup).
        :raises KeyStoreUnavailableError: no usable key set at all.
        """
        cache = self._current
        jwks = cache.get()
        try:
            return jwks.get_verification_key(kid)
        except UnknownKeyError:
            if kid in jwks:
                raise  # published, but an ID-token key: never an access token's, refetch or not
            fresh = cache.refresh_if_allowed()
            if fresh is None:
                raise
            return fresh.get_verification_key(kid)

    def is_published(self, kid: str) -> bool:
        """Whether ``kid`` is in the current public JWKS.

        Uses the cached copy, refetched only by the normal TTL rules (no unknown-kid refresh):
        on the warm path a clock read and a dictionary lookup. The authorizer asks it on every
        verified-token cache hit, so a key removed from the JWKS stops being honoured from
        that cache within the key cache TTL even without the revocation feed.

        :raises KeyStoreUnavailableError: no usable key set at all (fail closed).
        """
        return kid in self._current.get()


class SigningKeyStore(_SecretStore[KeySet]):
    """The active signing keys from the private key-set secret (``SIGNING_KEYS_SECRET_ID``):
    the signing key provider protocol (``get_signing_key()`` for access tokens,
    ``get_id_token_key()`` for ID tokens).

    Readable only by the token issuers and the rotation function. The signer reads
    ``AWSCURRENT``; the rotation guarantees that its active key was published in the public
    JWKS at least one verifier cache TTL before it became current.
    """

    _secret_setting = "signing_keys_secret_id"
    _parse = staticmethod(_parse_keyset)

    def __init__(
        self,
        secret_id: str,
        *,
        is_revoked: Callable[[str], bool] | None = None,
        ttl: float = 300,
        refresh_min_interval: float = 10,
        stale_max: float = 3600,
        clock: Callable[[], float] = time.monotonic,
        fetch: SecretFetch | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        """:param is_revoked: ``is_revoked(kid)``: whether the revocation feed lists ``kid``
        (``None``: no feed; a revoked key is then dropped within the cache TTL only)."""
        super().__init__(
            secret_id,
            ttl=ttl,
            refresh_min_interval=refresh_min_interval,
            stale_max=stale_max,
            clock=clock,
            fetch=fetch,
            on_event=on_event,
        )
        self.is_revoked = is_revoked
        self._events = on_event or _no_event

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        fetch: SecretFetch | None = None,
        on_event: EventSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        is_revoked: Callable[[str], bool] | None = None,
    ) -> Self:
        """The store over ``SIGNING_KEYS_SECRET_ID`` with the ``KEY_*`` cache settings.

        :raises ConfigurationError: the secret's variable is not set.
        """
        store = super().from_settings(settings, fetch=fetch, on_event=on_event, clock=clock)
        store.is_revoked = is_revoked
        return store

    def keyset(self, stage: str = CURRENT) -> KeySet:
        """The private key set at ``stage`` (cached).

        :raises KeyStoreUnavailableError: no usable copy.
        :raises KeyFormatError: the secret is malformed and no usable copy is left.
        """
        return self._stages(stage).get()

    def get_signing_key(self) -> SigningKey:
        """The ``active`` key of ``AWSCURRENT``, never one that ``is_revoked``.

        When the cached active key is revoked, the set is refetched at once (bypassing the TTL,
        rate-limited by ``refresh_min_interval``); if no fresh set with a non-revoked active key
        is available, nothing is signed.

        :raises KeyStoreUnavailableError: the active key is revoked and no fresh set replaces it.
        :raises KeyStoreError: no usable key set, or it has no active key.
        """
        return self._unrevoked(KeySet.get_signing_key)

    def get_id_token_key(self) -> SigningKey:
        """The RS256 key that signs ID tokens (:meth:`KeySet.get_id_token_key`) of
        ``AWSCURRENT``, never one that ``is_revoked``: the same rules and errors as
        :meth:`get_signing_key`.

        :raises KeyStoreUnavailableError: the key is revoked and no fresh set replaces it.
        :raises KeyStoreError: no usable key set, or it has no active RS256 key.
        """
        return self._unrevoked(KeySet.get_id_token_key)

    def _unrevoked(self, pick: Callable[[KeySet], SigningKey]) -> SigningKey:
        """``pick(AWSCURRENT)``, refetching once (rate-limited) when the feed says it is revoked."""
        key = pick(self._current.get())
        is_revoked = self.is_revoked
        if is_revoked is None or not is_revoked(key.kid):
            return key
        # The feed names a kid only after the revocation has swapped the signing set, so a refetch
        # now finds the replacement: wait at most REVOKED_KEY_REFRESH_INTERVAL for it, not the
        # unknown-kid window (a revoked key is rare and operator-driven, not attacker-driven).
        fresh = self._current.refresh_if_allowed(
            refresh_event=EVENT_REVOKED_KEY_REFRESH,
            suppressed_event=EVENT_REVOKED_KEY_SUPPRESSED,
            min_interval=REVOKED_KEY_REFRESH_INTERVAL,
        )
        if fresh is not None:
            key = pick(fresh)
            if not is_revoked(key.kid):
                return key
        self._events(EVENT_REVOKED_KEY_REFUSED)
        raise KeyStoreUnavailableError(
            "the active signing key is revoked and no replacement is available yet"
        )

    def grace_secret(self) -> bytes | None:
        """The key set's grace secret (peppers the refresh retry cache); ``None`` if the set
        has none yet. Never log it.

        :raises KeyStoreError: no usable key set.
        """
        return self._current.get().grace_secret
