"""R-RACE-1/2: 20 threads refresh one token at once against a real HTTP moto server.

In-process ``mock_aws`` serialises calls; ``ThreadedMotoServer`` on 127.0.0.1 lets the 20 requests
really interleave (each thread's GetItem, signing and TransactWriteItems race the others).
Invariant in every mode: one family, exactly one live child, and every successful response is
the same bytes. With the grace window the losers get that same response; with grace 0 (strict
RFC 9700) the losers get ``invalid_grant`` and, as reuse, revoke the family.

moto quirk (5.2.5): ``transact_write_items`` backs up whole tables with ``deepcopy`` and, when a
transaction is cancelled, *restores* that backup -- erasing any transaction another server thread
committed in between (observed: two commits reported, one child lost). Real DynamoDB executes
each request atomically and transactions serializably, so the server fixture serialises moto's
DynamoDB request handling with a lock. Requests still interleave freely *between* calls, which is
the window a rotation race lives in (GetItem ... sign ... TransactWriteItems).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import boto3
import pytest

from auth_core import aws
from auth_core.errors import InvalidGrantError
from auth_core.jwk import generate_signing_key
from auth_core.keyset import KeyRecord, KeySet
from auth_core.oauth.audit import RecordingAudit
from auth_core.oauth.grants import TokenService
from auth_core.oauth.refresh import hash_refresh_token
from tests.functional.oauth.conftest import FAST_HASHER, NOW, FakeClock, Stack, create_tables
from tests.functional.oauth.helpers import body, password_request, refresh_request

pytestmark = pytest.mark.slow  # concurrent refreshes over a threaded moto server: skipped by make test-fast

THREADS = 20


@pytest.fixture
def remote_stack(server, monkeypatch) -> Iterator[Stack]:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(server + "/moto-api/reset", method="POST")).read()  # noqa: S310
    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    aws.reset_clients()
    ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=server)
    create_tables(ddb)
    keyset = KeySet(
        [KeyRecord(key=generate_signing_key("ES256"), status="active", created_at=NOW)],
        grace_secret=b"g" * 32,
    )
    stack = Stack(ddb=ddb, keyset=keyset)
    stack.add_user()
    stack.add_client()
    yield stack
    aws.reset_clients()


@pytest.mark.parametrize("grace", [10, 0])
def test_r_race_1_twenty_concurrent_refreshes_one_live_child(remote_stack, grace):
    from auth_core.tokens import AccessTokenIssuer
    from tests.functional.oauth.conftest import AUD, ISS

    clock = FakeClock()
    audit = RecordingAudit()
    service = TokenService.from_settings(
        remote_stack.settings(refresh_grace_seconds=grace),
        keys=remote_stack.keyset,
        audit=audit,
        hasher=FAST_HASHER,
        clock=clock,
    )

    def issuers(ttl):
        return AccessTokenIssuer(ISS, AUD, ttl, clock=clock)

    rt = body(service.token(password_request(), issuers))["refresh_token"]
    outcomes: list[object] = []
    rotate = service.sessions.rotate

    def counting_rotate(*args, **kwargs):
        outcome = rotate(*args, **kwargs)
        outcomes.append(outcome)
        return outcome

    service.sessions.rotate = counting_rotate  # type: ignore[method-assign]
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = service.token(refresh_request(rt), issuers).body
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    bodies = [r for r in results if isinstance(r, str)]
    errors = [r for r in results if not isinstance(r, str)]
    assert all(isinstance(e, InvalidGrantError) for e in errors), errors
    assert len(set(bodies)) == 1, (
        f"two different children were handed out: commits={sum(o.ok for o in outcomes)}, "
        f"tokens={len([i for i in remote_stack.scan('sessions') if i['pk']['S'].startswith('rt#')])}"
    )
    items = remote_stack.scan("sessions")
    families = [i for i in items if i["pk"]["S"].startswith("fam#")]
    tokens = [i for i in items if i["pk"]["S"].startswith("rt#")]
    assert len(families) == 1
    assert len(tokens) == 2  # the parent and exactly one child: no fork was ever written
    child = json.loads(bodies[0])["refresh_token"]
    assert families[0]["current"]["S"] == hash_refresh_token(child)
    live = [i for i in tokens if i["status"]["S"] == "active"]
    assert [i["pk"]["S"] for i in live] == [f"rt#{hash_refresh_token(child)}"]
    lost = sum(not o.ok for o in outcomes)
    print(
        f"\ngrace={grace}: {len(bodies)} identical 200s, {len(errors)} invalid_grant; "
        f"{len(outcomes)} reached the transaction, {lost} lost it"
    )
    assert sum(o.ok for o in outcomes) == 1  # exactly one transaction committed
    if grace:
        assert errors == []  # every retry inside the window gets the same pair
        assert families[0]["status"]["S"] == "active"
    else:
        assert len(bodies) == 1
        assert families[0]["status"]["S"] == "revoked"  # strict: concurrent reuse kills the family


def test_r_race_2_parent_and_child_used_concurrently_never_fork(remote_stack):
    """RT1 (just rotated) and RT2 (its child) presented at once by 10 threads each."""
    from auth_core.tokens import AccessTokenIssuer
    from tests.functional.oauth.conftest import AUD, ISS

    clock = FakeClock()
    service = TokenService.from_settings(
        remote_stack.settings(), keys=remote_stack.keyset, hasher=FAST_HASHER, clock=clock
    )

    def issuers(ttl):
        return AccessTokenIssuer(ISS, AUD, ttl, clock=clock)

    rt1 = body(service.token(password_request(), issuers))["refresh_token"]
    rt2 = body(service.token(refresh_request(rt1), issuers))["refresh_token"]
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = service.token(refresh_request(rt1 if i % 2 else rt2), issuers).body
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(r, str | InvalidGrantError) for r in results), results
    children = {json.loads(r)["refresh_token"] for r in results if isinstance(r, str)}
    items = remote_stack.scan("sessions")
    family = next(i for i in items if i["pk"]["S"].startswith("fam#"))
    live = [i for i in items if i["pk"]["S"].startswith("rt#") and i["status"]["S"] == "active"]
    assert len(live) <= 1
    assert len([i for i in items if i["pk"]["S"].startswith("rt#")]) <= 3  # rt1, rt2, at most one rt3
    assert len(children) <= 2  # rt2 (grace replay of rt1) and at most one rt3
    if family["status"]["S"] == "active":
        assert [i["pk"]["S"] for i in live] == [f"rt#{family['current']['S']}"]
