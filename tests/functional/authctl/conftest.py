"""Fixtures for the ``authctl`` tests: the OAuth and key fixtures, and a moto *server* (a local
stack's endpoint) for the tests about where ``authctl`` writes."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.functional.keys.conftest import keys_env  # noqa: F401 - re-exported fixture
from tests.functional.oauth.conftest import audit, clock, issuers, service, stack  # noqa: F401
from tests.tables import create_template_table

TABLE_ENV = ("USERS_TABLE", "CLIENTS_TABLE", "SESSIONS_TABLE", "REVOCATIONS_TABLE")


@pytest.fixture
def moto_server() -> Iterator[str]:
    """A moto server on a free port (what ``auth-local serve`` runs); yields its endpoint."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    _reset(endpoint)  # the server shares moto's in-process state with every mock_aws
    try:
        yield endpoint
    finally:
        _reset(endpoint)
        server.stop()


def _reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - the local moto server
        pass


def server_client(endpoint: str, service_name: str) -> Any:
    return boto3.client(
        service_name,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def write_stack_file(
    path: Path, endpoint: str | None, *, functions: dict[str, dict[str, str]] | None = None, **extra: Any
) -> Path:
    """A ``stack.json`` as ``local_stack`` writes it (this process as its pid)."""
    doc: dict[str, Any] = {
        "pid": os.getpid(),
        "region": "us-east-1",
        "users_table": "users",
        "clients_table": "clients",
        "sessions_table": "sessions",
        "revocations_table": "revocations",
        "functions": {name: {"environment": env} for name, env in (functions or {}).items()},
        **extra,
    }
    if endpoint:
        doc["aws_endpoint_url"] = endpoint
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def local_stack(moto_server: str, tmp_path: Path) -> tuple[str, Path]:
    """The four tables on the moto server, and a stack file pointing at it."""
    ddb = server_client(moto_server, "dynamodb")
    for logical, name in (
        ("UsersTable", "users"),
        ("ClientsTable", "clients"),
        ("SessionsTable", "sessions"),
        ("RevocationsTable", "revocations"),
    ):
        create_template_table(ddb, logical, name)
    return moto_server, write_stack_file(tmp_path / "stack.json", moto_server)
