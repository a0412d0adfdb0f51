"""moto as the local stack's AWS: made to behave under concurrency and over hours of use.

moto is a test double; four of its traits break a long-running, concurrently used stack:

* DynamoDB requests are not serialised. Two requests at once can raise internal errors (a dict
  changed size during iteration → HTTP 500 → the function fails → 503), and a transaction is not
  atomic with respect to another one: a refresh race answered more than one pair. :func:`install`
  runs every DynamoDB request under one lock (DynamoDB itself is linearisable per item; one lock
  for all of moto's DynamoDB is the simplest way to get there).
* ``TransactWriteItems`` deep-copies every table it touches before it starts (to roll back on a
  failure): O(table size) per call, so a refresh slowed down as the sessions table grew, and a
  failed transaction restored a stale copy of the *whole* table. :func:`install` replaces that
  copy with a snapshot of only the items the transaction names (it runs under the lock, so
  nothing else can change them meanwhile) and restores those on failure.
* Every ``BaseModel`` instance moto ever creates is appended to its class's ``instances_tracked``
  list (for moto's dashboard) and never released: ``copy.deepcopy`` of a table creates new
  ``Item``s through ``BaseModel.__new__``, so each transaction leaked its whole table copy
  (~1-5 MB per login/refresh). :func:`install` makes those lists drop what is appended.

* Every item keeps its own copy of every attribute name and value parsed from the request's
  JSON (~19 names, as many values, per session item): 7.2 KB per login or refresh.
  :func:`install` makes items share one copy of each attribute name and of each short scalar
  value (statuses, client ids, numbers, scopes, roles): 4.0 KB (``tracemalloc``), mostly what
  is unique to the session (hashes, ids).

Nothing expires in moto either: :class:`TtlSweeper` deletes items whose TTL attribute has passed,
in a background thread, as DynamoDB's TTL does.

:class:`MotoServer` is ``ThreadedMotoServer`` with ``TCP_NODELAY`` on every connection (a response
is written in two parts; with Nagle's algorithm the second waited for the client's delayed ACK,
~40 ms per request on a kept-alive connection) and ``SO_REUSEADDR`` (a restart on the same port
works at once, even with connections in TIME_WAIT), and local-only control routes
(``POST /_local/<name>``, :attr:`MotoServer.control`) for what the stack does that no AWS API can.
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["DYNAMODB_LOCK", "MotoServer", "TtlSweeper", "generation", "install", "port_free"]

#: held for every DynamoDB request moto serves (and by the TTL sweeper)
DYNAMODB_LOCK = threading.RLock()
#: DynamoDB does not delete items whose TTL is more than five years in the past
FIVE_YEARS = 5 * 365 * 24 * 3600

#: DynamoDB actions that change nothing; any other request counts as a write (:func:`generation`)
READ_ONLY_ACTIONS = frozenset(
    {
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
    }
)
_writes = 0  # changed under DYNAMODB_LOCK only

_installed = False
_install_lock = threading.Lock()

#: one copy of each attribute name, and of each short scalar value (a moto ``DynamoType``, which
#: moto never changes in place), that items hold; emptied when full, so it stays bounded
_SHARED: dict[Any, Any] = {}
SHARED_LIMIT = 20_000
#: longer values are unique in practice (hashes, ids, tokens): not worth a lookup
SHARED_VALUE_LENGTH = 24


def _shared(key: Any, value: Any) -> Any:
    found = _SHARED.get(key)
    if found is None:
        if len(_SHARED) >= SHARED_LIMIT:
            _SHARED.clear()
        found = _SHARED[key] = value
    return found


def _share(value: Any) -> Any:
    """``value`` (a moto ``DynamoType``), or an equal one already held by another item: short
    strings and numbers are shared, and the elements of lists (scopes, roles)."""
    if value.type in ("S", "N") and isinstance(value.value, str) and len(value.value) <= SHARED_VALUE_LENGTH:
        return _shared((value.type, value.value), value)
    if value.type == "L" and isinstance(value.value, list):
        value.value = [_share(element) for element in value.value]
    return value


class _Untracked(list[Any]):
    """An ``instances_tracked`` that keeps nothing (moto's dashboard is not used here)."""

    def append(self, item: Any) -> None:
        pass


class _TableCopyElision:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``: deep copies of whole
    tables (only ``transact_write_items`` makes them) return the table itself; the transaction
    wrapper snapshots and restores the items involved instead."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, obj: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(obj, self._table_type):
            return obj
        return copy.deepcopy(obj, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def install() -> None:
    """Patch moto (idempotent): serialise DynamoDB, item-level transaction rollback, no leaks."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import moto.dynamodb.models as ddb_models  # noqa: PLC0415 - moto's import is slow
        import moto.secretsmanager.models  # noqa: F401, PLC0415 - register its models before untracking
        from moto.core.model_instances import model_data  # noqa: PLC0415
        from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict  # noqa: PLC0415
        from moto.dynamodb.models.table import Table  # noqa: PLC0415
        from moto.dynamodb.responses import DynamoHandler  # noqa: PLC0415

        original_call = DynamoHandler.call_action

        def call_action(self: Any) -> Any:
            global _writes
            with DYNAMODB_LOCK:
                try:
                    return original_call(self)
                finally:
                    target = self.headers.get("X-Amz-Target") or self.headers.get("x-amz-target") or ""
                    if target.rpartition(".")[2] not in READ_ONLY_ACTIONS:
                        _writes += 1

        DynamoHandler.call_action = call_action  # type: ignore[method-assign]

        original_setitem = LimitedSizeDict.__setitem__

        def setitem(self: Any, key: str, value: Any) -> None:  # an item's attribute, set
            if type(value) is DynamoType:
                value = _share(value)
            original_setitem(self, _shared(key, key) if isinstance(key, str) else key, value)

        LimitedSizeDict.__setitem__ = setitem  # type: ignore[method-assign]

        ddb_models.copy = _TableCopyElision(Table)  # type: ignore[assignment]
        backend_cls = ddb_models.DynamoDBBackend
        original_transact = backend_cls.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            with DYNAMODB_LOCK:
                snapshot = _snapshot(self, transact_items)
                try:
                    original_transact(self, transact_items)
                except Exception:
                    _restore(snapshot)
                    raise

        backend_cls.transact_write_items = transact_write_items  # type: ignore[method-assign]

        for models in model_data.values():
            for model in models.values():
                model.instances_tracked = _Untracked()  # type: ignore[attr-defined]
        _installed = True


_Snapshot = list[tuple[Any, Any, Any, Any]]  # (table, hash key, range key, item copy or None)


def _snapshot(backend: Any, transact_items: Iterable[Mapping[str, Any]]) -> _Snapshot:
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415

    out: _Snapshot = []
    for entry in transact_items:
        for op_type, op in entry.items():
            with contextlib.suppress(Exception):  # moto reports the same problem itself
                table = backend.get_table(op["TableName"])
                key = op["Item"] if op_type == "Put" else op["Key"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                item = table.get_item(hash_key, range_key)
                out.append((table, hash_key, range_key, copy.deepcopy(item)))
    return out


def _restore(snapshot: _Snapshot) -> None:
    for table, hash_key, range_key, item in reversed(snapshot):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
            if hash_key in table.items and not table.items[hash_key]:
                del table.items[hash_key]
        else:
            table.items[hash_key][range_key] = item


def generation() -> int:
    """How many DynamoDB requests that may have changed something moto has served (and TTL sweeps
    that deleted items): equal numbers mean no item changed in between (the state snapshot's test)."""
    return _writes


# ---------------------------------------------------------------------------------- TTL
class TtlSweeper:
    """Deletes expired items (TTL attribute a number of epoch seconds in the past), every
    ``interval`` seconds in a daemon thread, at most ``max_deletes`` per table and pass.

    :param tables: table name → TTL attribute name (or a callable returning that, read each pass:
        the stack knows its tables only after moto has started).
    :param clock: epoch seconds (tests inject a fake one).
    """

    def __init__(
        self,
        tables: Mapping[str, str] | Callable[[], Mapping[str, str]],
        *,
        interval: float = 30.0,
        max_deletes: int = 5000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tables = tables
        self.interval = interval
        self.max_deletes = max_deletes
        self.clock = clock
        self.deleted = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def tables(self) -> dict[str, str]:
        return dict(self._tables() if callable(self._tables) else self._tables)

    def sweep(self) -> int:
        """One pass over every moto account/region; returns how many items were deleted."""
        from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415

        now = self.clock()
        total = 0
        tables = self.tables
        for _account, _region, backend in dynamodb_backends.iter_backends():
            for name, attr in tables.items():
                table = backend.tables.get(name)  # type: ignore[attr-defined]
                if table is not None:
                    total += self._sweep_table(table, attr, now)
        self.deleted += total
        return total

    def _sweep_table(self, table: Any, attr: str, now: float) -> int:
        with DYNAMODB_LOCK:
            expired = []
            for item in table.all_items():
                value = item.attrs.get(attr)
                if value is None or value.type != "N":
                    continue
                try:
                    expires = float(value.value)
                except (TypeError, ValueError):
                    continue
                if now - FIVE_YEARS <= expires <= now:
                    expired.append(item)
                    if len(expired) >= self.max_deletes:
                        break
            for item in expired:
                with contextlib.suppress(KeyError):
                    table.delete_item(item.hash_key, item.range_key)
            if expired:
                global _writes
                _writes += 1
        return len(expired)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ttl-sweeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(Exception):  # a pass failing must not stop the next ones
                self.sweep()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


# ------------------------------------------------------------------------------- server
class MotoServer:
    """moto's WSGI app on ``host:port`` (0: a free one), TCP_NODELAY and SO_REUSEADDR; with
    ``ttl_tables``, a :class:`TtlSweeper` runs while the server does."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ttl_tables: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        sweep_interval: float = 30.0,
    ) -> None:
        install()
        from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server  # noqa: PLC0415

        class Handler(MotoRequestHandler):
            disable_nagle_algorithm = True

        #: ``POST /_local/<name>`` (JSON in, JSON out): what the stack does that no AWS API can,
        #: for tools in other processes (``auth-local invoke`` begins a rotation through it)
        self.control: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        # werkzeug's BaseWSGIServer sets allow_reuse_address (SO_REUSEADDR); bound here, at once.
        self._server = make_server(
            host,
            port,
            _ControlRoutes(DomainDispatcherApplication(create_backend_app), self.control),
            threaded=True,
            request_handler=Handler,
        )
        self._thread: threading.Thread | None = None
        self.sweeper = TtlSweeper(ttl_tables, interval=sweep_interval) if ttl_tables is not None else None

    def get_host_and_port(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-http", daemon=True)
        self._thread.start()
        if self.sweeper is not None:
            self.sweeper.start()

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()


class _ControlRoutes:
    """WSGI: ``POST /_local/<name>`` to ``routes[name]``; everything else to moto's app. A
    handler's :class:`LookupError` or :class:`ValueError` is a 400 with its message."""

    PREFIX = "/_local/"

    def __init__(self, app: Any, routes: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> None:
        self.app = app
        self.routes = routes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(self.PREFIX):
            return self.app(environ, start_response)
        handler = self.routes.get(path.removeprefix(self.PREFIX))
        status, body = "404 Not Found", {"message": f"no local control route {path}"}
        if handler is not None and environ.get("REQUEST_METHOD") != "POST":
            status, body = "405 Method Not Allowed", {"message": "POST only"}
        elif handler is not None:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                request = json.loads(environ["wsgi.input"].read(length) or b"{}")
                if not isinstance(request, dict):
                    raise ValueError("the body must be a JSON object")
                status, body = "200 OK", handler(request)
            except (LookupError, ValueError) as exc:
                status, body = "400 Bad Request", {"message": str(exc)}
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be listened on (with SO_REUSEADDR, as the servers bind: a port
    whose old connections are in TIME_WAIT counts as free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
