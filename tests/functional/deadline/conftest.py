"""Hung dependencies on 127.0.0.1 and a Lambda context that runs out of time.

* ``silent``: a TCP server that accepts every connection and never answers (a hung service);
* ``unaccepting``: a listening socket whose accept queue is full and never drained, so a new
  connection's handshake never completes (a black-holed endpoint) -- the kernel drops the SYNs;
* :class:`RunningOutContext`: ``get_remaining_time_in_millis`` counts down from its creation, as
  Lambda's does.

Only loopback is ever contacted.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.conftest import FakeLambdaContext

#: The simulated remaining time of every invocation in this folder.
REMAINING = 3.0


class RunningOutContext(FakeLambdaContext):
    """A Lambda context with ``seconds`` left at creation."""

    def __init__(self, seconds: float = REMAINING) -> None:
        self.started = time.monotonic()
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.seconds - time.monotonic()) * 1000))


@dataclass
class Hung:
    kind: str
    url: str
    accepted: list[socket.socket] = field(default_factory=list)


def _silent() -> Iterator[Hung]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.05)
    hung = Hung("silent", f"http://127.0.0.1:{server.getsockname()[1]}")
    stop = threading.Event()

    def accept_forever() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            hung.accepted.append(conn)  # held open, never read from nor written to

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield hung
    finally:
        stop.set()
        thread.join()
        for conn in hung.accepted:
            conn.close()
        server.close()


def _unaccepting() -> Iterator[Hung]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    address = server.getsockname()
    filler = socket.create_connection(address, timeout=1)  # fills the one-slot accept queue
    probe = socket.socket()
    probe.settimeout(0.2)
    try:
        with pytest.raises(TimeoutError):  # the premise: a new handshake now hangs
            probe.connect(address)
    finally:
        probe.close()
    try:
        yield Hung("unaccepting", f"http://127.0.0.1:{address[1]}")
    finally:
        filler.close()
        server.close()


@pytest.fixture(params=["silent", "unaccepting"])
def hung(request: pytest.FixtureRequest) -> Iterator[Hung]:
    yield from (_silent() if request.param == "silent" else _unaccepting())


@pytest.fixture
def silent() -> Iterator[Hung]:
    yield from _silent()


@pytest.fixture
def context() -> RunningOutContext:
    return RunningOutContext()
