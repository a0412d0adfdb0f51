"""Test doubles for the key store: a manual clock and a counting, programmable fetch."""

from __future__ import annotations

import threading
from collections.abc import Callable

from auth_core.errors import KeyStoreUnavailableError


class ManualClock:
    """A clock that only moves when told to (both monotonic and epoch uses)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class CountingFetch:
    """``fetch(secret_id, stage)`` over an in-memory table; counts every call.

    Set ``failing`` to an exception (instance) to make every call raise it, or ``values`` to a
    new text to change what the secret holds.
    """

    def __init__(self, values: dict[tuple[str, str], str] | None = None) -> None:
        self.values: dict[tuple[str, str], str] = dict(values or {})
        self.calls: list[tuple[str, str]] = []
        self.failing: Exception | None = None
        self.on_call: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def __call__(self, secret_id: str, stage: str) -> str:
        with self._lock:
            self.calls.append((secret_id, stage))
        if self.on_call is not None:
            self.on_call()
        if self.failing is not None:
            raise self.failing
        try:
            return self.values[(secret_id, stage)]
        except KeyError:
            raise KeyStoreUnavailableError("no such secret version") from None

    @property
    def count(self) -> int:
        return len(self.calls)
