"""Fixtures of the signing-core tests: one generated key per algorithm, shared per session
(RSA generation costs ~100 ms, so keys are made once)."""

from __future__ import annotations

import pytest

from auth_core.jwk import SigningKey, generate_signing_key

ALGS = ("RS256", "PS256", "ES256", "EdDSA")


@pytest.fixture(scope="session")
def signing_keys() -> dict[str, SigningKey]:
    return {alg: generate_signing_key(alg) for alg in ALGS}


@pytest.fixture(scope="session")
def other_signing_keys() -> dict[str, SigningKey]:
    """A second, unrelated key per algorithm (for wrong-key cases)."""
    return {alg: generate_signing_key(alg) for alg in ALGS}
