"""Fast signing keys for tests: RSA keys come from a small per-process pool.

Every rotation of a non-RS256 key set now also makes RS256 keys (the ID-token lineage), and
RSA-2048 generation costs ~90 ms: tests that rotate often would spend most of their time there.
The pool generates at most :data:`POOL_SIZE` RSA keys per process, lazily, and hands them out in
turn (bound to the requested algorithm); other algorithms are generated as usual. A key comes
back only after ``POOL_SIZE`` others, far more than any one test's key history holds.
"""

from __future__ import annotations

import itertools
import threading

from auth_core.jwa import REGISTRY
from auth_core.jwk import SigningKey, generate_signing_key, load_signing_key

__all__ = ["POOL_SIZE", "pooled_key"]

POOL_SIZE = 64

_pool: list[SigningKey] = []
_turn = itertools.count()
_lock = threading.Lock()


def pooled_key(alg: str) -> SigningKey:
    """A signing key for ``alg``: RSA from the pool, others freshly generated."""
    if REGISTRY[alg].kty != "RSA":
        return generate_signing_key(alg)
    with _lock:
        index = next(_turn) % POOL_SIZE
        if index == len(_pool):
            _pool.append(generate_signing_key("RS256"))
        key = _pool[index]
    if key.alg == alg:
        return key
    return load_signing_key({**key.to_private_jwk(), "alg": alg})
