"""Hot-path shortcuts of the authorizer engine answer exactly like the code they replace."""

from __future__ import annotations

import pytest

from auth_core.authorizer.bearer import parse_bearer
from auth_core.authorizer.cache import VerifiedTokenCache
from auth_core.errors import TokenError


def test_stored_view_is_live_and_agrees_with_membership() -> None:
    now = [1000.0]
    cache: VerifiedTokenCache[str] = VerifiedTokenCache(2, clock=lambda: now[0])
    stored = cache.stored()
    assert "a.b.c" not in stored
    cache.put("a.b.c", "claims", 2000)
    assert "a.b.c" in stored and "a.b.c" in cache
    cache.put("d.e.f", "claims", 2000)
    cache.put("g.h.i", "claims", 2000)  # evicts the oldest
    assert ("a.b.c" in stored, "a.b.c" in cache) == (False, False)
    now[0] = 2000.0  # expired entries stay stored until touched: same as __contains__
    assert ("g.h.i" in stored, "g.h.i" in cache) == (True, True)
    cache.clear()
    assert "g.h.i" not in stored and len(stored) == 0


def test_stored_view_only_skips_the_character_scan() -> None:
    cache: VerifiedTokenCache[str] = VerifiedTokenCache(4)
    cache.put("tok~en", "claims", 4_000_000_000)
    known = cache.stored()
    assert parse_bearer("Bearer tok~en", known=known) == "tok~en"
    # The scheme and separator are still checked for a stored token.
    for bad in ("Bearer\ttok~en", "Basic tok~en", "Bearertok~en"):
        with pytest.raises(TokenError):
            parse_bearer(bad, known=known)
