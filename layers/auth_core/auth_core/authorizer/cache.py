"""A bounded cache of tokens that already passed signature and claim checks.

Why it is safe: the key is the *exact* token string, so a different token (even an ECDSA twin of
the same claims) misses and is verified in full; an entry never outlives the token's ``exp``
(dropped at ``exp`` itself, not ``exp + leeway``, so the cache can only shorten a lifetime);
revocation and per-route scopes are still evaluated on every request by the caller. What it
buys: a repeated token (the common case behind a browser or a retrying client) costs a dict
lookup instead of an RSA verification.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, KeysView
from typing import Generic, TypeVar

__all__ = ["VerifiedTokenCache"]

C = TypeVar("C")


class VerifiedTokenCache(Generic[C]):
    """LRU map token -> verified claims, each entry expiring at its token's ``exp``.

    :param max_size: entries kept; 0 disables the cache.
    :param clock: wall clock in epoch seconds (the same one the verifier uses).
    """

    __slots__ = ("_clock", "_data", "max_size")

    def __init__(self, max_size: int, clock: Callable[[], float] = time.time) -> None:
        self.max_size = max_size
        self._clock = clock
        self._data: OrderedDict[str, tuple[C, float]] = OrderedDict()

    def get(self, key: str) -> C | None:
        """Claims of a previously verified, still unexpired token, else ``None``."""
        entry = self._data.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[1]:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry[0]

    def put(self, key: str, claims: C, expires_at: float) -> None:
        """Remember ``claims`` for ``key`` until ``expires_at`` (epoch seconds)."""
        if self.max_size <= 0 or self._clock() >= expires_at:
            return
        self._data[key] = (claims, expires_at)
        self._data.move_to_end(key)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()

    def stored(self) -> KeysView[str]:
        """A live view of the stored keys (expired or not): for grammar shortcuts, never trust.

        Same answers as ``key in cache``, without a Python call per lookup.
        """
        return self._data.keys()

    def __contains__(self, key: object) -> bool:
        """Was ``key`` stored (expired or not)? For grammar shortcuts only, never for trust."""
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)
