"""Rotation under load: signers and verifiers keep working while keys rotate.

Threads issue tokens (SigningKeyStore -> AccessTokenIssuer) and verify them (PublicKeyStore ->
AccessTokenVerifier) while the main thread runs real ``rotate_secret`` rotations. Time is a
manual clock shared by everyone, so cache TTLs of a few "seconds" pass in milliseconds.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import pytest

from auth_core.errors import KeyStoreUnavailableError
from auth_core.keystore import EVENT_STALE_SERVED, EVENT_UNKNOWN_KID_REFRESH, PublicKeyStore, SigningKeyStore
from auth_core.rotation import RotationPolicy
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy
from tests.functional.keys.rotation_harness import PUBLIC_SECRET, SIGNING_SECRET, route_rotation_invokes
from tests.unit.keys.fakes import CountingFetch

pytestmark = pytest.mark.slow  # rotation under load: skipped by make test-fast

ISSUER = "https://issuer.example"
CACHE_TTL = 5
TOKEN_TTL = 15
POLICY = RotationPolicy(cache_ttl=CACHE_TTL, max_token_lifetime=TOKEN_TTL, leeway=0)


def _rotate(env: Any, rotator: Any) -> None:
    def handler(event: dict[str, Any]) -> None:
        rotator.handle(event["Step"], event["SecretId"], event["ClientRequestToken"])

    with route_rotation_invokes(handler):
        env.sm.rotate_secret(
            SecretId=SIGNING_SECRET,
            RotationLambdaARN=env.lambda_arn,
            RotationRules={"AutomaticallyAfterDays": 1},
        )


def test_no_valid_token_refused_while_rotating(keys_env):
    clock = keys_env.clock
    rotator = keys_env.rotator(policy=POLICY)
    _rotate(keys_env, rotator)  # bootstrap: active + next
    events: list[str] = []
    lock = threading.Lock()

    def on_event(name: str) -> None:
        with lock:
            events.append(name)

    options = {
        "ttl": CACHE_TTL,
        "refresh_min_interval": 1,
        "stale_max": 60,
        "clock": clock,
        "on_event": on_event,
    }
    signer = SigningKeyStore(SIGNING_SECRET, **options)
    verifier_keys = PublicKeyStore(PUBLIC_SECRET, **options)
    issuer = AccessTokenIssuer(ISSUER, "api", TOKEN_TTL, clock=clock)
    verifier = AccessTokenVerifier(ClaimsPolicy(ISSUER, "api", leeway=0), verifier_keys, clock=clock)

    tokens: queue.Queue[str | None] = queue.Queue(maxsize=50)
    stop = threading.Event()
    refused: list[str] = []
    verified: list[str] = []
    signed_kids: set[str] = set()
    # one token per (second, kid), re-verified on every tick until it expires
    history: dict[tuple[int, str], tuple[float, str]] = {}

    def issue_loop() -> None:
        while not stop.is_set():
            try:
                key = signer.get_signing_key()
                signed_kids.add(key.kid)
                issued = issuer.issue(key, subject="u", client_id="c", scope=["read"])
                history.setdefault((issued.issued_at, key.kid), (issued.issued_at, issued.token))
                tokens.put(issued.token, timeout=1)
            except Exception as exc:  # noqa: BLE001 - any failure is a finding
                refused.append(f"issue: {type(exc).__name__}: {exc}")

    def verify_loop() -> None:
        while True:
            token = tokens.get()
            if token is None:
                return
            try:
                verified.append(verifier.verify(token).subject)
            except Exception as exc:  # noqa: BLE001 - any failure is a finding
                refused.append(f"verify: {type(exc).__name__}: {exc}")

    issuers = [threading.Thread(target=issue_loop) for _ in range(2)]
    verifiers = [threading.Thread(target=verify_loop) for _ in range(2)]
    for thread in issuers + verifiers:
        thread.start()
    try:
        for _ in range(8):  # a rotation every 10 "seconds"; retired keys drop after 20
            for _ in range(10):
                clock.advance(1)
                time.sleep(0.01)
                # tokens signed up to TOKEN_TTL ago (maybe by keys retired since) must still verify
                for issued_at, old in list(history.values()):
                    if clock() - issued_at < TOKEN_TTL - 1:
                        try:
                            verifier.verify(old)
                        except Exception as exc:  # noqa: BLE001 - any failure is a finding
                            refused.append(f"late verify: {type(exc).__name__}: {exc}")
            _rotate(keys_env, rotator)
    finally:
        stop.set()
        for thread in issuers:
            thread.join()
        for _ in verifiers:
            tokens.put(None)
        for thread in verifiers:
            thread.join()

    assert refused == []
    assert len(verified) >= 100
    assert len(signed_kids) >= 6  # signing really moved across keys
    # publish-before-use: no verifier ever met a kid it did not already hold
    assert events.count(EVENT_UNKNOWN_KID_REFRESH) == 0
    print(
        f"\nverified {len(verified)} tokens signed by {len(signed_kids)} keys across 8 rotations, 0 refused"
    )


@pytest.mark.parametrize("failure", [KeyStoreUnavailableError("throttled"), RuntimeError("connection reset")])
def test_secrets_manager_down_verifiers_serve_cache_signers_fail_clearly(keys_env, failure):
    """Secrets Manager fails mid-verification: warm verifiers (and warm signers) keep going from
    cache within the stale window; a cold signer fails with KeyStoreUnavailableError (-> 503)."""
    clock = keys_env.clock
    rotator = keys_env.rotator(policy=POLICY)
    rotator.rotate_direct(SIGNING_SECRET)
    real = {
        (s, "AWSCURRENT"): keys_env.sm.get_secret_value(SecretId=s, VersionStage="AWSCURRENT")["SecretString"]
        for s in (SIGNING_SECRET, PUBLIC_SECRET)
    }
    fetch = CountingFetch(real)
    events: list[str] = []
    options = {"ttl": CACHE_TTL, "refresh_min_interval": 1, "stale_max": 30, "clock": clock, "fetch": fetch}
    keys = PublicKeyStore(PUBLIC_SECRET, on_event=events.append, **options)
    warm_signer = SigningKeyStore(SIGNING_SECRET, **options)
    issuer = AccessTokenIssuer(ISSUER, "api", TOKEN_TTL, clock=clock)
    verifier = AccessTokenVerifier(ClaimsPolicy(ISSUER, "api", leeway=0), keys, clock=clock)
    token = issuer.issue(warm_signer.get_signing_key(), subject="u", client_id="c", scope=["read"]).token
    assert verifier.verify(token).subject == "u"

    fetch.failing = failure
    for _ in range(CACHE_TTL + 30 - 1):
        clock.advance(1)
        fresh = issuer.issue(warm_signer.get_signing_key(), subject="u", client_id="c", scope=["read"]).token
        assert verifier.verify(fresh).subject == "u"
    token = fresh  # still valid for TOKEN_TTL
    assert EVENT_STALE_SERVED in events
    cold_signer = SigningKeyStore(SIGNING_SECRET, **options)
    with pytest.raises(KeyStoreUnavailableError):
        cold_signer.get_signing_key()
    clock.advance(2)  # past TTL + stale window: fail closed, never a 401
    with pytest.raises(KeyStoreUnavailableError):
        verifier.verify(token)
    fetch.failing = None
    clock.advance(1)
    assert verifier.verify(
        issuer.issue(warm_signer.get_signing_key(), subject="u", client_id="c", scope=["r"]).token
    )
