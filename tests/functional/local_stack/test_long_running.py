"""The local stack under concurrency and over hours: moto serialised, transactions answered as
DynamoDB would, no leaks, expired items swept, bounded authorizer cache, TCP_NODELAY, SO_REUSEADDR."""

from __future__ import annotations

import gc
import http.client
import json
import socket
import socketserver
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_stack import moto_backend, persist
from local_stack.apigw import Gateway
from local_stack.moto_backend import MotoServer, TtlSweeper, port_free
from local_stack.persist import StateFile
from local_stack.server import GatewayServer
from tests.functional.local_stack.helpers import make_model
from tests.functional.local_stack.test_gateway import ALLOW, Clock, FakeInvoker, get


@pytest.fixture(scope="module")
def moto_server():
    server = MotoServer("127.0.0.1", 0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_a_refresh_race_is_answered_with_one_winner_and_the_table_intact(moto_server):
    """20 threads rotate the same token (condition: it is still current) in one transaction with a
    put of the new token: exactly one wins, and the losers' rollbacks restore nothing stale (on
    moto alone, a failed transaction restored a copy of the whole table taken before the winner
    committed: the winner's writes vanished, or several threads "won")."""
    ddb = _client(moto_server)
    _table(ddb, "race")
    for rnd in range(5):
        ddb.put_item(TableName="race", Item={"pk": {"S": "session"}, "token": {"S": f"t{rnd}"}})
        for i in range(50):  # a table with some bulk, as sessions have
            ddb.put_item(TableName="race", Item={"pk": {"S": f"other-{rnd}-{i}"}})

        def rotate(n: int, rnd: int = rnd) -> bool:
            try:
                _client(moto_server).transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": "race",
                                "Key": {"pk": {"S": "session"}},
                                "UpdateExpression": "SET #t = :new",
                                "ConditionExpression": "#t = :old",
                                "ExpressionAttributeNames": {"#t": "token"},
                                "ExpressionAttributeValues": {
                                    ":new": {"S": f"t{rnd}-winner-{n}"},
                                    ":old": {"S": f"t{rnd}"},
                                },
                            }
                        },
                        {"Put": {"TableName": "race", "Item": {"pk": {"S": f"pair-{rnd}-{n}"}}}},
                    ]
                )
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "TransactionCanceledException", exc.response
                return False
            return True

        with ThreadPoolExecutor(20) as pool:
            won = [n for n, ok in zip(range(20), pool.map(rotate, range(20)), strict=True) if ok]
        assert len(won) == 1, won
        token = ddb.get_item(TableName="race", Key={"pk": {"S": "session"}})["Item"]["token"]["S"]
        assert token == f"t{rnd}-winner-{won[0]}"
        pairs = [
            n
            for n in range(20)
            if "Item" in ddb.get_item(TableName="race", Key={"pk": {"S": f"pair-{rnd}-{n}"}})
        ]
        assert pairs == won


def test_a_failed_transaction_restores_only_its_items(moto_server):
    ddb = _client(moto_server)
    _table(ddb, "rollback")
    ddb.put_item(TableName="rollback", Item={"pk": {"S": "a"}, "v": {"S": "1"}})
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "rollback", "Item": {"pk": {"S": "a"}, "v": {"S": "2"}}}},
                {"Put": {"TableName": "rollback", "Item": {"pk": {"S": "new"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "rollback",
                        "Key": {"pk": {"S": "missing"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert ddb.get_item(TableName="rollback", Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "1"}
    assert "Item" not in ddb.get_item(TableName="rollback", Key={"pk": {"S": "new"}})


def test_concurrent_requests_never_surface_moto_internal_errors(moto_server):
    ddb = _client(moto_server)
    _table(ddb, "busy")

    def work(n: int) -> None:
        client = _client(moto_server)
        for i in range(15):
            client.put_item(TableName="busy", Item={"pk": {"S": f"{n}-{i}"}})
            client.scan(TableName="busy", Limit=50)
            client.delete_item(TableName="busy", Key={"pk": {"S": f"{n}-{i - 1}"}})

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(16)))  # any 500 from moto raises here


def test_transactions_do_not_leak_table_copies(moto_server):
    """moto tracks every model instance it creates, copies included, forever."""
    from moto.dynamodb.models.dynamo_type import Item

    ddb = _client(moto_server)
    _table(ddb, "leak")
    for i in range(200):
        ddb.put_item(TableName="leak", Item={"pk": {"S": f"bulk-{i}"}})
    gc.collect()
    before = len(Item.instances_tracked)
    for i in range(20):
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "leak", "Item": {"pk": {"S": f"tx-{i}"}}}}]
        )
    assert len(Item.instances_tracked) - before < 50  # was 20 x 200 copies


def _moto_items(table: str) -> dict[str, Any]:
    from moto.dynamodb.models import dynamodb_backends

    found = dynamodb_backends["123456789012"]["us-east-1"].get_table(table)
    return {item.attrs["pk"].value: item for item in found.all_items()}


def test_items_share_their_attribute_names_and_short_values(moto_server):
    """moto kept each item's own copy of every name and value parsed from the request: ~7 KB per
    session item, the whole of the stack's memory growth over logins and refreshes."""
    ddb = _client(moto_server)
    _table(ddb, "shared")
    for pk in ("a", "b"):
        item = {
            "pk": {"S": pk},
            "client_id": {"S": "demo-" + "client"},  # built per item: equal, not the same string
            "status": {"S": "".join(["act", "ive"])},
            "generation": {"N": str(7)},
            "scope": {"L": [{"S": "openid"}, {"S": "re" + "ad"}]},
            "current": {"S": "0123456789abcdef" * 4},  # a hash: long, unique, kept as it is
        }
        ddb.put_item(TableName="shared", Item=item)
    a, b = (_moto_items("shared")[pk] for pk in ("a", "b"))
    name_a = next(name for name in a.attrs if name == "client_id")
    name_b = next(name for name in b.attrs if name == "client_id")
    assert name_a is name_b
    for name in ("client_id", "status", "generation"):
        assert a.attrs[name] is b.attrs[name]
    assert a.attrs["scope"].value[1] is b.attrs["scope"].value[1]
    assert a.attrs["current"] is not b.attrs["current"]


def test_a_change_to_one_item_leaves_the_items_sharing_its_values_alone(moto_server):
    ddb = _client(moto_server)
    _table(ddb, "shared2")
    for pk in ("a", "b"):
        ddb.put_item(
            TableName="shared2",
            Item={"pk": {"S": pk}, "status": {"S": "active"}, "n": {"N": "1"}, "tags": {"L": [{"S": "x"}]}},
        )
    ddb.update_item(
        TableName="shared2",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET #s = :used, tags = list_append(tags, :more), tags[0] = :y ADD n :one",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":used": {"S": "used"},
            ":more": {"L": [{"S": "z"}]},
            ":y": {"S": "y"},
            ":one": {"N": "1"},
        },
    )
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": "shared2",
                    "Key": {"pk": {"S": "a"}},
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        ]
    )
    got = {pk: ddb.get_item(TableName="shared2", Key={"pk": {"S": pk}})["Item"] for pk in ("a", "b")}
    assert got["a"]["status"] == {"S": "used"} and got["a"]["n"] == {"N": "3"}
    assert got["a"]["tags"] == {"L": [{"S": "y"}, {"S": "z"}]}
    untouched = {"pk": {"S": "b"}, "status": {"S": "active"}, "n": {"N": "1"}, "tags": {"L": [{"S": "x"}]}}
    assert got["b"] == untouched


def test_the_ttl_sweeper_deletes_expired_items_only(moto_server):
    ddb = _client(moto_server)
    _table(ddb, "ttl")
    now = 2_000_000_000
    ddb.put_item(TableName="ttl", Item={"pk": {"S": "expired"}, "exp": {"N": str(now - 1)}})
    ddb.put_item(TableName="ttl", Item={"pk": {"S": "live"}, "exp": {"N": str(now + 60)}})
    ddb.put_item(TableName="ttl", Item={"pk": {"S": "no-ttl"}})
    ddb.put_item(TableName="ttl", Item={"pk": {"S": "string"}, "exp": {"S": "1"}})
    ddb.put_item(TableName="ttl", Item={"pk": {"S": "ancient"}, "exp": {"N": "1"}})  # > 5 years: kept
    for i in range(5):
        ddb.put_item(TableName="ttl", Item={"pk": {"S": f"bulk-{i}"}, "exp": {"N": str(now - 10)}})
    sweeper = TtlSweeper({"ttl": "exp"}, clock=lambda: now, max_deletes=3)
    assert sweeper.sweep() == 3  # bounded work per pass
    assert sweeper.sweep() == 3
    assert sweeper.sweep() == 0
    left = sorted(i["pk"]["S"] for i in ddb.scan(TableName="ttl")["Items"])
    assert left == ["ancient", "live", "no-ttl", "string"]


def test_the_ttl_sweeper_runs_in_the_background(moto_server):
    ddb = _client(moto_server)
    _table(ddb, "ttl-bg")
    ddb.put_item(TableName="ttl-bg", Item={"pk": {"S": "x"}, "exp": {"N": str(int(time.time()) - 5)}})
    sweeper = TtlSweeper(lambda: {"ttl-bg": "exp"}, interval=0.05)
    sweeper.start()
    try:
        deadline = time.monotonic() + 5
        while ddb.scan(TableName="ttl-bg")["Items"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sweeper.stop()
    assert ddb.scan(TableName="ttl-bg")["Items"] == []


def test_install_is_idempotent():
    from moto.dynamodb.responses import DynamoHandler

    patched = DynamoHandler.call_action
    moto_backend.install()
    assert DynamoHandler.call_action is patched


# ------------------------------------------------------------------ sockets
@pytest.fixture
def nodelay_seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``TCP_NODELAY`` of every connection the in-process servers accept, read right after the
    standard library's ``setup`` (where ``disable_nagle_algorithm`` takes effect)."""
    seen: list[int] = []
    original = socketserver.StreamRequestHandler.setup

    def setup(self: socketserver.StreamRequestHandler) -> None:
        original(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(socketserver.StreamRequestHandler, "setup", setup)
    return seen


def _kept_alive_requests(port: int, path: str, n: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for _ in range(n):
            conn.request("GET", path)
            conn.getresponse().read()
    finally:
        conn.close()


def test_the_gateway_answers_kept_alive_requests_without_the_delayed_ack_wait(tmp_path, nodelay_seen):
    """Headers and body are two writes: without TCP_NODELAY each request waited ~40 ms for the
    client's delayed ACK (10 requests >= 0.4 s; bench/bench_local_stack.py shows the figures)."""
    server = GatewayServer("127.0.0.1", 0)
    server.gateway = Gateway(make_model(tmp_path), FakeInvoker(), domain_name="x", clock=Clock())
    server.start()
    try:
        _kept_alive_requests(server.port, "/items/1", 3)
    finally:
        server.stop()
    assert nodelay_seen and all(nodelay_seen)


def test_moto_answers_kept_alive_requests_without_the_delayed_ack_wait(moto_server, nodelay_seen):
    _kept_alive_requests(int(moto_server.rsplit(":", 1)[1]), "/moto-api/data.json", 3)
    assert nodelay_seen and all(nodelay_seen)


def _time_wait(port: int) -> None:
    """Leave a server-side connection on ``port`` in TIME_WAIT (the server closes first)."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET /items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while conn.recv(65536):
            pass


def test_a_restart_on_the_same_ports_works_at_once(tmp_path):
    gateway = GatewayServer("127.0.0.1", 0)
    gateway.gateway = Gateway(make_model(tmp_path), FakeInvoker(), domain_name="x", clock=Clock())
    gateway.start()
    moto = MotoServer("127.0.0.1", 0)
    moto.start()
    gw_port, moto_port = gateway.port, moto.get_host_and_port()[1]
    _time_wait(gw_port)
    _time_wait(moto_port)
    gateway.stop()
    moto.stop()
    assert port_free("127.0.0.1", gw_port)
    assert port_free("127.0.0.1", moto_port)  # the stack's "moto port in use" check
    again = GatewayServer("127.0.0.1", gw_port)
    again.server_close()
    moto = MotoServer("127.0.0.1", moto_port)
    moto.stop()


# ------------------------------------------------------------------ authorizer cache
def test_the_authorizer_cache_is_bounded_and_drops_expired_entries(tmp_path):
    model = make_model(tmp_path, params={"Ttl": "300"})
    invoker = FakeInvoker()
    invoker.answers["AuthFn"] = ALLOW
    clock = Clock()
    gateway = Gateway(model, invoker, domain_name="x", clock=clock, cache_limit=50)
    for i in range(200):
        assert get(gateway, "/items/1", {"Authorization": f"Bearer t{i}"}).status == 200
    assert len(gateway._cache) <= 50
    assert get(gateway, "/items/1", {"Authorization": "Bearer t199"}).status == 200
    assert len(invoker.events("AuthFn")) == 200  # the newest entries are kept
    clock.now += 301  # everything cached has expired
    for i in range(3):
        get(gateway, "/items/1", {"Authorization": f"Bearer new{i}"})
    for i in range(50):
        get(gateway, "/items/1", {"Authorization": f"Bearer more{i}"})
    assert all(d.expires_at > clock.now for d in gateway._cache.values())


def test_the_authorizer_cache_under_threads(tmp_path):
    model = make_model(tmp_path, params={"Ttl": "300"})
    invoker = FakeInvoker()
    invoker.answers["AuthFn"] = ALLOW
    gateway = Gateway(model, invoker, domain_name="x", clock=Clock(), cache_limit=20)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            for i in range(100):
                assert get(gateway, "/items/1", {"Authorization": f"Bearer {n}-{i}"}).status == 200
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(gateway._cache) <= 20


def _ddb_backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"]["us-east-1"]


_NO_SECRETS = SimpleNamespace(secrets={})


def test_a_state_snapshot_holds_moto_s_dynamodb_lock_for_a_chunk_of_items_at_most(
    moto_server, monkeypatch, tmp_path
):
    """state.json snapshots (every 5 s) read the tables with ``Scan``: moto walks the whole table
    for every page, under the lock every DynamoDB request waits on. With 10,000 sessions it was held
    for seconds; the functions' calls ran into their read timeout and logins answered 503."""
    ddb = _client(moto_server)
    _table(ddb, "snap")
    for start in range(0, 1000, 25):
        ddb.batch_write_item(
            RequestItems={
                "snap": [{"PutRequest": {"Item": {"pk": {"S": f"i{n}"}}}} for n in range(start, start + 25)]
            }
        )
    held = {"depth": 0, "items": 0, "holds": []}

    class SpyLock:
        def __enter__(self) -> None:
            moto_backend.DYNAMODB_LOCK.acquire()
            held["depth"] += 1
            if held["depth"] == 1:
                held["items"] = 0

        def __exit__(self, *exc: object) -> None:
            held["depth"] -= 1
            if held["depth"] == 0:
                held["holds"].append(held["items"])
            moto_backend.DYNAMODB_LOCK.release()

    original = persist._item_doc

    def counted(item: Any) -> Any:
        assert held["depth"] > 0  # moto's items are only read under the lock
        held["items"] += 1
        return original(item)

    monkeypatch.setattr(persist, "_item_doc", counted)
    state = StateFile(tmp_path)
    assert state.write(_ddb_backend(), _NO_SECRETS, ["snap"], [], lock=SpyLock())  # type: ignore[arg-type]
    doc = state.load()
    assert doc is not None and len(doc["tables"]["snap"]) == 1000
    assert max(held["holds"]) <= persist.SNAPSHOT_CHUNK
    assert sum(held["holds"]) == 1000


def test_a_state_snapshot_reads_items_as_a_scan_returns_them(moto_server, tmp_path):
    ddb = _client(moto_server)
    _table(ddb, "snap-types")
    item = {
        "pk": {"S": "all"},
        "n": {"N": "12.5"},
        "b": {"B": b"\x00\xffbytes"},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "l": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"k": {"B": b"\x03"}}}]},
        "m": {"M": {"s": {"S": "y"}, "l": {"L": [{"BOOL": True}]}, "z": {"NULL": True}}},
        "t": {"BOOL": False},
    }
    ddb.put_item(TableName="snap-types", Item=item)
    ddb.put_item(TableName="snap-types", Item={"pk": {"S": "plain"}})
    state = StateFile(tmp_path)
    state.write(_ddb_backend(), _NO_SECRETS, ["snap-types"], [])
    doc = state.load()
    assert doc is not None
    expected = ddb.scan(TableName="snap-types", ConsistentRead=True)["Items"]

    def canonical(items: list[Any]) -> list[str]:
        return sorted(
            json.dumps(i, sort_keys=True, default=lambda v: sorted(v) if isinstance(v, set) else repr(v))
            for i in items
        )

    assert canonical(doc["tables"]["snap-types"]) == canonical(expected)


def test_a_state_snapshot_reads_no_table_while_nothing_was_written(moto_server, monkeypatch, tmp_path):
    """Issue 11 (memory flat): a snapshot every 5 s used to build the whole state as a document and
    then as its text, and kept that text; the stack's memory grew with every snapshot of a large
    table (+190 MB per 10,000 logins and refreshes). Now it streams, keeps a digest, and reads no
    table at all when no DynamoDB write happened since the last one."""
    ddb = _client(moto_server)
    _table(ddb, "snap-idle")
    ddb.put_item(TableName="snap-idle", Item={"pk": {"S": "a"}})
    reads = {"items": 0}
    original = persist._item_doc

    def counted(item: Any) -> Any:
        reads["items"] += 1
        return original(item)

    monkeypatch.setattr(persist, "_item_doc", counted)
    state = StateFile(tmp_path)

    def snapshot() -> bool:
        written = moto_backend.generation()
        return state.write(_ddb_backend(), _NO_SECRETS, ["snap-idle"], [], generation=written)

    assert snapshot() and reads["items"] == 1
    ddb.get_item(TableName="snap-idle", Key={"pk": {"S": "a"}})  # a read changes nothing
    ddb.scan(TableName="snap-idle")
    assert not snapshot() and reads["items"] == 1  # not even read
    ddb.put_item(TableName="snap-idle", Item={"pk": {"S": "b"}})
    assert snapshot() and reads["items"] == 3
    ddb.put_item(TableName="snap-idle", Item={"pk": {"S": "b"}})  # the same item again: same content
    assert not snapshot() and reads["items"] == 5  # read, but the file is not rewritten
    doc = state.load()
    assert doc is not None and sorted(i["pk"]["S"] for i in doc["tables"]["snap-idle"]) == ["a", "b"]
    assert oct(state.path.stat().st_mode & 0o777) == "0o600"  # password hashes and private keys inside
    assert not list(tmp_path.glob(".*.tmp"))
