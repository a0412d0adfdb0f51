"""SigningKeyStore with a revocation feed (``is_revoked``), PublicKeyStore.is_published, the grace secret."""

from __future__ import annotations

import json

import pytest

from auth_core.errors import KeyStoreUnavailableError
from auth_core.jwk import generate_signing_key
from auth_core.keyset import KeyRecord, KeySet
from auth_core.keystore import (
    EVENT_REVOKED_KEY_REFRESH,
    EVENT_REVOKED_KEY_REFUSED,
    PublicKeyStore,
    SigningKeyStore,
)
from auth_core.settings import Settings
from tests.unit.keys.fakes import CountingFetch, ManualClock

PUB = "public-jwks"
PRIV = "signing-keys"
GRACE = bytes(range(32))


def _keyset(*statuses: str, grace: bytes | None = GRACE) -> KeySet:
    return KeySet(
        (KeyRecord(key=generate_signing_key("ES256"), status=s, created_at=1_700_000_000) for s in statuses),
        grace_secret=grace,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)


class Feed:
    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.asked = 0

    def __call__(self, kid: str) -> bool:
        self.asked += 1
        return kid in self.revoked


def _signer(fetch, clock, feed=None, events=None, **kw) -> SigningKeyStore:
    options = {"ttl": 300, "refresh_min_interval": 10, "stale_max": 3600, **kw}
    return SigningKeyStore(
        PRIV,
        is_revoked=feed,
        clock=clock,
        fetch=fetch,
        on_event=events.append if events is not None else None,
        **options,
    )


def test_revoked_active_key_is_replaced_at_once_not_after_the_ttl(clock):
    old = _keyset("active", "next")
    fetch = CountingFetch({(PRIV, "AWSCURRENT"): old.to_json()})
    feed, events = Feed(), []
    store = _signer(fetch, clock, feed, events)
    assert store.get_signing_key().kid == old.active.kid
    # the revocation swapped the signing set, then wrote the feed
    new = _keyset("active", "next")
    fetch.values[(PRIV, "AWSCURRENT")] = new.to_json()
    feed.revoked.add(old.active.kid)
    clock.advance(10)  # far inside the 300 s TTL (refetches stay spaced by refresh_min_interval)
    assert store.get_signing_key().kid == new.active.kid
    assert fetch.count == 2 and EVENT_REVOKED_KEY_REFRESH in events
    assert store.get_signing_key().kid == new.active.kid and fetch.count == 2  # warm again


def test_never_signs_with_a_revoked_key_when_no_replacement_is_there(clock):
    """docs/threat-model.md T-KEY-10."""
    old = _keyset("active", "next")
    fetch = CountingFetch({(PRIV, "AWSCURRENT"): old.to_json()})
    feed, events = Feed(), []
    store = _signer(fetch, clock, feed, events)
    store.get_signing_key()
    feed.revoked.add(old.active.kid)
    clock.advance(20)
    with pytest.raises(KeyStoreUnavailableError):  # refetched: still the revoked key
        store.get_signing_key()
    assert fetch.count == 2
    with pytest.raises(KeyStoreUnavailableError):  # rate-limited: no call, still no signature
        store.get_signing_key()
    assert fetch.count == 2 and EVENT_REVOKED_KEY_REFUSED in events
    fetch.failing = KeyStoreUnavailableError("down")
    clock.advance(20)
    with pytest.raises(KeyStoreUnavailableError):  # the store is down: no stale revoked key either
        store.get_signing_key()


def test_unrevoked_key_costs_one_feed_lookup_and_no_call(clock):
    keyset = _keyset("active", "next")
    fetch = CountingFetch({(PRIV, "AWSCURRENT"): keyset.to_json()})
    feed = Feed()
    store = _signer(fetch, clock, feed)
    for _ in range(100):
        assert store.get_signing_key().kid == keyset.active.kid
    assert fetch.count == 1 and feed.asked == 100


def test_without_a_feed_nothing_changes(clock):
    keyset = _keyset("active")
    fetch = CountingFetch({(PRIV, "AWSCURRENT"): keyset.to_json()})
    store = _signer(fetch, clock)
    assert store.get_signing_key().kid == keyset.active.kid and store.is_revoked is None


def test_from_settings_takes_the_feed(clock):
    feed = Feed()
    fetch = CountingFetch({(PRIV, "AWSCURRENT"): _keyset("active").to_json()})
    store = SigningKeyStore.from_settings(
        Settings(signing_keys_secret_id=PRIV), fetch=fetch, is_revoked=feed, clock=clock
    )
    store.get_signing_key()
    assert store.is_revoked is feed and feed.asked == 1


def test_grace_secret(clock):
    fetch = CountingFetch({(PRIV, "AWSCURRENT"): _keyset("active").to_json()})
    assert _signer(fetch, clock).grace_secret() == GRACE
    fetch = CountingFetch({(PRIV, "AWSCURRENT"): _keyset("active", grace=None).to_json()})
    assert _signer(fetch, clock).grace_secret() is None


def test_is_published_uses_the_cached_copy(clock):
    keyset = _keyset("active", "next")
    fetch = CountingFetch({(PUB, "AWSCURRENT"): json.dumps(keyset.public_jwks())})
    store = PublicKeyStore(PUB, clock=clock, fetch=fetch, ttl=300, refresh_min_interval=10)
    assert store.is_published(keyset.active.kid)
    for _ in range(100):
        assert not store.is_published("unknown-kid")  # no unknown-kid refetch
    assert fetch.count == 1
    fetch.values[(PUB, "AWSCURRENT")] = json.dumps(keyset.with_records([keyset.next]).public_jwks())
    clock.advance(299)
    assert store.is_published(keyset.active.kid)
    clock.advance(1)  # the normal TTL: refetched
    assert not store.is_published(keyset.active.kid) and fetch.count == 2


def test_a_revocation_right_after_a_fetch_costs_at_most_a_second_of_refusals(clock):
    """The unknown-kid window (10 s) used to apply: logins got 503 for up to 10 s after a revoke."""
    old = _keyset("active", "next")
    fetch = CountingFetch({(PRIV, "AWSCURRENT"): old.to_json()})
    feed = Feed()
    store = _signer(fetch, clock, feed)
    store.get_signing_key()
    new = _keyset("active", "next")
    fetch.values[(PRIV, "AWSCURRENT")] = new.to_json()
    feed.revoked.add(old.active.kid)
    clock.advance(1.0)
    assert store.get_signing_key().kid == new.active.kid
