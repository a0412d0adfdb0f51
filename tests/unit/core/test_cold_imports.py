"""What each HTTP function's cold import loads (issue 11): nothing its first request does not need.

Each function is imported as Lambda imports it -- a fresh interpreter with its directory and the
layer on ``sys.path`` -- and the modules it must not load are checked by name. The times are in
``bench/bench_cold.py``; this only pins the structure, so a regression fails here without a clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HTTP_FUNCTIONS = (
    "issue_token", "refresh_token", "revoke_token", "introspect_token", "me", "jwks", "authorize", "account",
)  # fmt: skip
#: Never at import: boto3 (~250 ms, the first AWS write loads it), Powertools' event handler
#: (auth_core.http.Router routes), Fernet (only a refresh rotation seals or opens a grace blob).
NEVER = ("boto3", "aws_lambda_powertools.event_handler", "cryptography.fernet")
#: /revoke and /introspect never issue a token: no grants, no password hashing, no login throttle.
NOT_ISSUING = ("auth_core.oauth.grants", "auth_core.passwords", "auth_core.stores.throttle")
#: What a function's first request builds (its service: the stores, the grants, the key store and
#: ``cryptography``) is imported there, by the factory that builds it, not by the cold import;
#: the Argon2id KDF loads with the first password hashed. /jwks serves keys: it may load them.
SERVICE = ("auth_core.stores", "auth_core.oauth.grants", "auth_core.oauth.revocation", "cryptography")


def _loaded(function: str) -> set[str]:
    code = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / function)!r}, {str(ROOT / 'layers' / 'auth_core')!r}]\n"
        "import app\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_cold_import_loads_only_what_the_function_needs(function: str) -> None:
    loaded = _loaded(function)
    forbidden = NEVER + (NOT_ISSUING if function in ("revoke_token", "introspect_token") else ())
    unwanted = sorted(m for m in loaded if m.startswith(forbidden))
    assert not unwanted, unwanted
    assert "aws_lambda_powertools.logging.logger" in loaded  # Logger (correlation ids) stays Powertools'


@pytest.mark.parametrize("function", [f for f in HTTP_FUNCTIONS if f != "jwks"] + ["userinfo"])
def test_cold_import_leaves_the_service_to_the_first_request(function: str) -> None:
    loaded = _loaded(function)
    unwanted = sorted(m for m in loaded if m.startswith(SERVICE))
    assert not unwanted, unwanted


def test_a_password_hasher_loads_no_kdf_until_it_hashes() -> None:
    """/token's client_credentials and refresh grants never hash a password: the KDF's import
    (``cryptography``'s Rust bindings) is the first hash's, not the hasher's."""
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'layers' / 'auth_core')!r}]\n"
        "from auth_core.passwords import PasswordHasher\n"
        "hasher = PasswordHasher(memory_cost=256, iterations=1)\n"
        "before = 'cryptography.hazmat.primitives.kdf.argon2' in sys.modules\n"
        "hasher.verify('pw', hasher.hash('pw'))\n"
        "print(before, 'cryptography.hazmat.primitives.kdf.argon2' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_the_authorizer_loads_neither_powertools_nor_boto3_nor_the_http_plumbing() -> None:
    """It writes its own log line and calls AWS through the lean client; of the HTTP functions'
    plumbing it needs only the issuer rule (``auth_core.issuer``) and the log rule
    (``auth_core.redaction``, not ``auth_core.observability``: that one imports ``logging``)."""
    loaded = _loaded("authorizer")
    unwanted = sorted(m for m in loaded if m.startswith(("boto3", "botocore", "aws_lambda_powertools")))
    assert not unwanted, unwanted
    assert "auth_core.http" not in loaded and "auth_core.issuer" in loaded
    assert "auth_core.redaction" in loaded and not {"logging", "auth_core.observability"} & loaded


def test_the_authorizer_cold_path_loads_no_dataclasses() -> None:
    """``dataclasses`` imports ``inspect`` (with ``dis``, ``tokenize``...): ~15 ms CPU, plus the
    ``exec`` of every generated method at class creation. The function in front of every request
    pays none of it: its import, its engine (the key store, the verifier, the revocation feed)
    and what a first verification loads use ``NamedTuple`` and plain classes
    (docs/architecture.md, "Cold start")."""
    env = {
        "ISSUER": "https://auth.example.com",
        "PUBLIC_JWKS_SECRET_ID": "jwks",
        "REVOCATIONS_TABLE": "revocations",
        "SESSIONS_TABLE": "sessions",
        "AWS_REGION": "us-east-1",
    }
    code = (
        "import json, os, sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / 'authorizer')!r}, "
        f"{str(ROOT / 'layers' / 'auth_core')!r}]\n"
        f"os.environ.update({env!r})\n"
        "import app\n"
        "engine = app._authorizer()\n"
        "engine._verifier(engine.settings.issuer)\n"
        "import auth_core.aws_json, auth_core.jws, auth_core.jwk\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env_run = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    # -S: no site hooks (this checkout's editable-install finder is not Lambda's), as in Lambda.
    done = subprocess.run(
        [sys.executable, "-S", "-c", code], env=env_run, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "auth_core.tokens" in loaded and "auth_core.revocation_feed" in loaded  # the path was taken
    assert not {"dataclasses", "inspect"} & loaded, sorted({"dataclasses", "inspect"} & loaded)
