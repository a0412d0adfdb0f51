"""Unknown users cost the same as wrong passwords (no account enumeration by timing).

The one timing assertion the issue asks for: medians of interleaved runs with the production
Argon2id parameters, compared with a generous bound (the hash dominates both paths by design).
"""

from __future__ import annotations

import statistics
import time

import pytest

from auth_core.errors import InvalidGrantError
from auth_core.oauth.grants import TokenService
from auth_core.passwords import PasswordHasher
from tests.functional.oauth.helpers import password_request

pytestmark = pytest.mark.slow  # a timing measurement (Argon2id at production cost): skipped by make test-fast

RUNS = 11


def test_unknown_user_costs_the_same_as_a_wrong_password(stack, clock, issuers):
    hasher = PasswordHasher()  # production parameters
    stack.add_user(hasher=hasher)
    stack.add_client()
    service = TokenService.from_settings(
        stack.settings(login_max_failures=1000), keys=stack.keyset, hasher=hasher, clock=clock
    )
    requests = {
        "known": password_request(password="wrong password"),
        "unknown": password_request(username="nobody-here", password="wrong password"),
    }

    def once(name: str) -> float:
        start = time.perf_counter()
        with pytest.raises(InvalidGrantError):
            service.token(requests[name], issuers)
        return time.perf_counter() - start

    once("known"), once("unknown")  # warm-up: dummy hash, clients cache, botocore
    ratios: list[float] = []
    for _attempt in range(3):  # a loaded CI box can spike one attempt; a real leak fails all three
        samples: dict[str, list[float]] = {"known": [], "unknown": []}
        pair_ratios = []
        for i in range(RUNS):
            order = ("known", "unknown") if i % 2 == 0 else ("unknown", "known")
            got = {name: once(name) for name in order}
            samples["known"].append(got["known"])
            samples["unknown"].append(got["unknown"])
            pair_ratios.append(got["unknown"] / got["known"])
        known, unknown = (statistics.median(samples[n]) for n in ("known", "unknown"))
        ratio = statistics.median(pair_ratios)
        ratios.append(ratio)
        print(
            f"\nmedian known user, wrong password {known * 1000:.1f} ms; unknown {unknown * 1000:.1f} ms; "
            f"median pair ratio {ratio:.2f} ({hasher.parameters})"
        )
        if 0.8 <= ratio <= 1.25:
            break
    assert any(0.8 <= r <= 1.25 for r in ratios), ratios
