"""Unknown users cost the same as wrong passwords (no account enumeration by timing).

Checked by what each path *does*, not with a stopwatch: both verify exactly one Argon2id hash
with the same parameters (the cost that dominates a login by design), make the same store calls
in the same order, and fail with the same error. The measured ratio of the two paths' times is a
figure of ``bench/bench_oauth.py`` (median of interleaved runs with the production parameters).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from auth_core import aws
from auth_core.errors import InvalidGrantError
from auth_core.oauth.grants import TokenService
from auth_core.passwords import PasswordHasher
from tests.functional.oauth.helpers import password_request

_PARAMS = re.compile(r"^(?:nfkc:)?\$argon2id\$v=19\$(m=\d+,t=\d+,p=\d+)\$")


class CountingHasher(PasswordHasher):
    """Records the parameters of every hash a verification runs Argon2id against."""

    def __init__(self) -> None:
        super().__init__(memory_cost=256, iterations=1)  # the parameters count here, not the cost
        self.verified: list[str] = []

    def verify(self, password: str, encoded: str) -> None:
        found = _PARAMS.match(encoded)
        self.verified.append(found.group(1) if found else "unparsed")
        super().verify(password, encoded)


def test_unknown_user_costs_the_same_as_a_wrong_password(stack, clock, issuers):
    hasher = CountingHasher()
    stack.add_user(hasher=hasher)
    stack.add_client()
    service = TokenService.from_settings(
        stack.settings(login_max_failures=1000), keys=stack.keyset, hasher=hasher, clock=clock
    )
    calls: list[str] = []
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    requests = {
        "known": password_request(password="wrong password"),
        "unknown": password_request(username="nobody-here", password="wrong password"),
    }

    def attempt(name: str) -> tuple[list[str], list[str], str]:
        hasher.verified.clear()
        calls.clear()
        with pytest.raises(InvalidGrantError) as info:
            service.token(requests[name], issuers)
        return list(hasher.verified), list(calls), info.value.error_code

    attempt("known"), attempt("unknown")  # warm-up: the dummy hash is made once, the client cached
    known, unknown = attempt("known"), attempt("unknown")
    assert known[0] == unknown[0] == [hasher.parameters]  # one Argon2id verification each, same cost
    assert known[1] == unknown[1]  # the same DynamoDB calls, in the same order
    assert known[2] == unknown[2] == "invalid_grant"  # and the same answer


def test_the_dummy_hash_has_the_hasher_s_own_parameters() -> None:
    """A dummy made with cheaper parameters would make unknown users fast again."""
    hasher: Any = CountingHasher()
    with pytest.raises(InvalidGrantError):
        hasher.verify_dummy("anything")
    assert hasher.verified == [hasher.parameters]
