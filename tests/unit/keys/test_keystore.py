"""PublicKeyStore / SigningKeyStore / CachedSecret: TTL, unknown-kid rate limit, stale window."""

from __future__ import annotations

import json
import threading
import time

import pytest

from auth_core.errors import (
    ConfigurationError,
    KeyFormatError,
    KeyStoreError,
    KeyStoreUnavailableError,
    UnknownKeyError,
)
from auth_core.jwk import generate_signing_key
from auth_core.keyset import KeyRecord, KeySet
from auth_core.keystore import (
    EVENT_FETCH,
    EVENT_FETCH_FAILED,
    EVENT_STALE_SERVED,
    EVENT_UNKNOWN_KID_REFRESH,
    EVENT_UNKNOWN_KID_SUPPRESSED,
    CachedSecret,
    ExtensionFetch,
    PublicKeyStore,
    SigningKeyStore,
    fetch_from_settings,
    sdk_fetch,
)
from auth_core.settings import Settings
from tests.unit.keys.fakes import CountingFetch, ManualClock

PUB = "public-jwks"
PRIV = "signing-keys"


def _keyset(*statuses: str) -> KeySet:
    return KeySet(
        KeyRecord(key=generate_signing_key("ES256"), status=s, created_at=1_700_000_000) for s in statuses
    )


def _jwks_text(keyset: KeySet) -> str:
    return json.dumps(keyset.public_jwks())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)


@pytest.fixture
def keyset() -> KeySet:
    return _keyset("active", "next")


@pytest.fixture
def fetch(keyset: KeySet) -> CountingFetch:
    return CountingFetch({(PUB, "AWSCURRENT"): _jwks_text(keyset), (PRIV, "AWSCURRENT"): keyset.to_json()})


def _store(
    fetch: CountingFetch, clock: ManualClock, events: list[str] | None = None, **kw: float
) -> PublicKeyStore:
    options = {"ttl": 300, "refresh_min_interval": 10, "stale_max": 3600, **kw}
    return PublicKeyStore(
        PUB, clock=clock, fetch=fetch, on_event=(events.append if events is not None else None), **options
    )


class TestTtl:
    def test_warm_verifications_make_no_call_within_ttl(self, fetch, clock, keyset):
        store = _store(fetch, clock)
        kid = keyset.active.kid
        for _ in range(1000):
            assert store.get_verification_key(kid).kid == kid
            clock.advance(0.29)  # 290 s in total: still inside the TTL
        assert fetch.count == 1

    def test_refetched_after_ttl(self, fetch, clock, keyset):
        store = _store(fetch, clock)
        store.get_verification_key(keyset.active.kid)
        clock.advance(300)
        store.get_verification_key(keyset.active.kid)
        assert fetch.count == 2

    def test_removed_key_stops_verifying_within_ttl(self, fetch, clock, keyset):
        store = _store(fetch, clock)
        removed = keyset.next.kid
        store.get_verification_key(removed)
        fetch.values[(PUB, "AWSCURRENT")] = _jwks_text(keyset.with_records([keyset.active]))
        clock.advance(299)
        store.get_verification_key(removed)  # still cached: allowed within the TTL
        clock.advance(1)
        with pytest.raises(UnknownKeyError):
            store.get_verification_key(removed)
        assert store.get_verification_key(keyset.active.kid).kid == keyset.active.kid

    def test_ttl_shorter_than_refresh_interval_still_expires(self, fetch, clock, keyset):
        store = _store(fetch, clock, ttl=1, refresh_min_interval=10)
        store.jwks()
        clock.advance(2)
        store.jwks()
        assert fetch.count == 2

    def test_cache_is_per_version_stage(self, fetch, clock):
        """The Powertools Parameters trap: AWSPREVIOUS read after AWSCURRENT must not return AWSCURRENT."""
        previous = _keyset("active")
        fetch.values[(PUB, "AWSPREVIOUS")] = _jwks_text(previous)
        store = _store(fetch, clock)
        current = store.jwks()
        assert store.jwks("AWSPREVIOUS").kids == frozenset(r.kid for r in previous.records)
        assert current.kids != store.jwks("AWSPREVIOUS").kids
        assert fetch.calls == [(PUB, "AWSCURRENT"), (PUB, "AWSPREVIOUS")]


class TestUnknownKid:
    def test_unknown_kid_refetches_once_per_window(self, fetch, clock, keyset):
        events: list[str] = []
        store = _store(fetch, clock, events)
        store.get_verification_key(keyset.active.kid)
        clock.advance(11)
        for i in range(1000):
            with pytest.raises(UnknownKeyError):
                store.get_verification_key(f"junk-{i}")
        assert fetch.count == 2  # the initial load + one refresh for the whole burst
        assert events.count(EVENT_UNKNOWN_KID_REFRESH) == 1
        assert events.count(EVENT_UNKNOWN_KID_SUPPRESSED) == 999
        clock.advance(10)
        with pytest.raises(UnknownKeyError):
            store.get_verification_key("junk-again")
        assert fetch.count == 3

    def test_unknown_kid_right_after_load_does_not_refetch(self, fetch, clock):
        store = _store(fetch, clock)
        with pytest.raises(UnknownKeyError):
            store.get_verification_key("junk")
        assert fetch.count == 1

    def test_new_key_found_by_refresh(self, fetch, clock, keyset):
        store = _store(fetch, clock)
        store.jwks()
        newer = _keyset("active")
        fetch.values[(PUB, "AWSCURRENT")] = json.dumps(
            {"keys": keyset.public_jwks()["keys"] + newer.public_jwks()["keys"]}
        )
        clock.advance(10)
        assert store.get_verification_key(newer.active.kid).kid == newer.active.kid
        assert fetch.count == 2

    def test_refresh_failure_rejects_the_token_but_keeps_the_cache(self, fetch, clock, keyset):
        store = _store(fetch, clock)
        store.jwks()
        clock.advance(10)
        fetch.failing = KeyStoreUnavailableError("throttled")
        with pytest.raises(UnknownKeyError):
            store.get_verification_key("junk")
        assert store.get_verification_key(keyset.active.kid).kid == keyset.active.kid


class TestStaleWindow:
    def test_serves_stale_copy_while_the_store_fails(self, fetch, clock, keyset):
        events: list[str] = []
        store = _store(fetch, clock, events)
        store.jwks()
        fetch.failing = KeyStoreUnavailableError("throttled")
        clock.advance(300)
        for _ in range(100):
            assert store.get_verification_key(keyset.active.kid)
            clock.advance(1)
        # attempts are spaced by the refresh interval (10 s) while failing: ~10 in 100 s, not 100
        assert 2 <= fetch.count <= 12
        assert EVENT_STALE_SERVED in events and EVENT_FETCH_FAILED in events

    def test_fails_closed_after_stale_window(self, fetch, clock, keyset):
        store = _store(fetch, clock, stale_max=600)
        store.jwks()
        fetch.failing = KeyStoreUnavailableError("down")
        clock.advance(300 + 599)
        assert store.get_verification_key(keyset.active.kid)
        clock.advance(20)
        with pytest.raises(KeyStoreUnavailableError) as info:
            store.get_verification_key(keyset.active.kid)
        assert isinstance(info.value.__cause__, KeyStoreUnavailableError)
        assert "stale window" in str(info.value)

    def test_recovers_when_the_store_comes_back(self, fetch, clock, keyset):
        events: list[str] = []
        store = _store(fetch, clock, events)
        store.jwks()
        fetch.failing = KeyStoreUnavailableError("down")
        clock.advance(400)
        store.jwks()
        fetch.failing = None
        clock.advance(10)
        store.jwks()
        assert events[-1] == EVENT_FETCH
        clock.advance(299)
        count = fetch.count
        store.jwks()
        assert fetch.count == count  # fresh again: no call

    def test_cold_start_failure_is_unavailable_not_unknown_kid(self, fetch, clock):
        fetch.failing = KeyStoreUnavailableError("down")
        with pytest.raises(KeyStoreUnavailableError):
            _store(fetch, clock).get_verification_key("any")

    def test_unexpected_exception_from_fetch_fails_closed_and_is_chained(self, fetch, clock):
        fetch.failing = RuntimeError("boom")
        with pytest.raises(KeyStoreUnavailableError) as info:
            _store(fetch, clock).jwks()
        assert isinstance(info.value.__cause__, RuntimeError)

    def test_malformed_secret_is_key_format_error_cold(self, fetch, clock):
        fetch.values[(PUB, "AWSCURRENT")] = (
            '{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x", "alg": "HS256"}]}'
        )
        with pytest.raises(KeyFormatError):
            _store(fetch, clock).jwks()

    @pytest.mark.parametrize("text", ["not json", "", "[]", '{"keys": {}}'])
    def test_malformed_secret_keeps_last_good_copy(self, fetch, clock, keyset, text):
        store = _store(fetch, clock)
        store.jwks()
        fetch.values[(PUB, "AWSCURRENT")] = text
        clock.advance(300)
        assert store.get_verification_key(keyset.active.kid)


class TestThreads:
    def test_expired_cache_many_threads_one_fetch(self, fetch, clock, keyset):
        store = _store(fetch, clock)
        store.jwks()
        clock.advance(300)
        fetch.on_call = lambda: time.sleep(0.05)
        barrier = threading.Barrier(16)
        errors: list[BaseException] = []

        def worker() -> None:
            barrier.wait()
            try:
                for _ in range(50):
                    store.get_verification_key(keyset.active.kid)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert fetch.count == 2


class TestSigningKeyStore:
    def test_returns_the_active_key_and_caches(self, fetch, clock, keyset):
        store = SigningKeyStore(PRIV, clock=clock, fetch=fetch)
        for _ in range(100):
            assert store.get_signing_key().kid == keyset.active.kid
        assert fetch.count == 1

    def test_no_active_key_is_a_key_store_error(self, fetch, clock):
        fetch.values[(PRIV, "AWSCURRENT")] = _keyset("next").to_json()
        with pytest.raises(KeyStoreError):
            SigningKeyStore(PRIV, clock=clock, fetch=fetch).get_signing_key()

    def test_cold_failure_is_unavailable(self, fetch, clock):
        fetch.failing = KeyStoreUnavailableError("throttled")
        with pytest.raises(KeyStoreUnavailableError):
            SigningKeyStore(PRIV, clock=clock, fetch=fetch).get_signing_key()

    def test_public_jwks_is_not_a_key_set(self, fetch, clock, keyset):
        fetch.values[(PRIV, "AWSCURRENT")] = _jwks_text(keyset)
        with pytest.raises(KeyFormatError):
            SigningKeyStore(PRIV, clock=clock, fetch=fetch).get_signing_key()


class TestConfiguration:
    def test_from_settings_requires_secret_ids(self):
        with pytest.raises(ConfigurationError, match="PUBLIC_JWKS_SECRET_ID"):
            PublicKeyStore.from_settings(Settings())
        with pytest.raises(ConfigurationError, match="SIGNING_KEYS_SECRET_ID"):
            SigningKeyStore.from_settings(Settings())

    def test_from_settings_uses_cache_settings(self, fetch, clock, keyset):
        settings = Settings(public_jwks_secret_id=PUB, key_cache_ttl=5, key_refresh_min_interval=1)
        store = PublicKeyStore.from_settings(settings, fetch=fetch, clock=clock)
        store.jwks()
        clock.advance(5)
        store.jwks()
        assert fetch.count == 2

    @pytest.mark.parametrize("bad", [{"ttl": 0}, {"refresh_min_interval": -1}, {"stale_max": -5}])
    def test_rejects_nonsense_timings(self, fetch, clock, bad):
        with pytest.raises(ConfigurationError):
            _store(fetch, clock, **bad)

    def test_fetch_strategy_selection(self):
        assert fetch_from_settings(Settings()) is sdk_fetch
        assert isinstance(fetch_from_settings(Settings(secrets_extension_port=2773)), ExtensionFetch)
        assert isinstance(fetch_from_settings(Settings(key_fetch_strategy="extension")), ExtensionFetch)
        assert (
            fetch_from_settings(Settings(key_fetch_strategy="sdk", secrets_extension_port=2773)) is sdk_fetch
        )
        with pytest.raises(ConfigurationError):
            fetch_from_settings(Settings(key_fetch_strategy="carrier-pigeon"))

    def test_strategy_from_env(self):
        settings = Settings.from_env(
            {"KEY_FETCH_STRATEGY": "extension", "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "2773"}
        )
        assert settings.key_fetch_strategy == "extension" and settings.secrets_extension_port == 2773
        with pytest.raises(ConfigurationError):
            Settings.from_env({"KEY_FETCH_STRATEGY": "nope"})


def test_cached_secret_generic_parse(clock):
    fetch = CountingFetch({("s", "AWSCURRENT"): "41"})
    cache = CachedSecret("s", "AWSCURRENT", lambda text: int(text) + 1, clock=clock, fetch=fetch)
    assert cache.get() == 42
    cache.clear()
    assert cache.get() == 42
    assert fetch.count == 2
